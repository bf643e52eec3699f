/* consensus: the engine registry and the dev engine's timing rules, driven by
 * a fake host (fake timer, fake pool, fake chain) so no test sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "consensus/engine.h"
#include "util/log.h"

struct fake {
    uint64_t now;
    int armed;
    uint64_t delay;
    unsigned sets, cancels;
    size_t pending;
    uint64_t height;
    int fail_next; /* error to return from the next produce_block */
    size_t last_ntx;
};

static uint64_t f_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}
static void f_timer_set(void *ctx, uint64_t delay)
{
    struct fake *f = ctx;
    f->armed = 1;
    f->delay = delay;
    f->sets++;
}
static void f_timer_cancel(void *ctx)
{
    struct fake *f = ctx;
    f->armed = 0;
    f->cancels++;
}
static size_t f_pending(void *ctx)
{
    return ((struct fake *)ctx)->pending;
}
static int f_produce(void *ctx, size_t max, size_t *ntx)
{
    struct fake *f = ctx;
    size_t take = f->pending;
    *ntx = 0;
    if (f->fail_next) {
        int e = f->fail_next;
        f->fail_next = 0;
        return e;
    }
    if (max > 0 && take > max)
        take = max;
    f->pending -= take;
    f->height++;
    f->last_ntx = take;
    *ntx = take;
    return QCN_OK;
}
static uint64_t f_height(void *ctx)
{
    return ((struct fake *)ctx)->height;
}

static struct qcn_engine_host host_for(struct fake *f)
{
    struct qcn_engine_host h = {f,         f_now,     f_timer_set, f_timer_cancel,
                                f_pending, f_produce, f_height};
    return h;
}

/* Fires the armed timer, as the node's loop would. */
static void fire(struct qcn_engine *e, struct fake *f)
{
    assert_true(f->armed);
    f->armed = 0;
    f->now += f->delay;
    e->ops->on_timer(e->state);
}

static void test_registry(void **state)
{
    struct fake f = {0};
    struct qcn_engine_host h = host_for(&f);
    struct qcn_engine_config cfg = {0};
    struct qcn_engine e;
    (void)state;
    assert_ptr_equal(qcn_engine_find("dev"), &qcn_engine_dev);
    assert_null(qcn_engine_find("nope"));
    assert_int_equal(qcn_engine_init(&e, "nope", &h, &cfg), QCN_ERR_NOT_FOUND);
    assert_null(e.ops);
    cfg.period_ms = 1000ull * 3600 * 24 * 365;
    assert_int_equal(qcn_engine_init(&e, "dev", &h, &cfg), QCN_ERR_CONFIG);
    assert_null(e.ops);
    qcn_engine_clear(&e); /* zeroed: no-op */
}

static void test_period(void **state)
{
    struct fake f = {0};
    struct qcn_engine_host h = host_for(&f);
    struct qcn_engine_config cfg = {1000, 0, 0};
    struct qcn_engine e;
    (void)state;
    assert_int_equal(qcn_engine_init(&e, "dev", &h, &cfg), QCN_OK);
    assert_int_equal(e.ops->start(e.state), QCN_OK);
    assert_true(f.armed);
    assert_int_equal(f.delay, 1000);
    /* Empty blocks too: a block every period. */
    fire(&e, &f);
    fire(&e, &f);
    assert_int_equal(f.height, 2);
    assert_int_equal(f.now, 2000);
    /* A transaction does not hurry a periodic engine. */
    f.pending = 5;
    e.ops->on_tx(e.state);
    assert_int_equal(f.delay, 1000);
    fire(&e, &f);
    assert_int_equal(f.height, 3);
    assert_int_equal(f.last_ntx, 5);
    qcn_engine_clear(&e);
    assert_false(f.armed);
    assert_int_equal(f.cancels, 1);
}

static void test_on_demand(void **state)
{
    struct fake f = {0};
    struct qcn_engine_host h = host_for(&f);
    struct qcn_engine_config cfg = {0, 10, 0};
    struct qcn_engine e;
    (void)state;
    assert_int_equal(qcn_engine_init(&e, "dev", &h, &cfg), QCN_OK);
    assert_int_equal(e.ops->start(e.state), QCN_OK);
    assert_false(f.armed); /* nothing waits: no block */
    f.pending = 1;
    e.ops->on_tx(e.state);
    assert_true(f.armed);
    assert_int_equal(f.delay, 0);
    f.pending = 25;
    e.ops->on_tx(e.state); /* already armed: same timer, same block */
    assert_int_equal(f.sets, 1);
    fire(&e, &f);
    assert_int_equal(f.last_ntx, 10);
    assert_true(f.armed); /* the pool still has ready transactions */
    fire(&e, &f);
    fire(&e, &f);
    assert_int_equal(f.last_ntx, 5);
    assert_int_equal(f.height, 3);
    assert_false(f.armed);
    /* A stale timer with an empty pool makes no empty block. */
    e.ops->on_timer(e.state);
    assert_int_equal(f.height, 3);
    qcn_engine_clear(&e);
}

static void test_failure_retries(void **state)
{
    struct fake f = {0};
    struct qcn_engine_host h = host_for(&f);
    struct qcn_engine_config cfg = {0, 0, 50};
    struct qcn_engine e;
    (void)state;
    qcn_log_configure(QCN_LOG_ERROR, NULL, 0);
    assert_int_equal(qcn_engine_init(&e, "dev", &h, &cfg), QCN_OK);
    f.pending = 3;
    assert_int_equal(e.ops->start(e.state), QCN_OK);
    assert_true(f.armed);
    f.fail_next = QCN_ERR_STORE_FULL;
    fire(&e, &f);
    assert_int_equal(f.height, 0);
    assert_true(f.armed);
    assert_int_equal(f.delay, 50); /* back off, no tight loop */
    fire(&e, &f);
    assert_int_equal(f.height, 1);
    assert_int_equal(f.pending, 0);
    assert_false(f.armed);
    qcn_engine_clear(&e);
}

/* An asynchronous host: produce_block answers BUSY while the previous
 * commit is in flight, and on_block reports each commit's outcome. */
static void test_async_commit(void **state)
{
    struct fake f = {0};
    struct qcn_engine_host h = host_for(&f);
    struct qcn_engine_config cfg = {0, 0, 30};
    struct qcn_engine e;
    (void)state;
    assert_int_equal(qcn_engine_init(&e, "dev", &h, &cfg), QCN_OK);
    assert_int_equal(e.ops->start(e.state), QCN_OK);
    f.pending = 4;
    e.ops->on_tx(e.state);
    f.fail_next = QCN_ERR_BUSY;
    fire(&e, &f);
    assert_false(f.armed); /* no retry timer, no log: wait for the commit */
    assert_int_equal(f.height, 0);
    f.height = 1; /* the in-flight commit lands */
    e.ops->on_block(e.state, 1);
    assert_true(f.armed);
    assert_int_equal(f.delay, 0);
    fire(&e, &f);
    assert_int_equal(f.height, 2);
    assert_int_equal(f.pending, 0);
    e.ops->on_block(e.state, 2);
    assert_false(f.armed);
    /* A commit that failed reports the old height: retry after retry_ms. */
    f.pending = 1;
    e.ops->on_block(e.state, 2);
    assert_true(f.armed);
    assert_int_equal(f.delay, 30);
    qcn_engine_clear(&e);
}

static void test_stop(void **state)
{
    struct fake f = {0};
    struct qcn_engine_host h = host_for(&f);
    struct qcn_engine_config cfg = {0, 0, 0};
    struct qcn_engine e;
    (void)state;
    assert_int_equal(qcn_engine_init(&e, "dev", &h, &cfg), QCN_OK);
    assert_int_equal(e.ops->start(e.state), QCN_OK);
    f.pending = 2;
    e.ops->on_tx(e.state);
    e.ops->stop(e.state);
    assert_false(f.armed);
    e.ops->on_timer(e.state); /* a late timer after stop makes no block */
    e.ops->on_tx(e.state);
    assert_int_equal(f.height, 0);
    assert_false(f.armed);
    e.ops->stop(e.state); /* idempotent */
    assert_int_equal(f.cancels, 1);
    qcn_engine_clear(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),     cmocka_unit_test(test_period),
        cmocka_unit_test(test_on_demand),    cmocka_unit_test(test_failure_retries),
        cmocka_unit_test(test_async_commit), cmocka_unit_test(test_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
