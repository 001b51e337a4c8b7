"""A stand-in for the Anthropic Messages API that records what Claude Code sends.

Stdlib only. It listens on 127.0.0.1 (meant to run inside a network namespace with no route
out, see capture.py), writes every request it receives to ``OUT/NNN.json`` as
``{"method", "path", "headers", "body"}`` and answers:

- ``POST /v1/messages`` with a minimal valid reply ("ok", end_turn), streamed as SSE when the
  request asks for ``"stream": true``, else as one JSON message;
- ``POST /v1/messages/count_tokens`` with ``{"input_tokens": 1}``;
- anything else with ``{}`` (200), so optional calls fail soft.

Usage: ``python3 standin_api.py OUT_DIR [--port N] [--port-file FILE]``.
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPLY_TEXT = "ok"
# Headers worth keeping for reference; never anything secret (the key is a dummy anyway).
KEPT_HEADERS = ("anthropic-version", "anthropic-beta", "user-agent", "x-app", "content-type")


def _message(model: str) -> dict:
    return {
        "id": "msg_standin",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": REPLY_TEXT}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def _sse(model: str) -> bytes:
    start = _message(model)
    start["content"] = []
    start["stop_reason"] = None
    events = [
        ("message_start", {"type": "message_start", "message": start}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": REPLY_TEXT}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 1}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in events).encode()


class Recorder:
    """Numbers and stores requests in arrival order."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.count = 0
        self.paths: list[str] = []
        self.lock = threading.Lock()
        out.mkdir(parents=True, exist_ok=True)

    def record(self, method: str, path: str, headers: dict, raw: bytes) -> dict | None:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        with self.lock:
            self.count += 1
            n = self.count
            self.paths.append(path.split("?", 1)[0])
        entry = {"method": method, "path": path, "headers": headers, "body": body}
        (self.out / f"{n:03d}.json").write_text(
            json.dumps(entry, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        return body if isinstance(body, dict) else None


def make_handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: object) -> None:  # quiet
            pass

        def _read(self) -> bytes:
            length = int(self.headers.get("content-length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, ctype: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", "req_standin")
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            raw = self._read() if self.command in ("POST", "PUT", "PATCH") else b""
            headers = {k.lower(): v for k, v in self.headers.items()
                       if k.lower() in KEPT_HEADERS}
            body = recorder.record(self.command, self.path, headers, raw) or {}
            path = self.path.split("?", 1)[0]
            model = str(body.get("model", "claude-standin"))
            if path.endswith("/v1/messages/count_tokens"):
                self._send(200, "application/json", b'{"input_tokens": 1}')
            elif path.endswith("/v1/messages") and self.command == "POST":
                if body.get("stream"):
                    self._send(200, "text/event-stream", _sse(model))
                else:
                    self._send(200, "application/json", json.dumps(_message(model)).encode())
            else:
                self._send(200, "application/json", b"{}")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    return Handler


def serve(out: Path, port: int = 0) -> tuple[ThreadingHTTPServer, Recorder]:
    """Start the stand-in in a daemon thread; returns the server (``server_port``) and recorder."""
    recorder = Recorder(out)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(recorder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, recorder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", type=Path)
    args = ap.parse_args()
    server, _ = serve(args.out, args.port)
    if args.port_file:
        args.port_file.write_text(str(server.server_port))
    print(f"stand-in API on http://127.0.0.1:{server.server_port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
