/* EIP-55 checksummed addresses (wallet/address.h), with EIP-55's own
 * examples, and exact amounts (wallet/amount.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wallet/address.h"
#include "wallet/amount.h"

/* The four examples listed in EIP-55. */
static const char *const eip55[] = {
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

static void test_eip55_examples(void **state)
{
    uint8_t a[20];
    char t[QCN_ADDRESS_TEXT_BYTES], low[43], up[43];
    size_t i, j;
    (void)state;
    for (i = 0; i < 4; i++) {
        assert_int_equal(qcn_address_from_text(a, eip55[i]), QCN_OK);
        qcn_address_to_text(t, a);
        assert_string_equal(t, eip55[i]);
        /* all lower and all upper case are accepted as is */
        for (j = 0; j < 43; j++) {
            char c = eip55[i][j];
            low[j] = (j >= 2 && c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
            up[j] = (j >= 2 && c >= 'a' && c <= 'f') ? (char)(c - 'a' + 'A') : c;
        }
        assert_int_equal(qcn_address_from_text(a, low), QCN_OK);
        qcn_address_to_text(t, a);
        assert_string_equal(t, eip55[i]);
        assert_int_equal(qcn_address_from_text(a, up), QCN_OK);
        qcn_address_to_text(t, a);
        assert_string_equal(t, eip55[i]);
    }
}

/* Flipping the case of any one letter of a checksummed address is caught. */
static void test_bad_checksum(void **state)
{
    uint8_t a[20];
    char m[43];
    size_t i, j, flips = 0;
    (void)state;
    for (i = 0; i < 4; i++) {
        for (j = 2; j < 42; j++) {
            memcpy(m, eip55[i], 43);
            if (m[j] >= 'a' && m[j] <= 'f')
                m[j] = (char)(m[j] - 'a' + 'A');
            else if (m[j] >= 'A' && m[j] <= 'F')
                m[j] = (char)(m[j] - 'A' + 'a');
            else
                continue;
            flips++;
            /* still mixed case (the examples have both cases in plenty) */
            assert_int_equal(qcn_address_from_text(a, m), QCN_ERR_ADDRESS_CHECKSUM);
        }
    }
    assert_true(flips > 50);
    assert_int_equal(qcn_address_from_text(a, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"),
                     QCN_ERR_BAD_HEX);
    assert_int_equal(qcn_address_from_text(a, "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00"),
                     QCN_ERR_BAD_HEX);
    assert_int_equal(qcn_address_from_text(a, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg"),
                     QCN_ERR_BAD_HEX);
    assert_int_equal(qcn_address_from_text(a, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0"),
                     QCN_ERR_BAD_HEX);
    assert_int_equal(qcn_address_from_text(a, ""), QCN_ERR_BAD_HEX);
}

static void expect_wei(const char *text, const char *wei_dec)
{
    struct qcn_u256 v;
    char out[QCN_AMOUNT_TEXT_BYTES];
    assert_int_equal(qcn_amount_parse(&v, text), QCN_OK);
    qcn_u256_format_dec(out, &v);
    assert_string_equal(out, wei_dec);
}

static void test_amount_parse(void **state)
{
    struct qcn_u256 v;
    (void)state;
    expect_wei("1.5", "1500000000000000000");
    expect_wei("0", "0");
    expect_wei("0.000000000000000001", "1");
    expect_wei("1", "1000000000000000000");
    expect_wei("007", "7000000000000000000");
    expect_wei("123456789.123456789123456789", "123456789123456789123456789");
    /* the largest: (2^256 - 1) wei =
     * 115792089237316195423570985008687907853269984665640564039457.584007913129639935 */
    expect_wei("115792089237316195423570985008687907853269984665640564039457.584007913129639935",
               "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    assert_int_equal(
        qcn_amount_parse(
            &v, "115792089237316195423570985008687907853269984665640564039457.584007913129639936"),
        QCN_ERR_OVERFLOW);
    assert_int_equal(
        qcn_amount_parse(&v, "1000000000000000000000000000000000000000000000000000000000000000"),
        QCN_ERR_OVERFLOW);
    /* refused forms */
    assert_int_equal(qcn_amount_parse(&v, "0.0000000000000000001"),
                     QCN_ERR_AMOUNT); /* 19 decimals */
    assert_int_equal(qcn_amount_parse(&v, "-1"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "+1"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "1e18"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "1E3"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "1.5e1"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "0x10"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, ".5"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "5."), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "1.2.3"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, " 1"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "1 "), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "1,5"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, ""), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "inf"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse(&v, "NaN"), QCN_ERR_AMOUNT);
    assert_true(qcn_u256_is_zero(&v));
}

static void test_amount_wei_and_format(void **state)
{
    struct qcn_u256 v;
    char out[QCN_AMOUNT_TEXT_BYTES];
    (void)state;
    assert_int_equal(qcn_amount_parse_wei(&v, "1500000000000000000"), QCN_OK);
    qcn_amount_format(out, &v);
    assert_string_equal(out, "1.5");
    assert_int_equal(qcn_amount_parse_wei(&v, "0x14d1120d7b160000"), QCN_OK);
    qcn_amount_format(out, &v);
    assert_string_equal(out, "1.5");
    assert_int_equal(qcn_amount_parse_wei(&v, "1"), QCN_OK);
    qcn_amount_format(out, &v);
    assert_string_equal(out, "0.000000000000000001");
    assert_int_equal(qcn_amount_parse_wei(&v, "0"), QCN_OK);
    qcn_amount_format(out, &v);
    assert_string_equal(out, "0");
    assert_int_equal(qcn_amount_parse_wei(&v, "1000000000000000000000000000"), QCN_OK);
    qcn_amount_format(out, &v);
    assert_string_equal(out, "1000000000");
    assert_int_equal(qcn_amount_parse_wei(
                         &v, "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
                     QCN_OK);
    qcn_amount_format(out, &v);
    assert_string_equal(
        out, "115792089237316195423570985008687907853269984665640564039457.584007913129639935");
    assert_int_equal(qcn_amount_parse_wei(
                         &v, "0x1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
                     QCN_ERR_OVERFLOW);
    assert_int_equal(qcn_amount_parse_wei(&v, "1.5"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse_wei(&v, "-3"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse_wei(&v, "1e9"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse_wei(&v, "0x"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse_wei(&v, "0xg"), QCN_ERR_AMOUNT);
    assert_int_equal(qcn_amount_parse_wei(&v, ""), QCN_ERR_AMOUNT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eip55_examples),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_amount_parse),
        cmocka_unit_test(test_amount_wei_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
