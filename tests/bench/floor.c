/*
 * floor.c - the floor of make bench: a milter that does nothing.
 *
 * It registers only an end-of-message callback, which accepts, so that
 * libmilter asks the MTA for no other event (SMFIP_NO* for every callback
 * left NULL). Whatever an MTA spends with it in the path is the price of
 * having a milter at all: the connection, the negotiation, the macros and
 * one reply a message. tests/bench/run.sh compares every milter with it.
 *
 * With -e it is the floor of a policy that reads what policy-35.conf
 * reads: it asks for the same events and the same no-reply steps as
 * replycode-milter does for that policy (connect, HELO, MAIL, RCPT, the
 * headers and the body, answering only MAIL, each RCPT and the end of
 * the message) and still decides nothing. What a milter with that policy
 * costs above it is the policy's work; what it costs above the plain
 * floor, that work plus the protocol traffic no milter reading those
 * events can avoid.
 *
 * Benchmark-only: it must never be installed or grow a policy. It runs in
 * the foreground, logs nothing and stops on SIGTERM (libmilter).
 *
 * Usage: floor [-e] -p SOCKET   (libmilter syntax: unix:/path,
 * inet:PORT@HOST)
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static sfsistat floor_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

/* -e: the events and no-reply steps replycode-milter negotiates for
 * policy-35.conf (tests/bench/txn.mt shows them: mtclient without -q). */
#define EV_NO (SMFIP_NOEOH | SMFIP_NODATA | SMFIP_NOUNKNOWN)
#define EV_NR (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_BODY)

static sfsistat ev_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3,
			     unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx, (void)f0, (void)f2, (void)f3;
	*pf0 = 0;
	*pf1 = f1 & (EV_NO | EV_NR);
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat ev_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	(void)ctx, (void)host, (void)sa;
	return SMFIS_NOREPLY;
}

static sfsistat ev_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx, (void)helo;
	return SMFIS_NOREPLY;
}

static sfsistat ev_envelope(SMFICTX *ctx, char **argv)
{
	(void)ctx, (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat ev_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx, (void)name, (void)value;
	return SMFIS_NOREPLY;
}

static sfsistat ev_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx, (void)chunk, (void)len;
	return SMFIS_NOREPLY;
}

static struct smfiDesc events_desc = {
    .xxfi_name = "floor-events",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = 0,
    .xxfi_connect = ev_connect,
    .xxfi_helo = ev_helo,
    .xxfi_envfrom = ev_envelope,
    .xxfi_envrcpt = ev_envelope,
    .xxfi_header = ev_header,
    .xxfi_body = ev_body,
    .xxfi_eom = floor_eom,
    .xxfi_negotiate = ev_negotiate,
};

static struct smfiDesc floor_desc = {
    .xxfi_name = "floor",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = 0,
    .xxfi_eom = floor_eom,
};

int main(int argc, char **argv)
{
	const char *sock = NULL;
	struct smfiDesc *desc = &floor_desc;
	int ch;

	while ((ch = getopt(argc, argv, "ep:")) != -1) {
		if (ch == 'e') {
			desc = &events_desc;
		} else if (ch == 'p') {
			sock = optarg;
		} else {
			fputs("usage: floor [-e] -p SOCKET\n", stderr);
			return 2;
		}
	}
	if (sock == NULL || optind != argc) {
		fputs("usage: floor [-e] -p SOCKET\n", stderr);
		return 2;
	}
	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_register(*desc) == MI_FAILURE) {
		fprintf(stderr, "floor: cannot set up %s\n", sock);
		return 1;
	}
	/* remove a stale unix socket left by a killed run */
	if (smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "floor: cannot listen on %s\n", sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
