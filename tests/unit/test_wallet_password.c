/* Password sources (wallet/password.h): a file's first line (LF or CRLF),
 * the QCN_PASSWORD variable, and the refusals (missing file, empty or
 * over-long password) with a message and a wiped output. The terminal
 * prompt is exercised by hand; tests/e2e/wallet_cli.sh checks the message
 * when there is no source at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wallet/password.h"

static char path[64];

static void write_file(const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void test_file(void **state)
{
    char pw[QCN_PASSWORD_MAX + 1], msg[256], *big;
    size_t len;
    int fd;
    (void)state;
    snprintf(path, sizeof path, "/tmp/qcn-test-pw-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file("hunter2\nsecond line\n", 20);
    assert_int_equal(qcn_password_read(pw, sizeof pw, &len, path, "", 0, msg, sizeof msg), QCN_OK);
    assert_string_equal(pw, "hunter2");
    assert_int_equal(len, 7);
    write_file("with space\r\n", 12);
    assert_int_equal(qcn_password_read(pw, sizeof pw, &len, path, "", 0, msg, sizeof msg), QCN_OK);
    assert_string_equal(pw, "with space");
    write_file("no newline", 10);
    assert_int_equal(qcn_password_read(pw, sizeof pw, &len, path, "", 0, msg, sizeof msg), QCN_OK);
    assert_int_equal(len, 10);
    write_file("\nlater", 6); /* an empty first line is an empty password */
    assert_int_equal(qcn_password_read(pw, sizeof pw, &len, path, "", 0, msg, sizeof msg),
                     QCN_ERR_INVALID_ARG);
    assert_non_null(strstr(msg, "empty"));
    big = malloc(QCN_PASSWORD_MAX + 2);
    assert_non_null(big);
    memset(big, 'a', QCN_PASSWORD_MAX + 1);
    write_file(big, QCN_PASSWORD_MAX + 1);
    assert_int_equal(qcn_password_read(pw, sizeof pw, &len, path, "", 0, msg, sizeof msg),
                     QCN_ERR_TOO_LARGE);
    assert_int_equal(len, 0);
    assert_int_equal(pw[0], 0);
    write_file(big, QCN_PASSWORD_MAX); /* exactly the cap is fine */
    assert_int_equal(qcn_password_read(pw, sizeof pw, &len, path, "", 0, msg, sizeof msg), QCN_OK);
    assert_int_equal(len, QCN_PASSWORD_MAX);
    free(big);
    unlink(path);
    assert_int_equal(qcn_password_read(pw, sizeof pw, &len, path, "", 0, msg, sizeof msg),
                     QCN_ERR_IO);
    assert_non_null(strstr(msg, path));
}

static void test_env(void **state)
{
    char pw[QCN_PASSWORD_MAX + 1], msg[256];
    size_t len;
    (void)state;
    setenv("QCN_PASSWORD", "from env", 1);
    assert_int_equal(qcn_password_read(pw, sizeof pw, &len, NULL, "", 0, msg, sizeof msg), QCN_OK);
    assert_string_equal(pw, "from env");
    setenv("QCN_PASSWORD", "", 1);
    assert_int_equal(qcn_password_read(pw, sizeof pw, &len, NULL, "", 0, msg, sizeof msg),
                     QCN_ERR_INVALID_ARG);
    unsetenv("QCN_PASSWORD");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
