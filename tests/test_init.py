"""``ctxtui init``: a project set up from what it has, recorded portably, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctxtui.core import strategies
from ctxtui.core.config import bundled_dir, load_settings
from ctxtui.core.errors import CtxtuiError, WorkspaceError
from ctxtui.core.project_init import (
    GITIGNORE_LINES,
    PERSONA_COMMAND,
    InitError,
    explain,
    init,
    portable,
)
from ctxtui.core.workspace import Workspace
from tests.conftest import REPO, WSHOBSON, persona_text, snapshot_tree


@pytest.fixture
def project(workspace: Path) -> Path:
    """A project with two agents of its own."""
    agents = workspace / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "ours.md").write_text(persona_text("ours", "Our own reviewer.", tools="Read", model="haiku"))
    (agents / "mine.md").write_bytes(persona_text("mine", "Mine.").replace("\n", "\r\n").encode())
    return workspace


def open_ws(project: Path, **kw) -> Workspace:
    return Workspace(load_settings(workspace=project, **kw))


def test_init_records_the_library_beside_the_project_as_a_relative_path(project, library, home):
    r = init(open_ws(project), library)
    assert r.library_entry == "../lib"
    assert json.loads((project / "hybrid-config.json").read_text())["library"] == ["../lib"]
    ws = open_ws(project)  # no --library: the recorded one is used
    assert {"alpha", "epsilon"} <= set(ws.library.by_name)
    assert bundled_dir("personas") not in ws.library.roots


def test_init_adopts_hot_agents_byte_for_byte_so_a_later_move_keeps_them(project, library, home):
    before = {p.name: p.read_bytes() for p in (project / ".claude" / "agents").iterdir()}
    r = init(open_ws(project), library)
    assert sorted(r.adopted) == ["mine", "ours"]
    cold = project / ".claude" / "ctxtui" / "cold"
    assert (cold / "ours.md").read_bytes() == before["ours.md"]
    assert (cold / "mine.md").read_bytes() == before["mine.md"]  # CRLF kept
    ws = open_ws(project)
    assert all(h.managed and h.in_library for h in ws.hot)
    ws.deactivate(["ours"])
    ws.activate(["ours"])
    assert (project / ".claude" / "agents" / "ours.md").read_bytes() == before["ours.md"]


def test_init_adds_the_persona_command_and_rollback_takes_it_out_again(project, library, home):
    agents_before = snapshot_tree(project / ".claude" / "agents")
    r = init(open_ws(project), library)
    assert (project / PERSONA_COMMAND).is_file()
    assert r.entry is not None
    ws = open_ws(project)
    strategies.rollback(ws, reason="undo init")
    assert not (project / PERSONA_COMMAND).exists()
    assert snapshot_tree(project / ".claude" / "agents") == agents_before


def test_init_twice_changes_nothing_the_second_time(project, library, home):
    init(open_ws(project), library)
    tree = snapshot_tree(project)
    r = init(open_ws(project), library)
    assert r.changes == [] and r.entry is None
    assert snapshot_tree(project) == tree


def test_a_missing_library_is_refused_and_nothing_is_written(project, tmp_path, home):
    tree = snapshot_tree(project)
    with pytest.raises(InitError, match="is not a folder"):
        init(open_ws(project), tmp_path / "nope")
    assert snapshot_tree(project) == tree


def test_library_option_naming_a_missing_folder_is_one_clear_error(project, tmp_path):
    with pytest.raises(WorkspaceError, match="library .*nope is not a folder"):
        open_ws(project, library_dirs=[tmp_path / "nope"])
    out = subprocess.run([sys.executable, "-m", "ctxtui", "--library", str(tmp_path / "nope"), "status"],
                         capture_output=True, text=True, cwd=project, timeout=60)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().endswith("is not a folder")


def test_home_folder_is_refused_it_is_the_user_scope(home, library):
    (home / ".claude" / "agents").mkdir()
    (home / ".claude" / "agents" / "u.md").write_text(persona_text("u"))
    ws = Workspace(load_settings(workspace=home, library_dirs=[library]))
    assert ws.clashes == []  # the user scope is not reported as overriding itself
    assert [h.name for h in ws.hot] == ["u"] and ws.user_hot == []
    with pytest.raises(InitError, match="home folder"):
        init(ws, library)
    with pytest.raises(WorkspaceError, match="home folder"):
        ws.activate(["alpha"])
    assert sorted(p.name for p in (home / ".claude" / "agents").iterdir()) == ["u.md"]


def test_gitignore_lines_are_written_only_when_asked_and_keep_the_users_lines(project, library, home):
    (project / ".gitignore").write_bytes(b"node_modules/\r\n*.log")
    init(open_ws(project), library)
    assert (project / ".gitignore").read_bytes() == b"node_modules/\r\n*.log"
    init(open_ws(project), library, gitignore=True)
    text = (project / ".gitignore").read_bytes().decode()
    assert text.startswith("node_modules/\r\n*.log\r\n")
    assert all(line + "\r\n" in text for line in GITIGNORE_LINES)
    init(open_ws(project), library, gitignore=True)
    assert (project / ".gitignore").read_bytes().decode() == text


def test_a_config_with_an_unknown_key_is_refused_and_never_overwritten(project, library, home):
    ws = open_ws(project)
    (project / "hybrid-config.json").write_text('{"lazy_loading": {"max_active": 3}}')
    with pytest.raises(CtxtuiError, match="max_active"):
        init(ws, library)
    assert (project / "hybrid-config.json").read_text() == '{"lazy_loading": {"max_active": 3}}'


def test_portable_paths(tmp_path, home):
    proj = tmp_path / "work" / "p"
    assert portable(proj / "agents", proj) == "agents"
    assert portable(tmp_path / "work" / "lib", proj) == "../lib"
    assert portable(home / "x" / "lib", proj) == "~/x/lib"  # not beside the project: ~/
    elsewhere = tmp_path / "opt" / "agents"  # neither beside it nor under home: relative
    assert portable(elsewhere, proj) == "../../opt/agents"


def test_a_library_beside_the_project_is_found_and_said_where(project, tmp_path, home):
    lib = tmp_path / "team-agents"
    lib.mkdir()
    for i in range(12):
        (lib / f"a{i}.md").write_text(persona_text(f"a{i}"))
    r = init(open_ws(project), None)
    assert r.library_entry == "../team-agents"
    assert r.found.library_source == "found beside the project"
    assert any("team-agents" in line and "found beside" in line for line in r.lines)


def test_bundled_personas_are_a_demo_only_when_nothing_else_exists(workspace, project, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert bundled_dir("personas") in load_settings(workspace=empty).libraries
    assert bundled_dir("personas") not in load_settings(workspace=project).libraries
    assert bundled_dir("personas") in load_settings(workspace=project, demo=True).libraries


def _env(tmp_path: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTXTUI_")}
    env.update(HOME=str(home), CTXTUI_CONFIG_DIR=str(tmp_path / "_env" / "config"),
               CTXTUI_CACHE_DIR=str(tmp_path / "_env" / "cache"), CTXTUI_DATA_DIR=str(tmp_path / "_env" / "data"),
               CTXTUI_CLAUDE_HOME=str(home / ".claude"), PYTHONPATH=str(REPO))
    return env


INIT_RUNNER = """
import argparse, sys
from ctxtui.cli.project import register, run
from ctxtui.core.errors import CtxtuiError
p = argparse.ArgumentParser(prog="ctxtui"); sub = p.add_subparsers(dest="command"); register(sub)
try:
    sys.exit(run(p.parse_args(sys.argv[1:])))
except CtxtuiError as e:
    print(f"ctxtui: error: {e}", file=sys.stderr); sys.exit(1)
"""


@pytest.mark.skipif(not WSHOBSON.is_dir(), reason="wshobson corpus not available")
def test_newcomer_walkthrough(tmp_path, home):
    """Fresh project with its own agent and a separate library: `init --library ../lib`, then
    status, activate and find without --library use the recorded library. `init` runs through
    ``ctxtui.cli.project`` (the lead wires it into ``ctxtui``); the rest is the real CLI."""
    root = tmp_path / "work"
    proj = root / "app"
    (proj / ".claude" / "agents").mkdir(parents=True)
    (proj / ".claude" / "agents" / "ours.md").write_text(persona_text("ours", "Our reviewer."))
    os.symlink(WSHOBSON, root / "lib")
    env = _env(tmp_path, home)

    def ctxtui(*args: str, init_cmd: bool = False) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-c", INIT_RUNNER] if init_cmd else [sys.executable, "-m", "ctxtui"]
        return subprocess.run([*cmd, *args], cwd=proj, env=env, capture_output=True, text=True, timeout=300)

    out = ctxtui("init", "--library", "../lib", init_cmd=True)
    assert out.returncode == 0, out.stderr
    assert "Library: ../lib" in out.stdout and "Adopted 1" in out.stdout
    status = ctxtui("status", "--json")
    data = json.loads(status.stdout)
    assert data["hot"] == ["ours"]
    assert data["eager_startup_tokens"] > 10_000  # the wshobson library, not the 14 demo personas
    assert ctxtui("activate", "sql-pro").returncode == 0
    assert (proj / ".claude" / "agents" / "sql-pro.md").is_file()
    found = ctxtui("find", "terraform", "infrastructure", "as", "code")
    assert found.returncode == 0 and "terraform" in found.stdout
    assert "../lib/" in found.stdout and str(WSHOBSON) not in found.stdout
    doctor = ctxtui("doctor", "--json", init_cmd=True)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["library"]["status"] == "ok" and "../lib" in checks["library"]["detail"]
    assert checks["journal"]["status"] == "ok"


def test_export_training_never_creates_folders_for_out(settings, tmp_path):
    """A bug met on the way (issue 12): a typo in --out made folders anywhere."""
    from ctxtui.analytics import training

    ws = Workspace(settings)
    with pytest.raises(CtxtuiError, match="does not exist"):
        training.export(ws, [], tmp_path / "typo" / "deeper" / "train.jsonl")
    assert not (tmp_path / "typo").exists()
    summary = training.export(ws, [], tmp_path / "train.jsonl")
    assert summary.files[0] == str(tmp_path / "train.jsonl")


def test_rollback_of_init_takes_back_the_config_it_created_and_the_gitignore_lines(project, library, home):
    (project / ".gitignore").write_bytes(b"node_modules/\r\n*.log")
    tree = snapshot_tree(project)
    init(open_ws(project), library, gitignore=True)
    assert (project / "hybrid-config.json").exists()
    strategies.rollback(open_ws(project), reason="undo init")
    assert not (project / "hybrid-config.json").exists()
    assert (project / ".gitignore").read_bytes() == b"node_modules/\r\n*.log"
    after = snapshot_tree(project)
    assert {k: v for k, v in after.items() if ".claude/ctxtui" not in k} == {
        k: v for k, v in tree.items() if ".claude/ctxtui" not in k}
    ws = open_ws(project)
    assert library.resolve() not in [r.resolve() for r in ws.library.roots]  # unrecorded again


def test_rollback_of_init_restores_a_teams_config_byte_for_byte(project, library, home):
    team = b'{\r\n  "lazy_loading": {"max_active_personas": 3}\r\n}'
    (project / "hybrid-config.json").write_bytes(team)
    init(open_ws(project), library)
    assert json.loads((project / "hybrid-config.json").read_text())["library"] == ["../lib"]
    strategies.rollback(open_ws(project), reason="undo init")
    assert (project / "hybrid-config.json").read_bytes() == team


def test_an_entry_older_than_the_recorded_config_leaves_the_config_alone(project, library, home):
    """Entries written before hybrid-config.json was recorded name it nowhere: restoring one
    must not read that as "the file did not exist" and remove the team's config."""
    from ctxtui.core.history import ABSENT, History

    ws = open_ws(project)
    strategies.migrate(ws, "eager", reason="first")
    hist = History(ws.settings)
    entry = hist.entries()[-1]
    path = hist.entries_dir / f"{entry.id}.json"
    raw = json.loads(path.read_text())
    assert raw["before"].get("hybrid-config.json") == ABSENT
    for snap in (raw["before"], raw["after"]):
        snap.pop("hybrid-config.json", None)
        snap.pop(".gitignore", None)
    path.write_text(json.dumps(raw))
    (project / "hybrid-config.json").write_bytes(b'{"library": ["../lib"]}\n')
    strategies.rollback(open_ws(project), reason="back")
    assert (project / "hybrid-config.json").read_bytes() == b'{"library": ["../lib"]}\n'


def test_a_dry_run_says_what_init_would_change_and_writes_nothing(project, library, home):
    before = snapshot_tree(project)
    planned = init(open_ws(project), library, dry_run=True)
    assert any("record library" in c for c in planned.changes) and planned.entry is None
    assert snapshot_tree(project) == before  # not even a lock file or a history blob
    assert not (project / ".claude" / "ctxtui").exists()
    done = init(open_ws(project), library)
    assert done.changes == planned.changes
    assert init(open_ws(project), library, dry_run=True).changes == []


def test_init_says_which_library_personas_are_ctxtuis_own(project, library, home):
    ws = open_ws(project)
    r = init(ws, library)
    (line,) = [x for x in explain(Workspace(ws.settings), r, False) if x.startswith("Startup now")]
    n = len(Workspace(ws.settings).library.unique())
    assert f"all {n} library personas (1 of them ctxtui's own) hot" in line  # the pinned persona-manager
