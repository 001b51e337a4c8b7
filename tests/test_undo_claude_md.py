"""Undo and rollback step ctxtui's CLAUDE.md block back and keep what the user (or Claude
Code's memory) wrote outside it since, in place and byte for byte, CRLF included; an edited
block is refused in one line with nothing changed; the result goes through the journal like
any change, so a crash halfway is completed on the next start."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from test_tui import SIZE, app_for, settle
from test_tui_undo_migrations import wait_for

from conftest import crash_at, snapshot_tree
from ctxtui.cli import main
from ctxtui.core import block_merge, strategies
from ctxtui.core.claude_md import BEGIN, END
from ctxtui.core.history import History
from ctxtui.core.workspace import Workspace

MINE = b"# My project\n\nUse tabs.\n"


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def lazy(settings, text: bytes | None = MINE):
    """CLAUDE.md holds TEXT (None: no file); migrate to lazy loading (ctxtui appends its block)."""
    md = settings.workspace / "CLAUDE.md"
    if text is not None:
        md.write_bytes(text)
    strategies.migrate(Workspace(settings), "lazy_loading", force=True)
    assert BEGIN.encode() in md.read_bytes()
    return md


def block_of(data: bytes) -> bytes:
    start = data.index(BEGIN.encode())
    return data[start:data.index(END.encode()) + len(END)]


def test_notes_added_above_the_block_are_kept_and_the_block_goes(settings):
    md = lazy(settings)
    md.write_bytes(b"Read docs/style.md first.\n" + md.read_bytes())
    strategies.undo(Workspace(settings))
    assert md.read_bytes() == b"Read docs/style.md first.\n" + MINE


def test_notes_added_below_the_block_are_kept_where_they_were(settings):
    md = lazy(settings)
    md.write_bytes(md.read_bytes() + b"- Always run the tests.\n")  # Claude Code's `#` memory
    strategies.undo(Workspace(settings))
    assert md.read_bytes() == MINE + b"- Always run the tests.\n"


def test_notes_above_and_below_and_beside_the_block_are_all_kept(capsys, settings):
    md = lazy(settings)
    data = md.read_bytes()
    start = data.index(BEGIN.encode())
    md.write_bytes(b"TOP\n" + data[:start] + b"RIGHT ABOVE\n" + data[start:] + b"\nBOTTOM\n")
    code, out, err = run(capsys, "undo", "-l", settings.library_dirs[0], "-w", settings.workspace)
    assert code == 0, err
    assert md.read_bytes() == b"TOP\n" + MINE + b"RIGHT ABOVE\n\nBOTTOM\n"
    last = History(settings).entries()[-1]
    assert last.kind == "undo" and any("edits outside it kept" in c for c in last.changes)


def test_a_crlf_file_stays_crlf_with_the_notes_kept(settings):
    mine = MINE.replace(b"\n", b"\r\n")
    md = lazy(settings, mine)
    assert b"\r\n" + BEGIN.encode() + b"\r\n" in md.read_bytes()
    md.write_bytes(b"Top note\r\n" + md.read_bytes() + b"Memory line\r\n")
    strategies.undo(Workspace(settings))
    assert md.read_bytes() == b"Top note\r\n" + mine + b"Memory line\r\n"


def test_a_file_without_a_final_line_break_gets_the_notes_on_a_line_of_their_own(settings):
    md = lazy(settings, b"# Mine, no final newline")
    md.write_bytes(md.read_bytes() + b"\nappended\n")
    strategies.undo(Workspace(settings))
    assert md.read_bytes() == b"# Mine, no final newline\nappended\n"
    lazy(settings, None)
    with md.open("ab") as fh:  # `echo x >> CLAUDE.md` right after the end marker
        fh.write(b"glued\n")
    strategies.undo(Workspace(settings))
    assert md.read_bytes() == b"# Mine, no final newline\nappended\nglued\n"


def test_an_edited_block_is_refused_in_one_line_and_nothing_changes(capsys, settings):
    md = lazy(settings)
    data = md.read_bytes()
    end = data.index(END.encode())
    md.write_bytes(b"above\n" + data[:end] + b"MY RULE inside the block\n" + data[end:])
    tree = snapshot_tree(settings.workspace)
    code, _, err = run(capsys, "undo", "-l", settings.library_dirs[0], "-w", settings.workspace)
    assert code == 1 and err.count("\n") == 1
    assert "CLAUDE.md" in err and "block was edited" in err and "nothing was changed" in err
    assert "--force replaces the block and keeps your text outside it" in err
    assert snapshot_tree(settings.workspace) == tree  # history too: no blob, no entry
    with pytest.raises(strategies.EditedSince, match="block was edited"):
        strategies.rollback(Workspace(settings), entry_id=History(settings).entries()[0].id)
    assert snapshot_tree(settings.workspace) == tree


def test_markers_broken_by_hand_are_refused_like_an_edited_block(settings):
    md = lazy(settings)
    md.write_bytes(md.read_bytes().replace(END.encode(), b"<!-- gone -->") + b"note\n")
    edited = md.read_bytes()
    with pytest.raises(strategies.EditedSince, match="markers"):
        strategies.undo(Workspace(settings))
    assert md.read_bytes() == edited


def test_force_overwrites_an_edited_block_keeps_the_notes_and_the_edit_stays_in_history(settings):
    md = lazy(settings)
    data = md.read_bytes()
    end = data.index(END.encode())
    md.write_bytes(b"top\n" + data[:end] + b"inside\n" + data[end:] + b"bottom\n")
    edited = md.read_bytes()
    entry = strategies.undo(Workspace(settings), force=True)
    assert md.read_bytes() == b"top\n" + MINE + b"bottom\n"
    strategies.rollback(Workspace(settings), entry_id=entry.id)
    assert md.read_bytes() == edited


def test_force_restores_markers_broken_by_hand_byte_for_byte(settings):
    md = lazy(settings)
    md.write_bytes(md.read_bytes().replace(END.encode(), b"<!-- gone -->"))
    strategies.undo(Workspace(settings), force=True)
    assert md.read_bytes() == MINE


def test_a_file_ctxtui_created_keeps_the_users_notes_and_loses_the_block(settings):
    md = lazy(settings, None)
    md.write_bytes(md.read_bytes() + b"## Notes\nMine.\n")
    strategies.undo(Workspace(settings))
    assert md.read_bytes() == b"## Notes\nMine.\n"


def test_a_file_ctxtui_created_and_nobody_touched_is_removed(settings):
    md = lazy(settings, None)
    strategies.undo(Workspace(settings))
    assert not md.exists()


def test_nothing_edited_restores_the_recorded_bytes_exactly(settings):
    md = lazy(settings, MINE.replace(b"\n", b"\r\n") + b"no newline at the end")
    strategies.undo(Workspace(settings))
    assert md.read_bytes() == MINE.replace(b"\n", b"\r\n") + b"no newline at the end"


def test_undoing_a_block_rewrite_restores_the_old_block_and_keeps_the_notes(settings):
    md = lazy(settings)
    first = block_of(md.read_bytes())
    Workspace(settings).activate(["alpha"])  # rewrites the block
    assert block_of(md.read_bytes()) != first
    md.write_bytes(b"top\n" + md.read_bytes() + b"bottom\n")
    strategies.undo(Workspace(settings))
    data = md.read_bytes()
    assert block_of(data) == first
    assert data.startswith(b"top\n" + MINE) and data.endswith(first + b"\nbottom\n")


def test_undoing_a_block_removal_brings_the_block_back_after_the_notes(settings):
    md = lazy(settings)
    block = block_of(md.read_bytes())
    strategies.migrate(Workspace(settings), "eager")  # takes the block out
    assert md.read_bytes() == MINE
    md.write_bytes(md.read_bytes() + b"later note\n")
    strategies.undo(Workspace(settings))
    assert md.read_bytes() == MINE + b"later note\n\n" + block + b"\n"


def test_rollback_over_several_entries_keeps_edits_made_between_them(settings):
    md = lazy(settings)
    ws = Workspace(settings)
    md.write_bytes(b"first note\n" + md.read_bytes())
    ws.activate(["alpha"])
    md.write_bytes(md.read_bytes() + b"second note\n")
    Workspace(settings).activate(["beta"])
    md.write_bytes(md.read_bytes() + b"third note\n")
    first = History(settings).entries()[0]
    strategies.rollback(Workspace(settings), entry_id=first.id)
    assert md.read_bytes() == b"first note\n" + MINE + b"second note\nthird note\n"
    assert Workspace(settings).hot_names() == []
    strategies.rollback(Workspace(settings), to="lazy_loading")  # forward again: the newest lazy state
    data = md.read_bytes()
    assert b"first note\n" in data and b"second note\n" in data and b"third note\n" in data
    assert b"beta" in block_of(data)


def test_an_undo_that_kept_edits_is_itself_undoable_byte_for_byte(settings):
    md = lazy(settings)
    md.write_bytes(md.read_bytes() + b"note\n")
    edited = md.read_bytes()
    entry = strategies.undo(Workspace(settings))
    strategies.rollback(Workspace(settings), entry_id=entry.id)
    assert md.read_bytes() == edited


def test_a_crash_halfway_is_completed_from_the_journal_with_the_notes_kept(settings):
    md = lazy(settings)
    md.write_bytes(b"top\n" + md.read_bytes() + b"bottom\n")
    with crash_at("aside"):  # every file moved aside, nothing placed yet
        strategies.undo(Workspace(settings))
    ws = Workspace(settings)  # the next start completes it
    assert any("completed interrupted operation" in line for line in ws.recovered)
    assert md.read_bytes() == b"top\n" + MINE + b"bottom\n"
    assert History(settings).entries()[-1].kind == "undo"
    with pytest.raises(strategies.NothingToChange):
        strategies.rollback(ws, entry_id=History(settings).entries()[0].id)


def test_the_memory_file_under_dot_claude_is_merged_the_same_way(settings):
    inner = settings.workspace / ".claude" / "CLAUDE.md"
    inner.parent.mkdir(parents=True)
    inner.write_bytes(MINE)
    strategies.migrate(Workspace(settings), "lazy_loading", force=True)
    assert BEGIN.encode() in inner.read_bytes()
    inner.write_bytes(inner.read_bytes() + b"note\n")
    strategies.undo(Workspace(settings))
    assert inner.read_bytes() == MINE + b"note\n"


def test_text_written_over_the_separator_line_ctxtui_added_stays_when_the_block_goes():
    after = "text\n\n" + BEGIN + "\nx\n" + END + "\n"
    now = "text\nedited separator\n" + BEGIN + "\nx\n" + END + "\n"
    assert block_merge.step_back(now, [("text\n", after)]) == "text\nedited separator\n"


def test_a_line_ctxtui_changed_and_the_user_took_out_is_refused_not_brought_back():
    before, after = "a\nkeep\nz\n", "a\nkeep!\nz\n\n" + BEGIN + "\nx\n" + END + "\n"
    with pytest.raises(block_merge.KeepRefused) as exc:
        block_merge.step_back("a\nz\n\n" + BEGIN + "\nx\n" + END + "\n", [(before, after)])
    assert not exc.value.block_edited


def test_a_note_after_a_last_line_without_a_line_break_is_kept_on_its_own_line():
    before = "# x\nno newline"
    after = "# x\nno newline\n\n" + BEGIN + "\nx\n" + END + "\n"
    now = "# x\nno newline\nmy note\n\n" + BEGIN + "\nx\n" + END + "\n"
    assert block_merge.step_back(now, [(before, after)]) == "# x\nno newline\nmy note\n"


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
def test_step_back_without_edits_is_the_recorded_before(nl):
    before = f"a{nl}b{nl}"
    after = before + nl + f"{BEGIN}{nl}x{nl}{END}{nl}"
    assert block_merge.step_back(after, [(before, after)]) == before
    assert block_merge.step_back("mine" + nl, [(before, before)]) == "mine" + nl  # a change that left the file
    assert block_merge.step_back(f"{BEGIN}{nl}x{nl}{END}{nl}", [(None, f"{BEGIN}{nl}x{nl}{END}{nl}")]) is None


async def test_u_in_the_tui_keeps_the_notes_as_the_cli_does(settings):
    md = lazy(settings)
    md.write_bytes(b"top\n" + md.read_bytes() + b"bottom\n")
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("u")
        await wait_for(pilot, lambda: md.read_bytes() == b"top\n" + MINE + b"bottom\n", "the undo")
        await settle(pilot, app)
        assert not [n for n in app._notifications if n.severity == "error"]


async def test_u_over_an_edited_block_says_where_force_is(settings):
    md = lazy(settings)
    edited = md.read_bytes().replace(END.encode(), b"my line inside\n" + END.encode())
    md.write_bytes(edited)
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("u")
        await wait_for(pilot, lambda: any(n.severity == "error" for n in app._notifications), "the refusal")
        (said,) = [n.message for n in app._notifications if n.severity == "error"]
        assert "in a shell, `ctxtui undo --force`" in said and "--force replaces" not in said
    assert md.read_bytes() == edited  # nothing changed


_line = st.text(st.sampled_from("abc #-@"), min_size=1, max_size=8)


@hyp_settings(max_examples=150, deadline=None)
@given(mine=st.lists(_line, max_size=6), body=st.lists(_line, min_size=1, max_size=4),
       notes=st.lists(st.tuples(st.integers(0, 40), _line), max_size=5),
       crlf=st.booleans(), kind=st.sampled_from(["add", "remove", "rewrite"]))
def test_stepping_back_keeps_every_line_written_outside_the_block(mine, body, notes, crlf, kind):
    """Whatever lines are written outside the block, wherever: the step back keeps them in
    their order, and without them the result is the recorded before, byte for byte."""
    from ctxtui.core.claude_md import splice

    nl = "\r\n" if crlf and mine else "\n"  # a block in an empty file is written with LF
    text = "".join(line + nl for line in mine)
    block = BEGIN + "\n" + "\n".join(body) + "\n" + END
    before, after = {"add": (text, splice(text, block)), "remove": (splice(text, block), text),
                     "rewrite": (splice(text, block), splice(text, block.replace(END, "old\n" + END)))}[kind]
    lines = after.split(nl)[:-1] if after else []
    found = [i for i, line in enumerate(lines) if line in (BEGIN, END)]
    inside = range(found[0] + 1, found[1] + 1) if found else range(0)
    for n, (pos, note) in enumerate(notes):
        at = min(pos, len(lines))
        if at in inside:
            continue
        lines.insert(at, f"NOTE{n} {note}")
        inside = range(inside.start + (at < inside.start), inside.stop + (at < inside.stop)) if found else inside
    written = [line for line in lines if line.startswith("NOTE")]
    now = "".join(line + nl for line in lines)
    result = block_merge.step_back(now, [(before, after)])
    got = (result or "").split(nl)
    assert [line for line in got if line.startswith("NOTE")] == written
    assert nl.join(line for line in got if not line.startswith("NOTE")) == before
    assert result is not None or (before == "" and not written)


def test_an_edit_to_the_other_memory_file_ctxtui_never_changed_does_not_block_undo(settings):
    md = settings.workspace / "CLAUDE.md"
    inner = settings.workspace / ".claude" / "CLAUDE.md"
    inner.parent.mkdir(parents=True)
    inner.write_bytes(b"inner\n")
    lazy(settings)  # the block goes into CLAUDE.md
    inner.write_bytes(b"inner, edited since\n")
    strategies.undo(Workspace(settings))
    assert md.read_bytes() == MINE and inner.read_bytes() == b"inner, edited since\n"


def test_a_block_moved_to_the_top_by_hand_is_still_ctxtuis_block(settings):
    md = lazy(settings)
    block = block_of(md.read_bytes())
    md.write_bytes(block + b"\n" + MINE + b"notes\n")  # the user likes it first
    strategies.undo(Workspace(settings))
    assert md.read_bytes() == MINE + b"notes\n"


def test_a_block_the_user_took_out_by_hand_is_stepped_back_with_their_text_kept():
    from ctxtui.core import block_merge

    block = "<!-- ctxtui:begin -->\nhot: a\n<!-- ctxtui:end -->\n"
    before, after = "# P\nmine\n", "# P\nmine\n\n" + block
    now = "# P\nmine\nadded later\n"  # the block cut out by hand, a line added
    assert block_merge.step_back(now, [(before, after)]) == "# P\nmine\nadded later\n"
    with pytest.raises(block_merge.KeepRefused) as refused:  # a step back that needs the block back
        block_merge.step_back("# P\n", [(after, "# P\n\n" + block.replace("a", "b"))])
    assert refused.value.block_edited and not refused.value.replaceable


def test_a_memory_file_too_large_to_merge_is_refused_before_it_is_split():
    after = "text\n\n" + BEGIN + "\nx\n" + END + "\n"
    now = "\n" * (block_merge.MAX_MERGED_CHARS + 1) + after  # 1 MB of blank lines written above
    with pytest.raises(block_merge.KeepRefused) as exc:
        block_merge.step_back(now, [("text\n", after)])
    assert "too large" in exc.value.why and not exc.value.block_edited


def test_a_block_brought_back_into_a_file_turned_crlf_since_is_written_crlf():
    with_block = "# P\nmine\n\n" + BEGIN + "\n- a\n" + END + "\n"
    without = "# P\nmine\n"
    now = without.replace("\n", "\r\n")  # the user's editor rewrote the file with CRLF
    got = block_merge.step_back(now, [(with_block, without)])
    assert got == with_block.replace("\n", "\r\n")  # no LF line left in a CRLF file
