"""Write tests/data/wshobson_parse.json: how every wshobson persona file parses.

Run from the repository root after a deliberate parser change (and say why in the commit):
    python tests/data/make_wshobson_golden.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import WSHOBSON  # noqa: E402
from ctxtui.core.library import _read, discover  # noqa: E402
from ctxtui.core.persona import parse_persona  # noqa: E402


def golden() -> dict[str, list]:
    """Relative path -> [name, status, problems, description sha, tools, model, body sha]."""
    out = {}
    for path in discover(WSHOBSON):
        data, placeholder, _ = _read(path)
        p = placeholder if data is None else parse_persona(path, data)
        digest = hashlib.sha256(p.description.encode()).hexdigest()[:16]
        out[path.relative_to(WSHOBSON).as_posix()] = [p.name, p.status.value, p.problems, digest, p.tools, p.model, p.body_sha[:16]]
    return out


if __name__ == "__main__":
    target = Path(__file__).with_name("wshobson_parse.json")
    rows = sorted(golden().items())
    target.write_text("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in rows) + "\n}\n")
    print(f"wrote {target}")
