/* statedb_hmap.c - chained hash map with SipHash-2-4 (libsodium). */
#include "state/statedb_hmap.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/rng.h"

#define INITIAL_BUCKETS 64u

static size_t slot(const struct qcn_hmap *m, const uint8_t *key)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash(h, key, m->keylen, m->sipkey);
    memcpy(&v, h, sizeof v); /* byte order irrelevant: a bucket index */
    return (size_t)v & (m->nbuckets - 1);
}

int qcn_hmap_init(struct qcn_hmap *m, size_t keylen)
{
    memset(m, 0, sizeof *m);
    if (keylen == 0 || keylen > QCN_HMAP_MAX_KEY)
        return QCN_ERR_INVALID_ARG;
    m->b = calloc(INITIAL_BUCKETS, sizeof *m->b);
    if (m->b == NULL)
        return QCN_ERR_NOMEM;
    m->nbuckets = INITIAL_BUCKETS;
    m->keylen = keylen;
    qcn_rng_bytes(m->sipkey, sizeof m->sipkey);
    return QCN_OK;
}

void qcn_hmap_clear(struct qcn_hmap *m)
{
    size_t i;
    struct qcn_hmap_node *n, *next;
    for (i = 0; i < m->nbuckets; i++) {
        for (n = m->b[i]; n != NULL; n = next) {
            next = n->next;
            free(n);
        }
    }
    free(m->b);
    memset(m, 0, sizeof *m);
}

void *qcn_hmap_get(const struct qcn_hmap *m, const uint8_t *key)
{
    struct qcn_hmap_node *n;
    for (n = m->b[slot(m, key)]; n != NULL; n = n->next) {
        if (memcmp(n->key, key, m->keylen) == 0)
            return n->val;
    }
    return NULL;
}

/* Doubles the table when the load factor passes 1. */
static void grow(struct qcn_hmap *m)
{
    struct qcn_hmap_node **nb, *n, *next, **old = m->b;
    size_t i, oldn = m->nbuckets, s;

    nb = calloc(oldn * 2, sizeof *nb);
    if (nb == NULL)
        return; /* keep working with longer chains */
    m->b = nb;
    m->nbuckets = oldn * 2;
    for (i = 0; i < oldn; i++) {
        for (n = old[i]; n != NULL; n = next) {
            next = n->next;
            s = slot(m, n->key);
            n->next = nb[s];
            nb[s] = n;
        }
    }
    free(old);
}

int qcn_hmap_put(struct qcn_hmap *m, const uint8_t *key, void *val)
{
    struct qcn_hmap_node *n;
    size_t s = slot(m, key);
    for (n = m->b[s]; n != NULL; n = n->next) {
        if (memcmp(n->key, key, m->keylen) == 0) {
            n->val = val;
            return QCN_OK;
        }
    }
    n = malloc(sizeof *n + m->keylen);
    if (n == NULL)
        return QCN_ERR_NOMEM;
    memcpy(n->key, key, m->keylen);
    n->val = val;
    n->next = m->b[s];
    m->b[s] = n;
    m->n++;
    if (m->n > m->nbuckets)
        grow(m);
    return QCN_OK;
}

void *qcn_hmap_del(struct qcn_hmap *m, const uint8_t *key)
{
    struct qcn_hmap_node **pp, *n;
    void *v;
    for (pp = &m->b[slot(m, key)]; (n = *pp) != NULL; pp = &n->next) {
        if (memcmp(n->key, key, m->keylen) == 0) {
            *pp = n->next;
            v = n->val;
            free(n);
            m->n--;
            return v;
        }
    }
    return NULL;
}

void qcn_hmap_foreach(const struct qcn_hmap *m, int (*fn)(void *ctx, const uint8_t *key, void *val),
                      void *ctx)
{
    size_t i;
    struct qcn_hmap_node *n;
    for (i = 0; i < m->nbuckets; i++) {
        for (n = m->b[i]; n != NULL; n = n->next) {
            if (fn(ctx, n->key, n->val))
                return;
        }
    }
}
