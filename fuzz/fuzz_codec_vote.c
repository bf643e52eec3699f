/* libFuzzer target: the consensus message decoders (codec/vote.h): vote,
 * proposal, proposal message, commit certificate, evidence. The first byte
 * picks the decoder. Any input either fails cleanly (output zeroed) or
 * decodes to a value whose re-encoding is byte-identical to the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/block.h"
#include "codec/vote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct qcn_buf *b, const uint8_t *p, size_t n)
{
    if (b->len != n || memcmp(b->p, p, n) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct qcn_vote v;
    static struct qcn_proposal p;
    static struct qcn_evidence e;
    struct qcn_commit c;
    struct qcn_view in, blk;
    struct qcn_buf b;
    int err;

    if (size < 1)
        return 0;
    in = qcn_view_make(data + 1, size - 1);
    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES + QCN_PROPOSAL_MAX_BYTES + 16u);
    switch (data[0] % 5) {
    case 0:
        if (qcn_vote_decode(&v, in) == QCN_OK) {
            if (qcn_vote_encode(&b, &v) != QCN_OK)
                abort();
            same(&b, in.p, in.len);
        } else if (v.height != 0 || v.type != 0) {
            abort();
        }
        break;
    case 1:
        if (qcn_proposal_decode(&p, in) == QCN_OK) {
            if (qcn_proposal_encode(&b, &p) != QCN_OK)
                abort();
            same(&b, in.p, in.len);
        }
        break;
    case 2:
        if (qcn_proposal_msg_decode(&p, &blk, in) == QCN_OK) {
            if (qcn_proposal_msg_encode(&b, &p, blk.p, blk.len) != QCN_OK)
                abort();
            same(&b, in.p, in.len);
        } else if (blk.p != NULL) {
            abort();
        }
        break;
    case 3:
        err = qcn_commit_decode(&c, in);
        if (err == QCN_OK) {
            if (qcn_commit_encode(&b, &c) != QCN_OK)
                abort();
            same(&b, in.p, in.len);
        } else if (c.sigs != NULL || c.nsigs != 0) {
            abort();
        }
        qcn_commit_clear(&c);
        break;
    default:
        if (qcn_evidence_decode(&e, in) == QCN_OK) {
            if (qcn_evidence_encode(&b, &e) != QCN_OK)
                abort();
            same(&b, in.p, in.len);
        }
        break;
    }
    qcn_buf_clear(&b);
    return 0;
}
