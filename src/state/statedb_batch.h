/* statedb_batch.h - what the state and chain layers hand to the store: a
 * write set, and the read interface the store gives back.
 *
 * The chain never writes to disk. Building, applying or creating (genesis) a
 * block produces one struct qcn_writeset holding every change the block makes,
 * across all logical tables below; the store (src/store) writes the whole set
 * in ONE write transaction, in order (a later write to the same key wins), so a
 * crash leaves either all of a block or none of it.
 *
 * Tables are the store's (store/store.h, enum qcn_store_table), with the
 * store's record formats (docs/storage.md), so the node stages each write
 * as is: for each w: qcn_store_batch_put/del(batch, w->table, ...).
 * Rows a block produces:
 *   TRIE      node hash (32)            -> trie node RLP (state and storage tries)
 *   ACCOUNTS  address (20)              -> account RLP (state/account.h), current
 *   STORAGE   address (20) || slot (32) -> value, big-endian without leading zeros
 *   KEYS      address (20)              -> key record (codec/keyrec.h), current
 *   CODE      code hash (32)            -> contract code
 *   HEADERS, BODIES, RECEIPTS, CANON, BLOCKNUM, TXINDEX, META "head": as
 *             qcn_store_block_put / qcn_store_txindex_put / qcn_store_head_put
 *   META "params" (genesis only): chain parameters (chain/chain.h)
 *   META "genesis" (genesis only): as qcn_store_genesis_put
 * ACCOUNTS, STORAGE and KEYS are the flat tables: current values only, for
 * fast reads; the trie (reached through a header's state root) is the
 * history. */
#ifndef QCN_STATE_STATEDB_BATCH_H
#define QCN_STATE_STATEDB_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h" /* enum qcn_store_table only */
#include "util/bytes.h"
#include "util/err.h"

/* One write: put (del == 0) or delete (del == 1, val empty). key and val point
 * into the write set's own arena and live as long as the set. */
struct qcn_write {
    uint8_t table;
    uint8_t del;
    uint32_t klen;
    uint32_t vlen;
    const uint8_t *key;
    const uint8_t *val;
};

struct qcn_writeset_chunk;

/* An ordered list of writes. Not thread-safe. */
struct qcn_writeset {
    struct qcn_write *w;
    size_t n;
    size_t cap;
    size_t bytes; /* sum of key and value sizes */
    struct qcn_writeset_chunk *chunks;
};

void qcn_writeset_init(struct qcn_writeset *ws);
void qcn_writeset_clear(struct qcn_writeset *ws);
/* Appends a put / a delete (copies key and value). QCN_ERR_NOMEM,
 * QCN_ERR_INVALID_ARG for a table out of range. */
QCN_MUST_CHECK int qcn_writeset_put(struct qcn_writeset *ws, int table, const uint8_t *key,
                                    size_t klen, const uint8_t *val, size_t vlen);
QCN_MUST_CHECK int qcn_writeset_del(struct qcn_writeset *ws, int table, const uint8_t *key,
                                    size_t klen);

/* Read access to the committed store, implemented by src/store over an LMDB
 * read transaction (or by statedb_mem.h in memory). get looks key up in table;
 * QCN_OK with the value in out (reset first), QCN_ERR_NOT_FOUND, or a store
 * error. Called only on the thread that owns the state database. */
struct qcn_state_reader {
    void *ctx;
    int (*get)(void *ctx, int table, const uint8_t *key, size_t klen, struct qcn_buf *out);
};

#endif
