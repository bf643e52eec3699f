/* rpc_fake_chain.h - an in-memory chain behind struct qcn_rpc_backend, for the
 * RPC tests and the ethers/viem shape check (tests/e2e/rpc). Real codec
 * objects (encoded, then decoded strictly) with fixed contents:
 *   block 0: genesis, no transactions
 *   block 1: two transfers from SENDER (nonces 0, 1); the second logs once
 *   block 2: one transfer from SENDER (nonce 2)
 * The signatures are the right size but not valid (the RPC layer never
 * verifies). Included by one .c file each (everything is static). */
#ifndef QCN_TESTS_RPC_FAKE_CHAIN_H
#define QCN_TESTS_RPC_FAKE_CHAIN_H

#include <stdlib.h>
#include <string.h>

#include "codec/block.h"
#include "codec/keyrec.h"
#include "codec/receipt.h"
#include "codec/tx.h"
#include "crypto/mldsa.h"
#include "rpc/rpc.h"
#ifdef FAKE_CHAIN_EVM
#include "rpc/evm.h"
#endif

#define FAKE_CHAIN_ID 0x1234
#define FAKE_BLOCKS 3
#define FAKE_BASE_FEE 1000u

struct fake_chain {
    struct qcn_block blocks[FAKE_BLOCKS];
    struct qcn_receipt *receipts[FAKE_BLOCKS];
    size_t nreceipts[FAKE_BLOCKS];
    uint8_t sender[QCN_ADDRESS_BYTES];
    uint8_t recipient[QCN_ADDRESS_BYTES];
    uint8_t pk[QCN_MLDSA65_PK_BYTES];
    uint8_t *keyrec;
    size_t keyrec_len;
    uint64_t sender_nonce;
    struct qcn_u256 sender_balance;
    struct qcn_tx *pending; /* one pooled transaction */
    /* submit_tx behaviour: 0 answer at once, 1 keep the callback for later */
    int submit_async;
    int submit_result;
    void (*held_done)(void *, int, const uint8_t *);
    void *held_ctx;
    uint8_t held_hash[QCN_HASH_BYTES];
    size_t submitted;
#ifdef FAKE_CHAIN_EVM
    struct qcn_rpc_evm *evm;
#endif
};

__attribute__((unused)) static struct qcn_tx *fake_tx(struct fake_chain *fc, uint64_t nonce,
                                                      uint64_t value, int with_pk)
{
    struct qcn_tx_fields f;
    struct qcn_tx_sig sig;
    struct qcn_buf b;
    struct qcn_tx *tx = NULL;
    static uint8_t sigbytes[QCN_MLDSA65_SIG_BYTES];

    memset(&f, 0, sizeof f);
    f.chain_id = FAKE_CHAIN_ID;
    f.nonce = nonce;
    f.max_priority_fee = 2;
    f.max_fee = 5000;
    f.gas_limit = 200000;
    memcpy(f.from, fc->sender, QCN_ADDRESS_BYTES);
    f.has_to = 1;
    memcpy(f.to, fc->recipient, QCN_ADDRESS_BYTES);
    f.value = qcn_u256_from_u64(value);
    f.scheme = QCN_SCHEME_MLDSA65;
    memset(sigbytes, 0x5a, sizeof sigbytes);
    sig.key_index = 0;
    sig.sig = qcn_view_make(sigbytes, sizeof sigbytes);
    qcn_buf_init(&b, QCN_TX_MAX_BYTES);
    if (qcn_tx_encode(&b, &f,
                      with_pk ? qcn_view_make(fc->pk, sizeof fc->pk) : qcn_view_make(NULL, 0), &sig,
                      1) != QCN_OK ||
        qcn_tx_decode(&tx, qcn_buf_view(&b)) != QCN_OK)
        tx = NULL;
    qcn_buf_clear(&b);
    return tx;
}

static int fake_chain_init(struct fake_chain *fc)
{
    uint8_t seed[QCN_MLDSA_SEED_BYTES], sk[QCN_MLDSA65_SK_BYTES];
    struct qcn_keyrec kr;
    struct qcn_buf b;
    uint64_t nonce = 0, ts = 1700000000;

    memset(fc, 0, sizeof *fc);
    memset(seed, 7, sizeof seed);
    if (qcn_mldsa_keygen(qcn_scheme_param(QCN_SCHEME_MLDSA65), fc->pk, sk, seed) != QCN_OK)
        return -1;
    qcn_address_from_key(fc->sender, QCN_SCHEME_MLDSA65, fc->pk, sizeof fc->pk);
    memset(fc->recipient, 0xbb, sizeof fc->recipient);
    if (qcn_keyrec_single(&kr, QCN_SCHEME_MLDSA65, qcn_view_make(fc->pk, sizeof fc->pk)) != QCN_OK)
        return -1;
    qcn_buf_init(&b, QCN_KEYREC_MAX_BYTES);
    if (qcn_keyrec_encode(&b, &kr) != QCN_OK)
        return -1;
    fc->keyrec = malloc(b.len);
    memcpy(fc->keyrec, b.p, b.len);
    fc->keyrec_len = b.len;
    qcn_buf_clear(&b);

    for (int h = 0; h < FAKE_BLOCKS; h++) {
        struct qcn_block *blk = &fc->blocks[h];
        size_t ntx = h == 0 ? 0 : h == 1 ? 2 : 1;
        uint64_t cum = 0;
        blk->header.height = (uint64_t)h;
        blk->header.timestamp = ts + (uint64_t)h * 2;
        blk->header.gas_limit = 30000000;
        blk->header.base_fee = FAKE_BASE_FEE;
        memset(blk->header.proposer, 0xcc, QCN_ADDRESS_BYTES);
        memset(blk->header.state_root, h + 1, QCN_HASH_BYTES);
        if (h > 0)
            memcpy(blk->header.parent_hash, fc->blocks[h - 1].hash, QCN_HASH_BYTES);
        blk->ntx = ntx;
        blk->txs = ntx ? calloc(ntx, sizeof *blk->txs) : NULL;
        fc->receipts[h] = ntx ? calloc(ntx, sizeof *fc->receipts[h]) : NULL;
        fc->nreceipts[h] = ntx;
        for (size_t i = 0; i < ntx; i++) {
            blk->txs[i] = fake_tx(fc, nonce, 1000 + nonce, nonce == 0);
            if (blk->txs[i] == NULL)
                return -1;
            nonce++;
            cum += 21000 + 60000;
            fc->receipts[h][i].status = 1;
            fc->receipts[h][i].cumulative_gas = cum;
            if (h == 1 && i == 1) {
                uint8_t topics[2][QCN_HASH_BYTES];
                memset(topics[0], 0x11, QCN_HASH_BYTES);
                memset(topics[1], 0x22, QCN_HASH_BYTES);
                if (qcn_receipt_add_log(&fc->receipts[h][i], fc->recipient,
                                        (const uint8_t(*)[QCN_HASH_BYTES])topics, 2,
                                        (const uint8_t *)"\x01\x02", 2) != QCN_OK)
                    return -1;
            }
        }
        blk->header.gas_used = cum;
        if (qcn_header_hash(blk->hash, &blk->header) != QCN_OK)
            return -1;
    }
    fc->sender_nonce = nonce;
    fc->sender_balance = qcn_u256_from_u64(1000000000000000000ull);
    fc->pending = fake_tx(fc, nonce, 77, 0);
    return fc->pending != NULL ? 0 : -1;
}

__attribute__((unused)) static void fake_chain_clear(struct fake_chain *fc)
{
    for (int h = 0; h < FAKE_BLOCKS; h++) {
        qcn_block_clear(&fc->blocks[h]);
        for (size_t i = 0; i < fc->nreceipts[h]; i++)
            qcn_receipt_clear(&fc->receipts[h][i]);
        free(fc->receipts[h]);
    }
    qcn_tx_unref(fc->pending);
    free(fc->keyrec);
#ifdef FAKE_CHAIN_EVM
    qcn_rpc_evm_free(fc->evm);
#endif
}

static int fake_copy_block(struct fake_chain *fc, int h, struct qcn_block *out)
{
    struct qcn_buf b;
    int err;
    /* A real backend decodes from the store; so does this one. */
    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
    err = qcn_block_encode(&b, &fc->blocks[h]);
    if (err == QCN_OK)
        err = qcn_block_decode(out, qcn_buf_view(&b));
    qcn_buf_clear(&b);
    return err;
}

static int fb_head(void *u, uint64_t *out)
{
    (void)u;
    *out = FAKE_BLOCKS - 1;
    return QCN_OK;
}

static int fb_block_by_number(void *u, uint64_t n, struct qcn_block *out)
{
    if (n >= FAKE_BLOCKS)
        return QCN_ERR_NOT_FOUND;
    return fake_copy_block(u, (int)n, out);
}

static int fb_block_by_hash(void *u, const uint8_t hash[32], struct qcn_block *out)
{
    struct fake_chain *fc = u;
    for (int h = 0; h < FAKE_BLOCKS; h++)
        if (memcmp(fc->blocks[h].hash, hash, 32) == 0)
            return fake_copy_block(fc, h, out);
    return QCN_ERR_NOT_FOUND;
}

static int fb_block_receipts(void *u, const uint8_t hash[32], struct qcn_receipt **out, size_t *n)
{
    struct fake_chain *fc = u;
    for (int h = 0; h < FAKE_BLOCKS; h++) {
        struct qcn_buf b;
        int err;
        if (memcmp(fc->blocks[h].hash, hash, 32) != 0)
            continue;
        qcn_buf_init(&b, QCN_RECEIPT_MAX_BYTES);
        err = qcn_receipts_encode(&b, fc->receipts[h], fc->nreceipts[h]);
        if (err == QCN_OK)
            err = qcn_receipts_decode(out, n, qcn_buf_view(&b));
        qcn_buf_clear(&b);
        return err;
    }
    return QCN_ERR_NOT_FOUND;
}

static int fb_tx_location(void *u, const uint8_t hash[32], uint8_t block_hash[32], uint32_t *index)
{
    struct fake_chain *fc = u;
    for (int h = 0; h < FAKE_BLOCKS; h++)
        for (size_t i = 0; i < fc->blocks[h].ntx; i++)
            if (memcmp(fc->blocks[h].txs[i]->hash, hash, 32) == 0) {
                memcpy(block_hash, fc->blocks[h].hash, 32);
                *index = (uint32_t)i;
                return QCN_OK;
            }
    return QCN_ERR_NOT_FOUND;
}

static int fb_account(void *u, const uint8_t addr[20], uint64_t *nonce, struct qcn_u256 *bal)
{
    struct fake_chain *fc = u;
    if (memcmp(addr, fc->sender, 20) != 0)
        return QCN_ERR_NOT_FOUND;
    *nonce = fc->sender_nonce;
    *bal = fc->sender_balance;
    return QCN_OK;
}

/* Accounts 0xc0de<k>...: code. k = 0: return nothing; 1: return the word
 * 0x2a; 2: revert with Error("no"); 3: loop forever (runs out of gas);
 * 4: return storage slot 1 (SLOAD, 42 in this chain). */
static int fb_code(void *u, const uint8_t addr[20], struct qcn_buf *out)
{
    static const uint8_t ret_empty[] = {0x60, 0x00, 0x60, 0x00, 0xf3};
    static const uint8_t ret_2a[] = {0x60, 0x2a, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3};
    /* mstore Error(string) "no": selector, offset 0x20, length 2, "no" */
    static const uint8_t revert_no[] = {
        0x63, 0x08, 0xc3, 0x79, 0xa0, 0x60, 0xe0, 0x1b, 0x60, 0x00, 0x52, /* selector at 0 */
        0x60, 0x20, 0x60, 0x04, 0x52,                                     /* offset at 4 */
        0x60, 0x02, 0x60, 0x24, 0x52,                                     /* length at 36 */
        0x61, 0x6e, 0x6f, 0x60, 0xf0, 0x1b, 0x60, 0x44, 0x52,             /* "no" at 68 */
        0x60, 0x64, 0x60, 0x00, 0xfd};                                    /* revert(0, 100) */
    static const uint8_t loop[] = {0x5b, 0x60, 0x00, 0x56};
    static const uint8_t sload1[] = {0x60, 0x01, 0x54, 0x60, 0x00, 0x52,
                                     0x60, 0x20, 0x60, 0x00, 0xf3};
    (void)u;
    if (addr[0] != 0xc0 || addr[1] != 0xde)
        return QCN_ERR_NOT_FOUND;
    switch (addr[2]) {
    case 0:
        return qcn_buf_append(out, ret_empty, sizeof ret_empty);
    case 1:
        return qcn_buf_append(out, ret_2a, sizeof ret_2a);
    case 2:
        return qcn_buf_append(out, revert_no, sizeof revert_no);
    case 3:
        return qcn_buf_append(out, loop, sizeof loop);
    case 4:
        return qcn_buf_append(out, sload1, sizeof sload1);
    default:
        return QCN_ERR_NOT_FOUND;
    }
}

static int fb_storage(void *u, const uint8_t addr[20], const uint8_t slot[32], uint8_t out[32])
{
    (void)u;
    (void)addr;
    memset(out, 0, 32);
    out[31] = slot[31] == 1 ? 0x2a : 0;
    return QCN_OK;
}

static int fb_key_record(void *u, const uint8_t addr[20], struct qcn_buf *out)
{
    struct fake_chain *fc = u;
    if (memcmp(addr, fc->sender, 20) != 0)
        return QCN_ERR_NOT_FOUND;
    return qcn_buf_append(out, fc->keyrec, fc->keyrec_len);
}

static int fb_pending_tx(void *u, const uint8_t hash[32], struct qcn_tx **out)
{
    struct fake_chain *fc = u;
    if (memcmp(fc->pending->hash, hash, 32) != 0)
        return QCN_ERR_NOT_FOUND;
    *out = qcn_tx_ref(fc->pending);
    return QCN_OK;
}

static int fb_pending_nonce(void *u, const uint8_t addr[20], uint64_t *out)
{
    struct fake_chain *fc = u;
    *out = memcmp(addr, fc->sender, 20) == 0 ? fc->sender_nonce + 1 : 0;
    return QCN_OK;
}

static int fb_mempool_status(void *u, size_t *count, size_t *bytes)
{
    struct fake_chain *fc = u;
    *count = 1;
    *bytes = fc->pending->raw_len;
    return QCN_OK;
}

static int fb_next_base_fee(void *u, uint64_t *out)
{
    (void)u;
    *out = FAKE_BASE_FEE - 100;
    return QCN_OK;
}

static int fb_submit(void *u, const uint8_t *raw, size_t len,
                     void (*done)(void *, int, const uint8_t *), void *ctx)
{
    struct fake_chain *fc = u;
    struct qcn_tx *tx = NULL;
    uint8_t zero[32] = {0};
    int err = qcn_tx_decode(&tx, qcn_view_make(raw, len));
    fc->submitted++;
    if (err != QCN_OK) {
        done(ctx, err, zero);
        return err;
    }
    if (fc->submit_async) {
        fc->held_done = done;
        fc->held_ctx = ctx;
        memcpy(fc->held_hash, tx->hash, 32);
    } else {
        done(ctx, fc->submit_result, tx->hash);
    }
    qcn_tx_unref(tx);
    return QCN_OK;
}

#ifdef FAKE_CHAIN_EVM
/* eth_call through the real EVM glue (rpc/evm.h) over this chain's state. */
static int fb_exec(void *u, const struct qcn_header *head, const struct qcn_rpc_exec_msg *m,
                   enum qcn_rpc_exec_status *status, uint64_t *gas_used, struct qcn_buf *out)
{
    struct fake_chain *fc = u;
    if (fc->evm == NULL) {
        struct qcn_rpc_backend state;
        memset(&state, 0, sizeof state);
        state.user = fc;
        state.account = fb_account;
        state.code = fb_code;
        state.storage = fb_storage;
        if (qcn_rpc_evm_new(&fc->evm, &state) != QCN_OK)
            return QCN_ERR_NOMEM;
    }
    return qcn_rpc_evm_exec(fc->evm, head, m, status, gas_used, out);
}
#endif

static void fake_backend(struct fake_chain *fc, struct qcn_rpc_backend *be)
{
    memset(be, 0, sizeof *be);
    be->user = fc;
    be->head_number = fb_head;
    be->block_by_number = fb_block_by_number;
    be->block_by_hash = fb_block_by_hash;
    be->block_receipts = fb_block_receipts;
    be->tx_location = fb_tx_location;
    be->account = fb_account;
    be->code = fb_code;
    be->storage = fb_storage;
    be->key_record = fb_key_record;
    be->pending_tx = fb_pending_tx;
    be->pending_nonce = fb_pending_nonce;
    be->mempool_status = fb_mempool_status;
    be->next_base_fee = fb_next_base_fee;
    be->submit_tx = fb_submit;
#ifdef FAKE_CHAIN_EVM
    be->exec = fb_exec;
#endif
}

#endif
