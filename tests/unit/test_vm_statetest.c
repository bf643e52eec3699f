/* The state-test runner on malformed fixtures: every one is a clear error
 * (or a counted failing case), never a crash; plus a synthetic test with a
 * known answer: a transaction from an account that does not exist cannot pay
 * for its gas, so it is rejected and the empty pre state stays empty (root
 * 56e81f...b421, logs hash keccak256(0xc0)). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm/statetest.h"

static char path[64];

static const char *write_fixture(const char *text)
{
    FILE *f;
    int fd;
    snprintf(path, sizeof path, "/tmp/qcn_statetest_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int run(const char *text, struct qcn_vm_statetest_stats *st)
{
    struct qcn_vm_statetest_opts o;
    int err;
    memset(&o, 0, sizeof o);
    memset(st, 0, sizeof *st);
    err = qcn_vm_statetest_run_file(write_fixture(text), &o, st);
    unlink(path);
    return err;
}

#define ENV                                                                                        \
    "\"env\":{\"currentCoinbase\":\"0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba\","                 \
    "\"currentGasLimit\":\"0x05f5e100\",\"currentNumber\":\"0x01\",\"currentTimestamp\":"          \
    "\"0x03e8\","                                                                                  \
    "\"currentBaseFee\":\"0x0a\",\"currentRandom\":\"0x00\"}"
#define PRE(bal)                                                                                   \
    "\"pre\":{\"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b\":{\"balance\":\"" bal "\","            \
    "\"code\":\"0x\",\"nonce\":\"0x00\",\"storage\":{}}}"
#define TX                                                                                         \
    "\"transaction\":{\"data\":[\"0x\"],\"gasLimit\":[\"0x5208\"],\"gasPrice\":\"0x0a\","          \
    "\"nonce\":\"0x00\",\"sender\":\"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b\","                \
    "\"to\":\"0x1000000000000000000000000000000000000000\",\"value\":[\"0x01\"]}"

static void test_malformed(void **state)
{
    (void)state;
    struct qcn_vm_statetest_stats st;
    assert_int_equal(run("not json", &st), QCN_ERR_BAD_JSON);
    assert_int_equal(run("[1,2,3]", &st), QCN_ERR_VM_STATETEST);
    /* No env. */
    assert_int_equal(run("{\"t\":{" PRE("0x10") "," TX ",\"post\":{\"Cancun\":[]}}}", &st),
                     QCN_ERR_VM_STATETEST);
    /* A bad address in pre. */
    assert_int_equal(
        run("{\"t\":{" ENV ",\"pre\":{\"0xzz\":{}}," TX ",\"post\":{\"Cancun\":[]}}}", &st),
        QCN_ERR_VM_STATETEST);
    /* Odd-length code. */
    assert_int_equal(run("{\"t\":{" ENV
                         ",\"pre\":{\"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b\":{\"balance\":"
                         "\"0x1\",\"code\":\"0x123\",\"nonce\":\"0x0\",\"storage\":{}}}," TX
                         ",\"post\":{\"Cancun\":[]}}}",
                         &st),
                     QCN_ERR_VM_STATETEST);
    /* A post entry pointing past data[]: a failing case, not a crash. */
    assert_int_equal(
        run("{\"t\":{" ENV "," PRE(
                "0x10") "," TX
                        ",\"post\":{\"Cancun\":[{\"indexes\":{\"data\":5,\"gas\":0,\"value\":0},"
                        "\"hash\":\"0x00\",\"logs\":\"0x00\"}]}}}",
            &st),
        QCN_OK);
    assert_int_equal(st.cases, 1);
    assert_int_equal(st.passed, 0);
    /* No entry for the fork: skipped. */
    assert_int_equal(run("{\"t\":{" ENV "," PRE("0x10") "," TX ",\"post\":{\"Berlin\":[]}}}", &st),
                     QCN_OK);
    assert_int_equal(st.tests_skipped, 1);
}

#define EMPTY_ROOT "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
#define EMPTY_LOGS "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"

static void test_rejected_tx_leaves_state(void **state)
{
    (void)state;
    struct qcn_vm_statetest_stats st;
    const char *head = "{\"t\":{" ENV ",\"pre\":{}," TX
                       ",\"post\":{\"Cancun\":[{\"indexes\":{\"data\":0,\"gas\":0,\"value\":0},"
                       "\"hash\":\"";
    const char *tail = "\",\"logs\":\"" EMPTY_LOGS "\"}]}}}";
    char buf[2048];

    snprintf(buf, sizeof buf, "%s%s%s", head, EMPTY_ROOT, tail);
    assert_int_equal(run(buf, &st), QCN_OK);
    assert_int_equal(st.cases, 1);
    assert_int_equal(st.passed, 1);
    /* The same case claiming another root fails and is counted. */
    snprintf(buf, sizeof buf, "%s%s%s", head, "0x01", tail);
    assert_int_equal(run(buf, &st), QCN_OK);
    assert_int_equal(st.cases, 1);
    assert_int_equal(st.passed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_rejected_tx_leaves_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
