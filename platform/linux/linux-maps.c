/* SPDX-License-Identifier: MIT */
/*
 * Parses /proc/<pid>/maps into md_mapping records. Lines are read with getline, so a path of
 * any length (up to PATH_MAX and the kernel's escapes) is kept whole, exactly as the kernel
 * prints it, " (deleted)" suffix included. It never reads the target's memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux-internal.h"

#define MD_LINUX_MAPPINGS_MIN 256 /* initial array size, in mappings */

/* Parses a hex number and requires the character after it to be stop. */
static const char *parse_hex(const char *p, char stop, uint64_t *ret)
{
	uint64_t v = 0;
	const char *start = p;

	for (;; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v >> 60)
			return NULL; /* more than 64 bits */
		v = v << 4 | d;
	}
	if (p == start || *p != stop)
		return NULL;
	*ret = v;
	return p + 1;
}

/* "start-end perms offset dev:ice inode   path" */
static int parse_line(char *line, struct md_mapping *m)
{
	uint64_t major, minor;
	const char *p = line;
	char *end, *path;
	size_t len;

	p = parse_hex(p, '-', &m->start);
	if (p)
		p = parse_hex(p, ' ', &m->end);
	if (!p || m->end < m->start || strlen(p) < 5 || p[4] != ' ')
		return -EINVAL;
	m->prot = (p[0] == 'r' ? MD_PROT_READ : 0) | (p[1] == 'w' ? MD_PROT_WRITE : 0) |
	          (p[2] == 'x' ? MD_PROT_EXEC : 0) | (p[3] == 's' ? MD_PROT_SHARED : 0);
	p = parse_hex(p + 5, ' ', &m->offset);
	if (p)
		p = parse_hex(p, ':', &major);
	if (p)
		p = parse_hex(p, ' ', &minor);
	if (!p)
		return -EINVAL;
	errno = 0;
	m->inode = strtoull(p, &end, 10);
	if (errno || end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EINVAL;
	path = end;
	while (*path == ' ')
		path++;
	len = strlen(path);
	if (len && path[len - 1] == '\n')
		path[--len] = '\0';
	m->path = strdup(path);
	return m->path ? 0 : -ENOMEM;
}

static int cmp_mapping(const void *a, const void *b)
{
	const struct md_mapping *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

void md_linux_mappings_free(struct md_mapping *mappings, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(mappings[i].path);
	free(mappings);
}

int md_linux_read_maps(pid_t pid, struct md_mapping **ret_mappings, size_t *ret_n)
{
	char path[MD_LINUX_PATH_MAX];
	struct md_mapping *v = NULL;
	size_t n = 0, cap = 0, i;
	char *line = NULL;
	size_t line_cap = 0;
	bool sorted = true;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &line_cap, f) >= 0) {
		if (n == cap) {
			size_t new_cap = cap ? cap * 2 : MD_LINUX_MAPPINGS_MIN;
			struct md_mapping *nv = realloc(v, new_cap * sizeof(*nv));

			if (!nv) {
				r = -ENOMEM;
				goto out;
			}
			v = nv;
			cap = new_cap;
		}
		memset(&v[n], 0, sizeof(v[n]));
		r = parse_line(line, &v[n]);
		if (r == -EINVAL)
			continue; /* not a mapping line; the kernel does not print those */
		if (r < 0)
			goto out;
		if (n && v[n].start < v[n - 1].start)
			sorted = false;
		n++;
	}
	if (ferror(f)) {
		/* A read error mid-file means the process went away while we read. */
		r = -ESRCH;
		goto out;
	}
	if (!sorted)
		qsort(v, n, sizeof(*v), cmp_mapping);
	/* The kernel never prints overlapping ranges; refuse rather than mislead a reader. */
	for (i = 1; i < n; i++)
		if (v[i].start < v[i - 1].end) {
			r = -EINVAL;
			goto out;
		}
	*ret_mappings = v;
	*ret_n = n;
	v = NULL;
	n = 0;
	r = 0;
out:
	free(line);
	fclose(f);
	md_linux_mappings_free(v, n);
	return r;
}
