/* libFuzzer target: the p2p session-message decoder and the three handshake
 * message decoders (codec/p2p_msg.h). Any input either fails cleanly (output
 * zeroed) or decodes to a message whose re-encoding is byte-identical to the
 * input (one encoding per message). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/p2p_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct qcn_p2p_msg m;
    static struct qcn_p2p_hs_init hi;
    static struct qcn_p2p_hs_resp hr;
    static struct qcn_p2p_hs_fin hf;
    static uint8_t out[QCN_P2P_HS_MAX_BYTES];
    struct qcn_buf b;

    if (qcn_p2p_msg_decode(&m, qcn_view_make(data, size)) == QCN_OK) {
        qcn_buf_init(&b, QCN_P2P_MAX_MSG_BYTES);
        if (qcn_p2p_msg_encode(&b, &m) != QCN_OK || b.len != size || memcmp(b.p, data, size) != 0)
            abort();
        qcn_buf_clear(&b);
    } else if (m.type != 0) {
        abort();
    }
    if (qcn_p2p_hs_init_decode(&hi, qcn_view_make(data, size)) == QCN_OK) {
        qcn_p2p_hs_init_encode(out, &hi);
        if (memcmp(out, data, size) != 0)
            abort();
    }
    if (qcn_p2p_hs_resp_decode(&hr, qcn_view_make(data, size)) == QCN_OK) {
        qcn_p2p_hs_resp_encode(out, &hr, 1);
        if (memcmp(out, data, size) != 0)
            abort();
    }
    if (qcn_p2p_hs_fin_decode(&hf, qcn_view_make(data, size)) == QCN_OK) {
        qcn_p2p_hs_fin_encode(out, &hf);
        if (memcmp(out, data, size) != 0)
            abort();
    }
    return 0;
}
