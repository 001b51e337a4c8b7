"""``analyze --json`` prints the same bytes however the transcripts are read: forked readers
with msgspec (the default) or one process with the standard library (the reference path), on
a generated history and on the real corpus; trigger words match the log-odds definition."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_trigger_terms import by_definition

from conftest import REPO, TRANSCRIPTS
from ctxtui.analytics import transcript_cache
from ctxtui.analytics import transcripts as tr
from ctxtui.analytics.transcripts import Invocation, Session
from ctxtui.analytics.usage import Trigger, trigger_terms
from ctxtui.cli import analytics as cli_analytics
from ctxtui.cli import main
from ctxtui.core import config

needs_corpus = pytest.mark.skipif(not TRANSCRIPTS.is_dir(), reason="shared transcripts not present")


def _analyze_json(capsys, root: Path, library: Path, workspace: Path) -> str:
    code = main(["analyze", "--json", "--transcripts", str(root), "-l", str(library), "-w", str(workspace)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _parallel(monkeypatch) -> None:
    """Fork readers even for a small history: two children beside the parent."""
    monkeypatch.setattr(tr, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(tr.forked, "usable_cores", lambda: 3)


def _reference(monkeypatch) -> None:
    """One process, every line through the standard library's json."""
    monkeypatch.setattr(cli_analytics, "start_read", functools.partial(tr.start_read, fast=False, workers=1))


def _small_history(dest: Path) -> Path:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from _history import generate
    finally:
        sys.path.remove(str(REPO / "bench"))
    generate(dest, 4)
    return dest


def _cached() -> list[Path]:
    return list((config.cache_dir() / "transcripts").glob("*.msgpack"))


@needs_corpus
def test_analyze_json_is_byte_identical_on_a_generated_history(tmp_path, capsys, monkeypatch, library, workspace):
    monkeypatch.setattr(transcript_cache, "SETTLE_NS", 0)  # just written, cached at once
    root = _small_history(tmp_path / "projects")
    with monkeypatch.context() as m:
        _parallel(m)
        fast = _analyze_json(capsys, root, library, workspace)  # parsed, then cached
        assert _cached()
        read = []
        m.setattr(tr, "read_session", lambda *a, **k: read.append(a[0]))
        warm = _analyze_json(capsys, root, library, workspace)  # nothing parsed
        assert read == []
    with monkeypatch.context() as m:
        _reference(m)
        reference = _analyze_json(capsys, root, library, workspace)
    assert fast == warm == reference
    assert '"invocations": 0' not in fast and '"malformed": 0' not in fast  # the history has both


@needs_corpus
def test_analyze_json_is_byte_identical_on_the_real_corpus(capsys, monkeypatch, library, workspace):
    with monkeypatch.context() as m:
        _parallel(m)
        fast = _analyze_json(capsys, TRANSCRIPTS, library, workspace)
        warm = _analyze_json(capsys, TRANSCRIPTS, library, workspace)
    with monkeypatch.context() as m:
        _reference(m)
        reference = _analyze_json(capsys, TRANSCRIPTS, library, workspace)
    assert fast == warm == reference and '"claude-code-guide"' in fast


def test_no_cache_neither_reads_nor_writes_the_cache(tmp_path, capsys, monkeypatch, library, workspace):
    monkeypatch.setattr(transcript_cache, "SETTLE_NS", 0)
    root = tmp_path / "projects" / "-p"
    root.mkdir(parents=True)
    (root / "s.jsonl").write_text('{"type": "user", "message": {"content": "review the api"}}\n')
    args = ["analyze", "--json", "--transcripts", str(root.parent), "-l", str(library), "-w", str(workspace)]
    assert main([*args, "--no-cache"]) == 0 and not _cached()
    first = capsys.readouterr().out
    assert main(args) == 0 and _cached()
    assert capsys.readouterr().out == first


@needs_corpus
def test_a_reader_that_dies_leaves_its_runs_to_the_parent(tmp_path, capsys, monkeypatch, library, workspace):
    root = _small_history(tmp_path / "projects")
    expected = _analyze_json(capsys, root, library, workspace)
    parent, read_run = os.getpid(), tr.PendingRead._read_run

    def dying(self, index):
        if os.getpid() != parent:
            os._exit(3)  # killed mid-read: nothing comes back
        return read_run(self, index)

    _parallel(monkeypatch)
    monkeypatch.setattr(tr.PendingRead, "_read_run", dying)
    assert _analyze_json(capsys, root, library, workspace) == expected


def test_runs_are_consecutive_and_never_more_than_asked():
    jobs = [("p", Path(f"s{i}.jsonl")) for i in range(300)]
    for sizes in ([1] * 300, [0] * 300, [10**6] + [1] * 299, list(range(300))):
        for count in (1, 2, 8, 255):
            runs = tr._runs(jobs, sizes, count)
            assert 1 <= len(runs) <= count
            assert [job for run in runs for job in run] == jobs


# --- trigger words: the definition, term by term -------------------------------------------

def _by_definition(sessions: list[Session], top: int = 8, prior: float = 100.0) -> dict[str, list[Trigger]]:
    """Monroe et al.'s log-odds z-score with an informative Dirichlet prior, every term scored
    the direct way (``test_trigger_terms.by_definition``), as Trigger records."""
    return {persona: [Trigger(term, z, n) for term, z, n in rows]
            for persona, rows in by_definition(sessions, top=top, prior=prior).items()}


def _sessions(prompts: list[tuple[str, str]]) -> list[Session]:
    """One session per (persona, prompt): the prompt, then a call of the persona it triggered."""
    out = []
    for i, (persona, text) in enumerate(prompts):
        s = Session(id=str(i), project="p", path=Path(f"{i}.jsonl"), prompts=[("", text)])
        if persona:
            s.invocations.append(Invocation(f"t{i}", persona, "", "", "", trigger=text))
        out.append(s)
    return out


words = st.sampled_from(["api", "schema", "tests", "flaky", "bug", "crash", "deploy", "docker", "index", "query",
                         "review", "diff", "the", "please", "latency", "slow", "readme", "guide"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["", "a", "b", "c"]), st.lists(words, min_size=1, max_size=9).map(" ".join)),
                max_size=40),
       st.integers(1, 10))
def test_trigger_terms_match_the_definition(prompts, top):
    sessions = _sessions(prompts)
    assert trigger_terms(sessions, top=top) == _by_definition(sessions, top=top)


@needs_corpus
def test_trigger_terms_match_the_definition_on_a_generated_history(tmp_path):
    sessions, _ = tr.read_all(_small_history(tmp_path / "projects"))
    expected = _by_definition(sessions)
    assert trigger_terms(sessions) == expected and len(expected) > 5


@needs_corpus
def test_a_bad_workspace_leaves_no_reader_running(capsys, monkeypatch, library, workspace):
    (workspace / "hybrid-config.json").write_text('{"lazy_loading": {"max_active_personas": "three"}}')
    _parallel(monkeypatch)
    code = main(["analyze", "--json", "--transcripts", str(TRANSCRIPTS), "-l", str(library), "-w", str(workspace)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "max_active_personas" in err
    with pytest.raises(ChildProcessError):  # every forked reader was stopped and reaped
        os.waitpid(-1, os.WNOHANG)


def test_the_usage_table_says_where_each_persona_comes_from(tmp_path, capsys, library, workspace):
    import json

    root = tmp_path / "projects"
    (root / "-proj").mkdir(parents=True)
    calls = [{"type": "assistant", "message": {"id": f"m{i}", "content": [
        {"type": "tool_use", "id": f"t{i}", "name": "Task", "input": {"subagent_type": name, "prompt": "go"}}]}}
        for i, name in enumerate(["alpha", "Explore", "cloud-architect"])]
    (root / "-proj" / "s.jsonl").write_text("".join(json.dumps(c) + "\n" for c in calls))
    code = main(["analyze", "--transcripts", str(root), "-l", str(library), "-w", str(workspace)])
    out = capsys.readouterr().out
    assert code == 0
    rows: dict[str, str] = {}
    for line in out.split("Used together")[0].splitlines():  # the usage table, not the pairs below it
        words = line.split()
        if len(words) > 1 and words[1] in ("alpha", "Explore", "cloud-architect"):
            rows[words[1]] = line
    assert "library" in rows["alpha"] and "built-in" in rows["Explore"] and "not in library" in rows["cloud-architect"]


def test_a_project_that_matches_no_session_is_said(tmp_path, capsys, library, workspace):
    root = tmp_path / "projects" / "-proj"
    root.mkdir(parents=True)
    (root / "s.jsonl").write_text('{"type": "user", "message": {"content": "review the api"}}\n')
    args = ["analyze", "--transcripts", str(root.parent), "-l", str(library), "-w", str(workspace)]
    assert main([*args, "--project", "nothere"]) == 0
    assert "no sessions match --project 'nothere'" in capsys.readouterr().out
    assert main(args) == 0
    assert "no sessions" not in capsys.readouterr().out
