# `qcn bench net` end to end, small: 4 validators on random ports, 3 s of
# 100 transfers/s through RPC from 32 load keys funded by `testnet init
# --fund-keys`; every transfer must be accepted and committed (the JSON line).
if(TARGET qcn)
  add_test(NAME e2e_bench_net
           COMMAND bash -c "set -eu; out=$(\"$1\" bench net --seconds 3 --rate 100 --senders 32 --json); echo \"$out\"; echo \"$out\" | grep -q '\"offered\":300,\"accepted\":300,\"rejected\":0,\"committed\":300,'"
                   bench_net $<TARGET_FILE:qcn>)
  set_tests_properties(e2e_bench_net PROPERTIES LABELS e2e TIMEOUT 150)
endif()
