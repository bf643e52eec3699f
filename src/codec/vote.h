/* vote.h - canonical encodings of the consensus messages of the `pos` engine:
 * votes (prevote, precommit), proposals, commit certificates and double-sign
 * evidence. docs/consensus.md §2 is the normative text.
 *
 *   vote        = RLP([chain_id, height, round, type, block_hash, validator, signature])
 *   vote signing bytes     = RLP([chain_id, height, round, type, block_hash, validator])
 *   proposal    = RLP([chain_id, height, round, pol_round + 1, block_hash, proposer, signature])
 *   proposal signing bytes = RLP([chain_id, height, round, pol_round + 1, block_hash, proposer])
 *   proposal message       = RLP([proposal, block])       block: the encoded block (codec/block.h)
 *   certificate = RLP([height, round, block_hash, [[validator, signature], ...]])
 *   evidence    = RLP([vote_a, vote_b])
 *
 * block_hash is 32 bytes, or empty for a nil vote (votes only). type is 1
 * (prevote) or 2 (precommit). validator/proposer are 20-byte addresses of
 * ML-DSA-65 keys (codec/tx.h qcn_address_from_key with scheme 2). Signatures
 * are ML-DSA-65 (FIPS 204 pure mode) over the signing bytes with the context
 * string QCN_VOTE_SIG_CTX or QCN_PROPOSAL_SIG_CTX, so a vote signature can
 * never be replayed as a transaction or proposal signature and vice versa.
 *
 * Canonical forms: decode accepts exactly one encoding of each value. A
 * certificate lists its signers in strictly ascending address order (so
 * duplicates are impossible); evidence lists the vote whose block_hash sorts
 * first (nil before any hash) first, and both votes agree on chain id,
 * height, round, type and validator. A certificate signature is the signer's
 * PRECOMMIT for (chain_id, height, round, block_hash): the vote is rebuilt
 * from the certificate with qcn_commit_vote.
 *
 * Decoders take bytes from peers: strict RLP, every length capped, never a
 * crash; outputs are zeroed on failure. Thread-safe (no shared state). */
#ifndef QCN_CODEC_VOTE_H
#define QCN_CODEC_VOTE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/tx.h"
#include "util/bytes.h"
#include "util/err.h"

#define QCN_VOTE_PK_BYTES 1952  /* ML-DSA-65 public key */
#define QCN_VOTE_SK_BYTES 4032  /* ML-DSA-65 secret key */
#define QCN_VOTE_SIG_BYTES 3309 /* ML-DSA-65 signature */
#define QCN_VOTE_SIG_CTX "QCN-VOTE-v1"
#define QCN_VOTE_SIG_CTX_LEN 11
#define QCN_PROPOSAL_SIG_CTX "QCN-PROPOSAL-v1"
#define QCN_PROPOSAL_SIG_CTX_LEN 15
/* Encoded sizes are bounded by construction; these caps are what decoders
 * accept (a vote is ~3.4 KB). */
#define QCN_VOTE_MAX_BYTES 4096u
#define QCN_PROPOSAL_MAX_BYTES 4096u
#define QCN_EVIDENCE_MAX_BYTES (2u * QCN_VOTE_MAX_BYTES + 16u)
/* Signers in one certificate: 256 x ~3.3 KB stays under the header's 1 MiB
 * commit field (codec/block.h QCN_HEADER_MAX_COMMIT). The validator set is
 * capped at the same number (consensus/valset.h). */
#define QCN_COMMIT_MAX_SIGS 256u
#define QCN_COMMIT_MAX_BYTES (QCN_COMMIT_MAX_SIGS * (QCN_VOTE_SIG_BYTES + 32u) + 128u)
/* Rounds are 32-bit; pol_round is -1 or a round below the proposal's. */
#define QCN_ROUND_MAX UINT32_MAX

enum qcn_vote_type {
    QCN_VOTE_PREVOTE = 1,
    QCN_VOTE_PRECOMMIT = 2,
};

struct qcn_vote {
    uint64_t chain_id;
    uint64_t height;
    uint32_t round;
    uint8_t type;      /* enum qcn_vote_type */
    uint8_t has_block; /* 0: a nil vote (block_hash is all zero) */
    uint8_t block_hash[QCN_HASH_BYTES];
    uint8_t validator[QCN_ADDRESS_BYTES];
    uint8_t sig[QCN_VOTE_SIG_BYTES];
};

struct qcn_proposal {
    uint64_t chain_id;
    uint64_t height;
    uint32_t round;
    int64_t pol_round; /* -1, or 0 <= pol_round < round */
    uint8_t block_hash[QCN_HASH_BYTES];
    uint8_t proposer[QCN_ADDRESS_BYTES];
    uint8_t sig[QCN_VOTE_SIG_BYTES];
};

struct qcn_commit_sig {
    uint8_t validator[QCN_ADDRESS_BYTES];
    uint8_t sig[QCN_VOTE_SIG_BYTES];
};

struct qcn_commit {
    uint64_t height;
    uint32_t round;
    uint8_t block_hash[QCN_HASH_BYTES];
    size_t nsigs;
    struct qcn_commit_sig *sigs; /* heap, owned; ascending by validator */
};

struct qcn_evidence {
    struct qcn_vote a, b;
};

/* Votes. encode appends to b; sign_bytes appends the signing bytes.
 * QCN_ERR_CODEC for a bad type or a nil vote with a non-zero hash. */
QCN_MUST_CHECK int qcn_vote_encode(struct qcn_buf *b, const struct qcn_vote *v);
QCN_MUST_CHECK int qcn_vote_sign_bytes(struct qcn_buf *b, const struct qcn_vote *v);
/* QCN_ERR_CODEC / QCN_ERR_RLP* / QCN_ERR_TOO_LARGE on malformed input. */
QCN_MUST_CHECK int qcn_vote_decode(struct qcn_vote *out, struct qcn_view in);
/* Fills v->sig with an ML-DSA-65 signature by sk (QCN_VOTE_SK_BYTES) over
 * the signing bytes. deterministic != 0 uses rnd = 0 (tests). Does not check
 * that sk belongs to v->validator. */
QCN_MUST_CHECK int qcn_vote_sign(struct qcn_vote *v, const uint8_t *sk, int deterministic);
/* QCN_OK if v->sig verifies under pk (QCN_VOTE_PK_BYTES) and pk's address
 * is v->validator; QCN_ERR_BAD_SIGNATURE otherwise. */
QCN_MUST_CHECK int qcn_vote_verify(const struct qcn_vote *v, const uint8_t *pk);
/* 1 if a and b are the same (height, round, type, validator) but for
 * different blocks (nil counts as a block): a double sign. */
int qcn_vote_conflicts(const struct qcn_vote *a, const struct qcn_vote *b);

/* Proposals (same contracts as votes). */
QCN_MUST_CHECK int qcn_proposal_encode(struct qcn_buf *b, const struct qcn_proposal *p);
QCN_MUST_CHECK int qcn_proposal_sign_bytes(struct qcn_buf *b, const struct qcn_proposal *p);
QCN_MUST_CHECK int qcn_proposal_decode(struct qcn_proposal *out, struct qcn_view in);
QCN_MUST_CHECK int qcn_proposal_sign(struct qcn_proposal *p, const uint8_t *sk, int deterministic);
QCN_MUST_CHECK int qcn_proposal_verify(const struct qcn_proposal *p, const uint8_t *pk);
/* Proposal message: the proposal and the encoded block it proposes. decode
 * leaves *block pointing into in (not checked beyond being one RLP list of
 * at most QCN_BLOCK_MAX_BYTES; the caller decodes it and checks its hash). */
QCN_MUST_CHECK int qcn_proposal_msg_encode(struct qcn_buf *b, const struct qcn_proposal *p,
                                           const uint8_t *block, size_t block_len);
QCN_MUST_CHECK int qcn_proposal_msg_decode(struct qcn_proposal *out, struct qcn_view *block,
                                           struct qcn_view in);

/* Certificates. add_sig inserts in address order (QCN_ERR_EXISTS for a
 * signer already present, QCN_ERR_TOO_LARGE past QCN_COMMIT_MAX_SIGS).
 * decode gives c its own copy of the signatures; clear frees them. Decode
 * checks the form only; consensus/valset.h verifies signatures and power. */
void qcn_commit_init(struct qcn_commit *c, uint64_t height, uint32_t round,
                     const uint8_t block_hash[QCN_HASH_BYTES]);
void qcn_commit_clear(struct qcn_commit *c);
QCN_MUST_CHECK int qcn_commit_add_sig(struct qcn_commit *c,
                                      const uint8_t validator[QCN_ADDRESS_BYTES],
                                      const uint8_t sig[QCN_VOTE_SIG_BYTES]);
QCN_MUST_CHECK int qcn_commit_encode(struct qcn_buf *b, const struct qcn_commit *c);
QCN_MUST_CHECK int qcn_commit_decode(struct qcn_commit *out, struct qcn_view in);
/* The precommit vote that signature i of c stands for. */
void qcn_commit_vote(struct qcn_vote *out, const struct qcn_commit *c, uint64_t chain_id, size_t i);

/* Evidence. make orders the two votes canonically (QCN_ERR_CODEC if they do
 * not conflict). decode checks form and conflict, not signatures. */
QCN_MUST_CHECK int qcn_evidence_make(struct qcn_evidence *out, const struct qcn_vote *x,
                                     const struct qcn_vote *y);
QCN_MUST_CHECK int qcn_evidence_encode(struct qcn_buf *b, const struct qcn_evidence *e);
QCN_MUST_CHECK int qcn_evidence_decode(struct qcn_evidence *out, struct qcn_view in);

#endif
