/* SPDX-License-Identifier: MIT */
/*
 * The app of tests/systemd/run: built on the host from the installed mdclient.h, libmdclient
 * and mdclient.pc only, run inside the container. Usage: app [segv|abort] [DELAY_MS]: reports
 * to minidumpd at start, prints its pid, waits DELAY_MS (default 0), then dies by SIGSEGV (a
 * NULL store) or SIGABRT. Exits 1 if md_client_init fails, so a missing daemon shows.
 */
#include <mdclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "segv";
	long delay_ms = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	struct timespec ts = {.tv_sec = delay_ms / 1000, .tv_nsec = (delay_ms % 1000) * 1000000};
	volatile int *p = NULL;
	int r = md_client_init(NULL);

	if (r < 0) {
		fprintf(stderr, "md_client_init: %s\n", strerror(-r));
		return 1;
	}
	printf("%d\n", (int)getpid());
	fflush(stdout);
	nanosleep(&ts, NULL);
	if (strcmp(how, "abort") == 0)
		abort();
	*p = 1;
	return 0;
}
