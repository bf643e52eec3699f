/* libFuzzer: ML-DSA verification on arbitrary bytes must give a clean answer
 * and never read out of bounds. Input: one selector byte (parameter set and
 * interface), then pk (zero-padded if short), then sig (its length is what
 * is left, at most the set's signature size, so wrong lengths occur too),
 * then the message. The signature is copied to a buffer of exactly its
 * length so ASan sees any over-read. Seeds hold valid (pk, sig, msg) triples
 * so mutations reach the arithmetic and the hint decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mldsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int params[] = {QCN_MLDSA44, QCN_MLDSA65, QCN_MLDSA87};
    uint8_t pk[QCN_MLDSA_MAX_PK_BYTES] = {0};
    size_t pkn, sign, siglen, take;
    const uint8_t *msg;
    uint8_t *sig;
    int param, iface, rc;

    if (size < 1)
        return 0;
    param = params[data[0] % 3];
    iface = (data[0] / 3) % 3;
    pkn = qcn_mldsa_pk_bytes(param);
    sign = qcn_mldsa_sig_bytes(param);
    data++, size--;
    take = size < pkn ? size : pkn;
    memcpy(pk, data, take);
    data += take, size -= take;
    siglen = size < sign ? size : sign;
    sig = malloc(siglen ? siglen : 1);
    if (sig == NULL)
        return 0;
    memcpy(sig, data, siglen);
    msg = data + siglen;
    size -= siglen;

    switch (iface) {
    case 0:
        rc = qcn_mldsa_verify(param, pk, msg, size, NULL, 0, sig, siglen);
        break;
    case 1:
        rc = qcn_mldsa_verify_internal(param, pk, msg, size, sig, siglen);
        break;
    default:
        rc = qcn_mldsa_hash_verify(param, pk, QCN_MLDSA_HASH_SHAKE256, msg, size, NULL, 0, sig,
                                   siglen);
        break;
    }
    if (rc != QCN_OK && rc != QCN_ERR_BAD_SIGNATURE)
        abort();
    free(sig);
    return 0;
}
