# Consensus end-to-end tests (qcn testnet: real processes on 127.0.0.1).
if(TARGET qcn)
  add_test(NAME e2e_consensus_testnet
           COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/consensus_testnet.sh $<TARGET_FILE:qcn>)
  set_tests_properties(e2e_consensus_testnet PROPERTIES LABELS e2e TIMEOUT 300)
endif()
