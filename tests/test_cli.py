"""The headless CLI: JSON shapes, errors as one line, both console-script names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import WSHOBSON
from ctxtui.cli import main


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_index_json_shape(capsys, library, workspace):
    code, out, _ = run(capsys, "index", "--json", "-l", library, "-w", workspace)
    assert code == 0
    data = json.loads(out)
    p = data["personas"][0]
    assert {"name", "path", "status", "problem", "startup_tokens", "full_tokens"} <= p.keys()
    assert p["status"] in ("ok", "repaired", "invalid")


def test_status_json_shape_after_activate(capsys, library, workspace):
    assert run(capsys, "activate", "alpha", "beta", "-l", library, "-w", workspace)[0] == 0
    code, out, _ = run(capsys, "status", "--json", "-l", library, "-w", workspace)
    data = json.loads(out)
    assert data["hot"] == ["alpha", "beta"] and data["cap"] == 3 and data["window"] == 200_000
    assert data["startup_tokens"]["total"] == sum(i["tokens"] for i in data["startup_tokens"]["items"])
    assert data["eager_startup_tokens"] > data["startup_tokens"]["managed"]  # both are the managed part
    assert 0 < data["reduction_pct"] < 100


def test_list_hot_and_cold(capsys, library, workspace):
    run(capsys, "activate", "gamma", "-l", library, "-w", workspace)
    hot = json.loads(run(capsys, "list", "--hot", "--json", "-l", library, "-w", workspace)[1])
    cold = json.loads(run(capsys, "list", "--cold", "--json", "-l", library, "-w", workspace)[1])
    assert [p["name"] for p in hot["personas"]] == ["gamma"]
    cold_names = [p["name"] for p in cold["personas"]]
    # persona-manager is pinned by default, so it comes from the bundled library if missing
    assert sorted(cold_names) == ["alpha", "beta", "delta", "epsilon", "persona-manager"]


def test_refusals_are_one_line_on_stderr_with_nonzero_exit(capsys, library, workspace):
    run(capsys, "activate", "alpha", "beta", "gamma", "-l", library, "-w", workspace)
    code, out, err = run(capsys, "activate", "delta", "-l", library, "-w", workspace)
    assert code == 1 and err.count("\n") == 1 and "cap is 3" in err and "Traceback" not in err
    code, _, err = run(capsys, "deactivate", "nobody", "-l", library, "-w", workspace)
    assert code == 1 and err.startswith("ctxtui: error:")


def test_bad_workspace_config_names_the_key(capsys, library, workspace):
    (workspace / "hybrid-config.json").write_text('{"lazy_loading": {"max_active_personas": "three"}}')
    code, _, err = run(capsys, "status", "-l", library, "-w", workspace)
    assert code == 1 and "lazy_loading.max_active_personas" in err


def test_options_work_before_and_after_the_subcommand(capsys, library, workspace):
    a = run(capsys, "-l", library, "-w", workspace, "list", "--json")[1]
    b = run(capsys, "list", "--json", "-l", library, "-w", workspace)[1]
    assert a == b


def test_default_library_is_the_bundled_personas(capsys, workspace):
    data = json.loads(run(capsys, "index", "--json", "-w", workspace)[1])
    names = {p["name"] for p in data["personas"]}
    assert len(names) >= 12 and "persona-manager" in names
    assert all(p["status"] == "ok" for p in data["personas"])


@pytest.mark.parametrize("entry", [["-m", "ctxtui"]])
def test_module_entry_point_runs(entry, library, workspace):
    r = subprocess.run([sys.executable, *entry, "list", "--json", "-l", str(library), "-w", str(workspace)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout)["personas"]


@pytest.mark.skipif(not WSHOBSON.is_dir(), reason="wshobson corpus not present")
def test_status_on_whole_wshobson_hot_vs_three(capsys, workspace, tmp_path):
    agents = workspace / ".claude/agents"
    agents.mkdir(parents=True)
    for f in WSHOBSON.rglob("agents/*.md"):
        (agents / f"{f.parent.parent.name}--{f.name}").write_bytes(f.read_bytes())
    all_hot = json.loads(run(capsys, "status", "--json", "-l", WSHOBSON, "-w", workspace)[1])
    assert len(all_hot["hot"]) == 202 and all_hot["reduction_pct"] == 0.0
    assert any("Claude Code warns above 15,000" in w for w in all_hot["warnings"])
    ws2 = tmp_path / "three"
    ws2.mkdir()
    run(capsys, "activate", "sql-pro", "team-debugger", "team-reviewer", "-l", WSHOBSON, "-w", ws2)
    three = json.loads(run(capsys, "status", "--json", "-l", WSHOBSON, "-w", ws2)[1])
    assert three["hot"] == ["sql-pro", "team-debugger", "team-reviewer"]
    assert three["reduction_pct"] > 95


def test_migrate_rollback_history_via_cli(capsys, library, workspace):
    base = ["-l", library, "-w", workspace]
    code, out, _ = run(capsys, "migrate", "--to", "eager", "--dry-run", "--json", *base)
    plan = json.loads(out)
    assert code == 0 and plan["to"] == "eager" and len(plan["activate"]) == 5
    assert not (workspace / ".claude" / "agents").exists()
    assert run(capsys, "migrate", "--to", "eager", "--reason", "baseline", *base)[0] == 0
    assert run(capsys, "migrate", "--to", "lazy_loading", "--force", "--hot", "beta", *base)[0] == 0
    hist = json.loads(run(capsys, "history", "--json", *base)[1])["entries"]
    assert [(e["from"], e["to"], e["reason"]) for e in hist][0][1:] == ("eager", "baseline")
    assert hist[1]["token_delta"] == hist[1]["tokens_after"] - hist[1]["tokens_before"]
    code, out, _ = run(capsys, "rollback", *base)  # --reason is optional: plain rollback is undo
    assert code == 0 and "undid" in out
    assert run(capsys, "rollback", "--to", "eager", "--reason", "need all", *base)[0] == 0
    status = json.loads(run(capsys, "status", "--json", *base)[1])
    assert status["strategy"] == "eager" and len(status["hot"]) == 5


def test_claude_md_preview_and_write(capsys, library, workspace):
    base = ["-l", library, "-w", workspace]
    out = run(capsys, "claude-md", "--density", "full", *base)[1]
    assert "<!-- ctxtui:begin -->" in out and "`alpha`" in out and "densities:" in out
    assert not (workspace / "CLAUDE.md").exists()
    assert run(capsys, "claude-md", "--write", *base)[0] == 0
    assert "<!-- ctxtui:end -->" in (workspace / "CLAUDE.md").read_text()


def test_find_ranks_by_name_and_description(capsys, library, workspace):
    out = run(capsys, "find", "gamma", "task", "--json", "-l", library, "-w", workspace)[1]
    results = json.loads(out)["results"]
    assert results[0]["name"] == "gamma" and results[0]["path"].endswith("gamma.md")


def test_profile_commands(capsys, library, workspace):
    base = ["-l", library, "-w", workspace]
    run(capsys, "activate", "alpha", *base)
    assert run(capsys, "profile", "save", "backend", *base)[0] == 0
    saved = json.loads(run(capsys, "profile", "list", "--json", *base)[1])["profiles"]
    assert saved == {"backend": ["alpha"]}
    code, _, err = run(capsys, "profile", "use", *base)
    assert code == 1 and "needs a NAME" in err


def test_missing_workspace_is_refused_without_creating_it(capsys, library, tmp_path):
    code, _, err = run(capsys, "activate", "alpha", "-l", library, "-w", tmp_path / "nope")
    assert code == 1 and "is not a folder" in err and not (tmp_path / "nope").exists()


def test_json_startup_tokens_match_the_tables_and_add_up_to_eager(capsys, library, workspace):
    code, out, _ = run(capsys, "index", "--json", "-l", library, "-w", workspace)
    data = json.loads(out)
    from ctxtui.core.config import bundled_dir

    own = [p for p in data["personas"]  # the pinned persona-manager comes from the bundled ones
           if not Path(p["path"]).is_relative_to(bundled_dir("personas"))]
    assert len({p["name"] for p in own}) == len(own) == 5  # no duplicates: the sum is eager
    assert sum(p["startup_tokens"] for p in own) == data["eager_startup_tokens"]
    code, out, _ = run(capsys, "list", "--json", "-l", library, "-w", workspace)
    listed = {p["name"]: p["startup_tokens"] for p in json.loads(out)["personas"]}
    code, table, _ = run(capsys, "list", "-l", library, "-w", workspace)
    for name, n in listed.items():
        row = next(line for line in table.splitlines() if f" {name} " in line)
        assert f" {n:,} " in row, (name, n, row)


def test_find_never_prints_a_personas_escape_sequences(capsys, library, workspace):
    (library / "ansi.md").write_text(
        "---\nname: ansi\ndescription: \"Colour \\e[31mred\\e]0;pwned\\a\\e[2J and more.\"\n---\n\nbody\n")
    code, out, _ = run(capsys, "find", "colour", "red", "--all", "-l", library, "-w", workspace)
    assert code == 0 and "ansi" in out
    assert "\x1b" not in out and "\x07" not in out


@pytest.mark.parametrize("value,why", [("0", "must be above zero"), ("-5", "must be above zero"),
                                       ("x", "not a whole number")])
def test_window_must_be_a_positive_whole_number(capsys, workspace, value, why):
    with pytest.raises(SystemExit) as exc:
        main(["status", "--window", value, "-w", str(workspace)])
    assert exc.value.code == 2 and why in capsys.readouterr().err


def test_reduction_is_100_only_when_nothing_managed_is_left():
    from ctxtui.core.budget import Budget

    assert Budget([], 5, 13_415, 200_000, 8_000, 1.0).reduction_pct == 99.9
    assert Budget([], 0, 13_415, 200_000, 8_000, 1.0).reduction_pct == 100.0
    assert Budget([], 1_000, 4_000, 200_000, 8_000, 1.0).reduction_pct == 75.0


def test_history_at_80_columns_shows_whole_ids_that_rollback_takes(capsys, library, workspace, monkeypatch):
    from ctxtui.cli import output

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(output._LazyConsole, "_console", None)  # made again, 80 columns wide
    base = ["-l", library, "-w", workspace]
    assert run(capsys, "activate", "alpha", *base)[0] == 0
    assert run(capsys, "migrate", "--to", "eager", *base)[0] == 0
    out = run(capsys, "history", *base)[1]
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines)
    rows = [line for line in lines if line.startswith("│") and line.split("│")[1].strip().isdigit()]
    assert [r.split("│")[1].strip() for r in rows] == ["1", "2"]
    assert "lazy_loading →" in out and max(len(line) for line in lines) > 60  # drawn to the width
    assert run(capsys, "rollback", "--id", "2", *base)[0] == 0


def test_find_with_no_words_is_refused_in_one_line(capsys, library, workspace):
    code, out, err = run(capsys, "find", "", "-l", library, "-w", workspace)
    assert code == 1 and err.count("\n") == 1 and "needs words" in err
