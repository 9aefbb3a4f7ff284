/*
 * lists.c - named lists ("list NAME { type, entries, file }"), list files
 * named by "file:PATH" in conditions, and the entries a condition gathers
 * from them, each with the file and line it was written at.
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

void entries_free(struct entries *es)
{
	free(es->e);
	free(es->from);
	memset(es, 0, sizeof(*es));
}

int entries_add(struct entries *es, const char *text, const char *file,
		       int line, bool cs, struct nlist *from)
{
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 16;
		struct entry *e = realloc(es->e, cap * sizeof(*e));
		struct nlist **f;
		if (e == NULL)
			return -1;
		es->e = e;
		f = realloc(es->from, cap * sizeof(*f));
		if (f == NULL)
			return -1;
		es->from = f;
		es->cap = cap;
	}
	es->e[es->n].text = text;
	es->e[es->n].file = file;
	es->e[es->n].line = line;
	es->e[es->n].case_sensitive = cs;
	es->from[es->n] = from;
	es->n++;
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

/* Load a list file once; NULL with err on failure. */
struct loaded_file *file_load(struct loader *L, const char *path,
				     char *err, size_t errlen)
{
	char full[PATH_MAX + 64];
	struct loaded_file *f;
	struct listfile *lf;

	resolve(L, path, full, sizeof(full));
	for (size_t i = 0; i < L->nfiles; i++)
		if (strcmp(L->files[i].path, full) == 0)
			return &L->files[i];
	if ((lf = listfile_load(full, err, errlen)) == NULL)
		return NULL;
	f = realloc(L->files, (L->nfiles + 1) * sizeof(*f));
	if (f == NULL || (f[L->nfiles].path = strdup(full)) == NULL) {
		if (f != NULL)
			L->files = f;
		listfile_free(&lf);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	L->files = f;
	f[L->nfiles].lf = lf;
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
			nl->lf = listfile_load(full, err, sizeof(err));
			if (nl->lf == NULL) {
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
		nl->bad = false;
	}
	return errors;
}

/* The entries of a named list, in order: inline ones, then its file. */
int nlist_entries(struct loader *L, struct nlist *nl, cfg_t *cfg,
			 struct entries *out)
{
	cfg_t *ls = cfg_gettsec(cfg, "list", nl->name);
	int sec = scan_sec_find(&L->sc, "list", nl->name);
	unsigned ne = cfg_size(ls, "entries");

	for (unsigned k = 0; k < ne; k++)
		if (entries_add(out, cfg_getnstr(ls, "entries", k), NULL,
				val_line(&L->sc, sec, "entries", k, nl->line),
				nl->case_sensitive, nl) != 0)
			return -1;
	for (size_t k = 0; nl->lf != NULL && k < nl->lf->n; k++)
		if (entries_add(out, nl->lf->entries[k].text, nl->file,
				nl->lf->entries[k].line, nl->case_sensitive,
				nl) != 0)
			return -1;
	return 0;
}

void lists_free(struct loader *L)
{
	for (size_t i = 0; i < L->nlists; i++) {
		free(L->lists[i].file);
		listfile_free(&L->lists[i].lf);
	}
	free(L->lists);
	for (size_t i = 0; i < L->nfiles; i++) {
		free(L->files[i].path);
		listfile_free(&L->files[i].lf);
	}
	free(L->files);
}
