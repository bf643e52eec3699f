/* log.h - leveled, structured-enough logging to one process-wide sink.
 *
 * QCN_LOG checks the level before evaluating its arguments, so a disabled
 * debug line costs one comparison. Never pass a secret, a seed or a key file's
 * content to it. Lines a peer can trigger go through QCN_LOG_RATELIMITED. */
#ifndef QCN_UTIL_LOG_H
#define QCN_UTIL_LOG_H

#include <stdint.h>
#include <stdio.h>

enum qcn_log_level {
    QCN_LOG_ERROR = 0,
    QCN_LOG_WARN = 1,
    QCN_LOG_INFO = 2,
    QCN_LOG_DEBUG = 3,
    QCN_LOG_TRACE = 4,
};

/* The current level; process-wide (see log.c). */
extern int qcn_log_level_current;

/* Sets the level and the stream (NULL keeps the current one; the default is
 * stderr at INFO). Call before starting threads. */
void qcn_log_configure(int level, FILE *sink, int json);
/* Parses "error|warn|info|debug|trace"; returns -1 if unknown. */
int qcn_log_level_parse(const char *name);

void qcn_log_write(int level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True at most once per interval_ms per call site's state. Not thread-safe
 * per state; use one state per thread or per peer. */
struct qcn_ratelimit {
    uint64_t window_start_ms;
    uint32_t count;
    uint32_t suppressed;
};
int qcn_ratelimit_allow(struct qcn_ratelimit *rl, uint32_t burst, uint64_t interval_ms);

#define QCN_LOG(level, module, ...)                                                                \
    do {                                                                                           \
        if ((level) <= qcn_log_level_current)                                                      \
            qcn_log_write((level), (module), __VA_ARGS__);                                         \
    } while (0)

#define QCN_LOG_RATELIMITED(rl, level, module, ...)                                                \
    do {                                                                                           \
        if ((level) <= qcn_log_level_current && qcn_ratelimit_allow((rl), 10, 1000))               \
            qcn_log_write((level), (module), __VA_ARGS__);                                         \
    } while (0)

#endif
