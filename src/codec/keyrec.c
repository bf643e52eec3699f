/* keyrec.c - key records (docs/protocol.md §4). A record is validated on
 * decode and before encode, so whatever reaches the state is well formed. */
#include "codec/keyrec.h"

#include <string.h>

#include "codec/rlp.h"
#include "crypto/keccak.h"

static int check(const struct qcn_keyrec *rec)
{
    uint32_t i, j;

    if (rec->kind == QCN_SCHEME_MULTISIG) {
        if (rec->nkeys == 0 || rec->nkeys > QCN_MULTISIG_MAX_KEYS || rec->threshold == 0 ||
            rec->threshold > rec->nkeys)
            return QCN_ERR_TX_MULTISIG;
    } else {
        if (qcn_scheme_param(rec->kind) == 0)
            return QCN_ERR_TX_UNKNOWN_SCHEME;
        if (rec->nkeys != 1 || rec->threshold != 1 || rec->keys[0].scheme != rec->kind)
            return QCN_ERR_CODEC;
    }
    for (i = 0; i < rec->nkeys; i++) {
        if (qcn_scheme_param(rec->keys[i].scheme) == 0)
            return QCN_ERR_TX_UNKNOWN_SCHEME;
        if (rec->keys[i].pk.len != qcn_scheme_pk_bytes(rec->keys[i].scheme))
            return QCN_ERR_BAD_KEY;
        /* The same key twice would let one signer count double. */
        for (j = 0; j < i; j++) {
            if (rec->keys[j].scheme == rec->keys[i].scheme &&
                memcmp(rec->keys[j].pk.p, rec->keys[i].pk.p, rec->keys[i].pk.len) == 0)
                return QCN_ERR_TX_MULTISIG;
        }
    }
    return QCN_OK;
}

static int get_key(struct qcn_keyrec_key *k, const struct qcn_rlp_item *pair)
{
    struct qcn_rlp_item p[2];
    uint64_t s;
    if (qcn_rlp_split(p, 2, pair) != QCN_OK || qcn_rlp_get_u64(&s, &p[0]) != QCN_OK ||
        qcn_rlp_get_bytes(&k->pk, QCN_MLDSA_MAX_PK_BYTES, &p[1]) != QCN_OK)
        return QCN_ERR_CODEC;
    if (s > 0xff || qcn_scheme_param((uint8_t)s) == 0)
        return QCN_ERR_TX_UNKNOWN_SCHEME;
    k->scheme = (uint8_t)s;
    return QCN_OK;
}

int qcn_keyrec_decode(struct qcn_keyrec *out, struct qcn_view in)
{
    struct qcn_rlp_item top, f[3], item;
    struct qcn_rlp_iter it;
    uint64_t kind, thr;
    size_t n;
    int err;

    memset(out, 0, sizeof *out);
    if (in.len > QCN_KEYREC_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (qcn_rlp_decode(&top, in) != QCN_OK || !top.is_list || qcn_rlp_count(&n, &top) != QCN_OK)
        return QCN_ERR_CODEC;
    if (n == 2) {
        err = get_key(&out->keys[0], &top);
        if (err != QCN_OK)
            goto fail;
        out->kind = out->keys[0].scheme;
        out->threshold = 1;
        out->nkeys = 1;
    } else if (n == 3) {
        if (qcn_rlp_split(f, 3, &top) != QCN_OK || qcn_rlp_get_u64(&kind, &f[0]) != QCN_OK ||
            kind != QCN_SCHEME_MULTISIG || qcn_rlp_get_u64(&thr, &f[1]) != QCN_OK ||
            !f[2].is_list) {
            err = QCN_ERR_CODEC;
            goto fail;
        }
        if (thr == 0 || thr > QCN_MULTISIG_MAX_KEYS) {
            err = QCN_ERR_TX_MULTISIG;
            goto fail;
        }
        out->kind = QCN_SCHEME_MULTISIG;
        out->threshold = (uint32_t)thr;
        qcn_rlp_iter_init(&it, &f[2]);
        while ((err = qcn_rlp_iter_next(&it, &item)) == QCN_OK) {
            if (out->nkeys >= QCN_MULTISIG_MAX_KEYS) {
                err = QCN_ERR_TX_MULTISIG;
                goto fail;
            }
            err = get_key(&out->keys[out->nkeys], &item);
            if (err != QCN_OK)
                goto fail;
            out->nkeys++;
        }
        if (err != QCN_ERR_NOT_FOUND) {
            err = QCN_ERR_CODEC;
            goto fail;
        }
    } else {
        err = QCN_ERR_CODEC;
        goto fail;
    }
    err = check(out);
    if (err == QCN_OK)
        return QCN_OK;
fail:
    memset(out, 0, sizeof *out);
    return err;
}

static int put_key(struct qcn_buf *b, const struct qcn_keyrec_key *k)
{
    size_t l = qcn_rlp_list_begin(b);
    int err;
    if ((err = qcn_rlp_put_u64(b, k->scheme)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, k->pk.p, k->pk.len)) != QCN_OK)
        return err;
    return qcn_rlp_list_end(b, l);
}

int qcn_keyrec_encode(struct qcn_buf *b, const struct qcn_keyrec *rec)
{
    size_t l, kl;
    uint32_t i;
    int err = check(rec);

    if (err != QCN_OK)
        return err;
    if (rec->kind != QCN_SCHEME_MULTISIG)
        return put_key(b, &rec->keys[0]);
    l = qcn_rlp_list_begin(b);
    if ((err = qcn_rlp_put_u64(b, QCN_SCHEME_MULTISIG)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, rec->threshold)) != QCN_OK)
        return err;
    kl = qcn_rlp_list_begin(b);
    for (i = 0; i < rec->nkeys; i++) {
        if ((err = put_key(b, &rec->keys[i])) != QCN_OK)
            return err;
    }
    if ((err = qcn_rlp_list_end(b, kl)) != QCN_OK)
        return err;
    return qcn_rlp_list_end(b, l);
}

int qcn_keyrec_single(struct qcn_keyrec *out, uint8_t scheme, struct qcn_view pk)
{
    memset(out, 0, sizeof *out);
    if (qcn_scheme_param(scheme) == 0)
        return QCN_ERR_TX_UNKNOWN_SCHEME;
    if (pk.len != qcn_scheme_pk_bytes(scheme))
        return QCN_ERR_BAD_KEY;
    out->kind = scheme;
    out->threshold = 1;
    out->nkeys = 1;
    out->keys[0].scheme = scheme;
    out->keys[0].pk = pk;
    return QCN_OK;
}

void qcn_keyrec_hash(uint8_t out[QCN_HASH_BYTES], const uint8_t *rec, size_t len)
{
    qcn_keccak256(out, rec, len);
}

void qcn_address_multisig(uint8_t out[QCN_ADDRESS_BYTES], const uint8_t creator[QCN_ADDRESS_BYTES],
                          uint64_t creator_nonce, const uint8_t key_hash[QCN_HASH_BYTES])
{
    uint8_t in[1 + QCN_ADDRESS_BYTES + 8 + QCN_HASH_BYTES], h[QCN_HASH_BYTES];
    in[0] = QCN_SCHEME_MULTISIG;
    memcpy(in + 1, creator, QCN_ADDRESS_BYTES);
    qcn_store_be64(in + 1 + QCN_ADDRESS_BYTES, creator_nonce);
    memcpy(in + 1 + QCN_ADDRESS_BYTES + 8, key_hash, QCN_HASH_BYTES);
    qcn_keccak256(h, in, sizeof in);
    memcpy(out, h + QCN_HASH_BYTES - QCN_ADDRESS_BYTES, QCN_ADDRESS_BYTES);
}
