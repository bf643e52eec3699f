/* test_chain_helpers.h - keys and signed transactions for the ledger tests
 * (codec, state, chain). Header-only; every function is static. */
#ifndef QCN_TEST_CHAIN_HELPERS_H
#define QCN_TEST_CHAIN_HELPERS_H

#include <stdlib.h>
#include <string.h>

#include "codec/keyrec.h"
#include "codec/rlp.h"
#include "codec/tx.h"
#include "crypto/mldsa.h"

struct tkey {
    uint8_t scheme;
    uint8_t pk[QCN_MLDSA_MAX_PK_BYTES];
    size_t pklen;
    uint8_t sk[QCN_MLDSA_MAX_SK_BYTES];
    uint8_t addr[QCN_ADDRESS_BYTES];
};

/* Deterministic key from a one-byte seed tag. */
__attribute__((unused)) static void tkey_make(struct tkey *k, uint8_t scheme, uint8_t tag)
{
    uint8_t seed[QCN_MLDSA_SEED_BYTES];
    memset(seed, tag, sizeof seed);
    seed[0] = scheme;
    memset(k, 0, sizeof *k);
    k->scheme = scheme;
    k->pklen = qcn_scheme_pk_bytes(scheme);
    if (qcn_mldsa_keygen(qcn_scheme_param(scheme), k->pk, k->sk, seed) != QCN_OK)
        abort();
    qcn_address_from_key(k->addr, scheme, k->pk, k->pklen);
}

/* Default fields: transfer of value wei to `to`. */
__attribute__((unused)) static void tfields(struct qcn_tx_fields *f, uint64_t chain_id,
                                            const uint8_t from[20], uint64_t nonce,
                                            const uint8_t *to, uint64_t value, uint8_t scheme)
{
    memset(f, 0, sizeof *f);
    f->chain_id = chain_id;
    f->nonce = nonce;
    f->max_priority_fee = 2;
    f->max_fee = 1000;
    f->gas_limit = 200000;
    memcpy(f->from, from, QCN_ADDRESS_BYTES);
    if (to != NULL) {
        f->has_to = 1;
        memcpy(f->to, to, QCN_ADDRESS_BYTES);
    }
    f->value = qcn_u256_from_u64(value);
    f->scheme = scheme;
}

/* Signs f with k (deterministic) and decodes the envelope; with_pk attaches
 * the public key. Returns the decode result. */
__attribute__((unused)) static int tsign(struct qcn_tx **out, const struct qcn_tx_fields *f,
                                         const struct tkey *k, int with_pk)
{
    uint8_t h[QCN_HASH_BYTES], sig[QCN_MLDSA_MAX_SIG_BYTES];
    struct qcn_tx_sig s;
    struct qcn_buf b;
    int err;

    *out = NULL;
    if (qcn_tx_sighash(h, f) != QCN_OK || qcn_tx_sign_hash(sig, k->scheme, k->sk, h, 1) != QCN_OK)
        abort();
    s.key_index = 0;
    s.sig = qcn_view_make(sig, qcn_scheme_sig_bytes(k->scheme));
    qcn_buf_init(&b, QCN_TX_MAX_BYTES * 2);
    err = qcn_tx_encode(&b, f, with_pk ? qcn_view_make(k->pk, k->pklen) : qcn_view_make(NULL, 0),
                        &s, 1);
    if (err == QCN_OK)
        err = qcn_tx_decode(out, qcn_buf_view(&b));
    qcn_buf_clear(&b);
    return err;
}

/* Multisig: signs with keys[idx[i]] for i < n. */
__attribute__((unused)) static int tsign_multi(struct qcn_tx **out, const struct qcn_tx_fields *f,
                                               const struct tkey *const *keys, const uint32_t *idx,
                                               size_t n)
{
    uint8_t h[QCN_HASH_BYTES];
    static uint8_t sigs[QCN_TX_MAX_SIGS][QCN_MLDSA_MAX_SIG_BYTES];
    struct qcn_tx_sig s[QCN_TX_MAX_SIGS];
    struct qcn_buf b;
    size_t i;
    int err;

    *out = NULL;
    if (qcn_tx_sighash(h, f) != QCN_OK)
        abort();
    for (i = 0; i < n; i++) {
        const struct tkey *k = keys[idx[i]];
        if (qcn_tx_sign_hash(sigs[i], k->scheme, k->sk, h, 1) != QCN_OK)
            abort();
        s[i].key_index = idx[i];
        s[i].sig = qcn_view_make(sigs[i], qcn_scheme_sig_bytes(k->scheme));
    }
    qcn_buf_init(&b, QCN_TX_MAX_BYTES * 2);
    err = qcn_tx_encode(&b, f, qcn_view_make(NULL, 0), s, n);
    if (err == QCN_OK)
        err = qcn_tx_decode(out, qcn_buf_view(&b));
    qcn_buf_clear(&b);
    return err;
}

/* Encodes a multisig key record of keys[0..n) with threshold m into b. */
__attribute__((unused)) static int
tmultisig_record(struct qcn_buf *b, const struct tkey *const *keys, size_t n, uint32_t m)
{
    struct qcn_keyrec rec;
    size_t i;
    memset(&rec, 0, sizeof rec);
    rec.kind = QCN_SCHEME_MULTISIG;
    rec.threshold = m;
    rec.nkeys = (uint32_t)n;
    for (i = 0; i < n; i++) {
        rec.keys[i].scheme = keys[i]->scheme;
        rec.keys[i].pk = qcn_view_make(keys[i]->pk, keys[i]->pklen);
    }
    return qcn_keyrec_encode(b, &rec);
}

#endif
