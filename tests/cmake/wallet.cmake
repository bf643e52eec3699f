# Wallet end-to-end test (src/wallet, qcn keys/tx/multisig/query) against a
# real `qcn node`.
if(TARGET qcn AND TARGET qcn_wallet)
  add_test(NAME e2e_wallet COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/wallet_e2e.sh $<TARGET_FILE:qcn>)
  set_tests_properties(e2e_wallet PROPERTIES LABELS e2e TIMEOUT 300)
endif()
# The wallet commands that need no node (keys, backups, offline signing).
if(TARGET qcn AND TARGET qcn_wallet)
  add_test(NAME e2e_wallet_cli COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/wallet_cli.sh $<TARGET_FILE:qcn>)
  set_tests_properties(e2e_wallet_cli PROPERTIES LABELS e2e TIMEOUT 120)
endif()
