#!/usr/bin/env bash
# The whole test suite: sanitizer run of the unit tests, fuzz smoke runs, then
# every test of the normal build. Prints one closing line "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)
passed=0
failed=0
failures=()

count() { # $1 = ctest log; adds its pass/fail counts
  local line total fails
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$1" | tail -1)
  if [ -z "$line" ]; then
    failed=$((failed + 1)); failures+=("$2: ctest did not run"); return
  fi
  fails=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + total - fails)); failed=$((failed + fails))
  [ "$fails" -eq 0 ] || failures+=("$2: $fails failed")
}

echo "== unit tests under ASan+UBSan (build-asan)"
(cd build-asan && ctest -L unit -j "$jobs" --output-on-failure) 2>&1 | tee /tmp/qcn-ctest-asan.log
count /tmp/qcn-ctest-asan.log asan

echo "== fuzz smoke (build-fuzz)"
(cd build-fuzz && ctest -L fuzz-smoke -j "$jobs" --output-on-failure --no-tests=ignore) 2>&1 | tee /tmp/qcn-ctest-fuzz.log
if ls build-fuzz/fuzz/fuzz_* >/dev/null 2>&1; then count /tmp/qcn-ctest-fuzz.log fuzz; fi

echo "== unit, vector, lint and end-to-end tests (build)"
(cd build && ctest -j "$jobs" --output-on-failure) 2>&1 | tee /tmp/qcn-ctest-main.log
count /tmp/qcn-ctest-main.log main

# CTest hides the output of passing tests; show the evidence lines they print
# ("name: passed/total") so a reader of the log sees every vector file's count.
echo "== evidence (from the test logs)"
grep -hE '^[A-Za-z][^:]{2,80}: [0-9]+/[0-9]+( |$)' build/Testing/Temporary/LastTest.log \
  build-asan/Testing/Temporary/LastTest.log 2>/dev/null | sort -u
grep -hE 'Test +#[0-9]+: (ct_|interop|cli_|e2e|evm_|test_crypto_acvp)' /tmp/qcn-ctest-main.log | sed 's/^ *[0-9]*\/[0-9]* //'
echo "sanitizer run (ASan+UBSan, unit tests): $(grep -E 'tests passed, [0-9]+ tests failed out of' /tmp/qcn-ctest-asan.log | tail -1)"

for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
