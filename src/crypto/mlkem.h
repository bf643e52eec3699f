/* mlkem.h - ML-KEM (FIPS 203) key encapsulation: ML-KEM-512, -768, -1024.
 *
 * Keys and ciphertexts are the FIPS 203 byte encodings. Thread-safe, no heap
 * allocation; secret intermediates are wiped. Decapsulation uses implicit
 * rejection (Alg 18 line 9-11) and runs in time independent of whether the
 * ciphertext was valid. No branch or memory index depends on a secret
 * (checked under valgrind by tests/ct/ct_mlkem.c). On CPUs with AVX2 the NTT
 * and the SHAKE streams use AVX2 code chosen at run time, with results
 * identical to the portable code. Encaps and decaps zero their outputs on
 * every error (ct only when param is known, since its size depends on it);
 * keygen writes nothing on an argument error (unknown param, NULL pointer).
 * docs/crypto.md describes the implementation and its tests. */
#ifndef QCN_CRYPTO_MLKEM_H
#define QCN_CRYPTO_MLKEM_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum qcn_mlkem_param {
    QCN_MLKEM512 = 512,
    QCN_MLKEM768 = 768,
    QCN_MLKEM1024 = 1024,
};

#define QCN_MLKEM512_EK_BYTES 800
#define QCN_MLKEM512_DK_BYTES 1632
#define QCN_MLKEM512_CT_BYTES 768
#define QCN_MLKEM768_EK_BYTES 1184
#define QCN_MLKEM768_DK_BYTES 2400
#define QCN_MLKEM768_CT_BYTES 1088
#define QCN_MLKEM1024_EK_BYTES 1568
#define QCN_MLKEM1024_DK_BYTES 3168
#define QCN_MLKEM1024_CT_BYTES 1568
#define QCN_MLKEM_MAX_EK_BYTES QCN_MLKEM1024_EK_BYTES
#define QCN_MLKEM_MAX_DK_BYTES QCN_MLKEM1024_DK_BYTES
#define QCN_MLKEM_MAX_CT_BYTES QCN_MLKEM1024_CT_BYTES
#define QCN_MLKEM_SEED_BYTES 32 /* each of d and z */
#define QCN_MLKEM_MSG_BYTES 32  /* m */
#define QCN_MLKEM_SS_BYTES 32   /* shared secret K */

/* Sizes for a parameter set, or 0 if param is unknown. */
size_t qcn_mlkem_ek_bytes(int param);
size_t qcn_mlkem_dk_bytes(int param);
size_t qcn_mlkem_ct_bytes(int param);

/* ML-KEM.KeyGen_internal (Alg 16) from d and z; d == NULL and z == NULL draw
 * them from qcn_rng_bytes (ML-KEM.KeyGen, Alg 19). */
QCN_MUST_CHECK int qcn_mlkem_keygen(int param, uint8_t *ek, uint8_t *dk,
                                    const uint8_t d[QCN_MLKEM_SEED_BYTES],
                                    const uint8_t z[QCN_MLKEM_SEED_BYTES]);

/* ML-KEM.Encaps_internal (Alg 17) with message m; m == NULL draws it (Alg 20).
 * Runs the encapsulation-key check (§7.2) first: QCN_ERR_KEY_CHECK if ek fails. */
QCN_MUST_CHECK int qcn_mlkem_encaps(int param, uint8_t *ct, uint8_t ss[QCN_MLKEM_SS_BYTES],
                                    const uint8_t *ek, const uint8_t m[QCN_MLKEM_MSG_BYTES]);

/* ML-KEM.Decaps (Alg 18/21). Runs the decapsulation-key check (§7.3) first:
 * QCN_ERR_KEY_CHECK if dk fails. A modified ciphertext is not an error: it
 * yields the implicit-rejection key. */
QCN_MUST_CHECK int qcn_mlkem_decaps(int param, uint8_t ss[QCN_MLKEM_SS_BYTES], const uint8_t *dk,
                                    const uint8_t *ct);

/* The §7.2 / §7.3 input checks on their own: QCN_OK or QCN_ERR_KEY_CHECK. */
QCN_MUST_CHECK int qcn_mlkem_check_ek(int param, const uint8_t *ek);
QCN_MUST_CHECK int qcn_mlkem_check_dk(int param, const uint8_t *dk);

#endif
