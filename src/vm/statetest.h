/* statetest.h - runs Ethereum GeneralStateTest JSON fixtures (the format of
 * ethereum/tests GeneralStateTests/ and evm-benchmarks): for each
 * (data, gas, value) case of the chosen fork it builds the pre state,
 * applies the transaction (tx.h) and compares the post state root (secure
 * Merkle-Patricia trie of accounts) and the logs hash with the fixture.
 * Not thread-safe per runner. */
#ifndef QCN_VM_STATETEST_H
#define QCN_VM_STATETEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

/* Largest fixture file the runner reads. */
#define QCN_VM_STATETEST_MAX_FILE (64u * 1024 * 1024)

struct qcn_vm_statetest_opts {
    const char *fork; /* post key to run, "Cancun" by default */
    FILE *trace;      /* EIP-3155 trace sink, or NULL */
    FILE *report;     /* one line per failing case (and per file), or NULL */
    int verbose;      /* also report passing cases */
    int statedb;      /* run over the ledger's qcn_statedb (statedb_glue.h), root from its trie */
};

struct qcn_vm_statetest_stats {
    size_t cases;         /* cases run */
    size_t passed;        /* root and logs hash matched */
    size_t tests_skipped; /* tests without an entry for the fork */
};

/* Runs every test in one fixture file, adding to *stats. Returns QCN_OK (a
 * failing case is counted, not an error), QCN_ERR_IO, QCN_ERR_BAD_JSON or
 * QCN_ERR_VM_STATETEST for a file that is not a state test. */
QCN_MUST_CHECK int qcn_vm_statetest_run_file(const char *path,
                                             const struct qcn_vm_statetest_opts *opts,
                                             struct qcn_vm_statetest_stats *stats);

/* Ethereum's state root (secure trie of rlp([nonce, balance, storageRoot,
 * codeHash])) over every existing account the overlay holds: the whole state
 * when it has no backend. QCN_OK or QCN_ERR_NOMEM; root zeroed on failure. */
struct qcn_vm_state;
QCN_MUST_CHECK int qcn_vm_state_root_all(uint8_t root[32], const struct qcn_vm_state *st);

#endif
