/* p2p.c - connections, peers, gossip and sync on one libuv loop
 * (docs/p2p.md). The cryptography is in secure.c; this file moves bytes,
 * keeps the peer table and enforces the limits.
 *
 * Every connection goes through: TCP connect/accept -> handshake (plaintext
 * be32-length-prefixed handshake messages, exact sizes) -> open (sealed
 * frames) -> closing. Anything wrong in the handshake or any frame that
 * fails to open closes the connection at once: with implicit counters a
 * single bad frame means the stream is out of step for good. Bad but
 * authentic content (garbage messages, invalid blocks) costs score instead,
 * and at the ban threshold the node id (and IP) is banned for a while. */
#include "p2p/p2p.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "codec/tx.h"
#include "crypto/keccak.h"
#include "crypto/rng.h"
#include "p2p/hset.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#define TICK_MS 50u
#define READ_CHUNK 65536u
#define SERVE_BLOCKS_SOFT_BYTES (8u * 1024u * 1024u)
#define TX_REQ_TTL_MS 30000u
#define MAX_SYNC_FAILURES 3

enum conn_state {
    C_CONNECTING = 1,
    C_HANDSHAKE,
    C_OPEN,
    C_CLOSING,
};

struct addr_entry {
    char text[QCN_P2P_MAX_ADDR_TEXT];
    struct sockaddr_storage sa;
    uint64_t next_dial_ms;
    uint64_t backoff_ms;
    uint32_t failures;
    uint64_t conn_serial; /* connection dialled from this entry, 0 if none */
    int is_self;
    int known_id;
    uint8_t node_id[QCN_P2P_NODE_ID_BYTES];
};

struct ban {
    uint8_t node_id[QCN_P2P_NODE_ID_BYTES];
    uint8_t ip[16];
    int family; /* 0: no IP part */
    uint64_t until_ms;
};

struct conn {
    struct qcn_p2p *p;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uint64_t serial;
    int state;
    int inbound;
    int established; /* handshake completed */
    int got_status;
    int addr_idx; /* address book entry (outbound), or -1 */
    struct qcn_p2p_hs *hs;
    struct qcn_p2p_cipher tx, rx;
    uint16_t version;

    /* read state: 4-byte length, then the body */
    uint8_t hdr[4];
    size_t hdr_have;
    uint8_t *body;
    size_t body_len, body_have, body_cap;

    uint8_t node_id[QCN_P2P_NODE_ID_BYTES];
    char addr[QCN_P2P_MAX_ADDR_TEXT];
    uint8_t ip[16];
    int family;
    uint16_t listen_port;
    int32_t score;
    uint64_t head_height;
    int sync_failures;

    double tok_msgs, tok_bytes;
    uint64_t rate_ms;
    uint64_t created_ms, last_recv_ms, last_ping_ms;
    uint64_t msgs_in, msgs_out, bytes_in, bytes_out;
    struct qcn_ratelimit log_rl;
#ifdef QCN_TEST_FAULTS
    int cut; /* in the test partition: every message dropped */
#endif

    struct conn *next;
};

struct wreq {
    uv_write_t req;
    struct conn *c;
    uint8_t *data;
};

struct seen_cache {
    struct qcn_p2p_hset gen[2]; /* current and previous generation */
    int cur;
};

struct qcn_p2p {
    uv_loop_t *loop;
    struct qcn_p2p_config cfg;
    struct qcn_p2p_callbacks cb;
    uv_tcp_t listener;
    uv_timer_t tick;
    int listening;
    int started;
    int stopping;
    int open_handles;
    uint16_t port;
    uint64_t next_serial;
    struct conn *conns;

    struct addr_entry book[QCN_P2P_MAX_KNOWN_ADDRS];
    size_t nbook;
    struct ban bans[QCN_P2P_MAX_BANS];
    size_t nbans;

    /* duplicate suppression: transactions and blocks; consensus messages
     * apart, so that transaction churn never evicts them early */
    struct seen_cache seen, cseen;
    struct qcn_p2p_hset txreq; /* requested tx hash -> conn serial << 20 | ... */
    uint64_t txreq_sweep_ms;
    uint64_t pex_ms;

    uint8_t announce[QCN_P2P_MAX_TX_HASHES][QCN_HASH_BYTES];
    uint32_t nannounce;

    /* sync */
    uint64_t sync_serial; /* peer asked, 0 if no request outstanding */
    uint64_t sync_start;
    uint32_t sync_count;
    uint64_t sync_deadline_ms;
    uint64_t sync_hold_ms; /* the host was busy: no request before this */
    uint64_t lag_head;     /* our head when a peer was first seen one block ahead */
    uint64_t lag_since_ms;
    int applying;

    uint8_t readbuf[READ_CHUNK];
    struct qcn_p2p_stats stats;
#ifdef QCN_TEST_FAULTS
    uint8_t cut_ids[QCN_P2P_MAX_PARTITION][QCN_P2P_NODE_ID_BYTES];
    size_t ncut;
#endif
};

static void conn_close(struct conn *c, const char *why);
static void send_msg(struct conn *c, const struct qcn_p2p_msg *m);
static void sync_check(struct qcn_p2p *p);

/* The test partition (qcn_p2p_fault_partition, docs/p2p.md §10): 1 if c's
 * messages are dropped. Always 0 in a build without QCN_TEST_FAULTS. */
static int cut_off(const struct conn *c)
{
#ifdef QCN_TEST_FAULTS
    return c->cut;
#else
    (void)c;
    return 0;
#endif
}

void qcn_p2p_config_default(struct qcn_p2p_config *c)
{
    memset(c, 0, sizeof *c);
    c->max_inbound = 32;
    c->max_outbound = 8;
    c->dial_backoff_min_ms = 500;
    c->dial_backoff_max_ms = 60000;
    c->handshake_timeout_ms = 10000;
    c->ping_interval_ms = 15000;
    c->sync_timeout_ms = 10000;
    c->pex_interval_ms = 30000;
    c->rate_msgs_per_s = 2000;
    c->rate_bytes_per_s = 64u * 1024u * 1024u;
    c->ban_score = QCN_P2P_BAN_SCORE_DEFAULT;
    c->ban_ms = 600000;
    c->ban_ip = 1;
    c->sync_batch = 32;
    c->relay_consensus = 1;
    c->consensus_redeliver_ms = QCN_P2P_CONSENSUS_REDELIVER_MS;
    c->version = QCN_P2P_VERSION;
    c->min_version = QCN_P2P_MIN_VERSION;
}

static uint64_t now_ms(void)
{
    return qcn_time_mono_ms();
}

/* ---- addresses ---- */

static int parse_addr(struct sockaddr_storage *sa, const char *text)
{
    char host[QCN_P2P_MAX_ADDR_TEXT];
    const char *colon = strrchr(text, ':');
    size_t hl;
    char *end = NULL;
    unsigned long port;
    memset(sa, 0, sizeof *sa);
    if (colon == NULL || colon == text)
        return QCN_ERR_CONFIG;
    hl = (size_t)(colon - text);
    if (hl >= sizeof host)
        return QCN_ERR_CONFIG;
    memcpy(host, text, hl);
    host[hl] = 0;
    port = strtoul(colon + 1, &end, 10);
    if (end == colon + 1 || *end != 0 || port > 65535)
        return QCN_ERR_CONFIG;
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        if (uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)sa) != 0)
            return QCN_ERR_CONFIG;
        return QCN_OK;
    }
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)sa) != 0)
        return QCN_ERR_CONFIG;
    return QCN_OK;
}

static void sa_to_ip(const struct sockaddr_storage *sa, uint8_t ip[16], int *family, uint16_t *port)
{
    memset(ip, 0, 16);
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        memcpy(ip, &s4->sin_addr, 4);
        *family = 4;
        *port = ntohs(s4->sin_port);
    } else {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        memcpy(ip, &s6->sin6_addr, 16);
        *family = 6;
        *port = ntohs(s6->sin6_port);
    }
}

static void ip_to_text(char *out, size_t outlen, const uint8_t ip[16], int family, uint16_t port)
{
    char h[64] = "?";
    if (family == 4)
        uv_inet_ntop(AF_INET, ip, h, sizeof h);
    else
        uv_inet_ntop(AF_INET6, ip, h, sizeof h);
    if (family == 4)
        snprintf(out, outlen, "%s:%u", h, (unsigned)port);
    else
        snprintf(out, outlen, "[%s]:%u", h, (unsigned)port);
}

static int book_find(struct qcn_p2p *p, const char *text)
{
    for (size_t i = 0; i < p->nbook; i++)
        if (strcmp(p->book[i].text, text) == 0)
            return (int)i;
    return -1;
}

static int book_add(struct qcn_p2p *p, const char *text)
{
    struct addr_entry *e;
    int i = book_find(p, text);
    if (i >= 0)
        return QCN_OK;
    if (strlen(text) >= QCN_P2P_MAX_ADDR_TEXT)
        return QCN_ERR_TOO_LARGE;
    if (p->nbook >= QCN_P2P_MAX_KNOWN_ADDRS)
        return QCN_ERR_TOO_LARGE;
    e = &p->book[p->nbook];
    memset(e, 0, sizeof *e);
    if (parse_addr(&e->sa, text) != QCN_OK)
        return QCN_ERR_CONFIG;
    snprintf(e->text, sizeof e->text, "%s", text);
    e->backoff_ms = p->cfg.dial_backoff_min_ms;
    p->nbook++;
    return QCN_OK;
}

/* ---- bans ---- */

static int banned_id(const struct qcn_p2p *p, const uint8_t id[QCN_P2P_NODE_ID_BYTES])
{
    uint64_t t = now_ms();
    for (size_t i = 0; i < p->nbans; i++)
        if (p->bans[i].until_ms > t && memcmp(p->bans[i].node_id, id, QCN_P2P_NODE_ID_BYTES) == 0)
            return 1;
    return 0;
}

static int banned_ip(const struct qcn_p2p *p, const uint8_t ip[16], int family)
{
    uint64_t t = now_ms();
    for (size_t i = 0; i < p->nbans; i++)
        if (p->bans[i].until_ms > t && p->bans[i].family == family &&
            memcmp(p->bans[i].ip, ip, 16) == 0)
            return 1;
    return 0;
}

int qcn_p2p_is_banned(const qcn_p2p *p, const uint8_t node_id[QCN_P2P_NODE_ID_BYTES])
{
    return banned_id(p, node_id);
}

static void ban(struct qcn_p2p *p, struct conn *c)
{
    struct ban *b = NULL;
    uint64_t t = now_ms();
    for (size_t i = 0; i < p->nbans; i++)
        if (p->bans[i].until_ms <= t) {
            b = &p->bans[i];
            break;
        }
    if (b == NULL) {
        if (p->nbans < QCN_P2P_MAX_BANS) {
            b = &p->bans[p->nbans++];
        } else { /* full: replace the ban that ends first */
            b = &p->bans[0];
            for (size_t i = 1; i < p->nbans; i++)
                if (p->bans[i].until_ms < b->until_ms)
                    b = &p->bans[i];
        }
    }
    memset(b, 0, sizeof *b);
    memcpy(b->node_id, c->node_id, sizeof b->node_id);
    if (p->cfg.ban_ip) {
        memcpy(b->ip, c->ip, 16);
        b->family = c->family;
    }
    b->until_ms = t + p->cfg.ban_ms;
    p->stats.bans++;
}

/* Lowers c's score; at the threshold bans and closes. Returns 1 if c closed. */
static int penalize(struct conn *c, int32_t amount, const char *why)
{
    struct qcn_p2p *p = c->p;
    if (c->state == C_CLOSING)
        return 1;
    c->score -= amount;
    QCN_LOG_RATELIMITED(&c->log_rl, QCN_LOG_DEBUG, "p2p", "peer %s: -%d (%s), score %d", c->addr,
                        (int)amount, why, (int)c->score);
    if (c->score > p->cfg.ban_score)
        return 0;
    if (c->established) {
        struct qcn_p2p_msg m;
        memset(&m, 0, sizeof m);
        m.type = QCN_P2P_MSG_GOODBYE;
        m.u.goodbye.reason = QCN_P2P_BYE_BANNED;
        send_msg(c, &m);
    }
    ban(p, c);
    QCN_LOG(QCN_LOG_INFO, "p2p", "banned peer %s for %llu ms (%s)", c->addr,
            (unsigned long long)p->cfg.ban_ms, why);
    conn_close(c, "banned");
    return 1;
}

/* ---- seen caches (two generations: when the current one fills, the older
 * one is emptied and becomes current, so the newest half is always kept).
 * An entry's value is 0 (seen: never again) or, for a broadcast consensus
 * message, the monotonic ms it was last handed to the engine. ---- */

static int seen_init(struct seen_cache *sc, size_t entries)
{
    int err = qcn_p2p_hset_init(&sc->gen[0], entries / 2);
    if (err == QCN_OK)
        err = qcn_p2p_hset_init(&sc->gen[1], entries / 2);
    sc->cur = 0;
    return err; /* on failure the caller's seen_clear frees what was made */
}

static void seen_clear(struct seen_cache *sc)
{
    qcn_p2p_hset_clear(&sc->gen[0]);
    qcn_p2p_hset_clear(&sc->gen[1]);
}

static int seen_get(const struct seen_cache *sc, const uint8_t h[32], uint64_t *val)
{
    return qcn_p2p_hset_get(&sc->gen[sc->cur], h, val) ||
           qcn_p2p_hset_get(&sc->gen[sc->cur ^ 1], h, val);
}

static int seen_has(const struct seen_cache *sc, const uint8_t h[32])
{
    return seen_get(sc, h, NULL);
}

/* Inserts or updates in the current generation (a stale copy in the older
 * one is shadowed: seen_get reads the current first). */
static void seen_put(struct seen_cache *sc, const uint8_t h[32], uint64_t val)
{
    struct qcn_p2p_hset *cur = &sc->gen[sc->cur];
    if (qcn_p2p_hset_put(cur, h, val) != 0) {
        sc->cur ^= 1;
        cur = &sc->gen[sc->cur];
        qcn_p2p_hset_reset(cur);
        (void)qcn_p2p_hset_put(cur, h, val);
    }
}

static void seen_add(struct seen_cache *sc, const uint8_t h[32])
{
    if (!seen_has(sc, h))
        seen_put(sc, h, 0);
}

/* ---- writing ---- */

static void on_write(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct conn *c = w->c;
    free(w->data);
    free(w);
    if (status < 0 && c->state != C_CLOSING)
        conn_close(c, "write failed");
}

/* Takes ownership of data (heap). */
static void write_raw(struct conn *c, uint8_t *data, size_t len)
{
    struct wreq *w;
    uv_buf_t buf;
    if (c->state == C_CLOSING || c->state == C_CONNECTING) {
        free(data);
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) + len > QCN_P2P_MAX_SEND_QUEUE) {
        free(data);
        conn_close(c, "send queue over its cap (slow peer)");
        return;
    }
    w = calloc(1, sizeof *w);
    if (w == NULL) {
        free(data);
        conn_close(c, "out of memory");
        return;
    }
    w->c = c;
    w->data = data;
    buf = uv_buf_init((char *)data, (unsigned int)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_write) != 0) {
        free(data);
        free(w);
        conn_close(c, "write failed");
        return;
    }
    c->bytes_out += len;
}

static void send_hs(struct conn *c, const uint8_t *msg, size_t len)
{
    uint8_t *d = malloc(4 + len);
    if (d == NULL) {
        conn_close(c, "out of memory");
        return;
    }
    qcn_store_be32(d, (uint32_t)len);
    memcpy(d + 4, msg, len);
    write_raw(c, d, 4 + len);
}

static void send_msg(struct conn *c, const struct qcn_p2p_msg *m)
{
    struct qcn_buf pt, fr;
    int err;
    if (c->state != C_OPEN)
        return;
    if (cut_off(c)) {
        c->p->stats.fault_dropped++;
        return;
    }
    qcn_buf_init(&pt, QCN_P2P_MAX_MSG_BYTES);
    qcn_buf_init(&fr, QCN_P2P_MAX_MSG_BYTES + QCN_P2P_FRAME_HDR_BYTES + QCN_P2P_TAG_BYTES);
    err = qcn_p2p_msg_encode(&pt, m);
    if (err == QCN_OK)
        err = qcn_p2p_seal(&c->tx, &fr, pt.p, pt.len);
    qcn_buf_clear(&pt);
    if (err != QCN_OK) {
        qcn_buf_clear(&fr);
        QCN_LOG(QCN_LOG_WARN, "p2p", "cannot send message type %u: %s", m->type, qcn_err_str(err));
        if (err == QCN_ERR_CRYPTO_BACKEND)
            conn_close(c, "seal failed");
        return;
    }
    c->msgs_out++;
    write_raw(c, fr.p, fr.len); /* takes fr.p */
}

static void send_status(struct conn *c)
{
    struct qcn_p2p *p = c->p;
    struct qcn_p2p_msg m;
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_STATUS;
    m.u.status.chain_id = p->cfg.chain_id;
    if (p->cb.get_head != NULL)
        p->cb.get_head(p->cb.ctx, &m.u.status.head_height, m.u.status.head_hash);
    memcpy(m.u.status.genesis_hash, p->cfg.genesis_hash, QCN_HASH_BYTES);
    m.u.status.listen_port = p->port;
    send_msg(c, &m);
}

static void send_simple(struct conn *c, uint8_t type)
{
    struct qcn_p2p_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    send_msg(c, &m);
}

/* ---- closing ---- */

static void on_handle_closed(uv_handle_t *h)
{
    struct qcn_p2p *p = h->data;
    p->open_handles--;
}

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct qcn_p2p *p = c->p;
    struct conn **pp = &p->conns;
    while (*pp != NULL && *pp != c)
        pp = &(*pp)->next;
    if (*pp == c)
        *pp = c->next;
    if (c->hs != NULL) {
        qcn_p2p_hs_clear(c->hs);
        free(c->hs);
    }
    qcn_p2p_cipher_clear(&c->tx);
    qcn_p2p_cipher_clear(&c->rx);
    free(c->body);
    p->open_handles--;
    free(c);
}

static void conn_close(struct conn *c, const char *why)
{
    struct qcn_p2p *p = c->p;
    if (c->state == C_CLOSING)
        return;
    QCN_LOG(QCN_LOG_DEBUG, "p2p", "closing %s: %s", c->addr, why);
    if (!c->established)
        p->stats.handshakes_failed += c->state == C_HANDSHAKE ? 1u : 0u;
    if (c->addr_idx >= 0 && (size_t)c->addr_idx < p->nbook) {
        struct addr_entry *e = &p->book[c->addr_idx];
        if (e->conn_serial == c->serial) {
            e->conn_serial = 0;
            if (!c->established) {
                e->failures++;
                e->backoff_ms = e->backoff_ms * 2 > p->cfg.dial_backoff_max_ms
                                    ? p->cfg.dial_backoff_max_ms
                                    : e->backoff_ms * 2;
            }
            e->next_dial_ms = now_ms() + e->backoff_ms;
        }
    }
    if (c->serial == p->sync_serial)
        p->sync_serial = 0;
    if (c->established && p->cb.on_peer != NULL)
        p->cb.on_peer(p->cb.ctx, c->node_id, 0);
    c->state = C_CLOSING;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* ---- connections ---- */

static struct conn *conn_new(struct qcn_p2p *p, int inbound)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    if (uv_tcp_init(p->loop, &c->tcp) != 0) {
        free(c);
        return NULL;
    }
    p->open_handles++;
    c->tcp.data = c;
    c->p = p;
    c->serial = ++p->next_serial;
    c->inbound = inbound;
    c->addr_idx = -1;
    c->created_ms = c->last_recv_ms = c->rate_ms = now_ms();
    c->tok_msgs = p->cfg.rate_msgs_per_s;
    c->tok_bytes = (double)p->cfg.rate_bytes_per_s;
    c->next = p->conns;
    p->conns = c;
    snprintf(c->addr, sizeof c->addr, "?");
    return c;
}

static size_t count_conns(const struct qcn_p2p *p, int inbound)
{
    size_t n = 0;
    for (const struct conn *c = p->conns; c != NULL; c = c->next)
        if (c->state != C_CLOSING && c->inbound == inbound)
            n++;
    return n;
}

static struct conn *find_open_by_id(struct qcn_p2p *p, const uint8_t id[QCN_P2P_NODE_ID_BYTES],
                                    const struct conn *except)
{
    for (struct conn *c = p->conns; c != NULL; c = c->next)
        if (c != except && c->established && c->state == C_OPEN &&
            memcmp(c->node_id, id, QCN_P2P_NODE_ID_BYTES) == 0)
            return c;
    return NULL;
}

static struct conn *find_by_serial(struct qcn_p2p *p, uint64_t serial)
{
    for (struct conn *c = p->conns; c != NULL; c = c->next)
        if (c->serial == serial && c->state == C_OPEN)
            return c;
    return NULL;
}

static void hs_params(const struct qcn_p2p *p, struct qcn_p2p_hs_params *prm)
{
    memset(prm, 0, sizeof *prm);
    prm->id = p->cfg.identity;
    prm->chain_id = p->cfg.chain_id;
    prm->version = p->cfg.version;
    prm->min_version = p->cfg.min_version;
    prm->faults = p->cfg.faults;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)c->p->readbuf, sizeof c->p->readbuf);
}

/* The handshake finished on our side: keys, checks on the peer's identity,
 * then the first messages. */
static void established(struct conn *c)
{
    struct qcn_p2p *p = c->p;
    uint8_t ks[QCN_P2P_KEY_BYTES], kr[QCN_P2P_KEY_BYTES];
    int err = qcn_p2p_hs_keys(c->hs, ks, kr);
    if (err == QCN_OK)
        err = qcn_p2p_cipher_init(&c->tx, ks, p->cfg.rekey_frames, p->cfg.rekey_bytes);
    if (err == QCN_OK)
        err = qcn_p2p_cipher_init(&c->rx, kr, p->cfg.rekey_frames, p->cfg.rekey_bytes);
    qcn_wipe(ks, sizeof ks);
    qcn_wipe(kr, sizeof kr);
    memcpy(c->node_id, c->hs->peer_id, sizeof c->node_id);
    c->version = c->hs->version;
    qcn_p2p_hs_clear(c->hs);
    free(c->hs);
    c->hs = NULL;
    if (err != QCN_OK) {
        conn_close(c, "key derivation failed");
        return;
    }
    if (memcmp(c->node_id, p->cfg.identity->node_id, QCN_P2P_NODE_ID_BYTES) == 0) {
        if (c->addr_idx >= 0)
            p->book[c->addr_idx].is_self = 1;
        conn_close(c, "connected to ourselves");
        return;
    }
    if (banned_id(p, c->node_id)) {
        p->stats.refused_banned++;
        conn_close(c, "peer is banned");
        return;
    }
    c->state = C_OPEN;
    if (find_open_by_id(p, c->node_id, c) != NULL) {
        struct qcn_p2p_msg m;
        memset(&m, 0, sizeof m);
        m.type = QCN_P2P_MSG_GOODBYE;
        m.u.goodbye.reason = QCN_P2P_BYE_DUPLICATE;
        send_msg(c, &m);
        if (c->addr_idx >= 0) {
            p->book[c->addr_idx].known_id = 1;
            memcpy(p->book[c->addr_idx].node_id, c->node_id, QCN_P2P_NODE_ID_BYTES);
        }
        conn_close(c, "already connected to this node");
        return;
    }
    c->established = 1;
    p->stats.handshakes_ok++;
#ifdef QCN_TEST_FAULTS
    for (size_t i = 0; i < p->ncut; i++)
        if (memcmp(p->cut_ids[i], c->node_id, QCN_P2P_NODE_ID_BYTES) == 0)
            c->cut = 1;
#endif
    if (c->addr_idx >= 0) {
        struct addr_entry *e = &p->book[c->addr_idx];
        e->failures = 0;
        e->backoff_ms = p->cfg.dial_backoff_min_ms;
        e->known_id = 1;
        memcpy(e->node_id, c->node_id, QCN_P2P_NODE_ID_BYTES);
    }
    QCN_LOG(QCN_LOG_INFO, "p2p", "peer %s connected (%s, v%u)", c->addr,
            c->inbound ? "inbound" : "outbound", (unsigned)c->version);
    if (p->cb.on_peer != NULL)
        p->cb.on_peer(p->cb.ctx, c->node_id, 1);
    send_status(c);
    send_simple(c, QCN_P2P_MSG_GET_PEERS);
}

static void handle_hs(struct conn *c, const uint8_t *msg, size_t len)
{
    struct qcn_p2p *p = c->p;
    struct qcn_p2p_hs_params prm;
    uint8_t out[QCN_P2P_HS_MAX_BYTES];
    int err;
    hs_params(p, &prm);
    if (c->inbound && c->hs == NULL) {
        c->hs = calloc(1, sizeof *c->hs);
        if (c->hs == NULL) {
            conn_close(c, "out of memory");
            return;
        }
        err = qcn_p2p_hs_respond(c->hs, &prm, out, msg, len);
        if (err != QCN_OK) {
            conn_close(c, qcn_err_str(err));
            return;
        }
        if (banned_id(p, c->hs->peer_id)) {
            p->stats.refused_banned++;
            conn_close(c, "peer is banned");
            return;
        }
        send_hs(c, out, QCN_P2P_HS_RESP_BYTES);
    } else if (c->inbound) {
        err = qcn_p2p_hs_accept(c->hs, msg, len);
        if (err != QCN_OK) {
            conn_close(c, qcn_err_str(err));
            return;
        }
        established(c);
    } else {
        err = qcn_p2p_hs_finish(c->hs, out, msg, len);
        if (err != QCN_OK) {
            conn_close(c, qcn_err_str(err));
            return;
        }
        send_hs(c, out, QCN_P2P_HS_FIN_BYTES);
        if (c->state != C_CLOSING)
            established(c);
    }
}

/* ---- message handlers ---- */

static void on_status(struct conn *c, const struct qcn_p2p_msg *m)
{
    struct qcn_p2p *p = c->p;
    if (m->u.status.chain_id != p->cfg.chain_id ||
        memcmp(m->u.status.genesis_hash, p->cfg.genesis_hash, QCN_HASH_BYTES) != 0) {
        struct qcn_p2p_msg g;
        memset(&g, 0, sizeof g);
        g.type = QCN_P2P_MSG_GOODBYE;
        g.u.goodbye.reason = QCN_P2P_BYE_WRONG_CHAIN;
        send_msg(c, &g);
        if (c->addr_idx >= 0)
            p->book[c->addr_idx].backoff_ms = p->cfg.dial_backoff_max_ms;
        conn_close(c, "different chain or genesis");
        return;
    }
    c->got_status = 1;
    c->listen_port = m->u.status.listen_port;
    if (m->u.status.head_height > c->head_height)
        c->head_height = m->u.status.head_height;
    sync_check(p);
}

static void on_get_peers(struct conn *c)
{
    struct qcn_p2p *p = c->p;
    struct qcn_p2p_msg m;
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_PEERS;
    for (struct conn *o = p->conns; o != NULL && m.u.peers.n < QCN_P2P_MAX_PEER_ADDRS;
         o = o->next) {
        struct qcn_p2p_addr *a;
        if (o == c || !o->established || o->state != C_OPEN || o->listen_port == 0)
            continue;
        a = &m.u.peers.addrs[m.u.peers.n++];
        a->family = (uint8_t)o->family;
        memcpy(a->ip, o->ip, 16);
        a->port = o->listen_port;
    }
    send_msg(c, &m);
}

static void on_peers(struct conn *c, const struct qcn_p2p_msg *m)
{
    struct qcn_p2p *p = c->p;
    for (uint32_t i = 0; i < m->u.peers.n; i++) {
        const struct qcn_p2p_addr *a = &m->u.peers.addrs[i];
        char text[QCN_P2P_MAX_ADDR_TEXT];
        if (a->port == 0)
            continue;
        ip_to_text(text, sizeof text, a->ip, a->family, a->port);
        (void)book_add(p, text); /* full book or odd address: ignored */
    }
}

static void on_tx_announce(struct conn *c, const struct qcn_p2p_msg *m)
{
    struct qcn_p2p *p = c->p;
    struct qcn_p2p_msg r;
    uint8_t want[QCN_P2P_MAX_TX_HASHES][QCN_HASH_BYTES];
    uint32_t n = 0;
    p->stats.tx_announced_in += m->u.tx_hashes.n;
    for (uint32_t i = 0; i < m->u.tx_hashes.n; i++) {
        const uint8_t *h = m->u.tx_hashes.hashes + (size_t)i * QCN_HASH_BYTES;
        if (seen_has(&p->seen, h) || qcn_p2p_hset_get(&p->txreq, h, NULL) ||
            (p->cb.has_tx != NULL && p->cb.has_tx(p->cb.ctx, h))) {
            p->stats.dup_suppressed++;
            continue;
        }
        if (qcn_p2p_hset_put(&p->txreq, h, c->serial) != 0)
            break; /* too many requests in flight: ask later announcers */
        memcpy(want[n++], h, QCN_HASH_BYTES);
    }
    if (n == 0 || p->cb.on_tx == NULL)
        return;
    memset(&r, 0, sizeof r);
    r.type = QCN_P2P_MSG_TX_REQUEST;
    r.u.tx_hashes.n = n;
    r.u.tx_hashes.hashes = &want[0][0];
    p->stats.tx_requested += n;
    send_msg(c, &r);
}

static void on_tx_request(struct conn *c, const struct qcn_p2p_msg *m)
{
    struct qcn_p2p *p = c->p;
    struct qcn_p2p_msg r;
    struct qcn_buf bodies[QCN_P2P_MAX_TX_BODIES];
    size_t total = 0;
    uint32_t i = 0;
    if (p->cb.get_tx == NULL)
        return;
    while (i < m->u.tx_hashes.n) {
        uint32_t n = 0;
        memset(&r, 0, sizeof r);
        r.type = QCN_P2P_MSG_TX_BODIES;
        total = 0;
        for (; i < m->u.tx_hashes.n && n < QCN_P2P_MAX_TX_BODIES; i++) {
            qcn_buf_init(&bodies[n], QCN_TX_MAX_BYTES);
            if (p->cb.get_tx(p->cb.ctx, m->u.tx_hashes.hashes + (size_t)i * QCN_HASH_BYTES,
                             &bodies[n]) != QCN_OK ||
                bodies[n].len == 0) {
                qcn_buf_clear(&bodies[n]);
                continue;
            }
            if (total + bodies[n].len > QCN_P2P_MAX_TX_BODIES_BYTES) {
                qcn_buf_clear(&bodies[n]);
                break; /* this hash goes in the next message */
            }
            total += bodies[n].len;
            r.u.tx_bodies.bodies[n] = qcn_buf_view(&bodies[n]);
            n++;
        }
        r.u.tx_bodies.n = n;
        if (n > 0) {
            p->stats.tx_bodies_out += n;
            send_msg(c, &r);
        }
        for (uint32_t k = 0; k < n; k++)
            qcn_buf_clear(&bodies[k]);
        if (c->state != C_OPEN)
            return;
    }
}

static void on_tx_bodies(struct conn *c, const struct qcn_p2p_msg *m)
{
    struct qcn_p2p *p = c->p;
    for (uint32_t i = 0; i < m->u.tx_bodies.n; i++) {
        struct qcn_view v = m->u.tx_bodies.bodies[i];
        uint8_t h[QCN_HASH_BYTES];
        uint64_t who = 0;
        int err;
        qcn_keccak256(h, v.p, v.len);
        if (!qcn_p2p_hset_get(&p->txreq, h, &who) || who != c->serial) {
            if (penalize(c, QCN_P2P_PENALTY_UNSOLICITED, "unsolicited transaction body"))
                return;
            continue;
        }
        qcn_p2p_hset_del(&p->txreq, h);
        seen_add(&p->seen, h);
        p->stats.tx_bodies_in++;
        err = p->cb.on_tx(p->cb.ctx, v.p, v.len, c->node_id);
        if (err == QCN_ERR_TX_MALFORMED || err == QCN_ERR_TX_OVERSIZED ||
            err == QCN_ERR_TX_BAD_SIGNATURE || err == QCN_ERR_TX_UNKNOWN_SCHEME ||
            err == QCN_ERR_TX_WRONG_CHAIN) {
            if (penalize(c, QCN_P2P_PENALTY_INVALID, "invalid transaction"))
                return;
        }
        if (c->state != C_OPEN)
            return;
    }
}

static void on_new_block(struct conn *c, const struct qcn_p2p_msg *m)
{
    struct qcn_p2p *p = c->p;
    if (m->u.new_block.height > c->head_height)
        c->head_height = m->u.new_block.height;
    if (seen_has(&p->seen, m->u.new_block.hash))
        p->stats.dup_suppressed++;
    else
        seen_add(&p->seen, m->u.new_block.hash);
    sync_check(p);
}

static void on_get_blocks(struct conn *c, const struct qcn_p2p_msg *m)
{
    struct qcn_p2p *p = c->p;
    struct qcn_p2p_msg r;
    struct qcn_buf blk[QCN_P2P_MAX_BLOCKS_PER_MSG], com[QCN_P2P_MAX_BLOCKS_PER_MSG];
    size_t total = 0;
    uint32_t n = 0;
    memset(&r, 0, sizeof r);
    r.type = QCN_P2P_MSG_BLOCKS;
    for (uint32_t i = 0; p->cb.get_block != NULL && i < m->u.get_blocks.count; i++) {
        uint64_t h;
        if (__builtin_add_overflow(m->u.get_blocks.start, (uint64_t)i, &h))
            break;
        qcn_buf_init(&blk[n], QCN_P2P_MAX_BLOCK_BYTES);
        qcn_buf_init(&com[n], QCN_HEADER_MAX_COMMIT);
        if (p->cb.get_block(p->cb.ctx, h, &blk[n], &com[n]) != QCN_OK || blk[n].len == 0 ||
            (n > 0 && total + blk[n].len + com[n].len > SERVE_BLOCKS_SOFT_BYTES)) {
            qcn_buf_clear(&blk[n]);
            qcn_buf_clear(&com[n]);
            break;
        }
        total += blk[n].len + com[n].len;
        r.u.blocks.blocks[n] = qcn_buf_view(&blk[n]);
        r.u.blocks.commits[n] = qcn_buf_view(&com[n]);
        n++;
    }
    r.u.blocks.n = n;
    send_msg(c, &r);
    for (uint32_t k = 0; k < n; k++) {
        qcn_buf_clear(&blk[k]);
        qcn_buf_clear(&com[k]);
    }
}

static void on_blocks(struct conn *c, const struct qcn_p2p_msg *m)
{
    struct qcn_p2p *p = c->p;
    uint64_t head = 0;
    uint8_t hh[QCN_HASH_BYTES];
    if (p->sync_serial != c->serial) {
        penalize(c, QCN_P2P_PENALTY_UNSOLICITED, "unsolicited blocks");
        return;
    }
    p->sync_serial = 0;
    if (m->u.blocks.n == 0) {
        /* The peer does not have what it advertised (or pruned it). */
        if (p->cb.get_head != NULL)
            p->cb.get_head(p->cb.ctx, &head, hh);
        c->head_height = head;
        c->sync_failures++;
        sync_check(p);
        return;
    }
    p->applying = 1;
    for (uint32_t i = 0; i < m->u.blocks.n && c->state == C_OPEN; i++) {
        struct qcn_block blk;
        int err;
        if (p->cb.get_head != NULL)
            p->cb.get_head(p->cb.ctx, &head, hh);
        err = qcn_block_decode(&blk, m->u.blocks.blocks[i]);
        if (err != QCN_OK) {
            p->stats.blocks_rejected++;
            penalize(c, QCN_P2P_PENALTY_INVALID, "undecodable block");
            break;
        }
        if (blk.header.height != head + 1 || p->cb.apply_block == NULL) {
            uint64_t got = blk.header.height;
            qcn_block_clear(&blk);
            if (got <= head)
                continue; /* we got it meanwhile */
            p->stats.blocks_rejected++;
            penalize(c, QCN_P2P_PENALTY_INVALID, "block out of sequence");
            break;
        }
        err = p->cb.apply_block(p->cb.ctx, &blk, m->u.blocks.blocks[i].p, m->u.blocks.blocks[i].len,
                                m->u.blocks.commits[i].p, m->u.blocks.commits[i].len);
        qcn_block_clear(&blk);
        if (err == QCN_ERR_BUSY || err == QCN_ERR_STORE_FULL)
            p->sync_hold_ms = now_ms() + TICK_MS;
        if (err == QCN_ERR_BLOCK_PARENT) {
            /* Same height, another parent: the peer is on another branch
             * than our head (a fork a sync of whole blocks cannot mend).
             * Not necessarily malice, so no penalty; but stop asking it
             * after a few tries instead of looping. */
            c->sync_failures++;
            QCN_LOG_RATELIMITED(&c->log_rl, QCN_LOG_WARN, "p2p",
                                "peer %s serves block %llu on another branch", c->addr,
                                (unsigned long long)(head + 1));
            break;
        }
        if (err == QCN_ERR_BUSY || err == QCN_ERR_STORE_FULL)
            break; /* the host cannot take a block now: ask again later */
        if (err != QCN_OK) {
            p->stats.blocks_rejected++;
            QCN_LOG(QCN_LOG_WARN, "p2p", "block %llu from %s rejected: %s",
                    (unsigned long long)(head + 1), c->addr, qcn_err_str(err));
            c->sync_failures++;
            penalize(c, QCN_P2P_PENALTY_INVALID, "invalid block");
            break;
        }
        p->stats.blocks_synced++;
    }
    p->applying = 0;
    sync_check(p);
}

static void on_consensus(struct conn *c, const struct qcn_p2p_msg *m)
{
    struct qcn_p2p *p = c->p;
    struct qcn_keccak k;
    uint8_t id[QCN_HASH_BYTES];
    int err, repeat = 0;
    if (QCN_P2P_CONSENSUS_IS_DIRECT(m->u.consensus.kind)) {
        /* Point to point: meant for us only, never relayed; the same bytes
         * may legitimately come again (a repeated request), so no seen
         * cache either. The engine bounds what it serves. */
        p->stats.consensus_in++;
        if (p->cb.on_consensus != NULL &&
            p->cb.on_consensus(p->cb.ctx, c->node_id, m->u.consensus.kind, m->u.consensus.payload.p,
                               m->u.consensus.payload.len) != QCN_OK)
            penalize(c, QCN_P2P_PENALTY_INVALID, "invalid consensus message");
        return;
    }
    qcn_keccak_init(&k, 136, 0x01);
    qcn_keccak_absorb(&k, &m->u.consensus.kind, 1);
    qcn_keccak_absorb(&k, m->u.consensus.payload.p, m->u.consensus.payload.len);
    qcn_keccak_squeeze(&k, id, sizeof id);
    {
        uint64_t at, now = now_ms();
        if (seen_get(&p->cseen, id, &at)) {
            if (at == 0 || now < at + p->cfg.consensus_redeliver_ms) {
                p->stats.dup_suppressed++;
                return;
            }
            repeat = 1;
        }
        seen_put(&p->cseen, id, now);
    }
    p->stats.consensus_in++;
    if (p->cb.on_consensus == NULL)
        return;
    err = p->cb.on_consensus(p->cb.ctx, c->node_id, m->u.consensus.kind, m->u.consensus.payload.p,
                             m->u.consensus.payload.len);
    if (err != QCN_OK) {
        penalize(c, QCN_P2P_PENALTY_INVALID, "invalid consensus message");
        return;
    }
    /* A repeat is not relayed: its origin (or a peer holding it) repeats
     * it to everyone itself, and relaying repeats would multiply traffic. */
    if (p->cfg.relay_consensus && !repeat)
        for (struct conn *o = p->conns; o != NULL; o = o->next)
            if (o != c && o->established && o->state == C_OPEN)
                send_msg(o, m);
}

/* Token buckets: one second of burst, refilled continuously. */
static int rate_ok(struct conn *c, size_t bytes)
{
    struct qcn_p2p *p = c->p;
    uint64_t t = now_ms();
    double dt = (double)(t - c->rate_ms) / 1000.0;
    c->rate_ms = t;
    c->tok_msgs += dt * p->cfg.rate_msgs_per_s;
    if (c->tok_msgs > p->cfg.rate_msgs_per_s)
        c->tok_msgs = p->cfg.rate_msgs_per_s;
    c->tok_bytes += dt * (double)p->cfg.rate_bytes_per_s;
    if (c->tok_bytes > (double)p->cfg.rate_bytes_per_s)
        c->tok_bytes = (double)p->cfg.rate_bytes_per_s;
    if (c->tok_msgs < 1.0 || c->tok_bytes < (double)bytes) {
        /* A single message bigger than a second's budget (a large block
         * response) is allowed once the bucket is full. */
        if (!(c->tok_msgs >= 1.0 && c->tok_bytes >= (double)p->cfg.rate_bytes_per_s))
            return 0;
    }
    c->tok_msgs -= 1.0;
    c->tok_bytes -= (double)bytes;
    return 1;
}

static void handle_msg(struct conn *c, const uint8_t *pt, size_t len)
{
    struct qcn_p2p *p = c->p;
    struct qcn_p2p_msg m;
    int err;
    if (cut_off(c)) { /* opened (the counters stay in step), then dropped */
        p->stats.fault_dropped++;
        return;
    }
    c->msgs_in++;
    if (!rate_ok(c, len)) {
        p->stats.rate_limited++;
        penalize(c, QCN_P2P_PENALTY_RATE, "over the rate limit");
        return;
    }
    err = qcn_p2p_msg_decode(&m, qcn_view_make(pt, len));
    if (err != QCN_OK) {
        penalize(c, err == QCN_ERR_TOO_LARGE ? QCN_P2P_PENALTY_OVERSIZE : QCN_P2P_PENALTY_MALFORMED,
                 "malformed message");
        return;
    }
    if (!c->got_status && m.type != QCN_P2P_MSG_STATUS && m.type != QCN_P2P_MSG_GOODBYE) {
        penalize(c, QCN_P2P_PENALTY_MALFORMED, "message before status");
        return;
    }
    switch (m.type) {
    case QCN_P2P_MSG_STATUS:
        on_status(c, &m);
        break;
    case QCN_P2P_MSG_PING:
        m.type = QCN_P2P_MSG_PONG;
        send_msg(c, &m);
        break;
    case QCN_P2P_MSG_PONG:
        break;
    case QCN_P2P_MSG_GET_PEERS:
        on_get_peers(c);
        break;
    case QCN_P2P_MSG_PEERS:
        on_peers(c, &m);
        break;
    case QCN_P2P_MSG_TX_ANNOUNCE:
        on_tx_announce(c, &m);
        break;
    case QCN_P2P_MSG_TX_REQUEST:
        on_tx_request(c, &m);
        break;
    case QCN_P2P_MSG_TX_BODIES:
        on_tx_bodies(c, &m);
        break;
    case QCN_P2P_MSG_NEW_BLOCK:
        on_new_block(c, &m);
        break;
    case QCN_P2P_MSG_GET_BLOCKS:
        on_get_blocks(c, &m);
        break;
    case QCN_P2P_MSG_BLOCKS:
        on_blocks(c, &m);
        break;
    case QCN_P2P_MSG_CONSENSUS:
        on_consensus(c, &m);
        break;
    case QCN_P2P_MSG_GOODBYE:
        conn_close(c, "peer said goodbye");
        break;
    default:
        break;
    }
}

/* Feeds received bytes through the length-prefix parser. */
static void feed(struct conn *c, const uint8_t *in, size_t n)
{
    struct qcn_p2p *p = c->p;
    while (n > 0 && c->state != C_CLOSING) {
        if (c->hdr_have < 4) {
            size_t k = 4 - c->hdr_have < n ? 4 - c->hdr_have : n;
            memcpy(c->hdr + c->hdr_have, in, k);
            c->hdr_have += k;
            in += k;
            n -= k;
            if (c->hdr_have < 4)
                return;
            c->body_len = qcn_load_be32(c->hdr);
            if (c->state == C_HANDSHAKE) {
                if (c->body_len == 0 || c->body_len > QCN_P2P_HS_MAX_BYTES) {
                    conn_close(c, "handshake message of a wrong size");
                    return;
                }
            } else if (c->body_len < QCN_P2P_TAG_BYTES ||
                       c->body_len > QCN_P2P_MAX_MSG_BYTES + QCN_P2P_TAG_BYTES) {
                /* Closed, not banned: the length is authenticated only
                 * with the body, so a forged length may come from a
                 * middlebox rather than the peer. */
                p->stats.oversize_frames++;
                conn_close(c, "frame over the global cap");
                return;
            }
            c->body = NULL;
            c->body_cap = 0;
            c->body_have = 0;
            if (n == 0)
                return; /* the body comes with the next read */
        }
        {
            size_t k = c->body_len - c->body_have < n ? c->body_len - c->body_have : n;
            /* The buffer grows with the bytes that actually arrived (doubling,
             * up to the announced length), so a header claiming a huge frame
             * costs memory only as fast as the peer really sends. */
            if (c->body_have + k > c->body_cap) {
                size_t cap = c->body_cap ? c->body_cap * 2 : READ_CHUNK;
                uint8_t *nb;
                if (cap < c->body_have + k)
                    cap = c->body_have + k;
                if (cap > c->body_len)
                    cap = c->body_len;
                nb = realloc(c->body, cap);
                if (nb == NULL) {
                    conn_close(c, "out of memory");
                    return;
                }
                c->body = nb;
                c->body_cap = cap;
            }
            memcpy(c->body + c->body_have, in, k);
            c->body_have += k;
            in += k;
            n -= k;
        }
        if (c->body_have < c->body_len)
            return;
        {
            uint8_t *body = c->body;
            size_t blen = c->body_len;
            c->body = NULL;
            c->hdr_have = 0;
            c->last_recv_ms = now_ms();
            c->bytes_in += 4 + blen;
            if (c->state == C_HANDSHAKE) {
                handle_hs(c, body, blen);
            } else if (qcn_p2p_open(&c->rx, body, c->hdr, body, blen) != QCN_OK) {
                p->stats.frames_rejected++;
                conn_close(c, "frame failed authentication");
            } else {
                handle_msg(c, body, blen - QCN_P2P_TAG_BYTES);
            }
            free(body);
        }
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    (void)buf;
    if (nread < 0) {
        conn_close(c, nread == UV_EOF ? "peer closed" : uv_strerror((int)nread));
        return;
    }
    feed(c, c->p->readbuf, (size_t)nread);
}

static void peer_addr(struct conn *c)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    uint16_t port = 0;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &len) != 0)
        return;
    sa_to_ip(&sa, c->ip, &c->family, &port);
    ip_to_text(c->addr, sizeof c->addr, c->ip, c->family, port);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    struct qcn_p2p *p = c->p;
    struct qcn_p2p_hs_params prm;
    uint8_t out[QCN_P2P_HS_INIT_BYTES];
    if (c->state == C_CLOSING)
        return;
    if (status < 0) {
        conn_close(c, uv_strerror(status));
        return;
    }
    c->state = C_HANDSHAKE;
    c->created_ms = now_ms();
    peer_addr(c);
    uv_tcp_nodelay(&c->tcp, 1);
    c->hs = calloc(1, sizeof *c->hs);
    hs_params(p, &prm);
    if (c->hs == NULL || qcn_p2p_hs_initiate(c->hs, &prm, out) != QCN_OK) {
        conn_close(c, "handshake start failed");
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c, "read start failed");
        return;
    }
    send_hs(c, out, QCN_P2P_HS_INIT_BYTES);
}

static void dial_entry(struct qcn_p2p *p, size_t idx)
{
    struct addr_entry *e = &p->book[idx];
    struct conn *c = conn_new(p, 0);
    if (c == NULL)
        return;
    p->stats.dials++;
    c->state = C_CONNECTING;
    c->addr_idx = (int)idx;
    snprintf(c->addr, sizeof c->addr, "%s", e->text);
    e->conn_serial = c->serial;
    c->connect_req.data = c;
    if (uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&e->sa, on_connect) != 0)
        conn_close(c, "connect failed");
}

static void on_connection(uv_stream_t *server, int status)
{
    struct qcn_p2p *p = server->data;
    struct conn *c;
    if (status < 0 || p->stopping)
        return;
    c = conn_new(p, 1);
    if (c == NULL)
        return;
    c->state = C_HANDSHAKE;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c, "accept failed");
        return;
    }
    peer_addr(c);
    if (count_conns(p, 1) > p->cfg.max_inbound) {
        p->stats.refused_full++;
        conn_close(c, "too many inbound peers");
        return;
    }
    if (banned_ip(p, c->ip, c->family)) {
        p->stats.refused_banned++;
        conn_close(c, "address is banned");
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        conn_close(c, "read start failed");
}

/* ---- sync ---- */

static void sync_check(struct qcn_p2p *p)
{
    uint64_t head = 0, best = 0;
    uint8_t hh[QCN_HASH_BYTES];
    struct conn *pick = NULL;
    struct qcn_p2p_msg m;
    if (p->applying || p->stopping || p->cb.get_head == NULL)
        return;
    p->cb.get_head(p->cb.ctx, &head, hh);
    for (struct conn *c = p->conns; c != NULL; c = c->next) {
        if (!c->established || c->state != C_OPEN || !c->got_status || cut_off(c))
            continue;
        if (c->head_height > best)
            best = c->head_height;
        if (c->sync_failures < MAX_SYNC_FAILURES && c->head_height > head &&
            (pick == NULL || c->head_height > pick->head_height))
            pick = c;
    }
    p->stats.best_height = best > p->stats.best_height ? best : p->stats.best_height;
    if (p->sync_serial != 0 || now_ms() < p->sync_hold_ms)
        return; /* a request is outstanding, or the host asked for a pause */
    if (pick != NULL && p->cfg.sync_lag_ms > 0 && pick->head_height == head + 1) {
        uint64_t t = now_ms();
        if (p->lag_head != head || p->lag_since_ms == 0) {
            p->lag_head = head;
            p->lag_since_ms = t;
        }
        if (t - p->lag_since_ms < p->cfg.sync_lag_ms)
            pick = NULL; /* as good as caught up for now; the tick looks again */
    }
    if (pick == NULL || p->cb.apply_block == NULL) {
        if (p->stats.syncing) {
            p->stats.syncing = 0;
            QCN_LOG(QCN_LOG_INFO, "p2p", "synced to height %llu", (unsigned long long)head);
            if (p->cb.on_synced != NULL)
                p->cb.on_synced(p->cb.ctx, head);
        }
        return;
    }
    if (!p->stats.syncing)
        QCN_LOG(QCN_LOG_INFO, "p2p", "syncing from height %llu to %llu", (unsigned long long)head,
                (unsigned long long)pick->head_height);
    p->stats.syncing = 1;
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_GET_BLOCKS;
    m.u.get_blocks.start = head + 1;
    m.u.get_blocks.count = p->cfg.sync_batch;
    if (pick->head_height - head < m.u.get_blocks.count)
        m.u.get_blocks.count = (uint32_t)(pick->head_height - head);
    p->sync_serial = pick->serial;
    p->sync_start = head + 1;
    p->sync_count = m.u.get_blocks.count;
    p->sync_deadline_ms = now_ms() + p->cfg.sync_timeout_ms;
    send_msg(pick, &m);
}

/* ---- the tick: timeouts, dialling, announcements, pings ---- */

static void flush_announce(struct qcn_p2p *p)
{
    struct qcn_p2p_msg m;
    if (p->nannounce == 0)
        return;
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_TX_ANNOUNCE;
    m.u.tx_hashes.n = p->nannounce;
    m.u.tx_hashes.hashes = &p->announce[0][0];
    for (struct conn *c = p->conns; c != NULL; c = c->next)
        if (c->established && c->state == C_OPEN && c->got_status)
            send_msg(c, &m);
    p->nannounce = 0;
}

static void sweep_txreq(struct qcn_p2p *p)
{
    /* Requests not answered within the TTL are forgotten, so another
     * announcer can be asked. Rebuilt rather than deleted in place. */
    struct qcn_p2p_hset fresh;
    if (qcn_p2p_hset_init(&fresh, p->txreq.limit) != QCN_OK)
        return;
    for (size_t i = 0; i <= p->txreq.mask; i++)
        if (p->txreq.used[i] && find_by_serial(p, p->txreq.vals[i]) != NULL)
            (void)qcn_p2p_hset_put(&fresh, p->txreq.keys[i], p->txreq.vals[i]);
    qcn_p2p_hset_clear(&p->txreq);
    p->txreq = fresh;
}

static void on_tick(uv_timer_t *t)
{
    struct qcn_p2p *p = t->data;
    uint64_t now = now_ms();
    size_t nout;
    struct conn *c, *next;
    if (p->stopping)
        return;
    flush_announce(p);
    for (c = p->conns; c != NULL; c = next) {
        next = c->next;
        if (c->state == C_CLOSING)
            continue;
        if (!c->established && now - c->created_ms > p->cfg.handshake_timeout_ms) {
            conn_close(c, "handshake timed out");
            continue;
        }
        if (cut_off(c)) /* silent because of the test partition: kept */
            continue;
        if (c->established && now - c->last_recv_ms > 3 * p->cfg.ping_interval_ms) {
            conn_close(c, "peer silent");
            continue;
        }
        if (c->established && now - c->last_ping_ms > p->cfg.ping_interval_ms) {
            struct qcn_p2p_msg m;
            memset(&m, 0, sizeof m);
            m.type = QCN_P2P_MSG_PING;
            qcn_rng_bytes((uint8_t *)&m.u.ping_nonce, sizeof m.u.ping_nonce);
            c->last_ping_ms = now;
            send_msg(c, &m);
        }
    }
    if (p->sync_serial != 0 && now > p->sync_deadline_ms) {
        struct conn *s = find_by_serial(p, p->sync_serial);
        p->sync_serial = 0;
        if (s != NULL) {
            s->sync_failures++;
            penalize(s, QCN_P2P_PENALTY_TIMEOUT, "sync request timed out");
        }
    }
    sync_check(p);
    if (now - p->pex_ms > p->cfg.pex_interval_ms) {
        p->pex_ms = now;
        for (c = p->conns; c != NULL; c = c->next)
            if (c->established && c->state == C_OPEN && c->got_status)
                send_simple(c, QCN_P2P_MSG_GET_PEERS);
    }
    if (now - p->txreq_sweep_ms > TX_REQ_TTL_MS) {
        p->txreq_sweep_ms = now;
        sweep_txreq(p);
    }
    nout = count_conns(p, 0);
    for (size_t i = 0; i < p->nbook && nout < p->cfg.max_outbound; i++) {
        struct addr_entry *e = &p->book[i];
        if (e->is_self || e->conn_serial != 0 || e->next_dial_ms > now)
            continue;
        if (e->known_id &&
            (find_open_by_id(p, e->node_id, NULL) != NULL || banned_id(p, e->node_id)))
            continue;
        {
            uint8_t ip[16];
            int fam;
            uint16_t port;
            sa_to_ip(&e->sa, ip, &fam, &port);
            if (banned_ip(p, ip, fam))
                continue;
        }
        e->next_dial_ms = now + e->backoff_ms;
        dial_entry(p, i);
        nout++;
    }
}

/* ---- public ---- */

int qcn_p2p_new(qcn_p2p **out, uv_loop_t *loop, const struct qcn_p2p_config *cfg,
                const struct qcn_p2p_callbacks *cbs)
{
    struct qcn_p2p *p;
    int err;
    *out = NULL;
    if (cfg->identity == NULL || cfg->identity->sk == NULL ||
        cfg->nbootnodes > QCN_P2P_MAX_BOOTNODES || cfg->sync_batch == 0 ||
        cfg->sync_batch > QCN_P2P_MAX_BLOCKS_PER_MSG)
        return QCN_ERR_CONFIG;
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return QCN_ERR_NOMEM;
    p->loop = loop;
    p->cfg = *cfg;
    if (cbs != NULL)
        p->cb = *cbs;
    err = seen_init(&p->seen, QCN_P2P_SEEN_CACHE); /* cleared below on failure */
    if (err == QCN_OK)
        err = seen_init(&p->cseen, QCN_P2P_CONSENSUS_SEEN_CACHE);
    if (err == QCN_OK)
        err = qcn_p2p_hset_init(&p->txreq, QCN_P2P_MAX_PENDING_TX_REQ);
    for (size_t i = 0; err == QCN_OK && i < cfg->nbootnodes; i++)
        err = book_add(p, cfg->bootnodes[i]);
    if (err != QCN_OK) {
        seen_clear(&p->seen);
        seen_clear(&p->cseen);
        qcn_p2p_hset_clear(&p->txreq);
        free(p);
        return err;
    }
    p->txreq_sweep_ms = p->pex_ms = now_ms();
    *out = p;
    return QCN_OK;
}

int qcn_p2p_start(qcn_p2p *p)
{
    int rc;
    if (p->started)
        return QCN_ERR_INVALID_ARG;
    /* A peer that hangs up while we write must not kill the process: libuv
     * writes with write(2), so SIGPIPE is ignored process-wide (the error
     * comes back as EPIPE instead). */
    signal(SIGPIPE, SIG_IGN);
    if (uv_timer_init(p->loop, &p->tick) != 0)
        return QCN_ERR_IO;
    p->tick.data = p;
    p->open_handles++;
    p->started = 1;
    if (p->cfg.listen[0] != 0) {
        struct sockaddr_storage sa, bound;
        int len = sizeof bound;
        int fam;
        uint8_t ip[16];
        if (parse_addr(&sa, p->cfg.listen) != QCN_OK)
            return QCN_ERR_CONFIG;
        if (uv_tcp_init(p->loop, &p->listener) != 0)
            return QCN_ERR_IO;
        p->listener.data = p;
        p->open_handles++;
        p->listening = 1;
        rc = uv_tcp_bind(&p->listener, (const struct sockaddr *)&sa, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&p->listener, 128, on_connection);
        if (rc != 0) {
            QCN_LOG(QCN_LOG_ERROR, "p2p", "cannot listen on %s: %s", p->cfg.listen,
                    uv_strerror(rc));
            return QCN_ERR_IO;
        }
        if (uv_tcp_getsockname(&p->listener, (struct sockaddr *)&bound, &len) == 0)
            sa_to_ip(&bound, ip, &fam, &p->port);
        QCN_LOG(QCN_LOG_INFO, "p2p", "listening on port %u", (unsigned)p->port);
    }
    if (uv_timer_start(&p->tick, on_tick, 0, TICK_MS) != 0)
        return QCN_ERR_IO;
    return QCN_OK;
}

uint16_t qcn_p2p_listen_port(const qcn_p2p *p)
{
    return p->port;
}

int qcn_p2p_dial(qcn_p2p *p, const char *addr)
{
    return book_add(p, addr);
}

void qcn_p2p_stop(qcn_p2p *p)
{
    struct conn *c, *next;
    if (p == NULL || p->stopping)
        return;
    p->stopping = 1;
    for (c = p->conns; c != NULL; c = next) {
        next = c->next;
        if (c->established && c->state == C_OPEN) {
            struct qcn_p2p_msg m;
            memset(&m, 0, sizeof m);
            m.type = QCN_P2P_MSG_GOODBYE;
            m.u.goodbye.reason = QCN_P2P_BYE_SHUTDOWN;
            send_msg(c, &m);
        }
        conn_close(c, "shutting down");
    }
    if (p->started) {
        uv_timer_stop(&p->tick);
        p->tick.data = p;
        uv_close((uv_handle_t *)&p->tick, on_handle_closed);
    }
    if (p->listening) {
        p->listener.data = p;
        uv_close((uv_handle_t *)&p->listener, on_handle_closed);
    }
}

int qcn_p2p_closed(const qcn_p2p *p)
{
    return p->open_handles == 0;
}

void qcn_p2p_free(qcn_p2p *p)
{
    if (p == NULL)
        return;
    seen_clear(&p->seen);
    seen_clear(&p->cseen);
    qcn_p2p_hset_clear(&p->txreq);
    free(p);
}

void qcn_p2p_broadcast_tx_hash(qcn_p2p *p, const uint8_t hash[QCN_HASH_BYTES])
{
    if (p->stopping)
        return;
    seen_add(&p->seen, hash);
    memcpy(p->announce[p->nannounce++], hash, QCN_HASH_BYTES);
    if (p->nannounce == QCN_P2P_MAX_TX_HASHES)
        flush_announce(p);
}

void qcn_p2p_broadcast_block(qcn_p2p *p, uint64_t height, const uint8_t hash[QCN_HASH_BYTES])
{
    struct qcn_p2p_msg m;
    if (p->stopping)
        return;
    seen_add(&p->seen, hash);
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_NEW_BLOCK;
    m.u.new_block.height = height;
    memcpy(m.u.new_block.hash, hash, QCN_HASH_BYTES);
    for (struct conn *c = p->conns; c != NULL; c = c->next)
        if (c->established && c->state == C_OPEN && c->got_status)
            send_msg(c, &m);
}

/* The CONSENSUS message carrying payload as kind, after the checks both the
 * broadcast and the one-peer send make (a known kind, its cap, not
 * stopping). */
static int consensus_msg(const qcn_p2p *p, struct qcn_p2p_msg *m, uint8_t kind,
                         const uint8_t *payload, size_t len)
{
    size_t cap = qcn_p2p_consensus_cap(kind);
    if (cap == 0)
        return QCN_ERR_CODEC;
    if (len > cap)
        return QCN_ERR_TOO_LARGE;
    if (p->stopping)
        return QCN_ERR_CLOSED;
    memset(m, 0, sizeof *m);
    m->type = QCN_P2P_MSG_CONSENSUS;
    m->u.consensus.kind = kind;
    m->u.consensus.payload = qcn_view_make(payload, len);
    return QCN_OK;
}

int qcn_p2p_broadcast_consensus(qcn_p2p *p, uint8_t kind, const uint8_t *payload, size_t len)
{
    struct qcn_p2p_msg m;
    struct qcn_keccak k;
    uint8_t id[QCN_HASH_BYTES];
    int err = consensus_msg(p, &m, kind, payload, len);
    if (err != QCN_OK)
        return err;
    qcn_keccak_init(&k, 136, 0x01);
    qcn_keccak_absorb(&k, &kind, 1);
    qcn_keccak_absorb(&k, payload, len);
    qcn_keccak_squeeze(&k, id, sizeof id);
    seen_put(&p->cseen, id, now_ms()); /* our own: an echo within the window is dropped */
    for (struct conn *c = p->conns; c != NULL; c = c->next)
        if (c->established && c->state == C_OPEN && c->got_status)
            send_msg(c, &m);
    return QCN_OK;
}

int qcn_p2p_send_consensus(qcn_p2p *p, const uint8_t node_id[QCN_P2P_NODE_ID_BYTES], uint8_t kind,
                           const uint8_t *payload, size_t len)
{
    struct qcn_p2p_msg m;
    struct conn *c;
    int err = consensus_msg(p, &m, kind, payload, len);
    if (err != QCN_OK)
        return err;
    c = find_open_by_id(p, node_id, NULL);
    if (c == NULL || !c->established || c->state != C_OPEN || !c->got_status)
        return QCN_ERR_NOT_FOUND;
    send_msg(c, &m);
    return QCN_OK;
}

int qcn_p2p_penalize(qcn_p2p *p, const uint8_t node_id[QCN_P2P_NODE_ID_BYTES], int32_t amount,
                     const char *why)
{
    struct conn *c = find_open_by_id(p, node_id, NULL);
    if (c == NULL)
        return 0;
    penalize(c, amount, why);
    return 1;
}

void qcn_p2p_head_changed(qcn_p2p *p)
{
    sync_check(p);
}

size_t qcn_p2p_peers(const qcn_p2p *p, struct qcn_p2p_peer_info *out, size_t max)
{
    size_t n = 0;
    for (const struct conn *c = p->conns; c != NULL; c = c->next) {
        struct qcn_p2p_peer_info *i;
        if (!c->established || c->state != C_OPEN)
            continue;
        if (n < max) {
            i = &out[n];
            memset(i, 0, sizeof *i);
            memcpy(i->node_id, c->node_id, sizeof i->node_id);
            snprintf(i->addr, sizeof i->addr, "%s", c->addr);
            i->inbound = c->inbound;
            i->score = c->score;
            i->head_height = c->head_height;
            i->msgs_in = c->msgs_in;
            i->msgs_out = c->msgs_out;
            i->bytes_in = c->bytes_in;
            i->bytes_out = c->bytes_out;
            i->rekeys_in = c->rx.rekeys;
            i->rekeys_out = c->tx.rekeys;
            i->version = c->version;
            i->partitioned = cut_off(c);
            i->ready = c->got_status;
        }
        n++;
    }
    return n;
}

void qcn_p2p_stats_get(const qcn_p2p *p, struct qcn_p2p_stats *out)
{
    *out = p->stats;
}

#ifdef QCN_TEST_FAULTS
int qcn_p2p_fault_partition(qcn_p2p *p, const uint8_t (*ids)[QCN_P2P_NODE_ID_BYTES], size_t n)
{
    if (n > QCN_P2P_MAX_PARTITION)
        return QCN_ERR_TOO_LARGE;
    if (n > 0)
        memcpy(p->cut_ids, ids, n * sizeof ids[0]);
    p->ncut = n;
    for (struct conn *c = p->conns; c != NULL; c = c->next) {
        int was = c->cut;
        if (!c->established || c->state != C_OPEN)
            continue;
        c->cut = 0;
        for (size_t i = 0; i < n; i++)
            if (memcmp(ids[i], c->node_id, QCN_P2P_NODE_ID_BYTES) == 0)
                c->cut = 1;
        if (c->cut && !was && c->serial == p->sync_serial)
            p->sync_serial = 0; /* the answer would be dropped: ask someone else */
        /* Healed: the connection is closed and dialled again (dial
         * backoff, docs/p2p.md §5), as TCP connections across a real
         * partition would have been, so both ends start over from a fresh
         * handshake and STATUS exchange instead of whatever they missed. */
        if (!c->cut && was)
            conn_close(c, "test partition healed: reconnecting");
    }
    QCN_LOG(QCN_LOG_WARN, "p2p", "TEST FAULT: %zu peer(s) cut off%s", n, n == 0 ? " (healed)" : "");
    sync_check(p);
    return QCN_OK;
}

size_t qcn_p2p_fault_partition_get(const qcn_p2p *p, uint8_t (*ids)[QCN_P2P_NODE_ID_BYTES],
                                   size_t max)
{
    for (size_t i = 0; i < p->ncut && i < max; i++)
        memcpy(ids[i], p->cut_ids[i], QCN_P2P_NODE_ID_BYTES);
    return p->ncut;
}
#endif
