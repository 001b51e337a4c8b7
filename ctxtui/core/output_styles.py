"""The output style a session starts with (``outputStyle`` in the settings).

Claude Code does not list output styles; the selected one changes the system prompt: its
``# Output Style: NAME`` section is added (with a changed intro line and, in newer releases, a
"style is active" note), and unless the style sets ``keep-coding-instructions: true`` 2.1.112
drops its "Doing tasks" section. Custom styles live in ``.claude/output-styles/*.md`` (project)
and ``~/.claude/output-styles/*.md`` (user); a style's name is its frontmatter ``name`` or the
file name. Claude Code's own styles (Explanatory, Learning) ship inside it: their text is not
measured here, so their size is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ctxtui.core.claude_code import parse_frontmatter, profile_for
from ctxtui.core.safe_io import UnsafeReadError, read_regular

FILE_CAP = 1024 * 1024
MAX_FILES = 500
BUILTIN = ("Explanatory", "Learning")
_FENCE = re.compile(r"^---[ \t]*\r?\n(?:.*?\r?\n)?---[ \t]*(?:\r?\n|$)", re.S)


@dataclass
class OutputStyle:
    """The selected output style."""

    name: str
    path: str
    """Its file ("" for Claude Code's own styles)."""
    prompt: str | None
    """The style's text as sent; None when it is one of Claude Code's own (not measured)."""
    keep_coding_instructions: bool = False

    @property
    def section(self) -> str | None:
        """The system-prompt section it adds (None when its text is unknown)."""
        if self.prompt is None:
            return None
        return f"\n\n# Output Style: {self.name}\n{self.prompt}"


def _read(path: Path) -> OutputStyle | None:
    try:
        text = read_regular(path, FILE_CAP).decode("utf-8", "replace")
    except (OSError, UnsafeReadError):
        return None
    fm = parse_frontmatter(text, profile_for(None)).data
    m = _FENCE.match(text)
    name = fm.get("name") if isinstance(fm.get("name"), str) and fm["name"].strip() else path.stem
    keep = fm.get("keep-coding-instructions")
    return OutputStyle(str(name).strip(), str(path), (text[m.end():] if m else text).strip(),
                       keep is True or (isinstance(keep, str) and keep.lower() == "true"))


def selected(cwd: Path, claude_home: Path | None, name: object) -> OutputStyle | None:
    """The style NAME (the merged ``outputStyle`` setting) or None for the default.

    Project styles win over user styles of the same name.
    """
    if not isinstance(name, str) or not name.strip() or name.strip().lower() == "default":
        return None
    name = name.strip()
    folders = [cwd / ".claude" / "output-styles"]
    if claude_home is not None:
        folders.append(claude_home / "output-styles")
    for folder in folders:
        try:
            files = sorted(p for p in folder.glob("*.md"))[:MAX_FILES]
        except OSError:
            continue
        for path in files:
            style = _read(path)
            if style is not None and style.name == name:
                return style
    if name in BUILTIN:
        return OutputStyle(name, "", None, keep_coding_instructions=True)
    return None
