/* mpt.h - Ethereum's modified Merkle-Patricia trie (Yellow Paper, Appendix D).
 *
 * Keys and values are byte strings. A node is RLP: a leaf [HP(path, 1), value],
 * an extension [HP(path, 0), child] or a branch [c0..c15, value]. A child whose
 * RLP is shorter than 32 bytes is embedded in its parent; otherwise the parent
 * holds its Keccak-256. The root is always hashed. An empty value means "no
 * entry": storing one deletes the key, as in Ethereum.
 *
 * Three ways in:
 *  1. One-shot roots over a list of pairs (transaction and receipt roots,
 *     state-test roots): qcn_mpt_root, qcn_mpt_secure_root.
 *  2. A persistent, incremental trie (struct qcn_mpt) over a content-addressed
 *     node store (struct qcn_mpt_nodestore): open at a root, get, put/delete in
 *     memory, commit to write the new nodes and get the new root. Old roots stay
 *     readable: nothing is ever deleted from the store (no pruning).
 *  3. Merkle proofs in the eth_getProof format: qcn_mpt_prove and
 *     qcn_mpt_verify_proof.
 *
 * Bytes from a node store or a proof are outside input: every node fetched by
 * hash is re-hashed and checked, and malformed nodes are errors, never crashes.
 * Node format details and the store contract: docs/trie.md. */
#ifndef QCN_STATE_MPT_H
#define QCN_STATE_MPT_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

#define QCN_MPT_HASH_BYTES 32
/* Longest key accepted (keys are 32-byte hashes or RLP indexes in practice). */
#define QCN_MPT_MAX_KEY_BYTES 128
/* Largest value accepted (a receipt or transaction in a block's trie). */
#define QCN_MPT_MAX_VALUE_BYTES (16u * 1024u * 1024u)
/* Largest node RLP accepted from a store or a proof: a branch holding the
 * largest value plus 16 hash references and headers. */
#define QCN_MPT_MAX_NODE_BYTES (QCN_MPT_MAX_VALUE_BYTES + 1024u)
/* Most nodes in a proof: one per nibble of the longest key, plus the root. */
#define QCN_MPT_MAX_PROOF_NODES (2 * QCN_MPT_MAX_KEY_BYTES + 1)
/* Most pairs qcn_mpt_root accepts in one call. */
#define QCN_MPT_MAX_ROOT_ENTRIES ((size_t)1 << 26)

/* Keccak-256(RLP("")) = 56e81f17...5e363b421, the root of the empty trie. */
extern const uint8_t QCN_MPT_EMPTY_ROOT[QCN_MPT_HASH_BYTES];

/* One (key, value) pair; the trie never keeps these pointers. */
struct qcn_mpt_kv {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
};

/* ---------------------------------------------------------------------------
 * One-shot roots */

/* Computes the root of the trie holding the n pairs, in any order. If a key
 * appears more than once the LAST occurrence wins; pairs with an empty value
 * are absent. n == 0 gives QCN_MPT_EMPTY_ROOT. Sorts a private copy of the
 * index (O(n log n)); allocates temporary memory only.
 * Returns QCN_OK, QCN_ERR_INVALID_ARG (a key or value over its cap, or n over
 * QCN_MPT_MAX_ROOT_ENTRIES), QCN_ERR_NOMEM; root is zeroed on failure.
 * Thread-safe. */
QCN_MUST_CHECK int qcn_mpt_root(uint8_t root[QCN_MPT_HASH_BYTES], const struct qcn_mpt_kv *kvs,
                                size_t n);

/* The same with every key replaced by Keccak-256(key) first (Ethereum's
 * "secure trie": accounts keyed by keccak(address), storage slots by
 * keccak(32-byte slot)). */
QCN_MUST_CHECK int qcn_mpt_secure_root(uint8_t root[QCN_MPT_HASH_BYTES],
                                       const struct qcn_mpt_kv *kvs, size_t n);

/* ---------------------------------------------------------------------------
 * Node store: where the incremental trie keeps nodes, keyed by Keccak-256 of
 * their RLP. The store must keep every node it was given (no deletion while a
 * root that reaches it may be opened). */
struct qcn_mpt_nodestore {
    /* Zero-initialise it: the callbacks a store does not offer must be NULL. */
    void *ctx;
    /* Appends the node stored under hash to out (which the trie hands over
     * empty, capped at QCN_MPT_MAX_NODE_BYTES). Returns QCN_OK,
     * QCN_ERR_NOT_FOUND if the store has no such node, or any other error
     * (passed on to the trie's caller unchanged). The trie checks that the
     * bytes hash to `hash`; the store need not. */
    int (*get)(void *ctx, const uint8_t hash[QCN_MPT_HASH_BYTES], struct qcn_buf *out);
    /* Stores len bytes of node RLP under hash (= Keccak-256 of the bytes); the
     * store copies them. Storing a hash already present must succeed (nodes are
     * content-addressed, so the bytes are the same). Returns QCN_OK or an error
     * that aborts the commit (which can be retried). */
    int (*put)(void *ctx, const uint8_t hash[QCN_MPT_HASH_BYTES], const uint8_t *node, size_t len);
    /* Optional, instead of get and put: a LOCATED store (docs/trie.md
     * "Located stores"), which files each node under a locator it chooses
     * (the LMDB store: the height of the block that wrote it, so one block's
     * nodes sit together on disk) and needs the locator to find it again.
     * The trie then keeps each node's locator and stores with every node the
     * locators of its hash-referenced children, as a record:
     *   k (1 byte) || k locators (BE64 each, children in order) || node RLP.
     * get_at: *loc is the locator, or QCN_MPT_LOC_ANY for a root (the store
     * keeps an index of the roots it was given); appends the record to out
     * and sets *loc to where it was found. Errors as get.
     * put_at: stores the record (len bytes) of the node whose RLP hashes to
     * hash; is_root says it is a committed root (index it); sets *loc to
     * where it went. Errors as put. */
    int (*get_at)(void *ctx, uint64_t *loc, const uint8_t hash[QCN_MPT_HASH_BYTES],
                  struct qcn_buf *out);
    int (*put_at)(void *ctx, uint64_t *loc, const uint8_t hash[QCN_MPT_HASH_BYTES],
                  const uint8_t *rec, size_t len, int is_root);
};

/* "Wherever the store's root index says" (roots only). */
#define QCN_MPT_LOC_ANY UINT64_MAX
/* Most hash-referenced children a node has: the locators in a record. */
#define QCN_MPT_MAX_LOCS 16

/* An in-memory node store (a hash map), for tests and one-shot state tests.
 * Not thread-safe. */
struct qcn_mpt_memstore;

/* Returns QCN_OK or QCN_ERR_NOMEM (*out = NULL). */
QCN_MUST_CHECK int qcn_mpt_memstore_new(struct qcn_mpt_memstore **out);
/* Frees the store and every node in it; NULL is a no-op. Tries opened over it
 * must be freed first. */
void qcn_mpt_memstore_free(struct qcn_mpt_memstore *ms);
/* The store's interface; valid while ms lives. */
struct qcn_mpt_nodestore qcn_mpt_memstore_iface(struct qcn_mpt_memstore *ms);
/* Number of nodes and total node bytes held. */
size_t qcn_mpt_memstore_count(const struct qcn_mpt_memstore *ms);
size_t qcn_mpt_memstore_bytes(const struct qcn_mpt_memstore *ms);

/* ---------------------------------------------------------------------------
 * The incremental trie. A handle sees the trie at one root plus its own
 * uncommitted changes. Nodes are loaded lazily from the store and cached in
 * the handle. Not thread-safe (even get mutates the cache); separate handles
 * over one store are independent as far as the store allows. */
struct qcn_mpt;

/* Opens a trie at root (NULL or QCN_MPT_EMPTY_ROOT: the empty trie). The root
 * node is fetched at once, so an unknown root fails here. store is copied; its
 * ctx must outlive the handle.
 * Returns QCN_OK, QCN_ERR_STATE_MISSING_NODE (root not in the store),
 * QCN_ERR_STORE_CORRUPT (the stored bytes do not hash to root or are not a
 * trie node), QCN_ERR_NOMEM, or a store error; *out = NULL on failure. */
QCN_MUST_CHECK int qcn_mpt_open(struct qcn_mpt **out, const struct qcn_mpt_nodestore *store,
                                const uint8_t root[QCN_MPT_HASH_BYTES]);
/* Frees the handle and its cache, discarding uncommitted changes. NULL is a
 * no-op. Never touches the store. */
void qcn_mpt_free(struct qcn_mpt *t);

/* Looks key up, seeing uncommitted changes. Resets value and appends the value
 * to it. Returns QCN_OK, QCN_ERR_NOT_FOUND (no such key), QCN_ERR_INVALID_ARG
 * (key over QCN_MPT_MAX_KEY_BYTES), QCN_ERR_TOO_LARGE (value over value->max),
 * QCN_ERR_STATE_MISSING_NODE, QCN_ERR_STORE_CORRUPT, QCN_ERR_NOMEM or a store
 * error. value is reset on failure. */
QCN_MUST_CHECK int qcn_mpt_get(struct qcn_mpt *t, struct qcn_buf *value, const uint8_t *key,
                               size_t key_len);

/* Sets key to value in memory (value_len == 0 deletes). Returns QCN_OK,
 * QCN_ERR_INVALID_ARG (key or value over its cap), or a load error as for
 * qcn_mpt_get. A load error (or QCN_ERR_NOMEM) can strike half-way through a
 * restructuring, so after any error other than QCN_ERR_INVALID_ARG the handle
 * refuses further put/delete/update/hash/commit/prove with QCN_ERR_STATE until
 * qcn_mpt_discard (back to the last committed root) or qcn_mpt_free; reads
 * keep working. Also QCN_ERR_STATE if the handle is already in that state. */
QCN_MUST_CHECK int qcn_mpt_put(struct qcn_mpt *t, const uint8_t *key, size_t key_len,
                               const uint8_t *value, size_t value_len);
/* Removes key (absent keys are fine). Same errors as qcn_mpt_put. Deleting
 * restores the canonical shape, so roots always equal qcn_mpt_root's. */
QCN_MUST_CHECK int qcn_mpt_delete(struct qcn_mpt *t, const uint8_t *key, size_t key_len);
/* Applies n puts/deletes in order (value_len == 0 deletes). Stops at the first
 * error, with the same caveat as qcn_mpt_put. */
QCN_MUST_CHECK int qcn_mpt_update(struct qcn_mpt *t, const struct qcn_mpt_kv *kvs, size_t n);

/* Computes the current root, including uncommitted changes, without writing
 * to the store (the hashes are cached, so a later commit does not redo them).
 * Returns QCN_OK or QCN_ERR_NOMEM; root is zeroed on failure. */
QCN_MUST_CHECK int qcn_mpt_hash(struct qcn_mpt *t, uint8_t root[QCN_MPT_HASH_BYTES]);

/* Hashes the uncommitted nodes bottom-up, writes every new hash-referenced
 * node (and the root node, even when shorter than 32 bytes) through the
 * store's put, and returns the new root; the handle then sits at that root
 * with nothing uncommitted. Nodes already in the store are not written again.
 * The empty trie writes nothing. If put fails the error is returned, root is
 * zeroed and the handle keeps its changes, so commit can be retried. */
QCN_MUST_CHECK int qcn_mpt_commit(struct qcn_mpt *t, uint8_t root[QCN_MPT_HASH_BYTES]);

/* Drops uncommitted changes: the handle returns to its last committed (or
 * opened) root. */
void qcn_mpt_discard(struct qcn_mpt *t);

/* Drops cached clean nodes to bound memory (they are reloaded on demand).
 * Uncommitted nodes are kept. */
void qcn_mpt_evict(struct qcn_mpt *t);

/* True (1) if the handle has uncommitted changes. */
int qcn_mpt_dirty(const struct qcn_mpt *t);

/* ---------------------------------------------------------------------------
 * Proofs (eth_getProof's accountProof/storageProof): the RLP of every
 * hash-referenced node on the path from the root towards key, root first.
 * Embedded nodes travel inside their parents. A proof of absence is the path
 * up to where the key diverges. The empty trie's proof is empty. */
struct qcn_mpt_proof {
    size_t count;
    struct qcn_view node[QCN_MPT_MAX_PROOF_NODES]; /* views into data */
    struct qcn_buf data;
};

/* Prepares caller-owned storage for qcn_mpt_prove (empty, data capped at
 * QCN_MPT_MAX_PROOF_NODES nodes' worth). clear frees data; the views die
 * with it. Safe to clear an initialised proof more than once. */
void qcn_mpt_proof_init(struct qcn_mpt_proof *p);
void qcn_mpt_proof_clear(struct qcn_mpt_proof *p);

/* Builds the proof for key at the handle's committed root. The handle must
 * have no uncommitted changes (QCN_ERR_STATE otherwise). proof is reset first.
 * Returns QCN_OK (for present and absent keys alike), QCN_ERR_INVALID_ARG, or
 * a load error as for qcn_mpt_get. proof is reset on failure. */
QCN_MUST_CHECK int qcn_mpt_prove(struct qcn_mpt *t, struct qcn_mpt_proof *proof, const uint8_t *key,
                                 size_t key_len);

/* Checks a proof for key against root. On QCN_OK, *found says whether the
 * proof shows key present (value then points into the proof's bytes and lives
 * as long as they do) or absent (value empty). Returns QCN_ERR_STATE_PROOF if
 * any node does not hash to its reference, is malformed, is missing, or is
 * left over; QCN_ERR_INVALID_ARG for a key over its cap or more than
 * QCN_MPT_MAX_PROOF_NODES nodes. Allocates nothing. Thread-safe. */
QCN_MUST_CHECK int qcn_mpt_verify_proof(int *found, struct qcn_view *value,
                                        const uint8_t root[QCN_MPT_HASH_BYTES], const uint8_t *key,
                                        size_t key_len, const struct qcn_view *nodes, size_t count);

/* Checks that bytes form one well-formed trie node (leaf, extension, branch,
 * with embedded children checked recursively; the empty string 0x80 counts
 * only if allow_empty). Returns QCN_OK or QCN_ERR_STORE_CORRUPT, the error the
 * trie reports when a store hands it such bytes. For tools and fuzzing. */
QCN_MUST_CHECK int qcn_mpt_node_check(const uint8_t *node, size_t len, int allow_empty);

#endif
