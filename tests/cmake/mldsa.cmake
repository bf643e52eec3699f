# ML-DSA's ACVP vector test parses NIST's JSON files with jansson.
if(TARGET test_crypto_acvp_mldsa)
  target_link_libraries(test_crypto_acvp_mldsa PRIVATE PkgConfig::JANSSON)
endif()
