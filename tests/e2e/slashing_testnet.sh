#!/bin/sh
# Double-sign slashing end to end (docs/consensus.md §6), real `qcn node`
# processes on 127.0.0.1: 4 validators staked at genesis (10000 coins each)
# with a 10-block epoch; node3 runs with the test-only fault
# `pos.test_fault = double_sign` (a second, conflicting prevote every round).
# Asserted:
#   - node3 warns loudly that the fault is active;
#   - the honest nodes detect the equivocation, and the evidence reaches a
#     block as a staking op-7 transaction (receipt status 1) sent by an
#     honest validator;
#   - staking (qcn_validators): node3 tombstoned and jailed, its stake cut by
#     exactly slash_double_sign_bps, the others untouched; it stays in the
#     set until the epoch boundary after that block and is out from the
#     boundary on (power 0, previous set's power 10000 at the boundary);
#   - the other three keep finalizing after the boundary, node3 proposes
#     nothing after it and reports itself an observer;
#   - every node (node3 too) has the same block hash at every height: no two
#     blocks were finalized at one height.
# Waits are for conditions with bounded deadlines (a loaded 2-core machine);
# a failure prints every node's log tail.
# usage: slashing_testnet.sh QCN_BINARY
set -u
QCN=$1
EPOCH=10
DIR=$(mktemp -d /tmp/qcn-slash-XXXXXX)
PIDS=""
. "$(dirname "$0")/lib.sh"
RPC_TIMEOUT=10
fail() {
    echo "FAIL: $*"
    node_logs 0 1 2 3
    exit 1
}
trap e2e_cleanup EXIT HUP INT PIPE TERM

# Ports: this script's band is 32000-32767 (below the kernel's ephemeral
# range, disjoint from the other e2e scripts); 8 ports per run, a slot
# derived from the pid and probed, so a leftover listener is stepped over.
e2e_ports 32000 95 8 || fail "no free 8-port slot in 32000-32767"

block_field() { # node height field
    rpc "$1" eth_getBlockByNumber "[\"$(printf 0x%x "$2")\",false]" |
        sed -n "s/.*\"$3\":\"\(0x[0-9a-f]*\)\".*/\1/p"
}
# Every wait ends at its own bound or at the script's deadline (END, set at
# the start: under ctest's 240 s TIMEOUT), whichever comes first, so that a
# failure still prints the logs.
waited() { # seconds-waited bound: true while waiting longer is allowed
    [ "$1" -lt "$2" ] && [ "$(date +%s)" -lt "$END" ]
}
# One validator's entry of qcn_validators (node, address) as one line.
vals() { rpc "$1" qcn_validators '[]'; }
entry() { vals "$1" | tr '{' '\n' | grep "\"address\":\"$2\""; }
field() { # json-line name -> value (string quotes stripped)
    printf '%s\n' "$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\)\"\{0,1\}[,}].*/\1/p"
}
start() {
    "$QCN" node --datadir "$DIR/net/node$1" >> "$DIR/net/node$1/node.log" 2>&1 &
    PIDS="$PIDS $!"
}

END=$(($(date +%s) + 215))
"$QCN" testnet init --validators 4 --dir "$DIR/net" --base-port "$PORT" --chain-id 5150 \
    --epoch-length $EPOCH > "$DIR/init.out" 2>&1 || { cat "$DIR/init.out"; fail "testnet init"; }
grep -q '"epoch_length": 10' "$DIR/net/genesis.json" || fail "genesis has no staking epoch"
echo "pos.test_fault = double_sign" >> "$DIR/net/node3/consensus.conf"
for i in 0 1 2 3; do start $i; done

# the fault announces itself
t=0
until grep -q "TEST FAULT ACTIVE" "$DIR/net/node3/node.log" 2>/dev/null; do
    waited $t 30 || fail "node3 did not warn about its test fault"
    sleep 1; t=$((t + 1))
done
FAULTY=""
t=0
while [ -z "$FAULTY" ]; do
    FAULTY=$(rpc 3 qcn_consensusStatus '[]' | sed -n 's/.*"address":"\(0x[0-9a-f]*\)".*/\1/p')
    [ -n "$FAULTY" ] && break
    waited $t 60 || fail "node3 RPC did not answer"
    sleep 1; t=$((t + 1))
done
e=$(entry 0 "$FAULTY")
[ "$(field "$e" stakeGwei)" = 10000000000000 ] || fail "genesis stake of $FAULTY: $e"
[ "$(field "$e" power)" = 10000 ] || fail "genesis power of $FAULTY: $e"
[ "$(field "$e" active)" = true ] || fail "$FAULTY not in the genesis set: $e"
[ "$(vals 0 | grep -o '"active":true' | wc -l)" = 4 ] || fail "genesis set is not 4: $(vals 0)"
BPS=$(field "$(vals 0)" slashDoubleSignBps)
[ -n "$BPS" ] && [ "$BPS" -gt 0 ] || fail "no slash fraction: $(vals 0)"

# caught and slashed (generous bound: 4 nodes on 2 loaded cores)
t=0
while :; do
    e=$(entry 0 "$FAULTY")
    [ "$(field "$e" tombstoned)" = true ] && break
    waited $t 150 || fail "$FAULTY was not slashed in 150 s: $e"
    sleep 1; t=$((t + 1))
done
SEEN_AT=$(field "$(vals 0)" height)
# the evidence transaction: sent by an honest node, included, status 1
B=""
for i in 0 1 2; do
    for tx in $(sed -n 's/.*evidence sent in staking transaction \(0x[0-9a-f]*\).*/\1/p' \
        "$DIR/net/node$i/node.log"); do
        r=$(rpc 0 eth_getTransactionReceipt "[\"$tx\"]")
        echo "$r" | grep -q '"to":"0x0000000000000000000000000000000000005200"' ||
            fail "evidence tx $tx not to the staking address: $r"
        if echo "$r" | grep -q '"status":"0x1"'; then
            [ -z "$B" ] || fail "two evidence transactions succeeded"
            B=$(printf '%d' "$(echo "$r" | sed -n 's/.*"blockNumber":"\(0x[0-9a-f]*\)".*/\1/p')")
            d=$(rpc 0 eth_getTransactionByHash "[\"$tx\"]")
            echo "$d" | grep -q '"input":"0xf9[0-9a-f]\{4\}07f9' || fail "not an op-7 call: $d"
            echo "op-7 evidence transaction $tx from node$i in block $B"
        fi
    done
done
[ -n "$B" ] || fail "no successful evidence transaction in the honest nodes' logs"
[ "$(rpc 0 qcn_consensusStatus '[]' | sed -n 's/.*"equivocations":\([0-9]*\).*/\1/p')" -gt 0 ] ||
    fail "node0 counted no equivocation"
# exactly the fraction, from the validator only; the others untouched
e=$(entry 0 "$FAULTY")
want=$((10000000000000 - 10000000000000 * BPS / 10000))
[ "$(field "$e" stakeGwei)" = "$want" ] || fail "stake after slashing: want $want, $e"
[ "$(field "$e" selfStakeGwei)" = "$want" ] || fail "self stake after slashing: $e"
[ "$(field "$e" jailed)" = true ] || fail "not jailed: $e"
[ "$(vals 0 | grep -o '"stakeGwei":"10000000000000"' | wc -l)" = 3 ] ||
    fail "another validator's stake changed: $(vals 0)"
burnt=$(field "$(vals 0)" burntGwei)
[ "$burnt" -ge $((10000000000000 - want)) ] || fail "slashed stake not burnt: $burnt"
# dropped at the boundary after block B, not before it
E=$(((B + EPOCH - 1) / EPOCH * EPOCH))
echo "slashed in block $B (seen at head $SEEN_AT), epoch boundary $E"
if [ "$SEEN_AT" -lt "$E" ]; then
    [ "$(field "$e" active)" = true ] || fail "left the set before the boundary $E: $e"
fi
for i in 0 1 2; do wait_height $i $((E + 1)) 120 || fail "node$i did not pass the boundary $E"; done
h=$(height 0)
e=$(entry 0 "$FAULTY")
[ "$(field "$e" active)" = false ] || fail "still active after the boundary $E: $e"
[ "$(field "$e" power)" = 0 ] || fail "still has voting power after $E: $e"
if [ "$h" -lt $((E + EPOCH)) ]; then
    # the set that decided the boundary block itself still held it
    [ "$(field "$e" prevPower)" = 10000 ] || fail "not in the set that decided block $E: $e"
fi
[ "$(vals 0 | grep -o '"active":true' | wc -l)" = 3 ] || fail "set after $E is not 3: $(vals 0)"
# the three keep finalizing without it, and it proposes nothing any more
for i in 0 1 2; do wait_height $i $((E + 6)) 120 || fail "node$i stalled after the boundary"; done
k=$((E + 2))
while [ $k -le $((E + 6)) ]; do
    m=$(block_field 0 $k miner)
    [ "$m" != "$FAULTY" ] || fail "$FAULTY proposed block $k after leaving the set"
    k=$((k + 1))
done
wait_height 3 $((E + 6)) 120 || fail "node3 does not follow the chain"
st=$(rpc 3 qcn_consensusStatus '[]')
echo "$st" | grep -q '"validator":false' || fail "node3 still a validator: $st"
# one chain: the same hash at every height on every node
m=999999
for i in 0 1 2 3; do h=$(height $i); [ -n "$h" ] && [ "$h" -lt $m ] && m=$h; done
k=1
while [ $k -le $m ]; do
    ref=$(block_field 0 $k hash); [ -n "$ref" ] || fail "node0 has no block $k"
    for i in 1 2 3; do
        [ "$(block_field $i $k hash)" = "$ref" ] || fail "node$i differs from node0 at height $k"
    done
    k=$((k + 1))
done
echo "ok: $FAULTY slashed in block $B ($BPS bps), out at $E; $m heights agree on 4 nodes"
exit 0
