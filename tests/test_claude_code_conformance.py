"""ctxtui's model of Claude Code agrees with Claude Code's own loader, version by version.

The expected outputs are the requests the real CLI sent (``scripts/claude_code/ground_truth.py``
ran it offline over these corpora); the data is committed, so no Node, binary or network here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctxtui.core.claude_code import effective_agents, profile_for

DATA = Path(__file__).parent / "data" / "claude_code"
EDGE = DATA / "agents_edge"
WSHOBSON = Path(__file__).parent.parent.parent.parent / "shared" / "corpora" / "wshobson__agents"
if not WSHOBSON.is_dir():
    WSHOBSON = Path("/work/shared/corpora/wshobson__agents")
VERSIONS = sorted(p.name for p in DATA.iterdir() if (p / "agents_edge.json").is_file())


def _load(version: str, name: str) -> dict:
    return json.loads((DATA / version / name).read_text(encoding="utf-8"))


def materialize_generated(dest: Path) -> dict[str, bytes]:
    """The corpus files too big to commit, rebuilt byte for byte from generated.json."""
    spec = json.loads((DATA / "generated.json").read_text(encoding="utf-8"))
    out = {}
    for rel, item in spec.items():
        head = item["head"].encode()
        fill = (item["fill_line"] + "\n").encode()
        out[rel] = (head + fill * ((item["size"] - len(head)) // len(fill) + 1))[: item["size"]]
    return out


def edge_sources() -> dict[str, bytes]:
    files = {p.relative_to(EDGE).as_posix(): p.read_bytes()
             for p in EDGE.rglob("*") if p.is_file()}
    files.update(materialize_generated(EDGE))
    return files


def build(root: Path, files: dict[str, bytes], git: str | None = "repo") -> None:
    (root / "home").mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if git is not None:
        (root / git / ".git").mkdir(parents=True, exist_ok=True)


def listing_as_recorded(agent_set, block: str, entrypoint: str = "print") -> str:
    """The model's listing; where the model says the winner of a tie is not determined
    (2.1.112 reads a folder in ripgrep's order), the recorded winner must be one of the tied
    files, and is taken."""
    for name, paths in agent_set.undetermined.items():
        lines = {p: v.line for v in agent_set.verdicts for p in paths
                 if v.path == p and v.loaded}
        seen = [p for p, line in lines.items() if f"{line}\n" in f"{block}\n"]
        assert seen, f"Claude Code listed none of the tied files for {name}"
        agent_set = agent_set.choose(name, seen[0])
    return agent_set.listing(entrypoint)


def custom_and_builtins(agent_set, entrypoint: str = "print") -> tuple[str, list[str]]:
    custom = "\n".join(v.line for v in agent_set.listed)
    names = {v.name for v in agent_set.listed}
    builtins = sorted(n for n in agent_set.profile.builtin_names(entrypoint) if n not in names)
    return custom, builtins


def test_every_captured_version_has_its_own_profile():
    assert VERSIONS, "no ground truth committed"
    for version in VERSIONS:
        assert profile_for(version).version == version


@pytest.mark.parametrize("version", VERSIONS)
def test_edge_corpus_file_by_file_matches_claude_code(version, tmp_path):
    """Each corpus file alone in .claude/agents: listed or not, and its exact listing text."""
    expected = _load(version, "agents_edge.json")["per_file"]
    profile = profile_for(version)
    sources = edge_sources()
    assert set(expected) == set(sources)
    mismatches = []
    for i, (rel, data) in enumerate(sorted(sources.items())):
        root = tmp_path / f"r{i}"
        build(root, {f"repo/.claude/agents/{rel}": data})
        got = effective_agents(root / "repo", profile, home=root / "home")
        custom, builtins = custom_and_builtins(got)
        want = expected[rel]
        if custom != want["custom"] or builtins != sorted(want["builtins_present"]):
            mismatches.append((rel, custom[:200], want["custom"][:200]))
    assert mismatches == [], f"{len(mismatches)}/{len(sources)} files disagree"


@pytest.mark.parametrize("version", VERSIONS)
def test_edge_corpus_at_once_lists_exactly_what_claude_code_lists(version, tmp_path):
    """All corpus files together: duplicates, shadowed built-ins, order, byte-exact block."""
    combined = _load(version, "agents_edge.json")["combined"]
    profile = profile_for(version)
    build(tmp_path, {f"repo/.claude/agents/{rel}": d for rel, d in edge_sources().items()})
    got = effective_agents(tmp_path / "repo", profile, home=tmp_path / "home")
    assert listing_as_recorded(got, combined["block"]) == combined["block"]


@pytest.mark.parametrize("version", VERSIONS)
def test_discovery_and_precedence_scenarios_match_claude_code(version, tmp_path):
    cases = _load(version, "scenarios.json")["cases"]
    profile = profile_for(version)
    for name, case in cases.items():
        root = tmp_path / name
        build(root, {k: v.encode() for k, v in case["files"].items()}, git=case["git"])
        got = effective_agents(root / case["cwd"], profile, home=root / "home",
                               find_git=case["git"] is not None)
        assert listing_as_recorded(got, case["block"]) == case["block"], name


@pytest.mark.skipif(not WSHOBSON.is_dir(), reason="shared wshobson corpus not present")
@pytest.mark.parametrize("version", VERSIONS)
def test_wshobson_library_listing_matches_claude_code(version, tmp_path):
    data = _load(version, "wshobson.json")
    profile = profile_for(version)
    files = {f"repo/.claude/agents/{name}": (WSHOBSON / rel).read_bytes()
             for name, rel in data["files"].items()}
    build(tmp_path / "all", files)
    got = effective_agents(tmp_path / "all" / "repo", profile, home=tmp_path / "all" / "home")
    assert got.listing("print") == data["all"]["block"]
    ten = {f"repo/.claude/agents/{n}": (WSHOBSON / data["files"][n]).read_bytes()
           for n in data["ten_names"]}
    ten["repo/CLAUDE.md"] = b""
    build(tmp_path / "ten", ten)
    got10 = effective_agents(tmp_path / "ten" / "repo", profile, home=tmp_path / "ten" / "home")
    assert got10.listing("print") == data["ten_with_empty_claude_md"]["block"]
    assert got10.listing("interactive") == data["ten_with_empty_claude_md_interactive"]["block"]
