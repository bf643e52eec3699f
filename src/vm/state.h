/* state.h - the EVM's journaled world-state overlay.
 *
 * A struct qcn_vm_state holds every account, storage slot and piece of code a
 * transaction has looked at, on top of a read-only backend (the ledger's
 * LMDB state, or nothing for state tests, which seed the overlay directly).
 * Writes stay in the overlay. Within a transaction a journal makes every
 * change revertible to a snapshot (a failed call frame); at the end of a
 * transaction qcn_vm_state_finalize_tx() applies the Cancun deletion rules
 * (EIP-6780 self-destructs, EIP-161 touched empty accounts) and makes the
 * current values the new "original" values (EIP-2200). The caller then reads
 * the accumulated changes with qcn_vm_state_walk_changes() and writes them to
 * its trie, and calls qcn_vm_state_clear_dirty().
 *
 * Per-transaction sets live here too: warm addresses and slots (EIP-2929),
 * transient storage (EIP-1153), the refund counter, logs, accounts created
 * in this transaction (EIP-6780) and the self-destruct set.
 *
 * Not thread-safe: one state per executing thread. Pointers returned into the
 * state (accounts, code) stay valid until qcn_vm_state_free(). */
#ifndef QCN_VM_STATE_H
#define QCN_VM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"
#include "vm/precompile.h"
#include "vm/uint256.h"

#define QCN_VM_HASH_BYTES 32
#define QCN_VM_MAX_CODE_SIZE 24576           /* EIP-170 */
#define QCN_VM_MAX_INITCODE_SIZE (2 * 24576) /* EIP-3860 */
#define QCN_VM_MAX_LOG_TOPICS 4
#define QCN_VM_CODE_PAD 33 /* zero bytes after code: PUSH32 reads and a final STOP */

/* Keccak-256 of the empty string: the code hash of an account without code. */
extern const uint8_t qcn_vm_empty_code_hash[QCN_VM_HASH_BYTES];

/* Read-only source of committed state. Every callback returns QCN_OK or an
 * error (which aborts the transaction being executed). A missing account is
 * *found = 0, not an error; a missing slot reads as zero. */
struct qcn_vm_state_backend {
    void *ctx;
    int (*load_account)(void *ctx, const uint8_t addr[QCN_VM_ADDRESS_BYTES], int *found,
                        uint64_t *nonce, struct qcn_u256 *balance,
                        uint8_t code_hash[QCN_VM_HASH_BYTES], int *has_storage);
    int (*load_storage)(void *ctx, const uint8_t addr[QCN_VM_ADDRESS_BYTES],
                        const uint8_t key[QCN_U256_BYTES], uint8_t value[QCN_U256_BYTES]);
    /* Fills out (reset first) with the code whose Keccak-256 is code_hash. */
    int (*load_code)(void *ctx, const uint8_t code_hash[QCN_VM_HASH_BYTES], struct qcn_buf *out);
};

/* Code shared by every account with the same hash; analysed once. */
struct qcn_vm_code {
    uint8_t hash[QCN_VM_HASH_BYTES];
    uint8_t *bytes; /* len + QCN_VM_CODE_PAD bytes, zero padded */
    size_t len;
    uint8_t *jumpdest; /* bitmap, bit i set iff byte i is a JUMPDEST opcode; NULL until analysed */
    struct qcn_vm_code *next; /* hash chain */
};

/* Account flags. */
#define QCN_VM_ACC_EXISTS 0x01u
#define QCN_VM_ACC_WARM 0x02u        /* EIP-2929 accessed_addresses */
#define QCN_VM_ACC_TOUCHED 0x04u     /* EIP-161 */
#define QCN_VM_ACC_DESTRUCTED 0x08u  /* SELFDESTRUCT executed this transaction */
#define QCN_VM_ACC_CREATED 0x10u     /* created in this transaction (EIP-6780) */
#define QCN_VM_ACC_DIRTY 0x20u       /* changed since the last clear_dirty */
#define QCN_VM_ACC_WIPED 0x40u       /* deleted: committed storage no longer applies */
#define QCN_VM_ACC_HAS_STORAGE 0x80u /* committed storage non-empty (EIP-7610) */

/* An account as the overlay sees it. Fields are read-only outside src/vm;
 * change them through the functions below so the journal sees it. */
struct qcn_vm_account {
    uint8_t addr[QCN_VM_ADDRESS_BYTES];
    uint32_t flags;
    uint64_t nonce;
    struct qcn_u256 balance;
    uint8_t code_hash[QCN_VM_HASH_BYTES];
    struct qcn_vm_code *code; /* NULL until loaded: use qcn_vm_state_code() */
    uint32_t index;
};

/* A log record (Yellow Paper 4.3.1). data is owned by the state. */
struct qcn_vm_log {
    uint8_t addr[QCN_VM_ADDRESS_BYTES];
    unsigned ntopics;
    uint8_t topics[QCN_VM_MAX_LOG_TOPICS][QCN_U256_BYTES];
    uint8_t *data;
    size_t len;
};

struct qcn_vm_state;

/* Creates an empty overlay. backend may be NULL (nothing committed). The
 * backend struct is copied. Returns NULL on allocation failure. */
struct qcn_vm_state *qcn_vm_state_new(const struct qcn_vm_state_backend *backend);
void qcn_vm_state_free(struct qcn_vm_state *st);

/* The first error a backend callback or an allocation returned during the
 * current transaction (QCN_OK if none). Execution treats such an error as
 * fatal for the transaction. */
int qcn_vm_state_error(const struct qcn_vm_state *st);

/* Returns the account entry for addr (loading it from the backend on first
 * use; a missing account gets an entry without QCN_VM_ACC_EXISTS), or NULL
 * on an allocation or backend error (see qcn_vm_state_error). */
struct qcn_vm_account *qcn_vm_state_account(struct qcn_vm_state *st,
                                            const uint8_t addr[QCN_VM_ADDRESS_BYTES]);

/* Seeds committed state directly, outside any transaction and without the
 * journal: the account exists with these values (code copied), and a
 * non-zero slot becomes both its current and original value. For building
 * a state from a snapshot (state tests, genesis). QCN_ERR_NOMEM on failure. */
QCN_MUST_CHECK int qcn_vm_state_seed_account(struct qcn_vm_state *st,
                                             const uint8_t addr[QCN_VM_ADDRESS_BYTES],
                                             uint64_t nonce, const struct qcn_u256 *balance,
                                             const uint8_t *code, size_t code_len);
QCN_MUST_CHECK int qcn_vm_state_seed_storage(struct qcn_vm_state *st,
                                             const uint8_t addr[QCN_VM_ADDRESS_BYTES],
                                             const struct qcn_u256 *key,
                                             const struct qcn_u256 *value);

/* EIP-161: an account is empty if nonce, balance and code are all zero/empty;
 * "dead" if it does not exist or is empty. */
int qcn_vm_account_is_empty(const struct qcn_vm_account *a);
int qcn_vm_account_is_dead(const struct qcn_vm_account *a);

/* Journaled mutations. Each marks the account existing and dirty. */
void qcn_vm_state_touch(struct qcn_vm_state *st, struct qcn_vm_account *a);
void qcn_vm_state_set_nonce(struct qcn_vm_state *st, struct qcn_vm_account *a, uint64_t nonce);
void qcn_vm_state_set_balance(struct qcn_vm_state *st, struct qcn_vm_account *a,
                              const struct qcn_u256 *balance);
/* Adds to / subtracts from the balance; QCN_ERR_OVERFLOW (nothing changed)
 * on wrap or insufficient balance. Both touch the account even for 0. */
QCN_MUST_CHECK int qcn_vm_state_add_balance(struct qcn_vm_state *st, struct qcn_vm_account *a,
                                            const struct qcn_u256 *v);
QCN_MUST_CHECK int qcn_vm_state_sub_balance(struct qcn_vm_state *st, struct qcn_vm_account *a,
                                            const struct qcn_u256 *v);
/* Installs code (copied, hashed and shared by hash). */
QCN_MUST_CHECK int qcn_vm_state_set_code(struct qcn_vm_state *st, struct qcn_vm_account *a,
                                         const uint8_t *code, size_t len);
/* Marks a as created in this transaction: exists, nonce 1 (EIP-161), storage
 * wiped, balance kept. */
void qcn_vm_state_create_account(struct qcn_vm_state *st, struct qcn_vm_account *a);
void qcn_vm_state_mark_destructed(struct qcn_vm_state *st, struct qcn_vm_account *a);
/* Warms a; returns 1 if it was cold before. */
int qcn_vm_state_warm_account(struct qcn_vm_state *st, struct qcn_vm_account *a);

/* A code cache shared by successive states (one per thread): code entries
 * and their jump-destination analysis, keyed by code hash, kept until the
 * cache is freed, up to max_bytes of code (beyond that, code lives in each
 * state as usual). Free it after every state that used it. Not thread-safe.
 * qcn_vm_code_cache_new returns NULL on allocation failure. */
struct qcn_vm_code_cache;
struct qcn_vm_code_cache *qcn_vm_code_cache_new(size_t max_bytes);
void qcn_vm_code_cache_free(struct qcn_vm_code_cache *cache);
size_t qcn_vm_code_cache_bytes(const struct qcn_vm_code_cache *cache);
/* Makes st look code up in, and add code to, cache (call before use). */
void qcn_vm_state_use_code_cache(struct qcn_vm_state *st, struct qcn_vm_code_cache *cache);

/* Returns the code of a (loading it from the backend on first use), or NULL
 * on a backend error. The jumpdest bitmap is computed on first use by
 * qcn_vm_code_analyse(). */
struct qcn_vm_code *qcn_vm_state_code(struct qcn_vm_state *st, struct qcn_vm_account *a);
/* Drops code->jumpdest so the next execution analyses the code again
 * (benchmarks of analysis + execution). */
void qcn_vm_code_forget_analysis(struct qcn_vm_code *code);
/* Computes code->jumpdest if not done yet; QCN_ERR_NOMEM on failure. */
QCN_MUST_CHECK int qcn_vm_code_analyse(struct qcn_vm_code *code);
static inline int qcn_vm_code_is_jumpdest(const struct qcn_vm_code *c, uint64_t pc)
{
    return pc < c->len && ((c->jumpdest[pc / 8] >> (pc % 8)) & 1);
}

/* Storage. Values are big-endian 32-byte words in and out of the API but
 * kept as qcn_u256 inside. sload returns the current value and, if
 * original != NULL, the value at the start of the transaction; was_cold
 * (may be NULL) reports and clears the EIP-2929 cold status. */
QCN_MUST_CHECK int qcn_vm_state_sload(struct qcn_vm_state *st, struct qcn_vm_account *a,
                                      const struct qcn_u256 *key, struct qcn_u256 *value,
                                      struct qcn_u256 *original, int *was_cold);
QCN_MUST_CHECK int qcn_vm_state_sstore(struct qcn_vm_state *st, struct qcn_vm_account *a,
                                       const struct qcn_u256 *key, const struct qcn_u256 *value);
/* Warms (a, key) without reading it (EIP-2930 access lists). */
QCN_MUST_CHECK int qcn_vm_state_warm_slot(struct qcn_vm_state *st, struct qcn_vm_account *a,
                                          const struct qcn_u256 *key);
/* EIP-1153 transient storage; cleared by finalize_tx. */
QCN_MUST_CHECK int qcn_vm_state_tload(struct qcn_vm_state *st, struct qcn_vm_account *a,
                                      const struct qcn_u256 *key, struct qcn_u256 *value);
QCN_MUST_CHECK int qcn_vm_state_tstore(struct qcn_vm_state *st, struct qcn_vm_account *a,
                                       const struct qcn_u256 *key, const struct qcn_u256 *value);

/* Refund counter (EIP-3529); may go negative transiently within a tx. */
void qcn_vm_state_add_refund(struct qcn_vm_state *st, int64_t delta);
int64_t qcn_vm_state_refund(const struct qcn_vm_state *st);

/* Appends a log; data is copied. */
QCN_MUST_CHECK int qcn_vm_state_add_log(struct qcn_vm_state *st,
                                        const uint8_t addr[QCN_VM_ADDRESS_BYTES],
                                        const uint8_t (*topics)[QCN_U256_BYTES], unsigned ntopics,
                                        const uint8_t *data, size_t len);
/* The logs of the current (or just finalized) transaction; valid until the
 * next qcn_vm_state_begin_tx. */
const struct qcn_vm_log *qcn_vm_state_logs(const struct qcn_vm_state *st, size_t *count);

/* Journal. A snapshot is a journal position; revert undoes everything after
 * it, including warmth, refunds, logs and transient storage. */
size_t qcn_vm_state_snapshot(const struct qcn_vm_state *st);
void qcn_vm_state_revert(struct qcn_vm_state *st, size_t snapshot);

/* Starts a transaction: clears the logs, the refund, the journal and the
 * per-transaction flags left by a transaction that was abandoned. */
void qcn_vm_state_begin_tx(struct qcn_vm_state *st);
/* Ends a transaction: deletes self-destructed accounts created in it
 * (EIP-6780) and touched empty accounts (EIP-161), makes current storage
 * the new original storage, clears warm sets, transient storage, the
 * journal and the refund counter (read it first). Logs stay readable until
 * the next begin_tx. */
void qcn_vm_state_finalize_tx(struct qcn_vm_state *st);

/* Walks what changed since the last clear_dirty. For each dirty account:
 * account(a, deleted) first (deleted = 1 if it no longer exists: drop it and
 * its storage; if it exists but a->flags has QCN_VM_ACC_WIPED, its committed
 * storage was deleted and must be cleared before the slots are applied),
 * then, for an existing account, slot() for each dirty slot (value zero =
 * delete the slot), then account_done(a) (may be NULL), where a storage
 * root can be finished. A callback returning non-zero stops the walk and is
 * returned. */
struct qcn_vm_change_visitor {
    void *ctx;
    int (*account)(void *ctx, const struct qcn_vm_account *a, int deleted);
    int (*slot)(void *ctx, const struct qcn_vm_account *a, const uint8_t key[QCN_U256_BYTES],
                const uint8_t value[QCN_U256_BYTES]);
    int (*account_done)(void *ctx, const struct qcn_vm_account *a);
};
int qcn_vm_state_walk_changes(const struct qcn_vm_state *st, const struct qcn_vm_change_visitor *v);
void qcn_vm_state_clear_dirty(struct qcn_vm_state *st);

/* Walks every account the overlay holds that exists, and each of its
 * non-zero slots (the whole state when there is no backend, as in state
 * tests). Same callback contract. */
int qcn_vm_state_walk_all(const struct qcn_vm_state *st, const struct qcn_vm_change_visitor *v);

#endif
