/*
 * lookup.c - does a value match a named list, and by which entry
 * (replycode-milter --lookup LIST VALUE, like postmap -q).
 *
 * The value is read the way the rules read what the MTA gives: an IP
 * address for an address list, a name for a domain list, an envelope
 * address in its normal form for an e-mail list, text for a regex list.
 * The list's entries (inline, then its file) are tried one by one, each in
 * a matcher of its own, so that the first that matches can be named with
 * where it is written. Never logs, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"

/* Does entry e of a list of type t match the value? 1, 0, or -1 (err). */
static int entry_matches(enum list_type t, bool cs, const char *e,
			 const struct config_lookup *q,
			 const unsigned char ip[16], const struct envaddr *ea,
			 char *err, size_t errlen)
{
	int m = -1;

	switch (t) {
	case LT_ADDRESS: {
		struct addr_set *s = addr_set_new();
		if (s != NULL && addr_set_add(s, e, err, errlen) == 0)
			m = addr_set_match(s, ip);
		addr_set_free(&s);
		break;
	}
	case LT_DOMAIN: {
		struct domain_set *s = domain_set_new();
		if (s != NULL && domain_set_add_entry(s, e, err, errlen) == 0)
			m = domain_set_match(s, q->value);
		domain_set_free(&s);
		break;
	}
	case LT_EMAIL: {
		struct email_set *s = email_set_new(cs);
		if (s != NULL && email_set_add(s, e, err, errlen) == 0)
			m = email_set_match(s, ea);
		email_set_free(&s);
		break;
	}
	default: {
		struct regex_list *s = regex_list_new();
		if (s != NULL &&
		    regex_list_add(s, e, cs ? 0 : REGEX_CASELESS, err,
				   errlen) == 0)
			m = regex_list_match(s, q->value, strlen(q->value));
		regex_list_free(&s);
		break;
	}
	}
	if (m < 0 && err[0] == '\0')
		snprintf(err, errlen, "out of memory or a regex limit");
	return m < 0 ? -1 : m != 0;
}

/* Note the entry that matched: its text, and where it is written. */
static void found(struct config_lookup *q, const char *text, const char *file,
		  int line)
{
	q->matched = true;
	snprintf(q->entry, sizeof(q->entry), "%s", text);
	snprintf(q->where, sizeof(q->where), "%s:%d", file, line);
}

int lookup_run(struct loader *L, cfg_t *cfg, struct config_lookup *q)
{
	struct nlist *nl = NULL;
	unsigned char ip[16];
	struct envaddr ea;
	cfg_t *ls;
	int sec;

	q->matched = false;
	q->bad_value = false;
	q->error[0] = '\0';
	for (size_t i = 0; i < L->nlists; i++)
		if (strcmp(L->lists[i].name, q->list) == 0)
			nl = &L->lists[i];
	if (nl == NULL) {
		snprintf(q->error, sizeof(q->error), "no list \"%s\" in %s",
			 q->list, L->path);
		return -1;
	}
	snprintf(q->type, sizeof(q->type), "%s", list_type_names[nl->type]);
	q->bad_value = true;
	if (nl->type == LT_ADDRESS && addr_parse(q->value, ip) != 0) {
		snprintf(q->error, sizeof(q->error),
			 "\"%s\" is not an IP address, which an address list "
			 "holds",
			 q->value);
		return -1;
	}
	if (nl->type == LT_EMAIL &&
	    envaddr_parse(q->value, strlen(q->value), &ea, q->error,
			  sizeof(q->error)) != 0)
		return -1;
	q->bad_value = false;
	ls = cfg_gettsec(cfg, "list", nl->name);
	sec = scan_sec_find(&L->sc, "list", nl->name);
	for (unsigned k = 0; k < cfg_size(ls, "entries"); k++) {
		const char *e = cfg_getnstr(ls, "entries", k);
		int m = entry_matches(nl->type, nl->case_sensitive, e, q, ip,
				      &ea, q->error, sizeof(q->error));
		if (m < 0)
			return -1;
		if (m > 0) {
			found(q, e, L->path,
			      val_line(&L->sc, sec, "entries", k, nl->line));
			return 0;
		}
	}
	if (nl->file != NULL) {
		struct listfile *lf =
		    listfile_load(nl->file, q->error, sizeof(q->error));
		if (lf == NULL)
			return -1;
		for (size_t k = 0; k < lf->n; k++) {
			const struct listfile_entry *e = &lf->entries[k];
			int m = entry_matches(nl->type, nl->case_sensitive,
					      e->text, q, ip, &ea, q->error,
					      sizeof(q->error));
			if (m != 0) {
				if (m > 0)
					found(q, e->text, nl->file, e->line);
				listfile_free(&lf);
				return m < 0 ? -1 : 0;
			}
		}
		listfile_free(&lf);
	}
	return 0;
}
