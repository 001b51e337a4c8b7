"""Claude Code memory files (CLAUDE.md and friends) and their ``@path`` imports.

Claude Code loads, at startup: the project's ``CLAUDE.md`` or ``.claude/CLAUDE.md``,
``CLAUDE.local.md``, every ``.claude/rules/**/*.md``, and the user's ``~/.claude/CLAUDE.md``.
Each may import other files with ``@path`` (relative to the importing file, absolute, or
``~``), recursively up to five hops. Imports inside code spans and fenced blocks don't count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ctxtui.core import tokens

MAX_IMPORT_DEPTH = 5
CLAUDE_MD_WARN_CHARS = 40_000  # Claude Code warns when a memory file is larger than this
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_IMPORT = re.compile(r"(?:(?<=\s)|^)@((?:~|\.{1,2}|/)?[^\s`'\"<>()\[\]{}]+)")


@dataclass
class MemoryFile:
    """One memory file loaded at startup."""

    path: Path
    scope: str  # project | local | rules | user | import
    text: str
    tokens: int
    depth: int = 0
    imported_by: Path | None = None

    @property
    def chars(self) -> int:
        """Length in characters (Claude Code's warning threshold is in characters)."""
        return len(self.text)


@dataclass
class MemoryScan:
    """All memory files reachable at startup, with the import problems found."""

    files: list[MemoryFile] = field(default_factory=list)
    missing: list[tuple[Path, str]] = field(default_factory=list)
    too_deep: list[tuple[Path, str]] = field(default_factory=list)
    cycles: list[tuple[Path, str]] = field(default_factory=list)
    imports: list[tuple[Path, str, Path]] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        """Total tokens of every memory file."""
        return sum(f.tokens for f in self.files)

    def warnings(self) -> list[str]:
        """Claude Code's own size warnings, plus import problems, one line each."""
        out = [
            f"{f.path} is {f.chars:,} characters; Claude Code warns above {CLAUDE_MD_WARN_CHARS:,}"
            for f in self.files
            if f.chars > CLAUDE_MD_WARN_CHARS
        ]
        out += [f"{src}: import @{ref} not found" for src, ref in self.missing]
        out += [f"{src}: import @{ref} is more than {MAX_IMPORT_DEPTH} hops deep; not loaded" for src, ref in self.too_deep]
        out += [f"{src}: import @{ref} would loop; loaded once" for src, ref in self.cycles]
        return out


def import_refs(text: str) -> list[str]:
    """``@path`` references outside fenced blocks and code spans, in order."""
    refs: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if fence is not None:
            if m and m.group(2)[0] == fence[0] and len(m.group(2)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(2)
            continue
        for ref in _IMPORT.findall(_CODE_SPAN.sub(" ", line)):
            ref = ref.rstrip(".,;:!?")
            if ref:
                refs.append(ref)
    return refs


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or ref.startswith("~") or bool(re.search(r"\.[A-Za-z0-9]{1,6}$", ref))


def resolve_ref(ref: str, base: Path) -> Path:
    """Where an import points, relative to the importing file's folder."""
    p = Path(ref).expanduser()
    return p if p.is_absolute() else base / p


def _read(path: Path, overrides: dict[Path, str] | None = None) -> str | None:
    if overrides and path.absolute() in overrides:
        return overrides[path.absolute()]
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None


def roots(workspace: Path, claude_home: Path | None, extra: Iterable[Path] = ()) -> list[tuple[Path, str]]:
    """The memory files Claude Code looks for, with their scope (those that exist or are in
    ``extra``, files about to be written)."""
    out: list[tuple[Path, str]] = []
    project = workspace / "CLAUDE.md"
    alt = workspace / ".claude" / "CLAUDE.md"
    extra = {p.absolute() for p in extra}
    for path in (project, alt):
        if path.is_file() or path.absolute() in extra:
            out.append((path, "project"))
    if (workspace / "CLAUDE.local.md").is_file():
        out.append((workspace / "CLAUDE.local.md", "local"))
    rules = workspace / ".claude" / "rules"
    if rules.is_dir():
        out += [(p, "rules") for p in sorted(rules.rglob("*.md")) if p.is_file()]
    if claude_home is not None and (claude_home / "CLAUDE.md").is_file():
        out.append((claude_home / "CLAUDE.md", "user"))
    return out


def scan(workspace: Path, claude_home: Path | None, overrides: dict[Path, str] | None = None) -> MemoryScan:
    """Read every memory file and follow imports (max 5 hops, each file loaded once).

    ``overrides`` maps absolute paths to text to use instead of the file (a projection of
    what a migration would write)."""
    result = MemoryScan()
    loaded: set[Path] = set()

    def visit(path: Path, scope: str, depth: int, parent: Path | None, chain: tuple[Path, ...]) -> None:
        key = path.resolve()
        text = _read(path, overrides)
        if text is None:
            return
        loaded.add(key)
        result.files.append(MemoryFile(path, scope, text, tokens.count(text), depth, parent))
        for ref in import_refs(text):
            target = resolve_ref(ref, path.parent)
            tkey = target.resolve()
            if not target.is_file():
                if _looks_like_path(ref):
                    result.missing.append((path, ref))
                continue
            result.imports.append((path, ref, target))
            if tkey in chain or tkey == key:
                result.cycles.append((path, ref))
            elif tkey in loaded:
                continue
            elif depth + 1 > MAX_IMPORT_DEPTH:
                result.too_deep.append((path, ref))
            else:
                visit(target, "import", depth + 1, path, (*chain, key))

    for path, scope in roots(workspace, claude_home, (overrides or {}).keys()):
        if path.resolve() not in loaded:
            visit(path, scope, 0, None, ())
    return result
