"""Build a synthetic library shaped like the real corpora (sampled and varied)."""

from __future__ import annotations

import os
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLED = HERE.parent / "personas"


def corpora() -> Path:
    """The shared real corpora: $CTXTUI_CORPORA, else ../shared/corpora beside the repository
    or its worktree folder, else /work/shared/corpora."""
    env = os.environ.get("CTXTUI_CORPORA")
    candidates = [Path(env)] if env else []
    candidates += [p / "shared" / "corpora" for p in (HERE.parent.parent, HERE.parent.parent.parent, Path("/work"))]
    return next((c for c in candidates if c.is_dir()), candidates[-1])


CORPUS = corpora() / "wshobson__agents"


def sources() -> list[str]:
    """Real persona texts to sample from (the shared corpus, else the bundled library)."""
    root = CORPUS if CORPUS.is_dir() else BUNDLED
    if root is BUNDLED:
        print(f"bench: {CORPUS} not found; sampling the bundled personas instead")
    return [p.read_text() for p in sorted(root.rglob("*.md")) if p.name[0].islower()]


def make_library(dest: Path, n: int, seed: int = 7) -> Path:
    """Write n distinct persona files under dest/plugins/<group>/agents/, like wshobson."""
    rng = random.Random(seed)
    texts = sources()
    words = " ".join(texts).split()
    for i in range(n):
        text = rng.choice(texts)
        head, sep, body = text.partition("\n---\n")
        head = "\n".join(
            f"name: agent-{i:04d}" if line.startswith("name:") else line for line in head.splitlines()
        )
        paragraphs = body.split("\n\n")
        rng.shuffle(paragraphs)
        extra = " ".join(rng.choice(words) for _ in range(rng.randint(20, 200)))
        out = dest / "plugins" / f"group-{i % 60:02d}" / "agents" / f"agent-{i:04d}.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(head + sep + "\n\n".join(paragraphs) + "\n\n" + extra + "\n")
    return dest
