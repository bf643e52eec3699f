# Real Solidity contracts end to end (tests/e2e/contracts, docs/contracts.md):
# solc + OpenZeppelin from npm (package-lock.json), a dev node with its RPC,
# ethers v6 and the JavaScript signer (sdk/js).
#
# The node: `qcn node` once src/node starts the RPC service itself; until then
# rpc_node, which is the same node library with the RPC service started on
# its loop the way rpc/chain_backend.h describes.
find_program(QCN_NODEJS node)
if(QCN_NODEJS AND TARGET qcn AND TARGET qcn_node AND TARGET qcn_rpc
   AND EXISTS "${CMAKE_SOURCE_DIR}/tests/e2e/contracts/package-lock.json"
   AND EXISTS "${CMAKE_SOURCE_DIR}/sdk/js/package-lock.json")
  set(qcn_contracts_node_args "")
  set(qcn_contracts_node_src "")
  file(GLOB qcn_contracts_node_files "${CMAKE_SOURCE_DIR}/src/node/*.c")
  foreach(f ${qcn_contracts_node_files})
    file(READ "${f}" qcn_contracts_one)
    string(APPEND qcn_contracts_node_src "${qcn_contracts_one}")
  endforeach()
  if(NOT qcn_contracts_node_src MATCHES "qcn_rpc_(server_new|service_start|new)\\(")
    add_executable(rpc_node "${CMAKE_SOURCE_DIR}/tests/e2e/contracts/rpc_node.c")
    target_link_libraries(rpc_node PRIVATE qcn_node qcn_rpc)
    target_compile_options(rpc_node PRIVATE ${QCN_WARNINGS})
    target_include_directories(rpc_node PRIVATE "${CMAKE_SOURCE_DIR}/src")
    set(qcn_contracts_node_args --rpc-node $<TARGET_FILE:rpc_node>)
  endif()
  add_test(NAME e2e_contracts
           COMMAND ${QCN_NODEJS} "${CMAKE_SOURCE_DIR}/tests/e2e/contracts/run.mjs"
                   $<TARGET_FILE:qcn> --cache "${CMAKE_BINARY_DIR}/contracts-artifacts.json"
                   ${qcn_contracts_node_args})
  set_tests_properties(e2e_contracts PROPERTIES LABELS e2e TIMEOUT 300)
endif()
