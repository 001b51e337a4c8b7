"""libyaml's parser under yaml_js's loaders gives the pure loader's answer, or steps aside.

Every document is parsed twice: the way Claude Code's model does it (libyaml first) and with
the pure-Python loader only; the value, or the error message, must be the same.
"""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import WSHOBSON as CORPUS
from ctxtui.core.claude_code import yaml_c, yaml_js
from ctxtui.core.claude_code.agents import _FRONTMATTER

OPTIONS = [
    {"duplicate_keys_error": True, "lone_cr_is_text": True},
    {"duplicate_keys_error": False, "reject_nul": True},
    {"duplicate_keys_error": False, "reject_nul": True, "keep_block_eof_newline": True},
]


def _outcome(text: str, opts: dict, *, pure: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    with monkeypatch.context() as m:
        if pure:
            m.setattr(yaml_c, "parse", lambda *_: yaml_c.FALLBACK)
        try:
            return "value", yaml_js.parse(text, **opts)
        except yaml_js.JsYamlError as exc:
            return "error", str(exc)


def _same(a: Any, b: Any, seen: set[tuple[int, int]] | None = None) -> bool:
    """Equal, NaN included, of the same types (1 is not True, 1.0 is not 1), and shaped the
    same where an alias makes a value contain itself."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if not isinstance(a, dict | list):
        return bool(a == b)
    seen = set() if seen is None else seen
    if (id(a), id(b)) in seen:
        return True
    seen.add((id(a), id(b)))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k], seen) for k in a)
    return len(a) == len(b) and all(_same(x, y, seen) for x, y in zip(a, b, strict=True))


def assert_identical(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for opts in OPTIONS:
        fast = _outcome(text, opts, pure=False, monkeypatch=monkeypatch)
        slow = _outcome(text, opts, pure=True, monkeypatch=monkeypatch)
        assert fast[0] == slow[0] and _same(fast[1], slow[1]), (text, opts, fast, slow)


def _corpus_frontmatters() -> list[str]:
    out = []
    for path in sorted(CORPUS.rglob("*.md")):
        m = _FRONTMATTER.match(path.read_text(encoding="utf-8", errors="replace"))
        if m:
            out.append(m[1])
    return out


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared wshobson corpus is not here")
def test_every_corpus_frontmatter_parses_the_same_and_by_libyaml(monkeypatch):
    texts = _corpus_frontmatters()
    assert len(texts) > 100
    for text in texts:
        assert_identical(text, monkeypatch)
    # the fast path really answers them (a silent fallback everywhere would prove nothing)
    answered = sum(yaml_c.parse(t, yaml_js._loaders()[0]) is not yaml_c.FALLBACK for t in texts)
    assert answered == len(texts)


ADVERSARIAL = [
    "name: yes\ndescription: no", "a: on\nb: off\nc: Yes\nd: TRUE\ne: y",
    "a: 0x1F\nb: 0o17\nc: 017\nd: 1e3\ne: 1_000\nf: +12\ng: -0x1F\nh: 0b101",
    "a: ~\nb: null\nc: Null\nd:\ne: NULL\nf: nul",
    "a: 2024-01-01\nb: 2001-12-14t21:59:43.10-05:00\nc: 1:20\nd: 12:30:00",
    "a: .inf\nb: -.Inf\nc: .nan\nd: .NaN\ne: 1.\nf: .5\ng: 1e\nh: +.inf",
    "a: <<\nb: =\n<<: {x: 1}", "a: !!str 12\nb: !!int '7'\nc: !custom x",
    "a: !!binary aGVsbG8=", "a: !!set {x, y}", "a: !!omap [x: 1]", "? [a, b]\n: c",
    "a: 1\na: 2", "{a: 1, a: 1}", "[a, b", "a: 'open", "a: b: c", "- a\nb: c",
    "a: |\n  x\n  y\n", "a: |+\n  x\n\n", "a: >-\n  folded\n  text\n", "a: |2\n    x",
    "a: \"esc \\x41 \\u263A \\U0001F600 \\N \\_ \\L \\P\"", "a: 'it''s'",
    "a: &x 1\nb: *x", "a: &x [1, *x]", "a: *missing", "&a [*a]",
    "a: \t1", "\ta: 1", "a:\n\t- b", "a: b\t# c", "a: [b,c]", "a: {b:c}", "a: [b:c]",
    "a: x # comment\nb: 'y' #c", "a: ---\nb: ...", "--- x", "a: 1\n---\nb: 2", "a: 1\n...",
    "%YAML 1.1\n---\na: 1", "%TAG ! tag:x,2000:\n---\na: !y 1",
    "\ufeffa: 1", "a: \u2028b", "a: x\u0085y", "a: \x00", "a: x\ry", "a: x\r\nb: y",
    "a: \x07bell", "a: \ud7ff\ue000\ufffd", "a: \U0001F600", "a: -", "- - - x", "? ? ? x",
    "a: [1, [2, [3, {b: [4]}]]]", "'a': 1\n\"b\": 2", "a: 'multi\n  line'", "a: \"x\\\ny\"",
    "description: Use when: things happen", "tools: Read, Write\nmodel: inherit",
    "name: x\ndescription: |\n  Long\n\n  text\n  - with: colon\n", "", " ", "#only", "[]", "x",
    "a: !!float 1", "a: !!bool yes", "a: !!null ''", "a: 0.", "a: -.5e-3", "a: 1__0", "a: 0x",
]


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_adversarial_inputs_parse_the_same(text, monkeypatch):
    assert_identical(text, monkeypatch)


def test_deep_nesting_is_left_to_the_pure_loader(monkeypatch):
    for depth in (yaml_c.MAX_DEPTH - 2, yaml_c.MAX_DEPTH + 1, 400, 5000, 100_000):
        text = "a: " + "[" * depth + "]" * depth
        assert_identical(text, monkeypatch)
        block = "".join(" " * i + f"k{i}:\n" for i in range(min(depth, 600))) + " " * 600 + "v"
        assert_identical(block, monkeypatch)
    assert yaml_c.parse("a: " + "[" * 100 + "]" * 100, yaml_js._loaders()[0]) is yaml_c.FALLBACK


def test_alias_bombs_are_refused_before_construction(monkeypatch):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 40)]
    text = "\n".join(lines)
    start = time.perf_counter()
    assert_identical(text, monkeypatch)
    assert time.perf_counter() - start < 2
    with pytest.raises(yaml_js.JsYamlError, match="aliases"):
        yaml_js.parse(text, duplicate_keys_error=True)
    ok = "a: &a 1\n" + "\n".join(f"b{i}: *a" for i in range(yaml_js.MAX_ALIASES))
    assert_identical(ok, monkeypatch)
    assert_identical(ok + "\nz: *a", monkeypatch)


_SCALARS = st.sampled_from([
    "yes", "No", "on", "0x1F", "0o7", "1e3", "~", "null", "2024-01-01", "12:30", ".inf", "-.nan",
    "true", "'q'", '"d\\n"', "a b", "x: y", "- z", "[1, 2]", "{k: v}", "&n 1", "*n", "!!str 5",
    "|\n  lit", ">\n  fold", "#c", "'", '"', "\t", "%", "@x", "`x`", "1_000", "+1", "0.", "",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.tuples(st.sampled_from(["name", "description", "tools", "a", "name", "-", "? x"]),
                          _SCALARS, st.sampled_from(["", " ", "  ", "\t"])), max_size=6))
def test_generated_frontmatter_parses_the_same(items, monkeypatch):
    assert_identical("\n".join(f"{indent}{key}: {value}" for key, value, indent in items), monkeypatch)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="ab: -[]{}#&*!|>'\"\n,?~0x1e.%@`\\+\r\u0085\u2028\ufeff", max_size=40))
def test_random_yaml_text_parses_the_same(text, monkeypatch):
    assert_identical(text, monkeypatch)
