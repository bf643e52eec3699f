/* staking.h - delegated proof of stake: the rules and state of validators,
 * delegations, unbonding, rewards, jailing and slashing (docs/consensus.md
 * §6). Native transactions: a transaction whose `to` is the staking system
 * address (0x00...5200, next to the key manager's 0x...5100) carries
 *   data = RLP([op, args...])          op: enum qcn_staking_op
 * and its `value` is the amount staked (create, delegate). The ledger calls
 * qcn_staking_apply_tx for such a transaction and qcn_staking_end_block
 * after each block, and applies the balance credits they return; this
 * module keeps the staking state itself (one RLP blob, qcn_staking_encode),
 * which the ledger stores with the block's writes.
 *
 * Amounts are in gwei (10^9 wei; a staking value must be a whole number of
 * gwei) so that they fit in 64 bits; voting power is the total stake in
 * whole coins (10^9 gwei), at least 1 for an active validator.
 *
 * Not thread-safe; deterministic (every node computes the same state). */
#ifndef QCN_CHAIN_STAKING_H
#define QCN_CHAIN_STAKING_H

#include <stddef.h>
#include <stdint.h>

#include "codec/tx.h"
#include "codec/vote.h"
#include "util/bytes.h"
#include "util/err.h"

#define QCN_STAKING_GWEI_PER_COIN UINT64_C(1000000000)
#define QCN_STAKING_MAX_CANDIDATES 1024u
#define QCN_STAKING_MAX_DELEGATIONS 65536u
#define QCN_STAKING_MAX_UNBONDING 65536u
#define QCN_STAKING_MAX_CREDITS 65536u
#define QCN_STAKING_MAX_SLASHED 4096u /* evidence already punished (replay guard) */
#define QCN_STAKING_BPS 10000u
/* Total voting power of a set, coins (= consensus/valset.h's cap). */
#define QCN_STAKING_MAX_TOTAL_POWER (UINT64_C(1) << 62)

extern const uint8_t qcn_staking_address[QCN_ADDRESS_BYTES];

enum qcn_staking_op {
    /* [1, identity_pubkey(1952), commission_bps, beacon_tip(32)]; value = self stake */
    QCN_STAKING_CREATE = 1,
    /* [2, validator(20)]; value = amount */
    QCN_STAKING_DELEGATE = 2,
    /* [3, validator(20), amount_gwei] */
    QCN_STAKING_UNDELEGATE = 3,
    /* [4] */
    QCN_STAKING_WITHDRAW = 4,
    /* [5, commission_bps, beacon_tip(32) or empty] (sender = the validator) */
    QCN_STAKING_EDIT = 5,
    /* [6] (sender = the validator) */
    QCN_STAKING_UNJAIL = 6,
    /* [7, evidence] (anyone; codec/vote.h evidence) */
    QCN_STAKING_EVIDENCE = 7,
};

struct qcn_staking_params {
    uint64_t min_self_stake;        /* gwei */
    uint32_t max_validators;        /* N: the active set is the top N by stake */
    uint64_t epoch_length;          /* blocks; the set changes when height % epoch_length == 0 */
    uint64_t unbonding_blocks;      /* undelegated stake is paid out this many blocks later */
    uint32_t slash_double_sign_bps; /* fraction of every delegation (and unbonding) burnt */
    uint32_t max_commission_bps;
    uint32_t max_commission_change_bps; /* per edit */
    uint64_t downtime_window;           /* blocks */
    uint64_t downtime_max_missed;       /* jailed when missing more in the window */
    uint64_t jail_blocks;               /* earliest unjail after downtime */
    uint64_t issuance_per_block;        /* gwei minted per block as rewards */
};

/* Defaults documented in docs/consensus.md §6. */
void qcn_staking_params_default(struct qcn_staking_params *p);

/* Limits on parameters a genesis file may set (docs/protocol.md §8). */
#define QCN_STAKING_MAX_PERIOD (UINT64_C(1) << 40) /* blocks: unbonding, jail, window, epoch */

/* QCN_OK if every parameter is in range; otherwise QCN_ERR_CONFIG and
 * *why (static text, may be NULL) names the parameter and its rule:
 * min_self_stake >= 1 coin (an active validator has power >= 1),
 * max_validators 1..QCN_COMMIT_MAX_SIGS (a certificate's signer cap),
 * epoch_length, downtime_window and jail_blocks 1..QCN_STAKING_MAX_PERIOD,
 * unbonding_blocks <= QCN_STAKING_MAX_PERIOD, the three bps <= 10000. */
QCN_MUST_CHECK int qcn_staking_params_check(const struct qcn_staking_params *p, const char **why);
/* Parameters as RLP([min_self_stake, max_validators, epoch_length,
 * unbonding_blocks, slash_double_sign_bps, max_commission_bps,
 * max_commission_change_bps, downtime_window, downtime_max_missed,
 * jail_blocks, issuance_per_block]) (the chain stores them under its state
 * root, chain_staking.h). decode: QCN_ERR_CODEC, or QCN_ERR_CONFIG for
 * values that fail qcn_staking_params_check; *p zeroed on failure. */
QCN_MUST_CHECK int qcn_staking_params_encode(struct qcn_buf *b, const struct qcn_staking_params *p);
QCN_MUST_CHECK int qcn_staking_params_decode(struct qcn_staking_params *p, struct qcn_view in);

struct qcn_staking_validator {
    uint8_t address[QCN_ADDRESS_BYTES];  /* operator account (= the creating sender) */
    uint8_t identity[QCN_ADDRESS_BYTES]; /* address of pubkey: what votes name */
    uint8_t pubkey[QCN_VOTE_PK_BYTES];   /* ML-DSA-65 consensus identity */
    uint8_t beacon_tip[32];
    uint32_t commission_bps;
    uint64_t self_stake; /* the operator's own delegation */
    uint64_t total_stake;
    uint64_t jailed_until; /* 0 = not jailed */
    int tombstoned;        /* double-signed: jailed for ever */
    int active;            /* in the current epoch's set */
    uint64_t missed;       /* blocks missed in the current window */
    uint64_t window_start;
    /* Voting power frozen at the epoch boundaries (docs/consensus.md §6):
     * in the current epoch's set and in the previous one's (0: not in it).
     * Stake moves (delegations, slashing) change power only at the next
     * boundary, and the previous set is what decided the boundary block
     * itself, so a node holding only the head state can check both. */
    uint64_t epoch_power;
    uint64_t prev_power;
};

struct qcn_staking_delegation {
    uint8_t delegator[QCN_ADDRESS_BYTES];
    uint8_t validator[QCN_ADDRESS_BYTES];
    uint64_t amount;
};

struct qcn_staking_unbonding {
    uint8_t delegator[QCN_ADDRESS_BYTES];
    uint8_t validator[QCN_ADDRESS_BYTES];
    uint64_t amount;
    uint64_t release_height;
};

struct qcn_staking_reward {
    uint8_t address[QCN_ADDRESS_BYTES];
    uint64_t amount; /* withdrawable gwei */
};

struct qcn_staking {
    struct qcn_staking_params params;
    size_t nval;
    struct qcn_staking_validator *val; /* sorted by address */
    size_t ndel;
    struct qcn_staking_delegation *del;
    size_t nunb;
    struct qcn_staking_unbonding *unb;
    size_t nrew;
    struct qcn_staking_reward *rew;
    size_t nslashed;
    uint8_t (*slashed)[32]; /* Keccak-256 of (validator, height, round, type) punished */
    uint64_t burnt;         /* gwei destroyed by slashing */
};

/* A balance change the ledger must apply: credit amount gwei to address. */
struct qcn_staking_credit {
    uint8_t address[QCN_ADDRESS_BYTES];
    uint64_t amount;
};
struct qcn_staking_credits {
    size_t n;
    struct qcn_staking_credit c[16]; /* per transaction; end_block uses the heap form below */
};

void qcn_staking_init(struct qcn_staking *s, const struct qcn_staking_params *p);
void qcn_staking_clear(struct qcn_staking *s);

/* A genesis validator: created, self-delegated and active at once.
 * QCN_ERR_STAKING for a duplicate or a stake under the minimum. */
QCN_MUST_CHECK int qcn_staking_genesis_add(struct qcn_staking *s,
                                           const uint8_t operator_addr[QCN_ADDRESS_BYTES],
                                           const uint8_t pubkey[QCN_VOTE_PK_BYTES],
                                           const uint8_t beacon_tip[32], uint64_t stake_gwei,
                                           uint32_t commission_bps);

/* Applies one staking transaction at height. sender is the verified
 * sender, value_gwei the transaction value in gwei (the ledger has already
 * moved value from the sender to the staking address and checked it is a
 * whole number of gwei). On success *credits gets the payments to make
 * (withdrawn rewards). QCN_ERR_STAKING (with a reason in log-free form: the
 * transaction fails and its value is refunded by the ledger), QCN_ERR_CODEC
 * for malformed data, op 7's codes of qcn_staking_evidence_check,
 * QCN_ERR_NOMEM. The state is unchanged on failure. */
QCN_MUST_CHECK int qcn_staking_apply_tx(struct qcn_staking *s, uint64_t chain_id, uint64_t height,
                                        const uint8_t sender[QCN_ADDRESS_BYTES],
                                        uint64_t value_gwei, const uint8_t *data, size_t len,
                                        struct qcn_staking_credits *credits);

/* Whether evidence (the codec/vote.h encoding, as op 7 carries it) would
 * slash in a transaction of block height, without changing anything: QCN_OK
 * (and the accused identity address into validator, which may be NULL);
 * else the first refusal in this order: QCN_ERR_CONSENSUS_EVIDENCE
 * (malformed, another chain, votes that do not conflict);
 * QCN_ERR_STAKING_EXPIRED (the votes' height is more than unbonding_blocks
 * below height: the stake bonded then has left); QCN_ERR_STAKING_UNKNOWN (no validator with that
 * identity); QCN_ERR_STAKING_REPLAY (that offence, i.e. validator, height,
 * round and vote type, was punished already); QCN_ERR_STAKING_TOMBSTONED
 * (punished for another double sign: a validator is slashed once and stays
 * out for ever); QCN_ERR_CONSENSUS_EVIDENCE (a vote that does not verify
 * under the validator's key). op 7 fails with the same codes. */
QCN_MUST_CHECK int qcn_staking_evidence_check(const struct qcn_staking *s, uint64_t chain_id,
                                              uint64_t height, const uint8_t *ev, size_t len,
                                              uint8_t validator[QCN_ADDRESS_BYTES]);

/* End of block height: pays fees_gwei + issuance to the active set by
 * voting power (commission to the operator, the rest to delegators pro rata
 * stake), counts a missed block for every active validator not in signers
 * (the addresses in the block's certificate of its parent) and jails one
 * over the downtime limit, releases matured unbondings (appended to
 * credits, which the caller frees with free(credits->...)), and at an epoch
 * boundary recomputes the active set. QCN_ERR_NOMEM, QCN_ERR_OVERFLOW. */
struct qcn_staking_payouts {
    size_t n;
    struct qcn_staking_credit *c; /* heap; free() */
};
QCN_MUST_CHECK int qcn_staking_end_block(struct qcn_staking *s, uint64_t height, uint64_t fees_gwei,
                                         const uint8_t (*signers)[QCN_ADDRESS_BYTES],
                                         size_t nsigners, struct qcn_staking_payouts *out);

/* The set deciding heights (B, B + epoch_length] after the boundary B:
 * validators with epoch_power > 0, voting with epoch_power; the boundary
 * block B itself was decided by the validators with prev_power > 0. */

/* The active set now: validators with active = 1, sorted by stake then
 * address. Returns how many; fills up to max entries of out with indices
 * into s->val. */
size_t qcn_staking_active(const struct qcn_staking *s, size_t *out, size_t max);
/* Voting power of a validator: total stake in whole coins. */
uint64_t qcn_staking_power(const struct qcn_staking_validator *v);

const struct qcn_staking_validator *
qcn_staking_validator_get(const struct qcn_staking *s, const uint8_t addr[QCN_ADDRESS_BYTES]);
/* Delegation amount of (delegator, validator), 0 if none. */
uint64_t qcn_staking_delegation_get(const struct qcn_staking *s,
                                    const uint8_t delegator[QCN_ADDRESS_BYTES],
                                    const uint8_t validator[QCN_ADDRESS_BYTES]);
uint64_t qcn_staking_rewards_get(const struct qcn_staking *s,
                                 const uint8_t addr[QCN_ADDRESS_BYTES]);

/* State as one RLP blob (params excluded: they are chain parameters). */
QCN_MUST_CHECK int qcn_staking_encode(struct qcn_buf *b, const struct qcn_staking *s);
QCN_MUST_CHECK int qcn_staking_decode(struct qcn_staking *s, const struct qcn_staking_params *p,
                                      struct qcn_view in);

#endif
