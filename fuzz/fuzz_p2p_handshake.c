/* libFuzzer target: the p2p handshake and frame opener (p2p/secure.h) on
 * hostile bytes. The first byte picks the role:
 *   0  responder: the rest is an HS_INIT (a valid one is answered and then
 *      the tail is tried as HS_FIN, which must fail: nobody signed it);
 *   1  initiator: the rest is an HS_RESP to a fresh HS_INIT (must fail: its
 *      signature cannot cover our fresh nonce);
 *   2  frame: the rest is a sealed frame under a fixed key (only a frame
 *      sealed under that key and counter 0 opens; then it must round-trip).
 * Nothing may crash, leak or accept what it must not. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/secure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct qcn_p2p_identity ident;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct qcn_p2p_hs hs;
    static uint8_t out[QCN_P2P_HS_MAX_BYTES];
    static uint8_t pt[70000];
    struct qcn_p2p_hs_params prm;
    if (!ready) {
        uint8_t seed[32] = {7};
        if (qcn_p2p_identity_from_seed(&ident, seed) != QCN_OK)
            abort();
        ready = 1;
    }
    if (size < 1)
        return 0;
    memset(&prm, 0, sizeof prm);
    prm.id = &ident;
    prm.chain_id = 1337;
    prm.version = QCN_P2P_VERSION;
    prm.min_version = QCN_P2P_MIN_VERSION;
    switch (data[0] % 3) {
    case 0:
        if (size - 1 >= QCN_P2P_HS_INIT_BYTES &&
            qcn_p2p_hs_respond(&hs, &prm, out, data + 1, QCN_P2P_HS_INIT_BYTES) == QCN_OK) {
            if (qcn_p2p_hs_accept(&hs, data + 1 + QCN_P2P_HS_INIT_BYTES,
                                  size - 1 - QCN_P2P_HS_INIT_BYTES) == QCN_OK)
                abort();
        } else if (qcn_p2p_hs_respond(&hs, &prm, out, data + 1, size - 1) == QCN_OK) {
            abort(); /* only exactly HS_INIT_BYTES can be accepted */
        }
        qcn_p2p_hs_clear(&hs);
        break;
    case 1:
        if (qcn_p2p_hs_initiate(&hs, &prm, out) != QCN_OK)
            abort();
        if (qcn_p2p_hs_finish(&hs, out, data + 1, size - 1) == QCN_OK)
            abort();
        qcn_p2p_hs_clear(&hs);
        break;
    default: {
        struct qcn_p2p_cipher c;
        uint8_t key[QCN_P2P_KEY_BYTES] = {1, 2, 3};
        size_t n = size - 1;
        if (n < QCN_P2P_FRAME_HDR_BYTES || n - QCN_P2P_FRAME_HDR_BYTES > sizeof pt)
            break;
        if (qcn_p2p_cipher_init(&c, key, 0, 0) != QCN_OK)
            abort();
        if (qcn_p2p_open(&c, pt, data + 1, data + 1 + QCN_P2P_FRAME_HDR_BYTES,
                         n - QCN_P2P_FRAME_HDR_BYTES) == QCN_OK) {
            struct qcn_p2p_cipher s;
            struct qcn_buf b;
            qcn_buf_init(&b, sizeof pt + 64);
            if (qcn_p2p_cipher_init(&s, key, 0, 0) != QCN_OK ||
                qcn_p2p_seal(&s, &b, pt, n - QCN_P2P_FRAME_HDR_BYTES - QCN_P2P_TAG_BYTES) !=
                    QCN_OK ||
                b.len != n || memcmp(b.p, data + 1, n) != 0)
                abort();
            qcn_buf_clear(&b);
            qcn_p2p_cipher_clear(&s);
        }
        qcn_p2p_cipher_clear(&c);
        break;
    }
    }
    return 0;
}
