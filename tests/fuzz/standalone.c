/*
 * standalone.c - run a fuzz target without libFuzzer: every file named on
 * the command line, and every file in every directory named, is given to
 * LLVMFuzzerTestOneInput once, each in its own child process so that one
 * crash does not hide the rest.
 *
 * Prints a line per input that failed (a signal, an exit status or more
 * than RUN_SECONDS), then "NAME: N run, N passed, N failed". Exits 1 when
 * any input failed or none was run. Test code only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#define RUN_SECONDS 60
#define INPUT_MAX   (16u << 20)

static int passed, failed;

/* Read path whole; NULL with a message on failure. */
static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > INPUT_MAX) {
		fprintf(stderr, "%s: cannot read (or not a small file)\n", path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf != NULL && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf == NULL || n != (size_t)st.st_size) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static void run_one(const char *path)
{
	size_t len = 0;
	uint8_t *data = slurp(path, &len);
	int status;
	pid_t pid;

	if (data == NULL) {
		failed++;
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		failed++;
		free(data);
		return;
	}
	if (pid == 0) {
		alarm(RUN_SECONDS);
		/* A copy of exactly len octets, as libFuzzer gives it. */
		uint8_t *exact = malloc(len ? len : 1);
		if (exact == NULL)
			_exit(3);
		memcpy(exact, data, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
		exit(0); /* runs atexit handlers: scratch files go */
	}
	free(data);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			failed++;
			return;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		passed++;
		return;
	}
	failed++;
	if (WIFSIGNALED(status))
		printf("FAIL %s: killed by signal %d%s\n", path,
		       WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (ran too long)" : "");
	else
		printf("FAIL %s: exit status %d\n", path, WEXITSTATUS(status));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		failed++;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char full[4096];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				abort();
		}
		if ((names[n++] = strdup(full)) == NULL)
			abort();
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		run_one(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');

	name = name != NULL ? name + 1 : argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR|FILE...\n", name);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_one(argv[i]);
	}
	printf("%s: %d run, %d passed, %d failed\n", name, passed + failed,
	       passed, failed);
	return failed > 0 || passed == 0 ? 1 : 0;
}
