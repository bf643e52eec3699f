/* tendermint.c - Algorithm 1 of "The latest gossip on BFT consensus"
 * (Buchman, Kwon, Milosevic 2018). Line numbers in comments are the paper's.
 *
 * Every event records its message and then runs progress(), which applies
 * the "upon" rules until none fires. Each rule that fires changes the step
 * or sets a once-only flag, so the loop ends. Our own proposal and votes are
 * recorded as if received, which is how the paper's "broadcast" reaches the
 * sender itself.
 *
 * Safety rests on three things kept here: one vote per (round, type) from
 * us (a slot already filled is never re-emitted with another value), the
 * locking rules (lines 22-33: prevote only the locked value unless a polka
 * at a round >= lockedRound justifies another), and deciding only on 2f+1
 * precommits (line 49). */
#include "consensus/tendermint.h"

#include <stdlib.h>
#include <string.h>

enum { SLOT_NONE = 0, SLOT_NIL = 1, SLOT_VALUE = 2 };

struct entry {
    uint8_t state;
    uint8_t value[QCN_TM_HASH_BYTES];
};

/* A validator's votes of one (round, type). e[0] is the first one; an
 * equivocator's further votes go to e[1..] and count toward their own
 * values' tallies (as Tendermint's vote sets do once a peer claims +2/3 for
 * them): counting a double signer for both values is still safe, because
 * two 2f+1 tallies for different values would intersect in more than f
 * power and so in an honest validator, who signs one vote only. Without it
 * a polka that formed with a Byzantine vote could never be seen by the
 * validators that received the Byzantine's other vote first. */
struct slot {
    struct entry e[QCN_TM_VOTES_PER_SLOT];
};

struct tm_round {
    struct slot *votes[2]; /* [type - 1][validator] */
    int has_proposal;
    int proposal_valid;
    int64_t pol_round;
    uint8_t proposal[QCN_TM_HASH_BYTES];
    uint8_t prevote_timeout_armed;   /* line 34 "for the first time" */
    uint8_t precommit_timeout_armed; /* line 47 */
    uint8_t polka_seen;              /* line 36 */
};

struct qcn_tm {
    struct qcn_tm_config cfg;
    struct qcn_tm_callbacks cb;

    uint64_t height;
    uint32_t round;
    uint8_t step;
    int64_t locked_round, valid_round;
    uint8_t locked_value[QCN_TM_HASH_BYTES], valid_value[QCN_TM_HASH_BYTES];
    int decided;
    uint32_t decision_round;
    uint8_t decision[QCN_TM_HASH_BYTES];
    int restored;

    size_t n;
    int32_t self;
    uint64_t powers[QCN_TM_MAX_VALIDATORS];
    uint64_t total;

    struct tm_round **rounds; /* indexed by round number, NULL until used */
    size_t nrounds;
};

static void rounds_free(struct qcn_tm *tm)
{
    size_t i;
    for (i = 0; i < tm->nrounds; i++) {
        if (tm->rounds[i]) {
            free(tm->rounds[i]->votes[0]);
            free(tm->rounds[i]->votes[1]);
            free(tm->rounds[i]);
        }
    }
    free(tm->rounds);
    tm->rounds = NULL;
    tm->nrounds = 0;
}

static struct tm_round *round_peek(const struct qcn_tm *tm, uint32_t r)
{
    return r < tm->nrounds ? tm->rounds[r] : NULL;
}

/* The round's record, allocated on first use; NULL on NOMEM or past the cap. */
static struct tm_round *round_get(struct qcn_tm *tm, uint32_t r)
{
    struct tm_round *rd;
    if (r >= QCN_TM_MAX_ROUNDS)
        return NULL;
    if (r >= tm->nrounds) {
        size_t want = (size_t)r + 1, i;
        struct tm_round **p = realloc(tm->rounds, want * sizeof *p);
        if (p == NULL)
            return NULL;
        for (i = tm->nrounds; i < want; i++)
            p[i] = NULL;
        tm->rounds = p;
        tm->nrounds = want;
    }
    if (tm->rounds[r])
        return tm->rounds[r];
    rd = calloc(1, sizeof *rd);
    if (rd == NULL)
        return NULL;
    rd->votes[0] = calloc(tm->n, sizeof(struct slot));
    rd->votes[1] = calloc(tm->n, sizeof(struct slot));
    if (rd->votes[0] == NULL || rd->votes[1] == NULL) {
        free(rd->votes[0]);
        free(rd->votes[1]);
        free(rd);
        return NULL;
    }
    rd->pol_round = -1;
    tm->rounds[r] = rd;
    return rd;
}

/* 2f+1 and f+1 in voting power: more than 2/3 and more than 1/3 of the
 * total (total <= 2^62, so 3 * power cannot overflow). */
static int quorum(const struct qcn_tm *tm, uint64_t power)
{
    return 3 * power > 2 * tm->total;
}

static int one_third(const struct qcn_tm *tm, uint64_t power)
{
    return 3 * power > tm->total;
}

enum { MATCH_ANY = 0, MATCH_NIL = 1, MATCH_VALUE = 2 };

static int slot_matches(const struct slot *s, int match, const uint8_t *value)
{
    size_t k;
    if (match == MATCH_ANY)
        return s->e[0].state != SLOT_NONE;
    for (k = 0; k < QCN_TM_VOTES_PER_SLOT; k++) {
        if (match == MATCH_NIL && s->e[k].state == SLOT_NIL)
            return 1;
        if (match == MATCH_VALUE && s->e[k].state == SLOT_VALUE &&
            memcmp(s->e[k].value, value, QCN_TM_HASH_BYTES) == 0)
            return 1;
    }
    return 0;
}

/* Records a vote in s: QCN_OK (first vote), QCN_ERR_EXISTS (the same vote
 * again), QCN_ERR_CONSENSUS_EQUIVOCATION (another vote: recorded if there
 * is room), QCN_ERR_TOO_LARGE (another vote, no room: ignored). */
static int slot_add(struct slot *s, int has_value, const uint8_t *value)
{
    size_t k;
    for (k = 0; k < QCN_TM_VOTES_PER_SLOT; k++) {
        struct entry *e = &s->e[k];
        if (e->state == SLOT_NONE) {
            e->state = has_value ? SLOT_VALUE : SLOT_NIL;
            if (has_value)
                memcpy(e->value, value, QCN_TM_HASH_BYTES);
            return k == 0 ? QCN_OK : QCN_ERR_CONSENSUS_EQUIVOCATION;
        }
        if (has_value ? (e->state == SLOT_VALUE && memcmp(e->value, value, QCN_TM_HASH_BYTES) == 0)
                      : e->state == SLOT_NIL)
            return QCN_ERR_EXISTS;
    }
    return QCN_ERR_TOO_LARGE; /* more double signs than we keep: ignored */
}

static uint64_t power_of(const struct qcn_tm *tm, uint32_t r, uint8_t type, int match,
                         const uint8_t *value)
{
    const struct tm_round *rd = round_peek(tm, r);
    const struct slot *s;
    uint64_t sum = 0;
    size_t i;
    if (rd == NULL)
        return 0;
    s = rd->votes[type - 1];
    for (i = 0; i < tm->n; i++) {
        if (slot_matches(&s[i], match, value))
            sum += tm->powers[i];
    }
    return sum;
}

static void emit(struct qcn_tm *tm, const struct qcn_tm_action *a)
{
    if (tm->cb.emit)
        tm->cb.emit(tm->cb.ctx, a);
}

static uint64_t timeout_ms(uint64_t base, uint64_t delta, uint32_t round)
{
    uint64_t d, t;
    if (__builtin_mul_overflow(delta, (uint64_t)round, &d) || __builtin_add_overflow(base, d, &t))
        return UINT64_MAX;
    return t;
}

static void schedule(struct qcn_tm *tm, uint8_t step)
{
    struct qcn_tm_action a;
    memset(&a, 0, sizeof a);
    a.kind = QCN_TM_ACT_TIMEOUT;
    a.height = tm->height;
    a.round = tm->round;
    a.step = step;
    a.pol_round = -1;
    if (step == QCN_TM_STEP_PROPOSE)
        a.delay_ms = timeout_ms(tm->cfg.propose_ms, tm->cfg.propose_delta_ms, tm->round);
    else if (step == QCN_TM_STEP_PREVOTE)
        a.delay_ms = timeout_ms(tm->cfg.prevote_ms, tm->cfg.prevote_delta_ms, tm->round);
    else
        a.delay_ms = timeout_ms(tm->cfg.precommit_ms, tm->cfg.precommit_delta_ms, tm->round);
    emit(tm, &a);
}

/* Our vote for (round_p, type): recorded, then broadcast. A slot already
 * filled (a vote restored from the WAL) is never voted again. */
static void vote(struct qcn_tm *tm, uint8_t type, const uint8_t *value)
{
    struct tm_round *rd;
    struct slot *s;
    struct qcn_tm_action a;
    if (tm->self < 0)
        return;
    rd = round_get(tm, tm->round);
    if (rd == NULL)
        return;
    s = &rd->votes[type - 1][tm->self];
    if (s->e[0].state != SLOT_NONE)
        return;
    (void)slot_add(s, value != NULL, value);
    memset(&a, 0, sizeof a);
    a.kind = QCN_TM_ACT_VOTE;
    a.height = tm->height;
    a.round = tm->round;
    a.vote_type = type;
    a.has_value = value != NULL;
    if (value)
        memcpy(a.value, value, QCN_TM_HASH_BYTES);
    a.pol_round = -1;
    emit(tm, &a);
}

/* StartRound(round), lines 11-21. */
static void start_round(struct qcn_tm *tm, uint32_t r)
{
    struct tm_round *rd;
    struct qcn_tm_action a;
    uint8_t value[QCN_TM_HASH_BYTES];

    tm->round = r;
    tm->step = QCN_TM_STEP_PROPOSE;
    if (tm->self < 0 || tm->cb.proposer(tm->cb.ctx, tm->height, r) != (uint32_t)tm->self) {
        schedule(tm, QCN_TM_STEP_PROPOSE); /* line 21 */
        return;
    }
    rd = round_get(tm, r);
    if (rd == NULL || rd->has_proposal) {
        schedule(tm, QCN_TM_STEP_PROPOSE);
        return;
    }
    if (tm->valid_round >= 0) { /* line 15 */
        memcpy(value, tm->valid_value, QCN_TM_HASH_BYTES);
    } else if (tm->cb.get_value(tm->cb.ctx, tm->height, r, value) != QCN_OK) {
        /* No block to offer: let the round time out like a silent proposer. */
        schedule(tm, QCN_TM_STEP_PROPOSE);
        return;
    }
    rd->has_proposal = 1;
    rd->proposal_valid = 1;
    rd->pol_round = tm->valid_round;
    memcpy(rd->proposal, value, QCN_TM_HASH_BYTES);
    memset(&a, 0, sizeof a);
    a.kind = QCN_TM_ACT_PROPOSE;
    a.height = tm->height;
    a.round = r;
    a.has_value = 1;
    memcpy(a.value, value, QCN_TM_HASH_BYTES);
    a.pol_round = tm->valid_round;
    emit(tm, &a); /* line 19 */
}

static int locked_on(const struct qcn_tm *tm, const uint8_t *v)
{
    return memcmp(tm->locked_value, v, QCN_TM_HASH_BYTES) == 0;
}

/* One pass over the rules; returns 1 if one fired. */
static int step_once(struct qcn_tm *tm)
{
    struct tm_round *rd = round_peek(tm, tm->round);
    uint32_t r = tm->round, rr;
    size_t i;

    /* Line 49: a proposal of any round with 2f+1 precommits for it. */
    for (rr = 0; rr < tm->nrounds; rr++) {
        struct tm_round *x = tm->rounds[rr];
        if (x == NULL || !x->has_proposal || !x->proposal_valid)
            continue;
        if (quorum(tm, power_of(tm, rr, QCN_TM_PRECOMMIT, MATCH_VALUE, x->proposal))) {
            struct qcn_tm_action a;
            tm->decided = 1;
            tm->decision_round = rr;
            memcpy(tm->decision, x->proposal, QCN_TM_HASH_BYTES);
            tm->step = QCN_TM_STEP_COMMITTED;
            memset(&a, 0, sizeof a);
            a.kind = QCN_TM_ACT_COMMIT;
            a.height = tm->height;
            a.round = rr;
            a.has_value = 1;
            memcpy(a.value, x->proposal, QCN_TM_HASH_BYTES);
            a.pol_round = -1;
            emit(tm, &a);
            return 1;
        }
    }

    /* Line 55: f+1 validators with a message from a later round. Take the
     * highest such round. */
    for (rr = (uint32_t)(tm->nrounds ? tm->nrounds - 1 : 0); rr > r; rr--) {
        struct tm_round *x = tm->rounds[rr];
        uint64_t p = 0;
        if (x == NULL)
            continue;
        for (i = 0; i < tm->n; i++) {
            if (x->votes[0][i].e[0].state != SLOT_NONE || x->votes[1][i].e[0].state != SLOT_NONE)
                p += tm->powers[i];
            else if (x->has_proposal && tm->cb.proposer(tm->cb.ctx, tm->height, rr) == i)
                p += tm->powers[i];
        }
        if (one_third(tm, p)) {
            start_round(tm, rr);
            return 1;
        }
    }

    if (rd == NULL)
        return 0;

    if (tm->step == QCN_TM_STEP_PROPOSE && rd->has_proposal) {
        const uint8_t *v = rd->proposal;
        int64_t vr = rd->pol_round;
        if (vr == -1) { /* line 22 */
            int ok = rd->proposal_valid && (tm->locked_round == -1 || locked_on(tm, v));
            vote(tm, QCN_TM_PREVOTE, ok ? v : NULL);
            tm->step = QCN_TM_STEP_PREVOTE;
            return 1;
        }
        if (vr >= 0 && vr < (int64_t)r &&
            quorum(tm, power_of(tm, (uint32_t)vr, QCN_TM_PREVOTE, MATCH_VALUE, v))) { /* line 28 */
            int ok = rd->proposal_valid && (tm->locked_round <= vr || locked_on(tm, v));
            vote(tm, QCN_TM_PREVOTE, ok ? v : NULL);
            tm->step = QCN_TM_STEP_PREVOTE;
            return 1;
        }
    }

    /* Line 34. */
    if (tm->step == QCN_TM_STEP_PREVOTE && !rd->prevote_timeout_armed &&
        quorum(tm, power_of(tm, r, QCN_TM_PREVOTE, MATCH_ANY, NULL))) {
        rd->prevote_timeout_armed = 1;
        schedule(tm, QCN_TM_STEP_PREVOTE);
        return 1;
    }

    /* Line 36. */
    if (tm->step >= QCN_TM_STEP_PREVOTE && !rd->polka_seen && rd->has_proposal &&
        rd->proposal_valid &&
        quorum(tm, power_of(tm, r, QCN_TM_PREVOTE, MATCH_VALUE, rd->proposal))) {
        rd->polka_seen = 1;
        if (tm->step == QCN_TM_STEP_PREVOTE) {
            memcpy(tm->locked_value, rd->proposal, QCN_TM_HASH_BYTES);
            tm->locked_round = r;
            vote(tm, QCN_TM_PRECOMMIT, rd->proposal);
            tm->step = QCN_TM_STEP_PRECOMMIT;
        }
        memcpy(tm->valid_value, rd->proposal, QCN_TM_HASH_BYTES);
        tm->valid_round = r;
        return 1;
    }

    /* Line 44. */
    if (tm->step == QCN_TM_STEP_PREVOTE &&
        quorum(tm, power_of(tm, r, QCN_TM_PREVOTE, MATCH_NIL, NULL))) {
        vote(tm, QCN_TM_PRECOMMIT, NULL);
        tm->step = QCN_TM_STEP_PRECOMMIT;
        return 1;
    }

    /* Line 47. */
    if (!rd->precommit_timeout_armed &&
        quorum(tm, power_of(tm, r, QCN_TM_PRECOMMIT, MATCH_ANY, NULL))) {
        rd->precommit_timeout_armed = 1;
        schedule(tm, QCN_TM_STEP_PRECOMMIT);
        return 1;
    }
    return 0;
}

static void progress(struct qcn_tm *tm)
{
    while (tm->step != QCN_TM_STEP_COMMITTED && step_once(tm))
        ;
}

int qcn_tm_new(struct qcn_tm **out, const struct qcn_tm_config *cfg,
               const struct qcn_tm_callbacks *cb)
{
    struct qcn_tm *tm;
    *out = NULL;
    if (cb->proposer == NULL || cb->get_value == NULL)
        return QCN_ERR_INVALID_ARG;
    tm = calloc(1, sizeof *tm);
    if (tm == NULL)
        return QCN_ERR_NOMEM;
    tm->cfg = *cfg;
    tm->cb = *cb;
    tm->self = -1;
    tm->locked_round = tm->valid_round = -1;
    *out = tm;
    return QCN_OK;
}

void qcn_tm_free(struct qcn_tm *tm)
{
    if (tm == NULL)
        return;
    rounds_free(tm);
    free(tm);
}

int qcn_tm_prepare_height(struct qcn_tm *tm, uint64_t h, const uint64_t *powers, size_t n,
                          int32_t self)
{
    uint64_t total = 0;
    size_t i;
    if (n == 0 || n > QCN_TM_MAX_VALIDATORS || self < -1 || (self >= 0 && (size_t)self >= n))
        return QCN_ERR_INVALID_ARG;
    for (i = 0; i < n; i++) {
        if (powers[i] == 0 || __builtin_add_overflow(total, powers[i], &total) ||
            total > (UINT64_C(1) << 62))
            return QCN_ERR_INVALID_ARG;
    }
    rounds_free(tm);
    tm->height = h;
    tm->round = 0;
    tm->step = QCN_TM_STEP_PROPOSE;
    tm->locked_round = tm->valid_round = -1;
    memset(tm->locked_value, 0, sizeof tm->locked_value);
    memset(tm->valid_value, 0, sizeof tm->valid_value);
    tm->decided = 0;
    tm->decision_round = 0;
    memset(tm->decision, 0, sizeof tm->decision);
    tm->restored = 0;
    tm->n = n;
    tm->self = self;
    memcpy(tm->powers, powers, n * sizeof *powers);
    tm->total = total;
    return round_get(tm, 0) ? QCN_OK : QCN_ERR_NOMEM;
}

int qcn_tm_restore_vote(struct qcn_tm *tm, uint32_t round, uint8_t type, int has_value,
                        const uint8_t value[QCN_TM_HASH_BYTES])
{
    struct tm_round *rd;
    struct slot *s;
    uint8_t step;
    if (tm->self < 0 || (type != QCN_TM_PREVOTE && type != QCN_TM_PRECOMMIT))
        return QCN_ERR_INVALID_ARG;
    rd = round_get(tm, round);
    if (rd == NULL)
        return QCN_ERR_NOMEM;
    s = &rd->votes[type - 1][tm->self];
    if (s->e[0].state != SLOT_NONE) {
        int same = has_value ? s->e[0].state == SLOT_VALUE &&
                                   !memcmp(s->e[0].value, value, QCN_TM_HASH_BYTES)
                             : s->e[0].state == SLOT_NIL;
        return same ? QCN_OK : QCN_ERR_CONSENSUS_EQUIVOCATION;
    }
    (void)slot_add(s, has_value, value);
    if (type == QCN_TM_PRECOMMIT && has_value && (int64_t)round > tm->locked_round) {
        memcpy(tm->locked_value, value, QCN_TM_HASH_BYTES);
        tm->locked_round = round;
        memcpy(tm->valid_value, value, QCN_TM_HASH_BYTES);
        tm->valid_round = round;
    }
    step = type == QCN_TM_PREVOTE ? QCN_TM_STEP_PREVOTE : QCN_TM_STEP_PRECOMMIT;
    if (round > tm->round || (round == tm->round && step > tm->step)) {
        tm->round = round;
        tm->step = step;
    }
    tm->restored = 1;
    return QCN_OK;
}

void qcn_tm_begin(struct qcn_tm *tm)
{
    if (!tm->restored)
        start_round(tm, 0);
    else
        schedule(tm, tm->step); /* the restored step ends by its timeout */
    progress(tm);
}

int qcn_tm_start_height(struct qcn_tm *tm, uint64_t h, const uint64_t *powers, size_t n,
                        int32_t self)
{
    int err = qcn_tm_prepare_height(tm, h, powers, n, self);
    if (err != QCN_OK)
        return err;
    qcn_tm_begin(tm);
    return QCN_OK;
}

static int window_ok(const struct qcn_tm *tm, uint64_t h, uint32_t round)
{
    return h == tm->height && tm->n > 0 && round < QCN_TM_MAX_ROUNDS &&
           (uint64_t)round <= (uint64_t)tm->round + QCN_TM_ROUND_WINDOW;
}

int qcn_tm_on_proposal(struct qcn_tm *tm, uint64_t h, uint32_t round, int64_t pol_round,
                       const uint8_t value[QCN_TM_HASH_BYTES], uint32_t from, int valid)
{
    struct tm_round *rd;
    if (!window_ok(tm, h, round))
        return QCN_ERR_CONSENSUS_STALE;
    if (from >= tm->n || tm->cb.proposer(tm->cb.ctx, h, round) != from || pol_round < -1 ||
        pol_round >= (int64_t)round)
        return QCN_ERR_INVALID_ARG;
    rd = round_get(tm, round);
    if (rd == NULL)
        return QCN_ERR_NOMEM;
    if (rd->has_proposal) {
        if (memcmp(rd->proposal, value, QCN_TM_HASH_BYTES) == 0 && rd->pol_round == pol_round)
            return QCN_ERR_EXISTS;
        return QCN_ERR_CONSENSUS_EQUIVOCATION;
    }
    rd->has_proposal = 1;
    rd->proposal_valid = valid ? 1 : 0;
    rd->pol_round = pol_round;
    memcpy(rd->proposal, value, QCN_TM_HASH_BYTES);
    progress(tm);
    return QCN_OK;
}

int qcn_tm_on_vote(struct qcn_tm *tm, uint64_t h, uint32_t round, uint8_t type, int has_value,
                   const uint8_t value[QCN_TM_HASH_BYTES], uint32_t from)
{
    struct tm_round *rd;
    int err;
    if (!window_ok(tm, h, round))
        return QCN_ERR_CONSENSUS_STALE;
    if (from >= tm->n || (type != QCN_TM_PREVOTE && type != QCN_TM_PRECOMMIT))
        return QCN_ERR_INVALID_ARG;
    rd = round_get(tm, round);
    if (rd == NULL)
        return QCN_ERR_NOMEM;
    err = slot_add(&rd->votes[type - 1][from], has_value, value);
    if (err == QCN_OK || err == QCN_ERR_CONSENSUS_EQUIVOCATION)
        progress(tm);
    return err;
}

void qcn_tm_on_timeout(struct qcn_tm *tm, uint8_t step, uint64_t h, uint32_t round)
{
    if (h != tm->height || round != tm->round || tm->step == QCN_TM_STEP_COMMITTED)
        return;
    if (step == QCN_TM_STEP_PROPOSE && tm->step == QCN_TM_STEP_PROPOSE) { /* line 57 */
        vote(tm, QCN_TM_PREVOTE, NULL);
        tm->step = QCN_TM_STEP_PREVOTE;
    } else if (step == QCN_TM_STEP_PREVOTE && tm->step == QCN_TM_STEP_PREVOTE) { /* line 61 */
        vote(tm, QCN_TM_PRECOMMIT, NULL);
        tm->step = QCN_TM_STEP_PRECOMMIT;
    } else if (step == QCN_TM_STEP_PRECOMMIT) { /* line 65 */
        if (round + 1u >= QCN_TM_MAX_ROUNDS)
            return; /* the height is stuck; documented limit */
        start_round(tm, round + 1);
    } else {
        return;
    }
    progress(tm);
}

void qcn_tm_get_state(const struct qcn_tm *tm, struct qcn_tm_state *out)
{
    memset(out, 0, sizeof *out);
    out->height = tm->height;
    out->round = tm->round;
    out->step = tm->step;
    out->locked_round = tm->locked_round;
    out->valid_round = tm->valid_round;
    memcpy(out->locked_value, tm->locked_value, QCN_TM_HASH_BYTES);
    memcpy(out->valid_value, tm->valid_value, QCN_TM_HASH_BYTES);
    out->decided = tm->decided;
    out->decision_round = tm->decision_round;
    memcpy(out->decision, tm->decision, QCN_TM_HASH_BYTES);
}

int qcn_tm_has_quorum(const struct qcn_tm *tm, uint32_t round, uint8_t type,
                      const uint8_t value[QCN_TM_HASH_BYTES])
{
    if (type != QCN_TM_PREVOTE && type != QCN_TM_PRECOMMIT)
        return 0;
    return quorum(tm, power_of(tm, round, type, value ? MATCH_VALUE : MATCH_NIL, value));
}

size_t qcn_tm_precommitters(const struct qcn_tm *tm, uint32_t round,
                            const uint8_t value[QCN_TM_HASH_BYTES], uint8_t *bitmap,
                            size_t bitmap_len)
{
    const struct tm_round *rd = round_peek(tm, round);
    size_t i, count = 0;
    memset(bitmap, 0, bitmap_len);
    if (rd == NULL)
        return 0;
    for (i = 0; i < tm->n && i / 8 < bitmap_len; i++) {
        if (slot_matches(&rd->votes[QCN_TM_PRECOMMIT - 1][i], MATCH_VALUE, value)) {
            bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
            count++;
        }
    }
    return count;
}
