/* evm_exec.c - contracts on the chain: the built-in VM hook that runs a
 * transaction's message through the EVM (src/vm) over the chain's state
 * database, and calls / gas estimates that run against the head state
 * without committing (docs/contracts.md).
 *
 * Division of labour with chain.c (docs/protocol.md §3): the ledger checks
 * validity, verifies the post-quantum signatures, charges gas_limit x price,
 * bumps the nonce and records the key, then hands the hook the execution gas
 * (gas_limit - intrinsic). The hook runs one depth-0 message (Yellow Paper
 * §8: CALL, or CREATE with the address from the pre-bump nonce), applies the
 * refund (EIP-3529: at most a fifth of the transaction's gas), copies the
 * logs into the receipt and writes the overlay's changes into the statedb.
 * The ledger then refunds unused gas and pays the producer its tip, exactly
 * as for a transfer. */
#include "chain/chain_internal.h"

#include <stdlib.h>
#include <string.h>

#include "codec/keyrec.h"
#include "codec/rlp.h"
#include "vm/evm.h"
#include "vm/precompile.h"
#include "vm/state.h"
#include "vm/statedb_glue.h"
#include "vm/tx.h"

_Static_assert(QCN_CHAIN_MAX_INITCODE == QCN_VM_MAX_INITCODE_SIZE, "EIP-3860 limit");

/* Code shared across transactions and blocks (immutable per hash). */
#define CODE_CACHE_BYTES (64u * 1024u * 1024u)

struct qcn_chain_evm {
    struct qcn_chain *chain;
    struct qcn_vm *vm;
    struct qcn_vm_code_cache *codes;
};

/* ---- the block environment (docs/contracts.md "Block context") ---- */

/* BLOCKHASH: the canonical index of the committed store; the head from memory.
 * The VM only asks for the 256 blocks below the current one. */
static int blockhash(void *ctx, uint64_t number, uint8_t out[QCN_U256_BYTES])
{
    struct qcn_chain *c = ctx;
    struct qcn_buf b;
    uint8_t k[8];
    int err;

    memset(out, 0, QCN_U256_BYTES);
    if (number == c->head.height) {
        memcpy(out, c->head_hash, QCN_HASH_BYTES);
        return QCN_OK;
    }
    if (number > c->head.height)
        return QCN_OK;
    qcn_store_be64(k, number);
    qcn_buf_init(&b, QCN_HASH_BYTES);
    err = c->rd->get(c->rd->ctx, QCN_TABLE_CANON, k, sizeof k, &b);
    if (err == QCN_OK && b.len == QCN_HASH_BYTES)
        memcpy(out, b.p, QCN_HASH_BYTES);
    else if (err == QCN_OK)
        err = QCN_ERR_STORE_CORRUPT;
    else if (err == QCN_ERR_NOT_FOUND)
        err = QCN_OK; /* pruned or never stored: zero, as below the window */
    qcn_buf_clear(&b);
    return err;
}

static void block_env(struct qcn_vm_block_env *env, struct qcn_chain *c, const uint8_t *coinbase,
                      uint64_t number, uint64_t timestamp, uint64_t gas_limit, const uint8_t *mix,
                      uint64_t base_fee)
{
    memset(env, 0, sizeof *env);
    memcpy(env->coinbase, coinbase, QCN_ADDRESS_BYTES);
    env->number = number;
    env->timestamp = timestamp;
    env->gas_limit = gas_limit;
    memcpy(env->prevrandao, mix, QCN_HASH_BYTES);
    env->base_fee = qcn_u256_from_u64(base_fee);
    env->chain_id = qcn_u256_from_u64(c->params.chain_id);
    /* No blobs on this chain: BLOBBASEFEE reads zero, BLOBHASH reads zero. */
    env->blockhash = blockhash;
    env->blockhash_ctx = c;
}

/* ---- EIP-2930 access lists (already validated by the tx decoder) ---- */

struct access {
    struct qcn_vm_access_entry *e;
    uint8_t (*keys)[QCN_U256_BYTES];
    size_t n;
    size_t nkeys;
};

static void access_clear(struct access *a)
{
    free(a->e);
    free(a->keys);
    memset(a, 0, sizeof *a);
}

/* Parses [[address, [slot, ...]], ...] into arrays the VM warms from. */
static int access_parse(struct access *a, struct qcn_view raw)
{
    struct qcn_rlp_item top, entry, parts[2], key;
    struct qcn_rlp_iter it, kit;
    size_t n = 0, nk = 0, i = 0, k = 0;
    int err;

    memset(a, 0, sizeof *a);
    if (raw.len == 0)
        return QCN_OK;
    if (qcn_rlp_decode(&top, raw) != QCN_OK || !top.is_list)
        return QCN_ERR_TX_MALFORMED;
    /* First pass: count (bounded by the decoder's caps). */
    qcn_rlp_iter_init(&it, &top);
    while ((err = qcn_rlp_iter_next(&it, &entry)) == QCN_OK) {
        size_t c;
        if (qcn_rlp_split(parts, 2, &entry) != QCN_OK || qcn_rlp_count(&c, &parts[1]) != QCN_OK)
            return QCN_ERR_TX_MALFORMED;
        n++;
        nk += c;
        if (n > QCN_TX_MAX_ACCESS_ADDRESSES || nk > QCN_TX_MAX_ACCESS_KEYS)
            return QCN_ERR_TX_OVERSIZED;
    }
    if (err != QCN_ERR_NOT_FOUND)
        return QCN_ERR_TX_MALFORMED;
    if (n == 0)
        return QCN_OK;
    a->e = calloc(n, sizeof *a->e);
    a->keys = calloc(nk ? nk : 1, sizeof *a->keys);
    if (a->e == NULL || a->keys == NULL) {
        access_clear(a);
        return QCN_ERR_NOMEM;
    }
    qcn_rlp_iter_init(&it, &top);
    while (i < n && qcn_rlp_iter_next(&it, &entry) == QCN_OK) {
        if (qcn_rlp_split(parts, 2, &entry) != QCN_OK ||
            qcn_rlp_get_fixed(a->e[i].addr, QCN_ADDRESS_BYTES, &parts[0]) != QCN_OK)
            goto bad;
        a->e[i].keys = (const uint8_t(*)[QCN_U256_BYTES]) & a->keys[k];
        qcn_rlp_iter_init(&kit, &parts[1]);
        while (k < nk && qcn_rlp_iter_next(&kit, &key) == QCN_OK) {
            if (qcn_rlp_get_fixed(a->keys[k], QCN_U256_BYTES, &key) != QCN_OK)
                goto bad;
            k++;
            a->e[i].nkeys++;
        }
        i++;
    }
    a->n = n;
    a->nkeys = nk;
    return QCN_OK;
bad:
    access_clear(a);
    return QCN_ERR_TX_MALFORMED;
}

/* ---- one message over an overlay ---- */

struct run {
    /* in */
    const struct qcn_vm_block_env *env;
    const uint8_t *from;
    const uint8_t *to; /* NULL: creation */
    struct qcn_u256 value;
    struct qcn_u256 gas_price;
    const uint8_t *data;
    size_t data_len;
    const struct access *access;
    uint64_t gas;
    int nonce_bumped;
    /* out */
    enum qcn_vm_status status;
    uint64_t used;  /* execution gas consumed, before the refund */
    int64_t refund; /* the refund counter at the end (EIP-3529, uncapped) */
    const uint8_t *output;
    size_t output_len;
    uint8_t created[QCN_ADDRESS_BYTES];
};

/* Runs r's message in st (begin_tx .. finalize_tx). QCN_OK with r's outputs,
 * or the backend's / an allocation error (the message must be abandoned). */
static int run_message(struct qcn_chain_evm *ev, struct qcn_vm_state *st, struct run *r)
{
    struct qcn_vm_tx_env txe;
    struct qcn_vm_message msg;
    struct qcn_vm_result res;
    int err;

    if (r->gas > (uint64_t)INT64_MAX)
        return QCN_ERR_INVALID_ARG;
    memset(&txe, 0, sizeof txe);
    memcpy(txe.origin, r->from, QCN_ADDRESS_BYTES);
    txe.gas_price = r->gas_price;
    memset(&msg, 0, sizeof msg);
    msg.kind = r->to != NULL ? QCN_VM_CALL : QCN_VM_CREATE;
    msg.depth = 0;
    msg.gas = (int64_t)r->gas;
    memcpy(msg.sender, r->from, QCN_ADDRESS_BYTES);
    if (r->to != NULL) {
        memcpy(msg.recipient, r->to, QCN_ADDRESS_BYTES);
        memcpy(msg.code_address, r->to, QCN_ADDRESS_BYTES);
    }
    msg.value = r->value;
    msg.input = r->data;
    msg.input_len = r->data_len;
    msg.nonce_bumped = r->nonce_bumped;

    qcn_vm_state_begin_tx(st);
    err = qcn_vm_warm_tx(ev->vm, st, r->env, r->from, r->to, r->access->e, r->access->n);
    if (err == QCN_OK)
        err = qcn_vm_execute(ev->vm, st, r->env, &txe, &msg, &res);
    if (err != QCN_OK)
        return err;
    r->status = res.status;
    r->used = r->gas - (uint64_t)(res.gas_left > 0 ? res.gas_left : 0);
    r->refund = res.status == QCN_VM_SUCCESS ? qcn_vm_state_refund(st) : 0;
    r->output = res.output;
    r->output_len = res.output_len;
    memcpy(r->created, res.created, QCN_ADDRESS_BYTES);
    /* The refund is read first: finalize resets it (vm/evm.h). */
    qcn_vm_state_finalize_tx(st);
    return qcn_vm_state_error(st);
}

static struct qcn_vm_state *new_state(struct qcn_chain_evm *ev, struct qcn_statedb *db)
{
    struct qcn_vm_state_backend be = qcn_vm_statedb_backend(db);
    struct qcn_vm_state *st = qcn_vm_state_new(&be);
    if (st != NULL && ev->codes != NULL)
        qcn_vm_state_use_code_cache(st, ev->codes);
    return st;
}

/* Receipt caps (codec/receipt.h) are consensus limits here: a transaction
 * whose logs would not fit a receipt fails as if out of gas, so every node
 * reaches the same verdict and every stored receipt decodes. */
static int logs_fit(const struct qcn_vm_log *logs, size_t n)
{
    size_t i, total = 0;
    if (n > QCN_RECEIPT_MAX_LOGS)
        return 0;
    for (i = 0; i < n; i++) {
        if (logs[i].len > QCN_LOG_MAX_DATA || logs[i].ntopics > QCN_LOG_MAX_TOPICS)
            return 0;
        /* address, topics, data and at most 16 bytes of RLP headers per log */
        total += logs[i].len + QCN_ADDRESS_BYTES + logs[i].ntopics * QCN_HASH_BYTES + 16;
    }
    return total <= QCN_CHAIN_MAX_LOG_BYTES;
}

/* The VM hook (chain.h struct qcn_chain_vm). */
static int evm_execute(void *ctx, struct qcn_statedb *db, const struct qcn_header *hdr,
                       const struct qcn_tx *tx, uint64_t gas_available, uint8_t *status,
                       uint64_t *gas_used, struct qcn_receipt *receipt)
{
    struct qcn_chain_evm *ev = ctx;
    struct qcn_chain *c = ev->chain;
    struct qcn_vm_block_env env;
    struct qcn_vm_state *st = NULL;
    struct access acc;
    struct run r;
    const struct qcn_vm_log *logs;
    uint64_t tip, spent, cap, refund;
    size_t nlogs, i;
    int err;

    *status = 0;
    *gas_used = 0;
    if ((err = access_parse(&acc, tx->access_list)) != QCN_OK)
        return err;
    block_env(&env, c, hdr->proposer, hdr->height, hdr->timestamp, hdr->gas_limit, hdr->mix,
              hdr->base_fee);
    memset(&r, 0, sizeof r);
    r.env = &env;
    r.from = tx->from;
    r.to = tx->has_to ? tx->to : NULL;
    r.value = tx->value;
    /* GASPRICE is the effective price (EIP-1559); max_fee >= base_fee here. */
    tip = tx->max_fee - hdr->base_fee;
    if (tip > tx->max_priority_fee)
        tip = tx->max_priority_fee;
    r.gas_price = qcn_u256_from_u64(hdr->base_fee + tip);
    r.data = tx->data.p;
    r.data_len = tx->data.len;
    r.access = &acc;
    r.gas = gas_available;
    r.nonce_bumped = 1; /* chain.c bumped it before calling us */

    st = new_state(ev, db);
    if (st == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    if ((err = run_message(ev, st, &r)) != QCN_OK)
        goto out;
    if (r.status != QCN_VM_SUCCESS) {
        /* Reverted or failed: the ledger reverts the statedb to just after
         * the fee and nonce; nothing of the overlay is written. */
        *gas_used = r.used;
        goto out;
    }
    logs = qcn_vm_state_logs(st, &nlogs);
    if (!logs_fit(logs, nlogs)) {
        *gas_used = gas_available;
        goto out;
    }
    /* EIP-3529: the refund is capped at a fifth of the transaction's gas,
     * intrinsic part (ours, with the signature bytes) included. */
    spent = (tx->gas_limit - gas_available) + r.used;
    cap = spent / QCN_VM_MAX_REFUND_QUOTIENT;
    refund = r.refund > 0 ? (uint64_t)r.refund : 0;
    if (refund > cap)
        refund = cap;
    if (refund > r.used)
        refund = r.used;
    for (i = 0; i < nlogs; i++) {
        err = qcn_receipt_add_log(receipt, logs[i].addr,
                                  (const uint8_t(*)[QCN_HASH_BYTES])logs[i].topics, logs[i].ntopics,
                                  logs[i].data, logs[i].len);
        if (err != QCN_OK)
            goto out;
    }
    if ((err = qcn_vm_state_write_statedb(st, db)) != QCN_OK)
        goto out;
    *status = 1;
    *gas_used = r.used - refund;
out:
    if (err != QCN_OK) {
        *status = 0;
        *gas_used = 0;
    }
    qcn_vm_state_free(st);
    access_clear(&acc);
    return err;
}

int qcn_chain_evm_attach(struct qcn_chain *c)
{
    struct qcn_chain_evm *ev;
    struct qcn_chain_vm hook;

    if (c->evm == NULL) {
        ev = calloc(1, sizeof *ev);
        if (ev == NULL)
            return QCN_ERR_NOMEM;
        ev->chain = c;
        ev->vm = qcn_vm_new();
        ev->codes = qcn_vm_code_cache_new(CODE_CACHE_BYTES);
        if (ev->vm == NULL || ev->codes == NULL) {
            qcn_vm_code_cache_free(ev->codes);
            qcn_vm_free(ev->vm);
            free(ev);
            return QCN_ERR_NOMEM;
        }
        c->evm = ev;
    }
    hook.ctx = c->evm;
    hook.execute = evm_execute;
    qcn_chain_set_vm(c, &hook);
    return QCN_OK;
}

void qcn_chain_evm_free(struct qcn_chain *c)
{
    if (c->evm == NULL)
        return;
    qcn_vm_code_cache_free(c->evm->codes);
    qcn_vm_free(c->evm->vm);
    free(c->evm);
    c->evm = NULL;
}

int qcn_chain_is_precompile(const uint8_t addr[QCN_ADDRESS_BYTES])
{
    return qcn_vm_precompile_lookup(addr) != 0;
}

/* ---- calls and estimates against the head state ---- */

/* Does a call to `to` need the VM (code or a precompile)? */
static int call_needs_vm(struct qcn_chain *c, const struct qcn_chain_call *call, int *need)
{
    struct qcn_account a;
    int exists, err;
    *need = 1;
    if (!call->has_to || qcn_chain_is_precompile(call->to))
        return QCN_OK;
    err = qcn_statedb_account_get(c->db, &a, &exists, call->to);
    if (err == QCN_OK)
        *need = qcn_account_has_code(&a);
    return err;
}

int qcn_chain_call(struct qcn_chain *c, struct qcn_chain_call_result *out,
                   const struct qcn_chain_call *call)
{
    struct qcn_chain_evm *ev = c->evm;
    struct qcn_vm_block_env env;
    struct qcn_vm_state *st = NULL;
    struct access acc;
    struct run r;
    int err, need;

    out->status = QCN_CHAIN_CALL_FAILURE;
    out->gas_used = 0;
    out->refund = 0;
    memset(out->created, 0, QCN_ADDRESS_BYTES);
    qcn_buf_reset(&out->output);
    if (ev == NULL)
        return QCN_ERR_TX_VM_UNAVAILABLE;
    if (!call->has_to && call->data.len > QCN_VM_MAX_INITCODE_SIZE)
        return QCN_ERR_VM_TX_INITCODE;
    if ((err = call_needs_vm(c, call, &need)) != QCN_OK)
        return err;
    if ((err = access_parse(&acc, call->access_list)) != QCN_OK)
        return err;
    /* The pending block's context: what a transaction sent now would see,
     * except COINBASE and PREVRANDAO, which only its producer knows (the
     * head's are used). */
    block_env(&env, c, c->head.proposer, c->head.height + 1,
              call->timestamp > c->head.timestamp ? call->timestamp : c->head.timestamp,
              c->params.block_gas_limit, c->head.mix, qcn_chain_next_base_fee(c));
    memset(&r, 0, sizeof r);
    r.env = &env;
    r.from = call->from;
    r.to = call->has_to ? call->to : NULL;
    r.value = call->value;
    r.gas_price = env.base_fee;
    r.data = call->data.p;
    r.data_len = call->data.len;
    r.access = &acc;
    r.gas = call->gas != 0 ? call->gas : c->params.block_gas_limit;
    r.nonce_bumped = 0; /* nothing charged: the address comes from the current nonce */

    if (!need) {
        /* A plain transfer: no code runs; it succeeds if the value is there. */
        struct qcn_account a;
        int exists;
        if ((err = qcn_statedb_account_get(c->db, &a, &exists, call->from)) != QCN_OK)
            goto out;
        out->status = qcn_u256_cmp(&a.balance, &call->value) >= 0 ? QCN_CHAIN_CALL_SUCCESS
                                                                  : QCN_CHAIN_CALL_FAILURE;
        goto out;
    }
    st = new_state(ev, c->db);
    if (st == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    if ((err = run_message(ev, st, &r)) != QCN_OK)
        goto out;
    out->status = (int)r.status;
    out->gas_used = r.used;
    out->refund = r.refund > 0 ? (uint64_t)r.refund : 0;
    memcpy(out->created, r.created, QCN_ADDRESS_BYTES);
    if (r.to == NULL && r.status == QCN_VM_SUCCESS) {
        /* A creation answers with the code it deployed (as geth's eth_call). */
        struct qcn_vm_account *a = qcn_vm_state_account(st, r.created);
        struct qcn_vm_code *code = a != NULL ? qcn_vm_state_code(st, a) : NULL;
        if (code != NULL && code->len > 0)
            err = qcn_buf_append(&out->output, code->bytes, code->len);
    } else if (r.output_len > 0) {
        err = qcn_buf_append(&out->output, r.output, r.output_len);
    }
out:
    /* Nothing of the overlay reaches the statedb: dropping it is the rollback. */
    qcn_vm_state_free(st);
    access_clear(&acc);
    return err;
}

int qcn_chain_call_intrinsic_gas(struct qcn_chain *c, uint64_t *gas,
                                 const struct qcn_chain_call *call)
{
    struct qcn_tx t;
    struct qcn_keyrec kr;
    struct access acc;
    struct qcn_buf rec;
    uint8_t kh[QCN_HASH_BYTES], scheme = call->scheme ? call->scheme : QCN_SCHEME_DEFAULT;
    uint32_t i;
    int err;

    *gas = 0;
    memset(&t, 0, sizeof t);
    t.has_to = call->has_to;
    t.data = call->data;
    if ((err = access_parse(&acc, call->access_list)) != QCN_OK)
        return err;
    t.access_addresses = (uint32_t)acc.n;
    t.access_keys = (uint32_t)acc.nkeys;
    access_clear(&acc);
    /* The signatures the sender's transaction will carry: one of its recorded
     * scheme, a multisig's threshold of its first keys (the cheapest set is
     * not known; docs/contracts.md), or, without a record, one signature and
     * the public key the first transaction must attach. */
    qcn_buf_init(&rec, QCN_KEYREC_MAX_BYTES);
    err = qcn_statedb_key_get(c->db, kh, &rec, call->from);
    if (err == QCN_OK && qcn_keyrec_decode(&kr, qcn_buf_view(&rec)) == QCN_OK) {
        if (kr.kind == QCN_SCHEME_MULTISIG) {
            for (i = 0; i < kr.threshold && i < kr.nkeys && i < QCN_TX_MAX_SIGS; i++)
                t.sigs[i].sig.len = qcn_scheme_sig_bytes(kr.keys[i].scheme);
            t.nsigs = i;
        } else {
            t.nsigs = 1;
            t.sigs[0].sig.len = qcn_scheme_sig_bytes(kr.kind);
        }
        err = QCN_OK;
    } else if (err == QCN_ERR_NOT_FOUND || err == QCN_OK) {
        t.nsigs = 1;
        t.sigs[0].sig.len = qcn_scheme_sig_bytes(scheme);
        t.pubkey.len = qcn_scheme_pk_bytes(scheme);
        err = QCN_OK;
    }
    qcn_buf_clear(&rec);
    if (err != QCN_OK)
        return err;
    return qcn_tx_intrinsic_gas(gas, &t);
}

/* Succeeds with exactly `gas` execution gas? Output of the last run in out. */
static int try_gas(struct qcn_chain *c, struct qcn_chain_call_result *out,
                   const struct qcn_chain_call *call, uint64_t gas, int *ok)
{
    struct qcn_chain_call k = *call;
    int err;
    k.gas = gas;
    err = qcn_chain_call(c, out, &k);
    *ok = err == QCN_OK && out->status == QCN_CHAIN_CALL_SUCCESS;
    return err == QCN_ERR_TOO_LARGE ? QCN_OK : err; /* only the output did not fit */
}

int qcn_chain_estimate_gas(struct qcn_chain *c, uint64_t *gas, struct qcn_chain_call_result *out,
                           const struct qcn_chain_call *call, uint64_t cap)
{
    uint64_t ig, lo, hi, mid, block = c->params.block_gas_limit;
    int err, ok, need;

    *gas = 0;
    if (cap == 0 || cap > block)
        cap = block;
    if ((err = qcn_chain_call_intrinsic_gas(c, &ig, call)) != QCN_OK)
        return err;
    if (ig > cap) {
        out->status = QCN_CHAIN_CALL_FAILURE;
        return QCN_ERR_TX_INTRINSIC_GAS;
    }
    if ((err = call_needs_vm(c, call, &need)) != QCN_OK)
        return err;
    /* Everything at the cap first: a revert here is the answer (with its
     * data in out), and the gas it used bounds the search from below. */
    if ((err = try_gas(c, out, call, cap - ig, &ok)) != QCN_OK)
        return err;
    if (!ok)
        return QCN_OK;
    if (!need) {
        *gas = ig;
        return QCN_OK;
    }
    /* Binary search for the least execution gas that succeeds. Less than
     * what was consumed never succeeds (gas is only ever spent); the 63/64
     * rule (EIP-150) and the SSTORE sentry (EIP-2200) make the answer larger
     * than that, usually by a little: try used * 64/63 + 2300 first. */
    lo = out->gas_used > 0 ? out->gas_used - 1 : 0;
    hi = cap - ig;
    mid = out->gas_used + out->gas_used / 63 + 2300;
    if (mid < hi) {
        if ((err = try_gas(c, out, call, mid, &ok)) != QCN_OK)
            return err;
        if (ok)
            hi = mid;
        else
            lo = mid;
    }
    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;
        if ((err = try_gas(c, out, call, mid, &ok)) != QCN_OK)
            return err;
        if (ok)
            hi = mid;
        else
            lo = mid;
    }
    /* Leave out describing a successful run at the answer. */
    if ((err = try_gas(c, out, call, hi, &ok)) != QCN_OK)
        return err;
    if (!ok)
        return QCN_ERR_INTERNAL; /* non-monotonic in gas: refuse to guess */
    *gas = ig + hi;
    return QCN_OK;
}
