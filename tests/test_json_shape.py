"""A rewrite of someone's settings file changes only what it must: indent, line endings, final
newline and byte-order mark stay as the file had them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctxtui.core import claude_settings
from ctxtui.core.json_shape import BOM, Shape, dump, shape_of

USERS = BOM + b'{\r\n    "env": {"A": "\xc3\xa9"},\r\n    "permissions": {"deny": ["Bash(rm:*)"]}\r\n}'


def test_the_shape_is_read_from_the_bytes():
    assert shape_of(USERS) == Shape(bom=True, newline="\r\n", indent=4, trailing_newline=False)
    assert shape_of(b'{\n\t"a": 1\n}\n') == Shape(indent="\t")
    assert shape_of(None) == shape_of(b"  ") == Shape()


@pytest.mark.parametrize("raw", [USERS, b'{\n\t"a": [1, 2]\n}\n', b'{"a": 1}'])
def test_dump_of_the_same_object_gives_back_bytes_laid_out_alike(raw):
    obj = json.loads(raw.removeprefix(BOM))
    again = dump(obj, shape_of(raw))
    assert shape_of(again) == shape_of(raw) and json.loads(again.removeprefix(BOM)) == obj


def test_hiding_an_agent_keeps_the_users_layout(tmp_path: Path):
    new = claude_settings.with_deny(tmp_path / "settings.local.json", USERS, {"web-tester"}, set())
    assert new is not None and new.startswith(BOM) and b"\r\n    \"env\"" in new
    assert not new.endswith(b"\n") and b"\n" not in new.replace(b"\r\n", b"")
    data = json.loads(new.removeprefix(BOM))
    assert data["permissions"]["deny"] == ["Bash(rm:*)", "Agent(web-tester)"]
    assert data["env"] == {"A": "\u00e9"}
    back = claude_settings.with_deny(tmp_path / "settings.local.json", new, set(), {"web-tester"})
    assert back is not None and json.loads(back.removeprefix(BOM)) == json.loads(USERS.removeprefix(BOM))


def test_setting_the_model_keeps_the_users_layout(tmp_path: Path):
    new = claude_settings.with_model(tmp_path / "s.json", "ft:x", set(), raw=USERS)
    assert new is not None and shape_of(new) == shape_of(USERS)
    assert json.loads(new.removeprefix(BOM))["model"] == "ft:x"
