"""The managed block ctxtui writes into CLAUDE.md, between marker comments.

Text outside the markers belongs to the user and is preserved byte for byte. The block is
rendered from a template shipped in the package (``ctxtui/templates/claude_md.md``) that a
user can override with ``claude_md.md`` in the config folder or ``.claude/ctxtui/``.

Index densities, because the block's own cost grows with the library:

* ``full``: one line per cold persona: name, trigger summary, file path;
* ``names``: names only, grouped by category (plugin or folder);
* ``search``: no list; Claude is told to run ``ctxtui find QUERY``.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ctxtui.core import tokens
from ctxtui.core.config import config_dir
from ctxtui.core.memory import import_refs, resolve_ref
from ctxtui.core.persona import Persona

BEGIN = "<!-- ctxtui:begin -->"
END = "<!-- ctxtui:end -->"
DENSITIES = ("full", "names", "search")
_EXAMPLES = re.compile(r"(?is)(\bexamples?\s*:|<example>|\\n).*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s")


def block_span(text: str) -> tuple[int, int] | None:
    """(start, end) offsets of the managed block including its markers, or None."""
    start = text.find(BEGIN)
    if start < 0:
        return None
    end = text.find(END, start + len(BEGIN))
    if end < 0:
        return None
    return start, end + len(END)


def splice(existing: str, block: str | None) -> str:
    """Put the block into existing text (replacing an old block), or remove it (None).

    The user's text before and after the markers is kept byte for byte; a new block is
    appended after one blank line.
    """
    span = block_span(existing)
    if span is not None:
        before, after = existing[: span[0]], existing[span[1] :]
        if block is None:  # drop the block and the newline we added after it
            return before + (after[1:] if after.startswith("\n") and before.endswith("\n") else after)
        return before + block + after
    if block is None:
        return existing
    if not existing:
        return block + "\n"
    sep = "" if existing.endswith("\n\n") else ("\n" if existing.endswith("\n") else "\n\n")
    return existing + sep + block + "\n"


def trigger(description: str, limit: int = 110) -> str:
    """A one-line trigger summary: the first sentence, without example blocks."""
    text = _EXAMPLES.sub("", description).replace("\n", " ").strip()
    text = re.sub(r"\s+", " ", text)
    first = _SENTENCE.split(text, maxsplit=1)[0] if text else ""
    if len(first) > limit:
        first = first[: limit - 1].rsplit(" ", 1)[0] + "…"
    return first or "(no description)"


def category(persona: Persona, roots: list[Path]) -> str:
    """A persona's group: its plugin (``plugins/<p>/agents``) or parent folder."""
    parent = persona.path.parent
    if parent.name == "agents" and parent.parent != parent:
        parent = parent.parent
    if any(parent == r for r in roots):
        return "general"
    return parent.name


def display_path(path: Path, workspace: Path) -> str:
    """A path as the block shows it: relative to the workspace when inside it, ~ for home."""
    try:
        return path.relative_to(workspace).as_posix()
    except ValueError:
        home = str(Path.home())
        text = str(path)
        return "~" + text[len(home) :] if text.startswith(home + os.sep) else text


def template_text(workspace: Path) -> str:
    """The block template: workspace override, user override, else the shipped one."""
    for path in (workspace / ".claude" / "ctxtui" / "claude_md.md", config_dir() / "claude_md.md"):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return resources.files("ctxtui.templates").joinpath("claude_md.md").read_text(encoding="utf-8")


def default_density(n_cold: int) -> str:
    """Full lines for small libraries, names for medium, search-only for large ones."""
    if n_cold <= 40:
        return "full"
    if n_cold <= 150:
        return "names"
    return "search"


@dataclass
class BlockInput:
    """What the block is rendered from."""

    strategy: str
    hot: list[str]
    pinned: list[str]
    cold: list[Persona]
    variants: dict[str, list[str]]
    roots: list[Path]
    workspace: Path
    model: str | None = None
    covered: list[str] | None = None


def cold_index(inp: BlockInput, density: str) -> str:
    """The cold-persona part of the block in one density."""
    aliases = {alias for names in inp.variants.values() for alias in names}
    cold = [p for p in inp.cold if p.name not in aliases]
    if not cold:
        return "No cold personas."
    if density == "search":
        distinct = f" ({len(cold)} distinct)" if len(cold) != len(inp.cold) else ""
        return (
            f"{len(inp.cold)} cold personas{distinct} are not listed here, to keep startup small. To find one, run\n"
            "`ctxtui find \"WHAT THE TASK NEEDS\"`: it prints the best matches with one line and\n"
            "the file path of each."
        )
    if density == "names":
        groups: dict[str, list[str]] = {}
        for p in cold:
            groups.setdefault(category(p, inp.roots), []).append(p.name)
        lines = [f"- **{g}**: {', '.join(sorted(n))}" for g, n in sorted(groups.items())]
        return (
            f"Cold personas ({len(cold)}), by category. `ctxtui find NAME` prints a persona's file path.\n"
            + "\n".join(lines)
        )
    lines = []
    for p in cold:
        extra = f" (also as {', '.join(inp.variants[p.name])})" if p.name in inp.variants else ""
        lines.append(f"- `{p.name}`{extra}: {trigger(p.description)} — {display_path(p.path, inp.workspace)}")
    return f"Cold personas ({len(cold)}):\n" + "\n".join(lines)


def render_block(inp: BlockInput, density: str) -> str:
    """The whole managed block, markers included."""
    hot = ", ".join(
        f"`{n}`" + (" (pinned)" if n in inp.pinned else "") for n in inp.hot
    ) or "none"
    model_line = ""
    if inp.model:
        names = inp.covered or []
        listed = f": {', '.join(names)}" if len(names) <= 10 else ""  # a long list would cost more than it helps
        model_line = f"Fine-tuned model `{inp.model}` embeds {len(names)} persona(s) (no file needed){listed}.\n\n"
    body = string.Template(template_text(inp.workspace)).safe_substitute(
        strategy=inp.strategy,
        hot=hot,
        model=model_line,
        manager="ask the `persona-manager` subagent, or " if "persona-manager" in inp.hot else "",
        cold_index=cold_index(inp, density),
    ).strip("\n")
    return f"{BEGIN}\n{body}\n{END}"


def density_costs(inp: BlockInput) -> dict[str, int]:
    """Token cost of the block in each density (raw cl100k)."""
    return {d: tokens.count(render_block(inp, d)) for d in DENSITIES}


def persona_imports(claude_md: Path, persona_paths: set[Path]) -> list[tuple[str, Path]]:
    """``@imports`` in a CLAUDE.md that pull in persona files (an eager setup)."""
    if not claude_md.is_file():
        return []
    text = claude_md.read_text(encoding="utf-8", errors="replace")
    outside = splice(text, None)
    found = []
    for ref in import_refs(outside):
        target = resolve_ref(ref, claude_md.parent)
        if target.is_file() and target.resolve() in persona_paths:
            found.append((ref, target))
    return found


def drop_imports(text: str, refs: list[str]) -> str:
    """Remove persona ``@imports`` from user text: whole lines that are only the import go,
    inline ones become the persona's file name in backticks. Everything else is unchanged."""
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        hit = next((r for r in refs if stripped in (f"@{r}", f"- @{r}", f"* @{r}")), None)
        if hit is not None:
            continue
        for r in refs:
            line = re.sub(rf"(?<!\S)@{re.escape(r)}(?![^\s.,;:!?])", f"`{Path(r).stem}` (cold, see ctxtui block)", line)
        out.append(line)
    return "".join(out)
