/* ML-DSA against NIST's ACVP vectors (FIPS 204): keyGen, sigGen, sigGen-tr1
 * (seed and expanded key formats) and sigVer, every test case, run once per
 * arithmetic back end this CPU supports (portable, and AVX2 when present).
 * prompt.json and expectedResults.json are joined on tcId. A missing file is
 * a failure, not a skip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "crypto/mldsa.h"
#include "util/hex.h"

static const char *vectors_dir;

struct vecfile {
    json_t *prompt;
    json_t *expected; /* tcId (as a decimal string) -> test object */
    json_t *results;
};

static json_t *load_json(const char *dir, const char *name)
{
    char path[4096];
    json_error_t err;
    json_t *j;
    int n = snprintf(path, sizeof path, "%s/acvp/%s", vectors_dir, dir);
    assert_true(n > 0 && (size_t)n < sizeof path - 64);
    n = snprintf(path + n, sizeof path - (size_t)n, "/%s", name);
    assert_true(n > 0);
    j = json_load_file(path, 0, &err);
    if (j == NULL)
        fail_msg("cannot load %s: %s", path, err.text);
    return j;
}

static void vecfile_load(struct vecfile *v, const char *dir)
{
    size_t gi, ti;
    json_t *g, *t;
    v->prompt = load_json(dir, "prompt.json");
    v->results = load_json(dir, "expectedResults.json");
    v->expected = json_object();
    json_array_foreach(json_object_get(v->results, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            char key[32];
            snprintf(key, sizeof key, "%lld",
                     (long long)json_integer_value(json_object_get(t, "tcId")));
            json_object_set(v->expected, key, t);
        }
    }
}

static void vecfile_free(struct vecfile *v)
{
    json_decref(v->prompt);
    json_decref(v->results);
    json_decref(v->expected);
}

static json_t *expected_for(const struct vecfile *v, const json_t *t)
{
    char key[32];
    json_t *e;
    snprintf(key, sizeof key, "%lld", (long long)json_integer_value(json_object_get(t, "tcId")));
    e = json_object_get(v->expected, key);
    if (e == NULL)
        fail_msg("no expected result for tcId %s", key);
    return e;
}

/* Decodes a hex field into fresh heap memory (NULL field -> fails). */
static uint8_t *hex_field(const json_t *t, const char *name, size_t *len)
{
    const char *s = json_string_value(json_object_get(t, name));
    size_t n, cap;
    uint8_t *out;
    if (s == NULL)
        fail_msg("missing field %s", name);
    n = strlen(s);
    cap = n / 2 + 1;
    out = malloc(cap);
    assert_non_null(out);
    assert_int_equal(qcn_hex_decode(out, cap, len, s, n), QCN_OK);
    return out;
}

static int param_of(const json_t *g)
{
    const char *s = json_string_value(json_object_get(g, "parameterSet"));
    assert_non_null(s);
    if (strcmp(s, "ML-DSA-44") == 0)
        return QCN_MLDSA44;
    if (strcmp(s, "ML-DSA-65") == 0)
        return QCN_MLDSA65;
    if (strcmp(s, "ML-DSA-87") == 0)
        return QCN_MLDSA87;
    fail_msg("unknown parameter set %s", s);
    return 0;
}

static int hash_of(const json_t *t)
{
    static const char *const names[] = {
        "SHA2-224", "SHA2-256", "SHA2-384", "SHA2-512", "SHA2-512/224", "SHA2-512/256",
        "SHA3-224", "SHA3-256", "SHA3-384", "SHA3-512", "SHAKE-128",    "SHAKE-256",
    };
    static const int ids[] = {
        QCN_MLDSA_HASH_SHA2_224, QCN_MLDSA_HASH_SHA2_256,     QCN_MLDSA_HASH_SHA2_384,
        QCN_MLDSA_HASH_SHA2_512, QCN_MLDSA_HASH_SHA2_512_224, QCN_MLDSA_HASH_SHA2_512_256,
        QCN_MLDSA_HASH_SHA3_224, QCN_MLDSA_HASH_SHA3_256,     QCN_MLDSA_HASH_SHA3_384,
        QCN_MLDSA_HASH_SHA3_512, QCN_MLDSA_HASH_SHAKE128,     QCN_MLDSA_HASH_SHAKE256,
    };
    const char *s = json_string_value(json_object_get(t, "hashAlg"));
    size_t i;
    assert_non_null(s);
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return ids[i];
    fail_msg("unknown hashAlg %s", s);
    return -1;
}

static int flag(const json_t *g, const char *name)
{
    return json_is_true(json_object_get(g, name));
}

static int str_is(const json_t *g, const char *name, const char *want)
{
    const char *s = json_string_value(json_object_get(g, name));
    return s != NULL && strcmp(s, want) == 0;
}

static void report(const char *what, size_t ok, size_t total)
{
    printf("ML-DSA %s: %zu/%zu (%s)\n", what, ok, total, qcn_mldsa_backend_name());
    fflush(stdout);
}

static void run_keygen(void)
{
    struct vecfile v;
    size_t gi, ti, ok = 0, total = 0;
    json_t *g, *t;
    vecfile_load(&v, "ML-DSA-keyGen-FIPS204");
    json_array_foreach(json_object_get(v.prompt, "testGroups"), gi, g)
    {
        int param = param_of(g);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            json_t *e = expected_for(&v, t);
            size_t slen, pklen, sklen;
            uint8_t *seed = hex_field(t, "seed", &slen);
            uint8_t *pk = hex_field(e, "pk", &pklen), *sk = hex_field(e, "sk", &sklen);
            uint8_t mypk[QCN_MLDSA_MAX_PK_BYTES], mysk[QCN_MLDSA_MAX_SK_BYTES];
            assert_int_equal(slen, QCN_MLDSA_SEED_BYTES);
            assert_int_equal(pklen, qcn_mldsa_pk_bytes(param));
            assert_int_equal(sklen, qcn_mldsa_sk_bytes(param));
            assert_int_equal(qcn_mldsa_keygen(param, mypk, mysk, seed), QCN_OK);
            total++;
            if (memcmp(mypk, pk, pklen) == 0 && memcmp(mysk, sk, sklen) == 0)
                ok++;
            else
                print_error("keyGen tcId %lld mismatch\n",
                            (long long)json_integer_value(json_object_get(t, "tcId")));
            free(seed);
            free(pk);
            free(sk);
        }
    }
    report("keyGen", ok, total);
    assert_int_equal(total, 75);
    assert_int_equal(ok, total);
    vecfile_free(&v);
}

static void run_siggen(const char *dir, const char *label, size_t want)
{
    static const uint8_t zero_rnd[QCN_MLDSA_RND_BYTES];
    struct vecfile v;
    size_t gi, ti, ok = 0, total = 0;
    json_t *g, *t;
    vecfile_load(&v, dir);
    json_array_foreach(json_object_get(v.prompt, "testGroups"), gi, g)
    {
        int param = param_of(g);
        int det = flag(g, "deterministic");
        int external = str_is(g, "signatureInterface", "external");
        int prehash = str_is(g, "preHash", "preHash");
        int ext_mu = flag(g, "externalMu");
        int seeded = str_is(g, "keyFormat", "seed");
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            json_t *e = expected_for(&v, t);
            uint8_t sig[QCN_MLDSA_MAX_SIG_BYTES], pk[QCN_MLDSA_MAX_PK_BYTES];
            uint8_t *sk, *want_sig, *msg = NULL, *ctx = NULL, *rnd = NULL;
            size_t sklen, siglen, msglen = 0, ctxlen = 0, rndlen = 0;
            const uint8_t *r;
            int rc;

            if (seeded) {
                size_t seedlen;
                uint8_t *seed = hex_field(t, "seed", &seedlen);
                assert_int_equal(seedlen, QCN_MLDSA_SEED_BYTES);
                sklen = qcn_mldsa_sk_bytes(param);
                sk = malloc(sklen);
                assert_non_null(sk);
                assert_int_equal(qcn_mldsa_keygen(param, pk, sk, seed), QCN_OK);
                free(seed);
            } else {
                sk = hex_field(t, "sk", &sklen);
                assert_int_equal(sklen, qcn_mldsa_sk_bytes(param));
            }
            want_sig = hex_field(e, "signature", &siglen);
            assert_int_equal(siglen, qcn_mldsa_sig_bytes(param));
            msg = hex_field(t, ext_mu ? "mu" : "message", &msglen);
            if (external)
                ctx = hex_field(t, "context", &ctxlen);
            if (!det) {
                rnd = hex_field(t, "rnd", &rndlen);
                assert_int_equal(rndlen, QCN_MLDSA_RND_BYTES);
            }
            r = det ? zero_rnd : rnd;
            if (external && prehash)
                rc = qcn_mldsa_hash_sign(param, sig, sk, hash_of(t), msg, msglen, ctx, ctxlen,
                                         QCN_MLDSA_HEDGED, r);
            else if (external)
                rc = qcn_mldsa_sign(param, sig, sk, msg, msglen, ctx, ctxlen, QCN_MLDSA_HEDGED, r);
            else if (ext_mu) {
                assert_int_equal(msglen, QCN_MLDSA_MU_BYTES);
                rc = qcn_mldsa_sign_mu(param, sig, sk, msg, r);
            } else
                rc = qcn_mldsa_sign_internal(param, sig, sk, msg, msglen, r);
            total++;
            if (rc == QCN_OK && memcmp(sig, want_sig, siglen) == 0)
                ok++;
            else
                print_error("%s tcId %lld mismatch (rc %d)\n", label,
                            (long long)json_integer_value(json_object_get(t, "tcId")), rc);
            /* The deterministic case must also be reachable through the mode flag. */
            if (det && external && !prehash) {
                uint8_t sig2[QCN_MLDSA_MAX_SIG_BYTES];
                assert_int_equal(qcn_mldsa_sign(param, sig2, sk, msg, msglen, ctx, ctxlen,
                                                QCN_MLDSA_DETERMINISTIC, NULL),
                                 QCN_OK);
                assert_memory_equal(sig2, want_sig, siglen);
            }
            free(sk);
            free(want_sig);
            free(msg);
            free(ctx);
            free(rnd);
        }
    }
    report(label, ok, total);
    assert_int_equal(total, want);
    assert_int_equal(ok, total);
    vecfile_free(&v);
}

static void run_sigver(void)
{
    struct vecfile v;
    size_t gi, ti, ok = 0, total = 0, valid = 0, expanded_total = 0, expanded_agree = 0;
    json_t *g, *t;
    vecfile_load(&v, "ML-DSA-sigVer-FIPS204");
    json_array_foreach(json_object_get(v.prompt, "testGroups"), gi, g)
    {
        int param = param_of(g);
        int external = str_is(g, "signatureInterface", "external");
        int prehash = str_is(g, "preHash", "preHash");
        int ext_mu = flag(g, "externalMu");
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            json_t *e = expected_for(&v, t);
            int want = json_is_true(json_object_get(e, "testPassed"));
            size_t pklen, siglen, msglen, ctxlen = 0;
            uint8_t *pk = hex_field(t, "pk", &pklen), *sig = hex_field(t, "signature", &siglen);
            uint8_t *msg = hex_field(t, ext_mu ? "mu" : "message", &msglen), *ctx = NULL;
            int rc;
            assert_true(json_is_boolean(json_object_get(e, "testPassed")));
            assert_int_equal(pklen, qcn_mldsa_pk_bytes(param));
            if (external)
                ctx = hex_field(t, "context", &ctxlen);
            if (external && prehash)
                rc = qcn_mldsa_hash_verify(param, pk, hash_of(t), msg, msglen, ctx, ctxlen, sig,
                                           siglen);
            else if (external)
                rc = qcn_mldsa_verify(param, pk, msg, msglen, ctx, ctxlen, sig, siglen);
            else if (ext_mu) {
                assert_int_equal(msglen, QCN_MLDSA_MU_BYTES);
                rc = qcn_mldsa_verify_mu(param, pk, msg, sig, siglen);
            } else
                rc = qcn_mldsa_verify_internal(param, pk, msg, msglen, sig, siglen);
            /* The expanded-key path must give the same answer as the plain
             * one wherever it applies (pure and internal interfaces). */
            if ((external && !prehash) || (!external && !ext_mu)) {
                struct qcn_mldsa_pk_expanded *x =
                    aligned_alloc(32, qcn_mldsa_pk_expanded_bytes(param));
                int rcx;
                assert_non_null(x);
                assert_int_equal(qcn_mldsa_pk_expand(param, x, pk, pklen), QCN_OK);
                rcx = external ? qcn_mldsa_verify_expanded(x, msg, msglen, ctx, ctxlen, sig, siglen)
                               : qcn_mldsa_verify_internal_expanded(x, msg, msglen, sig, siglen);
                if (rcx != rc)
                    print_error("sigVer tcId %lld: expanded got %d, plain %d\n",
                                (long long)json_integer_value(json_object_get(t, "tcId")), rcx, rc);
                expanded_total++;
                expanded_agree += rcx == rc;
                free(x);
            }
            total++;
            valid += want;
            if ((rc == QCN_OK) == want && (rc == QCN_OK || rc == QCN_ERR_BAD_SIGNATURE))
                ok++;
            else
                print_error("sigVer tcId %lld: got %d, want %s\n",
                            (long long)json_integer_value(json_object_get(t, "tcId")), rc,
                            want ? "valid" : "invalid");
            free(pk);
            free(sig);
            free(msg);
            free(ctx);
        }
    }
    report("sigVer", ok, total);
    assert_int_equal(total, 180);
    report("sigVer (expanded key)", expanded_agree, expanded_total);
    assert_int_equal(expanded_agree, expanded_total);
    assert_true(expanded_total >= 60);
    /* Both outcomes must be represented, or the comparison proves little. */
    assert_true(valid > 0 && valid < total);
    assert_int_equal(ok, total);
    vecfile_free(&v);
}

static void run_all(void)
{
    run_keygen();
    run_siggen("ML-DSA-sigGen-FIPS204", "sigGen", 360);
    run_siggen("ML-DSA-sigGen-FIPS204-tr1", "sigGen-tr1", 720);
    run_sigver();
}

static void test_portable(void **state)
{
    (void)state;
    assert_int_equal(qcn_mldsa_backend_set(QCN_MLDSA_BACKEND_PORTABLE), QCN_OK);
    run_all();
}

static void test_avx2(void **state)
{
    (void)state;
    if (qcn_mldsa_backend_set(QCN_MLDSA_BACKEND_AVX2) != QCN_OK) {
        printf("ML-DSA: this build or CPU has no AVX2 back end; portable only\n");
        skip();
    }
    run_all();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_portable),
        cmocka_unit_test(test_avx2),
    };
    if (argc < 2) {
        fprintf(stderr, "usage: %s <vectors dir>\n", argv[0]);
        return 2;
    }
    vectors_dir = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
