/* consensus.conf loading (consensus/pos_config.h): the files qcn testnet
 * init writes are read back into a working pos configuration; bad files
 * are errors naming the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "consensus/pos_config.h"
#include "crypto/mldsa.h"
#include "util/hex.h"

static char dir[64];

static void put(const char *name, const char *text)
{
    char path[128];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/qcn-posconf-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    const char *names[] = {"vals.hex", "key", "beacon", "c.conf", "bad.conf", "bad2.conf"};
    char path[128];
    size_t i;
    (void)state;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

static void test_load(void **state)
{
    static uint8_t pk[QCN_VOTE_PK_BYTES], sk[QCN_VOTE_SK_BYTES];
    struct qcn_valset vs, d;
    struct qcn_buf b;
    struct qcn_pos_settings s;
    uint8_t seed[32], tip[32] = {1};
    char *hex, conf[1024], path[128], err[256];
    (void)state;
    memset(seed, 0x5e, 32);
    assert_int_equal(qcn_mldsa_keygen(QCN_MLDSA65, pk, sk, seed), QCN_OK);
    qcn_valset_init(&vs);
    assert_int_equal(qcn_valset_add(&vs, pk, 10, tip), QCN_OK);
    qcn_buf_init(&b, 1 << 16);
    assert_int_equal(qcn_valset_encode(&b, &vs), QCN_OK);
    hex = malloc(2 * b.len + 2);
    qcn_hex_encode(hex, b.p, b.len);
    memcpy(hex + 2 * b.len, "\n", 2);
    put("vals.hex", hex);
    free(hex);
    put("key", "# QCN TEST VALIDATOR "
               "KEY\n\n5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e\n");
    put("beacon", "# seed\n0101010101010101010101010101010101010101010101010101010101010101\n");
    snprintf(conf, sizeof conf,
             "# comment\n\npos.chain_id = 77\npos.validators = %s/vals.hex\n"
             "pos.validator_key = %s/key\npos.beacon_seed = %s/beacon\n"
             "pos.beacon_length = 500\npos.wal = %s/wal\npos.block_interval_ms = 250\n",
             dir, dir, dir, dir);
    put("c.conf", conf);
    snprintf(path, sizeof path, "%s/c.conf", dir);
    assert_int_equal(qcn_pos_settings_load(&s, path, err, sizeof err), QCN_OK);
    assert_int_equal(s.cfg.chain_id, 77);
    assert_true(s.cfg.has_key);
    assert_memory_equal(s.cfg.pk, pk, sizeof pk);
    assert_memory_equal(s.cfg.sk, sk, sizeof sk);
    assert_int_equal(s.cfg.beacon_seed[31], 1);
    assert_int_equal(s.cfg.beacon_length, 500);
    assert_int_equal(s.cfg.block_interval_ms, 250);
    assert_non_null(strstr(s.cfg.wal_path, "/wal"));
    assert_int_equal(qcn_valset_decode(&d, qcn_view_make(s.cfg.validators, s.cfg.validators_len)),
                     QCN_OK);
    assert_int_equal(d.n, 1);
    qcn_valset_clear(&d);
    qcn_pos_settings_clear(&s);

    /* errors name the line */
    snprintf(conf, sizeof conf, "pos.chain_id = 77\npos.bogus = 1\n");
    put("bad.conf", conf);
    snprintf(path, sizeof path, "%s/bad.conf", dir);
    assert_int_equal(qcn_pos_settings_load(&s, path, err, sizeof err), QCN_ERR_CONFIG);
    assert_non_null(strstr(err, ":2:"));
    /* required keys; a key file that is not hex */
    snprintf(conf, sizeof conf, "pos.chain_id = 77\n");
    put("bad.conf", conf);
    assert_int_equal(qcn_pos_settings_load(&s, path, err, sizeof err), QCN_ERR_CONFIG);
    put("key", "not hex\n");
    snprintf(conf, sizeof conf, "pos.chain_id = 7\npos.validator_key = %s/key\n", dir);
    put("bad2.conf", conf);
    snprintf(path, sizeof path, "%s/bad2.conf", dir);
    assert_int_equal(qcn_pos_settings_load(&s, path, err, sizeof err), QCN_ERR_CONFIG);
    assert_non_null(strstr(err, ":2:"));
    /* the test-only double-sign fault: accepted only in a QCN_TEST_FAULTS
     * build, and an error saying why in any other */
    snprintf(conf, sizeof conf,
             "pos.chain_id = 77\npos.validators = %s/vals.hex\npos.test_fault = double_sign\n",
             dir);
    put("bad.conf", conf);
    snprintf(path, sizeof path, "%s/bad.conf", dir);
#ifdef QCN_TEST_FAULTS
    assert_int_equal(qcn_pos_settings_load(&s, path, err, sizeof err), QCN_OK);
    assert_true(s.cfg.fault_double_sign);
    qcn_pos_settings_clear(&s);
#else
    assert_int_equal(qcn_pos_settings_load(&s, path, err, sizeof err), QCN_ERR_CONFIG);
    assert_non_null(strstr(err, "QCN_TEST_FAULTS"));
#endif
    snprintf(conf, sizeof conf,
             "pos.chain_id = 77\npos.validators = %s/vals.hex\npos.test_fault = crash\n", dir);
    put("bad.conf", conf);
    assert_int_equal(qcn_pos_settings_load(&s, path, err, sizeof err), QCN_ERR_CONFIG);
    assert_non_null(strstr(err, ":3:"));
    /* without the key: no fault */
    snprintf(conf, sizeof conf, "pos.chain_id = 77\npos.validators = %s/vals.hex\n", dir);
    put("bad.conf", conf);
    assert_int_equal(qcn_pos_settings_load(&s, path, err, sizeof err), QCN_OK);
    assert_false(s.cfg.fault_double_sign);
    qcn_pos_settings_clear(&s);
    snprintf(path, sizeof path, "%s/missing.conf", dir);
    assert_int_equal(qcn_pos_settings_load(&s, path, err, sizeof err), QCN_ERR_NOT_FOUND);
    qcn_buf_clear(&b);
    qcn_valset_clear(&vs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
