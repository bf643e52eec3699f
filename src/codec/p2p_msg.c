/* p2p_msg.c - wire encodings of the p2p protocol (docs/p2p.md §2, §4).
 *
 * Plain fixed-width big-endian fields rather than RLP: every message is small
 * and flat, and a fixed layout makes the caps obvious (each count is read,
 * checked against its cap, and only then is anything sized from it). */
#include "codec/p2p_msg.h"

#include <string.h>

static void put16(uint8_t **p, uint16_t v)
{
    qcn_store_be16(*p, v);
    *p += 2;
}
static void put32(uint8_t **p, uint32_t v)
{
    qcn_store_be32(*p, v);
    *p += 4;
}
static void put64(uint8_t **p, uint64_t v)
{
    qcn_store_be64(*p, v);
    *p += 8;
}
static void putn(uint8_t **p, const uint8_t *src, size_t n)
{
    memcpy(*p, src, n);
    *p += n;
}

/* The part HS_INIT and HS_RESP share (docs/p2p.md §2): nonce, key exchange
 * message (kex_len bytes: kex_init or kex_resp), identity scheme and key. */
static void put_hello(uint8_t **p, const uint8_t nonce[QCN_P2P_NONCE_BYTES], const uint8_t *kex,
                      size_t kex_len, uint8_t id_scheme, const uint8_t id_pk[QCN_P2P_ID_PK_BYTES])
{
    putn(p, nonce, QCN_P2P_NONCE_BYTES);
    putn(p, kex, kex_len);
    *(*p)++ = id_scheme;
    putn(p, id_pk, QCN_P2P_ID_PK_BYTES);
}

void qcn_p2p_hs_init_encode(uint8_t out[QCN_P2P_HS_INIT_BYTES], const struct qcn_p2p_hs_init *m)
{
    uint8_t *p = out;
    put32(&p, QCN_P2P_MAGIC);
    put16(&p, m->version);
    put16(&p, m->min_version);
    put64(&p, m->chain_id);
    put_hello(&p, m->nonce, m->kex, sizeof m->kex, m->id_scheme, m->id_pk);
}

void qcn_p2p_hs_resp_encode(uint8_t *out, const struct qcn_p2p_hs_resp *m, int with_sig)
{
    uint8_t *p = out;
    put32(&p, QCN_P2P_MAGIC);
    put16(&p, m->version);
    put_hello(&p, m->nonce, m->kex, sizeof m->kex, m->id_scheme, m->id_pk);
    if (with_sig)
        putn(&p, m->sig, sizeof m->sig);
}

void qcn_p2p_hs_fin_encode(uint8_t out[QCN_P2P_HS_FIN_BYTES], const struct qcn_p2p_hs_fin *m)
{
    uint8_t *p = out;
    put32(&p, QCN_P2P_MAGIC);
    putn(&p, m->sig, sizeof m->sig);
}

/* Every handshake message has one fixed size and opens with the magic
 * (docs/p2p.md §2): checks both and leaves r at the first field. */
static int hs_open(struct qcn_reader *r, struct qcn_view in, size_t size)
{
    uint32_t magic = 0;
    if (in.len != size)
        return -1;
    qcn_reader_init(r, in.p, in.len);
    qcn_reader_be32(r, &magic);
    return magic == QCN_P2P_MAGIC ? 0 : -1;
}

/* The inverse of put_hello; a short read is left for qcn_reader_finish. */
static void read_hello(struct qcn_reader *r, uint8_t nonce[QCN_P2P_NONCE_BYTES], uint8_t *kex,
                       size_t kex_len, uint8_t *id_scheme, uint8_t id_pk[QCN_P2P_ID_PK_BYTES])
{
    qcn_reader_copy(r, nonce, QCN_P2P_NONCE_BYTES);
    qcn_reader_copy(r, kex, kex_len);
    qcn_reader_u8(r, id_scheme);
    qcn_reader_copy(r, id_pk, QCN_P2P_ID_PK_BYTES);
}

int qcn_p2p_hs_init_decode(struct qcn_p2p_hs_init *out, struct qcn_view in)
{
    struct qcn_reader r;
    memset(out, 0, sizeof *out);
    if (hs_open(&r, in, QCN_P2P_HS_INIT_BYTES) != 0)
        goto bad;
    qcn_reader_be16(&r, &out->version);
    qcn_reader_be16(&r, &out->min_version);
    qcn_reader_be64(&r, &out->chain_id);
    read_hello(&r, out->nonce, out->kex, sizeof out->kex, &out->id_scheme, out->id_pk);
    if (qcn_reader_finish(&r) != QCN_OK || out->id_scheme != QCN_P2P_ID_SCHEME)
        goto bad;
    return QCN_OK;
bad:
    memset(out, 0, sizeof *out);
    return QCN_ERR_CODEC;
}

int qcn_p2p_hs_resp_decode(struct qcn_p2p_hs_resp *out, struct qcn_view in)
{
    struct qcn_reader r;
    memset(out, 0, sizeof *out);
    if (hs_open(&r, in, QCN_P2P_HS_RESP_BYTES) != 0)
        goto bad;
    qcn_reader_be16(&r, &out->version);
    read_hello(&r, out->nonce, out->kex, sizeof out->kex, &out->id_scheme, out->id_pk);
    qcn_reader_copy(&r, out->sig, sizeof out->sig);
    if (qcn_reader_finish(&r) != QCN_OK || out->id_scheme != QCN_P2P_ID_SCHEME)
        goto bad;
    return QCN_OK;
bad:
    memset(out, 0, sizeof *out);
    return QCN_ERR_CODEC;
}

int qcn_p2p_hs_fin_decode(struct qcn_p2p_hs_fin *out, struct qcn_view in)
{
    struct qcn_reader r;
    memset(out, 0, sizeof *out);
    if (hs_open(&r, in, QCN_P2P_HS_FIN_BYTES) != 0)
        goto bad;
    qcn_reader_copy(&r, out->sig, sizeof out->sig);
    if (qcn_reader_finish(&r) != QCN_OK)
        goto bad;
    return QCN_OK;
bad:
    memset(out, 0, sizeof *out);
    return QCN_ERR_CODEC;
}

size_t qcn_p2p_consensus_cap(uint8_t kind)
{
    switch (kind) {
    case QCN_P2P_CONSENSUS_PROPOSAL:
        return QCN_P2P_MAX_CONSENSUS_PROPOSAL_BYTES;
    case QCN_P2P_CONSENSUS_PREVOTE:
    case QCN_P2P_CONSENSUS_PRECOMMIT:
        return QCN_P2P_MAX_CONSENSUS_VOTE_BYTES;
    case QCN_P2P_CONSENSUS_EVIDENCE:
    case QCN_P2P_CONSENSUS_OTHER:
        return QCN_P2P_MAX_CONSENSUS_OTHER_BYTES;
    case QCN_P2P_CONSENSUS_COMPACT:
        return QCN_P2P_MAX_CONSENSUS_COMPACT_BYTES;
    case QCN_P2P_CONSENSUS_BLOCKTX_REQ:
        return QCN_P2P_MAX_CONSENSUS_BLOCKTX_REQ_BYTES;
    case QCN_P2P_CONSENSUS_BLOCKTX:
        return QCN_P2P_MAX_CONSENSUS_BLOCKTX_BYTES;
    default:
        return 0;
    }
}

/* ---- encode ---- */

static int app16(struct qcn_buf *b, uint16_t v)
{
    uint8_t t[2];
    qcn_store_be16(t, v);
    return qcn_buf_append(b, t, sizeof t);
}
static int app32(struct qcn_buf *b, uint32_t v)
{
    uint8_t t[4];
    qcn_store_be32(t, v);
    return qcn_buf_append(b, t, sizeof t);
}
static int app64(struct qcn_buf *b, uint64_t v)
{
    uint8_t t[8];
    qcn_store_be64(t, v);
    return qcn_buf_append(b, t, sizeof t);
}
static int app_lv(struct qcn_buf *b, struct qcn_view v)
{
    int err;
    if (v.len > UINT32_MAX)
        return QCN_ERR_TOO_LARGE;
    if ((err = app32(b, (uint32_t)v.len)) != QCN_OK)
        return err;
    return qcn_buf_append(b, v.p, v.len);
}

static int encode_body(struct qcn_buf *b, const struct qcn_p2p_msg *m)
{
    int err = QCN_OK;
    size_t total = 0;
    switch (m->type) {
    case QCN_P2P_MSG_STATUS:
        if ((err = app64(b, m->u.status.chain_id)) || (err = app64(b, m->u.status.head_height)) ||
            (err = qcn_buf_append(b, m->u.status.head_hash, QCN_HASH_BYTES)) ||
            (err = qcn_buf_append(b, m->u.status.genesis_hash, QCN_HASH_BYTES)) ||
            (err = app16(b, m->u.status.listen_port)))
            return err;
        return QCN_OK;
    case QCN_P2P_MSG_PING:
    case QCN_P2P_MSG_PONG:
        return app64(b, m->u.ping_nonce);
    case QCN_P2P_MSG_GET_PEERS:
        return QCN_OK;
    case QCN_P2P_MSG_PEERS:
        if (m->u.peers.n > QCN_P2P_MAX_PEER_ADDRS)
            return QCN_ERR_TOO_LARGE;
        if ((err = app16(b, (uint16_t)m->u.peers.n)))
            return err;
        for (uint32_t i = 0; i < m->u.peers.n; i++) {
            const struct qcn_p2p_addr *a = &m->u.peers.addrs[i];
            size_t iplen = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
            if (iplen == 0)
                return QCN_ERR_CODEC;
            if ((err = qcn_buf_append_u8(b, a->family)) ||
                (err = qcn_buf_append(b, a->ip, iplen)) || (err = app16(b, a->port)))
                return err;
        }
        return QCN_OK;
    case QCN_P2P_MSG_TX_ANNOUNCE:
    case QCN_P2P_MSG_TX_REQUEST:
        if (m->u.tx_hashes.n > QCN_P2P_MAX_TX_HASHES)
            return QCN_ERR_TOO_LARGE;
        if ((err = app16(b, (uint16_t)m->u.tx_hashes.n)))
            return err;
        return qcn_buf_append(b, m->u.tx_hashes.hashes, (size_t)m->u.tx_hashes.n * QCN_HASH_BYTES);
    case QCN_P2P_MSG_TX_BODIES:
        if (m->u.tx_bodies.n > QCN_P2P_MAX_TX_BODIES)
            return QCN_ERR_TOO_LARGE;
        if ((err = app16(b, (uint16_t)m->u.tx_bodies.n)))
            return err;
        for (uint32_t i = 0; i < m->u.tx_bodies.n; i++) {
            struct qcn_view v = m->u.tx_bodies.bodies[i];
            if (v.len == 0 || v.len > QCN_TX_MAX_BYTES)
                return QCN_ERR_TOO_LARGE;
            total += v.len;
            if (total > QCN_P2P_MAX_TX_BODIES_BYTES)
                return QCN_ERR_TOO_LARGE;
            if ((err = app_lv(b, v)))
                return err;
        }
        return QCN_OK;
    case QCN_P2P_MSG_NEW_BLOCK:
        if ((err = app64(b, m->u.new_block.height)))
            return err;
        return qcn_buf_append(b, m->u.new_block.hash, QCN_HASH_BYTES);
    case QCN_P2P_MSG_GET_BLOCKS:
        if (m->u.get_blocks.count == 0 || m->u.get_blocks.count > QCN_P2P_MAX_BLOCKS_PER_MSG)
            return QCN_ERR_TOO_LARGE;
        if ((err = app64(b, m->u.get_blocks.start)))
            return err;
        return app32(b, m->u.get_blocks.count);
    case QCN_P2P_MSG_BLOCKS:
        if (m->u.blocks.n > QCN_P2P_MAX_BLOCKS_PER_MSG)
            return QCN_ERR_TOO_LARGE;
        if ((err = app16(b, (uint16_t)m->u.blocks.n)))
            return err;
        for (uint32_t i = 0; i < m->u.blocks.n; i++) {
            struct qcn_view bv = m->u.blocks.blocks[i], cv = m->u.blocks.commits[i];
            if (bv.len == 0 || bv.len > QCN_P2P_MAX_BLOCK_BYTES || cv.len > QCN_HEADER_MAX_COMMIT)
                return QCN_ERR_TOO_LARGE;
            total += bv.len + cv.len;
            if (total > QCN_P2P_MAX_BLOCKS_BYTES)
                return QCN_ERR_TOO_LARGE;
            if ((err = app_lv(b, bv)) || (err = app_lv(b, cv)))
                return err;
        }
        return QCN_OK;
    case QCN_P2P_MSG_CONSENSUS: {
        size_t cap = qcn_p2p_consensus_cap(m->u.consensus.kind);
        if (cap == 0)
            return QCN_ERR_CODEC;
        if (m->u.consensus.payload.len > cap)
            return QCN_ERR_TOO_LARGE;
        if ((err = qcn_buf_append_u8(b, m->u.consensus.kind)))
            return err;
        return app_lv(b, m->u.consensus.payload);
    }
    case QCN_P2P_MSG_GOODBYE:
        if (m->u.goodbye.reason == 0 || m->u.goodbye.reason > QCN_P2P_BYE_MAX)
            return QCN_ERR_CODEC;
        if (m->u.goodbye.text.len > QCN_P2P_MAX_GOODBYE_TEXT)
            return QCN_ERR_TOO_LARGE;
        if ((err = qcn_buf_append_u8(b, m->u.goodbye.reason)) ||
            (err = qcn_buf_append_u8(b, (uint8_t)m->u.goodbye.text.len)))
            return err;
        return qcn_buf_append(b, m->u.goodbye.text.p, m->u.goodbye.text.len);
    default:
        return QCN_ERR_CODEC;
    }
}

int qcn_p2p_msg_encode(struct qcn_buf *b, const struct qcn_p2p_msg *m)
{
    size_t start = b->len;
    int err = qcn_buf_append_u8(b, m->type);
    if (err == QCN_OK)
        err = encode_body(b, m);
    if (err == QCN_OK && b->len - start > QCN_P2P_MAX_MSG_BYTES)
        err = QCN_ERR_TOO_LARGE;
    if (err != QCN_OK)
        b->len = start;
    return err;
}

/* ---- decode ---- */

/* Reads a be32 length, checks it against cap before taking the view. */
static int read_lv(struct qcn_reader *r, struct qcn_view *out, size_t cap, int *too_large)
{
    uint32_t n = 0;
    if (qcn_reader_be32(r, &n) != 0)
        return -1;
    if (n > cap) {
        *too_large = 1;
        return -1;
    }
    return qcn_reader_view(r, out, n);
}

static int decode_body(struct qcn_p2p_msg *m, struct qcn_reader *r)
{
    int big = 0;
    uint16_t n16 = 0;
    size_t total = 0;
    switch (m->type) {
    case QCN_P2P_MSG_STATUS:
        qcn_reader_be64(r, &m->u.status.chain_id);
        qcn_reader_be64(r, &m->u.status.head_height);
        qcn_reader_copy(r, m->u.status.head_hash, QCN_HASH_BYTES);
        qcn_reader_copy(r, m->u.status.genesis_hash, QCN_HASH_BYTES);
        qcn_reader_be16(r, &m->u.status.listen_port);
        break;
    case QCN_P2P_MSG_PING:
    case QCN_P2P_MSG_PONG:
        qcn_reader_be64(r, &m->u.ping_nonce);
        break;
    case QCN_P2P_MSG_GET_PEERS:
        break;
    case QCN_P2P_MSG_PEERS:
        if (qcn_reader_be16(r, &n16) != 0)
            break;
        if (n16 > QCN_P2P_MAX_PEER_ADDRS)
            return QCN_ERR_TOO_LARGE;
        m->u.peers.n = n16;
        for (uint32_t i = 0; i < n16; i++) {
            struct qcn_p2p_addr *a = &m->u.peers.addrs[i];
            if (qcn_reader_u8(r, &a->family) != 0)
                break;
            if (a->family != 4 && a->family != 6)
                return QCN_ERR_CODEC;
            qcn_reader_copy(r, a->ip, a->family == 4 ? 4 : 16);
            qcn_reader_be16(r, &a->port);
        }
        break;
    case QCN_P2P_MSG_TX_ANNOUNCE:
    case QCN_P2P_MSG_TX_REQUEST: {
        struct qcn_view v;
        if (qcn_reader_be16(r, &n16) != 0)
            break;
        if (n16 == 0)
            return QCN_ERR_CODEC;
        if (n16 > QCN_P2P_MAX_TX_HASHES)
            return QCN_ERR_TOO_LARGE;
        if (qcn_reader_view(r, &v, (size_t)n16 * QCN_HASH_BYTES) != 0)
            break;
        m->u.tx_hashes.n = n16;
        m->u.tx_hashes.hashes = v.p;
        break;
    }
    case QCN_P2P_MSG_TX_BODIES:
        if (qcn_reader_be16(r, &n16) != 0)
            break;
        if (n16 > QCN_P2P_MAX_TX_BODIES)
            return QCN_ERR_TOO_LARGE;
        m->u.tx_bodies.n = n16;
        for (uint32_t i = 0; i < n16; i++) {
            struct qcn_view *v = &m->u.tx_bodies.bodies[i];
            if (read_lv(r, v, QCN_TX_MAX_BYTES, &big) != 0)
                break;
            if (v->len == 0)
                return QCN_ERR_CODEC;
            total += v->len;
            if (total > QCN_P2P_MAX_TX_BODIES_BYTES)
                return QCN_ERR_TOO_LARGE;
        }
        break;
    case QCN_P2P_MSG_NEW_BLOCK:
        qcn_reader_be64(r, &m->u.new_block.height);
        qcn_reader_copy(r, m->u.new_block.hash, QCN_HASH_BYTES);
        break;
    case QCN_P2P_MSG_GET_BLOCKS:
        qcn_reader_be64(r, &m->u.get_blocks.start);
        if (qcn_reader_be32(r, &m->u.get_blocks.count) != 0)
            break;
        if (m->u.get_blocks.count == 0)
            return QCN_ERR_CODEC;
        if (m->u.get_blocks.count > QCN_P2P_MAX_BLOCKS_PER_MSG)
            return QCN_ERR_TOO_LARGE;
        break;
    case QCN_P2P_MSG_BLOCKS:
        if (qcn_reader_be16(r, &n16) != 0)
            break;
        if (n16 > QCN_P2P_MAX_BLOCKS_PER_MSG)
            return QCN_ERR_TOO_LARGE;
        m->u.blocks.n = n16;
        for (uint32_t i = 0; i < n16; i++) {
            struct qcn_view *bv = &m->u.blocks.blocks[i], *cv = &m->u.blocks.commits[i];
            if (read_lv(r, bv, QCN_P2P_MAX_BLOCK_BYTES, &big) != 0 ||
                read_lv(r, cv, QCN_HEADER_MAX_COMMIT, &big) != 0)
                break;
            if (bv->len == 0)
                return QCN_ERR_CODEC;
            total += bv->len + cv->len;
            if (total > QCN_P2P_MAX_BLOCKS_BYTES)
                return QCN_ERR_TOO_LARGE;
        }
        break;
    case QCN_P2P_MSG_CONSENSUS: {
        size_t cap;
        if (qcn_reader_u8(r, &m->u.consensus.kind) != 0)
            break;
        cap = qcn_p2p_consensus_cap(m->u.consensus.kind);
        if (cap == 0)
            return QCN_ERR_CODEC;
        read_lv(r, &m->u.consensus.payload, cap, &big);
        break;
    }
    case QCN_P2P_MSG_GOODBYE: {
        uint8_t tlen = 0;
        qcn_reader_u8(r, &m->u.goodbye.reason);
        if (qcn_reader_u8(r, &tlen) != 0)
            break;
        if (m->u.goodbye.reason == 0 || m->u.goodbye.reason > QCN_P2P_BYE_MAX)
            return QCN_ERR_CODEC;
        if (tlen > QCN_P2P_MAX_GOODBYE_TEXT)
            return QCN_ERR_TOO_LARGE;
        qcn_reader_view(r, &m->u.goodbye.text, tlen);
        break;
    }
    default:
        return QCN_ERR_CODEC;
    }
    if (big)
        return QCN_ERR_TOO_LARGE;
    return qcn_reader_finish(r) == QCN_OK ? QCN_OK : QCN_ERR_CODEC;
}

int qcn_p2p_msg_decode(struct qcn_p2p_msg *out, struct qcn_view in)
{
    struct qcn_reader r;
    int err;
    memset(out, 0, sizeof *out);
    if (in.len > QCN_P2P_MAX_MSG_BYTES)
        return QCN_ERR_TOO_LARGE;
    qcn_reader_init(&r, in.p, in.len);
    if (qcn_reader_u8(&r, &out->type) != 0)
        return QCN_ERR_CODEC;
    err = decode_body(out, &r);
    if (err != QCN_OK)
        memset(out, 0, sizeof *out);
    return err;
}
