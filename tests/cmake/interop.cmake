# ML-KEM / ML-DSA test wiring owned by the ML-KEM work.
#
# The ACVP vector test reads NIST's JSON with jansson, which the generic
# vectors rule in tests/CMakeLists.txt does not link.
if(TARGET test_crypto_acvp_mlkem)
  target_link_libraries(test_crypto_acvp_mlkem PRIVATE PkgConfig::JANSSON)
endif()

# Interop with an independent implementation: the qcn CLI against
# @noble/post-quantum (pinned in tests/interop/package-lock.json; scripts/deps.sh
# runs `npm ci` there). ML-KEM-512/768/1024 and ML-DSA-44/65/87, both directions.
find_program(QCN_NODE node)
if(TARGET qcn AND QCN_NODE AND NOT QCN_SANITIZE)
  add_test(NAME interop_noble
           COMMAND ${QCN_NODE} "${CMAKE_CURRENT_SOURCE_DIR}/interop/interop.mjs" $<TARGET_FILE:qcn>
           WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/interop")
  set_tests_properties(interop_noble PROPERTIES LABELS vectors TIMEOUT 300)
endif()

# `qcn crypto` for ML-KEM through the real program: field sets, round trips,
# and exit 2 naming the bad argument for every kind of bad input.
if(TARGET qcn AND QCN_NODE)
  add_test(NAME cli_crypto_mlkem
           COMMAND ${QCN_NODE} "${CMAKE_CURRENT_SOURCE_DIR}/interop/cli_kem.mjs" $<TARGET_FILE:qcn>)
  set_tests_properties(cli_crypto_mlkem PROPERTIES LABELS e2e TIMEOUT 120)
endif()
