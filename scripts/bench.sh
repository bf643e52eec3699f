#!/usr/bin/env bash
# make bench: every benchmark on the release build, with the machine it ran on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
qcn="$root/build-release/src/cli/qcn"
echo "machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo none)"
for area in $("$qcn" bench --help | sed -n 's/^areas://p'); do
  echo "== qcn bench $area"
  "$qcn" bench "$area"
  if [ "$area" = crypto ]; then
    # The portable C path, for the ratio against the AVX2 path in the same run.
    echo "== QCN_NO_AVX2=1 qcn bench crypto (portable C path)"
    QCN_NO_AVX2=1 "$qcn" bench crypto
  fi
done
if [ -x "$root/scripts/bench_rpc.sh" ]; then
  echo "== scripts/bench_rpc.sh (HTTP load against qcn and an nginx ceiling)"
  "$root/scripts/bench_rpc.sh"
fi
