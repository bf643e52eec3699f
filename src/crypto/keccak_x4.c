/* Four Keccak-f[1600] permutations side by side in AVX2 registers; see
 * keccak_x4.h. The only copy: ML-DSA's and ML-KEM's four-way samplers both
 * call it (tests/unit/test_crypto_mlkem.c compares it with keccak.c). Each
 * function carries target("avx2"); callers check the CPU first. */
#include "crypto/keccak_x4.h"

#include <stdlib.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

#define ROLV(x, n) _mm256_or_si256(_mm256_slli_epi64((x), (n)), _mm256_srli_epi64((x), 64 - (n)))
#define XOR5(a, b, c, d, e)                                                                        \
    _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256((a), (b)), _mm256_xor_si256((c), (d))), (e))

/* The same rounds as qcn_keccak_f1600 (keccak.c), lane a[x + 5y] named Axy
 * and kept in locals so that the compiler holds what fits in registers. No
 * copy of the state is made in memory besides the compiler's spill slots
 * (as in keccak.c); the caller owns st and wipes it when it held secrets. */
AVX2 void qcn_keccak_x4_f1600(uint64_t st[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES])
{
#define LD(i) _mm256_loadu_si256((const __m256i *)(const void *)st[i])
    __m256i A00 = LD(0), A10 = LD(1), A20 = LD(2), A30 = LD(3), A40 = LD(4);
    __m256i A01 = LD(5), A11 = LD(6), A21 = LD(7), A31 = LD(8), A41 = LD(9);
    __m256i A02 = LD(10), A12 = LD(11), A22 = LD(12), A32 = LD(13), A42 = LD(14);
    __m256i A03 = LD(15), A13 = LD(16), A23 = LD(17), A33 = LD(18), A43 = LD(19);
    __m256i A04 = LD(20), A14 = LD(21), A24 = LD(22), A34 = LD(23), A44 = LD(24);
#undef LD
    int r;

    for (r = 0; r < QCN_KECCAK_ROUNDS; r++) {
        __m256i C0, C1, C2, C3, C4, D0, D1, D2, D3, D4;
        __m256i B00, B10, B20, B30, B40, B01, B11, B21, B31, B41;
        __m256i B02, B12, B22, B32, B42, B03, B13, B23, B33, B43;
        __m256i B04, B14, B24, B34, B44;

        C0 = XOR5(A00, A01, A02, A03, A04);
        C1 = XOR5(A10, A11, A12, A13, A14);
        C2 = XOR5(A20, A21, A22, A23, A24);
        C3 = XOR5(A30, A31, A32, A33, A34);
        C4 = XOR5(A40, A41, A42, A43, A44);
        D0 = _mm256_xor_si256(C4, ROLV(C1, 1));
        D1 = _mm256_xor_si256(C0, ROLV(C2, 1));
        D2 = _mm256_xor_si256(C1, ROLV(C3, 1));
        D3 = _mm256_xor_si256(C2, ROLV(C4, 1));
        D4 = _mm256_xor_si256(C3, ROLV(C0, 1));
        B00 = _mm256_xor_si256(A00, D0);
        B02 = ROLV(_mm256_xor_si256(A10, D1), 1);
        B04 = ROLV(_mm256_xor_si256(A20, D2), 62);
        B01 = ROLV(_mm256_xor_si256(A30, D3), 28);
        B03 = ROLV(_mm256_xor_si256(A40, D4), 27);
        B13 = ROLV(_mm256_xor_si256(A01, D0), 36);
        B10 = ROLV(_mm256_xor_si256(A11, D1), 44);
        B12 = ROLV(_mm256_xor_si256(A21, D2), 6);
        B14 = ROLV(_mm256_xor_si256(A31, D3), 55);
        B11 = ROLV(_mm256_xor_si256(A41, D4), 20);
        B21 = ROLV(_mm256_xor_si256(A02, D0), 3);
        B23 = ROLV(_mm256_xor_si256(A12, D1), 10);
        B20 = ROLV(_mm256_xor_si256(A22, D2), 43);
        B22 = ROLV(_mm256_xor_si256(A32, D3), 25);
        B24 = ROLV(_mm256_xor_si256(A42, D4), 39);
        B34 = ROLV(_mm256_xor_si256(A03, D0), 41);
        B31 = ROLV(_mm256_xor_si256(A13, D1), 45);
        B33 = ROLV(_mm256_xor_si256(A23, D2), 15);
        B30 = ROLV(_mm256_xor_si256(A33, D3), 21);
        B32 = ROLV(_mm256_xor_si256(A43, D4), 8);
        B42 = ROLV(_mm256_xor_si256(A04, D0), 18);
        B44 = ROLV(_mm256_xor_si256(A14, D1), 2);
        B41 = ROLV(_mm256_xor_si256(A24, D2), 61);
        B43 = ROLV(_mm256_xor_si256(A34, D3), 56);
        B40 = ROLV(_mm256_xor_si256(A44, D4), 14);
        A00 = _mm256_xor_si256(B00, _mm256_andnot_si256(B10, B20));
        A10 = _mm256_xor_si256(B10, _mm256_andnot_si256(B20, B30));
        A20 = _mm256_xor_si256(B20, _mm256_andnot_si256(B30, B40));
        A30 = _mm256_xor_si256(B30, _mm256_andnot_si256(B40, B00));
        A40 = _mm256_xor_si256(B40, _mm256_andnot_si256(B00, B10));
        A01 = _mm256_xor_si256(B01, _mm256_andnot_si256(B11, B21));
        A11 = _mm256_xor_si256(B11, _mm256_andnot_si256(B21, B31));
        A21 = _mm256_xor_si256(B21, _mm256_andnot_si256(B31, B41));
        A31 = _mm256_xor_si256(B31, _mm256_andnot_si256(B41, B01));
        A41 = _mm256_xor_si256(B41, _mm256_andnot_si256(B01, B11));
        A02 = _mm256_xor_si256(B02, _mm256_andnot_si256(B12, B22));
        A12 = _mm256_xor_si256(B12, _mm256_andnot_si256(B22, B32));
        A22 = _mm256_xor_si256(B22, _mm256_andnot_si256(B32, B42));
        A32 = _mm256_xor_si256(B32, _mm256_andnot_si256(B42, B02));
        A42 = _mm256_xor_si256(B42, _mm256_andnot_si256(B02, B12));
        A03 = _mm256_xor_si256(B03, _mm256_andnot_si256(B13, B23));
        A13 = _mm256_xor_si256(B13, _mm256_andnot_si256(B23, B33));
        A23 = _mm256_xor_si256(B23, _mm256_andnot_si256(B33, B43));
        A33 = _mm256_xor_si256(B33, _mm256_andnot_si256(B43, B03));
        A43 = _mm256_xor_si256(B43, _mm256_andnot_si256(B03, B13));
        A04 = _mm256_xor_si256(B04, _mm256_andnot_si256(B14, B24));
        A14 = _mm256_xor_si256(B14, _mm256_andnot_si256(B24, B34));
        A24 = _mm256_xor_si256(B24, _mm256_andnot_si256(B34, B44));
        A34 = _mm256_xor_si256(B34, _mm256_andnot_si256(B44, B04));
        A44 = _mm256_xor_si256(B44, _mm256_andnot_si256(B04, B14));
        A00 = _mm256_xor_si256(A00, _mm256_set1_epi64x((long long)qcn_keccak_round_constants[r]));
    }

#define ST(i, v) _mm256_storeu_si256((__m256i *)(void *)st[i], (v))
    ST(0, A00), ST(1, A10), ST(2, A20), ST(3, A30), ST(4, A40);
    ST(5, A01), ST(6, A11), ST(7, A21), ST(8, A31), ST(9, A41);
    ST(10, A02), ST(11, A12), ST(12, A22), ST(13, A32), ST(14, A42);
    ST(15, A03), ST(16, A13), ST(17, A23), ST(18, A33), ST(19, A43);
    ST(20, A04), ST(21, A14), ST(22, A24), ST(23, A34), ST(24, A44);
#undef ST
}

#else

void qcn_keccak_x4_f1600(uint64_t st[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES])
{
    (void)st;
    abort();
}

#endif
