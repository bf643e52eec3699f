/* The process-wide log sink. Together with the RNG (crypto/rng.c) this is one
 * of the few process-wide things (STYLE.md "State, logging, threads"). */
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "util/time.h"

int qcn_log_level_current = QCN_LOG_INFO;
static FILE *log_sink;
static int log_json;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void qcn_log_configure(int level, FILE *sink, int json)
{
    if (level >= QCN_LOG_ERROR && level <= QCN_LOG_TRACE)
        qcn_log_level_current = level;
    if (sink != NULL)
        log_sink = sink;
    log_json = json;
}

int qcn_log_level_parse(const char *name)
{
    int i;
    for (i = 0; i <= QCN_LOG_TRACE; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

static void put_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void qcn_log_write(int level, const char *module, const char *fmt, ...)
{
    char msg[1024];
    char stamp[32];
    va_list ap;
    uint64_t ms = qcn_time_unix_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    FILE *f;

    if (level < QCN_LOG_ERROR || level > QCN_LOG_TRACE)
        level = QCN_LOG_ERROR;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&log_lock);
    f = log_sink != NULL ? log_sink : stderr;
    if (log_json) {
        fprintf(f, "{\"ts\":\"%s.%03uZ\",\"level\":\"%s\",\"module\":", stamp,
                (unsigned)(ms % 1000), level_names[level]);
        put_json_string(f, module);
        fputs(",\"msg\":", f);
        put_json_string(f, msg);
        fputs("}\n", f);
    } else {
        fprintf(f, "%s.%03uZ %-5s %-9s %s\n", stamp, (unsigned)(ms % 1000), level_names[level],
                module, msg);
    }
    fflush(f);
    pthread_mutex_unlock(&log_lock);
}

int qcn_ratelimit_allow(struct qcn_ratelimit *rl, uint32_t burst, uint64_t interval_ms)
{
    uint64_t now = qcn_time_mono_ms();
    if (now - rl->window_start_ms >= interval_ms) {
        rl->window_start_ms = now;
        rl->count = 0;
        rl->suppressed = 0;
    }
    if (rl->count < burst) {
        rl->count++;
        return 1;
    }
    rl->suppressed++;
    return 0;
}
