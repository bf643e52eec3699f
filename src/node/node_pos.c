/* node_pos.c - the node as the host of the pos and pow engines (node_pos.h,
 * docs/consensus.md §8).
 *
 * Why it looks like this:
 *  - pos needs more than engine.h offers (build a block without committing
 *    it, check a proposal's block, commit with a certificate, carry
 *    messages), so the node's engine registry gets an entry whose state is
 *    an adapter holding the pos (or pow) engine and implementing
 *    struct qcn_pos_host over the node; the node's own timer and clock (the
 *    engine host it passes to create) are reused.
 *  - Consensus commits are synchronous (qcn_node_import_block): pos needs
 *    "QCN_OK means the head is now this block" (pos.h commit_block), and
 *    never uses the node's pipelined produce path, so no block of ours is
 *    ever in flight when it commits or checks.
 *  - The head's certificate is written (META "pos.commit" || hash) before
 *    the block itself, in its own store transaction: after a crash between
 *    the two, the certificate of a block that is not on disk is harmless,
 *    while the other order could leave a head without its certificate
 *    (which pos needs to propose the next block, §8 step 1). */
#include "node/node_pos.h"

#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "chain/chain_staking.h"
#include "chain/mempool.h"
#include "codec/rlp.h"
#include "consensus/pos_config.h"
#include "consensus/valset.h"
#include "consensus/pow.h"
#include "crypto/keccak.h"
#include "node/node_rpc.h"
#include "rpc/chain_backend.h"
#include "rpc/params.h"
#include "rpc/rpc.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/time.h"

#define COMMIT_KEY_LEN (sizeof QCN_NODE_POS_COMMIT_KEY - 1 + QCN_HASH_BYTES)
/* Evidence submission (docs/consensus.md §6 "Evidence into blocks"). An
 * honest validator waits EV_STAGGER_BLOCKS per place of its address in the
 * active set before sending, so usually one of them pays for the
 * transaction; evidence still unpunished EV_RETRY_BLOCKS after our
 * transaction (dropped, or outbid) is sent again. */
#define EV_STAGGER_BLOCKS 2u
#define EV_RETRY_BLOCKS 20u
#define EV_TIP_WEI UINT64_C(2000000000) /* priority fee per gas: 2 gwei */
/* A certificate is at most one ML-DSA-65 signature per validator plus
 * framing; this cap only bounds what we read back from our own store. */
#define MAX_CERT_BYTES (16u * 1024u * 1024u)

struct node_engine {
    struct qcn_node *n;
    struct qcn_engine_host eh; /* the node's: clock and the engine timer */
    struct qcn_pos_settings set;
    struct qcn_pos *pos;
    struct qcn_pow *pow;
    int committing; /* inside commit_block: on_block is our own commit */
    qcn_node_pos_send_fn send;
    qcn_node_pos_send_to_fn send_to;
    void *send_ctx;
    int warned_no_transport;
    int stats_logged; /* pos_stop runs more than once on the way out */
    /* Per evidence index of the engine (its list only grows): head + 1 when
     * first seen, head + 1 of our last submission (0: never), accused. */
    uint64_t ev_seen[QCN_POS_MAX_EVIDENCE];
    uint64_t ev_sent[QCN_POS_MAX_EVIDENCE];
    uint8_t ev_accused[QCN_POS_MAX_EVIDENCE][QCN_ADDRESS_BYTES];
    uint8_t ev_done[QCN_POS_MAX_EVIDENCE]; /* refused for good: never asked again */
    int ev_inflight;                       /* a submission waits for admission's verdict */
};

static struct node_engine *engine_of(struct qcn_node *n, const struct qcn_engine_ops *ops)
{
    return n->engine.ops == ops ? n->engine.state : NULL;
}

/* ---- struct qcn_pos_host over the node. */

static uint64_t h_now(void *ctx)
{
    struct node_engine *e = ctx;
    return e->eh.now_ms(e->eh.ctx);
}

static void h_timer_set(void *ctx, uint64_t delay_ms)
{
    struct node_engine *e = ctx;
    /* A libuv timer re-armed with 0 from its own callback is due again in
     * the same uv__run_timers pass (loop time has not moved), so pow's
     * back-to-back mining slices would starve I/O and signals; 1 ms lets
     * the loop poll between slices. */
    e->eh.timer_set(e->eh.ctx, delay_ms > 0 ? delay_ms : 1);
}

static void h_timer_cancel(void *ctx)
{
    struct node_engine *e = ctx;
    e->eh.timer_cancel(e->eh.ctx);
}

static void h_head(void *ctx, uint64_t *height, uint8_t hash[QCN_HASH_BYTES])
{
    struct node_engine *e = ctx;
    *height = qcn_node_head_height(e->n);
    qcn_node_head_hash(e->n, hash);
}

static int h_get_header(void *ctx, uint64_t height, struct qcn_header *out)
{
    struct node_engine *e = ctx;
    struct qcn_store_snap *snap = NULL;
    uint8_t hash[QCN_HASH_BYTES];
    struct qcn_view v;
    int err;

    memset(out, 0, sizeof *out);
    if (height > qcn_node_head_height(e->n))
        return QCN_ERR_NOT_FOUND;
    err = qcn_store_snap_begin(e->n->store, &snap);
    if (err == QCN_OK)
        err = qcn_store_canon_get(snap, NULL, height, hash);
    if (err == QCN_OK)
        err = qcn_store_get(snap, NULL, QCN_STORE_HEADER, hash, sizeof hash, &v);
    if (err == QCN_OK)
        err = qcn_header_decode(out, v);
    qcn_store_snap_end(snap);
    return err;
}

static void commit_key(uint8_t key[COMMIT_KEY_LEN], const uint8_t hash[QCN_HASH_BYTES])
{
    memcpy(key, QCN_NODE_POS_COMMIT_KEY, sizeof QCN_NODE_POS_COMMIT_KEY - 1);
    memcpy(key + sizeof QCN_NODE_POS_COMMIT_KEY - 1, hash, QCN_HASH_BYTES);
}

int qcn_node_pos_commit_get(struct qcn_node *n, const uint8_t hash[32], struct qcn_buf *out)
{
    struct qcn_store_snap *snap = NULL;
    uint8_t key[COMMIT_KEY_LEN];
    struct qcn_view v;
    int err;

    commit_key(key, hash);
    err = qcn_store_snap_begin(n->store, &snap);
    if (err == QCN_OK)
        err = qcn_store_get(snap, NULL, QCN_STORE_META, key, sizeof key, &v);
    if (err == QCN_OK)
        err = v.len > MAX_CERT_BYTES ? QCN_ERR_STORE_CORRUPT : qcn_buf_append(out, v.p, v.len);
    qcn_store_snap_end(snap);
    return err;
}

static int commit_put(struct qcn_node *n, const uint8_t hash[QCN_HASH_BYTES], const uint8_t *cert,
                      size_t cert_len)
{
    uint8_t key[COMMIT_KEY_LEN];
    struct qcn_store_write w;

    if (cert_len == 0 || cert_len > MAX_CERT_BYTES)
        return QCN_ERR_CONSENSUS_CERT;
    commit_key(key, hash);
    memset(&w, 0, sizeof w);
    w.table = QCN_STORE_META;
    w.key = key;
    w.klen = (uint32_t)sizeof key;
    w.val = cert;
    w.vlen = (uint32_t)cert_len;
    /* The chain's read snapshot must not stay open across a write (node.c,
     * commit_sync). */
    qcn_store_rd_release(&n->rd);
    return qcn_store_write_commit(n->store, &w, 1);
}

static int h_get_head_commit(void *ctx, struct qcn_buf *out)
{
    struct node_engine *e = ctx;
    uint8_t hash[QCN_HASH_BYTES];
    qcn_node_head_hash(e->n, hash);
    return qcn_node_pos_commit_get(e->n, hash, out);
}

static int h_build_block(void *ctx, const struct qcn_pos_build *a, struct qcn_buf *out,
                         uint8_t hash[QCN_HASH_BYTES])
{
    struct node_engine *e = ctx;
    struct qcn_node *n = e->n;
    struct qcn_build_args args;
    struct qcn_block_result res;
    int err;

    if (a->height != qcn_node_head_height(n) + 1)
        return QCN_ERR_BLOCK_PARENT;
    memset(&args, 0, sizeof args);
    args.timestamp = qcn_time_unix_s();
    memcpy(args.proposer, a->proposer, sizeof args.proposer);
    memcpy(args.mix, a->mix, sizeof args.mix);
    args.commit = a->commit;
    args.commit_len = a->commit_len;
    args.extra = a->extra;
    args.extra_len = a->extra_len;
    args.max_txs = (size_t)n->cfg.dev_max_txs;
    qcn_block_result_init(&res);
    err = qcn_chain_block_build(n->chain, n->mempool, &args, &res);
    if (err == QCN_OK) {
        err = qcn_block_encode(out, &res.block);
        memcpy(hash, res.block.hash, QCN_HASH_BYTES);
        /* Only a proposal: the decided block is committed by commit_block. */
        qcn_chain_block_abort(n->chain, &res);
    }
    qcn_block_result_clear(&res);
    return err;
}

static int h_check_block(void *ctx, const uint8_t *raw, size_t len)
{
    struct node_engine *e = ctx;
    struct qcn_node *n = e->n;
    struct qcn_block blk;
    struct qcn_block_result res;
    int err;

    memset(&blk, 0, sizeof blk);
    err = qcn_block_decode(&blk, qcn_view_make(raw, len));
    if (err != QCN_OK)
        return err;
    qcn_block_result_init(&res);
    err = qcn_chain_block_apply(n->chain, n->mempool, &blk, &res);
    if (err == QCN_OK)
        qcn_chain_block_abort(n->chain, &res);
    qcn_block_result_clear(&res);
    qcn_block_clear(&blk);
    return err;
}

static int h_commit_block(void *ctx, const uint8_t *raw, size_t len, const uint8_t *cert,
                          size_t cert_len)
{
    struct node_engine *e = ctx;
    struct qcn_node *n = e->n;
    struct qcn_rlp_item top, parts[2];
    uint8_t hash[QCN_HASH_BYTES];
    int err = QCN_OK;

    /* Only the hash is needed here (the import decodes the block once):
     * Keccak-256 of the header item, without decoding every transaction. */
    if (qcn_rlp_decode(&top, qcn_view_make(raw, len)) != QCN_OK ||
        qcn_rlp_split(parts, 2, &top) != QCN_OK || !parts[0].is_list)
        return QCN_ERR_CODEC;
    qcn_keccak256(hash, parts[0].raw.p, parts[0].raw.len);
    if (cert_len > 0)
        err = commit_put(n, hash, cert, cert_len);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "pos", "cannot store the certificate: %s", qcn_err_str(err));
        return err;
    }
    e->committing = 1;
    err = qcn_node_import_block(n, raw, len);
    e->committing = 0;
    if (err != QCN_OK)
        QCN_LOG(QCN_LOG_ERROR, "pos", "decided block not committed: %s", qcn_err_str(err));
    return err;
}

static void h_broadcast(void *ctx, uint8_t kind, const uint8_t *payload, size_t len)
{
    struct node_engine *e = ctx;
    if (e->send != NULL) {
        e->send(e->send_ctx, kind, payload, len);
    } else if (!e->warned_no_transport) {
        e->warned_no_transport = 1;
        QCN_LOG(QCN_LOG_WARN, "pos",
                "consensus messages have no transport (p2p not wired): nothing reaches "
                "other nodes (a pos validator finalizes only a set it controls alone)");
    }
}

/* Compact proposals (docs/consensus.md §2.1): bodies come from the pool,
 * whose copies were verified at admission (block execution reuses them). */
static int h_get_tx(void *ctx, const uint8_t hash[QCN_HASH_BYTES], struct qcn_buf *out)
{
    struct node_engine *e = ctx;
    struct qcn_tx *tx = qcn_mempool_get(e->n->mempool, hash);
    if (tx == NULL)
        return QCN_ERR_NOT_FOUND;
    return qcn_buf_append(out, tx->raw, tx->raw_len);
}

static void h_send_to(void *ctx, const uint8_t peer[QCN_POS_PEER_BYTES], uint8_t kind,
                      const uint8_t *payload, size_t len)
{
    struct node_engine *e = ctx;
    if (e->send_to != NULL)
        e->send_to(e->send_ctx, peer, kind, payload, len);
}

/* The set deciding height (docs/consensus.md §6, §8 step 9), from
 * staking's powers frozen at the epoch boundaries in the head's state: for
 * the heights of the head's epoch (boundary + 1 .. head + 1) the current
 * set (epoch_power), for the boundary block itself the previous one
 * (prev_power: it decided that block, and its certificate is checked when
 * the next height starts). Older heights would need an older state:
 * QCN_ERR_NOT_FOUND. No staking state, or an empty set (a chain whose first
 * staked validators are not in a set yet): the genesis set
 * (consensus.conf). */
static int h_get_valset(void *ctx, uint64_t height, struct qcn_valset *out)
{
    struct node_engine *e = ctx;
    struct qcn_staking s;
    struct qcn_valset tmp;
    uint64_t head = qcn_chain_head(e->n->chain)->height, first;
    size_t i, n = 0;
    int present, prev, err;

    if ((err = qcn_chain_staking_load(e->n->chain, &s, &present)) != QCN_OK)
        goto out;
    first = head - head % s.params.epoch_length + 1;
    if (present && height + 1 == first && height >= 1)
        prev = 1;
    else if (!present || (height >= first && height <= head + 1))
        prev = 0;
    else {
        err = QCN_ERR_NOT_FOUND;
        goto out;
    }
    for (i = 0; present && i < s.nval; i++) {
        const struct qcn_staking_validator *v = &s.val[i];
        uint64_t pw = prev ? v->prev_power : v->epoch_power;
        if (pw == 0)
            continue;
        if ((err = qcn_valset_add(out, v->pubkey, pw, v->beacon_tip)) != QCN_OK)
            goto out;
        n++;
    }
    if (n == 0) {
        qcn_valset_clear(out);
        err = qcn_valset_decode(&tmp,
                                qcn_view_make(e->set.cfg.validators, e->set.cfg.validators_len));
        if (err == QCN_OK)
            *out = tmp;
    }
out:
    qcn_staking_clear(&s);
    return err;
}

/* ---- Evidence into blocks (docs/consensus.md §6): a validator node that
 * holds double-sign evidence staking would still punish sends it as an
 * op-7 staking transaction signed with its validator identity key (whose
 * address must hold gas money; `qcn testnet init` funds it) through the
 * normal admission path, which gossips it; whichever proposer includes it,
 * every node verifies it again when it applies the block (staking.c). */

/* RLP([7, evidence]) signed by our identity key into out. */
static int evidence_tx(struct node_engine *e, struct qcn_buf *out, const uint8_t *ev, size_t len)
{
    struct qcn_node *n = e->n;
    struct qcn_tx_fields f;
    struct qcn_chain_call call;
    struct qcn_account acct;
    struct qcn_buf data;
    struct qcn_tx_sig sig;
    uint8_t sighash[QCN_HASH_BYTES], kh[QCN_HASH_BYTES], *sb = NULL;
    uint64_t base, gas, fee;
    size_t l;
    int attach, err;

    memset(&f, 0, sizeof f);
    qcn_buf_init(&data, QCN_EVIDENCE_MAX_BYTES + 16);
    l = qcn_rlp_list_begin(&data);
    if ((err = qcn_rlp_put_u64(&data, QCN_STAKING_EVIDENCE)) != QCN_OK ||
        (err = qcn_rlp_put_raw(&data, ev, len)) != QCN_OK ||
        (err = qcn_rlp_list_end(&data, l)) != QCN_OK)
        goto out;
    f.chain_id = qcn_chain_params(n->chain)->chain_id;
    qcn_address_from_key(f.from, QCN_SCHEME_MLDSA65, e->set.cfg.pk, QCN_VOTE_PK_BYTES);
    if ((err = qcn_chain_account_get(n->chain, &acct, f.from)) != QCN_OK)
        goto out;
    f.nonce = qcn_mempool_pending_nonce(n->mempool, f.from, acct.nonce);
    f.has_to = 1;
    memcpy(f.to, qcn_staking_address, QCN_ADDRESS_BYTES);
    f.value = qcn_u256_from_u64(0);
    f.data = qcn_buf_view(&data);
    f.scheme = QCN_SCHEME_MLDSA65;
    /* Twice the next base fee leaves room for it to rise while we wait. */
    base = qcn_chain_next_base_fee(n->chain);
    if (__builtin_mul_overflow(base, 2, &fee) || __builtin_add_overflow(fee, EV_TIP_WEI, &fee)) {
        err = QCN_ERR_OVERFLOW;
        goto out;
    }
    f.max_fee = fee;
    f.max_priority_fee = EV_TIP_WEI;
    err = qcn_chain_key_get(n->chain, kh, NULL, f.from);
    if (err != QCN_OK && err != QCN_ERR_NOT_FOUND)
        goto out;
    attach = err == QCN_ERR_NOT_FOUND; /* first transaction: the key goes with it */
    memset(&call, 0, sizeof call);
    memcpy(call.from, f.from, QCN_ADDRESS_BYTES);
    call.has_to = 1;
    memcpy(call.to, f.to, QCN_ADDRESS_BYTES);
    call.data = f.data;
    call.scheme = QCN_SCHEME_MLDSA65;
    if ((err = qcn_chain_call_intrinsic_gas(n->chain, &gas, &call)) != QCN_OK)
        goto out;
    /* A failed staking operation consumes its whole gas limit: no slack. */
    f.gas_limit = gas + QCN_CHAIN_STAKING_OP_GAS;
    sb = malloc(QCN_VOTE_SIG_BYTES);
    if (sb == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    if ((err = qcn_tx_sighash(sighash, &f)) != QCN_OK ||
        (err = qcn_tx_sign_hash(sb, QCN_SCHEME_MLDSA65, e->set.cfg.sk, sighash, 0)) != QCN_OK)
        goto out;
    sig.key_index = 0;
    sig.sig = qcn_view_make(sb, QCN_VOTE_SIG_BYTES);
    err = qcn_tx_encode(
        out, &f, attach ? qcn_view_make(e->set.cfg.pk, QCN_VOTE_PK_BYTES) : qcn_view_make(NULL, 0),
        &sig, 1);
out:
    free(sb);
    qcn_buf_clear(&data);
    return err;
}

static void hex_addr(char out[2 + 2 * QCN_ADDRESS_BYTES + 1], const uint8_t a[QCN_ADDRESS_BYTES])
{
    out[0] = '0';
    out[1] = 'x';
    qcn_hex_encode(out + 2, a, QCN_ADDRESS_BYTES);
}

static void on_evidence_submitted(void *ctx, int err, const uint8_t hash[32])
{
    struct node_engine *e = ctx;
    char hx[2 * QCN_HASH_BYTES + 1];
    e->ev_inflight = 0;
    qcn_hex_encode(hx, hash, QCN_HASH_BYTES);
    if (err == QCN_OK)
        QCN_LOG(QCN_LOG_WARN, "pos", "double-sign evidence sent in staking transaction 0x%s", hx);
    else
        QCN_LOG(QCN_LOG_WARN, "pos", "double-sign evidence transaction 0x%s refused: %s", hx,
                qcn_err_str(err));
}

/* Place of identity among the active set's addresses (the set's size if it
 * is not in it). */
static uint64_t set_rank(const struct qcn_staking *s, const uint8_t id[QCN_ADDRESS_BYTES])
{
    uint64_t below = 0, n = 0;
    int in = 0;
    size_t i;
    for (i = 0; i < s->nval; i++) {
        int c;
        if (!s->val[i].active)
            continue;
        n++;
        c = memcmp(s->val[i].identity, id, QCN_ADDRESS_BYTES);
        below += c < 0;
        in |= c == 0;
    }
    return in ? below : n;
}

/* After every block: send at most one evidence transaction (one in flight
 * at a time keeps the nonce right without tracking the pool). */
static void evidence_submit(struct node_engine *e)
{
    struct qcn_node *n = e->n;
    struct qcn_pos_status st;
    struct qcn_staking s;
    struct qcn_buf ev, tx;
    uint8_t me[QCN_ADDRESS_BYTES];
    uint64_t head, rank, chain_id;
    size_t i, j, nev;
    int present = 0, err;

    if (!e->set.cfg.has_key || e->ev_inflight || n->stopping || e->pos == NULL)
        return;
    qcn_pos_status_get(e->pos, &st);
    if (st.evidence == 0)
        return;
    nev = st.evidence < QCN_POS_MAX_EVIDENCE ? st.evidence : QCN_POS_MAX_EVIDENCE;
    if (qcn_chain_staking_load(n->chain, &s, &present) != QCN_OK || !present) {
        qcn_staking_clear(&s);
        return;
    }
    head = qcn_node_head_height(n);
    chain_id = qcn_chain_params(n->chain)->chain_id;
    qcn_address_from_key(me, QCN_SCHEME_MLDSA65, e->set.cfg.pk, QCN_VOTE_PK_BYTES);
    rank = set_rank(&s, me);
    qcn_buf_init(&ev, QCN_EVIDENCE_MAX_BYTES);
    qcn_buf_init(&tx, QCN_TX_MAX_BYTES);
    for (i = 0; i < nev; i++)
        if (e->ev_seen[i] == 0)
            e->ev_seen[i] = head + 1;
    for (i = 0; i < nev; i++) {
        uint8_t accused[QCN_ADDRESS_BYTES];
        int busy = 0;
        if (e->ev_done[i])
            continue;
        qcn_buf_reset(&ev);
        if (qcn_pos_evidence_get(e->pos, i, &ev) != QCN_OK)
            continue;
        /* Only what staking would punish in the next block: not expired,
         * not an unknown validator, not an offence already punished, not a
         * tombstoned validator. Expired, punished, tombstoned and invalid
         * stay so; an unknown validator may still be staked later. */
        err = qcn_staking_evidence_check(&s, chain_id, head + 1, ev.p, ev.len, accused);
        if (err == QCN_ERR_STAKING_REPLAY || err == QCN_ERR_STAKING_TOMBSTONED ||
            err == QCN_ERR_STAKING_EXPIRED || err == QCN_ERR_CONSENSUS_EVIDENCE)
            e->ev_done[i] = 1;
        if (err != QCN_OK)
            continue;
        /* Evidence against our own key (seen when our votes come back
         * relayed: only the test fault, or the same key run twice) is for
         * the others to send. */
        if (memcmp(accused, me, QCN_ADDRESS_BYTES) == 0) {
            e->ev_done[i] = 1;
            continue;
        }
        memcpy(e->ev_accused[i], accused, QCN_ADDRESS_BYTES);
        /* One offence per validator suffices (it is tombstoned by it). */
        for (j = 0; j < nev && !busy; j++)
            busy = e->ev_sent[j] != 0 && head + 1 < e->ev_sent[j] + EV_RETRY_BLOCKS &&
                   memcmp(e->ev_accused[j], accused, QCN_ADDRESS_BYTES) == 0;
        if (busy || head + 1 < e->ev_seen[i] + rank * EV_STAGGER_BLOCKS)
            continue;
        qcn_buf_reset(&tx);
        if ((err = evidence_tx(e, &tx, ev.p, ev.len)) != QCN_OK) {
            QCN_LOG(QCN_LOG_WARN, "pos", "cannot build the evidence transaction: %s",
                    qcn_err_str(err));
            break;
        }
        {
            char ax[2 + 2 * QCN_ADDRESS_BYTES + 1];
            hex_addr(ax, accused);
            QCN_LOG(QCN_LOG_WARN, "pos",
                    "submitting double-sign evidence against validator %s at head %llu", ax,
                    (unsigned long long)head);
        }
        e->ev_sent[i] = head + 1;
        e->ev_inflight = 1;
        /* on_evidence_submitted runs exactly once (maybe before this returns) */
        (void)qcn_node_tx_submit(n, tx.p, tx.len, on_evidence_submitted, e);
        break;
    }
    qcn_buf_clear(&tx);
    qcn_buf_clear(&ev);
    qcn_staking_clear(&s);
}

static void host_fill(struct qcn_pos_host *h, struct node_engine *e)
{
    memset(h, 0, sizeof *h);
    h->ctx = e;
    h->now_ms = h_now;
    h->timer_set = h_timer_set;
    h->timer_cancel = h_timer_cancel;
    h->head = h_head;
    h->get_header = h_get_header;
    h->get_head_commit = h_get_head_commit;
    h->build_block = h_build_block;
    h->check_block = h_check_block;
    h->commit_block = h_commit_block;
    h->broadcast = h_broadcast;
    h->get_valset = h_get_valset; /* staking, else genesis (docs/consensus.md §8 step 9) */
    h->get_tx = h_get_tx;
    h->send_to = h_send_to;
}

/* ---- RPC: qcn_consensusStatus (used by `qcn testnet status`). */

static int rpc_consensus_status(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                struct qcn_rpc_error *err)
{
    const struct qcn_rpc_chain_src *src = ctx->backend->user;
    struct qcn_node *n = src->node_info_user;
    struct qcn_pos_status st;
    char addr[2 + 2 * QCN_ADDRESS_BYTES + 1];
    size_t i;

    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    if (n == NULL || qcn_node_pos_status(n, &st) != QCN_OK)
        return qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE, "this node does not run pos");
    addr[0] = '0';
    addr[1] = 'x';
    for (i = 0; i < QCN_ADDRESS_BYTES; i++)
        snprintf(addr + 2 + 2 * i, 3, "%02x", st.address[i]);
    *result = json_pack(
        "{s:s,s:I,s:I,s:i,s:I,s:I,s:b,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "engine", "pos", "height",
        (json_int_t)st.height, "round", (json_int_t)st.round, "step", (int)st.step, "lockedRound",
        (json_int_t)st.locked_round, "validRound", (json_int_t)st.valid_round, "validator",
        st.is_validator, "address", addr, "committed", (json_int_t)st.committed, "roundsSkipped",
        (json_int_t)st.rounds_skipped, "equivocations", (json_int_t)st.equivocations, "walRefusals",
        (json_int_t)st.wal_refusals, "badMessages", (json_int_t)st.bad_msgs, "evidence",
        (json_int_t)st.evidence);
    if (*result == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    return 0;
}

/* qcn_validators (docs/rpc.md): staking's validators at the head. */
static json_t *validator_json(const struct qcn_staking_validator *v)
{
    char id[2 + 2 * QCN_ADDRESS_BYTES + 1], op[2 + 2 * QCN_ADDRESS_BYTES + 1];
    char stake[24], self[24];
    hex_addr(id, v->identity);
    hex_addr(op, v->address);
    snprintf(stake, sizeof stake, "%llu", (unsigned long long)v->total_stake);
    snprintf(self, sizeof self, "%llu", (unsigned long long)v->self_stake);
    return json_pack(
        "{s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:b,s:b,s:b,s:I,s:I,s:I}", "address", id, "operator", op,
        "power", (json_int_t)v->epoch_power, "prevPower", (json_int_t)v->prev_power, "stakePower",
        (json_int_t)qcn_staking_power(v), "stakeGwei", stake, "selfStakeGwei", self, "active",
        v->active, "jailed", v->jailed_until != 0, "tombstoned", v->tombstoned, "jailedUntil",
        (json_int_t)(v->tombstoned ? -1 : (json_int_t)v->jailed_until), "commissionBps",
        (json_int_t)v->commission_bps, "missed", (json_int_t)v->missed);
}

static int rpc_validators(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                          struct qcn_rpc_error *err)
{
    const struct qcn_rpc_chain_src *src = ctx->backend->user;
    struct qcn_node *n = src->node_info_user;
    struct qcn_staking s;
    json_t *arr = NULL;
    char burnt[24];
    uint64_t head, ep;
    size_t i;
    int present = 0, rc = 0;

    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    if (n == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE, "no node");
    if (qcn_chain_staking_load(n->chain, &s, &present) != QCN_OK) {
        qcn_staking_clear(&s);
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "cannot read the staking state");
    }
    head = qcn_node_head_height(n);
    ep = s.params.epoch_length;
    arr = json_array();
    for (i = 0; arr != NULL && i < s.nval; i++) {
        json_t *o = validator_json(&s.val[i]);
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    snprintf(burnt, sizeof burnt, "%llu", (unsigned long long)s.burnt);
    *result = arr == NULL
                  ? NULL
                  : json_pack("{s:b,s:I,s:I,s:I,s:I,s:s,s:I,s:o}", "staking", present, "height",
                              (json_int_t)head, "epochLength", (json_int_t)ep, "nextEpoch",
                              (json_int_t)(head - head % ep + ep), "slashDoubleSignBps",
                              (json_int_t)s.params.slash_double_sign_bps, "burntGwei", burnt,
                              "slashed", (json_int_t)s.nslashed, "validators", arr);
    if (*result == NULL)
        rc = qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    qcn_staking_clear(&s);
    return rc;
}

static const struct qcn_rpc_method pos_methods[] = {
    {"qcn_consensusStatus", rpc_consensus_status, 0},
    {"qcn_validators", rpc_validators, 0},
};

/* ---- The engine adapters. */

static int pos_create(void **state, const struct qcn_engine_host *host,
                      const struct qcn_engine_config *cfg)
{
    struct qcn_node *n = host->ctx;
    struct node_engine *e;
    struct qcn_pos_host ph;
    char path[QCN_CONFIG_MAX_PATH + 32], msg[256];
    int err;

    (void)cfg;
    *state = NULL;
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return QCN_ERR_NOMEM;
    e->n = n;
    e->eh = *host;
    err = qcn_node_config_path(&n->cfg, path, sizeof path, QCN_NODE_POS_CONFIG_FILE);
    if (err == QCN_OK) {
        msg[0] = '\0';
        err = qcn_pos_settings_load(&e->set, path, msg, sizeof msg);
        if (err != QCN_OK)
            QCN_LOG(QCN_LOG_ERROR, "pos", "%s: %s%s%s", path, qcn_err_str(err),
                    msg[0] != '\0' ? ": " : "", msg);
    }
    if (err == QCN_OK && e->set.cfg.chain_id != qcn_chain_params(n->chain)->chain_id) {
        QCN_LOG(QCN_LOG_ERROR, "pos", "%s: pos.chain_id %llu is not the chain's %llu", path,
                (unsigned long long)e->set.cfg.chain_id,
                (unsigned long long)qcn_chain_params(n->chain)->chain_id);
        err = QCN_ERR_CONFIG;
    }
    if (err == QCN_OK && e->set.cfg.fault_double_sign) {
        /* Only a QCN_TEST_FAULTS build accepts pos.test_fault (pos_config.c). */
        QCN_LOG(QCN_LOG_WARN, "pos", "!!! TEST FAULT ACTIVE: pos.test_fault = double_sign !!!");
        QCN_LOG(QCN_LOG_WARN, "pos",
                "!!! this validator signs two conflicting prevotes every round: it WILL be "
                "slashed and tombstoned; for e2e tests only, never on a real network !!!");
    }
    if (err == QCN_OK) {
        host_fill(&ph, e);
        err = qcn_pos_new(&e->pos, &ph, &e->set.cfg);
        if (err != QCN_OK)
            QCN_LOG(QCN_LOG_ERROR, "pos", "engine: %s", qcn_err_str(err));
    }
    if (err != QCN_OK) {
        qcn_pos_settings_clear(&e->set);
        free(e);
        return err == QCN_ERR_NOMEM ? err : QCN_ERR_CONFIG;
    }
    *state = e;
    return QCN_OK;
}

static int pos_start(void *state)
{
    struct node_engine *e = state;
    struct qcn_pos_status st;
    int err = qcn_node_rpc_register(e->n, pos_methods, sizeof pos_methods / sizeof pos_methods[0]);
    if (err != QCN_OK)
        return err;
    err = qcn_pos_start(e->pos);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "pos", "cannot start: %s", qcn_err_str(err));
        return err;
    }
    qcn_pos_status_get(e->pos, &st);
    QCN_LOG(QCN_LOG_INFO, "pos", "pos engine started at height %llu (%s)",
            (unsigned long long)st.height, st.is_validator ? "validator" : "observer");
    return QCN_OK;
}

static void pos_stop(void *state)
{
    struct node_engine *e = state;
    struct qcn_pos_status st;
    struct qcn_chain_stats cs;
    /* What a run cost (qcn bench net's logs), once (stop runs more than once
     * on the way out): how the proposals' transactions were found, and
     * whether blocks had signatures the pool had not verified already. */
    if (e->stats_logged++ == 0) {
        qcn_pos_status_get(e->pos, &st);
        qcn_chain_stats_get(e->n->chain, &cs);
        QCN_LOG(QCN_LOG_INFO, "pos",
                "compact proposals: %llu completed, %llu txs from the pool, %llu fetched, %llu "
                "served; signatures in blocks: %llu reused, %llu verified in batches, %llu in "
                "execution",
                (unsigned long long)st.compact_in, (unsigned long long)st.txs_from_pool,
                (unsigned long long)st.txs_fetched, (unsigned long long)st.txs_served,
                (unsigned long long)cs.reused_verifies, (unsigned long long)cs.batch_verifies,
                (unsigned long long)cs.exec_verifies);
    }
    qcn_pos_stop(e->pos);
    e->eh.timer_cancel(e->eh.ctx);
}

static void pos_destroy(void *state)
{
    struct node_engine *e = state;
    if (e == NULL)
        return;
    qcn_pos_free(e->pos);
    qcn_pos_settings_clear(&e->set);
    free(e);
}

static void pos_on_timer(void *state)
{
    struct node_engine *e = state;
    qcn_pos_on_timer(e->pos);
}

static void pos_on_tx(void *state)
{
    (void)state; /* pos proposes on its own schedule */
}

/* Blocks committed by anything but pos itself (block sync) move pos on;
 * after any block, evidence staking would still punish is sent. */
static void pos_on_block(void *state, uint64_t height)
{
    struct node_engine *e = state;
    (void)height;
    if (!e->committing)
        qcn_pos_on_head_changed(e->pos);
    evidence_submit(e);
}

const struct qcn_engine_ops qcn_node_engine_pos = {
    .name = "pos",
    .summary = "Tendermint BFT over a stake-weighted validator set (docs/consensus.md)",
    .create = pos_create,
    .start = pos_start,
    .stop = pos_stop,
    .destroy = pos_destroy,
    .on_timer = pos_on_timer,
    .on_tx = pos_on_tx,
    .on_block = pos_on_block,
};

static int pow_create(void **state, const struct qcn_engine_host *host,
                      const struct qcn_engine_config *cfg)
{
    struct qcn_node *n = host->ctx;
    struct node_engine *e;
    struct qcn_pos_host ph;
    struct qcn_pow_config pc;
    int err;

    *state = NULL;
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return QCN_ERR_NOMEM;
    e->n = n;
    e->eh = *host;
    host_fill(&ph, e);
    memset(&pc, 0, sizeof pc);
    if (n->cfg.has_coinbase)
        memcpy(pc.coinbase, n->cfg.coinbase, sizeof pc.coinbase);
    /* dev.period_ms doubles as the block time target (seconds, >= 1). */
    pc.target_s = cfg->period_ms >= 1000 ? cfg->period_ms / 1000 : 0;
    err = qcn_pow_new(&e->pow, &ph, &pc);
    if (err != QCN_OK) {
        free(e);
        return err;
    }
    *state = e;
    return QCN_OK;
}

static int pow_start(void *state)
{
    struct node_engine *e = state;
    return qcn_pow_start(e->pow);
}

static void pow_stop(void *state)
{
    struct node_engine *e = state;
    qcn_pow_stop(e->pow);
    e->eh.timer_cancel(e->eh.ctx);
}

static void pow_destroy(void *state)
{
    struct node_engine *e = state;
    if (e == NULL)
        return;
    qcn_pow_free(e->pow);
    free(e);
}

static void pow_on_timer(void *state)
{
    struct node_engine *e = state;
    qcn_pow_on_timer(e->pow);
}

static void pow_on_block(void *state, uint64_t height)
{
    (void)state; /* pow reads the head from its host on its next slice */
    (void)height;
}

const struct qcn_engine_ops qcn_node_engine_pow = {
    .name = "pow",
    .summary = "SHA3-256 proof of work with difficulty adjustment (docs/consensus.md §10)",
    .create = pow_create,
    .start = pow_start,
    .stop = pow_stop,
    .destroy = pow_destroy,
    .on_timer = pow_on_timer,
    .on_tx = pos_on_tx,
    .on_block = pow_on_block,
};

static const struct qcn_engine_ops *const node_engines[] = {
    &qcn_node_engine_pos,
    &qcn_node_engine_pow,
};

int qcn_node_engine_init(struct qcn_engine *e, const char *name, const struct qcn_engine_host *host,
                         const struct qcn_engine_config *cfg)
{
    size_t i;
    int err;

    for (i = 0; i < sizeof node_engines / sizeof node_engines[0]; i++) {
        const struct qcn_engine_ops *ops = node_engines[i];
        if (strcmp(ops->name, name) != 0)
            continue;
        e->ops = NULL;
        e->state = NULL;
        err = ops->create(&e->state, host, cfg);
        if (err != QCN_OK) {
            e->state = NULL;
            return err;
        }
        e->ops = ops;
        return QCN_OK;
    }
    return qcn_engine_init(e, name, host, cfg);
}

/* ---- Hooks for the p2p side. */

void qcn_node_pos_set_broadcast(struct qcn_node *n, qcn_node_pos_send_fn fn, void *ctx)
{
    qcn_node_pos_set_transport(n, fn, NULL, ctx);
}

void qcn_node_pos_set_transport(struct qcn_node *n, qcn_node_pos_send_fn fn,
                                qcn_node_pos_send_to_fn to, void *ctx)
{
    struct node_engine *e = engine_of(n, &qcn_node_engine_pos);
    if (e == NULL)
        return;
    e->send = fn;
    e->send_to = to;
    e->send_ctx = ctx;
}

int qcn_node_pos_on_message(struct qcn_node *n, uint8_t kind, const uint8_t *payload, size_t len)
{
    return qcn_node_pos_on_peer_message(n, NULL, kind, payload, len);
}

int qcn_node_pos_on_peer_message(struct qcn_node *n, const uint8_t *peer, uint8_t kind,
                                 const uint8_t *payload, size_t len)
{
    struct node_engine *e = engine_of(n, &qcn_node_engine_pos);
    if (e == NULL || n->stopping)
        return QCN_ERR_UNSUPPORTED;
    return qcn_pos_on_peer_message(e->pos, peer, kind, payload, len);
}

int qcn_node_pos_sync_apply(struct qcn_node *n, const struct qcn_block *blk, const uint8_t *raw,
                            size_t raw_len, const uint8_t *cert, size_t cert_len)
{
    struct node_engine *e = engine_of(n, &qcn_node_engine_pos);
    int err;

    if (e == NULL)
        return qcn_node_import_block(n, raw, raw_len);
    if (cert == NULL || cert_len == 0)
        return QCN_ERR_CONSENSUS_CERT;
    /* Block h's own commit field certifies h-1 (the head) under the head's
     * set; genesis has none. Then the certificate that came with it
     * finalizes h itself (Tendermint fast sync). */
    if (blk->header.height > 1) {
        struct qcn_block parent;
        memset(&parent, 0, sizeof parent);
        parent.header.height = qcn_node_head_height(n);
        qcn_node_head_hash(n, parent.hash);
        if (blk->header.height != parent.header.height + 1 ||
            memcmp(blk->header.parent_hash, parent.hash, QCN_HASH_BYTES) != 0)
            return QCN_ERR_BLOCK_PARENT;
        if (qcn_pos_verify_synced(e->pos, &parent, blk->header.commit, blk->header.commit_len) !=
            QCN_OK)
            return QCN_ERR_CONSENSUS_CERT;
    }
    if (qcn_pos_verify_synced(e->pos, blk, cert, cert_len) != QCN_OK)
        return QCN_ERR_CONSENSUS_CERT;
    err = commit_put(n, blk->hash, cert, cert_len);
    if (err != QCN_OK)
        return err;
    /* pos_on_block (not committing) tells pos the head moved. */
    return qcn_node_import_block(n, raw, raw_len);
}

int qcn_node_pos_status(struct qcn_node *n, struct qcn_pos_status *out)
{
    struct node_engine *e = engine_of(n, &qcn_node_engine_pos);
    if (e == NULL)
        return QCN_ERR_UNSUPPORTED;
    qcn_pos_status_get(e->pos, out);
    return QCN_OK;
}
