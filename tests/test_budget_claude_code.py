"""The budget counts what Claude Code will load, checked against the requests it really sent.

Captures: tests/data/claude_code/<version>/ (scripts/claude_code/ground_truth.py) and
tests/data/claude_code/startup/ (scripts/claude_code/startup_shapes.py). No Node, no network.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ctxtui.core import startup, tokens, verdicts
from ctxtui.core.config import load_settings
from ctxtui.core.errors import CapError
from ctxtui.core.workspace import Workspace

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "claude_code"
WSHOBSON = HERE.parent.parent.parent / "shared" / "corpora" / "wshobson__agents"
if not WSHOBSON.is_dir():
    WSHOBSON = Path("/work/shared/corpora/wshobson__agents")
sys.path.insert(0, str(HERE.parent / "scripts" / "claude_code"))

from export_startup import request_total  # noqa: E402

VERSIONS = ["2.1.112", "2.1.332"]
GIT = shutil.which("git")
DUPLICATE_KEY = "---\nname: twice\ndescription: first\ndescription: the one Bun keeps\n---\nbody\n"


@pytest.fixture(autouse=True)
def no_claude_config_dir(monkeypatch):
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)


def settings_for(proj: Path, lib: Path, home: Path, **kw):
    return load_settings(workspace=proj, library_dirs=[lib], claude_home=home / ".claude",
                         cache_path=None, **kw)


def git_init(folder: Path) -> None:
    if GIT is None:
        pytest.skip("needs git")
    subprocess.run([GIT, "init", "-q", str(folder)], check=True)


def wshobson_ten(root: Path) -> tuple[Path, Path, Path, list[str]]:
    """The project Claude Code was run in: the first 10 wshobson agent files (by file name)
    in .claude/agents and an empty CLAUDE.md; the same files form the library."""
    rec = json.loads((DATA / "2.1.112" / "wshobson.json").read_text(encoding="utf-8"))
    if not WSHOBSON.is_dir():
        pytest.skip("needs the shared wshobson corpus")
    proj, lib, home = root / "repo", root / "lib", root / "home"
    for d in (proj / ".claude" / "agents", lib, home):
        d.mkdir(parents=True)
    for name in rec["ten_names"]:
        data = (WSHOBSON / rec["files"][name]).read_bytes()
        (proj / ".claude" / "agents" / name).write_bytes(data)
        (lib / name).write_bytes(data)
    (proj / "CLAUDE.md").write_text("")
    git_init(proj)
    return proj, lib, home, rec["ten_names"]


def custom_lines(version: str, block: str) -> list[str]:
    """The captured listing's lines without the built-in agents' lines."""
    builtin = json.loads((DATA / version / "builtin.json").read_text(encoding="utf-8"))
    known = {ln for lines in builtin.values() if isinstance(lines, list) for ln in lines
             if isinstance(ln, str)}
    lines = [ln for ln in block.strip("\n").split("\n- ")]
    lines = [ln if ln.startswith("- ") else "- " + ln for ln in lines]
    return [ln for ln in lines if ln not in known and not ln.startswith(
        ("- general-purpose:", "- statusline-setup:", "- Explore:", "- Plan:",
         "- output-style-setup:", "- claude-code-guide:"))]


@pytest.mark.parametrize("version", VERSIONS)
def test_wshobson_agent_items_are_claude_codes_listing_line_for_line(tmp_path, version):
    proj, lib, home, _ = wshobson_ten(tmp_path)
    ws = Workspace(settings_for(proj, lib, home, claude_version=version))
    b = ws.budget()
    captured = json.loads((DATA / version / "wshobson.json").read_text(encoding="utf-8"))
    want = custom_lines(version, captured["ten_with_empty_claude_md_interactive"]["block"])
    agents = [i for i in b.whole["items"] if i["kind"] == "agent"]
    lines = {v.name: v.line for v, _ in ws._listed_agents([h.persona for h in ws.hot])}
    assert [lines[a["label"]] for a in agents] == want
    assert [i.label for i in b.items if i.kind == "agent"] == [a["label"] for a in agents]
    assert sum(a["tokens"] for a in agents) == sum(tokens.count("\n" + ln) for ln in want)
    # the managed part is exactly these lines (the empty CLAUDE.md holds no block)
    assert b.startup_tokens == sum(a["tokens"] for a in agents)
    # built-in agent lines and the fixed tool text are items of their own kinds
    kinds = {i["kind"] for i in b.whole["items"]}
    assert {"builtin-agents", "builtin-tools", "system-prompt"} <= kinds


@pytest.mark.parametrize("version", VERSIONS)
def test_wshobson_whole_startup_is_within_3pct_of_the_captured_request(tmp_path, version):
    proj, lib, home, _ = wshobson_ten(tmp_path)
    b = Workspace(settings_for(proj, lib, home, claude_version=version)).budget()
    body = json.loads((DATA / version / "request_interactive_wshobson10_claude_md.json")
                      .read_text(encoding="utf-8"))
    measured = request_total(body)
    assert abs(b.total_tokens - measured) <= 0.03 * measured, (b.total_tokens, measured)
    data = b.to_json()
    assert data["startup_tokens"]["total"] == b.total_tokens
    assert data["startup_tokens"]["managed"] == b.startup_tokens < b.total_tokens
    assert data["startup_context"]["claude_code_version"] == version


SHAPES = json.loads((DATA / "startup" / "shapes.json").read_text(encoding="utf-8"))["shapes"]


@pytest.mark.parametrize("version", VERSIONS)
def test_agents_memory_import_and_rule_equal_what_the_request_carries(tmp_path, version):
    proj, home, lib = tmp_path / "repo", tmp_path / "home", tmp_path / "lib"
    for d in (proj, home, lib):
        d.mkdir()
    for rel, text in SHAPES["memory"].items():
        path = proj / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git_init(proj)
    ws = Workspace(settings_for(proj, lib, home, claude_version=version))
    b = ws.budget()
    acc = startup.account(proj, home, version=version, managed_dir=tmp_path / "etc", env={})
    mine = [(i["kind"], i["label"], i["tokens"]) for i in b.whole["items"]
            if i["kind"] in ("agent", "memory")]
    theirs = [(i.kind, i.label, i.tokens) for i in acc.items if i.kind in ("agent", "memory")]
    assert mine == theirs
    body = json.loads((DATA / "startup" / version / "interactive_memory.json")
                      .read_text(encoding="utf-8"))["body"]
    sent = re.findall(r"Contents of (\S+) \(", json.dumps(body))
    files = [i["source"] for i in b.whole["items"] if i["kind"] == "memory" and i["source"]]
    assert len(files) == len(sent) == 3  # CLAUDE.md, its import and the rule
    for path, header in zip(files, sent, strict=True):
        assert header.endswith("/repo/" + Path(path).relative_to(proj.resolve()).as_posix())
    measured = request_total(body)
    assert abs(b.total_tokens - measured) <= 0.03 * measured, (b.total_tokens, measured)


@pytest.mark.parametrize("version", VERSIONS)
def test_user_claude_md_and_rules_are_items_with_claude_codes_headers(tmp_path, version,
                                                                      monkeypatch):
    case = DATA / "memory_cases" / "memory_user"
    meta = json.loads((case / "case.json").read_text(encoding="utf-8"))
    root = tmp_path / "memory_user"
    shutil.copytree(case / "tree", root)
    proj, home = root / meta["cwd"], root / meta["home"]
    proj.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    lib = tmp_path / "lib"
    lib.mkdir()
    ws = Workspace(settings_for(proj, lib, home, claude_version=version))
    items = [i for i in ws.budget().items if i.kind == "memory"]
    expected = json.loads((DATA / version / "memory_user.json").read_text(encoding="utf-8"))
    want = (expected["claude_md"] or "").replace("{ROOT}", str(root))
    headers = sorted(ln[len("Contents of "):].split(" (")[0] for ln in want.split("\n")
                     if ln.startswith("Contents of "))
    assert sorted(i.path for i in items[1:]) == headers
    assert items[0].scope == "fixed"  # the text Claude Code adds once
    prefix, suffix = ws.memory.profile.wrapper
    whole = tokens.count(prefix + want + suffix)
    assert abs(sum(i.tokens for i in items) - whole) <= len(items)


def two_personas(tmp_path: Path, cap: int, version: str):
    proj, lib, home = tmp_path / "proj", tmp_path / "lib", tmp_path / "home"
    for d in (proj, lib, home):
        d.mkdir()
    (lib / "twice.md").write_text(DUPLICATE_KEY)
    (lib / "fine.md").write_text("---\nname: fine\ndescription: Loads everywhere.\n---\nbody\n")
    (proj / "hybrid-config.json").write_text(json.dumps({
        "lazy_loading": {"max_active_personas": cap, "pinned": []}}))
    return Workspace(settings_for(proj, lib, home, claude_version=version))


def test_a_persona_claude_code_skips_counts_zero_and_takes_no_cap_slot(tmp_path):
    ws = two_personas(tmp_path, 1, "2.1.112")
    assert ws.library.get("twice").usable  # ctxtui's lenient reading recovers it
    verdict = ws.verdict(ws.library.get("twice"))
    assert not verdict.loaded and "unique" in verdict.reason
    ws.activate(["twice"])
    ws.activate(["fine"])  # the skipped file took no slot under a cap of 1
    assert sorted(ws.hot_names()) == ["fine", "twice"]
    assert [h.name for h in ws.visible_hot()] == ["fine"]
    skipped = ws.find_hot("twice")
    assert "skipped by Claude Code" in skipped.flags
    b = ws.budget()
    assert [i.label for i in b.items if i.kind == "agent"] == ["fine"]
    assert any("Claude Code skips this" in w and "twice.md" in w for w in b.warnings)
    # eager counts the library as Claude Code would list it: the skipped persona is 0
    assert b.eager_startup_tokens == verdicts.line_tokens(ws.verdict(ws.library.get("fine")))


def test_the_same_file_loads_under_a_version_that_accepts_duplicate_keys(tmp_path):
    ws = two_personas(tmp_path, 1, "2.1.332")
    verdict = ws.verdict(ws.library.get("twice"))
    assert verdict.loaded and verdict.line == "- twice: the one Bun keeps (Tools: All tools)"
    ws.activate(["twice"])
    with pytest.raises(CapError):
        ws.activate(["fine"])  # now it is listed, so it holds the only slot
    assert [i.label for i in ws.budget().items if i.kind == "agent"] == ["twice"]


def test_version_precedence_and_its_source(tmp_path):
    proj, lib, home = tmp_path / "proj", tmp_path / "lib", tmp_path / "home"
    for d in (proj, lib, home):
        d.mkdir()
    assert Workspace(settings_for(proj, lib, home)).claude_code.source == "newest profile"
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in str(proj))
    folder = home / ".claude" / "projects" / slug
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_text(json.dumps({"type": "user", "version": "2.1.150"}) + "\n")
    found = Workspace(settings_for(proj, lib, home)).claude_code
    assert (found.detected, found.version, found.source) == ("2.1.150", "2.1.146", "transcript")
    assert "rules of 2.1.146" in found.describe()
    (proj / "hybrid-config.json").write_text('{"claude_version": "2.1.200"}')
    assert Workspace(settings_for(proj, lib, home)).claude_code.source == "workspace"
    chosen = Workspace(settings_for(proj, lib, home, claude_version="2.1.112")).claude_code
    assert (chosen.version, chosen.source) == ("2.1.112", "option")
    assert chosen.to_json() == {"version": "2.1.112", "profile": "2.1.112", "source": "option"}


def run_cli(capsys, *args):
    from ctxtui.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_carries_the_verdict_the_version_and_the_split_totals(tmp_path, capsys):
    ws = two_personas(tmp_path, 3, "2.1.112")
    ws.activate(["twice", "fine"])
    common = ("-w", ws.settings.workspace, "-l", tmp_path / "lib", "--claude-version", "2.1.112")
    code, out, _ = run_cli(capsys, "list", "--json", *common)
    rows = {p["name"]: p for p in json.loads(out)["personas"]}
    assert code == 0 and rows["twice"]["status"] != "invalid"  # ctxtui's reading stays
    assert rows["twice"]["claude_code"]["loads"] is False
    assert "unique" in rows["twice"]["claude_code"]["reason"]
    assert "skipped by Claude Code" in rows["twice"]["flags"]
    assert rows["fine"]["claude_code"] == {
        "loads": True, "reason": None, "name": "fine", "description": "Loads everywhere.",
        "tools": None, "line": "- fine: Loads everywhere. (Tools: All tools)"}
    code, out, _ = run_cli(capsys, "status", "--json", *common)
    data = json.loads(out)
    assert data["claude_code"]["version"] == "2.1.112" and data["claude_code"]["source"] == "option"
    assert data["cap_used"] == 1 and sorted(data["hot"]) == ["fine", "twice"]
    items = data["startup_tokens"]["items"]
    assert data["startup_tokens"]["total"] == sum(i["tokens"] or 0 for i in items)
    assert [i["label"] for i in items if i["kind"] == "agent"] == ["fine"]
    assert data["startup_tokens"]["managed"] == sum(i["tokens"] for i in items if i["managed"])
    code, out, _ = run_cli(capsys, "index", "--json", *common)
    data = json.loads(out)
    assert data["claude_code"]["profile"] == "2.1.112"
    assert {p["name"]: p["claude_code"]["loads"] for p in data["personas"]} == {"twice": False, "fine": True}
    code, out, err = run_cli(capsys, "status", "-w", ws.settings.workspace, "--claude-version", "latest")
    assert code != 0 and err.count("\n") == 1 and "X.Y.Z" in err


def test_the_detail_pane_says_why_claude_code_skips_a_persona(tmp_path):
    from ctxtui.tui.model import build_model
    from ctxtui.tui.widgets.detail import describe

    ws = two_personas(tmp_path, 3, "2.1.112")
    model = build_model(ws)
    twice = model.personas["twice"]
    text = describe(twice, "body", model.verdicts["twice"])
    assert "**Claude Code skips this:** frontmatter is not valid YAML" in text
    assert "**startup** 0 " in text
    assert "skipped by Claude Code" in next(r for r in model.cold if r.name == "twice").flags
    assert "skips" not in describe(model.personas["fine"], "body", model.verdicts["fine"])


def test_an_empty_or_half_written_hot_file_keeps_its_cap_slot(tmp_path):
    """Claude Code skips an empty file too, but an editor's half-written save looks the same:
    it may be listed a moment later, so it keeps its slot and the cap holds."""
    ws = two_personas(tmp_path, 1, "2.1.112")
    ws.settings.agents_dir.mkdir(parents=True)
    (ws.settings.agents_dir / "being-saved.md").write_bytes(b"")
    ws.refresh()
    assert not ws.hot[0].listed and ws.hot[0].takes_slot
    with pytest.raises(CapError):
        ws.activate(["fine"])
    assert [i for i in ws.budget().items if i.kind == "agent"] == []  # and it costs nothing


def test_a_hot_file_rewritten_after_ctxtui_read_it_keeps_its_slot(tmp_path):
    """The verdict is taken from the bytes ctxtui parsed; a file saved in between is stale,
    and a stale file keeps its slot (it may load a moment later)."""
    ws = two_personas(tmp_path, 1, "2.1.112")
    ws.activate(["fine"])
    (ws.settings.agents_dir / "fine.md").write_text("")  # an editor truncates before writing
    hot = ws.find_hot("fine")
    v = verdicts.verdict_for(hot.persona, ws.claude_code.profile)
    assert verdicts.is_stale(v) and not v.loaded
    assert hot.persona.usable  # ctxtui's reading is of the bytes before the save
    hot.claude_code = v
    assert hot.takes_slot and [h.name for h in ws.visible_hot()] == ["fine"]


def test_a_move_reads_only_the_moved_file_for_its_verdict(tmp_path, monkeypatch):
    ws = two_personas(tmp_path, 3, "2.1.112")
    for n in range(30):
        (tmp_path / "lib" / f"p{n:02d}.md").write_text(f"---\nname: p{n:02d}\ndescription: d{n}\n---\nb\n")
    ws.refresh()
    ws.budget()  # every library file judged once
    read: list[str] = []
    real = verdicts.verdict_for
    monkeypatch.setattr(verdicts, "verdict_for", lambda p, *a, **k: read.append(p.path.name) or real(p, *a, **k))
    ws.activate(["p07"])
    ws.budget()
    assert read == ["p07.md"]  # its hot copy: a new path; the other 31 are remembered


def test_a_library_file_edited_since_gets_a_fresh_verdict_at_the_next_refresh(tmp_path):
    ws = two_personas(tmp_path, 3, "2.1.112")
    fine = ws.library.get("fine")
    assert "Loads everywhere" in ws.verdict(fine).line
    fine.path.write_text("---\nname: fine\ndescription: Says something else now.\n---\nbody\n")
    ws.refresh()
    assert "Says something else now" in ws.verdict(ws.library.get("fine")).line
