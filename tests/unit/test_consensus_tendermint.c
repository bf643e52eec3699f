/* The Tendermint state machine (consensus/tendermint.h) driven as N
 * in-process validators over a deterministic simulated network: seeded
 * message delays (so reordering), drops, partitions, equivocating
 * validators, silent proposers. Checked: safety (no two different decisions
 * at one height, under < 1/3 Byzantine power), liveness once the network
 * heals, the locking rules, round changes, restoring a lock after restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consensus/tendermint.h"

#define MAXN 10
#define MAXH 64
#define MAXEV 200000
#define MAXSENT 512

enum { EV_MSG = 1, EV_TIMEOUT = 2, EV_NEXT_HEIGHT = 3, EV_GOSSIP = 4 };

struct msg {
    int kind; /* QCN_TM_ACT_PROPOSE or QCN_TM_ACT_VOTE */
    uint64_t height;
    uint32_t round;
    uint8_t type;
    int has_value;
    uint8_t value[32];
    int64_t pol_round;
    int origin; /* the validator that signed it */
};

struct event {
    uint64_t at, seq;
    int kind;
    int to, from;
    struct msg m;
    uint8_t step;
};

struct node {
    struct qcn_tm *tm;
    int byzantine; /* equivocates: group 0 sees one value, group 1 another */
    int crashed;   /* sends nothing, receives nothing */
    uint64_t height;
    struct msg sent[MAXSENT]; /* own messages at the current height (re-gossiped) */
    size_t nsent;
    struct msg pending[2048]; /* messages for a later height */
    size_t npending;
};

struct sim {
    int n;
    uint64_t powers[MAXN];
    struct node nodes[MAXN];
    struct event *ev;
    size_t nev;
    uint64_t now, seq, rng;
    uint64_t delay_min, delay_max;
    unsigned drop_pct;
    int group[MAXN];                /* partition side */
    uint64_t part_from, part_until; /* partition active in [from, until) */
    int decided[MAXN][MAXH];        /* 1 own decision, 2 synced */
    uint8_t decision[MAXN][MAXH][32];
    uint32_t decision_round[MAXN][MAXH];
    uint64_t decided_at[MAXN][MAXH];
    uint64_t equivocations; /* detected by honest nodes */
    int relay;              /* nodes relay what they receive (gossip) */
    int invalid_round0;     /* round-0 values are invalid (test) */
    int cur;                /* node being called back */
};

static uint64_t rnd(struct sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

/* A binary min-heap on (at, seq): deterministic order for equal times. */
static int ev_less(const struct event *a, const struct event *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void push(struct sim *s, const struct event *e)
{
    size_t i = s->nev++;
    assert_true(s->nev <= MAXEV);
    s->ev[i] = *e;
    s->ev[i].seq = s->seq++;
    while (i > 0 && ev_less(&s->ev[i], &s->ev[(i - 1) / 2])) {
        struct event t = s->ev[i];
        s->ev[i] = s->ev[(i - 1) / 2];
        s->ev[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static int pop(struct sim *s, struct event *out)
{
    size_t i = 0;
    if (s->nev == 0)
        return 0;
    *out = s->ev[0];
    s->ev[0] = s->ev[--s->nev];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        struct event t;
        if (l < s->nev && ev_less(&s->ev[l], &s->ev[m]))
            m = l;
        if (r < s->nev && ev_less(&s->ev[r], &s->ev[m]))
            m = r;
        if (m == i)
            break;
        t = s->ev[i];
        s->ev[i] = s->ev[m];
        s->ev[m] = t;
        i = m;
    }
    return 1;
}

static int linked(const struct sim *s, int a, int b)
{
    if (s->now >= s->part_from && s->now < s->part_until && s->group[a] != s->group[b])
        return 0;
    return 1;
}

static void send_to(struct sim *s, int from, int to, const struct msg *m)
{
    struct event e;
    if (!linked(s, from, to) || (s->drop_pct && rnd(s) % 100 < s->drop_pct))
        return;
    memset(&e, 0, sizeof e);
    e.kind = EV_MSG;
    e.to = to;
    e.from = from;
    e.m = *m;
    e.at = s->now + s->delay_min +
           (s->delay_max > s->delay_min ? rnd(s) % (s->delay_max - s->delay_min + 1) : 0);
    push(s, &e);
}

/* A Byzantine node tells the odd half of the network another value. */
static void broadcast(struct sim *s, int from, const struct msg *m)
{
    int i;
    for (i = 0; i < s->n; i++) {
        struct msg x = *m;
        x.origin = from;
        if (i == from)
            continue;
        if (s->nodes[from].byzantine && (i & 1)) {
            x.has_value = 1;
            memset(x.value, 0xbb, 32);
            x.value[0] = (uint8_t)from;
            if (m->kind == QCN_TM_ACT_PROPOSE)
                x.pol_round = -1;
        }
        send_to(s, from, i, &x);
    }
}

static void emit_cb(void *ctx, const struct qcn_tm_action *a)
{
    struct sim *s = ctx;
    struct node *nd = &s->nodes[s->cur];
    struct event e;
    struct msg m;

    memset(&m, 0, sizeof m);
    switch (a->kind) {
    case QCN_TM_ACT_PROPOSE:
    case QCN_TM_ACT_VOTE:
        m.kind = a->kind;
        m.height = a->height;
        m.round = a->round;
        m.type = a->vote_type;
        m.has_value = a->has_value;
        memcpy(m.value, a->value, 32);
        m.pol_round = a->pol_round;
        if (nd->nsent < MAXSENT)
            nd->sent[nd->nsent++] = m;
        broadcast(s, s->cur, &m);
        break;
    case QCN_TM_ACT_TIMEOUT:
        memset(&e, 0, sizeof e);
        e.kind = EV_TIMEOUT;
        e.to = s->cur;
        e.step = a->step;
        e.m.height = a->height;
        e.m.round = a->round;
        e.at = s->now + a->delay_ms;
        push(s, &e);
        break;
    case QCN_TM_ACT_COMMIT:
        assert_true(a->height < MAXH);
        assert_int_equal(s->decided[s->cur][a->height], 0);
        s->decided[s->cur][a->height] = 1;
        memcpy(s->decision[s->cur][a->height], a->value, 32);
        s->decision_round[s->cur][a->height] = a->round;
        s->decided_at[s->cur][a->height] = s->now;
        memset(&e, 0, sizeof e);
        e.kind = EV_NEXT_HEIGHT;
        e.to = s->cur;
        e.at = s->now;
        push(s, &e);
        break;
    default:
        fail();
    }
}

static uint32_t proposer_cb(void *ctx, uint64_t h, uint32_t r)
{
    struct sim *s = ctx;
    return (uint32_t)((h + r) % (uint64_t)s->n);
}

/* A value is its proposer, height and round; values of round 0 are marked
 * invalid in the invalid-proposal test by byte 3. */
static int get_value_cb(void *ctx, uint64_t h, uint32_t r, uint8_t out[32])
{
    struct sim *s = ctx;
    memset(out, 0, 32);
    out[0] = (uint8_t)s->cur;
    out[1] = (uint8_t)h;
    out[2] = (uint8_t)r;
    out[3] = (s->invalid_round0 && r == 0) ? 0xee : 0;
    return 0;
}

static int value_valid(const uint8_t v[32])
{
    return v[3] != 0xee;
}

static void relay(struct sim *s, int at, const struct msg *m)
{
    int i;
    for (i = 0; i < s->n; i++)
        if (i != at && i != m->origin)
            send_to(s, at, i, m);
}

static void deliver(struct sim *s, int to, const struct msg *m)
{
    struct node *nd = &s->nodes[to];
    int from = m->origin, err;
    if (nd->crashed)
        return;
    if (m->height > nd->height) {
        if (nd->npending < 2048) {
            nd->pending[nd->npending++] = *m;
        }
        return;
    }
    s->cur = to;
    if (m->kind == QCN_TM_ACT_PROPOSE)
        err = qcn_tm_on_proposal(nd->tm, m->height, m->round, m->pol_round, m->value,
                                 (uint32_t)from, value_valid(m->value));
    else
        err = qcn_tm_on_vote(nd->tm, m->height, m->round, m->type, m->has_value, m->value,
                             (uint32_t)from);
    /* only Byzantine validators equivocate */
    if (err == QCN_ERR_CONSENSUS_EQUIVOCATION) {
        assert_true(s->nodes[from].byzantine);
        s->equivocations++;
    } else {
        assert_true(err == QCN_OK || err == QCN_ERR_CONSENSUS_STALE || err == QCN_ERR_EXISTS);
    }
    /* gossip: relay what was new (p2p does this with duplicate suppression) */
    if ((err == QCN_OK || (err == QCN_ERR_CONSENSUS_EQUIVOCATION && m->kind == QCN_TM_ACT_VOTE)) &&
        s->relay && !nd->byzantine)
        relay(s, to, m);
}

static void start(struct sim *s, int i, uint64_t h)
{
    struct node *nd = &s->nodes[i];
    size_t k, np;
    static struct msg pend[2048];
    nd->height = h;
    nd->nsent = 0;
    s->cur = i;
    assert_int_equal(qcn_tm_start_height(nd->tm, h, s->powers, (size_t)s->n, i), QCN_OK);
    np = nd->npending;
    memcpy(pend, nd->pending, np * sizeof *pend);
    nd->npending = 0;
    for (k = 0; k < np; k++)
        deliver(s, i, &pend[k]);
}

/* Block sync stand-in: a node behind a decided height adopts the decision
 * (as a real node fetches the block with its commit certificate). */
static void sync_node(struct sim *s, int i)
{
    struct node *nd = &s->nodes[i];
    int j;
    uint64_t h = nd->height;
    if (nd->crashed || h >= MAXH - 1 || s->decided[i][h])
        return;
    for (j = 0; j < s->n; j++) {
        if (j != i && s->decided[j][h] && linked(s, i, j)) {
            s->decided[i][h] = 2;
            memcpy(s->decision[i][h], s->decision[j][h], 32);
            start(s, i, h + 1);
            return;
        }
    }
}

static void gossip(struct sim *s, int i)
{
    struct node *nd = &s->nodes[i];
    struct qcn_tm_state st;
    size_t k;
    if (nd->crashed)
        return;
    qcn_tm_get_state(nd->tm, &st);
    for (k = 0; k < nd->nsent; k++)
        if (nd->sent[k].height == nd->height && nd->sent[k].round + 1 >= st.round)
            broadcast(s, i, &nd->sent[k]);
    sync_node(s, i);
}

static const struct qcn_tm_config tcfg = {1000, 500, 1000, 500, 1000, 500};

static void sim_init(struct sim *s, int n, uint64_t seed)
{
    struct qcn_tm_callbacks cb = {s, emit_cb, proposer_cb, get_value_cb};
    int i;
    memset(s, 0, sizeof *s);
    s->ev = calloc(MAXEV, sizeof *s->ev);
    assert_non_null(s->ev);
    s->n = n;
    s->rng = seed * 0x9E3779B97F4A7C15ull + 1;
    s->delay_min = 10;
    s->delay_max = 10;
    s->part_from = s->part_until = 0;
    for (i = 0; i < n; i++) {
        s->powers[i] = 1;
        assert_int_equal(qcn_tm_new(&s->nodes[i].tm, &tcfg, &cb), QCN_OK);
    }
}

static void sim_start(struct sim *s)
{
    int i;
    struct event e;
    for (i = 0; i < s->n; i++) {
        if (!s->nodes[i].crashed)
            start(s, i, 1);
        memset(&e, 0, sizeof e);
        e.kind = EV_GOSSIP;
        e.to = i;
        e.at = 700 + (uint64_t)i;
        push(s, &e);
    }
}

static void sim_free(struct sim *s)
{
    int i;
    for (i = 0; i < s->n; i++)
        qcn_tm_free(s->nodes[i].tm);
    free(s->ev);
}

/* Runs until time `until` or every honest node reached height `target`. */
static void sim_run(struct sim *s, uint64_t until, uint64_t target)
{
    struct event e;
    int i, done;
    while (pop(s, &e)) {
        if (e.at > until) {
            push(s, &e);
            break;
        }
        s->now = e.at;
        if (e.kind == EV_MSG) {
            deliver(s, e.to, &e.m);
        } else if (e.kind == EV_TIMEOUT) {
            if (!s->nodes[e.to].crashed && e.m.height == s->nodes[e.to].height) {
                s->cur = e.to;
                qcn_tm_on_timeout(s->nodes[e.to].tm, e.step, e.m.height, e.m.round);
            }
        } else if (e.kind == EV_NEXT_HEIGHT) {
            if (s->nodes[e.to].height < MAXH - 2)
                start(s, e.to, s->nodes[e.to].height + 1);
        } else if (e.kind == EV_GOSSIP) {
            gossip(s, e.to);
            e.at = s->now + 700;
            push(s, &e);
        }
        done = 1;
        for (i = 0; i < s->n; i++)
            if (!s->nodes[i].crashed && !s->nodes[i].byzantine && s->nodes[i].height <= target)
                done = 0;
        if (done)
            break;
    }
}

/* Safety: at every height, every decision (own or synced) is the same. */
static int check_safety(const struct sim *s)
{
    int h, i, j;
    for (h = 0; h < MAXH; h++)
        for (i = 0; i < s->n; i++)
            for (j = i + 1; j < s->n; j++)
                if (s->decided[i][h] && s->decided[j][h] && !s->nodes[i].byzantine &&
                    !s->nodes[j].byzantine && memcmp(s->decision[i][h], s->decision[j][h], 32) != 0)
                    return 0;
    return 1;
}

static uint64_t min_honest_height(const struct sim *s)
{
    uint64_t m = UINT64_MAX;
    int i;
    for (i = 0; i < s->n; i++)
        if (!s->nodes[i].crashed && !s->nodes[i].byzantine && s->nodes[i].height < m)
            m = s->nodes[i].height;
    return m;
}

static void test_happy_path(void **state)
{
    struct sim s;
    int i, h;
    (void)state;
    sim_init(&s, 4, 1);
    sim_start(&s);
    sim_run(&s, 1000000, 20);
    assert_true(min_honest_height(&s) > 20);
    assert_true(check_safety(&s));
    for (h = 1; h <= 20; h++)
        for (i = 0; i < 4; i++) {
            assert_int_equal(s.decided[i][h], 1);
            assert_int_equal(s.decision_round[i][h], 0);    /* no faults: round 0 */
            assert_int_equal(s.decision[i][h][0], (h) % 4); /* the round-0 proposer's value */
        }
    sim_free(&s);
}

static void test_delays_drops_reordering(void **state)
{
    uint64_t seed;
    (void)state;
    for (seed = 1; seed <= 12; seed++) {
        struct sim s;
        sim_init(&s, 7, seed);
        s.delay_min = 1;
        s.delay_max = 400; /* wide spread: messages overtake each other */
        s.drop_pct = 15;
        s.relay = seed & 1;
        sim_start(&s);
        sim_run(&s, 3000000, 10);
        assert_true(check_safety(&s));
        assert_true(min_honest_height(&s) > 10);
        sim_free(&s);
    }
}

static void test_byzantine_equivocation(void **state)
{
    uint64_t seed;
    (void)state;
    for (seed = 1; seed <= 12; seed++) {
        struct sim s;
        int i, own = 0;
        sim_init(&s, 7, seed);
        s.nodes[2].byzantine = 1; /* 2 of 7 < 1/3 */
        s.nodes[5].byzantine = 1;
        s.relay = 1;
        s.delay_min = 1;
        s.delay_max = 200;
        s.drop_pct = 5;
        sim_start(&s);
        sim_run(&s, 3000000, 8);
        assert_true(check_safety(&s));
        assert_true(min_honest_height(&s) > 8);
        for (i = 0; i < 7; i++)
            own += s.decided[i][3] == 1;
        assert_true(own >= 1);
        assert_true(s.equivocations > 0);
        sim_free(&s);
    }
}

static void test_no_quorum_no_decision(void **state)
{
    /* 2 of 4 down: the other two hold 1/2 of the power, not 2/3: nothing
     * is ever decided (and the harness cannot fake a decision). */
    struct sim s;
    (void)state;
    sim_init(&s, 4, 3);
    s.nodes[1].crashed = 1;
    s.nodes[2].crashed = 1;
    sim_start(&s);
    sim_run(&s, 60000, 3);
    assert_int_equal(s.nodes[0].height, 1);
    assert_int_equal(s.decided[0][1], 0);
    assert_int_equal(s.decided[3][1], 0);
    sim_free(&s);
}

static void test_partition_then_heal(void **state)
{
    uint64_t seed;
    (void)state;
    for (seed = 1; seed <= 6; seed++) {
        struct sim s;
        uint64_t before, h;
        int i;
        sim_init(&s, 4, seed);
        s.delay_min = 5;
        s.delay_max = 50;
        s.group[2] = s.group[3] = 1; /* 2 | 2: neither side has 2/3 */
        s.part_from = 3000;
        s.part_until = 40000;
        sim_start(&s);
        sim_run(&s, 3000, 1000);
        before = min_honest_height(&s);
        sim_run(&s, 39999, 1000);
        /* nothing new was decided during the partition */
        for (i = 0; i < 4; i++)
            for (h = 0; h < MAXH; h++)
                if (s.decided[i][h])
                    assert_true(s.decided_at[i][h] < 3000 + 200);
        sim_run(&s, 400000, before + 5);
        assert_true(min_honest_height(&s) > before + 5);
        assert_true(check_safety(&s));
        sim_free(&s);
    }
}

static void test_silent_proposer_round_change(void **state)
{
    struct sim s;
    int i;
    (void)state;
    sim_init(&s, 4, 9);
    s.nodes[1].crashed = 1; /* proposer of (h=1, r=0) */
    sim_start(&s);
    sim_run(&s, 200000, 3);
    assert_true(check_safety(&s));
    for (i = 0; i < 4; i++) {
        if (i == 1)
            continue;
        assert_int_equal(s.decided[i][1], 1);
        assert_true(s.decision_round[i][1] >= 1);
        assert_int_not_equal(s.decision[i][1][0], 1);
    }
    sim_free(&s);
}

static void test_invalid_proposal_not_decided(void **state)
{
    struct sim s;
    int i, h;
    (void)state;
    sim_init(&s, 4, 5);
    s.invalid_round0 = 1; /* every round-0 proposal is invalid */
    sim_start(&s);
    sim_run(&s, 400000, 4);
    assert_true(check_safety(&s));
    for (h = 1; h <= 4; h++)
        for (i = 0; i < 4; i++)
            if (s.decided[i][h] == 1) {
                assert_true(value_valid(s.decision[i][h]));
                assert_true(s.decision_round[i][h] >= 1);
            }
    sim_free(&s);
}

/* Directed locking scenario on one machine (index 0 of 4, proposer of
 * (h, r) is (h + r) % 4). */
struct rec {
    struct qcn_tm_action acts[64];
    size_t n;
};

static void rec_emit(void *ctx, const struct qcn_tm_action *a)
{
    struct rec *r = ctx;
    if (r->n < 64)
        r->acts[r->n++] = *a;
}

static uint32_t rec_proposer(void *ctx, uint64_t h, uint32_t r)
{
    (void)ctx;
    return (uint32_t)((h + r) % 4);
}

static int rec_value(void *ctx, uint64_t h, uint32_t r, uint8_t out[32])
{
    (void)ctx;
    memset(out, 0x99, 32);
    out[0] = (uint8_t)h;
    out[1] = (uint8_t)r;
    return 0;
}

static const struct qcn_tm_action *last_vote(const struct rec *r, uint8_t type)
{
    size_t i;
    for (i = r->n; i-- > 0;)
        if (r->acts[i].kind == QCN_TM_ACT_VOTE && r->acts[i].vote_type == type)
            return &r->acts[i];
    return NULL;
}

static void test_locking_rules(void **state)
{
    static const uint64_t pw[4] = {1, 1, 1, 1};
    struct rec r;
    struct qcn_tm_callbacks cb = {&r, rec_emit, rec_proposer, rec_value};
    struct qcn_tm *tm;
    struct qcn_tm_state st;
    const struct qcn_tm_action *a;
    uint8_t v[32], w[32];
    (void)state;
    memset(&r, 0, sizeof r);
    memset(v, 0x11, 32);
    memset(w, 0x22, 32);
    assert_int_equal(qcn_tm_new(&tm, &tcfg, &cb), QCN_OK);
    /* height 1: proposer of round 0 is 1, of round 1 is 2, of round 2 is 3 */
    assert_int_equal(qcn_tm_start_height(tm, 1, pw, 4, 0), QCN_OK);
    /* a proposal from a non-proposer is refused */
    assert_int_equal(qcn_tm_on_proposal(tm, 1, 0, -1, v, 2, 1), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_tm_on_proposal(tm, 1, 0, -1, v, 1, 1), QCN_OK);
    a = last_vote(&r, QCN_TM_PREVOTE);
    assert_non_null(a);
    assert_true(a->has_value && memcmp(a->value, v, 32) == 0);
    /* polka for v at round 0: lock and precommit v */
    assert_int_equal(qcn_tm_on_vote(tm, 1, 0, QCN_TM_PREVOTE, 1, v, 1), QCN_OK);
    assert_null(last_vote(&r, QCN_TM_PRECOMMIT));
    assert_int_equal(qcn_tm_on_vote(tm, 1, 0, QCN_TM_PREVOTE, 1, v, 2), QCN_OK);
    a = last_vote(&r, QCN_TM_PRECOMMIT);
    assert_non_null(a);
    assert_true(a->has_value && memcmp(a->value, v, 32) == 0);
    qcn_tm_get_state(tm, &st);
    assert_int_equal(st.locked_round, 0);
    assert_memory_equal(st.locked_value, v, 32);
    /* a conflicting vote from 2 is equivocation; the first is kept */
    assert_int_equal(qcn_tm_on_vote(tm, 1, 0, QCN_TM_PREVOTE, 1, w, 2),
                     QCN_ERR_CONSENSUS_EQUIVOCATION);
    /* others precommit nil: round 0 ends by the precommit timeout */
    assert_int_equal(qcn_tm_on_vote(tm, 1, 0, QCN_TM_PRECOMMIT, 0, NULL, 1), QCN_OK);
    assert_int_equal(qcn_tm_on_vote(tm, 1, 0, QCN_TM_PRECOMMIT, 0, NULL, 2), QCN_OK);
    assert_int_equal(r.acts[r.n - 1].kind, QCN_TM_ACT_TIMEOUT);
    assert_int_equal(r.acts[r.n - 1].step, QCN_TM_STEP_PRECOMMIT);
    qcn_tm_on_timeout(tm, QCN_TM_STEP_PRECOMMIT, 1, 0);
    qcn_tm_get_state(tm, &st);
    assert_int_equal(st.round, 1);
    /* round 1: a fresh proposal of w (no pol round): locked on v, prevote nil */
    r.n = 0;
    assert_int_equal(qcn_tm_on_proposal(tm, 1, 1, -1, w, 2, 1), QCN_OK);
    a = last_vote(&r, QCN_TM_PREVOTE);
    assert_non_null(a);
    assert_false(a->has_value);
    /* w gets a polka at round 1 from the other three (we did not see it in
     * time); round 1 ends */
    assert_int_equal(qcn_tm_on_vote(tm, 1, 1, QCN_TM_PREVOTE, 1, w, 1), QCN_OK);
    assert_int_equal(qcn_tm_on_vote(tm, 1, 1, QCN_TM_PREVOTE, 1, w, 2), QCN_OK);
    assert_int_equal(qcn_tm_on_vote(tm, 1, 1, QCN_TM_PREVOTE, 1, w, 3), QCN_OK);
    /* we are in prevote step with a polka for w at our round: line 36 locks w */
    qcn_tm_get_state(tm, &st);
    assert_int_equal(st.valid_round, 1);
    assert_memory_equal(st.valid_value, w, 32);
    qcn_tm_free(tm);

    /* Second machine: locked on v at round 0; round 2 re-proposes w with
     * pol_round 0 but there is no polka for w at 0: prevote nil. With
     * pol_round 1 and a polka for w at round 1 (> locked round 0): prevote w. */
    memset(&r, 0, sizeof r);
    assert_int_equal(qcn_tm_new(&tm, &tcfg, &cb), QCN_OK);
    assert_int_equal(qcn_tm_prepare_height(tm, 1, pw, 4, 0), QCN_OK);
    assert_int_equal(qcn_tm_restore_vote(tm, 0, QCN_TM_PRECOMMIT, 1, v), QCN_OK);
    qcn_tm_begin(tm);
    qcn_tm_get_state(tm, &st);
    assert_int_equal(st.locked_round, 0);
    qcn_tm_on_timeout(tm, QCN_TM_STEP_PRECOMMIT, 1, 0); /* -> round 1 */
    qcn_tm_on_timeout(tm, QCN_TM_STEP_PROPOSE, 1, 1);   /* prevote nil at 1 */
    qcn_tm_on_timeout(tm, QCN_TM_STEP_PREVOTE, 1, 1);   /* precommit nil at 1 */
    qcn_tm_on_timeout(tm, QCN_TM_STEP_PRECOMMIT, 1, 1); /* -> round 2 */
    qcn_tm_get_state(tm, &st);
    assert_int_equal(st.round, 2);
    r.n = 0;
    assert_int_equal(qcn_tm_on_vote(tm, 1, 1, QCN_TM_PREVOTE, 1, w, 1), QCN_OK);
    assert_int_equal(qcn_tm_on_vote(tm, 1, 1, QCN_TM_PREVOTE, 1, w, 2), QCN_OK);
    assert_null(last_vote(&r, QCN_TM_PREVOTE)); /* only 2 of 4 so far: not a polka */
    assert_int_equal(qcn_tm_on_proposal(tm, 1, 2, 1, w, 3, 1), QCN_OK);
    assert_null(last_vote(&r, QCN_TM_PREVOTE)); /* waits for the polka (line 28) */
    assert_int_equal(qcn_tm_on_vote(tm, 1, 1, QCN_TM_PREVOTE, 1, w, 3), QCN_OK);
    a = last_vote(&r, QCN_TM_PREVOTE);
    assert_non_null(a);
    assert_int_equal(a->round, 2);
    assert_true(a->has_value && memcmp(a->value, w, 32) == 0);
    qcn_tm_free(tm);

    /* Third: locked on v at round 1, a proposal of w with pol_round 0 and a
     * polka for w at round 0 (older than the lock): prevote nil. */
    memset(&r, 0, sizeof r);
    assert_int_equal(qcn_tm_new(&tm, &tcfg, &cb), QCN_OK);
    assert_int_equal(qcn_tm_prepare_height(tm, 1, pw, 4, 0), QCN_OK);
    assert_int_equal(qcn_tm_restore_vote(tm, 1, QCN_TM_PRECOMMIT, 1, v), QCN_OK);
    qcn_tm_begin(tm);
    qcn_tm_on_timeout(tm, QCN_TM_STEP_PRECOMMIT, 1, 1); /* -> round 2 */
    assert_int_equal(qcn_tm_on_vote(tm, 1, 0, QCN_TM_PREVOTE, 1, w, 1), QCN_OK);
    assert_int_equal(qcn_tm_on_vote(tm, 1, 0, QCN_TM_PREVOTE, 1, w, 2), QCN_OK);
    assert_int_equal(qcn_tm_on_vote(tm, 1, 0, QCN_TM_PREVOTE, 1, w, 3), QCN_OK);
    r.n = 0;
    assert_int_equal(qcn_tm_on_proposal(tm, 1, 2, 0, w, 3, 1), QCN_OK);
    a = last_vote(&r, QCN_TM_PREVOTE);
    assert_non_null(a);
    assert_false(a->has_value);
    /* the restored precommit is never re-emitted differently */
    assert_int_equal(qcn_tm_restore_vote(tm, 1, QCN_TM_PRECOMMIT, 1, w),
                     QCN_ERR_CONSENSUS_EQUIVOCATION);
    qcn_tm_free(tm);
}

static void test_weighted_quorum_and_window(void **state)
{
    static const uint64_t pw[4] = {5, 1, 1, 1};
    struct rec r;
    struct qcn_tm_callbacks cb = {&r, rec_emit, rec_proposer, rec_value};
    struct qcn_tm *tm;
    struct qcn_tm_state st;
    uint8_t v[32];
    (void)state;
    memset(&r, 0, sizeof r);
    memset(v, 0x33, 32);
    assert_int_equal(qcn_tm_new(&tm, &tcfg, &cb), QCN_OK);
    assert_int_equal(qcn_tm_start_height(tm, 3, pw, 4, 1), QCN_OK);
    /* 5 of 8 is not > 2/3; 6 of 8 is */
    assert_int_equal(qcn_tm_on_vote(tm, 3, 0, QCN_TM_PRECOMMIT, 1, v, 0), QCN_OK);
    assert_false(qcn_tm_has_quorum(tm, 0, QCN_TM_PRECOMMIT, v));
    assert_int_equal(qcn_tm_on_vote(tm, 3, 0, QCN_TM_PRECOMMIT, 1, v, 2), QCN_OK);
    assert_true(qcn_tm_has_quorum(tm, 0, QCN_TM_PRECOMMIT, v));
    /* decided only with the proposal in hand (line 49) */
    qcn_tm_get_state(tm, &st);
    assert_false(st.decided);
    assert_int_equal(qcn_tm_on_proposal(tm, 3, 0, -1, v, 3, 1), QCN_OK);
    qcn_tm_get_state(tm, &st);
    assert_true(st.decided);
    assert_memory_equal(st.decision, v, 32);
    /* other heights and far rounds are stale */
    assert_int_equal(qcn_tm_on_vote(tm, 4, 0, QCN_TM_PREVOTE, 0, NULL, 0), QCN_ERR_CONSENSUS_STALE);
    assert_int_equal(qcn_tm_on_vote(tm, 3, QCN_TM_ROUND_WINDOW + 1, QCN_TM_PREVOTE, 0, NULL, 0),
                     QCN_ERR_CONSENSUS_STALE);
    assert_int_equal(qcn_tm_on_vote(tm, 3, 0, QCN_TM_PREVOTE, 0, NULL, 9), QCN_ERR_INVALID_ARG);
    /* bad sets */
    assert_int_equal(qcn_tm_start_height(tm, 4, pw, 0, 0), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_tm_start_height(tm, 4, pw, 4, 4), QCN_ERR_INVALID_ARG);
    {
        uint64_t big[2] = {UINT64_C(1) << 62, 1};
        assert_int_equal(qcn_tm_start_height(tm, 4, big, 2, 0), QCN_ERR_INVALID_ARG);
    }
    qcn_tm_free(tm);
}

/* f+1 votes from a later round pull a node forward (line 55). */
static void test_round_skip(void **state)
{
    static const uint64_t pw[4] = {1, 1, 1, 1};
    struct rec r;
    struct qcn_tm_callbacks cb = {&r, rec_emit, rec_proposer, rec_value};
    struct qcn_tm *tm;
    struct qcn_tm_state st;
    (void)state;
    memset(&r, 0, sizeof r);
    assert_int_equal(qcn_tm_new(&tm, &tcfg, &cb), QCN_OK);
    assert_int_equal(qcn_tm_start_height(tm, 1, pw, 4, 0), QCN_OK);
    assert_int_equal(qcn_tm_on_vote(tm, 1, 5, QCN_TM_PREVOTE, 0, NULL, 1), QCN_OK);
    qcn_tm_get_state(tm, &st);
    assert_int_equal(st.round, 0); /* 1 of 4 is not > 1/3 */
    assert_int_equal(qcn_tm_on_vote(tm, 1, 5, QCN_TM_PRECOMMIT, 0, NULL, 2), QCN_OK);
    qcn_tm_get_state(tm, &st);
    assert_int_equal(st.round, 5);
    /* the propose timeout of round 5 grows with the round */
    assert_int_equal(r.acts[r.n - 1].kind, QCN_TM_ACT_TIMEOUT);
    assert_int_equal(r.acts[r.n - 1].delay_ms, 1000 + 5 * 500);
    qcn_tm_free(tm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_path),
        cmocka_unit_test(test_delays_drops_reordering),
        cmocka_unit_test(test_byzantine_equivocation),
        cmocka_unit_test(test_no_quorum_no_decision),
        cmocka_unit_test(test_partition_then_heal),
        cmocka_unit_test(test_silent_proposer_round_change),
        cmocka_unit_test(test_invalid_proposal_not_decided),
        cmocka_unit_test(test_locking_rules),
        cmocka_unit_test(test_weighted_quorum_and_window),
        cmocka_unit_test(test_round_skip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
