"""Frontmatter that cannot hold an alias or nest past the cap is loaded without the checking
pass, to the same values; anything else still goes through it and is refused as before."""

from __future__ import annotations

import pytest
import yaml

from conftest import WSHOBSON
from ctxtui.core import persona
from ctxtui.core.persona import MAX_YAML_DEPTH, UnsafeYamlError, load_yaml, split_frontmatter


@pytest.mark.skipif(not WSHOBSON.is_dir(), reason="needs the shared corpora")
def test_real_frontmatter_loads_to_the_same_values_as_the_checked_load():
    persona._yaml()  # chooses the loader
    seen = 0
    for f in sorted(WSHOBSON.rglob("*.md")):
        split = split_frontmatter(f.read_text(errors="replace").lstrip("\ufeff"))
        if split is None or split[0] is None:
            continue
        try:
            expected = yaml.load(split[0], Loader=persona._Loader)  # noqa: S506 - the safe loader
        except yaml.YAMLError:
            with pytest.raises(yaml.YAMLError):
                load_yaml(split[0])
            continue
        assert load_yaml(split[0]) == expected, f
        seen += 1
    assert seen > 150


def test_aliases_and_deep_nesting_are_still_refused():
    with pytest.raises(UnsafeYamlError, match="alias"):
        load_yaml("a: &x [1]\nb: *x\n")
    with pytest.raises(UnsafeYamlError, match="nested"):
        load_yaml("x: " + "[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1))
    with pytest.raises(UnsafeYamlError, match="nested"):
        load_yaml("".join(" " * i + "k:\n" for i in range(MAX_YAML_DEPTH + 1)))
    # at the cap exactly: loaded, whichever path takes it
    assert load_yaml("[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH) is not None
    assert load_yaml("- " * (MAX_YAML_DEPTH - 1) + "x") is not None
