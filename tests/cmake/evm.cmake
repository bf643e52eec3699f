# EVM conformance (docs/evm.md): Ethereum's GeneralStateTests (Cancun
# entries; fails below 99% of cases, *point_evaluation* files excluded) and
# the evm-benchmarks fixtures, whose London expectations also hold under
# Cancun rules.
if(TARGET qcn AND NOT QCN_SANITIZE)
  add_test(NAME evm_benchmarks_statetest
           COMMAND $<TARGET_FILE:qcn> evm statetest --fork London --min-pass 100
                   "${QCN_VECTORS_DIR}/evm-benchmarks/benchmarks")
  set_tests_properties(evm_benchmarks_statetest PROPERTIES LABELS vectors TIMEOUT 900)
endif()
if(TARGET qcn AND NOT QCN_SANITIZE)
  add_test(NAME evm_state_tests
           COMMAND $<TARGET_FILE:qcn> evm statetest --min-pass 99
                   "${QCN_VECTORS_DIR}/ethereum-state-tests")
  set_tests_properties(evm_state_tests PROPERTIES LABELS vectors TIMEOUT 900)
endif()
# The same fixtures through the ledger's state database (vm/statedb_glue.h):
# pre state committed into a qcn_statedb, post root taken from its trie.
if(TARGET qcn AND NOT QCN_SANITIZE)
  add_test(NAME evm_state_tests_statedb
           COMMAND $<TARGET_FILE:qcn> evm statetest --statedb --min-pass 99
                   "${QCN_VECTORS_DIR}/ethereum-state-tests")
  set_tests_properties(evm_state_tests_statedb PROPERTIES LABELS vectors TIMEOUT 900)
endif()
