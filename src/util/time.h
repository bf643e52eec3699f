/* time.h - clocks. Monotonic for durations and timeouts, wall for timestamps. */
#ifndef QCN_UTIL_TIME_H
#define QCN_UTIL_TIME_H

#include <stdint.h>

uint64_t qcn_time_mono_ns(void);
uint64_t qcn_time_mono_ms(void);
/* Seconds since the Unix epoch. */
uint64_t qcn_time_unix_s(void);
uint64_t qcn_time_unix_ms(void);

#endif
