/* interp.c - the EVM interpreter and the message-call / creation semantics
 * (Yellow Paper sections 8, 7 and 9, Cancun rules).
 *
 * Gas follows EIP-150 (63/64 rule), EIP-2200/3529 (SSTORE), EIP-2929 (warm
 * and cold access: the warm cost is the opcode's static cost in opcodes.h,
 * the cold surcharge is added here), EIP-3860 (initcode limit and word cost),
 * EIP-170 (code size), EIP-3541 (no new code starting with 0xEF).
 *
 * Each call depth owns a pooled stack and memory (struct pool) that are kept
 * across calls, so a warm machine runs without allocating. Return data is a
 * view into the child's pooled memory (or its precompile output buffer),
 * valid until the parent's next call, which replaces it anyway. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "vm/evm.h"
#include "vm/opcodes.h"
#include "vm/precompile.h"

#define GAS_COLD_ACCOUNT_EXTRA 2500 /* 2600 cold - 100 warm (EIP-2929) */
#define GAS_COLD_SLOAD_EXTRA 2000   /* 2100 cold - 100 warm */
#define GAS_COLD_SLOAD 2100
#define GAS_WARM_READ 100
#define GAS_SSTORE_SET 20000
#define GAS_SSTORE_RESET 2900     /* 5000 - COLD_SLOAD_COST */
#define GAS_SSTORE_SENTRY 2300    /* EIP-2200 */
#define REFUND_SSTORE_CLEARS 4800 /* EIP-3529 */
#define GAS_CALL_VALUE 9000
#define GAS_CALL_STIPEND 2300
#define GAS_NEW_ACCOUNT 25000
#define GAS_SELFDESTRUCT_COLD 2600
#define GAS_COPY_WORD 3
#define GAS_KECCAK_WORD 6
#define GAS_LOG_DATA 8
#define GAS_EXP_BYTE 50
#define GAS_INITCODE_WORD 2 /* EIP-3860 */
#define GAS_CODE_DEPOSIT 200
#define PRECOMPILE_OUT_MAX (1u << 24)
#define BLOCKHASH_WINDOW 256

struct pool {
    struct qcn_u256 *stack;
    uint8_t *mem;
    size_t memcap;
    struct qcn_buf pcout;        /* precompile output */
    struct qcn_vm_code initcode; /* padded initcode + jumpdests for creates */
    size_t initcap;
};

struct qcn_vm {
    struct pool pools[QCN_VM_MAX_DEPTH + 1];
    struct qcn_vm_state *st;
    const struct qcn_vm_block_env *blk;
    const struct qcn_vm_tx_env *tx;
    FILE *trace;
    char *tbuf; /* the pending trace line: head, then tail after thead */
    size_t tlen, tcap, thead;
    int tpend;
    int64_t tgas;
    int fatal;
    int eth_only;
};

struct qcn_vm *qcn_vm_new(void)
{
    struct qcn_vm *vm = calloc(1, sizeof *vm);
    if (vm == NULL)
        return NULL;
    for (int i = 0; i <= QCN_VM_MAX_DEPTH; i++)
        qcn_buf_init(&vm->pools[i].pcout, PRECOMPILE_OUT_MAX);
    return vm;
}

void qcn_vm_free(struct qcn_vm *vm)
{
    if (vm == NULL)
        return;
    for (int i = 0; i <= QCN_VM_MAX_DEPTH; i++) {
        free(vm->pools[i].stack);
        free(vm->pools[i].mem);
        qcn_buf_clear(&vm->pools[i].pcout);
        free(vm->pools[i].initcode.bytes);
        free(vm->pools[i].initcode.jumpdest);
    }
    free(vm->tbuf);
    free(vm);
}

void qcn_vm_set_trace(struct qcn_vm *vm, FILE *f)
{
    vm->trace = f;
}

void qcn_vm_set_ethereum_only(struct qcn_vm *vm, int on)
{
    vm->eth_only = on;
}

#define ETH_LAST_PRECOMPILE 0x0a

int qcn_vm_precompile_id(const struct qcn_vm *vm, const uint8_t addr[QCN_VM_ADDRESS_BYTES])
{
    if (vm->eth_only) {
        for (int i = 0; i < QCN_VM_ADDRESS_BYTES - 1; i++)
            if (addr[i] != 0)
                return 0;
        if (addr[QCN_VM_ADDRESS_BYTES - 1] > ETH_LAST_PRECOMPILE)
            return 0;
    }
    return qcn_vm_precompile_lookup(addr);
}

#define MAX_PRECOMPILES 64

int qcn_vm_warm_tx(const struct qcn_vm *vm, struct qcn_vm_state *st,
                   const struct qcn_vm_block_env *block, const uint8_t sender[QCN_VM_ADDRESS_BYTES],
                   const uint8_t *to, const struct qcn_vm_access_entry *access, size_t naccess)
{
    uint8_t pcs[MAX_PRECOMPILES][QCN_VM_ADDRESS_BYTES];
    size_t npc = qcn_vm_precompile_addresses(pcs, MAX_PRECOMPILES);
    const uint8_t *fixed[3] = {block->coinbase, sender, to};
    struct qcn_vm_account *a;

    if (npc > MAX_PRECOMPILES)
        npc = MAX_PRECOMPILES;
    for (size_t i = 0; i < npc; i++) {
        if (qcn_vm_precompile_id(vm, pcs[i]) == 0)
            continue;
        if ((a = qcn_vm_state_account(st, pcs[i])) == NULL)
            return qcn_vm_state_error(st);
        (void)qcn_vm_state_warm_account(st, a);
    }
    for (size_t i = 0; i < 3; i++) {
        if (fixed[i] == NULL)
            continue;
        if ((a = qcn_vm_state_account(st, fixed[i])) == NULL)
            return qcn_vm_state_error(st);
        (void)qcn_vm_state_warm_account(st, a);
    }
    for (size_t i = 0; i < naccess; i++) {
        const struct qcn_vm_access_entry *e = &access[i];
        if ((a = qcn_vm_state_account(st, e->addr)) == NULL)
            return qcn_vm_state_error(st);
        (void)qcn_vm_state_warm_account(st, a);
        for (size_t k = 0; k < e->nkeys; k++) {
            struct qcn_u256 key;
            int err;
            qcn_u256_from_be32(&key, e->keys[k]);
            if ((err = qcn_vm_state_warm_slot(st, a, &key)) != QCN_OK)
                return err;
        }
    }
    return QCN_OK;
}

void qcn_vm_create_address(uint8_t out[QCN_VM_ADDRESS_BYTES],
                           const uint8_t sender[QCN_VM_ADDRESS_BYTES], uint64_t nonce)
{
    /* rlp([sender, nonce]): at most 1 + 21 + 9 bytes. */
    uint8_t buf[32], h[QCN_KECCAK256_BYTES];
    size_t n = 0, payload;
    uint8_t nb[8];
    size_t nlen = 0;
    for (int i = 7; i >= 0; i--) {
        uint8_t b = (uint8_t)(nonce >> (8 * i));
        if (nlen == 0 && b == 0)
            continue;
        nb[nlen++] = b;
    }
    payload = 21 + (nonce == 0 ? 1 : (nlen == 1 && nb[0] < 0x80) ? 1 : 1 + nlen);
    buf[n++] = (uint8_t)(0xc0 + payload);
    buf[n++] = 0x94;
    memcpy(buf + n, sender, QCN_VM_ADDRESS_BYTES);
    n += QCN_VM_ADDRESS_BYTES;
    if (nonce == 0) {
        buf[n++] = 0x80;
    } else if (nlen == 1 && nb[0] < 0x80) {
        buf[n++] = nb[0];
    } else {
        buf[n++] = (uint8_t)(0x80 + nlen);
        memcpy(buf + n, nb, nlen);
        n += nlen;
    }
    qcn_keccak256(h, buf, n);
    memcpy(out, h + 12, QCN_VM_ADDRESS_BYTES);
}

void qcn_vm_create2_address(uint8_t out[QCN_VM_ADDRESS_BYTES],
                            const uint8_t sender[QCN_VM_ADDRESS_BYTES],
                            const uint8_t salt[QCN_U256_BYTES], const uint8_t *init, size_t len)
{
    uint8_t buf[1 + QCN_VM_ADDRESS_BYTES + 2 * QCN_U256_BYTES], h[QCN_KECCAK256_BYTES];
    buf[0] = 0xff;
    memcpy(buf + 1, sender, QCN_VM_ADDRESS_BYTES);
    memcpy(buf + 1 + QCN_VM_ADDRESS_BYTES, salt, QCN_U256_BYTES);
    qcn_keccak256(buf + 1 + QCN_VM_ADDRESS_BYTES + QCN_U256_BYTES, init, len);
    qcn_keccak256(h, buf, sizeof buf);
    memcpy(out, h + 12, QCN_VM_ADDRESS_BYTES);
}

static void addr_from_word(uint8_t out[QCN_VM_ADDRESS_BYTES], const struct qcn_u256 *w)
{
    uint8_t b[QCN_U256_BYTES];
    qcn_u256_to_be32(b, w);
    memcpy(out, b + 12, QCN_VM_ADDRESS_BYTES);
}

static void word_from_addr(struct qcn_u256 *w, const uint8_t a[QCN_VM_ADDRESS_BYTES])
{
    qcn_u256_from_be_n(w, a, QCN_VM_ADDRESS_BYTES);
}

static int execute_message(struct qcn_vm *vm, const struct qcn_vm_message *msg,
                           struct qcn_vm_result *res);

/* ------------------------------------------------------------------------ */
/* The interpreter loop. */

struct frame {
    struct qcn_vm *vm;
    const struct qcn_vm_message *msg;
    struct qcn_vm_account *self;
    struct pool *pool;
    size_t msize; /* active memory in bytes, a multiple of 32 */
    int64_t gas;
    const uint8_t *rd; /* return data of the last call */
    size_t rdlen;
};

/* Grows the active memory to cover [off, off+len) and charges for it.
 * len == 0 never expands (and off is then not looked at). 0 or -1 (out of
 * gas, or past QCN_VM_MAX_MEMORY). */
static int mem_expand(struct frame *f, uint64_t off, uint64_t len)
{
    uint64_t end, words, old_words;
    int64_t cost;
    if (len == 0)
        return 0;
    if (off > QCN_VM_MAX_MEMORY || len > QCN_VM_MAX_MEMORY)
        return -1;
    end = off + len;
    if (end > QCN_VM_MAX_MEMORY)
        return -1;
    if (end <= f->msize)
        return 0;
    words = (end + 31) / 32;
    old_words = f->msize / 32;
    cost = qcn_vm_memory_cost(words) - qcn_vm_memory_cost(old_words);
    if (f->gas < cost)
        return -1;
    f->gas -= cost;
    if (words * 32 > f->pool->memcap) {
        size_t ncap = f->pool->memcap < 4096 ? 4096 : f->pool->memcap;
        uint8_t *nm;
        while (ncap < words * 32)
            ncap *= 2;
        nm = realloc(f->pool->mem, ncap);
        if (nm == NULL) {
            f->vm->fatal = QCN_ERR_NOMEM;
            return -1;
        }
        f->pool->mem = nm;
        f->pool->memcap = ncap;
    }
    memset(f->pool->mem + f->msize, 0, words * 32 - f->msize);
    f->msize = words * 32;
    return 0;
}

/* A memory range from two stack words: fails (out of gas) if a non-empty
 * range does not fit in 64 bits; an empty range is (0, 0). */
static int mem_range(struct frame *f, const struct qcn_u256 *off, const struct qcn_u256 *len,
                     uint64_t *o, uint64_t *l)
{
    if (qcn_u256_is_zero(len)) {
        *o = 0;
        *l = 0;
        return 0;
    }
    if (!qcn_u256_fits_u64(off) || !qcn_u256_fits_u64(len))
        return -1;
    *o = off->w[0];
    *l = len->w[0];
    return mem_expand(f, *o, *l);
}

static uint64_t words_of(uint64_t len)
{
    return len / 32 + (len % 32 != 0);
}

static int charge(struct frame *f, int64_t cost)
{
    if (f->gas < cost)
        return -1;
    f->gas -= cost;
    return 0;
}

/* Copies src[off..off+len) into memory at dst, zero-filling past srclen
 * (CALLDATACOPY, CODECOPY, EXTCODECOPY). */
static void copy_padded(uint8_t *dst, const uint8_t *src, size_t srclen, const struct qcn_u256 *off,
                        uint64_t len)
{
    uint64_t o = qcn_u256_fits_u64(off) ? off->w[0] : UINT64_MAX;
    uint64_t avail = o < srclen ? srclen - o : 0;
    uint64_t n = avail < len ? avail : len;
    if (n > 0)
        memcpy(dst, src + o, n);
    if (n < len)
        memset(dst + n, 0, len - n);
}

/* EIP-3155 tracing. A line is formatted before its opcode runs and printed
 * once the opcode's real cost is known: at the next opcode or when the frame
 * ends. Calls and creates print at once with their static cost, so a
 * child's lines follow the parent's. Only one line is ever pending. */
static void tbuf_printf(struct qcn_vm *vm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void tbuf_printf(struct qcn_vm *vm, const char *fmt, ...)
{
    va_list ap;
    int n;
    for (;;) {
        size_t room = vm->tcap - vm->tlen;
        va_start(ap, fmt);
        n = vsnprintf(vm->tbuf + vm->tlen, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            vm->tlen += (size_t)n;
            return;
        }
        {
            size_t ncap = vm->tcap * 2 + (size_t)n + 64;
            char *nb = realloc(vm->tbuf, ncap);
            if (nb == NULL)
                return;
            vm->tbuf = nb;
            vm->tcap = ncap;
        }
    }
}

static void trace_flush(struct qcn_vm *vm, int64_t gas_now)
{
    if (!vm->tpend)
        return;
    vm->tpend = 0;
    fprintf(vm->trace, "%.*s\"gasCost\":\"0x%llx\",%s\n", (int)vm->thead, vm->tbuf,
            (unsigned long long)(vm->tgas - gas_now), vm->tbuf + vm->thead);
}

static void trace_op(struct frame *f, uint64_t pc, uint8_t op, const struct qcn_u256 *base,
                     const struct qcn_u256 *sp)
{
    struct qcn_vm *vm = f->vm;
    const char *name = qcn_vm_opinfo[op].name;
    trace_flush(vm, f->gas);
    if (vm->tbuf == NULL) {
        vm->tbuf = malloc(4096);
        if (vm->tbuf == NULL)
            return;
        vm->tcap = 4096;
    }
    vm->tlen = 0;
    tbuf_printf(vm, "{\"pc\":%llu,\"op\":%u,\"gas\":\"0x%llx\",", (unsigned long long)pc, op,
                (unsigned long long)f->gas);
    vm->thead = vm->tlen;
    tbuf_printf(vm, "\"memSize\":%zu,\"stack\":[", f->msize);
    for (const struct qcn_u256 *p = base; p < sp; p++) {
        int first = 1;
        tbuf_printf(vm, "%s", p == base ? "\"0x" : ",\"0x");
        for (int i = 3; i >= 0; i--) {
            if (first && p->w[i] == 0 && i > 0)
                continue;
            tbuf_printf(vm, first ? "%llx" : "%016llx", (unsigned long long)p->w[i]);
            first = 0;
        }
        tbuf_printf(vm, "\"");
    }
    tbuf_printf(vm, "],\"depth\":%d,\"refund\":%lld,\"opName\":\"%s\"}", f->msg->depth + 1,
                (long long)qcn_vm_state_refund(vm->st), name != NULL ? name : "UNDEFINED");
    vm->tpend = 1;
    vm->tgas = f->gas;
    if (op == 0xf0 || op == 0xf1 || op == 0xf2 || op == 0xf4 || op == 0xf5 || op == 0xfa)
        trace_flush(vm, f->gas - qcn_vm_opinfo[op].gas);
}

/* SSTORE gas and refunds: EIP-2200 with EIP-2929 costs and EIP-3529 refunds. */
static int op_sstore(struct frame *f, const struct qcn_u256 *key, const struct qcn_u256 *val)
{
    struct qcn_vm_state *st = f->vm->st;
    struct qcn_u256 cur, orig;
    int cold;
    int64_t cost = 0;

    if (f->msg->is_static)
        return -1;
    if (f->gas <= GAS_SSTORE_SENTRY)
        return -1;
    if (qcn_vm_state_sload(st, f->self, key, &cur, &orig, &cold) != QCN_OK) {
        f->vm->fatal = qcn_vm_state_error(st);
        return -1;
    }
    if (cold)
        cost += GAS_COLD_SLOAD;
    if (qcn_u256_eq(&cur, val)) {
        cost += GAS_WARM_READ;
    } else if (qcn_u256_eq(&orig, &cur)) {
        if (qcn_u256_is_zero(&orig)) {
            cost += GAS_SSTORE_SET;
        } else {
            cost += GAS_SSTORE_RESET;
            if (qcn_u256_is_zero(val))
                qcn_vm_state_add_refund(st, REFUND_SSTORE_CLEARS);
        }
    } else {
        cost += GAS_WARM_READ;
        if (!qcn_u256_is_zero(&orig)) {
            if (qcn_u256_is_zero(&cur))
                qcn_vm_state_add_refund(st, -REFUND_SSTORE_CLEARS);
            else if (qcn_u256_is_zero(val))
                qcn_vm_state_add_refund(st, REFUND_SSTORE_CLEARS);
        }
        if (qcn_u256_eq(&orig, val)) {
            if (qcn_u256_is_zero(&orig))
                qcn_vm_state_add_refund(st, GAS_SSTORE_SET - GAS_WARM_READ);
            else
                qcn_vm_state_add_refund(st, GAS_SSTORE_RESET - GAS_WARM_READ);
        }
    }
    if (charge(f, cost) != 0)
        return -1;
    if (qcn_vm_state_sstore(st, f->self, key, val) != QCN_OK) {
        f->vm->fatal = qcn_vm_state_error(st);
        return -1;
    }
    return 0;
}

/* Looks up and warms an account, charging the EIP-2929 cold surcharge. */
static struct qcn_vm_account *access_account(struct frame *f, const uint8_t addr[20],
                                             int64_t cold_extra)
{
    struct qcn_vm_account *a = qcn_vm_state_account(f->vm->st, addr);
    if (a == NULL) {
        f->vm->fatal = qcn_vm_state_error(f->vm->st);
        return NULL;
    }
    if (qcn_vm_state_warm_account(f->vm->st, a) && charge(f, cold_extra) != 0)
        return NULL;
    return a;
}

/* CALL, CALLCODE, DELEGATECALL, STATICCALL. sp points past the arguments,
 * which are popped; the success flag is written to *out. */
static int op_call(struct frame *f, uint8_t op, struct qcn_u256 *args, struct qcn_u256 *out)
{
    struct qcn_vm *vm = f->vm;
    struct qcn_vm_message m;
    struct qcn_vm_result r;
    struct qcn_vm_account *target;
    struct qcn_u256 value = qcn_u256_from_u64(0);
    const struct qcn_u256 *a = args; /* a[0] = top of stack */
    uint64_t in_off, in_len, out_off, out_len;
    int has_value = (op == 0xf1 || op == 0xf2);
    int64_t extra = 0, callgas, avail;
    int i = 0;
    uint8_t addr[QCN_VM_ADDRESS_BYTES];

    struct qcn_u256 gas_req = a[i++];
    addr_from_word(addr, &a[i++]);
    if (has_value)
        value = a[i++];
    const struct qcn_u256 *io = &a[i];
    if (op == 0xf1 && f->msg->is_static && !qcn_u256_is_zero(&value))
        return -1;
    if (mem_range(f, &io[0], &io[1], &in_off, &in_len) != 0 ||
        mem_range(f, &io[2], &io[3], &out_off, &out_len) != 0)
        return -1;
    target = access_account(f, addr, GAS_COLD_ACCOUNT_EXTRA);
    if (target == NULL)
        return -1;
    if (!qcn_u256_is_zero(&value)) {
        extra += GAS_CALL_VALUE;
        if (op == 0xf1 && qcn_vm_account_is_dead(target))
            extra += GAS_NEW_ACCOUNT;
    }
    if (charge(f, extra) != 0)
        return -1;
    avail = qcn_vm_all_but_64th(f->gas);
    callgas = (qcn_u256_fits_u64(&gas_req) && gas_req.w[0] < (uint64_t)avail)
                  ? (int64_t)gas_req.w[0]
                  : avail;
    f->gas -= callgas;
    if (!qcn_u256_is_zero(&value))
        callgas += GAS_CALL_STIPEND;

    memset(&m, 0, sizeof m);
    m.depth = f->msg->depth + 1;
    m.gas = callgas;
    m.input = in_len > 0 ? f->pool->mem + in_off : NULL;
    m.input_len = in_len;
    m.is_static = f->msg->is_static;
    memcpy(m.code_address, addr, QCN_VM_ADDRESS_BYTES);
    switch (op) {
    case 0xf1:
        m.kind = QCN_VM_CALL;
        memcpy(m.recipient, addr, QCN_VM_ADDRESS_BYTES);
        memcpy(m.sender, f->msg->recipient, QCN_VM_ADDRESS_BYTES);
        m.value = value;
        break;
    case 0xf2:
        m.kind = QCN_VM_CALLCODE;
        memcpy(m.recipient, f->msg->recipient, QCN_VM_ADDRESS_BYTES);
        memcpy(m.sender, f->msg->recipient, QCN_VM_ADDRESS_BYTES);
        m.value = value;
        break;
    case 0xf4:
        m.kind = QCN_VM_DELEGATECALL;
        memcpy(m.recipient, f->msg->recipient, QCN_VM_ADDRESS_BYTES);
        memcpy(m.sender, f->msg->sender, QCN_VM_ADDRESS_BYTES);
        m.value = f->msg->value;
        break;
    default:
        m.kind = QCN_VM_STATICCALL;
        memcpy(m.recipient, addr, QCN_VM_ADDRESS_BYTES);
        memcpy(m.sender, f->msg->recipient, QCN_VM_ADDRESS_BYTES);
        m.is_static = 1;
        break;
    }
    if (execute_message(vm, &m, &r) != QCN_OK)
        return -1;
    f->gas += r.gas_left;
    f->rd = r.output;
    f->rdlen = r.output_len;
    if (out_len > 0 && r.output_len > 0)
        memcpy(f->pool->mem + out_off, r.output, r.output_len < out_len ? r.output_len : out_len);
    *out = qcn_u256_from_u64(r.status == QCN_VM_SUCCESS);
    return 0;
}

/* CREATE and CREATE2. */
static int op_create(struct frame *f, uint8_t op, struct qcn_u256 *args, struct qcn_u256 *out)
{
    struct qcn_vm_message m;
    struct qcn_vm_result r;
    uint64_t off, len;
    int64_t cost, callgas;

    if (f->msg->is_static)
        return -1;
    if (mem_range(f, &args[1], &args[2], &off, &len) != 0)
        return -1;
    if (len > QCN_VM_MAX_INITCODE_SIZE)
        return -1; /* EIP-3860: exceptional halt */
    cost = (int64_t)(GAS_INITCODE_WORD * words_of(len));
    if (op == 0xf5)
        cost += (int64_t)(GAS_KECCAK_WORD * words_of(len));
    if (charge(f, cost) != 0)
        return -1;
    callgas = qcn_vm_all_but_64th(f->gas);
    f->gas -= callgas;

    memset(&m, 0, sizeof m);
    m.kind = op == 0xf5 ? QCN_VM_CREATE2 : QCN_VM_CREATE;
    m.depth = f->msg->depth + 1;
    m.gas = callgas;
    memcpy(m.sender, f->msg->recipient, QCN_VM_ADDRESS_BYTES);
    m.value = args[0];
    m.input = len > 0 ? f->pool->mem + off : NULL;
    m.input_len = len;
    if (op == 0xf5)
        m.salt = args[3];
    if (execute_message(f->vm, &m, &r) != QCN_OK)
        return -1;
    f->gas += r.gas_left;
    /* Return data is the init code's REVERT output, else empty. */
    f->rd = r.status == QCN_VM_REVERT ? r.output : NULL;
    f->rdlen = r.status == QCN_VM_REVERT ? r.output_len : 0;
    if (r.status == QCN_VM_SUCCESS)
        word_from_addr(out, r.created);
    else
        *out = qcn_u256_from_u64(0);
    return 0;
}

static int op_selfdestruct(struct frame *f, const struct qcn_u256 *target)
{
    struct qcn_vm_state *st = f->vm->st;
    struct qcn_vm_account *ben;
    struct qcn_u256 bal;
    uint8_t addr[QCN_VM_ADDRESS_BYTES];

    if (f->msg->is_static)
        return -1;
    addr_from_word(addr, target);
    ben = access_account(f, addr, GAS_SELFDESTRUCT_COLD);
    if (ben == NULL)
        return -1;
    if (!qcn_u256_is_zero(&f->self->balance) && qcn_vm_account_is_dead(ben) &&
        charge(f, GAS_NEW_ACCOUNT) != 0)
        return -1;
    /* EIP-6780: the balance always moves to the beneficiary; the account is
     * deleted only if it was created in this transaction (and then the
     * balance it holds at the end, even one sent to itself, is burnt). */
    bal = f->self->balance;
    if (qcn_vm_state_sub_balance(st, f->self, &bal) != QCN_OK ||
        qcn_vm_state_add_balance(st, ben, &bal) != QCN_OK)
        return -1;
    if (f->self->flags & QCN_VM_ACC_CREATED) {
        struct qcn_u256 zero = qcn_u256_from_u64(0);
        qcn_vm_state_set_balance(st, f->self, &zero);
        qcn_vm_state_mark_destructed(st, f->self);
    }
    return 0;
}

/* Dispatch is a computed goto (GNU C "labels as values"): every handler
 * jumps straight to the next opcode's handler, which the branch predictor
 * follows far better than one shared switch jump. -Wpedantic rejects label
 * addresses, so it is silenced for this one function only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
/* Runs code for msg (whose recipient account is self). The output, if any,
 * is a view into this depth's pooled memory. */
/* Helper calls take the frame by pointer; gas lives in a local so the loop
 * keeps it in a register, and is handed over and back around each call. */
#define G(call) (f.gas = gas, g_rc = (call), gas = f.gas, g_rc)
#define GP(call) (f.gas = gas, g_acc = (call), gas = f.gas, g_acc)

static void interpret(struct qcn_vm *vm, const struct qcn_vm_message *msg,
                      struct qcn_vm_account *self, const struct qcn_vm_code *code,
                      struct qcn_vm_result *res)
{
    struct frame f;
    struct pool *pool = &vm->pools[msg->depth];
    struct qcn_vm_state *st = vm->st;
    struct qcn_u256 *base, *sp;
    const uint8_t *cb = code->bytes;
    uint64_t pc = 0;
    int64_t gas; /* kept in a register; f.gas is synced around helper calls */
    int g_rc;
    struct qcn_vm_account *g_acc;
    const struct qcn_vm_opinfo *optab = qcn_vm_opinfo, *oi;
    uint8_t op;

    res->status = QCN_VM_FAILURE;
    res->gas_left = 0;
    res->output = NULL;
    res->output_len = 0;

    if (pool->stack == NULL) {
        pool->stack = malloc(QCN_VM_STACK_LIMIT * sizeof *pool->stack);
        if (pool->stack == NULL) {
            vm->fatal = QCN_ERR_NOMEM;
            return;
        }
    }
    f.vm = vm;
    f.msg = msg;
    f.self = self;
    f.pool = pool;
    f.msize = 0;
    f.gas = msg->gas;
    gas = msg->gas;
    f.rd = NULL;
    f.rdlen = 0;
    base = sp = pool->stack;

    /* The dispatch table: one label per defined opcode. */
    static const void *const labels[256] = {
        [0x00] = &&L_00,  [0x01] = &&L_01,  [0x02] = &&L_02,  [0x03] = &&L_03,  [0x04] = &&L_04,
        [0x05] = &&L_05,  [0x06] = &&L_06,  [0x07] = &&L_07,  [0x08] = &&L_08,  [0x09] = &&L_09,
        [0x0a] = &&L_0a,  [0x0b] = &&L_0b,  [0x0c] = &&L_bad, [0x0d] = &&L_bad, [0x0e] = &&L_bad,
        [0x0f] = &&L_bad, [0x10] = &&L_10,  [0x11] = &&L_11,  [0x12] = &&L_12,  [0x13] = &&L_13,
        [0x14] = &&L_14,  [0x15] = &&L_15,  [0x16] = &&L_16,  [0x17] = &&L_17,  [0x18] = &&L_18,
        [0x19] = &&L_19,  [0x1a] = &&L_1a,  [0x1b] = &&L_1b,  [0x1c] = &&L_1c,  [0x1d] = &&L_1d,
        [0x1e] = &&L_bad, [0x1f] = &&L_bad, [0x20] = &&L_20,  [0x21] = &&L_bad, [0x22] = &&L_bad,
        [0x23] = &&L_bad, [0x24] = &&L_bad, [0x25] = &&L_bad, [0x26] = &&L_bad, [0x27] = &&L_bad,
        [0x28] = &&L_bad, [0x29] = &&L_bad, [0x2a] = &&L_bad, [0x2b] = &&L_bad, [0x2c] = &&L_bad,
        [0x2d] = &&L_bad, [0x2e] = &&L_bad, [0x2f] = &&L_bad, [0x30] = &&L_30,  [0x31] = &&L_31,
        [0x32] = &&L_32,  [0x33] = &&L_33,  [0x34] = &&L_34,  [0x35] = &&L_35,  [0x36] = &&L_36,
        [0x37] = &&L_37,  [0x38] = &&L_38,  [0x39] = &&L_39,  [0x3a] = &&L_3a,  [0x3b] = &&L_3b,
        [0x3c] = &&L_3c,  [0x3d] = &&L_3d,  [0x3e] = &&L_3e,  [0x3f] = &&L_3f,  [0x40] = &&L_40,
        [0x41] = &&L_41,  [0x42] = &&L_42,  [0x43] = &&L_43,  [0x44] = &&L_44,  [0x45] = &&L_45,
        [0x46] = &&L_46,  [0x47] = &&L_47,  [0x48] = &&L_48,  [0x49] = &&L_49,  [0x4a] = &&L_4a,
        [0x4b] = &&L_bad, [0x4c] = &&L_bad, [0x4d] = &&L_bad, [0x4e] = &&L_bad, [0x4f] = &&L_bad,
        [0x50] = &&L_50,  [0x51] = &&L_51,  [0x52] = &&L_52,  [0x53] = &&L_53,  [0x54] = &&L_54,
        [0x55] = &&L_55,  [0x56] = &&L_56,  [0x57] = &&L_57,  [0x58] = &&L_58,  [0x59] = &&L_59,
        [0x5a] = &&L_5a,  [0x5b] = &&L_5b,  [0x5c] = &&L_5c,  [0x5d] = &&L_5d,  [0x5e] = &&L_5e,
        [0x5f] = &&L_5f,  [0x60] = &&L_60,  [0x61] = &&L_61,  [0x62] = &&L_62,  [0x63] = &&L_63,
        [0x64] = &&L_64,  [0x65] = &&L_65,  [0x66] = &&L_66,  [0x67] = &&L_67,  [0x68] = &&L_68,
        [0x69] = &&L_69,  [0x6a] = &&L_6a,  [0x6b] = &&L_6b,  [0x6c] = &&L_6c,  [0x6d] = &&L_6d,
        [0x6e] = &&L_6e,  [0x6f] = &&L_6f,  [0x70] = &&L_70,  [0x71] = &&L_71,  [0x72] = &&L_72,
        [0x73] = &&L_73,  [0x74] = &&L_74,  [0x75] = &&L_75,  [0x76] = &&L_76,  [0x77] = &&L_77,
        [0x78] = &&L_78,  [0x79] = &&L_79,  [0x7a] = &&L_7a,  [0x7b] = &&L_7b,  [0x7c] = &&L_7c,
        [0x7d] = &&L_7d,  [0x7e] = &&L_7e,  [0x7f] = &&L_7f,  [0x80] = &&L_80,  [0x81] = &&L_81,
        [0x82] = &&L_82,  [0x83] = &&L_83,  [0x84] = &&L_84,  [0x85] = &&L_85,  [0x86] = &&L_86,
        [0x87] = &&L_87,  [0x88] = &&L_88,  [0x89] = &&L_89,  [0x8a] = &&L_8a,  [0x8b] = &&L_8b,
        [0x8c] = &&L_8c,  [0x8d] = &&L_8d,  [0x8e] = &&L_8e,  [0x8f] = &&L_8f,  [0x90] = &&L_90,
        [0x91] = &&L_91,  [0x92] = &&L_92,  [0x93] = &&L_93,  [0x94] = &&L_94,  [0x95] = &&L_95,
        [0x96] = &&L_96,  [0x97] = &&L_97,  [0x98] = &&L_98,  [0x99] = &&L_99,  [0x9a] = &&L_9a,
        [0x9b] = &&L_9b,  [0x9c] = &&L_9c,  [0x9d] = &&L_9d,  [0x9e] = &&L_9e,  [0x9f] = &&L_9f,
        [0xa0] = &&L_a0,  [0xa1] = &&L_a1,  [0xa2] = &&L_a2,  [0xa3] = &&L_a3,  [0xa4] = &&L_a4,
        [0xa5] = &&L_bad, [0xa6] = &&L_bad, [0xa7] = &&L_bad, [0xa8] = &&L_bad, [0xa9] = &&L_bad,
        [0xaa] = &&L_bad, [0xab] = &&L_bad, [0xac] = &&L_bad, [0xad] = &&L_bad, [0xae] = &&L_bad,
        [0xaf] = &&L_bad, [0xb0] = &&L_bad, [0xb1] = &&L_bad, [0xb2] = &&L_bad, [0xb3] = &&L_bad,
        [0xb4] = &&L_bad, [0xb5] = &&L_bad, [0xb6] = &&L_bad, [0xb7] = &&L_bad, [0xb8] = &&L_bad,
        [0xb9] = &&L_bad, [0xba] = &&L_bad, [0xbb] = &&L_bad, [0xbc] = &&L_bad, [0xbd] = &&L_bad,
        [0xbe] = &&L_bad, [0xbf] = &&L_bad, [0xc0] = &&L_bad, [0xc1] = &&L_bad, [0xc2] = &&L_bad,
        [0xc3] = &&L_bad, [0xc4] = &&L_bad, [0xc5] = &&L_bad, [0xc6] = &&L_bad, [0xc7] = &&L_bad,
        [0xc8] = &&L_bad, [0xc9] = &&L_bad, [0xca] = &&L_bad, [0xcb] = &&L_bad, [0xcc] = &&L_bad,
        [0xcd] = &&L_bad, [0xce] = &&L_bad, [0xcf] = &&L_bad, [0xd0] = &&L_bad, [0xd1] = &&L_bad,
        [0xd2] = &&L_bad, [0xd3] = &&L_bad, [0xd4] = &&L_bad, [0xd5] = &&L_bad, [0xd6] = &&L_bad,
        [0xd7] = &&L_bad, [0xd8] = &&L_bad, [0xd9] = &&L_bad, [0xda] = &&L_bad, [0xdb] = &&L_bad,
        [0xdc] = &&L_bad, [0xdd] = &&L_bad, [0xde] = &&L_bad, [0xdf] = &&L_bad, [0xe0] = &&L_bad,
        [0xe1] = &&L_bad, [0xe2] = &&L_bad, [0xe3] = &&L_bad, [0xe4] = &&L_bad, [0xe5] = &&L_bad,
        [0xe6] = &&L_bad, [0xe7] = &&L_bad, [0xe8] = &&L_bad, [0xe9] = &&L_bad, [0xea] = &&L_bad,
        [0xeb] = &&L_bad, [0xec] = &&L_bad, [0xed] = &&L_bad, [0xee] = &&L_bad, [0xef] = &&L_bad,
        [0xf0] = &&L_f0,  [0xf1] = &&L_f1,  [0xf2] = &&L_f2,  [0xf3] = &&L_f3,  [0xf4] = &&L_f4,
        [0xf5] = &&L_f5,  [0xf6] = &&L_bad, [0xf7] = &&L_bad, [0xf8] = &&L_bad, [0xf9] = &&L_bad,
        [0xfa] = &&L_fa,  [0xfb] = &&L_bad, [0xfc] = &&L_bad, [0xfd] = &&L_fd,  [0xfe] = &&L_bad,
        [0xff] = &&L_ff};

#define DISPATCH()                                                                                 \
    do {                                                                                           \
        op = cb[pc];                                                                               \
        oi = &optab[op];                                                                           \
        if (vm->trace != NULL) {                                                                   \
            f.gas = gas;                                                                           \
            trace_op(&f, pc, op, base, sp);                                                        \
        }                                                                                          \
        /* One unsigned comparison checks both stack bounds. */                                    \
        if ((uint64_t)((sp - base) - oi->min_stack) > (uint64_t)(oi->max_stack - oi->min_stack))   \
            goto fail;                                                                             \
        gas -= oi->gas;                                                                            \
        if (gas < 0)                                                                               \
            goto fail;                                                                             \
        goto *labels[op];                                                                          \
    } while (0)
/* An access of n bytes at word x inside the active memory (no expansion). */
#define MEM_IN_BOUNDS(x, n)                                                                        \
    ((((x).w[1] | (x).w[2] | (x).w[3]) == 0) && (x).w[0] <= f.msize && f.msize - (x).w[0] >= (n))
#define NEXT()                                                                                     \
    do {                                                                                           \
        pc++;                                                                                      \
        DISPATCH();                                                                                \
    } while (0)

    DISPATCH();
    {
    L_00:
        goto stop;
    L_01:
        qcn_u256_add(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_02:
        qcn_u256_mul(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_03:
        qcn_u256_sub(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_04:
        qcn_u256_divmod(&sp[-2], NULL, &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_05:
        qcn_u256_sdiv(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_06:
        qcn_u256_divmod(NULL, &sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_07:
        qcn_u256_smod(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_08:
        qcn_u256_addmod(&sp[-3], &sp[-1], &sp[-2], &sp[-3]);
        sp -= 2;
        NEXT();
    L_09:
        qcn_u256_mulmod(&sp[-3], &sp[-1], &sp[-2], &sp[-3]);
        sp -= 2;
        NEXT();
    L_0a:
        if (G(charge(&f, GAS_EXP_BYTE * (int64_t)qcn_u256_byte_len(&sp[-2]))) != 0)
            goto fail;
        qcn_u256_exp(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_0b:
        qcn_u256_signextend(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_10:
        sp[-2] = qcn_u256_from_u64((uint64_t)qcn_u256_lt(&sp[-1], &sp[-2]));
        sp--;
        NEXT();
    L_11:
        sp[-2] = qcn_u256_from_u64((uint64_t)qcn_u256_lt(&sp[-2], &sp[-1]));
        sp--;
        NEXT();
    L_12:
        sp[-2] = qcn_u256_from_u64((uint64_t)qcn_u256_slt(&sp[-1], &sp[-2]));
        sp--;
        NEXT();
    L_13:
        sp[-2] = qcn_u256_from_u64((uint64_t)qcn_u256_slt(&sp[-2], &sp[-1]));
        sp--;
        NEXT();
    L_14:
        sp[-2] = qcn_u256_from_u64((uint64_t)qcn_u256_eq(&sp[-1], &sp[-2]));
        sp--;
        NEXT();
    L_15:
        sp[-1] = qcn_u256_from_u64((uint64_t)qcn_u256_is_zero(&sp[-1]));
        NEXT();
    L_16:
        qcn_u256_and(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_17:
        qcn_u256_or(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_18:
        qcn_u256_xor(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_19:
        qcn_u256_not(&sp[-1], &sp[-1]);
        NEXT();
    L_1a:
        qcn_u256_byte(&sp[-2], &sp[-1], &sp[-2]);
        sp--;
        NEXT();
    L_1b:
        qcn_u256_shl(&sp[-2], &sp[-2], qcn_u256_shift_amount(&sp[-1]));
        sp--;
        NEXT();
    L_1c:
        qcn_u256_shr(&sp[-2], &sp[-2], qcn_u256_shift_amount(&sp[-1]));
        sp--;
        NEXT();
    L_1d:
        qcn_u256_sar(&sp[-2], &sp[-2], qcn_u256_shift_amount(&sp[-1]));
        sp--;
        NEXT();
    L_20 : {
        uint64_t o, l;
        uint8_t hsh[QCN_KECCAK256_BYTES];
        if (G(mem_range(&f, &sp[-1], &sp[-2], &o, &l)) != 0 ||
            G(charge(&f, GAS_KECCAK_WORD * (int64_t)words_of(l))) != 0)
            goto fail;
        qcn_keccak256(hsh, l > 0 ? pool->mem + o : NULL, l);
        qcn_u256_from_be32(&sp[-2], hsh);
        sp--;
        NEXT();
    }
    L_30:
        word_from_addr(sp++, msg->recipient);
        NEXT();
    L_31 : {
        uint8_t a[QCN_VM_ADDRESS_BYTES];
        struct qcn_vm_account *acc;
        addr_from_word(a, &sp[-1]);
        acc = GP(access_account(&f, a, GAS_COLD_ACCOUNT_EXTRA));
        if (acc == NULL)
            goto fail;
        sp[-1] = acc->balance;
        NEXT();
    }
    L_32:
        word_from_addr(sp++, vm->tx->origin);
        NEXT();
    L_33:
        word_from_addr(sp++, msg->sender);
        NEXT();
    L_34:
        *sp++ = msg->value;
        NEXT();
    L_35 : {
        uint8_t w[QCN_U256_BYTES];
        copy_padded(w, msg->input, msg->input_len, &sp[-1], QCN_U256_BYTES);
        qcn_u256_from_be32(&sp[-1], w);
        NEXT();
    }
    L_36:
        *sp++ = qcn_u256_from_u64(msg->input_len);
        NEXT();
    L_37:
    L_39 : {
        uint64_t o, l;
        if (G(mem_range(&f, &sp[-1], &sp[-3], &o, &l)) != 0 ||
            G(charge(&f, GAS_COPY_WORD * (int64_t)words_of(l))) != 0)
            goto fail;
        if (l > 0) {
            if (op == 0x37)
                copy_padded(pool->mem + o, msg->input, msg->input_len, &sp[-2], l);
            else
                copy_padded(pool->mem + o, cb, code->len, &sp[-2], l);
        }
        sp -= 3;
        NEXT();
    }
    L_38:
        *sp++ = qcn_u256_from_u64(code->len);
        NEXT();
    L_3a:
        *sp++ = vm->tx->gas_price;
        NEXT();
    L_3b:
    L_3f : {
        uint8_t a[QCN_VM_ADDRESS_BYTES];
        struct qcn_vm_account *acc;
        addr_from_word(a, &sp[-1]);
        acc = GP(access_account(&f, a, GAS_COLD_ACCOUNT_EXTRA));
        if (acc == NULL)
            goto fail;
        if (op == 0x3b) {
            const struct qcn_vm_code *c = qcn_vm_state_code(st, acc);
            if (c == NULL) {
                vm->fatal = qcn_vm_state_error(st);
                goto fail;
            }
            sp[-1] = qcn_u256_from_u64(c->len);
        } else if (qcn_vm_account_is_dead(acc)) {
            sp[-1] = qcn_u256_from_u64(0); /* EIP-1052 */
        } else {
            qcn_u256_from_be32(&sp[-1], acc->code_hash);
        }
        NEXT();
    }
    L_3c : {
        uint8_t a[QCN_VM_ADDRESS_BYTES];
        struct qcn_vm_account *acc;
        const struct qcn_vm_code *c;
        uint64_t o, l;
        addr_from_word(a, &sp[-1]);
        if (G(mem_range(&f, &sp[-2], &sp[-4], &o, &l)) != 0 ||
            G(charge(&f, GAS_COPY_WORD * (int64_t)words_of(l))) != 0)
            goto fail;
        acc = GP(access_account(&f, a, GAS_COLD_ACCOUNT_EXTRA));
        if (acc == NULL)
            goto fail;
        c = qcn_vm_state_code(st, acc);
        if (c == NULL) {
            vm->fatal = qcn_vm_state_error(st);
            goto fail;
        }
        if (l > 0)
            copy_padded(pool->mem + o, c->bytes, c->len, &sp[-3], l);
        sp -= 4;
        NEXT();
    }
    L_3d:
        *sp++ = qcn_u256_from_u64(f.rdlen);
        NEXT();
    L_3e : {
        uint64_t o, l, src;
        struct qcn_u256 end;
        /* EIP-211: reading past the return data is an exceptional halt. */
        if (qcn_u256_add(&end, &sp[-2], &sp[-3]) != 0 || !qcn_u256_fits_u64(&end) ||
            end.w[0] > f.rdlen)
            goto fail;
        src = sp[-2].w[0];
        if (G(mem_range(&f, &sp[-1], &sp[-3], &o, &l)) != 0 ||
            G(charge(&f, GAS_COPY_WORD * (int64_t)words_of(l))) != 0)
            goto fail;
        if (l > 0)
            memcpy(pool->mem + o, f.rd + src, l);
        sp -= 3;
        NEXT();
    }
    L_40 : {
        uint8_t hsh[QCN_U256_BYTES] = {0};
        const struct qcn_vm_block_env *b = vm->blk;
        if (qcn_u256_fits_u64(&sp[-1])) {
            uint64_t n = sp[-1].w[0];
            if (n < b->number && b->number - n <= BLOCKHASH_WINDOW && b->blockhash != NULL &&
                b->blockhash(b->blockhash_ctx, n, hsh) != QCN_OK)
                memset(hsh, 0, sizeof hsh);
        }
        qcn_u256_from_be32(&sp[-1], hsh);
        NEXT();
    }
    L_41:
        word_from_addr(sp++, vm->blk->coinbase);
        NEXT();
    L_42:
        *sp++ = qcn_u256_from_u64(vm->blk->timestamp);
        NEXT();
    L_43:
        *sp++ = qcn_u256_from_u64(vm->blk->number);
        NEXT();
    L_44:
        qcn_u256_from_be32(sp++, vm->blk->prevrandao);
        NEXT();
    L_45:
        *sp++ = qcn_u256_from_u64(vm->blk->gas_limit);
        NEXT();
    L_46:
        *sp++ = vm->blk->chain_id;
        NEXT();
    L_47:
        *sp++ = self->balance;
        NEXT();
    L_48:
        *sp++ = vm->blk->base_fee;
        NEXT();
    L_49:
        if (qcn_u256_fits_u64(&sp[-1]) && sp[-1].w[0] < vm->tx->nblob_hashes)
            qcn_u256_from_be32(&sp[-1], vm->tx->blob_hashes[sp[-1].w[0]]);
        else
            sp[-1] = qcn_u256_from_u64(0);
        NEXT();
    L_4a:
        *sp++ = vm->blk->blob_base_fee;
        NEXT();
    L_50:
        sp--;
        NEXT();
    L_51 : {
        uint64_t o, l;
        struct qcn_u256 thirtytwo = qcn_u256_from_u64(QCN_U256_BYTES);
        if (MEM_IN_BOUNDS(sp[-1], QCN_U256_BYTES)) {
            qcn_u256_from_be32(&sp[-1], pool->mem + sp[-1].w[0]);
            NEXT();
        }
        if (G(mem_range(&f, &sp[-1], &thirtytwo, &o, &l)) != 0)
            goto fail;
        qcn_u256_from_be32(&sp[-1], pool->mem + o);
        NEXT();
    }
    L_52 : {
        uint64_t o, l;
        struct qcn_u256 thirtytwo = qcn_u256_from_u64(QCN_U256_BYTES);
        if (MEM_IN_BOUNDS(sp[-1], QCN_U256_BYTES)) {
            qcn_u256_to_be32(pool->mem + sp[-1].w[0], &sp[-2]);
            sp -= 2;
            NEXT();
        }
        if (G(mem_range(&f, &sp[-1], &thirtytwo, &o, &l)) != 0)
            goto fail;
        qcn_u256_to_be32(pool->mem + o, &sp[-2]);
        sp -= 2;
        NEXT();
    }
    L_53 : {
        uint64_t o, l;
        struct qcn_u256 one = qcn_u256_from_u64(1);
        if (G(mem_range(&f, &sp[-1], &one, &o, &l)) != 0)
            goto fail;
        pool->mem[o] = (uint8_t)sp[-2].w[0];
        sp -= 2;
        NEXT();
    }
    L_54 : {
        struct qcn_u256 v;
        int cold;
        if (qcn_vm_state_sload(st, self, &sp[-1], &v, NULL, &cold) != QCN_OK) {
            vm->fatal = qcn_vm_state_error(st);
            goto fail;
        }
        if (cold && G(charge(&f, GAS_COLD_SLOAD_EXTRA)) != 0)
            goto fail;
        sp[-1] = v;
        NEXT();
    }
    L_55:
        if (G(op_sstore(&f, &sp[-1], &sp[-2])) != 0)
            goto fail;
        sp -= 2;
        NEXT();
    L_56:
        if (!qcn_u256_fits_u64(&sp[-1]) || !qcn_vm_code_is_jumpdest(code, sp[-1].w[0]))
            goto fail;
        pc = sp[-1].w[0];
        sp--;
        DISPATCH();
    L_57:
        if (!qcn_u256_is_zero(&sp[-2])) {
            if (!qcn_u256_fits_u64(&sp[-1]) || !qcn_vm_code_is_jumpdest(code, sp[-1].w[0]))
                goto fail;
            pc = sp[-1].w[0];
            sp -= 2;
            DISPATCH();
        }
        sp -= 2;
        NEXT();
    L_58:
        *sp++ = qcn_u256_from_u64(pc);
        NEXT();
    L_59:
        *sp++ = qcn_u256_from_u64(f.msize);
        NEXT();
    L_5a:
        *sp++ = qcn_u256_from_u64((uint64_t)gas);
        NEXT();
    L_5b:
        NEXT();
    L_5c:
        if (qcn_vm_state_tload(st, self, &sp[-1], &sp[-1]) != QCN_OK) {
            vm->fatal = qcn_vm_state_error(st);
            goto fail;
        }
        NEXT();
    L_5d:
        if (msg->is_static)
            goto fail;
        if (qcn_vm_state_tstore(st, self, &sp[-1], &sp[-2]) != QCN_OK) {
            vm->fatal = qcn_vm_state_error(st);
            goto fail;
        }
        sp -= 2;
        NEXT();
    L_5e : {
        /* MCOPY (EIP-5656): expansion covers the larger of both ranges. */
        uint64_t d, s, l;
        if (!qcn_u256_is_zero(&sp[-3])) {
            if (!qcn_u256_fits_u64(&sp[-1]) || !qcn_u256_fits_u64(&sp[-2]) ||
                !qcn_u256_fits_u64(&sp[-3]))
                goto fail;
            d = sp[-1].w[0];
            s = sp[-2].w[0];
            l = sp[-3].w[0];
            if (G(charge(&f, GAS_COPY_WORD * (int64_t)words_of(l > QCN_VM_MAX_MEMORY ? 0 : l))) !=
                    0 ||
                G(mem_expand(&f, d > s ? d : s, l)) != 0)
                goto fail;
            memmove(pool->mem + d, pool->mem + s, l);
        }
        sp -= 3;
        NEXT();
    }
    L_5f:
        *sp++ = qcn_u256_from_u64(0);
        NEXT();
    L_a0:
    L_a1:
    L_a2:
    L_a3:
    L_a4 : {
        unsigned n = (unsigned)(op - 0xa0);
        uint64_t o, l;
        uint8_t topics[QCN_VM_MAX_LOG_TOPICS][QCN_U256_BYTES];
        if (msg->is_static)
            goto fail;
        if (G(mem_range(&f, &sp[-1], &sp[-2], &o, &l)) != 0 ||
            (l > QCN_VM_MAX_MEMORY ? -1 : G(charge(&f, GAS_LOG_DATA * (int64_t)l))) != 0)
            goto fail;
        for (unsigned t = 0; t < n; t++)
            qcn_u256_to_be32(topics[t], &sp[-3 - (int)t]);
        if (qcn_vm_state_add_log(st, msg->recipient, (const uint8_t(*)[32])topics, n,
                                 l > 0 ? pool->mem + o : NULL, l) != QCN_OK) {
            vm->fatal = QCN_ERR_NOMEM;
            goto fail;
        }
        sp -= 2 + n;
        NEXT();
    }
    L_f0:
    L_f5 : {
        struct qcn_u256 args[4], r;
        int n = op == 0xf5 ? 4 : 3;
        for (int k = 0; k < n; k++)
            args[k] = sp[-1 - k];
        if (G(op_create(&f, op, args, &r)) != 0)
            goto fail;
        sp -= n;
        *sp++ = r;
        NEXT();
    }
    L_f1:
    L_f2:
    L_f4:
    L_fa : {
        struct qcn_u256 args[7], r;
        int n = (op == 0xf1 || op == 0xf2) ? 7 : 6;
        for (int k = 0; k < n; k++)
            args[k] = sp[-1 - k];
        if (G(op_call(&f, op, args, &r)) != 0)
            goto fail;
        sp -= n;
        *sp++ = r;
        NEXT();
    }
    L_f3:
    L_fd : {
        uint64_t o, l;
        if (G(mem_range(&f, &sp[-1], &sp[-2], &o, &l)) != 0)
            goto fail;
        res->output = l > 0 ? pool->mem + o : NULL;
        res->output_len = l;
        res->gas_left = gas;
        res->status = op == 0xf3 ? QCN_VM_SUCCESS : QCN_VM_REVERT;
        if (vm->trace != NULL)
            trace_flush(vm, gas);
        return;
    }
    L_ff:
        if (G(op_selfdestruct(&f, &sp[-1])) != 0)
            goto fail;
        goto stop;
    L_60: /* PUSH1: the most common opcode */
        *sp++ = qcn_u256_from_u64(cb[pc + 1]);
        pc += 2;
        DISPATCH();
    L_61:
    L_62:
    L_63:
    L_64:
    L_65:
    L_66:
    L_67 : {
        /* PUSH2..PUSH8 fit one limb. The code is zero-padded, so a
         * truncated PUSH reads zeros. */
        unsigned n = (unsigned)(op - 0x5f);
        uint64_t v = 0;
        for (unsigned k = 1; k <= n; k++)
            v = v << 8 | cb[pc + k];
        *sp++ = qcn_u256_from_u64(v);
        pc += n + 1;
        DISPATCH();
    }
    L_68:
    L_69:
    L_6a:
    L_6b:
    L_6c:
    L_6d:
    L_6e:
    L_6f:
    L_70:
    L_71:
    L_72:
    L_73:
    L_74:
    L_75:
    L_76:
    L_77:
    L_78:
    L_79:
    L_7a:
    L_7b:
    L_7c:
    L_7d:
    L_7e:
    L_7f : {
        unsigned n = (unsigned)(op - 0x5f);
        qcn_u256_from_be_n(sp++, cb + pc + 1, n);
        pc += n + 1;
        DISPATCH();
    }
    L_80:
    L_81:
    L_82:
    L_83:
    L_84:
    L_85:
    L_86:
    L_87:
    L_88:
    L_89:
    L_8a:
    L_8b:
    L_8c:
    L_8d:
    L_8e:
    L_8f:
        *sp = sp[-1 - (op - 0x80)];
        sp++;
        NEXT();
    L_90:
    L_91:
    L_92:
    L_93:
    L_94:
    L_95:
    L_96:
    L_97:
    L_98:
    L_99:
    L_9a:
    L_9b:
    L_9c:
    L_9d:
    L_9e:
    L_9f : {
        struct qcn_u256 t = sp[-1];
        sp[-1] = sp[-2 - (op - 0x90)];
        sp[-2 - (op - 0x90)] = t;
        NEXT();
    }
    L_bad:
        goto fail; /* INVALID (0xfe) and undefined opcodes */
    }
#undef DISPATCH
#undef NEXT
#undef MEM_IN_BOUNDS
stop:
    res->status = QCN_VM_SUCCESS;
    res->gas_left = gas;
    if (vm->trace != NULL)
        trace_flush(vm, gas);
    return;
fail:
    res->status = QCN_VM_FAILURE;
    res->gas_left = 0;
    if (vm->trace != NULL)
        trace_flush(vm, gas < 0 ? 0 : gas);
}
#pragma GCC diagnostic pop

/* ------------------------------------------------------------------------ */
/* Message calls (Yellow Paper 8) and contract creation (7). */

static int run_precompile(struct qcn_vm *vm, int id, const struct qcn_vm_message *msg,
                          struct qcn_vm_result *res)
{
    struct pool *pool = &vm->pools[msg->depth];
    uint64_t used = 0;
    int err = qcn_vm_precompile_run(id, &pool->pcout, &used, msg->input, msg->input_len,
                                    (uint64_t)msg->gas);
    /* Running out of memory is this machine's failure, not a consensus
     * result: it aborts the transaction (as it does in the interpreter)
     * instead of being recorded as a failed call other nodes would not see.
     * The output cap is the same on every node, so hitting it stays a
     * failed call. */
    if (err == QCN_ERR_NOMEM)
        return err;
    if (err != QCN_OK || used > (uint64_t)msg->gas) {
        res->status = QCN_VM_FAILURE;
        res->gas_left = 0;
        return QCN_OK;
    }
    res->status = QCN_VM_SUCCESS;
    res->gas_left = msg->gas - (int64_t)used;
    res->output = pool->pcout.p;
    res->output_len = pool->pcout.len;
    return QCN_OK;
}

static int do_call(struct qcn_vm *vm, const struct qcn_vm_message *msg, struct qcn_vm_result *res)
{
    struct qcn_vm_state *st = vm->st;
    struct qcn_vm_account *to, *from, *code_acct;
    struct qcn_vm_code *code;
    size_t snap;
    int pc_id;

    res->status = QCN_VM_SUCCESS;
    res->gas_left = msg->gas;
    if (msg->depth > QCN_VM_MAX_DEPTH)
        goto refuse;
    from = qcn_vm_state_account(st, msg->sender);
    to = qcn_vm_state_account(st, msg->recipient);
    if (from == NULL || to == NULL)
        return qcn_vm_state_error(st);
    if ((msg->kind == QCN_VM_CALL || msg->kind == QCN_VM_CALLCODE) &&
        qcn_u256_lt(&from->balance, &msg->value))
        goto refuse;
    snap = qcn_vm_state_snapshot(st);
    pc_id = qcn_vm_precompile_id(vm, msg->code_address);
    if (msg->kind == QCN_VM_CALL) {
        /* Calling a non-existent account with no value neither creates nor
         * touches it (EIP-161 b); precompiles are always touched. */
        if (!(to->flags & QCN_VM_ACC_EXISTS) && pc_id == 0 && qcn_u256_is_zero(&msg->value))
            return QCN_OK;
        if (qcn_vm_state_sub_balance(st, from, &msg->value) != QCN_OK ||
            qcn_vm_state_add_balance(st, to, &msg->value) != QCN_OK) {
            qcn_vm_state_revert(st, snap); /* a balance past 2^256: refuse */
            goto refuse;
        }
    } else if (msg->kind == QCN_VM_STATICCALL) {
        /* STATICCALL touches its target as a zero-value transfer would
         * (EIP-161), so an empty target is swept at the end; CALLCODE and
         * DELEGATECALL move nothing and touch nothing. */
        qcn_vm_state_touch(st, to);
    }
    if (pc_id > 0) {
        int err = run_precompile(vm, pc_id, msg, res);
        if (err != QCN_OK)
            return err;
    } else {
        code_acct = msg->kind == QCN_VM_CALL || msg->kind == QCN_VM_STATICCALL
                        ? to
                        : qcn_vm_state_account(st, msg->code_address);
        if (code_acct == NULL || (code = qcn_vm_state_code(st, code_acct)) == NULL)
            return qcn_vm_state_error(st);
        if (code->len == 0)
            return QCN_OK;
        if (qcn_vm_code_analyse(code) != QCN_OK)
            return QCN_ERR_NOMEM;
        interpret(vm, msg, to, code, res);
        if (vm->fatal != QCN_OK)
            return vm->fatal;
    }
    if (res->status != QCN_VM_SUCCESS)
        qcn_vm_state_revert(st, snap);
    return QCN_OK;
refuse:
    /* Depth or balance failure: nothing happens and the gas comes back. */
    res->status = QCN_VM_FAILURE;
    res->gas_left = msg->gas;
    res->output = NULL;
    res->output_len = 0;
    return QCN_OK;
}

/* Sets up pool->initcode as a padded, analysed copy of the init code. */
static int load_initcode(struct pool *pool, const uint8_t *init, size_t len)
{
    struct qcn_vm_code *c = &pool->initcode;
    if (len + QCN_VM_CODE_PAD > pool->initcap) {
        size_t ncap = len + QCN_VM_CODE_PAD;
        uint8_t *nb = realloc(c->bytes, ncap);
        uint8_t *nj;
        if (nb == NULL)
            return QCN_ERR_NOMEM;
        c->bytes = nb;
        nj = realloc(c->jumpdest, ncap / 8 + 1);
        if (nj == NULL)
            return QCN_ERR_NOMEM;
        c->jumpdest = nj;
        pool->initcap = ncap;
    }
    if (len > 0)
        memcpy(c->bytes, init, len);
    memset(c->bytes + len, 0, QCN_VM_CODE_PAD);
    c->len = len;
    /* Recompute the bitmap in the pooled buffer (analyse only fills NULL). */
    {
        uint8_t *bm = c->jumpdest;
        memset(bm, 0, len / 8 + 1);
        for (size_t i = 0; i < len; i++) {
            uint8_t op = c->bytes[i];
            if (op == 0x5b)
                bm[i / 8] = (uint8_t)(bm[i / 8] | (1u << (i % 8)));
            else if (op >= 0x60 && op <= 0x7f)
                i += (size_t)(op - 0x5f);
        }
    }
    return QCN_OK;
}

static int do_create(struct qcn_vm *vm, const struct qcn_vm_message *msg, struct qcn_vm_result *res)
{
    struct qcn_vm_state *st = vm->st;
    struct qcn_vm_account *from, *to;
    struct pool *pool;
    struct qcn_vm_message m = *msg;
    uint8_t addr[QCN_VM_ADDRESS_BYTES];
    size_t snap;
    int err;

    res->status = QCN_VM_FAILURE;
    res->gas_left = msg->gas;
    res->output = NULL;
    res->output_len = 0;
    memset(res->created, 0, sizeof res->created);
    if (msg->depth > QCN_VM_MAX_DEPTH)
        return QCN_OK;
    from = qcn_vm_state_account(st, msg->sender);
    if (from == NULL)
        return qcn_vm_state_error(st);
    if (qcn_u256_lt(&from->balance, &msg->value))
        return QCN_OK;
    if (msg->depth == 0 && msg->nonce_bumped) {
        /* The caller already counted this transaction in the nonce: the
         * address comes from the nonce the transaction carried. */
        if (from->nonce == 0)
            return QCN_ERR_INVALID_ARG;
        if (msg->kind == QCN_VM_CREATE2) {
            uint8_t salt[QCN_U256_BYTES];
            qcn_u256_to_be32(salt, &msg->salt);
            qcn_vm_create2_address(addr, msg->sender, salt, msg->input, msg->input_len);
        } else {
            qcn_vm_create_address(addr, msg->sender, from->nonce - 1);
        }
    } else {
        if (from->nonce == UINT64_MAX)
            return QCN_OK; /* EIP-2681 */
        if (msg->kind == QCN_VM_CREATE2) {
            uint8_t salt[QCN_U256_BYTES];
            qcn_u256_to_be32(salt, &msg->salt);
            qcn_vm_create2_address(addr, msg->sender, salt, msg->input, msg->input_len);
        } else {
            qcn_vm_create_address(addr, msg->sender, from->nonce);
        }
        qcn_vm_state_set_nonce(st, from, from->nonce + 1);
    }
    to = qcn_vm_state_account(st, addr);
    if (to == NULL)
        return qcn_vm_state_error(st);
    (void)qcn_vm_state_warm_account(st, to);
    /* Address collision (Yellow Paper 7, EIP-684, EIP-7610): all gas is lost. */
    if (to->nonce != 0 || memcmp(to->code_hash, qcn_vm_empty_code_hash, QCN_VM_HASH_BYTES) != 0 ||
        (to->flags & QCN_VM_ACC_HAS_STORAGE)) {
        res->gas_left = 0;
        return QCN_OK;
    }
    snap = qcn_vm_state_snapshot(st);
    qcn_vm_state_create_account(st, to);
    if (qcn_vm_state_sub_balance(st, from, &msg->value) != QCN_OK ||
        qcn_vm_state_add_balance(st, to, &msg->value) != QCN_OK) {
        qcn_vm_state_revert(st, snap);
        return QCN_OK;
    }
    memcpy(m.recipient, addr, QCN_VM_ADDRESS_BYTES);
    memcpy(m.code_address, addr, QCN_VM_ADDRESS_BYTES);
    m.input = NULL;
    m.input_len = 0;
    pool = &vm->pools[msg->depth];
    if (msg->input_len == 0) {
        res->status = QCN_VM_SUCCESS;
        res->gas_left = msg->gas;
    } else {
        err = load_initcode(pool, msg->input, msg->input_len);
        if (err != QCN_OK)
            return err;
        interpret(vm, &m, to, &pool->initcode, res);
        if (vm->fatal != QCN_OK)
            return vm->fatal;
    }
    if (res->status == QCN_VM_SUCCESS) {
        size_t n = res->output_len;
        int64_t deposit = (int64_t)n * GAS_CODE_DEPOSIT;
        if (n > QCN_VM_MAX_CODE_SIZE || (n > 0 && res->output[0] == 0xef) ||
            res->gas_left < deposit) {
            res->status = QCN_VM_FAILURE;
            res->gas_left = 0;
        } else {
            res->gas_left -= deposit;
            if (qcn_vm_state_set_code(st, to, res->output, n) != QCN_OK)
                return QCN_ERR_NOMEM;
            memcpy(res->created, addr, QCN_VM_ADDRESS_BYTES);
            res->output = NULL;
            res->output_len = 0;
        }
    }
    if (res->status != QCN_VM_SUCCESS)
        qcn_vm_state_revert(st, snap);
    if (res->status == QCN_VM_FAILURE) {
        res->output = NULL;
        res->output_len = 0;
    }
    return QCN_OK;
}

static int execute_message(struct qcn_vm *vm, const struct qcn_vm_message *msg,
                           struct qcn_vm_result *res)
{
    int err;
    res->output = NULL;
    res->output_len = 0;
    memset(res->created, 0, sizeof res->created);
    if (msg->kind == QCN_VM_CREATE || msg->kind == QCN_VM_CREATE2)
        err = do_create(vm, msg, res);
    else
        err = do_call(vm, msg, res);
    if (err != QCN_OK && vm->fatal == QCN_OK)
        vm->fatal = err;
    return err;
}

int qcn_vm_execute(struct qcn_vm *vm, struct qcn_vm_state *st, const struct qcn_vm_block_env *block,
                   const struct qcn_vm_tx_env *tx, const struct qcn_vm_message *msg,
                   struct qcn_vm_result *res)
{
    int err;
    memset(res, 0, sizeof *res);
    if (msg->depth < 0 || msg->depth > QCN_VM_MAX_DEPTH || msg->gas < 0)
        return QCN_ERR_INVALID_ARG;
    vm->st = st;
    vm->blk = block;
    vm->tx = tx;
    vm->fatal = QCN_OK;
    err = execute_message(vm, msg, res);
    if (err == QCN_OK && vm->fatal != QCN_OK)
        err = vm->fatal;
    return err;
}
