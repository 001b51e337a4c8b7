"""The status cache replays a warm ``status`` only while nothing it read has changed.

Each invalidation test stores an entry, proves the next run is replayed (with
``CTXTUI_CACHE_DEBUG=1`` a replayed run says nothing; a run that is not says why), changes one
input, and checks that the next run is not replayed, names what changed, and prints exactly
what a run with the cache off (``CTXTUI_NO_CACHE=1``) prints. Every run is a process of its own,
as a user's is (the cache applies only to ``ctxtui`` started as a program).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from conftest import persona_text
from ctxtui.cli import status_cache
from ctxtui.cli.status_cache import Entry, decode, encode, wants

#: Inputs changed closer than this to a run's start are not trusted: wait it out once.
SETTLE = status_cache.RACY_NS / 1e9 + 0.1


class Project:
    """A project, a library, a home and ctxtui's folders in a tmp folder, run as a user would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.project = root / "project"
        self.lib = root / "lib"
        self.cache = root / "cache"
        self.bin = root / "bin"
        self.cwd = self.project
        for d in (self.home / ".claude" / "agents", self.project / ".claude" / "agents", self.lib, self.bin):
            d.mkdir(parents=True)
        for name in ("alpha", "beta", "gamma"):
            (self.lib / f"{name}.md").write_text(persona_text(name, f"Use {name} for {name} work."))
        (self.project / ".claude" / "agents" / "alpha.md").write_text(persona_text("alpha", "Use alpha."))
        (self.project / "CLAUDE.md").write_text("# Project\n\nSee @notes.md\n")
        (self.project / "notes.md").write_text("Some notes.\n")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("CTXTUI_", "XDG_", "CLAUDE_", "COLUMNS", "LINES"))}
        self.env.update(HOME=str(self.home), PATH=str(self.bin), CTXTUI_CACHE_DIR=str(self.cache),
                        CTXTUI_CONFIG_DIR=str(root / "config"), CTXTUI_DATA_DIR=str(root / "data"),
                        CTXTUI_LIBRARY=str(self.lib), CTXTUI_CACHE_DEBUG="1")

    def run(self, *args: str, cache: bool = True, env: dict[str, str] | None = None,
            stdout: int | None = None) -> subprocess.CompletedProcess[bytes]:
        e = {**self.env, **(env or {})}
        if not cache:
            e["CTXTUI_NO_CACHE"] = "1"
        return subprocess.run([sys.executable, "-m", "ctxtui", "status", *args], cwd=self.cwd, env=e,
                              stdout=subprocess.PIPE if stdout is None else stdout,
                              stderr=subprocess.PIPE, timeout=120, check=False)

    def stored(self, *args: str, env: dict[str, str] | None = None) -> bytes:
        """Fill the cache and prove the next run is replayed; returns the replayed output."""
        time.sleep(SETTLE)
        first = self.run(*args, env=env)
        assert first.returncode == 0, first.stderr
        if b"not stored" in first.stderr:  # a program ran (the `claude --version` probe): again
            time.sleep(SETTLE)
            first = self.run(*args, env=env)
        assert b"not stored" not in first.stderr, first.stderr
        again = self.run(*args, env=env)
        assert again.returncode == 0
        assert again.stderr == b"", again.stderr  # replayed: nothing to say
        assert again.stdout == first.stdout
        return again.stdout

    def after_change(self, *args: str, names: Path | str, env: dict[str, str] | None = None) -> bytes:
        """The run after a change: not replayed, says what changed (NAMES: the path changed, or
        a folder it is in, or ``$VARIABLE``), prints what an uncached run does."""
        cached = self.run(*args, env=env)
        assert cached.returncode == 0
        assert cached.stderr.startswith(b"ctxtui: status cache: "), "the change went unseen"
        reason = cached.stderr.splitlines()[0].decode().removeprefix("ctxtui: status cache: ")
        if isinstance(names, Path):
            assert reason in {str(names), *(str(a) for a in names.parents if self.root in a.parents)}, reason
        else:
            assert reason == names, reason
        fresh = self.run(*args, cache=False, env=env)
        assert cached.stdout == fresh.stdout
        return cached.stdout


@pytest.fixture
def proj(tmp_path: Path) -> Project:
    return Project(tmp_path)


@pytest.mark.parametrize("args", [(), ("--json",)])
def test_a_warm_status_is_replayed_byte_for_byte(proj: Project, args: tuple[str, ...]) -> None:
    replayed = proj.stored(*args)
    assert replayed == proj.run(*args, cache=False).stdout
    assert (proj.cache / "status").is_dir()


CHANGES = {
    # name: (what it changes, relative to the tmp folder; the change)
    "add hot agent": ("project/.claude/agents/delta.md", persona_text("delta", "Use delta.")),
    "remove hot agent": ("project/.claude/agents/alpha.md", None),
    "edit hot agent": ("project/.claude/agents/alpha.md", persona_text("alpha", "Use alpha for much longer work.")),
    "edit cold persona": ("lib/beta.md", persona_text("beta", "Beta, now described at length.")),
    "add cold persona": ("lib/omega.md", persona_text("omega", "Use omega.")),
    "edit CLAUDE.md": ("project/CLAUDE.md", "# Project\n\nMore words here. See @notes.md\n"),
    "edit imported file": ("project/notes.md", "Some notes, and many more of them.\n"),
    "create probed file": ("project/CLAUDE.local.md", "Local notes for me alone.\n"),
    "edit settings.json": ("project/.claude/settings.json", '{"permissions": {"deny": ["Task(alpha)"]}}\n'),
    "edit settings.local.json": ("project/.claude/settings.local.json", '{"permissions": {"deny": ["Task(alpha)"]}}\n'),
    "add user agent": ("home/.claude/agents/mine.md", persona_text("mine", "Use mine.")),
    "edit workspace config": ("project/hybrid-config.json", '{"lazy_loading": {"max_active_personas": 7}}\n'),
    "edit user settings": ("home/.claude/settings.json", '{"permissions": {"deny": ["Task(alpha)"]}}\n'),
    "create .mcp.json": ("project/.mcp.json", '{"mcpServers": {"x": {"command": "x"}}}\n'),
    "create ~/.claude.json": ("home/.claude.json", '{"mcpServers": {"y": {"command": "y"}}}\n'),
    "create ctxtui settings": ("config/settings.json", '{"window": 100000}\n'),
}

#: Changes that move a figure of ``status --json``.
SHOWS = {"add hot agent", "remove hot agent", "edit hot agent", "edit cold persona", "add cold persona",
         "edit CLAUDE.md", "edit imported file", "create probed file", "add user agent",
         "edit workspace config", "create ctxtui settings"}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_changed_input_is_seen(proj: Project, change: str) -> None:
    p, home = proj.project, proj.home
    (p / ".claude" / "settings.json").write_text('{"permissions": {}}\n')
    (p / ".claude" / "settings.local.json").write_text('{}\n')
    (p / "hybrid-config.json").write_text('{"lazy_loading": {"max_active_personas": 3}}\n')
    (home / ".claude" / "settings.json").write_text('{}\n')
    before = proj.stored("--json")
    rel, text = CHANGES[change]
    path = proj.root / rel
    if text is None:
        path.unlink()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    after = proj.after_change("--json", names=path)
    if change in SHOWS:
        assert after != before  # (a deny rule or an unapproved MCP server may move no figure)


def test_an_unrelated_file_in_the_project_or_home_keeps_the_entry(proj: Project) -> None:
    """The project and home folders are only asked whether they are folders: a file saved
    beside them (an editor's swap file, a shell's history) does not void the entry. (Run from
    elsewhere: ``python -m`` puts the current folder on sys.path, where a new file could
    shadow a module, so there it does.)"""
    proj.cwd = proj.root
    args = ("--json", "-w", str(proj.project))
    before = proj.stored(*args)
    (proj.project / "scratch.txt").write_text("notes\n")
    (proj.home / ".bash_history").write_text("ls\n")
    r = proj.run(*args)
    assert r.stderr == b"", r.stderr
    assert r.stdout == before
    assert before == proj.run(*args, cache=False).stdout


def test_a_new_transcript_and_a_resumed_older_one_are_seen(proj: Project) -> None:
    from ctxtui.core.sessions import project_dir_name

    folder = proj.home / ".claude" / "projects" / project_dir_name(str(proj.project.resolve()))
    folder.mkdir(parents=True)
    old = folder / "old.jsonl"
    old.write_text(json.dumps({"type": "user", "version": "2.1.112"}) + "\n")
    newer = folder / "newer.jsonl"
    newer.write_text(json.dumps({"type": "user", "version": "2.1.292"}) + "\n")
    os.utime(old, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = proj.stored("--json")
    assert json.loads(before)["claude_code"]["version"] == "2.1.292"
    # resuming the older session appends to it: the folder itself does not change
    with old.open("a") as f:
        f.write(json.dumps({"type": "user", "version": "2.1.112"}) + "\n")
    after = proj.after_change("--json", names=old)
    assert json.loads(after)["claude_code"]["version"] == "2.1.112"
    proj.stored("--json")
    (folder / "brand-new.jsonl").write_text(json.dumps({"type": "user", "version": "2.1.288"}) + "\n")
    after = proj.after_change("--json", names=folder / "brand-new.jsonl")
    assert json.loads(after)["claude_code"]["version"] == "2.1.288"


def _claude(path: Path, version: str) -> None:
    path.write_text(f"#!/bin/sh\necho '{version} (Claude Code)'\n")
    path.chmod(0o755)


def test_a_different_claude_on_path_or_a_new_version_is_seen(proj: Project) -> None:
    _claude(proj.bin / "claude", "2.1.112")
    before = proj.stored("--json")
    assert json.loads(before)["claude_code"]["version"] == "2.1.112"
    _claude(proj.bin / "claude", "2.1.292")  # an update in place
    after = proj.after_change("--json", names=proj.bin / "claude")
    assert json.loads(after)["claude_code"]["version"] == "2.1.292"
    other = proj.root / "other-bin"
    other.mkdir()
    _claude(other / "claude", "2.1.288")
    env = {"PATH": f"{other}:{proj.bin}"}
    after = proj.after_change("--json", names="$PATH", env=env)
    assert json.loads(after)["claude_code"]["version"] == "2.1.288"


def test_a_changed_environment_variable_is_seen(proj: Project) -> None:
    lib2 = proj.root / "lib2"
    lib2.mkdir()
    (lib2 / "solo.md").write_text(persona_text("solo", "Use solo."))
    before = proj.stored("--json")
    after = proj.after_change("--json", names="$CTXTUI_LIBRARY", env={"CTXTUI_LIBRARY": str(lib2)})
    assert after != before


def _in_terminal(proj: Project, columns: int, cache: bool = True) -> tuple[bytes, bytes]:
    """Run the human status with stdout on a terminal COLUMNS wide: (stdout, stderr)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    try:
        r = proj.run(cache=cache, stdout=follower, env={"TERM": "xterm-256color"})
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks), r.stderr
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)


def test_a_terminal_of_another_width_gets_its_own_table(proj: Project) -> None:
    time.sleep(SETTLE)
    wide, err = _in_terminal(proj, 200)
    if b"not stored" in err:  # the tokenizer loaded (it probes the temp folder): again
        time.sleep(SETTLE)
        wide, err = _in_terminal(proj, 200)
    assert b"not stored" not in err, err
    wide_again, err = _in_terminal(proj, 200)
    assert err == b"" and wide_again == wide  # replayed
    narrow, err = _in_terminal(proj, 70)
    assert b"no entry" in err  # another width is another entry, never the wide table
    assert narrow == _in_terminal(proj, 70, cache=False)[0]
    assert narrow != wide
    text = re.sub(r"\x1b\[[0-9;]*m", "", narrow.decode())
    assert max(len(line) for line in text.splitlines()) <= 70


def test_human_output_with_columns_set_is_seen(proj: Project) -> None:
    before = proj.stored(env={"COLUMNS": "200"})
    after = proj.after_change(names="$COLUMNS", env={"COLUMNS": "80"})
    assert after != before


@pytest.mark.parametrize("damage", ["garbage", "truncated", "huge counts", "other key", "fifo",
                                    "link", "folder", "no magic"])
def test_a_damaged_or_hostile_entry_is_ignored(proj: Project, damage: str) -> None:
    proj.stored("--json")
    folder = proj.cache / "status"
    [entry] = list(folder.iterdir())
    good = entry.read_bytes()
    entry.unlink()
    if damage == "garbage":
        entry.write_bytes(os.urandom(4096))
    elif damage == "truncated":
        entry.write_bytes(good[:len(good) // 2])
    elif damage == "huge counts":
        entry.write_bytes(status_cache.MAGIC + b"\0k\x000\x00999999999999\0")
    elif damage == "other key":
        e = decode(good)
        entry.write_bytes(encode(Entry(b"another", 0, [], [], [(1, b"not this\n")])))
        assert e.key != b"another"
    elif damage == "fifo":
        os.mkfifo(entry)
    elif damage == "link":
        target = proj.root / "elsewhere"
        target.write_bytes(encode(Entry(decode(good).key, 0, [], [], [(1, b"planted\n")])))
        entry.symlink_to(target)
    elif damage == "folder":
        entry.mkdir()
    elif damage == "no magic":
        entry.write_bytes(b"\0" * 100)
    r = proj.run("--json")
    assert r.returncode == 0
    assert b"Traceback" not in r.stderr
    assert r.stdout == proj.run("--json", cache=False).stdout
    assert b"planted" not in r.stdout


def test_a_linked_status_folder_is_neither_read_nor_written(proj: Project) -> None:
    elsewhere = proj.root / "elsewhere"
    elsewhere.mkdir()
    proj.cache.mkdir()
    (proj.cache / "status").symlink_to(elsewhere)
    time.sleep(SETTLE)
    r = proj.run("--json")
    assert r.returncode == 0 and b"not a folder of ctxtui's own" in r.stderr
    assert list(elsewhere.iterdir()) == []


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else (0, 0)
            for p in root.rglob("*") if not p.is_symlink()}


def test_status_writes_only_in_the_cache_folder(proj: Project) -> None:
    (proj.root / "cache").mkdir()
    outside = {k: v for k, v in _tree(proj.root).items() if not k.startswith("cache")}
    proj.stored()
    proj.stored("--json")
    proj.run("--json", "--window", "100000")
    after = {k: v for k, v in _tree(proj.root).items() if not k.startswith("cache")}
    assert after == outside
    entries = list((proj.cache / "status").iterdir())
    assert entries and all(e.is_file() and e.suffix == ".bin" for e in entries)


def test_the_cache_keeps_a_bounded_number_of_entries(proj: Project) -> None:
    folder = proj.cache / "status"
    folder.mkdir(parents=True)
    for i in range(status_cache.MAX_ENTRIES + 5):
        (folder / f"{i:08x}h.bin").write_bytes(b"old")
        os.utime(folder / f"{i:08x}h.bin", ns=(i, i))
    proj.stored("--json")
    names = {p.name for p in folder.iterdir()}
    assert len(names) == status_cache.MAX_ENTRIES
    assert "00000000h.bin" not in names  # the oldest went first


def test_cache_off_reads_and_writes_nothing(proj: Project) -> None:
    time.sleep(SETTLE)
    for _ in range(2):
        r = proj.run("--json", cache=False)
        assert r.returncode == 0 and r.stderr == b""
    assert not (proj.cache / "status").exists()


def test_a_file_changed_just_before_the_run_is_not_trusted(proj: Project) -> None:
    time.sleep(SETTLE)
    (proj.project / "notes.md").write_text("Just now.\n")
    r = proj.run("--json")
    assert b"changed too recently" in r.stderr
    assert not any((proj.cache / "status").glob("*.bin"))


@pytest.mark.parametrize("argv, expected", [
    (["status"], False),
    (["status", "--json"], True),
    (["--json", "status", "-w", "x", "--library", "y", "--window", "5"], True),
    (["status", "--workspace=x"], False),
    (["status", "--help"], None),
    (["status", "-h"], None),
    (["status", "-w"], None),
    (["status", "-w", "--json"], None),
    (["list"], None),
    (["status", "status"], None),
    (["status", "--verbose"], None),
    (["-wx", "status"], None),
    ([], None),
])
def test_the_fast_path_takes_only_argv_it_understands(argv: list[str], expected: bool | None) -> None:
    assert wants(argv) is expected


def test_an_entry_round_trips_and_damaged_bytes_raise_value_errors() -> None:
    e = Entry(b"k\x1ey", 0, [(b"HOME", b"/h"), (b"NOPE", None)],
              [("s", b"/a", b"1:2:3:4:5:6"), ("l", b"/b", b"-")], [(1, b"out\0put\n"), (2, b"err\n")])
    raw = encode(e)
    d = decode(raw)
    assert (d.key, d.code, d.env, d.inputs, d.chunks) == (e.key, e.code, e.env, e.inputs, e.chunks)
    for cut in range(0, len(raw) - 1, 7):
        with pytest.raises((ValueError, IndexError)):
            decode(raw[:cut])
    with pytest.raises(ValueError):
        decode(raw + b"x")


def test_the_recorder_sees_each_kind_of_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ctxtui.core import inputs, skills
    from ctxtui.core.environ import EnvView

    f = tmp_path / "f.txt"
    f.write_text("x")
    monkeypatch.setenv("HS_PRESENT", "1")
    monkeypatch.delenv("HS_ABSENT", raising=False)
    real_stat, real_class = os.stat, type(os.environ)
    rec = inputs.start()
    try:
        f.read_text()
        (tmp_path / "missing").exists()
        os.stat(tmp_path)
        os.listdir(tmp_path)
        os.environ.get("HS_PRESENT")
        _ = "HS_ABSENT" in os.environ
        view = EnvView({"HS_SET": "v"})
        assert view.get("HS_SET") == "v" and view.get("HS_PRESENT") == "1"
        assert not rec.whole_env and not rec.clock and not rec.spawned
        (tmp_path / "out.txt").write_text("y")
        skills.usage_score({"s": {"usageCount": 1, "lastUsedAt": 0}}, "s")
        dict(os.environ)
    finally:
        inputs.stop()
    assert os.stat is real_stat and type(os.environ) is real_class
    b = os.fsencode
    assert ("s", b(str(f))) in rec.paths
    assert ("t", b(str(tmp_path / "missing"))) in rec.paths
    assert ("s", b(str(tmp_path))) in rec.paths
    assert b(str(tmp_path)) in rec.listed
    assert rec.env["HS_PRESENT"] == "1" and rec.env["HS_ABSENT"] is None
    assert ("open", b(str(tmp_path / "out.txt"))) in rec.writes
    assert rec.clock and rec.whole_env
    found = {(k, p): sig for k, p, sig in inputs.inputs_of(rec)}
    assert found[("t", b(str(tmp_path / "missing")))] == inputs.ABSENT
    assert ("l", b(str(tmp_path / "out.txt"))) in found  # an entry of a listed folder


def test_a_program_run_while_recording_is_noted() -> None:
    from ctxtui.core import inputs

    rec = inputs.start()
    try:
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    finally:
        inputs.stop()
    assert rec.spawned


def test_a_file_deleted_after_it_was_read_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file read early in a run and deleted before its end leaves an absent signature, which
    has no time for the 2 s rule: its signature when it was read shows the change, so the entry
    is not stored (else the deleted file's tokens would be replayed until something else
    changed)."""
    from ctxtui.core import inputs

    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("CTXTUI_CACHE_DIR", str(cache))
    memory = tmp_path / "home" / ".claude" / "CLAUDE.md"
    memory.parent.mkdir(parents=True)
    memory.write_text("# my rules\n")
    time.sleep(SETTLE)  # ctime cannot be set back: let the writes settle

    def stored_after(delete: bool) -> str | None:
        s = status_cache.Session(["status", "--json"], True, str(cache))
        rec = inputs.start()
        try:
            memory.read_bytes()
        finally:
            inputs.stop()
        if delete:
            memory.unlink()
        return status_cache.store(s, rec, 0)

    assert stored_after(delete=False) is None  # nothing moved: stored
    why = stored_after(delete=True)
    assert why is not None and "changed during the run" in why and str(memory) in why


def test_making_claude_executable_is_seen(proj: Project) -> None:
    """`shutil.which` asks `exists`, then `os.access`: the mode is part of what is compared."""
    claude = proj.bin / "claude"
    claude.write_text("#!/bin/sh\necho '2.1.112 (Claude Code)'\n")
    claude.chmod(0o644)
    proj.stored()
    claude.chmod(0o755)
    time.sleep(SETTLE)
    out = proj.after_change(names=claude)
    assert b"2.1.112" in out
