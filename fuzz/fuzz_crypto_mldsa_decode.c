/* libFuzzer: the ML-DSA decoders round trip. Input: one selector byte
 * (parameter set, and which of pk / sig / sk), then the encoding, zero-padded
 * or cut to the exact size so most inputs reach the decoder. Whenever decode
 * succeeds, encode must give back exactly the input bytes (FIPS 204 Alg
 * 22-27: a public key always decodes; a signature only with a well-formed
 * hint (Alg 21); a secret key only with s1/s2 in range). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mldsa.h"
#include "crypto/mldsa_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int params[] = {QCN_MLDSA44, QCN_MLDSA65, QCN_MLDSA87};
    uint8_t *in, *out;
    size_t n;
    int param, kind, rc;

    if (size < 1)
        return 0;
    param = params[data[0] % 3];
    kind = (data[0] / 3) % 3;
    n = kind == 0   ? qcn_mldsa_pk_bytes(param)
        : kind == 1 ? qcn_mldsa_sig_bytes(param)
                    : qcn_mldsa_sk_bytes(param);
    data++, size--;
    in = calloc(1, n);
    out = malloc(n);
    if (in == NULL || out == NULL)
        abort();
    memcpy(in, data, size < n ? size : n);
    if (kind == 0)
        rc = qcn_mldsa_pk_reencode(param, out, in, n);
    else if (kind == 1)
        rc = qcn_mldsa_sig_reencode(param, out, in, n);
    else
        rc = qcn_mldsa_sk_reencode(param, out, in, n);
    if (kind == 0 && rc != 0)
        abort(); /* every pk of the right length decodes */
    if (rc == 0 && memcmp(in, out, n) != 0)
        abort();
    /* A wrong length is refused, never read past. */
    if (n > 1 && kind == 1 && qcn_mldsa_sig_reencode(param, out, in, n - 1) != -1)
        abort();
    free(in);
    free(out);
    return 0;
}
