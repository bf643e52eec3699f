/* libFuzzer target: the transaction envelope decoder (codec/tx.h).
 * Any input either fails cleanly or decodes to a transaction whose
 * re-encoding is byte-identical to the input (strict decoding: one encoding
 * per transaction), whose sighash matches the re-encoded unsigned payload, and
 * whose key record (when the input happens to be one) round-trips too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/keyrec.h"
#include "codec/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qcn_tx *tx = NULL;
    struct qcn_tx_fields f;
    struct qcn_keyrec kr;
    struct qcn_buf b;
    uint8_t h[QCN_HASH_BYTES];

    if (qcn_tx_decode(&tx, qcn_view_make(data, size)) == QCN_OK) {
        qcn_tx_fields_from(&f, tx);
        qcn_buf_init(&b, QCN_TX_MAX_BYTES);
        if (qcn_tx_encode(&b, &f, tx->pubkey, tx->sigs, tx->nsigs) != QCN_OK || b.len != size ||
            memcmp(b.p, data, size) != 0)
            abort();
        if (qcn_tx_sighash(h, &f) != QCN_OK || memcmp(h, tx->sighash, QCN_HASH_BYTES) != 0)
            abort();
        qcn_buf_clear(&b);
        qcn_tx_unref(tx);
    } else if (tx != NULL) {
        abort();
    }
    if (qcn_keyrec_decode(&kr, qcn_view_make(data, size)) == QCN_OK) {
        qcn_buf_init(&b, QCN_KEYREC_MAX_BYTES);
        if (qcn_keyrec_encode(&b, &kr) != QCN_OK || b.len != size || memcmp(b.p, data, size) != 0)
            abort();
        qcn_buf_clear(&b);
    }
    return 0;
}
