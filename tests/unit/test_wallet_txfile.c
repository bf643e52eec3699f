/* Transaction files (wallet/txfile.h): JSON round trips, a single-key
 * transaction signed from the file decodes and verifies as the chain would,
 * a 2-of-3 multisig gathers signatures from separate keys (in any order),
 * a file edited after writing is refused, and the gas estimate covers the
 * intrinsic gas of docs/protocol.md §5 (including key-manager operations). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec/keyrec.h"
#include "codec/tx.h"
#include "util/mem.h"
#include "wallet/keystore.h"
#include "wallet/txfile.h"

static struct qcn_wallet_key *key(uint8_t scheme, uint8_t fill)
{
    struct qcn_wallet_key *k = qcn_wallet_key_new();
    uint8_t seed[32];
    assert_non_null(k);
    memset(seed, fill, sizeof seed);
    assert_int_equal(qcn_wallet_key_from_seed(k, scheme, seed, NULL), QCN_OK);
    return k;
}

static struct qcn_txfile *through_json(const struct qcn_txfile *t)
{
    struct qcn_txfile *u = qcn_txfile_new();
    json_t *j;
    char msg[256];
    assert_int_equal(qcn_txfile_to_json(&j, t), QCN_OK);
    assert_int_equal(qcn_txfile_from_json(u, j, msg, sizeof msg), QCN_OK);
    json_decref(j);
    return u;
}

static void test_single_key(void **state)
{
    struct qcn_wallet_key *k = key(QCN_SCHEME_MLDSA65, 1), *other = key(QCN_SCHEME_MLDSA65, 2);
    struct qcn_txfile *t = qcn_txfile_new(), *u;
    struct qcn_tx *tx;
    struct qcn_buf env;
    uint8_t h[32], data[3] = {1, 0, 2};
    (void)state;
    t->f.chain_id = 1337;
    t->f.nonce = 5;
    t->f.max_priority_fee = 1000000000;
    t->f.max_fee = 3000000000;
    memcpy(t->f.from, k->account, 20);
    t->f.has_to = 1;
    memcpy(t->f.to, other->account, 20);
    t->f.value = qcn_u256_from_u64(1500000000000000000ull);
    t->f.value.w[2] = 7; /* exercise the high limbs through the decimal text */
    t->f.scheme = k->scheme;
    assert_int_equal(qcn_txfile_set_data(t, data, sizeof data), QCN_OK);
    memcpy(t->pk, k->pk, k->pk_len);
    t->pk_len = k->pk_len;
    t->f.gas_limit = qcn_txfile_gas(t);
    /* 21000 + data (16+4+16) + signature (3309*16 + 3000) + key (1952*16) */
    assert_int_equal(t->f.gas_limit, 21000 + 36 + 3309 * 16 + 3000 + 1952 * 16);
    assert_int_equal(qcn_txfile_missing(t), 1);
    /* the unsigned file survives JSON unchanged */
    u = through_json(t);
    assert_int_equal(qcn_txfile_sighash(u, h), QCN_OK);
    {
        uint8_t h0[32];
        assert_int_equal(qcn_txfile_sighash(t, h0), QCN_OK);
        assert_memory_equal(h, h0, 32);
    }
    /* a key that does not sign for the sender is refused */
    assert_int_equal(qcn_txfile_sign(u, other), QCN_ERR_TX_KEY_MISMATCH);
    assert_int_equal(qcn_txfile_sign(u, k), QCN_OK);
    assert_int_equal(qcn_txfile_missing(u), 0);
    qcn_txfile_free(t);
    t = through_json(u); /* signatures are verified on load */
    qcn_buf_init(&env, QCN_TX_MAX_BYTES);
    assert_int_equal(qcn_txfile_encode(t, &env, h, 0), QCN_OK);
    assert_int_equal(qcn_tx_decode(&tx, qcn_buf_view(&env)), QCN_OK);
    assert_memory_equal(tx->hash, h, 32);
    assert_int_equal(tx->nonce, 5);
    assert_int_equal(tx->value.w[2], 7);
    assert_int_equal(tx->pubkey.len, k->pk_len);
    assert_int_equal(qcn_tx_verify_sig(k->scheme, k->pk, k->pk_len, tx->sighash, tx->sigs[0].sig.p,
                                       tx->sigs[0].sig.len),
                     QCN_OK);
    qcn_tx_unref(tx);
    qcn_buf_clear(&env);
    qcn_txfile_free(t);
    qcn_txfile_free(u);
    qcn_wallet_key_free(k);
    qcn_wallet_key_free(other);
}

static void test_edited_file_refused(void **state)
{
    struct qcn_wallet_key *k = key(QCN_SCHEME_MLDSA44, 3);
    struct qcn_txfile *t = qcn_txfile_new(), *u = qcn_txfile_new();
    json_t *j;
    char msg[256];
    (void)state;
    t->f.chain_id = 1;
    memcpy(t->f.from, k->account, 20);
    t->f.has_to = 1;
    t->f.scheme = k->scheme;
    t->f.gas_limit = 100000;
    memcpy(t->pk, k->pk, k->pk_len);
    t->pk_len = k->pk_len;
    assert_int_equal(qcn_txfile_sign(t, k), QCN_OK);
    assert_int_equal(qcn_txfile_to_json(&j, t), QCN_OK);
    json_object_set_new(j, "value", json_string("999"));
    assert_int_not_equal(qcn_txfile_from_json(u, j, msg, sizeof msg), QCN_OK);
    assert_non_null(strstr(msg, "sighash"));
    /* without the sighash field, the now-invalid signature is caught */
    json_object_del(j, "sighash");
    assert_int_not_equal(qcn_txfile_from_json(u, j, msg, sizeof msg), QCN_OK);
    assert_non_null(strstr(msg, "does not verify"));
    json_object_set_new(j, "format", json_string("other/1"));
    assert_int_not_equal(qcn_txfile_from_json(u, j, msg, sizeof msg), QCN_OK);
    json_decref(j);
    qcn_txfile_free(t);
    qcn_txfile_free(u);
    qcn_wallet_key_free(k);
}

static void test_multisig(void **state)
{
    struct qcn_wallet_key *a = key(QCN_SCHEME_MLDSA65, 4), *b = key(QCN_SCHEME_MLDSA44, 5);
    struct qcn_wallet_key *c = key(QCN_SCHEME_MLDSA87, 6), *d = key(QCN_SCHEME_MLDSA65, 7);
    struct qcn_wallet_key *ks[3] = {a, b, c};
    struct qcn_txfile *t = qcn_txfile_new(), *u;
    struct qcn_keyrec rec;
    struct qcn_buf env, recb;
    struct qcn_tx *tx;
    uint8_t h[32], addr[20], kh[32], want[20];
    int i;
    (void)state;
    t->f.chain_id = 1337;
    t->f.has_to = 1;
    memcpy(t->f.to, d->account, 20);
    t->f.scheme = QCN_SCHEME_MULTISIG;
    t->threshold = 2;
    t->nkeys = 3;
    for (i = 0; i < 3; i++) {
        t->keys[i].scheme = ks[i]->scheme;
        memcpy(t->keys[i].pk, ks[i]->pk, ks[i]->pk_len);
        t->keys[i].pk_len = ks[i]->pk_len;
    }
    /* the address the chain gives: keccak(0x80 || creator || be64(nonce) || key_hash) */
    assert_int_equal(qcn_multisig_address(addr, d->account, 9, 2, t->keys, 3), QCN_OK);
    memset(&rec, 0, sizeof rec);
    rec.kind = QCN_SCHEME_MULTISIG;
    rec.threshold = 2;
    rec.nkeys = 3;
    for (i = 0; i < 3; i++) {
        rec.keys[i].scheme = ks[i]->scheme;
        rec.keys[i].pk = qcn_view_make(ks[i]->pk, ks[i]->pk_len);
    }
    qcn_buf_init(&recb, QCN_KEYREC_MAX_BYTES);
    assert_int_equal(qcn_keyrec_encode(&recb, &rec), QCN_OK);
    qcn_keyrec_hash(kh, recb.p, recb.len);
    qcn_address_multisig(want, d->account, 9, kh);
    assert_memory_equal(addr, want, 20);
    qcn_buf_clear(&recb);
    assert_int_equal(qcn_multisig_address(addr, d->account, 9, 4, t->keys, 3), QCN_ERR_TX_MULTISIG);
    memcpy(t->f.from, addr, 20);
    t->f.gas_limit = qcn_txfile_gas(t);
    /* the threshold's two largest signatures: ML-DSA-87 and ML-DSA-65 */
    assert_int_equal(t->f.gas_limit, 21000 + (4627 + 3309) * 16 + 2 * 3000);
    assert_int_equal(qcn_txfile_sign(t, d), QCN_ERR_NOT_FOUND);
    assert_int_equal(qcn_txfile_missing(t), 2);
    /* the third signer first, then the first: stored in index order */
    assert_int_equal(qcn_txfile_sign(t, c), QCN_OK);
    u = through_json(t);
    qcn_buf_init(&env, QCN_TX_MAX_BYTES);
    assert_int_equal(qcn_txfile_encode(u, &env, h, 0), QCN_ERR_TX_MULTISIG);
    assert_int_equal(qcn_txfile_encode(u, &env, h, 1), QCN_OK); /* --force: one signature */
    qcn_buf_reset(&env);
    assert_int_equal(qcn_txfile_sign(u, a), QCN_OK);
    assert_int_equal(qcn_txfile_sign(u, a), QCN_OK); /* again: replaced, not duplicated */
    assert_int_equal(u->nsigs, 2);
    assert_int_equal(qcn_txfile_missing(u), 0);
    assert_int_equal(qcn_txfile_encode(u, &env, h, 0), QCN_OK);
    assert_int_equal(qcn_tx_decode(&tx, qcn_buf_view(&env)), QCN_OK);
    assert_int_equal(tx->scheme, QCN_SCHEME_MULTISIG);
    assert_int_equal(tx->nsigs, 2);
    assert_int_equal(tx->sigs[0].key_index, 0);
    assert_int_equal(tx->sigs[1].key_index, 2);
    assert_int_equal(tx->pubkey.len, 0);
    assert_int_equal(qcn_tx_verify_sig(a->scheme, a->pk, a->pk_len, tx->sighash, tx->sigs[0].sig.p,
                                       tx->sigs[0].sig.len),
                     QCN_OK);
    assert_int_equal(qcn_tx_verify_sig(c->scheme, c->pk, c->pk_len, tx->sighash, tx->sigs[1].sig.p,
                                       tx->sigs[1].sig.len),
                     QCN_OK);
    qcn_tx_unref(tx);
    qcn_buf_clear(&env);
    qcn_txfile_free(t);
    qcn_txfile_free(u);
    qcn_wallet_key_free(a);
    qcn_wallet_key_free(b);
    qcn_wallet_key_free(c);
    qcn_wallet_key_free(d);
}

static void test_keyop_gas(void **state)
{
    struct qcn_wallet_key *k = key(QCN_SCHEME_MLDSA65, 8);
    struct qcn_txfile *t = qcn_txfile_new();
    struct qcn_txfile_key keys[2];
    struct qcn_buf d;
    uint64_t base;
    size_t i;
    (void)state;
    t->f.has_to = 1;
    memcpy(t->f.to, qcn_wallet_key_manager, 20);
    t->f.scheme = k->scheme;
    qcn_buf_init(&d, QCN_TX_MAX_DATA);
    assert_int_equal(qcn_keyop_rotate(&d, QCN_SCHEME_MLDSA65, k->pk, k->pk_len), QCN_OK);
    assert_int_equal(qcn_txfile_set_data(t, d.p, d.len), QCN_OK);
    base = 21000 + 3309 * 16 + 3000;
    for (i = 0; i < d.len; i++)
        base += d.p[i] ? 16 : 4;
    assert_int_equal(qcn_txfile_gas(t), base + 20000);
    qcn_buf_reset(&d);
    for (i = 0; i < 2; i++) {
        keys[i].scheme = k->scheme;
        memcpy(keys[i].pk, k->pk, k->pk_len);
        keys[i].pk_len = k->pk_len;
        keys[i].pk[0] ^= (uint8_t)i;
    }
    assert_int_equal(qcn_keyop_multisig(&d, 2, 1, keys, 2), QCN_OK);
    assert_int_equal(qcn_txfile_set_data(t, d.p, d.len), QCN_OK);
    base = 21000 + 3309 * 16 + 3000;
    for (i = 0; i < d.len; i++)
        base += d.p[i] ? 16 : 4;
    assert_int_equal(qcn_txfile_gas(t), base + 52000);
    qcn_buf_clear(&d);
    qcn_txfile_free(t);
    qcn_wallet_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_key),
        cmocka_unit_test(test_edited_file_refused),
        cmocka_unit_test(test_multisig),
        cmocka_unit_test(test_keyop_gas),
    };
    if (qcn_mem_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
