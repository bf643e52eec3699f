/* metrics.c - Prometheus registry. Format: the Prometheus text exposition
 * format 0.0.4 ("# HELP", "# TYPE", one sample per line, label values escaped
 * for backslash, double quote and newline; histograms as cumulative
 * _bucket{le=...} samples plus _sum and _count).
 *
 * Values are doubles kept as their bit pattern in an _Atomic uint64_t, so an
 * update is a load plus compare-and-swap and never takes the mutex. */
#include "util/metrics.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum metric_type { TYPE_COUNTER, TYPE_GAUGE, TYPE_HISTOGRAM };

struct qcn_metric {
    enum metric_type type;
    char *labels;              /* rendered label pairs without braces, "" when none */
    _Atomic uint64_t value;    /* double bits: counter/gauge value, histogram sum */
    _Atomic uint64_t *buckets; /* histogram: per-bucket (non-cumulative) counts */
    const struct family *fam;
};

struct family {
    char name[QCN_METRICS_MAX_NAME + 1];
    char *help;
    enum metric_type type;
    double bounds[QCN_METRICS_MAX_BUCKETS];
    size_t nbounds;
    struct qcn_metric **series;
    size_t nseries, capseries;
};

struct qcn_metrics {
    pthread_mutex_t lock;
    struct family *fams[QCN_METRICS_MAX_FAMILIES];
    size_t nfams;
};

const double qcn_metrics_latency_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                              1.0,    2.5,     5.0,    10.0};
const size_t qcn_metrics_latency_buckets_len =
    sizeof qcn_metrics_latency_buckets / sizeof qcn_metrics_latency_buckets[0];

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void atomic_add_double(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, dbits(bitsd(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

int qcn_metrics_new(struct qcn_metrics **out)
{
    struct qcn_metrics *m;

    *out = NULL;
    m = calloc(1, sizeof *m);
    if (m == NULL)
        return QCN_ERR_NOMEM;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return QCN_ERR_NOMEM;
    }
    *out = m;
    return QCN_OK;
}

static void series_free(struct qcn_metric *s)
{
    if (s == NULL)
        return;
    free(s->labels);
    free(s->buckets);
    free(s);
}

void qcn_metrics_free(struct qcn_metrics *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nfams; i++) {
        struct family *f = m->fams[i];
        for (size_t j = 0; j < f->nseries; j++)
            series_free(f->series[j]);
        free(f->series);
        free(f->help);
        free(f);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int name_ok(const char *s, int allow_colon)
{
    size_t n = 0;
    if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || (allow_colon && c == ':');
        if (!ok || n >= QCN_METRICS_MAX_NAME)
            return 0;
    }
    return 1;
}

/* Renders labels as `a="x",b="y"` with the exposition format's escapes. */
static int labels_render(char **out, const char *const *labels)
{
    struct qcn_buf b;
    int err = QCN_OK;
    size_t npairs = 0;

    *out = NULL;
    qcn_buf_init(
        &b, QCN_METRICS_MAX_LABELS * (QCN_METRICS_MAX_NAME + 2 * QCN_METRICS_MAX_VALUE + 8) + 1);
    for (size_t i = 0; labels != NULL && labels[i] != NULL; i += 2) {
        const char *k = labels[i], *v = labels[i + 1];
        if (++npairs > QCN_METRICS_MAX_LABELS || v == NULL || !name_ok(k, 0) ||
            strncmp(k, "__", 2) == 0 || strcmp(k, "le") == 0 || strlen(v) > QCN_METRICS_MAX_VALUE) {
            err = QCN_ERR_INVALID_ARG;
            goto out;
        }
        if (i > 0 && (err = qcn_buf_append_u8(&b, ',')) != QCN_OK)
            goto out;
        if ((err = qcn_buf_append(&b, k, strlen(k))) != QCN_OK ||
            (err = qcn_buf_append(&b, "=\"", 2)) != QCN_OK)
            goto out;
        for (const char *p = v; *p != '\0'; p++) {
            if (*p == '\\' || *p == '"')
                err = qcn_buf_append(&b, (const char[]){'\\', *p}, 2);
            else if (*p == '\n')
                err = qcn_buf_append(&b, "\\n", 2);
            else
                err = qcn_buf_append_u8(&b, (uint8_t)*p);
            if (err != QCN_OK)
                goto out;
        }
        if ((err = qcn_buf_append_u8(&b, '"')) != QCN_OK)
            goto out;
    }
    if ((err = qcn_buf_append_u8(&b, '\0')) != QCN_OK)
        goto out;
    *out = strdup((const char *)b.p);
    if (*out == NULL)
        err = QCN_ERR_NOMEM;
out:
    qcn_buf_clear(&b);
    return err;
}

static int family_get(struct qcn_metrics *m, struct family **out, const char *name,
                      const char *help, enum metric_type type, const double *bounds, size_t nbounds)
{
    struct family *f;

    *out = NULL;
    for (size_t i = 0; i < m->nfams; i++) {
        f = m->fams[i];
        if (strcmp(f->name, name) != 0)
            continue;
        if (f->type != type || f->nbounds != nbounds ||
            (nbounds > 0 && memcmp(f->bounds, bounds, nbounds * sizeof *bounds) != 0))
            return QCN_ERR_EXISTS;
        *out = f;
        return QCN_OK;
    }
    if (m->nfams >= QCN_METRICS_MAX_FAMILIES)
        return QCN_ERR_TOO_LARGE;
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return QCN_ERR_NOMEM;
    memcpy(f->name, name, strlen(name) + 1);
    f->help = strdup(help != NULL ? help : "");
    if (f->help == NULL) {
        free(f);
        return QCN_ERR_NOMEM;
    }
    f->type = type;
    f->nbounds = nbounds;
    if (nbounds > 0)
        memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
    m->fams[m->nfams++] = f;
    *out = f;
    return QCN_OK;
}

static int do_register(struct qcn_metrics *m, struct qcn_metric **out, const char *name,
                       const char *help, const char *const *labels, enum metric_type type,
                       const double *bounds, size_t nbounds)
{
    struct family *f;
    struct qcn_metric *s = NULL;
    char *lab = NULL;
    int err;

    *out = NULL;
    if (m == NULL || !name_ok(name, 1))
        return QCN_ERR_INVALID_ARG;
    if (type == TYPE_HISTOGRAM) {
        if (nbounds == 0 || nbounds > QCN_METRICS_MAX_BUCKETS || bounds == NULL)
            return QCN_ERR_INVALID_ARG;
        for (size_t i = 0; i < nbounds; i++)
            if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
                return QCN_ERR_INVALID_ARG;
    }
    if ((err = labels_render(&lab, labels)) != QCN_OK)
        return err;

    pthread_mutex_lock(&m->lock);
    if ((err = family_get(m, &f, name, help, type, bounds, nbounds)) != QCN_OK)
        goto out;
    for (size_t i = 0; i < f->nseries; i++) {
        if (strcmp(f->series[i]->labels, lab) == 0) {
            *out = f->series[i];
            goto out;
        }
    }
    if (f->nseries >= QCN_METRICS_MAX_SERIES) {
        err = QCN_ERR_TOO_LARGE;
        goto out;
    }
    if (f->nseries == f->capseries) {
        size_t ncap = f->capseries == 0 ? 8 : f->capseries * 2;
        struct qcn_metric **ns = realloc(f->series, ncap * sizeof *ns);
        if (ns == NULL) {
            err = QCN_ERR_NOMEM;
            goto out;
        }
        f->series = ns;
        f->capseries = ncap;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    s->type = type;
    s->fam = f;
    s->labels = lab;
    lab = NULL;
    atomic_init(&s->value, dbits(0.0));
    if (type == TYPE_HISTOGRAM) {
        s->buckets = calloc(nbounds + 1, sizeof *s->buckets);
        if (s->buckets == NULL) {
            series_free(s);
            err = QCN_ERR_NOMEM;
            goto out;
        }
        for (size_t i = 0; i <= nbounds; i++)
            atomic_init(&s->buckets[i], 0);
    }
    f->series[f->nseries++] = s;
    *out = s;
out:
    pthread_mutex_unlock(&m->lock);
    free(lab);
    return err;
}

int qcn_metrics_counter_register(struct qcn_metrics *m, struct qcn_metric **out, const char *name,
                                 const char *help, const char *const *labels)
{
    return do_register(m, out, name, help, labels, TYPE_COUNTER, NULL, 0);
}

int qcn_metrics_gauge_register(struct qcn_metrics *m, struct qcn_metric **out, const char *name,
                               const char *help, const char *const *labels)
{
    return do_register(m, out, name, help, labels, TYPE_GAUGE, NULL, 0);
}

int qcn_metrics_histogram_register(struct qcn_metrics *m, struct qcn_metric **out, const char *name,
                                   const char *help, const char *const *labels,
                                   const double *bounds, size_t nbounds)
{
    return do_register(m, out, name, help, labels, TYPE_HISTOGRAM, bounds, nbounds);
}

void qcn_metrics_counter_add(struct qcn_metric *c, double v)
{
    if (c == NULL)
        return;
    assert(c->type == TYPE_COUNTER);
    if (!(v > 0.0)) /* also rejects NaN */
        return;
    atomic_add_double(&c->value, v);
}

void qcn_metrics_counter_inc(struct qcn_metric *c)
{
    qcn_metrics_counter_add(c, 1.0);
}

void qcn_metrics_gauge_set(struct qcn_metric *g, double v)
{
    if (g == NULL)
        return;
    assert(g->type == TYPE_GAUGE);
    atomic_store_explicit(&g->value, dbits(v), memory_order_relaxed);
}

void qcn_metrics_gauge_add(struct qcn_metric *g, double v)
{
    if (g == NULL)
        return;
    assert(g->type == TYPE_GAUGE);
    atomic_add_double(&g->value, v);
}

void qcn_metrics_histogram_observe(struct qcn_metric *h, double v)
{
    size_t i;

    if (h == NULL)
        return;
    assert(h->type == TYPE_HISTOGRAM);
    if (isnan(v))
        return;
    /* Bucket i counts bounds[i-1] < v <= bounds[i]; rendering accumulates. */
    for (i = 0; i < h->fam->nbounds && v > h->fam->bounds[i]; i++)
        ;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_add_double(&h->value, v);
}

double qcn_metrics_value(const struct qcn_metric *s)
{
    uint64_t n = 0;
    if (s == NULL)
        return 0.0;
    if (s->type != TYPE_HISTOGRAM)
        return bitsd(atomic_load_explicit(&((struct qcn_metric *)s)->value, memory_order_relaxed));
    for (size_t i = 0; i <= s->fam->nbounds; i++)
        n += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
    return (double)n;
}

static int appendf(struct qcn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int appendf(struct qcn_buf *b, const char *fmt, ...)
{
    char tmp[4096]; /* longer than any rendered series line (names and labels are capped) */
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return QCN_ERR_INTERNAL;
    if ((size_t)n >= sizeof tmp)
        return QCN_ERR_TOO_LARGE;
    return qcn_buf_append(b, tmp, (size_t)n);
}

static void fmt_double(char *out, size_t cap, double v)
{
    if (isnan(v))
        snprintf(out, cap, "NaN");
    else if (isinf(v))
        snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
    else
        snprintf(out, cap, "%.17g", v);
}

/* HELP text escapes backslash and newline only (the format's rule). */
static int append_help(struct qcn_buf *b, const char *help)
{
    int err = QCN_OK;
    for (const char *p = help; *p != '\0' && err == QCN_OK; p++) {
        if (*p == '\\')
            err = qcn_buf_append(b, "\\\\", 2);
        else if (*p == '\n')
            err = qcn_buf_append(b, "\\n", 2);
        else
            err = qcn_buf_append_u8(b, (uint8_t)*p);
    }
    return err;
}

static int render_series(struct qcn_buf *b, const struct family *f, const struct qcn_metric *s)
{
    char num[64], le[64];
    const char *sep = s->labels[0] != '\0' ? "," : "";
    uint64_t cum = 0;
    int err;

    fmt_double(num, sizeof num,
               bitsd(atomic_load_explicit(&((struct qcn_metric *)s)->value, memory_order_relaxed)));
    if (f->type != TYPE_HISTOGRAM) {
        if (s->labels[0] != '\0')
            return appendf(b, "%s{%s} %s\n", f->name, s->labels, num);
        return appendf(b, "%s %s\n", f->name, num);
    }
    for (size_t i = 0; i <= f->nbounds; i++) {
        cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        if (i < f->nbounds)
            fmt_double(le, sizeof le, f->bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        err = appendf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", f->name, s->labels, sep, le,
                      (unsigned long long)cum);
        if (err != QCN_OK)
            return err;
    }
    if (s->labels[0] != '\0')
        err = appendf(b, "%s_sum{%s} %s\n%s_count{%s} %llu\n", f->name, s->labels, num, f->name,
                      s->labels, (unsigned long long)cum);
    else
        err = appendf(b, "%s_sum %s\n%s_count %llu\n", f->name, num, f->name,
                      (unsigned long long)cum);
    return err;
}

int qcn_metrics_render(struct qcn_metrics *m, struct qcn_buf *out)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    int err = QCN_OK;

    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nfams && err == QCN_OK; i++) {
        const struct family *f = m->fams[i];
        if ((err = appendf(out, "# HELP %s ", f->name)) != QCN_OK ||
            (err = append_help(out, f->help)) != QCN_OK ||
            (err = appendf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type])) != QCN_OK)
            break;
        for (size_t j = 0; j < f->nseries && err == QCN_OK; j++)
            err = render_series(out, f, f->series[j]);
    }
    pthread_mutex_unlock(&m->lock);
    return err;
}
