"""Numbered tasks on forked processes: every result once, in its place, whoever did it."""

from __future__ import annotations

import os

import pytest

from ctxtui.analytics import forked


def test_every_task_is_done_once_and_given_back_by_its_number():
    parent = os.getpid()
    tasks = forked.ForkedTasks(20, lambda i: (i * i, os.getpid() != parent), children=2)
    done = tasks.join()
    assert {i: v for i, (v, _) in done.items()} == {i: i * i for i in range(20)}
    if forked.can_fork():
        with pytest.raises(ChildProcessError):  # the children were reaped
            os.waitpid(-1, os.WNOHANG)


def test_a_task_a_child_dies_on_is_done_by_the_parent():
    parent = os.getpid()

    def work(i: int) -> int:
        if os.getpid() != parent and i == 3:
            os._exit(9)
        return i + 100

    assert forked.ForkedTasks(8, work, children=1).join() == {i: i + 100 for i in range(8)}


def test_without_children_everything_runs_here(monkeypatch):
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    parent = os.getpid()
    assert forked.ForkedTasks(5, lambda i: os.getpid() == parent, children=3).join() == dict.fromkeys(range(5), True)


def test_a_task_count_past_the_queue_is_refused():
    with pytest.raises(ValueError):
        forked.ForkedTasks(forked.MAX_TASKS + 1, lambda i: i, children=1)


@pytest.mark.parametrize(("asked", "expected"), [("1", 1), ("0", None), ("-2", None), ("two", None), ("", None), ("999", None)])
def test_the_workers_variable_only_ever_lowers_the_count(monkeypatch, asked, expected):
    monkeypatch.delenv("CTXTUI_WORKERS", raising=False)
    cores = forked.usable_cores()
    monkeypatch.setenv("CTXTUI_WORKERS", asked)
    assert forked.usable_cores() == (expected if expected is not None else cores)
