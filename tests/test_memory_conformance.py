"""ctxtui's memory model against what Claude Code itself sent, per version.

Each case in tests/data/claude_code/memory_cases/ is a folder tree; the real CLI was run in it
offline (scripts/claude_code/capture_memory.py) and the memory text of its first request was
recorded in tests/data/claude_code/<version>/<case>.json. Here the same tree is rebuilt in a
temporary folder and ctxtui's model must produce the same text, byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ctxtui.core import memory, tokens

DATA = Path(__file__).parent / "data" / "claude_code"
CASES = DATA / "memory_cases"
RECORDS = sorted(DATA.glob("*/memory_*.json"))


def _sections(text: str) -> list[str]:
    return re.split(r"\n\n(?=Contents of )", text)


def _rules_order_free(text: str) -> str:
    """Sort each run of consecutive rules sections: the Bun-built releases list a rules folder
    in directory order, which differs between file systems (2.1.112 sorts by name)."""
    out: list[str] = []
    run: list[str] = []
    for section in _sections(text):
        if re.match(r"Contents of \S*/(\.claude/)?rules/", section) or "linked-rule" in section.split("\n")[0]:
            run.append(section)
            continue
        out += sorted(run) + [section]
        run = []
    return "\n\n".join(out + sorted(run))


def _build(case: str, tmp_path: Path) -> tuple[Path, dict]:
    meta = json.loads((CASES / case / "case.json").read_text(encoding="utf-8"))
    root = tmp_path / case
    shutil.copytree(CASES / case / "tree", root, symlinks=True)
    if meta.get("setup"):  # git repositories and worktrees, as the capture made them
        if shutil.which("git") is None:
            pytest.skip("needs git")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@t"}
        for argv in meta["setup"]:
            assert argv[0] == "git"
            subprocess.run(argv, cwd=root, env=env, check=True, capture_output=True)
    for path in sorted(root.rglob("{SLUG}"), reverse=True):  # auto memory of this project
        path.rename(path.with_name(memory.project_slug(root / meta["cwd"])))
    for path in root.rglob("*"):  # {ROOT} in a case file: an absolute import
        if path.is_file() and not path.is_symlink() and b"{ROOT}" in path.read_bytes():
            path.write_bytes(path.read_bytes().replace(b"{ROOT}", str(root).encode()))
    (root / meta["cwd"]).mkdir(parents=True, exist_ok=True)
    (root / meta["home"]).mkdir(parents=True, exist_ok=True)
    if meta.get("approve_external"):
        (root / meta["home"] / ".claude.json").write_text(json.dumps({"projects": {
            str(root / meta["cwd"]): {"hasClaudeMdExternalIncludesApproved": True}}}), encoding="utf-8")
    return root, meta


def _model(root: Path, meta: dict, version: str) -> memory.MemoryScan:
    home = root / meta["home"]
    return memory.load(root / meta["cwd"], home / ".claude", profile=memory.profile_for(version),
                       managed_dir=root / "managed", home=home, auto_memory=True)


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_memory_text_equals_what_claude_code_sent(record: Path, tmp_path: Path):
    expected = json.loads(record.read_text(encoding="utf-8"))
    version = record.parent.name
    root, meta = _build(expected["case"], tmp_path.resolve())
    got = memory.memory_text(_model(root, meta, version))
    want = (expected["claude_md"] or "").replace("{ROOT}", str(root))
    want = want.replace("{MANAGED}", str(root / "managed"))
    want = want.replace("/{SLUG}/", f"/{memory.project_slug(root / meta['cwd'])}/")
    if memory.profile_for(version).sorted_listing:
        assert got == want
    else:
        assert _rules_order_free(got) == _rules_order_free(want)


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_wrapper_matches_the_recorded_reminder(record: Path):
    expected = json.loads(record.read_text(encoding="utf-8"))
    prefix, suffix = memory.profile_for(record.parent.name).wrapper
    assert expected["before"].endswith(prefix)
    assert expected["after"].startswith(suffix)


@pytest.mark.parametrize("version", sorted({p.parent.name for p in RECORDS}))
def test_budget_items_cover_every_sent_file_plus_the_once_only_text(version: str, tmp_path: Path):
    expected = json.loads((DATA / version / "memory_rules.json").read_text(encoding="utf-8"))
    root, meta = _build("memory_rules", tmp_path.resolve())
    result = _model(root, meta, version)
    items = memory.budget_items(result)
    want = expected["claude_md"].replace("{ROOT}", str(root))
    headers = re.findall(r"^Contents of (\S+) \(", want, re.M)
    assert [i.path for i in items[1:]] == [str(f.path) for f in result.files]
    assert sorted(i.path for i in items[1:]) == sorted(headers)
    assert all(i.kind == "memory" for i in items) and items[0].scope == "fixed"
    prefix, suffix = memory.profile_for(version).wrapper
    whole = tokens.count(prefix + want + suffix)
    # Per-item counts differ from the whole text's count only where BPE merges across a join.
    assert abs(sum(i.tokens for i in items) - whole) <= len(items)
