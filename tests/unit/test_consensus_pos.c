/* The pos engine (consensus/pos.h) end to end in one process: four engines
 * with real ML-DSA-65 keys, real WAL files, real certificates and the real
 * beacon, over a simulated network and clock, each over a small in-memory
 * chain that stores real encoded blocks. Checked: blocks become final with
 * the same hash everywhere; each block carries a certificate of its parent
 * that verifies; one of four down: the rest go on; two down: no progress and
 * no fork; both back (fresh processes over the same WAL and chain):
 * progress resumes and they catch up; a double-signing validator is caught
 * with verifiable evidence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec/compact.h"
#include "codec/rlp.h"
#include "codec/vote.h"
#include "chain/staking.h"
#include "consensus/beacon.h"
#include "consensus/pos.h"
#include "crypto/keccak.h"
#include "crypto/mldsa.h"
#include "state/mpt.h"

#define N 4
#define MAXB 256
#define MAXQ 20000
#define CHAIN_ID 4242
#define NTX 40 /* transactions in every block of the compact test */

struct chainrec {
    uint8_t *blk;
    size_t len;
    uint8_t hash[32];
    uint8_t *cert; /* certificate of this block (as stored at commit/sync) */
    size_t cert_len;
};

struct node {
    int idx;
    struct qcn_pos *pos;
    int up;
    int armed;
    uint64_t timer_at;
    struct chainrec chain[MAXB]; /* chain[0] = genesis */
    uint64_t head;
    char wal[128];
    int fault;
};

struct qmsg {
    uint64_t at;
    int to, from, tamper;
    uint8_t kind;
    uint8_t *p;
    size_t len;
};

static struct {
    uint64_t now, rng;
    struct node nodes[N];
    struct qmsg q[MAXQ];
    size_t nq;
    uint8_t pk[N][QCN_VOTE_PK_BYTES], sk[N][QCN_VOTE_SK_BYTES];
    uint8_t seed[N][32];
    uint8_t tips[N][32];
    /* staking-driven sets (test_slashed_validator_dropped): the chain's
     * staking state, shared, advanced once per height */
    int partitioned;
    int group[N];
    int full_sync; /* sync_from_peers copies up to the peer's head */
    int use_staking;
    struct qcn_staking stk;
    uint64_t stk_height;
    struct qcn_valset sets[MAXB];
    int have_set[MAXB];
    size_t evidence_applied;
    struct qcn_buf valset;
    struct qcn_valset vs;
    char dir[64];
    /* compact proposals (test_compact_proposals): hosts with get_tx and
     * send_to; every block carries the NTX transactions below, and node i's
     * pool holds transaction k iff pooled[i][k] */
    int compact;
    uint8_t *tx[NTX];
    size_t txlen[NTX];
    uint8_t txhash[NTX][32];
    int pooled[N][NTX];
    size_t tampered, refused;
} S;

static uint64_t rnd(void)
{
    S.rng ^= S.rng << 13;
    S.rng ^= S.rng >> 7;
    S.rng ^= S.rng << 17;
    return S.rng;
}

/* ---- host ---- */

static uint64_t h_now(void *ctx)
{
    (void)ctx;
    return S.now;
}

static void h_timer_set(void *ctx, uint64_t d)
{
    struct node *n = ctx;
    n->armed = 1;
    n->timer_at = S.now + d;
}

static void h_timer_cancel(void *ctx)
{
    struct node *n = ctx;
    n->armed = 0;
}

static void h_head(void *ctx, uint64_t *height, uint8_t hash[32])
{
    struct node *n = ctx;
    *height = n->head;
    memcpy(hash, n->chain[n->head].hash, 32);
}

static int h_get_header(void *ctx, uint64_t height, struct qcn_header *out)
{
    struct node *n = ctx;
    struct qcn_block b;
    int err;
    if (height > n->head)
        return QCN_ERR_NOT_FOUND;
    err = qcn_block_decode(&b, qcn_view_make(n->chain[height].blk, n->chain[height].len));
    if (err != QCN_OK)
        return err;
    err = qcn_header_copy(out, &b.header);
    qcn_block_clear(&b);
    return err;
}

static int h_get_head_commit(void *ctx, struct qcn_buf *out)
{
    struct node *n = ctx;
    if (n->chain[n->head].cert == NULL)
        return QCN_ERR_NOT_FOUND;
    return qcn_buf_append(out, n->chain[n->head].cert, n->chain[n->head].cert_len);
}

/* transactions_root of the compact test's blocks (docs/protocol.md §8). */
static void tx_root(uint8_t root[32])
{
    struct qcn_mpt_kv kv[NTX];
    uint8_t keys[NTX][2];
    size_t k;
    for (k = 0; k < NTX; k++) {
        /* RLP(k): 0x80 for 0, the byte itself below 0x80 */
        keys[k][0] = k == 0 ? 0x80 : (uint8_t)k;
        kv[k].key = keys[k];
        kv[k].key_len = 1;
        kv[k].value = S.txhash[k];
        kv[k].value_len = 32;
    }
    assert_int_equal(qcn_mpt_root(root, kv, NTX), QCN_OK);
}

static int h_build(void *ctx, const struct qcn_pos_build *a, struct qcn_buf *out, uint8_t hash[32])
{
    struct node *n = ctx;
    struct qcn_block b;
    int err;
    memset(&b, 0, sizeof b);
    memcpy(b.header.parent_hash, n->chain[n->head].hash, 32);
    b.header.height = a->height;
    b.header.timestamp = S.now / 1000;
    memcpy(b.header.proposer, a->proposer, 20);
    memcpy(b.header.mix, a->mix, 32);
    b.header.gas_limit = 30000000;
    b.header.base_fee = 7;
    memcpy(b.header.extra, a->extra, a->extra_len);
    b.header.extra_len = a->extra_len;
    memset(b.header.state_root, n->idx + 1, 32); /* proposals differ between proposers */
    if ((err = qcn_header_set_commit(&b.header, a->commit, a->commit_len)) != QCN_OK)
        return err;
    if (S.compact) {
        size_t k;
        b.txs = calloc(NTX, sizeof *b.txs);
        assert_non_null(b.txs);
        for (k = 0; k < NTX; k++)
            assert_int_equal(qcn_tx_decode(&b.txs[b.ntx++], qcn_view_make(S.tx[k], S.txlen[k])),
                             QCN_OK);
        tx_root(b.header.tx_root);
    }
    err = qcn_block_encode(out, &b);
    if (err == QCN_OK)
        err = qcn_header_hash(hash, &b.header);
    qcn_block_clear(&b);
    return err;
}

static int h_check(void *ctx, const uint8_t *blk, size_t len)
{
    struct node *n = ctx;
    struct qcn_block b;
    int err = qcn_block_decode(&b, qcn_view_make(blk, len));
    if (err != QCN_OK)
        return err;
    if (b.header.height != n->head + 1 || memcmp(b.header.parent_hash, n->chain[n->head].hash, 32))
        err = QCN_ERR_BLOCK_PARENT;
    if (S.compact) {
        /* every byte of every transaction is there, in order */
        size_t k;
        assert_int_equal(b.ntx, NTX);
        for (k = 0; k < NTX; k++)
            assert_memory_equal(b.txs[k]->hash, S.txhash[k], 32);
    }
    qcn_block_clear(&b);
    return err;
}

static void store(struct node *n, const uint8_t *blk, size_t len, const uint8_t *hash,
                  const uint8_t *cert, size_t cert_len)
{
    struct chainrec *c = &n->chain[n->head + 1];
    assert_true(n->head + 1 < MAXB);
    c->blk = malloc(len);
    memcpy(c->blk, blk, len);
    c->len = len;
    memcpy(c->hash, hash, 32);
    c->cert = malloc(cert_len ? cert_len : 1);
    memcpy(c->cert, cert, cert_len);
    c->cert_len = cert_len;
    n->head++;
}

static void set_from_staking(struct qcn_valset *out)
{
    size_t idx[QCN_STAKING_MAX_CANDIDATES], n, i;
    qcn_valset_init(out);
    n = qcn_staking_active(&S.stk, idx, QCN_STAKING_MAX_CANDIDATES);
    for (i = 0; i < n; i++) {
        const struct qcn_staking_validator *v = &S.stk.val[idx[i]];
        assert_int_equal(qcn_valset_add(out, v->pubkey, qcn_staking_power(v), v->beacon_tip),
                         QCN_OK);
    }
}

/* The set of a height is fixed the first time anyone asks (the chain's
 * state at that height's start), then the same for every node. */
static int h_get_valset(void *ctx, uint64_t height, struct qcn_valset *out)
{
    (void)ctx;
    assert_true(height < MAXB);
    if (!S.have_set[height]) {
        if (height > 1 && S.have_set[height - 1] && (height - 1) % 5 != 0)
            assert_int_equal(qcn_valset_copy(&S.sets[height], &S.sets[height - 1]), QCN_OK);
        else
            set_from_staking(&S.sets[height]);
        S.have_set[height] = 1;
    }
    return qcn_valset_copy(out, &S.sets[height]);
}

/* The ledger's part, once per height: evidence any node holds is included
 * (a staking evidence transaction), then end of block (epoch every 5). */
static void staking_advance(uint64_t height)
{
    struct qcn_staking_payouts po;
    uint8_t signers[N][20];
    size_t i, k, n = 0;
    if (height <= S.stk_height)
        return;
    S.stk_height = height;
    for (k = 0; k < N; k++) {
        struct qcn_pos_status st;
        if (!S.nodes[k].up || S.nodes[k].pos == NULL)
            continue;
        qcn_pos_status_get(S.nodes[k].pos, &st);
        for (i = 0; i < st.evidence; i++) {
            struct qcn_buf ev, tx;
            struct qcn_staking_credits cr;
            size_t l;
            qcn_buf_init(&ev, QCN_EVIDENCE_MAX_BYTES);
            qcn_buf_init(&tx, QCN_EVIDENCE_MAX_BYTES + 64);
            assert_int_equal(qcn_pos_evidence_get(S.nodes[k].pos, i, &ev), QCN_OK);
            l = qcn_rlp_list_begin(&tx);
            assert_int_equal(qcn_rlp_put_u64(&tx, QCN_STAKING_EVIDENCE), QCN_OK);
            assert_int_equal(qcn_rlp_put_raw(&tx, ev.p, ev.len), QCN_OK);
            assert_int_equal(qcn_rlp_list_end(&tx, l), QCN_OK);
            /* punished once: later copies of the same offence are refused */
            if (qcn_staking_apply_tx(&S.stk, CHAIN_ID, height, S.nodes[k].chain[0].hash, 0, tx.p,
                                     tx.len, &cr) == QCN_OK)
                S.evidence_applied++;
            qcn_buf_clear(&ev);
            qcn_buf_clear(&tx);
        }
    }
    for (i = 0; i < S.stk.nval; i++)
        if (S.stk.val[i].active && n < N)
            memcpy(signers[n++], S.stk.val[i].identity, 20);
    assert_int_equal(
        qcn_staking_end_block(&S.stk, height, 0, (const uint8_t(*)[20])signers, n, &po), QCN_OK);
    free(po.c);
}

static int h_commit(void *ctx, const uint8_t *blk, size_t len, const uint8_t *cert, size_t cert_len)
{
    struct node *n = ctx;
    struct qcn_block b;
    int err = h_check(ctx, blk, len);
    if (err != QCN_OK)
        return err;
    assert_int_equal(qcn_block_decode(&b, qcn_view_make(blk, len)), QCN_OK);
    /* the certificate the engine hands over verifies */
    assert_int_equal(qcn_commit_verify(S.use_staking ? &S.sets[b.header.height] : &S.vs, CHAIN_ID,
                                       b.header.height, b.hash, qcn_view_make(cert, cert_len),
                                       NULL),
                     QCN_OK);
    store(n, blk, len, b.hash, cert, cert_len);
    if (S.use_staking)
        staking_advance(b.header.height);
    qcn_block_clear(&b);
    return QCN_OK;
}

static void send_one(struct node *n, int i, uint8_t kind, const uint8_t *p, size_t len)
{
    struct qmsg *m;
    if (i == n->idx || !S.nodes[i].up)
        return;
    /* a partition drops every message between the two groups */
    if (S.partitioned && S.group[i] != S.group[n->idx])
        return;
    if (S.compact && i == 3 && kind == QCN_POS_MSG_COMPACT && len >= NTX * 32 && S.nq + 1 < MAXQ) {
        /* a tampered copy ahead of the genuine one: two hashes swapped */
        uint8_t tmp[32], *h;
        m = &S.q[S.nq++];
        m->at = S.now + 1;
        m->to = i;
        m->from = n->idx;
        m->kind = kind;
        m->p = malloc(len);
        memcpy(m->p, p, len);
        m->len = len;
        h = m->p + len - NTX * 32;
        memcpy(tmp, h, 32);
        memcpy(h, h + 32, 32);
        memcpy(h + 32, tmp, 32);
        m->tamper = 1;
        S.tampered++;
    }
    assert_true(S.nq < MAXQ);
    m = &S.q[S.nq++];
    m->at = S.now + 5 + rnd() % 40;
    m->to = i;
    m->from = n->idx;
    m->tamper = 0;
    m->kind = kind;
    m->p = malloc(len);
    memcpy(m->p, p, len);
    m->len = len;
}

static void h_broadcast(void *ctx, uint8_t kind, const uint8_t *p, size_t len)
{
    struct node *n = ctx;
    int i;
    for (i = 0; i < N; i++)
        send_one(n, i, kind, p, len);
}

/* Peers are named by a 20-byte id whose first byte is the node's index. */
static void h_send_to(void *ctx, const uint8_t peer[QCN_POS_PEER_BYTES], uint8_t kind,
                      const uint8_t *p, size_t len)
{
    assert_true(peer[0] < N);
    send_one(ctx, peer[0], kind, p, len);
}

static int h_get_tx(void *ctx, const uint8_t hash[32], struct qcn_buf *out)
{
    struct node *n = ctx;
    size_t k;
    for (k = 0; k < NTX; k++)
        if (S.pooled[n->idx][k] && memcmp(S.txhash[k], hash, 32) == 0)
            return qcn_buf_append(out, S.tx[k], S.txlen[k]);
    return QCN_ERR_NOT_FOUND;
}

static void node_boot(struct node *n)
{
    struct qcn_pos_host h = {n,
                             h_now,
                             h_timer_set,
                             h_timer_cancel,
                             h_head,
                             h_get_header,
                             h_get_head_commit,
                             h_build,
                             h_check,
                             h_commit,
                             h_broadcast,
                             S.use_staking ? h_get_valset : NULL,
                             S.compact ? h_get_tx : NULL,
                             S.compact ? h_send_to : NULL};
    struct qcn_pos_config c;
    memset(&c, 0, sizeof c);
    c.chain_id = CHAIN_ID;
    c.validators = S.valset.p;
    c.validators_len = S.valset.len;
    c.has_key = 1;
    memcpy(c.sk, S.sk[n->idx], sizeof c.sk);
    memcpy(c.pk, S.pk[n->idx], sizeof c.pk);
    memcpy(c.beacon_seed, S.seed[n->idx], 32);
    c.beacon_length = 1000;
    c.wal_path = n->wal;
    c.fault_double_sign = n->fault;
    c.block_interval_ms = 1000;
    {
        /* the simulated network delivers in 5-45 ms: a 1 s propose timeout
         * (the heights these tests count on with a proposer down) */
        struct qcn_tm_config t = {1000, 500, 500, 250, 500, 250};
        c.timeouts = t;
    }
    assert_int_equal(qcn_pos_new(&n->pos, &h, &c), QCN_OK);
    n->up = 1;
    n->armed = 0;
    assert_int_equal(qcn_pos_start(n->pos), QCN_OK);
}

static void node_kill(struct node *n)
{
    qcn_pos_free(n->pos);
    n->pos = NULL;
    n->up = 0;
    n->armed = 0;
}

/* Block sync stand-in: a node behind a peer copies the peer's blocks with
 * their certificates, each checked with qcn_pos_verify_synced first. */
static void sync_from_peers(struct node *n)
{
    int i;
    for (i = 0; i < N; i++) {
        struct node *o = &S.nodes[i];
        int moved = 0;
        if (!o->up || o == n || (S.partitioned && S.group[o->idx] != S.group[n->idx]))
            continue;
        while (o->head > n->head + !S.full_sync) { /* leave the last height to consensus */
            struct chainrec *c = &o->chain[n->head + 1];
            struct qcn_block b;
            assert_int_equal(qcn_block_decode(&b, qcn_view_make(c->blk, c->len)), QCN_OK);
            assert_int_equal(qcn_pos_verify_synced(n->pos, &b, c->cert, c->cert_len), QCN_OK);
            store(n, c->blk, c->len, b.hash, c->cert, c->cert_len);
            qcn_block_clear(&b);
            moved = 1;
        }
        if (moved)
            qcn_pos_on_head_changed(n->pos);
    }
}

static void run_until(uint64_t until)
{
    uint64_t next_sync = S.now + 500;
    while (S.now < until) {
        uint64_t t = until;
        size_t i, best = SIZE_MAX;
        int ti = -1;
        for (i = 0; i < S.nq; i++)
            if (S.q[i].at < t) {
                t = S.q[i].at;
                best = i;
            }
        for (i = 0; i < N; i++)
            if (S.nodes[i].up && S.nodes[i].armed && S.nodes[i].timer_at < t) {
                t = S.nodes[i].timer_at;
                ti = (int)i;
                best = SIZE_MAX;
            }
        if (next_sync < t) {
            S.now = next_sync;
            for (i = 0; i < N; i++)
                if (S.nodes[i].up)
                    sync_from_peers(&S.nodes[i]);
            next_sync += 500;
            continue;
        }
        S.now = t;
        if (ti >= 0) {
            S.nodes[ti].armed = 0;
            qcn_pos_on_timer(S.nodes[ti].pos);
        } else if (best != SIZE_MAX) {
            struct qmsg m = S.q[best];
            S.q[best] = S.q[--S.nq];
            uint8_t from[QCN_POS_PEER_BYTES] = {0};
            from[0] = (uint8_t)m.from;
            if (S.nodes[m.to].up) {
                int err = qcn_pos_on_peer_message(S.nodes[m.to].pos, from, m.kind, m.p, m.len);
                if (m.tamper && err == QCN_ERR_CODEC)
                    S.refused++;
                else
                    assert_int_equal(err, QCN_OK);
            }
            free(m.p);
        }
    }
}

static void check_no_fork(void)
{
    int i, j;
    uint64_t h;
    for (i = 0; i < N; i++)
        for (j = i + 1; j < N; j++)
            for (h = 1; h <= S.nodes[i].head && h <= S.nodes[j].head; h++)
                assert_memory_equal(S.nodes[i].chain[h].hash, S.nodes[j].chain[h].hash, 32);
}

static uint64_t min_head(int skip_a, int skip_b)
{
    uint64_t m = UINT64_MAX;
    int i;
    for (i = 0; i < N; i++)
        if (i != skip_a && i != skip_b && S.nodes[i].head < m)
            m = S.nodes[i].head;
    return m;
}

static uint64_t max_head(void)
{
    uint64_t m = 0;
    int i;
    for (i = 0; i < N; i++)
        if (S.nodes[i].head > m)
            m = S.nodes[i].head;
    return m;
}

static int setup_net(int fault_node)
{
    struct qcn_beacon_chain ch;
    struct qcn_block g;
    int i;
    memset(&S, 0, sizeof S);
    S.rng = 0x1234567;
    /* tmpfs when there is one: the WAL's fsyncs are real but cheap there */
    snprintf(S.dir, sizeof S.dir, "%s/qcn-pos-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(S.dir) == NULL)
        return -1;
    qcn_valset_init(&S.vs);
    for (i = 0; i < N; i++) {
        uint8_t kseed[32];
        memset(kseed, 0x70 + i, 32);
        if (qcn_mldsa_keygen(QCN_MLDSA65, S.pk[i], S.sk[i], kseed) != QCN_OK)
            return -1;
        memset(S.seed[i], 0x90 + i, 32);
        if (qcn_beacon_chain_init(&ch, S.seed[i], 1000) != QCN_OK)
            return -1;
        if (qcn_valset_add(&S.vs, S.pk[i], 100 + 10 * (uint64_t)i, ch.tip) != QCN_OK)
            return -1;
        memcpy(S.tips[i], ch.tip, 32);
        qcn_beacon_chain_clear(&ch);
    }
    qcn_buf_init(&S.valset, 1u << 20);
    if (qcn_valset_encode(&S.valset, &S.vs) != QCN_OK)
        return -1;
    /* the same genesis block everywhere */
    memset(&g, 0, sizeof g);
    g.header.gas_limit = 30000000;
    memset(g.header.mix, 0x11, 32);
    for (i = 0; i < N; i++) {
        struct node *n = &S.nodes[i];
        struct qcn_buf b;
        n->idx = i;
        n->fault = i == fault_node;
        snprintf(n->wal, sizeof n->wal, "%s/wal%d", S.dir, i);
        qcn_buf_init(&b, 1u << 20);
        if (qcn_block_encode(&b, &g) != QCN_OK || qcn_header_hash(n->chain[0].hash, &g.header))
            return -1;
        n->chain[0].blk = malloc(b.len);
        memcpy(n->chain[0].blk, b.p, b.len);
        n->chain[0].len = b.len;
        qcn_buf_clear(&b);
    }
    return 0;
}

static void teardown_net(void)
{
    int i;
    uint64_t h;
    char path[160];
    for (i = 0; i < N; i++) {
        struct node *n = &S.nodes[i];
        if (n->pos)
            qcn_pos_free(n->pos);
        for (h = 0; h < MAXB; h++) {
            free(n->chain[h].blk);
            free(n->chain[h].cert);
        }
        snprintf(path, sizeof path, "%s/wal%d", S.dir, i);
        unlink(path);
        snprintf(path, sizeof path, "%s/wal%d.tmp", S.dir, i);
        unlink(path);
    }
    for (h = 0; h < S.nq; h++)
        free(S.q[h].p);
    for (h = 0; h < NTX; h++)
        free(S.tx[h]);
    rmdir(S.dir);
    for (h = 0; h < MAXB; h++)
        qcn_valset_clear(&S.sets[h]);
    qcn_staking_clear(&S.stk);
    qcn_buf_clear(&S.valset);
    qcn_valset_clear(&S.vs);
}

static void test_finality_and_certificates(void **state)
{
    uint64_t h;
    int i, proposers[N] = {0};
    (void)state;
    assert_int_equal(setup_net(-1), 0);
    for (i = 0; i < N; i++)
        node_boot(&S.nodes[i]);
    run_until(30000);
    assert_true(min_head(-1, -1) >= 8);
    check_no_fork();
    /* block h + 1 carries the certificate of block h, and it verifies */
    for (h = 2; h <= S.nodes[0].head; h++) {
        struct qcn_block b;
        struct chainrec *c = &S.nodes[0].chain[h];
        assert_int_equal(qcn_block_decode(&b, qcn_view_make(c->blk, c->len)), QCN_OK);
        assert_int_equal(qcn_commit_verify(&S.vs, CHAIN_ID, h - 1, S.nodes[0].chain[h - 1].hash,
                                           qcn_view_make(b.header.commit, b.header.commit_len),
                                           NULL),
                         QCN_OK);
        proposers[qcn_valset_find(&S.vs, b.header.proposer)]++;
        qcn_block_clear(&b);
    }
    /* the beacon spreads the proposer role */
    for (i = 0, h = 0; i < N; i++)
        h += proposers[i] > 0;
    assert_true(h >= 2);
    teardown_net();
}

static void test_crash_one_two_and_restart(void **state)
{
    uint64_t h1, h2, h3;
    int i;
    (void)state;
    assert_int_equal(setup_net(-1), 0);
    for (i = 0; i < N; i++)
        node_boot(&S.nodes[i]);
    run_until(10000);
    assert_true(min_head(-1, -1) >= 3);

    /* one of four down (the lightest): the rest, 340 of 460 > 2/3, go on */
    node_kill(&S.nodes[0]);
    h1 = min_head(0, -1);
    run_until(40000);
    assert_true(min_head(0, -1) >= h1 + 3);
    check_no_fork();

    /* a second down: 230 of 460 is not > 2/3: nothing is finalized */
    node_kill(&S.nodes[1]);
    run_until(42000); /* let in-flight messages settle */
    h2 = max_head();
    run_until(80000);
    assert_int_equal(max_head(), h2);
    check_no_fork();

    /* both back as fresh engines over their WAL and chain: progress resumes
     * and they catch up */
    node_boot(&S.nodes[0]);
    node_boot(&S.nodes[1]);
    run_until(160000);
    h3 = min_head(-1, -1);
    assert_true(h3 >= h2 + 3);
    check_no_fork();
    {
        struct qcn_pos_status st;
        for (i = 0; i < N; i++) {
            qcn_pos_status_get(S.nodes[i].pos, &st);
            assert_int_equal(st.equivocations, 0);
            assert_int_equal(st.bad_msgs, 0);
        }
    }
    teardown_net();
}

static void test_double_sign_caught(void **state)
{
    struct qcn_pos_status st;
    struct qcn_buf b;
    struct qcn_evidence e;
    int i, idx;
    (void)state;
    assert_int_equal(setup_net(2), 0);
    for (i = 0; i < N; i++)
        node_boot(&S.nodes[i]);
    run_until(20000);
    check_no_fork();
    assert_true(min_head(-1, -1) >= 4);
    qcn_pos_status_get(S.nodes[0].pos, &st);
    assert_true(st.evidence >= 1);
    qcn_buf_init(&b, QCN_EVIDENCE_MAX_BYTES);
    assert_int_equal(qcn_pos_evidence_get(S.nodes[0].pos, 0, &b), QCN_OK);
    assert_int_equal(qcn_evidence_decode(&e, qcn_buf_view(&b)), QCN_OK);
    idx = qcn_valset_find(&S.vs, e.a.validator);
    assert_true(idx >= 0);
    /* the evidence names the faulty validator and both votes verify */
    {
        uint8_t a[20];
        qcn_address_from_key(a, QCN_SCHEME_MLDSA65, S.pk[2], QCN_VOTE_PK_BYTES);
        assert_memory_equal(e.a.validator, a, 20);
    }
    assert_int_equal(qcn_vote_verify(&e.a, S.vs.v[idx].pubkey), QCN_OK);
    assert_int_equal(qcn_vote_verify(&e.b, S.vs.v[idx].pubkey), QCN_OK);
    qcn_buf_clear(&b);
    teardown_net();
}

/* The double signer is caught, its evidence included and verified by
 * staking, it is slashed and tombstoned, and from the next epoch it is no
 * longer in the set: the chain goes on with the other three, never forks,
 * and no later certificate carries its signature. */
static void test_slashed_validator_dropped(void **state)
{
    struct qcn_staking_params sp;
    uint8_t faulty[20];
    uint64_t h, dropped_at = 0;
    int i;
    (void)state;
    assert_int_equal(setup_net(2), 0);
    S.use_staking = 1;
    qcn_staking_params_default(&sp);
    sp.min_self_stake = QCN_STAKING_GWEI_PER_COIN;
    sp.epoch_length = 5;
    sp.max_validators = 4;
    sp.issuance_per_block = 0;
    qcn_staking_init(&S.stk, &sp);
    for (i = 0; i < N; i++) {
        uint8_t a[20];
        qcn_address_from_key(a, QCN_SCHEME_MLDSA65, S.pk[i], QCN_VOTE_PK_BYTES);
        assert_int_equal(
            qcn_staking_genesis_add(&S.stk, a, S.pk[i], S.tips[i],
                                    (100 + 10 * (uint64_t)i) * QCN_STAKING_GWEI_PER_COIN, 0),
            QCN_OK);
    }
    qcn_address_from_key(faulty, QCN_SCHEME_MLDSA65, S.pk[2], QCN_VOTE_PK_BYTES);
    for (i = 0; i < N; i++)
        node_boot(&S.nodes[i]);
    run_until(40000);
    check_no_fork();
    assert_true(S.evidence_applied >= 1);
    assert_true(qcn_staking_validator_get(&S.stk, faulty)->tombstoned);
    for (h = 1; h < MAXB && S.have_set[h]; h++) {
        int in = qcn_valset_find(&S.sets[h], faulty) >= 0;
        if (!in && dropped_at == 0)
            dropped_at = h;
        if (dropped_at)
            assert_false(in); /* never back */
    }
    assert_true(dropped_at > 1);
    assert_int_equal((dropped_at - 1) % 5, 0); /* at an epoch boundary */
    assert_true(min_head(-1, -1) >= dropped_at + 3);
    /* no certificate from the drop on names it */
    for (h = dropped_at + 1; h <= S.nodes[0].head; h++) {
        struct qcn_block b;
        struct qcn_commit c;
        size_t k;
        struct chainrec *cr = &S.nodes[0].chain[h];
        assert_int_equal(qcn_block_decode(&b, qcn_view_make(cr->blk, cr->len)), QCN_OK);
        assert_int_equal(qcn_commit_decode(&c, qcn_view_make(b.header.commit, b.header.commit_len)),
                         QCN_OK);
        for (k = 0; k < c.nsigs; k++)
            assert_memory_not_equal(c.sigs[k].validator, faulty, 20);
        qcn_commit_clear(&c);
        qcn_block_clear(&b);
    }
    teardown_net();
}

/* A partition 2 | 2 (neither side has 2/3): no side finalizes anything and
 * nothing forks; a 3 | 1 partition: the majority goes on, the single node
 * does not; healed: everyone catches up on one chain. */
static void test_partition(void **state)
{
    uint64_t h;
    int i;
    (void)state;
    assert_int_equal(setup_net(-1), 0);
    for (i = 0; i < N; i++)
        node_boot(&S.nodes[i]);
    run_until(8000);
    assert_true(min_head(-1, -1) >= 2);
    S.partitioned = 1;
    S.group[2] = S.group[3] = 1;
    run_until(10000); /* in-flight messages land */
    h = max_head();
    run_until(40000);
    assert_int_equal(max_head(), h);
    check_no_fork();
    /* 3 | 1: node 3 alone */
    S.group[2] = 0;
    run_until(70000);
    assert_true(min_head(3, -1) >= h + 3);
    assert_true(S.nodes[3].head <= h + 1);
    check_no_fork();
    /* healed */
    S.partitioned = 0;
    run_until(120000);
    assert_true(S.nodes[3].head + 1 >= max_head());
    assert_true(min_head(-1, -1) > h + 5);
    check_no_fork();
    teardown_net();
}

/* A node that was never up joins after the others made blocks: it syncs
 * every block with its certificate (qcn_pos_verify_synced) and then votes. */
static void test_late_joiner(void **state)
{
    uint64_t h;
    int i;
    (void)state;
    assert_int_equal(setup_net(-1), 0);
    for (i = 0; i < 3; i++)
        node_boot(&S.nodes[i]);
    run_until(40000);
    h = min_head(3, -1);
    assert_true(h >= 20);
    assert_int_equal(S.nodes[3].head, 0);
    node_boot(&S.nodes[3]);
    run_until(60000);
    assert_true(S.nodes[3].head >= h);
    check_no_fork();
    {
        struct qcn_pos_status st;
        qcn_pos_status_get(S.nodes[3].pos, &st);
        assert_true(st.is_validator);
        assert_true(st.committed >= 1); /* it decided blocks itself after syncing */
    }
    teardown_net();
}

/* The valset index of node i (the set is ordered its own way). */
static int node_of_index(uint32_t k)
{
    int i;
    for (i = 0; i < N; i++)
        if (memcmp(S.vs.v[k].pubkey, S.pk[i], QCN_VOTE_PK_BYTES) == 0)
            return i;
    return -1;
}

/* The liveness case CI once hit with real processes. A validator L falls
 * behind (cut off, as a stalled process is) while the others go on; it
 * misses the round-0 proposal and prevotes of a height whose proposer D
 * then dies right after prevoting. The two left lock on D's block (they saw
 * D's prevote), L cannot follow their re-proposal because the polka it
 * names includes D's prevote, which only the two hold: the paper's gossip
 * assumption (every message a correct validator received reaches every
 * correct one) must hold for other validators' votes too, or the three
 * alive never decide again. */
static void test_lagging_node_and_dead_proposer(void **state)
{
    const int L = 0;
    struct qcn_pos_status st;
    uint64_t H = 0;
    int i, D = -1;
    (void)state;
    assert_int_equal(setup_net(-1), 0);
    for (i = 0; i < N; i++)
        node_boot(&S.nodes[i]);
    run_until(6000);
    assert_true(min_head(-1, -1) >= 2);
    S.partitioned = 1;
    S.group[L] = 1;
    /* step until the others work on a height H >= L's + 2 whose round-0
     * proposer D is not L, and D has prevoted there */
    while (S.now < 200000) {
        int a = (L + 1) % N;
        run_until(S.now + 2);
        qcn_pos_status_get(S.nodes[a].pos, &st);
        if (st.height < S.nodes[L].head + 3 || st.round != 0 || st.height != S.nodes[a].head + 1)
            continue;
        if (D < 0 || H != st.height) {
            struct qcn_block b;
            struct chainrec *c = &S.nodes[a].chain[S.nodes[a].head];
            assert_int_equal(qcn_block_decode(&b, qcn_view_make(c->blk, c->len)), QCN_OK);
            D = node_of_index(qcn_valset_proposer(&S.vs, b.header.mix, st.height, 0));
            qcn_block_clear(&b);
            H = st.height;
        }
        if (D == L)
            continue;
        qcn_pos_status_get(S.nodes[D].pos, &st);
        if (st.height == H && st.round == 0 && st.step == 2 /* prevoted */)
            break;
    }
    assert_true(S.now < 200000);
    assert_true(D >= 0 && D != L);
    node_kill(&S.nodes[D]);
    S.partitioned = 0;
    S.full_sync = 1;
    run_until(S.now + 60000);
    /* the three alive decided H and went on, on one chain */
    for (i = 0; i < N; i++)
        if (i != D)
            assert_true(S.nodes[i].head >= H + 2);
    check_no_fork();
    teardown_net();
}

static int feed_vote(struct node *n, int key, uint64_t chain, uint64_t height, int flip,
                     const uint8_t *sk_override)
{
    struct qcn_vote v;
    struct qcn_buf b;
    int err;
    memset(&v, 0, sizeof v);
    v.chain_id = chain;
    v.height = height;
    v.type = QCN_VOTE_PREVOTE;
    qcn_address_from_key(v.validator, QCN_SCHEME_MLDSA65, S.pk[key], QCN_VOTE_PK_BYTES);
    assert_int_equal(qcn_vote_sign(&v, sk_override ? sk_override : S.sk[key], 1), QCN_OK);
    if (flip)
        v.sig[10] ^= 1;
    qcn_buf_init(&b, QCN_VOTE_MAX_BYTES);
    assert_int_equal(qcn_vote_encode(&b, &v), QCN_OK);
    err = qcn_pos_on_message(n->pos, QCN_POS_MSG_PREVOTE, b.p, b.len);
    qcn_buf_clear(&b);
    return err;
}

/* What a peer sends is checked before use: forged, foreign, malformed and
 * unknown messages are refused (p2p scores the sender down), stale ones are
 * harmless, and the chain is unaffected. */
static void test_forged_messages(void **state)
{
    struct qcn_pos_status st;
    struct node *n;
    uint8_t junk[64];
    static uint8_t opk[QCN_VOTE_PK_BYTES], osk[QCN_VOTE_SK_BYTES];
    uint8_t seed[32];
    int i;
    (void)state;
    assert_int_equal(setup_net(-1), 0);
    for (i = 0; i < N; i++)
        node_boot(&S.nodes[i]);
    run_until(5000);
    n = &S.nodes[0];
    qcn_pos_status_get(n->pos, &st);
    assert_int_equal(st.bad_msgs, 0);
    memset(junk, 0xc5, sizeof junk);
    assert_int_not_equal(qcn_pos_on_message(n->pos, QCN_POS_MSG_PREVOTE, junk, sizeof junk),
                         QCN_OK);
    assert_int_not_equal(qcn_pos_on_message(n->pos, QCN_POS_MSG_PROPOSAL, junk, sizeof junk),
                         QCN_OK);
    assert_int_not_equal(qcn_pos_on_message(n->pos, QCN_POS_MSG_EVIDENCE, junk, sizeof junk),
                         QCN_OK);
    assert_int_not_equal(qcn_pos_on_message(n->pos, 9, junk, sizeof junk), QCN_OK);
    /* forged signature, now and for the next height */
    assert_int_equal(feed_vote(n, 1, CHAIN_ID, st.height, 1, NULL), QCN_ERR_BAD_SIGNATURE);
    assert_int_equal(feed_vote(n, 1, CHAIN_ID, st.height + 1, 1, NULL), QCN_ERR_BAD_SIGNATURE);
    /* another chain */
    assert_int_not_equal(feed_vote(n, 1, CHAIN_ID + 1, st.height, 0, NULL), QCN_OK);
    /* a key outside the set, claiming validator 1's address */
    memset(seed, 0xee, 32);
    assert_int_equal(qcn_mldsa_keygen(QCN_MLDSA65, opk, osk, seed), QCN_OK);
    assert_int_equal(feed_vote(n, 1, CHAIN_ID, st.height, 0, osk), QCN_ERR_BAD_SIGNATURE);
    qcn_pos_status_get(n->pos, &st);
    assert_int_equal(st.bad_msgs, 8);
    /* a genuine but stale vote is fine */
    assert_int_equal(feed_vote(n, 1, CHAIN_ID, 1, 0, NULL), QCN_OK);
    run_until(15000);
    check_no_fork();
    assert_true(min_head(-1, -1) >= 6);
    teardown_net();
}

/* Compact proposals (docs/consensus.md §2.1): every block carries NTX
 * transactions; node 0 holds them all, node 1 most, node 2 a few, node 3
 * none. Every node finalizes the same blocks, each with every transaction
 * (h_check insists), fetching what its pool lacks from the peer that sent
 * the proposal; a tampered hash list is refused without judging the block. */
static void test_compact_proposals(void **state)
{
    struct qcn_pos_status st[N];
    uint64_t fetched = 0, served = 0, pooled = 0;
    int i, k;
    (void)state;
    assert_int_equal(setup_net(-1), 0);
    S.compact = 1;
    for (k = 0; k < NTX; k++) {
        struct qcn_tx_fields f;
        struct qcn_tx_sig sig;
        struct qcn_buf b;
        static uint8_t sigbytes[QCN_MLDSA65_SIG_BYTES];
        memset(&f, 0, sizeof f);
        f.chain_id = CHAIN_ID;
        f.nonce = (uint64_t)k;
        f.gas_limit = 21000;
        f.max_fee = 7;
        f.has_to = 1;
        memset(f.from, 0x33, 20);
        memset(f.to, 0x44, 20);
        f.scheme = QCN_SCHEME_MLDSA65;
        memset(sigbytes, k, sizeof sigbytes);
        sig.key_index = 0;
        sig.sig = qcn_view_make(sigbytes, sizeof sigbytes);
        qcn_buf_init(&b, QCN_TX_MAX_BYTES);
        assert_int_equal(qcn_tx_encode(&b, &f, qcn_view_make(NULL, 0), &sig, 1), QCN_OK);
        S.tx[k] = b.p;
        S.txlen[k] = b.len;
        qcn_keccak256(S.txhash[k], b.p, b.len);
        S.pooled[0][k] = 1;
        S.pooled[1][k] = k % 5 != 0;
        S.pooled[2][k] = k % 7 == 0;
    }
    for (i = 0; i < N; i++)
        node_boot(&S.nodes[i]);
    run_until(20000);
    check_no_fork();
    assert_true(min_head(-1, -1) >= 6);
    for (i = 0; i < N; i++) {
        qcn_pos_status_get(S.nodes[i].pos, &st[i]);
        assert_int_equal(st[i].bad_msgs, i == 3 ? S.refused : 0);
        assert_true(st[i].compact_in > 0);
        fetched += st[i].txs_fetched;
        served += st[i].txs_served;
        pooled += st[i].txs_from_pool;
    }
    assert_true(st[3].txs_fetched >= NTX);
    assert_int_equal(st[0].txs_fetched, 0);
    assert_true(pooled > 0);
    assert_true(served >= fetched && fetched > 0);

    /* node 3 got a tampered copy of every compact proposal first (two
     * hashes swapped by a "relayer"): those of a block it did not hold yet
     * were refused (the list does not give the header's transaction root)
     * without judging the block, and the genuine copy behind was taken (the
     * others came for a block already held or a past height: ignored) */
    assert_true(S.refused > 0 && S.refused <= S.tampered);
    assert_true(st[3].compact_in > 0);
    teardown_net();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finality_and_certificates),
        cmocka_unit_test(test_crash_one_two_and_restart),
        cmocka_unit_test(test_double_sign_caught),
        cmocka_unit_test(test_slashed_validator_dropped),
        cmocka_unit_test(test_partition),
        cmocka_unit_test(test_late_joiner),
        cmocka_unit_test(test_lagging_node_and_dead_proposer),
        cmocka_unit_test(test_forged_messages),
        cmocka_unit_test(test_compact_proposals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
