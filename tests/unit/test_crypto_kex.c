/* Hybrid X25519 + ML-KEM-768 key agreement: both sides agree; the secret is
 * the documented SHAKE256 layout (recomputed here with OpenSSL and
 * libsodium); any change to context, ciphertext, X25519 values or keys
 * changes it; low-order X25519 points, bad ek and bad lengths are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "crypto/kex.h"
#include "crypto/mlkem.h"

static const uint8_t ctx_a[] = "qcn/p2p/1 chain=1337 hello-i hello-r";
static const uint8_t ctx_b[] = "qcn/p2p/1 chain=1338 hello-i hello-r";

/* Runs a full exchange; returns the responder's secret in rs, the
 * initiator's in is; st is left for the caller to inspect and clear. */
static void exchange(struct qcn_kex_initiator *st, uint8_t im[QCN_KEX_INIT_MSG_BYTES],
                     uint8_t rm[QCN_KEX_RESP_MSG_BYTES], uint8_t rs[QCN_KEX_SECRET_BYTES])
{
    assert_int_equal(qcn_kex_initiator_start(st, im), QCN_OK);
    assert_int_equal(qcn_kex_respond(rs, rm, im, QCN_KEX_INIT_MSG_BYTES, ctx_a, sizeof ctx_a),
                     QCN_OK);
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static void test_agree(void **state)
{
    struct qcn_kex_initiator st;
    uint8_t im[QCN_KEX_INIT_MSG_BYTES], rm[QCN_KEX_RESP_MSG_BYTES];
    uint8_t rs[64], is[64], prev[64] = {0};
    (void)state;
    for (int i = 0; i < 5; i++) {
        exchange(&st, im, rm, rs);
        assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, ctx_a, sizeof ctx_a),
                         QCN_OK);
        assert_memory_equal(is, rs, 64);
        assert_false(all_zero(is, 64));
        assert_memory_not_equal(is, prev, 64);
        memcpy(prev, is, 64);
        qcn_kex_initiator_clear(&st);
        assert_true(all_zero((const uint8_t *)&st, sizeof st));
    }
    /* Empty context, NULL pointer. */
    assert_int_equal(qcn_kex_initiator_start(&st, im), QCN_OK);
    assert_int_equal(qcn_kex_respond(rs, rm, im, sizeof im, NULL, 0), QCN_OK);
    assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, NULL, 0), QCN_OK);
    assert_memory_equal(is, rs, 64);
    qcn_kex_initiator_clear(&st);
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

/* Recomputes the secret from the layout documented in kex.h. */
static void test_documented_layout(void **state)
{
    struct qcn_kex_initiator st;
    uint8_t im[QCN_KEX_INIT_MSG_BYTES], rm[QCN_KEX_RESP_MSG_BYTES];
    uint8_t rs[64], ss_x[32], ss_k[32], want[64], len[8];
    const char *label = "QCN-KEX-X25519-MLKEM768-v1";
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    (void)state;
    exchange(&st, im, rm, rs);
    assert_int_equal(crypto_scalarmult(ss_x, st.x25519_sk, rm), 0);
    assert_int_equal(qcn_mlkem_decaps(QCN_MLKEM768, ss_k, st.mlkem_dk, rm + 32), QCN_OK);
    assert_non_null(c);
    assert_int_equal(EVP_DigestInit_ex(c, EVP_shake256(), NULL), 1);
    be64(len, strlen(label));
    assert_int_equal(EVP_DigestUpdate(c, len, 8), 1);
    assert_int_equal(EVP_DigestUpdate(c, label, strlen(label)), 1);
    be64(len, sizeof ctx_a);
    assert_int_equal(EVP_DigestUpdate(c, len, 8), 1);
    assert_int_equal(EVP_DigestUpdate(c, ctx_a, sizeof ctx_a), 1);
    assert_int_equal(EVP_DigestUpdate(c, im, sizeof im), 1);
    assert_int_equal(EVP_DigestUpdate(c, rm, sizeof rm), 1);
    assert_int_equal(EVP_DigestUpdate(c, ss_k, 32), 1);
    assert_int_equal(EVP_DigestUpdate(c, ss_x, 32), 1);
    assert_int_equal(EVP_DigestFinalXOF(c, want, 64), 1);
    EVP_MD_CTX_free(c);
    assert_memory_equal(want, rs, 64);
    qcn_kex_initiator_clear(&st);
}

static void test_changes_give_other_secrets(void **state)
{
    struct qcn_kex_initiator st, other;
    uint8_t im[QCN_KEX_INIT_MSG_BYTES], im2[QCN_KEX_INIT_MSG_BYTES];
    uint8_t rm[QCN_KEX_RESP_MSG_BYTES], rs[64], is[64];
    size_t flips[] = {32, 33, 600, QCN_KEX_RESP_MSG_BYTES - 1};
    (void)state;
    exchange(&st, im, rm, rs);

    /* Transcript/context differs. */
    assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, ctx_b, sizeof ctx_b), QCN_OK);
    assert_memory_not_equal(is, rs, 64);
    assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, ctx_a, sizeof ctx_a - 1),
                     QCN_OK);
    assert_memory_not_equal(is, rs, 64);

    /* Any flipped ML-KEM ciphertext byte: implicit rejection, other secret. */
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        rm[flips[i]] ^= 0x04;
        assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, ctx_a, sizeof ctx_a),
                         QCN_OK);
        assert_memory_not_equal(is, rs, 64);
        rm[flips[i]] ^= 0x04;
    }
    /* A flipped bit of the responder's X25519 value (bit 0: stays a valid
     * point encoding of high order with overwhelming probability). */
    rm[5] ^= 0x01;
    assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, ctx_a, sizeof ctx_a), QCN_OK);
    assert_memory_not_equal(is, rs, 64);
    rm[5] ^= 0x01;

    /* Swapped key: another initiator's state finishing this reply. */
    assert_int_equal(qcn_kex_initiator_start(&other, im2), QCN_OK);
    assert_int_equal(qcn_kex_initiator_finish(&other, is, rm, sizeof rm, ctx_a, sizeof ctx_a),
                     QCN_OK);
    assert_memory_not_equal(is, rs, 64);
    /* Same X25519 key but the other's ML-KEM dk. */
    memcpy(other.x25519_sk, st.x25519_sk, 32);
    memcpy(other.init_msg, st.init_msg, 32);
    assert_int_equal(qcn_kex_initiator_finish(&other, is, rm, sizeof rm, ctx_a, sizeof ctx_a),
                     QCN_OK);
    assert_memory_not_equal(is, rs, 64);
    qcn_kex_initiator_clear(&other);

    /* Unchanged: still agrees (the checks above did not disturb st). */
    assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, ctx_a, sizeof ctx_a), QCN_OK);
    assert_memory_equal(is, rs, 64);
    qcn_kex_initiator_clear(&st);
}

/* Points of order 1, 2, 4, 8 on Curve25519 (u = 0, 1, and the order-8
 * points listed in RFC 7748's discussion / libsodium's blocklist). */
static const uint8_t low_order[][32] = {
    {0},
    {1},
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

static void test_low_order_rejected(void **state)
{
    struct qcn_kex_initiator st;
    uint8_t im[QCN_KEX_INIT_MSG_BYTES], rm[QCN_KEX_RESP_MSG_BYTES], rs[64], is[64];
    (void)state;
    for (size_t i = 0; i < sizeof low_order / sizeof low_order[0]; i++) {
        exchange(&st, im, rm, rs);
        /* Responder side: the initiator's X25519 value is low order. */
        memcpy(im, low_order[i], 32);
        memset(rs, 0xaa, sizeof rs);
        assert_int_equal(qcn_kex_respond(rs, rm, im, sizeof im, ctx_a, sizeof ctx_a),
                         QCN_ERR_BAD_KEY);
        assert_true(all_zero(rs, sizeof rs));
        assert_true(all_zero(rm, sizeof rm));
        /* Initiator side: the responder's X25519 value is low order. */
        memcpy(im, st.init_msg, sizeof im);
        assert_int_equal(qcn_kex_respond(rs, rm, im, sizeof im, ctx_a, sizeof ctx_a), QCN_OK);
        memcpy(rm, low_order[i], 32);
        memset(is, 0xaa, sizeof is);
        assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, ctx_a, sizeof ctx_a),
                         QCN_ERR_BAD_KEY);
        assert_true(all_zero(is, sizeof is));
        qcn_kex_initiator_clear(&st);
    }
}

static void test_bad_inputs(void **state)
{
    struct qcn_kex_initiator st;
    uint8_t im[QCN_KEX_INIT_MSG_BYTES], rm[QCN_KEX_RESP_MSG_BYTES], rs[64], is[64];
    static uint8_t big[QCN_KEX_MAX_CONTEXT_BYTES + 1];
    (void)state;
    memset(&st, 0, sizeof st);
    memset(rm, 0, sizeof rm);
    assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, NULL, 0),
                     QCN_ERR_INVALID_ARG);
    exchange(&st, im, rm, rs);
    assert_int_equal(qcn_kex_respond(rs, rm, im, sizeof im - 1, NULL, 0), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_kex_respond(rs, rm, im, sizeof im + 1, NULL, 0), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_kex_respond(rs, rm, NULL, 0, NULL, 0), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_kex_respond(rs, rm, im, sizeof im, NULL, 5), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_kex_respond(rs, rm, im, sizeof im, big, sizeof big), QCN_ERR_TOO_LARGE);
    assert_int_equal(qcn_kex_respond(rs, rm, im, sizeof im, big, sizeof big - 1), QCN_OK);
    assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm - 1, NULL, 0),
                     QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, big, sizeof big),
                     QCN_ERR_TOO_LARGE);
    assert_int_equal(qcn_kex_initiator_finish(&st, is, rm, sizeof rm, big, sizeof big - 1), QCN_OK);
    assert_memory_equal(is, rs, 64);
    /* An ek that fails the §7.2 modulus check: first coefficient = 0xfff. */
    im[32] = 0xff;
    im[33] |= 0x0f;
    assert_int_equal(qcn_kex_respond(rs, rm, im, sizeof im, NULL, 0), QCN_ERR_KEY_CHECK);
    assert_true(all_zero(rs, sizeof rs));
    qcn_kex_initiator_clear(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agree),
        cmocka_unit_test(test_documented_layout),
        cmocka_unit_test(test_changes_give_other_secrets),
        cmocka_unit_test(test_low_order_rejected),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
