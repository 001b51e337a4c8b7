"""The managed block ctxtui writes into CLAUDE.md, between marker comments.

Text outside the markers belongs to the user and is preserved byte for byte. The block is
rendered from a template shipped in the package (``ctxtui/templates/claude_md.md``) that a
user can override with ``claude_md.md`` in the config folder or ``.claude/ctxtui/``.

Index densities, because the block's own cost grows with the library:

* ``full``: one line per cold persona: name, trigger summary, file path;
* ``names``: names only, grouped by category (plugin or folder);
* ``search``: no list; Claude is told to run ``ctxtui find QUERY``.

Integrity. Persona names, descriptions, folder and file names come from libraries written
by others, so every such text passes :func:`inline` before it reaches the block: one line, no
control or invisible format characters, no HTML comment openers or closers, no backticks,
and every ``@`` backslash-escaped. Claude Code 2.1.112 finds imports with
``(?:^|\\s)@((?:[^\\s\\\\]|\\\\ )+)`` in marked's ``text`` tokens (code, code spans and
escapes are skipped), so an escaped ``@`` is never an import while markdown still shows
``@``. Markers count only on a line of their own, indented less than four columns, outside
fenced code blocks (both are the user's examples); anything
other than one begin marker followed by one end marker is refused (:class:`BlockError`).

Line endings. The block is written with the line ending of the text it joins (CRLF files
stay CRLF), a file without a final newline keeps none, and removing a block that ctxtui
appended restores the exact text it was appended to.
"""

from __future__ import annotations

import os
import re
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ctxtui.core import tokens
from ctxtui.core.config import bundled_dir, config_dir
from ctxtui.core.errors import CtxtuiError
from ctxtui.core.memory import import_refs, resolve_ref
from ctxtui.core.persona import Persona
from ctxtui.core.safe_io import UnsafeReadError, read_regular

BEGIN = "<!-- ctxtui:begin -->"
END = "<!-- ctxtui:end -->"
DENSITIES = ("full", "names", "search")
TEMPLATE_MAX_BYTES = 256 * 1024
_EXAMPLES = re.compile(r"(?is)(\bexamples?\s*:|<example>|\\n).*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s")
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")
# Line breaks of any kind (Python's and JavaScript's), collapsed to one space by inline().
_BREAKS = re.compile(r"[\s\u0085\u2028\u2029\ufeff]+")
# Zero-width joiners stay (emoji sequences); every other format character (bidi overrides,
# zero-width spaces, tag characters used to hide text) goes.
_KEEP_FORMAT = {"\u200c", "\u200d"}
_MARKER_PAD = " \t\r\ufeff"  # around a marker on its line (a BOM when an editor added one, a lone CR)
INLINE_MAX = 200


class BlockError(CtxtuiError):
    """CLAUDE.md's ctxtui markers are malformed; nothing was written."""


def _drop_controls(text: str, keep: str = "") -> str:
    """Remove C0/C1 control characters (but ``keep``) and invisible format characters."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in keep or not (cat == "Cc" or cat == "Cs" or (cat == "Cf" and ch not in _KEEP_FORMAT)):
            out.append(ch)
    return "".join(out)


def _break_comments(text: str) -> str:
    """Make HTML comment openers and closers (and so the markers) plain text."""
    return text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")


def inline(text: str, limit: int = INLINE_MAX) -> str:
    """Text from a persona library made safe for one line of the block.

    One line (breaks and tabs become spaces) of at most ``limit`` characters before
    escaping, no control or format characters, no backticks (they would end the code span
    a name is shown in), no HTML comments, and every ``@`` escaped as ``\\@`` (backslashes
    doubled first) so Claude Code never reads it as an import.
    """
    text = _BREAKS.sub(" ", _drop_controls(text.replace("\t", " "), keep="\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85")).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    text = text.replace("`", "'").replace("\\", "\\\\").replace("@", "\\@")
    return _break_comments(text) or "?"


@dataclass(frozen=True)
class Block:
    """Where the managed block is: ``start`` is the begin marker line's first character,
    ``end`` the end marker line's last one before its line break; ``newline`` is the line
    ending the block uses."""

    start: int
    end: int
    newline: str


@dataclass(frozen=True)
class _Marker:
    kind: str  # "begin" or "end"
    line: int  # 1-based
    start: int
    end: int
    newline: str


def _lines(text: str):
    """(line number, start offset, content, line ending) for each line, split on LF only."""
    pos = 0
    n = 0
    while pos < len(text) or (pos == 0 and not text):
        n += 1
        nl = text.find("\n", pos)
        if nl < 0:
            yield n, pos, text[pos:], ""
            return
        content_end = nl - 1 if nl > pos and text[nl - 1] == "\r" else nl
        yield n, pos, text[pos:content_end], text[content_end : nl + 1]
        pos = nl + 1


def _scan(text: str) -> tuple[list[_Marker], int | None]:
    """Markers on lines of their own outside fenced code, and the line of a fence left open."""
    markers: list[_Marker] = []
    fence: str | None = None
    fence_line: int | None = None
    if BEGIN not in text and END not in text and "```" not in text and "~~~" not in text:
        return markers, None  # the common case, without a line-by-line pass
    for n, start, content, newline in _lines(text):
        m = _FENCE.fullmatch(content)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
                fence, fence_line = None, None
            continue
        if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            fence, fence_line = m.group(1), n
            continue
        stripped = content.strip(_MARKER_PAD)
        indent = content[: len(content) - len(content.lstrip(_MARKER_PAD))].lstrip("\ufeff")
        # An end marker may have text glued after it: a block appended to a file without a
        # final line break ends without one, and an editor's `echo ... >>` lands right there.
        glued = stripped.startswith(END) and stripped != END
        if (stripped in (BEGIN, END) or glued) and len(indent.expandtabs(4)) < 4:  # 4+: indented code
            offset = start + len(content) - len(content.lstrip(_MARKER_PAD))
            kind = "begin" if stripped == BEGIN else "end"
            markers.append(_Marker(kind, n, offset, offset + (len(END) if glued else len(stripped)), newline))
    return markers, fence_line


def find_block(text: str, where: str = "CLAUDE.md") -> Block | None:
    """The managed block in ``text``, None if there is none.

    Raises :class:`BlockError` (one line, naming the lines) for a begin marker without an end,
    an end marker without a begin, nested markers or two blocks: ctxtui does not guess which
    of the user's lines are its own. Markers inside fenced code blocks are the user's text.
    """
    markers, _ = _scan(text)
    if not markers:
        return None
    kinds = [m.kind for m in markers]
    fix = "fix or delete the marker lines by hand, then retry"
    if kinds == ["begin", "end"]:
        begin, end = markers
        return Block(begin.start, end.end, begin.newline or "\n")
    first = markers[0]
    if first.kind == "end":
        raise BlockError(f"{where}: ctxtui end marker on line {first.line} has no begin marker before it; {fix}")
    if len(markers) == 1:
        raise BlockError(f"{where}: ctxtui begin marker on line {first.line} has no end marker; {fix}")
    second = markers[1]
    if second.kind == "begin":
        raise BlockError(
            f"{where}: ctxtui begin marker on line {second.line} is nested inside the block begun on "
            f"line {first.line}; {fix}"
        )
    rest = markers[2]
    if rest.kind == "begin":
        raise BlockError(
            f"{where}: two ctxtui blocks (begin markers on lines {first.line} and {rest.line}); "
            f"delete one by hand, then retry"
        )
    raise BlockError(f"{where}: ctxtui end marker on line {rest.line} has no begin marker before it; {fix}")


def block_span(text: str, *, strict: bool = True) -> tuple[int, int] | None:
    """(start, end) offsets of the managed block including its markers, or None.

    Malformed markers raise :class:`BlockError`, or give None with ``strict=False`` (for
    read-only views such as the budget).
    """
    try:
        block = find_block(text)
    except BlockError:
        if strict:
            raise
        return None
    return (block.start, block.end) if block else None


def newline_of(text: str) -> str:
    """The line ending to write into ``text``: the one it ends with, else the most common."""
    if text.endswith("\r\n"):
        return "\r\n"
    if text.endswith("\n"):
        return "\n"
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"


def _parses(text: str) -> str:
    """TEXT, if its ctxtui markers still parse: text glued after the end marker comes to the
    start of a line when the block goes, and a marker in it would break the file."""
    try:
        find_block(text)
    except BlockError:
        raise BlockError("CLAUDE.md: the text right after ctxtui's end marker holds a ctxtui marker; "
                         "fix or delete the marker lines by hand, then retry") from None
    return text


def splice(existing: str, block: str | None) -> str:
    """Put the block into existing text (replacing an old block), or remove it (None).

    ``block`` is rendered with LF line endings; it is written with the old block's line
    ending, or the text's. A new block goes after one blank line and ends with a line break
    only if the text did; removing the block undoes exactly that, so insert then remove
    gives back the original text byte for byte. Raises :class:`BlockError` for malformed
    markers, and when the text ends inside an unclosed code fence (the block would land in
    it and never be found again).
    """
    found = find_block(existing)
    if found is not None:
        nl = found.newline
        before, after = existing[: found.start], existing[found.end :]
        if block is not None:
            return _parses(before + block.replace("\n", nl) + after)
        if after.startswith(nl):
            rest = after[len(nl) :]
            if rest:
                return _parses(before + rest)
            if before.endswith(nl + nl):  # appended after a blank line to text ending in a line break
                return before[: -len(nl)]
            return before
        if not after and before.endswith(nl + nl):  # appended to text without a final line break
            return before[: -2 * len(nl)]
        return _parses(before + after)
    if block is None:
        return existing
    _, open_fence = _scan(existing)
    if open_fence is not None:
        raise BlockError(
            f"CLAUDE.md: the code fence opened on line {open_fence} is never closed, so a block "
            "appended at the end would sit inside it; close the fence, then retry"
        )
    nl = newline_of(existing)
    block = block.replace("\n", nl)
    if not existing:
        return block + nl
    if existing.endswith(nl):
        return existing + nl + block + nl
    return existing + nl + nl + block


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
    """A path as the block shows it, portable for a team that commits CLAUDE.md: relative to
    the project when inside it or beside it (``../lib/x.md``), ``~/...`` under the home
    folder, ``demo: NAME.md`` for ctxtui's bundled demo personas (never a venv path), else
    relative to the project all the same (never absolute)."""
    path, workspace = Path(os.path.abspath(path)), Path(os.path.abspath(workspace))
    if path.is_relative_to(Path(os.path.abspath(bundled_dir("personas")))):
        return f"demo: {path.name} (bundled with ctxtui)"
    if path.is_relative_to(workspace):
        return path.relative_to(workspace).as_posix()
    home = Path(os.path.abspath(Path.home()))
    near = path.is_relative_to(workspace.parent) and workspace.parent != Path(workspace.anchor)
    if path.is_relative_to(home) and not near:
        return "~/" + path.relative_to(home).as_posix()
    try:
        return Path(os.path.relpath(path, workspace)).as_posix()
    except ValueError:  # another drive (Windows): nothing relative exists
        return path.name


def template_text(workspace: Path) -> str:
    """The block template: workspace override, user override, else the shipped one.

    An override that is not a regular UTF-8 file of at most ``TEMPLATE_MAX_BYTES`` is
    refused with one line (:class:`BlockError`) rather than half used."""
    for path in (workspace / ".claude" / "ctxtui" / "claude_md.md", config_dir() / "claude_md.md"):
        if not os.path.lexists(path):
            continue
        try:
            return read_regular(path, TEMPLATE_MAX_BYTES).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BlockError(f"{path}: block template is not UTF-8 (byte offset {exc.start}); fix or delete it") from None
        except UnsafeReadError as exc:
            raise BlockError(f"block template {exc}; fix or delete it") from None
        except OSError as exc:
            raise BlockError(f"{path}: cannot read the block template: {exc.strerror}") from None
    from importlib import resources  # only for the bundled template: start-up stays lean

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
    agents_watched: bool | None = None
    """Whether Claude Code picks up new agent files mid-session (its version's profile);
    None: version unknown, the block covers both cases."""


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
            groups.setdefault(inline(category(p, inp.roots)), []).append(inline(p.name))
        lines = [f"- **{g}**: {', '.join(sorted(n))}" for g, n in sorted(groups.items())]
        return (
            f"Cold personas ({len(cold)}), by category. `ctxtui find NAME` prints a persona's file path.\n"
            + "\n".join(lines)
        )
    lines = []
    for p in cold:
        also = ", ".join(inline(n) for n in inp.variants.get(p.name, []))
        extra = f" (also as {also})" if also else ""
        where = inline(display_path(p.path, inp.workspace))
        lines.append(f"- `{inline(p.name)}`{extra}: {inline(trigger(p.description))} — {where}")
    return f"Cold personas ({len(cold)}):\n" + "\n".join(lines)


_ACTIVATE = ("To use a cold persona now, keeping its tools and model: {manager}run\n"
             "`ctxtui activate NAME`{command}: it copies the persona into `.claude/agents`.\n")
_WATCHED = ("Claude Code picks up new agent files during the session: wait for its note\n"
            "\"New agent types are now available\", then launch the persona by name with the Agent tool.")
_RELOAD = ("This Claude Code reads agent files only at start: ask the user to run `/reload-plugins`\n"
           "(or restart), then launch the persona by its name with the Agent tool.")
_UNKNOWN = ("When Claude Code announces \"New agent types are now available\", launch it by name with\n"
            "the Agent tool; if no such note arrives, ask the user to run `/reload-plugins` (or restart).")
_FALLBACK = ("If it cannot be activated (the cap, or no reload possible), Read its file and give its\n"
             "instructions (the text after the frontmatter) with the task to a general-purpose subagent,\n"
             "passing the persona's `model` as the Agent tool's model and telling it to use only the\n"
             "persona's `tools`.")


def in_session_text(inp: BlockInput, manager: str = "") -> str:
    """How to use a cold persona mid-session, for the Claude Code version at hand."""
    how = _WATCHED if inp.agents_watched else _RELOAD if inp.agents_watched is False else _UNKNOWN
    # the slash command `ctxtui init` adds; named only where it exists
    command = " (or the user's `/persona NAME`)" if (inp.workspace / ".claude" / "commands" / "persona.md").is_file() else ""
    return _ACTIVATE.format(manager=manager, command=command) + how + "\n" + _FALLBACK


def render_block(inp: BlockInput, density: str) -> str:
    """The whole managed block, markers included, with LF line endings (:func:`splice`
    writes it with the file's). Library text passes :func:`inline`; the template's own text
    loses control characters and HTML comment delimiters, so only the markers are markers."""
    hot = ", ".join(
        f"`{inline(n)}`" + (" (pinned)" if n in inp.pinned else "") for n in inp.hot
    ) or "none"
    model_line = ""
    if inp.model:
        names = [inline(n) for n in inp.covered or []]
        listed = f": {', '.join(names)}" if len(names) <= 10 else ""  # a long list would cost more than it helps
        model_line = f"Fine-tuned model `{inline(inp.model)}` embeds {len(names)} persona(s) (no file needed){listed}.\n\n"
    manager = "ask the `persona-manager` subagent, or " if "persona-manager" in inp.hot else ""
    template = _break_comments(_drop_controls(template_text(inp.workspace).replace("\r\n", "\n"), keep="\n\t"))
    body = string.Template(template).safe_substitute(
        strategy=inline(inp.strategy),
        hot=hot,
        model=model_line,
        manager=manager,
        in_session=in_session_text(inp, manager),
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
    try:
        text = read_regular(claude_md).decode("utf-8", errors="surrogateescape")
    except UnsafeReadError:
        raise
    except OSError as exc:
        raise BlockError(f"{claude_md}: cannot read: {exc.strerror or exc}") from None
    outside = splice(text, None)
    found = []
    for ref in import_refs(outside):
        try:
            target = resolve_ref(ref, claude_md.parent)
            if target.is_file() and target.resolve() in persona_paths:
                found.append((ref, target))
        except (OSError, ValueError, RuntimeError):  # a name too long, a link loop: not a persona
            continue
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
