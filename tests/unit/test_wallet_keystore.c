/* Keystore files (docs/keystore.md): round trips for every scheme, a wrong
 * password leaves the file byte-identical, every tampered byte is refused,
 * the recorded KDF parameters are the ones used, the default parameters are
 * the strong ones, no file contains the seed or the secret key, and the
 * parser refuses malformed files. Argon2id runs with small parameters here
 * (the default's half second per call is measured once, by the CLI). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "util/hex.h"
#include "util/mem.h"
#include "wallet/keystore.h"

static const struct qcn_kdf_params fast = {1, 64};

static char dir[256];

static int setup(void **state)
{
    (void)state;
    if (qcn_mem_init() != 0)
        return -1;
    snprintf(dir, sizeof dir, "/tmp/qcn-test-keystore-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_roundtrip_all_schemes(void **state)
{
    static const uint8_t schemes[] = {QCN_SCHEME_MLDSA44, QCN_SCHEME_MLDSA65, QCN_SCHEME_MLDSA87};
    struct qcn_wallet_key *k = qcn_wallet_key_new(), *r = qcn_wallet_key_new();
    char name[32];
    size_t i;
    (void)state;
    assert_non_null(k);
    assert_non_null(r);
    for (i = 0; i < sizeof schemes; i++) {
        snprintf(name, sizeof name, "rt%zu", i);
        assert_int_equal(qcn_wallet_key_generate(k, schemes[i]), QCN_OK);
        assert_int_equal(qcn_keystore_save(dir, name, k, "pw", 2, &fast), QCN_OK);
        assert_int_equal(qcn_keystore_load(r, dir, name, "pw", 2), QCN_OK);
        assert_int_equal(r->scheme, schemes[i]);
        assert_memory_equal(r->seed, k->seed, QCN_MLDSA_SEED_BYTES);
        assert_memory_equal(r->pk, k->pk, k->pk_len);
        assert_memory_equal(r->account, k->key_address, QCN_ADDRESS_BYTES);
        /* a second save under the same name is refused, the first file kept */
        assert_int_equal(qcn_keystore_save(dir, name, k, "other", 5, &fast), QCN_ERR_EXISTS);
        assert_int_equal(qcn_keystore_load(r, dir, name, "pw", 2), QCN_OK);
    }
    qcn_wallet_key_free(k);
    qcn_wallet_key_free(r);
}

/* A rotated key signs for an account that is not its own address. */
static void test_account_recorded(void **state)
{
    struct qcn_wallet_key *k = qcn_wallet_key_new(), *r = qcn_wallet_key_new();
    uint8_t seed[32], acct[20];
    (void)state;
    memset(seed, 7, sizeof seed);
    memset(acct, 0xab, sizeof acct);
    assert_int_equal(qcn_wallet_key_from_seed(k, QCN_SCHEME_MLDSA87, seed, acct), QCN_OK);
    assert_memory_not_equal(k->key_address, acct, 20);
    assert_int_equal(qcn_keystore_save(dir, "rotated", k, "pw", 2, &fast), QCN_OK);
    assert_int_equal(qcn_keystore_load(r, dir, "rotated", "pw", 2), QCN_OK);
    assert_memory_equal(r->account, acct, 20);
    assert_memory_equal(r->key_address, k->key_address, 20);
    qcn_wallet_key_free(k);
    qcn_wallet_key_free(r);
}

static void read_key_file(struct qcn_buf *b, const char *name)
{
    qcn_buf_init(b, QCN_KEYSTORE_MAX_FILE);
    assert_int_equal(qcn_keystore_read(b, dir, name), QCN_OK);
}

static void test_wrong_password_file_untouched(void **state)
{
    struct qcn_wallet_key *k = qcn_wallet_key_new(), *r = qcn_wallet_key_new();
    struct qcn_buf before, after;
    (void)state;
    assert_int_equal(qcn_wallet_key_generate(k, QCN_SCHEME_MLDSA65), QCN_OK);
    assert_int_equal(qcn_keystore_save(dir, "wp", k, "right", 5, &fast), QCN_OK);
    read_key_file(&before, "wp");
    memset(r->seed, 0x55, sizeof r->seed);
    assert_int_equal(qcn_keystore_load(r, dir, "wp", "wrong", 5), QCN_ERR_PASSWORD);
    /* nothing of the attempt is left in the output key */
    assert_int_equal(r->scheme, 0);
    assert_int_equal(r->pk_len, 0);
    read_key_file(&after, "wp");
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.p, after.p, before.len);
    assert_int_equal(qcn_keystore_load(r, dir, "wp", "right", 5), QCN_OK);
    qcn_buf_clear(&before);
    qcn_buf_clear(&after);
    qcn_wallet_key_free(k);
    qcn_wallet_key_free(r);
}

/* Every byte of the file is covered: a flipped bit anywhere is refused
 * (by the parser or by the AEAD, whose associated data is the header). */
static void test_tamper_every_byte(void **state)
{
    struct qcn_wallet_key *k = qcn_wallet_key_new(), *r = qcn_wallet_key_new();
    struct qcn_keystore_file f;
    struct qcn_buf b;
    size_t i;
    int err;
    (void)state;
    assert_int_equal(qcn_wallet_key_generate(k, QCN_SCHEME_MLDSA44), QCN_OK);
    qcn_buf_init(&b, QCN_KEYSTORE_MAX_FILE);
    assert_int_equal(qcn_keystore_seal(&b, k, "pw", 2, &(struct qcn_kdf_params){1, 8}), QCN_OK);
    for (i = 0; i < b.len; i++) {
        b.p[i] ^= 0x01;
        err = qcn_keystore_parse(&f, b.p, b.len);
        if (err == QCN_OK)
            err = qcn_keystore_open(r, &f, "pw", 2);
        assert_true(err == QCN_ERR_KEYSTORE_FORMAT || err == QCN_ERR_PASSWORD);
        b.p[i] ^= 0x01;
    }
    assert_int_equal(qcn_keystore_parse(&f, b.p, b.len), QCN_OK);
    assert_int_equal(qcn_keystore_open(r, &f, "pw", 2), QCN_OK);
    /* truncated or extended files are format errors */
    assert_int_equal(qcn_keystore_parse(&f, b.p, b.len - 1), QCN_ERR_KEYSTORE_FORMAT);
    assert_int_equal(qcn_buf_append_u8(&b, 0), QCN_OK);
    assert_int_equal(qcn_keystore_parse(&f, b.p, b.len), QCN_ERR_KEYSTORE_FORMAT);
    assert_int_equal(qcn_keystore_parse(&f, b.p, 0), QCN_ERR_KEYSTORE_FORMAT);
    qcn_buf_clear(&b);
    qcn_wallet_key_free(k);
    qcn_wallet_key_free(r);
}

/* The parameters in the header are the ones used: decrypting by hand with
 * libsodium and exactly those parameters recovers the seed. */
static void test_kdf_params_honoured(void **state)
{
    struct qcn_wallet_key *k = qcn_wallet_key_new();
    struct qcn_kdf_params p = {2, 256};
    struct qcn_keystore_file f;
    struct qcn_buf b;
    uint8_t key[32], seed[32];
    unsigned long long mlen;
    (void)state;
    assert_int_equal(qcn_wallet_key_generate(k, QCN_SCHEME_MLDSA65), QCN_OK);
    qcn_buf_init(&b, QCN_KEYSTORE_MAX_FILE);
    assert_int_equal(qcn_keystore_seal(&b, k, "pw", 2, &p), QCN_OK);
    assert_int_equal(qcn_keystore_parse(&f, b.p, b.len), QCN_OK);
    assert_int_equal(f.kdf.ops, 2);
    assert_int_equal(f.kdf.mem_kib, 256);
    assert_int_equal(b.len, QCN_KEYSTORE_FIXED_HEADER + QCN_MLDSA65_PK_BYTES + 48);
    assert_int_equal(crypto_pwhash(key, sizeof key, "pw", 2, f.salt, 2, 256 * 1024,
                                   crypto_pwhash_ALG_ARGON2ID13),
                     0);
    assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(seed, &mlen, NULL, f.ct.p, f.ct.len,
                                                                f.header.p, f.header.len, f.nonce,
                                                                key),
                     0);
    assert_memory_equal(seed, k->seed, 32);
    /* other parameters give another key: the AEAD refuses */
    assert_int_equal(crypto_pwhash(key, sizeof key, "pw", 2, f.salt, 1, 256 * 1024,
                                   crypto_pwhash_ALG_ARGON2ID13),
                     0);
    assert_int_not_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(seed, &mlen, NULL, f.ct.p,
                                                                    f.ct.len, f.header.p,
                                                                    f.header.len, f.nonce, key),
                         0);
    /* out-of-range parameters are refused when sealing and when parsing */
    assert_int_equal(qcn_keystore_seal(&b, k, "pw", 2, &(struct qcn_kdf_params){0, 256}),
                     QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_keystore_seal(&b, k, "pw", 2,
                                       &(struct qcn_kdf_params){1, QCN_KEYSTORE_MAX_MEM_KIB + 1}),
                     QCN_ERR_INVALID_ARG);
    qcn_store_be32(b.p + 12, QCN_KEYSTORE_MAX_MEM_KIB + 1);
    assert_int_equal(qcn_keystore_parse(&f, b.p, b.len), QCN_ERR_KEYSTORE_FORMAT);
    qcn_buf_clear(&b);
    qcn_wallet_key_free(k);
}

static void test_default_params(void **state)
{
    struct qcn_kdf_params p;
    (void)state;
    unsetenv("QCN_KEYSTORE_KDF");
    assert_int_equal(qcn_kdf_params_default(&p), QCN_OK);
    assert_int_equal(p.ops, QCN_KEYSTORE_DEFAULT_OPS);
    assert_int_equal(p.mem_kib, QCN_KEYSTORE_DEFAULT_MEM_KIB);
    assert_true(p.mem_kib >= 64u * 1024u); /* at least libsodium's "interactive" */
    setenv("QCN_KEYSTORE_KDF", "1:64", 1);
    assert_int_equal(qcn_kdf_params_default(&p), QCN_OK);
    assert_int_equal(p.ops, 1);
    assert_int_equal(p.mem_kib, 64);
    setenv("QCN_KEYSTORE_KDF", "1:4", 1); /* below libsodium's minimum */
    assert_int_equal(qcn_kdf_params_default(&p), QCN_ERR_INVALID_ARG);
    setenv("QCN_KEYSTORE_KDF", "1x64", 1);
    assert_int_equal(qcn_kdf_params_default(&p), QCN_ERR_INVALID_ARG);
    unsetenv("QCN_KEYSTORE_KDF");
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    return memmem(hay, n, needle, m) != NULL;
}

/* Byte for byte: neither the seed nor the expanded secret key (nor their hex)
 * appears in any keystore file. */
static void test_no_secret_in_file(void **state)
{
    static const uint8_t schemes[] = {QCN_SCHEME_MLDSA44, QCN_SCHEME_MLDSA65, QCN_SCHEME_MLDSA87};
    struct qcn_wallet_key *k = qcn_wallet_key_new();
    struct qcn_buf b;
    char name[32], *hex = malloc(2 * QCN_MLDSA_MAX_SK_BYTES + 1);
    size_t i, sklen;
    (void)state;
    assert_non_null(hex);
    for (i = 0; i < sizeof schemes; i++) {
        snprintf(name, sizeof name, "secret%zu", i);
        assert_int_equal(qcn_wallet_key_generate(k, schemes[i]), QCN_OK);
        assert_int_equal(qcn_keystore_save(dir, name, k, "pw", 2, &fast), QCN_OK);
        read_key_file(&b, name);
        sklen = qcn_mldsa_sk_bytes(qcn_scheme_param(schemes[i]));
        assert_false(contains(b.p, b.len, k->seed, 32));
        assert_false(contains(b.p, b.len, k->seed, 16));
        assert_false(contains(b.p, b.len, k->seed + 16, 16));
        assert_false(contains(b.p, b.len, k->sk, sklen));
        assert_false(contains(b.p, b.len, k->sk + 128, 64)); /* s1, s2, t0 region */
        qcn_hex_encode(hex, k->seed, 32);
        assert_false(contains(b.p, b.len, (const uint8_t *)hex, 64));
        qcn_hex_encode(hex, k->sk, sklen);
        assert_false(contains(b.p, b.len, (const uint8_t *)hex, 2 * sklen));
        /* the public key is there, on purpose (public, and authenticated) */
        assert_true(contains(b.p, b.len, k->pk, k->pk_len));
        qcn_buf_clear(&b);
    }
    free(hex);
    qcn_wallet_key_free(k);
}

static void test_names(void **state)
{
    char p[64];
    (void)state;
    assert_true(qcn_keystore_name_valid("alice"));
    assert_true(qcn_keystore_name_valid("alice.old"));
    assert_true(qcn_keystore_name_valid("A-b_c.9"));
    assert_false(qcn_keystore_name_valid(""));
    assert_false(qcn_keystore_name_valid(".hidden"));
    assert_false(qcn_keystore_name_valid("-flag"));
    assert_false(qcn_keystore_name_valid("../etc"));
    assert_false(qcn_keystore_name_valid("a/b"));
    assert_false(qcn_keystore_name_valid("a b"));
    assert_int_equal(qcn_keystore_path(p, sizeof p, "/d", "../x"), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_keystore_path(p, sizeof p, "/d", "x"), QCN_OK);
    assert_string_equal(p, "/d/x.key");
    assert_int_equal(qcn_keystore_path(p, 5, "/d", "x"), QCN_ERR_TOO_LARGE);
    assert_int_equal(qcn_scheme_from_name("ml-dsa-87"), QCN_SCHEME_MLDSA87);
    assert_int_equal(qcn_scheme_from_name("ml-dsa-99"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_all_schemes),
        cmocka_unit_test(test_account_recorded),
        cmocka_unit_test(test_wrong_password_file_untouched),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_kdf_params_honoured),
        cmocka_unit_test(test_default_params),
        cmocka_unit_test(test_no_secret_in_file),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
