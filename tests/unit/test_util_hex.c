/* util/hex: the shared digit decoder against a plain reference over every
 * char, and failures that leave the output zeroed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/err.h"
#include "util/hex.h"

static int reference_nibble(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void test_nibble_every_char(void **state)
{
    int c;
    (void)state;
    for (c = 0; c < 256; c++)
        assert_int_equal(qcn_hex_nibble((char)c), reference_nibble(c));
}

static void test_decode_failures_zero_output(void **state)
{
    uint8_t out[4];
    size_t n = 99;
    (void)state;
    memset(out, 0xAA, sizeof out);
    assert_int_equal(qcn_hex_decode(out, sizeof out, &n, "abc", 3), QCN_ERR_BAD_HEX);
    assert_int_equal(n, 0);
    assert_memory_equal(out, "\0\0\0\0", sizeof out);

    memset(out, 0xAA, sizeof out);
    n = 99;
    assert_int_equal(qcn_hex_decode(out, sizeof out, &n, "0011223344", 10), QCN_ERR_TOO_LARGE);
    assert_int_equal(n, 0);
    assert_memory_equal(out, "\0\0\0\0", sizeof out);

    memset(out, 0xAA, sizeof out);
    assert_int_equal(qcn_hex_decode(out, sizeof out, &n, "00g1", 4), QCN_ERR_BAD_HEX);
    assert_memory_equal(out, "\0\0\0\0", sizeof out);

    memset(out, 0xAA, sizeof out);
    assert_int_equal(qcn_hex_decode_exact(out, sizeof out, "001122"), QCN_ERR_BAD_HEX);
    assert_memory_equal(out, "\0\0\0\0", sizeof out);

    assert_int_equal(qcn_hex_decode(NULL, 0, &n, "", 0), QCN_OK);
    assert_int_equal(qcn_hex_decode(NULL, 0, &n, "0", 1), QCN_ERR_BAD_HEX);
}

static void test_decode_round_trip(void **state)
{
    uint8_t in[256], out[256];
    char hex[2 * sizeof in + 1];
    size_t i, n = 0;
    (void)state;
    for (i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)i;
    qcn_hex_encode(hex, in, sizeof in);
    assert_int_equal(qcn_hex_decode(out, sizeof out, &n, hex, strlen(hex)), QCN_OK);
    assert_int_equal(n, sizeof in);
    assert_memory_equal(out, in, sizeof in);
    for (i = 0; hex[i] != '\0'; i++)
        if (hex[i] >= 'a' && hex[i] <= 'f')
            hex[i] = (char)(hex[i] - 'a' + 'A');
    assert_int_equal(qcn_hex_decode_exact(out, sizeof out, hex), QCN_OK);
    assert_memory_equal(out, in, sizeof in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nibble_every_char),
        cmocka_unit_test(test_decode_failures_zero_output),
        cmocka_unit_test(test_decode_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
