# Network partitions on real processes (docs/consensus.md §11): 4 pos
# validators cut 3|1 and 2|2 by the test-only p2p fault (QCN_TEST_FAULTS,
# p2p.test_faults) and healed; `qcn testnet status` peers and rounds.
if(TARGET qcn AND QCN_TEST_FAULTS)
  add_test(NAME e2e_partition_testnet
           COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/partition_testnet.sh $<TARGET_FILE:qcn>)
  set_tests_properties(e2e_partition_testnet PROPERTIES LABELS e2e TIMEOUT 240)
endif()
