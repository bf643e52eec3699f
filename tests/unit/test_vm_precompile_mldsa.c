/* The ML-DSA verification precompiles 0x0100-0x0102: real signatures from
 * qcn_mldsa_sign, the abi.encode(bytes pk, bytes msg, bytes ctx, bytes sig)
 * input layout, gas, and every malformed-input path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/mldsa.h"
#include "vm/precompile.h"
#include "vm/precompile_impl.h"

#define GAS 10000000u
#define BUF_MAX 20000u

struct fixture {
    int param, id;
    uint64_t base;
    uint8_t pk[QCN_MLDSA_MAX_PK_BYTES], sk[QCN_MLDSA_MAX_SK_BYTES], sig[QCN_MLDSA_MAX_SIG_BYTES];
    size_t pklen, siglen;
};

static const uint8_t MSG[] = "transfer 10 QCN to 0x1234";
static const uint8_t CTX[] = "qcn-test";

static void put_word(uint8_t *p, uint64_t v)
{
    memset(p, 0, QCN_VM_WORD_BYTES);
    qcn_store_be64(p + QCN_VM_WORD_BYTES - 8, v);
}

/* Solidity's abi.encode of four `bytes`: offsets, then length || data padded
 * to a multiple of 32. Returns the encoded length. */
static size_t abi_encode(uint8_t *out, const uint8_t *const f[4], const size_t l[4])
{
    size_t off = 4 * QCN_VM_WORD_BYTES, i;
    for (i = 0; i < 4; i++) {
        size_t pad = (l[i] + 31) / 32 * 32;
        put_word(out + 32 * i, off);
        put_word(out + off, l[i]);
        if (l[i] > 0)
            memcpy(out + off + 32, f[i], l[i]);
        memset(out + off + 32 + l[i], 0, pad - l[i]);
        off += 32 + pad;
    }
    return off;
}

static void setup(struct fixture *fx, int param, int id, uint64_t base)
{
    uint8_t seed[QCN_MLDSA_SEED_BYTES];
    memset(seed, param, sizeof seed);
    fx->param = param;
    fx->id = id;
    fx->base = base;
    fx->pklen = qcn_mldsa_pk_bytes(param);
    fx->siglen = qcn_mldsa_sig_bytes(param);
    assert_int_equal(qcn_mldsa_keygen(param, fx->pk, fx->sk, seed), QCN_OK);
    assert_int_equal(qcn_mldsa_sign(param, fx->sig, fx->sk, MSG, sizeof MSG - 1, CTX,
                                    sizeof CTX - 1, QCN_MLDSA_DETERMINISTIC, NULL),
                     QCN_OK);
}

/* Runs the precompile; returns the error, and the output word's last byte in
 * *verdict on success. */
static int call(const struct fixture *fx, const uint8_t *in, size_t inlen, uint64_t gas,
                int *verdict, uint64_t *used)
{
    struct qcn_buf out;
    int err;
    qcn_buf_init(&out, 64);
    err = qcn_vm_precompile_run(fx->id, &out, used, in, inlen, gas);
    *verdict = -1;
    if (err == QCN_OK) {
        size_t i;
        assert_int_equal(out.len, 32);
        for (i = 0; i < 31; i++)
            assert_int_equal(out.p[i], 0);
        assert_true(out.p[31] <= 1);
        *verdict = out.p[31];
    } else {
        assert_int_equal(*used, gas);
        assert_int_equal(out.len, 0);
    }
    qcn_buf_clear(&out);
    return err;
}

static int verdict_of(const struct fixture *fx, const uint8_t *pk, size_t pklen, const uint8_t *msg,
                      size_t msglen, const uint8_t *ctx, size_t ctxlen, const uint8_t *sig,
                      size_t siglen)
{
    uint8_t *buf = malloc(BUF_MAX);
    const uint8_t *f[4] = {pk, msg, ctx, sig};
    size_t l[4] = {pklen, msglen, ctxlen, siglen}, n;
    uint64_t used;
    int v, err;
    assert_non_null(buf);
    n = abi_encode(buf, f, l);
    err = call(fx, buf, n, GAS, &v, &used);
    free(buf);
    return err == QCN_OK ? v : -1;
}

static void check_set(int param, int id, uint64_t base)
{
    struct fixture *fx = malloc(sizeof *fx);
    uint8_t *buf = malloc(BUF_MAX), bad[QCN_MLDSA_MAX_SIG_BYTES], ctx256[256];
    const uint8_t *f[4];
    size_t l[4], n;
    uint64_t used;
    int v;

    assert_non_null(fx);
    assert_non_null(buf);
    setup(fx, param, id, base);
    f[0] = fx->pk;
    f[1] = MSG;
    f[2] = CTX;
    f[3] = fx->sig;
    l[0] = fx->pklen;
    l[1] = sizeof MSG - 1;
    l[2] = sizeof CTX - 1;
    l[3] = fx->siglen;
    n = abi_encode(buf, f, l);

    /* valid: 1, priced base + 6 per input word, exactly */
    assert_int_equal(call(fx, buf, n, GAS, &v, &used), QCN_OK);
    assert_int_equal(v, 1);
    assert_int_equal(used, base + 6 * ((n + 31) / 32));
    assert_int_equal(call(fx, buf, n, used, &v, &used), QCN_OK);
    assert_int_equal(call(fx, buf, n, used - 1, &v, &used), QCN_ERR_VM_OUT_OF_GAS);

    /* rejections: 0 */
    memcpy(bad, fx->sig, fx->siglen);
    bad[10] ^= 1;
    assert_int_equal(verdict_of(fx, fx->pk, fx->pklen, MSG, sizeof MSG - 1, CTX, sizeof CTX - 1,
                                bad, fx->siglen),
                     0);
    assert_int_equal(verdict_of(fx, fx->pk, fx->pklen, MSG, sizeof MSG - 2, CTX, sizeof CTX - 1,
                                fx->sig, fx->siglen),
                     0);
    assert_int_equal(
        verdict_of(fx, fx->pk, fx->pklen, MSG, sizeof MSG - 1, NULL, 0, fx->sig, fx->siglen), 0);
    assert_int_equal(verdict_of(fx, fx->pk, fx->pklen, MSG, sizeof MSG - 1, CTX, sizeof CTX - 1,
                                fx->sig, fx->siglen - 1),
                     0);
    assert_int_equal(
        verdict_of(fx, fx->pk, fx->pklen, MSG, sizeof MSG - 1, CTX, sizeof CTX - 1, fx->sig, 0), 0);

    /* failures: wrong pk length, ctx over 255 bytes */
    assert_int_equal(verdict_of(fx, fx->pk, fx->pklen - 1, MSG, sizeof MSG - 1, CTX, sizeof CTX - 1,
                                fx->sig, fx->siglen),
                     -1);
    memset(ctx256, 7, sizeof ctx256);
    assert_int_equal(verdict_of(fx, fx->pk, fx->pklen, MSG, sizeof MSG - 1, ctx256, sizeof ctx256,
                                fx->sig, fx->siglen),
                     -1);

    /* malformed encodings fail */
    assert_int_equal(call(fx, buf, 127, GAS, &v, &used), QCN_ERR_VM_PRECOMPILE);
    /* padding is not required; cutting into the signature is malformed */
    assert_int_equal(call(fx, buf, n - (32 - fx->siglen % 32) % 32, GAS, &v, &used), QCN_OK);
    assert_int_equal(call(fx, buf, n - 32, GAS, &v, &used), QCN_ERR_VM_PRECOMPILE);
    {
        uint8_t *m = malloc(n);
        assert_non_null(m);
        memcpy(m, buf, n);
        m[3 * 32 + 31] = 0xff; /* sig offset past its real place */
        m[3 * 32 + 30] = 0xff;
        assert_int_equal(call(fx, m, n, GAS, &v, &used), QCN_ERR_VM_PRECOMPILE);
        memcpy(m, buf, n);
        m[0] = 1; /* pk offset >= 2^248 */
        assert_int_equal(call(fx, m, n, GAS, &v, &used), QCN_ERR_VM_PRECOMPILE);
        memcpy(m, buf, n);
        put_word(m + 32, n - 31); /* msg length word runs past the end */
        assert_int_equal(call(fx, m, n, GAS, &v, &used), QCN_ERR_VM_PRECOMPILE);
        memcpy(m, buf, n);
        put_word(m + 128, UINT64_MAX); /* pk length absurd */
        assert_int_equal(call(fx, m, n, GAS, &v, &used), QCN_ERR_VM_PRECOMPILE);
        /* Non-canonical but in-bounds offsets are accepted, as by Solidity's
         * decoder: ctx pointed at the msg field reads msg as the context. */
        memcpy(m, buf, n);
        memcpy(m + 2 * 32, m + 32, 32);
        assert_int_equal(call(fx, m, n, GAS, &v, &used), QCN_OK);
        assert_int_equal(v, 0);
        free(m);
    }
    /* An all-zero head (every field at offset 0, whose "length" word
     * is 0) is four empty byte strings: wrong pk length, so a failure. */
    {
        uint8_t z[128] = {0};
        assert_int_equal(call(fx, z, sizeof z, GAS, &v, &used), QCN_ERR_VM_PRECOMPILE);
    }
    free(buf);
    free(fx);
}

static void test_mldsa44(void **state)
{
    (void)state;
    check_set(QCN_MLDSA44, QCN_VM_PC_MLDSA44_VERIFY, QCN_VM_GAS_MLDSA44_BASE);
}

static void test_mldsa65(void **state)
{
    (void)state;
    check_set(QCN_MLDSA65, QCN_VM_PC_MLDSA65_VERIFY, QCN_VM_GAS_MLDSA65_BASE);
}

static void test_mldsa87(void **state)
{
    (void)state;
    check_set(QCN_MLDSA87, QCN_VM_PC_MLDSA87_VERIFY, QCN_VM_GAS_MLDSA87_BASE);
}

/* A signature for one parameter set sent to another: the key length is
 * wrong, so the call fails rather than answering 0. */
static void test_cross_set(void **state)
{
    struct fixture *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    setup(a, QCN_MLDSA44, QCN_VM_PC_MLDSA44_VERIFY, QCN_VM_GAS_MLDSA44_BASE);
    setup(b, QCN_MLDSA65, QCN_VM_PC_MLDSA65_VERIFY, QCN_VM_GAS_MLDSA65_BASE);
    assert_int_equal(
        verdict_of(b, a->pk, a->pklen, MSG, sizeof MSG - 1, CTX, sizeof CTX - 1, a->sig, a->siglen),
        -1);
    /* b's key with a's signature (wrong length for 65): 0 */
    assert_int_equal(
        verdict_of(b, b->pk, b->pklen, MSG, sizeof MSG - 1, CTX, sizeof CTX - 1, a->sig, a->siglen),
        0);
    free(a);
    free(b);
}

static void test_addresses(void **state)
{
    uint8_t a[QCN_VM_ADDRESS_BYTES] = {0};
    (void)state;
    a[18] = 1;
    a[19] = 0;
    assert_int_equal(qcn_vm_precompile_lookup(a), QCN_VM_PC_MLDSA44_VERIFY);
    a[19] = 1;
    assert_int_equal(qcn_vm_precompile_lookup(a), QCN_VM_PC_MLDSA65_VERIFY);
    a[19] = 2;
    assert_int_equal(qcn_vm_precompile_lookup(a), QCN_VM_PC_MLDSA87_VERIFY);
    a[19] = 4;
    assert_int_equal(qcn_vm_precompile_lookup(a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addresses), cmocka_unit_test(test_mldsa44),
        cmocka_unit_test(test_mldsa65),   cmocka_unit_test(test_mldsa87),
        cmocka_unit_test(test_cross_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
