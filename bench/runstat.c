/* SPDX-License-Identifier: MIT */
/*
 * Benchmark helper: runs one command and prints what it cost, measured the same way for
 * every tool: it writes "wall_us user_us sys_us maxrss_kib status" to the file named by its
 * first argument, so the command's own output stays untouched. CPU time and peak RSS
 * come from wait4(), so they cover the command and every descendant it waited for (gcore's
 * gdb included). It never changes the command's environment or output.
 *
 * Usage: runstat RESULT-FILE COMMAND [ARGS...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long usec(struct timeval tv)
{
	return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	FILE *f;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: runstat RESULT-FILE COMMAND [ARGS...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("runstat: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "runstat: exec %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("runstat: wait4");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f = fopen(argv[1], "w");
	if (!f) {
		perror("runstat: result file");
		return 1;
	}
	/* ru_maxrss is in KiB on Linux. */
	fprintf(f, "%lld %lld %lld %ld %d\n",
	        (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000,
	        usec(ru.ru_utime), usec(ru.ru_stime), ru.ru_maxrss,
	        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	if (fclose(f) != 0) {
		perror("runstat: result file");
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
