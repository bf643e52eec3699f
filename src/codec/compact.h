/* compact.h - compact block proposals of the `pos` engine and the fetch of
 * the transactions a receiver lacks (docs/consensus.md §2.1, docs/p2p.md §6).
 *
 *   compact proposal = RLP([proposal, header, hashes])
 *       proposal: codec/vote.h proposal (signed; its block_hash is
 *                 keccak(header)), header: the block's encoded header (an
 *                 RLP list, codec/block.h), hashes: one byte string of n x 32
 *                 bytes, the Keccak-256 of every transaction envelope in
 *                 block order (n may be 0).
 *   block-txs request = RLP([block_hash, indexes])
 *       indexes: one byte string of k x be32, strictly ascending, 1 <= k.
 *   block-txs         = RLP([block_hash, [[index, envelope], ...]])
 *       indexes strictly ascending, 1 <= count, each envelope 1 byte ..
 *       QCN_TX_MAX_BYTES, the whole message at most QCN_BLOCKTX_MAX_BYTES.
 *
 * Nothing here checks that the hashes belong to the header (the header's
 * transactions_root is the trie of index -> hash, docs/protocol.md §8: the
 * engine recomputes it) or that an envelope hashes to what was asked: the
 * receiver does both. Decoders take bytes from peers: strict RLP, every count
 * and length capped before use, outputs are views into the input and are
 * zeroed on failure. Thread-safe (no shared state). */
#ifndef QCN_CODEC_COMPACT_H
#define QCN_CODEC_COMPACT_H

#include <stddef.h>
#include <stdint.h>

#include "codec/block.h"
#include "codec/vote.h"
#include "util/bytes.h"
#include "util/err.h"

/* Transactions listed in one compact proposal (= the block's cap). */
#define QCN_COMPACT_MAX_TXS QCN_BLOCK_MAX_TXS
#define QCN_COMPACT_MAX_BYTES                                                                      \
    (QCN_PROPOSAL_MAX_BYTES + QCN_HEADER_MAX_BYTES + QCN_COMPACT_MAX_TXS * QCN_HASH_BYTES + 64u)
/* Indexes in one request (a requester asks for more in several). */
#define QCN_BLOCKTX_REQ_MAX_IDX 16384u
#define QCN_BLOCKTX_REQ_MAX_BYTES (QCN_HASH_BYTES + QCN_BLOCKTX_REQ_MAX_IDX * 4u + 16u)
/* One answer; a server splits a larger one. */
#define QCN_BLOCKTX_MAX_BYTES (4u * 1024u * 1024u)
#define QCN_BLOCKTX_MAX_TXS 4096u

struct qcn_compact_proposal {
    struct qcn_proposal proposal;
    struct qcn_view header; /* the header's whole RLP item */
    const uint8_t *hashes;  /* n x 32 bytes */
    size_t n;
};

/* Appends RLP([proposal, header, hashes]); header must be one RLP list item.
 * QCN_ERR_TOO_LARGE (n or the total over its cap), QCN_ERR_CODEC; b is left as
 * it was on failure. */
QCN_MUST_CHECK int qcn_compact_proposal_encode(struct qcn_buf *b, const struct qcn_proposal *p,
                                               const uint8_t *header, size_t header_len,
                                               const uint8_t *hashes, size_t n);
QCN_MUST_CHECK int qcn_compact_proposal_decode(struct qcn_compact_proposal *out,
                                               struct qcn_view in);

struct qcn_blocktx_req {
    uint8_t block_hash[QCN_HASH_BYTES];
    const uint8_t *idx; /* k x be32, strictly ascending */
    size_t k;
};
/* idx: k indexes, strictly ascending, 1 <= k <= QCN_BLOCKTX_REQ_MAX_IDX. */
QCN_MUST_CHECK int qcn_blocktx_req_encode(struct qcn_buf *b,
                                          const uint8_t block_hash[QCN_HASH_BYTES],
                                          const uint32_t *idx, size_t k);
QCN_MUST_CHECK int qcn_blocktx_req_decode(struct qcn_blocktx_req *out, struct qcn_view in);
static inline uint32_t qcn_blocktx_req_index(const struct qcn_blocktx_req *r, size_t i)
{
    return qcn_load_be32(r->idx + 4 * i);
}

/* An answer under construction: begin, add (ascending indexes) until it
 * reports QCN_ERR_TOO_LARGE (the entry did not fit and was not added), end. */
struct qcn_blocktx_writer {
    struct qcn_buf *b;
    size_t start, outer, list, count;
    int64_t last;
};
QCN_MUST_CHECK int qcn_blocktx_begin(struct qcn_blocktx_writer *w, struct qcn_buf *b,
                                     const uint8_t block_hash[QCN_HASH_BYTES]);
QCN_MUST_CHECK int qcn_blocktx_add(struct qcn_blocktx_writer *w, uint32_t index, const uint8_t *tx,
                                   size_t len);
/* QCN_ERR_NOT_FOUND if nothing was added (nothing to send; b restored). */
QCN_MUST_CHECK int qcn_blocktx_end(struct qcn_blocktx_writer *w);

struct qcn_blocktx {
    uint8_t block_hash[QCN_HASH_BYTES];
    struct qcn_view list; /* the payload of the entry list, for the iterator */
    size_t count;
};
/* Checks the whole message (every entry) before returning QCN_OK. */
QCN_MUST_CHECK int qcn_blocktx_decode(struct qcn_blocktx *out, struct qcn_view in);
/* Walks the entries of a decoded message: set *pos = 0 first. QCN_OK and the
 * entry, QCN_ERR_NOT_FOUND after the last one. */
QCN_MUST_CHECK int qcn_blocktx_next(const struct qcn_blocktx *m, size_t *pos, uint32_t *index,
                                    struct qcn_view *tx);

#endif
