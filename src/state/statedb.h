/* statedb.h - the world state: accounts, key records, code and storage over
 * the Merkle-Patricia trie (state/mpt.h), with a flat cache in front.
 *
 * Reads go: in-memory cache -> flat tables (ACCOUNT, ACCKEY + KEYREC, STORAGE,
 * CODE) through the store's qcn_state_reader. Writes stay in memory until
 * qcn_statedb_commit, which folds every dirty account into the trie, computes
 * the new state root and appends all resulting writes (trie nodes, flat rows,
 * key records, code) to a write set for the store. Journaled: a transaction
 * that fails reverts to a snapshot.
 *
 * Lifecycle around one block:
 *   snapshot/revert per transaction -> commit(root, ws) -> the store writes ws
 *   -> finalize (success: the new state is the base) or rollback (the write
 *   failed: forget everything since the last finalize).
 * Not thread-safe: one owner thread (the node's loop). */
#ifndef QCN_STATE_STATEDB_H
#define QCN_STATE_STATEDB_H

#include <stddef.h>
#include <stdint.h>

#include "codec/tx.h"
#include "state/account.h"
#include "state/statedb_batch.h"
#include "util/bytes.h"
#include "util/err.h"

struct qcn_statedb;

/* Opens the state whose trie root is root (qcn_empty_trie_root for an empty
 * state) over rd, which must outlive the database. Reads go through rd's flat
 * tables, so rd must describe the state at root (the head state). */
QCN_MUST_CHECK int qcn_statedb_new(struct qcn_statedb **out, const struct qcn_state_reader *rd,
                                   const uint8_t root[QCN_HASH_BYTES]);
void qcn_statedb_free(struct qcn_statedb *db);

/* The root of the last commit (or of the opening state). */
void qcn_statedb_root(const struct qcn_statedb *db, uint8_t root[QCN_HASH_BYTES]);

/* Account lookup: *exists = 0 and a fresh account when absent. */
QCN_MUST_CHECK int qcn_statedb_account_get(struct qcn_statedb *db, struct qcn_account *out,
                                           int *exists, const uint8_t addr[QCN_ADDRESS_BYTES]);
/* Stores a (possibly new) account. An EIP-161-empty account is deleted at commit. */
QCN_MUST_CHECK int qcn_statedb_account_put(struct qcn_statedb *db,
                                           const uint8_t addr[QCN_ADDRESS_BYTES],
                                           const struct qcn_account *a);

/* The recorded key of addr: QCN_OK with key_hash set and, if rec is not NULL,
 * the record bytes in rec (reset first); QCN_ERR_NOT_FOUND when none. */
QCN_MUST_CHECK int qcn_statedb_key_get(struct qcn_statedb *db, uint8_t key_hash[QCN_HASH_BYTES],
                                       struct qcn_buf *rec, const uint8_t addr[QCN_ADDRESS_BYTES]);
/* Records (or replaces) addr's key record (encoded, validated by the caller). */
QCN_MUST_CHECK int qcn_statedb_key_set(struct qcn_statedb *db,
                                       const uint8_t addr[QCN_ADDRESS_BYTES], const uint8_t *rec,
                                       size_t len);

/* Contract storage (for the VM): 32-byte slot -> 32-byte value (zero = absent). */
QCN_MUST_CHECK int qcn_statedb_storage_get(struct qcn_statedb *db, uint8_t val[32],
                                           const uint8_t addr[QCN_ADDRESS_BYTES],
                                           const uint8_t slot[32]);
QCN_MUST_CHECK int qcn_statedb_storage_set(struct qcn_statedb *db,
                                           const uint8_t addr[QCN_ADDRESS_BYTES],
                                           const uint8_t slot[32], const uint8_t val[32]);
/* Code by hash (the account's code_hash); stored at commit. */
QCN_MUST_CHECK int qcn_statedb_code_get(struct qcn_statedb *db, struct qcn_buf *out,
                                        const uint8_t code_hash[QCN_HASH_BYTES]);
QCN_MUST_CHECK int qcn_statedb_code_put(struct qcn_statedb *db, const uint8_t *code, size_t len,
                                        uint8_t code_hash[QCN_HASH_BYTES]);

/* Journal: snapshot returns a mark; revert undoes every change made after it
 * (marks taken after it become invalid). */
size_t qcn_statedb_snapshot(struct qcn_statedb *db);
void qcn_statedb_revert(struct qcn_statedb *db, size_t mark);

/* The generation under which the next commits file their new trie nodes:
 * the height of the block being built or applied (0 until set, as for
 * genesis). Only where nodes go on disk depends on it, never a root. */
void qcn_statedb_set_gen(struct qcn_statedb *db, uint64_t gen);

/* Folds all changes into the trie, writes the new root to root and appends
 * every write to ws. The journal is emptied. */
QCN_MUST_CHECK int qcn_statedb_commit(struct qcn_statedb *db, uint8_t root[QCN_HASH_BYTES],
                                      struct qcn_writeset *ws);
/* After the store wrote the commit's write set: it is the new base. */
void qcn_statedb_finalize(struct qcn_statedb *db);
/* The write failed or the block was dropped: back to the last finalized state. */
void qcn_statedb_rollback(struct qcn_statedb *db);

/* Merkle proofs in eth_getProof's form at the last finalized root: the
 * account's path (key Keccak-256(addr)) into account_proof, and for each of the
 * nslots slots the path in the account's storage trie (key Keccak-256(slot))
 * into storage_proofs[i]. Proofs must be qcn_mpt_proof_init'ed; they are reset
 * first. QCN_ERR_STATE while changes are pending (between a block's first
 * write and its finalize or rollback), else as qcn_mpt_prove. */
struct qcn_mpt_proof;
QCN_MUST_CHECK int qcn_statedb_prove(struct qcn_statedb *db, struct qcn_mpt_proof *account_proof,
                                     const uint8_t addr[QCN_ADDRESS_BYTES],
                                     const uint8_t (*slots)[32], size_t nslots,
                                     struct qcn_mpt_proof *storage_proofs);

/* Proof of addr's key-record commitment (trie key Keccak-256(addr ||
 * "qcn-key"), value RLP(key hash); docs/protocol.md §4), under the same
 * conditions as qcn_statedb_prove. */
QCN_MUST_CHECK int qcn_statedb_prove_key(struct qcn_statedb *db, struct qcn_mpt_proof *proof,
                                         const uint8_t addr[QCN_ADDRESS_BYTES]);

/* Root computed from scratch over every account and key record of the
 * finalized state plus pending changes (slow; tests and `qcn db check`). The
 * caller passes the full list of addresses to include. */
QCN_MUST_CHECK int qcn_statedb_root_from_scratch(struct qcn_statedb *db,
                                                 uint8_t root[QCN_HASH_BYTES],
                                                 const uint8_t (*addrs)[QCN_ADDRESS_BYTES],
                                                 size_t naddrs);

#endif
