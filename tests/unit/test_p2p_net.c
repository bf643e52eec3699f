/* Unit tests for p2p/p2p over real 127.0.0.1 sockets: each node is a
 * qcn_p2p on its own libuv loop in its own thread, with an in-memory host
 * (a chain of empty blocks, a transaction pool). Attacks come from a raw
 * client in the test thread that speaks the protocol with p2p/secure.h over
 * a blocking socket and then misbehaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/keccak.h"
#include "crypto/rng.h"
#include "p2p/p2p.h"
#include "util/time.h"

#define CHAIN_ID 4242
#define MAX_BLOCKS 64
#define MAX_TXS 16
#define WAIT_MS 10000

/* ---- the in-memory host ---- */

struct host {
    uint64_t height;
    uint8_t hash[MAX_BLOCKS + 1][32];
    struct qcn_buf enc[MAX_BLOCKS + 1];
    int evil; /* serve blocks with a changed timestamp */
    size_t ntx;
    uint8_t txh[MAX_TXS][32];
    uint8_t *txb[MAX_TXS];
    size_t txlen[MAX_TXS];
    int tx_received;
    int synced_calls;
    uint64_t synced_height;
    int consensus_got;
    uint8_t consensus_kind;
    size_t consensus_len;
    int peers_up;
};

/* The canonical chain every honest host agrees on (what commit
 * certificates would prove): built once. */
static uint8_t truth[MAX_BLOCKS + 1][32];
static struct qcn_buf truth_enc[MAX_BLOCKS + 1];

static void build_truth(void)
{
    for (uint64_t h = 0; h <= MAX_BLOCKS; h++) {
        struct qcn_block b;
        memset(&b, 0, sizeof b);
        if (h > 0)
            memcpy(b.header.parent_hash, truth[h - 1], 32);
        b.header.height = h;
        b.header.timestamp = 1000 + h;
        b.header.gas_limit = 30000000;
        qcn_buf_init(&truth_enc[h], 1 << 20);
        assert_int_equal(qcn_header_hash(truth[h], &b.header), QCN_OK);
        assert_int_equal(qcn_block_encode(&truth_enc[h], &b), QCN_OK);
    }
}

static void host_init(struct host *h, uint64_t height)
{
    memset(h, 0, sizeof *h);
    h->height = height;
    for (uint64_t i = 0; i <= MAX_BLOCKS; i++)
        memcpy(h->hash[i], truth[i], 32);
}

static void host_clear(struct host *h)
{
    for (size_t i = 0; i < h->ntx; i++)
        free(h->txb[i]);
    h->ntx = 0;
}

static void cb_get_head(void *ctx, uint64_t *height, uint8_t hash[32])
{
    struct host *h = ctx;
    *height = h->height;
    memcpy(hash, h->hash[h->height], 32);
}

static int cb_get_block(void *ctx, uint64_t height, struct qcn_buf *block, struct qcn_buf *commit)
{
    struct host *h = ctx;
    (void)commit;
    if (height > h->height)
        return QCN_ERR_NOT_FOUND;
    if (h->evil) {
        struct qcn_block b;
        int err = qcn_block_decode(&b, qcn_buf_view(&truth_enc[height]));
        assert_int_equal(err, QCN_OK);
        b.header.timestamp += 7;
        err = qcn_block_encode(block, &b);
        qcn_block_clear(&b);
        return err;
    }
    return qcn_buf_append(block, truth_enc[height].p, truth_enc[height].len);
}

static int cb_apply_block(void *ctx, struct qcn_block *blk, const uint8_t *raw, size_t raw_len,
                          const uint8_t *commit, size_t len)
{
    struct host *h = ctx;
    (void)raw;
    (void)raw_len;
    (void)commit;
    (void)len;
    if (blk->header.height != h->height + 1 ||
        memcmp(blk->header.parent_hash, h->hash[h->height], 32) != 0)
        return QCN_ERR_BLOCK_PARENT;
    /* stands in for verifying the block and its commit certificate */
    if (blk->header.height > MAX_BLOCKS || memcmp(blk->hash, truth[blk->header.height], 32) != 0)
        return QCN_ERR_BLOCK_INVALID;
    h->height++;
    return QCN_OK;
}

static void cb_synced(void *ctx, uint64_t height)
{
    struct host *h = ctx;
    h->synced_calls++;
    h->synced_height = height;
}

static void cb_peer(void *ctx, const uint8_t id[20], int up)
{
    struct host *h = ctx;
    (void)id;
    h->peers_up += up ? 1 : -1;
}

static int host_has(struct host *h, const uint8_t hash[32])
{
    for (size_t i = 0; i < h->ntx; i++)
        if (memcmp(h->txh[i], hash, 32) == 0)
            return (int)i + 1;
    return 0;
}

static int cb_has_tx(void *ctx, const uint8_t hash[32])
{
    return host_has(ctx, hash) != 0;
}

static int cb_get_tx(void *ctx, const uint8_t hash[32], struct qcn_buf *out)
{
    struct host *h = ctx;
    int i = host_has(h, hash);
    if (i == 0)
        return QCN_ERR_NOT_FOUND;
    return qcn_buf_append(out, h->txb[i - 1], h->txlen[i - 1]);
}

static int host_add_tx(struct host *h, const uint8_t *raw, size_t len)
{
    if (h->ntx >= MAX_TXS)
        return QCN_ERR_TX_POOL_FULL;
    h->txb[h->ntx] = malloc(len);
    memcpy(h->txb[h->ntx], raw, len);
    h->txlen[h->ntx] = len;
    qcn_keccak256(h->txh[h->ntx], raw, len);
    h->ntx++;
    return QCN_OK;
}

/* ---- a node on its own loop thread ---- */

struct tnode {
    uv_loop_t loop;
    uv_async_t async;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void (*cmd)(struct tnode *, void *);
    void *arg;
    int cmd_pending;
    int quit;
    struct qcn_p2p_identity id;
    struct qcn_p2p_config cfg;
    struct host host;
    qcn_p2p *p;
    uint16_t port;
};

static int cb_on_tx(void *ctx, const uint8_t *raw, size_t len, const uint8_t peer[20])
{
    struct tnode *t = ctx;
    uint8_t h[32];
    (void)peer;
    t->host.tx_received++;
    if (len < 8)
        return QCN_ERR_TX_MALFORMED;
    if (host_add_tx(&t->host, raw, len) != QCN_OK)
        return QCN_ERR_TX_POOL_FULL;
    qcn_keccak256(h, raw, len);
    qcn_p2p_broadcast_tx_hash(t->p, h);
    return QCN_OK;
}

static int cb_consensus(void *ctx, const uint8_t peer[20], uint8_t kind, const uint8_t *p,
                        size_t len)
{
    struct tnode *t = ctx;
    (void)peer;
    t->host.consensus_got++;
    t->host.consensus_kind = kind;
    t->host.consensus_len = len;
    return len > 0 && p[0] == 0xff ? QCN_ERR_CONSENSUS : QCN_OK;
}

static void thunks(struct tnode *t, struct qcn_p2p_callbacks *cb)
{
    memset(cb, 0, sizeof *cb);
    cb->ctx = &t->host;
    cb->get_head = cb_get_head;
    cb->get_block = cb_get_block;
    cb->apply_block = cb_apply_block;
    cb->on_synced = cb_synced;
    cb->on_peer = cb_peer;
    cb->has_tx = cb_has_tx;
    cb->get_tx = cb_get_tx;
}

/* Callbacks that need the tnode get it through host: host is the first
 * field-independent member, so use container arithmetic. */
static struct tnode *host_node(struct host *h)
{
    return (struct tnode *)(void *)((char *)h - offsetof(struct tnode, host));
}
static int cb_on_tx_h(void *ctx, const uint8_t *raw, size_t len, const uint8_t peer[20])
{
    return cb_on_tx(host_node(ctx), raw, len, peer);
}
static int cb_consensus_h(void *ctx, const uint8_t peer[20], uint8_t kind, const uint8_t *p,
                          size_t len)
{
    return cb_consensus(host_node(ctx), peer, kind, p, len);
}

static void on_async(uv_async_t *a)
{
    struct tnode *t = a->data;
    pthread_mutex_lock(&t->mu);
    if (t->cmd_pending) {
        t->cmd(t, t->arg);
        t->cmd_pending = 0;
        pthread_cond_broadcast(&t->cv);
    }
    if (t->quit) {
        qcn_p2p_stop(t->p);
        uv_close((uv_handle_t *)&t->async, NULL);
    }
    pthread_mutex_unlock(&t->mu);
}

static void *node_thread(void *arg)
{
    struct tnode *t = arg;
    uv_run(&t->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* Runs fn(t, arg) on t's loop thread and waits for it. */
static void call(struct tnode *t, void (*fn)(struct tnode *, void *), void *arg)
{
    pthread_mutex_lock(&t->mu);
    t->cmd = fn;
    t->arg = arg;
    t->cmd_pending = 1;
    uv_async_send(&t->async);
    while (t->cmd_pending)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static void node_config(struct tnode *t, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(t, 0, sizeof *t);
    memset(seed, seed_byte, sizeof seed);
    assert_int_equal(qcn_p2p_identity_from_seed(&t->id, seed), QCN_OK);
    qcn_p2p_config_default(&t->cfg);
    t->cfg.chain_id = CHAIN_ID;
    memcpy(t->cfg.genesis_hash, truth[0], 32);
    t->cfg.identity = &t->id;
    snprintf(t->cfg.listen, sizeof t->cfg.listen, "127.0.0.1:0");
    t->cfg.dial_backoff_min_ms = 100;
    t->cfg.dial_backoff_max_ms = 400;
    t->cfg.sync_timeout_ms = 3000;
    t->cfg.pex_interval_ms = 200;
    host_init(&t->host, 0);
}

/* Three nodes meant to stay a line a - b - c (b dials a, c dials b). Every
 * new connection asks its peer for addresses, so a and c would learn of each
 * other and connect: outbound dials are capped (a none, b and c one each)
 * and periodic peer exchange is off, so the test's counts stay exact. */
static void node_config_line(struct tnode *a, struct tnode *b, struct tnode *c)
{
    node_config(a, 1);
    node_config(b, 2);
    node_config(c, 3);
    a->cfg.max_outbound = 0;
    b->cfg.max_outbound = 1;
    c->cfg.max_outbound = 1;
    a->cfg.pex_interval_ms = UINT64_MAX;
    b->cfg.pex_interval_ms = UINT64_MAX;
    c->cfg.pex_interval_ms = UINT64_MAX;
}

static void node_start(struct tnode *t)
{
    struct qcn_p2p_callbacks cb;
    assert_int_equal(uv_loop_init(&t->loop), 0);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    thunks(t, &cb);
    cb.on_tx = cb_on_tx_h;
    cb.on_consensus = cb_consensus_h;
    assert_int_equal(qcn_p2p_new(&t->p, &t->loop, &t->cfg, &cb), QCN_OK);
    assert_int_equal(qcn_p2p_start(t->p), QCN_OK);
    t->port = qcn_p2p_listen_port(t->p);
    assert_true(t->port != 0);
    t->async.data = t;
    assert_int_equal(uv_async_init(&t->loop, &t->async, on_async), 0);
    assert_int_equal(pthread_create(&t->th, NULL, node_thread, t), 0);
}

static void node_stop(struct tnode *t)
{
    pthread_mutex_lock(&t->mu);
    t->quit = 1;
    uv_async_send(&t->async);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->th, NULL);
    assert_true(qcn_p2p_closed(t->p));
    qcn_p2p_free(t->p);
    assert_int_equal(uv_loop_close(&t->loop), 0);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    host_clear(&t->host);
    qcn_p2p_identity_clear(&t->id);
}

/* Snapshots taken on the loop thread. */
struct snap {
    struct qcn_p2p_stats st;
    size_t npeers;
    struct qcn_p2p_peer_info peers[8];
    struct host host;
};
static void do_snap(struct tnode *t, void *arg)
{
    struct snap *s = arg;
    qcn_p2p_stats_get(t->p, &s->st);
    s->npeers = qcn_p2p_peers(t->p, s->peers, 8);
    s->host = t->host;
}
static void snap(struct tnode *t, struct snap *s)
{
    call(t, do_snap, s);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls pred on a snapshot until it holds or WAIT_MS passes. */
static int wait_for(struct tnode *t, int (*pred)(const struct snap *, const void *), const void *a)
{
    static struct snap s;
    uint64_t end = qcn_time_mono_ms() + WAIT_MS;
    while (qcn_time_mono_ms() < end) {
        snap(t, &s);
        if (pred(&s, a))
            return 1;
        sleep_ms(10);
    }
    return 0;
}

static int p_peers(const struct snap *s, const void *a)
{
    return s->npeers == *(const size_t *)a;
}
/* n peers, each of whose STATUS was heard: only then do broadcasts reach
 * them (a handshake done on one side may still be in flight on the other). */
static int p_ready(const struct snap *s, const void *a)
{
    size_t n = *(const size_t *)a;
    if (s->npeers != n)
        return 0;
    for (size_t i = 0; i < n && i < 8; i++)
        if (!s->peers[i].ready)
            return 0;
    return 1;
}
static int p_hs_failed(const struct snap *s, const void *a)
{
    return s->st.handshakes_failed >= *(const uint64_t *)a;
}

static void do_dial(struct tnode *t, void *arg)
{
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)*(uint16_t *)arg);
    assert_int_equal(qcn_p2p_dial(t->p, addr), QCN_OK);
}

static int setup(void **state)
{
    (void)state;
    build_truth();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i <= MAX_BLOCKS; i++)
        qcn_buf_clear(&truth_enc[i]);
    return 0;
}

static struct tnode na, nb, nc;

static void test_handshake_ids(void **state)
{
    (void)state;
    static struct snap sa, sb;
    size_t one = 1;
    node_config(&na, 1);
    node_config(&nb, 2);
    node_start(&na);
    node_start(&nb);
    call(&nb, do_dial, &na.port);
    assert_true(wait_for(&na, p_peers, &one));
    assert_true(wait_for(&nb, p_peers, &one));
    snap(&na, &sa);
    snap(&nb, &sb);
    assert_memory_equal(sa.peers[0].node_id, nb.id.node_id, 20);
    assert_memory_equal(sb.peers[0].node_id, na.id.node_id, 20);
    assert_true(sa.peers[0].inbound);
    assert_false(sb.peers[0].inbound);
    assert_int_equal(sa.peers[0].version, QCN_P2P_VERSION);
    assert_int_equal(sa.st.handshakes_ok, 1);
    node_stop(&nb);
    node_stop(&na);
}

static void refused_case(void (*tweak)(struct tnode *))
{
    size_t zero = 0;
    uint64_t one = 1;
    static struct snap s;
    node_config(&na, 1);
    node_config(&nb, 2);
    tweak(&nb);
    node_start(&na);
    node_start(&nb);
    call(&nb, do_dial, &na.port);
    assert_true(wait_for(&na, p_hs_failed, &one) || wait_for(&nb, p_hs_failed, &one));
    snap(&na, &s);
    assert_int_equal(s.npeers, 0);
    assert_int_equal(s.st.handshakes_ok, 0);
    /* b ends with no peer (an initiator whose own signature is bad learns
     * it when the responder hangs up) */
    assert_true(wait_for(&nb, p_peers, &zero));
    node_stop(&nb);
    node_stop(&na);
}

static void tweak_bad_sig(struct tnode *t)
{
    t->cfg.faults = QCN_P2P_FAULT_BAD_SIG;
}
static void tweak_downgrade(struct tnode *t)
{
    t->cfg.version = 0;
    t->cfg.min_version = 0;
}
static void tweak_chain(struct tnode *t)
{
    t->cfg.chain_id = CHAIN_ID + 1;
}

static void test_refused(void **state)
{
    (void)state;
    refused_case(tweak_bad_sig);
    refused_case(tweak_downgrade);
    refused_case(tweak_chain);
}

static void test_self_connect(void **state)
{
    (void)state;
    static struct snap s;
    uint64_t one = 1;
    node_config(&na, 1);
    node_start(&na);
    call(&na, do_dial, &na.port);
    assert_true(wait_for(&na, p_hs_failed, &one) || (snap(&na, &s), s.st.handshakes_ok == 0));
    sleep_ms(600); /* several dial periods: a self entry is never dialled again */
    snap(&na, &s);
    assert_int_equal(s.npeers, 0);
    assert_int_equal(s.st.handshakes_ok, 0);
    node_stop(&na);
}

/* ---- the raw client ---- */

struct raw {
    int fd;
    struct qcn_p2p_cipher tx, rx;
    struct qcn_p2p_identity id;
    uint8_t init[QCN_P2P_HS_INIT_BYTES], fin[QCN_P2P_HS_FIN_BYTES];
};

static int raw_connect(uint16_t port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int recv_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t k;
        if (poll(&pf, 1, WAIT_MS) <= 0)
            return -1;
        k = recv(fd, p, n, 0);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int send_hs(int fd, const uint8_t *m, size_t n)
{
    uint8_t hdr[4];
    qcn_store_be32(hdr, (uint32_t)n);
    return send_all(fd, hdr, 4) == 0 ? send_all(fd, m, n) : -1;
}

/* 1 if the peer closed the connection within WAIT_MS (data is drained). */
static int raw_closed(int fd)
{
    uint8_t buf[4096];
    uint64_t end = qcn_time_mono_ms() + WAIT_MS;
    while (qcn_time_mono_ms() < end) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t k;
        if (poll(&pf, 1, 100) <= 0)
            continue;
        k = recv(fd, buf, sizeof buf, 0);
        if (k <= 0)
            return 1;
    }
    return 0;
}

/* Full handshake as initiator; keeps HS_INIT and HS_FIN for replay. */
static int raw_handshake(struct raw *r, uint16_t port, uint8_t seed_byte)
{
    static struct qcn_p2p_hs hs;
    struct qcn_p2p_hs_params prm;
    static uint8_t resp[QCN_P2P_HS_RESP_BYTES];
    uint8_t hdr[4], ks[32], kr[32], seed[32];
    memset(seed, seed_byte, sizeof seed);
    if (r->id.sk == NULL)
        assert_int_equal(qcn_p2p_identity_from_seed(&r->id, seed), QCN_OK);
    r->fd = raw_connect(port);
    memset(&prm, 0, sizeof prm);
    prm.id = &r->id;
    prm.chain_id = CHAIN_ID;
    prm.version = QCN_P2P_VERSION;
    prm.min_version = QCN_P2P_MIN_VERSION;
    assert_int_equal(qcn_p2p_hs_initiate(&hs, &prm, r->init), QCN_OK);
    if (send_hs(r->fd, r->init, sizeof r->init) != 0 || recv_all(r->fd, hdr, 4) != 0 ||
        qcn_load_be32(hdr) != sizeof resp || recv_all(r->fd, resp, sizeof resp) != 0)
        return -1;
    if (qcn_p2p_hs_finish(&hs, r->fin, resp, sizeof resp) != QCN_OK)
        return -1;
    if (send_hs(r->fd, r->fin, sizeof r->fin) != 0)
        return -1;
    assert_int_equal(qcn_p2p_hs_keys(&hs, ks, kr), QCN_OK);
    qcn_p2p_hs_clear(&hs);
    assert_int_equal(qcn_p2p_cipher_init(&r->tx, ks, 0, 0), QCN_OK);
    assert_int_equal(qcn_p2p_cipher_init(&r->rx, kr, 0, 0), QCN_OK);
    return 0;
}

static void raw_frame(struct raw *r, struct qcn_buf *out, const struct qcn_p2p_msg *m)
{
    struct qcn_buf pt;
    qcn_buf_init(&pt, QCN_P2P_MAX_MSG_BYTES);
    assert_int_equal(qcn_p2p_msg_encode(&pt, m), QCN_OK);
    assert_int_equal(qcn_p2p_seal(&r->tx, out, pt.p, pt.len), QCN_OK);
    qcn_buf_clear(&pt);
}

static void raw_status(struct raw *r, struct qcn_buf *out)
{
    struct qcn_p2p_msg m;
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_STATUS;
    m.u.status.chain_id = CHAIN_ID;
    memcpy(m.u.status.head_hash, truth[0], 32);
    memcpy(m.u.status.genesis_hash, truth[0], 32);
    raw_frame(r, out, &m);
}

static void raw_ping(struct raw *r, struct qcn_buf *out, uint64_t nonce)
{
    struct qcn_p2p_msg m;
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_PING;
    m.u.ping_nonce = nonce;
    raw_frame(r, out, &m);
}

static void raw_clear(struct raw *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    qcn_p2p_cipher_clear(&r->tx);
    qcn_p2p_cipher_clear(&r->rx);
}

static int p_frames_rejected(const struct snap *s, const void *a)
{
    return s->st.frames_rejected >= *(const uint64_t *)a;
}

/* Sends status + one good ping, then the bad bytes; the node must close. */
static void frame_attack(int kind, uint64_t *rejected)
{
    static struct raw r;
    struct qcn_buf good, f1, f2;
    size_t one = 1, zero = 0;
    memset(&r, 0, sizeof r);
    qcn_buf_init(&good, 1 << 20);
    qcn_buf_init(&f1, 1 << 20);
    qcn_buf_init(&f2, 1 << 20);
    assert_int_equal(raw_handshake(&r, na.port, 9), 0);
    raw_status(&r, &good);
    raw_ping(&r, &f1, 1);
    assert_int_equal(send_all(r.fd, good.p, good.len), 0);
    assert_int_equal(send_all(r.fd, f1.p, f1.len), 0);
    assert_true(wait_for(&na, p_peers, &one));
    if (kind == 0) { /* flipped byte in the next frame */
        qcn_buf_reset(&f2);
        raw_ping(&r, &f2, 2);
        f2.p[f2.len - 20] ^= 0x40;
        assert_int_equal(send_all(r.fd, f2.p, f2.len), 0);
    } else if (kind == 1) { /* the same ping frame again (replay) */
        assert_int_equal(send_all(r.fd, f1.p, f1.len), 0);
    } else if (kind == 2) { /* two frames, second sent first */
        qcn_buf_reset(&f2);
        raw_ping(&r, &f2, 2);
        qcn_buf_reset(&good);
        raw_ping(&r, &good, 3);
        assert_int_equal(send_all(r.fd, good.p, good.len), 0);
        assert_int_equal(send_all(r.fd, f2.p, f2.len), 0);
    } else { /* a header announcing a frame over the global cap */
        uint8_t hdr[4];
        qcn_store_be32(hdr, QCN_P2P_MAX_MSG_BYTES + QCN_P2P_TAG_BYTES + 1);
        assert_int_equal(send_all(r.fd, hdr, 4), 0);
    }
    assert_true(raw_closed(r.fd));
    assert_true(wait_for(&na, p_peers, &zero));
    if (kind < 3) {
        (*rejected)++;
        assert_true(wait_for(&na, p_frames_rejected, rejected));
    }
    raw_clear(&r);
    qcn_p2p_identity_clear(&r.id);
    qcn_buf_clear(&good);
    qcn_buf_clear(&f1);
    qcn_buf_clear(&f2);
}

static void test_frame_attacks(void **state)
{
    (void)state;
    static struct snap s;
    uint64_t rejected = 0;
    node_config(&na, 1);
    node_start(&na);
    frame_attack(0, &rejected);
    frame_attack(1, &rejected);
    frame_attack(2, &rejected);
    frame_attack(3, &rejected);
    snap(&na, &s);
    assert_int_equal(s.st.frames_rejected, 3);
    assert_int_equal(s.st.oversize_frames, 1);
    assert_int_equal(s.st.handshakes_ok, 4);
    node_stop(&na);
}

static void test_replayed_handshake(void **state)
{
    (void)state;
    static struct raw r, r2;
    static struct snap s;
    uint8_t hdr[4];
    static uint8_t resp[QCN_P2P_HS_RESP_BYTES];
    uint64_t one = 1;
    node_config(&na, 1);
    node_start(&na);
    memset(&r, 0, sizeof r);
    assert_int_equal(raw_handshake(&r, na.port, 9), 0);
    raw_clear(&r);
    /* the recorded HS_INIT and HS_FIN, byte for byte, on a new connection */
    memset(&r2, 0, sizeof r2);
    r2.fd = raw_connect(na.port);
    assert_int_equal(send_hs(r2.fd, r.init, sizeof r.init), 0);
    assert_int_equal(recv_all(r2.fd, hdr, 4), 0);
    assert_int_equal(recv_all(r2.fd, resp, sizeof resp), 0);
    assert_int_equal(send_hs(r2.fd, r.fin, sizeof r.fin), 0);
    assert_true(raw_closed(r2.fd));
    assert_true(wait_for(&na, p_hs_failed, &one));
    snap(&na, &s);
    assert_int_equal(s.st.handshakes_ok, 1);
    close(r2.fd);
    qcn_p2p_identity_clear(&r.id);
    node_stop(&na);
}

static int p_bans(const struct snap *s, const void *a)
{
    return s->st.bans >= *(const uint64_t *)a;
}

static void test_garbage_banned(void **state)
{
    (void)state;
    static struct raw r;
    struct qcn_buf b;
    uint8_t junk[3] = {0x7e, 1, 2};
    uint64_t one = 1;
    size_t zero = 0;
    static struct snap s;
    node_config(&na, 1);
    node_start(&na);
    memset(&r, 0, sizeof r);
    qcn_buf_init(&b, 1 << 20);
    assert_int_equal(raw_handshake(&r, na.port, 9), 0);
    raw_status(&r, &b);
    /* authentic frames with garbage inside: unknown type, bad counts */
    for (int i = 0; i < 8; i++) {
        junk[1] = (uint8_t)i;
        assert_int_equal(qcn_p2p_seal(&r.tx, &b, junk, sizeof junk), QCN_OK);
    }
    (void)send_all(r.fd, b.p, b.len);
    assert_true(raw_closed(r.fd));
    assert_true(wait_for(&na, p_bans, &one));
    assert_true(wait_for(&na, p_peers, &zero));
    snap(&na, &s);
    assert_int_equal(s.st.frames_rejected, 0);
    raw_clear(&r);
    /* the same identity again: refused (its IP is banned too: no response) */
    assert_int_not_equal(raw_handshake(&r, na.port, 9), 0);
    raw_clear(&r);
    snap(&na, &s);
    assert_true(s.st.refused_banned >= 1);
    assert_int_equal(s.st.handshakes_ok, 1);
    qcn_p2p_identity_clear(&r.id);
    qcn_buf_clear(&b);
    node_stop(&na);
}

static int p_score(const struct snap *s, const void *a)
{
    return s->npeers == 1 && s->peers[0].score == *(const int32_t *)a;
}

static void test_unsolicited(void **state)
{
    (void)state;
    static struct raw r;
    static uint8_t body[300];
    struct qcn_buf b;
    struct qcn_p2p_msg m;
    int32_t want = -QCN_P2P_PENALTY_UNSOLICITED;
    node_config(&na, 1);
    node_start(&na);
    memset(&r, 0, sizeof r);
    qcn_buf_init(&b, 1 << 20);
    assert_int_equal(raw_handshake(&r, na.port, 9), 0);
    raw_status(&r, &b);
    /* a transaction body nobody asked for: dropped, -10 */
    memset(body, 0x42, sizeof body);
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_TX_BODIES;
    m.u.tx_bodies.n = 1;
    m.u.tx_bodies.bodies[0] = qcn_view_make(body, sizeof body);
    raw_frame(&r, &b, &m);
    assert_int_equal(send_all(r.fd, b.p, b.len), 0);
    assert_true(wait_for(&na, p_score, &want));
    /* blocks nobody asked for: another -10 */
    qcn_buf_reset(&b);
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_BLOCKS;
    m.u.blocks.n = 1;
    m.u.blocks.blocks[0] = qcn_buf_view(&truth_enc[1]);
    raw_frame(&r, &b, &m);
    assert_int_equal(send_all(r.fd, b.p, b.len), 0);
    want = -2 * QCN_P2P_PENALTY_UNSOLICITED;
    assert_true(wait_for(&na, p_score, &want));
    raw_clear(&r);
    qcn_p2p_identity_clear(&r.id);
    qcn_buf_clear(&b);
    node_stop(&na);
}

static int p_rate_banned(const struct snap *s, const void *a)
{
    (void)a;
    return s->st.rate_limited >= 20 && s->st.bans >= 1;
}

static void test_rate_limit(void **state)
{
    (void)state;
    static struct raw r;
    struct qcn_buf b;
    node_config(&na, 1);
    na.cfg.rate_msgs_per_s = 20;
    node_start(&na);
    memset(&r, 0, sizeof r);
    qcn_buf_init(&b, 1 << 22);
    assert_int_equal(raw_handshake(&r, na.port, 9), 0);
    raw_status(&r, &b);
    /* 200 well-formed pings at once: the first second's worth pass, the
     * rest are dropped at 5 points each until the ban */
    for (uint64_t i = 0; i < 200; i++)
        raw_ping(&r, &b, i);
    (void)send_all(r.fd, b.p, b.len);
    assert_true(raw_closed(r.fd));
    assert_true(wait_for(&na, p_rate_banned, NULL));
    raw_clear(&r);
    qcn_p2p_identity_clear(&r.id);
    qcn_buf_clear(&b);
    node_stop(&na);
}

static int p_refused_full(const struct snap *s, const void *a)
{
    (void)a;
    return s->st.refused_full >= 1;
}

static void test_max_inbound(void **state)
{
    (void)state;
    static struct raw r1, r2;
    struct qcn_buf b;
    size_t one = 1;
    static struct snap s;
    node_config(&na, 1);
    na.cfg.max_inbound = 1;
    node_start(&na);
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    qcn_buf_init(&b, 1 << 20);
    assert_int_equal(raw_handshake(&r1, na.port, 9), 0);
    raw_status(&r1, &b);
    assert_int_equal(send_all(r1.fd, b.p, b.len), 0);
    assert_true(wait_for(&na, p_peers, &one));
    assert_int_not_equal(raw_handshake(&r2, na.port, 10), 0);
    assert_true(wait_for(&na, p_refused_full, NULL));
    snap(&na, &s);
    assert_int_equal(s.npeers, 1);
    raw_clear(&r1);
    raw_clear(&r2);
    qcn_p2p_identity_clear(&r1.id);
    qcn_p2p_identity_clear(&r2.id);
    qcn_buf_clear(&b);
    node_stop(&na);
}

static void test_dial_backoff(void **state)
{
    (void)state;
    static struct snap s;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    uint16_t dead;
    /* a port that refuses connections: bound, never listening */
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    dead = ntohs(sa.sin_port);
    node_config(&na, 1);
    na.cfg.dial_backoff_min_ms = 100;
    na.cfg.dial_backoff_max_ms = 400;
    node_start(&na);
    call(&na, do_dial, &dead);
    sleep_ms(2000);
    snap(&na, &s);
    /* with backoff 100, 200, 400, 400, ...: about 6 attempts in 2 s (a dial
     * every 50 ms tick would be 40) */
    assert_true(s.st.dials >= 3);
    assert_true(s.st.dials <= 10);
    node_stop(&na);
    close(fd);
}

/* ---- rekeying, gossip, sync, consensus ---- */

static int p_rekeyed(const struct snap *s, const void *a)
{
    (void)a;
    return s->npeers == 1 && s->peers[0].rekeys_in >= 3 && s->peers[0].rekeys_out >= 3;
}

static void do_consensus(struct tnode *t, void *arg)
{
    uint8_t payload[100];
    memset(payload, *(uint8_t *)arg, sizeof payload);
    assert_int_equal(
        qcn_p2p_broadcast_consensus(t->p, QCN_P2P_CONSENSUS_PREVOTE, payload, sizeof payload),
        QCN_OK);
}

static int p_consensus(const struct snap *s, const void *a)
{
    return s->host.consensus_got >= *(const int *)a;
}

static void do_penalize(struct tnode *t, void *arg)
{
    const struct qcn_p2p_identity *id = arg;
    (void)qcn_p2p_penalize(t->p, id->node_id, QCN_P2P_PENALTY_INVALID, "test");
}

static int p_dups(const struct snap *s, const void *a)
{
    return s->st.dup_suppressed >= *(const uint64_t *)a;
}

static void test_rekey_and_consensus(void **state)
{
    (void)state;
    size_t one = 1;
    int want = 8;
    uint64_t dup = 1;
    uint8_t fill;
    static struct snap s;
    node_config(&na, 1);
    node_config(&nb, 2);
    na.cfg.rekey_frames = nb.cfg.rekey_frames = 2;
    node_start(&na);
    node_start(&nb);
    call(&nb, do_dial, &na.port);
    assert_true(wait_for(&nb, p_ready, &one));
    assert_true(wait_for(&na, p_ready, &one));
    for (int i = 0; i < 8; i++) {
        fill = (uint8_t)(0x10 + i);
        call(&na, do_consensus, &fill);
        fill = (uint8_t)(0x40 + i);
        call(&nb, do_consensus, &fill);
    }
    assert_true(wait_for(&nb, p_consensus, &want));
    assert_true(wait_for(&na, p_consensus, &want));
    assert_true(wait_for(&na, p_rekeyed, NULL));
    assert_true(wait_for(&nb, p_rekeyed, NULL));
    /* the same payload again is suppressed at b */
    fill = 0x10;
    call(&na, do_consensus, &fill);
    assert_true(wait_for(&nb, p_dups, &dup));
    snap(&nb, &s);
    assert_int_equal(s.npeers, 1);
    assert_int_equal(s.host.consensus_got, 8);
    assert_int_equal(s.host.consensus_kind, QCN_P2P_CONSENSUS_PREVOTE);
    assert_int_equal(s.host.consensus_len, 100);
    assert_int_equal(s.peers[0].score, 0);
    /* an invalid consensus message (the callback says no) costs score */
    fill = 0xff;
    call(&na, do_consensus, &fill);
    want = 9;
    assert_true(wait_for(&nb, p_consensus, &want));
    snap(&nb, &s);
    assert_int_equal(s.peers[0].score, -QCN_P2P_PENALTY_INVALID);
    /* a later verdict from the host: two more invalid findings ban a */
    call(&nb, do_penalize, &na.id);
    call(&nb, do_penalize, &na.id);
    snap(&nb, &s);
    assert_int_equal(s.npeers, 0);
    assert_int_equal(s.st.bans, 1);
    node_stop(&nb);
    node_stop(&na);
}

/* Starts na, nb and nc (configured by node_config_line) as the line
 * a - b - c and waits until every link is ready. */
static void line_start(void)
{
    size_t one = 1, two = 2;
    node_start(&na);
    node_start(&nb);
    node_start(&nc);
    call(&nb, do_dial, &na.port);
    call(&nc, do_dial, &nb.port);
    assert_true(wait_for(&nb, p_ready, &two));
    assert_true(wait_for(&nc, p_ready, &one));
    assert_true(wait_for(&na, p_ready, &one));
}

/* A repeat of a broadcast consensus message (docs/p2p.md §6): within
 * consensus_redeliver_ms it is suppressed; after it, it reaches the engine
 * again (a node that dropped the first copy while behind must get the
 * engine's repeats) but is not relayed a second time. */
static void test_consensus_redelivery(void **state)
{
    (void)state;
    int want;
    uint64_t dup = 1;
    uint8_t fill = 0x52;
    static struct snap s;
    node_config_line(&na, &nb, &nc);
    nb.cfg.consensus_redeliver_ms = 300;
    line_start();
    want = 1;
    call(&na, do_consensus, &fill);
    assert_true(wait_for(&nb, p_consensus, &want));
    assert_true(wait_for(&nc, p_consensus, &want)); /* relayed by b */
    /* at once again: suppressed at b */
    call(&na, do_consensus, &fill);
    assert_true(wait_for(&nb, p_dups, &dup));
    snap(&nb, &s);
    assert_int_equal(s.host.consensus_got, 1);
    /* repeated until the window passed: b's engine gets it a second time */
    want = 2;
    for (int i = 0; i < 200; i++) {
        call(&na, do_consensus, &fill);
        snap(&nb, &s);
        if (s.host.consensus_got >= 2)
            break;
        sleep_ms(20);
    }
    assert_true(wait_for(&nb, p_consensus, &want));
    /* not relayed again: a new message b relays after it reaches c, and
     * c counts two (the first copy and the new one), not three */
    fill = 0x53;
    call(&na, do_consensus, &fill);
    assert_true(wait_for(&nc, p_consensus, &want));
    snap(&nc, &s);
    assert_int_equal(s.host.consensus_got, 2);
    snap(&nb, &s);
    assert_int_equal(s.host.consensus_got, 3);
    assert_int_equal(s.peers[0].score, 0);
    assert_int_equal(s.peers[1].score, 0);
    node_stop(&na);
    node_stop(&nb);
    node_stop(&nc);
}

static void do_add_tx(struct tnode *t, void *arg)
{
    const uint8_t *body = arg;
    uint8_t h[32];
    assert_int_equal(host_add_tx(&t->host, body, 5000), QCN_OK);
    qcn_keccak256(h, body, 5000);
    qcn_p2p_broadcast_tx_hash(t->p, h);
}

static int p_has_tx(const struct snap *s, const void *a)
{
    return s->host.ntx >= *(const size_t *)a;
}

/* Point-to-point consensus messages (docs/p2p.md §4: kinds 7 and 8): they
 * reach only the named peer, are never relayed, and the same bytes twice
 * are delivered twice (no seen cache: a repeated request is legitimate). */
struct direct_arg {
    const uint8_t *to;
    int expect;
};

static void do_direct(struct tnode *t, void *arg)
{
    const struct direct_arg *d = arg;
    uint8_t payload[64];
    memset(payload, 0x21, sizeof payload);
    assert_int_equal(
        qcn_p2p_send_consensus(t->p, d->to, QCN_P2P_CONSENSUS_BLOCKTX_REQ, payload, sizeof payload),
        d->expect);
}

static void test_direct_consensus(void **state)
{
    (void)state;
    int want = 2;
    uint8_t nobody[QCN_P2P_NODE_ID_BYTES];
    struct direct_arg d;
    static struct snap s;
    /* a line a - b - c */
    node_config_line(&na, &nb, &nc);
    line_start();
    d.to = nb.id.node_id;
    d.expect = QCN_OK;
    call(&na, do_direct, &d);
    call(&na, do_direct, &d);
    assert_true(wait_for(&nb, p_consensus, &want));
    /* c is not connected to a: not found; nothing reached it through b */
    d.to = nc.id.node_id;
    d.expect = QCN_ERR_NOT_FOUND;
    call(&na, do_direct, &d);
    memset(nobody, 0x5c, sizeof nobody);
    d.to = nobody;
    call(&na, do_direct, &d);
    /* a message b does relay, sent after the direct ones, reaches c; by
     * then the direct ones would have too */
    {
        uint8_t fill = 0x33;
        int one_msg = 1;
        call(&na, do_consensus, &fill);
        assert_true(wait_for(&nc, p_consensus, &one_msg));
    }
    snap(&nc, &s);
    assert_int_equal(s.host.consensus_got, 1);
    assert_int_equal(s.host.consensus_kind, QCN_P2P_CONSENSUS_PREVOTE);
    snap(&nb, &s);
    assert_int_equal(s.st.dup_suppressed, 0);
    node_stop(&na);
    node_stop(&nb);
    node_stop(&nc);
}

static void test_tx_gossip(void **state)
{
    (void)state;
    static uint8_t body[5000];
    static struct snap sa, sb, sc;
    size_t one = 1;
    /* a line a - b - c: c learns the tx from b, which learned it from a */
    node_config_line(&na, &nb, &nc);
    line_start();
    qcn_rng_bytes(body, sizeof body);
    call(&na, do_add_tx, body);
    assert_true(wait_for(&nc, p_has_tx, &one));
    assert_true(wait_for(&nb, p_has_tx, &one));
    snap(&na, &sa);
    snap(&nb, &sb);
    snap(&nc, &sc);
    assert_memory_equal(sc.host.txb[0], body, sizeof body);
    /* bodies moved only on request: a served one, b served one, a never got
     * its own body back, each receiver got exactly one */
    assert_int_equal(sa.st.tx_bodies_out, 1);
    assert_int_equal(sb.st.tx_bodies_out, 1);
    assert_int_equal(sa.st.tx_bodies_in, 0);
    assert_int_equal(sb.st.tx_bodies_in, 1);
    assert_int_equal(sc.st.tx_bodies_in, 1);
    assert_int_equal(sb.host.tx_received, 1);
    assert_int_equal(sc.host.tx_received, 1);
    /* b's announcement went back to a too, and was suppressed there */
    assert_true(sa.st.dup_suppressed >= 1);
    node_stop(&nc);
    node_stop(&nb);
    node_stop(&na);
}

static int p_height(const struct snap *s, const void *a)
{
    return s->host.height >= *(const uint64_t *)a && s->host.synced_calls > 0 && !s->st.syncing;
}

static int p_rejected(const struct snap *s, const void *a)
{
    (void)a;
    return s->st.blocks_rejected >= 1;
}

static void test_sync(void **state)
{
    (void)state;
    static struct snap s;
    uint64_t target = 40;
    node_config(&na, 1);
    node_config(&nb, 2);
    na.host.height = target;
    nb.cfg.sync_batch = 7; /* several requests */
    node_start(&na);
    node_start(&nb);
    call(&nb, do_dial, &na.port);
    assert_true(wait_for(&nb, p_height, &target));
    snap(&nb, &s);
    assert_int_equal(s.host.height, target);
    assert_int_equal(s.st.blocks_synced, target);
    assert_int_equal(s.host.synced_height, target);
    assert_int_equal(s.st.blocks_rejected, 0);
    node_stop(&nb);
    node_stop(&na);

    /* a peer serving invalid blocks is scored down and nothing is applied */
    node_config(&na, 1);
    node_config(&nb, 2);
    na.host.height = 10;
    na.host.evil = 1;
    node_start(&na);
    node_start(&nb);
    call(&nb, do_dial, &na.port);
    assert_true(wait_for(&nb, p_rejected, NULL));
    snap(&nb, &s);
    assert_int_equal(s.host.height, 0);
    assert_int_equal(s.st.blocks_synced, 0);
    assert_true(s.npeers == 0 || s.peers[0].score <= -QCN_P2P_PENALTY_INVALID);
    node_stop(&nb);
    node_stop(&na);
}

static int p_fork_settled(const struct snap *s, const void *a)
{
    (void)a;
    return s->npeers == 1 && !s->st.syncing && s->host.synced_calls > 0;
}

static void test_sync_fork(void **state)
{
    (void)state;
    static struct snap s;
    /* b's block 1 differs from a's: every block a serves has another parent.
     * b gives up on a after a few tries, without scoring it down. */
    node_config(&na, 1);
    node_config(&nb, 2);
    na.host.height = 10;
    nb.host.height = 1;
    memset(nb.host.hash[1], 0xee, 32);
    node_start(&na);
    node_start(&nb);
    call(&nb, do_dial, &na.port);
    assert_true(wait_for(&nb, p_fork_settled, NULL));
    snap(&nb, &s);
    assert_int_equal(s.host.height, 1);
    assert_int_equal(s.st.blocks_synced, 0);
    assert_int_equal(s.peers[0].score, 0);
    node_stop(&nb);
    node_stop(&na);
}

static void test_peer_exchange(void **state)
{
    (void)state;
    size_t two = 2;
    /* c knows only b; b knows a; c finds a through b's PEERS */
    node_config(&na, 1);
    node_config(&nb, 2);
    node_config(&nc, 3);
    node_start(&na);
    node_start(&nb);
    node_start(&nc);
    call(&nb, do_dial, &na.port);
    call(&nc, do_dial, &nb.port);
    assert_true(wait_for(&nc, p_peers, &two));
    assert_true(wait_for(&na, p_peers, &two));
    node_stop(&nc);
    node_stop(&nb);
    node_stop(&na);
}

#ifdef QCN_TEST_FAULTS
struct cut_req {
    const uint8_t (*ids)[QCN_P2P_NODE_ID_BYTES];
    size_t n;
    int rc;
};
static void do_cut(struct tnode *t, void *arg)
{
    struct cut_req *r = arg;
    r->rc = qcn_p2p_fault_partition(t->p, r->ids, r->n);
}

static int p_dropped(const struct snap *s, const void *a)
{
    return s->st.fault_dropped >= *(const uint64_t *)a;
}

/* The test partition (docs/p2p.md §10): b cuts a off before they connect.
 * The handshake completes, but nothing passes either way (a's STATUS, its
 * consensus messages), so b does not sync from a; healing reconnects and
 * b syncs and hears consensus again. */
static void test_partition(void **state)
{
    static struct snap s;
    static uint8_t many[QCN_P2P_MAX_PARTITION + 1][QCN_P2P_NODE_ID_BYTES];
    struct cut_req r;
    size_t one = 1;
    uint64_t target = 20, want;
    int got = 1;
    uint8_t fill = 0x21;
    (void)state;
    node_config(&na, 1);
    node_config(&nb, 2);
    na.host.height = target;
    node_start(&na);
    node_start(&nb);
    r.ids = (const uint8_t(*)[QCN_P2P_NODE_ID_BYTES]) & na.id.node_id;
    r.n = 1;
    call(&nb, do_cut, &r);
    assert_int_equal(r.rc, QCN_OK);
    r.ids = (const uint8_t(*)[QCN_P2P_NODE_ID_BYTES])many;
    r.n = QCN_P2P_MAX_PARTITION + 1;
    call(&nb, do_cut, &r);
    assert_int_equal(r.rc, QCN_ERR_TOO_LARGE);
    call(&nb, do_dial, &na.port);
    assert_true(wait_for(&nb, p_peers, &one));
    /* b's STATUS and GET_PEERS dropped on the way out, a's on the way in */
    want = 4;
    assert_true(wait_for(&nb, p_dropped, &want));
    call(&na, do_consensus, &fill);
    want = 5;
    assert_true(wait_for(&nb, p_dropped, &want));
    snap(&nb, &s);
    assert_int_equal(s.npeers, 1);
    assert_int_equal(s.peers[0].partitioned, 1);
    assert_int_equal(s.host.height, 0);
    assert_int_equal(s.st.blocks_synced, 0);
    assert_int_equal(s.host.consensus_got, 0);
    assert_int_equal(s.peers[0].score, 0);
    /* heal: the connection starts over, b syncs and hears consensus */
    r.n = 0;
    call(&nb, do_cut, &r);
    assert_int_equal(r.rc, QCN_OK);
    assert_true(wait_for(&nb, p_height, &target));
    assert_true(wait_for(&nb, p_ready, &one));
    assert_true(wait_for(&na, p_ready, &one));
    fill = 0x22;
    call(&na, do_consensus, &fill);
    assert_true(wait_for(&nb, p_consensus, &got));
    snap(&nb, &s);
    assert_int_equal(s.peers[0].partitioned, 0);
    assert_int_equal(s.st.blocks_synced, target);
    node_stop(&nb);
    node_stop(&na);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_ids),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_self_connect),
        cmocka_unit_test(test_frame_attacks),
        cmocka_unit_test(test_replayed_handshake),
        cmocka_unit_test(test_garbage_banned),
        cmocka_unit_test(test_rekey_and_consensus),
        cmocka_unit_test(test_direct_consensus),
        cmocka_unit_test(test_consensus_redelivery),
        cmocka_unit_test(test_tx_gossip),
        cmocka_unit_test(test_sync),
        cmocka_unit_test(test_peer_exchange),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_max_inbound),
        cmocka_unit_test(test_dial_backoff),
        cmocka_unit_test(test_unsolicited),
        cmocka_unit_test(test_sync_fork),
#ifdef QCN_TEST_FAULTS
        cmocka_unit_test(test_partition),
#endif
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
