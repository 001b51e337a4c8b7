"""The TUI shows persona and transcript text as text: a name with rich markup (``[/]``,
``[bold]``, ``[@click=…]``) neither crashes a table nor styles or links anything, and escape
sequences or bidi overrides are shown as ``?``."""

from __future__ import annotations

import json

from rich.text import Text
from test_tui import SIZE, app_for, open_analytics, settle

from ctxtui.core.config import load_settings
from ctxtui.tui.widgets.persona_list import PersonaList

NAMES = ["mk[/]close", "[bold red]redname[/bold red]", "x[@click=app.quit]y[/]", "ansi\x1b[31mred\u202eevil"]
SHOWN = ["mk[/]close", "[bold red]redname[/bold red]", "x[@click=app.quit]y[/]", "ansi?[31mred?evil"]


def shown(cell) -> str:
    """What a DataTable cell puts on screen (a string cell is read as markup)."""
    return cell.plain if isinstance(cell, Text) else Text.from_markup(cell).plain


def hostile_library(root):
    lib = root / "hostile"
    lib.mkdir()
    for i, name in enumerate(NAMES):
        quoted = name.replace("\x1b", "\\e").replace("\u202e", "\\u202e")
        (lib / f"p{i}.md").write_text(f'---\nname: "{quoted}"\ndescription: "[red]d[/red] for {i}"\n---\nbody\n')
    return lib


async def test_hostile_names_show_as_written_in_the_lists_and_the_analytics(tmp_path, workspace):
    lib = hostile_library(tmp_path)
    proj = tmp_path / "transcripts" / "-proj"
    proj.mkdir(parents=True)
    lines = [{"type": "user", "timestamp": "2026-11-01T10:00:00Z", "message": {"content": "review"}},
             {"type": "assistant", "requestId": "r1", "timestamp": "2026-11-01T10:00:01Z", "message": {
                 "id": "m1", "content": [{"type": "tool_use", "id": "t1", "name": "Task",
                                          "input": {"subagent_type": "evil[/]name", "prompt": "go"}}]}}]
    (proj / "s.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    s = load_settings(workspace=workspace, library_dirs=[lib], transcripts_dir=tmp_path / "transcripts")
    app = app_for(s)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        cold = screen.query_one("#cold", PersonaList)
        on_screen = {shown(cell) for i in range(cold.row_count) for cell in cold.get_row_at(i)}
        for name in SHOWN:
            assert any(name in text for text in on_screen), name
        table = await open_analytics(pilot, app)
        assert shown(table.get_row_at(0)[0]).startswith("evil[/]name")
        assert app.is_running
