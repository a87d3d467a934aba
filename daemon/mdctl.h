/* SPDX-License-Identifier: MIT */
/*
 * mdctl's subcommands and the exit codes they share. Each subcommand is its own file
 * (mdctl-<verb>.c) with an entry point taking the argv that starts at the verb.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "md-cmdline.h"
#include "md-proto.h"

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
	MDCTL_EXIT_NO_DUMP = 8,       /* info/rm: no dump in the store has that id */
	MDCTL_EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM during a dump: target resumed, no file */
};

#define MDCTL_DAEMON_TIMEOUT_MS 60000 /* how long mdctl waits for the daemon's answer */

/* Parses a verb's options (argv[0] is the verb) from the table opts with md_cmdline_parse(),
 * then checks the number of arguments left against the verb table in mdctl.c. Returns true
 * when the verb goes on, with its arguments at argv[optind...]; false with *ret_exit the code
 * to exit with (MDCTL_EXIT_OK after --help, MDCTL_EXIT_USAGE, said on stderr). */
bool mdctl_parse_options(int argc, char **argv, const struct md_cmdline_opt *opts,
                         void (*usage)(FILE *f), int *ret_exit);

int mdctl_dump_main(int argc, char **argv);
int mdctl_status_main(int argc, char **argv);

/* The daemon's socket: opt if given, else $MINIDUMPD_SOCKET, else the default. */
const char *mdctl_socket_path(const char *opt);

/* Sends one message to the daemon and waits for one reply (decoded into ret_reply, pointing
 * into reply). Returns 0 or -errno (-ENOENT/-ECONNREFUSED: no daemon; -ETIMEDOUT). */
int mdctl_request(const char *socket_path, const void *msg, size_t len, int timeout_ms,
                  uint8_t *reply, size_t reply_size, struct md_proto_msg *ret_reply);
int mdctl_inspect_main(int argc, char **argv);
int mdctl_list_main(int argc, char **argv);
int mdctl_info_main(int argc, char **argv);
int mdctl_rm_main(int argc, char **argv);
int mdctl_stack_main(int argc, char **argv);

/* Prints md-symbolize's answer (see md-symbolize-run.h) like `coredumpctl info`: each thread's
 * frames, then the modules without symbols and why. Only in builds with the symbolizer. */
struct json_t;
void mdctl_print_stacks(struct json_t *answer, FILE *f);

/* mdctl-coredump.c on Linux; elsewhere mdctl-coredump-none.c says there is no such thing. */
int mdctl_coredump_main(int argc, char **argv);
