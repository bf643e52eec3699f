# p2p end-to-end tests (src/p2p, src/node/node_p2p.c): real `qcn node`
# processes talking over 127.0.0.1.
if(TARGET qcn AND TARGET qcn_p2p)
  add_test(NAME e2e_p2p_sync COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/p2p_sync.sh $<TARGET_FILE:qcn>)
  set_tests_properties(e2e_p2p_sync PROPERTIES LABELS e2e TIMEOUT 180)
endif()
