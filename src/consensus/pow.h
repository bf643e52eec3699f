/* pow.h - the `pow` engine: SHA3-256 proof of work with a per-block
 * difficulty adjustment, for comparison runs against `pos` (it has no
 * finality: a block is only ever probably final). docs/consensus.md §10.
 *
 *   header.extra = be64(difficulty) || be64(nonce)          (16 bytes)
 *   seal hash    = Keccak-256(header with extra = be64(difficulty))
 *   work         = SHA3-256(seal hash || be64(nonce))
 *   valid        iff be64(work[0..8]) <= floor((2^64 - 1) / difficulty)
 *   difficulty_h = max(QCN_POW_MIN_DIFFICULTY,
 *                      d + d / QCN_POW_ADJUST_DIV * clamp(1 - (t_h - t_{h-1}) / target_s, -99, 1))
 * (Ethereum Homestead's rule with a faster divisor; timestamps in seconds.)
 * Block 1's parent difficulty is QCN_POW_MIN_DIFFICULTY.
 *
 * The engine drives the same host as pos (struct qcn_pos_host): it builds a
 * block, searches a nonce in slices of QCN_POW_HASHES_PER_SLICE hashes per
 * loop turn (the loop never stalls), and commits the sealed block. It
 * follows the host's head: a block that arrives first wins (longest chain
 * by arrival; reorgs are not implemented). */
#ifndef QCN_CONSENSUS_POW_H
#define QCN_CONSENSUS_POW_H

#include <stddef.h>
#include <stdint.h>

#include "codec/block.h"
#include "consensus/pos.h"
#include "util/err.h"

#define QCN_POW_EXTRA_BYTES 16u
#define QCN_POW_MIN_DIFFICULTY 1024u
#define QCN_POW_ADJUST_DIV 64u
#define QCN_POW_HASHES_PER_SLICE 4096u

/* Difficulty of a block with timestamp ts whose parent has difficulty
 * parent_d and timestamp parent_ts. target_s >= 1. */
uint64_t qcn_pow_next_difficulty(uint64_t parent_d, uint64_t parent_ts, uint64_t ts,
                                 uint64_t target_s);
/* Work hash of a header (extra must be QCN_POW_EXTRA_BYTES). QCN_ERR_CODEC. */
QCN_MUST_CHECK int qcn_pow_work(uint8_t out[32], const struct qcn_header *h);
/* Checks h's seal and difficulty against its parent (NULL parent: h is block
 * 1, parent difficulty QCN_POW_MIN_DIFFICULTY). QCN_OK or QCN_ERR_BLOCK_INVALID. */
QCN_MUST_CHECK int qcn_pow_verify(const struct qcn_header *h, const struct qcn_header *parent,
                                  uint64_t target_s);
/* Searches at most max_tries nonces from *nonce for h (extra set to
 * difficulty || nonce); QCN_OK when sealed (h->extra holds the winner),
 * QCN_ERR_NOT_FOUND when the slice ran out (*nonce is where to go on). */
QCN_MUST_CHECK int qcn_pow_seal(struct qcn_header *h, uint64_t difficulty, uint64_t *nonce,
                                uint64_t max_tries);

struct qcn_pow_config {
    uint8_t coinbase[QCN_ADDRESS_BYTES];
    uint64_t target_s; /* block time target; 0 = 2 */
};

struct qcn_pow;
QCN_MUST_CHECK int qcn_pow_new(struct qcn_pow **out, const struct qcn_pos_host *host,
                               const struct qcn_pow_config *cfg);
QCN_MUST_CHECK int qcn_pow_start(struct qcn_pow *p);
void qcn_pow_stop(struct qcn_pow *p);
void qcn_pow_free(struct qcn_pow *p);
/* The host's timer fired: mine one slice. */
void qcn_pow_on_timer(struct qcn_pow *p);
/* A block from a peer (encoded): verified and committed if it extends the
 * head; QCN_OK, QCN_ERR_BLOCK_INVALID, QCN_ERR_BLOCK_PARENT. */
QCN_MUST_CHECK int qcn_pow_on_block(struct qcn_pow *p, const uint8_t *blk, size_t len);
uint64_t qcn_pow_mined(const struct qcn_pow *p);

#endif
