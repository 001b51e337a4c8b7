"""Text from persona files and transcripts reaches the terminal as text: rich markup in a name
is printed as written (never a style, a click action or a MarkupError traceback), emoji codes
stay codes, and escape sequences or bidi overrides are shown as ``?``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxtui.cli import main

NAMES = ["mk[/]close", "[bold red]redname[/bold red]", "ansi\x1b[31mred\u202eevil", "x[@click=app.quit]y[/]"]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    lib = tmp_path / "hostile"
    lib.mkdir()
    for i, name in enumerate(NAMES):
        quoted = name.replace("\\", "\\\\").replace('"', '\\"').replace("\x1b", "\\e").replace("\u202e", "\\u202e")
        (lib / f"p{i}.md").write_text(f'---\nname: "{quoted}"\ndescription: ":thumbs_up: [red]d[/red]"\n---\nbody\n')
    return lib


@pytest.mark.parametrize("command", [["list"], ["index"], ["status"], ["find", "thumbs"]])
def test_hostile_names_print_as_written(capsys, monkeypatch, hostile, workspace, command):
    monkeypatch.setenv("COLUMNS", "400")
    code, out, err = run(capsys, *command, "-l", hostile, "-w", workspace)
    assert code == 0, err
    assert "Traceback" not in err and "\x1b" not in out and "\u202e" not in out
    if command[0] != "status":  # status lists only the hot set
        for shown in ("mk[/]close", "[bold red]redname[/bold red]", "ansi?[31mred?evil", "x[@click=app.quit]y[/]"):
            assert shown in out
    if command[0] == "find":
        assert ":thumbs_up:" in out


def test_activate_and_deactivate_name_the_persona_plainly(capsys, hostile, workspace):
    code, out, err = run(capsys, "activate", "mk[/]close", "-l", hostile, "-w", workspace)
    assert code == 0 and "activated mk[/]close" in out and not err
    code, out, err = run(capsys, "deactivate", "ansi\x1b[31mred\u202eevil", "-l", hostile, "-w", workspace)
    assert "\x1b" not in out + err and "Traceback" not in err
