/* metrics.h - a small Prometheus registry: counters, gauges and histograms
 * with fixed buckets, rendered in the Prometheus text exposition format
 * (version 0.0.4).
 *
 * Model: a registry holds metric families (one name, help text, type, and for
 * histograms the bucket bounds); each family holds series, one per distinct
 * label set. Registering returns a handle to one series; registering the same
 * name and labels again returns the same handle (get-or-create), so code can
 * look up a per-method series when it first needs it.
 *
 * Threads: every function is thread-safe. Updates (inc/add/set/observe) are
 * lock-free atomics and cheap enough for hot paths; registration and
 * rendering take the registry's mutex. Handles live until the registry is
 * freed.
 *
 * Cardinality: label values must never come straight from a client or peer
 * (an attacker could grow the registry without bound). Each family holds at
 * most QCN_METRICS_MAX_SERIES series and the registry at most
 * QCN_METRICS_MAX_FAMILIES families; past that registration fails with
 * QCN_ERR_TOO_LARGE. */
#ifndef QCN_UTIL_METRICS_H
#define QCN_UTIL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

#define QCN_METRICS_MAX_FAMILIES 256
#define QCN_METRICS_MAX_SERIES 512
#define QCN_METRICS_MAX_BUCKETS 32
#define QCN_METRICS_MAX_LABELS 4
/* Longest metric or label name, and longest label value, in bytes. */
#define QCN_METRICS_MAX_NAME 128
#define QCN_METRICS_MAX_VALUE 256
/* Cap on the rendered exposition text. */
#define QCN_METRICS_MAX_TEXT (4u << 20)

struct qcn_metrics; /* the registry */
struct qcn_metric;  /* one series: a counter, gauge or histogram */

/* Creates an empty registry. QCN_ERR_NOMEM. *out is NULL on failure. */
QCN_MUST_CHECK int qcn_metrics_new(struct qcn_metrics **out);
/* Frees the registry and every handle it gave out. NULL is a no-op. No other
 * thread may use the registry or its handles during or after the call. */
void qcn_metrics_free(struct qcn_metrics *m);

/* Register (or find) a series. name must match [a-zA-Z_:][a-zA-Z0-9_:]*;
 * labels is NULL or a NULL-terminated array of name, value pairs
 * ({"method", "eth_call", NULL}), at most QCN_METRICS_MAX_LABELS pairs. help is
 * kept from the first registration of the family. Registering a name that
 * already exists with another type (or other histogram bounds) is
 * QCN_ERR_EXISTS. QCN_ERR_INVALID_ARG for a bad name or label,
 * QCN_ERR_TOO_LARGE past the caps, QCN_ERR_NOMEM. *out is NULL on failure. */
QCN_MUST_CHECK int qcn_metrics_counter_register(struct qcn_metrics *m, struct qcn_metric **out,
                                                const char *name, const char *help,
                                                const char *const *labels);
QCN_MUST_CHECK int qcn_metrics_gauge_register(struct qcn_metrics *m, struct qcn_metric **out,
                                              const char *name, const char *help,
                                              const char *const *labels);
/* bounds: nbounds strictly increasing finite upper bounds (1..MAX_BUCKETS);
 * the +Inf bucket is implicit. */
QCN_MUST_CHECK int qcn_metrics_histogram_register(struct qcn_metrics *m, struct qcn_metric **out,
                                                  const char *name, const char *help,
                                                  const char *const *labels, const double *bounds,
                                                  size_t nbounds);

/* Updates. A NULL handle is a no-op, so optional metrics need no checks at
 * call sites. Using a handle with the wrong type is a programmer error
 * (assert). A counter only goes up: add() ignores negative or NaN amounts. */
void qcn_metrics_counter_add(struct qcn_metric *c, double v);
void qcn_metrics_counter_inc(struct qcn_metric *c);
void qcn_metrics_gauge_set(struct qcn_metric *g, double v);
void qcn_metrics_gauge_add(struct qcn_metric *g, double v);
void qcn_metrics_histogram_observe(struct qcn_metric *h, double v);

/* Current value of a counter or gauge (for tests and status pages); a
 * histogram's sample count. 0 for NULL. */
double qcn_metrics_value(const struct qcn_metric *s);

/* Appends the text exposition of every family, in registration order, to
 * out (which the caller initialised with its own cap). QCN_ERR_TOO_LARGE if
 * it does not fit (out then holds a truncated prefix), QCN_ERR_NOMEM. */
QCN_MUST_CHECK int qcn_metrics_render(struct qcn_metrics *m, struct qcn_buf *out);

/* Bucket bounds in seconds for latencies from 100 us to 10 s. */
extern const double qcn_metrics_latency_buckets[];
extern const size_t qcn_metrics_latency_buckets_len;

#endif
