#!/usr/bin/env bash
# The README's first command on this clean clone: `npm start` serves the showcase on embedded
# defaults and answers /ready. A fresh checkout differs from a working one (no .keel/, no data
# directory yet), and only a run from one finds what that breaks.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${SMOKE_PORT:-39517}
log=$(mktemp)
# A session of its own, so stopping it ends npm, tsx and the node process under them.
PORT=$port setsid npm start >"$log" 2>&1 &
pid=$!
stop() {
  kill -TERM -- "-$pid" 2>/dev/null || true
  # The app drains before it exits; wait for the whole group (at most 20 s), then insist.
  for _ in $(seq 1 40); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
trap stop EXIT

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then
    echo "npm start: /ready answered 200 on port $port"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 1
done
echo "npm start: /ready did not answer 200 within 120 s; its output:" >&2
cat "$log" >&2
exit 1
