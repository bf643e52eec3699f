/* Constant-time check for ML-KEM (secp256k1's valgrind technique): the
 * secret inputs are marked undefined with VALGRIND_MAKE_MEM_UNDEFINED, so
 * memcheck reports any branch or memory index that depends on them
 * ("Conditional jump or move depends on uninitialised value"). Run under
 * `valgrind --error-exitcode=1`; without valgrind it only checks results.
 *
 * Covered: keygen with d and z secret; decapsulation with dk_pke (the secret
 * vector ŝ) and z secret, for a valid ciphertext and for ciphertexts
 * modified in the u part, the v part and the last byte (the implicit-
 * rejection path), for all three parameter sets. The embedded ek and H(ek)
 * are public and stay defined, as is ρ (declassified inside keygen). On an
 * AVX2 machine everything runs twice: AVX2 code, then the portable code
 * (qcn_mlkem_force_portable). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "crypto/mlkem.h"
#include "crypto/mlkem_internal.h"
#include "util/mem.h"

static const int params[] = {QCN_MLKEM512, QCN_MLKEM768, QCN_MLKEM1024};

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + 31 * i + (i >> 3));
}

int main(void)
{
    uint8_t d[32], z[32], m[32], ek[QCN_MLKEM_MAX_EK_BYTES], dk[QCN_MLKEM_MAX_DK_BYTES];
    uint8_t ct[QCN_MLKEM_MAX_CT_BYTES], ss[32], ss2[32];
    int failures = 0;

    for (int path = 0; path < 2; path++) {
        if (path == 1 && !qcn_mlkem_have_avx2())
            break;
        qcn_mlkem_force_portable(path);
        for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
            const int param = params[p];
            const size_t ekn = qcn_mlkem_ek_bytes(param), dkn = qcn_mlkem_dk_bytes(param);
            const size_t ctn = qcn_mlkem_ct_bytes(param);
            const size_t spots[] = {0, ctn / 3, ctn - 100, ctn - 1};

            fill(d, sizeof d, (uint8_t)(7 + p));
            fill(z, sizeof z, (uint8_t)(90 + p));
            fill(m, sizeof m, (uint8_t)(200 + p));

            VALGRIND_MAKE_MEM_UNDEFINED(d, sizeof d);
            VALGRIND_MAKE_MEM_UNDEFINED(z, sizeof z);
            if (qcn_mlkem_keygen(param, ek, dk, d, z) != 0)
                failures++;
            /* ek is public output; dk is secret but the test holds it. */
            VALGRIND_MAKE_MEM_DEFINED(ek, ekn);
            VALGRIND_MAKE_MEM_DEFINED(dk, dkn);

            if (qcn_mlkem_encaps(param, ct, ss, ek, m) != 0)
                failures++;

            for (size_t s = 0; s <= sizeof spots / sizeof spots[0]; s++) {
                if (s > 0)
                    ct[spots[s - 1]] ^= 0x5a; /* modified ciphertext: rejection path */
                /* Secret parts of dk: ŝ (first 384k bytes) and z (last 32). */
                VALGRIND_MAKE_MEM_UNDEFINED(dk, 384 * (ekn / 384));
                VALGRIND_MAKE_MEM_UNDEFINED(dk + dkn - 32, 32);
                if (qcn_mlkem_decaps(param, ss2, dk, ct) != 0)
                    failures++;
                VALGRIND_MAKE_MEM_DEFINED(ss2, sizeof ss2);
                VALGRIND_MAKE_MEM_DEFINED(dk, dkn);
                /* Valid: the real key; modified: anything else. */
                if ((memcmp(ss, ss2, sizeof ss) == 0) != (s == 0)) {
                    fprintf(stderr, "ML-KEM-%d: wrong decapsulation result (case %zu)\n", param, s);
                    failures++;
                }
                if (s > 0)
                    ct[spots[s - 1]] ^= 0x5a;
            }
            printf("ML-KEM-%d (%s): keygen + %zu decapsulations checked\n", param,
                   qcn_mlkem_use_avx2() ? "avx2" : "portable", sizeof spots / sizeof spots[0] + 1);
        }
    }
    qcn_wipe(dk, sizeof dk);
    return failures == 0 ? 0 : 1;
}
