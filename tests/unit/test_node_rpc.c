/* node: the RPC wiring's config keys (rpc.cors and the caps: parse, refuse,
 * dump round trip) and the node's metrics registry (node_rpc.h: the two
 * histograms are registered, observed and rendered; calls without a
 * registry or a server are no-ops). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/config.h"
#include "node/node.h"
#include "node/node_rpc.h"
#include "util/metrics.h"

static void test_cors_and_caps(void **state)
{
    struct qcn_node_config c, before;
    char err[256];
    (void)state;
    qcn_node_config_default(&c);
    assert_string_equal(c.rpc_cors, "");
    assert_int_equal(c.rpc_max_batch, 0);
    assert_int_equal(qcn_node_config_set(&c, "rpc.cors", "*", err, sizeof err), QCN_OK);
    assert_string_equal(c.rpc_cors, "*");
    assert_int_equal(
        qcn_node_config_set(&c, "rpc.cors", "http://a.test,https://b.test:8443", err, sizeof err),
        QCN_OK);
    assert_string_equal(c.rpc_cors, "http://a.test,https://b.test:8443");
    /* Refused values change nothing and name the key. */
    before = c;
    assert_int_equal(
        qcn_node_config_set(&c, "rpc.cors", "http://a.test, http://b.test", err, sizeof err),
        QCN_ERR_CONFIG);
    assert_non_null(strstr(err, "rpc.cors"));
    assert_int_equal(qcn_node_config_set(&c, "rpc.cors", "http://a\r\nX-Evil: 1", err, sizeof err),
                     QCN_ERR_CONFIG);
    assert_int_equal(qcn_node_config_set(&c, "rpc.max_batch", "100001", err, sizeof err),
                     QCN_ERR_CONFIG);
    assert_int_equal(qcn_node_config_set(&c, "rpc.max_body", "-1", err, sizeof err),
                     QCN_ERR_CONFIG);
    assert_memory_equal(&c, &before, sizeof c);
    assert_int_equal(qcn_node_config_set(&c, "rpc.max_batch", "5", err, sizeof err), QCN_OK);
    assert_int_equal(qcn_node_config_set(&c, "rpc.max_body", "65536", err, sizeof err), QCN_OK);
    assert_int_equal(qcn_node_config_set(&c, "rpc.rate_per_sec", "100", err, sizeof err), QCN_OK);
    assert_int_equal(qcn_node_config_set(&c, "rpc.logs_range", "50", err, sizeof err), QCN_OK);
    assert_int_equal(c.rpc_max_batch, 5);
    assert_int_equal(c.rpc_max_body, 65536);
    assert_int_equal(c.rpc_rate_per_sec, 100);
    assert_int_equal(c.rpc_logs_range, 50);
}

/* An empty rpc.cors dumps as an empty value and reads back as none. */
static void test_dump_round_trip(void **state)
{
    struct qcn_node_config c, d;
    char err[256], *text = NULL;
    size_t len = 0;
    FILE *f;
    int pass;
    (void)state;
    for (pass = 0; pass < 2; pass++) {
        qcn_node_config_default(&c);
        if (pass == 1) {
            assert_int_equal(qcn_node_config_set(&c, "rpc.cors", "*", err, sizeof err), QCN_OK);
            assert_int_equal(qcn_node_config_set(&c, "rpc.max_batch", "7", err, sizeof err),
                             QCN_OK);
        }
        f = open_memstream(&text, &len);
        assert_non_null(f);
        qcn_node_config_dump(&c, f);
        fclose(f);
        qcn_node_config_default(&d);
        assert_int_equal(qcn_node_config_set(&d, "rpc.cors", "http://x.test", err, sizeof err),
                         QCN_OK);
        assert_int_equal(qcn_node_config_parse(&d, text, len, err, sizeof err), QCN_OK);
        assert_string_equal(d.rpc_cors, c.rpc_cors);
        assert_int_equal(d.rpc_max_batch, c.rpc_max_batch);
        free(text);
        text = NULL;
    }
}

/* The registry exists with rpc.enabled = false too; the histograms count
 * what the node observes and render in the Prometheus text format. */
static void test_metrics_registry(void **state)
{
    struct qcn_node *n = calloc(1, sizeof *n);
    struct qcn_buf out;
    static const uint8_t hash[32] = {1};
    (void)state;
    assert_non_null(n);
    qcn_node_config_default(&n->cfg);
    n->cfg.rpc_enabled = 0;
    /* Before start: no registry, observations are no-ops. */
    qcn_node_metrics_commit(n, 0.5);
    assert_null(qcn_node_metrics(n));
    assert_int_equal(qcn_node_rpc_start(n), QCN_OK);
    assert_non_null(qcn_node_metrics(n));
    qcn_node_metrics_commit(n, 0.002);
    qcn_node_metrics_commit(n, 0.004);
    qcn_node_metrics_verify(n, 0.0003);
    qcn_node_rpc_tx_admitted(n, hash, NULL); /* no server: nothing to notify */
    assert_int_equal(qcn_node_rpc_register(n, NULL, 0), QCN_OK);
    qcn_buf_init(&out, QCN_METRICS_MAX_TEXT);
    assert_int_equal(qcn_metrics_render(qcn_node_metrics(n), &out), QCN_OK);
    assert_int_equal(qcn_buf_append(&out, (const uint8_t *)"", 1), QCN_OK);
    assert_non_null(strstr((const char *)out.p, "# TYPE qcn_block_commit_seconds histogram"));
    assert_non_null(strstr((const char *)out.p, "qcn_block_commit_seconds_count 2"));
    assert_non_null(strstr((const char *)out.p, "qcn_verify_seconds_count 1"));
    qcn_buf_clear(&out);
    qcn_node_rpc_stop(n);
    qcn_node_rpc_free(n);
    assert_null(n->rpc);
    qcn_node_metrics_verify(n, 1.0); /* after free: a no-op */
    qcn_node_rpc_free(n);            /* twice: a no-op */
    free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cors_and_caps),
        cmocka_unit_test(test_dump_round_trip),
        cmocka_unit_test(test_metrics_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
