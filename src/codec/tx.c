/* tx.c - the type-0x51 transaction envelope (docs/protocol.md §2).
 *
 * Decoding is strict so that one transaction has exactly one encoding and so
 * one hash: RLP is canonical (codec/rlp.c), integers have no leading zeros,
 * fixed-size fields have their exact size, signature indices are strictly
 * increasing. Because of that, the unsigned payload is recovered from the raw
 * items without re-encoding: the first eleven items, under a new list header. */
#include "codec/tx.h"

#include <stdlib.h>
#include <string.h>

#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "crypto/mldsa.h"

enum {
    F_CHAIN_ID,
    F_NONCE,
    F_MAX_PRIORITY_FEE,
    F_MAX_FEE,
    F_GAS_LIMIT,
    F_FROM,
    F_TO,
    F_VALUE,
    F_DATA,
    F_ACCESS_LIST,
    F_SCHEME,
    F_UNSIGNED_COUNT, /* the signed payload ends here */
    F_PUBKEY = F_UNSIGNED_COUNT,
    F_SIGNATURES,
    F_COUNT
};

int qcn_scheme_param(uint8_t scheme)
{
    switch (scheme) {
    case QCN_SCHEME_MLDSA44:
        return QCN_MLDSA44;
    case QCN_SCHEME_MLDSA65:
        return QCN_MLDSA65;
    case QCN_SCHEME_MLDSA87:
        return QCN_MLDSA87;
    default:
        return 0;
    }
}

size_t qcn_scheme_pk_bytes(uint8_t scheme)
{
    int p = qcn_scheme_param(scheme);
    return p ? qcn_mldsa_pk_bytes(p) : 0;
}

size_t qcn_scheme_sig_bytes(uint8_t scheme)
{
    int p = qcn_scheme_param(scheme);
    return p ? qcn_mldsa_sig_bytes(p) : 0;
}

void qcn_address_from_key(uint8_t out[QCN_ADDRESS_BYTES], uint8_t scheme, const uint8_t *pk,
                          size_t pklen)
{
    struct qcn_keccak k;
    uint8_t h[QCN_HASH_BYTES];
    qcn_keccak_init(&k, QCN_SHA3_256_RATE, 0x01);
    qcn_keccak_absorb(&k, &scheme, 1);
    qcn_keccak_absorb(&k, pk, pklen);
    qcn_keccak_squeeze(&k, h, sizeof h);
    memcpy(out, h + QCN_HASH_BYTES - QCN_ADDRESS_BYTES, QCN_ADDRESS_BYTES);
}

/* RLP list header for a payload of len bytes into out (up to 9 bytes). */
static size_t list_header(uint8_t out[9], size_t len)
{
    size_t n = 0, i, t;
    if (len < 56) {
        out[0] = (uint8_t)(0xc0 + len);
        return 1;
    }
    for (t = len; t; t >>= 8)
        n++;
    out[0] = (uint8_t)(0xf7 + n);
    for (i = 0; i < n; i++)
        out[1 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
    return 1 + n;
}

static int map_rlp_err(int err)
{
    if (err == QCN_ERR_TOO_LARGE)
        return QCN_ERR_TX_OVERSIZED;
    return QCN_ERR_TX_MALFORMED;
}

/* EIP-2930 access list: [[address(20), [slot(32), ...]], ...], counted. */
static int parse_access_list(struct qcn_tx *tx, const struct qcn_rlp_item *list)
{
    struct qcn_rlp_iter it, kit;
    struct qcn_rlp_item entry, parts[2], key;
    uint8_t tmp[32];
    uint32_t naddr = 0, nkeys = 0;
    int err;

    if (!list->is_list)
        return QCN_ERR_TX_MALFORMED;
    qcn_rlp_iter_init(&it, list);
    while ((err = qcn_rlp_iter_next(&it, &entry)) == QCN_OK) {
        if (++naddr > QCN_TX_MAX_ACCESS_ADDRESSES)
            return QCN_ERR_TX_OVERSIZED;
        if (qcn_rlp_split(parts, 2, &entry) != QCN_OK)
            return QCN_ERR_TX_MALFORMED;
        if (qcn_rlp_get_fixed(tmp, QCN_ADDRESS_BYTES, &parts[0]) != QCN_OK || !parts[1].is_list)
            return QCN_ERR_TX_MALFORMED;
        qcn_rlp_iter_init(&kit, &parts[1]);
        while ((err = qcn_rlp_iter_next(&kit, &key)) == QCN_OK) {
            if (++nkeys > QCN_TX_MAX_ACCESS_KEYS)
                return QCN_ERR_TX_OVERSIZED;
            if (qcn_rlp_get_fixed(tmp, 32, &key) != QCN_OK)
                return QCN_ERR_TX_MALFORMED;
        }
        if (err != QCN_ERR_NOT_FOUND)
            return QCN_ERR_TX_MALFORMED;
    }
    if (err != QCN_ERR_NOT_FOUND)
        return QCN_ERR_TX_MALFORMED;
    tx->access_addresses = naddr;
    tx->access_keys = nkeys;
    return QCN_OK;
}

static int parse_signatures(struct qcn_tx *tx, const struct qcn_rlp_item *list)
{
    struct qcn_rlp_iter it;
    struct qcn_rlp_item entry, parts[2];
    uint64_t idx;
    size_t want = qcn_scheme_sig_bytes(tx->scheme);
    int err;

    if (!list->is_list)
        return QCN_ERR_TX_MALFORMED;
    qcn_rlp_iter_init(&it, list);
    while ((err = qcn_rlp_iter_next(&it, &entry)) == QCN_OK) {
        struct qcn_tx_sig *s;
        if (tx->nsigs >= QCN_TX_MAX_SIGS)
            return QCN_ERR_TX_OVERSIZED;
        s = &tx->sigs[tx->nsigs];
        if (qcn_rlp_split(parts, 2, &entry) != QCN_OK || qcn_rlp_get_u64(&idx, &parts[0]) != QCN_OK)
            return QCN_ERR_TX_MALFORMED;
        if (idx >= QCN_MULTISIG_MAX_KEYS)
            return QCN_ERR_TX_MALFORMED;
        /* Strictly increasing indices: one encoding per signature set. */
        if (tx->nsigs > 0 && idx <= tx->sigs[tx->nsigs - 1].key_index)
            return QCN_ERR_TX_MALFORMED;
        err = qcn_rlp_get_bytes(&s->sig, QCN_MLDSA_MAX_SIG_BYTES, &parts[1]);
        if (err != QCN_OK)
            return map_rlp_err(err);
        if (s->sig.len == 0)
            return QCN_ERR_TX_MALFORMED;
        s->key_index = (uint32_t)idx;
        tx->nsigs++;
    }
    if (err != QCN_ERR_NOT_FOUND)
        return QCN_ERR_TX_MALFORMED;
    if (tx->nsigs == 0)
        return QCN_ERR_TX_MALFORMED;
    if (tx->scheme != QCN_SCHEME_MULTISIG) {
        if (tx->nsigs != 1 || tx->sigs[0].key_index != 0 || tx->sigs[0].sig.len != want)
            return QCN_ERR_TX_MALFORMED;
    }
    return QCN_OK;
}

static int parse(struct qcn_tx *tx)
{
    struct qcn_rlp_item top, f[F_COUNT];
    struct qcn_keccak k;
    uint8_t hdr[9], type = QCN_TX_TYPE, v[QCN_U256_BYTES];
    uint64_t scheme;
    size_t span, hl;
    int err;

    err = qcn_rlp_decode(&top, qcn_view_make(tx->raw + 1, tx->raw_len - 1));
    if (err != QCN_OK || !top.is_list)
        return QCN_ERR_TX_MALFORMED;
    if (qcn_rlp_split(f, F_COUNT, &top) != QCN_OK)
        return QCN_ERR_TX_MALFORMED;
    if (qcn_rlp_get_u64(&tx->chain_id, &f[F_CHAIN_ID]) != QCN_OK ||
        qcn_rlp_get_u64(&tx->nonce, &f[F_NONCE]) != QCN_OK ||
        qcn_rlp_get_u64(&tx->max_priority_fee, &f[F_MAX_PRIORITY_FEE]) != QCN_OK ||
        qcn_rlp_get_u64(&tx->max_fee, &f[F_MAX_FEE]) != QCN_OK ||
        qcn_rlp_get_u64(&tx->gas_limit, &f[F_GAS_LIMIT]) != QCN_OK ||
        qcn_rlp_get_fixed(tx->from, QCN_ADDRESS_BYTES, &f[F_FROM]) != QCN_OK)
        return QCN_ERR_TX_MALFORMED;
    if (f[F_TO].is_list)
        return QCN_ERR_TX_MALFORMED;
    if (f[F_TO].payload.len == QCN_ADDRESS_BYTES) {
        tx->has_to = 1;
        memcpy(tx->to, f[F_TO].payload.p, QCN_ADDRESS_BYTES);
    } else if (f[F_TO].payload.len != 0) {
        return QCN_ERR_TX_MALFORMED;
    }
    if (qcn_rlp_get_uint_be(v, sizeof v, &f[F_VALUE]) != QCN_OK)
        return QCN_ERR_TX_MALFORMED;
    tx->value = qcn_u256_load_be(v);
    err = qcn_rlp_get_bytes(&tx->data, QCN_TX_MAX_DATA, &f[F_DATA]);
    if (err != QCN_OK)
        return map_rlp_err(err);
    err = parse_access_list(tx, &f[F_ACCESS_LIST]);
    if (err != QCN_OK)
        return err;
    tx->access_list = f[F_ACCESS_LIST].raw;
    if (qcn_rlp_get_u64(&scheme, &f[F_SCHEME]) != QCN_OK)
        return QCN_ERR_TX_MALFORMED;
    if (scheme != QCN_SCHEME_MULTISIG && qcn_scheme_param((uint8_t)scheme) == 0)
        return QCN_ERR_TX_UNKNOWN_SCHEME;
    if (scheme > 0xff)
        return QCN_ERR_TX_UNKNOWN_SCHEME;
    tx->scheme = (uint8_t)scheme;
    err = qcn_rlp_get_bytes(&tx->pubkey, QCN_MLDSA_MAX_PK_BYTES, &f[F_PUBKEY]);
    if (err != QCN_OK)
        return map_rlp_err(err);
    if (tx->pubkey.len != 0) {
        /* Multisig sets are recorded on chain by their creating transaction. */
        if (tx->scheme == QCN_SCHEME_MULTISIG || tx->pubkey.len != qcn_scheme_pk_bytes(tx->scheme))
            return QCN_ERR_TX_MALFORMED;
    }
    err = parse_signatures(tx, &f[F_SIGNATURES]);
    if (err != QCN_OK)
        return err;

    /* sighash = Keccak-256(type || RLP list of the first eleven items). */
    span = (size_t)(f[F_SCHEME].raw.p + f[F_SCHEME].raw.len - f[F_CHAIN_ID].raw.p);
    hl = list_header(hdr, span);
    qcn_keccak_init(&k, QCN_SHA3_256_RATE, 0x01);
    qcn_keccak_absorb(&k, &type, 1);
    qcn_keccak_absorb(&k, hdr, hl);
    qcn_keccak_absorb(&k, f[F_CHAIN_ID].raw.p, span);
    qcn_keccak_squeeze(&k, tx->sighash, QCN_HASH_BYTES);
    return QCN_OK;
}

/* Everything but the envelope's hash (tx->hash), which the callers compute:
 * one at a time, or four at a time. */
static int decode_unhashed(struct qcn_tx **out, struct qcn_view in)
{
    struct qcn_tx *tx;
    int err;

    *out = NULL;
    if (in.len > QCN_TX_MAX_BYTES)
        return QCN_ERR_TX_OVERSIZED;
    if (in.len < 2 || in.p[0] != QCN_TX_TYPE)
        return QCN_ERR_TX_MALFORMED;
    tx = calloc(1, sizeof *tx);
    if (tx == NULL)
        return QCN_ERR_NOMEM;
    tx->raw = malloc(in.len);
    if (tx->raw == NULL) {
        free(tx);
        return QCN_ERR_NOMEM;
    }
    memcpy(tx->raw, in.p, in.len);
    tx->raw_len = in.len;
    tx->refs = 1;
    err = parse(tx);
    if (err != QCN_OK) {
        qcn_tx_unref(tx);
        return err;
    }
    *out = tx;
    return QCN_OK;
}

int qcn_tx_decode(struct qcn_tx **out, struct qcn_view in)
{
    int err = decode_unhashed(out, in);
    if (err == QCN_OK)
        qcn_keccak256((*out)->hash, (*out)->raw, (*out)->raw_len);
    return err;
}

void qcn_tx_decode_many(struct qcn_tx **out, int *errs, const struct qcn_view *in, size_t n)
{
    struct qcn_tx *group[QCN_KECCAK_X4_WAYS];
    uint8_t *hout[QCN_KECCAK_X4_WAYS];
    const uint8_t *hin[QCN_KECCAK_X4_WAYS];
    size_t hlen[QCN_KECCAK_X4_WAYS];
    size_t i, ng = 0, t;

    for (i = 0; i < n; i++) {
        errs[i] = decode_unhashed(&out[i], in[i]);
        if (errs[i] != QCN_OK)
            continue;
        group[ng++] = out[i];
        if (ng < QCN_KECCAK_X4_WAYS)
            continue;
        for (t = 0; t < QCN_KECCAK_X4_WAYS; t++) {
            hout[t] = group[t]->hash;
            hin[t] = group[t]->raw;
            hlen[t] = group[t]->raw_len;
        }
        qcn_keccak256_x4(hout, hin, hlen);
        ng = 0;
    }
    for (t = 0; t < ng; t++)
        qcn_keccak256(group[t]->hash, group[t]->raw, group[t]->raw_len);
}

struct qcn_tx *qcn_tx_ref(struct qcn_tx *tx)
{
    if (tx != NULL)
        __atomic_add_fetch(&tx->refs, 1, __ATOMIC_RELAXED);
    return tx;
}

void qcn_tx_unref(struct qcn_tx *tx)
{
    if (tx == NULL)
        return;
    if (__atomic_sub_fetch(&tx->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free(tx->key_record);
    free(tx->raw);
    free(tx);
}

static int put_fields(struct qcn_buf *b, const struct qcn_tx_fields *f)
{
    uint8_t v[QCN_U256_BYTES];
    int err;

    qcn_u256_to_be(v, &f->value);
    if ((err = qcn_rlp_put_u64(b, f->chain_id)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, f->nonce)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, f->max_priority_fee)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, f->max_fee)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, f->gas_limit)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, f->from, QCN_ADDRESS_BYTES)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, f->to, f->has_to ? QCN_ADDRESS_BYTES : 0)) != QCN_OK ||
        (err = qcn_rlp_put_uint_be(b, v, sizeof v)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, f->data.p, f->data.len)) != QCN_OK)
        return err;
    if (f->access_list.len != 0)
        err = qcn_rlp_put_raw(b, f->access_list.p, f->access_list.len);
    else
        err = qcn_buf_append_u8(b, 0xc0);
    if (err != QCN_OK)
        return err;
    return qcn_rlp_put_u64(b, f->scheme);
}

int qcn_tx_encode_unsigned(struct qcn_buf *b, const struct qcn_tx_fields *f)
{
    size_t l = qcn_rlp_list_begin(b);
    int err = put_fields(b, f);
    if (err != QCN_OK)
        return err;
    return qcn_rlp_list_end(b, l);
}

int qcn_tx_sighash(uint8_t out[QCN_HASH_BYTES], const struct qcn_tx_fields *f)
{
    struct qcn_buf b;
    int err;

    qcn_buf_init(&b, QCN_TX_MAX_BYTES);
    err = qcn_buf_append_u8(&b, QCN_TX_TYPE);
    if (err == QCN_OK)
        err = qcn_tx_encode_unsigned(&b, f);
    if (err == QCN_OK)
        qcn_keccak256(out, b.p, b.len);
    else
        memset(out, 0, QCN_HASH_BYTES);
    qcn_buf_clear(&b);
    return err;
}

int qcn_tx_encode(struct qcn_buf *b, const struct qcn_tx_fields *f, struct qcn_view pubkey,
                  const struct qcn_tx_sig *sigs, size_t nsigs)
{
    size_t l, sl, pl, i;
    int err;

    if ((err = qcn_buf_append_u8(b, QCN_TX_TYPE)) != QCN_OK)
        return err;
    l = qcn_rlp_list_begin(b);
    if ((err = put_fields(b, f)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, pubkey.p, pubkey.len)) != QCN_OK)
        return err;
    sl = qcn_rlp_list_begin(b);
    for (i = 0; i < nsigs; i++) {
        pl = qcn_rlp_list_begin(b);
        if ((err = qcn_rlp_put_u64(b, sigs[i].key_index)) != QCN_OK ||
            (err = qcn_rlp_put_bytes(b, sigs[i].sig.p, sigs[i].sig.len)) != QCN_OK ||
            (err = qcn_rlp_list_end(b, pl)) != QCN_OK)
            return err;
    }
    if ((err = qcn_rlp_list_end(b, sl)) != QCN_OK)
        return err;
    return qcn_rlp_list_end(b, l);
}

void qcn_tx_fields_from(struct qcn_tx_fields *f, const struct qcn_tx *tx)
{
    memset(f, 0, sizeof *f);
    f->chain_id = tx->chain_id;
    f->nonce = tx->nonce;
    f->max_priority_fee = tx->max_priority_fee;
    f->max_fee = tx->max_fee;
    f->gas_limit = tx->gas_limit;
    memcpy(f->from, tx->from, QCN_ADDRESS_BYTES);
    f->has_to = tx->has_to;
    memcpy(f->to, tx->to, QCN_ADDRESS_BYTES);
    f->value = tx->value;
    f->data = tx->data;
    f->access_list = tx->access_list;
    f->scheme = tx->scheme;
}

int qcn_tx_sign_hash(uint8_t *sig, uint8_t scheme, const uint8_t *sk,
                     const uint8_t sighash[QCN_HASH_BYTES], int deterministic)
{
    int param = qcn_scheme_param(scheme);
    if (param == 0)
        return QCN_ERR_TX_UNKNOWN_SCHEME;
    return qcn_mldsa_sign(param, sig, sk, sighash, QCN_HASH_BYTES, (const uint8_t *)QCN_TX_SIG_CTX,
                          QCN_TX_SIG_CTX_LEN,
                          deterministic ? QCN_MLDSA_DETERMINISTIC : QCN_MLDSA_HEDGED, NULL);
}

int qcn_tx_verify_sig(uint8_t scheme, const uint8_t *pk, size_t pklen,
                      const uint8_t sighash[QCN_HASH_BYTES], const uint8_t *sig, size_t siglen)
{
    int param = qcn_scheme_param(scheme);
    if (param == 0)
        return QCN_ERR_TX_UNKNOWN_SCHEME;
    if (pklen != qcn_mldsa_pk_bytes(param) || siglen != qcn_mldsa_sig_bytes(param))
        return QCN_ERR_TX_BAD_SIGNATURE;
    if (qcn_mldsa_verify(param, pk, sighash, QCN_HASH_BYTES, (const uint8_t *)QCN_TX_SIG_CTX,
                         QCN_TX_SIG_CTX_LEN, sig, siglen) != QCN_OK)
        return QCN_ERR_TX_BAD_SIGNATURE;
    return QCN_OK;
}
