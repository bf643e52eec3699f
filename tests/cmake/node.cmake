# Node end-to-end tests (src/node, src/store, src/consensus, qcn init/node/db).
if(TARGET qcn AND TARGET qcn_node)
  add_test(NAME e2e_node_lifecycle
           COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/node_lifecycle.sh $<TARGET_FILE:qcn>)
  add_test(NAME e2e_node_crash
           COMMAND ${CMAKE_SOURCE_DIR}/tests/e2e/crash_test.sh $<TARGET_FILE:qcn> 20)
  set_tests_properties(e2e_node_lifecycle PROPERTIES LABELS e2e TIMEOUT 180)
  set_tests_properties(e2e_node_crash PROPERTIES LABELS e2e TIMEOUT 300)
endif()
