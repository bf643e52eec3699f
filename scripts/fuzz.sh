#!/usr/bin/env bash
# make fuzz: run every libFuzzer target for $1 seconds, corpus in fuzz/corpus-<name>.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-300}
for bin in "$root"/build-fuzz/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  mkdir -p "$root/fuzz/corpus-$name"
  echo "== $name for ${secs}s"
  "$bin" -max_total_time="$secs" -rss_limit_mb=4096 "$root/fuzz/corpus-$name" "$root/fuzz/seeds/$name" 2>&1 | tail -3
done
