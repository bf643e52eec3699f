/* hset.c - see hset.h. Linear probing with backward-shift deletion (Knuth
 * vol. 3, 6.4 Algorithm R) so no tombstones accumulate. */
#include "p2p/hset.h"

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/err.h"

int qcn_p2p_hset_init(struct qcn_p2p_hset *s, size_t max_entries)
{
    size_t slots = 16;
    memset(s, 0, sizeof *s);
    while (slots < 2 * max_entries)
        slots *= 2;
    s->keys = calloc(slots, 32);
    s->vals = calloc(slots, sizeof *s->vals);
    s->used = calloc(slots, 1);
    if (s->keys == NULL || s->vals == NULL || s->used == NULL) {
        qcn_p2p_hset_clear(s);
        return QCN_ERR_NOMEM;
    }
    s->mask = slots - 1;
    s->limit = max_entries;
    return QCN_OK;
}

void qcn_p2p_hset_clear(struct qcn_p2p_hset *s)
{
    free(s->keys);
    free(s->vals);
    free(s->used);
    memset(s, 0, sizeof *s);
}

void qcn_p2p_hset_reset(struct qcn_p2p_hset *s)
{
    if (s->used != NULL)
        memset(s->used, 0, s->mask + 1);
    s->count = 0;
}

static size_t home(const struct qcn_p2p_hset *s, const uint8_t key[32])
{
    return (size_t)qcn_load_le64(key) & s->mask;
}

static int find(const struct qcn_p2p_hset *s, const uint8_t key[32], size_t *slot)
{
    size_t i = home(s, key);
    while (s->used[i]) {
        if (memcmp(s->keys[i], key, 32) == 0) {
            *slot = i;
            return 1;
        }
        i = (i + 1) & s->mask;
    }
    *slot = i;
    return 0;
}

int qcn_p2p_hset_get(const struct qcn_p2p_hset *s, const uint8_t key[32], uint64_t *val)
{
    size_t i;
    if (s->used == NULL || !find(s, key, &i))
        return 0;
    if (val != NULL)
        *val = s->vals[i];
    return 1;
}

int qcn_p2p_hset_put(struct qcn_p2p_hset *s, const uint8_t key[32], uint64_t val)
{
    size_t i;
    if (find(s, key, &i)) {
        s->vals[i] = val;
        return 0;
    }
    if (s->count >= s->limit)
        return -1;
    memcpy(s->keys[i], key, 32);
    s->vals[i] = val;
    s->used[i] = 1;
    s->count++;
    return 0;
}

int qcn_p2p_hset_del(struct qcn_p2p_hset *s, const uint8_t key[32])
{
    size_t i, j;
    if (s->used == NULL || !find(s, key, &i))
        return 0;
    s->used[i] = 0;
    s->count--;
    /* Move later members of the cluster back into the hole when their home
     * slot does not lie cyclically in (i, j]. */
    j = i;
    for (;;) {
        size_t k;
        j = (j + 1) & s->mask;
        if (!s->used[j])
            break;
        k = home(s, s->keys[j]);
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        memcpy(s->keys[i], s->keys[j], 32);
        s->vals[i] = s->vals[j];
        s->used[i] = 1;
        s->used[j] = 0;
        i = j;
    }
    return 1;
}
