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
        reg.write_text('{"models": [{"name": "ft:x", "personas": ["alpha"], "healthy": true, "validation": {"baseline": "lazy_loading", "heldout_prompts": 60, "model_score": 0.9, "baseline_score": 0.8}}]}')
        s = load_settings(workspace=ws_dir, library_dirs=[lib], include_user_scope=False)
        ws = Workspace(s)
        history = History(s)
        must_survive = {p.read_bytes() for p in lib.iterdir()}
        before_of: dict[str, dict[str, bytes]] = {}
        for n, (op, arg) in enumerate(sequence):
            ok = False
            # whatever is in the hot folder when ctxtui acts must survive what it does
            present = {p.read_bytes() for p in s.agents_dir.rglob("*.md")} if s.agents_dir.is_dir() else set()
            hot_before = len(ws.hot)
            try:
                if op == "activate":
                    ws.activate(arg)
                elif op == "deactivate":
                    ws.deactivate(arg)
                elif op == "migrate":
                    before = managed_bytes(history)
                    e = strategies.migrate(ws, arg, force=True)
                    before_of[e.id] = before
                elif op == "rollback":
                    entries = strategies.history(ws)
                    if entries:
                        k = entries[arg % len(entries)]
                        before = managed_bytes(history)
                        e = strategies.rollback(ws, entry_id=k.id, reason="property")
                        if k.id in before_of:  # --id restores the state before that change
                            assert managed_bytes(history) == before_of[k.id]
                        before_of[e.id] = before
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
            # other programs may overfill the folder; what ctxtui itself adds respects the cap
            # (a change that adds nothing hot is never refused by the cap). The cap bounds what
            # Claude Code lists: a name several files declare is listed, and counted, once.
            if ok and ws.strategy == "lazy_loading" and (op == "migrate" or (op == "activate" and len(ws.hot) > hot_before)):
                assert len(ws.visible_hot()) <= ws.cap
            missing = (must_survive | (present if op not in ("edit", "foreign") else set())) - every_content(root, history)
            assert not missing, f"lost after {op} {arg}"


_segments = st.sampled_from(["..", ".", "CLAUDE.md", ".claude", "agents", "ctxtui", "cold", "etc",
                             "x.md", "outside", "", "/", "settings.local.json", "hybrid-config.json"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.lists(_segments, min_size=1, max_size=7), st.booleans(), st.booleans()),
             min_size=1, max_size=4),
)
def test_no_crafted_journal_manifest_touches_anything_outside_the_managed_locations(steps):
    """Whatever paths a cloned repository puts in a manifest (relative to the workspace or
    absolute, write or remove), recovery changes nothing outside the managed locations."""
    import json as _json

    from ctxtui.core import journal
    from ctxtui.core.confine import Guard

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ws = root / "project"
        (ws / ".claude" / "agents").mkdir(parents=True)
        (root / "outside").write_text("outside")
        (root / "x.md").write_text("x")
        (ws / "x.md").write_text("not managed")
        guard = Guard(ws)
        txdir = ws / ".claude" / "ctxtui" / "journal" / "tx"
        txdir.mkdir(parents=True)
        manifest = []
        for n, (parts, absolute, remove) in enumerate(steps):
            rel = "/".join(parts)
            path = ("/" + rel) if absolute else str(ws) + "/" + rel
            entry = {"path": path, "op": "remove" if remove else "write", "before": None}
            if not remove:
                (txdir / f"{n}.stage").write_bytes(b"payload")
                entry["sha256"] = journal.sha256_bytes(b"payload")
            else:
                entry["before"] = journal.sha256_bytes(b"x")
            manifest.append(entry)
        (txdir / "manifest.json").write_text(_json.dumps({"steps": manifest}))
        before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and "journal" not in p.parts}
        journal.recover(ws / ".claude" / "ctxtui", guard)
        after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
        for p, data in before.items():
            rel = guard.rel(p)
            if rel is None or not guard.is_managed_rel(rel):
                assert after.get(p) == data, p  # nothing outside was changed or removed
        for p in set(after) - set(before):
            rel = guard.rel(p)
            assert rel is not None and guard.is_managed_rel(rel), p  # nothing created outside
