# Double-sign slashing on real processes (tests/e2e/slashing_testnet.sh): 4
# validators, one with the test-only double-sign fault (needs a
# QCN_TEST_FAULTS build; the release preset has none, so no test there).
if(TARGET qcn AND QCN_TEST_FAULTS)
  add_test(NAME e2e_slashing_testnet
           COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/slashing_testnet.sh $<TARGET_FILE:qcn>)
  set_tests_properties(e2e_slashing_testnet PROPERTIES LABELS e2e TIMEOUT 240)
endif()
