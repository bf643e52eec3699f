/* libFuzzer target: staking's decoders and its transaction entry point
 * (chain/staking.h). The first byte picks:
 *   0  qcn_staking_decode (the stored state blob): a decoded state
 *      re-encodes to the input byte for byte;
 *   1  qcn_staking_params_decode: the same, and decoded parameters pass
 *      qcn_staking_params_check;
 *   2  qcn_staking_apply_tx (transaction data from anyone, op 7 evidence
 *      included) against a small genesis state, the next byte choosing the
 *      sender and value: a refused transaction leaves the state byte for
 *      byte as it was; an accepted one leaves a state that round-trips;
 *      qcn_staking_evidence_check never crashes on the same bytes.
 * Any input either fails cleanly or satisfies these. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/staking.h"
#include "crypto/mldsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NVAL 3
#define CHAIN 7

static uint8_t pk[NVAL][QCN_VOTE_PK_BYTES];
static uint8_t op[NVAL][QCN_ADDRESS_BYTES];
static int ready;

static void init_keys(void)
{
    static uint8_t sk[QCN_VOTE_SK_BYTES];
    uint8_t seed[32];
    int i;
    for (i = 0; i < NVAL; i++) {
        memset(seed, 0x50 + i, sizeof seed);
        if (qcn_mldsa_keygen(QCN_MLDSA65, pk[i], sk, seed) != QCN_OK)
            abort();
        memset(op[i], 0xa0 + i, QCN_ADDRESS_BYTES);
    }
    ready = 1;
}

static void encode(struct qcn_buf *b, const struct qcn_staking *s)
{
    qcn_buf_reset(b);
    if (qcn_staking_encode(b, s) != QCN_OK)
        abort();
}

static void same(const struct qcn_buf *b, const uint8_t *p, size_t n)
{
    if (b->len != n || memcmp(b->p, p, n) != 0)
        abort();
}

static void fuzz_apply(const uint8_t *data, size_t size)
{
    static const uint8_t tip[32] = {1};
    struct qcn_staking_params p;
    struct qcn_staking s, d;
    struct qcn_staking_credits cr;
    struct qcn_buf before, after;
    uint8_t sender[QCN_ADDRESS_BYTES];
    uint64_t value;
    int i, err;

    if (size < 1)
        return;
    if (!ready)
        init_keys();
    qcn_staking_params_default(&p);
    p.epoch_length = 4;
    qcn_staking_init(&s, &p);
    for (i = 0; i < NVAL; i++)
        if (qcn_staking_genesis_add(&s, op[i], pk[i], tip,
                                    (uint64_t)(1000 + 1000 * i) * QCN_STAKING_GWEI_PER_COIN,
                                    0) != QCN_OK)
            abort();
    /* sender: one of the operators or a stranger; value: 0 or some stake */
    memcpy(sender, data[0] & 3 ? op[(data[0] & 3) - 1] : (const uint8_t *)"stranger-0123456789a",
           QCN_ADDRESS_BYTES);
    value = data[0] & 4 ? 1500 * QCN_STAKING_GWEI_PER_COIN : 0;
    qcn_buf_init(&before, 1u << 20);
    qcn_buf_init(&after, 1u << 20);
    encode(&before, &s);
    (void)qcn_staking_evidence_check(&s, CHAIN, 1, data + 1, size - 1, NULL);
    err = qcn_staking_apply_tx(&s, CHAIN, 3, sender, value, data + 1, size - 1, &cr);
    encode(&after, &s);
    if (err != QCN_OK) {
        same(&after, before.p, before.len); /* refused: nothing changed */
    } else {
        if (qcn_staking_decode(&d, &p, qcn_buf_view(&after)) != QCN_OK)
            abort();
        encode(&before, &d);
        same(&before, after.p, after.len);
        qcn_staking_clear(&d);
    }
    qcn_buf_clear(&before);
    qcn_buf_clear(&after);
    qcn_staking_clear(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qcn_staking_params p, q;
    struct qcn_staking s;
    struct qcn_buf b;
    struct qcn_view in;

    if (size < 1)
        return 0;
    in = qcn_view_make(data + 1, size - 1);
    qcn_buf_init(&b, 1u << 22);
    switch (data[0] % 3) {
    case 0:
        qcn_staking_params_default(&p);
        if (qcn_staking_decode(&s, &p, in) == QCN_OK) {
            encode(&b, &s);
            same(&b, in.p, in.len);
            qcn_staking_clear(&s);
        } else if (s.nval != 0 || s.val != NULL) {
            abort();
        }
        break;
    case 1:
        if (qcn_staking_params_decode(&q, in) == QCN_OK) {
            if (qcn_staking_params_check(&q, NULL) != QCN_OK ||
                qcn_staking_params_encode(&b, &q) != QCN_OK)
                abort();
            same(&b, in.p, in.len);
        } else if (q.epoch_length != 0) {
            abort();
        }
        break;
    default:
        fuzz_apply(data + 1, size - 1);
        break;
    }
    qcn_buf_clear(&b);
    return 0;
}
