/* pos.c - the `pos` engine (pos.h; docs/consensus.md).
 *
 * One height at a time: the head is h - 1, the Tendermint machine runs h.
 * Every message is verified (signature, membership) before the machine sees
 * it; every message we sign passes the WAL first (wal.h), so the machine's
 * own rule "one vote per (round, type)" survives crashes. The machine's
 * actions are carried out inside its emit callback, except COMMIT, which is
 * deferred to after() because committing starts the next height (a new
 * machine state) and must not happen inside the machine's own call. */
#include "consensus/pos.h"

#include <stdlib.h>
#include <string.h>

#include "codec/p2p_msg.h"
#include "consensus/beacon.h"
#include "consensus/wal.h"
#include "crypto/keccak.h"
#include "util/log.h"
#include "util/mem.h"

_Static_assert((int)QCN_POS_MSG_PROPOSAL == (int)QCN_P2P_CONSENSUS_PROPOSAL &&
                   (int)QCN_POS_MSG_PREVOTE == (int)QCN_P2P_CONSENSUS_PREVOTE &&
                   (int)QCN_POS_MSG_PRECOMMIT == (int)QCN_P2P_CONSENSUS_PRECOMMIT &&
                   (int)QCN_POS_MSG_EVIDENCE == (int)QCN_P2P_CONSENSUS_EVIDENCE,
               "pos message kinds are the p2p consensus kinds");

#define DEFAULT_GOSSIP_MS 1000u
#define MAX_OWN_MSGS 256u
#define QCN_POS_WAL_PRUNE_EVERY 16u

enum { T_NONE = 0, T_TM = 1, T_GOSSIP = 2, T_RETRY = 3, T_NEXT = 4 };

struct timer {
    int kind;
    uint64_t at;
    uint8_t step;
    uint64_t height;
    uint32_t round;
};

struct stored_block {
    uint8_t hash[QCN_HASH_BYTES];
    uint8_t *p;
    size_t len;
    int valid;
};

struct msgcopy {
    uint8_t kind;
    uint32_t round;
    uint8_t *p;
    size_t len;
};

struct qcn_pos {
    struct qcn_pos_host host;
    uint64_t chain_id;
    struct qcn_tm_config timeouts;
    uint64_t gossip_ms;
    uint64_t block_interval_ms;
    int waiting_next; /* committed; the next height starts on T_NEXT */
    int fault_double_sign;

    int has_key;
    uint8_t *sk; /* guarded memory */
    uint8_t pk[QCN_VOTE_PK_BYTES];
    uint8_t address[QCN_ADDRESS_BYTES];
    int32_t self; /* index in vs, -1 if not a validator */

    struct qcn_valset genesis_vs;
    struct qcn_valset vs;        /* the set deciding `height` */
    struct qcn_valset parent_vs; /* the set that decided height - 1 (its certificate) */
    /* Beacon state of every validator ever seen (beacon_last, reveals),
     * kept across set changes: a validator's chain continues when it
     * leaves and rejoins. */
    struct qcn_valset known;
    struct qcn_wal *wal;
    struct qcn_beacon_chain beacon;
    struct qcn_tm *tm;

    uint64_t head_height;
    uint8_t head_hash[QCN_HASH_BYTES];
    uint8_t head_mix[QCN_HASH_BYTES];
    struct qcn_buf head_cert;
    uint64_t height; /* the height being decided: head_height + 1 */

    struct stored_block blocks[QCN_POS_MAX_BLOCKS_PER_HEIGHT];
    size_t nblocks;
    struct qcn_vote *votes; /* verified votes of this height, first per (round, type, validator) */
    size_t nvotes, capvotes;
    struct msgcopy future[QCN_POS_MAX_FUTURE_MSGS];
    size_t nfuture, future_bytes;
    struct msgcopy own[MAX_OWN_MSGS];
    size_t nown;
    struct qcn_buf evidence[QCN_POS_MAX_EVIDENCE];
    size_t nevidence;
    struct timer timers[QCN_POS_MAX_TIMERS];

    int running;
    int pending_commit;
    uint32_t commit_round;
    uint8_t commit_value[QCN_HASH_BYTES];
    struct qcn_pos_status st;
};

/* ---- small helpers ---- */

static void msgcopy_free(struct msgcopy *m)
{
    free(m->p);
    memset(m, 0, sizeof *m);
}

static int msgcopy_set(struct msgcopy *m, uint8_t kind, uint32_t round, const uint8_t *p,
                       size_t len)
{
    memset(m, 0, sizeof *m);
    m->p = malloc(len ? len : 1);
    if (m->p == NULL)
        return QCN_ERR_NOMEM;
    memcpy(m->p, p, len);
    m->len = len;
    m->kind = kind;
    m->round = round;
    return QCN_OK;
}

static struct stored_block *block_find(struct qcn_pos *p, const uint8_t hash[QCN_HASH_BYTES])
{
    size_t i;
    for (i = 0; i < p->nblocks; i++)
        if (memcmp(p->blocks[i].hash, hash, QCN_HASH_BYTES) == 0)
            return &p->blocks[i];
    return NULL;
}

static struct stored_block *block_add(struct qcn_pos *p, const uint8_t hash[QCN_HASH_BYTES],
                                      const uint8_t *b, size_t len, int valid)
{
    struct stored_block *s = block_find(p, hash);
    if (s)
        return s;
    if (p->nblocks >= QCN_POS_MAX_BLOCKS_PER_HEIGHT)
        return NULL;
    s = &p->blocks[p->nblocks];
    s->p = malloc(len ? len : 1);
    if (s->p == NULL)
        return NULL;
    memcpy(s->p, b, len);
    s->len = len;
    s->valid = valid;
    memcpy(s->hash, hash, QCN_HASH_BYTES);
    p->nblocks++;
    return s;
}

static void height_reset(struct qcn_pos *p)
{
    size_t i;
    for (i = 0; i < p->nblocks; i++)
        free(p->blocks[i].p);
    p->nblocks = 0;
    p->nvotes = 0;
    for (i = 0; i < p->nown; i++)
        msgcopy_free(&p->own[i]);
    p->nown = 0;
    for (i = 0; i < QCN_POS_MAX_TIMERS; i++)
        if (p->timers[i].kind == T_TM || p->timers[i].kind == T_RETRY ||
            p->timers[i].kind == T_NEXT)
            p->timers[i].kind = T_NONE;
    p->pending_commit = 0;
}

static void arm(struct qcn_pos *p)
{
    uint64_t now = p->host.now_ms(p->host.ctx), at = UINT64_MAX;
    size_t i;
    for (i = 0; i < QCN_POS_MAX_TIMERS; i++)
        if (p->timers[i].kind != T_NONE && p->timers[i].at < at)
            at = p->timers[i].at;
    if (at == UINT64_MAX)
        p->host.timer_cancel(p->host.ctx);
    else
        p->host.timer_set(p->host.ctx, at > now ? at - now : 0);
}

static void timer_add(struct qcn_pos *p, int kind, uint64_t delay, uint8_t step, uint64_t h,
                      uint32_t r)
{
    uint64_t now = p->host.now_ms(p->host.ctx);
    size_t i, slot = QCN_POS_MAX_TIMERS;
    for (i = 0; i < QCN_POS_MAX_TIMERS; i++) {
        if (p->timers[i].kind == T_NONE && slot == QCN_POS_MAX_TIMERS)
            slot = i;
        /* a newer timeout for the same step replaces an older one */
        if (kind == T_TM && p->timers[i].kind == T_TM && p->timers[i].step == step) {
            slot = i;
            break;
        }
    }
    if (slot == QCN_POS_MAX_TIMERS) {
        QCN_LOG(QCN_LOG_WARN, "pos", "timer table full");
        return;
    }
    p->timers[slot].kind = kind;
    p->timers[slot].at = now + delay;
    p->timers[slot].step = step;
    p->timers[slot].height = h;
    p->timers[slot].round = r;
}

static void own_add(struct qcn_pos *p, uint8_t kind, uint32_t round, const struct qcn_buf *b)
{
    if (p->nown >= MAX_OWN_MSGS)
        return;
    if (msgcopy_set(&p->own[p->nown], kind, round, b->p, b->len) == QCN_OK)
        p->nown++;
}

static int vote_store(struct qcn_pos *p, const struct qcn_vote *v)
{
    size_t i;
    for (i = 0; i < p->nvotes; i++) {
        const struct qcn_vote *x = &p->votes[i];
        if (x->round == v->round && x->type == v->type &&
            memcmp(x->validator, v->validator, QCN_ADDRESS_BYTES) == 0 &&
            x->has_block == v->has_block &&
            memcmp(x->block_hash, v->block_hash, QCN_HASH_BYTES) == 0)
            return QCN_OK;
    }
    if (p->nvotes >= QCN_POS_MAX_VOTES_PER_HEIGHT)
        return QCN_ERR_TOO_LARGE;
    if (p->nvotes == p->capvotes) {
        size_t cap = p->capvotes ? p->capvotes * 2 : 64;
        struct qcn_vote *nv = realloc(p->votes, cap * sizeof *nv);
        if (nv == NULL)
            return QCN_ERR_NOMEM;
        p->votes = nv;
        p->capvotes = cap;
    }
    p->votes[p->nvotes++] = *v;
    return QCN_OK;
}

/* The first stored vote of (round, type, validator) that conflicts with v. */
static const struct qcn_vote *vote_conflict(const struct qcn_pos *p, const struct qcn_vote *v)
{
    size_t i;
    for (i = 0; i < p->nvotes; i++)
        if (qcn_vote_conflicts(&p->votes[i], v))
            return &p->votes[i];
    return NULL;
}

static void evidence_add(struct qcn_pos *p, const struct qcn_evidence *e, int gossip)
{
    struct qcn_buf b;
    size_t i;
    qcn_buf_init(&b, QCN_EVIDENCE_MAX_BYTES);
    if (qcn_evidence_encode(&b, e) != QCN_OK)
        goto out;
    for (i = 0; i < p->nevidence; i++)
        if (p->evidence[i].len == b.len && memcmp(p->evidence[i].p, b.p, b.len) == 0)
            goto out;
    if (p->nevidence >= QCN_POS_MAX_EVIDENCE)
        goto out;
    QCN_LOG(QCN_LOG_WARN, "pos", "double sign by a validator at height %llu round %u",
            (unsigned long long)e->a.height, e->a.round);
    if (gossip)
        p->host.broadcast(p->host.ctx, QCN_POS_MSG_EVIDENCE, b.p, b.len);
    p->evidence[p->nevidence++] = b;
    return;
out:
    qcn_buf_clear(&b);
}

/* ---- validator sets ---- */

/* The set of height into out (fresh), from the host or the genesis set. */
static int fetch_set(const struct qcn_pos *p, uint64_t height, struct qcn_valset *out)
{
    int err;
    qcn_valset_init(out);
    if (p->host.get_valset == NULL)
        return qcn_valset_copy(out, &p->genesis_vs);
    err = p->host.get_valset(p->host.ctx, height, out);
    if (err == QCN_OK && out->n == 0)
        err = QCN_ERR_CONSENSUS_VALIDATOR;
    if (err != QCN_OK)
        qcn_valset_clear(out);
    return err;
}

/* Registers the set's newcomers in the beacon state (their tip as last
 * value) and gives the set everyone's current beacon state. */
static int sync_beacon(struct qcn_pos *p, struct qcn_valset *set)
{
    size_t i;
    int err;
    for (i = 0; i < set->n; i++) {
        int k = qcn_valset_find(&p->known, set->v[i].address);
        if (k < 0) {
            err = qcn_valset_add(&p->known, set->v[i].pubkey, 1, set->v[i].beacon_last);
            if (err != QCN_OK)
                return err;
            k = qcn_valset_find(&p->known, set->v[i].address);
        }
        memcpy(set->v[i].beacon_last, p->known.v[k].beacon_last, QCN_BEACON_BYTES);
        set->v[i].beacon_reveals = p->known.v[k].beacon_reveals;
    }
    return QCN_OK;
}

static int load_set(struct qcn_pos *p, uint64_t height, struct qcn_valset *out)
{
    int err = fetch_set(p, height, out);
    if (err == QCN_OK && (err = sync_beacon(p, out)) != QCN_OK)
        qcn_valset_clear(out);
    return err;
}

static const struct qcn_validator *known_get(const struct qcn_pos *p, const uint8_t *addr)
{
    int k = qcn_valset_find(&p->known, addr);
    return k < 0 ? NULL : &p->known.v[k];
}

/* ---- the machine's callbacks ---- */

static uint32_t cb_proposer(void *ctx, uint64_t h, uint32_t r)
{
    struct qcn_pos *p = ctx;
    return qcn_valset_proposer(&p->vs, p->head_mix, h, r);
}

static int my_reveal(struct qcn_pos *p, uint8_t reveal[QCN_BEACON_BYTES])
{
    const struct qcn_validator *me = known_get(p, p->address);
    if (p->self < 0 || me == NULL)
        return QCN_ERR_CONSENSUS_VALIDATOR;
    return qcn_beacon_chain_reveal(&p->beacon, me->beacon_reveals + 1, reveal);
}

static int cb_get_value(void *ctx, uint64_t h, uint32_t r, uint8_t out[QCN_TM_HASH_BYTES])
{
    struct qcn_pos *p = ctx;
    struct qcn_pos_build a;
    struct qcn_buf b;
    uint8_t reveal[QCN_BEACON_BYTES];
    int err;
    (void)r;
    memset(&a, 0, sizeof a);
    if ((err = my_reveal(p, reveal)) != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "pos", "no beacon reveal left (%s): register a new chain",
                qcn_err_str(err));
        return err;
    }
    a.height = h;
    memcpy(a.proposer, p->address, QCN_ADDRESS_BYTES);
    qcn_beacon_next(a.mix, p->head_mix, reveal);
    a.extra = reveal;
    a.extra_len = QCN_BEACON_BYTES;
    a.commit = p->head_cert.p;
    a.commit_len = p->head_cert.len;
    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
    err = p->host.build_block(p->host.ctx, &a, &b, out);
    if (err == QCN_OK && block_add(p, out, b.p, b.len, 1) == NULL)
        err = QCN_ERR_NOMEM;
    if (err != QCN_OK)
        QCN_LOG(QCN_LOG_WARN, "pos", "building block %llu failed: %s", (unsigned long long)h,
                qcn_err_str(err));
    qcn_buf_clear(&b);
    return err;
}

static void send_proposal(struct qcn_pos *p, const struct qcn_tm_action *a)
{
    struct stored_block *blk = block_find(p, a->value);
    struct qcn_proposal pr;
    struct qcn_buf b;
    int err;
    if (blk == NULL) {
        /* validValue from before a restart: we no longer hold its block */
        QCN_LOG(QCN_LOG_WARN, "pos", "cannot re-propose an unknown block at %llu/%u",
                (unsigned long long)a->height, a->round);
        return;
    }
    err = qcn_wal_sign_intent(p->wal, QCN_WAL_PROPOSAL, a->height, a->round, 1, a->value);
    if (err != QCN_OK) {
        p->st.wal_refusals++;
        QCN_LOG(QCN_LOG_WARN, "pos", "WAL refused proposal at %llu/%u: %s",
                (unsigned long long)a->height, a->round, qcn_err_str(err));
        return;
    }
    memset(&pr, 0, sizeof pr);
    pr.chain_id = p->chain_id;
    pr.height = a->height;
    pr.round = a->round;
    pr.pol_round = a->pol_round;
    memcpy(pr.block_hash, a->value, QCN_HASH_BYTES);
    memcpy(pr.proposer, p->address, QCN_ADDRESS_BYTES);
    if (qcn_proposal_sign(&pr, p->sk, 0) != QCN_OK)
        return;
    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES + QCN_PROPOSAL_MAX_BYTES + 16u);
    if (qcn_proposal_msg_encode(&b, &pr, blk->p, blk->len) == QCN_OK) {
        p->host.broadcast(p->host.ctx, QCN_POS_MSG_PROPOSAL, b.p, b.len);
        own_add(p, QCN_POS_MSG_PROPOSAL, a->round, &b);
    }
    qcn_buf_clear(&b);
}

static void sign_and_send_vote(struct qcn_pos *p, struct qcn_vote *v)
{
    struct qcn_buf b;
    if (qcn_vote_sign(v, p->sk, 0) != QCN_OK)
        return;
    qcn_buf_init(&b, QCN_VOTE_MAX_BYTES);
    if (qcn_vote_encode(&b, v) == QCN_OK) {
        uint8_t kind = v->type == QCN_VOTE_PREVOTE ? QCN_POS_MSG_PREVOTE : QCN_POS_MSG_PRECOMMIT;
        p->host.broadcast(p->host.ctx, kind, b.p, b.len);
        own_add(p, kind, v->round, &b);
    }
    qcn_buf_clear(&b);
}

static void send_vote(struct qcn_pos *p, const struct qcn_tm_action *a)
{
    struct qcn_vote v;
    int err = qcn_wal_sign_intent(p->wal, a->vote_type, a->height, a->round, a->has_value,
                                  a->has_value ? a->value : NULL);
    if (err != QCN_OK) {
        p->st.wal_refusals++;
        QCN_LOG(QCN_LOG_WARN, "pos", "WAL refused vote at %llu/%u: %s",
                (unsigned long long)a->height, a->round, qcn_err_str(err));
        return;
    }
    memset(&v, 0, sizeof v);
    v.chain_id = p->chain_id;
    v.height = a->height;
    v.round = a->round;
    v.type = a->vote_type;
    v.has_block = a->has_value ? 1 : 0;
    if (a->has_value)
        memcpy(v.block_hash, a->value, QCN_HASH_BYTES);
    memcpy(v.validator, p->address, QCN_ADDRESS_BYTES);
    sign_and_send_vote(p, &v);
    (void)vote_store(p, &v);
    if (p->fault_double_sign && v.type == QCN_VOTE_PREVOTE) {
        /* Test-only fault: a second prevote for another block, bypassing
         * the WAL, so that others must catch and prove it. */
        uint8_t h[QCN_HASH_BYTES];
        qcn_keccak256(h, v.block_hash, QCN_HASH_BYTES);
        v.has_block = 1;
        memcpy(v.block_hash, h, QCN_HASH_BYTES);
        sign_and_send_vote(p, &v);
    }
}

static void cb_emit(void *ctx, const struct qcn_tm_action *a)
{
    struct qcn_pos *p = ctx;
    switch (a->kind) {
    case QCN_TM_ACT_PROPOSE:
        send_proposal(p, a);
        break;
    case QCN_TM_ACT_VOTE:
        send_vote(p, a);
        break;
    case QCN_TM_ACT_TIMEOUT:
        timer_add(p, T_TM, a->delay_ms, a->step, a->height, a->round);
        break;
    case QCN_TM_ACT_COMMIT:
        p->pending_commit = 1;
        p->commit_round = a->round;
        memcpy(p->commit_value, a->value, QCN_HASH_BYTES);
        break;
    default:
        break;
    }
}

/* ---- heights ---- */

static void deliver_future(struct qcn_pos *p);
static int handle(struct qcn_pos *p, uint8_t kind, const uint8_t *payload, size_t len);

static int start_height(struct qcn_pos *p)
{
    uint64_t powers[QCN_VALSET_MAX];
    const struct qcn_wal_record *rec;
    size_t i, n;
    int err;

    height_reset(p);
    p->waiting_next = 0;
    p->height = p->head_height + 1;
    {
        struct qcn_valset cur, par;
        if ((err = load_set(p, p->height, &cur)) != QCN_OK)
            return err;
        if ((err = load_set(p, p->height > 1 ? p->height - 1 : 1, &par)) != QCN_OK) {
            qcn_valset_clear(&cur);
            return err;
        }
        qcn_valset_clear(&p->vs);
        qcn_valset_clear(&p->parent_vs);
        p->vs = cur;
        p->parent_vs = par;
    }
    p->self = p->has_key ? qcn_valset_find(&p->vs, p->address) : -1;
    qcn_valset_powers(&p->vs, powers);
    err = qcn_tm_prepare_height(p->tm, p->height, powers, p->vs.n, p->self);
    if (err != QCN_OK)
        return err;
    if (p->wal && p->self >= 0) {
        n = qcn_wal_records(p->wal, p->height, &rec);
        for (i = 0; i < n; i++) {
            if (rec[i].kind != QCN_WAL_PREVOTE && rec[i].kind != QCN_WAL_PRECOMMIT)
                continue;
            if (qcn_tm_restore_vote(p->tm, rec[i].round, rec[i].kind, rec[i].has_value,
                                    rec[i].value) != QCN_OK)
                QCN_LOG(QCN_LOG_WARN, "pos", "WAL record at %llu/%u not restored",
                        (unsigned long long)p->height, rec[i].round);
        }
        if (n > 0)
            QCN_LOG(QCN_LOG_INFO, "pos", "restored %zu signed messages of height %llu from the WAL",
                    n, (unsigned long long)p->height);
        /* Records below this height can never be signed again; pruning
         * costs three fsyncs, so it is done every QCN_POS_WAL_PRUNE_EVERY
         * heights (the engine never asks to sign below its height anyway). */
        if (p->height >= qcn_wal_floor(p->wal) + QCN_POS_WAL_PRUNE_EVERY &&
            qcn_wal_prune(p->wal, p->height) != QCN_OK)
            QCN_LOG(QCN_LOG_WARN, "pos", "WAL prune failed");
    }
    qcn_tm_begin(p->tm);
    deliver_future(p);
    return QCN_OK;
}

/* Reads the headers the host committed since our head (our own commits and
 * block sync alike) and replays their beacon steps. */
static int follow_host(struct qcn_pos *p)
{
    uint64_t hh;
    uint8_t hash[QCN_HASH_BYTES];
    struct qcn_header hd;
    int err = QCN_OK;

    p->host.head(p->host.ctx, &hh, hash);
    while (p->head_height < hh) {
        uint64_t h = p->head_height + 1;
        uint8_t mix[QCN_HASH_BYTES];
        memset(&hd, 0, sizeof hd);
        if ((err = p->host.get_header(p->host.ctx, h, &hd)) != QCN_OK)
            return err;
        if (p->host.get_valset != NULL) {
            struct qcn_valset set; /* registers newcomers' tips */
            if (load_set(p, h, &set) == QCN_OK)
                qcn_valset_clear(&set);
        }
        if (hd.extra_len != QCN_BEACON_BYTES ||
            qcn_valset_beacon_apply(&p->known, hd.proposer, hd.extra, p->head_mix, mix) != QCN_OK ||
            memcmp(mix, hd.mix, QCN_HASH_BYTES) != 0)
            QCN_LOG(QCN_LOG_WARN, "pos", "block %llu: beacon step does not check",
                    (unsigned long long)h);
        memcpy(p->head_mix, hd.mix, QCN_HASH_BYTES);
        qcn_header_clear(&hd);
        p->head_height = h;
    }
    memcpy(p->head_hash, hash, QCN_HASH_BYTES);
    qcn_buf_reset(&p->head_cert);
    err = p->host.get_head_commit(p->host.ctx, &p->head_cert);
    if (err == QCN_ERR_NOT_FOUND)
        err = QCN_OK;
    return err;
}

static void do_commit(struct qcn_pos *p)
{
    struct stored_block *blk;
    struct qcn_commit c;
    struct qcn_buf cert;
    size_t i;
    int err;

    p->pending_commit = 0;
    blk = block_find(p, p->commit_value);
    if (blk == NULL) {
        /* Decided without the block in hand: block sync will bring it. */
        QCN_LOG(QCN_LOG_WARN, "pos", "height %llu decided but block unknown; waiting for sync",
                (unsigned long long)p->height);
        return;
    }
    qcn_commit_init(&c, p->height, p->commit_round, p->commit_value);
    for (i = 0; i < p->nvotes; i++) {
        const struct qcn_vote *v = &p->votes[i];
        if (v->type == QCN_VOTE_PRECOMMIT && v->round == p->commit_round && v->has_block &&
            memcmp(v->block_hash, p->commit_value, QCN_HASH_BYTES) == 0)
            if (qcn_commit_add_sig(&c, v->validator, v->sig) == QCN_ERR_NOMEM)
                break;
    }
    qcn_buf_init(&cert, QCN_COMMIT_MAX_BYTES);
    err = qcn_commit_encode(&cert, &c);
    qcn_commit_clear(&c);
    if (err == QCN_OK)
        err = p->host.commit_block(p->host.ctx, blk->p, blk->len, cert.p, cert.len);
    qcn_buf_clear(&cert);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "pos", "commit of block %llu failed: %s; retrying",
                (unsigned long long)p->height, qcn_err_str(err));
        p->pending_commit = 0;
        timer_add(p, T_RETRY, 200, 0, p->height, p->commit_round);
        return;
    }
    p->st.committed++;
    p->st.rounds_skipped += p->commit_round;
    if (p->block_interval_ms > 0) {
        /* Messages of the next height are buffered (as future ones) until
         * T_NEXT starts it. */
        p->waiting_next = 1;
        timer_add(p, T_NEXT, p->block_interval_ms, 0, p->height + 1, 0);
        return;
    }
    if ((err = follow_host(p)) != QCN_OK || (err = start_height(p)) != QCN_OK)
        QCN_LOG(QCN_LOG_ERROR, "pos", "starting height %llu: %s",
                (unsigned long long)(p->head_height + 1), qcn_err_str(err));
}

static void after(struct qcn_pos *p)
{
    int guard = 0;
    while (p->running && p->pending_commit && guard++ < 64)
        do_commit(p);
    arm(p);
}

/* ---- incoming messages ---- */

static int future_add(struct qcn_pos *p, uint8_t kind, const uint8_t *payload, size_t len)
{
    if (p->nfuture >= QCN_POS_MAX_FUTURE_MSGS || p->future_bytes + len > QCN_POS_MAX_FUTURE_BYTES)
        return QCN_OK; /* dropped; gossip repeats it */
    if (msgcopy_set(&p->future[p->nfuture], kind, 0, payload, len) != QCN_OK)
        return QCN_OK;
    p->nfuture++;
    p->future_bytes += len;
    return QCN_OK;
}

static void deliver_future(struct qcn_pos *p)
{
    struct msgcopy *f;
    size_t n = p->nfuture, i;
    if (n == 0)
        return;
    f = malloc(n * sizeof *f);
    if (f == NULL)
        return;
    memcpy(f, p->future, n * sizeof *f);
    p->nfuture = 0;
    p->future_bytes = 0;
    for (i = 0; i < n; i++) {
        (void)handle(p, f[i].kind, f[i].p, f[i].len);
        msgcopy_free(&f[i]);
    }
    free(f);
}

/* Header checks on a proposed block (pos.h). QCN_OK or the first failure. */
static int check_header(struct qcn_pos *p, const struct qcn_block *blk, uint32_t proposer)
{
    const struct qcn_header *h = &blk->header;
    uint8_t mix[QCN_HASH_BYTES];
    if (h->height != p->height || memcmp(h->parent_hash, p->head_hash, QCN_HASH_BYTES) != 0)
        return QCN_ERR_BLOCK_PARENT;
    if (memcmp(h->proposer, p->vs.v[proposer].address, QCN_ADDRESS_BYTES) != 0)
        return QCN_ERR_BLOCK_INVALID;
    {
        const struct qcn_validator *k = known_get(p, h->proposer);
        if (k == NULL || h->extra_len != QCN_BEACON_BYTES ||
            qcn_beacon_check_reveal(k->beacon_last, h->extra) != QCN_OK)
            return QCN_ERR_CONSENSUS_BEACON;
    }
    qcn_beacon_next(mix, p->head_mix, h->extra);
    if (memcmp(mix, h->mix, QCN_HASH_BYTES) != 0)
        return QCN_ERR_CONSENSUS_BEACON;
    if (p->height == 1)
        return h->commit_len == 0 ? QCN_OK : QCN_ERR_CONSENSUS_CERT;
    return qcn_commit_verify(&p->parent_vs, p->chain_id, p->height - 1, p->head_hash,
                             qcn_view_make(h->commit, h->commit_len), NULL);
}

static int handle_proposal(struct qcn_pos *p, const uint8_t *payload, size_t len)
{
    struct qcn_proposal pr;
    struct qcn_view bv;
    struct qcn_block blk;
    struct stored_block *sb;
    uint32_t who;
    int err, valid;

    if (qcn_proposal_msg_decode(&pr, &bv, qcn_view_make(payload, len)) != QCN_OK)
        return QCN_ERR_CODEC;
    if (pr.chain_id != p->chain_id)
        return QCN_ERR_CODEC;
    if (pr.height < p->height)
        return QCN_OK;
    if (pr.height == p->height + 1) {
        /* Held for later, but forged ones are refused now (the buffer is
         * bounded and must not fill with junk). */
        const struct qcn_validator *k = known_get(p, pr.proposer);
        if (k != NULL && qcn_proposal_verify(&pr, k->pubkey) != QCN_OK)
            return QCN_ERR_BAD_SIGNATURE;
        return future_add(p, QCN_POS_MSG_PROPOSAL, payload, len);
    }
    if (pr.height > p->height + 1 || pr.round > UINT32_MAX - QCN_TM_ROUND_WINDOW)
        return QCN_OK;
    who = qcn_valset_proposer(&p->vs, p->head_mix, pr.height, pr.round);
    if (memcmp(p->vs.v[who].address, pr.proposer, QCN_ADDRESS_BYTES) != 0)
        return QCN_ERR_CONSENSUS_VALIDATOR;
    if (qcn_proposal_verify(&pr, p->vs.v[who].pubkey) != QCN_OK)
        return QCN_ERR_BAD_SIGNATURE;
    sb = block_find(p, pr.block_hash);
    if (sb != NULL) {
        valid = sb->valid;
    } else {
        memset(&blk, 0, sizeof blk);
        if (qcn_block_decode(&blk, bv) != QCN_OK)
            return QCN_ERR_CODEC; /* signed garbage is still garbage */
        if (memcmp(blk.hash, pr.block_hash, QCN_HASH_BYTES) != 0) {
            qcn_block_clear(&blk);
            return QCN_ERR_CODEC;
        }
        err = check_header(p, &blk, who);
        qcn_block_clear(&blk);
        if (err == QCN_OK)
            err = p->host.check_block(p->host.ctx, bv.p, bv.len);
        valid = err == QCN_OK;
        if (!valid)
            QCN_LOG(QCN_LOG_WARN, "pos", "invalid block proposed at %llu/%u: %s",
                    (unsigned long long)pr.height, pr.round, qcn_err_str(err));
        if (block_add(p, pr.block_hash, bv.p, bv.len, valid) == NULL)
            return QCN_OK;
    }
    err = qcn_tm_on_proposal(p->tm, pr.height, pr.round, pr.pol_round, pr.block_hash, who, valid);
    if (err == QCN_ERR_CONSENSUS_EQUIVOCATION) {
        p->st.equivocations++;
        QCN_LOG(QCN_LOG_WARN, "pos", "proposer equivocated at %llu/%u",
                (unsigned long long)pr.height, pr.round);
    }
    return QCN_OK;
}

static int handle_vote(struct qcn_pos *p, uint8_t kind, const uint8_t *payload, size_t len)
{
    struct qcn_vote v;
    const struct qcn_vote *first;
    int idx, err;

    if (qcn_vote_decode(&v, qcn_view_make(payload, len)) != QCN_OK)
        return QCN_ERR_CODEC;
    if (v.chain_id != p->chain_id ||
        v.type != (kind == QCN_POS_MSG_PREVOTE ? QCN_VOTE_PREVOTE : QCN_VOTE_PRECOMMIT))
        return QCN_ERR_CODEC;
    if (v.height < p->height)
        return QCN_OK;
    if (v.height == p->height + 1) {
        const struct qcn_validator *k = known_get(p, v.validator);
        if (k != NULL && qcn_vote_verify(&v, k->pubkey) != QCN_OK)
            return QCN_ERR_BAD_SIGNATURE;
        return future_add(p, kind, payload, len);
    }
    if (v.height > p->height + 1)
        return QCN_OK;
    idx = qcn_valset_find(&p->vs, v.validator);
    if (idx < 0)
        return QCN_ERR_CONSENSUS_VALIDATOR;
    if (qcn_vote_verify(&v, p->vs.v[idx].pubkey) != QCN_OK)
        return QCN_ERR_BAD_SIGNATURE;
    err =
        qcn_tm_on_vote(p->tm, v.height, v.round, v.type, v.has_block, v.block_hash, (uint32_t)idx);
    if (err == QCN_ERR_CONSENSUS_EQUIVOCATION || (err == QCN_ERR_TOO_LARGE)) {
        struct qcn_evidence e;
        p->st.equivocations++;
        first = vote_conflict(p, &v);
        if (first != NULL && qcn_evidence_make(&e, first, &v) == QCN_OK)
            evidence_add(p, &e, 1);
    }
    if (err == QCN_OK || err == QCN_ERR_CONSENSUS_EQUIVOCATION)
        (void)vote_store(p, &v);
    return QCN_OK;
}

static int handle_evidence(struct qcn_pos *p, const uint8_t *payload, size_t len)
{
    struct qcn_evidence e;
    int idx;
    if (qcn_evidence_decode(&e, qcn_view_make(payload, len)) != QCN_OK ||
        e.a.chain_id != p->chain_id)
        return QCN_ERR_CODEC;
    idx = qcn_valset_find(&p->known, e.a.validator);
    if (idx < 0)
        return QCN_ERR_CONSENSUS_VALIDATOR;
    if (qcn_vote_verify(&e.a, p->known.v[idx].pubkey) != QCN_OK ||
        qcn_vote_verify(&e.b, p->known.v[idx].pubkey) != QCN_OK)
        return QCN_ERR_CONSENSUS_EVIDENCE;
    evidence_add(p, &e, 0);
    return QCN_OK;
}

static int handle(struct qcn_pos *p, uint8_t kind, const uint8_t *payload, size_t len)
{
    switch (kind) {
    case QCN_POS_MSG_PROPOSAL:
        return handle_proposal(p, payload, len);
    case QCN_POS_MSG_PREVOTE:
    case QCN_POS_MSG_PRECOMMIT:
        return handle_vote(p, kind, payload, len);
    case QCN_POS_MSG_EVIDENCE:
        return handle_evidence(p, payload, len);
    default:
        return QCN_ERR_CODEC;
    }
}

/* ---- public ---- */

int qcn_pos_new(struct qcn_pos **out, const struct qcn_pos_host *host,
                const struct qcn_pos_config *cfg)
{
    struct qcn_pos *p;
    struct qcn_tm_callbacks cb;
    int err;

    *out = NULL;
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return QCN_ERR_NOMEM;
    p->host = *host;
    p->chain_id = cfg->chain_id;
    p->timeouts = cfg->timeouts;
    if (p->timeouts.propose_ms == 0) {
        struct qcn_tm_config d = {1000, 500, 500, 250, 500, 250};
        p->timeouts = d;
    }
    p->gossip_ms = cfg->gossip_ms ? cfg->gossip_ms : DEFAULT_GOSSIP_MS;
    p->block_interval_ms = cfg->block_interval_ms;
    p->fault_double_sign = cfg->fault_double_sign;
    p->self = -1;
    qcn_buf_init(&p->head_cert, QCN_COMMIT_MAX_BYTES);
    if (qcn_valset_decode(&p->genesis_vs, qcn_view_make(cfg->validators, cfg->validators_len)) !=
            QCN_OK ||
        p->genesis_vs.n == 0) {
        err = QCN_ERR_CONFIG;
        goto fail;
    }
    if ((err = qcn_valset_copy(&p->vs, &p->genesis_vs)) != QCN_OK)
        goto fail;
    if ((err = qcn_valset_copy(&p->known, &p->genesis_vs)) != QCN_OK)
        goto fail;
    if (cfg->has_key) {
        p->has_key = 1;
        p->sk = qcn_secure_alloc(QCN_VOTE_SK_BYTES);
        if (p->sk == NULL) {
            err = QCN_ERR_NOMEM;
            goto fail;
        }
        memcpy(p->sk, cfg->sk, QCN_VOTE_SK_BYTES);
        memcpy(p->pk, cfg->pk, QCN_VOTE_PK_BYTES);
        qcn_address_from_key(p->address, QCN_SCHEME_MLDSA65, p->pk, QCN_VOTE_PK_BYTES);
        if (cfg->wal_path == NULL || cfg->beacon_length == 0) {
            err = QCN_ERR_CONFIG;
            goto fail;
        }
        if ((err = qcn_wal_open(&p->wal, cfg->wal_path, NULL)) != QCN_OK)
            goto fail;
        if ((err = qcn_beacon_chain_init(&p->beacon, cfg->beacon_seed, cfg->beacon_length)) !=
            QCN_OK)
            goto fail;
        {
            int idx = qcn_valset_find(&p->vs, p->address);
            if (idx >= 0 && memcmp(p->vs.v[idx].beacon_last, p->beacon.tip, QCN_BEACON_BYTES) != 0)
                QCN_LOG(QCN_LOG_WARN, "pos",
                        "our beacon chain's tip differs from the registered one: our "
                        "proposals will be refused");
        }
    }
    memset(&cb, 0, sizeof cb);
    cb.ctx = p;
    cb.emit = cb_emit;
    cb.proposer = cb_proposer;
    cb.get_value = cb_get_value;
    if ((err = qcn_tm_new(&p->tm, &p->timeouts, &cb)) != QCN_OK)
        goto fail;
    *out = p;
    return QCN_OK;
fail:
    qcn_pos_free(p);
    return err;
}

int qcn_pos_start(struct qcn_pos *p)
{
    struct qcn_header g;
    int err;
    /* Beacon state from genesis: replay every header's step. */
    qcn_valset_clear(&p->vs);
    qcn_valset_clear(&p->known);
    if ((err = qcn_valset_copy(&p->vs, &p->genesis_vs)) != QCN_OK ||
        (err = qcn_valset_copy(&p->known, &p->genesis_vs)) != QCN_OK)
        return err;
    memset(&g, 0, sizeof g);
    if ((err = p->host.get_header(p->host.ctx, 0, &g)) != QCN_OK)
        return err;
    memcpy(p->head_mix, g.mix, QCN_HASH_BYTES);
    qcn_header_clear(&g);
    p->head_height = 0;
    if ((err = follow_host(p)) != QCN_OK)
        return err;
    p->running = 1;
    timer_add(p, T_GOSSIP, p->gossip_ms, 0, 0, 0);
    if ((err = start_height(p)) != QCN_OK) {
        p->running = 0;
        return err;
    }
    QCN_LOG(QCN_LOG_INFO, "pos", "pos engine at height %llu, %zu validators%s",
            (unsigned long long)p->height, p->vs.n, p->self >= 0 ? ", validating" : ", observing");
    after(p);
    return QCN_OK;
}

void qcn_pos_stop(struct qcn_pos *p)
{
    if (p == NULL || !p->running)
        return;
    p->running = 0;
    memset(p->timers, 0, sizeof p->timers);
    p->host.timer_cancel(p->host.ctx);
}

void qcn_pos_free(struct qcn_pos *p)
{
    size_t i;
    if (p == NULL)
        return;
    height_reset(p);
    for (i = 0; i < p->nfuture; i++)
        msgcopy_free(&p->future[i]);
    for (i = 0; i < p->nevidence; i++)
        qcn_buf_clear(&p->evidence[i]);
    free(p->votes);
    qcn_tm_free(p->tm);
    qcn_wal_close(p->wal);
    qcn_beacon_chain_clear(&p->beacon);
    qcn_valset_clear(&p->vs);
    qcn_valset_clear(&p->parent_vs);
    qcn_valset_clear(&p->known);
    qcn_valset_clear(&p->genesis_vs);
    qcn_buf_clear(&p->head_cert);
    if (p->sk) {
        qcn_wipe(p->sk, QCN_VOTE_SK_BYTES);
        qcn_secure_free(p->sk);
    }
    free(p);
}

void qcn_pos_on_timer(struct qcn_pos *p)
{
    uint64_t now;
    size_t i;
    if (!p->running)
        return;
    now = p->host.now_ms(p->host.ctx);
    for (i = 0; i < QCN_POS_MAX_TIMERS; i++) {
        struct timer t = p->timers[i];
        if (t.kind == T_NONE || t.at > now)
            continue;
        p->timers[i].kind = T_NONE;
        if (t.kind == T_TM) {
            if (t.height == p->height)
                qcn_tm_on_timeout(p->tm, t.step, t.height, t.round);
        } else if (t.kind == T_RETRY) {
            if (t.height == p->height) {
                p->pending_commit = 1;
                p->commit_round = t.round;
            }
        } else if (t.kind == T_NEXT) {
            if (p->waiting_next) {
                p->waiting_next = 0;
                if (follow_host(p) != QCN_OK || start_height(p) != QCN_OK)
                    QCN_LOG(QCN_LOG_ERROR, "pos", "starting height %llu failed",
                            (unsigned long long)(p->head_height + 1));
            }
        } else if (t.kind == T_GOSSIP) {
            struct qcn_tm_state s;
            size_t k;
            qcn_tm_get_state(p->tm, &s);
            for (k = 0; k < p->nown; k++)
                if (p->own[k].round + 1 >= s.round)
                    p->host.broadcast(p->host.ctx, p->own[k].kind, p->own[k].p, p->own[k].len);
            timer_add(p, T_GOSSIP, p->gossip_ms, 0, 0, 0);
        }
        /* a commit may have started a new height: continue with fresh timers */
        while (p->running && p->pending_commit)
            do_commit(p);
    }
    after(p);
}

int qcn_pos_on_message(struct qcn_pos *p, uint8_t kind, const uint8_t *payload, size_t len)
{
    int err;
    if (!p->running)
        return QCN_OK;
    err = handle(p, kind, payload, len);
    if (err != QCN_OK)
        p->st.bad_msgs++;
    after(p);
    return err;
}

void qcn_pos_on_head_changed(struct qcn_pos *p)
{
    uint64_t hh;
    uint8_t hash[QCN_HASH_BYTES];
    if (!p->running)
        return;
    p->host.head(p->host.ctx, &hh, hash);
    if (hh < p->height)
        return;
    if (follow_host(p) != QCN_OK || start_height(p) != QCN_OK)
        QCN_LOG(QCN_LOG_ERROR, "pos", "catching up to height %llu failed", (unsigned long long)hh);
    after(p);
}

int qcn_pos_verify_synced(const struct qcn_pos *p, const struct qcn_block *blk, const uint8_t *cert,
                          size_t cert_len)
{
    struct qcn_valset set;
    int err = fetch_set(p, blk->header.height, &set);
    if (err != QCN_OK)
        return QCN_ERR_CONSENSUS_CERT;
    err = qcn_commit_verify(&set, p->chain_id, blk->header.height, blk->hash,
                            qcn_view_make(cert, cert_len), NULL);
    qcn_valset_clear(&set);
    return err;
}

void qcn_pos_status_get(const struct qcn_pos *p, struct qcn_pos_status *out)
{
    struct qcn_tm_state s;
    *out = p->st;
    qcn_tm_get_state(p->tm, &s);
    out->height = p->height;
    out->round = s.round;
    out->step = s.step;
    out->is_validator = p->self >= 0;
    memcpy(out->address, p->address, QCN_ADDRESS_BYTES);
    out->evidence = p->nevidence;
}

int qcn_pos_evidence_get(const struct qcn_pos *p, size_t i, struct qcn_buf *out)
{
    if (i >= p->nevidence)
        return QCN_ERR_NOT_FOUND;
    return qcn_buf_append(out, p->evidence[i].p, p->evidence[i].len);
}
