/*
 * clock.c - the clock of stored state, and durations (clock.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"

static uint64_t (*clock_fn)(void);

static uint64_t system_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t clock_now_ms(void)
{
	uint64_t (*fn)(void) = __atomic_load_n(&clock_fn, __ATOMIC_ACQUIRE);

	return fn != NULL ? fn() : system_ms();
}

void clock_use(uint64_t (*fn)(void))
{
	__atomic_store_n(&clock_fn, fn, __ATOMIC_RELEASE);
}

#define YEAR_MS (366ull * 86400 * 1000)

int duration_parse(const char *s, uint64_t *ms)
{
	uint64_t total = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		uint64_t v = 0, unit;
		const char *d = s;
		while (*s >= '0' && *s <= '9') {
			if (v > YEAR_MS)
				return -1;
			v = v * 10 + (uint64_t)(*s++ - '0');
		}
		if (s == d)
			return -1;
		if (strncmp(s, "ms", 2) == 0) {
			unit = 1;
			s += 2;
		} else if (*s == 's' || *s == '\0') {
			unit = 1000;
			s += *s != '\0';
		} else if (*s == 'm') {
			unit = 60 * 1000;
			s++;
		} else if (*s == 'h') {
			unit = 3600 * 1000;
			s++;
		} else if (*s == 'd') {
			unit = 86400 * 1000;
			s++;
		} else {
			return -1;
		}
		if (v > YEAR_MS / unit)
			return -1;
		total += v * unit;
		if (total > YEAR_MS)
			return -1;
	}
	*ms = total;
	return 0;
}

const char *duration_show(uint64_t ms, char *buf, size_t buflen)
{
	static const struct {
		char unit;
		uint64_t secs;
	} u[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	uint64_t left = (ms + 999) / 1000;
	size_t n = 0;

	if (buflen == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]) && n < buflen; i++) {
		uint64_t k = left / u[i].secs;
		int w;
		if (k == 0)
			continue;
		left -= k * u[i].secs;
		w = snprintf(buf + n, buflen - n, "%llu%c",
			     (unsigned long long)k, u[i].unit);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (buf[0] == '\0')
		snprintf(buf, buflen, "0s");
	return buf;
}
