# Consensus end-to-end tests (qcn testnet: real processes on 127.0.0.1).
if(TARGET qcn)
  add_test(NAME e2e_consensus_testnet
           COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/consensus_testnet.sh $<TARGET_FILE:qcn>)
  # 77: the pos engine is not wired into `qcn node` yet (part 2 skipped)
  set_tests_properties(e2e_consensus_testnet PROPERTIES LABELS e2e TIMEOUT 300
                       SKIP_RETURN_CODE 77)
endif()
