# House warning set (STYLE.md "Tooling"). qcn_strict() adds -Wconversion for the
# subsystems where silent narrowing is a correctness bug: crypto, codec, vm, consensus.
set(QCN_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wvla -Wformat=2 -Wimplicit-fallthrough -Werror)

function(qcn_library name)
  file(GLOB srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.c")
  add_library(${name} STATIC ${srcs} ${ARGN})
  target_include_directories(${name} PUBLIC "${CMAKE_SOURCE_DIR}/src")
  target_compile_options(${name} PRIVATE ${QCN_WARNINGS})
endfunction()

function(qcn_strict name)
  target_compile_options(${name} PRIVATE -Wconversion -Wsign-conversion)
endfunction()
