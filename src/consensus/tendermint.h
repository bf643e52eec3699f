/* tendermint.h - the Tendermint consensus algorithm (Buchman, Kwon,
 * Milosevic 2018, "The latest gossip on BFT consensus", Algorithm 1) as a
 * pure, deterministic state machine: no clock, no network, no crypto. The host (the `pos` engine,
 * or a test's simulated network) feeds it events and carries out its actions.
 *
 * Values are 32-byte block hashes. Validators are indices 0..n-1 into the
 * height's validator set, with voting powers; "2f+1" is more than 2/3 of the
 * total power and "f+1" more than 1/3. Signatures are the host's business:
 * it passes only messages whose signature it verified, and signs what the
 * machine asks it to broadcast (after writing its WAL, consensus/wal.h).
 *
 * Events:  qcn_tm_on_proposal  PROPOSAL(h, r, v, vr) from the round's proposer,
 *                              with the host's validity verdict valid(v)
 *          qcn_tm_on_vote      PREVOTE/PRECOMMIT(h, r, id(v) or nil) from a validator
 *          qcn_tm_on_timeout   a timeout the machine scheduled fired
 * Actions (through the emit callback, in order):
 *          PROPOSE   broadcast PROPOSAL(h, r, value, pol_round)
 *          VOTE      broadcast PREVOTE/PRECOMMIT(h, r, value or nil)
 *          TIMEOUT   call qcn_tm_on_timeout(step, h, r) after delay_ms
 *          COMMIT    value is decided at h (in round r); the machine stops
 *                    at this height until qcn_tm_start_height(h + 1)
 * The machine counts its own proposal and votes itself; the host need not
 * (but may) deliver them back. emit and get_value must not call back into
 * the machine.
 *
 * Threads: none; one machine per caller, not thread-safe. */
#ifndef QCN_CONSENSUS_TENDERMINT_H
#define QCN_CONSENSUS_TENDERMINT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define QCN_TM_HASH_BYTES 32
/* Validators in one set (codec/vote.h QCN_COMMIT_MAX_SIGS). */
#define QCN_TM_MAX_VALIDATORS 256u
/* Votes are accepted for rounds up to round_p + this window; later ones are
 * refused (a Byzantine validator cannot make us allocate without bound).
 * f+1 votes from a round inside the window move us there (line 55). */
#define QCN_TM_ROUND_WINDOW 16u
/* Rounds stored per height (old rounds are kept: a commit or a polka from
 * any earlier round still counts, lines 28 and 49). */
#define QCN_TM_MAX_ROUNDS 4096u
/* Distinct votes kept per (round, type, validator): the first, plus a few
 * an equivocator signed (tendermint.c explains why they count). */
#define QCN_TM_VOTES_PER_SLOT 3u

enum qcn_tm_step {
    QCN_TM_STEP_PROPOSE = 1,
    QCN_TM_STEP_PREVOTE = 2,
    QCN_TM_STEP_PRECOMMIT = 3,
    QCN_TM_STEP_COMMITTED = 4, /* decided; waiting for start_height */
};

enum qcn_tm_vote_type {
    QCN_TM_PREVOTE = 1, /* same numbers as codec/vote.h */
    QCN_TM_PRECOMMIT = 2,
};

enum qcn_tm_action_kind {
    QCN_TM_ACT_PROPOSE = 1,
    QCN_TM_ACT_VOTE = 2,
    QCN_TM_ACT_TIMEOUT = 3,
    QCN_TM_ACT_COMMIT = 4,
};

struct qcn_tm_action {
    int kind;          /* enum qcn_tm_action_kind */
    uint64_t height;   /* all */
    uint32_t round;    /* all */
    uint8_t vote_type; /* VOTE: enum qcn_tm_vote_type */
    uint8_t step;      /* TIMEOUT: the step it guards (enum qcn_tm_step) */
    int has_value;     /* VOTE: 0 = nil */
    uint8_t value[QCN_TM_HASH_BYTES];
    int64_t pol_round; /* PROPOSE: -1 or the valid round */
    uint64_t delay_ms; /* TIMEOUT */
};

struct qcn_tm_config {
    /* Timeouts grow linearly with the round (paper §4: timeout + r * delta),
     * so that after GST some round's timeouts exceed the message delay. */
    uint64_t propose_ms, propose_delta_ms;
    uint64_t prevote_ms, prevote_delta_ms;
    uint64_t precommit_ms, precommit_delta_ms;
};

struct qcn_tm_callbacks {
    void *ctx;
    void (*emit)(void *ctx, const struct qcn_tm_action *a);
    /* The round's proposer index (weighted selection, consensus/valset.h). */
    uint32_t (*proposer)(void *ctx, uint64_t height, uint32_t round);
    /* getValue(): a new block for (height, round); QCN_OK with its hash, or
     * an error (then no proposal is made this round and the others time
     * out on us). */
    int (*get_value)(void *ctx, uint64_t height, uint32_t round, uint8_t out[QCN_TM_HASH_BYTES]);
};

struct qcn_tm;

/* A machine with no height yet (start one with qcn_tm_start_height).
 * QCN_ERR_NOMEM. */
QCN_MUST_CHECK int qcn_tm_new(struct qcn_tm **out, const struct qcn_tm_config *cfg,
                              const struct qcn_tm_callbacks *cb);
void qcn_tm_free(struct qcn_tm *tm);

/* Starts height h with n validators of the given powers (copied) at round 0
 * (StartRound(0), line 10), forgetting the previous height. self is our
 * index in this set, or -1 (an observer at h: it tracks votes and decisions
 * but never proposes or votes). QCN_ERR_INVALID_ARG: n == 0 or >
 * QCN_TM_MAX_VALIDATORS, a zero power, self out of range, or a total power
 * over 2^62; QCN_ERR_NOMEM. Same as prepare_height followed by begin. */
QCN_MUST_CHECK int qcn_tm_start_height(struct qcn_tm *tm, uint64_t h, const uint64_t *powers,
                                       size_t n, int32_t self);
/* For a restart: prepare_height sets the height up without starting a
 * round, restore_vote replays each vote this validator signed at h before
 * the restart (from its WAL), begin starts. A restored vote counts as sent
 * (the machine never emits another for that round and type); a non-nil
 * precommit restores lockedValue/lockedRound and validValue/validRound
 * (line 36-41), so the restarted validator keeps its lock. The round moves to
 * the latest restored vote's round and the step past that vote; begin then
 * arms that step's timeout instead of starting round 0 afresh. */
QCN_MUST_CHECK int qcn_tm_prepare_height(struct qcn_tm *tm, uint64_t h, const uint64_t *powers,
                                         size_t n, int32_t self);
QCN_MUST_CHECK int qcn_tm_restore_vote(struct qcn_tm *tm, uint32_t round, uint8_t type,
                                       int has_value, const uint8_t value[QCN_TM_HASH_BYTES]);
void qcn_tm_begin(struct qcn_tm *tm);

/* Events. Return QCN_OK when the message was new and taken,
 * QCN_ERR_EXISTS for an exact duplicate (ignored), QCN_ERR_CONSENSUS_STALE
 * for another height or a round outside the window (ignored),
 * QCN_ERR_INVALID_ARG for a bad index or a proposal not from the round's
 * proposer, QCN_ERR_CONSENSUS_EQUIVOCATION when a validator already voted
 * differently for (round, type) (the vote is still counted for its value;
 * the host turns the pair into evidence) or the proposer proposed another
 * value (the first proposal is kept, the other dropped), QCN_ERR_TOO_LARGE
 * for a validator's vote beyond QCN_TM_VOTES_PER_SLOT different ones
 * (dropped). A host relays the votes answered QCN_OK or
 * QCN_ERR_CONSENSUS_EQUIVOCATION and the proposals answered QCN_OK: the
 * algorithm assumes every message a correct validator received reaches
 * every correct validator (the paper's gossip assumption). */
QCN_MUST_CHECK int qcn_tm_on_proposal(struct qcn_tm *tm, uint64_t h, uint32_t round,
                                      int64_t pol_round, const uint8_t value[QCN_TM_HASH_BYTES],
                                      uint32_t from, int valid);
QCN_MUST_CHECK int qcn_tm_on_vote(struct qcn_tm *tm, uint64_t h, uint32_t round, uint8_t type,
                                  int has_value, const uint8_t value[QCN_TM_HASH_BYTES],
                                  uint32_t from);
/* Stale timeouts (another height, round or step) are ignored. */
void qcn_tm_on_timeout(struct qcn_tm *tm, uint8_t step, uint64_t h, uint32_t round);

/* Introspection (tests, status, the engine). */
struct qcn_tm_state {
    uint64_t height;
    uint32_t round;
    uint8_t step;
    int64_t locked_round, valid_round;
    uint8_t locked_value[QCN_TM_HASH_BYTES], valid_value[QCN_TM_HASH_BYTES];
    int decided;
    uint32_t decision_round;
    uint8_t decision[QCN_TM_HASH_BYTES];
};
void qcn_tm_get_state(const struct qcn_tm *tm, struct qcn_tm_state *out);

/* 1 if the votes of (round, type) for value (NULL: nil) carry 2f+1 power. */
int qcn_tm_has_quorum(const struct qcn_tm *tm, uint32_t round, uint8_t type,
                      const uint8_t value[QCN_TM_HASH_BYTES]);
/* The validators whose precommit for value at round was counted (bitmap
 * over indices, n bits, for building the commit certificate). Returns the
 * number set. */
size_t qcn_tm_precommitters(const struct qcn_tm *tm, uint32_t round,
                            const uint8_t value[QCN_TM_HASH_BYTES], uint8_t *bitmap,
                            size_t bitmap_len);

#endif
