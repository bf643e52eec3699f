/* The responder of the hybrid key agreement on an arbitrary initiator
 * message: byte 0 gives the context length (0-255 bytes taken next), the rest
 * is the message, any length. Properties: nothing crashes; only the
 * documented errors come back and then both outputs are all zero; a message
 * of the wrong length is always QCN_ERR_INVALID_ARG. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/kex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t secret[QCN_KEX_SECRET_BYTES], reply[QCN_KEX_RESP_MSG_BYTES];
    size_t ctx_len;
    int rc;

    if (size < 1)
        return 0;
    ctx_len = data[0];
    data++;
    size--;
    if (ctx_len > size)
        ctx_len = size;
    rc = qcn_kex_respond(secret, reply, data + ctx_len, size - ctx_len, data, ctx_len);
    if (size - ctx_len != QCN_KEX_INIT_MSG_BYTES && rc != QCN_ERR_INVALID_ARG)
        abort();
    switch (rc) {
    case QCN_OK:
        if (all_zero(secret, sizeof secret) || all_zero(reply, QCN_KEX_X25519_BYTES))
            abort();
        break;
    case QCN_ERR_INVALID_ARG:
    case QCN_ERR_KEY_CHECK:
    case QCN_ERR_BAD_KEY:
        if (!all_zero(secret, sizeof secret) || !all_zero(reply, sizeof reply))
            abort();
        break;
    default:
        abort();
    }
    return 0;
}
