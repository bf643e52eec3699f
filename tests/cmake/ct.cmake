# Constant-time checks: every tests/ct/ct_*.c is an executable linking
# qcn_crypto that marks its secrets undefined (VALGRIND_MAKE_MEM_UNDEFINED)
# and runs under `valgrind --error-exitcode=1`, so any branch or memory index
# that depends on a secret fails the test. Meaningful only on optimised code
# (what ships): the tree's default build type is RelWithDebInfo; a Debug
# configuration still runs them, with a warning. Not under the sanitizers
# (valgrind and ASan do not mix).
find_program(QCN_VALGRIND valgrind)
file(GLOB qcn_ct_sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/ct/ct_*.c")
if(QCN_VALGRIND AND NOT QCN_SANITIZE AND TARGET qcn_crypto)
  if(NOT CMAKE_BUILD_TYPE MATCHES "Rel")
    message(WARNING "constant-time tests on an unoptimised build (${CMAKE_BUILD_TYPE}) "
                    "check different code than ships; use RelWithDebInfo or Release")
  endif()
  foreach(f ${qcn_ct_sources})
    get_filename_component(name ${f} NAME_WE)
    add_executable(${name} ${f})
    target_link_libraries(${name} PRIVATE qcn_crypto)
    target_compile_options(${name} PRIVATE ${QCN_WARNINGS})
    target_include_directories(${name} PRIVATE "${CMAKE_SOURCE_DIR}/src")
    add_test(NAME ${name}
             COMMAND ${QCN_VALGRIND} --error-exitcode=1 --track-origins=yes --quiet
                     $<TARGET_FILE:${name}>)
    set_tests_properties(${name} PROPERTIES LABELS "unit;ct" TIMEOUT 600)
  endforeach()
endif()
