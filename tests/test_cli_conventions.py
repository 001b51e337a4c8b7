"""CLI conventions people expect: suggestions, completion, help on every argument, one version."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from ctxtui import __version__
from ctxtui.cli import COMMANDS, main
from ctxtui.cli.completion import full_parser


def test_a_mistyped_command_gets_one_line_with_a_suggestion(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["stauts"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "did you mean 'status'" in err


@pytest.mark.parametrize("argv", [["tier", "x", "bogus"], ["tier"], ["reset", "--dry-run"], ["--bogus"],
                                  ["status", "--window", "many"]])
def test_a_usage_mistake_is_one_line_naming_the_help(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and "--help`)" in err and "usage:" not in err


def test_a_mistyped_persona_name_gets_a_suggestion(capsys, library, workspace):
    assert main(["activate", "alpah", "-l", str(library), "-w", str(workspace)]) == 1
    assert "did you mean 'alpha'" in capsys.readouterr().err


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_knows_every_command(capsys, shell):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    missing = [name for name in COMMANDS if name not in script]
    assert not missing, missing


def _walk(parser: argparse.ArgumentParser, path: str = "ctxtui"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, f"{path} {name}")
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield path, action


def test_every_argument_has_help():
    bare = [f"{path} {'/'.join(a.option_strings) or a.dest}" for path, a in _walk(full_parser())
            if not a.help or a.help == argparse.SUPPRESS and a.option_strings]
    assert not bare, bare


def test_version_is_written_once_and_package_metadata_agrees():
    from importlib.metadata import version

    assert version("ctxtui") == __version__
    out = subprocess.run([sys.executable, "-m", "ctxtui", "--version"], capture_output=True, text=True).stdout
    assert out.strip() == f"ctxtui {__version__}"


def test_bash_completes_persona_names(capsys, library, workspace, tmp_path):
    """The bash script asks `ctxtui list --names` for persona names (activate, deactivate,
    tier...); run in a real bash with a ctxtui that lists this library."""
    import shutil
    import subprocess
    import sys

    if shutil.which("bash") is None:
        pytest.skip("bash not installed")
    assert main(["list", "--names", "-l", str(library), "-w", str(workspace)]) == 0
    assert {"alpha", "beta", "gamma", "delta", "epsilon"} <= set(capsys.readouterr().out.split())
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "ctxtui.bash"
    script.write_text(capsys.readouterr().out)
    fake = tmp_path / "bin" / "ctxtui"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} -m ctxtui \"$@\" -l {library} -w {workspace}\n")
    fake.chmod(0o755)

    def complete(line: str) -> list[str]:
        words = line.split(" ")
        cmd = (f'source {script}; COMP_WORDS=({" ".join(repr(w) for w in words)}); '
               f'COMP_CWORD={len(words) - 1}; COMP_LINE={line!r}; COMP_POINT={len(line)}; '
               '_shtab_ctxtui; printf "%s\\n" "${COMPREPLY[@]}"')
        out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=60,
                             env={"PATH": f"{fake.parent}:/usr/bin:/bin", "HOME": str(tmp_path)})
        return sorted(w for w in out.stdout.split() if w)

    assert complete("ctxtui activate al") == ["alpha"]
    assert complete("ctxtui deactivate ep") == ["epsilon"]
