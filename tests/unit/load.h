/*
 * load.h - for the unit tests that compile policies from config text: a
 * private folder for the test process (unit_dir_make() before the tests,
 * unit_dir_remove() after, or unit_run() for both the run and that) and
 * load_text(), which writes the text there as
 * t.conf and loads it; a config that does not load fails the test, with
 * its findings on stderr. Included once per test program: all static.
 */
#ifndef RCM_TEST_LOAD_H
#define RCM_TEST_LOAD_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "core/policy.h"

static char tmpdir[] = "/tmp/rcm-unit.XXXXXX";

static struct policy *load_text(const char *text)
{
	char path[256];
	struct diags d = {0};
	struct policy *p = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	if (config_load(path, &p, NULL, &d) != 0) {
		for (size_t i = 0; i < d.count; i++)
			fprintf(stderr, "%s\n", d.item[i].text);
		ck_abort_msg("config did not load:\n%s", text);
	}
	diags_free(&d);
	return p;
}

/* Make the folder: 0, or -1. */
static int unit_dir_make(void)
{
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

/* Remove it and all in it: 0, or -1. */
static int unit_dir_remove(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Run suite s, then remove the folder: the program's exit status. */
static int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (unit_dir_remove() != 0)
		failed++;
	return failed == 0 ? 0 : 1;
}

#endif
