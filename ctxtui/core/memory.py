"""Claude Code memory files (CLAUDE.md and friends), modelled on Claude Code's own loader.

What loads at startup, in Claude Code's order (read in its shipped code, checked against the
requests it sends; see tests/data/claude_code/):

1. the managed policy file ``MANAGED/CLAUDE.md`` and ``MANAGED/.claude/rules/**/*.md``
   (``/etc/claude-code`` on Linux);
2. the user's ``~/.claude/CLAUDE.md`` and ``~/.claude/rules/**/*.md``;
3. for every folder from the top of the file system (``/`` itself excluded) down to the folder
   Claude Code runs in: ``CLAUDE.md``, ``.claude/CLAUDE.md``, ``.claude/rules/**/*.md``, then
   ``CLAUDE.local.md``;
4. auto memory: ``~/.claude/projects/SLUG/memory/MEMORY.md`` (SLUG names the git root, else the
   folder), its first 200 lines / 25,000 characters, imports not followed.

Rules with a ``paths:`` frontmatter load only when matching files are touched, so not at
startup (their own imports do: Claude Code filters the rule, not what it imported). Each file is
read once (the first place wins). Frontmatter is cut; top-level HTML comment blocks are
stripped; a file empty after that is not sent, and its imports are not followed.

``@imports``: in Markdown text only (not in code blocks, code spans or HTML, except what is
left of a comment block), ``#fragment`` cut, ``\\ `` is a space, relative to the importing
file; at most four hops below the file that started the chain; files with a non-text extension
are skipped; a file outside the folder Claude Code runs in is loaded only when the user
approved external imports for the project (``hasClaudeMdExternalIncludesApproved`` in
``~/.claude.json``), except from the user's own memory, which may import from anywhere.

Every read goes through :func:`ctxtui.core.safe_io.read_regular`: regular files only, with a cap
(see :class:`Profile`), so a FIFO, a device or a 2 GB sparse import is flagged at once.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ctxtui.core import safe_io, tokens
from ctxtui.core.budget import BudgetItem

#: Claude Code stops following imports at this depth (the root file is depth 0), so an import
#: chain is at most four hops long.
MAX_IMPORT_DEPTH = 5
CLAUDE_MD_WARN_CHARS = 40_000  # Claude Code warns when a memory file is larger than this

PREAMBLE = (
    "Codebase and user instructions are shown below. Be sure to adhere to these instructions. "
    "IMPORTANT: These instructions OVERRIDE any default behavior and you MUST follow them "
    "exactly as written."
)
DESCRIPTIONS = {
    "AutoMem": " (user's auto-memory, persists across conversations)",
    "Project": " (project instructions, checked into the codebase)",
    "Local": " (user's private project instructions, not checked in)",
    "User": " (user's private global instructions for all projects)",
    "Managed": " (user's private global instructions for all projects)",
}

#: Imports with one of these extensions (or none) are read; anything else is skipped.
TEXT_EXTENSIONS = frozenset((
    ".md", ".txt", ".text", ".json", ".yaml", ".yml", ".toml", ".xml", ".csv", ".html", ".htm",
    ".css", ".scss", ".sass", ".less", ".js", ".ts", ".tsx", ".jsx", ".mjs", ".cjs", ".mts",
    ".cts", ".py", ".pyi", ".pyw", ".rb", ".erb", ".rake", ".go", ".rs", ".java", ".kt", ".kts",
    ".scala", ".c", ".cpp", ".cc", ".cxx", ".h", ".hpp", ".hxx", ".cs", ".swift", ".sh", ".bash",
    ".zsh", ".fish", ".ps1", ".bat", ".cmd", ".env", ".ini", ".cfg", ".conf", ".config",
    ".properties", ".sql", ".graphql", ".gql", ".proto", ".vue", ".svelte", ".astro", ".ejs",
    ".hbs", ".pug", ".jade", ".php", ".pl", ".pm", ".lua", ".r", ".R", ".dart", ".ex", ".exs",
    ".erl", ".hrl", ".clj", ".cljs", ".cljc", ".edn", ".hs", ".lhs", ".elm", ".ml", ".mli", ".f",
    ".f90", ".f95", ".for", ".cmake", ".make", ".makefile", ".gradle", ".sbt", ".rst", ".adoc",
    ".asciidoc", ".org", ".tex", ".latex", ".lock", ".log", ".diff", ".patch",
))

# JavaScript's \s, so the regexes below match what Claude Code's do. Patterns are kept as text
# and compiled on first use (``re`` caches them): a run that reads no memory file skips them.
_WS = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_FRONTMATTER = rf"^---[{_WS}]*\n([\s\S]*?)---[{_WS}]*\n?"
_REF = rf"(?:^|[{_WS}])@((?:[^{_WS}\\]|\\ )+)"
_REF_OK = r"^[a-zA-Z0-9._-]"
_REF_SYMBOLS = r"^[#%^&*()]+"
_COMMENT = r"<!--[\s\S]*?-->"
_SYSTEM_DIRS = ("/proc", "/sys", "/dev")


@dataclass(frozen=True)
class Profile:
    """How one Claude Code release loads and sends memory (what differs between versions)."""

    version: str
    #: Text around the memory when it is sent: 2.1.112 puts it in the shared context reminder
    #: under ``# claudeMd``; newer releases send a reminder of its own.
    wrapper: tuple[str, str]
    managed_description: str
    #: Node lists a folder sorted by name; the Bun-built releases list it in directory order.
    sorted_listing: bool
    #: Claude Code's own cap (files over it are skipped), or None when it reads any size.
    max_file_bytes: int | None
    #: 2.1.112 re-joins the Markdown lexer's tokens whenever ``<!--`` occurs (CRLF becomes LF);
    #: newer releases rebuild the text only when a comment block was actually removed.
    normalise_when_comment_seen: bool
    #: Newer releases never read a file that is or leads into /proc, /sys or /dev.
    skips_system_files: bool = False


PROFILES: dict[str, Profile] = {
    "2.1.112": Profile("2.1.112", ("# claudeMd\n", "\n"), DESCRIPTIONS["Managed"], True, None, True),
    "2.1.332": Profile(
        "2.1.332", ("<system-reminder>\n", "\n</system-reminder>"),
        " (organization-managed policy instructions)", False, 4 * 1024 * 1024, False, True,
    ),
}
#: ctxtui's own cap where Claude Code has none: a memory file this large would not fit any
#: context window anyway, so nothing a user could rely on is refused.
READ_CAP = 64 * 1024 * 1024


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def profile_for(version: str | None = None) -> Profile:
    """The profile of ``version`` (the newest one not newer than it), else the newest."""
    ordered = sorted(PROFILES.values(), key=lambda p: _version_key(p.version))
    if not version or not re.search(r"\d", version):
        return ordered[-1]
    key = _version_key(version)
    fitting = [p for p in ordered if _version_key(p.version) <= key]
    return fitting[-1] if fitting else ordered[0]


def default_managed_dir() -> Path:
    """Where Claude Code looks for the managed policy folder on this OS."""
    if sys.platform == "darwin":
        return Path("/Library/Application Support/ClaudeCode")
    if sys.platform.startswith("win"):
        return Path("C:/Program Files/ClaudeCode")
    return Path("/etc/claude-code")


@dataclass
class MemoryFile:
    """One memory file Claude Code sends at startup."""

    path: Path  # as Claude Code names it in the "Contents of PATH" header
    scope: str  # managed | user | project | local | rules | import
    text: str  # the file as read (decoded); ``content`` is what is sent
    #: cl100k tokens of ``text`` (the file as read; kept for existing callers). What Claude Code
    #: sends is ``sent_tokens``; :func:`budget_items` itemises it.
    tokens: int
    depth: int = 0
    imported_by: Path | None = None
    kind: str = "Project"  # Claude Code's type: Managed | User | Project | Local
    content: str = ""
    globs: list[str] = field(default_factory=list)  # ``paths:`` of a conditional rule
    sent_tokens: int = 0  # cl100k tokens of the header plus the content, as sent
    header: str = ""  # the "Contents of PATH (…):" line and blank line Claude Code puts first

    @property
    def chars(self) -> int:
        """Length of the sent content in characters (Claude Code's warning is in characters)."""
        return len(self.content)



@dataclass
class MemoryScan:
    """All memory files Claude Code sends at startup, and what it leaves out and why."""

    files: list[MemoryFile] = field(default_factory=list)
    missing: list[tuple[Path, str]] = field(default_factory=list)
    too_deep: list[tuple[Path, str]] = field(default_factory=list)
    cycles: list[tuple[Path, str]] = field(default_factory=list)
    imports: list[tuple[Path, str, Path]] = field(default_factory=list)
    #: (importing file, import): outside the project and not approved, so not loaded.
    needs_approval: list[tuple[Path, str]] = field(default_factory=list)
    #: (path, reason): read but not sent (non-text extension, empty after stripping).
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    #: (path, reason): refused by the bounded reader (FIFO, device, over the cap, unreadable).
    unsafe: list[tuple[Path, str]] = field(default_factory=list)
    #: Rules with ``paths:`` frontmatter: they load when matching files are touched, not now.
    conditional: list[tuple[Path, list[str]]] = field(default_factory=list)
    #: Files left out by the ``claudeMdExcludes`` setting.
    excluded: list[Path] = field(default_factory=list)
    profile: Profile = field(default_factory=profile_for)

    @property
    def tokens(self) -> int:
        """Tokens of every memory file as read (see :attr:`sent_tokens`)."""
        return sum(f.tokens for f in self.files)

    @property
    def sent_tokens(self) -> int:
        """Tokens of the memory as Claude Code sends it: every file with its header, plus the
        text added once (:func:`budget_items` itemises the same)."""
        return sum(i.tokens for i in budget_items(self))

    @property
    def overhead_tokens(self) -> int:
        """Tokens of the text Claude Code adds once whenever any memory is loaded."""
        return tokens.count(_once_text(self.profile)) if self.files else 0

    def warnings(self) -> list[str]:
        """Claude Code's own size warnings, plus what it leaves out, one line each."""
        out = [
            f"{f.path} is {f.chars:,} characters; Claude Code warns above {CLAUDE_MD_WARN_CHARS:,}"
            for f in self.files
            if f.chars > CLAUDE_MD_WARN_CHARS
        ]
        out += [f"{src}: import @{ref} not found" for src, ref in self.missing]
        out += [f"{src}: import @{ref} is more than {MAX_IMPORT_DEPTH - 1} hops deep; not loaded"
                for src, ref in self.too_deep]
        out += [f"{src}: import @{ref} would loop; loaded once" for src, ref in self.cycles]
        out += [f"{src}: import @{ref} is outside the project; Claude Code loads it only after "
                "you approve external imports" for src, ref in self.needs_approval]
        out += [f"{p}: {why}" for p, why in self.skipped]
        out += [f"{p}: {why}" for p, why in self.unsafe]
        return out


# --------------------------------------------------------------------------- Markdown


# Block tags that let HTML interrupt a paragraph in Claude Code's lexer (marked), which, unlike
# CommonMark, allows no indentation there and no ``<?``, ``<!X`` or CDATA openers.
_INTERRUPT_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|"
    "dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|"
    "hr|html|iframe|legend|li|link|main|menu|menuitem|meta|nav|noframes|ol|optgroup|option|p|param|"
    "search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul"
)
_HTML_INTERRUPTS = rf"</?(?:{_INTERRUPT_TAGS})(?: +|$|/?>)|<(?:script|pre|style|textarea|!--)"


def _markdown():
    from markdown_it import MarkdownIt  # imported when first needed: start-up stays lean
    from markdown_it.rules_block import html_block
    from markdown_it.rules_inline import emphasis

    def marked_html_block(state, start: int, end: int, silent: bool) -> bool:
        if silent:  # asked whether HTML may interrupt the block above it
            if state.sCount[start] > state.blkIndent:
                return False
            line = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]]
            if not re.match(_HTML_INTERRUPTS, line):
                return False
        return html_block(state, start, end, silent)

    def marked_emphasis(state, silent: bool) -> bool:
        # marked looks for a closing * or _ in a masked copy of the text where links, code
        # spans and anything between < and > are blanked out: a run there cannot close.
        before, pos = len(state.delimiters), state.pos
        found = emphasis.tokenize(state, silent)
        if found and any(a < pos < b for a, b in _masked_spans(state.src)):
            for delim in state.delimiters[before:]:
                delim.close = False
        return found

    md = MarkdownIt("commonmark")
    md.disable("text_join")  # keep escapes apart from text, as Claude Code's lexer does
    md.block.ruler.at("html_block", marked_html_block, {"alt": ["paragraph", "reference", "blockquote"]})
    md.inline.ruler.at("emphasis", marked_emphasis)
    return md


_BLOCK_SKIP = r"\[[^[\]]*?\]\((?:\\.|[^\\\(\)]|\((?:\\.|[^\\\(\)])*\))*\)|`[^`]*?`|<[^<>]*?>"


@lru_cache(maxsize=64)
def _masked_spans(src: str) -> tuple[tuple[int, int], ...]:
    return tuple((m.start(), m.end() - 1) for m in re.finditer(_BLOCK_SKIP, src))


_MD = None


def _tokens(text: str) -> list[Any]:
    global _MD
    if _MD is None:
        _MD = _markdown()
    return _MD.parse(text)


def _is_comment_block(raw: str) -> bool:
    lead = raw.lstrip()
    return lead.startswith("<!--") and "-->" in lead


def _refs_in(text: str, out: list[str]) -> None:
    for m in re.finditer(_REF, text):
        ref = m.group(1)
        if "#" in ref:
            ref = ref[: ref.index("#")]
        ref = ref.replace("\\ ", " ")
        if not ref:
            continue
        pathlike = (ref.startswith(("./", "~/")) or (ref.startswith("/") and ref != "/")
                    or (not ref.startswith("@") and not re.match(_REF_SYMBOLS, ref) and re.match(_REF_OK, ref)))
        if pathlike and ref not in out:
            out.append(ref)


def _inline_refs(children: list[Any], out: list[str]) -> None:
    """Import references in the text runs of one inline token (code spans, HTML and escapes
    break runs and are skipped; what is left of an inline comment is scanned)."""
    run: list[str] = []

    def flush() -> None:
        if run:
            _refs_in("".join(run), out)
            run.clear()

    for child in children:
        t = child.type
        if t == "text":
            run.append(child.content)
        elif t in ("softbreak", "hardbreak"):
            run.append("\n")
        elif t == "text_special" and (child.info == "entity" or child.content == child.markup):
            run.append(child.markup)  # an entity, or a backslash that escapes nothing
        else:
            flush()
            if t == "html_inline" and _is_comment_block(child.content):
                rest = re.sub(_COMMENT, "", child.content)
                if rest.strip():
                    _refs_in(rest, out)
    flush()


def _block_refs(token_list: list[Any], out: list[str]) -> None:
    containers: list[str] = []
    in_item_text = False
    for tok in token_list:
        if tok.type.endswith("_open") and tok.type != "paragraph_open":
            containers.append(tok.type)
        elif tok.type.endswith("_close") and tok.type != "paragraph_close" and containers:
            containers.pop()
        if tok.type == "paragraph_open":
            # Claude Code's lexer keeps a list item's own lines as raw "text" and scans that raw
            # text too (comments, tags and all), before the inline pieces.
            in_item_text = bool(containers) and containers[-1] == "list_item_open"
        if tok.type in ("fence", "code_block"):
            continue
        if tok.type == "html_block":
            if _is_comment_block(tok.content):
                rest = re.sub(_COMMENT, "", tok.content)
                if rest.strip():
                    _refs_in(rest, out)
            continue
        if tok.type == "inline":
            if in_item_text:
                _refs_in(tok.content, out)
            _inline_refs(tok.children or [], out)
            in_item_text = False


def _strip_comments(text: str, token_list: list[Any], drop_definitions: bool = False) -> tuple[str, bool]:
    """Text with top-level HTML comment blocks removed (and the blank lines right after each),
    on the LF-normalised text; (text, whether any comment block was removed).

    ``drop_definitions``: also drop top-level link reference definitions, which 2.1.112 loses
    because its lexer keeps no token for them when it re-joins the text."""
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    starts.append(len(text))

    def span(first: int, stop: int) -> tuple[int, int]:
        begin, end = starts[min(first, len(starts) - 1)], starts[min(stop, len(starts) - 1)]
        while end < len(text) and text[end] == "\n":
            end += 1
        return begin, end

    cuts: list[tuple[int, int, str]] = []
    covered: set[int] = set()
    for tok in token_list:
        if tok.level != 0 or not tok.map:
            continue
        covered.update(range(tok.map[0], tok.map[1]))
        if tok.type != "html_block":
            continue
        begin, end = span(tok.map[0], tok.map[1])
        raw = text[begin:end]
        if _is_comment_block(raw):
            rest = re.sub(_COMMENT, "", raw)
            cuts.append((begin, end, rest if rest.strip() else ""))
    removed = bool(cuts)
    if drop_definitions:
        line, lines = 0, len(starts) - 1
        while line < lines:
            if line in covered or not text[starts[line] : starts[line + 1]].strip():
                line += 1
                continue
            stop = line
            while stop < lines and stop not in covered and text[starts[stop] : starts[stop + 1]].strip():
                stop += 1
            cuts.append((*span(line, stop), ""))
            line = stop
    out: list[str] = []
    pos = 0
    for begin, end, keep in sorted(cuts):
        out += [text[pos:begin], keep]
        pos = end
    out.append(text[pos:])
    return "".join(out), removed


def import_refs(text: str) -> list[str]:
    """``@path`` references Claude Code would follow in ``text``, in order, each once
    (``#fragment`` cut, ``\\ `` unescaped; code, code spans and HTML skipped)."""
    out: list[str] = []
    _block_refs(_tokens(text.replace("\r\n", "\n").replace("\r", "\n")), out)
    return out


# --------------------------------------------------------------------------- frontmatter


@lru_cache(maxsize=1)
def _no_alias_loader() -> type[Any]:
    """A safe loader that refuses anchors and aliases (no alias blow-ups), built on first use
    (PyYAML is imported only when a memory file has frontmatter)."""
    import yaml

    class _NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("aliases are not allowed")
            return super().compose_node(parent, index)

    return _NoAliasLoader


def _yaml_mapping(text: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.load(text, Loader=_no_alias_loader())  # noqa: S506 - safe loader without aliases
    except (yaml.YAMLError, RecursionError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _split_patterns(value: Any) -> list[str]:
    if isinstance(value, list):
        return [p for v in value for p in _split_patterns(v)]
    if not isinstance(value, str):
        return []
    out: list[str] = []
    cur, depth = "", 0
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            if cur.strip():
                out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def split_memory_frontmatter(text: str) -> tuple[str, list[str]]:
    """(text after the frontmatter, ``paths:`` globs); no globs means it always loads."""
    m = re.match(_FRONTMATTER, text)
    if not m:
        return text, []
    paths = _yaml_mapping(m.group(1)).get("paths")
    if not paths:
        return text[m.end():], []
    globs = [p[:-3] if p.endswith("/**") else p for p in _split_patterns(paths)]
    globs = [g for g in globs if g]
    if not globs or all(g == "**" for g in globs):
        globs = []
    return text[m.end():], globs


def sent_content(text: str, profile: Profile | None = None) -> tuple[str, list[str], list[str]]:
    """(content as Claude Code sends it before trimming, its import refs, ``paths:`` globs)."""
    profile = profile or profile_for()
    body, globs = split_memory_frontmatter(text)
    content, refs = _analyse(body, profile.normalise_when_comment_seen)
    return content, list(refs), globs


@lru_cache(maxsize=256)
def _analyse(body: str, normalise_when_comment_seen: bool) -> tuple[str, tuple[str, ...]]:
    """Cached: memory files rarely change between two refreshes, and a parse is the cost."""
    if "@" not in body and "<!--" not in body:
        return body, ()  # nothing to import and nothing to strip: no parse needed
    normal = body.replace("\r\n", "\n").replace("\r", "\n")
    toks = _tokens(normal)
    refs: list[str] = []
    _block_refs(toks, refs)
    content = body
    if "<!--" in body:
        stripped, removed = _strip_comments(normal, toks, drop_definitions=normalise_when_comment_seen)
        if removed or normalise_when_comment_seen:
            content = stripped
    return content, tuple(refs)


# --------------------------------------------------------------------------- loading


@dataclass
class _Walk:
    scan: MemoryScan
    profile: Profile
    cwd: Path
    home: Path
    approved: bool
    overrides: dict[Path, str]
    seen: set[str] = field(default_factory=set)
    dirs_seen: set[str] = field(default_factory=set)
    excluded: Any = None  # (path) -> bool, from claudeMdExcludes


def _norm(path: Path | str) -> str:
    return unicodedata.normalize("NFC", os.path.normpath(str(path)))


def _inside(path: Path, folder: Path) -> bool:
    p, f = _norm(path), _norm(folder)
    return p == f or p.startswith(f.rstrip("/") + "/")


def _resolve_ref(ref: str, base: Path, home: Path) -> Path:
    ref = ref.strip()
    if ref == "~":
        return home
    if ref.startswith("~/"):
        return Path(_norm(home / ref[2:]))
    return Path(_norm(ref if os.path.isabs(ref) else base / ref))


def resolve_ref(ref: str, base: Path) -> Path:
    """Where an import points, relative to the importing file's folder (``~`` is HOME)."""
    return _resolve_ref(ref, base, Path.home())


def _real(path: Path) -> Path:
    try:
        st = os.lstat(path)
    except OSError:
        return path
    if stat.S_ISLNK(st.st_mode):
        try:
            return Path(os.path.realpath(path))
        except OSError:
            return path
    return path


def _read(w: _Walk, path: Path, real: Path) -> str | None:
    override = w.overrides.get(Path(os.path.abspath(path)))
    if override is not None:
        return override
    cap = w.profile.max_file_bytes or READ_CAP
    if os.path.isdir(real):
        return None
    try:
        data = safe_io.read_regular(real, cap)
    except safe_io.UnsafeReadError as exc:
        w.scan.unsafe.append((path, str(exc).split(": ", 1)[-1]))
        return None
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return None
    except OSError as exc:
        if os.path.lexists(real):
            w.scan.unsafe.append((path, f"not readable ({exc.strerror or exc})"))
        return None
    return data.decode("utf-8", errors="replace")


def _visit(w: _Walk, path: Path, kind: str, scope: str, external: bool, depth: int = 0,
           parent: Path | None = None, ref: str = "", chain: tuple[str, ...] = ()) -> list[MemoryFile]:
    key = _norm(path)
    if key in w.seen:
        if key in chain:
            w.scan.cycles.append((parent or path, ref))
        return []
    if depth >= MAX_IMPORT_DEPTH:
        if parent is not None:
            w.scan.too_deep.append((parent, ref))
        return []
    if kind in ("User", "Project", "Local") and w.excluded is not None and w.excluded(key):
        w.scan.excluded.append(path)
        return []
    real = _real(path)
    w.seen.add(key)
    w.seen.add(_norm(real))
    if w.profile.skips_system_files and any(_inside(p, Path(d)) for p in (path, real) for d in _SYSTEM_DIRS):
        w.scan.skipped.append((path, "a device or process file; Claude Code does not read it"))
        return []
    text = _read(w, path, real)
    if text is None:
        if parent is not None and not os.path.lexists(path):
            w.scan.missing.append((parent, ref))
        return []
    ext = os.path.splitext(path)[1].lower()
    if ext and ext not in TEXT_EXTENSIONS:
        w.scan.skipped.append((path, "non-text file; Claude Code skips it"))
        return []
    content, refs, globs = sent_content(text, w.profile)
    if not content.strip():
        if text.strip():
            w.scan.skipped.append((path, "empty once comments and frontmatter are removed; not sent"))
        return []
    if parent is not None:
        w.scan.imports.append((parent, ref, path))
    out = [MemoryFile(path, scope if depth == 0 else "import", text, 0, depth, parent, kind, content, globs)]
    for r in refs:
        target = _resolve_ref(r, path.parent, w.home)
        if not external and not _inside(target, w.cwd):
            if os.path.lexists(target) or w.overrides.get(target):
                w.scan.needs_approval.append((path, r))
            continue
        out += _visit(w, target, kind, scope, external, depth + 1, path, r, (*chain, key))
    return out


def _listing(folder: Path, sort: bool) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError:
        return []
    return sorted(entries, key=lambda e: e.name.encode("utf-8", "surrogateescape")) if sort else entries


def _rules(w: _Walk, top: Path, kind: str, external: bool) -> list[MemoryFile]:
    """Every ``*.md`` below a rules folder, depth first in listing order (without recursion:
    a tree thousands of folders deep is walked like any other)."""

    def enter(folder: Path) -> Iterator[os.DirEntry[str]] | None:
        if _norm(folder) in w.dirs_seen:
            return None
        real = _real(folder)
        w.dirs_seen.add(_norm(folder))
        w.dirs_seen.add(_norm(real))
        return iter(_listing(real, w.profile.sorted_listing))

    out: list[MemoryFile] = []
    first = enter(top)
    stack = [(top, first)] if first is not None else []
    while stack:
        folder, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        target = _real(folder / entry.name)
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
            is_file = entry.is_file(follow_symlinks=True)
        except OSError:
            continue
        if is_dir:
            sub = enter(target)
            if sub is not None:
                stack.append((target, sub))
        elif is_file and entry.name.endswith(".md"):
            loaded = _visit(w, target, kind, "rules", external)
            w.scan.conditional += [(f.path, f.globs) for f in loaded if f.globs]
            out += [f for f in loaded if not f.globs]
    return out


AUTO_MEMORY_MAX_LINES = 200
AUTO_MEMORY_MAX_CHARS = 25_000


def project_slug(folder: Path | str) -> str:
    """Claude Code's folder name for a project under ``~/.claude/projects``."""
    from ctxtui.core.sessions import project_dir_name

    return project_dir_name(str(folder))


def auto_memory_path(cwd: Path, claude_home: Path) -> Path:
    """Where Claude Code reads the auto-memory index for a project started in ``cwd``."""
    return claude_home / "projects" / project_slug(canonical_git_root(cwd) or cwd) / "memory" / "MEMORY.md"


def _auto_memory_enabled() -> bool:
    value = os.environ.get("CLAUDE_CODE_DISABLE_AUTO_MEMORY", "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return False
    return os.environ.get("CLAUDE_CODE_SIMPLE", "").strip().lower() not in ("1", "true", "yes", "on")


def _truncate_index(text: str) -> str:
    """Claude Code's cut of the auto-memory index (200 lines, 25,000 characters)."""
    body = text.strip()
    lines = body.split("\n")
    over_lines, over_chars = len(lines) > AUTO_MEMORY_MAX_LINES, len(body) > AUTO_MEMORY_MAX_CHARS
    if not over_lines and not over_chars:
        return body
    kept = "\n".join(lines[:AUTO_MEMORY_MAX_LINES]) if over_lines else body
    if len(kept) > AUTO_MEMORY_MAX_CHARS:
        cut = kept.rfind("\n", 0, AUTO_MEMORY_MAX_CHARS)
        kept = kept[: cut if cut > 0 else AUTO_MEMORY_MAX_CHARS]
    if over_chars and not over_lines:
        why = f"{_size(len(body))} (limit: {_size(AUTO_MEMORY_MAX_CHARS)}) — index entries are too long"
    elif over_lines and not over_chars:
        why = f"{len(lines)} lines (limit: {AUTO_MEMORY_MAX_LINES})"
    else:
        why = f"{len(lines)} lines and {_size(len(body))}"
    return (f"{kept}\n\n> WARNING: MEMORY.md is {why}. Only part of it was loaded. Keep index "
            "entries to one line under ~200 chars; move detail into topic files.")


def _size(n: int) -> str:
    kib = n / 1024
    if kib < 1:
        return f"{n} bytes"
    for value, unit in ((kib, "KB"), (kib / 1024, "MB")):
        if value < 1024:
            return f"{value:.1f}".removesuffix(".0") + unit
    return f"{kib / 1024 / 1024:.1f}".removesuffix(".0") + "GB"


def _auto_memory(w: _Walk, path: Path) -> list[MemoryFile]:
    key = _norm(path)
    if key in w.seen:
        return []
    text = _read(w, path, _real(path))
    if text is None:
        return []
    w.seen.add(key)
    body, _refs, _globs = sent_content(text, w.profile)
    content = _truncate_index(body)
    if not content:
        return []
    return [MemoryFile(path, "auto", text, 0, 0, None, "AutoMem", content)]


def _git_root(folder: Path) -> Path | None:
    for d in (folder, *folder.parents):
        if (d / ".git").exists():
            return d
    return None


def _small(path: Path) -> str:
    return safe_io.read_regular(path, 64 * 1024).decode("utf-8", "replace").strip()


def canonical_git_root(folder: Path) -> Path | None:
    """The repository a folder belongs to, seen through a linked worktree to its main
    repository (as Claude Code resolves it), or None outside git."""
    root = _git_root(folder)
    if root is None:
        return None
    try:
        head = _small(root / ".git")
    except OSError:
        return root  # a .git folder: the main repository itself
    if not head.startswith("gitdir:"):
        return root
    try:
        gitdir = Path(_norm(root / head[7:].strip()))
        common = Path(_norm(gitdir / _small(gitdir / "commondir")))
        if _norm(gitdir.parent) != _norm(common / "worktrees"):
            return root
        if _norm(os.path.realpath(_small(gitdir / "gitdir"))) != _norm(Path(os.path.realpath(root)) / ".git"):
            return root
    except OSError:
        return root
    return common if common.name != ".git" else common.parent


def _glob_part(p: str) -> str:
    out, i, n = [], 0, len(p)
    while i < n:
        c = p[i]
        if p.startswith("**", i):
            j = i + 2
            if (i == 0 or p[i - 1] == "/") and (j == n or p[j] == "/"):
                out.append("(?:.*/)?" if j < n else ".*")
                i = j + 1 if j < n else j
            else:
                out.append("[^/]*")
                i = j
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(p[i]))
        elif c == "{":
            depth, j = 0, i
            while j < n:
                depth += {"{": 1, "}": -1}.get(p[j], 0)
                if depth == 0:
                    break
                j += 1
            if j >= n:
                out.append(re.escape(c))
            else:
                alts = _split_patterns(p[i + 1 : j]) if "," in p[i + 1 : j] else [p[i + 1 : j]]
                out.append("(?:" + "|".join(_glob_part(a) for a in alts) + ")")
                i = j
        elif c == "[":
            j = p.find("]", i + 2)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = p[i + 1 : j]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def exclude_matcher(patterns: Iterable[str]):
    """A test for ``claudeMdExcludes`` globs (picomatch with dot files, as Claude Code uses):
    absolute patterns also match through their folder's real path."""
    pats = [p.replace("\\", "/") for p in patterns if isinstance(p, str) and p]
    for p in list(pats):
        if p.startswith("/"):
            cut = re.search(r"[*?{\[]", p)
            static = p if cut is None else p[: cut.start()]
            folder = os.path.dirname(static)
            real = os.path.realpath(folder) if folder else folder
            if real != folder:
                pats.append(real + p[len(folder):])
    positive = [re.compile(_glob_part(p)) for p in pats if not p.startswith("!")]
    negative = [re.compile(_glob_part(p[1:])) for p in pats if p.startswith("!")]

    def excluded(path: Path | str) -> bool:
        text = str(path).replace("\\", "/")
        return any(r.fullmatch(text) for r in positive) or any(not r.fullmatch(text) for r in negative)

    return excluded


def settings_excludes(cwd: Path, claude_home: Path | None, managed_dir: Path | None = None) -> list[str]:
    """``claudeMdExcludes`` from every settings file Claude Code merges (user, project, local,
    managed); unreadable or malformed files add nothing."""
    files = [cwd / ".claude" / "settings.json", cwd / ".claude" / "settings.local.json"]
    if claude_home is not None:
        files.insert(0, claude_home / "settings.json")
    files.append((managed_dir if managed_dir is not None else default_managed_dir()) / "managed-settings.json")
    out: list[str] = []
    for f in files:
        try:
            data = json.loads(safe_io.read_regular(f, 16 * 1024 * 1024))
        except (OSError, ValueError, RecursionError):
            continue
        value = data.get("claudeMdExcludes") if isinstance(data, dict) else None
        if isinstance(value, list):
            out += [v for v in value if isinstance(v, str) and v not in out]
    return out


def external_imports_approved(cwd: Path, config_file: Path | None) -> bool:
    """Whether the user approved imports from outside the project (``~/.claude.json``)."""
    if config_file is None:
        return False
    try:
        data = json.loads(safe_io.read_regular(config_file, 64 * 1024 * 1024))
    except (OSError, ValueError, RecursionError):
        return False
    projects = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(projects, dict):
        return False
    key = canonical_git_root(cwd) or cwd
    entry = projects.get(_norm(key))
    return isinstance(entry, dict) and entry.get("hasClaudeMdExternalIncludesApproved") is True


def _user_config_file(claude_home: Path) -> Path:
    if os.environ.get("CLAUDE_CONFIG_DIR"):
        return claude_home / ".claude.json"
    return claude_home.parent / ".claude.json" if claude_home.name == ".claude" else claude_home / ".claude.json"


def load(cwd: Path, claude_home: Path | None, *, profile: Profile | None = None,
         managed_dir: Path | None = None, home: Path | None = None,
         approved_external: bool | None = None, overrides: dict[Path, str] | None = None,
         auto_memory: bool | None = None, excludes: Iterable[str] | None = None) -> MemoryScan:
    """Every memory file Claude Code sends when started in ``cwd``, in its order.

    ``claude_home`` is the user's config folder (``~/.claude``; None leaves user memory out),
    ``managed_dir`` the managed policy folder (default: this OS's), ``home`` what ``~`` means in
    imports (default: HOME), ``approved_external`` overrides what ``~/.claude.json`` says, and
    ``overrides`` maps absolute paths to text to use instead of the file (a projection of what a
    migration would write). ``auto_memory`` False leaves the auto-memory index out (default:
    on unless ``CLAUDE_CODE_DISABLE_AUTO_MEMORY`` is set, as in Claude Code). ``excludes`` are
    ``claudeMdExcludes`` globs (default: read from the settings files).
    """
    profile = profile or profile_for()
    cwd = Path(_norm(os.path.abspath(cwd)))
    if approved_external is None:
        approved_external = (external_imports_approved(cwd, _user_config_file(claude_home))
                             if claude_home is not None else False)
    w = _Walk(MemoryScan(profile=profile), profile, cwd, home or Path.home(), approved_external,
              {Path(os.path.abspath(p)): t for p, t in (overrides or {}).items()})
    files = w.scan.files
    managed = managed_dir if managed_dir is not None else default_managed_dir()
    patterns = list(excludes) if excludes is not None else settings_excludes(cwd, claude_home, managed)
    w.excluded = exclude_matcher(patterns) if patterns else None
    files += _visit(w, managed / "CLAUDE.md", "Managed", "managed", approved_external)
    files += _rules(w, managed / ".claude" / "rules", "Managed", approved_external)
    if claude_home is not None:
        files += _visit(w, claude_home / "CLAUDE.md", "User", "user", True)
        files += _rules(w, claude_home / "rules", "User", True)
    chain = [cwd, *cwd.parents]
    worktree, main = _git_root(cwd), canonical_git_root(cwd)
    # The main checkout when this worktree is nested inside it, else None.
    outer = (main if worktree is not None and main is not None and _norm(worktree) != _norm(main)
             and _inside(worktree, main) else None)
    for folder in reversed([d for d in chain if d != d.parent]):
        # A worktree nested inside its main repository skips the main checkout's project files
        # (they are the same files, older), but not its CLAUDE.local.md.
        if not (outer is not None and worktree is not None and _inside(folder, outer)
                and not _inside(folder, worktree)):
            files += _visit(w, folder / "CLAUDE.md", "Project", "project", approved_external)
            files += _visit(w, folder / ".claude" / "CLAUDE.md", "Project", "project", approved_external)
            files += _rules(w, folder / ".claude" / "rules", "Project", approved_external)
        files += _visit(w, folder / "CLAUDE.local.md", "Local", "local", approved_external)
    if claude_home is not None and (auto_memory if auto_memory is not None else _auto_memory_enabled()):
        files += _auto_memory(w, auto_memory_path(cwd, claude_home))
    for f in files:
        desc = profile.managed_description if f.kind == "Managed" else DESCRIPTIONS.get(f.kind, "")
        f.header = f"Contents of {f.path}{desc}:\n\n"
        f.tokens, f.sent_tokens = tokens.count_many([f.text, _file_text(f)])
    return w.scan


def scan(workspace: Path, claude_home: Path | None, overrides: dict[Path, str] | None = None,
         **kwargs: Any) -> MemoryScan:
    """:func:`load` for Claude Code started in ``workspace`` (the older call shape)."""
    return load(workspace, claude_home, overrides=overrides, **kwargs)


def roots(workspace: Path, claude_home: Path | None, extra: Iterable[Path] = ()) -> list[tuple[Path, str]]:
    """The memory files that start import chains and load, with their scope; ``extra`` are
    files about to be written (counted as if they held text)."""
    loaded = load(workspace, claude_home, overrides={p: "(pending)" for p in extra})
    return [(f.path, f.scope) for f in loaded.files if f.depth == 0]


# --------------------------------------------------------------------------- what is sent


def _file_text(f: MemoryFile) -> str:
    return f"{f.header}{f.content.strip()}"


def _once_text(profile: Profile) -> str:
    return f"{profile.wrapper[0]}{PREAMBLE}\n\n{profile.wrapper[1]}"


def memory_text(result: MemoryScan) -> str:
    """The memory text exactly as Claude Code sends it ("" when nothing loads), without the
    reminder around it (see :attr:`Profile.wrapper`)."""
    parts = [_file_text(f) for f in result.files]
    return f"{PREAMBLE}\n\n" + "\n\n".join(parts) if parts else ""


def budget_items(result: MemoryScan) -> list[BudgetItem]:
    """The memory part of the startup budget: one ``memory`` item per file sent (its tokens
    include the header and the blank line joining it to the previous one), and one more for
    the text Claude Code adds once whenever any memory loads (preamble and wrapper)."""
    if not result.files:
        return []
    items = [BudgetItem("memory", "Claude Code memory preamble", "", "fixed",
                        tokens.count(_once_text(result.profile)))]
    for i, f in enumerate(result.files):
        text = ("\n\n" if i else "") + _file_text(f)
        label = f"@import from {f.imported_by.name}" if f.imported_by else f.path.name
        items.append(BudgetItem("memory", label, str(f.path), f.scope, tokens.count(text)))
    return items
