"""Find the Claude Code versions where the agent loader's behaviour changed.

For each probed version this fetches the native linux-x64 package from the npm registry
(``npm pack @anthropic-ai/claude-code-linux-x64@V``; 2.1.112 and older ship ``cli.js`` in
the main package instead), runs four offline captures (capture.py) -- an empty project, the
whole edge corpus at once, the ancestor scenario and the sort scenario of ground_truth.py --
and writes ``tests/data/claude_code/versions/<V>.json``: the listing blocks and a fingerprint
of the behaviours the profiles switch on. ``--bisect`` probes a coarse grid, then halves every
interval whose ends differ until the change point is found. The binaries are deleted after use.

Usage (repository root): ``.venv/bin/python scripts/claude_code/probe_versions.py --bisect``
or ``... probe_versions.py 2.1.150 2.1.200``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ground_truth as gt  # noqa: E402

OUT = gt.DATA / "versions"
SCRATCH = Path("/work/wt/h3-scratch/probe")
FIRST_NATIVE = (2, 1, 113)


def vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def all_versions(lo: str, hi: str) -> list[str]:
    out = subprocess.run(["npm", "view", "@anthropic-ai/claude-code", "versions", "--json"],
                         capture_output=True, text=True, check=True).stdout
    return [v for v in json.loads(out)
            if v.count(".") == 2 and v.replace(".", "").isdigit()
            and vkey(lo) <= vkey(v) <= vkey(hi)]


def fetch(version: str, dest: Path) -> list[str]:
    """Download VERSION into DEST; return the command that runs it."""
    dest.mkdir(parents=True, exist_ok=True)
    if vkey(version) >= FIRST_NATIVE:
        pkg = f"@anthropic-ai/claude-code-linux-x64@{version}"
    else:
        pkg = f"@anthropic-ai/claude-code@{version}"
    name = subprocess.run(["npm", "pack", "--silent", pkg], cwd=dest, capture_output=True,
                          text=True, check=True).stdout.strip().splitlines()[-1]
    subprocess.run(["tar", "xzf", name], cwd=dest, check=True)
    (dest / name).unlink()
    if vkey(version) >= FIRST_NATIVE:
        return [str(dest / "package" / "claude")]
    return ["node", str(dest / "package" / "cli.js")]


def block_twin(probe: dict) -> str:
    """The combined edge block's winner among dup-a/dup-b/nested/dup-c (sorted: nested c)."""
    return next((ln for ln in probe["edge"]["block"].split("\n") if ln.startswith(
        "- dup-across-files:")), "")


# Rules of the YAML retry that the edge corpus cannot tell apart, found in the shipped code.
CODE_MARKERS = {
    "retry_tabs_to_spaces": rb"catch\{try\{let \w{1,3}=\w{1,3}\(\w{1,3}\)\.replace\(/\^\\t\+/gm",
    "retry_keeps_flow_lists": rb'startsWith\("\["\)&&\w{1,3}\.endsWith\("\]"\)\)try',
    "retry_value_starts_non_space": rb"\(\[a-zA-Z_-\]\+\):\\s\+\(\\S\.\*\)\$/",
}


def code_markers(binary: Path) -> dict:
    """Which CODE_MARKERS occur in the shipped JavaScript (binary or cli.js)."""
    import re

    data = binary.read_bytes()
    return {k: re.search(rx, data) is not None for k, rx in CODE_MARKERS.items()}


def fingerprint(probe: dict) -> dict:
    """The behaviours the profiles switch on, read off the captured listings."""
    block = probe["edge"]["block"]
    anc = probe["ancestor"]["custom"]
    srt = probe["sort"]["custom"]
    twin = probe["twin"]["custom"]
    return {
        "listing_in_message": probe["edge"]["where"].startswith("message"),
        "duplicate_keys_error": "\n- duplicate-keys:" not in f"\n{block}",
        "strip_bom": "\n- bom:" in f"\n{block}",
        "max_file_bytes": None if "\n- big-over-limit:" in f"\n{block}" else 1024 * 1024,
        "reject_colon": "\n- team:reviewer:" not in f"\n{block}",
        "reject_leading_dash": "\n- -dash-agent:" not in f"\n{block}",
        "max_name_length": None if "\n- " + "n" * 257 + ":" in f"\n{block}" else 256,
        "retry_tabs_to_spaces": "\n- tab-indent:" in f"\n{block}",
        "deeper_folder_wins": "same: From the cwd." in anc,
        "ascii_first_sort": srt.index("- \u00e9cole:") > srt.index("- zz:"),
        # Which of two same-named files in one folder wins: ripgrep's order before the sorted
        # discovery, so only "sorted" is a behaviour; the winner under ripgrep is noise.
        "sorted_discovery": twin.startswith("- twin: File z/c.")
        and "nested file c." in block_twin(probe),
        "keep_block_line": next((ln for ln in block.split("\n- ") if ln.startswith(
            "block-keep:")), None),
        "memory_line": next((ln for ln in block.split("\n") if ln.startswith("- memory-tools:")),
                            None),
    }


def probe(version: str) -> dict:
    path = OUT / f"{version}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    dest = SCRATCH / version
    try:
        cmd = fetch(version, dest)
        scratch = Path(tempfile.mkdtemp(prefix=f"cc-probe-{version}-"))
        r = gt.Runner(version, cmd, scratch)
        base = gt.listing(r.run({}))
        builtin = base["block"].split("\n")
        gen = gt.materialize_generated(scratch / "gen")
        sources = {rel: (gt.EDGE / rel).read_bytes() for rel in gt.edge_files()}
        sources.update({rel: (scratch / "gen" / rel).read_bytes() for rel in gen})
        edge = gt.listing(r.run({f"repo/.claude/agents/{k}": v for k, v in sources.items()}))
        result = {"version": version, "command": " ".join(cmd), "builtin": base,
                  "edge": edge, "code_markers": code_markers(Path(cmd[-1]))}
        for key, name in (("ancestor", "ancestor_up_to_git_root"), ("sort", "sort_order"),
                          ("twin", "same_name_same_folder")):
            sc = gt.SCENARIOS[name]
            lst = gt.listing(r.run(sc["files"], cwd=sc["cwd"], git=sc["git"]))
            custom, _ = gt.strip_builtins(lst["block"], builtin)
            result[key] = {"scenario": name, "block": lst["block"], "custom": custom}
        result["provenance"] = {"script": "scripts/claude_code/probe_versions.py"}
        OUT.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")
        shutil.rmtree(scratch, ignore_errors=True)
        print(version, json.dumps(fingerprint(result))[:300], flush=True)
        return result
    finally:
        shutil.rmtree(dest, ignore_errors=True)


MARKERS = OUT / "code_markers.json"


def add_markers(version: str) -> dict:
    """VERSION's code markers, from its probe file, code_markers.json or a fresh download."""
    path = OUT / f"{version}.json"
    probe_data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    table = json.loads(MARKERS.read_text(encoding="utf-8")) if MARKERS.exists() else {}
    found = probe_data.get("code_markers") or table.get(version)
    if found is None:
        dest = SCRATCH / version
        try:
            found = code_markers(Path(fetch(version, dest)[-1]))
        finally:
            shutil.rmtree(dest, ignore_errors=True)
        print(version, found, flush=True)
    table[version] = found
    MARKERS.write_text(json.dumps(dict(sorted(table.items(), key=lambda kv: vkey(kv[0]))),
                                  indent=1) + "\n", encoding="utf-8")
    return found


def bisect_markers(versions: list[str]) -> None:
    """Find where each code marker flips between the first and last of VERSIONS."""
    todo = [(versions[0], versions[-1])]
    while todo:
        lo, hi = todo.pop()
        a, b = add_markers(lo), add_markers(hi)
        if a == b:
            continue
        i, j = versions.index(lo), versions.index(hi)
        if j - i <= 1:
            print(f"MARKER CHANGE between {lo} and {hi}: "
                  f"{sorted(k for k in a if a[k] != b[k])}", flush=True)
            continue
        mid = versions[(i + j) // 2]
        todo += [(lo, mid), (mid, hi)]


def capture_fixed(version: str) -> None:
    """Built-in lines and token sizes of VERSION's empty-project requests (-p and interactive),
    as ``tests/data/claude_code/<V>/{builtin,summary}.json`` (no request bodies)."""
    out = gt.DATA / version
    if (out / "summary.json").exists():
        return
    dest = SCRATCH / version
    scratch = Path(tempfile.mkdtemp(prefix=f"cc-fixed-{version}-"))
    try:
        cmd = fetch(version, dest)
        r = gt.Runner(version, cmd, scratch)
        base, base_i = r.run({}), r.run({}, interactive=True)
        lb, lbi = gt.listing(base), gt.listing(base_i)
        prov = {"version": version, "command": " ".join(cmd),
                "script": "scripts/claude_code/probe_versions.py --fixed"}
        out.mkdir(parents=True, exist_ok=True)
        for name, obj in (
            ("builtin.json", {"provenance": prov, "p_mode": lb, "interactive": lbi,
                              "p_mode_lines": lb["block"].split("\n"),
                              "interactive_lines": lbi["block"].split("\n")}),
            ("summary.json", {"provenance": prov, "tokenizer": "cl100k_base (tiktoken); tools as "
                              "json.dumps(tool, separators=(',', ':'))",
                              "p_empty": gt.token_summary(base),
                              "interactive_empty": gt.token_summary(base_i)}),
        ):
            (out / name).write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n",
                                    encoding="utf-8")
        print(version, "fixed captured", flush=True)
    finally:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def bisect(versions: list[str], step: int) -> None:
    grid = versions[::step]
    if grid[-1] != versions[-1]:
        grid.append(versions[-1])
    fps = {v: fingerprint(probe(v)) for v in grid}
    todo = list(zip(grid, grid[1:], strict=False))
    while todo:
        lo, hi = todo.pop()
        if fps[lo] == fps[hi]:
            continue
        i, j = versions.index(lo), versions.index(hi)
        if j - i <= 1:
            changed = sorted(k for k in fps[lo] if fps[lo][k] != fps[hi][k])
            print(f"CHANGE between {lo} and {hi}: {changed}", flush=True)
            continue
        mid = versions[(i + j) // 2]
        fps[mid] = fingerprint(probe(mid))
        todo += [(lo, mid), (mid, hi)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("versions", nargs="*")
    ap.add_argument("--bisect", action="store_true")
    ap.add_argument("--lo", default="2.1.112")
    ap.add_argument("--hi", default="2.1.332")
    ap.add_argument("--step", type=int, default=24)
    ap.add_argument("--fixed", nargs="*", default=[],
                    help="capture built-in lines and token sizes of these versions")
    ap.add_argument("--markers", nargs=2, metavar=("LO", "HI"),
                    help="find where the code markers change between LO and HI")
    args = ap.parse_args()
    for v in args.fixed:
        capture_fixed(v)
    if args.markers:
        bisect_markers(all_versions(args.markers[0], args.markers[-1]))
    for v in args.versions:
        probe(v)
    if args.bisect:
        bisect(all_versions(args.lo, args.hi), args.step)
    return 0


if __name__ == "__main__":
    sys.exit(main())
