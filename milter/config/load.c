/*
 * load.c - config_load(): read the config file, check every option, and
 * compile it into an immutable struct policy (see config.h).
 *
 * The file is read twice. First by our own scanner (scan.c), which finds
 * the line of every section, option and list value, refuses ${...} and
 * include(), and blanks out comments. Then by libconfuse, on the blanked
 * text: libconfuse 3.3 miscounts lines after a comment and fails on a
 * comment inside a list, so it never sees one. Never logs and never
 * exits: every finding becomes a diagnostic with file and line. A policy
 * leaves this file only when there was no error; on any error all that
 * was built is freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/loader.h"
#include "core/stats.h"

#define CONFIG_FILE_MAX (64u << 20) /* bytes of config file we read */

/* libconfuse has no user pointer for its error callback. */
static __thread struct loader *cfg_loader;

__attribute__((format(printf, 2, 0))) static void
cfg_errfn(cfg_t *cfg, const char *fmt, va_list ap)
{
	struct loader *L = cfg_loader;
	char msg[400];
	const char *title = NULL;

	if (L == NULL)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cfg != NULL && cfg->name != NULL && cfg->title != NULL &&
	    (strcmp(cfg->name, "rule") == 0 || strcmp(cfg->name, "list") == 0))
		title = cfg->title;
	report_in(L, true, cfg != NULL ? cfg->line : 0,
		  title != NULL ? cfg->name : NULL, title, "%s", msg);
}

/* Read the file, check what our scanner checks, blank the comments. */
static char *read_config(struct loader *L, int *errors)
{
	FILE *f = fopen(L->path, "r");
	struct stat st;
	char *buf;
	size_t n;

	*errors = 0;
	if (f == NULL) {
		error_at(L, 0, NULL, "cannot open: %s", strerror(errno));
		*errors = 1;
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > CONFIG_FILE_MAX) {
		error_at(L, 0, NULL, "not a regular file of at most %u bytes",
			 CONFIG_FILE_MAX);
		fclose(f);
		*errors = 1;
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 2);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, (size_t)st.st_size + 1, f);
	if (ferror(f) || n > (size_t)st.st_size) {
		error_at(L, 0, NULL, "cannot read: %s",
			 ferror(f) ? strerror(errno) : "the file is growing");
		fclose(f);
		free(buf);
		*errors = 1;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	buf[n + 1] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		int line = 1;
		for (const char *c = buf; *c != '\0'; c++)
			line += *c == '\n';
		error_at(L, line, NULL, "NUL byte in the config file");
		*errors = 1;
		free(buf);
		return NULL;
	}
	return buf;
}

static void loader_free(struct loader *L)
{
	lists_free(L);
	for (size_t i = 0; i < L->nnotes; i++)
		free(L->notes[i]);
	free(L->notes);
	scan_free(&L->sc);
}

static void nomem(struct loader *L)
{
	error_at(L, 0, NULL, "out of memory while loading the config");
}

static int load(const char *path, struct policy **out, struct settings *set,
		struct config_values *vals, struct config_lookup *q,
		struct diags *d)
{
	struct loader L = {0};
	struct settings got = {0};
	cfg_t *cfg = NULL;
	char *buf = NULL;
	const char *slash;
	size_t base = d->nerrors;
	int errors = 0, n;
	unsigned nrules;

	*out = NULL;
	if (set != NULL)
		memset(set, 0, sizeof(*set));
	L.path = path;
	L.d = d;
	slash = strrchr(path, '/');
	if (slash != NULL)
		snprintf(L.dir, sizeof(L.dir), "%.*s",
			 (int)(slash == path ? 1 : slash - path), path);

	buf = read_config(&L, &n);
	if (buf == NULL) {
		if (n == 0)
			nomem(&L);
		goto fail;
	}
	n = scan_lex(&L, buf, strlen(buf));
	if (n >= 0 && scan_balance(&L) < 0)
		n = -1;
	if (n >= 0 && scan_structure(&L) < 0)
		n = -1;
	if (n < 0) {
		nomem(&L);
		goto fail;
	}
	/* the scanner's findings (${, include, duplicates) stop the load */
	if (d->nerrors > base)
		goto fail;

	cfg = top_options() != NULL ? cfg_init(top_options(), CFGF_NONE) : NULL;
	if (cfg == NULL) {
		nomem(&L);
		goto fail;
	}
	cfg_set_error_function(cfg, cfg_errfn);
	cfg_loader = &L;
	n = cfg_parse_buf(cfg, buf);
	cfg_loader = NULL;
	if (n != CFG_SUCCESS) {
		if (d->nerrors == base)
			error_at(&L, 0, NULL, "cannot parse the config");
		goto fail;
	}

	if ((L.p = calloc(1, sizeof(*L.p))) == NULL ||
	    (L.p->file = strdup(path)) == NULL) {
		nomem(&L);
		goto fail;
	}
	L.p->refs = 1;
	n = globals_compile(&L, cfg, &got);
	if (n >= 0)
		errors += n;
	if (n >= 0 && (n = failure_compile(&L, cfg)) >= 0)
		errors += n;
	if (n >= 0 && (n = lists_load(&L, cfg)) >= 0)
		errors += n;
	if (n < 0) {
		nomem(&L);
		goto fail;
	}
	nrules = cfg_size(cfg, "rule");
	L.p->rules = calloc(nrules ? nrules : 1, sizeof(*L.p->rules));
	if (L.p->rules == NULL) {
		nomem(&L);
		goto fail;
	}
	for (unsigned i = 0; i < nrules; i++) {
		L.p->nrules++;
		n = rule_compile(&L, cfg, cfg_getnsec(cfg, "rule", i),
				 &L.p->rules[i]);
		if (n < 0) {
			nomem(&L);
			goto fail;
		}
		errors += n;
	}
	for (size_t i = 0; errors == 0 && i < L.nlists; i++)
		if (!L.lists[i].used && !L.lists[i].bad)
			report_in(&L, false, L.lists[i].line, "list",
				  L.lists[i].name,
				  "the list is not used by any rule");
	if (errors == 0 && d->nerrors == base && policy_link(&L) != 0) {
		nomem(&L);
		goto fail;
	}
	if (d->nerrors > base)
		goto fail;
	if (stats_bind(L.p) != 0) {
		nomem(&L);
		goto fail;
	}
	if (q != NULL) /* a failure is said in q->error */
		(void)lookup_run(&L, cfg, q);
	if (vals != NULL && values_collect(&L, cfg, vals) != 0) {
		config_values_free(vals);
		nomem(&L);
		goto fail;
	}
	L.p->nwarnings = L.nwarnings;
	*out = L.p;
	L.p = NULL;
	if (set != NULL)
		*set = got;
	else
		settings_free(&got);
	cfg_free(cfg);
	free(buf);
	loader_free(&L);
	return 0;
fail:
	if (d->nerrors == base)
		error_at(&L, 0, NULL, "the config did not load");
	policy_free(&L.p);
	settings_free(&got);
	if (cfg != NULL)
		cfg_free(cfg);
	free(buf);
	loader_free(&L);
	return -1;
}

int config_load(const char *path, struct policy **out, struct settings *set,
		struct diags *d)
{
	return load(path, out, set, NULL, NULL, d);
}

int config_load_values(const char *path, struct policy **out,
		       struct config_values *vals, struct diags *d)
{
	return load(path, out, NULL, vals, NULL, d);
}

int config_lookup(const char *path, struct config_lookup *q,
		  struct diags *d)
{
	struct policy *p = NULL;
	int rc = load(path, &p, NULL, NULL, q, d);

	policy_free(&p);
	if (rc != 0)
		return -1;
	return q->error[0] != '\0' ? -2 : 0;
}
