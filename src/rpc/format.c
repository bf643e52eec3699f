/* format.c - QCN blocks, transactions, receipts and logs in the Ethereum
 * JSON-RPC shapes (execution-apis schemas: BlockObject, TransactionInfo,
 * ReceiptInfo, Log) that ethers v6 and viem parse.
 *
 * Where Ethereum has no counterpart the field gets the value Ethereum uses for
 * "absent": difficulty 0, nonce 0x0000000000000000, no uncles
 * (sha3Uncles = Keccak-256(RLP([]))). ML-DSA has no (v, r, s): clients
 * require the fields, so they are zero, and the real signature scheme and
 * public key travel in the extra fields "scheme" and "publicKey". */
#include "rpc/format.h"

#include <stdio.h>
#include <string.h>

#include "codec/rlp.h"
#include "crypto/keccak.h"

/* Keccak-256(RLP([])): the uncles hash of a block without uncles. */
static const uint8_t empty_uncles[QCN_HASH_BYTES] = {
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47};

static const uint8_t zero32[QCN_HASH_BYTES];

static int set(json_t *o, const char *k, json_t *v)
{
    /* set_new steals v even on failure; a NULL v marks the object bad. */
    if (v == NULL)
        return -1;
    return json_object_set_new(o, k, v);
}

static json_t *u256_json(const struct qcn_u256 *v)
{
    uint8_t be[QCN_U256_BYTES];
    qcn_u256_to_be(be, v);
    return qcn_rpc_json_u256(be);
}

uint64_t qcn_rpc_effective_gas_price(const struct qcn_tx *tx, uint64_t base_fee)
{
    /* EIP-1559: min(max_fee, base_fee + max_priority_fee). */
    uint64_t p;
    if (__builtin_add_overflow(base_fee, tx->max_priority_fee, &p) || p > tx->max_fee)
        return tx->max_fee;
    return p;
}

/* EIP-2930 access list from its raw RLP: [[address, [slot, ...]], ...]. */
static json_t *access_list_json(struct qcn_view raw)
{
    struct qcn_rlp_item list, entry, parts[2], slot;
    struct qcn_rlp_iter it, sit;
    json_t *out = json_array();
    uint8_t addr[QCN_ADDRESS_BYTES], key[QCN_HASH_BYTES];

    if (out == NULL || raw.len == 0)
        return out;
    if (qcn_rlp_decode(&list, raw) != QCN_OK || !list.is_list)
        return out;
    qcn_rlp_iter_init(&it, &list);
    while (qcn_rlp_iter_next(&it, &entry) == QCN_OK) {
        json_t *keys = json_array();
        if (qcn_rlp_split(parts, 2, &entry) != QCN_OK ||
            qcn_rlp_get_fixed(addr, sizeof addr, &parts[0]) != QCN_OK || keys == NULL) {
            json_decref(keys);
            break;
        }
        qcn_rlp_iter_init(&sit, &parts[1]);
        while (qcn_rlp_iter_next(&sit, &slot) == QCN_OK &&
               qcn_rlp_get_fixed(key, sizeof key, &slot) == QCN_OK)
            json_array_append_new(keys, qcn_rpc_json_data(key, sizeof key));
        json_array_append_new(out,
                              json_pack("{s:o,s:o}", "address",
                                        qcn_rpc_json_data(addr, sizeof addr), "storageKeys", keys));
    }
    return out;
}

json_t *qcn_rpc_tx_json(const struct qcn_tx *tx, const struct qcn_rpc_tx_pos *pos)
{
    json_t *o = json_object();
    int bad = 0;

    if (o == NULL)
        return NULL;
    if (pos != NULL) {
        bad |= set(o, "blockHash", qcn_rpc_json_data(pos->block_hash, QCN_HASH_BYTES));
        bad |= set(o, "blockNumber", qcn_rpc_json_u64(pos->block_number));
        bad |= set(o, "transactionIndex", qcn_rpc_json_u64(pos->index));
        bad |= set(o, "gasPrice", qcn_rpc_json_u64(qcn_rpc_effective_gas_price(tx, pos->base_fee)));
    } else {
        bad |= set(o, "blockHash", json_null());
        bad |= set(o, "blockNumber", json_null());
        bad |= set(o, "transactionIndex", json_null());
        bad |= set(o, "gasPrice", qcn_rpc_json_u64(tx->max_fee));
    }
    bad |= set(o, "hash", qcn_rpc_json_data(tx->hash, QCN_HASH_BYTES));
    bad |= set(o, "type", qcn_rpc_json_u64(QCN_TX_TYPE));
    bad |= set(o, "chainId", qcn_rpc_json_u64(tx->chain_id));
    bad |= set(o, "nonce", qcn_rpc_json_u64(tx->nonce));
    bad |= set(o, "from", qcn_rpc_json_data(tx->from, QCN_ADDRESS_BYTES));
    bad |= set(o, "to", tx->has_to ? qcn_rpc_json_data(tx->to, QCN_ADDRESS_BYTES) : json_null());
    bad |= set(o, "value", u256_json(&tx->value));
    bad |= set(o, "gas", qcn_rpc_json_u64(tx->gas_limit));
    bad |= set(o, "maxFeePerGas", qcn_rpc_json_u64(tx->max_fee));
    bad |= set(o, "maxPriorityFeePerGas", qcn_rpc_json_u64(tx->max_priority_fee));
    bad |= set(o, "input", qcn_rpc_json_data(tx->data.p, tx->data.len));
    bad |= set(o, "accessList", access_list_json(tx->access_list));
    /* No ECDSA signature: the Ethereum fields are present (clients require
     * them) and zero; "scheme" says what really signed. */
    bad |= set(o, "v", json_string("0x0"));
    bad |= set(o, "yParity", json_string("0x0"));
    bad |= set(o, "r", json_string("0x0"));
    bad |= set(o, "s", json_string("0x0"));
    bad |= set(o, "scheme", qcn_rpc_json_u64(tx->scheme));
    bad |= set(o, "signatureCount", qcn_rpc_json_u64(tx->nsigs));
    if (tx->pubkey.len > 0)
        bad |= set(o, "publicKey", qcn_rpc_json_data(tx->pubkey.p, tx->pubkey.len));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int qcn_rpc_block_size(const struct qcn_block *blk, uint64_t *out)
{
    struct qcn_buf b;
    int err;
    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
    err = qcn_block_encode(&b, blk);
    *out = b.len;
    qcn_buf_clear(&b);
    return err;
}

json_t *qcn_rpc_header_json(const struct qcn_header *h, const uint8_t hash[QCN_HASH_BYTES])
{
    json_t *o = json_object();
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= set(o, "number", qcn_rpc_json_u64(h->height));
    bad |= set(o, "hash", qcn_rpc_json_data(hash, QCN_HASH_BYTES));
    bad |= set(o, "parentHash", qcn_rpc_json_data(h->parent_hash, QCN_HASH_BYTES));
    bad |= set(o, "nonce", json_string("0x0000000000000000"));
    bad |= set(o, "sha3Uncles", qcn_rpc_json_data(empty_uncles, sizeof empty_uncles));
    bad |= set(o, "logsBloom", qcn_rpc_json_data(h->bloom, QCN_BLOOM_BYTES));
    bad |= set(o, "transactionsRoot", qcn_rpc_json_data(h->tx_root, QCN_HASH_BYTES));
    bad |= set(o, "stateRoot", qcn_rpc_json_data(h->state_root, QCN_HASH_BYTES));
    bad |= set(o, "receiptsRoot", qcn_rpc_json_data(h->receipts_root, QCN_HASH_BYTES));
    bad |= set(o, "miner", qcn_rpc_json_data(h->proposer, QCN_ADDRESS_BYTES));
    bad |= set(o, "difficulty", json_string("0x0"));
    bad |= set(o, "totalDifficulty", json_string("0x0"));
    bad |= set(o, "extraData", qcn_rpc_json_data(h->extra, h->extra_len));
    bad |= set(o, "gasLimit", qcn_rpc_json_u64(h->gas_limit));
    bad |= set(o, "gasUsed", qcn_rpc_json_u64(h->gas_used));
    bad |= set(o, "timestamp", qcn_rpc_json_u64(h->timestamp));
    bad |= set(o, "baseFeePerGas", qcn_rpc_json_u64(h->base_fee));
    /* The beacon's mix is what contracts read as PREVRANDAO (mixHash). */
    bad |= set(o, "mixHash", qcn_rpc_json_data(h->mix, QCN_HASH_BYTES));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *qcn_rpc_block_json(const struct qcn_block *blk, int full)
{
    json_t *o = qcn_rpc_header_json(&blk->header, blk->hash);
    json_t *txs = json_array();
    uint64_t size = 0;
    int bad = 0;

    if (o == NULL || txs == NULL)
        goto fail;
    for (size_t i = 0; i < blk->ntx && !bad; i++) {
        const struct qcn_tx *tx = blk->txs[i];
        if (full) {
            struct qcn_rpc_tx_pos pos;
            memcpy(pos.block_hash, blk->hash, QCN_HASH_BYTES);
            pos.block_number = blk->header.height;
            pos.index = i;
            pos.base_fee = blk->header.base_fee;
            bad |= json_array_append_new(txs, qcn_rpc_tx_json(tx, &pos)) != 0;
        } else {
            bad |= json_array_append_new(txs, qcn_rpc_json_data(tx->hash, QCN_HASH_BYTES)) != 0;
        }
    }
    bad |= set(o, "transactions", txs);
    txs = NULL;
    bad |= set(o, "uncles", json_array());
    if (qcn_rpc_block_size(blk, &size) != QCN_OK)
        bad = 1;
    bad |= set(o, "size", qcn_rpc_json_u64(size));
    if (bad)
        goto fail;
    return o;
fail:
    json_decref(o);
    json_decref(txs);
    return NULL;
}

json_t *qcn_rpc_log_json(const struct qcn_log *l, const struct qcn_rpc_tx_pos *pos,
                         const uint8_t tx_hash[QCN_HASH_BYTES], uint64_t log_index)
{
    json_t *topics = json_array();
    json_t *o;

    if (topics == NULL)
        return NULL;
    for (uint32_t i = 0; i < l->ntopics && i < QCN_LOG_MAX_TOPICS; i++)
        json_array_append_new(topics, qcn_rpc_json_data(l->topics[i], QCN_HASH_BYTES));
    o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "address",
                  qcn_rpc_json_data(l->address, QCN_ADDRESS_BYTES), "topics", topics, "data",
                  qcn_rpc_json_data(l->data, l->data_len), "blockHash",
                  qcn_rpc_json_data(pos->block_hash, QCN_HASH_BYTES), "blockNumber",
                  qcn_rpc_json_u64(pos->block_number), "transactionHash",
                  qcn_rpc_json_data(tx_hash, QCN_HASH_BYTES), "transactionIndex",
                  qcn_rpc_json_u64(pos->index), "logIndex", qcn_rpc_json_u64(log_index), "removed",
                  0);
    return o;
}

/* Ethereum's CREATE address: Keccak-256(RLP([sender, nonce]))[12:]. */
static void create_address(uint8_t out[QCN_ADDRESS_BYTES], const uint8_t from[QCN_ADDRESS_BYTES],
                           uint64_t nonce)
{
    struct qcn_buf b;
    uint8_t h[QCN_HASH_BYTES];
    size_t begin;

    memset(out, 0, QCN_ADDRESS_BYTES);
    qcn_buf_init(&b, 64);
    begin = qcn_rlp_list_begin(&b);
    if (qcn_rlp_put_bytes(&b, from, QCN_ADDRESS_BYTES) == QCN_OK &&
        qcn_rlp_put_u64(&b, nonce) == QCN_OK && qcn_rlp_list_end(&b, begin) == QCN_OK) {
        qcn_keccak256(h, b.p, b.len);
        memcpy(out, h + 12, QCN_ADDRESS_BYTES);
    }
    qcn_buf_clear(&b);
}

json_t *qcn_rpc_receipt_json(const struct qcn_block *blk, const struct qcn_receipt *rs, size_t n,
                             size_t index)
{
    const struct qcn_tx *tx = blk->txs[index];
    const struct qcn_receipt *r = &rs[index];
    struct qcn_rpc_tx_pos pos;
    json_t *o = json_object(), *logs = json_array();
    uint64_t prev = index > 0 ? rs[index - 1].cumulative_gas : 0, log_index = 0, gas_used;
    int bad = 0;

    (void)n;
    if (o == NULL || logs == NULL)
        goto fail;
    memcpy(pos.block_hash, blk->hash, QCN_HASH_BYTES);
    pos.block_number = blk->header.height;
    pos.index = index;
    pos.base_fee = blk->header.base_fee;
    /* Log indexes count across the block (execution-apis). */
    for (size_t i = 0; i < index; i++)
        log_index += rs[i].nlogs;
    for (uint32_t i = 0; i < r->nlogs; i++)
        bad |= json_array_append_new(
                   logs, qcn_rpc_log_json(&r->logs[i], &pos, tx->hash, log_index + i)) != 0;
    gas_used = r->cumulative_gas >= prev ? r->cumulative_gas - prev : 0;
    bad |= set(o, "transactionHash", qcn_rpc_json_data(tx->hash, QCN_HASH_BYTES));
    bad |= set(o, "transactionIndex", qcn_rpc_json_u64(index));
    bad |= set(o, "blockHash", qcn_rpc_json_data(blk->hash, QCN_HASH_BYTES));
    bad |= set(o, "blockNumber", qcn_rpc_json_u64(blk->header.height));
    bad |= set(o, "from", qcn_rpc_json_data(tx->from, QCN_ADDRESS_BYTES));
    bad |= set(o, "to", tx->has_to ? qcn_rpc_json_data(tx->to, QCN_ADDRESS_BYTES) : json_null());
    if (tx->has_to) {
        bad |= set(o, "contractAddress", json_null());
    } else {
        uint8_t ca[QCN_ADDRESS_BYTES];
        create_address(ca, tx->from, tx->nonce);
        bad |= set(o, "contractAddress", qcn_rpc_json_data(ca, sizeof ca));
    }
    bad |= set(o, "cumulativeGasUsed", qcn_rpc_json_u64(r->cumulative_gas));
    bad |= set(o, "gasUsed", qcn_rpc_json_u64(gas_used));
    bad |= set(o, "effectiveGasPrice",
               qcn_rpc_json_u64(qcn_rpc_effective_gas_price(tx, blk->header.base_fee)));
    bad |= set(o, "logs", logs);
    logs = NULL;
    bad |= set(o, "logsBloom", qcn_rpc_json_data(r->bloom, QCN_BLOOM_BYTES));
    bad |= set(o, "status", qcn_rpc_json_u64(r->status));
    bad |= set(o, "type", qcn_rpc_json_u64(QCN_TX_TYPE));
    if (bad)
        goto fail;
    return o;
fail:
    json_decref(o);
    json_decref(logs);
    return NULL;
}

json_t *qcn_rpc_hash_json(const uint8_t hash[QCN_HASH_BYTES])
{
    return qcn_rpc_json_data(hash != NULL ? hash : zero32, QCN_HASH_BYTES);
}
