"""A stat-validated result cache for ``ctxtui status`` and ``status --json``, like git's index.

The normal run (the slow path) records, through :mod:`ctxtui.core.inputs`, every input it
depended on: each file it opened or stat'd (probed-but-missing ones as absent), each folder it
listed with each entry's ``lstat``, each environment variable it looked up, and the source file
of every module it ran. When the run succeeds it stores, under ctxtui's cache folder
(``status/``), its key (argv, cwd, Python and its flags, stdout encoding, and for the human table the
terminal's size and which streams are terminals), those inputs with their ``stat`` signatures,
and the exact bytes it wrote to stdout and stderr.

The next run with the same key (:func:`replay`, called before argparse, rich, msgspec or
platformdirs are imported) stats every recorded input; when all match and every recorded
variable has the value recorded, it writes the stored bytes and exits. Anything else (a
mismatch, a damaged entry, an unfamiliar flag) runs the normal command, which refreshes the
entry.

Not stored: a failed run; a run that wrote outside ctxtui's cache folder, ran a program, read the
whole environment, read the clock for its answer, or read in a way the recorder could not place;
a run that read a file changed within :data:`RACY_NS` of its start (a change within the
file system's timestamp granularity could otherwise go unseen, git's "racy" case).
``CTXTUI_NO_CACHE=1`` turns the cache off (no read, no write).
"""

from __future__ import annotations

import io  # loaded by Python's start-up already
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this module is the fast path
if TYPE_CHECKING:
    from typing import BinaryIO, TextIO

    from ctxtui.core.inputs import Recording

MAGIC = b"ctxtui-status-cache 1"
#: Entries kept (one per cwd, argv and terminal facts); the oldest go first.
MAX_ENTRIES = 32
#: An input changed this close to the run's start is not trusted (timestamp granularity).
RACY_NS = 2_000_000_000
#: Largest entry read back (a bigger file is not ours to trust).
MAX_ENTRY_BYTES = 64 * 1024 * 1024
#: Options whose meaning the cache need not know: argv is part of the key, and every file the
#: option makes status read is recorded. Anything else falls through to the normal command.
_TAKES_VALUE = frozenset({"--workspace", "-w", "--library", "-l", "--claude-home", "--window",
                          "--claude-version"})
_SWITCHES = frozenset({"--json", "--no-user-scope"})
#: Names of ctxtui's own caches beside the status folder: derived data, never inputs.
_OWN_CACHES = (b"claude-version.json", b"tokens.sqlite", b"memo.sqlite")


def wants(argv: list[str]) -> bool | None:
    """Whether ARGV is ``status`` with options the cache understands: True for ``--json``, False
    for the human table, None when the cache does not apply."""
    command = None
    json_mode = False
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in _TAKES_VALUE:
            if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                return None
            i += 2
            continue
        if word.startswith("--") and word.partition("=")[0] in _TAKES_VALUE and "=" in word:
            pass
        elif word in _SWITCHES:
            json_mode = json_mode or word == "--json"
        elif word == "status" and command is None:
            command = word
        else:
            return None
        i += 1
    return json_mode if command == "status" else None


def cache_folder() -> str | None:
    """ctxtui's cache folder as ``ctxtui.core.config.cache_dir`` finds it, without importing
    platformdirs: ``$CTXTUI_CACHE_DIR``, else on Linux the XDG rule. None elsewhere, and off
    POSIX or without real output streams (the command then runs uncached); :func:`store`
    checks the answer against platformdirs'."""
    if os.name != "posix" or not all(hasattr(f, "buffer") for f in (sys.stdout, sys.stderr)):
        return None  # (byte environment, O_NOFOLLOW and real streams are what it relies on)
    env = os.environ.get("CTXTUI_CACHE_DIR")
    if env:
        return os.path.abspath(env)
    if not sys.platform.startswith("linux") or os.environ.get("ANDROID_DATA"):
        return None
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = xdg if xdg.strip() else os.path.expanduser("~/.cache")
    if not os.path.isabs(base):
        return None
    return os.path.join(base, "ctxtui")


def _enabled() -> bool:
    return os.environ.get("CTXTUI_NO_CACHE", "") in ("", "0")


def key(argv: list[str], json_mode: bool) -> bytes:
    """What must be equal for a stored output to apply, besides its recorded inputs."""
    out = sys.stdout
    parts: list[str | bytes] = [MAGIC, sys.version, repr(sys.flags), sys.executable, "\x1f".join(sys.path), os.getcwd(),
             "\x1f".join(argv), f"{getattr(out, 'encoding', None)}/{getattr(out, 'errors', None)}"]
    if not json_mode:  # rich fits the table to the terminal (JSON is written as is)
        for fd in (0, 1, 2):
            try:
                columns, lines = os.get_terminal_size(fd)
                size = f"{columns}x{lines}"
            except (OSError, ValueError):
                size = "-"
            parts.append(f"{fd}:{int(os.isatty(fd))}:{size}")
    return b"\x1e".join(p if isinstance(p, bytes) else os.fsencode(p) for p in parts)


def entry_path(folder: str, k: bytes, json_mode: bool) -> str:
    """The entry's file: a hash of the key, inside the cache's own folder."""
    import zlib

    return os.path.join(folder, "status", f"{zlib.crc32(k):08x}{'j' if json_mode else 'h'}.bin")


class Entry:
    """One stored run, as parsed (see :func:`encode` for the layout)."""

    __slots__ = ("key", "code", "env", "inputs", "chunks")

    def __init__(self, key: bytes, code: int, env: list[tuple[bytes, bytes | None]],
                 inputs: list[tuple[str, bytes, bytes]], chunks: list[tuple[int, bytes]]) -> None:
        self.key, self.code, self.env, self.inputs, self.chunks = key, code, env, inputs, chunks


def encode(e: Entry) -> bytes:
    """NUL-separated fields (MAGIC, key, exit code, variables, inputs, output chunks), then the
    output bytes. Paths and values never hold NUL; output may, so it comes last, by length."""
    fields = [MAGIC, e.key, b"%d" % e.code, b"%d" % len(e.env)]
    for name, value in e.env:
        fields += [name, b"-" if value is None else b"=" + value]
    fields.append(b"%d" % len(e.inputs))
    for kind, path, sig in e.inputs:
        fields += [kind.encode(), path, sig]
    fields.append(b"%d" % len(e.chunks))
    for fd, data in e.chunks:
        fields += [b"%d" % fd, b"%d" % len(data)]
    return b"\0".join(fields) + b"\0" + b"".join(data for _, data in e.chunks)


def decode(data: bytes) -> Entry:
    """The entry in DATA; ValueError (or IndexError) when it is not one, whatever its bytes."""
    pos = 0

    def field() -> bytes:
        nonlocal pos
        end = data.index(b"\0", pos)
        out, pos = data[pos:end], end + 1
        return out

    def count() -> int:
        n = int(field())
        if not 0 <= n <= len(data):
            raise ValueError("bad count")
        return n

    if field() != MAGIC:
        raise ValueError("not an entry")
    k, code = field(), int(field())
    env: list[tuple[bytes, bytes | None]] = []
    for _ in range(count()):
        name, value = field(), field()
        if value[:1] not in (b"-", b"="):
            raise ValueError("bad value")
        env.append((name, None if value == b"-" else value[1:]))
    inputs = []
    for _ in range(count()):
        kind, path, sig = field().decode("ascii"), field(), field()
        if kind not in ("s", "l", "t") or not path.startswith(b"/"):
            raise ValueError("bad input")
        inputs.append((kind, path, sig))
    sizes = [(int(field()), count()) for _ in range(count())]
    chunks = []
    for fd, n in sizes:
        if fd not in (1, 2) or pos + n > len(data):
            raise ValueError("bad chunk")
        chunks.append((fd, data[pos:pos + n]))
        pos += n
    if pos != len(data):
        raise ValueError("trailing bytes")
    return Entry(k, code, env, inputs, chunks)


def _own_folder(path: str) -> bool:
    """Whether PATH is a real folder (not a link to one): entries are read and written only
    there, so a link planted in the cache folder cannot send them anywhere else."""
    try:
        return os.lstat(path).st_mode & 0o170000 == 0o040000
    except OSError:
        return False


def _read(path: str) -> bytes | None:
    """The entry file's bytes: a regular file of bounded size in a real folder, else None."""
    import stat

    if not _own_folder(os.path.dirname(path)):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY_BYTES:
            return None
        chunks: list[bytes] = []
        while True:
            data = os.read(fd, 1 << 20)
            if not data:
                return b"".join(chunks)
            chunks.append(data)
    except OSError:
        return None
    finally:
        os.close(fd)


def replay(argv: list[str]) -> int | None:
    """Write the stored output of this very ``status`` run when nothing it read has changed;
    returns its exit code, or None (run the command). ``CTXTUI_CACHE_DEBUG=1`` says why not
    on stderr."""
    json_mode = wants(argv)
    folder = cache_folder() if json_mode is not None and _enabled() else None
    if folder is None or json_mode is None:
        return None
    why: str | bytes | None = None
    try:
        k = key(argv, json_mode)
        data = _read(entry_path(folder, k, json_mode))
        if data is None:
            why = "no entry"
        else:
            e = decode(data)
            why = "another key" if e.key != k else stale(e)
    except (ValueError, IndexError, OSError, UnicodeError) as exc:
        why = f"unreadable entry ({type(exc).__name__})"
    if why is not None:
        if os.environ.get("CTXTUI_CACHE_DEBUG"):
            sys.stderr.write(f"ctxtui: status cache: {os.fsdecode(why)}\n")
        return None
    return write_out(e)


def stale(e: Entry) -> bytes | str | None:
    """What differs from E's record (a variable or a path), or None when nothing does."""
    from ctxtui.core.inputs import signature

    environ = getattr(os, "environb", None)
    if environ is None:
        return "no byte environment on this system"
    for name, value in e.env:
        if environ.get(name) != value:
            return b"$" + name
    for kind, path, sig in e.inputs:
        if signature(kind, path) != sig:
            return path
    return None


def write_out(e: Entry) -> int:
    """Write E's output as the command did (stdout and stderr in their order)."""
    streams = {1: sys.stdout, 2: sys.stderr}
    try:
        for fd, data in e.chunks:
            stream = streams[fd]
            stream.flush()
            stream.buffer.write(data)
            stream.buffer.flush()
    except BrokenPipeError:  # as the command does: a closed pipe is no error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return e.code


class _TeeBuffer(io.BufferedIOBase):
    """A binary stream that writes through to TARGET and keeps a copy of what it wrote."""

    def __init__(self, target: BinaryIO, fd: int, chunks: list[tuple[int, bytes]]) -> None:
        super().__init__()
        self._target, self._fd, self._chunks = target, fd, chunks

    def write(self, data: bytes) -> int:  # type: ignore[override]  # any buffer, as io's
        raw = bytes(data)
        self._target.write(raw)
        self._chunks.append((self._fd, raw))
        return len(raw)

    def flush(self) -> None:
        self._target.flush()

    def fileno(self) -> int:
        return self._target.fileno()

    def isatty(self) -> bool:
        return self._target.isatty()

    def writable(self) -> bool:
        return True

    @property
    def name(self) -> object:
        return self._target.name

    def close(self) -> None:
        """The real stream stays open (its owner flushes and closes it)."""


class Session:
    """A recording slow run of ``status`` (see :func:`begin` and :func:`finish`)."""

    def __init__(self, argv: list[str], json_mode: bool, folder: str) -> None:
        import time

        self.argv, self.json_mode, self.folder = argv, json_mode, folder
        self.start_ns = time.time_ns()
        self.key = key(argv, json_mode)
        self.chunks: list[tuple[int, bytes]] = []
        self.saved: tuple[TextIO, TextIO] = (sys.stdout, sys.stderr)
        self.recording: Recording | None = None


def begin(argv: list[str]) -> Session | None:
    """Start recording a ``status`` run that :func:`replay` could not answer (None: the cache
    does not apply, or stdout and stderr are not real streams)."""
    json_mode = wants(argv)
    folder = cache_folder() if json_mode is not None and _enabled() else None
    if folder is None or json_mode is None:
        return None
    from ctxtui.core import inputs

    try:
        s = Session(argv, json_mode, folder)
    except OSError:  # the current folder is gone: the command says so itself
        return None
    wrapped = []
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        buffer = getattr(stream, "buffer", None)
        if not isinstance(stream, io.TextIOWrapper) or buffer is None:
            return None
        stream.flush()
        wrapped.append(io.TextIOWrapper(
            _TeeBuffer(buffer, fd, s.chunks), encoding=stream.encoding, errors=stream.errors,
            line_buffering=stream.line_buffering, write_through=True))
    sys.stdout, sys.stderr = wrapped
    s.recording = inputs.start()
    return s


def finish(s: Session | None, code: int) -> None:
    """End the recording; store the entry when the run may be replayed. Never raises."""
    if s is None:
        return
    from ctxtui.core import inputs

    rec = inputs.stop()
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            try:
                stream.flush()
                stream.detach()  # the real buffer stays open
            except (OSError, ValueError):  # a closed pipe: what was not written is not kept either
                rec, code = None, 1
    sys.stdout, sys.stderr = s.saved
    try:
        why = store(s, rec, code) if rec is not None and code == 0 else "the command failed"
    except (OSError, ValueError, UnicodeError) as exc:
        why = f"{type(exc).__name__}: {exc}"  # a cache not written only costs the next run its speed
    if why is not None and os.environ.get("CTXTUI_CACHE_DEBUG"):
        sys.stderr.write(f"ctxtui: status cache: not stored: {why}\n")


def _under(path: bytes, folder: bytes) -> bool:
    return path == folder or path.startswith(folder.rstrip(b"/") + b"/")


def store(s: Session, rec: Recording, code: int) -> str | None:
    """Write the entry for S when REC allows it; returns why not, or None when it did."""
    from ctxtui.core import inputs
    from ctxtui.core.config import cache_dir

    if os.path.abspath(str(cache_dir())) != s.folder:
        return f"ctxtui's cache folder is {cache_dir()}, not {s.folder}"
    folder = os.fsencode(s.folder)
    own = os.path.join(folder, b"status")

    def derived(path: bytes) -> bool:
        """ctxtui's own caches and compiled modules: results of other inputs, not inputs."""
        return (path == folder or _under(path, own) or b"/__pycache__/" in path
                or (os.path.dirname(path) == folder and os.path.basename(path).startswith(_OWN_CACHES)))

    for flag, why in (("spawned", "the run started a program"), ("clock", "the answer depends on the time"),
                      ("whole_env", "the run read the whole environment"),
                      ("unknown", "the run read a file by descriptor")):
        if getattr(rec, flag):
            return why
    for p in inputs.lasting_writes(rec):
        if not (_under(p, folder) or b"/__pycache__/" in p):
            return f"the run wrote {os.fsdecode(p)}"
    found = inputs.inputs_of(rec, exclude=derived)
    for kind, p, sig in found:
        # Signatures are taken now, at the end of the run; one that differs from the path's
        # signature when the run read it changed during the run (a file deleted after it was
        # read shows no time of its own, so the 2 s rule alone would miss it).
        if rec.seen.get((kind, p), sig) != sig:
            return f"{os.fsdecode(p)} changed during the run"
        if inputs.newest_change_ns(sig) > s.start_ns - RACY_NS:
            return f"{os.fsdecode(p)} changed too recently to be trusted"
    env = [(os.fsencode(name), None if value is None else os.fsencode(value)) for name, value in rec.env.items()]
    entry = Entry(s.key, code, env, found, s.chunks)
    path = entry_path(s.folder, s.key, s.json_mode)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    if not _own_folder(os.path.dirname(path)):
        return f"{os.path.dirname(path)} is not a folder of ctxtui's own"
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(encode(entry))
        os.replace(tmp, path)
    except OSError:
        os.unlink(tmp)
        raise
    _prune(os.path.dirname(path))
    return None


def _prune(folder: str) -> None:
    """Keep the newest :data:`MAX_ENTRIES` entries."""
    import contextlib

    names = [n for n in os.listdir(folder) if n.endswith(".bin") and len(n) == 13]
    if len(names) <= MAX_ENTRIES:
        return
    dated = []
    for n in names:
        try:
            dated.append((os.stat(os.path.join(folder, n)).st_mtime_ns, n))
        except OSError:
            continue
    for _, n in sorted(dated)[:len(dated) - MAX_ENTRIES]:
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, n))
