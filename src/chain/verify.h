/* verify.h - signature verification of transactions, alone or in batches on
 * a pool of worker threads.
 *
 * A transaction must be prepared first (qcn_chain_tx_prepare puts the sender's
 * key record into tx->key_record). Verification is pure given the transaction
 * and that record, so it runs on any thread; on success it sets tx->verified
 * and tx->verified_key_hash, which block execution reuses (no second check
 * while the sender's record keeps that hash). */
#ifndef QCN_CHAIN_VERIFY_H
#define QCN_CHAIN_VERIFY_H

#include <stddef.h>

#include "codec/tx.h"
#include "util/err.h"

/* Verifies tx against tx->key_record: single key: the one signature (index 0);
 * multisig: every carried signature valid, indices strictly increasing and
 * below the key count, at least threshold of them. QCN_OK,
 * QCN_ERR_TX_BAD_SIGNATURE, QCN_ERR_TX_MULTISIG, QCN_ERR_TX_MISSING_KEY (not
 * prepared), QCN_ERR_TX_UNKNOWN_SCHEME. Thread-safe for distinct txs. */
QCN_MUST_CHECK int qcn_tx_verify(struct qcn_tx *tx);

/* As qcn_tx_verify, against an explicit encoded key record. */
QCN_MUST_CHECK int qcn_tx_verify_with(struct qcn_tx *tx, const uint8_t *rec, size_t reclen);

/* ---- the expanded-key cache ----
 *
 * Verification of ML-DSA keys goes through a process-wide LRU cache of
 * expanded public keys (qcn_mldsa_pk_expand), keyed by the key record's hash
 * and the key's index in it, and confirmed by comparing the stored public key
 * bytes, so a repeat sender skips ExpandA and pk decoding. Results are
 * identical with or without the cache. Bounded by entry count and bytes (the
 * defaults below); thread-safe (one mutex; expansion and verification run
 * outside it, entries in use are reference counted and freed by their last
 * user after eviction). */
#define QCN_VERIFY_KEYCACHE_MAX_ENTRIES 4096
#define QCN_VERIFY_KEYCACHE_MAX_BYTES ((size_t)96 << 20)

struct qcn_verify_keycache_stats {
    uint64_t hits, misses, evictions;
    size_t entries, bytes;         /* entries in the table now */
    size_t max_entries, max_bytes; /* current limits */
};

void qcn_verify_keycache_stats(struct qcn_verify_keycache_stats *out);
/* Sets the limits (each capped at the defaults above; max_entries 0
 * disables caching) and evicts down to them. Tests and benchmarks. */
void qcn_verify_keycache_set_limits(size_t max_entries, size_t max_bytes);
/* Drops every entry not in use and zeroes the counters. */
void qcn_verify_keycache_clear(void);

struct qcn_verify_pool;

/* Starts nthreads workers (0: one per online CPU). */
QCN_MUST_CHECK int qcn_verify_pool_new(struct qcn_verify_pool **out, unsigned nthreads);
/* Joins the workers. Must not be called while a batch runs. */
void qcn_verify_pool_free(struct qcn_verify_pool *p);
unsigned qcn_verify_pool_threads(const struct qcn_verify_pool *p);

/* Verifies txs[0..n) on the pool's workers and the calling thread, writing
 * each result to errs[i]; returns when all are done. pool NULL: the calling
 * thread does all. Transactions already verified are skipped (errs[i] = OK).
 * One batch at a time per pool (calls are serialised internally). */
void qcn_tx_verify_batch(struct qcn_verify_pool *p, struct qcn_tx *const *txs, size_t n, int *errs);

#endif
