#!/usr/bin/env bash
# Fails if any C file under src/, tests/ or fuzz/ differs from clang-format 14's output.
set -eu
root=$1
cf=$(command -v clang-format-14 || command -v clang-format)
cd "$root"
bad=0
while IFS= read -r f; do
  if ! "$cf" --style=file "$f" | cmp -s - "$f"; then
    echo "not formatted: $f (run: make format)"
    bad=1
  fi
done < <(find src tests fuzz -name '*.[ch]' 2>/dev/null | sort)
exit $bad
