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

#include "codec/compact.h"
#include "codec/p2p_msg.h"
#include "codec/rlp.h"
#include "consensus/beacon.h"
#include "consensus/wal.h"
#include "crypto/keccak.h"
#include "state/mpt.h"
#include "util/log.h"
#include "util/mem.h"

_Static_assert((int)QCN_POS_MSG_PROPOSAL == (int)QCN_P2P_CONSENSUS_PROPOSAL &&
                   (int)QCN_POS_MSG_PREVOTE == (int)QCN_P2P_CONSENSUS_PREVOTE &&
                   (int)QCN_POS_MSG_PRECOMMIT == (int)QCN_P2P_CONSENSUS_PRECOMMIT &&
                   (int)QCN_POS_MSG_EVIDENCE == (int)QCN_P2P_CONSENSUS_EVIDENCE,
               "pos message kinds are the p2p consensus kinds");
_Static_assert((int)QCN_POS_MSG_COMPACT == (int)QCN_P2P_CONSENSUS_COMPACT &&
                   (int)QCN_POS_MSG_BLOCKTX_REQ == (int)QCN_P2P_CONSENSUS_BLOCKTX_REQ &&
                   (int)QCN_POS_MSG_BLOCKTX == (int)QCN_P2P_CONSENSUS_BLOCKTX &&
                   QCN_POS_PEER_BYTES == QCN_P2P_NODE_ID_BYTES,
               "compact kinds and peer names are p2p's");

#define DEFAULT_GOSSIP_MS 1000u
/* A height older than this has its held votes repeated every gossip period
 * (gossip_held). A healthy height decides well inside it. */
#define REGOSSIP_AFTER_MS 2000u
#define MAX_OWN_MSGS 256u
#define QCN_POS_WAL_PRUNE_EVERY 16u

enum { T_NONE = 0, T_TM = 1, T_GOSSIP = 2, T_RETRY = 3, T_NEXT = 4, T_FETCH = 5 };

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
    /* where the header and each transaction envelope lie in p (block_index,
     * on first use: sending a compact proposal, serving transactions) */
    int indexed;
    size_t hdr_off, hdr_len, ntx;
    size_t *off, *tlen;
};

struct msgcopy {
    uint8_t kind;
    uint32_t round;
    uint8_t *p;
    size_t len;
    int has_peer;
    uint8_t peer[QCN_POS_PEER_BYTES];
};

/* A compact proposal whose signature, header hash and transaction root
 * checked, waiting for transactions we did not have (docs/consensus.md
 * §2.1). Every slot filled holds an envelope whose Keccak-256 is hashes[i]. */
struct partial {
    int used;
    struct qcn_proposal pr;
    uint32_t who;
    uint8_t *header;
    size_t header_len;
    uint8_t (*hashes)[QCN_HASH_BYTES];
    uint8_t **tx;
    size_t *txlen;
    size_t n, missing, bytes;
    uint8_t src[QCN_POS_MAX_SOURCES][QCN_POS_PEER_BYTES];
    size_t nsrc, next_src;
    uint64_t asked_ms;
};

struct serve_count {
    uint8_t peer[QCN_POS_PEER_BYTES];
    uint32_t n;
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
    struct partial partials[QCN_POS_MAX_PARTIALS];
    struct serve_count serves[QCN_POS_MAX_SERVE_PEERS];
    size_t nserves;

    int running;
    int pending_commit;
    uint32_t commit_round;
    uint8_t commit_value[QCN_HASH_BYTES];
    struct qcn_pos_status st;
    /* Timeline of the current height, for the one line logged per commit. */
    uint64_t t_start, t_prop, t_checked, prop_bytes, t_build_ms;
    uint64_t h_pooled, h_fetched; /* the compact proposal's bodies: from the pool, fetched */
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

static void partial_free(struct partial *pt)
{
    size_t i;
    if (pt->tx != NULL)
        for (i = 0; i < pt->n; i++)
            free(pt->tx[i]);
    free(pt->tx);
    free(pt->txlen);
    free(pt->hashes);
    free(pt->header);
    memset(pt, 0, sizeof *pt);
}

static void stored_block_free(struct stored_block *s)
{
    free(s->p);
    free(s->off);
    free(s->tlen);
    memset(s, 0, sizeof *s);
}

static void height_reset(struct qcn_pos *p)
{
    size_t i;
    for (i = 0; i < p->nblocks; i++)
        stored_block_free(&p->blocks[i]);
    p->nblocks = 0;
    for (i = 0; i < QCN_POS_MAX_PARTIALS; i++)
        partial_free(&p->partials[i]);
    p->nserves = 0;
    p->nvotes = 0;
    for (i = 0; i < p->nown; i++)
        msgcopy_free(&p->own[i]);
    p->nown = 0;
    for (i = 0; i < QCN_POS_MAX_TIMERS; i++)
        if (p->timers[i].kind == T_TM || p->timers[i].kind == T_RETRY ||
            p->timers[i].kind == T_NEXT || p->timers[i].kind == T_FETCH)
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
        /* a newer timeout for the same step replaces an older one; one
         * fetch timer is enough */
        if ((kind == T_TM && p->timers[i].kind == T_TM && p->timers[i].step == step) ||
            (kind == T_FETCH && p->timers[i].kind == T_FETCH)) {
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

/* 1 if exactly v (signature included) is stored: it was verified already. */
static int vote_held(const struct qcn_pos *p, const struct qcn_vote *v)
{
    size_t i;
    for (i = 0; i < p->nvotes; i++) {
        const struct qcn_vote *x = &p->votes[i];
        if (x->round == v->round && x->type == v->type && x->has_block == v->has_block &&
            memcmp(x->validator, v->validator, QCN_ADDRESS_BYTES) == 0 &&
            memcmp(x->block_hash, v->block_hash, QCN_HASH_BYTES) == 0 &&
            memcmp(x->sig, v->sig, QCN_VOTE_SIG_BYTES) == 0)
            return 1;
    }
    return 0;
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
    p->t_build_ms = p->host.now_ms(p->host.ctx);
    err = p->host.build_block(p->host.ctx, &a, &b, out);
    p->t_build_ms = p->host.now_ms(p->host.ctx) - p->t_build_ms;
    if (err == QCN_OK && block_add(p, out, b.p, b.len, 1) == NULL)
        err = QCN_ERR_NOMEM;
    if (err != QCN_OK)
        QCN_LOG(QCN_LOG_WARN, "pos", "building block %llu failed: %s", (unsigned long long)h,
                qcn_err_str(err));
    qcn_buf_clear(&b);
    return err;
}

static int compact_on(const struct qcn_pos *p)
{
    return p->host.get_tx != NULL && p->host.send_to != NULL;
}

/* Finds the header and the transaction envelopes in a stored block's bytes
 * (once). */
static int block_index(struct stored_block *s)
{
    struct qcn_rlp_item top, parts[2], it;
    struct qcn_rlp_iter iter;
    size_t cap, n = 0;
    int err;
    if (s->indexed)
        return QCN_OK;
    if (qcn_rlp_decode(&top, qcn_view_make(s->p, s->len)) != QCN_OK ||
        qcn_rlp_split(parts, 2, &top) != QCN_OK || !parts[0].is_list || !parts[1].is_list ||
        qcn_rlp_count(&cap, &parts[1]) != QCN_OK || cap > QCN_BLOCK_MAX_TXS)
        return QCN_ERR_CODEC;
    free(s->off);
    free(s->tlen);
    s->off = calloc(cap ? cap : 1, sizeof *s->off);
    s->tlen = calloc(cap ? cap : 1, sizeof *s->tlen);
    if (s->off == NULL || s->tlen == NULL)
        return QCN_ERR_NOMEM;
    qcn_rlp_iter_init(&iter, &parts[1]);
    while ((err = qcn_rlp_iter_next(&iter, &it)) == QCN_OK) {
        if (it.is_list || n >= cap)
            return QCN_ERR_CODEC;
        s->off[n] = (size_t)(it.payload.p - s->p);
        s->tlen[n] = it.payload.len;
        n++;
    }
    if (err != QCN_ERR_NOT_FOUND)
        return QCN_ERR_CODEC;
    s->hdr_off = (size_t)(parts[0].raw.p - s->p);
    s->hdr_len = parts[0].raw.len;
    s->ntx = n;
    s->indexed = 1;
    return QCN_OK;
}

/* The compact form of our proposal (docs/consensus.md §2.1): header and
 * transaction hashes; peers take the bodies from their pools. */
static int compact_encode(struct stored_block *blk, const struct qcn_proposal *pr,
                          struct qcn_buf *out)
{
    uint8_t *hashes;
    size_t i;
    int err = block_index(blk);
    if (err != QCN_OK)
        return err;
    hashes = malloc(blk->ntx ? blk->ntx * QCN_HASH_BYTES : 1);
    if (hashes == NULL)
        return QCN_ERR_NOMEM;
    for (i = 0; i < blk->ntx; i++)
        qcn_keccak256(hashes + i * QCN_HASH_BYTES, blk->p + blk->off[i], blk->tlen[i]);
    err =
        qcn_compact_proposal_encode(out, pr, blk->p + blk->hdr_off, blk->hdr_len, hashes, blk->ntx);
    free(hashes);
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
    if (compact_on(p)) {
        qcn_buf_init(&b, QCN_COMPACT_MAX_BYTES);
        err = compact_encode(blk, &pr, &b);
        if (err == QCN_OK) {
            p->host.broadcast(p->host.ctx, QCN_POS_MSG_COMPACT, b.p, b.len);
            own_add(p, QCN_POS_MSG_COMPACT, a->round, &b);
            qcn_buf_clear(&b);
            return;
        }
        QCN_LOG(QCN_LOG_WARN, "pos", "compact proposal at %llu/%u: %s; sending the block",
                (unsigned long long)a->height, a->round, qcn_err_str(err));
        qcn_buf_clear(&b);
    }
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
    /* debug trace of the machine's decisions: what an operator reads to see
     * why a height does not finish */
    if (a->kind == QCN_TM_ACT_TIMEOUT)
        QCN_LOG(QCN_LOG_DEBUG, "pos", "%llu/%u: timeout of step %u in %llu ms",
                (unsigned long long)a->height, a->round, (unsigned)a->step,
                (unsigned long long)a->delay_ms);
    else
        QCN_LOG(QCN_LOG_DEBUG, "pos", "%llu/%u: %s %s%02x%02x%02x%02x",
                (unsigned long long)a->height, a->round,
                a->kind == QCN_TM_ACT_PROPOSE ? "propose"
                : a->kind == QCN_TM_ACT_COMMIT
                    ? "commit"
                    : (a->vote_type == QCN_TM_PREVOTE ? "prevote" : "precommit"),
                a->kind == QCN_TM_ACT_VOTE && !a->has_value ? "nil " : "", a->value[0], a->value[1],
                a->value[2], a->value[3]);
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
static int handle(struct qcn_pos *p, const uint8_t *peer, uint8_t kind, const uint8_t *payload,
                  size_t len);

static int start_height(struct qcn_pos *p)
{
    uint64_t powers[QCN_VALSET_MAX];
    const struct qcn_wal_record *rec;
    size_t i, n;
    int err;

    height_reset(p);
    p->waiting_next = 0;
    p->height = p->head_height + 1;
    p->t_start = p->host.now_ms(p->host.ctx);
    p->t_prop = p->t_checked = p->prop_bytes = p->t_build_ms = 0;
    p->h_pooled = p->h_fetched = 0;
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

/* 1 if we draw round 0 of the next height (by the set that decided this
 * one: at an epoch boundary it may be wrong, which only shifts timing), from
 * the mix of the block just committed (our own state moves on only when the
 * next height starts). The pause between heights paces the others; the next
 * proposer uses it to build, so its proposal waits in their buffers instead
 * of them waiting for it. A validator that decides alone (more than 2/3 of
 * the power) keeps the pause: nobody else would pace the chain. */
static int next_is_ours(struct qcn_pos *p, struct stored_block *blk)
{
    struct qcn_header h;
    int ours;
    if (p->self < 0 || qcn_valset_quorum(&p->vs, p->vs.v[p->self].power) ||
        block_index(blk) != QCN_OK)
        return 0;
    memset(&h, 0, sizeof h);
    if (qcn_header_decode(&h, qcn_view_make(blk->p + blk->hdr_off, blk->hdr_len)) != QCN_OK)
        return 0;
    ours = qcn_valset_proposer(&p->vs, h.mix, p->height + 1, 0) == (uint32_t)p->self;
    qcn_header_clear(&h);
    return ours;
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
    {
        uint64_t now = p->host.now_ms(p->host.ctx);
        QCN_LOG(QCN_LOG_INFO, "pos",
                "height %llu round %u: proposal at +%llu ms (%llu bytes, %llu txs from the pool, "
                "%llu fetched; checked +%llu ms; built in %llu ms), committed at +%llu ms",
                (unsigned long long)p->height, p->commit_round,
                (unsigned long long)(p->t_prop ? p->t_prop - p->t_start : 0),
                (unsigned long long)p->prop_bytes, (unsigned long long)p->h_pooled,
                (unsigned long long)p->h_fetched,
                (unsigned long long)(p->t_checked ? p->t_checked - p->t_start : 0),
                (unsigned long long)p->t_build_ms, (unsigned long long)(now - p->t_start));
    }
    if (p->block_interval_ms > 0 && !next_is_ours(p, blk)) {
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

static int future_add(struct qcn_pos *p, uint8_t kind, const uint8_t *peer, const uint8_t *payload,
                      size_t len)
{
    size_t i;
    for (i = 0; i < p->nfuture; i++)
        if (p->future[i].kind == kind && p->future[i].len == len &&
            memcmp(p->future[i].p, payload, len) == 0)
            return QCN_OK; /* a repeat (gossip) of one held already */
    QCN_LOG(QCN_LOG_DEBUG, "pos", "message kind %u of height %llu held (%zu held)", (unsigned)kind,
            (unsigned long long)p->height + 1, p->nfuture);
    if (p->nfuture >= QCN_POS_MAX_FUTURE_MSGS || p->future_bytes + len > QCN_POS_MAX_FUTURE_BYTES)
        return QCN_OK; /* dropped; gossip repeats it */
    if (msgcopy_set(&p->future[p->nfuture], kind, 0, payload, len) != QCN_OK)
        return QCN_OK;
    if (peer != NULL) {
        p->future[p->nfuture].has_peer = 1;
        memcpy(p->future[p->nfuture].peer, peer, QCN_POS_PEER_BYTES);
    }
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
        (void)handle(p, f[i].has_peer ? f[i].peer : NULL, f[i].kind, f[i].p, f[i].len);
        msgcopy_free(&f[i]);
    }
    free(f);
}

/* Header checks on a proposed block (pos.h). QCN_OK or the first failure. */
static int check_header(struct qcn_pos *p, const struct qcn_block *blk, uint32_t proposer,
                        int64_t pol_round)
{
    const struct qcn_header *h = &blk->header;
    uint8_t mix[QCN_HASH_BYTES];
    if (h->height != p->height || memcmp(h->parent_hash, p->head_hash, QCN_HASH_BYTES) != 0)
        return QCN_ERR_BLOCK_PARENT;
    /* A fresh block names the round's proposer. A re-proposed one (paper
     * l.16: validValue, pol_round >= 0) was built by the proposer of an
     * earlier round, checked then by the 2/3 whose prevotes made it valid
     * (the machine takes it only with that polka, l.28): here its builder
     * need only be in the set. A validator that restarted since has no
     * record of that first check and would otherwise refuse the block for
     * good, and with it every round the builder does not propose. */
    if (pol_round < 0 ? memcmp(h->proposer, p->vs.v[proposer].address, QCN_ADDRESS_BYTES) != 0
                      : qcn_valset_find(&p->vs, h->proposer) < 0)
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

/* The checks of a proposal's envelope shared by both forms: chain, height
 * window (the next height's are held, but forged ones are refused now: the
 * buffer is bounded and must not fill with junk), the drawn proposer and its
 * signature. *who is set when QCN_OK is returned with *go = 1. */
static int proposal_envelope(struct qcn_pos *p, const struct qcn_proposal *pr, uint8_t kind,
                             const uint8_t *peer, const uint8_t *payload, size_t len, uint32_t *who,
                             int *go)
{
    *go = 0;
    if (pr->chain_id != p->chain_id)
        return QCN_ERR_CODEC;
    if (pr->height < p->height)
        return QCN_OK;
    if (pr->height == p->height + 1) {
        const struct qcn_validator *k = known_get(p, pr->proposer);
        if (k != NULL && qcn_proposal_verify(pr, k->pubkey) != QCN_OK)
            return QCN_ERR_BAD_SIGNATURE;
        return future_add(p, kind, peer, payload, len);
    }
    if (pr->height > p->height + 1 || pr->round > UINT32_MAX - QCN_TM_ROUND_WINDOW)
        return QCN_OK;
    *who = qcn_valset_proposer(&p->vs, p->head_mix, pr->height, pr->round);
    if (memcmp(p->vs.v[*who].address, pr->proposer, QCN_ADDRESS_BYTES) != 0)
        return QCN_ERR_CONSENSUS_VALIDATOR;
    if (qcn_proposal_verify(pr, p->vs.v[*who].pubkey) != QCN_OK)
        return QCN_ERR_BAD_SIGNATURE;
    if (p->t_prop == 0) {
        p->t_prop = p->host.now_ms(p->host.ctx);
        p->prop_bytes = len;
    }
    *go = 1;
    return QCN_OK;
}

/* A signed proposal of this height whose block is bv (empty if we hold the
 * block already): validate the block once (header checks, then the host
 * executes it) and tell the machine. The machine only ever hears "valid"
 * for a block whose every byte we hold and executed (docs/consensus.md §3:
 * no vote for a block whose contents were not fully validated). */
static int proposal_block(struct qcn_pos *p, const struct qcn_proposal *pr, uint32_t who,
                          struct qcn_view bv, int assembled)
{
    struct qcn_block blk;
    struct stored_block *sb = block_find(p, pr->block_hash);
    int err, valid;

    if (sb != NULL) {
        valid = sb->valid;
    } else {
        memset(&blk, 0, sizeof blk);
        if (assembled) {
            /* Assembled from a compact proposal: every body hashes to the
             * list and the list gives the header's root, so only the header
             * is read here; the host decodes the whole block strictly when it
             * executes it (one decode of every transaction instead of two). */
            struct qcn_rlp_item top, parts[2];
            if (qcn_rlp_decode(&top, bv) != QCN_OK || qcn_rlp_split(parts, 2, &top) != QCN_OK ||
                qcn_header_decode(&blk.header, parts[0].raw) != QCN_OK) {
                qcn_block_clear(&blk);
                return QCN_ERR_CODEC;
            }
            qcn_keccak256(blk.hash, parts[0].raw.p, parts[0].raw.len);
        } else if (qcn_block_decode(&blk, bv) != QCN_OK) {
            return QCN_ERR_CODEC; /* signed garbage is still garbage */
        }
        if (memcmp(blk.hash, pr->block_hash, QCN_HASH_BYTES) != 0) {
            qcn_block_clear(&blk);
            return QCN_ERR_CODEC;
        }
        err = check_header(p, &blk, who, pr->pol_round);
        qcn_block_clear(&blk);
        if (err == QCN_OK)
            err = p->host.check_block(p->host.ctx, bv.p, bv.len);
        valid = err == QCN_OK;
        if (!valid)
            QCN_LOG(QCN_LOG_WARN, "pos", "invalid block proposed at %llu/%u: %s",
                    (unsigned long long)pr->height, pr->round, qcn_err_str(err));
        if (p->t_checked == 0)
            p->t_checked = p->host.now_ms(p->host.ctx);
        if (block_add(p, pr->block_hash, bv.p, bv.len, valid) == NULL)
            return QCN_OK;
    }
    err =
        qcn_tm_on_proposal(p->tm, pr->height, pr->round, pr->pol_round, pr->block_hash, who, valid);
    QCN_LOG(QCN_LOG_DEBUG, "pos", "%llu/%u: proposal from %u %02x%02x%02x%02x (pol %lld, %s): %s",
            (unsigned long long)pr->height, pr->round, who, pr->block_hash[0], pr->block_hash[1],
            pr->block_hash[2], pr->block_hash[3], (long long)pr->pol_round,
            valid ? "valid" : "invalid", qcn_err_str(err));
    if (err == QCN_ERR_CONSENSUS_EQUIVOCATION) {
        p->st.equivocations++;
        QCN_LOG(QCN_LOG_WARN, "pos", "proposer equivocated at %llu/%u",
                (unsigned long long)pr->height, pr->round);
    }
    return QCN_OK;
}

static int handle_proposal(struct qcn_pos *p, const uint8_t *peer, const uint8_t *payload,
                           size_t len)
{
    struct qcn_proposal pr;
    struct qcn_view bv;
    uint32_t who = 0;
    int err, go;

    if (qcn_proposal_msg_decode(&pr, &bv, qcn_view_make(payload, len)) != QCN_OK)
        return QCN_ERR_CODEC;
    err = proposal_envelope(p, &pr, QCN_POS_MSG_PROPOSAL, peer, payload, len, &who, &go);
    if (err != QCN_OK || !go)
        return err;
    return proposal_block(p, &pr, who, bv, 0);
}

/* ---- compact proposals (docs/consensus.md §2.1) ---- */

/* transactions_root as the header commits to it: the trie of RLP(i) ->
 * hash_i (docs/protocol.md §8), computable from the hashes alone. */
static int hashes_root(uint8_t root[QCN_HASH_BYTES], const uint8_t *hashes, size_t n)
{
    struct qcn_mpt_kv *kv;
    uint8_t(*keys)[9];
    struct qcn_buf kb;
    size_t i;
    int err = QCN_OK;
    if (n == 0) {
        memcpy(root, QCN_MPT_EMPTY_ROOT, QCN_HASH_BYTES);
        return QCN_OK;
    }
    kv = calloc(n, sizeof *kv);
    keys = calloc(n, sizeof *keys);
    qcn_buf_init(&kb, sizeof keys[0]);
    if (kv == NULL || keys == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        qcn_buf_reset(&kb);
        if ((err = qcn_rlp_put_u64(&kb, i)) != QCN_OK)
            goto out;
        memcpy(keys[i], kb.p, kb.len);
        kv[i].key = keys[i];
        kv[i].key_len = kb.len;
        kv[i].value = hashes + i * QCN_HASH_BYTES;
        kv[i].value_len = QCN_HASH_BYTES;
    }
    err = qcn_mpt_root(root, kv, n);
out:
    qcn_buf_clear(&kb);
    free(kv);
    free(keys);
    return err;
}

static struct partial *partial_find(struct qcn_pos *p, const uint8_t hash[QCN_HASH_BYTES])
{
    size_t i;
    for (i = 0; i < QCN_POS_MAX_PARTIALS; i++)
        if (p->partials[i].used && memcmp(p->partials[i].pr.block_hash, hash, QCN_HASH_BYTES) == 0)
            return &p->partials[i];
    return NULL;
}

/* A free slot, else the one of the oldest round (a later round's proposal
 * is the one that can still be decided). */
static struct partial *partial_slot(struct qcn_pos *p)
{
    struct partial *best = &p->partials[0];
    size_t i;
    for (i = 0; i < QCN_POS_MAX_PARTIALS; i++) {
        if (!p->partials[i].used)
            return &p->partials[i];
        if (p->partials[i].pr.round < best->pr.round)
            best = &p->partials[i];
    }
    partial_free(best);
    return best;
}

static void partial_source(struct partial *pt, const uint8_t *peer)
{
    size_t i;
    if (peer == NULL)
        return;
    for (i = 0; i < pt->nsrc; i++)
        if (memcmp(pt->src[i], peer, QCN_POS_PEER_BYTES) == 0)
            return;
    if (pt->nsrc < QCN_POS_MAX_SOURCES)
        memcpy(pt->src[pt->nsrc++], peer, QCN_POS_PEER_BYTES);
}

/* Asks for every missing transaction (in requests of at most
 * QCN_BLOCKTX_REQ_MAX_IDX indexes): first the peer that sent the proposal
 * first (usually its proposer), then, if bodies are still missing after
 * QCN_POS_REFETCH_MS, every peer that sent it (a relayer may itself have
 * been assembling the block when first asked). */
static void partial_request(struct qcn_pos *p, struct partial *pt)
{
    uint32_t *idx;
    size_t i, k = 0, s, nask;
    struct qcn_buf b;
    if (pt->nsrc == 0 || pt->missing == 0)
        return;
    nask = pt->next_src++ == 0 ? 1 : pt->nsrc;
    idx = malloc(QCN_BLOCKTX_REQ_MAX_IDX * sizeof *idx);
    if (idx == NULL)
        return;
    qcn_buf_init(&b, QCN_BLOCKTX_REQ_MAX_BYTES);
    for (i = 0; i <= pt->n; i++) {
        if (i < pt->n && pt->tx[i] == NULL)
            idx[k++] = (uint32_t)i;
        if (k > 0 && (k == QCN_BLOCKTX_REQ_MAX_IDX || i == pt->n)) {
            qcn_buf_reset(&b);
            if (qcn_blocktx_req_encode(&b, pt->pr.block_hash, idx, k) == QCN_OK)
                for (s = 0; s < nask; s++)
                    p->host.send_to(p->host.ctx, pt->src[s], QCN_POS_MSG_BLOCKTX_REQ, b.p, b.len);
            k = 0;
        }
    }
    qcn_buf_clear(&b);
    free(idx);
    pt->asked_ms = p->host.now_ms(p->host.ctx);
    timer_add(p, T_FETCH, QCN_POS_REFETCH_MS, 0, p->height, 0);
}

/* Every transaction is in: the block is header || bodies, bound to the
 * signed hash by the header and to the header by the transaction root. */
static int partial_complete(struct qcn_pos *p, struct partial *pt)
{
    struct qcn_proposal pr = pt->pr;
    uint32_t who = pt->who;
    struct qcn_buf b;
    size_t l, l2, i;
    int err;
    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
    l = qcn_rlp_list_begin(&b);
    err = qcn_rlp_put_raw(&b, pt->header, pt->header_len);
    l2 = qcn_rlp_list_begin(&b);
    for (i = 0; i < pt->n && err == QCN_OK; i++)
        err = qcn_rlp_put_bytes(&b, pt->tx[i], pt->txlen[i]);
    if (err == QCN_OK && (err = qcn_rlp_list_end(&b, l2)) == QCN_OK)
        err = qcn_rlp_list_end(&b, l);
    partial_free(pt);
    if (err == QCN_OK) {
        p->st.compact_in++;
        err = proposal_block(p, &pr, who, qcn_buf_view(&b), 1);
    } else {
        QCN_LOG(QCN_LOG_WARN, "pos", "compact proposal at %llu/%u cannot be assembled: %s",
                (unsigned long long)pr.height, pr.round, qcn_err_str(err));
        err = QCN_OK; /* our limit, not the sender's fault */
    }
    qcn_buf_clear(&b);
    return err;
}

static int handle_compact(struct qcn_pos *p, const uint8_t *peer, const uint8_t *payload,
                          size_t len)
{
    struct qcn_compact_proposal cp;
    struct qcn_header hd;
    struct partial *pt;
    uint8_t h[QCN_HASH_BYTES];
    uint32_t who = 0;
    size_t i;
    int err, go;

    if (qcn_compact_proposal_decode(&cp, qcn_view_make(payload, len)) != QCN_OK)
        return QCN_ERR_CODEC;
    err = proposal_envelope(p, &cp.proposal, QCN_POS_MSG_COMPACT, peer, payload, len, &who, &go);
    if (err != QCN_OK || !go)
        return err;
    /* The signature covers the block hash, the hash covers the header. */
    qcn_keccak256(h, cp.header.p, cp.header.len);
    if (memcmp(h, cp.proposal.block_hash, QCN_HASH_BYTES) != 0)
        return QCN_ERR_CODEC;
    if (block_find(p, cp.proposal.block_hash) != NULL)
        return proposal_block(p, &cp.proposal, who, qcn_view_make(NULL, 0), 1);
    if ((pt = partial_find(p, cp.proposal.block_hash)) != NULL) {
        partial_source(pt, peer);
        if (pt->asked_ms == 0)
            partial_request(p, pt);
        return QCN_OK;
    }
    /* The hash list is not signed: it must give the header's transaction
     * root, or whoever sent it lied (and the block is not judged by it). */
    memset(&hd, 0, sizeof hd);
    if (qcn_header_decode(&hd, cp.header) != QCN_OK)
        return QCN_ERR_CODEC;
    err = hashes_root(h, cp.hashes, cp.n);
    if (err == QCN_OK && memcmp(h, hd.tx_root, QCN_HASH_BYTES) != 0)
        err = QCN_ERR_CODEC;
    qcn_header_clear(&hd);
    if (err != QCN_OK)
        return err == QCN_ERR_NOMEM ? QCN_OK : err;
    pt = partial_slot(p);
    pt->used = 1;
    pt->pr = cp.proposal;
    pt->who = who;
    pt->n = cp.n;
    pt->header = malloc(cp.header.len);
    pt->hashes = malloc(cp.n ? cp.n * QCN_HASH_BYTES : 1);
    pt->tx = calloc(cp.n ? cp.n : 1, sizeof *pt->tx);
    pt->txlen = calloc(cp.n ? cp.n : 1, sizeof *pt->txlen);
    if (pt->header == NULL || pt->hashes == NULL || pt->tx == NULL || pt->txlen == NULL) {
        partial_free(pt);
        return QCN_OK;
    }
    memcpy(pt->header, cp.header.p, cp.header.len);
    pt->header_len = cp.header.len;
    if (cp.n > 0)
        memcpy(pt->hashes, cp.hashes, cp.n * QCN_HASH_BYTES);
    for (i = 0; i < cp.n; i++) {
        struct qcn_buf tb;
        qcn_buf_init(&tb, QCN_TX_MAX_BYTES);
        if (p->host.get_tx(p->host.ctx, pt->hashes[i], &tb) == QCN_OK && tb.len > 0 &&
            pt->bytes + tb.len <= QCN_BLOCK_MAX_TX_BYTES) {
            pt->tx[i] = tb.p; /* ownership moves */
            pt->txlen[i] = tb.len;
            pt->bytes += tb.len;
        } else {
            qcn_buf_clear(&tb);
            pt->missing++;
        }
    }
    p->st.txs_from_pool += cp.n - pt->missing;
    p->h_pooled += cp.n - pt->missing;
    partial_source(pt, peer);
    if (pt->missing == 0)
        return partial_complete(p, pt);
    partial_request(p, pt);
    return QCN_OK;
}

static int handle_blocktx(struct qcn_pos *p, const uint8_t *payload, size_t len)
{
    struct qcn_blocktx m;
    struct partial *pt;
    struct qcn_view tx;
    uint8_t h[QCN_HASH_BYTES];
    uint32_t index;
    size_t pos = 0;
    int err;

    if (qcn_blocktx_decode(&m, qcn_view_make(payload, len)) != QCN_OK)
        return QCN_ERR_CODEC;
    pt = partial_find(p, m.block_hash);
    if (pt == NULL)
        return QCN_OK; /* late: completed, or another height */
    while ((err = qcn_blocktx_next(&m, &pos, &index, &tx)) == QCN_OK) {
        if (index >= pt->n)
            return QCN_ERR_CODEC;
        if (pt->tx[index] != NULL)
            continue;
        qcn_keccak256(h, tx.p, tx.len);
        if (memcmp(h, pt->hashes[index], QCN_HASH_BYTES) != 0)
            return QCN_ERR_CODEC; /* not what the proposer listed */
        if (pt->bytes + tx.len > QCN_BLOCK_MAX_TX_BYTES)
            return QCN_OK; /* the block is over the cap: it will never complete */
        pt->tx[index] = malloc(tx.len);
        if (pt->tx[index] == NULL)
            return QCN_OK;
        memcpy(pt->tx[index], tx.p, tx.len);
        pt->txlen[index] = tx.len;
        pt->bytes += tx.len;
        pt->missing--;
        p->st.txs_fetched++;
        p->h_fetched++;
    }
    if (err != QCN_ERR_NOT_FOUND)
        return QCN_ERR_CODEC;
    return pt->missing == 0 ? partial_complete(p, pt) : QCN_OK;
}

/* Serves the transactions of a block we hold to a peer missing them, within
 * a per-peer budget per height (a request is small, the answer is not). */
static int handle_blocktx_req(struct qcn_pos *p, const uint8_t *peer, const uint8_t *payload,
                              size_t len)
{
    struct qcn_blocktx_req r;
    struct qcn_blocktx_writer w;
    struct stored_block *sb;
    struct partial *pt;
    struct serve_count *sc = NULL;
    struct qcn_buf b;
    size_t i, served = 0;
    int err = QCN_OK;

    if (qcn_blocktx_req_decode(&r, qcn_view_make(payload, len)) != QCN_OK)
        return QCN_ERR_CODEC;
    if (peer == NULL || !compact_on(p))
        return QCN_OK;
    sb = block_find(p, r.block_hash);
    pt = sb == NULL ? partial_find(p, r.block_hash) : NULL;
    if (sb != NULL && block_index(sb) != QCN_OK)
        sb = NULL;
    if (sb == NULL && pt == NULL)
        return QCN_OK; /* not (or no longer) ours to serve */
    for (i = 0; i < p->nserves; i++)
        if (memcmp(p->serves[i].peer, peer, QCN_POS_PEER_BYTES) == 0)
            sc = &p->serves[i];
    if (sc == NULL) {
        if (p->nserves >= QCN_POS_MAX_SERVE_PEERS)
            return QCN_OK;
        sc = &p->serves[p->nserves++];
        memcpy(sc->peer, peer, QCN_POS_PEER_BYTES);
        sc->n = 0;
    }
    if (sc->n >= QCN_POS_MAX_SERVES_PER_PEER)
        return QCN_OK;
    sc->n++;
    qcn_buf_init(&b, QCN_BLOCKTX_MAX_BYTES);
    if (qcn_blocktx_begin(&w, &b, r.block_hash) != QCN_OK)
        goto out;
    for (i = 0; i < r.k; i++) {
        uint32_t index = qcn_blocktx_req_index(&r, i);
        const uint8_t *tx;
        size_t tlen;
        if (index >= (sb != NULL ? sb->ntx : pt->n)) {
            err = QCN_ERR_CODEC; /* asks for what the block does not have */
            break;
        }
        /* a block still being assembled serves what it holds */
        tx = sb != NULL ? sb->p + sb->off[index] : pt->tx[index];
        tlen = sb != NULL ? sb->tlen[index] : pt->txlen[index];
        if (tx == NULL)
            continue;
        if (qcn_blocktx_add(&w, index, tx, tlen) == QCN_ERR_TOO_LARGE) {
            if (qcn_blocktx_end(&w) == QCN_OK)
                p->host.send_to(p->host.ctx, peer, QCN_POS_MSG_BLOCKTX, b.p, b.len);
            qcn_buf_reset(&b);
            if (qcn_blocktx_begin(&w, &b, r.block_hash) != QCN_OK ||
                qcn_blocktx_add(&w, index, tx, tlen) != QCN_OK)
                goto out;
        }
        served++;
    }
    if (qcn_blocktx_end(&w) == QCN_OK)
        p->host.send_to(p->host.ctx, peer, QCN_POS_MSG_BLOCKTX, b.p, b.len);
    p->st.txs_served += served;
out:
    qcn_buf_clear(&b);
    return err;
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
        return future_add(p, kind, NULL, payload, len);
    }
    if (v.height > p->height + 1) {
        QCN_LOG(QCN_LOG_DEBUG, "pos", "vote of height %llu dropped at %llu",
                (unsigned long long)v.height, (unsigned long long)p->height);
        return QCN_OK;
    }
    if (vote_held(p, &v))
        return QCN_OK; /* a repeat (gossip): verified when it first came */
    idx = qcn_valset_find(&p->vs, v.validator);
    if (idx < 0)
        return QCN_ERR_CONSENSUS_VALIDATOR;
    if (qcn_vote_verify(&v, p->vs.v[idx].pubkey) != QCN_OK)
        return QCN_ERR_BAD_SIGNATURE;
    err =
        qcn_tm_on_vote(p->tm, v.height, v.round, v.type, v.has_block, v.block_hash, (uint32_t)idx);
    QCN_LOG(QCN_LOG_DEBUG, "pos", "%llu/%u: %s from %d %s%02x%02x%02x%02x: %s",
            (unsigned long long)v.height, v.round,
            v.type == QCN_VOTE_PREVOTE ? "prevote" : "precommit", idx, v.has_block ? "" : "nil ",
            v.block_hash[0], v.block_hash[1], v.block_hash[2], v.block_hash[3], qcn_err_str(err));
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

static int handle(struct qcn_pos *p, const uint8_t *peer, uint8_t kind, const uint8_t *payload,
                  size_t len)
{
    switch (kind) {
    case QCN_POS_MSG_PROPOSAL:
        return handle_proposal(p, peer, payload, len);
    case QCN_POS_MSG_COMPACT:
        return compact_on(p) ? handle_compact(p, peer, payload, len) : QCN_OK;
    case QCN_POS_MSG_BLOCKTX_REQ:
        return handle_blocktx_req(p, peer, payload, len);
    case QCN_POS_MSG_BLOCKTX:
        return compact_on(p) ? handle_blocktx(p, payload, len) : QCN_OK;
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
        /* propose: 3 s covers building, sending and executing a block of
         * a few thousand transfers on a loaded machine (a missed proposal
         * costs a whole round); votes travel alone and fast: 500 ms */
        struct qcn_tm_config d = {3000, 500, 500, 250, 500, 250};
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

/* Every gossip period our own messages of the last two rounds go out again
 * (a peer that was behind or reconnecting dropped them; p2p hands a repeat
 * to its engine again after QCN_P2P_CONSENSUS_REDELIVER_MS). */
static void gossip_own(struct qcn_pos *p, const struct qcn_tm_state *s)
{
    size_t k;
    for (k = 0; k < p->nown; k++)
        if (p->own[k].round + 1 >= s->round)
            p->host.broadcast(p->host.ctx, p->own[k].kind, p->own[k].p, p->own[k].len);
}

/* A height that is taking long also gets the votes we hold (everyone's,
 * ours of older rounds included). Tendermint's liveness assumes that a message one correct
 * validator received reaches every correct one (paper §2, gossip); the validator that signed it may
 * be gone (killed right after voting), and a peer that was behind when it came dropped it, so the
 * polka that peer lacks to follow a re-proposal then exists only in our store. Sent: the votes of
 * the current and previous round and of our locked and valid rounds (a re-proposal names its polka
 * round), at most 8 per validator. */
static void gossip_held(struct qcn_pos *p, const struct qcn_tm_state *s)
{
    struct qcn_buf b;
    size_t i;
    qcn_buf_init(&b, QCN_VOTE_MAX_BYTES);
    for (i = 0; i < p->nvotes; i++) {
        const struct qcn_vote *v = &p->votes[i];
        int64_t r = v->round;
        if (!(r + 1 >= (int64_t)s->round || r == s->locked_round || r == s->valid_round))
            continue;
        /* Ours of the last two rounds went out with gossip_own; ours of an
         * older locked or valid round must go here: a peer that lacks it
         * may have no other source (the others who hold it need not be
         * locked at that round, so they do not send it). */
        if (r + 1 >= (int64_t)s->round && memcmp(v->validator, p->address, QCN_ADDRESS_BYTES) == 0)
            continue;
        qcn_buf_reset(&b);
        if (qcn_vote_encode(&b, v) == QCN_OK)
            p->host.broadcast(p->host.ctx,
                              v->type == QCN_VOTE_PREVOTE ? QCN_POS_MSG_PREVOTE
                                                          : QCN_POS_MSG_PRECOMMIT,
                              b.p, b.len);
    }
    qcn_buf_clear(&b);
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
            if (t.height == p->height) {
                QCN_LOG(QCN_LOG_DEBUG, "pos", "%llu/%u: timeout of step %u fired",
                        (unsigned long long)t.height, t.round, (unsigned)t.step);
                qcn_tm_on_timeout(p->tm, t.step, t.height, t.round);
            }
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
        } else if (t.kind == T_FETCH) {
            size_t k;
            int again = 0;
            for (k = 0; k < QCN_POS_MAX_PARTIALS; k++) {
                struct partial *pt = &p->partials[k];
                if (!pt->used || pt->missing == 0)
                    continue;
                if (now >= pt->asked_ms + QCN_POS_REFETCH_MS)
                    partial_request(p, pt); /* re-arms */
                else
                    again = 1;
            }
            if (again)
                timer_add(p, T_FETCH, QCN_POS_REFETCH_MS, 0, p->height, 0);
        } else if (t.kind == T_GOSSIP) {
            struct qcn_tm_state s;
            qcn_tm_get_state(p->tm, &s);
            gossip_own(p, &s);
            if (!p->waiting_next && s.step != QCN_TM_STEP_COMMITTED &&
                now >= p->t_start + REGOSSIP_AFTER_MS) {
                QCN_LOG(
                    QCN_LOG_DEBUG, "pos", "%llu/%u: height open for %llu ms; repeating held votes",
                    (unsigned long long)p->height, s.round, (unsigned long long)(now - p->t_start));
                gossip_held(p, &s);
            }
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
    return qcn_pos_on_peer_message(p, NULL, kind, payload, len);
}

int qcn_pos_on_peer_message(struct qcn_pos *p, const uint8_t peer[QCN_POS_PEER_BYTES], uint8_t kind,
                            const uint8_t *payload, size_t len)
{
    int err;
    if (!p->running)
        return QCN_OK;
    err = handle(p, peer, kind, payload, len);
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
    out->locked_round = s.locked_round;
    out->valid_round = s.valid_round;
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
