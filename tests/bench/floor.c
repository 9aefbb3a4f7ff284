/*
 * floor.c - the floor of make bench: a milter that does nothing.
 *
 * It registers only an end-of-message callback, which accepts, so that
 * libmilter asks the MTA for no other event (SMFIP_NO* for every callback
 * left NULL). Whatever an MTA spends with it in the path is the price of
 * having a milter at all: the connection, the negotiation, the macros and
 * one reply a message. tests/bench/run.sh compares every milter with it.
 *
 * Benchmark-only: it must never be installed or grow a policy. It runs in
 * the foreground, logs nothing and stops on SIGTERM (libmilter).
 *
 * Usage: floor -p SOCKET   (libmilter syntax: unix:/path, inet:PORT@HOST)
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

static struct smfiDesc floor_desc = {
    .xxfi_name = "floor",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = 0,
    .xxfi_eom = floor_eom,
};

int main(int argc, char **argv)
{
	const char *sock = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		if (ch != 'p') {
			fputs("usage: floor -p SOCKET\n", stderr);
			return 2;
		}
		sock = optarg;
	}
	if (sock == NULL || optind != argc) {
		fputs("usage: floor -p SOCKET\n", stderr);
		return 2;
	}
	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_register(floor_desc) == MI_FAILURE) {
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
