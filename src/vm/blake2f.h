/* blake2f.h - the BLAKE2b compression function F (RFC 7693 §3.2) with a
 * caller-chosen round count, as EIP-152 exposes it. Thread-safe; pure. */
#ifndef QCN_VM_BLAKE2F_H
#define QCN_VM_BLAKE2F_H

#include <stdint.h>

#define QCN_BLAKE2F_STATE_WORDS 8
#define QCN_BLAKE2F_BLOCK_WORDS 16

/* Compresses block m into state h (in place) with offset counter t[0..1]
 * (low, high) and final-block flag final (0 or 1), running rounds rounds
 * (BLAKE2b itself uses 12). */
void qcn_vm_blake2f_compress(uint64_t h[QCN_BLAKE2F_STATE_WORDS],
                             const uint64_t m[QCN_BLAKE2F_BLOCK_WORDS], const uint64_t t[2],
                             int final, uint32_t rounds);

#endif
