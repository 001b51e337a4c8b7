"""Import arrows in the core point one way: no cycles, not even inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "ctxtui" / "core"


def core_imports() -> dict[str, set[str]]:
    """Module -> core modules it imports anywhere in its body (function level included)."""
    graph: dict[str, set[str]] = {}
    for f in CORE.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "ctxtui.core":
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ctxtui.core."):
                deps.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                deps |= {a.name.split(".")[2] for a in node.names if a.name.startswith("ctxtui.core.")}
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
                deps |= {a.value.split(".")[2] for a in node.args
                         if isinstance(a, ast.Constant) and str(a.value).startswith("ctxtui.core.")}
        graph[f.stem] = deps - {f.stem}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for d in sorted(graph.get(n, ())):
            if state.get(d) == 1:
                return [*stack[stack.index(d):], d]
            if d not in state and (cycle := visit(d)):
                return cycle
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (cycle := visit(n)):
            return cycle
    return None


def test_core_has_no_import_cycle_even_inside_functions():
    assert find_cycle(core_imports()) is None, find_cycle(core_imports())


def test_the_write_path_sits_below_the_operations_that_use_it():
    g = core_imports()
    assert "strategies" not in g["workspace"]
    assert "workspace" not in g["claude_settings"]
    for low in ("journal", "confine", "lock", "errors", "notices"):
        assert not g[low] & {"workspace", "strategies", "history", "profiles"}, low


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
