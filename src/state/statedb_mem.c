/* statedb_mem.c - in-memory tables behind the qcn_state_reader interface.
 * Keys vary in length per table, so each table maps Keccak-256(key) to a row
 * holding the real key and value. */
#include "state/statedb_mem.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "state/statedb_hmap.h"

struct row {
    size_t klen, vlen;
    uint8_t *key, *val;
};

struct qcn_memstore {
    struct qcn_hmap t[QCN_TABLE_COUNT];
    struct qcn_state_reader rd;
};

static int mem_get(void *ctx, int table, const uint8_t *key, size_t klen, struct qcn_buf *out)
{
    struct qcn_memstore *ms = ctx;
    uint8_t h[32];
    struct row *r;
    qcn_buf_reset(out);
    if (table < 0 || table >= QCN_TABLE_COUNT)
        return QCN_ERR_INVALID_ARG;
    qcn_keccak256(h, key, klen);
    r = qcn_hmap_get(&ms->t[table], h);
    if (r == NULL)
        return QCN_ERR_NOT_FOUND;
    return qcn_buf_append(out, r->val, r->vlen);
}

int qcn_memstore_new(struct qcn_memstore **out)
{
    struct qcn_memstore *ms = calloc(1, sizeof *ms);
    int i, err;
    *out = NULL;
    if (ms == NULL)
        return QCN_ERR_NOMEM;
    for (i = 0; i < QCN_TABLE_COUNT; i++) {
        if ((err = qcn_hmap_init(&ms->t[i], 32)) != QCN_OK) {
            qcn_memstore_free(ms);
            return err;
        }
    }
    ms->rd.ctx = ms;
    ms->rd.get = mem_get;
    *out = ms;
    return QCN_OK;
}

static int free_row(void *ctx, const uint8_t *key, void *val)
{
    struct row *r = val;
    (void)ctx;
    (void)key;
    free(r->key);
    free(r);
    return 0;
}

void qcn_memstore_free(struct qcn_memstore *ms)
{
    int i;
    if (ms == NULL)
        return;
    for (i = 0; i < QCN_TABLE_COUNT; i++) {
        if (ms->t[i].b != NULL) {
            qcn_hmap_foreach(&ms->t[i], free_row, NULL);
            qcn_hmap_clear(&ms->t[i]);
        }
    }
    free(ms);
}

const struct qcn_state_reader *qcn_memstore_reader(struct qcn_memstore *ms)
{
    return &ms->rd;
}

int qcn_memstore_apply(struct qcn_memstore *ms, const struct qcn_writeset *ws)
{
    size_t i;
    uint8_t h[32];
    struct row *r, *old;
    int err;

    for (i = 0; i < ws->n; i++) {
        const struct qcn_write *w = &ws->w[i];
        qcn_keccak256(h, w->key, w->klen);
        old = qcn_hmap_del(&ms->t[w->table], h);
        if (old != NULL)
            free_row(NULL, NULL, old);
        if (w->del)
            continue;
        r = malloc(sizeof *r);
        if (r == NULL)
            return QCN_ERR_NOMEM;
        r->key = malloc(w->klen + w->vlen + 1);
        if (r->key == NULL) {
            free(r);
            return QCN_ERR_NOMEM;
        }
        memcpy(r->key, w->key, w->klen);
        if (w->vlen)
            memcpy(r->key + w->klen, w->val, w->vlen);
        r->val = r->key + w->klen;
        r->klen = w->klen;
        r->vlen = w->vlen;
        if ((err = qcn_hmap_put(&ms->t[w->table], h, r)) != QCN_OK) {
            free_row(NULL, NULL, r);
            return err;
        }
    }
    return QCN_OK;
}

struct visit {
    int (*fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
    void *ctx;
};

static int visit_row(void *ctx, const uint8_t *key, void *val)
{
    struct visit *v = ctx;
    struct row *r = val;
    (void)key;
    return v->fn(v->ctx, r->key, r->klen, r->val, r->vlen);
}

void qcn_memstore_foreach(struct qcn_memstore *ms, int table,
                          int (*fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                                    size_t vlen),
                          void *ctx)
{
    struct visit v = {fn, ctx};
    if (table < 0 || table >= QCN_TABLE_COUNT)
        return;
    qcn_hmap_foreach(&ms->t[table], visit_row, &v);
}

size_t qcn_memstore_count(struct qcn_memstore *ms, int table)
{
    if (table < 0 || table >= QCN_TABLE_COUNT)
        return 0;
    return ms->t[table].n;
}
