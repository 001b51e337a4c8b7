"""A tiny stdio MCP server for the startup captures: three tools, no resources, no prompts.

Speaks newline-delimited JSON-RPC 2.0 on stdin/stdout (the MCP stdio transport). Only what
Claude Code asks at startup is answered: ``initialize``, ``tools/list`` (and empty lists for
``resources/list``/``prompts/list``); notifications are ignored. Stdlib only, no network.
"""

from __future__ import annotations

import json
import sys

TOOLS = [
    {
        "name": "lookup_ticket",
        "description": "Look up a ticket in the team's tracker by its id and return its title, "
                       "status and assignee.",
        "inputSchema": {
            "type": "object",
            "properties": {"ticket_id": {"type": "string", "description": "Ticket id, e.g. OPS-12"}},
            "required": ["ticket_id"],
        },
    },
    {
        "name": "list_deploys",
        "description": "List the most recent deploys of a service.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "service": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
            },
            "required": ["service"],
        },
    },
    {
        "name": "ping",
        "description": "Check that the server answers.",
        "inputSchema": {"type": "object", "properties": {}},
    },
]


def answer(req: dict) -> dict | None:
    """The JSON-RPC reply to REQ, or None for a notification."""
    if "id" not in req:
        return None
    method = req.get("method")
    if method == "initialize":
        result: dict = {
            "protocolVersion": req.get("params", {}).get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "tiny", "version": "1.0.0"},
        }
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method in ("resources/list", "prompts/list", "resources/templates/list"):
        key = {"resources/list": "resources", "prompts/list": "prompts",
               "resources/templates/list": "resourceTemplates"}[method]
        result = {key: []}
    elif method == "ping":
        result = {}
    else:
        return {"jsonrpc": "2.0", "id": req["id"],
                "error": {"code": -32601, "message": f"method not found: {method}"}}
    return {"jsonrpc": "2.0", "id": req["id"], "result": result}


def main() -> int:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError:
            continue
        reply = answer(req)
        if reply is not None:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
