"""CLAUDE.md hierarchy and @imports."""

from __future__ import annotations

from pathlib import Path

from ctxtui.core import memory


def test_import_refs_skip_code_spans_fences_and_emails():
    text = "See @docs/a.md and `@not/this.md`.\n```\n@fenced.md\n```\nmail me@example.com\n@~/x.md, @/abs/y.md."
    assert memory.import_refs(text) == ["docs/a.md", "~/x.md", "/abs/y.md"]


def test_tilde_fence_and_longer_fences(tmp_path):
    text = "~~~\n@a.md\n~~~\n````\n```\n@b.md\n````\n@c.md"
    assert memory.import_refs(text) == ["c.md"]


def test_scan_follows_relative_absolute_and_home_imports(tmp_path: Path, monkeypatch):
    ws = tmp_path / "ws"
    (ws / "docs").mkdir(parents=True)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    (home / "h.md").write_text("home notes")
    abs_file = tmp_path / "abs.md"
    abs_file.write_text("absolute")
    (ws / "docs/a.md").write_text("A imports @b.md")
    (ws / "docs/b.md").write_text("B")
    (ws / "CLAUDE.md").write_text(f"root @docs/a.md @~/h.md @{abs_file} @missing/file.md @someone")
    scan = memory.scan(ws, None)
    names = [f.path.name for f in scan.files]
    assert names == ["CLAUDE.md", "a.md", "b.md", "h.md", "abs.md"]
    assert [f.depth for f in scan.files] == [0, 1, 2, 1, 1]
    assert scan.missing == [(ws / "CLAUDE.md", "missing/file.md")]


def test_cycles_are_loaded_once_and_reported(tmp_path):
    (tmp_path / "CLAUDE.md").write_text("@a.md")
    (tmp_path / "a.md").write_text("@CLAUDE.md")
    scan = memory.scan(tmp_path, None)
    assert [f.path.name for f in scan.files] == ["CLAUDE.md", "a.md"]
    assert scan.cycles and "loop" in scan.warnings()[0]


def test_imports_stop_after_five_hops(tmp_path):
    (tmp_path / "CLAUDE.md").write_text("@f1.md")
    for i in range(1, 8):
        (tmp_path / f"f{i}.md").write_text(f"@f{i + 1}.md")
    scan = memory.scan(tmp_path, None)
    assert max(f.depth for f in scan.files) == 5
    assert scan.too_deep == [(tmp_path / "f5.md", "f6.md")]


def test_all_memory_locations_and_size_warning(tmp_path):
    home = tmp_path / "home"
    (home).mkdir()
    (home / "CLAUDE.md").write_text("user")
    ws = tmp_path / "ws"
    (ws / ".claude/rules/sub").mkdir(parents=True)
    (ws / ".claude/CLAUDE.md").write_text("x" * 40_001)
    (ws / "CLAUDE.local.md").write_text("local")
    (ws / ".claude/rules/sub/r.md").write_text("rule")
    scan = memory.scan(ws, home)
    assert [f.scope for f in scan.files] == ["project", "local", "rules", "user"]
    assert any("40,001 characters" in w for w in scan.warnings())
