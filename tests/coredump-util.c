/* SPDX-License-Identifier: MIT */
/* kernel.core_pattern under a guard process (coredump-util.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coredump-util.h"
#include "md-os.h"
#include "integration-util.h"

#define PATTERN_FILE    "/proc/sys/kernel/core_pattern"
#define PIPE_LIMIT_FILE "/proc/sys/kernel/core_pipe_limit"
#define SUID_FILE       "/proc/sys/fs/suid_dumpable"

static char suite_pattern[CD_PATTERN_MAX];
static char suite_pipe_limit[64];
static char suite_suid[16];
static bool suite_saved;

/* Writes a kernel setting (/proc/sys/...). */
static int write_line(const char *path, const char *value)
{
	return md_os_write_file(path, value, strlen(value), 0644);
}

int cd_pattern_get(char *buf, size_t size)
{
	return md_os_read_line(PATTERN_FILE, buf, size);
}

bool cd_can_set_pattern(void)
{
	return geteuid() == 0 && access(PATTERN_FILE, W_OK) == 0;
}

bool cd_have_socket_mode(void)
{
	char *modes = NULL;
	size_t len;
	bool has;

	/* one mode a line */
	if (md_os_read_file("/proc/sys/kernel/core_modes", 4096, &modes, &len) < 0)
		return false;
	has = strstr(modes, "socket") != NULL;
	free(modes);
	return has;
}

int cd_pattern_set(const char *pattern, int pipe_limit, int suid_dumpable, struct cd_guard *ret)
{
	char old[CD_PATTERN_MAX], old_limit[64] = "", limit[32], old_suid[16] = "", suid[16];
	int p[2], ack[2], r;
	pid_t pid;
	char c;

	*ret = (struct cd_guard){.fd = -1};
	r = cd_pattern_get(old, sizeof(old));
	if (r < 0)
		return r;
	if (pipe_limit >= 0 &&
	    (r = md_os_read_line(PIPE_LIMIT_FILE, old_limit, sizeof(old_limit))) < 0)
		return r;
	if (suid_dumpable >= 0 && (r = md_os_read_line(SUID_FILE, old_suid, sizeof(old_suid))) < 0)
		return r;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(ack, O_CLOEXEC) < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		close(ack[0]);
		close(ack[1]);
		return r;
	}
	if (pid == 0) {
		/* the guard: set, say so, wait for the word or for the test's death, restore */
		close(p[1]);
		close(ack[0]);
		/* and nothing else of the test's: a descriptor it closes to tell its app something
		 * (a FIFO's write end) must not stay open here */
		{
			unsigned lo = (unsigned)(p[0] < ack[1] ? p[0] : ack[1]);
			unsigned hi = (unsigned)(p[0] < ack[1] ? ack[1] : p[0]);

			close_range(3, lo - 1, 0);
			close_range(lo + 1, hi - 1, 0);
			close_range(hi + 1, ~0u, 0);
		}
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		snprintf(limit, sizeof(limit), "%d", pipe_limit);
		snprintf(suid, sizeof(suid), "%d", suid_dumpable);
		r = write_line(PATTERN_FILE, pattern);
		if (r == 0 && pipe_limit >= 0)
			r = write_line(PIPE_LIMIT_FILE, limit);
		if (r == 0 && suid_dumpable >= 0)
			r = write_line(SUID_FILE, suid);
		c = r == 0 ? 'y' : 'n';
		if (write(ack[1], &c, 1) < 0)
			c = 'n';
		close(ack[1]);
		if (c == 'y')
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
		write_line(PATTERN_FILE, old);
		if (pipe_limit >= 0)
			write_line(PIPE_LIMIT_FILE, old_limit);
		if (suid_dumpable >= 0)
			write_line(SUID_FILE, old_suid);
		_exit(0);
	}
	close(p[0]);
	close(ack[1]);
	c = 'n';
	while (read(ack[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ack[0]);
	ret->pid = pid;
	ret->fd = p[1];
	if (c != 'y') {
		cd_pattern_restore(ret);
		return -EIO;
	}
	return 0;
}

void cd_pattern_restore(struct cd_guard *g)
{
	if (g->fd >= 0) {
		close(g->fd);
		g->fd = -1;
	}
	if (g->pid > 0) {
		while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
			;
		g->pid = 0;
	}
}

int cd_suite_setup(const struct check_suite *cs)
{
	if (cd_pattern_get(suite_pattern, sizeof(suite_pattern)) == 0 &&
	    md_os_read_line(PIPE_LIMIT_FILE, suite_pipe_limit, sizeof(suite_pipe_limit)) == 0 &&
	    md_os_read_line(SUID_FILE, suite_suid, sizeof(suite_suid)) == 0)
		suite_saved = true;
	return it_suite_setup(cs);
}

void cd_suite_teardown(const struct check_suite *cs)
{
	char now[CD_PATTERN_MAX];

	if (suite_saved && cd_can_set_pattern()) {
		if (cd_pattern_get(now, sizeof(now)) == 0 && strcmp(now, suite_pattern)) {
			fprintf(stderr,
			        "coredump: core_pattern was left as '%s'; putting '%s' back\n", now,
			        suite_pattern);
			write_line(PATTERN_FILE, suite_pattern);
		}
		write_line(PIPE_LIMIT_FILE, suite_pipe_limit);
		write_line(SUID_FILE, suite_suid);
	}
	it_suite_teardown(cs);
}
