# lib.sh - shell helpers the multi-node e2e scripts share (sourced, not run).
# The sourcing script sets DIR (its temporary directory, holding net/nodeN)
# and PIDS (processes to kill on exit); PORT is set by e2e_ports. Node i's
# RPC port is PORT + 2 i + 1, as `qcn testnet init --base-port PORT` lays
# them out.

# e2e_ports LOW SLOTS WIDTH: PORT = the first of WIDTH consecutive free ports
# at LOW + slot * WIDTH, starting from a slot derived from the pid and
# stepping over slots with any port in use (a leftover listener, another
# test). Each script has its own band below the kernel's ephemeral range
# (32768-60999), where outbound connections take their source ports.
# Returns 1 when every slot is busy.
e2e_port_used() { ss -Htan 2>/dev/null | awk '{print $4}' | grep -q ":$1\$"; }
e2e_ports() {
    _n=0
    while [ $_n -lt "$2" ]; do
        _b=$(($1 + (($$ + _n) % $2) * $3))
        _k=0
        _ok=1
        while [ $_k -lt "$3" ]; do
            e2e_port_used $((_b + _k)) && { _ok=0; break; }
            _k=$((_k + 1))
        done
        [ $_ok = 1 ] && { PORT=$_b; return 0; }
        _n=$((_n + 1))
    done
    return 1
}

# Kills PIDS and removes DIR; installed as the exit trap by the sourcing
# script.
e2e_cleanup() {
    for _p in $PIDS; do kill -9 "$_p" 2>/dev/null; done
    rm -rf "$DIR"
}

# node_logs N...: the last lines of each node's log (block lines left out).
node_logs() {
    for _i in "$@"; do
        _l="$DIR/net/node$_i/node.log"
        [ -f "$_l" ] && { echo "-- node$_i"; grep -v " block [0-9]* txs=" "$_l" | tail -12; }
    done
}

rpc() { # node method params-json (RPC_TIMEOUT seconds, default 5)
    curl -s -m "${RPC_TIMEOUT:-5}" -X POST -H 'content-type: application/json' \
        --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" \
        "http://127.0.0.1:$((PORT + 2 * $1 + 1))"
}
height() { # node -> decimal head height, empty if the node does not answer
    _x=$(rpc "$1" eth_blockNumber '[]' | sed -n 's/.*"result":"0x\([0-9a-f]*\)".*/\1/p')
    [ -n "$_x" ] && printf '%d\n' "0x$_x"
}
hash_at() { # node height -> block hash
    rpc "$1" eth_getBlockByNumber "[\"$(printf 0x%x "$2")\",false]" |
        sed -n 's/.*"hash":"\(0x[0-9a-f]*\)".*/\1/p'
}
# wait_height node target seconds: true once the node's height reaches
# target; false after the bound, or at END (epoch seconds) when the script
# set one, so that a failure still has time to print the logs.
wait_height() {
    _t=0
    while [ $_t -lt "$3" ] && { [ -z "${END:-}" ] || [ "$(date +%s)" -lt "$END" ]; }; do
        _h=$(height "$1")
        [ -n "$_h" ] && [ "$_h" -ge "$2" ] && return 0
        sleep 1
        _t=$((_t + 1))
    done
    return 1
}
