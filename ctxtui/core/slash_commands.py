"""Custom slash commands (``.claude/commands/**/*.md``) as Claude Code lists them for the model.

A command joins the skill listing (core.skills) under its name (``dir:name`` for a file in a
sub-folder) with its frontmatter ``description``, else its first non-empty line; one with
``disable-model-invocation: true`` is typed by the user only and is not listed.
"""

from __future__ import annotations

from pathlib import Path

from ctxtui.core.skills import MAX_FILES, Skill, read_entry

MAX_DEPTH = 8


def command_files(folder: Path, scope: str) -> list[Skill]:
    """Commands under FOLDER in sorted path order (regular ``.md`` files, bounded walk)."""
    out: list[Skill] = []

    def walk(d: Path, prefix: tuple[str, ...], depth: int) -> None:
        if depth > MAX_DEPTH or len(out) >= MAX_FILES:
            return
        try:
            children = sorted(d.iterdir())
        except OSError:
            return
        for child in children:
            if child.is_symlink() and child.is_dir():
                continue
            if child.is_dir():
                walk(child, (*prefix, child.name), depth + 1)
            elif child.suffix == ".md" and len(out) < MAX_FILES:
                entry = read_entry(child, ":".join((*prefix, child.stem)), "command", scope)
                if entry is not None:
                    out.append(entry)

    walk(folder, (), 0)
    return out


def project_commands(cwd: Path, claude_home: Path | None) -> list[Skill]:
    """Project then user commands."""
    found = command_files(cwd / ".claude" / "commands", "project")
    if claude_home is not None:
        found += command_files(claude_home / "commands", "user")
    return found
