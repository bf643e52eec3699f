# rpc: the server test drives the real server with libcurl.
if(TARGET test_rpc_server)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
  target_link_libraries(test_rpc_server PRIVATE PkgConfig::CURL)
  set_tests_properties(test_rpc_server PROPERTIES TIMEOUT 120)
endif()

# The RPC over the in-memory test chain, for real Ethereum clients (e2e).
if(TARGET qcn_rpc)
  add_executable(rpc_fake_node "${CMAKE_SOURCE_DIR}/tests/e2e/rpc/fake_node.c")
  target_link_libraries(rpc_fake_node PRIVATE qcn_rpc)
  target_compile_options(rpc_fake_node PRIVATE ${QCN_WARNINGS})
  target_include_directories(rpc_fake_node PRIVATE "${CMAKE_SOURCE_DIR}/tests")
  find_program(QCN_NODEJS node)
  if(QCN_NODEJS AND EXISTS "${CMAKE_SOURCE_DIR}/tests/e2e/rpc/package-lock.json")
    add_test(NAME e2e_rpc_client_shapes
             COMMAND ${QCN_NODEJS} "${CMAKE_SOURCE_DIR}/tests/e2e/rpc/shapes.mjs"
                     $<TARGET_FILE:rpc_fake_node>)
    set_tests_properties(e2e_rpc_client_shapes PROPERTIES LABELS e2e TIMEOUT 120)
  endif()
endif()

# The JavaScript signer (sdk/js): byte-for-byte against docs/protocol.md's
# worked example (which the C codec produced), round trips, input checks.
if(QCN_NODEJS AND EXISTS "${CMAKE_SOURCE_DIR}/sdk/js/package-lock.json")
  add_test(NAME sdk_js_signer COMMAND ${QCN_NODEJS} --test "${CMAKE_SOURCE_DIR}/sdk/js/test/")
  set_tests_properties(sdk_js_signer PROPERTIES LABELS unit TIMEOUT 120)
endif()

# Against a real `qcn node` (ethers, viem, the JS signer, WebSocket, bad
# input). Registered once the node starts the RPC server (src/node wires
# src/rpc), so the suite stays green until then.
if(QCN_NODEJS AND TARGET qcn AND EXISTS "${CMAKE_SOURCE_DIR}/src/node/node.c")
  file(READ "${CMAKE_SOURCE_DIR}/src/node/node.c" qcn_node_src)
  if(qcn_node_src MATCHES "qcn_rpc_(server_new|service_start)")
    add_test(NAME e2e_rpc_node COMMAND ${QCN_NODEJS} "${CMAKE_SOURCE_DIR}/tests/e2e/rpc/node.mjs"
                                       $<TARGET_FILE:qcn>)
    set_tests_properties(e2e_rpc_node PROPERTIES LABELS e2e TIMEOUT 150)
  endif()
endif()
