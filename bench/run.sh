#!/usr/bin/env bash
# Keel beside its peers: runs the shared http-peers harness with Keel (bench/server.ts) as the
# target. See bench/README.md.
#
# usage: bash bench/run.sh [seconds-per-run] [rounds]     (defaults: 5 3; npm run bench does the same)
#
# Environment (optional):
#   HTTP_PEERS_DIR   the harness (default ../shared/bench/http-peers). It is never written to:
#                    it is copied into bench/results/http-peers/ (git-ignored), which gets the
#                    harness's node_modules/ and its results/<timestamp>/ folders.
#   PEERS            default "node-http fastify fastify-prod"
#   SCENARIOS        default "hello user post"
#   PIN, WARMUP, CONNS, BASE_PORT, SERVER_CPU, WRK_CPU, KEEP_LOGS: passed to the harness as is.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS_SRC=${HTTP_PEERS_DIR:-$ROOT/../shared/bench/http-peers}
WORK=$ROOT/bench/results/http-peers

[ -x "$HARNESS_SRC/run.sh" ] || { echo "bench/run.sh: no harness at $HARNESS_SRC (set HTTP_PEERS_DIR)" >&2; exit 1; }
[ -d "$ROOT/node_modules/tsx" ] || { echo "bench/run.sh: run npm ci in $ROOT first" >&2; exit 1; }

# A private, writable copy of the harness; node_modules/ and results/ survive between runs.
mkdir -p "$WORK"
rsync -a --delete --chmod=Du+w,Fu+w --exclude /node_modules/ --exclude /results/ "$HARNESS_SRC/" "$WORK/"

# Keel runs from source: the `source` export condition maps `keel` to src/, tsx loads TypeScript.
# The harness starts TARGET_CMD with `bash -c` from its own directory, so every path is absolute.
TSX=$(cd "$ROOT" && node --input-type=module -e "console.log(import.meta.resolve('tsx'))")
printf -v TARGET_CMD 'OTLP_SINK_SCRIPT=%q exec node --conditions=source --import %q %q' \
  "$WORK/servers/lib/otlp-sink.mjs" "$TSX" "$ROOT/bench/server.ts"
# KEEL_BENCH_MODE=bare runs Keel without tracing, access log and guards (see server.ts).
if [ "${KEEL_BENCH_MODE:-}" = bare ]; then TARGET_CMD="KEEL_BENCH_MODE=bare $TARGET_CMD"; TARGET_NAME=keel-bare; else TARGET_NAME=keel; fi
export TARGET_CMD TARGET_NAME
export PEERS=${PEERS:-"node-http fastify fastify-prod"}
export SCENARIOS=${SCENARIOS:-"hello user post"}

before=$(ls -1 "$WORK/results" 2>/dev/null | sort | tail -1 || true)
"$WORK/run.sh" "${1:-5}" "${2:-3}"
run_dir=$WORK/results/$(ls -1 "$WORK/results" | sort | tail -1)
[ "$(basename "$run_dir")" != "$before" ] || { echo "bench/run.sh: no new results folder" >&2; exit 1; }

# The harness reports span accounting for fastify-prod only; the same figures for keel come from
# the server logs (bench/server.ts prints requests handled; the sink prints spans received).
[ "$TARGET_NAME" = keel ] && {
  echo
  echo "### keel: spans at the OTLP sink"
  echo
  echo "| run | requests handled | spans at sink | dropped (warned) |"
  echo "|---|---|---|---|"
  for log in "$run_dir"/logs/*-keel.log; do
    tag=$(basename "$log" .log)
    [[ $tag == check-* ]] && continue
    handled=$(sed -n 's/^keel-bench: requests handled=\([0-9]*\).*/\1/p' "$log" | head -1)
    spans=$(sed -n 's/^otlp-sink: exports=[0-9]* spans=\([0-9]*\).*/\1/p' "$log" | head -1)
    dropped=$(awk '/Dropped [0-9]+ spans/ {for (i = 1; i < NF; i++) if ($i == "Dropped") s += $(i + 1)} END {print s + 0}' "$log")
    echo "| ${tag%-keel} | ${handled:-?} | ${spans:-?} | $dropped |"
  done
} | tee -a "$run_dir/summary.md"
echo "results: $run_dir" >&2
