"""The generated CLAUDE.md block: user text kept byte for byte, densities, persona imports."""

from __future__ import annotations

from ctxtui.core import claude_md, strategies
from ctxtui.core.workspace import Workspace

USER_ABOVE = "# Project\r\n\r\nTabs\there, trailing spaces   \r\n"
USER_BELOW = "\n## After\n\nMore notes, no final newline"


def test_splice_keeps_user_text_above_and_below_byte_for_byte():
    text = USER_ABOVE + claude_md.BEGIN + "\nold\n" + claude_md.END + USER_BELOW
    new = claude_md.splice(text, f"{claude_md.BEGIN}\nnew block\n{claude_md.END}")
    assert new == USER_ABOVE + f"{claude_md.BEGIN}\nnew block\n{claude_md.END}" + USER_BELOW
    # removing the block (eager) also removes the line break that ended its line
    assert claude_md.splice(new, None) == USER_ABOVE + USER_BELOW[1:]


def test_splice_appends_to_a_file_without_a_block_and_removes_cleanly():
    block = f"{claude_md.BEGIN}\nx\n{claude_md.END}"
    for user in ("", "notes", "notes\n", "notes\n\n"):
        added = claude_md.splice(user, block)
        assert added.startswith(user) and block in added
        assert claude_md.splice(added, None).rstrip("\n") == user.rstrip("\n")


def test_migration_to_lazy_preserves_user_text_around_the_block(settings):
    path = settings.workspace / "CLAUDE.md"
    path.write_bytes(USER_ABOVE.encode() + b"\n")
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)
    text = path.read_bytes().decode()
    assert text.startswith(USER_ABOVE + "\n")
    span = claude_md.block_span(text)
    block = text[span[0]:span[1]]
    assert "`alpha`" in block and "`persona-manager` (pinned)" in block
    assert "ctxtui activate NAME" in block and "general-purpose" in block
    assert "ask the `persona-manager` subagent" in block  # only said when it is hot
    # user edits below the block survive a later regeneration
    path.write_bytes(text.encode() + USER_BELOW.encode())
    ws.activate(["beta"])
    again = path.read_bytes().decode()
    assert again.startswith(USER_ABOVE) and again.endswith(USER_BELOW)
    assert "`beta`" in again[claude_md.block_span(again)[0]:]


def test_full_density_lists_each_cold_persona_with_trigger_and_path(settings):
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], density="full", force=True)
    text = (settings.workspace / "CLAUDE.md").read_text()
    for name in ("beta", "gamma", "delta", "epsilon"):
        line = next(x for x in text.splitlines() if x.startswith(f"- `{name}`"))
        assert f"Use {name} for task number" in line and line.endswith(f"{name}.md")


def test_density_costs_grow_from_search_to_full_and_default_by_size(settings):
    ws = Workspace(settings)
    pv = strategies.preview(ws)
    assert pv.costs["search"] < pv.costs["full"]
    assert claude_md.default_density(10) == "full"
    assert claude_md.default_density(100) == "names"
    assert claude_md.default_density(500) == "search"


def test_names_density_groups_by_category(tmp_path):
    from conftest import persona_text
    from ctxtui.core.config import load_settings

    lib = tmp_path / "lib"
    for group, name in (("db", "sql"), ("db", "nosql"), ("web", "react")):
        f = lib / "plugins" / group / "agents" / f"{name}.md"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(persona_text(name, body=f"You are {name}.\n"))
    ws = Workspace(load_settings(workspace=tmp_path, library_dirs=[lib]))
    block = strategies.preview(ws, "names").block
    assert "- **db**: nosql, sql" in block and "- **web**: react" in block
    assert "- **general**: persona-manager" in block
    assert "ask the `persona-manager`" not in block  # it is cold here, so the block doesn't point at it


def test_trigger_summary_drops_examples_and_keeps_first_sentence():
    desc = "Use for SQL tuning. Also more. Examples:\\n<example>user: x</example>"
    assert claude_md.trigger(desc) == "Use for SQL tuning."
    assert claude_md.trigger("x" * 300).endswith("…")


def test_persona_imports_are_detected_and_replaced_on_request(settings, library):
    path = settings.workspace / "CLAUDE.md"
    path.write_text(f"# Team\n@{library}/alpha.md\nSee @{library}/beta.md for reviews.\n@docs/other.md\n")
    ws = Workspace(settings)
    plan = strategies.plan(ws, "lazy_loading", force=True)
    assert len(plan.persona_imports) == 2
    assert any("--replace-imports" in n for n in plan.notes)
    # The library is outside the project: Claude Code loads these only after the user approves
    # external imports, so they are flagged rather than counted.
    assert [ref for _, ref in ws.memory.needs_approval] == [f"{library}/alpha.md", f"{library}/beta.md"]
    strategies.migrate(ws, "lazy_loading", replace_imports=True, force=True)
    text = path.read_text()
    assert "@" + str(library) not in text
    assert text.startswith("# Team\nSee `beta` (cold, see ctxtui block) for reviews.\n@docs/other.md\n")
    assert not [i for i in ws.budget().items if i.scope == "import"]
