"""Record the memory text the real Claude Code CLI sends, for each case of the memory corpus.

For every case folder in tests/data/claude_code/memory_cases/ (``case.json`` plus a ``tree/``),
the tree is copied to a fixed scratch root (``/tmp/ccmem/<case>``, so the recorded paths are
reproducible), the CLI runs ``-p hello`` in ``ROOT/<cwd>`` with ``HOME=ROOT/<home>`` through
capture.py (offline: a network namespace with only ``lo``, a stand-in Messages API on
127.0.0.1, a dummy key), and the memory part of the first request is written to
``tests/data/claude_code/<version>/<case>.json`` with ROOT replaced by ``{ROOT}``.

The memory part starts with Claude Code's preamble ("Codebase and user instructions are shown
below…") and ends where the next context section (``# currentDate``, 2.1.112) or the reminder
(``</system-reminder>``, newer versions) ends; ``wrapper`` records the text around it.
``null`` means the request carried no memory at all.

    python3 scripts/claude_code/capture_memory.py --claude "node /x/cli.js" --version 2.1.112
    python3 scripts/claude_code/capture_memory.py --claude /x/claude --version 2.1.332 [CASE…]

A case with a ``managed/`` folder runs in a private mount namespace where /etc is an overlay
holding that folder as /etc/claude-code (recorded as ``{MANAGED}``); the real /etc is never
written. Needs root (or user namespaces), capture.py and standin_api.py beside it (the shared
harness), ``unshare`` and Node (or the native binary). Nothing here runs in CI: the tests read the recorded JSON only.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CASES = REPO / "tests" / "data" / "claude_code" / "memory_cases"
sys.path.insert(0, str(HERE))

PREAMBLE = "Codebase and user instructions are shown below."
SCRATCH = Path("/tmp/ccmem")
#: Claude Code's managed policy folder on Linux. A case with a ``managed/`` folder is run in a
#: private mount namespace where /etc is an overlay holding that folder as /etc/claude-code,
#: so the machine's own /etc is never written.
MANAGED = "/etc/claude-code"


def memory_text(request: dict) -> str | None:
    """The memory text the request carries (without the reminder around it), or None."""
    found = memory_block(request)
    return None if found is None else found[1]


def memory_block(request: dict) -> tuple[str, str, str] | None:
    """(text before, memory text, what follows up to the end of its reminder) or None."""
    for message in request.get("messages", []):
        content = message.get("content")
        blocks = [content] if isinstance(content, str) else [
            b.get("text", "") for b in content or [] if isinstance(b, dict)]
        for text in blocks:
            start = text.find(PREAMBLE)
            if start < 0:
                continue
            rest = text[start:]
            # 2.1.112 sends memory as the "# claudeMd" section of the context reminder, followed
            # by "# currentDate"; newer versions send it as a reminder of its own.
            ends = [i for i in (rest.find(m) for m in ("\n# currentDate\n", "\n</system-reminder>")) if i >= 0]
            end = min(ends) if ends else len(rest)
            tail = rest[end:]
            tail = tail[: tail.find("\n", 1) + 1] if tail.startswith("\n# currentDate") else tail
            return text[:start], rest[:end], tail
    return None


def project_slug(folder: Path) -> str:
    """Claude Code's folder name for a project under ~/.claude/projects (short paths only)."""
    return re.sub(r"[^a-zA-Z0-9]", "-", str(folder))


def fill_root(tree: Path, root: Path, cwd: Path | None = None) -> None:
    """Replace ``{ROOT}`` in the case's files by the folder the case runs in (for absolute
    imports), and a folder named ``{SLUG}`` by the project's slug (for auto memory)."""
    if cwd is not None:
        for path in sorted(tree.rglob("{SLUG}"), reverse=True):
            path.rename(path.with_name(project_slug(cwd)))
    for path in tree.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if b"{ROOT}" in data:
                path.write_bytes(data.replace(b"{ROOT}", str(root).encode()))


def run_setup(meta: dict, root: Path) -> None:
    """Run the case's ``setup`` commands in ROOT (what a tree cannot hold: git repositories,
    worktrees). Each is an argv list; only ``git`` is allowed."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for argv in meta.get("setup", []):
        if argv[0] != "git":
            raise SystemExit(f"setup may only run git, not {argv[0]}")
        subprocess.run(argv, cwd=root, env=env, check=True, capture_output=True)


def run_case(claude: list[str], case_dir: Path, scratch: Path) -> dict:
    """Capture one case; returns the record to write."""
    from capture import capture  # the shared harness (scripts/claude_code/capture.py)

    meta = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
    root = scratch / case_dir.name
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(case_dir / "tree", root, symlinks=True)
    cwd, home = root / meta["cwd"], root / meta["home"]
    run_setup(meta, root)
    fill_root(root, root, cwd)
    cwd.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    if meta.get("approve_external"):
        (home / ".claude.json").write_text(json.dumps({"projects": {str(cwd): {
            "hasClaudeMdExternalIncludesApproved": True,
            "hasClaudeMdExternalIncludesWarningShown": True}}}), encoding="utf-8")
    out = scratch / f"{case_dir.name}.out"
    requests = capture(claude, project=cwd, home=home, out=out)
    found = memory_block(requests[0])
    before, text, after = found if found is not None else ("", None, "")
    if text is not None:
        text = text.replace(f"/{project_slug(cwd)}/", "/{SLUG}/")
        text = text.replace(str(root), "{ROOT}").replace(MANAGED + "/", "{MANAGED}/")
    return {
        "case": case_dir.name,
        "root": "{ROOT}",
        "claude_md": text,
        "before": before[-200:],
        "after": after,
    }


def _with_managed(case_dir: Path, argv: list[str]) -> int:
    """Re-run this script for one case in a mount namespace whose /etc carries the case's
    managed folder (an overlay: the real /etc is untouched)."""
    work = SCRATCH / f"{case_dir.name}.etc"
    if work.exists():
        shutil.rmtree(work)
    (work / "upper").mkdir(parents=True)
    (work / "work").mkdir()
    managed = work / "upper" / Path(MANAGED).name
    shutil.copytree(case_dir / "tree" / "managed", managed, symlinks=True)
    fill_root(managed, SCRATCH / case_dir.name)
    script = (
        "mount --make-rprivate / && "
        f"mount -t overlay overlay -o lowerdir=/etc,upperdir={work}/upper,workdir={work}/work /etc && "
        f"exec {shlex.join([sys.executable, str(Path(__file__).resolve()), '--in-mount-ns', *argv])}"
    )
    return subprocess.run(["unshare", "-m", "sh", "-c", script], check=False).returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--claude", required=True, help='the CLI command, e.g. "node /x/cli.js"')
    ap.add_argument("--version", required=True, help="the CLI's version (names the output folder)")
    ap.add_argument("--in-mount-ns", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("cases", nargs="*", help="case names (default: every case)")
    args = ap.parse_args()
    out_dir = REPO / "tests" / "data" / "claude_code" / args.version
    out_dir.mkdir(parents=True, exist_ok=True)
    names = args.cases or sorted(p.name for p in CASES.iterdir() if (p / "case.json").is_file())
    for name in names:
        if (CASES / name / "tree" / "managed").is_dir() and not args.in_mount_ns:
            if _with_managed(CASES / name, ["--claude", args.claude, "--version", args.version, name]):
                return 1
            continue
        record = run_case(shlex.split(args.claude), CASES / name, SCRATCH)
        record["version"] = args.version
        (out_dir / f"{name}.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
        print(f"{name}: {'no memory' if record['claude_md'] is None else len(record['claude_md'])} chars")
    return 0


if __name__ == "__main__":
    sys.exit(main())
