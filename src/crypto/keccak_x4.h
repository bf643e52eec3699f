/* keccak_x4.h - four Keccak-f[1600] permutations side by side in AVX2
 * registers (one 64-bit lane of each state per 256-bit vector), shared by the
 * four-way SHAKE samplers of ML-DSA (mldsa_avx2.c) and ML-KEM
 * (mlkem_avx2.c). Internal to src/crypto (and its tests). */
#ifndef QCN_CRYPTO_KECCAK_X4_H
#define QCN_CRYPTO_KECCAK_X4_H

#include <stdint.h>

#include "crypto/keccak.h"

#define QCN_KECCAK_ROUNDS 24
#define QCN_KECCAK_X4_STATES 4

/* The iota round constants (FIPS 202 §3.2.5), defined in keccak.c. */
extern const uint64_t qcn_keccak_round_constants[QCN_KECCAK_ROUNDS];

/* Applies Keccak-f[1600] to four states at once: st[i][t] is lane i of
 * state t, so st[..][t] after the call equals qcn_keccak_f1600 of st[..][t]
 * before it. The caller must have checked that the CPU has AVX2 (on builds
 * for other architectures this aborts). No secret-dependent branches or
 * indexes; no copy of the state is kept (the caller wipes st if secret).
 * Thread-safe. */
void qcn_keccak_x4_f1600(uint64_t st[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES]);

#endif
