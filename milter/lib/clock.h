/*
 * clock.h - the one clock the milter reads for state that outlives a
 * session (rate limits, greylisting), and durations as a config writes
 * them ("90s", "5m", "4h", "35d").
 *
 * Wall-clock time in milliseconds since the epoch, because stored times
 * are shared by several milters and outlive a restart. Unit tests replace
 * the clock with clock_use(); the milter never does. Knows nothing of
 * mail policy; never logs.
 */
#ifndef RCM_CLOCK_H
#define RCM_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Now, in milliseconds since the epoch. */
uint64_t clock_now_ms(void);

/* Read the time from fn from now on (tests); NULL: the system's again. */
void clock_use(uint64_t (*fn)(void));

/*
 * A duration: digits with a unit, ms, s, m, h or d ("30s", "5m"), or
 * digits alone for seconds; several may follow one another ("1h30m").
 * Returns 0 and *ms, or -1 (empty, no digits, an unknown unit, over a
 * year).
 */
int duration_parse(const char *s, uint64_t *ms);

/*
 * A duration for people, in whole seconds rounded up: "45s", "4m30s",
 * "2h", "1d3h". Into buf (at least DURATION_SHOW_MAX octets); returns buf.
 */
#define DURATION_SHOW_MAX 32
const char *duration_show(uint64_t ms, char *buf, size_t buflen);

#endif
