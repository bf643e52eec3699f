/* libFuzzer target: block, header and receipt decoders (codec/block.h,
 * codec/receipt.h). Whatever decodes re-encodes to exactly the input, and a
 * decoded block's hash is Keccak-256 of its header encoding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/block.h"
#include "codec/receipt.h"
#include "crypto/keccak.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct qcn_buf *b, const uint8_t *data, size_t size)
{
    if (b->len != size || memcmp(b->p, data, size) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qcn_block blk;
    struct qcn_header h;
    struct qcn_receipt *rs;
    struct qcn_buf b;
    uint8_t hh[QCN_HASH_BYTES];
    size_t n, i;

    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
    if (qcn_block_decode(&blk, qcn_view_make(data, size)) == QCN_OK) {
        if (qcn_block_encode(&b, &blk) != QCN_OK)
            abort();
        check_same(&b, data, size);
        if (qcn_header_hash(hh, &blk.header) != QCN_OK || memcmp(hh, blk.hash, QCN_HASH_BYTES) != 0)
            abort();
        qcn_block_clear(&blk);
    }
    qcn_buf_reset(&b);
    if (qcn_header_decode(&h, qcn_view_make(data, size)) == QCN_OK) {
        if (qcn_header_encode(&b, &h) != QCN_OK)
            abort();
        check_same(&b, data, size);
        qcn_header_clear(&h);
    }
    qcn_buf_reset(&b);
    if (qcn_receipts_decode(&rs, &n, qcn_view_make(data, size)) == QCN_OK) {
        if (qcn_receipts_encode(&b, rs, n) != QCN_OK)
            abort();
        check_same(&b, data, size);
        for (i = 0; i < n; i++)
            qcn_receipt_clear(&rs[i]);
        free(rs);
    }
    qcn_buf_clear(&b);
    return 0;
}
