/* valset.c - validator sets, weighted proposer selection, certificate
 * verification (valset.h; docs/consensus.md §4-§5). */
#include "consensus/valset.h"

#include <stdlib.h>
#include <string.h>

#include "codec/rlp.h"
#include "consensus/beacon.h"
#include "crypto/keccak.h"

#define PROPOSER_DOMAIN "QCN-PROPOSER"
#define PROPOSER_DOMAIN_LEN 12
/* Rejection sampling needs < 2 draws on average; after this many the
 * remaining bias of a modulo is irrelevant (probability 2^-64 of getting
 * there). */
#define PROPOSER_MAX_DRAWS 64u

void qcn_valset_init(struct qcn_valset *vs)
{
    memset(vs, 0, sizeof *vs);
}

void qcn_valset_clear(struct qcn_valset *vs)
{
    free(vs->v);
    memset(vs, 0, sizeof *vs);
}

int qcn_valset_copy(struct qcn_valset *dst, const struct qcn_valset *src)
{
    qcn_valset_init(dst);
    if (src->n == 0)
        return QCN_OK;
    dst->v = malloc(src->n * sizeof *dst->v);
    if (dst->v == NULL)
        return QCN_ERR_NOMEM;
    memcpy(dst->v, src->v, src->n * sizeof *dst->v);
    dst->n = src->n;
    dst->total = src->total;
    return QCN_OK;
}

int qcn_valset_find(const struct qcn_valset *vs, const uint8_t addr[QCN_ADDRESS_BYTES])
{
    size_t lo = 0, hi = vs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(vs->v[mid].address, addr, QCN_ADDRESS_BYTES);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int insert(struct qcn_valset *vs, const struct qcn_validator *val)
{
    struct qcn_validator *p;
    uint64_t total;
    size_t i = 0;
    if (val->power == 0)
        return QCN_ERR_INVALID_ARG;
    if (vs->n >= QCN_VALSET_MAX)
        return QCN_ERR_TOO_LARGE;
    if (__builtin_add_overflow(vs->total, val->power, &total) || total > QCN_VALSET_MAX_TOTAL_POWER)
        return QCN_ERR_TOO_LARGE;
    if (qcn_valset_find(vs, val->address) >= 0)
        return QCN_ERR_EXISTS;
    while (i < vs->n && memcmp(vs->v[i].address, val->address, QCN_ADDRESS_BYTES) < 0)
        i++;
    p = realloc(vs->v, (vs->n + 1) * sizeof *p);
    if (p == NULL)
        return QCN_ERR_NOMEM;
    vs->v = p;
    memmove(&p[i + 1], &p[i], (vs->n - i) * sizeof *p);
    p[i] = *val;
    vs->n++;
    vs->total = total;
    return QCN_OK;
}

int qcn_valset_add(struct qcn_valset *vs, const uint8_t pubkey[QCN_VOTE_PK_BYTES], uint64_t power,
                   const uint8_t beacon_tip[QCN_BEACON_BYTES])
{
    struct qcn_validator val;
    memset(&val, 0, sizeof val);
    qcn_address_from_key(val.address, QCN_SCHEME_MLDSA65, pubkey, QCN_VOTE_PK_BYTES);
    memcpy(val.pubkey, pubkey, QCN_VOTE_PK_BYTES);
    val.power = power;
    memcpy(val.beacon_last, beacon_tip, QCN_BEACON_BYTES);
    return insert(vs, &val);
}

int qcn_valset_quorum(const struct qcn_valset *vs, uint64_t power)
{
    return power <= vs->total && 3 * power > 2 * vs->total;
}

void qcn_valset_powers(const struct qcn_valset *vs, uint64_t *out)
{
    size_t i;
    for (i = 0; i < vs->n; i++)
        out[i] = vs->v[i].power;
}

uint32_t qcn_valset_proposer(const struct qcn_valset *vs, const uint8_t beacon[QCN_BEACON_BYTES],
                             uint64_t height, uint32_t round)
{
    uint8_t in[PROPOSER_DOMAIN_LEN + QCN_BEACON_BYTES + 8 + 4 + 4], h[QCN_KECCAK256_BYTES];
    uint64_t x = 0, limit, acc = 0;
    uint32_t k;
    size_t i;

    if (vs->n == 0)
        return 0;
    /* Largest multiple of total that fits in 2^64: values at or above it
     * would make low indices likelier. */
    limit = UINT64_MAX - (UINT64_MAX % vs->total + 1) % vs->total;
    memcpy(in, PROPOSER_DOMAIN, PROPOSER_DOMAIN_LEN);
    memcpy(in + PROPOSER_DOMAIN_LEN, beacon, QCN_BEACON_BYTES);
    qcn_store_be64(in + PROPOSER_DOMAIN_LEN + QCN_BEACON_BYTES, height);
    qcn_store_be32(in + PROPOSER_DOMAIN_LEN + QCN_BEACON_BYTES + 8, round);
    for (k = 0; k < PROPOSER_MAX_DRAWS; k++) {
        qcn_store_be32(in + PROPOSER_DOMAIN_LEN + QCN_BEACON_BYTES + 12, k);
        qcn_keccak256(h, in, sizeof in);
        x = qcn_load_be64(h);
        if (x <= limit)
            break;
    }
    x %= vs->total;
    for (i = 0; i < vs->n; i++) {
        acc += vs->v[i].power;
        if (x < acc)
            return (uint32_t)i;
    }
    return (uint32_t)(vs->n - 1);
}

int qcn_valset_beacon_apply(struct qcn_valset *vs, const uint8_t proposer[QCN_ADDRESS_BYTES],
                            const uint8_t reveal[QCN_BEACON_BYTES],
                            const uint8_t prev_mix[QCN_BEACON_BYTES], uint8_t mix[QCN_BEACON_BYTES])
{
    int idx = qcn_valset_find(vs, proposer), err;
    if (idx < 0)
        return QCN_ERR_CONSENSUS_VALIDATOR;
    if ((err = qcn_beacon_check_reveal(vs->v[idx].beacon_last, reveal)) != QCN_OK)
        return err;
    memcpy(vs->v[idx].beacon_last, reveal, QCN_BEACON_BYTES);
    vs->v[idx].beacon_reveals++;
    qcn_beacon_next(mix, prev_mix, reveal);
    return QCN_OK;
}

int qcn_valset_encode(struct qcn_buf *b, const struct qcn_valset *vs)
{
    size_t start = b->len, l, e, i;
    int err = QCN_OK;
    l = qcn_rlp_list_begin(b);
    for (i = 0; i < vs->n; i++) {
        const struct qcn_validator *v = &vs->v[i];
        e = qcn_rlp_list_begin(b);
        if ((err = qcn_rlp_put_bytes(b, v->pubkey, QCN_VOTE_PK_BYTES)) != QCN_OK ||
            (err = qcn_rlp_put_u64(b, v->power)) != QCN_OK ||
            (err = qcn_rlp_put_bytes(b, v->beacon_last, QCN_BEACON_BYTES)) != QCN_OK ||
            (err = qcn_rlp_put_u64(b, v->beacon_reveals)) != QCN_OK ||
            (err = qcn_rlp_list_end(b, e)) != QCN_OK)
            goto fail;
    }
    if ((err = qcn_rlp_list_end(b, l)) != QCN_OK)
        goto fail;
    return QCN_OK;
fail:
    b->len = start;
    return err;
}

int qcn_valset_decode(struct qcn_valset *out, struct qcn_view in)
{
    struct qcn_rlp_item top, e, f[4];
    struct qcn_rlp_iter it;
    int err;

    qcn_valset_init(out);
    if ((err = qcn_rlp_decode(&top, in)) != QCN_OK)
        return err;
    if (!top.is_list)
        return QCN_ERR_RLP_TYPE;
    qcn_rlp_iter_init(&it, &top);
    while ((err = qcn_rlp_iter_next(&it, &e)) == QCN_OK) {
        struct qcn_validator v;
        memset(&v, 0, sizeof v);
        if ((err = qcn_rlp_split(f, 4, &e)) != QCN_OK ||
            (err = qcn_rlp_get_fixed(v.pubkey, QCN_VOTE_PK_BYTES, &f[0])) != QCN_OK ||
            (err = qcn_rlp_get_u64(&v.power, &f[1])) != QCN_OK ||
            (err = qcn_rlp_get_fixed(v.beacon_last, QCN_BEACON_BYTES, &f[2])) != QCN_OK ||
            (err = qcn_rlp_get_u64(&v.beacon_reveals, &f[3])) != QCN_OK)
            goto fail;
        qcn_address_from_key(v.address, QCN_SCHEME_MLDSA65, v.pubkey, QCN_VOTE_PK_BYTES);
        /* canonical: strictly ascending addresses */
        if (out->n > 0 && memcmp(out->v[out->n - 1].address, v.address, QCN_ADDRESS_BYTES) >= 0) {
            err = QCN_ERR_CODEC;
            goto fail;
        }
        if ((err = insert(out, &v)) != QCN_OK)
            goto fail;
    }
    if (err != QCN_ERR_NOT_FOUND)
        goto fail;
    return QCN_OK;
fail:
    qcn_valset_clear(out);
    return err;
}

int qcn_commit_verify(const struct qcn_valset *vs, uint64_t chain_id, uint64_t height,
                      const uint8_t block_hash[QCN_HASH_BYTES], struct qcn_view cert,
                      struct qcn_commit *out)
{
    struct qcn_commit c;
    struct qcn_vote v;
    uint64_t power = 0;
    size_t i;
    int err;

    if (out)
        memset(out, 0, sizeof *out);
    err = qcn_commit_decode(&c, cert);
    if (err == QCN_ERR_NOMEM)
        return err;
    if (err != QCN_OK)
        return QCN_ERR_CONSENSUS_CERT;
    err = QCN_ERR_CONSENSUS_CERT;
    if (c.height != height || memcmp(c.block_hash, block_hash, QCN_HASH_BYTES) != 0)
        goto out;
    for (i = 0; i < c.nsigs; i++) {
        int idx = qcn_valset_find(vs, c.sigs[i].validator);
        if (idx < 0)
            goto out;
        qcn_commit_vote(&v, &c, chain_id, i);
        if (qcn_vote_verify(&v, vs->v[idx].pubkey) != QCN_OK)
            goto out;
        power += vs->v[idx].power; /* <= total <= 2^62: no overflow */
    }
    if (!qcn_valset_quorum(vs, power))
        goto out;
    err = QCN_OK;
out:
    if (err == QCN_OK && out)
        *out = c;
    else
        qcn_commit_clear(&c);
    return err;
}
