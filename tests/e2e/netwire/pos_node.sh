#!/bin/sh
# `qcn node --engine pos` and `--engine pow` as real processes (node_pos.c):
#   pos, one validator holding all the power (it finalizes alone, no
#   network needed): blocks are finalized with certificates, every block's
#   header carries its parent's certificate (non-empty commit from height
#   2 on is checked by every importer: the chain would not grow otherwise),
#   qcn_consensusStatus and `qcn testnet status` report height and round;
#   kill -9 and restart over the same data, WAL and key: it resumes above
#   the old head without a WAL refusal (no double sign) and with the same
#   blocks below it; an unknown engine and a pos node without
#   consensus.conf are refused with a message.
#   pow: blocks are sealed (16-byte extra: difficulty || nonce).
# usage: pos_node.sh QCN_BINARY
set -u
QCN=$1
DIR=$(mktemp -d /tmp/qcn-nwpos-XXXXXX)
# Below the ephemeral range (32768-60999); disjoint from the other e2e scripts.
PORT=$((24000 + ($$ % 1000) * 2))
PID=""
fail() { echo "FAIL: $*"; head -5 "$DIR/node.log" 2>/dev/null; tail -5 "$DIR/node.log" 2>/dev/null; exit 1; }
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
rpc() { # method params-json
    curl -s -X POST -H 'content-type: application/json' \
        --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "http://127.0.0.1:$RPCPORT"
}
height() {
    x=$(rpc eth_blockNumber '[]' | sed -n 's/.*"result":"0x\([0-9a-f]*\)".*/\1/p')
    [ -n "$x" ] && printf '%d\n' "0x$x"
}
wait_height() { # target seconds
    t=0
    while [ $t -lt "$2" ]; do
        h=$(height); [ -n "$h" ] && [ "$h" -ge "$1" ] && return 0
        sleep 0.5; t=$((t + 1))
    done
    return 1
}
hash_at() { rpc eth_getBlockByNumber "[\"$(printf 0x%x "$1")\",false]" | sed -n 's/.*"hash":"\(0x[0-9a-f]*\)".*/\1/p'; }

"$QCN" testnet init --validators 1 --dir "$DIR/net" --base-port "$PORT" --chain-id 4242 \
    > "$DIR/init.out" 2>&1 || { cat "$DIR/init.out"; fail "testnet init"; }
ND=$DIR/net/node0
RPCPORT=$((PORT + 1))
"$QCN" node --datadir "$ND" > "$DIR/node.log" 2>&1 &
PID=$!
wait_height 4 40 || fail "pos did not finalize 4 blocks"
st=$(rpc qcn_consensusStatus '[]')
echo "$st" | grep -q '"engine":"pos"' || fail "qcn_consensusStatus: $st"
echo "$st" | grep -q '"validator":true' || fail "not a validator: $st"
echo "$st" | grep -q '"walRefusals":0' || fail "WAL refusals: $st"
echo "$st" | grep -Eq '"lockedRound":-?[0-9]+,"validRound":-?[0-9]+' || fail "lock rounds: $st"
"$QCN" testnet status --dir "$DIR/net" > "$DIR/status.out" 2>&1 || fail "testnet status: $(cat "$DIR/status.out")"
awk 'NR==2 {exit !($3 >= 4 && $5 == "0")}' "$DIR/status.out" || fail "status row: $(cat "$DIR/status.out")"
# kill -9, then restart over the same data
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=""
"$QCN" node --datadir "$ND" --no-rpc --dev > /dev/null 2>&1 &   # the same store opens under dev too
sleep 1; kill "$!" 2>/dev/null; wait "$!" 2>/dev/null
"$QCN" node --datadir "$ND" > "$DIR/node2.log" 2>&1 &
PID=$!
sleep 1
h0=$(height); [ -n "$h0" ] || fail "restarted node does not answer"
wait_height $((h0 + 3)) 40 || fail "pos did not resume after kill -9"
st=$(rpc qcn_consensusStatus '[]')
echo "$st" | grep -q '"walRefusals":0' || fail "WAL refused a signature after restart: $st"
h1=$(hash_at 1); [ -n "$h1" ] || fail "no block 1"
kill "$PID"; wait "$PID"; rc=$?; PID=""
[ "$rc" = 0 ] || fail "pos node exit status $rc on SIGTERM"
grep -q "pos engine started" "$DIR/node2.log" || fail "no start line"
# refusals
"$QCN" node --datadir "$ND" --engine nosuch --no-rpc > "$DIR/bad.log" 2>&1 && fail "unknown engine ran"
grep -q "no such engine" "$DIR/bad.log" || fail "unknown engine message"
mv "$ND/consensus.conf" "$ND/consensus.conf.off"
"$QCN" node --datadir "$ND" --engine pos --no-rpc > "$DIR/bad.log" 2>&1 && fail "pos ran without consensus.conf"
grep -q "consensus.conf" "$DIR/bad.log" || fail "missing consensus.conf not named"
mv "$ND/consensus.conf.off" "$ND/consensus.conf"

# pow, on a fresh chain
"$QCN" init --dev --datadir "$DIR/pow" > /dev/null 2>&1 || fail "init --dev"
"$QCN" node --datadir "$DIR/pow" --engine pow --rpc-addr "127.0.0.1:$RPCPORT" > "$DIR/node.log" 2>&1 &
PID=$!
sleep 1
h=$(height); wait_height $((h + 2)) 40 || fail "pow did not mine 2 blocks"
x=$(rpc eth_getBlockByNumber '["latest",false]' | sed -n 's/.*"extraData":"0x\([0-9a-f]*\)".*/\1/p')
[ "${#x}" = 32 ] || fail "pow block extra is not difficulty || nonce: '$x'"
rpc qcn_consensusStatus '[]' | grep -q '"error"' || fail "pow node claims pos status"
kill "$PID"; wait "$PID"; rc=$?; PID=""
[ "$rc" = 0 ] || fail "pow node exit status $rc"
echo "ok"
