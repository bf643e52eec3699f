/* opcodes.h - the Cancun opcode table: name, static gas, stack inputs and
 * outputs (Yellow Paper Appendix H, with EIP-2929 charging the warm cost
 * statically and the cold surcharge dynamically, EIP-3855 PUSH0, EIP-1153,
 * EIP-5656, EIP-4844 BLOBHASH, EIP-7516 BLOBBASEFEE). Internal to src/vm. */
#ifndef QCN_VM_OPCODES_H
#define QCN_VM_OPCODES_H

#include <stdint.h>

/* X(code, NAME, gas, pops, pushes) */
#define QCN_VM_OPCODES(X)                                                                          \
    X(0x00, STOP, 0, 0, 0)                                                                         \
    X(0x01, ADD, 3, 2, 1)                                                                          \
    X(0x02, MUL, 5, 2, 1)                                                                          \
    X(0x03, SUB, 3, 2, 1)                                                                          \
    X(0x04, DIV, 5, 2, 1)                                                                          \
    X(0x05, SDIV, 5, 2, 1)                                                                         \
    X(0x06, MOD, 5, 2, 1)                                                                          \
    X(0x07, SMOD, 5, 2, 1)                                                                         \
    X(0x08, ADDMOD, 8, 3, 1)                                                                       \
    X(0x09, MULMOD, 8, 3, 1)                                                                       \
    X(0x0a, EXP, 10, 2, 1)                                                                         \
    X(0x0b, SIGNEXTEND, 5, 2, 1)                                                                   \
    X(0x10, LT, 3, 2, 1)                                                                           \
    X(0x11, GT, 3, 2, 1)                                                                           \
    X(0x12, SLT, 3, 2, 1)                                                                          \
    X(0x13, SGT, 3, 2, 1)                                                                          \
    X(0x14, EQ, 3, 2, 1)                                                                           \
    X(0x15, ISZERO, 3, 1, 1)                                                                       \
    X(0x16, AND, 3, 2, 1)                                                                          \
    X(0x17, OR, 3, 2, 1)                                                                           \
    X(0x18, XOR, 3, 2, 1)                                                                          \
    X(0x19, NOT, 3, 1, 1)                                                                          \
    X(0x1a, BYTE, 3, 2, 1)                                                                         \
    X(0x1b, SHL, 3, 2, 1)                                                                          \
    X(0x1c, SHR, 3, 2, 1)                                                                          \
    X(0x1d, SAR, 3, 2, 1)                                                                          \
    X(0x20, KECCAK256, 30, 2, 1)                                                                   \
    X(0x30, ADDRESS, 2, 0, 1)                                                                      \
    X(0x31, BALANCE, 100, 1, 1)                                                                    \
    X(0x32, ORIGIN, 2, 0, 1)                                                                       \
    X(0x33, CALLER, 2, 0, 1)                                                                       \
    X(0x34, CALLVALUE, 2, 0, 1)                                                                    \
    X(0x35, CALLDATALOAD, 3, 1, 1)                                                                 \
    X(0x36, CALLDATASIZE, 2, 0, 1)                                                                 \
    X(0x37, CALLDATACOPY, 3, 3, 0)                                                                 \
    X(0x38, CODESIZE, 2, 0, 1)                                                                     \
    X(0x39, CODECOPY, 3, 3, 0)                                                                     \
    X(0x3a, GASPRICE, 2, 0, 1)                                                                     \
    X(0x3b, EXTCODESIZE, 100, 1, 1)                                                                \
    X(0x3c, EXTCODECOPY, 100, 4, 0)                                                                \
    X(0x3d, RETURNDATASIZE, 2, 0, 1)                                                               \
    X(0x3e, RETURNDATACOPY, 3, 3, 0)                                                               \
    X(0x3f, EXTCODEHASH, 100, 1, 1)                                                                \
    X(0x40, BLOCKHASH, 20, 1, 1)                                                                   \
    X(0x41, COINBASE, 2, 0, 1)                                                                     \
    X(0x42, TIMESTAMP, 2, 0, 1)                                                                    \
    X(0x43, NUMBER, 2, 0, 1)                                                                       \
    X(0x44, PREVRANDAO, 2, 0, 1)                                                                   \
    X(0x45, GASLIMIT, 2, 0, 1)                                                                     \
    X(0x46, CHAINID, 2, 0, 1)                                                                      \
    X(0x47, SELFBALANCE, 5, 0, 1)                                                                  \
    X(0x48, BASEFEE, 2, 0, 1)                                                                      \
    X(0x49, BLOBHASH, 3, 1, 1)                                                                     \
    X(0x4a, BLOBBASEFEE, 2, 0, 1)                                                                  \
    X(0x50, POP, 2, 1, 0)                                                                          \
    X(0x51, MLOAD, 3, 1, 1)                                                                        \
    X(0x52, MSTORE, 3, 2, 0)                                                                       \
    X(0x53, MSTORE8, 3, 2, 0)                                                                      \
    X(0x54, SLOAD, 100, 1, 1)                                                                      \
    X(0x55, SSTORE, 0, 2, 0)                                                                       \
    X(0x56, JUMP, 8, 1, 0)                                                                         \
    X(0x57, JUMPI, 10, 2, 0)                                                                       \
    X(0x58, PC, 2, 0, 1)                                                                           \
    X(0x59, MSIZE, 2, 0, 1)                                                                        \
    X(0x5a, GAS, 2, 0, 1)                                                                          \
    X(0x5b, JUMPDEST, 1, 0, 0)                                                                     \
    X(0x5c, TLOAD, 100, 1, 1)                                                                      \
    X(0x5d, TSTORE, 100, 2, 0)                                                                     \
    X(0x5e, MCOPY, 3, 3, 0)                                                                        \
    X(0x5f, PUSH0, 2, 0, 1)                                                                        \
    X(0xa0, LOG0, 375, 2, 0)                                                                       \
    X(0xa1, LOG1, 750, 3, 0)                                                                       \
    X(0xa2, LOG2, 1125, 4, 0)                                                                      \
    X(0xa3, LOG3, 1500, 5, 0)                                                                      \
    X(0xa4, LOG4, 1875, 6, 0)                                                                      \
    X(0xf0, CREATE, 32000, 3, 1)                                                                   \
    X(0xf1, CALL, 100, 7, 1)                                                                       \
    X(0xf2, CALLCODE, 100, 7, 1)                                                                   \
    X(0xf3, RETURN, 0, 2, 0)                                                                       \
    X(0xf4, DELEGATECALL, 100, 6, 1)                                                               \
    X(0xf5, CREATE2, 32000, 4, 1)                                                                  \
    X(0xfa, STATICCALL, 100, 6, 1)                                                                 \
    X(0xfd, REVERT, 0, 2, 0)                                                                       \
    X(0xfe, INVALID, 0, 0, 0)                                                                      \
    X(0xff, SELFDESTRUCT, 5000, 1, 0)

/* PUSH1..32 (0x60-0x7f): gas 3, 0 -> 1; DUP1..16 (0x80-0x8f): gas 3, n -> n+1;
 * SWAP1..16 (0x90-0x9f): gas 3, n+1 -> n+1. Added by the table builder. */

struct qcn_vm_opinfo {
    const char *name; /* NULL: undefined opcode */
    int16_t gas;
    int16_t min_stack; /* stack height needed before the op */
    int16_t max_stack; /* largest stack height before the op that does not overflow */
};

/* The 256-entry table (built once, read-only). */
extern const struct qcn_vm_opinfo qcn_vm_opinfo[256];

#endif
