/*
 * listfile.h - list files: one entry a line, for the config's address,
 * domain, e-mail and regex lists.
 *
 * Format: leading and trailing blanks (space, tab) are trimmed; blank lines
 * and lines whose first non-blank character is '#' are ignored. Only whole
 * lines are comments: a '#' after an entry is part of it, because '#' may
 * appear in a regex. CRLF line ends are accepted, so is a last line without
 * a newline and a UTF-8 byte order mark at the start. A line longer than
 * LISTFILE_LINE_MAX octets (its end of line not counted) or containing a
 * NUL octet is an error, and so is a file over LISTFILE_SIZE_MAX. Errors
 * read "PATH:LINE: message". Used at config load only, in one thread; never
 * logs, never exits.
 */
#ifndef RCM_LISTFILE_H
#define RCM_LISTFILE_H

#include <stddef.h>

#define LISTFILE_LINE_MAX 4096
#define LISTFILE_SIZE_MAX (512u * 1024 * 1024)

/*
 * Called once per entry, in file order. entry is NUL-terminated, trimmed,
 * never empty, and valid only during the call: copy what you keep. Returns
 * 0, or -1 with err (errlen octets) filled: that message is then reported
 * after "PATH:LINE: " and reading stops.
 */
typedef int (*listfile_add_fn)(void *ctx, const char *entry, char *err,
			       size_t errlen);

/*
 * Read path and call add for each entry. Returns the number of entries
 * given to add, or -1 with err filled ("PATH: No such file or directory",
 * "PATH:12: line longer than 4096 octets", "PATH:3: <add's message>").
 */
int listfile_read(const char *path, listfile_add_fn add, void *ctx, char *err,
		  size_t errlen);

/*
 * Called once per entry with its line (1-based), as for listfile_add_fn;
 * returns 0 to go on, -1 to stop reading (the caller knows why).
 */
typedef int (*listfile_each_fn)(void *ctx, const char *entry, int line);

/*
 * Read path and call each for every entry, keeping nothing: the file is
 * in memory only during the call (a million-line list then costs its
 * matcher, not a copy of the file besides). Returns the number of entries
 * given to each, or -1: with err filled as for listfile_read when the
 * file is bad, with err empty when each stopped.
 */
int listfile_scan(const char *path, listfile_each_fn each, void *ctx, char *err,
		  size_t errlen);

/*
 * A whole list file kept in memory, for callers that want the entries and
 * their line numbers after reading (for messages that name the line).
 */
struct listfile_entry {
	const char *text; /* NUL-terminated, trimmed, owned by the listfile */
	int line;	  /* 1-based */
};

struct listfile {
	char *path;			/* owned copy */
	char *data;			/* owned: the file, split in place */
	struct listfile_entry *entries; /* owned array of n */
	size_t n;
};

/*
 * Load path. Returns the list file (free with listfile_free), or NULL with
 * err filled as for listfile_read.
 */
struct listfile *listfile_load(const char *path, char *err, size_t errlen);

/* Free lf and set *lf to NULL; NULL is fine. */
void listfile_free(struct listfile **lf);

#endif
