#include "util/time.h"

#include <time.h>

uint64_t qcn_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t qcn_time_mono_ms(void)
{
    return qcn_time_mono_ns() / 1000000u;
}

uint64_t qcn_time_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t qcn_time_unix_s(void)
{
    return qcn_time_unix_ms() / 1000u;
}
