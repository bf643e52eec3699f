/* RLP: canonical encoding, and rejection of every non-canonical form a peer
 * could send (Yellow Paper Appendix B). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/rlp.h"
#include "util/hex.h"

static int decode_hex(struct qcn_rlp_item *it, uint8_t *buf, size_t cap, const char *hex)
{
    size_t n;
    assert_int_equal(qcn_hex_decode(buf, cap, &n, hex, strlen(hex)), QCN_OK);
    return qcn_rlp_decode(it, qcn_view_make(buf, n));
}

static void expect_encoding(struct qcn_buf *b, const char *hex)
{
    char s[256];
    assert_true(b->len * 2 < sizeof s);
    assert_string_equal(qcn_hex_encode(s, b->p, b->len), hex);
    qcn_buf_reset(b);
}

static void test_encode(void **state)
{
    struct qcn_buf b;
    uint8_t long_str[56];
    size_t l;
    (void)state;
    qcn_buf_init(&b, 4096);
    assert_int_equal(qcn_rlp_put_u64(&b, 0), QCN_OK);
    expect_encoding(&b, "80");
    assert_int_equal(qcn_rlp_put_u64(&b, 0x7f), QCN_OK);
    expect_encoding(&b, "7f");
    assert_int_equal(qcn_rlp_put_u64(&b, 0x80), QCN_OK);
    expect_encoding(&b, "8180");
    assert_int_equal(qcn_rlp_put_u64(&b, 1024), QCN_OK);
    expect_encoding(&b, "820400");
    assert_int_equal(qcn_rlp_put_bytes(&b, (const uint8_t *)"dog", 3), QCN_OK);
    expect_encoding(&b, "83646f67");
    /* [ "cat", "dog" ] */
    l = qcn_rlp_list_begin(&b);
    assert_int_equal(qcn_rlp_put_bytes(&b, (const uint8_t *)"cat", 3), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(&b, (const uint8_t *)"dog", 3), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&b, l), QCN_OK);
    expect_encoding(&b, "c88363617483646f67");
    /* The set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ] */
    {
        size_t a = qcn_rlp_list_begin(&b), c, d, e;
        c = qcn_rlp_list_begin(&b);
        assert_int_equal(qcn_rlp_list_end(&b, c), QCN_OK);
        c = qcn_rlp_list_begin(&b);
        d = qcn_rlp_list_begin(&b);
        assert_int_equal(qcn_rlp_list_end(&b, d), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b, c), QCN_OK);
        c = qcn_rlp_list_begin(&b);
        d = qcn_rlp_list_begin(&b);
        assert_int_equal(qcn_rlp_list_end(&b, d), QCN_OK);
        d = qcn_rlp_list_begin(&b);
        e = qcn_rlp_list_begin(&b);
        assert_int_equal(qcn_rlp_list_end(&b, e), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b, d), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b, c), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b, a), QCN_OK);
        expect_encoding(&b, "c7c0c1c0c3c0c1c0");
    }
    memset(long_str, 'a', sizeof long_str);
    assert_int_equal(qcn_rlp_put_bytes(&b, long_str, sizeof long_str), QCN_OK);
    assert_int_equal(b.len, 58);
    assert_int_equal(b.p[0], 0xb8);
    assert_int_equal(b.p[1], 56);
    qcn_buf_clear(&b);
}

static void test_decode_canonical(void **state)
{
    struct qcn_rlp_item it, items[2];
    uint8_t buf[128];
    uint64_t v;
    (void)state;
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "c88363617483646f67"), QCN_OK);
    assert_true(it.is_list);
    assert_int_equal(qcn_rlp_split(items, 2, &it), QCN_OK);
    assert_int_equal(items[1].payload.len, 3);
    assert_memory_equal(items[1].payload.p, "dog", 3);
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "820400"), QCN_OK);
    assert_int_equal(qcn_rlp_get_u64(&v, &it), QCN_OK);
    assert_int_equal(v, 1024);
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "80"), QCN_OK);
    assert_int_equal(qcn_rlp_get_u64(&v, &it), QCN_OK);
    assert_int_equal(v, 0);
}

static void test_decode_rejects(void **state)
{
    struct qcn_rlp_item it, items[3];
    uint8_t buf[128];
    uint64_t v;
    (void)state;
    /* A single byte below 0x80 wrapped in a header. */
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "8105"), QCN_ERR_RLP_NONCANONICAL);
    /* Long form for a short length. */
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "b80161"), QCN_ERR_RLP_NONCANONICAL);
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "f801c0"), QCN_ERR_RLP_NONCANONICAL);
    /* Length of the length with a leading zero. */
    assert_int_equal(decode_hex(&it, buf, sizeof buf,
                                "b90038616161616161616161616161616161616161616161616161616161616161"
                                "61616161616161616161616161616161616161616161616161616161"),
                     QCN_ERR_RLP_NONCANONICAL);
    /* Truncated payloads and headers. */
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "83646f"), QCN_ERR_RLP);
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "b8"), QCN_ERR_RLP);
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "bfffffffffffffffff"), QCN_ERR_RLP);
    assert_int_equal(decode_hex(&it, buf, sizeof buf, ""), QCN_ERR_RLP);
    /* Trailing bytes. */
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "8000"), QCN_ERR_TRAILING);
    /* Integers with leading zeros, and too wide for 64 bits. */
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "820004"), QCN_OK);
    assert_int_equal(qcn_rlp_get_u64(&v, &it), QCN_ERR_RLP_NONCANONICAL);
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "8900ffffffffffffffff"), QCN_OK);
    assert_int_equal(qcn_rlp_get_u64(&v, &it), QCN_ERR_RLP_NONCANONICAL);
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "89010000000000000000"), QCN_OK);
    assert_int_equal(qcn_rlp_get_u64(&v, &it), QCN_ERR_OVERFLOW);
    /* A list item that claims more than its parent holds. */
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "c3836466"), QCN_OK);
    assert_int_equal(qcn_rlp_split(items, 1, &it), QCN_ERR_RLP);
    /* Wrong item counts and types. */
    assert_int_equal(decode_hex(&it, buf, sizeof buf, "c28080"), QCN_OK);
    assert_int_equal(qcn_rlp_split(items, 3, &it), QCN_ERR_RLP);
    assert_int_equal(qcn_rlp_split(items, 1, &it), QCN_ERR_RLP);
    assert_int_equal(qcn_rlp_get_u64(&v, &it), QCN_ERR_RLP_TYPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_decode_canonical),
        cmocka_unit_test(test_decode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
