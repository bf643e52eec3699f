# rpc: the server test drives the real server with libcurl.
if(TARGET test_rpc_server)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
  target_link_libraries(test_rpc_server PRIVATE PkgConfig::CURL)
  set_tests_properties(test_rpc_server PROPERTIES TIMEOUT 120)
endif()
