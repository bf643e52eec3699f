#!/usr/bin/env bash
# make run: on first run, initialise a dev chain with a funded dev key
# (ML-DSA-65, stored UNENCRYPTED in the data directory, development only);
# then start the node in the foreground. Ctrl-C stops it gracefully.
#   QCN_DATADIR   data directory (default ~/.qcn)
#   QCN_PERIOD    dev block period in ms (default 1000; 0 = on demand)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
qcn="$root/build/src/cli/qcn"
datadir=${QCN_DATADIR:-$HOME/.qcn}
period=${QCN_PERIOD:-1000}

if [ ! -e "$datadir/chaindata/data.mdb" ]; then
  echo "run: first run: initialising a dev chain in $datadir"
  "$qcn" init --dev --datadir "$datadir"
fi

addr=$("$qcn" node --datadir "$datadir" --print-config | sed -n 's/^rpc.addr = //p')
devaddr=$(sed -n 's/.*"address": *"\(0x[0-9a-fA-F]*\)".*/\1/p' "$datadir/dev.key" 2>/dev/null || true)
echo "run: RPC address   http://${addr:-127.0.0.1:8545}"
echo "run: dev key       ${devaddr:-none} (funded; key file $datadir/dev.key, UNENCRYPTED, dev only)"
echo "run: data dir      $datadir"
exec "$qcn" node --dev --datadir "$datadir" --period "$period"
