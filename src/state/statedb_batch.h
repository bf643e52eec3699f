/* statedb_batch.h - what the state and chain layers hand to the store: a
 * write set, and the read interface the store gives back.
 *
 * The chain never writes to disk. Building, applying or creating (genesis) a
 * block produces one struct qcn_writeset holding every change the block makes,
 * across all logical tables below; the store (src/store) writes the whole set
 * in ONE write transaction, in order (a later write to the same key wins), so a
 * crash leaves either all of a block or none of it.
 *
 * Logical tables, their keys and values (all values are opaque bytes here).
 * The store (store/store.h) numbers its LMDB tables the same way, so the node
 * stages each write as is: for each w: put/del(batch, w->table, key, val).
 *   META      ASCII name             -> value   ("head": block hash (32);
 *                                                 "params": chain params,
 *                                                 chain.h; "genesis": hash)
 *   HEADER    block hash (32)        -> encoded header
 *   BODY      block hash (32)        -> RLP list of tx envelopes
 *   RECEIPTS  block hash (32)        -> RLP list of receipts (codec/receipt.h)
 *   CANON     be64 height (8)        -> block hash (32)
 *   TXINDEX   tx hash (32)           -> block hash (32) || be32 index (4)
 *   TRIE      be64 gen (8) || node hash (32) -> node record (state/mpt.h: the
 *                                       locators of its children, then its RLP);
 *                                       gen = height of the block that wrote it
 *   ACCOUNT   address (20)           -> account RLP (state/account.h), current state
 *   STORAGE   address (20) || slot (32) -> value, big-endian without leading zeros
 *   CODE      code hash (32)         -> contract code
 *   KEYREC    key hash (32)          -> key record (codec/keyrec.h); every record
 *                                       ever used stays (history, proofs)
 *   ACCKEY    address (20)           -> key hash (32), current state
 *   TRIEROOT  root hash (32)         -> be64 gen (8) of that root's TRIE row
 * ACCOUNT, STORAGE and ACCKEY are the flat tables: current values only, for
 * fast reads; the trie (reached through a header's state root) is the history. */
#ifndef QCN_STATE_STATEDB_BATCH_H
#define QCN_STATE_STATEDB_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

enum qcn_table {
    QCN_TABLE_META = 0,
    QCN_TABLE_HEADER = 1,
    QCN_TABLE_BODY = 2,
    QCN_TABLE_RECEIPTS = 3,
    QCN_TABLE_CANON = 4,
    QCN_TABLE_TXINDEX = 5,
    QCN_TABLE_TRIE = 6,
    QCN_TABLE_ACCOUNT = 7,
    QCN_TABLE_STORAGE = 8,
    QCN_TABLE_CODE = 9,
    QCN_TABLE_KEYREC = 10,
    QCN_TABLE_ACCKEY = 11,
    QCN_TABLE_TRIEROOT = 12,
    QCN_TABLE_COUNT = 13,
};

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
struct qcn_writeset_pool;

/* An ordered list of writes. Not thread-safe. */
struct qcn_writeset {
    struct qcn_write *w;
    size_t n;
    size_t cap;
    size_t bytes; /* sum of key and value sizes */
    struct qcn_writeset_chunk *chunks;
    struct qcn_writeset_pool *pool; /* NULL, or where large chunks come from and go back */
};

void qcn_writeset_init(struct qcn_writeset *ws);
/* Frees the set's memory; large chunks go back to its pool, if it has one. */
void qcn_writeset_clear(struct qcn_writeset *ws);

/* A pool of large arena chunks (a block's body: 3-5 KB per transaction, 34 MB
 * for 10,000 transfers) kept for the write sets of later blocks, so that
 * their memory is not mapped, zeroed and faulted in again for every block (a
 * measurable part of a large block's build). It keeps at most
 * QCN_WRITESET_POOL_CHUNKS chunks. Thread-safe. qcn_writeset_pool_new:
 * QCN_ERR_NOMEM. The pool must outlive every set that uses it;
 * qcn_writeset_pool_free(NULL) is a no-op. */
#define QCN_WRITESET_POOL_CHUNKS 4
QCN_MUST_CHECK int qcn_writeset_pool_new(struct qcn_writeset_pool **out);
void qcn_writeset_pool_free(struct qcn_writeset_pool *p);
/* From now on ws takes its large chunks from p (NULL: no pool). Call while
 * the set holds no chunk (right after init or clear). */
void qcn_writeset_set_pool(struct qcn_writeset *ws, struct qcn_writeset_pool *p);
/* Appends a put / a delete (copies key and value). QCN_ERR_NOMEM,
 * QCN_ERR_INVALID_ARG for a table out of range. */
QCN_MUST_CHECK int qcn_writeset_put(struct qcn_writeset *ws, int table, const uint8_t *key,
                                    size_t klen, const uint8_t *val, size_t vlen);
/* Appends a put whose value (vlen bytes) the caller fills in through *val,
 * which stays valid as long as the set (large values built in place). */
QCN_MUST_CHECK int qcn_writeset_put_alloc(struct qcn_writeset *ws, int table, const uint8_t *key,
                                          size_t klen, size_t vlen, uint8_t **val);
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
