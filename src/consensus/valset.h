/* valset.h - the validator set of a height: ML-DSA-65 identity keys, voting
 * power (stake), beacon state; stake-weighted proposer selection from the
 * randomness beacon; commit-certificate verification (docs/consensus.md
 * §4-§5).
 *
 * Validators are kept sorted by address; their index in that order is the
 * index the Tendermint machine uses. Total power is capped at 2^62 so that
 * 3 * power never overflows.
 *
 * Not thread-safe; qcn_commit_verify only reads the set and may run on a
 * worker thread while nothing modifies it. */
#ifndef QCN_CONSENSUS_VALSET_H
#define QCN_CONSENSUS_VALSET_H

#include <stddef.h>
#include <stdint.h>

#include "codec/vote.h"
#include "util/bytes.h"
#include "util/err.h"

#define QCN_VALSET_MAX QCN_COMMIT_MAX_SIGS
#define QCN_VALSET_MAX_TOTAL_POWER (UINT64_C(1) << 62)
#define QCN_BEACON_BYTES 32

struct qcn_validator {
    uint8_t address[QCN_ADDRESS_BYTES];
    uint8_t pubkey[QCN_VOTE_PK_BYTES];
    uint64_t power;
    /* Beacon (consensus/beacon.h): the last value of its hash chain seen on
     * chain (the registered tip until its first reveal) and how many
     * reveals it made. */
    uint8_t beacon_last[QCN_BEACON_BYTES];
    uint64_t beacon_reveals;
};

struct qcn_valset {
    size_t n;
    struct qcn_validator *v; /* heap, sorted by address */
    uint64_t total;
};

void qcn_valset_init(struct qcn_valset *vs);
void qcn_valset_clear(struct qcn_valset *vs);
QCN_MUST_CHECK int qcn_valset_copy(struct qcn_valset *dst, const struct qcn_valset *src);

/* Adds a validator (address derived from pubkey, scheme ML-DSA-65).
 * QCN_ERR_EXISTS (same address), QCN_ERR_INVALID_ARG (zero power),
 * QCN_ERR_TOO_LARGE (more than QCN_VALSET_MAX, or total power over the cap),
 * QCN_ERR_NOMEM. */
QCN_MUST_CHECK int qcn_valset_add(struct qcn_valset *vs, const uint8_t pubkey[QCN_VOTE_PK_BYTES],
                                  uint64_t power, const uint8_t beacon_tip[QCN_BEACON_BYTES]);
/* Index of addr, or -1. */
int qcn_valset_find(const struct qcn_valset *vs, const uint8_t addr[QCN_ADDRESS_BYTES]);
/* 1 if power is more than 2/3 of the total. */
int qcn_valset_quorum(const struct qcn_valset *vs, uint64_t power);
/* The powers in index order into out (vs->n entries), for qcn_tm_start_height. */
void qcn_valset_powers(const struct qcn_valset *vs, uint64_t *out);

/* Proposer of (height, round): index i with probability power_i / total,
 * drawn from x_k = Keccak-256("QCN-PROPOSER" || beacon || be64(height) ||
 * be32(round) || be32(k)) for k = 0, 1, ...: the first 8 bytes of x_k as a
 * big-endian integer, rejected while not below the largest multiple of
 * total (no modulo bias), then mapped onto the cumulative powers in index
 * order. beacon is the parent block's randomness mix. Deterministic. */
uint32_t qcn_valset_proposer(const struct qcn_valset *vs, const uint8_t beacon[QCN_BEACON_BYTES],
                             uint64_t height, uint32_t round);

/* Block h's beacon step (consensus/beacon.h): the proposer's reveal must
 * hash to its last on-chain beacon value; then that value becomes the
 * reveal, its reveal count grows, and mix = next(prev_mix, reveal).
 * QCN_ERR_CONSENSUS_VALIDATOR (not a member), QCN_ERR_CONSENSUS_BEACON (bad
 * reveal); vs is unchanged on failure. */
QCN_MUST_CHECK int qcn_valset_beacon_apply(struct qcn_valset *vs,
                                           const uint8_t proposer[QCN_ADDRESS_BYTES],
                                           const uint8_t reveal[QCN_BEACON_BYTES],
                                           const uint8_t prev_mix[QCN_BEACON_BYTES],
                                           uint8_t mix[QCN_BEACON_BYTES]);

/* The set as RLP([[pubkey, power, beacon_last, beacon_reveals], ...]) in
 * index order (genesis, snapshots). decode re-checks every rule of add and
 * the order. */
QCN_MUST_CHECK int qcn_valset_encode(struct qcn_buf *b, const struct qcn_valset *vs);
QCN_MUST_CHECK int qcn_valset_decode(struct qcn_valset *out, struct qcn_view in);

/* Verifies that cert (an encoded certificate, codec/vote.h) finalizes
 * block_hash at height under vs: canonical form, the same height and block,
 * every signer a member (distinct by construction), every signature a valid
 * ML-DSA-65 PRECOMMIT over (chain_id, height, cert round, block_hash), and
 * the signers' power more than 2/3 of the total. QCN_OK or
 * QCN_ERR_CONSENSUS_CERT (any failure; a decode error too), QCN_ERR_NOMEM.
 * out (may be NULL) gets the decoded certificate on success (caller clears). */
QCN_MUST_CHECK int qcn_commit_verify(const struct qcn_valset *vs, uint64_t chain_id,
                                     uint64_t height, const uint8_t block_hash[QCN_HASH_BYTES],
                                     struct qcn_view cert, struct qcn_commit *out);

#endif
