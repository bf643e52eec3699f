#!/usr/bin/env bash
# p2p end to end: two real `qcn node` processes on 127.0.0.1. Node A (dev
# engine, a block every 100 ms) listens; node B (same genesis, makes no
# blocks of its own) dials A as its bootnode, syncs every block over the
# post-quantum handshake and sealed frames, and follows A's head. Then B is
# stopped while A keeps going, restarted, and catches up again. Both stores
# must hold the same block hashes. Bounded waits; everything is killed on exit.
# usage: p2p_sync.sh /path/to/qcn
set -euo pipefail
qcn=$1
tmp=$(mktemp -d /tmp/qcn-p2p-XXXXXX)
pa=""
pb=""
cleanup() {
  for p in $pa $pb; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in a b; do [ -f "$tmp/$f.err" ] && { echo "--- node $f"; tail -25 "$tmp/$f.err"; }; done
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
height() { "$qcn" db info --datadir "$1" | sed -n 's/^height //p'; }
hash_at_head() { "$qcn" db info --datadir "$1" | sed -n 's/^hash //p'; }
wait_height() { # $1 datadir, $2 minimum height; 30 s at most
  for _ in $(seq 1 300); do
    h=$(height "$1"); [ -n "$h" ] && [ "$h" -ge "$2" ] && return 0; sleep 0.1
  done
  return 1
}

port_a=$(free_port)
port_b=$(free_port)
"$qcn" init --dev --datadir "$tmp/a" >/dev/null || fail "init a"
"$qcn" init --genesis "$tmp/a/genesis.json" --datadir "$tmp/b" >/dev/null || fail "init b"

start_a() {
  "$qcn" node --datadir "$tmp/a" --period 100 --no-rpc --set "p2p.listen=127.0.0.1:$port_a" \
    >"$tmp/a.out" 2>>"$tmp/a.err" &
  pa=$!
}
start_b() {
  "$qcn" node --datadir "$tmp/b" --period 0 --no-rpc --set "p2p.listen=127.0.0.1:$port_b" \
    --set "p2p.bootnodes=127.0.0.1:$port_a" >"$tmp/b.out" 2>>"$tmp/b.err" &
  pb=$!
}
stop() { # $1 pid: SIGTERM, clean exit
  kill -TERM "$1"
  rc=0; wait "$1" || rc=$?
  [ "$rc" -eq 0 ] || fail "node exited $rc"
}

start_a
wait_height "$tmp/a" 20 || fail "node a made no blocks"
grep -q 'p2p node id 0x' "$tmp/a.err" || fail "node a did not start p2p"

start_b
target=$(height "$tmp/a")
wait_height "$tmp/b" "$target" || fail "node b did not sync to $target"
grep -q 'caught up with peers' "$tmp/b.err" || fail "node b never reported caught-up"
grep -q 'peer 127.0.0.1:.* connected (outbound' "$tmp/b.err" || fail "no outbound connection on b"
grep -q 'connected (inbound' "$tmp/a.err" || fail "no inbound connection on a"
# b follows new blocks (NEW_BLOCK announcements)
target=$(( $(height "$tmp/a") + 10 ))
wait_height "$tmp/b" "$target" || fail "node b did not follow a to $target"

# b down while a goes on, then back: it catches up
stop "$pb"; pb=""
behind=$(height "$tmp/b")
wait_height "$tmp/a" $((behind + 30)) || fail "node a stalled"
start_b
target=$(height "$tmp/a")
wait_height "$tmp/b" "$target" || fail "restarted node b did not catch up to $target"

stop "$pa"; pa=""
sleep 0.5 # b hears a's goodbye and the last announcement
stop "$pb"; pb=""
ha=$(height "$tmp/a")
hb=$(height "$tmp/b")
[ "$hb" -le "$ha" ] || fail "b ($hb) ahead of a ($ha): b made its own blocks"
# identical chains: both stores consistent, the same head hash
"$qcn" db check --datadir "$tmp/a" >/dev/null || fail "db check a"
"$qcn" db check --datadir "$tmp/b" >/dev/null || fail "db check b"
if [ "$hb" -eq "$ha" ]; then
  [ "$(hash_at_head "$tmp/a")" = "$(hash_at_head "$tmp/b")" ] || fail "head hashes differ at $ha"
fi
echo "p2p sync ok: a at $ha, b at $hb"
