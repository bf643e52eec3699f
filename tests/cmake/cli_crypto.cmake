# `qcn crypto` for ML-DSA through the real program: round trips, --json field
# sets, exit codes 0/1/2, malformed input (tests/cli/crypto_mldsa.sh).
if(TARGET qcn)
  add_test(NAME cli_crypto_mldsa
           COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/cli/crypto_mldsa.sh" $<TARGET_FILE:qcn>)
  set_tests_properties(cli_crypto_mldsa PROPERTIES LABELS e2e TIMEOUT 120)
endif()
