/* SPDX-License-Identifier: MIT */
/*
 * mdctl: the command-line tool for capturing and inspecting minidumps. This file only holds
 * the verb table and dispatches to the verbs; each lives in mdctl-<verb>.c and parses its
 * own options from a table (mdctl_parse_options()). `mdctl --help` is generated from the
 * verb table, and its argument counts are checked once a verb's options are parsed.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "mdctl.h"

struct verb {
	const char *name;
	int min_args; /* arguments left after the verb's options */
	int max_args; /* -1: any number */
	int (*run)(int argc, char **argv);
	const char *synopsis; /* what follows the name in the help */
	const char *help;     /* one line */
};

static int verb_help(int argc, char **argv);
static int verb_version(int argc, char **argv);

static const struct verb verbs[] = {
    {"dump", 1, 1, mdctl_dump_main, "PID [--direct [-o FILE] [--force]] [--json]",
     "a minidump of a live process: by minidumpd, or (--direct) here"},
    {"status", 0, 0, mdctl_status_main, "[--json]", "the daemon's version, uptime and counters"},
    {"inspect", 1, 1, mdctl_inspect_main, "FILE [--json]", "show what a minidump holds"},
    {"list", 0, 0, mdctl_list_main, "[--since TIME] [--exe EXE] [--pid PID] [--json] ...",
     "the dumps in minidumpd's store"},
    {"info", 1, 1, mdctl_info_main, "ID [--json]",
     "one dump: report, crashing thread, modules, stack"},
    {"rm", 1, -1, mdctl_rm_main, "ID...", "remove dumps from the store"},
    {"stack", 1, 1, mdctl_stack_main, "FILE [--json] [--all-threads]",
     "every thread's stack of a minidump, symbolized"},
    {"coredump", 1, 1, mdctl_coredump_main, "enable|disable|status [--pipe]",
     "minidumpd as the kernel's crash handler (core_pattern)"},
    {"help", 0, 0, verb_help, "", "this text"},
    {"version", 0, 0, verb_version, "", "print the version"},
};

static const struct verb *verb_find(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static void usage(FILE *f)
{
	fputs("Usage: mdctl COMMAND [ARGS]\n\nCommands:\n", f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		const struct verb *v = &verbs[i];
		int n = fprintf(f, "  %s%s%s", v->name, *v->synopsis ? " " : "", v->synopsis);

		/* the help goes in column 22, or on the next line when the synopsis is long */
		if (n > 20)
			fprintf(f, "\n%21s", "");
		else
			fprintf(f, "%*s", 21 - n, "");
		fprintf(f, "%s\n", v->help);
	}
	fputs("\n"
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

/* Checks the number of arguments left after a verb's options (argv[optind...]) against the
 * table. Prints what is wrong and returns MDCTL_EXIT_USAGE, else MDCTL_EXIT_OK. */
static int verb_args(int argc, char **argv)
{
	const struct verb *v = verb_find(argv[0]);
	int n = argc - optind;

	if (!v || (n >= v->min_args && (v->max_args < 0 || n <= v->max_args)))
		return MDCTL_EXIT_OK;
	if (v->max_args == 0)
		fprintf(stderr, "mdctl %s: takes no arguments, got '%s'", v->name, argv[optind]);
	else if (v->min_args == v->max_args)
		fprintf(stderr, "mdctl %s: takes %d argument%s (%s), got %d", v->name, v->min_args,
		        v->min_args == 1 ? "" : "s", v->synopsis, n);
	else if (v->max_args < 0)
		fprintf(stderr, "mdctl %s: takes at least %d argument%s (%s), got %d", v->name,
		        v->min_args, v->min_args == 1 ? "" : "s", v->synopsis, n);
	else
		fprintf(stderr, "mdctl %s: takes %d to %d arguments (%s), got %d", v->name,
		        v->min_args, v->max_args, v->synopsis, n);
	/* help and version have no options of their own, hence no --help */
	if (v->run == verb_help || v->run == verb_version)
		fputs(" (see mdctl --help)\n", stderr);
	else
		fprintf(stderr, " (see mdctl %s --help)\n", v->name);
	return MDCTL_EXIT_USAGE;
}

bool mdctl_parse_options(int argc, char **argv, const struct md_cmdline_opt *opts,
                         void (*verb_usage)(FILE *f), int *ret_exit)
{
	char program[64];
	struct md_cmdline c = {.program = program, .usage = verb_usage, .opts = opts};

	snprintf(program, sizeof(program), "mdctl %s", argv[0]);
	if (!md_cmdline_parse(&c, argc, argv, ret_exit))
		return false;
	*ret_exit = verb_args(argc, argv);
	return *ret_exit == MDCTL_EXIT_OK;
}

static int verb_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return MDCTL_EXIT_OK;
}

static int verb_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("mdctl %s\n", MD_VERSION_STRING);
	return MDCTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct verb *v;

	if (argc < 2) {
		usage(stderr);
		return MDCTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return verb_help(0, NULL);
	if (strcmp(argv[1], "--version") == 0)
		return verb_version(0, NULL);
	v = verb_find(argv[1]);
	if (!v) {
		fprintf(stderr, "mdctl: unknown command '%s' (see mdctl --help)\n", argv[1]);
		return MDCTL_EXIT_USAGE;
	}
	if (v->run == verb_help || v->run == verb_version) {
		/* these two have no options: the count is checked here */
		optind = 1;
		if (verb_args(argc - 1, argv + 1) != MDCTL_EXIT_OK)
			return MDCTL_EXIT_USAGE;
	}
	return v->run(argc - 1, argv + 1);
}
