/* batch.c - pending writes, their overlay reads, and the one-transaction
 * commit with map growth; the typed chain records on top.
 *
 * A batch is an insertion-ordered array of entries plus an open-addressing
 * index (table, key) -> entry, so the state layer can read its own pending
 * writes while it executes a block. At commit the entries are sorted by
 * (table, key) in LMDB's key order, which turns random puts into a
 * left-to-right walk over each B-tree. */
#include "store/store_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "codec/rlp.h"
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
    if (table < 0 || table >= QCN_STORE_TABLES || key == NULL || keylen == 0 ||
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

/* LMDB's default key order (memcmp over the common length, shorter first),
 * tables first; ties keep the original order (the array is sorted by
 * pointer, and the pointers start out in write order), so a later write to
 * the same key is applied later and wins. */
static int write_cmp(const void *pa, const void *pb)
{
    const struct qcn_store_write *a = *(const struct qcn_store_write *const *)pa;
    const struct qcn_store_write *b = *(const struct qcn_store_write *const *)pb;
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c;
    if (a->table != b->table)
        return a->table < b->table ? -1 : 1;
    c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    if (a->klen != b->klen)
        return a->klen < b->klen ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Sorting a block's ~40,000 writes with qsort and write_cmp took ~8 ms of
 * the commit. The writes are put in table order first (a stable counting
 * sort), then each table's run is sorted by a 64-bit key: the eight key
 * bytes that follow the prefix all keys of the run share (trie keys share
 * their eight-byte height), zero-padded, with a stable LSD radix sort that
 * skips bytes all keys agree on. That key orders as write_cmp does within
 * the run (the shared prefix compares equal; zero padding puts a key that
 * has ended before every key that goes on, as write_cmp puts the shorter
 * first); only runs of equal 64-bit keys are left, and insertion sort with
 * write_cmp finishes them (they keep the original order of equal keys, as
 * every pass was stable). */
struct sort_item {
    uint64_t k;
    struct qcn_store_write *w;
};

static uint64_t key_bits(const struct qcn_store_write *w, size_t off)
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < 8; i++)
        v = v << 8 | (off + i < w->klen ? w->key[off + i] : 0);
    return v;
}

static void radix_run(struct sort_item *a, struct sort_item *tmp, size_t n)
{
    size_t count[256], i, pass;
    for (pass = 0; pass < 8; pass++) {
        unsigned shift = (unsigned)(8 * pass);
        size_t sum = 0;
        memset(count, 0, sizeof count);
        for (i = 0; i < n; i++)
            count[(a[i].k >> shift) & 0xff]++;
        if (count[(a[0].k >> shift) & 0xff] == n)
            continue; /* every key has this byte: nothing to order */
        for (i = 0; i < 256; i++) {
            size_t c = count[i];
            count[i] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++)
            tmp[count[(a[i].k >> shift) & 0xff]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
}

static int sort_writes(struct qcn_store_write **order, size_t n)
{
    struct sort_item *it = NULL, *tmp = NULL;
    struct qcn_store_write **by_table = NULL;
    size_t start[QCN_STORE_TABLES + 1], i, j, t;
    int err = QCN_ERR_NOMEM;

    if (n < 2)
        return QCN_OK;
    it = malloc(n * sizeof *it);
    tmp = malloc(n * sizeof *tmp);
    by_table = malloc(n * sizeof *by_table);
    if (it == NULL || tmp == NULL || by_table == NULL)
        goto out;
    memset(start, 0, sizeof start);
    for (i = 0; i < n; i++)
        start[order[i]->table + 1]++;
    for (t = 0; t < QCN_STORE_TABLES; t++)
        start[t + 1] += start[t];
    for (i = 0; i < n; i++)
        by_table[start[order[i]->table]++] = order[i];
    /* start[t] is now the end of table t's run. */
    for (t = 0, i = 0; t < QCN_STORE_TABLES; t++) {
        size_t lo = i, hi = start[t], off = SIZE_MAX;
        if (hi - lo < 2) {
            for (; i < hi; i++)
                order[i] = by_table[i];
            continue;
        }
        /* The prefix every key of the run shares with its first key. */
        for (j = lo + 1; j < hi && off > 0; j++) {
            const struct qcn_store_write *a = by_table[lo], *b = by_table[j];
            size_t m = a->klen < b->klen ? a->klen : b->klen, c = 0;
            if (m > off)
                m = off;
            while (c < m && a->key[c] == b->key[c])
                c++;
            off = c;
        }
        for (j = lo; j < hi; j++) {
            it[j - lo].k = key_bits(by_table[j], off);
            it[j - lo].w = by_table[j];
        }
        radix_run(it, tmp, hi - lo);
        for (j = 0; j < hi - lo; j++) {
            /* Insertion into the sorted prefix: moves only within a run of
             * equal 64-bit keys. */
            size_t k = j;
            struct sort_item x = it[j];
            while (k > 0 && it[k - 1].k == x.k) {
                const struct qcn_store_write *pa = it[k - 1].w, *pb = x.w;
                if (write_cmp(&pa, &pb) <= 0)
                    break;
                it[k] = it[k - 1];
                k--;
            }
            it[k] = x;
        }
        for (j = 0; j < hi - lo; j++)
            order[lo + j] = it[j].w;
        i = hi;
    }
    err = QCN_OK;
out:
    free(it);
    free(tmp);
    free(by_table);
    return err;
}

static int same_key(const struct qcn_store_write *a, const struct qcn_store_write *b)
{
    return a->table == b->table && a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0;
}

/* 1 if w's key sorts after last (LMDB's default order). */
static int key_after(const struct qcn_store_write *w, const uint8_t *last, size_t last_len)
{
    size_t n = w->klen < last_len ? w->klen : last_len;
    int c = memcmp(w->key, last, n);
    return c > 0 || (c == 0 && w->klen > last_len);
}

/* The sorted writes go in through one cursor per table: LMDB's cursor put
 * first looks for the key on the page the cursor is on, so a left-to-right
 * run of keys mostly skips the descent from the root. Keys past the table's
 * last key at the start of the run (a block's trie nodes, filed under its
 * height, are all such) are appended (MDB_APPEND): no search at all, and a
 * full page is split at its end instead of its middle, so the table's tail
 * is written in full pages. Each write replaces the whole record, so only
 * the last write of a key (the last of its equal run) is applied. */
static int write_all(struct qcn_store *s, struct qcn_store_write *const *order, size_t n)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint8_t last[QCN_STORE_MAX_KEY];
    size_t i, last_len = 0;
    int rc, err, table = -1, appending = 0;

    err = qcn_store_txn_begin(s, 0, &txn);
    if (err != QCN_OK)
        return err == QCN_ERR_STORE_FULL ? MDB_MAP_FULL : MDB_PANIC;
    for (i = 0; i < n; i++) {
        const struct qcn_store_write *w = order[i];
        if (i + 1 < n && same_key(w, order[i + 1]))
            continue;
        if (w->table != table) {
            if (cur != NULL)
                mdb_cursor_close(cur);
            cur = NULL;
            rc = mdb_cursor_open(txn, s->dbi[w->table], &cur);
            if (rc != MDB_SUCCESS)
                goto fail;
            table = w->table;
            rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
            if (rc == MDB_NOTFOUND) {
                appending = 1;
            } else if (rc != MDB_SUCCESS) {
                goto fail;
            } else if (k.mv_size > sizeof last) {
                rc = MDB_CORRUPTED;
                goto fail;
            } else {
                appending = 0;
                memcpy(last, k.mv_data, k.mv_size);
                last_len = k.mv_size;
            }
        }
        if (!appending && key_after(w, last, last_len))
            appending = 1;
        k.mv_data = (void *)w->key;
        k.mv_size = w->klen;
        if (w->del) {
            if (appending)
                continue; /* past the table's last key: nothing to delete */
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
            if (rc == MDB_SUCCESS)
                rc = mdb_cursor_del(cur, 0);
            else if (rc == MDB_NOTFOUND)
                rc = MDB_SUCCESS;
        } else {
            v.mv_data = (void *)w->val;
            v.mv_size = w->vlen;
            rc = mdb_cursor_put(cur, &k, &v, appending ? MDB_APPEND : 0);
            if (rc == MDB_KEYEXIST && appending) {
                /* Not past the last key after all (cannot happen with sorted
                 * input; LMDB checks, so fall back rather than trust it). */
                appending = 0;
                rc = mdb_cursor_put(cur, &k, &v, 0);
            }
        }
        if (rc != MDB_SUCCESS)
            goto fail;
    }
    if (cur != NULL)
        mdb_cursor_close(cur);
    /* The commit syncs the data pages, then the meta page: the point after
     * which the whole list is durable, and before which none of it is. */
    return mdb_txn_commit(txn);
fail:
    if (cur != NULL)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc;
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

/* Sorts, then writes in one transaction, growing the map and replaying the
 * whole list when it is full. */
static int commit_list(struct qcn_store *s, struct qcn_store_write **order, size_t n, size_t bytes)
{
    uint64_t mapsize, used, need;
    int rc, err = QCN_OK, attempt;

    if (sort_writes(order, n) != QCN_OK)
        qsort(order, n, sizeof *order, write_cmp); /* no memory for the fast sort */
#ifndef NDEBUG
    /* Debug builds (the sanitizer tests) check the fast sort against write_cmp. */
    for (size_t i = 1; i < n; i++)
        assert(write_cmp(&order[i - 1], &order[i]) < 0);
#endif
    pthread_mutex_lock(&s->commit_lock);
    /* Grow ahead of time when the list plainly will not fit (copy-on-write
     * can touch about three times its payload in pages), without waiting
     * for snapshots; a MAP_FULL below still triggers a waiting grow. */
    map_usage(s, &mapsize, &used);
    need = used + 3 * (uint64_t)bytes + 64 * (uint64_t)n + ((uint64_t)1 << 20);
    if (mapsize > 0 && need > mapsize - mapsize / 8)
        (void)qcn_store_resize(s, grown_size(mapsize, need), 0);
    for (attempt = 0;; attempt++) {
        rc = write_all(s, order, n);
        if (rc != MDB_MAP_FULL || attempt >= 8)
            break;
        map_usage(s, &mapsize, &used);
        err = qcn_store_resize(s, grown_size(mapsize, mapsize + 3 * (uint64_t)bytes),
                               s->grow_wait_ms);
        if (err != QCN_OK) {
            QCN_LOG(QCN_LOG_ERROR, "store",
                    "map full and cannot grow now (a snapshot stayed open); nothing written");
            goto out;
        }
    }
    err = rc == MDB_PANIC ? QCN_ERR_STORE : qcn_store_map_err(rc);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "store", "commit failed: %s", mdb_strerror(rc));
        goto out;
    }
    pthread_mutex_lock(&s->lock);
    s->commits++;
    pthread_mutex_unlock(&s->lock);
out:
    pthread_mutex_unlock(&s->commit_lock);
    return err;
}

int qcn_store_batch_commit(struct qcn_store_batch *b)
{
    struct qcn_store_write *w = NULL, **order = NULL;
    size_t i;
    int err;

    if (b->s->read_only)
        return QCN_ERR_INVALID_ARG;
    if (b->n == 0)
        return QCN_OK;
    w = malloc(b->n * sizeof *w);
    order = malloc(b->n * sizeof *order);
    if (w == NULL || order == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < b->n; i++) {
        const struct entry *e = &b->e[i];
        w[i].table = e->table;
        w[i].del = e->del;
        w[i].klen = e->keylen;
        w[i].vlen = e->vallen;
        w[i].key = e->data;
        w[i].val = e->data + e->keylen;
        order[i] = &w[i];
    }
    err = commit_list(b->s, order, b->n, b->bytes);
    if (err == QCN_OK)
        qcn_store_batch_reset(b);
out:
    free(w);
    free(order);
    return err;
}

int qcn_store_write_commit(struct qcn_store *s, struct qcn_store_write *w, size_t n)
{
    struct qcn_store_write **order;
    size_t i, bytes = 0;
    int err;

    if (s->read_only)
        return QCN_ERR_INVALID_ARG;
    for (i = 0; i < n; i++) {
        if (w[i].table >= QCN_STORE_TABLES || w[i].klen == 0 || w[i].klen > QCN_STORE_MAX_KEY ||
            w[i].key == NULL || w[i].vlen > QCN_STORE_MAX_VALUE ||
            (w[i].vlen > 0 && w[i].val == NULL) ||
            __builtin_add_overflow(bytes, (size_t)w[i].klen + w[i].vlen, &bytes))
            return QCN_ERR_INVALID_ARG;
    }
    if (n == 0)
        return QCN_OK;
    order = malloc(n * sizeof *order);
    if (order == NULL)
        return QCN_ERR_NOMEM;
    for (i = 0; i < n; i++)
        order[i] = &w[i];
    err = commit_list(s, order, n, bytes);
    free(order);
    return err;
}

/* ---- Typed readers (docs/storage.md). */

static const char meta_head_key[] = "head";

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

int qcn_store_header_height(uint64_t *height, struct qcn_view header)
{
    struct qcn_rlp_item list, it;
    struct qcn_rlp_iter iter;
    int err;

    *height = 0;
    err = qcn_rlp_decode(&list, header);
    if (err != QCN_OK || !list.is_list)
        return QCN_ERR_STORE_CORRUPT;
    qcn_rlp_iter_init(&iter, &list);
    if (qcn_rlp_iter_next(&iter, &it) != QCN_OK || qcn_rlp_iter_next(&iter, &it) != QCN_OK ||
        qcn_rlp_get_u64(height, &it) != QCN_OK) {
        *height = 0;
        return QCN_ERR_STORE_CORRUPT;
    }
    return QCN_OK;
}

int qcn_store_head_get(struct qcn_store_snap *r, const struct qcn_store_batch *b, uint64_t *height,
                       uint8_t hash[QCN_STORE_HASH_BYTES])
{
    struct qcn_view v;
    int err = get_sized(r, b, QCN_STORE_META, meta_head_key, sizeof meta_head_key - 1,
                        QCN_STORE_HASH_BYTES, &v);
    *height = 0;
    memset(hash, 0, QCN_STORE_HASH_BYTES);
    if (err != QCN_OK)
        return err;
    memcpy(hash, v.p, QCN_STORE_HASH_BYTES);
    err = qcn_store_get(r, b, QCN_STORE_HEADER, hash, QCN_STORE_HASH_BYTES, &v);
    if (err == QCN_ERR_NOT_FOUND) {
        QCN_LOG(QCN_LOG_ERROR, "store", "head points at a block whose header is missing");
        err = QCN_ERR_STORE_CORRUPT;
    }
    if (err == QCN_OK)
        err = qcn_store_header_height(height, v);
    if (err != QCN_OK)
        memset(hash, 0, QCN_STORE_HASH_BYTES);
    return err;
}

int qcn_store_canon_get(struct qcn_store_snap *r, const struct qcn_store_batch *b, uint64_t height,
                        uint8_t hash[QCN_STORE_HASH_BYTES])
{
    struct qcn_view v;
    uint8_t hk[8];
    int err;
    qcn_store_be64(hk, height);
    err = get_sized(r, b, QCN_STORE_CANON, hk, sizeof hk, QCN_STORE_HASH_BYTES, &v);
    memset(hash, 0, QCN_STORE_HASH_BYTES);
    if (err == QCN_OK)
        memcpy(hash, v.p, QCN_STORE_HASH_BYTES);
    return err;
}

int qcn_store_txindex_get(struct qcn_store_snap *r, const struct qcn_store_batch *b,
                          const uint8_t txhash[QCN_STORE_HASH_BYTES],
                          uint8_t block_hash[QCN_STORE_HASH_BYTES], uint32_t *index)
{
    struct qcn_view v;
    int err = get_sized(r, b, QCN_STORE_TXINDEX, txhash, QCN_STORE_HASH_BYTES,
                        QCN_STORE_HASH_BYTES + 4, &v);
    memset(block_hash, 0, QCN_STORE_HASH_BYTES);
    *index = 0;
    if (err != QCN_OK)
        return err;
    memcpy(block_hash, v.p, QCN_STORE_HASH_BYTES);
    *index = qcn_load_be32(v.p + QCN_STORE_HASH_BYTES);
    return QCN_OK;
}

void qcn_store_trie_key(uint8_t key[QCN_STORE_TRIE_KEY_BYTES], uint64_t gen,
                        const uint8_t hash[QCN_STORE_HASH_BYTES])
{
    qcn_store_be64(key, gen);
    memcpy(key + 8, hash, QCN_STORE_HASH_BYTES);
}

int qcn_store_trie_get(struct qcn_store_snap *r, const struct qcn_store_batch *b, uint64_t *gen,
                       const uint8_t hash[QCN_STORE_HASH_BYTES], struct qcn_view *rec)
{
    uint8_t key[QCN_STORE_TRIE_KEY_BYTES];
    struct qcn_view v;
    int err;

    *rec = qcn_view_make(NULL, 0);
    if (*gen == QCN_STORE_TRIE_ANY) {
        err = get_sized(r, b, QCN_STORE_TRIEROOT, hash, QCN_STORE_HASH_BYTES, 8, &v);
        if (err != QCN_OK)
            return err;
        *gen = qcn_load_be64(v.p);
    }
    qcn_store_trie_key(key, *gen, hash);
    return qcn_store_get(r, b, QCN_STORE_TRIE, key, sizeof key, rec);
}

int qcn_store_trie_put(struct qcn_store_batch *b, uint64_t gen,
                       const uint8_t hash[QCN_STORE_HASH_BYTES], const uint8_t *rec, size_t reclen,
                       int is_root)
{
    uint8_t key[QCN_STORE_TRIE_KEY_BYTES];
    int err;

    qcn_store_trie_key(key, gen, hash);
    err = qcn_store_batch_put(b, QCN_STORE_TRIE, key, sizeof key, rec, reclen);
    if (err == QCN_OK && is_root)
        err = qcn_store_batch_put(b, QCN_STORE_TRIEROOT, hash, QCN_STORE_HASH_BYTES, key, 8);
    return err;
}

int qcn_store_trie_split(struct qcn_view rec, struct qcn_view *node, const uint8_t **locs,
                         size_t *nlocs)
{
    size_t k;
    *node = qcn_view_make(NULL, 0);
    *locs = NULL;
    *nlocs = 0;
    if (rec.len < 1 || rec.p[0] > 16 || rec.len < 1 + 8 * (size_t)rec.p[0])
        return QCN_ERR_STORE_CORRUPT;
    k = rec.p[0];
    *locs = rec.p + 1;
    *nlocs = k;
    *node = qcn_view_make(rec.p + 1 + 8 * k, rec.len - 1 - 8 * k);
    return QCN_OK;
}

void qcn_store_rd_init(struct qcn_store_rd *rd, struct qcn_store *s)
{
    memset(rd, 0, sizeof *rd);
    rd->s = s;
}

int qcn_store_rd_push(struct qcn_store_rd *rd, const struct qcn_store_overlay *o)
{
    if (rd->nlayers >= QCN_STORE_RD_MAX_LAYERS)
        return QCN_ERR_TOO_LARGE;
    rd->layer[rd->nlayers++] = o;
    return QCN_OK;
}

void qcn_store_rd_pop(struct qcn_store_rd *rd)
{
    size_t i;
    if (rd->nlayers == 0)
        return;
    for (i = 1; i < rd->nlayers; i++)
        rd->layer[i - 1] = rd->layer[i];
    rd->nlayers--;
    qcn_store_rd_release(rd);
}

/* ---- Overlays: an open-addressing index over external writes. */

struct ov_entry {
    const uint8_t *key, *val;
    uint32_t klen, vlen, hash;
    uint8_t table, del;
};

struct qcn_store_overlay {
    struct ov_entry *e;
    size_t n;
    uint32_t *slot; /* entry index + 1 */
    size_t nslots;
};

static size_t ov_find(const struct qcn_store_overlay *o, int table, const uint8_t *k, size_t n,
                      uint32_t h)
{
    size_t mask = o->nslots - 1, i = h & mask;
    for (;;) {
        uint32_t s = o->slot[i];
        const struct ov_entry *e;
        if (s == 0)
            return i;
        e = &o->e[s - 1];
        if (e->hash == h && e->table == table && e->klen == n && memcmp(e->key, k, n) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

int qcn_store_overlay_new(struct qcn_store_overlay **out, const struct qcn_store_write *w, size_t n)
{
    struct qcn_store_overlay *o;
    size_t i, nslots = 16;

    *out = NULL;
    while (nslots < 2 * n + 2)
        nslots *= 2;
    o = calloc(1, sizeof *o);
    if (o == NULL)
        return QCN_ERR_NOMEM;
    o->e = calloc(n ? n : 1, sizeof *o->e);
    o->slot = calloc(nslots, sizeof *o->slot);
    o->nslots = nslots;
    if (o->e == NULL || o->slot == NULL) {
        qcn_store_overlay_free(o);
        return QCN_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
        uint32_t h;
        size_t si;
        struct ov_entry *e;
        if (check_key(w[i].table, w[i].key, w[i].klen) != QCN_OK) {
            qcn_store_overlay_free(o);
            return QCN_ERR_INVALID_ARG;
        }
        h = key_hash(w[i].table, w[i].key, w[i].klen);
        si = ov_find(o, w[i].table, w[i].key, w[i].klen, h);
        if (o->slot[si] != 0) {
            e = &o->e[o->slot[si] - 1]; /* a later write replaces it */
        } else {
            e = &o->e[o->n];
            o->slot[si] = (uint32_t)(o->n + 1);
            o->n++;
        }
        e->key = w[i].key;
        e->klen = w[i].klen;
        e->val = w[i].val;
        e->vlen = w[i].vlen;
        e->hash = h;
        e->table = w[i].table;
        e->del = w[i].del;
    }
    *out = o;
    return QCN_OK;
}

void qcn_store_overlay_free(struct qcn_store_overlay *o)
{
    if (o == NULL)
        return;
    free(o->e);
    free(o->slot);
    free(o);
}

int qcn_store_overlay_get(const struct qcn_store_overlay *o, int table, const void *key,
                          size_t keylen, struct qcn_view *val, int *deleted)
{
    uint32_t h;
    size_t si;
    const struct ov_entry *e;

    *deleted = 0;
    *val = qcn_view_make(NULL, 0);
    if (check_key(table, key, keylen) != QCN_OK || o->n == 0)
        return 0;
    h = key_hash(table, key, keylen);
    si = ov_find(o, table, key, keylen, h);
    if (o->slot[si] == 0)
        return 0;
    e = &o->e[o->slot[si] - 1];
    if (e->del)
        *deleted = 1;
    else
        *val = qcn_view_make(e->val, e->vlen);
    return 1;
}

int qcn_store_rd_get(void *ctx, int table, const uint8_t *key, size_t klen, struct qcn_buf *out)
{
    struct qcn_store_rd *rd = ctx;
    struct qcn_view v;
    size_t i;
    int err;

    qcn_buf_reset(out);
    for (i = rd->nlayers; i > 0; i--) {
        int deleted;
        if (qcn_store_overlay_get(rd->layer[i - 1], table, key, klen, &v, &deleted)) {
            if (deleted)
                return QCN_ERR_NOT_FOUND;
            return qcn_buf_append(out, v.p, v.len);
        }
    }
    if (rd->snap == NULL) {
        err = qcn_store_snap_begin(rd->s, &rd->snap);
        if (err != QCN_OK)
            return err;
    }
    err = qcn_store_get(rd->snap, NULL, table, key, klen, &v);
    if (err == QCN_OK)
        err = qcn_buf_append(out, v.p, v.len);
    if (rd->transient)
        qcn_store_rd_release(rd);
    return err;
}

void qcn_store_rd_release(struct qcn_store_rd *rd)
{
    qcn_store_snap_end(rd->snap);
    rd->snap = NULL;
}
