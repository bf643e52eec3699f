/* fuzz_rpc_request: arbitrary bytes through the JSON-RPC dispatcher (parse,
 * caps, batch handling, every method's parameter parsing) over an in-memory
 * chain, as HTTP (no connection) or WebSocket (a connection that accepts
 * everything), with and without the admin token. Must never crash, leak or
 * answer with anything but one valid JSON value (or nothing). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tests/unit/rpc_fake_chain.h"
#include "rpc/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink_send(struct qcn_rpc_conn *c, const char *text, size_t len)
{
    (void)c;
    (void)text;
    (void)len;
    return QCN_OK;
}

static struct fake_chain fc;
static struct qcn_rpc *rpc;
static char token_path[] = "/tmp/qcn-fuzz-rpc-token-XXXXXX";

static void setup(void)
{
    struct qcn_rpc_config cfg = {0};
    struct qcn_rpc_backend be;
    int fd;

    if (fake_chain_init(&fc) != 0)
        abort();
    fake_backend(&fc, &be);
    fd = mkstemp(token_path);
    if (fd < 0 || write(fd, "fuzz-token-0123456789abcdef\n", 28) != 28)
        abort();
    close(fd);
    cfg.chain_id = FAKE_CHAIN_ID;
    cfg.max_body = 1 << 20;
    cfg.max_batch = 8; /* bounds the work one input can ask for */
    cfg.logs_range = 4;
    cfg.max_filters = 8; /* filters outlive an input; keep their work bounded */
    cfg.max_subs = 8;
    cfg.call_gas_cap = 200000; /* EVM runs stay short per input */
    cfg.admin_token_file = token_path;
    if (qcn_rpc_new(&rpc, &cfg, &be) != QCN_OK)
        abort();
    /* qcn_rpc_new read the token; the file is not needed again (a fuzz
     * process never gets to clean up, so it would stay in /tmp) */
    (void)unlink(token_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char token[] = "fuzz-token-0123456789abcdef";
    struct qcn_rpc_conn conn = {sink_send, 0, 0};
    struct qcn_buf out;
    uint8_t mode;
    int err;

    if (rpc == NULL)
        setup();
    if (size == 0)
        return 0;
    mode = data[0];
    data++;
    size--;
    qcn_buf_init(&out, QCN_RPC_MAX_RESPONSE);
    if (mode & 1)
        qcn_rpc_conn_attach(rpc, &conn);
    err = qcn_rpc_handle_sync(rpc, (mode & 1) ? &conn : NULL, (mode & 2) ? token : NULL,
                              (mode & 2) ? sizeof token - 1 : 0, data, size, &out);
    if (err == QCN_OK && out.len > 0) {
        json_t *j = json_loadb((const char *)out.p, out.len, JSON_DECODE_ANY, NULL);
        if (j == NULL)
            abort(); /* every answer is valid JSON */
        json_decref(j);
    }
    if (mode & 4) {
        json_t *h = json_pack("{s:s,s:i}", "hash", "0x01", "number", 1);
        qcn_rpc_notify_json(rpc, "newHeads", h);
        qcn_rpc_notify_json(rpc, "logs", h);
        json_decref(h);
    }
    if (mode & 1)
        qcn_rpc_conn_detach(rpc, &conn);
    qcn_buf_clear(&out);
    return 0;
}
