/* SPDX-License-Identifier: MIT */
/*
 * mdctl's store commands (list, info, rm) on Windows: not available yet. They read the
 * daemon's dump folder with POSIX directory calls (openat, fstatat, unlinkat) and run helper
 * programs with fork/exec, which have no Windows port so far (docs/windows.md). Each says so
 * and exits with the usage-error code instead of pretending to work.
 */
#include <stdio.h>

#include "mdctl.h"

static int unavailable(const char *verb)
{
	fprintf(stderr, "mdctl %s: not available on Windows yet (see docs/windows.md)\n", verb);
	return MDCTL_EXIT_FAILURE;
}

int mdctl_list_main(int argc, char **argv)
{
	return unavailable("list");
}

int mdctl_info_main(int argc, char **argv)
{
	return unavailable("info");
}

int mdctl_rm_main(int argc, char **argv)
{
	return unavailable("rm");
}
