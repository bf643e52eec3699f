# netwire: the node's wiring of src/rpc, src/consensus and staking (e2e).
find_program(QCN_NODEJS node)
if(TARGET qcn AND QCN_NODEJS AND EXISTS "${CMAKE_SOURCE_DIR}/tests/e2e/rpc/node_modules/ws")
  add_test(NAME e2e_netwire_rpc COMMAND ${QCN_NODEJS}
                                        "${CMAKE_SOURCE_DIR}/tests/e2e/netwire/rpc_wiring.mjs"
                                        $<TARGET_FILE:qcn>)
  set_tests_properties(e2e_netwire_rpc PROPERTIES LABELS e2e TIMEOUT 120)
endif()
if(TARGET qcn)
  add_test(NAME e2e_netwire_pos COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/netwire/pos_node.sh
                                        $<TARGET_FILE:qcn>)
  set_tests_properties(e2e_netwire_pos PROPERTIES LABELS e2e TIMEOUT 180)
endif()
# A fresh node joins after 200 finalized blocks, syncs them with their
# certificates and follows the head.
if(TARGET qcn)
  add_test(NAME e2e_netwire_pos_sync COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/netwire/pos_sync.sh
                                             $<TARGET_FILE:qcn> 200)
  set_tests_properties(e2e_netwire_pos_sync PROPERTIES LABELS e2e TIMEOUT 300)
endif()
