/* test_chain_env.h - a chain over an in-memory store, a mempool and funded
 * keys, for the chain tests. Header-only; every function is static. */
#ifndef QCN_TEST_CHAIN_ENV_H
#define QCN_TEST_CHAIN_ENV_H

#include "chain/chain.h"
#include "chain/mempool.h"
#include "chain/verify.h"
#include "state/statedb_mem.h"
#include "unit/test_chain_helpers.h"

#define ENV_CHAIN_ID 1337
#define ENV_NKEYS 6
#define ENV_MAX_ADDRS 64
#define ENV_BALANCE 1000000000000000000ull /* 1e18 wei each */
#define ENV_BASE_FEE 1000
#define ENV_GAS_LIMIT 2000000000ull /* room for a 10,000-transfer block */

struct env {
    struct qcn_memstore *ms;
    struct qcn_chain *c;
    struct qcn_mempool *mp;
    struct qcn_chain_params p;
    struct tkey keys[ENV_NKEYS];
    uint8_t proposer[QCN_ADDRESS_BYTES];
    uint8_t addrs[ENV_MAX_ADDRS][QCN_ADDRESS_BYTES]; /* every address to recompute the root */
    size_t naddrs;
    uint64_t now;
    uint8_t genesis_root[QCN_HASH_BYTES];
};

__attribute__((unused)) static void env_track(struct env *e, const uint8_t a[QCN_ADDRESS_BYTES])
{
    size_t i;
    for (i = 0; i < e->naddrs; i++) {
        if (memcmp(e->addrs[i], a, QCN_ADDRESS_BYTES) == 0)
            return;
    }
    if (e->naddrs < ENV_MAX_ADDRS)
        memcpy(e->addrs[e->naddrs++], a, QCN_ADDRESS_BYTES);
}

/* A genesis with the test chain's parameters and room for ENV_NKEYS funded
 * keys (the caller fills g->alloc). */
__attribute__((unused)) static void env_genesis_new(struct qcn_genesis *g)
{
    memset(g, 0, sizeof *g);
    g->params.chain_id = ENV_CHAIN_ID;
    g->params.block_gas_limit = ENV_GAS_LIMIT;
    g->params.initial_base_fee = ENV_BASE_FEE;
    g->params.min_base_fee = 7;
    g->timestamp = 1000;
    g->alloc = calloc(ENV_NKEYS, sizeof *g->alloc);
    assert_non_null(g->alloc);
    g->nalloc = ENV_NKEYS;
}

/* Builds g (consumed) into e's store, opens the chain and a mempool with cfg
 * (NULL: the defaults). e's keys and tracked addresses are already set. */
__attribute__((unused)) static void env_open(struct env *e, struct qcn_genesis *g,
                                             const struct qcn_mempool_config *cfg)
{
    struct qcn_block_result res;
    struct qcn_mempool_config def;

    memset(e->proposer, 0xee, sizeof e->proposer);
    env_track(e, e->proposer);
    e->p = g->params;
    assert_int_equal(qcn_genesis_build(g, &res), QCN_OK);
    memcpy(e->genesis_root, res.block.header.state_root, QCN_HASH_BYTES);
    assert_int_equal(qcn_memstore_new(&e->ms), QCN_OK);
    assert_int_equal(qcn_memstore_apply(e->ms, &res.writes), QCN_OK);
    assert_int_equal(
        qcn_chain_open(&e->c, &g->params, qcn_memstore_reader(e->ms), &res.block.header), QCN_OK);
    qcn_block_result_clear(&res);
    qcn_genesis_clear(g);
    if (cfg == NULL) {
        qcn_mempool_config_default(&def);
        cfg = &def;
    }
    assert_int_equal(qcn_mempool_new(&e->mp, cfg), QCN_OK);
    e->now = 1000000;
}

/* Key i: schemes cycle 65, 44, 87; key 5 is poor (holds only 1000 wei). */
__attribute__((unused)) static void env_init_cfg(struct env *e,
                                                 const struct qcn_mempool_config *cfg)
{
    static const uint8_t schemes[3] = {QCN_SCHEME_MLDSA65, QCN_SCHEME_MLDSA44, QCN_SCHEME_MLDSA87};
    struct qcn_genesis g;
    size_t i;

    memset(e, 0, sizeof *e);
    env_genesis_new(&g);
    for (i = 0; i < ENV_NKEYS; i++) {
        tkey_make(&e->keys[i], schemes[i % 3], (uint8_t)(0x40 + i));
        memcpy(g.alloc[i].address, e->keys[i].addr, QCN_ADDRESS_BYTES);
        g.alloc[i].balance = qcn_u256_from_u64(i == 5 ? 1000 : ENV_BALANCE);
        env_track(e, e->keys[i].addr);
    }
    env_open(e, &g, cfg);
}

__attribute__((unused)) static void env_init(struct env *e)
{
    env_init_cfg(e, NULL);
}

__attribute__((unused)) static void env_free(struct env *e)
{
    qcn_mempool_free(e->mp);
    qcn_chain_free(e->c);
    qcn_memstore_free(e->ms);
}

/* Recomputes the state root from scratch over every tracked address. */
__attribute__((unused)) static void env_check_root(struct env *e)
{
    uint8_t r[QCN_HASH_BYTES];
    assert_int_equal(qcn_statedb_root_from_scratch(qcn_chain_state(e->c), r,
                                                   (const uint8_t(*)[QCN_ADDRESS_BYTES])e->addrs,
                                                   e->naddrs),
                     QCN_OK);
    assert_memory_equal(r, qcn_chain_head(e->c)->state_root, QCN_HASH_BYTES);
}

/* Prepares, verifies and adds one transaction (takes ownership of tx). */
__attribute__((unused)) static int env_submit(struct env *e, struct qcn_tx *tx)
{
    int err;
    qcn_mempool_submit(e->mp, e->c, NULL, &tx, 1, &err, e->now);
    if (tx->has_to)
        env_track(e, tx->to);
    qcn_tx_unref(tx);
    return err;
}

/* Builds, "stores" and commits the next block; returns its tx count. */
__attribute__((unused)) static size_t env_block(struct env *e, struct qcn_block_result *keep)
{
    struct qcn_build_args a;
    struct qcn_block_result res;
    size_t n;
    memset(&a, 0, sizeof a);
    a.timestamp = qcn_chain_head(e->c)->timestamp + 1;
    memcpy(a.proposer, e->proposer, QCN_ADDRESS_BYTES);
    assert_int_equal(qcn_chain_block_build(e->c, e->mp, &a, &res), QCN_OK);
    assert_int_equal(qcn_memstore_apply(e->ms, &res.writes), QCN_OK);
    qcn_chain_block_commit_done(e->c, &res, e->mp);
    n = res.block.ntx;
    env_check_root(e);
    if (keep != NULL)
        *keep = res;
    else
        qcn_block_result_clear(&res);
    return n;
}

__attribute__((unused)) static struct qcn_u256 env_balance(struct env *e, const uint8_t *addr)
{
    struct qcn_account a;
    assert_int_equal(qcn_chain_account_get(e->c, &a, addr), QCN_OK);
    return a.balance;
}

__attribute__((unused)) static uint64_t env_nonce(struct env *e, const uint8_t *addr)
{
    struct qcn_account a;
    assert_int_equal(qcn_chain_account_get(e->c, &a, addr), QCN_OK);
    return a.nonce;
}

/* A signed transfer from key k. */
__attribute__((unused)) static struct qcn_tx *env_transfer(struct env *e, const struct tkey *k,
                                                           uint64_t nonce, const uint8_t *to,
                                                           uint64_t value, int with_pk)
{
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    tfields(&f, ENV_CHAIN_ID, k->addr, nonce, to, value, k->scheme);
    f.max_fee = 5000;
    f.max_priority_fee = 10;
    assert_int_equal(tsign(&tx, &f, k, with_pk), QCN_OK);
    (void)e;
    return tx;
}

/* Encodes a block and decodes it as a peer would receive it. */
__attribute__((unused)) static void wire_copy_block(struct qcn_block *out,
                                                    const struct qcn_block *blk)
{
    struct qcn_buf b;
    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
    assert_int_equal(qcn_block_encode(&b, blk), QCN_OK);
    assert_int_equal(qcn_block_decode(out, qcn_buf_view(&b)), QCN_OK);
    qcn_buf_clear(&b);
}

#endif
