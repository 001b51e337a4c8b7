"""CLAUDE.md hierarchy and @imports, as Claude Code loads them (unit cases; the recorded
ground truth is in test_memory_conformance.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from ctxtui.core import memory, tokens

P112 = memory.profile_for("2.1.112")


def _load(ws: Path, home: Path | None = None, **kw) -> memory.MemoryScan:
    kw.setdefault("managed_dir", ws / "no-managed")
    kw.setdefault("home", home or ws)
    return memory.load(ws, home / ".claude" if home else None, **kw)


def test_import_refs_skip_code_spans_fences_html_and_emails():
    text = ("See @docs/a.md and `@not/this.md`.\n```\n@fenced.md\n```\nmail me@example.com\n"
            "@~/x.md, @/abs/y.md. <b>@bold.md</b>\n\n<div>@block-html.md</div>\n\n    @indented.md\n\n"
            "<!-- @c.md --> @after.md\n")
    # Inline tags end a text run but the text between them is still Markdown text.
    assert memory.import_refs(text) == ["docs/a.md", "~/x.md,", "/abs/y.md.", "bold.md", "after.md"]


def test_import_refs_fragment_escaped_space_and_escaped_at():
    text = "Read @a.md#intro, @my\\ notes.md and \\@not.md; @#x @@y @(z) @ok_file.md\n"
    assert memory.import_refs(text) == ["a.md", "my notes.md", "ok_file.md"]


def test_tilde_fence_and_longer_fences():
    text = "~~~\n@a.md\n~~~\n````\n```\n@b.md\n````\n@c.md"
    assert memory.import_refs(text) == ["c.md"]


def test_imports_follow_relative_and_tilde_paths_inside_the_project(tmp_path: Path):
    ws = tmp_path / "ws"
    (ws / "docs").mkdir(parents=True)
    (ws / "docs/a.md").write_text("A imports @b.md")
    (ws / "docs/b.md").write_text("B")
    (ws / "CLAUDE.md").write_text("root @docs/a.md @missing/file.md @someone")
    scan = _load(ws)
    assert [f.path.name for f in scan.files] == ["CLAUDE.md", "a.md", "b.md"]
    assert [f.depth for f in scan.files] == [0, 1, 2]
    assert (ws / "CLAUDE.md", "missing/file.md") in scan.missing


def test_imports_outside_the_project_need_approval(tmp_path: Path):
    ws, home = tmp_path / "ws", tmp_path / "home"
    ws.mkdir()
    (home / ".claude").mkdir(parents=True)
    (tmp_path / "out.md").write_text("outside")
    (home / "h.md").write_text("home notes")
    (ws / "CLAUDE.md").write_text("@../out.md @~/h.md")
    scan = _load(ws, home)
    assert [f.path.name for f in scan.files] == ["CLAUDE.md"]
    assert scan.needs_approval == [(ws / "CLAUDE.md", "../out.md"), (ws / "CLAUDE.md", "~/h.md")]
    assert "approve" in scan.warnings()[0]
    (home / ".claude.json").write_text(
        json.dumps({"projects": {str(ws): {"hasClaudeMdExternalIncludesApproved": True}}}))
    assert [f.path.name for f in _load(ws, home).files] == ["CLAUDE.md", "out.md", "h.md"]


def test_user_memory_may_import_from_anywhere(tmp_path: Path):
    ws, home = tmp_path / "ws", tmp_path / "home"
    ws.mkdir()
    (home / ".claude").mkdir(parents=True)
    (tmp_path / "elsewhere.md").write_text("elsewhere")
    (home / ".claude/CLAUDE.md").write_text(f"@{tmp_path / 'elsewhere.md'}")
    scan = _load(ws, home)
    assert [(f.path.name, f.kind) for f in scan.files] == [("CLAUDE.md", "User"), ("elsewhere.md", "User")]


def test_cycles_are_loaded_once_and_reported(tmp_path: Path):
    (tmp_path / "CLAUDE.md").write_text("@a.md")
    (tmp_path / "a.md").write_text("@CLAUDE.md")
    scan = _load(tmp_path)
    assert [f.path.name for f in scan.files] == ["CLAUDE.md", "a.md"]
    assert scan.cycles and "loop" in scan.warnings()[0]


def test_a_file_imported_twice_is_sent_once_and_is_no_cycle(tmp_path: Path):
    (tmp_path / "CLAUDE.md").write_text("@a.md @b.md")
    (tmp_path / "a.md").write_text("@b.md")
    (tmp_path / "b.md").write_text("B")
    scan = _load(tmp_path)
    assert [f.path.name for f in scan.files] == ["CLAUDE.md", "a.md", "b.md"]
    assert scan.cycles == []


def test_imports_stop_four_hops_below_the_root_file(tmp_path: Path):
    (tmp_path / "CLAUDE.md").write_text("@f1.md")
    for i in range(1, 8):
        (tmp_path / f"f{i}.md").write_text(f"@f{i + 1}.md")
    scan = _load(tmp_path)
    assert max(f.depth for f in scan.files) == 4
    assert scan.too_deep == [(tmp_path / "f4.md", "f5.md")]


def test_locations_load_in_claude_codes_order(tmp_path: Path):
    home = tmp_path / "home"
    (home / ".claude/rules").mkdir(parents=True)
    (home / ".claude/CLAUDE.md").write_text("user")
    (home / ".claude/rules/u.md").write_text("user rule")
    managed = tmp_path / "managed"
    (managed / ".claude/rules").mkdir(parents=True)
    (managed / "CLAUDE.md").write_text("policy")
    (managed / ".claude/rules/m.md").write_text("policy rule")
    top = tmp_path / "top"
    ws = top / "ws"
    (ws / ".claude/rules/sub").mkdir(parents=True)
    (top / "CLAUDE.md").write_text("ancestor")
    (top / "CLAUDE.local.md").write_text("ancestor local")
    (ws / "CLAUDE.md").write_text("project")
    (ws / ".claude/CLAUDE.md").write_text("x" * 40_001)
    (ws / "CLAUDE.local.md").write_text("local")
    (ws / ".claude/rules/sub/r.md").write_text("rule")
    (ws / ".claude/rules/a.md").write_text("rule a")
    (ws / ".claude/rules/later.md").write_text("---\npaths: src/**/*.py\n---\nonly for python")
    scan = _load(ws, home, managed_dir=managed, profile=P112)  # 2.1.112 lists folders sorted
    got = [(f.kind, str(f.path.relative_to(tmp_path))) for f in scan.files]
    assert got == [
        ("Managed", "managed/CLAUDE.md"), ("Managed", "managed/.claude/rules/m.md"),
        ("User", "home/.claude/CLAUDE.md"), ("User", "home/.claude/rules/u.md"),
        ("Project", "top/CLAUDE.md"), ("Local", "top/CLAUDE.local.md"),
        ("Project", "top/ws/CLAUDE.md"), ("Project", "top/ws/.claude/CLAUDE.md"),
        ("Project", "top/ws/.claude/rules/a.md"), ("Project", "top/ws/.claude/rules/sub/r.md"),
        ("Local", "top/ws/CLAUDE.local.md"),
    ]
    assert scan.conditional == [(ws / ".claude/rules/later.md", ["src/**/*.py"])]
    assert any("40,001 characters" in w for w in scan.warnings())


def test_frontmatter_and_comment_blocks_are_not_sent(tmp_path: Path):
    (tmp_path / "CLAUDE.md").write_text("---\ntitle: x\n---\nkeep\n\n<!-- drop @gone.md -->\n\nkeep too <!-- inline stays -->\n")
    (tmp_path / "gone.md").write_text("never")
    scan = _load(tmp_path)
    assert [f.content for f in scan.files] == ["keep\n\nkeep too <!-- inline stays -->\n"]
    text = memory.memory_text(scan)
    assert text == (f"{memory.PREAMBLE}\n\nContents of {tmp_path}/CLAUDE.md (project instructions, "
                    "checked into the codebase):\n\nkeep\n\nkeep too <!-- inline stays -->")


def test_a_file_empty_after_stripping_is_not_sent_nor_followed(tmp_path: Path):
    (tmp_path / "CLAUDE.md").write_text("<!-- @a.md -->\n")
    (tmp_path / "CLAUDE.local.md").write_text("   \n")
    (tmp_path / "a.md").write_text("A")
    scan = _load(tmp_path)
    assert scan.files == [] and memory.memory_text(scan) == "" and memory.budget_items(scan) == []


def test_non_text_imports_are_skipped(tmp_path: Path):
    (tmp_path / "CLAUDE.md").write_text("@logo.png @notes.txt @Makefile")
    for name in ("logo.png", "notes.txt", "Makefile"):
        (tmp_path / name).write_text(name)
    scan = _load(tmp_path)
    assert [f.path.name for f in scan.files] == ["CLAUDE.md", "notes.txt", "Makefile"]
    assert scan.skipped == [(tmp_path / "logo.png", "non-text file; Claude Code skips it")]


def test_overrides_project_a_file_not_yet_written(tmp_path: Path):
    scan = memory.scan(tmp_path, None, {tmp_path / "CLAUDE.md": "planned"}, managed_dir=tmp_path / "m")
    assert [(f.path.name, f.content) for f in scan.files] == [("CLAUDE.md", "planned")]


def test_budget_items_are_the_preamble_plus_one_per_file_with_its_header(tmp_path: Path):
    (tmp_path / "CLAUDE.md").write_text("Root @a.md")
    (tmp_path / "a.md").write_text("Imported")
    scan = _load(tmp_path, profile=P112)
    items = memory.budget_items(scan)
    assert [(i.kind, i.label, i.scope) for i in items] == [
        ("memory", "Claude Code memory preamble", "fixed"),
        ("memory", "CLAUDE.md", "project"), ("memory", "@import from CLAUDE.md", "import")]
    header = f"Contents of {tmp_path}/a.md (project instructions, checked into the codebase):\n\n"
    assert items[2].tokens == tokens.count("\n\n" + header + "Imported")
    assert items[0].tokens == tokens.count("# claudeMd\n" + memory.PREAMBLE + "\n\n\n")
    assert scan.tokens == sum(f.tokens for f in scan.files) > 0


def test_managed_files_are_described_per_version(tmp_path: Path):
    managed = tmp_path / "managed"
    managed.mkdir()
    (managed / "CLAUDE.md").write_text("policy")
    ws = tmp_path / "ws"
    ws.mkdir()
    old = memory.memory_text(_load(ws, managed_dir=managed, profile=P112))
    new = memory.memory_text(_load(ws, managed_dir=managed, profile=memory.profile_for("2.1.332")))
    assert "(user's private global instructions for all projects)" in old
    assert "(organization-managed policy instructions)" in new


def test_profile_for_picks_the_newest_profile_not_newer_than_the_version():
    assert memory.profile_for("2.1.112").version == "2.1.112"
    assert memory.profile_for("2.1.200").version == "2.1.112"
    assert memory.profile_for("2.1.400").version == "2.1.332"
    assert memory.profile_for("1.0.0").version == "2.1.112"
    assert memory.profile_for(None).version == "2.1.332"


# ---------------------------------------------------------------- bounded reads (issue 9)


def _quick(fn):
    start = time.monotonic()
    result = fn()
    assert time.monotonic() - start < 1.0
    return result


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_import_or_root_file_is_flagged_without_hanging(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe.md")
    os.mkfifo(tmp_path / "CLAUDE.local.md")
    (tmp_path / "CLAUDE.md").write_text("@pipe.md")
    (tmp_path / ".claude/rules").mkdir(parents=True)
    os.mkfifo(tmp_path / ".claude/rules/r.md")
    scan = _quick(lambda: _load(tmp_path))
    assert [f.path.name for f in scan.files] == ["CLAUDE.md"]
    flagged = {p.name for p, _ in scan.unsafe}
    assert flagged == {"pipe.md", "CLAUDE.local.md"}  # Claude Code lists only regular rules files
    assert all("not a regular file" in why for _, why in scan.unsafe)


def test_a_link_to_a_device_is_flagged(tmp_path: Path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    (tmp_path / "zero.md").symlink_to("/dev/zero")
    (tmp_path / "CLAUDE.md").write_text("@zero.md")
    old = _quick(lambda: _load(tmp_path, profile=P112))
    assert [f.path.name for f in old.files] == ["CLAUDE.md"]
    assert [(p.name, why) for p, why in old.unsafe] == [("zero.md", "not a regular file; not read")]
    new = _quick(lambda: _load(tmp_path, profile=memory.profile_for("2.1.332")))
    assert [f.path.name for f in new.files] == ["CLAUDE.md"]
    assert [p.name for p, _ in new.skipped] == ["zero.md"]


def test_a_2_gb_sparse_import_is_flagged_without_reading_it(tmp_path: Path):
    big = tmp_path / "big.md"
    with open(big, "wb") as fh:
        fh.truncate(2 * 1024**3)
    (tmp_path / "CLAUDE.md").write_text("@big.md")
    for profile in memory.PROFILES.values():
        scan = _quick(lambda p=profile: _load(tmp_path, profile=p))
        assert [f.path.name for f in scan.files] == ["CLAUDE.md"]
        assert [p.name for p, _ in scan.unsafe] == ["big.md"]
        assert "limit" in scan.unsafe[0][1]


def test_the_newer_cap_is_claude_codes_4_mib_and_the_older_reads_more(tmp_path: Path):
    (tmp_path / "CLAUDE.md").write_text("@big.md")
    (tmp_path / "big.md").write_bytes(b"x" * (4 * 1024 * 1024 + 1))
    assert [f.path.name for f in _load(tmp_path, profile=memory.profile_for("2.1.332")).files] == ["CLAUDE.md"]
    assert [f.path.name for f in _load(tmp_path, profile=P112).files] == ["CLAUDE.md", "big.md"]


def test_yaml_aliases_in_frontmatter_are_refused_not_expanded():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\npaths: [*c, *c, *c]\n---\nbody\n"
    body, globs = _quick(lambda: memory.split_memory_frontmatter(bomb))
    assert body == "body\n" and globs == []


# ---------------------------------------------------------------- auto memory


def test_project_slug_matches_claude_codes_for_short_and_long_paths():
    assert memory.project_slug("/tmp/a_b/c") == "-tmp-a-b-c"
    long = "/tmp/" + "é-long" * 40 + "/x_y"
    # Expected value computed with Claude Code's own function (AP in 2.1.112's cli.js).
    assert memory.project_slug(long) == "-tmp-" + "--long" * 32 + "--l-25yuie"


def test_auto_memory_index_loads_last_cut_to_200_lines(tmp_path: Path):
    home, ws = tmp_path / "home", tmp_path / "ws"
    ws.mkdir()
    index = memory.auto_memory_path(ws, home / ".claude")
    index.parent.mkdir(parents=True)
    index.write_text("".join(f"- entry {i}\n" for i in range(250)) + "@not-followed.md\n")
    (index.parent / "not-followed.md").write_text("no")
    (ws / "CLAUDE.md").write_text("project")
    scan = _load(ws, home, auto_memory=True)
    assert [(f.kind, f.path) for f in scan.files] == [("Project", ws / "CLAUDE.md"), ("AutoMem", index)]
    content = scan.files[1].content
    assert content.count("- entry") == 200 and "- entry 199\n\n> WARNING: MEMORY.md is 251 lines (limit: 200)" in content
    assert "(user's auto-memory, persists across conversations)" in memory.memory_text(scan)
    assert [f.kind for f in _load(ws, home, auto_memory=False).files] == ["Project"]


def test_auto_memory_can_be_disabled_like_claude_code(tmp_path: Path, monkeypatch):
    home, ws = tmp_path / "home", tmp_path / "ws"
    ws.mkdir()
    index = memory.auto_memory_path(ws, home / ".claude")
    index.parent.mkdir(parents=True)
    index.write_text("remember this")
    assert [f.kind for f in _load(ws, home).files] == ["AutoMem"]
    monkeypatch.setenv("CLAUDE_CODE_DISABLE_AUTO_MEMORY", "1")
    assert _load(ws, home).files == []


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_newer_releases_never_read_process_files(tmp_path: Path):
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude/CLAUDE.md").write_text("@/proc/self/status")  # user memory may import anything
    new = _load(tmp_path, home, profile=memory.profile_for("2.1.332"))
    assert [f.path.name for f in new.files] == ["CLAUDE.md"]
    assert new.skipped == [(Path("/proc/self/status"), "a device or process file; Claude Code does not read it")]
    old = _load(tmp_path, home, profile=P112)
    assert [f.path.name for f in old.files] == ["CLAUDE.md", "status"]


def test_sent_tokens_count_headers_and_once_only_text_while_tokens_stay_the_files(tmp_path: Path):
    (tmp_path / "CLAUDE.md").write_text("<!-- note -->\nKeep me.\n")
    scan = _load(tmp_path, profile=P112)
    (f,) = scan.files
    assert f.tokens == tokens.count("<!-- note -->\nKeep me.\n")
    assert f.sent_tokens == tokens.count(f.header + "Keep me.")
    assert scan.sent_tokens == sum(i.tokens for i in memory.budget_items(scan)) > f.sent_tokens


def test_claude_md_excludes_apply_to_user_project_and_local_files_not_managed(tmp_path: Path):
    managed = tmp_path / "managed"
    managed.mkdir()
    (managed / "CLAUDE.md").write_text("policy")
    (tmp_path / "ws/pkg").mkdir(parents=True)
    (tmp_path / "ws/CLAUDE.md").write_text("@pkg/gen.md @pkg/keep.md")
    (tmp_path / "ws/pkg/gen.md").write_text("generated")
    (tmp_path / "ws/pkg/keep.md").write_text("kept")
    ws = tmp_path / "ws"
    scan = _load(ws, managed_dir=managed, excludes=["**/gen.md", "**/managed/**"])
    assert [f.path.name for f in scan.files] == ["CLAUDE.md", "CLAUDE.md", "keep.md"]
    assert scan.excluded == [ws / "pkg/gen.md"]
    (ws / ".claude").mkdir()
    (ws / ".claude/settings.json").write_text('{"claudeMdExcludes": ["**/keep.md"]}')
    assert [f.path.name for f in _load(ws, managed_dir=managed).files] == ["CLAUDE.md", "CLAUDE.md", "gen.md"]


def test_list_items_are_also_scanned_as_raw_text_like_claude_codes_lexer():
    # Found by a differential run against 2.1.112: inside a list item a comment or a tag does
    # not hide an import, while in a paragraph it does.
    text = "- one <!-- @a.md -->\n- two <b>@b.md</b>\n\npara <!-- @c.md --> end\n"
    assert memory.import_refs(text) == ["a.md", "b.md"]


def test_a_rules_tree_deeper_than_the_recursion_limit_is_walked(tmp_path: Path):
    folder = tmp_path / ".claude/rules"
    folder.mkdir(parents=True)
    for _ in range(1_100):  # one level at a time: pathlib's own mkdir(parents=True) recurses
        folder = folder / "d"
        folder.mkdir()
    (folder / "deep.md").write_text("deep rule")
    try:
        scan = _load(tmp_path)
        assert [f.content for f in scan.files] == ["deep rule"]
    finally:  # bottom-up, so that pytest's own (recursive) clean-up never meets this tree
        (folder / "deep.md").unlink()
        while folder.name == "d":
            folder.rmdir()
            folder = folder.parent


def test_2_1_112_loses_reference_definitions_when_a_comment_appears():
    text = "See [g][g].\n\n[g]: https://x.test\n\n<!-- c -->\nEnd.\n"
    old, _, _ = memory.sent_content(text, P112)
    new, _, _ = memory.sent_content(text, memory.profile_for("2.1.332"))
    assert old == "See [g][g].\n\nEnd.\n"
    assert new == "See [g][g].\n\n[g]: https://x.test\n\nEnd.\n"
    assert memory.sent_content(text.replace("<!-- c -->\n", ""), P112)[0] == text.replace("<!-- c -->\n", "")


def test_emphasis_cannot_close_inside_tags_links_or_code_spans():
    # Claude Code's lexer looks for closing delimiters in text where <…>, links and code
    # spans are blanked out (found by a differential run against 2.1.112).
    assert memory.import_refs("\\<!-- *@a.md* -->\n") == []
    assert memory.import_refs("> quote\n<**@b.md**>\n") == []
    assert memory.import_refs("*@c.md* and [x](y) _@d.md_\n") == ["c.md", "d.md"]
