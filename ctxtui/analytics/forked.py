"""Numbered tasks spread over forked processes, the caller's included.

A pipe holds the task numbers as single bytes: it is the work queue, and each process takes
one number at a time, so uneven tasks and a busy core even out. A child sends each result back
as soon as it is done (a frame: 8-byte length, then the pickled ``(task, result)``) through a
pipe of its own, and the parent unpickles what arrived between its own tasks, so neither
waits for the end to do it. A task a child took but never sent (it failed, or was killed) is
done by the parent. Forking is only safe with no other thread alive: :func:`can_fork`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from ctxtui.core import environ

T = TypeVar("T")

MAX_TASKS = 255
"""Task numbers are single bytes: at most this many tasks (all fit in a pipe, never blocking)."""
PIPE_BYTES = 1024 * 1024
"""A child's result pipe is made this large where the system allows, so the child rarely waits
for the parent (busy with its own tasks) to empty it."""


def usable_cores() -> int:
    """Cores this process may run on, or ``CTXTUI_WORKERS`` when that is a smaller positive
    number (a shared machine, or a benchmark's one-process peer); any other value is ignored."""
    cores = environ.usable_cores()
    asked = os.environ.get("CTXTUI_WORKERS", "")
    return min(cores, int(asked)) if asked.isdigit() and int(asked) > 0 else cores


def can_fork() -> bool:
    """Whether forking is safe here: a POSIX system, and no other thread alive (a thread
    holding a lock at the fork would leave the child deadlocked)."""
    return hasattr(os, "fork") and threading.active_count() == 1


class _Child(Generic[T]):
    """A forked worker: its pid and the read end of the pipe its results come back through."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self.done: dict[int, T] = {}
        self._buffer = bytearray()
        self._broken = False
        os.set_blocking(fd, False)

    def take(self, *, block: bool) -> None:
        """Unpickle the frames that arrived; with ``block``, wait for the child's end (the
        frames it sent whole stay; a frame cut short by its death is dropped)."""
        if block:
            os.set_blocking(self.fd, True)
        while True:
            try:
                data = os.read(self.fd, PIPE_BYTES)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                if block:
                    os.close(self.fd)
                    os.waitpid(self.pid, 0)
                return
            self._buffer += data
            self._unpickle()

    def _unpickle(self) -> None:
        import pickle

        buffer, start = self._buffer, 0
        while not self._broken and len(buffer) - start >= 8:
            size = int.from_bytes(buffer[start : start + 8], "little")
            if len(buffer) - start - 8 < size:
                break
            try:
                task, result = pickle.loads(memoryview(buffer)[start + 8 : start + 8 + size])
            except Exception:  # noqa: BLE001 - never expected from our own child: do its tasks here
                self._broken = True
            else:
                self.done[task] = result
            start += 8 + size
        del buffer[:start]

    def kill(self) -> None:
        import signal

        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)


class ForkedTasks(Generic[T]):
    """``work(0) .. work(count - 1)``, started now on up to ``children`` forked processes;
    :meth:`join` does the rest here and returns every result by task number. With no
    children (``children < 1``, or no fork possible), :meth:`join` does every task here."""

    def __init__(self, count: int, work: Callable[[int], T], children: int) -> None:
        if not 0 <= count <= MAX_TASKS:
            raise ValueError(f"{count} tasks: at most {MAX_TASKS}")
        self._count, self._work = count, work
        self._children: list[_Child[T]] = []
        self._tasks = -1  # the read end of the work queue; -1: nothing was forked
        if children < 1 or count < 2 or not can_fork():
            return
        self._tasks, fill = os.pipe()
        os.write(fill, bytes(range(count)))  # at most 255 bytes: never blocks
        for _ in range(min(children, count - 1)):
            results, out = os.pipe()
            with contextlib.suppress(AttributeError, OSError):  # Linux only; elsewhere the child waits more
                import fcntl

                fcntl.fcntl(out, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            try:
                pid = os.fork()
            except OSError:  # no process to spare: the parent does the rest
                os.close(results)
                os.close(out)
                break
            if pid == 0:  # the child: do tasks, send each back, and leave without cleanup
                code = 1
                try:
                    os.close(fill)
                    os.close(results)
                    self._serve(out)
                    code = 0
                finally:
                    os._exit(code)
            os.close(out)
            self._children.append(_Child(pid, results))
        os.close(fill)  # the queue's end: workers stop at an empty pipe

    def _serve(self, out: int) -> None:
        import pickle

        with open(out, "wb") as fh:
            while index := os.read(self._tasks, 1):
                data = pickle.dumps((index[0], self._work(index[0])), protocol=pickle.HIGHEST_PROTOCOL)
                fh.write(len(data).to_bytes(8, "little"))
                fh.write(data)
                fh.flush()

    def join(self) -> dict[int, T]:
        """Do tasks here until none is left, then gather the children's results (a task a child
        took and never sent is done here)."""
        done: dict[int, T] = {}
        if self._tasks < 0:
            return {i: self._work(i) for i in range(self._count)}
        try:
            while index := os.read(self._tasks, 1):
                done[index[0]] = self._work(index[0])
                for child in self._children:  # what the children sent meanwhile: unpickled now
                    child.take(block=False)
        except BaseException:
            self.cancel()
            raise
        os.close(self._tasks)
        self._tasks = -1
        for child in self._children:
            child.take(block=True)
            done.update(child.done)
        self._children = []
        for i in range(self._count):
            if i not in done:
                done[i] = self._work(i)
        return done

    def cancel(self) -> None:
        """Stop the children (the caller gave up before :meth:`join`)."""
        for child in self._children:
            child.kill()
        if self._tasks >= 0:
            with contextlib.suppress(OSError):
                os.close(self._tasks)
        self._children, self._tasks = [], -1
