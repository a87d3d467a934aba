/* SPDX-License-Identifier: MIT */
/*
 * The integration helpers that read a target's threads in /proc: their states, names and ids
 * (see integration-util.h).
 */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "integration-util.h"

char it_task_state(pid_t pid, pid_t tid)
{
	char path[96], line[256];
	char state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "State: %c", &state) == 1)
			break;
	fclose(f);
	return state;
}

pid_t it_stopped_task(pid_t pid, char *ret_state)
{
	pid_t *tids = NULL, found = 0;
	int n = it_tasks(pid, &tids);

	for (int i = 0; i < n && !found; i++) {
		char s = it_task_state(pid, tids[i]);

		if (s == 't' || s == 'T') {
			found = tids[i];
			if (ret_state)
				*ret_state = s;
		}
	}
	free(tids);
	return found;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int it_tasks(pid_t pid, pid_t **ret_tids)
{
	char path[64];
	pid_t *tids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			tids = realloc(tids, cap * sizeof(*tids));
			if (!tids)
				ck_abort_msg("out of memory");
		}
		tids[n++] = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	qsort(tids, n, sizeof(*tids), cmp_pid);
	*ret_tids = tids;
	return (int)n;
}

int it_task_comm(pid_t pid, pid_t tid, char *buf, size_t size)
{
	char path[96];
	size_t len;
	char *text = NULL;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	text = it_read_file(path, &len);
	if (!text)
		return -errno;
	if (len && text[len - 1] == '\n')
		text[--len] = '\0';
	snprintf(buf, size, "%s", text);
	free(text);
	return 0;
}

int it_wait_stopped(pid_t pid, pid_t tid, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;

	while (it_now_ms() < deadline) {
		char s = it_task_state(pid, tid);

		if (s == 't' || s == 'T')
			return 0;
		usleep(STATE_POLL_US);
	}
	return -ETIMEDOUT;
}

pid_t it_asleep_task(pid_t pid, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;

	do {
		pid_t *tids, found = 0;
		int n = it_tasks(pid, &tids);

		for (int i = 0; i < n && !found; i++)
			if (it_task_state(pid, tids[i]) == 'D')
				found = tids[i];
		if (n >= 0)
			free(tids);
		if (found)
			return found;
		usleep(10000);
	} while (it_now_ms() < end);
	return 0;
}
