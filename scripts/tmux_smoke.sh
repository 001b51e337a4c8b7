#!/usr/bin/env bash
# Start ctxtui in a real terminal (tmux), press keys as a person would, read the screen.
# Usage: scripts/tmux_smoke.sh [path/to/ctxtui]   Exit 0 when every check passes.
set -euo pipefail
CTXTUI=${1:-ctxtui}
command -v tmux >/dev/null || { echo "tmux not installed"; exit 2; }
tmp=$(mktemp -d)
session="ctxtui-smoke-$$"
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$tmp/ws"
env_vars="CTXTUI_CONFIG_DIR=$tmp/cfg CTXTUI_CACHE_DIR=$tmp/cache CTXTUI_DATA_DIR=$tmp/data CTXTUI_CLAUDE_HOME=$tmp/home"
tmux new-session -d -s "$session" -x 150 -y 40 "env $env_vars $CTXTUI --workspace $tmp/ws"

wait_for() {  # wait_for PATTERN SECONDS
  local deadline=$((SECONDS + $2))
  while (( SECONDS < deadline )); do
    if tmux capture-pane -p -t "$session" | grep -qE "$1"; then return 0; fi
    sleep 0.2
  done
  echo "FAIL: did not see /$1/ on screen:"; tmux capture-pane -p -t "$session"; return 1
}

wait_for "Managed [0-9,]+ tok" 30
wait_for "Hot 0 / 3" 10
before=$(tmux capture-pane -p -t "$session" | grep -oE "Managed [0-9,]+ tok")
echo "before: $before"
tmux send-keys -t "$session" t          # toggle the first cold persona to hot
wait_for "Hot 1 / 3" 10
after=$(tmux capture-pane -p -t "$session" | grep -oE "Managed [0-9,]+ tok")
echo "after t: $after"
[[ "$before" != "$after" ]] || { echo "FAIL: budget line did not change"; exit 1; }
ls "$tmp/ws/.claude/agents/" | grep -q "\.md$" || { echo "FAIL: no file in .claude/agents"; exit 1; }
tmux send-keys -t "$session" u          # undo
wait_for "Hot 0 / 3" 10
tmux send-keys -t "$session" "?"        # help screen
wait_for "Keep +only a few|Keep only a few|move the persona under" 10
tmux send-keys -t "$session" "?"          # ? closes help too (a bare Escape followed by q reads as alt+q)
sleep 0.5
wait_for "Hot 0 / 3" 10
tmux send-keys -t "$session" q
for _ in $(seq 1 25); do tmux has-session -t "$session" 2>/dev/null || break; sleep 0.2; done
if tmux has-session -t "$session" 2>/dev/null; then echo "FAIL: still running after q"; tmux capture-pane -p -t "$session" | tail -5; exit 1; fi
echo "OK: budget line changed on toggle, undo restored it, help opened, q quit"
