#!/usr/bin/env bash
# Crash test (docs/storage.md "Crash safety"): a dev node under a steady load
# of transactions (the built-in generator, `qcn node --dev-load N`, which
# signs ML-DSA-65 transfers and submits them through the same admission path
# as RPC) is killed with SIGKILL at 20 random moments and restarted. After
# every kill:
#   - the store opens and `qcn db check` passes (every root re-derived),
#   - the head height never goes back,
#   - every transaction the node reported committed (a "committed" line is
#     printed only after the store commit returned) is still in the store.
# usage: crash_test.sh /path/to/qcn [rounds]
set -euo pipefail
qcn=$1
rounds=${2:-20}
tmp=$(mktemp -d /tmp/qcn-crash-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
data=$tmp/data
log=$tmp/committed.log
: >"$log"

"$qcn" init --dev --datadir "$data" >/dev/null
last_height=0
for round in $(seq 1 "$rounds"); do
  "$qcn" node --datadir "$data" --period 0 --no-rpc --dev-load 300 --log-level warn \
    --set store.map_size_mb=1 \
    >>"$log" 2>>"$tmp/node.err" &
  pid=$!
  # A random moment between 0.3 s and 2.3 s after the start: early kills land
  # during startup and the first commits, later ones in steady state.
  delay_ms=$((300 + RANDOM % 2000))
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""

  if ! "$qcn" db check --datadir "$data" >"$tmp/check.out" 2>&1; then
    echo "round $round: db check FAILED"; cat "$tmp/check.out"; exit 1
  fi
  height=$("$qcn" db info --datadir "$data" | sed -n 's/^height //p')
  if [ -z "$height" ] || [ "$height" -lt "$last_height" ]; then
    echo "round $round: height went back ($last_height -> ${height:-none})"; exit 1
  fi
  if ! "$qcn" db verify-txs "$log" --datadir "$data" >"$tmp/verify.out" 2>&1; then
    echo "round $round: committed transactions lost"; cat "$tmp/verify.out"; exit 1
  fi
  echo "round $round: killed after ${delay_ms} ms, height $height, $(tail -1 "$tmp/verify.out")"
  last_height=$height
done

committed=$(grep -c '^committed ' "$log" || true)
if [ "$last_height" -lt 1 ] || [ "$committed" -lt 1 ]; then
  echo "no progress under load (height $last_height, $committed committed transactions)"
  tail -20 "$tmp/node.err"
  exit 1
fi
echo "crash test passed: $rounds kills, height $last_height, $committed committed transactions kept"
