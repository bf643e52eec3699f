/* Precompiles 0x01-0x05, 0x09, 0x0a and SHAKE256: known answers from the EIPs
 * and client test suites, gas (Cancun), and every failure path. BN254 lives
 * in test_vm_bn254.c, ML-DSA in test_vm_precompile_mldsa.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "crypto/keccak.h"
#include "util/hex.h"
#include "vm/blake2f.h"
#include "vm/precompile.h"
#include "vm/precompile_impl.h"

#define OUT_MAX (4u << 20)
#define BIG_GAS 100000000u

struct call {
    struct qcn_buf out;
    uint64_t gas_used;
    int err;
};

static uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2 + 1;
    uint8_t *p = malloc(n);
    assert_non_null(p);
    assert_int_equal(qcn_hex_decode(p, n, len, hex, strlen(hex)), QCN_OK);
    return p;
}

static struct call run_bytes(int id, const uint8_t *in, size_t inlen, uint64_t gas)
{
    struct call c;
    qcn_buf_init(&c.out, OUT_MAX);
    c.gas_used = 12345;
    c.err = qcn_vm_precompile_run(id, &c.out, &c.gas_used, in, inlen, gas);
    if (c.err != QCN_OK) {
        assert_int_equal(c.gas_used, gas);
        assert_int_equal(c.out.len, 0);
    } else {
        assert_true(c.gas_used <= gas);
    }
    return c;
}

static struct call run_hex(int id, const char *hex, uint64_t gas)
{
    size_t n;
    uint8_t *in = unhex(hex, &n);
    struct call c = run_bytes(id, in, n, gas);
    free(in);
    return c;
}

static void expect_out(struct call *c, const char *hex)
{
    char *s = malloc(c->out.len * 2 + 1);
    assert_non_null(s);
    assert_int_equal(c->err, QCN_OK);
    assert_string_equal(qcn_hex_encode(s, c->out.p, c->out.len), hex);
    free(s);
    qcn_buf_clear(&c->out);
}

/* Runs hex with plenty of gas, checks output and price, then checks that one
 * gas less is out of gas and consumes it all. */
static void check(int id, const char *in, const char *out, uint64_t price)
{
    struct call c = run_hex(id, in, BIG_GAS);
    assert_int_equal(c.err, QCN_OK);
    assert_int_equal(c.gas_used, price);
    expect_out(&c, out);
    if (price > 0) {
        c = run_hex(id, in, price - 1);
        assert_int_equal(c.err, QCN_ERR_VM_OUT_OF_GAS);
        assert_int_equal(c.gas_used, price - 1);
        qcn_buf_clear(&c.out);
    }
    c = run_hex(id, in, price);
    assert_int_equal(c.err, QCN_OK);
    assert_int_equal(c.gas_used, price);
    expect_out(&c, out);
}

static void check_fail(int id, const char *in, uint64_t gas, int err)
{
    struct call c = run_hex(id, in, gas);
    assert_int_equal(c.err, err);
    qcn_buf_clear(&c.out);
}

static void test_lookup(void **state)
{
    uint8_t a[QCN_VM_ADDRESS_BYTES] = {0}, all[32][QCN_VM_ADDRESS_BYTES];
    size_t n, i;
    int seen_kzg = 0, seen_shake = 0;
    (void)state;

    assert_int_equal(qcn_vm_precompile_lookup(a), 0);
    for (i = 1; i <= 0x0a; i++) {
        a[19] = (uint8_t)i;
        assert_int_equal(qcn_vm_precompile_lookup(a), (int)i);
    }
    a[19] = 0x0b; /* BLS12-381 is Prague, not Cancun */
    assert_int_equal(qcn_vm_precompile_lookup(a), 0);
    a[18] = 1;
    a[19] = 3;
    assert_int_equal(qcn_vm_precompile_lookup(a), QCN_VM_PC_SHAKE256);
    a[0] = 1;
    assert_int_equal(qcn_vm_precompile_lookup(a), 0);

    n = qcn_vm_precompile_addresses(all, 32);
    assert_true(n >= 11 && n <= 32);
    for (i = 0; i < n; i++) {
        int id = qcn_vm_precompile_lookup(all[i]);
        assert_true(id > 0);
        seen_kzg |= id == QCN_VM_PC_KZG_POINT_EVAL;
        seen_shake |= id == QCN_VM_PC_SHAKE256;
    }
    assert_true(seen_kzg && seen_shake);
    assert_int_equal(qcn_vm_precompile_addresses(all, 2), n);
    assert_int_equal(qcn_vm_precompile_lookup(all[1]), 2);

    /* An id that is not a precompile is a programmer error, still no crash. */
    {
        struct call c = run_hex(0x0b, "", 100);
        assert_int_not_equal(c.err, QCN_OK);
        qcn_buf_clear(&c.out);
    }
}

/* Client test suites' common vector (go-ethereum, Nethermind, aleth). */
#define ECREC_IN                                                                                   \
    "38d18acb67d25c8bb9942764b62f18e17054f66a817bd4295423adf9ed98873e"                             \
    "000000000000000000000000000000000000000000000000000000000000001b"                             \
    "38d18acb67d25c8bb9942764b62f18e17054f66a817bd4295423adf9ed98873e"                             \
    "789d1dd423d25f0772d2748d60f7e4b81bb14d086eba8e8e8efb6dcff8a4ae02"

static void test_ecrecover(void **state)
{
    secp256k1_context *ctx;
    secp256k1_ecdsa_recoverable_signature sig;
    uint8_t sk[32] = {0}, in[128] = {0}, hash[32];
    int recid;
    struct call c;
    (void)state;

    check(QCN_VM_PC_ECRECOVER, ECREC_IN,
          "000000000000000000000000ceaccac640adf55b2028469bd36ba501f28b699d", 3000);

    /* v = 28 instead of 27: a different key (or none), never the same one. */
    c = run_hex(QCN_VM_PC_ECRECOVER,
                "38d18acb67d25c8bb9942764b62f18e17054f66a817bd4295423adf9ed98873e"
                "000000000000000000000000000000000000000000000000000000000000001c"
                "38d18acb67d25c8bb9942764b62f18e17054f66a817bd4295423adf9ed98873e"
                "789d1dd423d25f0772d2748d60f7e4b81bb14d086eba8e8e8efb6dcff8a4ae02",
                3000);
    assert_int_equal(c.err, QCN_OK);
    assert_true(c.out.len == 0 || c.out.len == 32);
    if (c.out.len == 32)
        assert_memory_not_equal(c.out.p + 12, "\xce\xac\xca\xc6", 4);
    qcn_buf_clear(&c.out);

    /* Sign with private key 1, whose address is well known. */
    ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    sk[31] = 1;
    qcn_keccak256(hash, (const uint8_t *)"qcn", 3);
    assert_true(secp256k1_ecdsa_sign_recoverable(ctx, &sig, hash, sk, NULL, NULL));
    assert_true(
        secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, in + 64, &recid, &sig));
    secp256k1_context_destroy(ctx);
    memcpy(in, hash, 32);
    in[63] = (uint8_t)(27 + recid);
    c = run_bytes(QCN_VM_PC_ECRECOVER, in, sizeof in, 3000);
    expect_out(&c, "0000000000000000000000007e5f4552091a69125d5dfcb7b8c2659029395bdf");
    /* Trailing bytes are ignored; a short input is zero-padded (and then
     * fails to recover, but succeeds as a call). */
    {
        uint8_t longer[200];
        memset(longer, 0xee, sizeof longer);
        memcpy(longer, in, sizeof in);
        c = run_bytes(QCN_VM_PC_ECRECOVER, longer, sizeof longer, 3000);
        expect_out(&c, "0000000000000000000000007e5f4552091a69125d5dfcb7b8c2659029395bdf");
        c = run_bytes(QCN_VM_PC_ECRECOVER, in, 100, 3000);
        assert_int_equal(c.err, QCN_OK);
        assert_true(c.out.len == 0 || memcmp(c.out.p + 12, "\x7e\x5f\x45\x52", 4) != 0);
        qcn_buf_clear(&c.out);
    }
    /* Invalid signatures: success with empty output, 3000 gas. */
    {
        uint8_t bad[128];
        static const uint8_t n_order[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                                            0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
                                            0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
        size_t k;
        for (k = 0; k < 7; k++) {
            memcpy(bad, in, sizeof bad);
            switch (k) {
            case 0:
                bad[63] = 29; /* v not 27/28 */
                break;
            case 1:
                bad[62] = 1; /* v's high bytes not zero */
                break;
            case 2:
                memset(bad + 64, 0, 32); /* r = 0 */
                break;
            case 3:
                memset(bad + 96, 0, 32); /* s = 0 */
                break;
            case 4:
                memcpy(bad + 64, n_order, 32); /* r = n */
                break;
            case 5:
                memcpy(bad + 96, n_order, 32); /* s = n */
                break;
            default:
                bad[63] = 0; /* v = 0 (the raw recid) */
                break;
            }
            c = run_bytes(QCN_VM_PC_ECRECOVER, bad, sizeof bad, 3000);
            assert_int_equal(c.gas_used, 3000);
            expect_out(&c, "");
        }
    }
    check_fail(QCN_VM_PC_ECRECOVER, ECREC_IN, 2999, QCN_ERR_VM_OUT_OF_GAS);
    check(QCN_VM_PC_ECRECOVER, "", "", 3000);
}

static void test_hashes(void **state)
{
    (void)state;
    check(QCN_VM_PC_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          60);
    check(QCN_VM_PC_SHA256, "616263",
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 72);
    check(QCN_VM_PC_SHA256, ECREC_IN,
          "811c7003375852fabd0d362e40e68607a12bdabae61a7d068fe5fdd1dbbf2a5d", 60 + 4 * 12);
    check(QCN_VM_PC_RIPEMD160, "",
          "0000000000000000000000009c1185a5c5e9fc54612808977ee8f548b2258d31", 600);
    check(QCN_VM_PC_RIPEMD160, "616263",
          "0000000000000000000000008eb208f7e05d987a9b044a8e98c6b087f15a0bfc", 720);
    check(QCN_VM_PC_RIPEMD160, ECREC_IN,
          "0000000000000000000000009215b8d9882ff46f0dfde6684d78e831467f65e6", 600 + 4 * 120);
    check(QCN_VM_PC_IDENTITY, "", "", 15);
    check(QCN_VM_PC_IDENTITY, "00ff", "00ff", 18);
    check(QCN_VM_PC_IDENTITY, ECREC_IN, ECREC_IN, 15 + 4 * 3);
    /* 33 bytes = 2 words */
    check(QCN_VM_PC_IDENTITY, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
          "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", 21);
}

static void test_shake256(void **state)
{
    struct call c;
    uint8_t in[32 + 300], ref[1000];
    size_t i;
    (void)state;
    /* SHAKE256("abc", 40 bytes): 30 + 6*1 (data) + 6*2 (output). */
    check(QCN_VM_PC_SHAKE256,
          "0000000000000000000000000000000000000000000000000000000000000028616263",
          "483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739d5a15bef186a5386", 48);
    check(QCN_VM_PC_SHAKE256, "0000000000000000000000000000000000000000000000000000000000000000",
          "", 30);
    /* Against OpenSSL for a longer input and output. */
    for (i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7);
    memset(in, 0, 32);
    qcn_store_be16(in + 30, 1000);
    {
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        assert_true(EVP_DigestInit_ex(m, EVP_shake256(), NULL));
        assert_true(EVP_DigestUpdate(m, in + 32, 300));
        assert_true(EVP_DigestFinalXOF(m, ref, sizeof ref));
        EVP_MD_CTX_free(m);
    }
    c = run_bytes(QCN_VM_PC_SHAKE256, in, sizeof in, BIG_GAS);
    assert_int_equal(c.err, QCN_OK);
    assert_int_equal(c.gas_used, 30 + 6 * 10 + 6 * 32);
    assert_int_equal(c.out.len, 1000);
    assert_memory_equal(c.out.p, ref, 1000);
    qcn_buf_clear(&c.out);
    /* Malformed: shorter than the length word. */
    check_fail(QCN_VM_PC_SHAKE256, "00", BIG_GAS, QCN_ERR_VM_PRECOMPILE);
    /* Over the output cap. */
    check_fail(QCN_VM_PC_SHAKE256,
               "0000000000000000000000000000000000000000000000000000000000010001", BIG_GAS,
               QCN_ERR_VM_PRECOMPILE);
    /* A length beyond 64 bits cannot be paid for. */
    check_fail(QCN_VM_PC_SHAKE256,
               "0000000000000000000000000000000100000000000000000000000000000001", UINT64_MAX,
               QCN_ERR_VM_OUT_OF_GAS);
    check_fail(QCN_VM_PC_SHAKE256,
               "000000000000000000000000000000000000000000000000ffffffffffffffff", BIG_GAS,
               QCN_ERR_VM_OUT_OF_GAS);
    check_fail(QCN_VM_PC_SHAKE256,
               "000000000000000000000000000000000000000000000000ffffffffffffffff", UINT64_MAX,
               QCN_ERR_VM_PRECOMPILE);
}

#define W0 "0000000000000000000000000000000000000000000000000000000000000000"
#define W1 "0000000000000000000000000000000000000000000000000000000000000001"
#define W2 "0000000000000000000000000000000000000000000000000000000000000002"
#define W32 "0000000000000000000000000000000000000000000000000000000000000020"
#define WMAX "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define SECP_P "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f"
#define SECP_PM1 "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e"

static uint64_t modpow64(uint64_t b, uint64_t e, uint64_t m)
{
    __extension__ typedef unsigned __int128 u128;
    uint64_t r = 1 % m;
    b %= m;
    while (e) {
        if (e & 1)
            r = (uint64_t)((u128)r * b % m);
        b = (uint64_t)((u128)b * b % m);
        e >>= 1;
    }
    return r;
}

static void test_modexp(void **state)
{
    struct call c;
    uint8_t in[96 + 24];
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int i;
    (void)state;

    /* EIP-198 examples, EIP-2565 prices (mc = 16, iterations = 255). */
    check(QCN_VM_PC_MODEXP, W1 W32 W32 "03" SECP_PM1 SECP_P, W1, 1360);
    check(QCN_VM_PC_MODEXP, W0 W32 W32 SECP_PM1 SECP_P, W0, 1360);
    /* Msize = 2^256-1: priced astronomically; all gas is consumed. */
    check_fail(QCN_VM_PC_MODEXP, W0 W32 WMAX SECP_PM1 SECP_P, UINT64_MAX, QCN_ERR_VM_OUT_OF_GAS);
    /* The padding examples: modulus 0x80 followed by zeros = 2^255; the
     * trailing 07 past Msize is ignored. 3^0xffff mod 2^255, 200 gas. */
    check(QCN_VM_PC_MODEXP,
          W1 W2 W32 "03"
                    "ffff"
                    "8000000000000000000000000000000000000000000000000000000000000000"
                    "07",
          "3b01b01ac41f2d6e917c6d6a221ce793802469026d9ab7578fa2e79e4da6aaab", 200);
    check(QCN_VM_PC_MODEXP, W1 W2 W32 "03ffff80",
          "3b01b01ac41f2d6e917c6d6a221ce793802469026d9ab7578fa2e79e4da6aaab", 200);
    /* Modulus 0 gives Msize zero bytes; Msize 0 gives nothing. */
    check(QCN_VM_PC_MODEXP, W1 W1 W2 "0203", "0000", 200);
    check(QCN_VM_PC_MODEXP, W1 W1 W0 "0203", "", 200);
    check(QCN_VM_PC_MODEXP, "", "", 200);
    /* 0^0 mod 5 = 1; x^y mod 1 = 0. */
    check(QCN_VM_PC_MODEXP, W1 W1 W1 "000005", "01", 200);
    check(QCN_VM_PC_MODEXP, W1 W1 W1 "070901", "00", 200);
    /* Esize > 32 with a zero head: iterations = 8 * (64 - 32) = 256 ->
     * 16 * 256 / 3 = 1365. The 64-byte exponent is 1, so 2^1 mod p = 2. */
    check(QCN_VM_PC_MODEXP,
          W32
          "0000000000000000000000000000000000000000000000000000000000000040" W32 W2 W0 W1 SECP_P,
          W2, 1365);
    /* A huge Esize with Bsize = Msize = 0 costs the minimum and returns
     * nothing, without reading (or allocating) the exponent. */
    check(QCN_VM_PC_MODEXP, W0 WMAX W0, "", 200);
    check(QCN_VM_PC_MODEXP,
          W0 "00000000000000000000000000000000000000000000000000000000ffffffff" W0, "", 200);
    /* A huge Bsize with Msize = 0 still has to pay for Bsize. */
    check_fail(QCN_VM_PC_MODEXP, WMAX W0 W0, UINT64_MAX, QCN_ERR_VM_OUT_OF_GAS);
    check_fail(QCN_VM_PC_MODEXP, W1 WMAX W1 "0203", UINT64_MAX, QCN_ERR_VM_OUT_OF_GAS);
    /* Lengths just inside 64 bits: priced (huge), refused before allocating
     * even when the caller claims unlimited gas. */
    check_fail(QCN_VM_PC_MODEXP,
               W0 W0 "00000000000000000000000000000000000000000000000000000000ffffffff", UINT64_MAX,
               QCN_ERR_VM_PRECOMPILE);
    check_fail(QCN_VM_PC_MODEXP,
               W0 W0 "00000000000000000000000000000000000000000000000000000000ffffffff", BIG_GAS,
               QCN_ERR_VM_OUT_OF_GAS);
    check_fail(QCN_VM_PC_MODEXP,
               W0 W0 "000000000000000000000000000000000000000000000000ffffffffffffffff", UINT64_MAX,
               QCN_ERR_VM_OUT_OF_GAS);
    /* Gas of the nagydani-style sizes (EIP-2565 table): 64-byte operands with
     * exponent 0x010001 -> 64 * 16 / 3 = 341. */
    {
        char hex[2 * (96 + 64 + 3 + 64) + 1];
        size_t k, pos = 0;
        const char *hdr = "0000000000000000000000000000000000000000000000000000000000000040"
                          "0000000000000000000000000000000000000000000000000000000000000003"
                          "0000000000000000000000000000000000000000000000000000000000000040";
        memcpy(hex, hdr, 192);
        pos = 192;
        for (k = 0; k < 64; k++, pos += 2)
            memcpy(hex + pos, "ab", 2);
        memcpy(hex + pos, "010001", 6);
        pos += 6;
        for (k = 0; k < 64; k++, pos += 2)
            memcpy(hex + pos, "cd", 2);
        hex[pos] = 0;
        c = run_hex(QCN_VM_PC_MODEXP, hex, BIG_GAS);
        assert_int_equal(c.err, QCN_OK);
        assert_int_equal(c.gas_used, 341);
        assert_int_equal(c.out.len, 64);
        qcn_buf_clear(&c.out);
    }
    /* Random 8-byte operands against a 128-bit square-and-multiply. */
    for (i = 0; i < 200; i++) {
        uint64_t b, e, m, want;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        b = seed;
        e = seed * 0x2545f4914f6cdd1dULL;
        m = (seed >> 3) | (i & 1 ? 1 : 0);
        memset(in, 0, 96);
        in[31] = 8;
        in[63] = 8;
        in[95] = 8;
        qcn_store_be64(in + 96, b);
        qcn_store_be64(in + 104, e);
        qcn_store_be64(in + 112, m);
        c = run_bytes(QCN_VM_PC_MODEXP, in, sizeof in, BIG_GAS);
        assert_int_equal(c.err, QCN_OK);
        assert_int_equal(c.out.len, 8);
        want = m == 0 ? 0 : modpow64(b, e, m);
        assert_int_equal(qcn_load_be64(c.out.p), want);
        qcn_buf_clear(&c.out);
    }
}

#define B2_H                                                                                       \
    "48c9bdf267e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5d182e6ad7f520e511f6c3e2b8c68" \
    "059b6bbd41fbabd9831f79217e1319cde05b"
#define B2_M                                                                                       \
    "616263000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "0000000000000000000000000000000000000000000000000000000000000000000000000000"
#define B2_T "03000000000000000000000000000000"

static void test_blake2f(void **state)
{
    (void)state;
    /* EIP-152 test vectors 0-7 (vector 8, 2^32-1 rounds, takes minutes). */
    check_fail(QCN_VM_PC_BLAKE2F, "", BIG_GAS, QCN_ERR_VM_PRECOMPILE);
    check_fail(QCN_VM_PC_BLAKE2F, "00000c" B2_H B2_M B2_T "01", BIG_GAS, QCN_ERR_VM_PRECOMPILE);
    check_fail(QCN_VM_PC_BLAKE2F, "000000000c" B2_H B2_M B2_T "01", BIG_GAS, QCN_ERR_VM_PRECOMPILE);
    check_fail(QCN_VM_PC_BLAKE2F, "0000000c" B2_H B2_M B2_T "02", BIG_GAS, QCN_ERR_VM_PRECOMPILE);
    check(
        QCN_VM_PC_BLAKE2F, "00000000" B2_H B2_M B2_T "01",
        "08c9bcf367e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5d282e6ad7f520e511f6c3e2b8c"
        "68059b9442be0454267ce079217e1319cde05b",
        0);
    check(QCN_VM_PC_BLAKE2F, "0000000c" B2_H B2_M B2_T "01",
          "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de"
          "4533cc9518d38aa8dbf1925ab92386edd4009923",
          12);
    check(QCN_VM_PC_BLAKE2F, "0000000c" B2_H B2_M B2_T "00",
          "75ab69d3190a562c51aef8d88f1c2775876944407270c42c9844252c26d2875298743e7f6d5ea2f2d3e8d226"
          "039cd31b4e426ac4f2d3d666a610c2116fde4735",
          12);
    check(QCN_VM_PC_BLAKE2F, "00000001" B2_H B2_M B2_T "01",
          "b63a380cb2897d521994a85234ee2c181b5f844d2c624c002677e9703449d2fba551b3a8333bcdf5f2f7e089"
          "93d53923de3d64fcc68c034e717b9293fed7a421",
          1);
    /* 2^32-1 rounds: priced, and out of gas without running it. */
    check_fail(QCN_VM_PC_BLAKE2F, "ffffffff" B2_H B2_M B2_T "01", 0xfffffffe,
               QCN_ERR_VM_OUT_OF_GAS);
}

/* BLAKE2b-512 of a two-block message through F, against OpenSSL. */
static void test_blake2f_vs_openssl(void **state)
{
    static const uint64_t iv[8] = {
        0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
        0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};
    uint8_t msg[200], ref[64], got[64], block[128];
    uint64_t h[8], m[16], t[2] = {0, 0};
    unsigned int n = 0;
    size_t i, off;
    (void)state;

    for (i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 31 + 5);
    assert_true(EVP_Digest(msg, sizeof msg, ref, &n, EVP_blake2b512(), NULL));
    assert_int_equal(n, 64);
    memcpy(h, iv, sizeof h);
    h[0] ^= 0x01010000u ^ 64u; /* parameter block: digest 64, no key, fanout 1, depth 1 */
    for (off = 0; off < sizeof msg; off += 128) {
        size_t len = sizeof msg - off < 128 ? sizeof msg - off : 128;
        memset(block, 0, sizeof block);
        memcpy(block, msg + off, len);
        for (i = 0; i < 16; i++)
            m[i] = qcn_load_le64(block + 8 * i);
        t[0] += len;
        qcn_vm_blake2f_compress(h, m, t, off + 128 >= sizeof msg, 12);
    }
    for (i = 0; i < 8; i++)
        qcn_store_le64(got + 8 * i, h[i]);
    assert_memory_equal(got, ref, 64);
}

static void test_kzg(void **state)
{
    uint8_t in[192] = {0};
    struct call c;
    (void)state;
    c = run_bytes(QCN_VM_PC_KZG_POINT_EVAL, in, sizeof in, 1000000);
    assert_int_equal(c.err, QCN_ERR_VM_PRECOMPILE);
    qcn_buf_clear(&c.out);
    c = run_bytes(QCN_VM_PC_KZG_POINT_EVAL, in, sizeof in, 100);
    assert_int_equal(c.err, QCN_ERR_VM_OUT_OF_GAS);
    qcn_buf_clear(&c.out);
}

/* Empty call data may arrive as (NULL, 0): every precompile answers exactly
 * as for a non-NULL empty input. */
static void test_null_empty(void **state)
{
    uint8_t addrs[32][QCN_VM_ADDRESS_BYTES], dummy[1] = {0};
    size_t n, i;
    (void)state;
    n = qcn_vm_precompile_addresses(addrs, 32);
    for (i = 0; i < n; i++) {
        int id = qcn_vm_precompile_lookup(addrs[i]);
        struct call a = run_bytes(id, NULL, 0, BIG_GAS), b = run_bytes(id, dummy, 0, BIG_GAS);
        assert_int_equal(a.err, b.err);
        assert_int_equal(a.gas_used, b.gas_used);
        assert_int_equal(a.out.len, b.out.len);
        if (a.out.len > 0)
            assert_memory_equal(a.out.p, b.out.p, a.out.len);
        qcn_buf_clear(&a.out);
        qcn_buf_clear(&b.out);
    }
}

/* An output buffer whose cap is too small is a local failure, not a result. */
static void test_small_out(void **state)
{
    struct qcn_buf out;
    uint64_t used = 0;
    uint8_t in[100] = {0};
    (void)state;
    qcn_buf_init(&out, 10);
    assert_int_equal(qcn_vm_precompile_run(QCN_VM_PC_IDENTITY, &out, &used, in, sizeof in, 1000),
                     QCN_ERR_TOO_LARGE);
    assert_int_equal(used, 1000);
    assert_int_equal(out.len, 0);
    qcn_buf_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_ecrecover),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_shake256),
        cmocka_unit_test(test_modexp),
        cmocka_unit_test(test_blake2f),
        cmocka_unit_test(test_blake2f_vs_openssl),
        cmocka_unit_test(test_kzg),
        cmocka_unit_test(test_small_out),
        cmocka_unit_test(test_null_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
