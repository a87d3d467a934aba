/* SPDX-License-Identifier: MIT */
/*
 * `mdctl coredump` where the OS has no kernel core_pattern to point at minidumpd (everything but
 * Linux): says so.
 */
#include <stdio.h>

#include "mdctl.h"

int mdctl_coredump_main(int argc, char **argv)
{
	fprintf(stderr,
	        "mdctl coredump: the kernel's coredump handler is a Linux thing; this system "
	        "has none\n");
	return MDCTL_EXIT_FAILURE;
}
