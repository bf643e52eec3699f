/* libFuzzer target: the compact-proposal decoders (codec/compact.h):
 * compact proposal, block-txs request, block-txs answer. The first byte
 * picks the decoder. Any input either fails cleanly (output zeroed) or
 * decodes to a value whose re-encoding is byte-identical to the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/compact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct qcn_buf *b, const uint8_t *p, size_t n)
{
    if (b->len != n || memcmp(b->p, p, n) != 0)
        abort();
}

static uint32_t idx[QCN_BLOCKTX_REQ_MAX_IDX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qcn_compact_proposal cp;
    struct qcn_blocktx_req r;
    struct qcn_blocktx m;
    struct qcn_blocktx_writer w;
    struct qcn_view in, tx;
    struct qcn_buf b;
    size_t i, pos = 0;
    uint32_t index;

    if (size < 1)
        return 0;
    in = qcn_view_make(data + 1, size - 1);
    qcn_buf_init(&b, QCN_COMPACT_MAX_BYTES);
    switch (data[0] % 3) {
    case 0:
        if (qcn_compact_proposal_decode(&cp, in) == QCN_OK) {
            if (qcn_compact_proposal_encode(&b, &cp.proposal, cp.header.p, cp.header.len, cp.hashes,
                                            cp.n) != QCN_OK)
                abort();
            same(&b, in.p, in.len);
        } else if (cp.header.p != NULL || cp.n != 0) {
            abort();
        }
        break;
    case 1:
        if (qcn_blocktx_req_decode(&r, in) == QCN_OK) {
            for (i = 0; i < r.k; i++)
                idx[i] = qcn_blocktx_req_index(&r, i);
            if (qcn_blocktx_req_encode(&b, r.block_hash, idx, r.k) != QCN_OK)
                abort();
            same(&b, in.p, in.len);
        } else if (r.k != 0) {
            abort();
        }
        break;
    default:
        if (qcn_blocktx_decode(&m, in) == QCN_OK) {
            size_t n = 0;
            if (qcn_blocktx_begin(&w, &b, m.block_hash) != QCN_OK)
                abort();
            while (qcn_blocktx_next(&m, &pos, &index, &tx) == QCN_OK) {
                if (qcn_blocktx_add(&w, index, tx.p, tx.len) != QCN_OK)
                    abort();
                n++;
            }
            if (n != m.count || qcn_blocktx_end(&w) != QCN_OK)
                abort();
            same(&b, in.p, in.len);
        } else if (m.count != 0) {
            abort();
        }
        break;
    }
    qcn_buf_clear(&b);
    return 0;
}
