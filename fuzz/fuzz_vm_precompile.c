/* Fuzz every precompile with arbitrary input and a random gas budget.
 * Layout: selector (1 byte, picks a precompile) || gas (4 bytes LE, reduced
 * below GAS_CAP) || call data. Checks the run contract of precompile.h:
 * nothing crashes, a failure consumes all gas and returns nothing, a success
 * costs at most what was available, and running twice gives the same answer.
 * GAS_CAP keeps single runs short (BLAKE2F's rounds and MODEXP's work are
 * bounded by gas); the caps inside the precompiles are what bound memory. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/precompile.h"

#define MAX_PRECOMPILES 32
#define GAS_CAP 300000u
/* BLAKE2F runs one round per gas; under coverage instrumentation a round is
 * slow enough that 300000 of them trip libFuzzer's timeout. */
#define BLAKE2F_GAS_CAP 4096u
#define BLAKE2F_ID 0x09
#define OUT_CAP (2u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t addrs[MAX_PRECOMPILES][QCN_VM_ADDRESS_BYTES];
    struct qcn_buf a, b;
    uint64_t gas, used_a = 0, used_b = 0;
    size_t n;
    int id, err_a, err_b;

    if (size < 5)
        return 0;
    n = qcn_vm_precompile_addresses(addrs, MAX_PRECOMPILES);
    if (n == 0 || n > MAX_PRECOMPILES)
        abort();
    id = qcn_vm_precompile_lookup(addrs[data[0] % n]);
    if (id <= 0)
        abort();
    gas = qcn_load_le32(data + 1) % (id == BLAKE2F_ID ? BLAKE2F_GAS_CAP : GAS_CAP);
    qcn_buf_init(&a, OUT_CAP);
    qcn_buf_init(&b, OUT_CAP);
    err_a = qcn_vm_precompile_run(id, &a, &used_a, data + 5, size - 5, gas);
    err_b = qcn_vm_precompile_run(id, &b, &used_b, data + 5, size - 5, gas);
    if (err_a != err_b || used_a != used_b || a.len != b.len ||
        (a.len > 0 && memcmp(a.p, b.p, a.len) != 0))
        abort();
    if (err_a != QCN_OK) {
        if (used_a != gas || a.len != 0)
            abort();
        if (err_a != QCN_ERR_VM_OUT_OF_GAS && err_a != QCN_ERR_VM_PRECOMPILE)
            abort();
    } else if (used_a > gas) {
        abort();
    }
    qcn_buf_clear(&a);
    qcn_buf_clear(&b);
    return 0;
}
