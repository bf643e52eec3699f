/* ML-KEM against NIST's ACVP vectors (FIPS 203): keyGen, encapDecap and
 * encapDecap-tr1, every group and function (encapsulation, decapsulation
 * from dk or from the seed d,z, and both key checks).
 *
 * Each file runs twice on an AVX2 machine: through the AVX2 code and, with
 * qcn_mlkem_force_portable, through the portable code.
 *
 * Inputs come from prompt.json (what a lab hands a tester), answers from
 * expectedResults.json, joined on tcId. argv[1] is the shared vectors
 * folder; a missing file fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "crypto/mlkem.h"
#include "crypto/mlkem_internal.h"
#include "util/hex.h"

static const char *g_vectors_dir;

struct tally {
    int total;
    int ok;
};

static json_t *load(const char *dir, const char *file)
{
    char path[1024];
    json_error_t jerr;
    json_t *j;
    int n = snprintf(path, sizeof path, "%s/acvp/%s/%s", g_vectors_dir, dir, file);
    assert_true(n > 0 && (size_t)n < sizeof path);
    j = json_load_file(path, 0, &jerr);
    if (j == NULL)
        fail_msg("cannot load %s: %s (line %d)", path, jerr.text, jerr.line);
    return j;
}

/* The expectedResults test object with this tcId, or NULL. */
static json_t *find_expected(json_t *expected, json_int_t tcid)
{
    json_t *groups = json_object_get(expected, "testGroups");
    size_t gi, ti;
    json_t *g, *t;
    json_array_foreach(groups, gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            if (json_integer_value(json_object_get(t, "tcId")) == tcid)
                return t;
        }
    }
    return NULL;
}

static int param_of(const char *name)
{
    if (name == NULL)
        return 0;
    if (strcmp(name, "ML-KEM-512") == 0)
        return QCN_MLKEM512;
    if (strcmp(name, "ML-KEM-768") == 0)
        return QCN_MLKEM768;
    if (strcmp(name, "ML-KEM-1024") == 0)
        return QCN_MLKEM1024;
    return 0;
}

/* Decodes field name of t into a fresh buffer of exactly n bytes. */
static uint8_t *field(json_t *t, const char *name, size_t n)
{
    const char *hex = json_string_value(json_object_get(t, name));
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (hex == NULL)
        fail_msg("tcId %lld: no field %s",
                 (long long)json_integer_value(json_object_get(t, "tcId")), name);
    if (qcn_hex_decode_exact(p, n, hex) != QCN_OK)
        fail_msg("tcId %lld: field %s is not %zu bytes of hex",
                 (long long)json_integer_value(json_object_get(t, "tcId")), name, n);
    return p;
}

static int same(const uint8_t *a, const uint8_t *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

/* One test case; returns 1 if our answer matches. */
static int run_case(const char *function, const char *key_format, int param, json_t *in,
                    json_t *want)
{
    size_t ekn = qcn_mlkem_ek_bytes(param), dkn = qcn_mlkem_dk_bytes(param);
    size_t ctn = qcn_mlkem_ct_bytes(param);
    uint8_t ek[QCN_MLKEM_MAX_EK_BYTES], dk[QCN_MLKEM_MAX_DK_BYTES], ct[QCN_MLKEM_MAX_CT_BYTES];
    uint8_t ss[QCN_MLKEM_SS_BYTES];
    int ok = 0;

    if (function == NULL) { /* keyGen */
        uint8_t *d = field(in, "d", 32), *z = field(in, "z", 32);
        uint8_t *wek = field(want, "ek", ekn), *wdk = field(want, "dk", dkn);
        ok = qcn_mlkem_keygen(param, ek, dk, d, z) == QCN_OK && same(ek, wek, ekn) &&
             same(dk, wdk, dkn);
        free(d), free(z), free(wek), free(wdk);
    } else if (strcmp(function, "encapsulation") == 0) {
        uint8_t *pek = field(in, "ek", ekn), *m = field(in, "m", 32);
        uint8_t *wc = field(want, "c", ctn), *wk = field(want, "k", 32);
        ok = qcn_mlkem_encaps(param, ct, ss, pek, m) == QCN_OK && same(ct, wc, ctn) &&
             same(ss, wk, 32);
        free(pek), free(m), free(wc), free(wk);
    } else if (strcmp(function, "decapsulation") == 0) {
        uint8_t *c = field(in, "c", ctn), *wk = field(want, "k", 32);
        if (key_format != NULL && strcmp(key_format, "seed") == 0) {
            /* tr1 seed format: the decapsulation key is given as (d, z). */
            uint8_t *d = field(in, "d", 32), *z = field(in, "z", 32);
            ok = qcn_mlkem_keygen(param, ek, dk, d, z) == QCN_OK;
            free(d), free(z);
        } else {
            uint8_t *pdk = field(in, "dk", dkn);
            memcpy(dk, pdk, dkn);
            free(pdk);
            ok = 1;
        }
        ok = ok && qcn_mlkem_decaps(param, ss, dk, c) == QCN_OK && same(ss, wk, 32);
        free(c), free(wk);
    } else if (strcmp(function, "encapsulationKeyCheck") == 0 ||
               strcmp(function, "decapsulationKeyCheck") == 0) {
        json_t *passed = json_object_get(want, "testPassed");
        int is_ek = function[0] == 'e';
        uint8_t *key = field(in, is_ek ? "ek" : "dk", is_ek ? ekn : dkn);
        int rc = is_ek ? qcn_mlkem_check_ek(param, key) : qcn_mlkem_check_dk(param, key);
        assert_true(json_is_boolean(passed));
        assert_true(rc == QCN_OK || rc == QCN_ERR_KEY_CHECK);
        ok = (rc == QCN_OK) == json_is_true(passed);
        /* A key that fails its check must also be refused by encaps/decaps. */
        if (rc != QCN_OK) {
            if (is_ek)
                ok = ok && qcn_mlkem_encaps(param, ct, ss, key, NULL) == QCN_ERR_KEY_CHECK;
            else
                ok = ok && qcn_mlkem_decaps(param, ss, key, ct) == QCN_ERR_KEY_CHECK;
        }
        free(key);
    } else {
        fail_msg("unknown function %s", function);
    }
    return ok;
}

static void run_file(const char *dir, const char *label, int expected_total)
{
    json_t *prompt = load(dir, "prompt.json");
    json_t *expected = load(dir, "expectedResults.json");
    struct tally t = {0, 0};
    size_t gi, ti;
    json_t *g, *tc;

    json_array_foreach(json_object_get(prompt, "testGroups"), gi, g)
    {
        const char *function = json_string_value(json_object_get(g, "function"));
        const char *key_format = json_string_value(json_object_get(g, "keyFormat"));
        int param = param_of(json_string_value(json_object_get(g, "parameterSet")));
        assert_int_not_equal(param, 0);
        json_array_foreach(json_object_get(g, "tests"), ti, tc)
        {
            json_int_t tcid = json_integer_value(json_object_get(tc, "tcId"));
            json_t *want = find_expected(expected, tcid);
            if (want == NULL)
                fail_msg("%s: tcId %lld has no expected result", dir, (long long)tcid);
            t.total++;
            if (run_case(function, key_format, param, tc, want))
                t.ok++;
            else
                fprintf(stderr, "%s: MISMATCH tcId %lld (%s, %s)\n", dir, (long long)tcid,
                        function ? function : "keyGen", key_format ? key_format : "-");
        }
    }
    printf("ML-KEM %s: %d/%d\n", label, t.ok, t.total);
    json_decref(prompt);
    json_decref(expected);
    assert_int_equal(t.total, expected_total);
    assert_int_equal(t.ok, t.total);
}

/* Runs a file on the default dispatch (AVX2 where the CPU has it) and, on
 * an AVX2 machine, again on the portable code. */
static void run_both(const char *dir, const char *label, int expected_total)
{
    char portable[64];
    run_file(dir, label, expected_total);
    if (!qcn_mlkem_have_avx2())
        return;
    snprintf(portable, sizeof portable, "%s (portable)", label);
    qcn_mlkem_force_portable(1);
    run_file(dir, portable, expected_total);
    qcn_mlkem_force_portable(0);
}

static void test_keygen(void **state)
{
    (void)state;
    run_both("ML-KEM-keyGen-FIPS203", "keyGen", 75);
}

static void test_encap_decap(void **state)
{
    (void)state;
    run_both("ML-KEM-encapDecap-FIPS203", "encapDecap", 165);
}

static void test_encap_decap_tr1(void **state)
{
    (void)state;
    run_both("ML-KEM-encapDecap-FIPS203-tr1", "encapDecap-tr1", 195);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen),
        cmocka_unit_test(test_encap_decap),
        cmocka_unit_test(test_encap_decap_tr1),
    };
    if (argc < 2) {
        fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
        return 2;
    }
    g_vectors_dir = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
