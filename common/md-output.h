/* SPDX-License-Identifier: MIT */
/*
 * Creating a dump file safely. Dumps hold secrets: the file is created 0600 under a temporary
 * name with O_EXCL|O_NOFOLLOW in the destination folder (so a symlink or a pre-created file
 * cannot redirect the write), and only a complete file gets its final name. An existing file
 * is never replaced unless asked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MD_OUTPUT_NAME_MAX 256 /* bytes of a file name (not a path), NUL included */

struct md_output {
	int dirfd;
	int fd;
	char tmp_name[MD_OUTPUT_NAME_MAX];
	char *dir; /* Windows: the folder's path (there is no folder fd); unused on POSIX */
};

/* Opens dir (an O_DIRECTORY fd is kept) and creates a fresh temporary file in it, mode 0600.
 * Returns 0 or -errno. */
int md_output_open(struct md_output *o, const char *dir);

/* Returns 0 if name can be taken (does not exist, or replace is set), -EEXIST otherwise. */
int md_output_check(const struct md_output *o, const char *name, bool replace);

/* Flushes the file to disk and gives it its final name: atomically, failing with -EEXIST
 * rather than replacing an existing file unless replace is set. Closes the file. */
int md_output_commit(struct md_output *o, const char *name, bool replace);

/* Removes the temporary file and closes everything. Safe after commit and twice. */
void md_output_abort(struct md_output *o);

/* Splits a path into folder and file name ("." when there is no folder). */
int md_output_split_path(const char *path, char *dir, size_t dir_size, char *name,
                         size_t name_size);
