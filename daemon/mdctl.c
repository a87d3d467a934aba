/* SPDX-License-Identifier: MIT */
/*
 * mdctl: the command-line tool for capturing and inspecting minidumps. This file only
 * dispatches to the subcommands; each lives in mdctl-<verb>.c.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "mdctl.h"

static void usage(FILE *f)
{
	fputs("Usage: mdctl COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  dump PID [--json] [--socket PATH]\n"
	      "                     ask minidumpd for a minidump of a live process\n"
	      "  dump PID --direct [-o FILE] [--force] [--json]\n"
	      "                     write one here, without the daemon\n"
	      "  status [--json]    the daemon's version, uptime and counters\n"
	      "  inspect FILE [--json]\n"
	      "                     show what a minidump holds\n"
	      "  list [--since TIME] [--exe EXE] [--pid PID] [--json] ...\n"
	      "                     the dumps in minidumpd's store\n"
	      "  info ID [--json]   one dump: report, crashing thread, modules, stack\n"
	      "  rm ID...           remove dumps from the store\n"
	      "  help               this text\n"
	      "  version            print the version\n"
	      "\n"
	      "Run 'mdctl COMMAND --help' for a command's options.\n"
	      "\n"
	      "Exit codes: 0 ok, 1 failure, 2 usage, 3 no such process, 4 permission denied,\n"
	      "5 target exited during the dump (partial dump kept), 6 cannot create the output,\n"
	      "7 not a readable minidump, 8 no dump in the store has that id, 130/143 interrupted\n"
	      "by SIGINT/SIGTERM (target resumed, nothing kept).\n"
	      "\n"
	      "list, info and rm find the store through the daemon, or take --dump-dir DIR.\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return MDCTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "dump") == 0)
		return mdctl_dump_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return mdctl_status_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "inspect") == 0)
		return mdctl_inspect_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return mdctl_list_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "info") == 0)
		return mdctl_info_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "rm") == 0)
		return mdctl_rm_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return MDCTL_EXIT_OK;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("mdctl %s\n", MD_VERSION_STRING);
		return MDCTL_EXIT_OK;
	}
	fprintf(stderr, "mdctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return MDCTL_EXIT_USAGE;
}
