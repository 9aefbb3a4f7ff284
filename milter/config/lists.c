/*
 * lists.c - named lists ("list NAME { type, entries, file }"), list files
 * named by "file:PATH" in conditions, and the entries a condition gathers
 * from them, each with the file and line it was written at. A list file
 * is read twice: once when its list or "file:" is met (errors of the file
 * itself, and its size), once into each matcher built from it; it is
 * never kept, so loading costs the matchers and one file at a time. A
 * named list that a condition reads alone is built once a load and
 * shared by every such condition (conds.c, struct nlist.built).
 *
 * Uses diag.c, parse.c and lib/listfile.c; never logs, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"

const char *const list_type_names[LT_COUNT] = {"address", "domain",
						      "email", "regex"};

cfg_opt_t list_opts[] = {
    CFG_STR("type", NULL, CFGF_NODEFAULT),
    CFG_STR_LIST("entries", NULL, CFGF_NODEFAULT),
    CFG_STR("file", NULL, CFGF_NODEFAULT),
    CFG_BOOL("case_sensitive", cfg_false, CFGF_NONE), CFG_END()};

void sources_free(struct sources *ss)
{
	free(ss->v);
	memset(ss, 0, sizeof(*ss));
}

int sources_add(struct sources *ss, const struct source *src)
{
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 8;
		struct source *v = realloc(ss->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		ss->v = v;
		ss->cap = cap;
	}
	ss->v[ss->n++] = *src;
	return 0;
}

size_t source_count(const struct source *src)
{
	if (src->from != NULL)
		return src->from->n;
	if (src->file != NULL)
		return src->file->n;
	return 1;
}

static int count_entry(void *ctx, const char *entry, int line)
{
	(void)ctx;
	(void)entry;
	(void)line;
	return 0;
}

/* Check a list file and count its entries: 0, or -1 with err filled. */
static int file_count(const char *path, size_t *n, char *err, size_t errlen)
{
	int rc = listfile_scan(path, count_entry, NULL, err, errlen);

	if (rc < 0)
		return -1;
	*n = (size_t)rc;
	return 0;
}

/* Hand the entries of one file to fn. */
struct each_file {
	const char *path;
	bool cs;
	struct nlist *from;
	entry_fn fn;
	void *ctx;
};

static int each_file_entry(void *arg, const char *text, int line)
{
	struct each_file *ef = arg;
	struct entry e = {text, ef->path, line, ef->cs};

	return ef->fn(ef->ctx, &e, ef->from);
}

static int file_each(const char *path, bool cs, struct nlist *from,
		     entry_fn fn, void *ctx, char *err, size_t errlen)
{
	struct each_file ef = {path, cs, from, fn, ctx};

	if (listfile_scan(path, each_file_entry, &ef, err, errlen) >= 0)
		return 0;
	return errlen > 0 && err[0] != '\0' ? -2 : -1;
}

int sources_each(const struct loader *L, cfg_t *cfg, const struct sources *ss,
		 entry_fn fn, void *ctx, char *err, size_t errlen)
{
	for (size_t i = 0; i < ss->n; i++) {
		const struct source *src = &ss->v[i];
		struct nlist *nl = src->from;
		int rc = 0;

		if (nl != NULL) {
			cfg_t *ls = cfg_gettsec(cfg, "list", nl->name);
			int sec = scan_sec_find(&L->sc, "list", nl->name);
			unsigned ne = cfg_size(ls, "entries");
			for (unsigned k = 0; k < ne && rc == 0; k++) {
				struct entry e = {
				    cfg_getnstr(ls, "entries", k), NULL,
				    val_line(&L->sc, sec, "entries", k,
					     nl->line),
				    nl->case_sensitive};
				rc = fn(ctx, &e, nl);
			}
			if (rc == 0 && nl->file != NULL)
				rc = file_each(nl->file, nl->case_sensitive, nl,
					       fn, ctx, err, errlen);
		} else if (src->file != NULL) {
			rc = file_each(src->file->path, false, NULL, fn, ctx,
				       err, errlen);
		} else {
			struct entry e = {src->text, NULL, src->line, false};
			rc = fn(ctx, &e, NULL);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Resolve path against the config file's directory into buf. */
static const char *resolve(struct loader *L, const char *path, char *buf,
			   size_t buflen)
{
	if (path[0] == '/' || L->dir[0] == '\0')
		snprintf(buf, buflen, "%s", path);
	else
		snprintf(buf, buflen, "%s/%s", L->dir, path);
	return buf;
}

/* Check a list file once and count its entries; NULL with err on
 * failure. */
struct loaded_file *file_load(struct loader *L, const char *path,
				     char *err, size_t errlen)
{
	char full[PATH_MAX + 64];
	struct loaded_file *f;
	size_t n;

	resolve(L, path, full, sizeof(full));
	for (size_t i = 0; i < L->nfiles; i++)
		if (strcmp(L->files[i].path, full) == 0)
			return &L->files[i];
	if (file_count(full, &n, err, errlen) < 0)
		return NULL;
	f = realloc(L->files, (L->nfiles + 1) * sizeof(*f));
	if (f == NULL || (f[L->nfiles].path = strdup(full)) == NULL) {
		if (f != NULL)
			L->files = f;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	L->files = f;
	f[L->nfiles].n = n;
	return &f[L->nfiles++];
}

struct nlist *nlist_find(struct loader *L, const char *name)
{
	for (size_t i = 0; i < L->nlists; i++)
		if (strcmp(L->lists[i].name, name) == 0)
			return &L->lists[i];
	return NULL;
}

/* Read the named lists. Returns the number of errors. */
int lists_load(struct loader *L, cfg_t *cfg)
{
	unsigned n = cfg_size(cfg, "list");
	int errors = 0;

	L->lists = calloc(n ? n : 1, sizeof(*L->lists));
	if (L->lists == NULL)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		cfg_t *ls = cfg_getnsec(cfg, "list", i);
		struct nlist *nl = &L->lists[L->nlists++];
		const char *type = cfg_getstr(ls, "type");
		const char *file = cfg_getstr(ls, "file");
		int sec = scan_sec_find(&L->sc, "list", cfg_title(ls));
		int line = scan_sec_line(&L->sc, sec);
		unsigned ne = cfg_size(ls, "entries");
		char err[400];

		nl->name = cfg_title(ls);
		nl->line = line;
		nl->file_line = opt_line(&L->sc, sec, "file", line);
		nl->case_sensitive = cfg_getbool(ls, "case_sensitive");
		nl->bad = true; /* until it loads */
		if (!name_ok(nl->name)) {
			report_in(L, true, line, "list", nl->name,
				  "a list name is 1 to %d letters, digits, "
				  "'.', '_' or '-'",
				  NAME_MAX_LEN);
			errors++;
			continue;
		}
		if (type == NULL) {
			report_in(L, true, line, "list", nl->name,
				  "type is missing (address, domain, email "
				  "or regex)");
			errors++;
			continue;
		}
		for (nl->type = 0; nl->type < LT_COUNT; nl->type++)
			if (strcmp(type, list_type_names[nl->type]) == 0)
				break;
		if (nl->type == LT_COUNT) {
			report_in(L, true, opt_line(&L->sc, sec, "type", line),
				  "list", nl->name,
				  "type \"%s\" is not one of address, domain, "
				  "email, regex",
				  type);
			errors++;
			continue;
		}
		if (ne == 0 && file == NULL) {
			report_in(L, true, line, "list", nl->name,
				  "the list has neither entries nor file");
			errors++;
			continue;
		}
		if (file != NULL) {
			char full[PATH_MAX + 64];
			resolve(L, file, full, sizeof(full));
			if ((nl->file = strdup(full)) == NULL)
				return -1;
			if (file_count(full, &nl->nfile, err, sizeof(err)) <
			    0) {
				report_in(L, true,
					  opt_line(&L->sc, sec, "file", line),
					  "list", nl->name, "%s", err);
				errors++;
				continue;
			}
		}
		if (nl->case_sensitive &&
		    (nl->type == LT_ADDRESS || nl->type == LT_DOMAIN))
			report_in(L, false,
				  opt_line(&L->sc, sec, "case_sensitive", line),
				  "list", nl->name,
				  "case_sensitive has no effect on %s %s list",
				  a_an(list_type_names[nl->type]),
				  list_type_names[nl->type]);
		nl->n = ne + nl->nfile;
		nl->bad = false;
	}
	return errors;
}

void lists_free(struct loader *L)
{
	for (size_t i = 0; i < L->nlists; i++) {
		free(L->lists[i].file);
	}
	free(L->lists);
	for (size_t i = 0; i < L->nfiles; i++) {
		free(L->files[i].path);
	}
	free(L->files);
}
