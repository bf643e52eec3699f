/* fake_node: the JSON-RPC server over the in-memory test chain
 * (tests/unit/rpc_fake_chain.h), for checking that real Ethereum clients
 * (ethers v6, viem) parse our answers before a real node serves blocks.
 * Prints the bound port on stdout, serves until stdin closes or SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "rpc/rpc.h"
#include "unit/rpc_fake_chain.h"

static struct qcn_rpc_server *srv;
static uv_signal_t sig;
static uv_pipe_t in;

static void stop(uv_loop_t *loop)
{
    (void)loop;
    qcn_rpc_server_stop(srv);
    uv_close((uv_handle_t *)&sig, NULL);
    uv_close((uv_handle_t *)&in, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    stop(h->loop);
}

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    static char buf[256];
    (void)h;
    (void)n;
    *b = uv_buf_init(buf, sizeof buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    if (n < 0)
        stop(s->loop);
}

int main(void)
{
    struct fake_chain fc;
    struct qcn_rpc_backend be;
    struct qcn_rpc_config cfg = {0};
    struct qcn_rpc *rpc;
    uv_loop_t loop;

    if (fake_chain_init(&fc) != 0)
        return 1;
    fake_backend(&fc, &be);
    cfg.port = -1;
    cfg.chain_id = FAKE_CHAIN_ID;
    cfg.cors = "*";
    uv_loop_init(&loop);
    if (qcn_rpc_new(&rpc, &cfg, &be) != QCN_OK || qcn_rpc_server_new(&srv, &loop, rpc) != QCN_OK)
        return 1;
    printf("%d\n", qcn_rpc_server_port(srv));
    fflush(stdout);
    uv_signal_init(&loop, &sig);
    uv_signal_start(&sig, on_signal, SIGTERM);
    uv_pipe_init(&loop, &in, 0);
    uv_pipe_open(&in, 0);
    uv_read_start((uv_stream_t *)&in, on_alloc, on_read);
    uv_run(&loop, UV_RUN_DEFAULT);
    qcn_rpc_server_free(srv);
    uv_loop_close(&loop);
    qcn_rpc_free(rpc);
    fake_chain_clear(&fc);
    return 0;
}
