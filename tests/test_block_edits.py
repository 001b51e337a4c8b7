"""Text someone writes inside CLAUDE.md's ctxtui markers is never rewritten or removed without
a word: every change that would rewrite the block refuses in one line and changes nothing,
``claude-md --write --force`` replaces it as a recorded change that ``undo`` steps back over,
and edits outside the markers (or a line-ending conversion) never block anything."""

from __future__ import annotations

import pytest

from conftest import snapshot_tree
from ctxtui.cli import main

NOTE = "MY NOTE, written inside the block."


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def lazy(capsys, settings):
    """A project under lazy loading with its block, and the common CLI arguments."""
    common = ["-l", settings.library_dirs[0], "-w", settings.workspace]
    code, _, err = run(capsys, "migrate", "--to", "lazy_loading", "--force", *common)
    assert code == 0, err
    return settings.workspace / "CLAUDE.md", common


def edit_inside(md) -> bytes:
    text = md.read_text()
    end = text.index("<!-- ctxtui:end -->")
    md.write_text(text[:end] + NOTE + "\n" + text[end:])
    return md.read_bytes()


@pytest.mark.parametrize("command", [["activate", "alpha"], ["migrate", "--to", "eager"], ["reset"],
                                     ["claude-md", "--write"], ["migrate", "--to", "hybrid", "--force"]])
def test_a_change_that_would_rewrite_an_edited_block_is_refused(capsys, settings, lazy, command):
    md, common = lazy
    edited = edit_inside(md)
    tree = snapshot_tree(settings.workspace)
    code, _, err = run(capsys, *command, *common)
    assert code == 1 and err.count("\n") == 1 and "was edited after ctxtui wrote it" in err
    assert md.read_bytes() == edited and snapshot_tree(settings.workspace) == tree


def test_force_replaces_the_block_and_undo_brings_the_edit_back(capsys, settings, lazy):
    md, common = lazy
    edited = edit_inside(md)
    code, _, err = run(capsys, "claude-md", "--write", "--force", *common)
    assert code == 0, err
    assert NOTE not in md.read_text()
    code, _, err = run(capsys, "activate", "alpha", *common)  # the block is ctxtui's again
    assert code == 0, err
    for _ in range(2):
        code, _, err = run(capsys, "undo", *common)
        assert code == 0, err
    assert md.read_bytes() == edited


def test_edits_outside_the_markers_and_line_ending_conversions_do_not_block(capsys, settings, lazy):
    md, common = lazy
    md.write_bytes(b"# Mine\r\n" + md.read_bytes().replace(b"\n", b"\r\n") + b"after\r\n")
    code, _, err = run(capsys, "activate", "alpha", *common)
    assert code == 0, err
    data = md.read_bytes()
    assert data.startswith(b"# Mine\r\n") and data.endswith(b"after\r\n") and b"alpha" in data
