/* statedb_batch.c - write sets: an ordered array of writes whose bytes live
 * in a chunked arena (one block's state is thousands of small rows; one
 * malloc each would dominate the commit). */
#include "state/statedb_batch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_BYTES (256u * 1024u)
/* Chunks of at least this size (a block's body: 3-5 KB per transaction)
 * are mapped with their pages populated at once, rather than faulted in one
 * 4 KiB page at a time while the body is copied in. */
#define POPULATE_BYTES ((size_t)4 << 20)

/* Chunks a pool handles: at least this large, mapped in whole multiples of
 * it (so that bodies of slightly different sizes fit the same chunk). */
#define POOL_MIN_BYTES ((size_t)1 << 20)

struct qcn_writeset_chunk {
    struct qcn_writeset_chunk *next;
    size_t used, cap;
    size_t mapped; /* bytes mmap'ed (0: malloc'ed) */
    uint8_t data[];
};

struct qcn_writeset_pool {
    pthread_mutex_t lock;
    size_t n;
    struct qcn_writeset_chunk *c[QCN_WRITESET_POOL_CHUNKS];
};

int qcn_writeset_pool_new(struct qcn_writeset_pool **out)
{
    struct qcn_writeset_pool *p = calloc(1, sizeof *p);
    *out = NULL;
    if (p == NULL)
        return QCN_ERR_NOMEM;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return QCN_ERR_NOMEM;
    }
    *out = p;
    return QCN_OK;
}

void qcn_writeset_pool_free(struct qcn_writeset_pool *p)
{
    size_t i;
    if (p == NULL)
        return;
    for (i = 0; i < p->n; i++)
        (void)munmap(p->c[i], p->c[i]->mapped);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* The smallest pooled chunk of at least bytes, taken out of the pool; NULL
 * if none fits. */
static struct qcn_writeset_chunk *pool_take(struct qcn_writeset_pool *p, size_t bytes)
{
    struct qcn_writeset_chunk *c = NULL;
    size_t i, best = SIZE_MAX;
    pthread_mutex_lock(&p->lock);
    for (i = 0; i < p->n; i++)
        if (p->c[i]->mapped >= bytes && (best == SIZE_MAX || p->c[i]->mapped < p->c[best]->mapped))
            best = i;
    if (best != SIZE_MAX) {
        c = p->c[best];
        p->c[best] = p->c[--p->n];
    }
    pthread_mutex_unlock(&p->lock);
    return c;
}

/* Keeps c for later, or unmaps it (or the smallest pooled chunk, if c is
 * larger) when the pool is full. */
static void pool_give(struct qcn_writeset_pool *p, struct qcn_writeset_chunk *c)
{
    struct qcn_writeset_chunk *drop = c;
    size_t i, small = 0;
    pthread_mutex_lock(&p->lock);
    if (p->n < QCN_WRITESET_POOL_CHUNKS) {
        p->c[p->n++] = c;
        drop = NULL;
    } else {
        for (i = 1; i < p->n; i++)
            if (p->c[i]->mapped < p->c[small]->mapped)
                small = i;
        if (p->c[small]->mapped < c->mapped) {
            drop = p->c[small];
            p->c[small] = c;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (drop != NULL)
        (void)munmap(drop, drop->mapped);
}

void qcn_writeset_init(struct qcn_writeset *ws)
{
    memset(ws, 0, sizeof *ws);
}

void qcn_writeset_set_pool(struct qcn_writeset *ws, struct qcn_writeset_pool *p)
{
    ws->pool = p;
}

void qcn_writeset_clear(struct qcn_writeset *ws)
{
    struct qcn_writeset_chunk *c, *next;
    struct qcn_writeset_pool *pool = ws->pool;
    for (c = ws->chunks; c != NULL; c = next) {
        next = c->next;
        if (c->mapped && pool != NULL && c->mapped >= POOL_MIN_BYTES)
            pool_give(pool, c);
        else if (c->mapped)
            (void)munmap(c, c->mapped);
        else
            free(c);
    }
    free(ws->w);
    memset(ws, 0, sizeof *ws);
    ws->pool = pool;
}

/* A chunk whose data holds at least cap bytes, its cap set to what it holds. */
static struct qcn_writeset_chunk *chunk_alloc(struct qcn_writeset *ws, size_t cap)
{
    struct qcn_writeset_chunk *c;
    size_t bytes = sizeof *c + cap;
    int pooled = ws->pool != NULL && bytes >= POOL_MIN_BYTES;
    void *p;

    if (pooled) {
        c = pool_take(ws->pool, bytes);
        if (c != NULL) {
            c->cap = c->mapped - sizeof *c;
            return c;
        }
        bytes = (bytes + POOL_MIN_BYTES - 1) / POOL_MIN_BYTES * POOL_MIN_BYTES;
    }
    if (pooled || bytes >= POPULATE_BYTES) {
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | (bytes >= POPULATE_BYTES ? MAP_POPULATE : 0), -1, 0);
        if (p != MAP_FAILED) {
            c = p;
            c->mapped = bytes;
            c->cap = bytes - sizeof *c;
            return c;
        }
        bytes = sizeof *c + cap;
    }
    c = malloc(bytes);
    if (c != NULL) {
        c->mapped = 0;
        c->cap = cap;
    }
    return c;
}

static uint8_t *arena(struct qcn_writeset *ws, size_t n)
{
    struct qcn_writeset_chunk *c = ws->chunks;
    size_t cap;
    if (c == NULL || c->cap - c->used < n) {
        cap = n > CHUNK_BYTES ? n : CHUNK_BYTES;
        c = chunk_alloc(ws, cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->next = ws->chunks;
        ws->chunks = c;
    }
    c->used += n;
    return c->data + c->used - n;
}

static int add(struct qcn_writeset *ws, int table, int del, const uint8_t *key, size_t klen,
               const uint8_t *val, size_t vlen, uint8_t **where)
{
    struct qcn_write *w;
    uint8_t *p;
    size_t total;

    if (table < 0 || table >= QCN_TABLE_COUNT || klen == 0 || klen > UINT32_MAX ||
        vlen > UINT32_MAX)
        return QCN_ERR_INVALID_ARG;
    if (__builtin_add_overflow(klen, vlen, &total))
        return QCN_ERR_OVERFLOW;
    if (ws->n == ws->cap) {
        size_t ncap = ws->cap ? ws->cap * 2 : 1024;
        struct qcn_write *nw = realloc(ws->w, ncap * sizeof *nw);
        if (nw == NULL)
            return QCN_ERR_NOMEM;
        ws->w = nw;
        ws->cap = ncap;
    }
    p = arena(ws, total);
    if (p == NULL)
        return QCN_ERR_NOMEM;
    memcpy(p, key, klen);
    if (vlen && val != NULL)
        memcpy(p + klen, val, vlen);
    if (where != NULL)
        *where = p + klen;
    w = &ws->w[ws->n++];
    w->table = (uint8_t)table;
    w->del = (uint8_t)del;
    w->klen = (uint32_t)klen;
    w->vlen = (uint32_t)vlen;
    w->key = p;
    w->val = p + klen;
    ws->bytes += total;
    return QCN_OK;
}

int qcn_writeset_put(struct qcn_writeset *ws, int table, const uint8_t *key, size_t klen,
                     const uint8_t *val, size_t vlen)
{
    return add(ws, table, 0, key, klen, val, vlen, NULL);
}

int qcn_writeset_put_alloc(struct qcn_writeset *ws, int table, const uint8_t *key, size_t klen,
                           size_t vlen, uint8_t **val)
{
    *val = NULL;
    return add(ws, table, 0, key, klen, NULL, vlen, val);
}

int qcn_writeset_del(struct qcn_writeset *ws, int table, const uint8_t *key, size_t klen)
{
    return add(ws, table, 1, key, klen, NULL, 0, NULL);
}
