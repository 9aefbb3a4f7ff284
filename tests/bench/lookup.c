/*
 * lookup.c - make bench's cost of one list lookup: the three lists of
 * part 3 (addresses, domains, e-mail addresses; their first N lines) in
 * the milter's own sets, then lookups of KEYS distinct values that none
 * of them holds (the usual case: most mail is not listed), round robin,
 * ITERS of each kind. Prints one line a kind: "KIND N NS" (nanoseconds a
 * lookup). The keys are ready before the clock starts (parsed, as the
 * milter has them when it looks up): the time is the lookup's alone.
 *
 * Usage: lookup DIR N [KEYS [ITERS]]   (DIR holds addrs.txt, doms.txt,
 * emails.txt as tests/bench/scale.sh writes them)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/match.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Add the first n lines of DIR/name to a set through add(); exit 1 on a
 * line the set refuses. */
static void fill(const char *dir, const char *name, long n,
		 int (*add)(void *set, const char *line, char *err,
			    size_t errlen),
		 void *set)
{
	char path[4096], line[512], err[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		exit(1);
	}
	for (long i = 0; i < n && fgets(line, sizeof(line), f) != NULL; i++) {
		line[strcspn(line, "\n")] = '\0';
		if (add(set, line, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s:%ld: %s\n", path, i + 1, err);
			exit(1);
		}
	}
	fclose(f);
}

static int add_addr(void *s, const char *l, char *e, size_t n)
{
	return addr_set_add(s, l, e, n);
}
static int add_domain(void *s, const char *l, char *e, size_t n)
{
	return domain_set_add_entry(s, l, e, n);
}
static int add_email(void *s, const char *l, char *e, size_t n)
{
	return email_set_add(s, l, e, n);
}

static volatile long sink;

int main(int argc, char **argv)
{
	struct addr_set *as = addr_set_new();
	struct domain_set *ds = domain_set_new();
	struct email_set *es = email_set_new(false);
	long n, iters, hits = 0;
	int nk;
	unsigned char (*ips)[16];
	char (*doms)[64];
	struct envaddr *eas;
	double t0;

	if (argc < 3) {
		fprintf(stderr, "usage: lookup DIR N [KEYS [ITERS]]\n");
		return 2;
	}
	n = atol(argv[2]);
	nk = argc > 3 ? atoi(argv[3]) : 65536;
	iters = argc > 4 ? atol(argv[4]) : 2000000;
	ips = malloc((size_t)nk * sizeof(*ips));
	doms = malloc((size_t)nk * sizeof(*doms));
	eas = malloc((size_t)nk * sizeof(*eas));
	if (as == NULL || ds == NULL || es == NULL || ips == NULL ||
	    doms == NULL || eas == NULL || nk < 1 || iters < 1) {
		fprintf(stderr, "lookup: no memory or bad arguments\n");
		return 1;
	}
	fill(argv[1], "addrs.txt", n, add_addr, as);
	fill(argv[1], "doms.txt", n, add_domain, ds);
	fill(argv[1], "emails.txt", n, add_email, es);
	/* keys no list holds: the lists' IPv4 first octets are 11-126,
	 * their domains end in example.net, .org and .com */
	srand(7);
	for (int k = 0; k < nk; k++) {
		char t[96];
		snprintf(t, sizeof(t), "198.%d.%d.%d", rand() % 256,
			 rand() % 256, rand() % 256);
		addr_parse(t, ips[k]);
		snprintf(doms[k], sizeof(doms[k]), "mx%d.host%d.example.test",
			 rand() % 1000, rand());
		snprintf(t, sizeof(t), "user%d@host%d.example.test", rand(),
			 rand() % 1000);
		if (envaddr_parse(t, strlen(t), &eas[k], NULL, 0) != 0)
			return 1;
	}
	t0 = now();
	for (long i = 0; i < iters; i++)
		hits += addr_set_match(as, ips[i % nk]);
	printf("address %ld %.1f\n", n, (now() - t0) / (double)iters * 1e9);
	t0 = now();
	for (long i = 0; i < iters; i++)
		hits += domain_set_match(ds, doms[i % nk]);
	printf("domain %ld %.1f\n", n, (now() - t0) / (double)iters * 1e9);
	t0 = now();
	for (long i = 0; i < iters; i++)
		hits += email_set_match(es, &eas[i % nk]);
	printf("email %ld %.1f\n", n, (now() - t0) / (double)iters * 1e9);
	sink = hits;
	if (hits != 0) {
		fprintf(stderr, "lookup: %ld keys matched: not a miss\n", hits);
		return 1;
	}
	addr_set_free(&as);
	domain_set_free(&ds);
	email_set_free(&es);
	free(ips);
	free(doms);
	free(eas);
	return 0;
}
