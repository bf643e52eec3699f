/* Keccak-256, SHA3 and SHAKE: known answers, then a differential test against
 * OpenSSL's SHA3/SHAKE over thousands of random inputs, lengths and chunkings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto/keccak.h"
#include "util/hex.h"

static void hex_of(char *out, const uint8_t *p, size_t n)
{
    qcn_hex_encode(out, p, n);
}

static void test_known_answers(void **state)
{
    uint8_t h[64];
    char s[129];
    (void)state;
    qcn_keccak256(h, (const uint8_t *)"", 0);
    hex_of(s, h, 32);
    assert_string_equal(s, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    qcn_keccak256(h, (const uint8_t *)"\xc0", 1);
    hex_of(s, h, 32);
    assert_string_equal(s, "1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");
    qcn_sha3_256(h, (const uint8_t *)"abc", 3);
    hex_of(s, h, 32);
    assert_string_equal(s, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
    qcn_shake128(h, 32, (const uint8_t *)"", 0);
    hex_of(s, h, 32);
    assert_string_equal(s, "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26");
}

static void openssl_digest(const char *name, uint8_t *out, size_t outlen, const uint8_t *in,
                           size_t inlen)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
    assert_non_null(c);
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(c, md, NULL), 1);
    assert_int_equal(EVP_DigestUpdate(c, in, inlen), 1);
    /* OpenSSL 3.0 providers do not set EVP_MD_FLAG_XOF; go by the name. */
    if (strncmp(name, "SHAKE", 5) == 0)
        assert_int_equal(EVP_DigestFinalXOF(c, out, outlen), 1);
    else
        assert_int_equal(EVP_DigestFinal_ex(c, out, NULL), 1);
    EVP_MD_free(md);
    EVP_MD_CTX_free(c);
}

/* Absorbs and squeezes in random-sized pieces, so every partial-block path of
 * the incremental interface is exercised. */
static void ours_chunked(unsigned rate, uint8_t ds, uint8_t *out, size_t outlen, const uint8_t *in,
                         size_t inlen)
{
    struct qcn_keccak k;
    size_t off = 0, n;
    qcn_keccak_init(&k, rate, ds);
    while (off < inlen) {
        n = (size_t)rand() % 300;
        if (n > inlen - off)
            n = inlen - off;
        qcn_keccak_absorb(&k, in + off, n);
        off += n;
    }
    off = 0;
    while (off < outlen) {
        n = 1 + (size_t)rand() % 200;
        if (n > outlen - off)
            n = outlen - off;
        qcn_keccak_squeeze(&k, out + off, n);
        off += n;
    }
    qcn_keccak_clear(&k);
}

static void test_differential_openssl(void **state)
{
    static uint8_t in[2048], ours[1024], theirs[1024];
    int i;
    (void)state;
    srand(20261121);
    for (i = 0; i < 4000; i++) {
        size_t inlen = (size_t)rand() % sizeof in;
        size_t xoflen = 1 + (size_t)rand() % sizeof ours;
        assert_int_equal(RAND_bytes(in, (int)inlen + 1), 1);
        switch (i % 4) {
        case 0:
            openssl_digest("SHA3-256", theirs, 32, in, inlen);
            ours_chunked(QCN_SHA3_256_RATE, 0x06, ours, 32, in, inlen);
            assert_memory_equal(ours, theirs, 32);
            break;
        case 1:
            openssl_digest("SHA3-512", theirs, 64, in, inlen);
            ours_chunked(QCN_SHA3_512_RATE, 0x06, ours, 64, in, inlen);
            assert_memory_equal(ours, theirs, 64);
            break;
        case 2:
            openssl_digest("SHAKE128", theirs, xoflen, in, inlen);
            ours_chunked(QCN_SHAKE128_RATE, 0x1f, ours, xoflen, in, inlen);
            assert_memory_equal(ours, theirs, xoflen);
            break;
        default:
            openssl_digest("SHAKE256", theirs, xoflen, in, inlen);
            ours_chunked(QCN_SHAKE256_RATE, 0x1f, ours, xoflen, in, inlen);
            assert_memory_equal(ours, theirs, xoflen);
            break;
        }
    }
}

static void test_squeeze_blocks_matches_squeeze(void **state)
{
    struct qcn_keccak a, b;
    uint8_t x[3 * QCN_SHAKE128_RATE], y[3 * QCN_SHAKE128_RATE];
    (void)state;
    qcn_shake128_init(&a);
    qcn_shake128_init(&b);
    qcn_keccak_absorb(&a, (const uint8_t *)"seed", 4);
    qcn_keccak_absorb(&b, (const uint8_t *)"seed", 4);
    qcn_keccak_finalize(&a);
    qcn_keccak_squeeze_blocks(&a, x, 1);
    qcn_keccak_squeeze_blocks(&a, x + QCN_SHAKE128_RATE, 2);
    qcn_keccak_squeeze(&b, y, sizeof y);
    assert_memory_equal(x, y, sizeof x);
}

/* qcn_keccak_hash2 over a || b equals the one-shot over the concatenation,
 * wherever the split falls (including empty halves). */
static void test_hash2_matches_concatenation(void **state)
{
    uint8_t in[300], want[64], got[64];
    size_t split;
    (void)state;
    for (split = 0; split < sizeof in; split++)
        in[split] = (uint8_t)(split * 7 + 1);
    for (split = 0; split <= sizeof in; split += 23) {
        qcn_shake256(want, sizeof want, in, sizeof in);
        qcn_keccak_hash2(got, sizeof got, QCN_SHAKE256_RATE, QCN_SHAKE_DS, in, split, in + split,
                         sizeof in - split);
        assert_memory_equal(got, want, sizeof want);
        qcn_sha3_512(want, in, sizeof in);
        qcn_keccak_hash2(got, QCN_SHA3_512_BYTES, QCN_SHA3_512_RATE, QCN_SHA3_DS, in, split,
                         in + split, sizeof in - split);
        assert_memory_equal(got, want, QCN_SHA3_512_BYTES);
    }
    qcn_keccak256(want, NULL, 0);
    qcn_keccak_hash2(got, QCN_KECCAK256_BYTES, QCN_KECCAK256_RATE, QCN_KECCAK_DS, NULL, 0, NULL, 0);
    assert_memory_equal(got, want, QCN_KECCAK256_BYTES);
}

/* qcn_keccak256_x4 against four one-way hashes (themselves checked against
 * known answers above), with equal and unequal lengths around the block
 * size: the four-way part then stops at a different block for each mix, and
 * the tails finish one by one. */
static void test_keccak256_x4_matches_one_way(void **state)
{
    static const size_t lens[] = {0, 1, 135, 136, 137, 271, 272, 273, 1000, 3388, 3400, 5000};
    const size_t nl = sizeof lens / sizeof lens[0];
    static uint8_t buf[4][5000];
    uint8_t got[4][32], want[32];
    uint8_t *out[4];
    const uint8_t *in[4];
    size_t len[4], i, t, round;
    (void)state;
    for (t = 0; t < 4; t++) {
        for (i = 0; i < sizeof buf[t]; i++)
            buf[t][i] = (uint8_t)(i * 13 + t * 101 + 7);
        out[t] = got[t];
        in[t] = buf[t];
    }
    for (round = 0; round < nl * nl; round++) {
        len[0] = lens[round % nl];
        len[1] = lens[round / nl];
        len[2] = lens[(round * 7 + 3) % nl];
        len[3] = round % 5 == 0 ? len[0] : lens[(round * 5 + 1) % nl];
        qcn_keccak256_x4(out, in, len);
        for (t = 0; t < 4; t++) {
            qcn_keccak256(want, buf[t], len[t]);
            assert_memory_equal(got[t], want, sizeof want);
        }
    }
    /* Known answer: Keccak-256 of the empty string in every lane. */
    for (t = 0; t < 4; t++) {
        in[t] = NULL;
        len[t] = 0;
    }
    qcn_keccak256_x4(out, in, len);
    for (t = 0; t < 4; t++) {
        char hx[65];
        hex_of(hx, got[t], 32);
        assert_string_equal(hx, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_hash2_matches_concatenation),
        cmocka_unit_test(test_differential_openssl),
        cmocka_unit_test(test_squeeze_blocks_matches_squeeze),
        cmocka_unit_test(test_keccak256_x4_matches_one_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
