"""Generate a large Claude Code transcript history from the real transcripts in the corpora.

Each session is a window of real transcript lines (progress, user, assistant, snapshots...)
with its session id, message ids and request ids made unique, plus subagent calls (``Task``
tool use, tool result with ``toolUseResult.agentId``) whose prompts carry topic words of the
persona, and for half of them a ``<session>/subagents/agent-<id>.jsonl`` file made of real
subagent lines. Lines are rewritten as text, never re-encoded, so they keep Claude Code's
exact formatting. Run directly to write one: python bench/_history.py DEST MB
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import corpora  # noqa: E402

_PERSONAS = {
    "backend-architect": "api service endpoint schema microservice",
    "code-reviewer": "review pull request diff style quality",
    "test-automator": "tests coverage pytest flaky fixture",
    "debugger": "bug crash traceback error reproduce",
    "security-auditor": "vulnerability auth injection secrets audit",
    "frontend-developer": "react component css layout browser",
    "database-architect": "postgres index query migration table",
    "deployment-engineer": "docker kubernetes deploy pipeline ci",
    "performance-engineer": "latency profile slow memory benchmark",
    "docs-architect": "documentation readme guide tutorial reference",
}


def _vocabulary() -> tuple[dict[str, str], list[str]]:
    """Persona names with topic words, and the words users write, from the persona corpus."""
    import re

    personas = dict(_PERSONAS)
    words: list[str] = []
    for f in sorted((corpora() / "wshobson__agents").rglob("agents/*.md")):
        text = f.read_text(errors="replace").lower()
        found = re.findall(r"[a-z][a-z0-9-]{2,20}", text)
        words += found[:400]
        if len(personas) < 40 and f.stem not in personas and len(found) > 40:
            personas[f.stem] = " ".join(found[20:40:4])
    return personas, words or ["please", "look", "at", "the", "project", "and", "fix", "it"]


PERSONAS, FILLER = _vocabulary()


def _real_lines() -> tuple[list[str], list[str], dict, dict]:
    """(main transcript lines, subagent lines, a Task tool_use record, its tool_result record)."""
    root = corpora() / "transcripts"
    main: list[str] = []
    sub: list[str] = []
    for f in sorted(root.rglob("*.jsonl")):
        lines = [ln for ln in f.read_text(errors="replace").splitlines() if ln.strip()]
        if "subagents" in f.parts:
            if not f.name.startswith("agent-acompact"):
                sub += lines
        else:
            main += lines
    if not main:
        raise SystemExit(f"bench: no transcripts under {root}")
    return main, sub or main[:10], _TASK, _RESULT


_TASK = {
    "parentUuid": "p", "isSidechain": False, "userType": "external", "cwd": "/home/user/project",
    "sessionId": "SID", "version": "2.1.39", "gitBranch": "main",
    "message": {"model": "claude-opus-4-6", "id": "MID", "type": "message", "role": "assistant",
                "content": [{"type": "tool_use", "id": "TID", "name": "Task",
                             "input": {"description": "DESC", "subagent_type": "PERSONA", "prompt": "PROMPT"}}],
                "stop_reason": None, "usage": {"input_tokens": 1, "cache_creation_input_tokens": 326,
                                               "cache_read_input_tokens": 52260, "output_tokens": 90}},
    "requestId": "RID", "type": "assistant", "uuid": "U", "timestamp": "TS",
}
_RESULT = {
    "parentUuid": "U", "isSidechain": False, "userType": "external", "cwd": "/home/user/project",
    "sessionId": "SID", "version": "2.1.39", "type": "user",
    "message": {"role": "user", "content": [{"tool_use_id": "TID", "type": "tool_result",
                                             "content": [{"type": "text", "text": "RESPONSE"}]}]},
    "toolUseResult": {"status": "completed", "prompt": "PROMPT", "agentId": "AID",
                      "content": [{"type": "text", "text": "RESPONSE"}], "totalDurationMs": 61234,
                      "totalTokens": 23456, "totalToolUseCount": 7},
    "uuid": "U2", "timestamp": "TS",
}


def _prompt(rng: random.Random, persona: str) -> str:
    words = rng.sample(FILLER, rng.randint(6, 16)) + rng.sample(PERSONAS[persona].split(), 2)
    rng.shuffle(words)
    return " ".join(words)


def generate(dest: Path, megabytes: float, seed: int = 3) -> tuple[int, int]:
    """Write sessions under dest (a ``projects`` folder) until the size is reached.
    Returns (bytes written, files written)."""
    rng = random.Random(seed)
    main, sub, task, result = _real_lines()
    names = list(PERSONAS)
    size = files = n = 0
    target = int(megabytes * 1024 * 1024)
    while size < target:
        proj = dest / f"-home-user-project-{n % 17}"
        proj.mkdir(parents=True, exist_ok=True)
        sid = f"{n:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
        start = rng.randrange(len(main))
        window = [main[(start + i) % len(main)] for i in range(rng.randint(150, 500))]
        out: list[str] = []
        for i, line in enumerate(window):
            out.append(line.replace('"msg_', f'"msg_{n}_{i}_').replace('"req_', f'"req_{n}_{i}_'))
            if i % 60 == 30:
                persona = rng.choice(names)
                prompt = _prompt(rng, persona)
                ts = f"2026-11-{1 + n % 28:02d}T10:{i % 60:02d}:00.000Z"
                tid, aid = f"toolu_{n}_{i}", f"a{n:x}{i:x}"
                out.append(json.dumps({"type": "user", "sessionId": sid, "timestamp": ts, "uuid": f"up{n}-{i}",
                                       "message": {"role": "user", "content": prompt}}, separators=(",", ":")))
                t = json.loads(json.dumps(task))
                t.update(sessionId=sid, requestId=f"req_t{n}_{i}", uuid=f"ut{n}-{i}", timestamp=ts)
                t["message"]["id"] = f"msg_t{n}_{i}"
                t["message"]["content"][0].update(id=tid, input={"description": f"ask {persona}", "subagent_type": persona, "prompt": prompt})
                r = json.loads(json.dumps(result))
                r.update(sessionId=sid, uuid=f"ur{n}-{i}", timestamp=ts)
                r["message"]["content"][0]["tool_use_id"] = tid
                r["toolUseResult"]["agentId"] = aid
                out += [json.dumps(t, separators=(",", ":")), json.dumps(r, separators=(",", ":"))]
                if rng.random() < 0.5:
                    agent = [ln.replace('"msg_', f'"msg_{aid}_').replace('"req_', f'"req_{aid}_') for ln in sub]
                    folder = proj / sid / "subagents"
                    folder.mkdir(parents=True, exist_ok=True)
                    text = "\n".join(agent) + "\n"
                    (folder / f"agent-{aid}.jsonl").write_text(text)
                    size += len(text.encode())
                    files += 1
        if n % 50 == 0:
            out.append('{"broken": ')  # malformed lines are skipped, not fatal
        text = "\n".join(out).replace("258c7280-ae70-4798-800f-63464d01a85d", sid) + "\n"
        (proj / f"{sid}.jsonl").write_text(text)
        size += len(text.encode())
        files += 1
        n += 1
    return size, files


if __name__ == "__main__":
    written, count = generate(Path(sys.argv[1]), float(sys.argv[2]))
    print(f"{written / 1e6:.0f} MB in {count} files")
