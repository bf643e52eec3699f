/* Paper backups (wallet/backup.h): round trips, the exact layout, and typo
 * detection: every single-character substitution at every position (with
 * every other character of the alphabet, and a case flip), every deletion,
 * every insertion and every adjacent swap of the text is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wallet/backup.h"

static const char alphabet[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static void compact(char *out, const char *grouped)
{
    size_t o = 0;
    for (; *grouped; grouped++)
        if (*grouped != ' ')
            out[o++] = *grouped;
    out[o] = '\0';
}

static void test_roundtrip(void **state)
{
    char text[QCN_BACKUP_TEXT_BYTES], c[QCN_BACKUP_CHARS + 1];
    uint8_t seed[32], got[32], scheme;
    int s, i;
    (void)state;
    for (s = 1; s <= 3; s++) {
        for (i = 0; i < 32; i++)
            seed[i] = (uint8_t)(i * 37 + s);
        assert_int_equal(qcn_backup_encode(text, (uint8_t)s, seed), QCN_OK);
        compact(c, text);
        assert_int_equal(strlen(c), QCN_BACKUP_CHARS);
        assert_memory_equal(c, "qcnseed1", 8);
        assert_int_equal(qcn_backup_decode(&scheme, got, text), QCN_OK);
        assert_int_equal(scheme, s);
        assert_memory_equal(got, seed, 32);
        /* the compact form, upper case, and dashes/newlines all decode */
        assert_int_equal(qcn_backup_decode(&scheme, got, c), QCN_OK);
        for (i = 0; c[i]; i++)
            if (c[i] >= 'a' && c[i] <= 'z')
                c[i] = (char)(c[i] - 'a' + 'A');
        assert_int_equal(qcn_backup_decode(&scheme, got, c), QCN_OK);
        assert_memory_equal(got, seed, 32);
    }
    memset(seed, 0, sizeof seed);
    assert_int_equal(qcn_backup_encode(text, 2, seed), QCN_OK);
    assert_int_equal(qcn_backup_decode(&scheme, got, text), QCN_OK);
    memset(seed, 0xff, sizeof seed);
    assert_int_equal(qcn_backup_encode(text, 3, seed), QCN_OK);
    assert_int_equal(qcn_backup_decode(&scheme, got, text), QCN_OK);
    assert_memory_equal(got, seed, 32);
    assert_int_equal(qcn_backup_encode(text, 0, seed), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_backup_encode(text, 4, seed), QCN_ERR_INVALID_ARG);
}

static void expect_refused(const char *t)
{
    uint8_t seed[32], scheme;
    int err = qcn_backup_decode(&scheme, seed, t);
    if (err == QCN_OK)
        fail_msg("accepted a mistyped backup: %s", t);
    assert_int_equal(scheme, 0);
}

static void test_every_typo_caught(void **state)
{
    char text[QCN_BACKUP_TEXT_BYTES], c[QCN_BACKUP_CHARS + 1], m[QCN_BACKUP_CHARS + 2];
    uint8_t seed[32];
    size_t i, j, n = 0;
    (void)state;
    for (i = 0; i < 32; i++)
        seed[i] = (uint8_t)(0xa5 ^ (i * 11));
    assert_int_equal(qcn_backup_encode(text, 2, seed), QCN_OK);
    compact(c, text);
    for (i = 0; i < QCN_BACKUP_CHARS; i++) {
        /* substitution by every alphabet character and by some outside it */
        for (j = 0; j < sizeof alphabet - 1; j++) {
            if (alphabet[j] == c[i])
                continue;
            memcpy(m, c, sizeof c);
            m[i] = alphabet[j];
            expect_refused(m);
            n++;
        }
        memcpy(m, c, sizeof c);
        m[i] = 'b';
        expect_refused(m);
        if (c[i] != '1') {
            m[i] = '1';
            expect_refused(m);
        }
        /* a single upper-case letter makes the case mixed */
        if (c[i] >= 'a' && c[i] <= 'z') {
            memcpy(m, c, sizeof c);
            m[i] = (char)(c[i] - 'a' + 'A');
            expect_refused(m);
        }
        /* deletion */
        memcpy(m, c, i);
        memcpy(m + i, c + i + 1, QCN_BACKUP_CHARS - i);
        expect_refused(m);
        /* insertion */
        memcpy(m, c, i);
        m[i] = 'q';
        memcpy(m + i + 1, c + i, QCN_BACKUP_CHARS - i + 1);
        expect_refused(m);
        /* adjacent swap */
        if (i + 1 < QCN_BACKUP_CHARS && c[i] != c[i + 1]) {
            memcpy(m, c, sizeof c);
            m[i] = c[i + 1];
            m[i + 1] = c[i];
            expect_refused(m);
        }
    }
    assert_true(n > 60 * 30);
    expect_refused("");
    expect_refused("qcnseed1");
    expect_refused("not a backup at all");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_every_typo_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
