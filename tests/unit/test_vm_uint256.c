/* Unit tests for the 256-bit EVM word: edge cases from the Yellow Paper
 * (division by zero, signed overflow, shifts past 255, BYTE, SIGNEXTEND)
 * and a differential test of the long operations against GMP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <gmp.h>

#include "vm/uint256.h"

static struct qcn_u256 H(const char *s) {
    struct qcn_u256 r;
    assert_int_equal(qcn_u256_parse(&r, s), 0);
    return r;
}

static void
assert_u256(const struct qcn_u256 *got, const char *want)
{
    struct qcn_u256 w = H(want);
    if (!qcn_u256_eq(got, &w)) {
        print_error("got %016llx%016llx%016llx%016llx want %s\n", (unsigned long long)got->w[3],
                    (unsigned long long)got->w[2], (unsigned long long)got->w[1],
                    (unsigned long long)got->w[0], want);
        fail();
    }
}

#define MAXV "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define MINS "0x8000000000000000000000000000000000000000000000000000000000000000"

static void test_add_sub_mul(void **state)
{
    (void)state;
    struct qcn_u256 a = H(MAXV), b = H("1"), r;
    assert_int_equal(qcn_u256_add(&r, &a, &b), 1);
    assert_u256(&r, "0");
    assert_int_equal(qcn_u256_sub(&r, &b, &a), 1);
    assert_u256(&r, "2");
    qcn_u256_mul(&r, &a, &a);
    assert_u256(&r, "1");
    a = H("0x100000000000000000000000000000000");
    qcn_u256_mul(&r, &a, &a);
    assert_u256(&r, "0");
    a = H("0xffffffffffffffff");
    qcn_u256_mul(&r, &a, &a);
    assert_u256(&r, "0xfffffffffffffffe0000000000000001");
}

static void test_div_mod(void **state)
{
    (void)state;
    struct qcn_u256 a = H("12345"), z = H("0"), q, m;
    qcn_u256_divmod(&q, &m, &a, &z);
    assert_u256(&q, "0");
    assert_u256(&m, "0");
    a = H(MAXV);
    struct qcn_u256 b = H("0x10000000000000000");
    qcn_u256_divmod(&q, &m, &a, &b);
    assert_u256(&q, "0xffffffffffffffffffffffffffffffffffffffffffffffff");
    assert_u256(&m, "0xffffffffffffffff");
    /* SDIV: -2^255 / -1 = -2^255 (overflow), and signs. */
    a = H(MINS);
    b = H(MAXV);
    qcn_u256_sdiv(&q, &a, &b);
    assert_u256(&q, MINS);
    a = H("0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff9"); /* -7 */
    b = H("2");
    qcn_u256_sdiv(&q, &a, &b);
    assert_u256(&q, "0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd");
    qcn_u256_smod(&m, &a, &b); /* -7 smod 2 = -1 */
    assert_u256(&m, MAXV);
    b = H("0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd"); /* -3 */
    a = H("7");
    qcn_u256_smod(&m, &a, &b); /* 7 smod -3 = 1 */
    assert_u256(&m, "1");
    qcn_u256_sdiv(&q, &a, &z);
    assert_u256(&q, "0");
}

static void test_addmod_mulmod_exp(void **state)
{
    (void)state;
    struct qcn_u256 a = H(MAXV), b = H("2"), m = H("3"), r, z = H("0");
    qcn_u256_addmod(&r, &a, &b, &m); /* (2^256 - 1 + 2) mod 3 = (2^256+1) mod 3 = 2 */
    assert_u256(&r, "2");
    qcn_u256_mulmod(&r, &a, &a, &a); /* x*x mod x = 0 */
    assert_u256(&r, "0");
    qcn_u256_mulmod(&r, &a, &a, &z);
    assert_u256(&r, "0");
    qcn_u256_addmod(&r, &a, &a, &z);
    assert_u256(&r, "0");
    a = H("2");
    b = H("255");
    qcn_u256_exp(&r, &a, &b);
    assert_u256(&r, MINS);
    b = H("256");
    qcn_u256_exp(&r, &a, &b);
    assert_u256(&r, "0");
    b = H("0");
    qcn_u256_exp(&r, &z, &b); /* 0^0 = 1 */
    assert_u256(&r, "1");
    a = H("3");
    b = H(MAXV);
    qcn_u256_exp(&r, &a, &b); /* 3^(2^256-1) mod 2^256 */
    assert_u256(&r, "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
}

static void test_shifts_byte_signextend(void **state)
{
    (void)state;
    struct qcn_u256 a = H(MINS), r, one = H("1");
    qcn_u256_shr(&r, &a, 255);
    assert_u256(&r, "1");
    qcn_u256_shr(&r, &a, 256);
    assert_u256(&r, "0");
    qcn_u256_shl(&r, &one, 255);
    assert_u256(&r, MINS);
    qcn_u256_shl(&r, &one, 256);
    assert_u256(&r, "0");
    qcn_u256_sar(&r, &a, 255);
    assert_u256(&r, MAXV);
    qcn_u256_sar(&r, &a, 300);
    assert_u256(&r, MAXV);
    a = H("0x4000000000000000000000000000000000000000000000000000000000000000");
    qcn_u256_sar(&r, &a, 254);
    assert_u256(&r, "1");
    qcn_u256_sar(&r, &a, 256);
    assert_u256(&r, "0");
    a = H("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    struct qcn_u256 i = H("0");
    qcn_u256_byte(&r, &i, &a);
    assert_u256(&r, "1");
    i = H("31");
    qcn_u256_byte(&r, &i, &a);
    assert_u256(&r, "0x20");
    i = H("32");
    qcn_u256_byte(&r, &i, &a);
    assert_u256(&r, "0");
    i = H(MAXV);
    qcn_u256_byte(&r, &i, &a);
    assert_u256(&r, "0");
    struct qcn_u256 b = H("0"), x = H("0xff");
    qcn_u256_signextend(&r, &b, &x);
    assert_u256(&r, MAXV);
    x = H("0x7f");
    qcn_u256_signextend(&r, &b, &x);
    assert_u256(&r, "0x7f");
    b = H("1");
    x = H("0xffff8000");
    qcn_u256_signextend(&r, &b, &x);
    assert_u256(&r, "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8000");
    b = H("30");
    x = H("0x00ff000000000000000000000000000000000000000000000000000000000000");
    qcn_u256_signextend(&r, &b, &x);
    assert_u256(&r, "0xffff000000000000000000000000000000000000000000000000000000000000");
    b = H("31");
    qcn_u256_signextend(&r, &b, &x);
    assert_u256(&r, "0x00ff000000000000000000000000000000000000000000000000000000000000");
    b = H(MAXV);
    qcn_u256_signextend(&r, &b, &x);
    assert_u256(&r, "0x00ff000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(qcn_u256_shift_amount(&b), 256);
}

static void test_parse(void **state)
{
    (void)state;
    struct qcn_u256 r;
    assert_int_equal(qcn_u256_parse(&r, "0x"), 0);
    assert_true(qcn_u256_is_zero(&r));
    assert_int_equal(qcn_u256_parse(&r, "1000"), 0);
    assert_int_equal(r.w[0], 1000);
    assert_int_equal(
        qcn_u256_parse(&r, "0x1"
                           "0000000000000000000000000000000000000000000000000000000000000000"),
        -1); /* 257 bits */
    assert_int_equal(qcn_u256_parse(&r, "0xzz"), -1);
    assert_int_equal(qcn_u256_parse(&r, ""), -1);
    assert_int_equal(qcn_u256_parse(&r, "12a"), -1);
}

/* xorshift, deterministic */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random words with varied magnitudes so every division path is taken. */
static void rand_word(struct qcn_u256 *a)
{
    unsigned limbs = (unsigned)(rnd() % 5);
    memset(a, 0, sizeof *a);
    for (unsigned i = 0; i < limbs; i++)
        a->w[i] = rnd();
    if (limbs > 0 && rnd() % 4 == 0)
        a->w[limbs - 1] >>= rnd() % 64;
    if (rnd() % 8 == 0)
        a->w[3] |= 0x8000000000000000ULL;
}

static void to_mpz(mpz_t z, const struct qcn_u256 *a)
{
    mpz_import(z, 4, -1, sizeof(uint64_t), 0, 0, a->w);
}

static void from_mpz(struct qcn_u256 *a, const mpz_t z)
{
    mpz_t t;
    size_t count = 0;
    mpz_init(t);
    mpz_fdiv_r_2exp(t, z, 256);
    memset(a, 0, sizeof *a);
    mpz_export(a->w, &count, -1, sizeof(uint64_t), 0, 0, t);
    mpz_clear(t);
}

static void test_differential_gmp(void **state)
{
    (void)state;
    mpz_t x, y, m, r;
    mpz_inits(x, y, m, r, NULL);
    for (int it = 0; it < 20000; it++) {
        struct qcn_u256 a, b, c, got, want, q, rem;
        rand_word(&a);
        rand_word(&b);
        rand_word(&c);
        to_mpz(x, &a);
        to_mpz(y, &b);
        to_mpz(m, &c);

        qcn_u256_divmod(&q, &rem, &a, &b);
        if (mpz_sgn(y) != 0) {
            mpz_fdiv_q(r, x, y);
            from_mpz(&want, r);
            assert_true(qcn_u256_eq(&q, &want));
            mpz_fdiv_r(r, x, y);
            from_mpz(&want, r);
            assert_true(qcn_u256_eq(&rem, &want));
        } else {
            assert_true(qcn_u256_is_zero(&q) && qcn_u256_is_zero(&rem));
        }
        if (mpz_sgn(m) != 0) {
            mpz_add(r, x, y);
            mpz_fdiv_r(r, r, m);
            from_mpz(&want, r);
            qcn_u256_addmod(&got, &a, &b, &c);
            assert_true(qcn_u256_eq(&got, &want));
            mpz_mul(r, x, y);
            mpz_fdiv_r(r, r, m);
            from_mpz(&want, r);
            qcn_u256_mulmod(&got, &a, &b, &c);
            assert_true(qcn_u256_eq(&got, &want));
        }
        mpz_mul(r, x, y);
        from_mpz(&want, r);
        qcn_u256_mul(&got, &a, &b);
        assert_true(qcn_u256_eq(&got, &want));
        if (it % 16 == 0) {
            mpz_t mod;
            mpz_init_set_ui(mod, 1);
            mpz_mul_2exp(mod, mod, 256);
            mpz_powm(r, x, y, mod);
            from_mpz(&want, r);
            qcn_u256_exp(&got, &a, &b);
            assert_true(qcn_u256_eq(&got, &want));
            mpz_clear(mod);
        }
    }
    mpz_clears(x, y, m, r, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_sub_mul),
        cmocka_unit_test(test_div_mod),
        cmocka_unit_test(test_addmod_mulmod_exp),
        cmocka_unit_test(test_shifts_byte_signextend),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_differential_gmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
