/* ML-KEM: round trips on random keys for all three parameter sets, implicit
 * rejection recomputed independently (K̄ = SHAKE256(z || c)), the §7.2/§7.3
 * key checks on corrupted keys, and argument errors. Known answers are in
 * tests/vectors/test_crypto_acvp_mlkem.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/keccak.h"
#include "crypto/keccak_x4.h"
#include "crypto/mlkem.h"
#include "crypto/mlkem_internal.h"
#include "crypto/rng.h"

static const int params[] = {QCN_MLKEM512, QCN_MLKEM768, QCN_MLKEM1024};

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(qcn_mlkem_ek_bytes(QCN_MLKEM512), QCN_MLKEM512_EK_BYTES);
    assert_int_equal(qcn_mlkem_dk_bytes(QCN_MLKEM512), QCN_MLKEM512_DK_BYTES);
    assert_int_equal(qcn_mlkem_ct_bytes(QCN_MLKEM512), QCN_MLKEM512_CT_BYTES);
    assert_int_equal(qcn_mlkem_ek_bytes(QCN_MLKEM768), QCN_MLKEM768_EK_BYTES);
    assert_int_equal(qcn_mlkem_dk_bytes(QCN_MLKEM768), QCN_MLKEM768_DK_BYTES);
    assert_int_equal(qcn_mlkem_ct_bytes(QCN_MLKEM768), QCN_MLKEM768_CT_BYTES);
    assert_int_equal(qcn_mlkem_ek_bytes(QCN_MLKEM1024), QCN_MLKEM1024_EK_BYTES);
    assert_int_equal(qcn_mlkem_dk_bytes(QCN_MLKEM1024), QCN_MLKEM1024_DK_BYTES);
    assert_int_equal(qcn_mlkem_ct_bytes(QCN_MLKEM1024), QCN_MLKEM1024_CT_BYTES);
    assert_int_equal(qcn_mlkem_ek_bytes(256), 0);
}

static void test_roundtrip_random(void **state)
{
    uint8_t ek[QCN_MLKEM_MAX_EK_BYTES], dk[QCN_MLKEM_MAX_DK_BYTES], ct[QCN_MLKEM_MAX_CT_BYTES];
    uint8_t ss1[32], ss2[32], prev[32] = {0};
    (void)state;
    for (size_t p = 0; p < 3; p++) {
        for (int iter = 0; iter < 20; iter++) {
            assert_int_equal(qcn_mlkem_keygen(params[p], ek, dk, NULL, NULL), QCN_OK);
            assert_int_equal(qcn_mlkem_check_ek(params[p], ek), QCN_OK);
            assert_int_equal(qcn_mlkem_check_dk(params[p], dk), QCN_OK);
            assert_int_equal(qcn_mlkem_encaps(params[p], ct, ss1, ek, NULL), QCN_OK);
            assert_int_equal(qcn_mlkem_decaps(params[p], ss2, dk, ct), QCN_OK);
            assert_memory_equal(ss1, ss2, 32);
            assert_memory_not_equal(ss1, prev, 32);
            memcpy(prev, ss1, 32);
        }
    }
}

static void test_deterministic(void **state)
{
    uint8_t d[32], z[32], m[32];
    uint8_t ek1[QCN_MLKEM768_EK_BYTES], dk1[QCN_MLKEM768_DK_BYTES];
    uint8_t ek2[QCN_MLKEM768_EK_BYTES], dk2[QCN_MLKEM768_DK_BYTES];
    uint8_t ct1[QCN_MLKEM768_CT_BYTES], ct2[QCN_MLKEM768_CT_BYTES], ss1[32], ss2[32];
    (void)state;
    qcn_rng_bytes(d, 32);
    qcn_rng_bytes(z, 32);
    qcn_rng_bytes(m, 32);
    assert_int_equal(qcn_mlkem_keygen(QCN_MLKEM768, ek1, dk1, d, z), QCN_OK);
    assert_int_equal(qcn_mlkem_keygen(QCN_MLKEM768, ek2, dk2, d, z), QCN_OK);
    assert_memory_equal(ek1, ek2, sizeof ek1);
    assert_memory_equal(dk1, dk2, sizeof dk1);
    /* z is the last 32 bytes of dk (Alg 16). */
    assert_memory_equal(dk1 + sizeof dk1 - 32, z, 32);
    assert_int_equal(qcn_mlkem_encaps(QCN_MLKEM768, ct1, ss1, ek1, m), QCN_OK);
    assert_int_equal(qcn_mlkem_encaps(QCN_MLKEM768, ct2, ss2, ek1, m), QCN_OK);
    assert_memory_equal(ct1, ct2, sizeof ct1);
    assert_memory_equal(ss1, ss2, 32);
    /* A different z changes only the rejection key, not ek. */
    z[0] ^= 1;
    assert_int_equal(qcn_mlkem_keygen(QCN_MLKEM768, ek2, dk2, d, z), QCN_OK);
    assert_memory_equal(ek1, ek2, sizeof ek1);
}

/* Every byte position class of the ciphertext (u part, v part, first, last)
 * gives the implicit-rejection key J(z || c'), never the real one. */
static void test_implicit_rejection(void **state)
{
    uint8_t ek[QCN_MLKEM_MAX_EK_BYTES], dk[QCN_MLKEM_MAX_DK_BYTES], ct[QCN_MLKEM_MAX_CT_BYTES];
    uint8_t ss[32], ss_bad[32], kbar[32];
    uint8_t zc[32 + QCN_MLKEM_MAX_CT_BYTES];
    (void)state;
    for (size_t p = 0; p < 3; p++) {
        size_t ctn = qcn_mlkem_ct_bytes(params[p]), dkn = qcn_mlkem_dk_bytes(params[p]);
        size_t where[] = {0, 1, ctn / 2, ctn - 32, ctn - 1};
        assert_int_equal(qcn_mlkem_keygen(params[p], ek, dk, NULL, NULL), QCN_OK);
        assert_int_equal(qcn_mlkem_encaps(params[p], ct, ss, ek, NULL), QCN_OK);
        for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
            ct[where[w]] ^= 0x10;
            assert_int_equal(qcn_mlkem_decaps(params[p], ss_bad, dk, ct), QCN_OK);
            memcpy(zc, dk + dkn - 32, 32);
            memcpy(zc + 32, ct, ctn);
            qcn_shake256(kbar, 32, zc, 32 + ctn);
            assert_memory_equal(ss_bad, kbar, 32);
            assert_memory_not_equal(ss_bad, ss, 32);
            ct[where[w]] ^= 0x10;
        }
        assert_int_equal(qcn_mlkem_decaps(params[p], ss_bad, dk, ct), QCN_OK);
        assert_memory_equal(ss_bad, ss, 32);
    }
}

static void test_key_checks(void **state)
{
    uint8_t ek[QCN_MLKEM_MAX_EK_BYTES], dk[QCN_MLKEM_MAX_DK_BYTES], ct[QCN_MLKEM_MAX_CT_BYTES];
    uint8_t ss[32];
    (void)state;
    for (size_t p = 0; p < 3; p++) {
        size_t ekn = qcn_mlkem_ek_bytes(params[p]), dkn = qcn_mlkem_dk_bytes(params[p]);
        assert_int_equal(qcn_mlkem_keygen(params[p], ek, dk, NULL, NULL), QCN_OK);
        /* A 12-bit coefficient equal to q (0xd01) in the last t̂ slot. */
        ek[ekn - 32 - 3] = 0x01;
        ek[ekn - 32 - 2] = (uint8_t)((ek[ekn - 32 - 2] & 0xf0) | 0x0d);
        assert_int_equal(qcn_mlkem_check_ek(params[p], ek), QCN_ERR_KEY_CHECK);
        memset(ct, 0xaa, sizeof ct);
        memset(ss, 0xaa, sizeof ss);
        assert_int_equal(qcn_mlkem_encaps(params[p], ct, ss, ek, NULL), QCN_ERR_KEY_CHECK);
        for (size_t i = 0; i < 32; i++)
            assert_int_equal(ss[i], 0);
        /* ρ is not range-checked: changing it keeps the key valid. */
        assert_int_equal(qcn_mlkem_keygen(params[p], ek, dk, NULL, NULL), QCN_OK);
        ek[ekn - 1] ^= 0xff;
        assert_int_equal(qcn_mlkem_check_ek(params[p], ek), QCN_OK);
        /* dk: any change to the embedded ek or to H(ek) fails §7.3. */
        dk[dkn / 2] ^= 1;
        assert_int_equal(qcn_mlkem_check_dk(params[p], dk), QCN_ERR_KEY_CHECK);
        assert_int_equal(qcn_mlkem_decaps(params[p], ss, dk, ct), QCN_ERR_KEY_CHECK);
        dk[dkn / 2] ^= 1;
        dk[dkn - 64] ^= 1;
        assert_int_equal(qcn_mlkem_check_dk(params[p], dk), QCN_ERR_KEY_CHECK);
        dk[dkn - 64] ^= 1;
        assert_int_equal(qcn_mlkem_check_dk(params[p], dk), QCN_OK);
    }
}

static void test_bad_args(void **state)
{
    uint8_t ek[QCN_MLKEM_MAX_EK_BYTES], dk[QCN_MLKEM_MAX_DK_BYTES], ct[QCN_MLKEM_MAX_CT_BYTES];
    uint8_t ss[32], d[32] = {0};
    (void)state;
    assert_int_equal(qcn_mlkem_keygen(1000, ek, dk, NULL, NULL), QCN_ERR_BAD_PARAM_SET);
    assert_int_equal(qcn_mlkem_keygen(QCN_MLKEM768, ek, dk, d, NULL), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_mlkem_encaps(0, ct, ss, ek, NULL), QCN_ERR_BAD_PARAM_SET);
    assert_int_equal(qcn_mlkem_decaps(-1, ss, dk, ct), QCN_ERR_BAD_PARAM_SET);
    assert_int_equal(qcn_mlkem_check_ek(QCN_MLKEM768, NULL), QCN_ERR_INVALID_ARG);
}

/* Uniform-ish value in [lo, hi] from the RNG (test data only). */
static int16_t rnd_range(int lo, int hi)
{
    uint8_t b[4];
    uint32_t x;
    qcn_rng_bytes(b, sizeof b);
    x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return (int16_t)(lo + (int)(x % (uint32_t)(hi - lo + 1)));
}

/* The AVX2 kernels must be bit-identical to the portable ones on every
 * input range the scheme produces, including the extremes. */
static void test_avx2_matches_portable(void **state)
{
    int16_t a[QCN_MLKEM_N], b[QCN_MLKEM_N], x[QCN_MLKEM_N], y[QCN_MLKEM_N];
    const int q = QCN_MLKEM_Q;
    (void)state;
    if (!qcn_mlkem_have_avx2()) {
        print_message("no AVX2 on this CPU: portable kernels only\n");
        skip();
    }
    for (int iter = 0; iter < 400; iter++) {
        int mode = iter % 4;
        for (int i = 0; i < QCN_MLKEM_N; i++) {
            /* 0: |c| <= q, 1: extremes, 2: small (CBD), 3: [0, q) */
            a[i] = mode == 0   ? rnd_range(-q, q)
                   : mode == 1 ? (int16_t)((i + iter) % 2 ? q : -q)
                   : mode == 2 ? rnd_range(-3, 3)
                               : rnd_range(0, q - 1);
            b[i] = rnd_range(-(q - 1) / 2, (q - 1) / 2);
        }
        memcpy(x, a, sizeof a);
        memcpy(y, a, sizeof a);
        qcn_mlkem_ntt_ref(x);
        qcn_mlkem_ntt_avx2(y);
        assert_memory_equal(x, y, sizeof x);

        /* Accumulate up to four products as the scheme does, then invert. */
        if (mode != 1)
            for (int i = 0; i < QCN_MLKEM_N; i++)
                a[i] = rnd_range(0, q - 1);
        memset(x, 0, sizeof x);
        memset(y, 0, sizeof y);
        for (int t = 0; t <= iter % 4; t++) {
            qcn_mlkem_basemul_acc_ref(x, a, b);
            qcn_mlkem_basemul_acc_avx2(y, a, b);
            assert_memory_equal(x, y, sizeof x);
        }
        qcn_mlkem_invntt_ref(x);
        qcn_mlkem_invntt_avx2(y);
        assert_memory_equal(x, y, sizeof x);
    }
}

/* The four-way Keccak permutation equals four runs of keccak.c's. */
static void test_keccakx4_matches_scalar(void **state)
{
    uint64_t st[25][4], one[4][25];
    (void)state;
    if (!qcn_mlkem_have_avx2())
        skip();
    for (int iter = 0; iter < 50; iter++) {
        qcn_rng_bytes((uint8_t *)st, sizeof st);
        for (int t = 0; t < 4; t++)
            for (int i = 0; i < 25; i++)
                one[t][i] = st[i][t];
        qcn_keccak_x4_f1600(st);
        for (int t = 0; t < 4; t++) {
            qcn_keccak_f1600(one[t]);
            for (int i = 0; i < 25; i++)
                assert_true(one[t][i] == st[i][t]);
        }
    }
}

/* Four-way SampleNTT and PRF against the scalar SHAKE streams. */
static void test_x4_streams_match_scalar(void **state)
{
    uint8_t seed[32], idx[4][2], nonce[4], in[34], prf[4][192], want[192];
    int16_t polys[4][QCN_MLKEM_N];
    int16_t *out[4] = {polys[0], polys[1], polys[2], polys[3]};
    uint8_t *pout[4] = {prf[0], prf[1], prf[2], prf[3]};
    (void)state;
    if (!qcn_mlkem_have_avx2())
        skip();
    for (int iter = 0; iter < 20; iter++) {
        qcn_rng_bytes(seed, sizeof seed);
        qcn_rng_bytes(&idx[0][0], sizeof idx);
        qcn_rng_bytes(nonce, sizeof nonce);
        qcn_mlkem_sample_ntt_x4_avx2(out, seed, idx);
        qcn_mlkem_prf_x4_avx2(pout, iter % 2 ? 192 : 128, seed, nonce);
        for (int t = 0; t < 4; t++) {
            /* Scalar SampleNTT: rejection-sample a long SHAKE128 stream. */
            uint8_t stream[168 * 12];
            int16_t ref[QCN_MLKEM_N];
            memcpy(in, seed, 32);
            in[32] = idx[t][0];
            in[33] = idx[t][1];
            qcn_shake128(stream, sizeof stream, in, 34);
            assert_int_equal(qcn_mlkem_rej_uniform(ref, 0, stream, sizeof stream), QCN_MLKEM_N);
            assert_memory_equal(ref, polys[t], sizeof ref);
            memcpy(in, seed, 32);
            in[32] = nonce[t];
            qcn_shake256(want, iter % 2 ? 192 : 128, in, 33);
            assert_memory_equal(want, prf[t], iter % 2 ? 192 : 128);
        }
    }
}

/* NTT then inverse NTT is the identity up to the documented R factor:
 * invntt(basemul-free ntt(a)) = a·R mod q. Checks the shared tables. */
static void test_ntt_roundtrip(void **state)
{
    int16_t a[QCN_MLKEM_N], x[QCN_MLKEM_N];
    (void)state;
    for (int i = 0; i < QCN_MLKEM_N; i++)
        a[i] = rnd_range(-(QCN_MLKEM_Q - 1), QCN_MLKEM_Q - 1);
    memcpy(x, a, sizeof a);
    qcn_mlkem_ntt_ref(x);
    qcn_mlkem_invntt_ref(x);
    for (int i = 0; i < QCN_MLKEM_N; i++) {
        int32_t want = ((int32_t)a[i] * 65536) % QCN_MLKEM_Q;
        int32_t got = x[i] % QCN_MLKEM_Q;
        if (want < 0)
            want += QCN_MLKEM_Q;
        if (got < 0)
            got += QCN_MLKEM_Q;
        assert_int_equal(got, want);
    }
}

/* Encaps and decaps zero their outputs on argument errors too. */
static void test_outputs_zeroed_on_bad_args(void **state)
{
    static uint8_t ek[QCN_MLKEM768_EK_BYTES], dk[QCN_MLKEM768_DK_BYTES];
    uint8_t ct[QCN_MLKEM768_CT_BYTES], ss[QCN_MLKEM_SS_BYTES], zero[QCN_MLKEM768_CT_BYTES];
    (void)state;
    memset(zero, 0, sizeof zero);
    assert_int_equal(qcn_mlkem_keygen(QCN_MLKEM768, ek, dk, NULL, NULL), QCN_OK);
    memset(ss, 0xa5, sizeof ss);
    assert_int_equal(qcn_mlkem_encaps(7, ct, ss, ek, NULL), QCN_ERR_BAD_PARAM_SET);
    assert_memory_equal(ss, zero, sizeof ss);
    memset(ct, 0xa5, sizeof ct);
    memset(ss, 0xa5, sizeof ss);
    assert_int_equal(qcn_mlkem_encaps(QCN_MLKEM768, ct, ss, NULL, NULL), QCN_ERR_INVALID_ARG);
    assert_memory_equal(ct, zero, sizeof ct);
    assert_memory_equal(ss, zero, sizeof ss);
    memset(ss, 0xa5, sizeof ss);
    assert_int_equal(qcn_mlkem_decaps(7, ss, dk, ct), QCN_ERR_BAD_PARAM_SET);
    assert_memory_equal(ss, zero, sizeof ss);
    memset(ss, 0xa5, sizeof ss);
    assert_int_equal(qcn_mlkem_decaps(QCN_MLKEM768, ss, dk, NULL), QCN_ERR_INVALID_ARG);
    assert_memory_equal(ss, zero, sizeof ss);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_implicit_rejection),
        cmocka_unit_test(test_key_checks),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_avx2_matches_portable),
        cmocka_unit_test(test_ntt_roundtrip),
        cmocka_unit_test(test_keccakx4_matches_scalar),
        cmocka_unit_test(test_outputs_zeroed_on_bad_args),
        cmocka_unit_test(test_x4_streams_match_scalar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
