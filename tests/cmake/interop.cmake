# ML-KEM / ML-DSA test wiring owned by the ML-KEM work.
#
# The ACVP vector test reads NIST's JSON with jansson, which the generic
# vectors rule in tests/CMakeLists.txt does not link.
if(TARGET test_crypto_acvp_mlkem)
  target_link_libraries(test_crypto_acvp_mlkem PRIVATE PkgConfig::JANSSON)
endif()
