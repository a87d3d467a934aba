/* SPDX-License-Identifier: MIT */
/*
 * mdctl's subcommands and the exit codes they share. Each subcommand is its own file
 * (mdctl-<verb>.c) with an entry point taking the argv that starts at the verb.
 */
#pragma once

/* Exit codes, documented in mdctl --help and the README. */
enum {
	MDCTL_EXIT_OK = 0,
	MDCTL_EXIT_FAILURE = 1,       /* anything not listed below */
	MDCTL_EXIT_USAGE = 2,         /* bad command line */
	MDCTL_EXIT_NO_PROCESS = 3,    /* no such process */
	MDCTL_EXIT_PERMISSION = 4,    /* not allowed to trace the target */
	MDCTL_EXIT_TARGET_EXITED = 5, /* target exited during the dump; a partial dump was kept */
	MDCTL_EXIT_OUTPUT = 6,        /* cannot create the output file */
	MDCTL_EXIT_BAD_FILE = 7,      /* a file given to inspect is unreadable or not a minidump */
	MDCTL_EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM during a dump: target resumed, no file */
};

int mdctl_dump_main(int argc, char **argv);
int mdctl_inspect_main(int argc, char **argv);
