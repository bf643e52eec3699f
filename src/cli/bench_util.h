/* bench_util.h - helpers shared by the `qcn bench` areas and `qcn testnet
 * init --fund-keys` (defined in bench_chain.c).
 *
 * Load keys are deterministic: key i is the ML-DSA-65 key whose 32-byte seed
 * is i + 1 big-endian in its first 8 bytes (zeros after). They are public
 * test keys: anyone can derive them; never fund them on a real chain. */
#ifndef QCN_CLI_BENCH_UTIL_H
#define QCN_CLI_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/mldsa.h"
#include "node/devkey.h"
#include "util/err.h"

#define QCN_BENCH_TIP 1000000000ull /* max priority fee of every bench transfer (wei) */
#define QCN_BENCH_MAX_FEE (4 * QCN_BENCH_TIP)

/* *k = load key i; keys[0..n) = load keys 0..n-1 (see above). */
QCN_MUST_CHECK int qcn_bench_keys_derive_one(struct qcn_dev_key *k, size_t i);
QCN_MUST_CHECK int qcn_bench_keys_derive(struct qcn_dev_key *keys, size_t n);

/* The intrinsic gas of a native transfer from k without its public key. */
QCN_MUST_CHECK int qcn_bench_transfer_gas(const struct qcn_dev_key *k, uint64_t chain_id,
                                          uint64_t *gas);

/* Signs transfers from..to-1 on threads threads (1..256): transfer i is from
 * keys[i % senders] with nonce i / senders, value 1 wei, gas gas, to a fresh
 * address, without public key (the senders' keys must be recorded at
 * genesis). raw[i] is malloc'ed (the caller frees it), rawlen[i] its size. */
QCN_MUST_CHECK int qcn_bench_presign(const struct qcn_dev_key *keys, size_t senders,
                                     uint64_t chain_id, uint64_t gas, size_t from, size_t to,
                                     uint8_t **raw, size_t *rawlen, unsigned threads);

/* ML-DSA-65 verifications per second on threads threads (1..256) for one
 * second: plain qcn_mldsa_verify when x is NULL (ExpandA each time), with the
 * pre-expanded key x otherwise. */
QCN_MUST_CHECK int qcn_bench_verify_rate(const struct qcn_dev_key *k,
                                         const struct qcn_mldsa_pk_expanded *x, unsigned threads,
                                         double *rate);

/* qcn bench net (bench_net.c): a 4-validator network under RPC load. */
int qcn_bench_net(int argc, char **argv);

#endif
