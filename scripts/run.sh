#!/usr/bin/env bash
# make run: initialise a dev chain on first run, then start the node in the
# foreground with its RPC on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
qcn="$root/build/src/cli/qcn"
if ! "$qcn" --help | grep -q '^  node '; then
  "$qcn" --version
  echo "run: this build has no 'qcn node' yet (the ledger issue adds it)"
  exit 0
fi
exec "$qcn" node --dev
