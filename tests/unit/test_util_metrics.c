/* util/metrics: registration rules, updates, text exposition, thread safety. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/metrics.h"

static char *render(struct qcn_metrics *m, struct qcn_buf *b)
{
    qcn_buf_init(b, QCN_METRICS_MAX_TEXT);
    assert_int_equal(qcn_metrics_render(m, b), QCN_OK);
    assert_int_equal(qcn_buf_append_u8(b, 0), QCN_OK);
    return (char *)b->p;
}

static void test_counter_gauge_text(void **state)
{
    struct qcn_metrics *m;
    struct qcn_metric *c, *c2, *g, *other;
    struct qcn_buf b;
    const char *lab1[] = {"method", "eth_call", NULL};
    const char *lab2[] = {"method", "eth_getBalance", NULL};
    char *t;
    (void)state;

    assert_int_equal(qcn_metrics_new(&m), QCN_OK);
    assert_int_equal(qcn_metrics_counter_register(m, &c, "qcn_rpc_requests_total",
                                                  "RPC requests\\by method", lab1),
                     QCN_OK);
    assert_int_equal(
        qcn_metrics_counter_register(m, &c2, "qcn_rpc_requests_total", "ignored", lab2), QCN_OK);
    assert_ptr_not_equal(c, c2);
    /* get-or-create: the same name and labels give the same handle */
    assert_int_equal(qcn_metrics_counter_register(m, &other, "qcn_rpc_requests_total", NULL, lab1),
                     QCN_OK);
    assert_ptr_equal(other, c);
    /* same name, other type */
    assert_int_equal(qcn_metrics_gauge_register(m, &other, "qcn_rpc_requests_total", "x", NULL),
                     QCN_ERR_EXISTS);
    assert_null(other);
    assert_int_equal(qcn_metrics_gauge_register(m, &g, "qcn_head_height", "Head", NULL), QCN_OK);

    qcn_metrics_counter_inc(c);
    qcn_metrics_counter_add(c, 2.5);
    qcn_metrics_counter_add(c, -7.0); /* counters never go down */
    qcn_metrics_counter_inc(NULL);    /* no-op */
    qcn_metrics_gauge_set(g, 42);
    qcn_metrics_gauge_add(g, -2);
    assert_true(qcn_metrics_value(c) == 3.5);
    assert_true(qcn_metrics_value(g) == 40.0);

    t = render(m, &b);
    assert_non_null(strstr(t, "# HELP qcn_rpc_requests_total RPC requests\\\\by method\n"
                              "# TYPE qcn_rpc_requests_total counter\n"
                              "qcn_rpc_requests_total{method=\"eth_call\"} 3.5\n"
                              "qcn_rpc_requests_total{method=\"eth_getBalance\"} 0\n"));
    assert_non_null(strstr(t, "# TYPE qcn_head_height gauge\nqcn_head_height 40\n"));
    assert_null(strstr(t, "ignored"));
    qcn_buf_clear(&b);
    qcn_metrics_free(m);
}

static void test_histogram(void **state)
{
    struct qcn_metrics *m;
    struct qcn_metric *h, *other;
    struct qcn_buf b;
    const double bounds[] = {0.1, 1, 10};
    const double bad[] = {1, 1};
    const char *lab[] = {"stage", "verify", NULL};
    char *t;
    (void)state;

    assert_int_equal(qcn_metrics_new(&m), QCN_OK);
    assert_int_equal(qcn_metrics_histogram_register(m, &other, "qcn_h", "h", NULL, bad, 2),
                     QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_metrics_histogram_register(m, &other, "qcn_h", "h", NULL, bounds, 0),
                     QCN_ERR_INVALID_ARG);
    assert_int_equal(
        qcn_metrics_histogram_register(m, &h, "qcn_verify_seconds", "Verify time", lab, bounds, 3),
        QCN_OK);
    /* other bounds under the same name are a conflict */
    assert_int_equal(
        qcn_metrics_histogram_register(m, &other, "qcn_verify_seconds", "x", NULL, bounds, 2),
        QCN_ERR_EXISTS);
    qcn_metrics_histogram_observe(h, 0.05);
    qcn_metrics_histogram_observe(h, 0.1); /* le is inclusive */
    qcn_metrics_histogram_observe(h, 5);
    qcn_metrics_histogram_observe(h, 1000);
    assert_true(qcn_metrics_value(h) == 4.0);
    t = render(m, &b);
    assert_non_null(
        strstr(t, "# TYPE qcn_verify_seconds histogram\n"
                  "qcn_verify_seconds_bucket{stage=\"verify\",le=\"0.10000000000000001\"} 2\n"
                  "qcn_verify_seconds_bucket{stage=\"verify\",le=\"1\"} 2\n"
                  "qcn_verify_seconds_bucket{stage=\"verify\",le=\"10\"} 3\n"
                  "qcn_verify_seconds_bucket{stage=\"verify\",le=\"+Inf\"} 4\n"
                  "qcn_verify_seconds_sum{stage=\"verify\"} 1005.15\n"
                  "qcn_verify_seconds_count{stage=\"verify\"} 4\n"));
    qcn_buf_clear(&b);
    qcn_metrics_free(m);
}

static void test_bad_names_and_caps(void **state)
{
    struct qcn_metrics *m;
    struct qcn_metric *s;
    struct qcn_buf b;
    const char *badkey[] = {"1abc", "v", NULL};
    const char *reserved[] = {"le", "v", NULL};
    const char *odd[] = {"k", NULL};
    const char *esc[] = {"k", "a\"b\\c\nd", NULL};
    char name[32], *t;
    (void)state;

    assert_int_equal(qcn_metrics_new(&m), QCN_OK);
    assert_int_equal(qcn_metrics_counter_register(m, &s, "9bad", "", NULL), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_metrics_counter_register(m, &s, "bad-name", "", NULL),
                     QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_metrics_counter_register(m, &s, "", "", NULL), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_metrics_counter_register(m, &s, "ok", "", badkey), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_metrics_counter_register(m, &s, "ok", "", reserved), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_metrics_counter_register(m, &s, "ok", "", odd), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_metrics_counter_register(m, &s, "esc", "", esc), QCN_OK);
    t = render(m, &b);
    assert_non_null(strstr(t, "esc{k=\"a\\\"b\\\\c\\nd\"} 0\n"));
    qcn_buf_clear(&b);

    for (int i = 0; i < QCN_METRICS_MAX_SERIES; i++) {
        const char *lab[] = {"i", name, NULL};
        snprintf(name, sizeof name, "%d", i);
        assert_int_equal(qcn_metrics_counter_register(m, &s, "many", "", lab), QCN_OK);
    }
    {
        const char *lab[] = {"i", "one-too-many", NULL};
        assert_int_equal(qcn_metrics_counter_register(m, &s, "many", "", lab), QCN_ERR_TOO_LARGE);
    }
    /* a render that does not fit its buffer says so */
    qcn_buf_init(&b, 100);
    assert_int_equal(qcn_metrics_render(m, &b), QCN_ERR_TOO_LARGE);
    qcn_buf_clear(&b);
    qcn_metrics_free(m);
}

struct worker {
    struct qcn_metric *c, *h;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 100000; i++) {
        qcn_metrics_counter_inc(w->c);
        qcn_metrics_histogram_observe(w->h, (double)(i % 3));
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct qcn_metrics *m;
    struct worker w;
    pthread_t th[4];
    const double bounds[] = {0.5, 1.5};
    (void)state;

    assert_int_equal(qcn_metrics_new(&m), QCN_OK);
    assert_int_equal(qcn_metrics_counter_register(m, &w.c, "c", "", NULL), QCN_OK);
    assert_int_equal(qcn_metrics_histogram_register(m, &w.h, "h", "", NULL, bounds, 2), QCN_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &w), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    /* lost updates would show up as a smaller count */
    assert_true(qcn_metrics_value(w.c) == 400000.0);
    assert_true(qcn_metrics_value(w.h) == 400000.0);
    qcn_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge_text),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_bad_names_and_caps),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
