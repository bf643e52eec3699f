#!/usr/bin/env bash
# Node life cycle: `qcn init --dev` (dev key + genesis), refusal to init twice,
# a node producing blocks on demand under load, graceful shutdown on SIGTERM
# and SIGINT (exit 0, store consistent), restart resuming at the stored head,
# the data directory lock, and `qcn db backup` of a running node.
# usage: node_lifecycle.sh /path/to/qcn
set -euo pipefail
qcn=$1
tmp=$(mktemp -d /tmp/qcn-life-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
data=$tmp/data
fail() { echo "FAIL: $*"; [ -f "$tmp/node.err" ] && tail -20 "$tmp/node.err"; exit 1; }

"$qcn" init --dev --datadir "$data" >"$tmp/init.out" || fail "init --dev"
grep -q '^dev key 0x' "$tmp/init.out" || fail "init did not report the dev key"
grep -q 'DEVELOPMENT KEY' "$data/dev.key" || fail "dev key file not marked"
[ "$(stat -c %a "$data/dev.key")" = 600 ] || fail "dev key file not mode 0600"
if "$qcn" init --dev --datadir "$data" >/dev/null 2>&1; then fail "second init succeeded"; fi

height() { "$qcn" db info --datadir "$data" | sed -n 's/^height //p'; }
wait_height() { # $1 = minimum height; 20 s at most
  for _ in $(seq 1 200); do
    h=$(height); [ "$h" -ge "$1" ] && return 0; sleep 0.1
  done
  return 1
}

for sig in TERM INT; do
  start=$(height)
  "$qcn" node --datadir "$data" --period 0 --no-rpc --dev-load 100 --log-level info \
    >"$tmp/node.out" 2>"$tmp/node.err" &
  pid=$!
  wait_height $((start + 3)) || fail "no blocks under load after SIG$sig restart"
  if "$qcn" node --datadir "$data" --no-rpc >/dev/null 2>"$tmp/second.err"; then
    fail "a second node ran on the same data directory"
  fi
  grep -q 'in use' "$tmp/second.err" || fail "second node: no lock message"
  if [ "$sig" = TERM ]; then
    rm -rf "$tmp/backup"
    "$qcn" db backup "$tmp/backup" --datadir "$data" >/dev/null || fail "hot backup"
    mkdir -p "$tmp/restored/chaindata"
    cp "$tmp/backup/data.mdb" "$tmp/restored/chaindata/"
    "$qcn" db check --datadir "$tmp/restored" >"$tmp/bcheck.out" || fail "backup is not consistent"
  fi
  kill -"$sig" "$pid"
  rc=0; wait "$pid" || rc=$?
  pid=""
  [ "$rc" -eq 0 ] || fail "node exited $rc on SIG$sig"
  grep -q 'shutting down' "$tmp/node.err" || fail "no graceful shutdown message"
  "$qcn" db check --datadir "$data" >"$tmp/check.out" || { cat "$tmp/check.out"; fail "db check after SIG$sig"; }
  grep -q '^committed ' "$tmp/node.out" || fail "no committed transactions reported"
  "$qcn" db verify-txs "$tmp/node.out" --datadir "$data" >/dev/null || fail "reported txs missing"
done

# A fixed period makes blocks without transactions.
start=$(height)
"$qcn" node --datadir "$data" --period 100 --no-rpc >/dev/null 2>"$tmp/node.err" &
pid=$!
wait_height $((start + 3)) || fail "no empty blocks with period 100"
kill -TERM "$pid"; wait "$pid"; pid=""
echo "node life cycle passed (height $(height))"
