/* beacon.h - the randomness beacon (docs/consensus.md §4).
 *
 * Each validator commits to the tip of a hash chain when it registers
 * (genesis or a staking transaction):
 *     c_0 = seed (32 secret bytes),  c_{i+1} = Keccak-256(c_i),  tip = c_L
 * Its j-th block (j = 1, 2, ...) reveals c_{L-j}, carried in the block
 * header's extra field. Anyone checks a reveal by hashing it once and
 * comparing with the validator's last on-chain value (the tip before its
 * first reveal), and the beacon advances:
 *     mix_h = Keccak-256("QCN-BEACON" || mix_{h-1} || reveal_h)
 * mix_h is block h's randomness mix (header `mix`, what PREVRANDAO returns)
 * and the seed of the proposer draw for height h + 1 (consensus/valset.h).
 *
 * What it is and is not: unpredictable to anyone who does not know the
 * coming proposers' seeds, and no proposer can choose its reveal (it is
 * fixed by its commitment); a proposer can still withhold its block (costing
 * it the block and its rewards), the classic last-revealer bias of
 * commit-reveal beacons. It is not a VRF or a threshold beacon.
 *
 * The seed may come from a hardware RNG (`--beacon.entropy /dev/hwrng`): its
 * bytes are hashed together with the OS RNG's, so a weak device never makes
 * the seed weaker than the OS alone.
 *
 * Secrets: the chain's seed and checkpoints are secret until revealed; they
 * live in sodium-guarded memory and are wiped by qcn_beacon_chain_clear. */
#ifndef QCN_CONSENSUS_BEACON_H
#define QCN_CONSENSUS_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define QCN_BEACON_VALUE_BYTES 32
/* Chain length cap: a validator proposing every second for a year needs
 * about 2^25 reveals; 2^32 is far beyond and keeps indices in 32 bits of
 * checkpoint arithmetic. */
#define QCN_BEACON_MAX_LENGTH (UINT64_C(1) << 32)
/* One checkpoint every this many links: a reveal costs at most this many
 * hashes, memory is length / this * 32 bytes. */
#define QCN_BEACON_CHECKPOINT_EVERY 1024u
/* Bytes read from the entropy source. */
#define QCN_BEACON_ENTROPY_BYTES 64u

struct qcn_beacon_chain {
    uint64_t length;
    uint8_t tip[QCN_BEACON_VALUE_BYTES];
    size_t ncheck;
    uint8_t *check; /* guarded memory: c_0, c_E, c_2E, ... (E = CHECKPOINT_EVERY) */
};

/* Builds the chain of the given length (1..QCN_BEACON_MAX_LENGTH) from seed
 * (copied; wipe yours). QCN_ERR_INVALID_ARG, QCN_ERR_NOMEM. */
QCN_MUST_CHECK int qcn_beacon_chain_init(struct qcn_beacon_chain *ch,
                                         const uint8_t seed[QCN_BEACON_VALUE_BYTES],
                                         uint64_t length);
void qcn_beacon_chain_clear(struct qcn_beacon_chain *ch);
/* The j-th reveal c_{L-j} (1 <= j <= L). QCN_ERR_INVALID_ARG past the end
 * (the validator must register a new chain). */
QCN_MUST_CHECK int qcn_beacon_chain_reveal(const struct qcn_beacon_chain *ch, uint64_t j,
                                           uint8_t out[QCN_BEACON_VALUE_BYTES]);

/* QCN_OK if Keccak-256(reveal) == last, else QCN_ERR_CONSENSUS_BEACON. */
QCN_MUST_CHECK int qcn_beacon_check_reveal(const uint8_t last[QCN_BEACON_VALUE_BYTES],
                                           const uint8_t reveal[QCN_BEACON_VALUE_BYTES]);
/* mix = Keccak-256("QCN-BEACON" || prev || reveal). */
void qcn_beacon_next(uint8_t mix[QCN_BEACON_VALUE_BYTES],
                     const uint8_t prev[QCN_BEACON_VALUE_BYTES],
                     const uint8_t reveal[QCN_BEACON_VALUE_BYTES]);

/* A fresh seed: SHA3-256("QCN-BEACON-SEED" || entropy || os) where entropy is
 * QCN_BEACON_ENTROPY_BYTES read from path (NULL or "": none) and os is as
 * many bytes from the OS RNG. QCN_ERR_IO if path cannot be read fully
 * (then no seed is made: an operator who asked for a device gets it or an
 * error, never a silent fallback). */
QCN_MUST_CHECK int qcn_beacon_seed(uint8_t seed[QCN_BEACON_VALUE_BYTES], const char *path);

#endif
