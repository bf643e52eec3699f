/* statedb_hmap.h - a hash map from fixed-size byte keys (addresses, hashes)
 * to pointers, keyed with SipHash under a per-map random key so that chosen
 * addresses cannot degrade it (every address in a transaction is attacker
 * controlled). Used by the state cache and the mempool. Not thread-safe. */
#ifndef QCN_STATE_STATEDB_HMAP_H
#define QCN_STATE_STATEDB_HMAP_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define QCN_HMAP_MAX_KEY 64

struct qcn_hmap_node {
    struct qcn_hmap_node *next;
    void *val;
    uint8_t key[]; /* keylen bytes */
};

struct qcn_hmap {
    struct qcn_hmap_node **b;
    size_t nbuckets; /* power of two */
    size_t n;
    size_t keylen;
    uint8_t sipkey[16];
};

/* keylen in 1..QCN_HMAP_MAX_KEY. */
QCN_MUST_CHECK int qcn_hmap_init(struct qcn_hmap *m, size_t keylen);
/* Frees the nodes (not the values). */
void qcn_hmap_clear(struct qcn_hmap *m);
/* The value stored under key, or NULL. */
void *qcn_hmap_get(const struct qcn_hmap *m, const uint8_t *key);
/* Inserts or replaces. QCN_ERR_NOMEM. */
QCN_MUST_CHECK int qcn_hmap_put(struct qcn_hmap *m, const uint8_t *key, void *val);
/* Removes key; returns its value or NULL. */
void *qcn_hmap_del(struct qcn_hmap *m, const uint8_t *key);
/* Visits every entry; fn may not change the map; stop with non-zero. */
void qcn_hmap_foreach(const struct qcn_hmap *m, int (*fn)(void *ctx, const uint8_t *key, void *val),
                      void *ctx);

#endif
