/* store.h - the LMDB store: one environment, named tables, write batches,
 * read snapshots, map growth and hot backup. Formats: docs/storage.md.
 *
 * Writes never go to LMDB piecemeal. A caller collects every change of one
 * unit of work (a block: state, trie nodes, header, body, receipts, tx index,
 * head pointer) in a struct qcn_store_batch, then qcn_store_batch_commit
 * writes it in ONE LMDB write transaction, synced to disk before it returns.
 * After a crash at any instant the store holds either the whole batch or none
 * of it (LMDB's copy-on-write B-trees and double meta page give this).
 *
 * The map (the largest size the data file may reach) grows by itself: when a
 * commit would not fit, the transaction is aborted, the map is enlarged in a
 * large step and the batch is replayed. Growing needs a moment without any
 * open snapshot in this process (LMDB's rule for mdb_env_set_mapsize), so keep
 * snapshots short.
 *
 * Threads: a struct qcn_store may be used from any thread. A snapshot or a
 * batch belongs to one thread at a time. Batch commits are serialised. */
#ifndef QCN_STORE_STORE_H
#define QCN_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

/* The on-disk schema version, stored in the meta table. An existing store
 * with another version (or none) is refused at open with QCN_ERR_STORE_SCHEMA. */
#define QCN_STORE_SCHEMA_VERSION 2u

/* Caps. LMDB's own key limit is 511 bytes. A value or a batch bigger than
 * these is a bug or an attack, never a real block. */
#define QCN_STORE_MAX_KEY 511
#define QCN_STORE_MAX_VALUE (64u * 1024u * 1024u)
#define QCN_STORE_MAX_BATCH_BYTES ((size_t)2 * 1024u * 1024u * 1024u)
#define QCN_STORE_MAX_BATCH_ENTRIES ((size_t)16 * 1024u * 1024u)

/* Map size defaults: start at 1 GiB of address space (the file is sparse and
 * only grows with data), grow by at least 1 GiB or by doubling, whichever is
 * larger, up to a step of 16 GiB. */
#define QCN_STORE_DEFAULT_MAP_SIZE ((uint64_t)1 << 30)
#define QCN_STORE_MIN_GROW_STEP ((uint64_t)1 << 30)
#define QCN_STORE_MAX_GROW_STEP ((uint64_t)16 << 30)
#define QCN_STORE_DEFAULT_GROW_WAIT_MS 5000u

#define QCN_STORE_HASH_BYTES 32
#define QCN_STORE_ADDR_BYTES 20

/* The tables (LMDB named databases). The numbering is the ledger's logical
 * table numbering (state/statedb_batch.h, enum qcn_table), so a write set
 * produced by the chain maps onto the store one to one; the node checks the
 * two enums agree at compile time. Keys and values: docs/storage.md. */
enum qcn_store_table {
    QCN_STORE_META = 0,      /* ASCII name -> value ("schema", "head", "params") */
    QCN_STORE_HEADER = 1,    /* block hash -> header RLP */
    QCN_STORE_BODY = 2,      /* block hash -> RLP list of tx envelopes */
    QCN_STORE_RECEIPTS = 3,  /* block hash -> RLP list of receipts */
    QCN_STORE_CANON = 4,     /* height BE64 -> block hash (the canonical chain) */
    QCN_STORE_TXINDEX = 5,   /* tx hash -> block hash || index BE32 */
    QCN_STORE_TRIE = 6,      /* BE64 gen || node hash -> node record (locators, RLP) */
    QCN_STORE_ACCOUNT = 7,   /* address -> account RLP (flat current state) */
    QCN_STORE_STORAGE = 8,   /* address || slot -> value (flat current state) */
    QCN_STORE_CODE = 9,      /* code hash -> contract code */
    QCN_STORE_KEYREC = 10,   /* key hash -> key record */
    QCN_STORE_ACCKEY = 11,   /* address -> key hash (flat current state) */
    QCN_STORE_TRIEROOT = 12, /* root hash -> BE64 gen of its TRIE row */
    QCN_STORE_TABLES = 13
};

/* Name of a table as stored in LMDB ("headers", ...), or NULL. */
const char *qcn_store_table_name(int table);

struct qcn_store;
struct qcn_store_snap;
struct qcn_store_batch;

struct qcn_store_opts {
    uint64_t map_size;     /* initial map size in bytes; 0 = QCN_STORE_DEFAULT_MAP_SIZE */
    int read_only;         /* open without writing (backup, check); never creates */
    int create;            /* create the directory and a fresh store if absent */
    unsigned max_readers;  /* 0 = 126 (LMDB default) */
    unsigned grow_wait_ms; /* how long a grow waits for open snapshots; 0 = 5000 */
};

/* Opens (or with opts->create, creates) the store in directory dir.
 * Durability: LMDB's default full sync at each commit (no MDB_NOSYNC, no
 * MDB_NOMETASYNC); stale reader slots left by a killed process are cleared.
 * Errors: QCN_ERR_NOT_FOUND (no store and !create), QCN_ERR_STORE_SCHEMA (a
 * store of another schema version, or a data file that is not ours),
 * QCN_ERR_STORE_CORRUPT (LMDB rejects the file), QCN_ERR_IO, QCN_ERR_NOMEM.
 * On failure *out is NULL and a message was logged. */
QCN_MUST_CHECK int qcn_store_open(struct qcn_store **out, const char *dir,
                                  const struct qcn_store_opts *opts);
/* mkdir -p with mode 0700 (data directories hold keys). QCN_OK if dir exists
 * afterwards; QCN_ERR_IO, QCN_ERR_INVALID_ARG (empty or too long). */
QCN_MUST_CHECK int qcn_store_mkdirs(const char *dir);

/* Closes; every snapshot and batch must have been ended/freed. NULL is a no-op. */
void qcn_store_close(struct qcn_store *s);

/* Copies the store to directory dir (created if missing; must not already
 * hold a data.mdb) as a compacted, consistent snapshot, while other
 * threads and processes keep writing (mdb_env_copy2 with MDB_CP_COMPACT).
 * The copy is itself a valid store. QCN_ERR_EXISTS, QCN_ERR_IO. */
QCN_MUST_CHECK int qcn_store_backup(struct qcn_store *s, const char *dir);

struct qcn_store_info {
    uint64_t map_size;   /* current map size (bytes) */
    uint64_t used_bytes; /* pages in use times page size */
    uint64_t grow_count; /* how often this handle grew the map */
    uint64_t commits;    /* batches committed through this handle */
};
void qcn_store_info_get(struct qcn_store *s, struct qcn_store_info *out);

/* ---- Snapshots: consistent read-only views (an LMDB read transaction). */

/* Begins a snapshot of the last committed state. QCN_ERR_STORE, QCN_ERR_BUSY
 * (out of reader slots). *out is NULL on failure. */
QCN_MUST_CHECK int qcn_store_snap_begin(struct qcn_store *s, struct qcn_store_snap **out);
/* Ends it; views obtained from it become invalid. NULL is a no-op. */
void qcn_store_snap_end(struct qcn_store_snap *r);

/* Looks key up, first in batch b (may be NULL: a pending overlay), then in
 * snapshot r (may be NULL). *val points into the batch or the LMDB map and
 * lives until the batch changes that key or is freed, or the snapshot ends.
 * QCN_OK, QCN_ERR_NOT_FOUND (absent, or deleted in b), QCN_ERR_INVALID_ARG.
 * *val is {NULL,0} unless QCN_OK. */
QCN_MUST_CHECK int qcn_store_get(struct qcn_store_snap *r, const struct qcn_store_batch *b,
                                 int table, const void *key, size_t keylen, struct qcn_view *val);

/* Calls fn for each committed record of table whose key starts with
 * prefix (prefixlen may be 0), in key order, until fn returns nonzero (that
 * value is returned) or the table ends (QCN_OK). Views live until fn returns.
 * Only committed data: a batch's pending writes are not visited. */
typedef int (*qcn_store_iter_fn)(void *ctx, struct qcn_view key, struct qcn_view val);
QCN_MUST_CHECK int qcn_store_iterate(struct qcn_store_snap *r, int table, const void *prefix,
                                     size_t prefixlen, qcn_store_iter_fn fn, void *ctx);

/* ---- Batches: the pending writes of one unit of work. */

/* A new empty batch for store s. QCN_ERR_NOMEM. */
QCN_MUST_CHECK int qcn_store_batch_new(struct qcn_store *s, struct qcn_store_batch **out);
/* Frees the batch and its copies. NULL is a no-op. */
void qcn_store_batch_free(struct qcn_store_batch *b);
/* Drops every pending write, keeping the batch for reuse. */
void qcn_store_batch_reset(struct qcn_store_batch *b);
/* Records a put (key and value are copied; a later put/del of the same key
 * replaces it). QCN_ERR_INVALID_ARG (bad table, empty or oversized key),
 * QCN_ERR_TOO_LARGE (value or batch over its cap), QCN_ERR_NOMEM. On failure
 * the batch is unchanged. */
QCN_MUST_CHECK int qcn_store_batch_put(struct qcn_store_batch *b, int table, const void *key,
                                       size_t keylen, const void *val, size_t vallen);
/* Records a delete (deleting an absent key is not an error at commit). */
QCN_MUST_CHECK int qcn_store_batch_del(struct qcn_store_batch *b, int table, const void *key,
                                       size_t keylen);
/* Pending entries and bytes (keys plus values). */
size_t qcn_store_batch_count(const struct qcn_store_batch *b);
size_t qcn_store_batch_bytes(const struct qcn_store_batch *b);

/* Writes every pending entry in one LMDB write transaction and syncs it;
 * on QCN_OK the batch is empty again. Grows the map when it is full and
 * retries (the whole batch, never a part). On failure nothing was written
 * and the batch still holds its entries. Errors: QCN_ERR_STORE_FULL (the map
 * could not grow: a snapshot stayed open, or the disk is full), QCN_ERR_STORE,
 * QCN_ERR_IO. Must not be called while this thread holds a snapshot if the
 * map may need to grow (the grow would wait for it and fail). */
QCN_MUST_CHECK int qcn_store_batch_commit(struct qcn_store_batch *b);

/* ---- Writing a list of writes directly (the chain's write set). */

/* One write; the same fields as the ledger's struct qcn_write. */
struct qcn_store_write {
    uint8_t table;
    uint8_t del;
    uint32_t klen;
    uint32_t vlen;
    const uint8_t *key;
    const uint8_t *val;
};

/* Writes w[0..n) in ONE synced write transaction, as qcn_store_batch_commit
 * does, without copying them first. Later writes to the same key win. The
 * array itself is reordered (sorted by table and key, stably). Errors as for
 * qcn_store_batch_commit, plus QCN_ERR_INVALID_ARG for a bad table, key or
 * value size (then nothing was written). */
QCN_MUST_CHECK int qcn_store_write_commit(struct qcn_store *s, struct qcn_store_write *w, size_t n);

/* ---- Overlays: a list of writes that is on its way to the store (queued
 * behind a commit) but must already be visible to readers. An overlay
 * indexes the writes where they are (nothing is copied: the memory must
 * outlive the overlay); a later write to the same key wins. Immutable once
 * built, so any number of threads may read it. */
struct qcn_store_overlay;
/* QCN_ERR_NOMEM, QCN_ERR_INVALID_ARG (bad table or key). */
QCN_MUST_CHECK int qcn_store_overlay_new(struct qcn_store_overlay **out,
                                         const struct qcn_store_write *w, size_t n);
void qcn_store_overlay_free(struct qcn_store_overlay *o);
/* 1 with *val set if the overlay puts key, 1 with *deleted = 1 if it
 * deletes it, 0 if it does not touch it. */
int qcn_store_overlay_get(const struct qcn_store_overlay *o, int table, const void *key,
                          size_t keylen, struct qcn_view *val, int *deleted);

/* ---- Typed readers of the chain's records (formats: docs/storage.md),
 * through batch b (may be NULL) then snapshot r. QCN_ERR_NOT_FOUND if absent;
 * QCN_ERR_STORE_CORRUPT if a record is malformed. Outputs are zeroed on
 * failure. */

/* The head: META "head" (a block hash) and the height read from its header. */
QCN_MUST_CHECK int qcn_store_head_get(struct qcn_store_snap *r, const struct qcn_store_batch *b,
                                      uint64_t *height, uint8_t hash[QCN_STORE_HASH_BYTES]);
QCN_MUST_CHECK int qcn_store_canon_get(struct qcn_store_snap *r, const struct qcn_store_batch *b,
                                       uint64_t height, uint8_t hash[QCN_STORE_HASH_BYTES]);
/* TXINDEX: the block holding the transaction and its index there. */
QCN_MUST_CHECK int qcn_store_txindex_get(struct qcn_store_snap *r, const struct qcn_store_batch *b,
                                         const uint8_t txhash[QCN_STORE_HASH_BYTES],
                                         uint8_t block_hash[QCN_STORE_HASH_BYTES], uint32_t *index);
/* The height field of an encoded header (RLP item 1), without decoding the rest. */
QCN_MUST_CHECK int qcn_store_header_height(uint64_t *height, struct qcn_view header);

/* ---- The ledger's read interface (state/statedb_batch.h, struct
 * qcn_state_reader) over the committed store:
 *   struct qcn_store_rd rd; qcn_store_rd_init(&rd, store);
 *   struct qcn_state_reader sr = {&rd, qcn_store_rd_get};
 * get opens a snapshot on first use and keeps it; qcn_store_rd_release ends
 * it, so that the next get sees later commits. Release before committing a
 * block (an open snapshot stops map growth) and the reads after the commit
 * see the new state. Used by one thread at a time. */
#define QCN_STORE_RD_MAX_LAYERS 8
struct qcn_store_rd {
    struct qcn_store *s;
    struct qcn_store_snap *snap;
    /* Writes queued for the store, oldest first: looked up newest first,
     * before the snapshot (qcn_store_rd_push/pop). */
    const struct qcn_store_overlay *layer[QCN_STORE_RD_MAX_LAYERS];
    size_t nlayers;
    int transient; /* 1: end the snapshot after every get (a commit is running
                    * on another thread and may need to grow the map) */
};
void qcn_store_rd_init(struct qcn_store_rd *rd, struct qcn_store *s);
int qcn_store_rd_get(void *ctx, int table, const uint8_t *key, size_t klen, struct qcn_buf *out);
void qcn_store_rd_release(struct qcn_store_rd *rd);
/* Adds the newest overlay (QCN_ERR_TOO_LARGE past QCN_STORE_RD_MAX_LAYERS) /
 * drops the oldest one (its writes are now committed; the snapshot is
 * released so the next read sees them). */
QCN_MUST_CHECK int qcn_store_rd_push(struct qcn_store_rd *rd, const struct qcn_store_overlay *o);
void qcn_store_rd_pop(struct qcn_store_rd *rd);

/* ---- Trie node records (docs/storage.md "Trie nodes"): the located node
 * store of state/mpt.h. A node is filed under BE64(gen) || Keccak-256(RLP),
 * gen being the height of the block that wrote it, and its value is a record
 *   k (1 byte) || k x BE64 gens of its hash-referenced children || node RLP;
 * TRIEROOT maps every committed root's hash to its gen. Never deleted. */
#define QCN_STORE_TRIE_KEY_BYTES (8 + QCN_STORE_HASH_BYTES)
#define QCN_STORE_TRIE_ANY UINT64_MAX /* a root: look its gen up in TRIEROOT */
void qcn_store_trie_key(uint8_t key[QCN_STORE_TRIE_KEY_BYTES], uint64_t gen,
                        const uint8_t hash[QCN_STORE_HASH_BYTES]);
/* The record of hash at *gen (QCN_STORE_TRIE_ANY: through TRIEROOT; *gen is
 * then set to the gen found). QCN_OK, QCN_ERR_NOT_FOUND, QCN_ERR_STORE_CORRUPT
 * (a TRIEROOT value that is not 8 bytes). *rec as for qcn_store_get. */
QCN_MUST_CHECK int qcn_store_trie_get(struct qcn_store_snap *r, const struct qcn_store_batch *b,
                                      uint64_t *gen, const uint8_t hash[QCN_STORE_HASH_BYTES],
                                      struct qcn_view *rec);
/* Stages a record under (gen, hash), and the TRIEROOT entry if is_root. */
QCN_MUST_CHECK int qcn_store_trie_put(struct qcn_store_batch *b, uint64_t gen,
                                      const uint8_t hash[QCN_STORE_HASH_BYTES], const uint8_t *rec,
                                      size_t reclen, int is_root);
/* Splits a record into the node RLP and its children's gens (nlocs of them,
 * BE64 each at locs). QCN_ERR_STORE_CORRUPT if it is too short or claims
 * more than 16 children. */
QCN_MUST_CHECK int qcn_store_trie_split(struct qcn_view rec, struct qcn_view *node,
                                        const uint8_t **locs, size_t *nlocs);

#endif
