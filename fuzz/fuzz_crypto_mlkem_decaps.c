/* ML-KEM decapsulation and key checks on arbitrary bytes, all three sets.
 *
 * Input: byte 0 picks the set (bits 0-1) and whether to repair H(ek) inside
 * dk (bit 2) so the §7.3 check passes and the full decapsulation runs on
 * arbitrary ŝ, ek (coefficients >= q included), z and ciphertext; bit 3
 * selects the portable code instead of the AVX2 code; bit 4 repeats a
 * successful decapsulation on the other code path and compares; bit 5 checks
 * that the §7.2 check and encapsulation agree on the embedded ek. The rest
 * fills dk then ct (zero-padded, cycled if short). Properties: nothing
 * crashes; a key-check failure is QCN_ERR_KEY_CHECK with a zeroed output;
 * the AVX2 and portable paths agree; the ek check agrees with encapsulation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/mlkem.h"
#include "crypto/mlkem_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int params[] = {QCN_MLKEM512, QCN_MLKEM768, QCN_MLKEM1024, QCN_MLKEM768};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t dk[QCN_MLKEM_MAX_DK_BYTES], ct[QCN_MLKEM_MAX_CT_BYTES], ct2[QCN_MLKEM_MAX_CT_BYTES];
    uint8_t ss[QCN_MLKEM_SS_BYTES], ss2[QCN_MLKEM_SS_BYTES];
    int param, fix, rc, rc2;
    uint8_t mode;
    size_t dkn, ctn, ekn, k, j = 0;

    if (size < 1)
        return 0;
    mode = data[0];
    param = params[mode & 3];
    fix = (mode >> 2) & 1;
    qcn_mlkem_force_portable((mode >> 3) & 1);
    data++;
    size--;
    dkn = qcn_mlkem_dk_bytes(param);
    ctn = qcn_mlkem_ct_bytes(param);
    ekn = qcn_mlkem_ek_bytes(param);
    k = (ekn - 32) / 384;
    memset(dk, 0, sizeof dk);
    memset(ct, 0, sizeof ct);
    for (size_t i = 0; size > 0 && i < dkn; i++)
        dk[i] = data[j++ % size];
    for (size_t i = 0; size > 0 && i < ctn; i++)
        ct[i] = data[j++ % size];
    if (fix)
        qcn_sha3_256(dk + 384 * k + ekn, dk + 384 * k, ekn);

    rc = qcn_mlkem_decaps(param, ss, dk, ct);
    if (rc != QCN_OK && rc != QCN_ERR_KEY_CHECK)
        abort();
    if ((rc == QCN_OK) != (qcn_mlkem_check_dk(param, dk) == QCN_OK))
        abort();
    if (fix && rc != QCN_OK)
        abort();
    if (rc == QCN_ERR_KEY_CHECK) {
        for (size_t i = 0; i < sizeof ss; i++)
            if (ss[i] != 0)
                abort();
    } else if (mode & 0x10) {
        /* The other code path (portable vs AVX2) must give the same key. */
        qcn_mlkem_force_portable(!((mode >> 3) & 1));
        rc2 = qcn_mlkem_decaps(param, ss2, dk, ct);
        qcn_mlkem_force_portable((mode >> 3) & 1);
        if (rc2 != QCN_OK || memcmp(ss, ss2, sizeof ss) != 0)
            abort();
    }

    /* The ek embedded in dk: the §7.2 check and encapsulation agree. */
    if (!(mode & 0x20))
        return 0;
    rc = qcn_mlkem_check_ek(param, dk + 384 * k);
    rc2 = qcn_mlkem_encaps(param, ct2, ss2, dk + 384 * k, ct);
    if (rc != rc2 || (rc != QCN_OK && rc != QCN_ERR_KEY_CHECK))
        abort();
    return 0;
}
