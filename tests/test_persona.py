"""Persona parsing: well-formed, repairable and unrecoverable files."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ctxtui.core.persona import Status, parse_persona, safe_stem, startup_entry


def parse(text: str | bytes, name: str = "x.md"):
    data = text.encode() if isinstance(text, str) else text
    return parse_persona(Path("/lib") / name, data)


def test_well_formed_persona_reads_every_known_field_and_keeps_unknown_ones():
    p = parse("---\nname: sql-pro\ndescription: SQL help.\ntools: Read, Grep\nmodel: haiku\ncolor: red\nteam: data\n---\nBody\n")
    assert p.status is Status.OK and p.problems == []
    assert (p.name, p.description, p.tools, p.model, p.color) == ("sql-pro", "SQL help.", ["Read", "Grep"], "haiku", "red")
    assert p.extra == {"team": "data"}
    assert p.body == "Body\n"


def test_tools_as_yaml_list():
    p = parse("---\nname: a\ndescription: d\ntools:\n  - Read\n  - Bash\n---\n")
    assert p.tools == ["Read", "Bash"]


def test_startup_entry_is_the_agent_list_line():
    assert startup_entry("a", "does b", None) == "- a: does b (Tools: All tools)"
    assert startup_entry("a", "does b", ["Read", "Grep"]) == "- a: does b (Tools: Read, Grep)"


def test_unquoted_colon_in_description_is_repaired():
    p = parse("---\nname: planner\ndescription: Use this when: planning a sprint\nmodel: sonnet\n---\nBody")
    assert p.status is Status.REPAIRED
    assert p.description == "Use this when: planning a sprint"
    assert p.model == "sonnet"
    assert "not valid YAML" in p.problem


def test_example_blocks_with_literal_backslash_n_and_user_lines_are_repaired():
    desc = ('Use this agent for prototypes. Examples:\\n\\n<example>\\nContext: new app\\nuser: "Build an app"\\n'
            'assistant: "I will use the rapid-prototyper agent."\\n</example>')
    p = parse(f"---\nname: rapid-prototyper\ndescription: {desc}\ncolor: green\ntools: Write, Bash\n---\nYou build.\n")
    assert p.status is Status.REPAIRED
    assert p.name == "rapid-prototyper"
    assert p.description == desc
    assert p.tools == ["Write", "Bash"] and p.color == "green"


def test_description_running_onto_conversation_lines_is_repaired():
    text = ("---\nname: reviewer\ndescription: Use after coding. Examples:\n<example>\nContext: a PR\n"
            "user: Please review\nassistant: I'll use the reviewer agent\n</example>\nmodel: opus\n---\nBody\n")
    p = parse(text)
    assert p.status is Status.REPAIRED
    assert p.description.startswith("Use after coding. Examples:")
    assert "user: Please review" in p.description
    assert p.model == "opus"


def test_indented_frontmatter_and_leading_blank_lines_are_repaired():
    p = parse("\n\n  ---\n  name: a\n  description: b\n  ---\nBody\n")
    assert p.status is Status.REPAIRED
    assert (p.name, p.description) == ("a", "b")
    assert any("blank line" in x for x in p.problems)
    assert any("indented" in x for x in p.problems)


def test_no_frontmatter_is_invalid_with_a_reason():
    p = parse("# Just a heading\n\ntext\n")
    assert p.status is Status.INVALID and "no YAML frontmatter" in p.problem


def test_unclosed_frontmatter_is_invalid():
    assert "never closed" in parse("---\nname: a\ndescription: b\n").problem


def test_empty_file_is_invalid():
    assert parse(b"").problem == "empty file"
    assert parse(b"  \n\n").status is Status.INVALID


def test_non_utf8_bytes_are_repaired_not_fatal():
    p = parse(b"---\nname: caf\xe9\ndescription: latin-1 text\n---\nBody\n")
    assert p.status is Status.REPAIRED
    assert "not valid UTF-8" in p.problem and "offset 13" in p.problem
    assert p.name == "caf\ufffd"


def test_missing_description_is_invalid_because_claude_code_skips_it():
    p = parse("---\nname: a\n---\nBody\n")
    assert p.status is Status.INVALID and "no description" in p.problem


def test_missing_name_falls_back_to_file_name():
    p = parse("---\ndescription: b\n---\n", name="helper.md")
    assert p.status is Status.REPAIRED and p.name == "helper"


def test_unrecoverable_frontmatter_is_invalid():
    p = parse("---\n[unbalanced: {\n---\n")
    assert p.status is Status.INVALID and "could not be recovered" in p.problem


def test_path_traversal_names_are_flagged_and_made_safe():
    for name in ("../../etc/passwd", "a/b", "we ird*name", "..", "/abs"):
        p = parse(f"---\nname: '{name}'\ndescription: d\n---\n")
        assert p.name == name
        assert any("written as" in x for x in p.problems)
        stem = safe_stem(name)
        assert "/" not in stem and "\\" not in stem and not stem.startswith(".") and stem


def test_non_mapping_frontmatter_without_fields_is_invalid():
    assert parse("---\n- a\n- b\n---\n").status is Status.INVALID


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data):
    p = parse(b"---\n" + data + b"\n---\nbody")
    assert p.status in Status


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_frontmatter_text_never_raises(text):
    p = parse("---\n" + text + "\n---\nbody")
    assert isinstance(p.name, str)
    assert p.status is Status.INVALID or p.description


def test_crlf_line_endings_and_bom_parse_cleanly():
    p = parse(b"\xef\xbb\xbf---\r\nname: win\r\ndescription: Windows file\r\ntools: Read\r\n---\r\nBody\r\n")
    assert p.status is Status.OK and (p.name, p.description, p.tools) == ("win", "Windows file", ["Read"])


def test_block_scalar_description_with_examples_is_ok():
    text = "---\nname: a\ndescription: |\n  Use for X.\n  <example>\n  user: do X\n  </example>\n---\nBody\n"
    p = parse(text)
    assert p.status is Status.OK and "user: do X" in p.description


def test_tools_star_and_empty_mean_all_tools():
    assert parse("---\nname: a\ndescription: d\ntools: '*'\n---\n").tools is None
    assert parse("---\nname: a\ndescription: d\ntools:\n---\n").tools is None
