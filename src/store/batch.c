/* batch.c - pending writes, their overlay reads, and the one-transaction
 * commit with map growth; the typed chain records on top.
 *
 * A batch is an insertion-ordered array of entries plus an open-addressing
 * index (table, key) -> entry, so the state layer can read its own pending
 * writes while it executes a block. At commit the entries are sorted by
 * (table, key) in LMDB's key order, which turns random puts into a
 * left-to-right walk over each B-tree. */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct entry {
    uint8_t *data; /* key || value, malloc'd */
    uint32_t keylen;
    uint32_t vallen;
    uint32_t hash;
    uint8_t table;
    uint8_t del;
};

struct qcn_store_batch {
    struct qcn_store *s;
    struct entry *e;
    size_t n, cap;
    uint32_t *slot; /* entry index + 1; 0 = empty */
    size_t nslots;  /* power of two */
    size_t bytes;
};

static uint32_t key_hash(int table, const uint8_t *k, size_t n)
{
    /* FNV-1a: keys are mostly hashes already, any decent mix will do. */
    uint32_t h = 2166136261u ^ (uint32_t)table;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= k[i];
        h *= 16777619u;
    }
    return h;
}

int qcn_store_batch_new(struct qcn_store *s, struct qcn_store_batch **out)
{
    struct qcn_store_batch *b = calloc(1, sizeof *b);
    *out = NULL;
    if (b == NULL)
        return QCN_ERR_NOMEM;
    b->s = s;
    *out = b;
    return QCN_OK;
}

void qcn_store_batch_reset(struct qcn_store_batch *b)
{
    size_t i;
    for (i = 0; i < b->n; i++)
        free(b->e[i].data);
    b->n = 0;
    b->bytes = 0;
    if (b->slot != NULL)
        memset(b->slot, 0, b->nslots * sizeof *b->slot);
}

void qcn_store_batch_free(struct qcn_store_batch *b)
{
    if (b == NULL)
        return;
    qcn_store_batch_reset(b);
    free(b->e);
    free(b->slot);
    free(b);
}

size_t qcn_store_batch_count(const struct qcn_store_batch *b)
{
    return b->n;
}

size_t qcn_store_batch_bytes(const struct qcn_store_batch *b)
{
    return b->bytes;
}

/* Index of the slot holding (table, key), or of the empty slot where it
 * would go. nslots > 0. */
static size_t find_slot(const struct qcn_store_batch *b, int table, const uint8_t *k, size_t n,
                        uint32_t h)
{
    size_t mask = b->nslots - 1, i = h & mask;
    for (;;) {
        uint32_t s = b->slot[i];
        if (s == 0)
            return i;
        const struct entry *e = &b->e[s - 1];
        if (e->hash == h && e->table == table && e->keylen == n && memcmp(e->data, k, n) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

static int rehash(struct qcn_store_batch *b, size_t nslots)
{
    uint32_t *ns = calloc(nslots, sizeof *ns);
    size_t i;
    if (ns == NULL)
        return QCN_ERR_NOMEM;
    free(b->slot);
    b->slot = ns;
    b->nslots = nslots;
    for (i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        b->slot[find_slot(b, e->table, e->data, e->keylen, e->hash)] = (uint32_t)(i + 1);
    }
    return QCN_OK;
}

static int check_key(int table, const void *key, size_t keylen)
{
    if (table < 0 || table >= QCN_TABLE_COUNT || key == NULL || keylen == 0 ||
        keylen > QCN_STORE_MAX_KEY)
        return QCN_ERR_INVALID_ARG;
    return QCN_OK;
}

static int record(struct qcn_store_batch *b, int table, const void *key, size_t keylen,
                  const void *val, size_t vallen, int del)
{
    uint32_t h;
    size_t si, total, newbytes;
    uint8_t *data;
    struct entry *e;
    int err;

    err = check_key(table, key, keylen);
    if (err != QCN_OK)
        return err;
    if (vallen > QCN_STORE_MAX_VALUE || (vallen > 0 && val == NULL))
        return vallen > QCN_STORE_MAX_VALUE ? QCN_ERR_TOO_LARGE : QCN_ERR_INVALID_ARG;
    total = keylen + vallen;
    if (__builtin_add_overflow(b->bytes, total, &newbytes) || newbytes > QCN_STORE_MAX_BATCH_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (b->n + 1 > QCN_STORE_MAX_BATCH_ENTRIES)
        return QCN_ERR_TOO_LARGE;
    /* Keep the load factor at most 1/2 (counting the entry about to come). */
    if ((b->n + 1) * 2 > b->nslots) {
        err = rehash(b, b->nslots ? b->nslots * 2 : 1024);
        if (err != QCN_OK)
            return err;
    }
    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 512;
        struct entry *ne = realloc(b->e, ncap * sizeof *ne);
        if (ne == NULL)
            return QCN_ERR_NOMEM;
        b->e = ne;
        b->cap = ncap;
    }
    data = malloc(total);
    if (data == NULL)
        return QCN_ERR_NOMEM;
    memcpy(data, key, keylen);
    if (vallen > 0)
        memcpy(data + keylen, val, vallen);
    h = key_hash(table, key, keylen);
    si = find_slot(b, table, key, keylen, h);
    if (b->slot[si] != 0) {
        e = &b->e[b->slot[si] - 1];
        b->bytes -= (size_t)e->keylen + e->vallen;
        free(e->data);
    } else {
        e = &b->e[b->n];
        b->slot[si] = (uint32_t)(b->n + 1);
        b->n++;
    }
    e->data = data;
    e->keylen = (uint32_t)keylen;
    e->vallen = (uint32_t)vallen;
    e->hash = h;
    e->table = (uint8_t)table;
    e->del = (uint8_t)del;
    b->bytes += total;
    return QCN_OK;
}

int qcn_store_batch_put(struct qcn_store_batch *b, int table, const void *key, size_t keylen,
                        const void *val, size_t vallen)
{
    return record(b, table, key, keylen, val, vallen, 0);
}

int qcn_store_batch_del(struct qcn_store_batch *b, int table, const void *key, size_t keylen)
{
    return record(b, table, key, keylen, NULL, 0, 1);
}

int qcn_store_get(struct qcn_store_snap *r, const struct qcn_store_batch *b, int table,
                  const void *key, size_t keylen, struct qcn_view *val)
{
    int err;
    *val = qcn_view_make(NULL, 0);
    err = check_key(table, key, keylen);
    if (err != QCN_OK)
        return err;
    if (b != NULL && b->n > 0) {
        uint32_t h = key_hash(table, key, keylen);
        size_t si = find_slot(b, table, key, keylen, h);
        if (b->slot[si] != 0) {
            const struct entry *e = &b->e[b->slot[si] - 1];
            if (e->del)
                return QCN_ERR_NOT_FOUND;
            *val = qcn_view_make(e->data + e->keylen, e->vallen);
            return QCN_OK;
        }
    }
    if (r == NULL)
        return QCN_ERR_NOT_FOUND;
    err = qcn_store_snap_get(r, table, key, keylen, val);
    if (err != QCN_OK)
        *val = qcn_view_make(NULL, 0);
    return err;
}

/* LMDB's default key order: memcmp over the common length, shorter first. */
static int entry_cmp(const void *pa, const void *pb)
{
    const struct entry *a = *(const struct entry *const *)pa;
    const struct entry *b = *(const struct entry *const *)pb;
    size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
    int c;
    if (a->table != b->table)
        return a->table < b->table ? -1 : 1;
    c = memcmp(a->data, b->data, n);
    if (c != 0)
        return c;
    return a->keylen < b->keylen ? -1 : a->keylen > b->keylen;
}

static int write_all(struct qcn_store_batch *b, struct entry **order)
{
    struct qcn_store *s = b->s;
    MDB_txn *txn = NULL;
    MDB_val k, v;
    size_t i;
    int rc, err;

    err = qcn_store_txn_begin(s, 0, &txn);
    if (err != QCN_OK)
        return err;
    for (i = 0; i < b->n; i++) {
        const struct entry *e = order[i];
        k.mv_data = e->data;
        k.mv_size = e->keylen;
        if (e->del) {
            rc = mdb_del(txn, s->dbi[e->table], &k, NULL);
            if (rc == MDB_NOTFOUND)
                rc = MDB_SUCCESS;
        } else {
            v.mv_data = e->data + e->keylen;
            v.mv_size = e->vallen;
            rc = mdb_put(txn, s->dbi[e->table], &k, &v, 0);
        }
        if (rc != MDB_SUCCESS) {
            mdb_txn_abort(txn);
            return rc;
        }
    }
    /* The commit syncs data pages, then the meta page: the point after
     * which the whole batch is durable. */
    return mdb_txn_commit(txn);
}

static uint64_t grown_size(uint64_t cur, uint64_t need)
{
    uint64_t step = cur, next;
    if (step < QCN_STORE_MIN_GROW_STEP)
        step = QCN_STORE_MIN_GROW_STEP;
    if (step > QCN_STORE_MAX_GROW_STEP)
        step = QCN_STORE_MAX_GROW_STEP;
    next = cur + step;
    while (next < need)
        next += step;
    return (next + 0xfffffu) & ~(uint64_t)0xfffffu; /* whole MiB */
}

static void map_usage(struct qcn_store *s, uint64_t *mapsize, uint64_t *used)
{
    MDB_envinfo info;
    MDB_stat st;
    *mapsize = 0;
    *used = 0;
    if (mdb_env_info(s->env, &info) == MDB_SUCCESS && mdb_env_stat(s->env, &st) == MDB_SUCCESS) {
        *mapsize = info.me_mapsize;
        *used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    }
}

int qcn_store_batch_commit(struct qcn_store_batch *b)
{
    struct qcn_store *s = b->s;
    struct entry **order = NULL;
    uint64_t mapsize, used, need;
    size_t i;
    int rc, err = QCN_OK, attempt;

    if (s->read_only)
        return QCN_ERR_INVALID_ARG;
    if (b->n == 0)
        return QCN_OK;
    order = malloc(b->n * sizeof *order);
    if (order == NULL)
        return QCN_ERR_NOMEM;
    for (i = 0; i < b->n; i++)
        order[i] = &b->e[i];
    qsort(order, b->n, sizeof *order, entry_cmp);

    pthread_mutex_lock(&s->commit_lock);
    /* Grow ahead of time when the batch plainly will not fit (copy-on-write
     * can touch about three times its payload in pages), without waiting
     * for snapshots; a MAP_FULL below still triggers a waiting grow. */
    map_usage(s, &mapsize, &used);
    need = used + 3 * (uint64_t)b->bytes + 64 * (uint64_t)b->n + ((uint64_t)1 << 20);
    if (mapsize > 0 && need > mapsize - mapsize / 8)
        (void)qcn_store_resize(s, grown_size(mapsize, need), 0);
    for (attempt = 0;; attempt++) {
        rc = write_all(b, order);
        if (rc != MDB_MAP_FULL || attempt >= 8)
            break;
        map_usage(s, &mapsize, &used);
        err = qcn_store_resize(s, grown_size(mapsize, mapsize + 3 * (uint64_t)b->bytes),
                               s->grow_wait_ms);
        if (err != QCN_OK) {
            QCN_LOG(QCN_LOG_ERROR, "store",
                    "map full and cannot grow now (a snapshot stayed open); batch not written");
            goto out;
        }
    }
    err = qcn_store_map_err(rc);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "store", "batch commit failed: %s", mdb_strerror(rc));
        goto out;
    }
    pthread_mutex_lock(&s->lock);
    s->commits++;
    pthread_mutex_unlock(&s->lock);
    qcn_store_batch_reset(b);
out:
    pthread_mutex_unlock(&s->commit_lock);
    free(order);
    return err;
}

/* ---- Typed records (docs/storage.md). */

static const char meta_head_key[] = "head";
static const char meta_genesis_key[] = "genesis";

int qcn_store_block_put(struct qcn_store_batch *b, uint64_t height,
                        const uint8_t hash[QCN_STORE_HASH_BYTES], struct qcn_view header,
                        struct qcn_view body, struct qcn_view receipts)
{
    uint8_t hk[8];
    int err;
    qcn_store_be64(hk, height);
    err =
        qcn_store_batch_put(b, QCN_TABLE_HEADERS, hash, QCN_STORE_HASH_BYTES, header.p, header.len);
    if (err == QCN_OK)
        err =
            qcn_store_batch_put(b, QCN_TABLE_BODIES, hash, QCN_STORE_HASH_BYTES, body.p, body.len);
    if (err == QCN_OK)
        err = qcn_store_batch_put(b, QCN_TABLE_RECEIPTS, hash, QCN_STORE_HASH_BYTES, receipts.p,
                                  receipts.len);
    if (err == QCN_OK)
        err = qcn_store_batch_put(b, QCN_TABLE_CANON, hk, sizeof hk, hash, QCN_STORE_HASH_BYTES);
    if (err == QCN_OK)
        err = qcn_store_batch_put(b, QCN_TABLE_BLOCKNUM, hash, QCN_STORE_HASH_BYTES, hk, sizeof hk);
    return err;
}

int qcn_store_txindex_put(struct qcn_store_batch *b, const uint8_t txhash[QCN_STORE_HASH_BYTES],
                          uint64_t height, uint32_t index)
{
    uint8_t v[12];
    qcn_store_be64(v, height);
    qcn_store_be32(v + 8, index);
    return qcn_store_batch_put(b, QCN_TABLE_TXINDEX, txhash, QCN_STORE_HASH_BYTES, v, sizeof v);
}

int qcn_store_head_put(struct qcn_store_batch *b, uint64_t height,
                       const uint8_t hash[QCN_STORE_HASH_BYTES])
{
    uint8_t v[8 + QCN_STORE_HASH_BYTES];
    qcn_store_be64(v, height);
    memcpy(v + 8, hash, QCN_STORE_HASH_BYTES);
    return qcn_store_batch_put(b, QCN_TABLE_META, meta_head_key, sizeof meta_head_key - 1, v,
                               sizeof v);
}

int qcn_store_genesis_put(struct qcn_store_batch *b, const uint8_t hash[QCN_STORE_HASH_BYTES])
{
    return qcn_store_batch_put(b, QCN_TABLE_META, meta_genesis_key, sizeof meta_genesis_key - 1,
                               hash, QCN_STORE_HASH_BYTES);
}

/* Gets a record that must be exactly n bytes long. */
static int get_sized(struct qcn_store_snap *r, const struct qcn_store_batch *b, int table,
                     const void *key, size_t keylen, size_t n, struct qcn_view *v)
{
    int err = qcn_store_get(r, b, table, key, keylen, v);
    if (err == QCN_OK && v->len != n) {
        QCN_LOG(QCN_LOG_ERROR, "store", "%s record of %zu bytes, expected %zu",
                qcn_store_table_name(table), v->len, n);
        err = QCN_ERR_STORE_CORRUPT;
    }
    return err;
}

int qcn_store_head_get(struct qcn_store_snap *r, const struct qcn_store_batch *b, uint64_t *height,
                       uint8_t hash[QCN_STORE_HASH_BYTES])
{
    struct qcn_view v;
    int err = get_sized(r, b, QCN_TABLE_META, meta_head_key, sizeof meta_head_key - 1,
                        8 + QCN_STORE_HASH_BYTES, &v);
    *height = 0;
    memset(hash, 0, QCN_STORE_HASH_BYTES);
    if (err != QCN_OK)
        return err;
    *height = qcn_load_be64(v.p);
    memcpy(hash, v.p + 8, QCN_STORE_HASH_BYTES);
    return QCN_OK;
}

int qcn_store_genesis_get(struct qcn_store_snap *r, const struct qcn_store_batch *b,
                          uint8_t hash[QCN_STORE_HASH_BYTES])
{
    struct qcn_view v;
    int err = get_sized(r, b, QCN_TABLE_META, meta_genesis_key, sizeof meta_genesis_key - 1,
                        QCN_STORE_HASH_BYTES, &v);
    memset(hash, 0, QCN_STORE_HASH_BYTES);
    if (err == QCN_OK)
        memcpy(hash, v.p, QCN_STORE_HASH_BYTES);
    return err;
}

int qcn_store_canon_get(struct qcn_store_snap *r, const struct qcn_store_batch *b, uint64_t height,
                        uint8_t hash[QCN_STORE_HASH_BYTES])
{
    struct qcn_view v;
    uint8_t hk[8];
    int err;
    qcn_store_be64(hk, height);
    err = get_sized(r, b, QCN_TABLE_CANON, hk, sizeof hk, QCN_STORE_HASH_BYTES, &v);
    memset(hash, 0, QCN_STORE_HASH_BYTES);
    if (err == QCN_OK)
        memcpy(hash, v.p, QCN_STORE_HASH_BYTES);
    return err;
}

int qcn_store_blocknum_get(struct qcn_store_snap *r, const struct qcn_store_batch *b,
                           const uint8_t hash[QCN_STORE_HASH_BYTES], uint64_t *height)
{
    struct qcn_view v;
    int err = get_sized(r, b, QCN_TABLE_BLOCKNUM, hash, QCN_STORE_HASH_BYTES, 8, &v);
    *height = err == QCN_OK ? qcn_load_be64(v.p) : 0;
    return err;
}

int qcn_store_txindex_get(struct qcn_store_snap *r, const struct qcn_store_batch *b,
                          const uint8_t txhash[QCN_STORE_HASH_BYTES], uint64_t *height,
                          uint32_t *index)
{
    struct qcn_view v;
    int err = get_sized(r, b, QCN_TABLE_TXINDEX, txhash, QCN_STORE_HASH_BYTES, 12, &v);
    *height = err == QCN_OK ? qcn_load_be64(v.p) : 0;
    *index = err == QCN_OK ? qcn_load_be32(v.p + 8) : 0;
    return err;
}

int qcn_store_trie_get(struct qcn_store_snap *r, const struct qcn_store_batch *b,
                       const uint8_t hash[QCN_STORE_HASH_BYTES], struct qcn_view *node)
{
    return qcn_store_get(r, b, QCN_TABLE_TRIE, hash, QCN_STORE_HASH_BYTES, node);
}

int qcn_store_trie_put(struct qcn_store_batch *b, const uint8_t hash[QCN_STORE_HASH_BYTES],
                       const uint8_t *node, size_t nodelen)
{
    return qcn_store_batch_put(b, QCN_TABLE_TRIE, hash, QCN_STORE_HASH_BYTES, node, nodelen);
}
