"""Differential check of ctxtui's memory model against the real Claude Code CLI.

Each seed builds a random CLAUDE.md from Markdown constructs that decide what Claude Code sends
and which ``@imports`` it follows (lists, quotes, fences, indented code, HTML blocks, comments,
code spans, emphasis, links, escapes, reference definitions, CRLF, frontmatter), each import
naming its own file. The CLI runs offline through capture.py; ctxtui's text must equal the
memory text of the request. Disagreements are written to /tmp/ccfuzz/SEED.diff.json.

    .venv/bin/python scripts/claude_code/fuzz_memory.py --claude "node /x/cli.js" \\
        --version 2.1.112 --seeds 100 --start 0

Not run in CI (needs the CLI); what it found became unit tests in tests/test_memory.py.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

from capture import capture  # noqa: E402
from capture_memory import memory_text  # noqa: E402

from ctxtui.core import memory  # noqa: E402

OUT = Path("/tmp/ccfuzz")


def _ref(n: int, rnd: random.Random) -> str:
    name = f"r{n}.md"
    forms = [f"@{name}", f"@./{name}", f"@{name}#frag", f"@{name}.", f"@{name},", f"\\@{name}",
             f"`@{name}`", f"``x @{name}``", f"*@{name}*", f"**@{name}**", f"_@{name}_",
             f"[@{name}](u)", f"[t](@{name})", f"<b>@{name}</b>", f"<!-- @{name} -->", f"x@{name}",
             f"(@{name})", f"\"@{name}\"", f"@{name}\\", f"~~@{name}~~"]
    return rnd.choice(forms)


def _blocks(r: Callable[[], str]) -> list[Callable[[], str]]:
    return [
        lambda: f"Para {r()} text {r()}\n",
        lambda: f"- item {r()}\n  - nested {r()}\n",
        lambda: f"1) one {r()}\n2) two\n",
        lambda: f"> quote {r()}\n> more {r()}\n",
        lambda: f"```\n{r()}\n```\n",
        lambda: f"~~~md\n{r()}\n~~~\n",
        lambda: f"    code {r()}\n",
        lambda: f"<div>\n{r()}\n</div>\n",
        lambda: f"<!-- comment {r()} -->\n",
        lambda: f"<!-- multi\n{r()}\n--> after {r()}\n",
        lambda: f"   <!-- indented --> {r()}\n",
        lambda: f"# Heading {r()}\n",
        lambda: f"Setext {r()}\n---\n",
        lambda: f"text <!-- inline {r()} --> {r()}\n",
        lambda: f"| a | {r()} |\n|---|---|\n| {r()} | c |\n",
        lambda: f"\t{r()}\n",
        lambda: f"line  \n{r()}\n",
        lambda: f"- item\n\n      {r()}\n",
        lambda: f"para\n    {r()}\n",
        lambda: f"<!-->{r()}\n",
        lambda: f"* * *\n{r()}\n",
        lambda: f"```\nunclosed {r()}\n",
        lambda: f"> - quoted item {r()}\n>   <!-- c {r()} -->\n",
        lambda: f"- # heading in item {r()}\n",
        lambda: f"- item\n  > quote in item <!-- {r()} -->\n",
        lambda: f"[ref]: {r()}\n",
        lambda: f"<{r()}>\n",
        lambda: f"<script>\n{r()}\n</script>\n",
        lambda: f"<?php {r()} ?>\n",
        lambda: f"para\n<div>{r()}</div>\n",
        lambda: f"para\n <!-- one space {r()} -->\n",
        lambda: f"<!-- a --> <!-- b {r()} --> {r()}\n",
        lambda: f"* star item {r()}\n+ plus item {r()}\n",
        lambda: f"10. ten {r()}\n",
        lambda: f"***{r()}***\n",
        lambda: f"{r()}\n===\n",
        lambda: f"- a\n- b\n\n  c <!-- {r()} -->\n",
        lambda: f"\\<!-- {r()} -->\n",
        lambda: f"&lt;!-- {r()} --&gt;\n",
        lambda: f"para\n<DIV>{r()}</DIV>\n",
        lambda: f"-\titem with tab {r()}\n",
        lambda: f"<!--\n\n{r()}\n\n-->\n",
    ]


def document(seed: int) -> tuple[str, int]:
    """A random memory file and how many import targets it names."""
    rnd = random.Random(seed)
    counter: Iterator[int] = iter(range(10**6))
    blocks = _blocks(lambda: _ref(next(counter), rnd))
    parts = ["---\ntitle: t\n---\n"] if rnd.random() < 0.2 else []
    for _ in range(rnd.randint(4, 12)):
        parts += [rnd.choice(blocks)(), rnd.choice(["\n", "", "\n\n"])]
    text = "".join(parts)
    if rnd.random() < 0.2:
        text = text.replace("\n", "\r\n")
    return text, next(counter)


def check(claude: list[str], version: str, seed: int) -> bool:
    """Run one seed through the CLI and the model; True when the texts are equal."""
    text, count = document(seed)
    root = OUT / str(seed)
    shutil.rmtree(root, ignore_errors=True)
    (root / "proj").mkdir(parents=True)
    (root / "home").mkdir()
    (root / "proj/CLAUDE.md").write_bytes(text.encode())
    for i in range(count):
        (root / f"proj/r{i}.md").write_text(f"ref {i}\n")
    real = memory_text(capture(claude, root / "proj", root / "home", root / "out")[0]) or ""
    model = memory.memory_text(memory.load(
        root / "proj", root / "home/.claude", profile=memory.profile_for(version),
        managed_dir=Path("/nonexistent"), home=root / "home", auto_memory=False))
    if real != model:
        (OUT / f"{seed}.diff.json").write_text(json.dumps(
            {"version": version, "doc": text, "real": real, "model": model}, indent=1))
    return real == model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--claude", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--start", type=int, default=0)
    args = ap.parse_args()
    agree = 0
    for seed in range(args.start, args.start + args.seeds):
        ok = check(shlex.split(args.claude), args.version, seed)
        agree += ok
        if not ok:
            print(f"seed {seed}: differs (see {OUT}/{seed}.diff.json)")
    print(f"{args.version}: {agree}/{args.seeds} agree")
    return 0 if agree == args.seeds else 1


if __name__ == "__main__":
    sys.exit(main())
