/*
 * settings.c - the top level of the config: libconfuse's option tables
 * for the top level and on_error, the global options: the settings read
 * once at start (socket, user, group, socket_mode, pidfile, timeout; see
 * settings.h) and the policy's own (mode, strict, hold_early_verdicts,
 * body_match_span), and the failure policy (on_error).
 *
 * Uses diag.c, parse.c and text.c, and the option tables of lists.c and
 * rules.c; never logs, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"
#include "core/cond.h"
#include "core/template.h"
#include "lib/dns.h"
#include "lib/clock.h"
#include "lib/store.h"

static cfg_opt_t on_error_opts[] = {CFG_STR("verdict", "tempfail", CFGF_NONE),
				    CFG_STR("reply", NULL, CFGF_NODEFAULT),
				    CFG_STR_LIST("text", NULL, CFGF_NODEFAULT),
				    CFG_END()};

#define DEFAULT_SOCKET "unix:/run/replycode-milter/replycode-milter.sock"
#define DEFAULT_STATE "/var/lib/replycode-milter"

static cfg_opt_t top_opts[] = {
    CFG_STR("socket", DEFAULT_SOCKET, CFGF_NONE),
    CFG_STR("user", "", CFGF_NONE),
    CFG_STR("group", "", CFGF_NONE),
    CFG_STR("socket_mode", "0660", CFGF_NONE),
    CFG_STR("pidfile", "", CFGF_NONE),
    CFG_STR("mode", "enforce", CFGF_NONE),
    CFG_BOOL("strict", cfg_false, CFGF_NONE),
    CFG_BOOL("hold_early_verdicts", cfg_false, CFGF_NONE),
    CFG_INT("timeout", 30, CFGF_NONE),
    CFG_STR("body_match_span", "64K", CFGF_NONE),
    CFG_STR("stats_file", "", CFGF_NONE),
    CFG_INT("stats_interval", 15, CFGF_NONE),
    CFG_STR("dns_resolver", "system", CFGF_NONE),
    CFG_STR("dns_error", "ignore", CFGF_NONE),
    CFG_INT("dns_timeout", 10, CFGF_NONE),
    CFG_STR("state", DEFAULT_STATE, CFGF_NONE),
    CFG_STR("state_timeout", "500ms", CFGF_NONE),
    CFG_STR("state_error", "ignore", CFGF_NONE),
    CFG_SEC("on_error", on_error_opts, CFGF_NONE),
    CFG_SEC("list", list_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
    CFG_SEC("rule", NULL, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
    CFG_END()};

cfg_opt_t *top_options(void)
{
	cfg_opt_t *rule = rule_options();

	if (rule == NULL)
		return NULL;
	/* the same value each time: rule_options() is made once */
	for (cfg_opt_t *o = top_opts; o->name != NULL; o++)
		if (strcmp(o->name, "rule") == 0)
			o->subopts = rule;
	return top_opts;
}

/* A host name or address after '@' of inet:/inet6: */
static bool host_ok(const char *h, bool v6)
{
	if (*h == '\0' || strlen(h) > 255)
		return false;
	if (v6 && *h == '[') /* libmilter takes [addr] too */
		return h[strlen(h) - 1] == ']' && strlen(h) > 2;
	for (; *h != '\0'; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || *h == '-' || *h == '.' ||
		      (v6 && *h == ':')))
			return false;
	return true;
}

/*
 * Check a libmilter socket spec: unix:/path, local:/path, inet:PORT,
 * inet:PORT@HOST, inet6:PORT, inet6:PORT@HOST.
 */
static int socket_check(const char *s, char *err, size_t errlen)
{
	const char *p;

	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
		p = strchr(s, ':') + 1;
		if (*p != '/') {
			snprintf(err, errlen,
				 "socket \"%s\": a unix socket needs an "
				 "absolute path, e.g. \"%s\"",
				 s, DEFAULT_SOCKET);
			return -1;
		}
		if (strlen(p) >= 108) {
			snprintf(err, errlen,
				 "socket \"%s\": the path is longer than a "
				 "unix socket allows (107 bytes)",
				 s);
			return -1;
		}
		return 0;
	}
	if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0) {
		bool v6 = s[4] == '6';
		const char *at;
		long port;
		p = strchr(s, ':') + 1;
		at = strchr(p, '@');
		if (!all_digits(p, at ? (size_t)(at - p) : strlen(p)) ||
		    (port = strtol(p, NULL, 10)) < 1 || port > 65535) {
			snprintf(
			    err, errlen,
			    "socket \"%s\": want a port number 1..65535 "
			    "after \"%s\", e.g. \"%s8890@%s\"",
			    s, v6 ? "inet6:" : "inet:", v6 ? "inet6:" : "inet:",
			    v6 ? "::1" : "127.0.0.1");
			return -1;
		}
		if (at != NULL && !host_ok(at + 1, v6)) {
			snprintf(err, errlen,
				 "socket \"%s\": \"%s\" is not a host name or "
				 "address",
				 s, at + 1);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen,
		 "socket \"%s\": want unix:/path, local:/path, inet:PORT@HOST "
		 "or inet6:PORT@HOST (libmilter syntax; Postfix's "
		 "inet:host:port is not it)",
		 s);
	return -1;
}

/* Read the failure policy. Returns the number of errors, -1 on no memory. */
int failure_compile(struct loader *L, cfg_t *cfg)
{
	struct failure_policy *f = &L->p->failure;
	cfg_t *cs = cfg_getsec(cfg, "on_error");
	struct where w = {0};
	const char *v = cfg_getstr(cs, "verdict");
	const char *reply = cfg_getstr(cs, "reply");
	struct texts text = {0};
	size_t reserve;
	char err[300];
	int errors = 0;

	w.L = L;
	w.cs = cs;
	w.sec = scan_sec_find(&L->sc, "on_error", NULL);
	w.line = w.sec >= 0 ? scan_sec_line(&L->sc, w.sec) : 0;
	w.what = "on_error";
	if (strcmp(v, "tempfail") == 0) {
		f->verdict = VERDICT_TEMPFAIL;
	} else if (strcmp(v, "reject") == 0) {
		f->verdict = VERDICT_REJECT;
	} else if (strcmp(v, "accept") == 0) {
		f->verdict = VERDICT_ACCEPT;
	} else {
		wreport(&w, true, opt_line(&L->sc, w.sec, "verdict", w.line),
			"verdict \"%s\" is not one of tempfail, reject, accept",
			v);
		return 1;
	}
	if (f->verdict == VERDICT_ACCEPT) {
		wreport(&w, false, opt_line(&L->sc, w.sec, "verdict", w.line),
			"verdict accept fails open: mail is accepted "
			"unfiltered when the milter breaks");
		if (reply != NULL || cfg_size(cs, "text") > 0) {
			wreport(&w, true,
				opt_line(&L->sc, w.sec,
					 reply != NULL ? "reply" : "text",
					 w.line),
				"an accept verdict sends no reply: remove "
				"reply and text");
			return 1;
		}
		return 0;
	}
	/* checked as the answer to RCPT, where it is given most often */
	errors = reply_check(&w, reply,
			     f->verdict == VERDICT_TEMPFAIL ? "451 4.3.0"
							    : "550 5.3.0",
			     f->verdict, STAGE_RCPT, &f->code);
	if (errors > 0)
		return errors;
	reserve = reply_prefix_room(f->code.basic, CMD_RCPT, SIZE_MAX);
	errors = text_take(&w, &f->code, reserve, false, &text);
	if (errors == 0) {
		static const char *const dflt_temp[] = {
		    "Temporary internal error, try again later"};
		static const char *const dflt_rej[] = {
		    "Internal error, message refused"};
		const char *lit[REPLY_MAX_LINES];
		const char *const *t = lit;
		size_t ntext = text.n;
		texts_literal(&text, lit);
		if (ntext == 0) {
			t = f->verdict == VERDICT_TEMPFAIL ? dflt_temp
							   : dflt_rej;
			ntext = 1;
		}
		if (reply_render(&f->code, t, ntext, reserve, &f->rendered,
				 err, sizeof(err)) != 0) {
			wreport(&w, true, 0, "reply: %s", err);
			errors++;
		}
	}
	for (size_t i = 0; i < text.n; i++) {
		if (text.text != NULL)
			free(text.text[i]);
		if (text.tmpl != NULL)
			template_free(&text.tmpl[i]);
	}
	free(text.text);
	free(text.tmpl);
	return errors;
}

/* state, state_timeout, state_error. Returns the number of errors. */
static int state_compile(struct loader *L, cfg_t *cfg, struct settings *set)
{
	const char *s = cfg_getstr(cfg, "state");
	char err[400];
	uint64_t ms = 0;
	int errors = 0;

	if (store_spec_check(s, err, sizeof(err)) != 0) {
		error_at(L, opt_line(&L->sc, -1, "state", 0), NULL, "state %s",
			 err);
		errors++;
	} else if ((set->state = strdup(s)) == NULL) {
		return errors + 1;
	}
	s = cfg_getstr(cfg, "state_timeout");
	if (duration_parse(s, &ms) != 0 || ms < 10 || ms > 60000) {
		error_at(L, opt_line(&L->sc, -1, "state_timeout", 0), NULL,
			 "state_timeout \"%s\": want 10ms to 60s (\"500ms\", "
			 "\"2s\")",
			 s);
		errors++;
	}
	set->state_timeout = (unsigned)ms;
	s = cfg_getstr(cfg, "state_error");
	if (strcmp(s, "ignore") == 0) {
		L->p->state_error = STATE_ERROR_IGNORE;
	} else if (strcmp(s, "tempfail") == 0) {
		L->p->state_error = STATE_ERROR_TEMPFAIL;
	} else {
		error_at(L, opt_line(&L->sc, -1, "state_error", 0), NULL,
			 "state_error \"%s\" is not ignore or tempfail", s);
		errors++;
	}
	return errors;
}

/*
 * The DNS list options, which are policy (a reload applies them to new
 * connections): dns_resolver, dns_error, dns_timeout, and the reply
 * dns_error = tempfail sends. Returns the number of errors, -1: no memory.
 */
static int dns_compile(struct loader *L, cfg_t *cfg)
{
	static const char *const text[] = {
	    "Temporary DNS lookup failure, try again later"};
	struct policy_dns *d = &L->p->dns;
	struct reply_code rc;
	const char *s;
	char err[300];
	int errors = 0;
	long t;

	s = cfg_getstr(cfg, "dns_resolver");
	if (dns_upstream_check(s, err, sizeof(err)) != 0) {
		error_at(L, opt_line(&L->sc, -1, "dns_resolver", 0), NULL,
			 "dns_resolver: %s", err);
		errors++;
	}
	if ((d->upstream = strdup(s)) == NULL)
		return -1;
	s = cfg_getstr(cfg, "dns_error");
	if (strcmp(s, "tempfail") == 0) {
		d->tempfail = true;
	} else if (strcmp(s, "ignore") != 0) {
		error_at(L, opt_line(&L->sc, -1, "dns_error", 0), NULL,
			 "dns_error \"%s\" is not ignore or tempfail", s);
		errors++;
	}
	t = cfg_getint(cfg, "dns_timeout");
	if (t < 1 || t > 300) {
		error_at(L, opt_line(&L->sc, -1, "dns_timeout", 0), NULL,
			 "dns_timeout %ld: want 1 to 300 seconds", t);
		errors++;
	}
	d->timeout_ms = t * 1000;
	if (codes_parse_spec("451 4.4.3", &rc, err, sizeof(err)) != 0 ||
	    reply_render(&rc, text, 1,
			 reply_prefix_room(rc.basic, CMD_RCPT, SIZE_MAX),
			 &d->tempfail_reply, err, sizeof(err)) != 0)
		return -1; /* a fixed reply: only memory can fail */
	return errors;
}

/*
 * Read the global options: the settings into set (zeroed by the caller),
 * the rest into the policy. Returns the number of errors, -1: no memory.
 */
int globals_compile(struct loader *L, cfg_t *cfg, struct settings *set)
{
	struct policy *p = L->p;
	const char *s;
	char err[400];
	int errors = 0;
	long t;
	uint64_t span = 0;

	p->strict = cfg_getbool(cfg, "strict");
	L->strict = p->strict;
	p->hold_early = cfg_getbool(cfg, "hold_early_verdicts");
	s = cfg_getstr(cfg, "socket");
	if (socket_check(s, err, sizeof(err)) != 0) {
		error_at(L, opt_line(&L->sc, -1, "socket", 0), NULL, "%s", err);
		errors++;
	}
	if ((set->socket = strdup(s)) == NULL)
		return -1;
	s = cfg_getstr(cfg, "user");
	if (s[0] != '\0' && (set->user = strdup(s)) == NULL)
		return -1;
	s = cfg_getstr(cfg, "group");
	if (s[0] != '\0' && (set->group = strdup(s)) == NULL)
		return -1;
	s = cfg_getstr(cfg, "pidfile");
	if (s[0] != '\0' && s[0] != '/') {
		error_at(L, opt_line(&L->sc, -1, "pidfile", 0), NULL,
			 "pidfile \"%s\": want an absolute path", s);
		errors++;
	}
	if (s[0] != '\0' && (set->pidfile = strdup(s)) == NULL)
		return -1;
	s = cfg_getstr(cfg, "socket_mode");
	set->socket_mode = -1;
	if (s[0] != '\0') {
		size_t n = strlen(s);
		bool ok = n >= 3 && n <= 4 && strspn(s, "01234567") == n;
		long m = ok ? strtol(s, NULL, 8) : -1;
		if (!ok || m > 0777) {
			error_at(
			    L, opt_line(&L->sc, -1, "socket_mode", 0), NULL,
			    "socket_mode \"%s\": want an octal mode such "
			    "as \"0660\", or \"\" to leave it to the umask",
			    s);
			errors++;
		}
		set->socket_mode = (int)m;
	}
	s = cfg_getstr(cfg, "mode");
	if (mode_parse(s, &p->default_mode) != 0) {
		error_at(L, opt_line(&L->sc, -1, "mode", 0), NULL,
			 "mode \"%s\" is not enforce or dry-run", s);
		errors++;
	}
	t = cfg_getint(cfg, "timeout");
	if (t < 1 || t > 3600) {
		error_at(L, opt_line(&L->sc, -1, "timeout", 0), NULL,
			 "timeout %ld: want 1 to 3600 seconds", t);
		errors++;
	}
	set->timeout = (int)t;
	s = cfg_getstr(cfg, "body_match_span");
	if (size_parse(s, &span) != 0 || span < BODY_SPAN_MIN ||
	    span > BODY_SPAN_MAX) {
		error_at(L, opt_line(&L->sc, -1, "body_match_span", 0), NULL,
			 "body_match_span \"%s\": want %dK to %dM octets (a "
			 "number with an optional K or M suffix, e.g. \"64K\")",
			 s, BODY_SPAN_MIN / 1024,
			 BODY_SPAN_MAX / (1024 * 1024));
		errors++;
	}
	p->body_span = (size_t)span;
	s = cfg_getstr(cfg, "stats_file");
	if (s[0] != '\0' && (s[0] != '/' || s[strlen(s) - 1] == '/')) {
		error_at(L, opt_line(&L->sc, -1, "stats_file", 0), NULL,
			 "stats_file \"%s\": want the absolute path of a file, "
			 "e.g. \"/var/lib/prometheus/node-exporter/"
			 "replycode_milter.prom\"",
			 s);
		errors++;
	}
	if (s[0] != '\0' && (set->stats_file = strdup(s)) == NULL)
		return -1;
	t = cfg_getint(cfg, "stats_interval");
	if (t < 1 || t > 3600) {
		error_at(L, opt_line(&L->sc, -1, "stats_interval", 0), NULL,
			 "stats_interval %ld: want 1 to 3600 seconds", t);
		errors++;
	}
	set->stats_interval = (int)t;
	errors += state_compile(L, cfg, set);
	t = dns_compile(L, cfg);
	return t < 0 ? -1 : errors + (int)t;
}

void settings_free(struct settings *s)
{
	free(s->socket);
	free(s->user);
	free(s->group);
	free(s->pidfile);
	free(s->stats_file);
	free(s->state);
	memset(s, 0, sizeof(*s));
}

/* A string setting as the config writes it: NULL is "". */
static void text_value(char *out, const char *v)
{
	size_t n = v != NULL ? strlen(v) : 0;

	if (n > SETTING_VALUE_MAX - 1)
		snprintf(out, SETTING_VALUE_MAX, "%.*s...",
			 SETTING_VALUE_MAX - 4, v);
	else
		snprintf(out, SETTING_VALUE_MAX, "%s", v != NULL ? v : "");
}

/* socket_mode as the config writes it: "0660", or "" (-1: the umask). */
static void mode_value(char *out, int mode)
{
	if (mode < 0)
		out[0] = '\0';
	else
		snprintf(out, SETTING_VALUE_MAX, "%04o", (unsigned)mode);
}

size_t settings_diff(const struct settings *was, const struct settings *now,
		     struct setting_change out[SETTINGS_COUNT])
{
	static const char *const names[SETTINGS_COUNT] = {
	    "socket",  "user",	  "group",	"socket_mode",
	    "pidfile", "timeout", "stats_file", "stats_interval",
	    "state",   "state_timeout"};
	const struct settings *s[2] = {was, now};
	char v[2][SETTINGS_COUNT][SETTING_VALUE_MAX];
	size_t n = 0;

	for (int k = 0; k < 2; k++) {
		text_value(v[k][0], s[k]->socket);
		text_value(v[k][1], s[k]->user);
		text_value(v[k][2], s[k]->group);
		mode_value(v[k][3], s[k]->socket_mode);
		text_value(v[k][4], s[k]->pidfile);
		snprintf(v[k][5], SETTING_VALUE_MAX, "%d", s[k]->timeout);
		text_value(v[k][6], s[k]->stats_file);
		snprintf(v[k][7], SETTING_VALUE_MAX, "%d", s[k]->stats_interval);
		text_value(v[k][8], s[k]->state);
		snprintf(v[k][9], SETTING_VALUE_MAX, "%ums",
			 s[k]->state_timeout);
	}
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		if (strcmp(v[0][i], v[1][i]) == 0)
			continue;
		out[n].name = names[i];
		memcpy(out[n].from, v[0][i], SETTING_VALUE_MAX);
		memcpy(out[n].to, v[1][i], SETTING_VALUE_MAX);
		n++;
	}
	return n;
}
