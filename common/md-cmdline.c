/* SPDX-License-Identifier: MIT */
/*
 * The option table parser of md-cmdline.h: builds getopt_long()'s long and short option lists
 * from the table and sets each option's variable. Prints only what a command line's user must
 * read (the usage, an unknown option), and only for a program's main().
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "md-cmdline.h"

#define EXIT_USAGE  2
#define VAL_HELP    0x200 /* getopt_long() values of the built-in options */
#define VAL_VERSION 0x201
#define VAL_BASE    0x100 /* + index: a long option without a letter */

static bool takes_argument(const struct md_cmdline_opt *o)
{
	return o->kind == MD_CMDLINE_KIND_STRING || o->kind == MD_CMDLINE_KIND_UINT ||
	       o->kind == MD_CMDLINE_KIND_CALL;
}

/* The table's index of getopt_long()'s value v, or -1. */
static int find(const struct md_cmdline *c, int n, int v)
{
	for (int i = 0; i < n; i++)
		if (c->opts[i].letter ? v == c->opts[i].letter : v == VAL_BASE + i)
			return i;
	return -1;
}

/* A decimal number from o->min to o->max into *(unsigned *)o->value; else says so. */
static bool take_uint(const struct md_cmdline *c, const struct md_cmdline_opt *o, const char *arg)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < o->min || v > o->max) {
		if (o->name)
			fprintf(stderr, "%s: --%s wants %u to %u\n", c->program, o->name, o->min,
			        o->max);
		else
			fprintf(stderr, "%s: -%c wants %u to %u\n", c->program, o->letter, o->min,
			        o->max);
		return false;
	}
	*(unsigned *)o->value = (unsigned)v;
	return true;
}

/* Sets what option o stands for. Returns false when the argument is refused. */
static bool take(const struct md_cmdline *c, const struct md_cmdline_opt *o, const char *arg)
{
	switch (o->kind) {
	case MD_CMDLINE_KIND_SET:
		*(bool *)o->value = true;
		return true;
	case MD_CMDLINE_KIND_CLEAR:
		*(bool *)o->value = false;
		return true;
	case MD_CMDLINE_KIND_STRING:
		*(const char **)o->value = arg;
		return true;
	case MD_CMDLINE_KIND_UINT:
		return take_uint(c, o, arg);
	case MD_CMDLINE_KIND_CALL:
		return o->parse(arg, o->value) >= 0;
	}
	return false;
}

static bool usage_error(const struct md_cmdline *c, int *ret_exit)
{
	c->usage(stderr);
	*ret_exit = EXIT_USAGE;
	return false;
}

bool md_cmdline_parse(const struct md_cmdline *c, int argc, char **argv, int *ret_exit)
{
	struct option longopts[MD_CMDLINE_OPTS_MAX + 3];
	char shortopts[2 * MD_CMDLINE_OPTS_MAX + 4] = ":"; /* ':': a missing argument says so */
	size_t ns = 1, nl = 0;
	int n = 0, v, i;

	for (; c->opts[n].name || c->opts[n].letter; n++) {
		const struct md_cmdline_opt *o = &c->opts[n];

		if (n >= MD_CMDLINE_OPTS_MAX) {
			fprintf(stderr, "%s: over %d options in its table\n", c->program,
			        MD_CMDLINE_OPTS_MAX);
			*ret_exit = 1;
			return false;
		}
		if (o->letter) {
			shortopts[ns++] = o->letter;
			if (takes_argument(o))
				shortopts[ns++] = ':';
		}
		if (o->name)
			longopts[nl++] = (struct option){
			    o->name, takes_argument(o) ? required_argument : no_argument, NULL,
			    o->letter ? o->letter : VAL_BASE + n};
	}
	shortopts[ns++] = 'h';
	shortopts[ns] = 0;
	longopts[nl++] = (struct option){"help", no_argument, NULL, VAL_HELP};
	if (c->version)
		longopts[nl++] = (struct option){"version", no_argument, NULL, VAL_VERSION};
	longopts[nl] = (struct option){NULL, 0, NULL, 0};

	optind = 1;
	opterr = 0; /* the message below names the program, verb included */
	while ((v = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (v == 'h' || v == VAL_HELP) {
			c->usage(stdout);
			*ret_exit = 0;
			return false;
		}
		if (v == VAL_VERSION) {
			printf("%s %s\n", c->program, MD_VERSION_STRING);
			*ret_exit = 0;
			return false;
		}
		i = v == '?' || v == ':' ? -1 : find(c, n, v);
		if (i < 0) {
			const char *arg = argv[optind - 1];
			char letter[3] = {'-', (char)optopt, 0};

			/* a long option is its argv word; a short one may sit in a cluster (-xv) */
			if (strncmp(arg, "--", 2) != 0 && optopt > 0 && optopt < VAL_BASE)
				arg = letter;
			fprintf(stderr,
			        v == ':' ? "%s: option '%s' needs an argument\n"
			                 : "%s: unknown option '%s'\n",
			        c->program, arg);
			return usage_error(c, ret_exit);
		}
		if (!take(c, &c->opts[i], optarg)) {
			*ret_exit = EXIT_USAGE;
			return false;
		}
	}
	if (c->no_operands && optind != argc)
		return usage_error(c, ret_exit);
	return true;
}
