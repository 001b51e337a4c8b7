"""The CLI's JSON output: the fast encoder writes what ``json.dumps`` writes."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from ctxtui.cli import output

_plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=20,
)


@given(_plain)
def test_plain_json_is_byte_for_byte_what_json_dumps_writes(data):
    fast = output._plain_dumps(data)
    # None only where msgspec refuses (a lone surrogate): emit_json then asks json itself
    assert fast is None or fast.decode("ascii") == json.dumps(data, indent=2, default=str)


def test_emit_json_plain_falls_back_for_lone_surrogates(capsys):
    data = {"path": "/lib/caf\udce9.md", "n": [1, {"ok": True}]}
    output.emit_json(data, plain=True)
    assert capsys.readouterr().out == json.dumps(data, indent=2) + "\n"
