/* statedb_mem.h - an in-memory store: a qcn_state_reader over hash tables that
 * applies write sets. For tests, benchmarks and genesis dry runs; the node
 * uses the LMDB store (src/store). Not thread-safe. */
#ifndef QCN_STATE_STATEDB_MEM_H
#define QCN_STATE_STATEDB_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "state/statedb_batch.h"
#include "util/err.h"

struct qcn_memstore;

QCN_MUST_CHECK int qcn_memstore_new(struct qcn_memstore **out);
void qcn_memstore_free(struct qcn_memstore *ms);
/* The reader interface; valid while ms lives. */
const struct qcn_state_reader *qcn_memstore_reader(struct qcn_memstore *ms);
/* Applies every write of ws in order. */
QCN_MUST_CHECK int qcn_memstore_apply(struct qcn_memstore *ms, const struct qcn_writeset *ws);
/* Calls fn for each row of table (any order); stops early if fn returns non-zero. */
void qcn_memstore_foreach(struct qcn_memstore *ms, int table,
                          int (*fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                                    size_t vlen),
                          void *ctx);
size_t qcn_memstore_count(struct qcn_memstore *ms, int table);

#endif
