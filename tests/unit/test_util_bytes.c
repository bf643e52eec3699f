/* util: capped buffers, the bounds-checked reader, hex, error strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/bytes.h"
#include "util/err.h"
#include "util/hex.h"
#include "util/mem.h"

static void test_buf_cap(void **state)
{
    struct qcn_buf b;
    uint8_t data[100];
    (void)state;
    memset(data, 7, sizeof data);
    qcn_buf_init(&b, 150);
    assert_int_equal(qcn_buf_append(&b, data, 100), QCN_OK);
    assert_int_equal(qcn_buf_append(&b, data, 51), QCN_ERR_TOO_LARGE);
    assert_int_equal(b.len, 100); /* a refused append changes nothing */
    assert_int_equal(qcn_buf_append(&b, data, 50), QCN_OK);
    assert_true(b.cap <= 150);
    assert_int_equal(qcn_buf_insert(&b, 0, "ab", 2), QCN_ERR_TOO_LARGE);
    qcn_buf_reset(&b);
    assert_int_equal(qcn_buf_append(&b, "cd", 2), QCN_OK);
    assert_int_equal(qcn_buf_insert(&b, 1, "xy", 2), QCN_OK);
    assert_memory_equal(b.p, "cxyd", 4);
    assert_int_equal(qcn_buf_insert(&b, 9, "z", 1), QCN_ERR_INVALID_ARG);
    qcn_buf_clear(&b);
    assert_null(b.p);
}

static void test_reader_sticky_failure(void **state)
{
    const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    struct qcn_reader r;
    uint32_t v32;
    uint16_t v16;
    uint8_t v8;
    (void)state;

    qcn_reader_init(&r, in, sizeof in);
    assert_int_equal(qcn_reader_be32(&r, &v32), 0);
    assert_int_equal(v32, 0x01020304u);
    assert_int_equal(qcn_reader_be32(&r, &v32), -1); /* only 3 left */
    assert_int_equal(v32, 0);
    assert_int_equal(qcn_reader_u8(&r, &v8), -1); /* stays failed */
    assert_int_equal(qcn_reader_finish(&r), QCN_ERR_TRUNCATED);

    qcn_reader_init(&r, in, sizeof in);
    assert_int_equal(qcn_reader_be16(&r, &v16), 0);
    assert_int_equal(v16, 0x0102);
    assert_int_equal(qcn_reader_finish(&r), QCN_ERR_TRAILING);
    assert_int_equal(qcn_reader_left(&r), 5);
}

static void test_reader_huge_length(void **state)
{
    const uint8_t in[4] = {0};
    struct qcn_reader r;
    struct qcn_view v;
    (void)state;
    qcn_reader_init(&r, in, sizeof in);
    /* A length near SIZE_MAX must not wrap the bounds check. */
    assert_int_equal(qcn_reader_view(&r, &v, SIZE_MAX - 1), -1);
    assert_null(v.p);
    assert_int_equal(qcn_reader_finish(&r), QCN_ERR_TRUNCATED);
}

static void test_byte_order(void **state)
{
    uint8_t b[8];
    (void)state;
    qcn_store_be64(b, 0x0102030405060708ULL);
    assert_int_equal(b[0], 1);
    assert_int_equal(b[7], 8);
    assert_true(qcn_load_be64(b) == 0x0102030405060708ULL);
    qcn_store_le64(b, 0x0102030405060708ULL);
    assert_int_equal(b[0], 8);
    assert_true(qcn_load_le64(b) == 0x0102030405060708ULL);
}

static void test_hex(void **state)
{
    uint8_t out[4];
    size_t n;
    char s[9];
    (void)state;
    assert_int_equal(qcn_hex_decode(out, sizeof out, &n, "0xDeadBEEF", 10), QCN_OK);
    assert_int_equal(n, 4);
    assert_string_equal(qcn_hex_encode(s, out, 4), "deadbeef");
    assert_int_equal(qcn_hex_decode(out, sizeof out, &n, "abc", 3), QCN_ERR_BAD_HEX);
    assert_int_equal(qcn_hex_decode(out, sizeof out, &n, "zz", 2), QCN_ERR_BAD_HEX);
    assert_int_equal(qcn_hex_decode(out, sizeof out, &n, "0011223344", 10), QCN_ERR_TOO_LARGE);
    assert_int_equal(qcn_hex_decode_exact(out, 4, "001122"), QCN_ERR_BAD_HEX);
    assert_int_equal(qcn_hex_decode_exact(out, 3, "001122"), QCN_OK);
    assert_int_equal(qcn_hex_decode(out, sizeof out, &n, "0x", 2), QCN_OK);
    assert_int_equal(n, 0);
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(qcn_err_str(QCN_OK), "ok");
    assert_string_equal(qcn_err_str(QCN_ERR_TX_NONCE_LOW), "nonce too low");
    assert_string_equal(qcn_err_name(QCN_ERR_TX_NONCE_LOW), "QCN_ERR_TX_NONCE_LOW");
    assert_string_equal(qcn_err_str(-12345), "unknown error");
    assert_int_equal(QCN_ERR_TX_BAD_SIGNATURE, 600); /* numbers are stable */
}

static void test_secure_memory(void **state)
{
    uint8_t *p;
    uint8_t a[16], b[16];
    (void)state;
    assert_int_equal(qcn_mem_init(), QCN_OK);
    p = qcn_secure_alloc(64);
    assert_non_null(p);
    memset(p, 0xaa, 64);
    qcn_secure_free(p);
    memset(a, 1, sizeof a);
    memcpy(b, a, sizeof b);
    assert_true(qcn_ct_equal(a, b, sizeof a));
    b[15] ^= 1;
    assert_false(qcn_ct_equal(a, b, sizeof a));
    qcn_wipe(a, sizeof a);
    assert_int_equal(a[0], 0);
    assert_int_equal(a[15], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_reader_sticky_failure),
        cmocka_unit_test(test_reader_huge_length),
        cmocka_unit_test(test_byte_order),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_secure_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
