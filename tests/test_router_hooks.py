"""``hook install|remove|status``: our UserPromptSubmit entry in settings.local.json, and only ours."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from ctxtui.cli import router as cli_router
from ctxtui.core import claude_hooks, journal
from ctxtui.core.claude_hooks import HookSettingsError, plan_install, plan_remove, status
from ctxtui.core.config import load_settings
from ctxtui.core.errors import ConflictError, UnsafePathError
from ctxtui.core.history import History

CMD = "/opt/bin/ctxtui route --hook"
USER_HOOK = {"type": "command", "command": "~/.claude/hooks/log-prompt.sh"}
CLAUDE_STYLE = json.dumps({
    "permissions": {"allow": ["Bash(npm test:*)"], "deny": ["Agent(slow-agent)"]},
    "hooks": {"UserPromptSubmit": [{"hooks": [USER_HOOK]}],
              "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh"}]}]},
    "model": "opus",
}, indent=2).encode() + b"\n"


def test_install_into_an_absent_file_creates_only_our_hook() -> None:
    out = json.loads(plan_install(b"", CMD))
    assert out == {"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": CMD, "timeout": 5}]}]}}


def test_install_keeps_every_other_key_and_hook_in_order() -> None:
    out = json.loads(plan_install(CLAUDE_STYLE, CMD))
    before = json.loads(CLAUDE_STYLE)
    assert list(out) == list(before)
    assert out["permissions"] == before["permissions"] and out["model"] == "opus"
    assert out["hooks"]["PreToolUse"] == before["hooks"]["PreToolUse"]
    groups = out["hooks"]["UserPromptSubmit"]
    assert groups[0] == {"hooks": [USER_HOOK]}
    assert groups[1]["hooks"][0]["command"] == CMD


def test_install_twice_changes_nothing_and_a_new_command_updates_in_place() -> None:
    once = plan_install(CLAUDE_STYLE, CMD)
    assert plan_install(once, CMD) is once
    moved = json.loads(plan_install(once, "/new/ctxtui route --hook"))
    cmds = [h["command"] for g in moved["hooks"]["UserPromptSubmit"] for h in g["hooks"]]
    assert cmds == [USER_HOOK["command"], "/new/ctxtui route --hook"]


def test_install_then_remove_restores_the_bytes() -> None:
    assert plan_remove(plan_install(CLAUDE_STYLE, CMD)) == CLAUDE_STYLE


@pytest.mark.parametrize("original", [
    b'{\r\n    "model": "opus"\r\n}\r\n',
    b'\xef\xbb\xbf{\n\t"model": "opus"\n}',
    b'{\n  "env": {\n    "X": "\xc3\xa9"\n  }\n}\n',
])
def test_line_endings_indentation_bom_and_unicode_survive(original: bytes) -> None:
    installed = plan_install(original, CMD)
    assert installed.startswith(b"\xef\xbb\xbf") == original.startswith(b"\xef\xbb\xbf")
    assert (b"\r\n" in installed) == (b"\r\n" in original)
    assert plan_remove(installed) == original


def test_remove_leaves_the_users_hooks_even_in_our_group() -> None:
    ours = {"type": "command", "command": CMD}
    data = json.dumps({"hooks": {"UserPromptSubmit": [{"hooks": [USER_HOOK, ours]}]}}, indent=2).encode()
    out = json.loads(plan_remove(data))
    assert out == {"hooks": {"UserPromptSubmit": [{"hooks": [USER_HOOK]}]}}


def test_remove_without_our_hook_returns_the_same_bytes() -> None:
    assert plan_remove(CLAUDE_STYLE) is CLAUDE_STYLE
    assert plan_remove(b"") == b""


@pytest.mark.parametrize("data", [b"{not json", b"[]", b'{"hooks": []}', b'{"hooks": {"UserPromptSubmit": {}}}',
                                  b"\xff\xfe"])
def test_a_file_we_do_not_understand_is_refused_not_rewritten(data: bytes) -> None:
    with pytest.raises(HookSettingsError):
        plan_install(data, CMD)


def test_status_reports_ours_and_counts_the_others() -> None:
    st = status(plan_install(CLAUDE_STYLE, CMD))
    assert (st.installed, st.command, st.timeout, st.other_hooks) == (True, CMD, 5, 1)
    assert status(CLAUDE_STYLE).installed is False


@pytest.mark.parametrize("command,ours", [
    ("ctxtui route --hook", True), ("/home/u/.local/bin/ctxtui route --hook", True),
    ('"C:\\Tools\\ctxtui.exe" route --hook', True), ("python -m ctxtui.route_hook", True),
    ("my-ctxtui-wrapper route --hook", False), ("ctxtui route", False), ("echo ctxtui", False),
])
def test_only_our_command_is_recognised(command: str, ours: bool) -> None:
    assert claude_hooks.is_ours(command) is ours


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    cli_router.register(p.add_subparsers(dest="command"))
    return p.parse_args(list(argv))


def test_hook_install_and_remove_are_journalled_and_roll_back_byte_for_byte(tmp_path: Path, capsys) -> None:
    from ctxtui.core.strategies import rollback
    from ctxtui.core.workspace import Workspace

    settings = load_settings(workspace=tmp_path)
    path = tmp_path / ".claude" / "settings.local.json"
    path.parent.mkdir()
    path.write_bytes(CLAUDE_STYLE)
    assert cli_router.run(_args("hook", "install", "--command", CMD), settings) == 0
    assert status(path.read_bytes()).installed
    assert cli_router.run(_args("hook", "install", "--command", CMD), settings) == 0
    assert "already installed" in capsys.readouterr().out
    rollback(Workspace(settings))
    assert path.read_bytes() == CLAUDE_STYLE
    cli_router.run(_args("hook", "install", "--command", CMD), settings)
    cli_router.run(_args("hook", "remove"), settings)
    assert path.read_bytes() == CLAUDE_STYLE


def test_hook_status_json(tmp_path: Path, capsys) -> None:
    settings = load_settings(workspace=tmp_path)
    assert cli_router.run(_args("hook", "status", "--json"), settings) == 0
    assert json.loads(capsys.readouterr().out)["installed"] is False


def test_a_settings_file_linked_inside_the_project_is_written_through_the_link(tmp_path: Path) -> None:
    target = tmp_path / "shared-settings.json"
    target.write_bytes(CLAUDE_STYLE)
    (tmp_path / ".claude").mkdir()
    link = tmp_path / ".claude" / "settings.local.json"
    link.symlink_to(target)
    settings = load_settings(workspace=tmp_path)
    assert cli_router.run(_args("hook", "install", "--command", CMD), settings) == 0
    assert link.is_symlink() and status(target.read_bytes()).installed
    assert cli_router.run(_args("hook", "remove"), settings) == 0
    assert link.is_symlink() and target.read_bytes() == CLAUDE_STYLE


def test_hook_install_refuses_a_settings_file_linked_out_of_the_project(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "elsewhere.json"
    target.write_text("{}")
    ws = tmp_path / "ws"
    (ws / ".claude").mkdir(parents=True)
    (ws / ".claude" / "settings.local.json").symlink_to(target)
    with pytest.raises(UnsafePathError):
        cli_router.run(_args("hook", "install", "--command", CMD), load_settings(workspace=ws))
    assert target.read_text() == "{}"


def test_an_editor_saving_while_the_install_is_planned_wins(tmp_path: Path, monkeypatch) -> None:
    settings = load_settings(workspace=tmp_path)
    path = tmp_path / ".claude" / "settings.local.json"
    path.parent.mkdir()
    path.write_bytes(CLAUDE_STYLE)
    edited = CLAUDE_STYLE.replace(b'"opus"', b'"sonnet"')
    real_plan = claude_hooks.plan_install

    def plan_then_editor_saves(data: bytes, command: str) -> bytes:
        out = real_plan(data, command)
        path.write_bytes(edited)  # the editor saves after ctxtui read the file
        return out

    monkeypatch.setattr(claude_hooks, "plan_install", plan_then_editor_saves)
    with pytest.raises(ConflictError):
        cli_router.install_hook(settings, CMD)
    assert path.read_bytes() == edited
    assert not History(settings).entries()  # nothing recorded for a change that did not happen


def test_an_editor_saving_after_the_check_is_put_back_and_the_change_refused(tmp_path: Path) -> None:
    settings = load_settings(workspace=tmp_path)
    path = tmp_path / ".claude" / "settings.local.json"
    path.parent.mkdir()
    path.write_bytes(CLAUDE_STYLE)
    edited = CLAUDE_STYLE.replace(b'"opus"', b'"haiku"')

    def editor(point: str) -> None:
        if point == "checked":
            path.write_bytes(edited)

    journal.set_fault_hook(editor)
    try:
        with pytest.raises(ConflictError):
            cli_router.install_hook(settings, CMD)
    finally:
        journal.set_fault_hook(None)
    assert path.read_bytes() == edited


def test_remove_deletes_the_file_its_install_created_and_rollback_brings_it_back(tmp_path: Path) -> None:
    from ctxtui.core.strategies import rollback
    from ctxtui.core.workspace import Workspace

    settings = load_settings(workspace=tmp_path)
    path = tmp_path / ".claude" / "settings.local.json"
    assert cli_router.install_hook(settings, CMD)
    installed = path.read_bytes()
    assert cli_router.remove_hook(settings) == "removed"
    assert not path.exists()
    rollback(Workspace(settings))
    assert path.read_bytes() == installed


@pytest.mark.parametrize("original", [b'{"model":"opus"}', b'{ "model" : "opus" ,\n "env": {} }\n', b"{\n}\n", b""])
def test_remove_gives_back_the_exact_bytes_from_before_the_install(tmp_path: Path, original: bytes) -> None:
    settings = load_settings(workspace=tmp_path)
    path = tmp_path / ".claude" / "settings.local.json"
    path.parent.mkdir()
    path.write_bytes(original)
    assert cli_router.install_hook(settings, CMD)
    assert cli_router.remove_hook(settings) == "restored"
    assert path.read_bytes() == original
    assert cli_router.remove_hook(settings) is None


def test_remove_after_the_user_edited_the_file_keeps_the_edit(tmp_path: Path) -> None:
    settings = load_settings(workspace=tmp_path)
    path = tmp_path / ".claude" / "settings.local.json"
    assert cli_router.install_hook(settings, CMD)
    data = json.loads(path.read_bytes())
    data["model"] = "opus"
    path.write_text(json.dumps(data, indent=2) + "\n")
    assert cli_router.remove_hook(settings) == "written"
    assert json.loads(path.read_bytes()) == {"model": "opus"}


def test_a_crafted_history_entry_cannot_smuggle_settings_in_through_remove(tmp_path: Path) -> None:
    settings = load_settings(workspace=tmp_path)
    path = tmp_path / ".claude" / "settings.local.json"
    path.parent.mkdir()
    path.write_bytes(b'{"model": "opus"}\n')
    assert cli_router.install_hook(settings, CMD)
    history = History(settings)
    entry = history.entries()[-1]
    evil = b'{"model": "opus", "permissions": {"allow": ["Bash(*)"]}}\n'
    entry.before[cli_router.SETTINGS_REL] = history.store_blob(evil)
    history.rewrite_entry(entry)
    assert cli_router.remove_hook(settings) == "written"
    assert json.loads(path.read_bytes()) == {"model": "opus"}


def test_router_eval_and_route_commands(tmp_path: Path, capsys) -> None:
    from conftest import TRANSCRIPTS

    settings = load_settings(workspace=tmp_path)
    assert cli_router.run(_args("router", "eval", "--transcripts", str(TRANSCRIPTS)), settings) == 0
    out = capsys.readouterr().out
    assert "router" in out and "bm25" in out and "never" in out
    with pytest.raises(cli_router.RouterCommandError):
        cli_router.run(_args("route", "some prompt"), settings)  # no model yet
    assert cli_router.run(_args("router", "train", "--transcripts", str(TRANSCRIPTS)), settings) == 0
    assert "0 personas learned" in capsys.readouterr().out
    assert cli_router.run(_args("route", "some prompt", "--json"), settings) == 0
    assert json.loads(capsys.readouterr().out)["fires"] is False


def test_the_router_reads_the_library_the_project_recorded(tmp_path: Path) -> None:
    """The hook and `router` run in the project without --library: they use the library
    `init` recorded in hybrid-config.json, as every other command does, not the demo."""
    import argparse

    from ctxtui.cli.router import _library
    from ctxtui.core.config import library_roots, load_settings

    lib = tmp_path / "team-lib"
    lib.mkdir()
    (lib / "ansi.md").write_text("---\nname: ansi\ndescription: Colours terminal output.\n---\nbody\n")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "hybrid-config.json").write_text(json.dumps({"library": ["../team-lib"]}))
    settings = load_settings(workspace=proj)
    assert [p.resolve() for p in library_roots(settings)[1:]] == [lib.resolve()]
    descriptions, paths = _library(argparse.Namespace(), settings)
    assert descriptions == {"ansi": "Colours terminal output."}
    assert Path(paths["ansi"]).resolve() == (lib / "ansi.md").resolve()
