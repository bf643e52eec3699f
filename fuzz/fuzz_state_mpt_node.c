/* Trie nodes and proofs from arbitrary bytes. Input: byte 0 gives the key
 * length (mod 33), then the key, then nodes, each a 2-byte big-endian length
 * and its bytes (a short last one takes what is left). The first node's hash
 * is the root.
 * Properties: nothing crashes or leaks; qcn_mpt_node_check and the trie agree
 * on which root nodes are acceptable; a node the trie accepts re-encodes to
 * exactly its input bytes (decode -> encode round trip, via qcn_mpt_prove);
 * a proof the trie builds always verifies, and says what qcn_mpt_get says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "state/mpt.h"

#define MAX_NODES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qcn_view nodes[MAX_NODES], value;
    struct qcn_mpt_memstore *ms = NULL;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt_proof proof;
    struct qcn_mpt *t = NULL;
    struct qcn_buf got;
    uint8_t root[QCN_MPT_HASH_BYTES], h[QCN_MPT_HASH_BYTES];
    const uint8_t *key;
    size_t klen, n = 0, i, len;
    int found, rc, check, same, empty;

    if (size < 1)
        return 0;
    klen = data[0] % 33u;
    data++;
    size--;
    if (klen > size)
        klen = size;
    key = data;
    data += klen;
    size -= klen;
    while (size > 0 && n < MAX_NODES) {
        if (size < 2) {
            nodes[n++] = qcn_view_make(data, size);
            break;
        }
        len = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        nodes[n++] = qcn_view_make(data, len);
        data += len;
        size -= len;
    }
    if (n == 0)
        return 0;

    rc = qcn_mpt_node_check(nodes[0].p, nodes[0].len, 1);
    if (rc != QCN_OK && rc != QCN_ERR_STORE_CORRUPT)
        abort();
    check = qcn_mpt_node_check(nodes[0].p, nodes[0].len, 0);

    qcn_keccak256(root, nodes[0].p, nodes[0].len);
    rc = qcn_mpt_verify_proof(&found, &value, root, key, klen, nodes, n);
    if (rc == QCN_OK && found) {
        /* The value lies inside one of the proof's nodes. */
        int inside = 0;
        for (i = 0; i < n; i++) {
            if (value.p >= nodes[i].p && value.p + value.len <= nodes[i].p + nodes[i].len)
                inside = 1;
        }
        if (!inside || value.len == 0)
            abort();
    } else if (rc != QCN_OK && rc != QCN_ERR_STATE_PROOF) {
        abort();
    } else if (rc != QCN_OK && (found || value.len != 0)) {
        abort();
    }

    /* The same nodes as a node store. */
    if (qcn_mpt_memstore_new(&ms) != QCN_OK)
        return 0;
    ns = qcn_mpt_memstore_iface(ms);
    for (i = 0; i < n; i++) {
        if (nodes[i].len == 0)
            continue;
        qcn_keccak256(h, nodes[i].p, nodes[i].len);
        if (ns.put(ns.ctx, h, nodes[i].p, nodes[i].len) != QCN_OK)
            goto out;
    }
    qcn_mpt_proof_init(&proof);
    qcn_buf_init(&got, QCN_MPT_MAX_VALUE_BYTES);
    rc = qcn_mpt_open(&t, &ns, root);
    /* The empty root needs no node; otherwise open and node_check agree. */
    empty = memcmp(root, QCN_MPT_EMPTY_ROOT, sizeof root) == 0;
    if (!empty && nodes[0].len > 0 && (rc == QCN_OK) != (check == QCN_OK))
        abort();
    if (rc == QCN_OK) {
        rc = qcn_mpt_prove(t, &proof, key, klen);
        if (rc == QCN_OK) {
            if (!empty && (proof.count < 1 || proof.node[0].len != nodes[0].len ||
                           memcmp(proof.node[0].p, nodes[0].p, nodes[0].len) != 0))
                abort();
            if (qcn_mpt_verify_proof(&found, &value, root, key, klen, proof.node, proof.count) !=
                QCN_OK)
                abort();
            rc = qcn_mpt_get(t, &got, key, klen);
            if (found != (rc == QCN_OK))
                abort();
            if (found && (got.len != value.len || memcmp(got.p, value.p, got.len) != 0))
                abort();
        }
        /* Changes over a partial or odd store fail cleanly or succeed. */
        len = nodes[0].len > 8 ? 8 : nodes[0].len;
        same = len == klen && memcmp(nodes[0].p, key, len) == 0;
        rc = qcn_mpt_put(t, key, klen, (const uint8_t *)"fuzz", 4);
        if (rc == QCN_OK)
            rc = qcn_mpt_delete(t, nodes[0].p, len);
        if (rc == QCN_OK && qcn_mpt_commit(t, h) == QCN_OK) {
            qcn_mpt_free(t);
            t = NULL;
            if (qcn_mpt_open(&t, &ns, h) != QCN_OK)
                abort();
            rc = qcn_mpt_get(t, &got, key, klen);
            if (same ? rc != QCN_ERR_NOT_FOUND : (rc != QCN_OK || got.len != 4))
                abort();
        }
    }
    qcn_mpt_free(t);
    qcn_buf_clear(&got);
    qcn_mpt_proof_clear(&proof);
out:
    qcn_mpt_memstore_free(ms);
    return 0;
}
