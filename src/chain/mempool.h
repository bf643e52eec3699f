/* mempool.h - pending transactions.
 *
 * Per sender, transactions are kept in nonce order; a sender's run of
 * consecutive nonces starting at its state nonce is "ready", the rest wait.
 * Block building takes ready transactions by effective tip
 * min(max_priority_fee, max_fee - base_fee). A transaction with the same sender
 * and nonce replaces the pooled one only if both its max fee and its priority
 * fee are at least replace_bump_pct percent higher. Caps on count, bytes and
 * per-sender entries; when full, the transaction with the lowest effective
 * tip is evicted if the newcomer pays more, else the newcomer is refused.
 * Entries older than expiry_ms are dropped by qcn_mempool_expire.
 *
 * Admission: qcn_mempool_tx_prepare (loop) -> qcn_tx_verify / batch (workers)
 * -> qcn_mempool_add (loop); qcn_mempool_submit does all three for a batch.
 * Rejections carry a specific reason (util/err.h 600-649).
 * Not thread-safe: the loop thread owns the pool. */
#ifndef QCN_CHAIN_MEMPOOL_H
#define QCN_CHAIN_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "chain/verify.h"
#include "codec/tx.h"
#include "util/err.h"

struct qcn_mempool_config {
    uint32_t max_count;        /* transactions */
    size_t max_bytes;          /* sum of envelope sizes */
    uint32_t max_per_sender;   /* transactions per sender */
    uint64_t max_nonce_gap;    /* nonce - state nonce must be <= this */
    uint64_t expiry_ms;        /* 0 = never */
    uint32_t replace_bump_pct; /* >= 10 */
    uint64_t min_priority_fee; /* refuse tips below this */
};
/* Defaults: 20000 txs, 256 MiB, 64 per sender, gap 64, 3 h, 10%, 0. */
void qcn_mempool_config_default(struct qcn_mempool_config *cfg);

struct qcn_mempool;

QCN_MUST_CHECK int qcn_mempool_new(struct qcn_mempool **out, const struct qcn_mempool_config *cfg);
void qcn_mempool_free(struct qcn_mempool *mp);

/* Admits a prepared and verified transaction, checked against the chain's
 * head state: QCN_ERR_TX_KNOWN, _BAD_SIGNATURE (not verified), _NONCE_LOW,
 * _NONCE_GAP, _FUNDS (balance < gas_limit * max_fee + value), _FEE_LOW (max fee
 * below the next base fee, or tip below min_priority_fee),
 * _REPLACEMENT_UNDERPRICED, _SENDER_LIMIT, _POOL_FULL, _OVERSIZED. On success
 * the pool holds its own reference. */
QCN_MUST_CHECK int qcn_mempool_add(struct qcn_mempool *mp, struct qcn_chain *c, struct qcn_tx *tx,
                                   uint64_t now_ms);

/* qcn_chain_tx_prepare, plus one pool-aware rule: a transaction that omits
 * its public key from an account whose key is not recorded yet may borrow the
 * key from a pooled transaction of the same sender and scheme that carries it
 * (the burst a wallet sends before its first transaction is in a block).
 * Execution still checks the key the chain has recorded by then. Same errors
 * as qcn_chain_tx_prepare. */
QCN_MUST_CHECK int qcn_mempool_tx_prepare(struct qcn_mempool *mp, struct qcn_chain *c,
                                          struct qcn_tx *tx);

/* Prepare + verify (on pool, may be NULL) + add for n transactions; errs[i]
 * gets each result. Returns how many were admitted. */
size_t qcn_mempool_submit(struct qcn_mempool *mp, struct qcn_chain *c, struct qcn_verify_pool *pool,
                          struct qcn_tx *const *txs, size_t n, int *errs, uint64_t now_ms);

size_t qcn_mempool_count(const struct qcn_mempool *mp);
size_t qcn_mempool_bytes(const struct qcn_mempool *mp);
/* Borrowed pointer (valid until the pool changes), or NULL. */
struct qcn_tx *qcn_mempool_get(const struct qcn_mempool *mp, const uint8_t hash[QCN_HASH_BYTES]);
/* Next nonce for addr counting its ready pooled transactions. */
uint64_t qcn_mempool_pending_nonce(const struct qcn_mempool *mp,
                                   const uint8_t addr[QCN_ADDRESS_BYTES], uint64_t state_nonce);
/* Drops entries that arrived more than expiry_ms before now; returns how many. */
size_t qcn_mempool_expire(struct qcn_mempool *mp, uint64_t now_ms);
/* Removes one transaction (and, as they can no longer be ready, its sender's
 * higher nonces stay). Returns 1 if it was there. */
int qcn_mempool_remove(struct qcn_mempool *mp, const uint8_t hash[QCN_HASH_BYTES]);

/* Ready transactions for a block: by effective tip under base_fee, each
 * sender's in nonce order, until gas_limit or max are reached. out gets new
 * references (caller unrefs); *n how many. Pure selection: nothing removed. */
QCN_MUST_CHECK int qcn_mempool_select(struct qcn_mempool *mp, struct qcn_chain *c,
                                      uint64_t base_fee, uint64_t gas_limit, size_t max,
                                      struct qcn_tx ***out, size_t *n);

/* After a block is committed: drops transactions whose nonce is now below
 * their sender's state nonce (included or replaced by the block). */
void qcn_mempool_on_block(struct qcn_mempool *mp, struct qcn_chain *c,
                          struct qcn_tx *const *included, size_t n);

/* Visits every pooled transaction (any order); stop early by returning non-zero. */
void qcn_mempool_foreach(const struct qcn_mempool *mp, int (*fn)(void *ctx, struct qcn_tx *tx),
                         void *ctx);

#endif
