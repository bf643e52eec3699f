#!/bin/sh
# A fresh node joins a running pos chain after N finalized blocks (issue 7:
# "a fresh node joins after 200 blocks and syncs to the head"; docs/consensus.md
# §8 step 8): 4 validators finalize N blocks; then a fifth node, started for
# the first time from the same genesis (a follower: no validator key), fetches
# every block with its certificate from its peers (block h's from block
# h+1's header, the head's from the stored one), verifies and applies them,
# reaches the head while the chain keeps growing, and follows it: it ends on
# the validators' hash at every height. N = 200 by default; the validators
# start each height 20 ms after the last (pos.block_interval_ms, instead of
# the testnet's 1 s) so that 200 blocks take seconds, not minutes.
# usage: pos_sync.sh QCN_BINARY [N]
set -u
QCN=$1
N=${2:-200}
DIR=$(mktemp -d /tmp/qcn-nwsync-XXXXXX)
# Below the ephemeral range (32768-60999); this script's band is 26000-31999
# (10 ports per run, start derived from $$, probed: a base with a port in use
# by any socket is skipped).
. "$(dirname "$0")/../lib.sh"
e2e_ports 26000 590 10 || { echo "FAIL: no free ports in 26000-31999"; exit 1; }
PIDS=""
fail() {
    echo "FAIL: $*"
    for i in 0 1 4; do
        echo "-- node$i"; grep -v " block [0-9]* txs=" "$DIR/net/node$i/node.log" | tail -10
    done
    exit 1
}
trap e2e_cleanup EXIT INT TERM
hashes() { # node from to: one hash per line, heights in order (one batch request;
    # batch answers keep the request order, docs/rpc.md)
    b="["; k=$2
    while [ $k -le "$3" ]; do
        b="$b{\"jsonrpc\":\"2.0\",\"id\":$k,\"method\":\"eth_getBlockByNumber\",\"params\":[\"$(printf 0x%x $k)\",false]},"
        k=$((k + 1))
    done
    curl -s -m 30 -X POST -H 'content-type: application/json' --data "${b%,}]" \
        "http://127.0.0.1:$((PORT + 2 * $1 + 1))" | grep -o '"hash":"0x[0-9a-f]*"'
}
start() {
    "$QCN" node --datadir "$DIR/net/node$1" >> "$DIR/net/node$1/node.log" 2>&1 &
    PIDS="$PIDS $!"
}

# The validators are staked at genesis (docs/consensus.md §6): one that
# misses blocks (a slow start) can be jailed for downtime and leave the set at
# an epoch boundary; a long epoch keeps the set fixed, so this test is about
# sync only.
"$QCN" testnet init --validators 4 --dir "$DIR/net" --base-port "$PORT" --chain-id 909 \
    --epoch-length 100000 > "$DIR/init.out" 2>&1 || { cat "$DIR/init.out"; fail "testnet init"; }
for i in 0 1 2 3; do
    sed -i "s/^pos.block_interval_ms = .*/pos.block_interval_ms = 20/" "$DIR/net/node$i/consensus.conf"
done
# node4: node3's untouched directory (the genesis store) as a follower: no
# validator key, beacon seed or WAL; its own ports; the validators as
# bootnodes. Its p2p identity is created at its first start.
cp -a "$DIR/net/node3" "$DIR/net/node4"
rm -f "$DIR/net/node4/validator.testkey" "$DIR/net/node4/beacon.seed" "$DIR/net/node4/consensus.wal"
sed -i -e '/^pos.validator_key/d' -e '/^pos.beacon_seed/d' -e '/^pos.beacon_length/d' \
    -e '/^pos.wal/d' "$DIR/net/node4/consensus.conf"
sed -i -e "s/^rpc.addr = .*/rpc.addr = 127.0.0.1:$((PORT + 9))/" \
    -e "s/^p2p.listen = .*/p2p.listen = 127.0.0.1:$((PORT + 8))/" \
    -e "s/^p2p.bootnodes = .*/p2p.bootnodes = 127.0.0.1:$PORT,127.0.0.1:$((PORT + 2)),127.0.0.1:$((PORT + 4)),127.0.0.1:$((PORT + 6))/" \
    "$DIR/net/node4/qcn.conf"

t0=$(date +%s)
for i in 0 1 2 3; do start $i; done
wait_height 0 1 120 || fail "4 validators did not finalize block 1 in 120 s"
wait_height 0 "$N" 120 || fail "4 validators did not finalize $N blocks"
t1=$(date +%s)
[ "$(height 4)" = "" ] || fail "node4 should be down"
start 4
h=$(height 0)
wait_height 4 "$h" 120 || fail "the late joiner did not sync to $h"
t2=$(date +%s)
# Reaching h is not the end of sync: blocks kept coming meanwhile. The node
# says "caught up" once it reaches the live head; give it a bounded while.
t=0
until grep -q "caught up" "$DIR/net/node4/node.log"; do
    [ $t -lt 60 ] || fail "no catch-up line"
    sleep 1; t=$((t + 1))
done
# it follows the head: the chain keeps growing and node4 with it
h2=$(height 0); wait_height 4 $((h2 + 20)) 60 || fail "node4 does not follow the head"
m=$(height 4)
hashes 0 1 "$m" > "$DIR/h0"
hashes 4 1 "$m" > "$DIR/h4"
[ "$(wc -l < "$DIR/h0")" = "$m" ] || fail "node0 did not return $m block hashes"
cmp -s "$DIR/h0" "$DIR/h4" || fail "node4 differs from node0 at height $(cmp "$DIR/h0" "$DIR/h4" | sed -n 's/.* line \([0-9]*\).*/\1/p')"
ref=$(hash_at 4 "$m")
for i in 1 2 3; do [ "$(hash_at $i "$m")" = "$ref" ] || fail "node$i differs at height $m"; done
st=$(rpc 4 qcn_consensusStatus '[]')
echo "$st" | grep -q '"validator":false' || fail "node4 status: $st"
rpc 4 net_peerCount '[]' | grep -q '"result":"0x[1-9]"' || fail "node4 has no peers"
echo "ok: $N+ blocks in $((t1 - t0)) s; node4 joined at $h, synced in $((t2 - t1)) s, followed to $m (same hash at every height)"
