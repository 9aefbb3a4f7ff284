/*
 * stage.c - names of stages, verdicts and SMTP commands.
 */
#include <string.h>

#include "core/stage.h"

static const char *const stage_names[STAGE_COUNT] = {
	"connect", "helo", "mail", "rcpt", "data",
	"header", "eoh", "body", "eom",
};

static const char *const verdict_names[VERDICT_COUNT] = {
	"continue", "reject", "tempfail", "accept", "discard", "quarantine",
};

static const char *const cmd_names[CMD_COUNT] = {
	"connect", "HELO", "MAIL", "RCPT", "DATA", "end of DATA",
};

static const enum smtp_cmd stage_cmds[STAGE_COUNT] = {
	CMD_CONNECT, CMD_HELO, CMD_MAIL, CMD_RCPT, CMD_DATA,
	CMD_DATA_END, CMD_DATA_END, CMD_DATA_END, CMD_DATA_END,
};

const char *stage_name(enum stage s)
{
	return (unsigned)s < STAGE_COUNT ? stage_names[s] : "?";
}

const char *verdict_name(enum verdict v)
{
	return (unsigned)v < VERDICT_COUNT ? verdict_names[v] : "?";
}

const char *smtp_cmd_name(enum smtp_cmd c)
{
	return (unsigned)c < CMD_COUNT ? cmd_names[c] : "?";
}

static int name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int stage_parse(const char *name, enum stage *out)
{
	int i = name_index(stage_names, STAGE_COUNT, name);
	if (i < 0)
		return -1;
	*out = (enum stage)i;
	return 0;
}

int verdict_parse(const char *name, enum verdict *out)
{
	int i = name_index(verdict_names, VERDICT_COUNT, name);
	if (i < 0)
		return -1;
	*out = (enum verdict)i;
	return 0;
}

enum smtp_cmd stage_command(enum stage s)
{
	return (unsigned)s < STAGE_COUNT ? stage_cmds[s] : CMD_DATA_END;
}

enum smtp_cmd stage_reply_command(enum stage s, bool held)
{
	if (s == STAGE_CONNECT || s == STAGE_HELO)
		return held ? CMD_RCPT : CMD_MAIL;
	return stage_command(s);
}

bool verdict_sends_reply(enum verdict v)
{
	return v == VERDICT_REJECT || v == VERDICT_TEMPFAIL;
}
