/* SPDX-License-Identifier: MIT */
/*
 * The command lines of minidumpd's programs (minidumpd, mdctl's verbs, mdupload,
 * md-symbolize), parsed from one table per program: each option names the variable it sets,
 * and -h/--help (and --version where asked for) come with every table. It is for a program's
 * main() only: it prints the usage and getopt's complaints on stdout/stderr, and it uses
 * getopt's global state (optind), so it is not thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

enum md_cmdline_kind {
	MD_CMDLINE_KIND_SET,    /* no argument: *(bool *)value = true */
	MD_CMDLINE_KIND_CLEAR,  /* no argument: *(bool *)value = false (--no-...) */
	MD_CMDLINE_KIND_STRING, /* an argument: *(const char **)value = the argument (in argv) */
	MD_CMDLINE_KIND_UINT,   /* an argument: *(unsigned *)value = a decimal number, min to max */
	MD_CMDLINE_KIND_CALL,   /* an argument, handed to parse() with value */
};

struct md_cmdline_opt {
	const char *name; /* the long name without "--", or NULL for a short option only */
	char letter;      /* the short option (-x), or 0 */
	enum md_cmdline_kind kind;
	void *value;
	/* MD_CMDLINE_KIND_CALL: takes the argument; < 0 refuses it, after saying why on stderr */
	int (*parse)(const char *arg, void *value);
	unsigned min, max; /* MD_CMDLINE_KIND_UINT: the numbers allowed */
};

/* The entries of a table, one per option; the compiler checks each variable's type. name is
 * a string or NULL, letter a char or 0. A table ends with MD_CMDLINE_END. */
#define MD_CMDLINE_SET(name, letter, var)                                                          \
	{                                                                                          \
		(name), (letter), MD_CMDLINE_KIND_SET, (void *)(1 ? (var) : (bool *)0), NULL, 0, 0 \
	}
#define MD_CMDLINE_CLEAR(name, letter, var)                                                        \
	{                                                                                          \
		(name), (letter), MD_CMDLINE_KIND_CLEAR, (void *)(1 ? (var) : (bool *)0), NULL, 0, \
		    0                                                                              \
	}
#define MD_CMDLINE_STRING(name, letter, var)                                                       \
	{                                                                                          \
		(name), (letter), MD_CMDLINE_KIND_STRING, (void *)(1 ? (var) : (const char **)0),  \
		    NULL, 0, 0                                                                     \
	}
#define MD_CMDLINE_UINT(name, letter, var, lo, hi)                                                 \
	{                                                                                          \
		(name), (letter), MD_CMDLINE_KIND_UINT, (void *)(1 ? (var) : (unsigned *)0), NULL, \
		    (lo), (hi)                                                                     \
	}
#define MD_CMDLINE_CALL(name, letter, value, fn)                                                   \
	{                                                                                          \
		(name), (letter), MD_CMDLINE_KIND_CALL, (value), (fn), 0, 0                        \
	}
#define MD_CMDLINE_END                                                                             \
	{                                                                                          \
		NULL, 0, MD_CMDLINE_KIND_SET, NULL, NULL, 0, 0                                     \
	}

#define MD_CMDLINE_OPTS_MAX 32 /* options of one table, --help and --version not counted */

struct md_cmdline {
	const char *program; /* as the program names itself in messages: "mdctl inspect" */
	void (*usage)(FILE *f);
	const struct md_cmdline_opt *opts; /* ends with an entry without name and letter */
	bool version;                      /* --version prints "<program> <version>" and exits 0 */
	bool no_operands;                  /* anything left after the options is a usage error */
};

/* Parses argv[1...] (argv[0] is the program or the verb) against c->opts. Returns true when
 * the program goes on, with its operands at argv[optind...]. Returns false with *ret_exit set
 * when it must exit: 0 after --help printed the usage on stdout (or --version the version);
 * 2 after an unknown option or a missing argument (named on stderr, then the usage), a
 * refused value (a number out of range, or parse() said why), or operands where
 * c->no_operands. */
bool md_cmdline_parse(const struct md_cmdline *c, int argc, char **argv, int *ret_exit);
