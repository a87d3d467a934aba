/* SPDX-License-Identifier: MIT */
/*
 * mdctl stack in a build without the symbolizer (no elfutils, or Windows): says so. Never
 * pretends to have walked a stack.
 */
#include <stdio.h>

#include "mdctl.h"

int mdctl_stack_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("mdctl stack: this mdctl was built without the symbolizer (elfutils)\n", stderr);
	return MDCTL_EXIT_FAILURE;
}
