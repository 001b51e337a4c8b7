"""fix: frontmatter rewrites that every Claude Code version loads as meant, checked against
the real loader's captured listings, applied through the journalled write path."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import WSHOBSON, persona_text, snapshot_tree
from ctxtui.core import fix_op, journal, strategies
from ctxtui.core.claude_code import effective_agents, listing_line, profile_for, profiles
from ctxtui.core.config import load_settings
from ctxtui.core.errors import ConflictError
from ctxtui.core.fix import fix_bytes, fixed_name
from ctxtui.core.lint import lint_bytes, read_intent
from ctxtui.core.workspace import Workspace

DATA = Path(__file__).parent / "data"
MESSY = DATA / "messy_library"
CAPTURED = DATA / "claude_code" / "messy"
VERSIONS = sorted(p.stem for p in CAPTURED.glob("*.json"))


def messy() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(MESSY.glob("*.md"))}


def fixed() -> dict[str, bytes]:
    out = {}
    for name, data in messy().items():
        r = fix_bytes(data, name)
        out[name] = r.data if r.data is not None else data
    return out


def test_the_messy_library_is_a_real_mess():
    files = messy()
    assert len(files) >= 30
    text = b"".join(files.values())
    for marker in (b"<example>", b"user:", b"assistant:", b"Context:", b"\\n", b"\r\n", b"\xef\xbb\xbf"):
        assert marker in text


@pytest.mark.parametrize("name", sorted(messy()))
def test_fixed_files_load_as_meant_in_every_version_with_the_body_untouched(name):
    data = (MESSY / name).read_bytes()
    r = fix_bytes(data, name)
    intent = read_intent(data)
    if r.status == "unchanged":
        assert not lint_bytes(name, data).needs_fix
        return
    if r.status == "cannot":
        assert intent is None or not intent.name or not intent.description
        return
    new = r.data
    assert new is not None and new.endswith(data[intent.end:])  # body bytes untouched
    assert new[:intent.end] != data[:intent.end] or len(new) != len(data)
    for p in profiles():
        check = lint_bytes(name, new, (p,)).verdicts[p.version]
        assert check.loaded and check.frontmatter == "ok", (p.version, check.reason)
        assert check.name == fixed_name(intent.name)
        assert check.description == intent.description
        assert check.tools == intent.tools
    assert fix_bytes(new, name).status == "unchanged"  # idempotent


def test_crlf_frontmatter_stays_crlf():
    data = (MESSY / "crlf-examples.md").read_bytes()
    new = fix_bytes(data).data
    head = new[: new.index(b"\r\n---\r\n") + 7]
    assert b"\n" not in head.replace(b"\r\n", b"")
    assert head.startswith(b"---\r\nname: windows-helper\r\ndescription: |-\r\n")


def test_examples_become_a_block_and_dashes_are_escaped():
    new = fix_bytes((MESSY / "perf-tuner.md").read_bytes()).data.decode()
    assert new.startswith("---\nname: perf-tuner\ndescription: |-\n  Use this agent when")
    assert '\n  user: "I\'ve added' in new
    dashes = fix_bytes((MESSY / "dashes.md").read_bytes()).data.decode()
    assert dashes.split("\n---\n")[0].count("---") == 1  # only the opening fence


def test_rejected_names_are_renamed_and_said_so():
    r = fix_bytes((MESSY / "namespaced.md").read_bytes())
    assert r.name == "team-backend-reviewer" and "renamed" in r.notes[0]
    assert fixed_name("-x") == "x" and fixed_name("a\uff1ab") == "a-b" and len(fixed_name("n" * 300)) == 256


def test_files_without_a_name_or_description_are_not_guessed():
    assert fix_bytes((MESSY / "nameless-helper.md").read_bytes()).status == "cannot"
    assert fix_bytes((MESSY / "no-description.md").read_bytes()).status == "cannot"
    big = persona_text("big", "x").encode() + b"y" * (1024 * 1024 + 1)
    assert "1 MiB" in fix_bytes(big).reason


# --- against the real Claude Code -----------------------------------------------------------


def _capture(version: str) -> dict:
    return json.loads((CAPTURED / f"{version}.json").read_text(encoding="utf-8"))


def _listed_names(block: str, candidates: set[str]) -> set[str]:
    return {m for m in re.findall(r"^- (.+?): ", block, re.M) if m in candidates}


def _model_listing(tmp_path: Path, files: dict[str, bytes], version: str) -> list[str]:
    root = tmp_path / f"p-{version}-{len(list(tmp_path.iterdir()))}"
    agents = root / ".claude" / "agents"
    agents.mkdir(parents=True)
    (root / ".git").mkdir()
    for name, data in files.items():
        (agents / name).write_bytes(data)
    s = effective_agents(root, profile_for(version), home=tmp_path / "home")
    options = [s] + [s.choose(n, p) for n, paths in s.undetermined.items() for p in paths]
    return [o.listing(builtins=False) for o in options]


@pytest.mark.parametrize("version", VERSIONS)
def test_captured_runs_used_the_bytes_fix_writes_today(version):
    info = _capture(version)["fixed"]
    for name, data in fixed().items():
        assert info[name]["sha256"] == hashlib.sha256(data).hexdigest(), name


@pytest.mark.parametrize("version", VERSIONS)
def test_model_listing_equals_claude_codes_before_and_after_fix(tmp_path, version):
    cap = _capture(version)
    assert cap["before"]["custom"] in _model_listing(tmp_path, messy(), version)
    assert cap["after"]["custom"] in _model_listing(tmp_path, fixed(), version)


@pytest.mark.parametrize("version", VERSIONS)
def test_after_fix_claude_code_loads_every_persona_with_a_name_and_description(version):
    block = _capture(version)["after"]["custom"]
    meant = {}
    for name, data in messy().items():
        intent = lint_bytes(name, data).intent
        if intent and intent.name and intent.description:
            meant[name] = intent
    assert len(meant) == 34
    names = {fixed_name(i.name) for i in meant.values()}
    assert _listed_names(block, names) == names  # 33 names: two files share code-reviewer
    before = _listed_names(_capture(version)["before"]["custom"], names | {"-scratch-agent"})
    assert len(before) < 20
    lines = {name: listing_line(fixed_name(i.name), i.description, i.tools, i.disallowed_tools)
             for name, i in meant.items()}
    # two files name code-reviewer: which one 2.1.112 lists depends on ripgrep's order
    twins = [lines.pop("code-reviewer.md"), lines.pop("code-reviewer-old.md")]
    assert sum(t in block for t in twins) == 1
    for name, line in lines.items():
        assert line in block, name  # with the description as written


@pytest.mark.skipif(not WSHOBSON.is_dir(), reason="wshobson corpus not available")
def test_fix_changes_nothing_in_the_wshobson_library():
    for f in sorted(WSHOBSON.glob("plugins/*/agents/*.md")):
        r = fix_bytes(f.read_bytes(), str(f))
        assert r.status == "unchanged" and r.data is None, f


# --- through the write path ------------------------------------------------------------------


@pytest.fixture
def messy_ws(tmp_path: Path) -> Workspace:
    lib = tmp_path / "outside-lib"
    shutil.copytree(MESSY, lib)
    project = tmp_path / "project"
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    for name in ("code-reviewer.md", "db-migrator.md", "good-plain.md", "crlf-examples.md"):
        shutil.copy(lib / name, agents / name)
    cold = project / ".claude" / "ctxtui" / "cold"
    cold.mkdir(parents=True)
    shutil.copy(lib / "api-architect.md", cold / "api-architect.md")
    return Workspace(load_settings(workspace=project, library_dirs=[lib]))


def _user_files(ws: Workspace) -> dict[str, bytes]:
    s = ws.settings
    out = snapshot_tree(s.agents_dir, s.cold_store, *s.libraries[1:])
    return out


def test_fix_all_then_rollback_restores_every_byte(messy_ws):
    ws = messy_ws
    before = _user_files(ws)
    lib = ws.settings.libraries[1]
    report = fix_op.apply_fixes(ws, None)
    assert report.entry is not None and report.entry.kind == "fix"
    where = {i.where for i in report.written}
    assert where == {"hot", "cold", "library"}
    after = _user_files(ws)
    assert {k: v for k, v in after.items() if k.startswith(str(lib))} == \
        {k: v for k, v in before.items() if k.startswith(str(lib))}  # outside: never written
    copies = [i.dest for i in report.written if i.where == "library"]
    assert all(d.parent == ws.settings.cold_store.absolute() for d in copies)
    hot = ws.settings.agents_dir / "db-migrator.md"
    assert b"description: |-" in hot.read_bytes()
    strategies.rollback(ws)
    assert _user_files(ws) == before  # originals back, copies gone


def test_fix_by_name_fixes_only_that_persona(messy_ws):
    ws = messy_ws
    before = _user_files(ws)
    report = fix_op.apply_fixes(ws, ["db-migrator"])
    changed = {k for k, v in _user_files(ws).items() if before.get(k) != v}
    assert {Path(k).name for k in changed} == {"db-migrator.md"}
    assert {i.where for i in report.written} == {"hot", "library"}


def test_dry_run_writes_nothing(messy_ws):
    before = _user_files(messy_ws)
    report = fix_op.apply_fixes(messy_ws, None, dry_run=True)
    assert report.written and report.entry is None
    assert _user_files(messy_ws) == before
    assert not (messy_ws.state_dir / "history").exists()


def test_an_edit_after_the_preview_is_what_gets_fixed(messy_ws):
    ws = messy_ws
    hot = ws.settings.agents_dir / "db-migrator.md"
    fix_op.apply_fixes(ws, ["db-migrator"], dry_run=True)
    edited = hot.read_bytes() + b"\nA line the user added in an editor.\n"
    hot.write_bytes(edited)
    fix_op.apply_fixes(ws, ["db-migrator"])
    assert hot.read_bytes().endswith(b"A line the user added in an editor.\n")


def test_an_edit_during_the_commit_is_never_overwritten(messy_ws):
    ws = messy_ws
    hot = ws.settings.agents_dir / "db-migrator.md"
    before = _user_files(ws)
    editor = b"---\nname: db-migrator\ndescription: rewritten by hand\n---\nmine\n"

    def hook(point: str) -> None:
        if point == "checked":
            hot.write_bytes(editor)

    journal.set_fault_hook(hook)
    try:
        with pytest.raises(ConflictError):
            fix_op.apply_fixes(ws, None)
    finally:
        journal.set_fault_hook(None)
    assert hot.read_bytes() == editor
    after = _user_files(ws)
    assert {k for k in after if after[k] != before.get(k)} == {str(hot)}
    assert not list((ws.state_dir / "history" / "entries").glob("*.json")) \
        if (ws.state_dir / "history" / "entries").exists() else True


def test_a_copy_never_replaces_a_different_cold_store_file(messy_ws):
    ws = messy_ws
    cold = ws.settings.cold_store / "perf-tuner.md"
    cold.write_bytes(b"my own notes\n")
    report = fix_op.apply_fixes(ws, ["perf-tuner"])
    assert cold.read_bytes() == b"my own notes\n"
    lib_item = next(i for i in report.items if i.where == "library")
    assert lib_item.result.status == "cannot" and "other content" in lib_item.result.reason
    assert report.entry is None


def test_hot_state_record_follows_the_fixed_bytes(messy_ws):
    ws = messy_ws
    state = {"hot": {"db-migrator.md": {"name": "db-migrator", "source": "x",
                                        "sha256": journal.sha256_bytes(
                                            (ws.settings.agents_dir / "db-migrator.md").read_bytes())}}}
    ws.state_dir.mkdir(parents=True, exist_ok=True)
    (ws.state_dir / "state.json").write_bytes(Workspace.state_bytes(state))
    fix_op.apply_fixes(ws, ["db-migrator"])
    rec = ws.state()["hot"]["db-migrator.md"]
    assert rec["sha256"] == journal.sha256_bytes((ws.settings.agents_dir / "db-migrator.md").read_bytes())


def test_unknown_name_is_refused(messy_ws):
    with pytest.raises(fix_op.FixError):
        fix_op.apply_fixes(messy_ws, ["no-such-agent"])


def test_cli_fix_needs_names_or_all(messy_ws, capsys):
    from test_lint import run_cli

    ws = str(messy_ws.settings.workspace)
    assert run_cli(["fix", "-w", ws]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert run_cli(["fix", "-w", ws, "-l", str(messy_ws.settings.libraries[1]), "--all", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["entry"] and sum(i["status"] == "fixed" for i in out["items"]) >= 20


_PIECES = ["---", "  ---", "name: x", "name: a:b", "name: -d", "description: d", "description: |",
           "  indented", "\tTab", 'user: "hi"', "Context: c", "<example>", "</example>",
           "tools: [A, B]", "tools:", "  - Read", "tools: *", "disallowedTools: Bash", "name:",
           'description: "q"q"', "description: 'it's'", "&a x", "*a", "key: {a: b}",
           "description: a --- b", "# comment", "", "\ufeff", "description: \\n x", "name: n\x00",
           "description: \r", "model: 1:20", "description: yes", "- item", "description: \u2028x"]


def test_random_frontmatter_never_crashes_and_a_fix_always_loads_as_meant():
    import random

    from ctxtui.core.claude_code import load_agent

    rng = random.Random(11)
    fixed_count = 0
    for _ in range(400):
        lines = rng.choices(_PIECES, k=rng.randint(1, 8))
        if rng.random() < 0.8:
            lines = ["---", *lines, "---", "body ---\r\n"]
        data = ("\r\n" if rng.random() < 0.2 else "\n").join(lines).encode()
        r = fix_bytes(data)
        if r.status != "fixed":
            continue
        fixed_count += 1
        assert r.data.endswith(data[r.lint.intent.end:])
        for p in profiles():
            v = load_agent("x.md", r.data, p)
            assert v.loaded and v.name == r.name and v.description == r.description, (data, p.version)
    assert fixed_count > 20


def test_a_linked_hot_file_is_never_written_through(messy_ws, tmp_path):
    ws = messy_ws
    target = tmp_path / "elsewhere.md"
    target.write_bytes((MESSY / "perf-tuner.md").read_bytes())
    (ws.settings.agents_dir / "linked.md").symlink_to(target)
    report = fix_op.apply_fixes(ws, ["perf-tuner"])
    linked = next(i for i in report.items if i.source.name == "linked.md")
    assert linked.result.status == "cannot" and "symlink" in linked.result.reason
    assert target.read_bytes() == (MESSY / "perf-tuner.md").read_bytes()
    assert (ws.settings.agents_dir / "linked.md").is_symlink()
