"""Property tests: no persona content is ever lost, the cap holds, rollback is byte-exact."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import persona_text
from ctxtui.core import strategies
from ctxtui.core.config import load_settings
from ctxtui.core.history import History
from ctxtui.core.workspace import Workspace, WorkspaceError

NAMES = ["alpha", "beta", "gamma", "delta", "epsilon"]

ops = st.one_of(
    st.tuples(st.just("activate"), st.lists(st.sampled_from(NAMES), min_size=1, max_size=3)),
    st.tuples(st.just("deactivate"), st.lists(st.sampled_from(NAMES), min_size=1, max_size=2)),
    st.tuples(st.just("migrate"), st.sampled_from(["eager", "lazy_loading", "hybrid", "fine_tuned"])),
    st.tuples(st.just("rollback"), st.integers(min_value=0, max_value=6)),
    st.tuples(st.just("edit"), st.sampled_from(NAMES)),
    st.tuples(st.just("foreign"), st.integers(min_value=0, max_value=99)),
    st.tuples(st.just("shadow"), st.sampled_from(NAMES)),
)


def every_content(root: Path, history: History) -> set[bytes]:
    """All bytes present in the workspace, the library and the history blobs."""
    found = {p.read_bytes() for p in root.rglob("*") if p.is_file()}
    if history.blobs.is_dir():
        found |= {p.read_bytes() for p in history.blobs.iterdir()}
    return found


def managed_bytes(history: History) -> dict[str, bytes]:
    return {history.rel(p): p.read_bytes() for p in history.managed_paths()}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=10))
def test_any_sequence_keeps_every_persona_the_cap_and_exact_rollback(sequence):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lib = root / "lib"
        lib.mkdir()
        for name in NAMES:
            (lib / f"{name}.md").write_text(persona_text(name, f"Persona {name}.", f"Body of {name}.\n"))
        ws_dir = root / "ws"
        ws_dir.mkdir()
        (ws_dir / "CLAUDE.md").write_text("# user notes\n")
        reg = ws_dir / "models" / "fine-tuned.json"
        reg.parent.mkdir()
        reg.write_text('{"models": [{"name": "ft:x", "personas": ["alpha"], "healthy": true}]}')
        s = load_settings(workspace=ws_dir, library_dirs=[lib], include_user_scope=False)
        ws = Workspace(s)
        history = History(s)
        must_survive = {p.read_bytes() for p in lib.iterdir()}
        after_of: dict[str, dict[str, bytes]] = {}
        for n, (op, arg) in enumerate(sequence):
            ok = False
            # whatever is in the hot folder when ctxtui acts must survive what it does
            present = {p.read_bytes() for p in s.agents_dir.rglob("*.md")} if s.agents_dir.is_dir() else set()
            try:
                if op == "activate":
                    ws.activate(arg)
                elif op == "deactivate":
                    ws.deactivate(arg)
                elif op == "migrate":
                    e = strategies.migrate(ws, arg)
                    after_of[e.id] = managed_bytes(history)
                elif op == "rollback":
                    entries = strategies.history(ws)
                    if entries:
                        k = entries[arg % len(entries)]
                        e = strategies.rollback(ws, entry_id=k.id, reason="property")
                        if k.id in after_of:
                            assert managed_bytes(history) == after_of[k.id]
                        after_of[e.id] = managed_bytes(history)
                elif op == "edit":
                    h = ws.find_hot(arg)
                    if h is not None:
                        data = h.persona.path.read_bytes() + f"\nedit {n}\n".encode()
                        h.persona.path.write_bytes(data)
                        ws.refresh()
                elif op == "shadow":  # another program writes a library name with new content
                    s.agents_dir.mkdir(parents=True, exist_ok=True)
                    data = persona_text(arg, "someone else's version", f"other body {n}\n").encode()
                    (s.agents_dir / f"{arg}-copy{n}.md").write_bytes(data)
                    ws.refresh()
                elif op == "foreign":
                    s.agents_dir.mkdir(parents=True, exist_ok=True)
                    data = persona_text(f"foreign{arg}", "hand made", f"foreign body {n}\n").encode()
                    (s.agents_dir / f"foreign{arg}-{n}.md").write_bytes(data)
                    ws.refresh()
                ok = True
            except WorkspaceError:
                pass  # refusals (cap, unknown, not hot) are allowed; they must change nothing
            # other programs may overfill the folder; what ctxtui itself does respects the cap
            if ok and ws.strategy == "lazy_loading" and op in ("activate", "migrate"):
                assert len(ws.hot) <= ws.cap
            missing = (must_survive | (present if op not in ("edit", "foreign") else set())) - every_content(root, history)
            assert not missing, f"lost after {op} {arg}"
