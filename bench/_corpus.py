"""Build a synthetic library shaped like the real corpora (sampled and varied)."""

from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpora" / "wshobson__agents"
BUNDLED = HERE.parent / "personas"


def sources() -> list[str]:
    """Real persona texts to sample from (the shared corpus, else the bundled library)."""
    root = CORPUS if CORPUS.is_dir() else BUNDLED
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
