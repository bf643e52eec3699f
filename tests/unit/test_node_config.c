/* node: config file parsing, flags' key setter, defaults, dump round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/config.h"
#include "util/log.h"

static void test_defaults(void **state)
{
    struct qcn_node_config c;
    char expect[QCN_CONFIG_MAX_PATH];
    (void)state;
    setenv("HOME", "/home/tester", 1);
    qcn_node_config_default(&c);
    snprintf(expect, sizeof expect, "/home/tester/.qcn");
    assert_string_equal(c.datadir, expect);
    assert_string_equal(c.engine, "dev");
    assert_int_equal(c.dev_period_ms, 1000);
    assert_string_equal(c.rpc_addr, "127.0.0.1:8545");
    assert_int_equal(c.rpc_enabled, 1);
    assert_int_equal(c.log_level, QCN_LOG_INFO);
    assert_int_equal(c.pool_replace_bump_pct, 10);
    assert_int_equal(c.has_coinbase, 0);
}

static void test_parse_file(void **state)
{
    struct qcn_node_config c;
    char err[256];
    const char *text = "# a comment\n"
                       "\n"
                       "  dev.period_ms = 0  \n"
                       "engine=dev\r\n"
                       "rpc.addr = 0.0.0.0:9000\n"
                       "log.level = debug\n"
                       "datadir = ~/chains/a\n"
                       "dev.coinbase = 0x00112233445566778899aabbccddeeff00112233\n"
                       "mempool.max_count = 5";
    (void)state;
    setenv("HOME", "/h", 1);
    qcn_node_config_default(&c);
    assert_int_equal(qcn_node_config_parse(&c, text, strlen(text), err, sizeof err), QCN_OK);
    assert_int_equal(c.dev_period_ms, 0);
    assert_string_equal(c.rpc_addr, "0.0.0.0:9000");
    assert_int_equal(c.log_level, QCN_LOG_DEBUG);
    assert_string_equal(c.datadir, "/h/chains/a");
    assert_int_equal(c.has_coinbase, 1);
    assert_int_equal(c.coinbase[1], 0x11);
    assert_int_equal(c.pool_max_count, 5);
    {
        const char *p2p = "p2p.listen = 0.0.0.0:30333\np2p.bootnodes = a:1,b.example:2\n";
        assert_int_equal(qcn_node_config_parse(&c, p2p, strlen(p2p), err, sizeof err), QCN_OK);
        assert_string_equal(c.p2p_listen, "0.0.0.0:30333");
        assert_string_equal(c.p2p_bootnodes, "a:1,b.example:2");
        assert_int_equal(qcn_node_config_set(&c, "p2p.listen", "", err, sizeof err), QCN_OK);
        assert_string_equal(c.p2p_listen, "");
    }
}

static void expect_error(const char *text, const char *needle)
{
    struct qcn_node_config c, before;
    char err[256];
    qcn_node_config_default(&c);
    before = c;
    assert_int_equal(qcn_node_config_parse(&c, text, strlen(text), err, sizeof err),
                     QCN_ERR_CONFIG);
    if (strstr(err, needle) == NULL)
        fail_msg("error '%s' does not mention '%s'", err, needle);
    /* A bad file changes nothing, not even the lines before the bad one. */
    assert_memory_equal(&c, &before, sizeof c);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("dev.period_ms = 5\nnope = 1\n", "line 2: unknown key 'nope'");
    expect_error("dev.period_ms = -1\n", "line 1: dev.period_ms");
    expect_error("dev.period_ms = 12abc\n", "expected an integer");
    expect_error("dev.period_ms = 99999999999999999999999\n", "expected an integer");
    expect_error("mempool.replace_bump_pct = 5\n", "[10, 1000]");
    expect_error("log.level = loud\n", "log.level");
    expect_error("rpc.enabled = maybe\n", "true or false");
    expect_error("rpc.addr = localhost\n", "host:port");
    expect_error("dev.coinbase = 0x1234\n", "20-byte hex address");
    expect_error("just words\n", "line 1: expected key = value");
    expect_error("datadir =\n", "empty value");
    expect_error("p2p.listen = 1.2.3.4:1,5.6.7.8:2\n", "expected host:port");
    expect_error("p2p.listen = nocolon\n", "expected host:port");
    expect_error("p2p.bootnodes = a:1,\n", "trailing comma");
    expect_error("p2p.bootnodes = a:1,:2\n", "host:port[,host:port...]");
    {
        char big[QCN_CONFIG_MAX_LINE + 20];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        expect_error(big, "line too long");
    }
}

static void test_dump_round_trip(void **state)
{
    struct qcn_node_config c, d;
    char err[256];
    char *text = NULL;
    size_t len = 0;
    FILE *f;
    (void)state;
    setenv("HOME", "/h", 1);
    qcn_node_config_default(&c);
    assert_int_equal(qcn_node_config_set(&c, "dev.max_txs", "77", err, sizeof err), QCN_OK);
    assert_int_equal(qcn_node_config_set(&c, "rpc.enabled", "no", err, sizeof err), QCN_OK);
    assert_int_equal(qcn_node_config_set(&c, "dev.coinbase",
                                         "0x0101010101010101010101010101010101010101", err,
                                         sizeof err),
                     QCN_OK);
    f = open_memstream(&text, &len);
    assert_non_null(f);
    qcn_node_config_dump(&c, f);
    fclose(f);
    qcn_node_config_default(&d);
    assert_int_equal(qcn_node_config_parse(&d, text, len, err, sizeof err), QCN_OK);
    assert_memory_equal(&c, &d, sizeof c);
    free(text);
}

static void test_load_file(void **state)
{
    struct qcn_node_config c;
    char path[] = "/tmp/qcn-conf-XXXXXX", err[256];
    int fd;
    (void)state;
    qcn_node_config_default(&c);
    assert_int_equal(qcn_node_config_load(&c, "/nonexistent/qcn.conf", err, sizeof err),
                     QCN_ERR_NOT_FOUND);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "engine = dev\nverify.threads = 3\n", 32), 32);
    close(fd);
    assert_int_equal(qcn_node_config_load(&c, path, err, sizeof err), QCN_OK);
    assert_int_equal(c.verify_threads, 3);
    unlink(path);
}

/* p2p.test_faults: a test build takes it (on/off as well as true/false); a
 * build without QCN_TEST_FAULTS refuses to turn it on and says why. */
static void test_test_faults_key(void **state)
{
    struct qcn_node_config c;
    char err[256];
    (void)state;
    qcn_node_config_default(&c);
    assert_int_equal(c.p2p_test_faults, 0);
    assert_int_equal(qcn_node_config_set(&c, "p2p.test_faults", "off", err, sizeof err), QCN_OK);
    assert_int_equal(c.p2p_test_faults, 0);
    assert_int_equal(qcn_node_config_set(&c, "p2p.test_faults", "maybe", err, sizeof err),
                     QCN_ERR_CONFIG);
    assert_non_null(strstr(err, "p2p.test_faults"));
#ifdef QCN_TEST_FAULTS
    assert_int_equal(qcn_node_config_set(&c, "p2p.test_faults", "on", err, sizeof err), QCN_OK);
    assert_int_equal(c.p2p_test_faults, 1);
#else
    assert_int_equal(qcn_node_config_set(&c, "p2p.test_faults", "on", err, sizeof err),
                     QCN_ERR_CONFIG);
    assert_non_null(strstr(err, "QCN_TEST_FAULTS"));
    assert_int_equal(c.p2p_test_faults, 0);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_parse_file),
        cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_dump_round_trip),
        cmocka_unit_test(test_load_file),    cmocka_unit_test(test_test_faults_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
