"""Realistic generated Claude Code sessions for the router: deterministic for a seed.

Each project uses a small stack of personas from a library (names and descriptions read
from its agent files), more or less often (Zipf weights). Prompts that need a persona are
paraphrases built from a few content words of its description, in task templates, with typos,
dropped words and project noise; most prompts need none (everyday coding requests, some of
them mentioning domain words: hard negatives). Labels are noisy the way real ones are: Claude
sometimes handles a persona-shaped request itself, sometimes delegates a plain one, and
sometimes calls a built-in agent (Explore). Records have the fields and layout of real
transcripts (``Task`` before Claude Code 2.1.63, ``Agent`` since).

Run ``python tests/router_corpus.py OUT_DIR [--sessions N] [--seed S]`` to write a
``projects`` folder for ``ctxtui router eval --transcripts OUT_DIR``.
"""

from __future__ import annotations

import json
import random
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

WSHOBSON = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "wshobson__agents"
if not WSHOBSON.is_dir():
    WSHOBSON = Path("/work/shared/corpora/wshobson__agents")

_GENERIC_WORDS = set(
    ["expert", "specialist", "specializes", "specializing", "master", "masters", "mastering", "proactively", "comprehensive", "modern", "advanced", "complex", "including", "focusing", "focus", "handles", "handling", "building", "build", "builds", "use", "used", "using", "implement", "implementing", "implements", "create", "creates", "creating", "production-ready", "production", "enterprise", "best", "practices", "practice", "patterns", "pattern", "systems", "system", "tasks", "task", "development", "developer", "develop", "developing", "including", "also", "with", "from", "that", "this", "into", "across", "when", "where", "which", "while", "their", "them", "they", "other", "such", "well", "ensure", "ensuring", "need", "needs", "various", "provide", "provides", "provided", "optimization", "optimizing", "optimize", "skills", "skilled", "proficient", "deep", "knowledge", "experienced", "scalable", "robust", "applications", "application", "solutions", "solution", "techniques", "technique", "expertise", "strategies", "strategy", "implementation", "frameworks", "framework", "tools", "tool", "based", "level", "latest", "work", "workflows", "workflow", "code", "immediately", "after"]
)
_STOP = set(["the", "a", "an", "and", "or", "of", "to", "for", "in", "on", "at", "by", "is", "are", "be", "it", "as", "its", "via", "all", "any", "your", "you", "our", "we", "with", "without", "etc", "e.g", "i.e"])

PERSONA_TEMPLATES = [
    "can you help with the {a} {b} in {path}",
    "{a} {b} is broken again, look at {path}",
    "need a review of our {a} setup, especially {b}",
    "how should we approach {a} for the {thing}? thinking about {b} and {c}",
    "set up {a} with {b} for {thing}",
    "{verb} the {a} {b} part of {thing}",
    "the {thing} has {a} issues, probably {b} related. {c}?",
    "plan the {a} work: {b}, {c}",
    "I'd like someone to go through {path} and improve {a} / {b}",
    "{a}: {b} {c} — what's the right way here",
    "we're seeing problems with {a} after the last deploy, check {b}",
    "write a design for {a} and {b} in the {thing}",
]
GENERIC = [
    "fix the failing test in {path}", "run the tests", "commit this", "continue", "yes",
    "rename {ident} to {ident2} everywhere", "why does {path} throw a KeyError on startup",
    "add a --verbose flag to the cli", "undo that last change", "looks good, push it",
    "what does {ident} do?", "make the error message clearer in {path}",
    "there's a typo in the README", "update the changelog", "ok go ahead",
    "can you explain this stack trace\n  File \"{path}\", line 42, in {ident}\nValueError",
    "split {path} into two modules", "add type hints to {ident}", "remove the dead code in {path}",
    "bump the version to 1.4.2", "write a unit test for {ident}", "format the code",
    "no, keep the old behaviour", "show me the diff", "/compact", "/clear", "try again",
    "the {thing} still fails with the same error", "move {ident} into utils", "what changed since yesterday?",
    "add logging around {ident}", "it works now, thanks", "let's do option 2",
]
THINGS = ["api", "dashboard", "billing service", "mobile app", "worker queue", "admin panel",
          "checkout flow", "auth module", "data pipeline", "search page", "cli", "backend"]
VERBS = ["refactor", "redo", "clean up", "speed up", "harden", "rework", "audit"]
IDENTS = ["parse_config", "UserService", "handle_event", "retry_loop", "build_index", "load_rows",
          "OrderRepo", "render_page", "sync_state", "tokenize"]
PATHS = ["src/app.py", "lib/server.ts", "api/handlers.go", "web/pages/index.tsx", "core/models.rb",
         "services/billing/main.py", "pkg/store/store.go", "src/components/Table.vue"]
PROJECTS = ["/home/dev/projects/shop-api", "/home/dev/projects/mobile-app",
            "/home/dev/work/data-platform", "/Users/sam/code/infra", "/home/dev/projects/docs-site",
            "/home/dev/work/ml-service"]


@dataclass
class LibPersona:
    """A persona of the library the sessions draw from."""

    name: str
    description: str
    keywords: list[str]
    weights: list[float] = field(default_factory=list)
    """How likely a user is to say each keyword: rarer in the library, more telling, more said."""


def load_library(root: Path = WSHOBSON) -> list[LibPersona]:
    """Names, descriptions and description keywords of every agent file under ``root``."""
    out: dict[str, LibPersona] = {}
    seen: set[str] = set()
    for p in sorted(root.glob("plugins/*/agents/*.md")):
        text = p.read_text(encoding="utf-8", errors="replace")
        name = re.search(r"^name:\s*(.+)$", text, re.M)
        desc = re.search(r"^description:\s*(.+)$", text, re.M)
        if not name or not desc:
            continue
        n, d = name.group(1).strip().strip("\"'"), desc.group(1).strip().strip("\"'")
        words = [w.strip(".,:;()").lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9.+#/-]+", d)]
        kws = list(dict.fromkeys(w for w in words if len(w) > 2 and w not in _GENERIC_WORDS
                                 and w not in _STOP and "/" not in w))
        if n not in out and d not in seen and len(kws) >= 3:  # one of each copied persona
            seen.add(d)
            out[n] = LibPersona(n, d, kws)
    df: dict[str, int] = {}
    for p in out.values():
        for w in p.keywords:
            df[w] = df.get(w, 0) + 1
    for p in out.values():
        p.weights = [1 / df[w] for w in p.keywords]
    return list(out.values())


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def persona_prompt(rng: random.Random, p: LibPersona) -> str:
    """A noisy paraphrase of a request for this persona's speciality (never its description)."""
    kws: list[str] = []
    for _ in range(12):  # three distinct keywords, the telling ones more often
        w = rng.choices(p.keywords, p.weights)[0]
        if w not in kws:
            kws.append(w)
        if len(kws) == 3:
            break
    kws = [_typo(rng, w) if rng.random() < 0.12 else w for w in kws]
    while len(kws) < 3:
        kws.append(rng.choice(THINGS))
    text = rng.choice(PERSONA_TEMPLATES).format(
        a=kws[0], b=kws[1], c=kws[2], path=rng.choice(PATHS), thing=rng.choice(THINGS),
        verb=rng.choice(VERBS))
    if rng.random() < 0.3:
        text = text.lower()
    if rng.random() < 0.2:
        text += " " + rng.choice(["asap", "pls", "(see the ticket)", "before friday", "thx"])
    return text


def generic_prompt(rng: random.Random, stack: list[LibPersona]) -> str:
    """An everyday request; sometimes it mentions a domain word of the project (hard negative)."""
    if rng.random() < 0.25:  # phrased like a persona request, about ordinary code
        kw = [rng.choice(IDENTS), rng.choice(["tests", "naming", "errors", "imports", "layout", "config"]),
              rng.choice(["the readme", "types", "logging", "comments", "the build"])]
        text = rng.choice(PERSONA_TEMPLATES).format(
            a=kw[0], b=kw[1], c=kw[2], path=rng.choice(PATHS), thing=rng.choice(THINGS), verb=rng.choice(VERBS))
    else:
        text = rng.choice(GENERIC).format(path=rng.choice(PATHS), ident=rng.choice(IDENTS),
                                          ident2=rng.choice(IDENTS), thing=rng.choice(THINGS))
    if rng.random() < 0.3:
        word = rng.choice(rng.choice(stack).keywords)
        text += rng.choice([f" (the {word} one)", f", same as for {word}", f" in the {word} code"])
    return text


class _Writer:
    """Builds the records of one session the way Claude Code writes them."""

    def __init__(self, rng: random.Random, cwd: str, session: str, version: str, t: datetime) -> None:
        self.rng, self.cwd, self.session, self.version, self.t = rng, cwd, session, version, t
        self.records: list[dict] = []
        self.parent: str | None = None

    def _base(self, rtype: str) -> dict:
        u = str(uuid.UUID(int=self.rng.getrandbits(128)))
        rec = {"parentUuid": self.parent, "isSidechain": False, "userType": "external",
               "cwd": self.cwd, "sessionId": self.session, "version": self.version,
               "gitBranch": "main", "type": rtype, "uuid": u,
               "timestamp": self.t.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        self.parent = u
        self.t += timedelta(seconds=self.rng.randint(2, 90))
        return rec

    def user(self, content) -> None:
        rec = self._base("user")
        rec["message"] = {"role": "user", "content": content}
        self.records.append(rec)

    def assistant(self, content: list[dict]) -> None:
        rec = self._base("assistant")
        rec["requestId"] = f"req_{self.rng.getrandbits(64):016x}"
        rec["message"] = {"model": "claude-opus-4-6", "id": f"msg_{self.rng.getrandbits(64):016x}",
                          "type": "message", "role": "assistant", "content": content,
                          "stop_reason": None, "stop_sequence": None,
                          "usage": {"input_tokens": self.rng.randint(1, 40),
                                    "cache_creation_input_tokens": self.rng.randint(0, 4000),
                                    "cache_read_input_tokens": self.rng.randint(10000, 40000),
                                    "output_tokens": self.rng.randint(5, 900)}}
        self.records.append(rec)

    def call(self, agent: str, prompt: str) -> None:
        tool = "Agent" if tuple(int(x) for x in self.version.split(".")) >= (2, 1, 63) else "Task"
        tid = f"toolu_{self.rng.getrandbits(80):020x}"
        self.assistant([{"type": "tool_use", "id": tid, "name": tool,
                         "input": {"description": prompt[:40], "prompt": f"{prompt}\n\nReport back.",
                                   "subagent_type": agent}}])
        agent_id = f"a{self.rng.getrandbits(24):06x}"
        rec = self._base("progress")
        rec.update({"data": {"type": "agent_progress", "agentId": agent_id}, "parentToolUseID": tid,
                    "toolUseID": f"agent_msg_{tid}"})
        self.records.append(rec)
        self.user([{"tool_use_id": tid, "type": "tool_result",
                    "content": [{"type": "text", "text": "Done: summary of the findings."}]}])
        self.records[-1]["toolUseResult"] = {"status": "completed", "agentId": agent_id,
                                             "totalTokens": self.rng.randint(3000, 40000),
                                             "content": [{"type": "text", "text": "Done."}]}


@dataclass
class Truth:
    """What the generator meant (for checks): the label of each prompt it wrote."""

    prompts: int = 0
    needed: int = 0


def generate(out: Path, *, sessions: int = 240, seed: int = 7, library: list[LibPersona] | None = None,
             persona_share: float = 0.25) -> Truth:
    """Write ``sessions`` transcripts under ``out/<project>/<session>.jsonl``."""
    rng = random.Random(seed)
    lib = library or load_library()
    truth = Truth()
    stacks = {}
    for cwd in PROJECTS:
        stack = rng.sample(lib, k=min(len(lib), rng.randint(6, 12)))
        weights = [1 / (i + 1) for i in range(len(stack))]
        stacks[cwd] = (stack, weights)
    start = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    for n in range(sessions):
        cwd = rng.choice(PROJECTS)
        stack, weights = stacks[cwd]
        t = start + timedelta(hours=n * 10 + rng.randint(0, 5))
        version = "2.1.38" if n < sessions // 2 else "2.1.70"
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        w = _Writer(rng, cwd, sid, version, t)
        w.records.append({"type": "file-history-snapshot", "messageId": sid, "isSnapshotUpdate": False,
                          "snapshot": {"messageId": sid, "trackedFileBackups": {}, "timestamp": w._base("x")["timestamp"]}})
        w.parent = None
        for _ in range(rng.randint(4, 14)):
            if rng.random() < persona_share:
                p = rng.choices(stack, weights)[0]
                text = persona_prompt(rng, p)
                label = p.name if rng.random() < 0.85 else ""
            else:
                text = generic_prompt(rng, stack)
                r = rng.random()
                label = rng.choices(stack, weights)[0].name if r < 0.03 else ("Explore" if r < 0.06 else "")
            truth.prompts += 1
            truth.needed += bool(label) and label != "Explore"
            if text.startswith("/"):
                w.user(f"<command-name>{text}</command-name>\n<command-message>{text[1:]}</command-message>\n<command-args></command-args>")
            else:
                w.user(text if rng.random() < 0.7 else [{"type": "text", "text": text}])
            w.assistant([{"type": "text", "text": "Let me look into that."}])
            if label:
                w.call(label, text)
            w.assistant([{"type": "text", "text": "Done."}])
        folder = out / re.sub(r"[^a-zA-Z0-9]", "-", cwd)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{sid}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in w.records), encoding="utf-8")
    return truth


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--sessions", type=int, default=240)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    tr = generate(a.out, sessions=a.sessions, seed=a.seed)
    print(f"{a.sessions} sessions, {tr.prompts} prompts, {tr.needed} needed a persona -> {a.out}", file=sys.stderr)
