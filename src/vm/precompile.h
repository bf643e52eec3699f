/* precompile.h - the EVM's precompiled contracts: Ethereum's 0x01-0x0a under
 * Cancun rules, plus QuantumChain Nexus's post-quantum precompiles (ML-DSA
 * verification, SHAKE256) at the addresses documented in docs/evm.md.
 *
 * The interpreter asks qcn_vm_precompile_lookup() whether a call target is a
 * precompile, then runs it with qcn_vm_precompile_run(). Thread-safe; no global
 * state. */
#ifndef QCN_VM_PRECOMPILE_H
#define QCN_VM_PRECOMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

#define QCN_VM_ADDRESS_BYTES 20

/* Returns a positive id if addr is an active precompile, else 0. */
int qcn_vm_precompile_lookup(const uint8_t addr[QCN_VM_ADDRESS_BYTES]);

/* Writes the 20-byte addresses of all active precompiles (for EIP-2929 warming)
 * into addrs, at most max of them; returns how many there are. */
size_t qcn_vm_precompile_addresses(uint8_t (*addrs)[QCN_VM_ADDRESS_BYTES], size_t max);

/* Runs precompile id on in[0..inlen) with gas_available gas.
 * QCN_OK: success; out (reset first) holds the return data and *gas_used <=
 * gas_available is what it cost.
 * Any error: the call fails and, as the EVM rules say for a failed
 * precompile, consumes all gas_available (*gas_used = gas_available, out is
 * empty): QCN_ERR_VM_OUT_OF_GAS when the price exceeds gas_available,
 * QCN_ERR_VM_PRECOMPILE for invalid input (a point off the curve, a bad
 * BLAKE2F flag, the unsupported KZG point evaluation, ...). */
QCN_MUST_CHECK int qcn_vm_precompile_run(int id, struct qcn_buf *out, uint64_t *gas_used,
                                         const uint8_t *in, size_t inlen, uint64_t gas_available);

#endif
