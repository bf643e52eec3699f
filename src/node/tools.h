/* tools.h - operator tools over a store: `qcn init`'s genesis write and
 * `qcn db check`. They only need the store (and, for init, the chain rules),
 * never a running node, so they run beside one. */
#ifndef QCN_NODE_TOOLS_H
#define QCN_NODE_TOOLS_H

#include <stdint.h>
#include <stdio.h>

#include "store/store.h"
#include "util/err.h"

struct qcn_db_check_result {
    uint64_t height;        /* head height */
    uint8_t head[32];       /* head hash */
    uint64_t blocks;        /* blocks checked */
    uint64_t accounts;      /* flat accounts walked */
    uint64_t trie_nodes;    /* stored trie nodes reached from the head state root */
    uint8_t state_root[32]; /* root re-derived from the flat state */
    uint64_t problems;      /* mismatches found; 0 = consistent */
};

/* Checks a store (dbcheck.c for the list of checks), on one snapshot, so it
 * may run while a node writes. Each mismatch is printed to out (may be NULL;
 * at most 100 lines) and counted in res->problems. Returns QCN_OK when the
 * check ran (whatever it found), or an error that stopped it. */
QCN_MUST_CHECK int qcn_node_db_check(struct qcn_store *s, FILE *out,
                                     struct qcn_db_check_result *res);

/* Writes the genesis block described by the JSON text (chain/chain.h's
 * format) into the store at dir, creating it. QCN_ERR_EXISTS if the store
 * already holds a chain, QCN_ERR_BAD_JSON (message in err), store errors.
 * hash gets the genesis block hash. */
QCN_MUST_CHECK int qcn_node_init_genesis(const char *dir, const char *json, size_t len,
                                         uint8_t hash[32], char *err, size_t errlen);

#endif
