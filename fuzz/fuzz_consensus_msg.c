/* libFuzzer target: what peers and transactions feed the consensus layer.
 * Byte 0 picks the path: 1-4 and 6-8 a consensus message of that kind into
 * a running pos engine (observer, one-validator set, genesis-only chain,
 * a pool without transactions, from a fixed peer),
 * 5 the data of a staking transaction into a staking state. Any input is
 * refused cleanly or accepted; nothing crashes, and a refused staking
 * transaction leaves the state byte-identical. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/staking.h"
#include "consensus/pos.h"
#include "crypto/mldsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct qcn_block genesis;
static uint8_t genesis_hash[32];

static uint64_t f_now(void *ctx)
{
    (void)ctx;
    return 1000;
}
static void f_timer_set(void *ctx, uint64_t d)
{
    (void)ctx;
    (void)d;
}
static void f_timer_cancel(void *ctx)
{
    (void)ctx;
}
static void f_head(void *ctx, uint64_t *h, uint8_t hash[32])
{
    (void)ctx;
    *h = 0;
    memcpy(hash, genesis_hash, 32);
}
static int f_get_header(void *ctx, uint64_t h, struct qcn_header *out)
{
    (void)ctx;
    if (h != 0)
        return QCN_ERR_NOT_FOUND;
    return qcn_header_copy(out, &genesis.header);
}
static int f_get_head_commit(void *ctx, struct qcn_buf *out)
{
    (void)ctx;
    (void)out;
    return QCN_ERR_NOT_FOUND;
}
static int f_build(void *ctx, const struct qcn_pos_build *a, struct qcn_buf *out, uint8_t h[32])
{
    (void)ctx;
    (void)a;
    (void)out;
    (void)h;
    return QCN_ERR_UNSUPPORTED;
}
static int f_check(void *ctx, const uint8_t *b, size_t n)
{
    (void)ctx;
    (void)b;
    (void)n;
    return QCN_OK;
}
static int f_commit(void *ctx, const uint8_t *b, size_t n, const uint8_t *c, size_t cn)
{
    (void)ctx;
    (void)b;
    (void)n;
    (void)c;
    (void)cn;
    return QCN_ERR_UNSUPPORTED;
}
static void f_broadcast(void *ctx, uint8_t kind, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)kind;
    (void)p;
    (void)n;
}

static int f_get_tx(void *ctx, const uint8_t hash[32], struct qcn_buf *out)
{
    (void)ctx;
    (void)hash;
    (void)out;
    return QCN_ERR_NOT_FOUND;
}
static void f_send_to(void *ctx, const uint8_t peer[QCN_POS_PEER_BYTES], uint8_t kind,
                      const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)peer;
    (void)kind;
    (void)p;
    (void)n;
}

static struct qcn_pos *engine(void)
{
    static struct qcn_pos *p;
    static uint8_t pk[QCN_VOTE_PK_BYTES], sk[QCN_VOTE_SK_BYTES];
    struct qcn_pos_host h = {
        NULL,    f_now,   f_timer_set, f_timer_cancel, f_head, f_get_header, f_get_head_commit,
        f_build, f_check, f_commit,    f_broadcast,    NULL,   f_get_tx,     f_send_to};
    struct qcn_pos_config c;
    struct qcn_valset vs;
    struct qcn_buf b;
    uint8_t seed[32], tip[32] = {0};
    if (p != NULL)
        return p;
    memset(seed, 0x42, sizeof seed);
    if (qcn_mldsa_keygen(QCN_MLDSA65, pk, sk, seed) != QCN_OK)
        abort();
    memset(&genesis, 0, sizeof genesis);
    if (qcn_header_hash(genesis_hash, &genesis.header) != QCN_OK)
        abort();
    qcn_valset_init(&vs);
    qcn_buf_init(&b, 1u << 16);
    if (qcn_valset_add(&vs, pk, 1, tip) != QCN_OK || qcn_valset_encode(&b, &vs) != QCN_OK)
        abort();
    memset(&c, 0, sizeof c);
    c.chain_id = 7;
    c.validators = b.p;
    c.validators_len = b.len;
    if (qcn_pos_new(&p, &h, &c) != QCN_OK || qcn_pos_start(p) != QCN_OK)
        abort();
    /* the engine keeps its own copy of the set */
    qcn_buf_clear(&b);
    qcn_valset_clear(&vs);
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if ((data[0] >= 1 && data[0] <= 4) || (data[0] >= 6 && data[0] <= 8)) {
        static const uint8_t peer[QCN_POS_PEER_BYTES] = {9};
        (void)qcn_pos_on_peer_message(engine(), peer, data[0], data + 1, size - 1);
    } else if (data[0] == 5) {
        struct qcn_staking_params prm;
        struct qcn_staking s;
        struct qcn_staking_credits cr;
        struct qcn_buf before, after;
        uint8_t sender[20], pk[QCN_VOTE_PK_BYTES] = {1}, tip[32] = {2};
        qcn_staking_params_default(&prm);
        qcn_staking_init(&s, &prm);
        memset(sender, 0xab, sizeof sender);
        if (qcn_staking_genesis_add(&s, sender, pk, tip, prm.min_self_stake, 100) != QCN_OK)
            abort();
        qcn_buf_init(&before, 1u << 20);
        qcn_buf_init(&after, 1u << 20);
        if (qcn_staking_encode(&before, &s) != QCN_OK)
            abort();
        if (qcn_staking_apply_tx(&s, 7, 10, sender, 0, data + 1, size - 1, &cr) != QCN_OK) {
            if (qcn_staking_encode(&after, &s) != QCN_OK || after.len != before.len ||
                memcmp(after.p, before.p, before.len) != 0)
                abort();
        }
        qcn_buf_clear(&before);
        qcn_buf_clear(&after);
        qcn_staking_clear(&s);
    }
    return 0;
}
