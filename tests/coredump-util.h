/* SPDX-License-Identifier: MIT */
/*
 * kernel.core_pattern for the tests of the kernel's coredump paths. The setting is global to
 * the machine, so a test changes it only through a guard: a separate process that writes the
 * new value, then puts the previous one back as soon as the test asks or its end of a pipe
 * closes (the test process died, whatever way). The suite's parent also puts the value back
 * after the last test (cd_suite_setup / cd_suite_teardown), and tests/run does it once more.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "check-main.h"

#define CD_PATTERN_MAX 4096

struct cd_guard {
	pid_t pid; /* the guard process, 0 when none */
	int fd;    /* our end of its pipe */
};

/* Whether this machine lets us write /proc/sys/kernel/core_pattern (root, writable). */
bool cd_can_set_pattern(void);

/* Whether the kernel has the coredump socket (Linux >= 6.16): /proc/sys/kernel/core_modes
 * lists "socket". */
bool cd_have_socket_mode(void);

/* Sets core_pattern (and core_pipe_limit, fs.suid_dumpable when >= 0) under a guard. Returns 0
 * or -errno (nothing changed then). */
int cd_pattern_set(const char *pattern, int pipe_limit, int suid_dumpable,
                   struct cd_guard *ret_guard);

/* Puts the previous values back and waits for the guard. Safe twice. */
void cd_pattern_restore(struct cd_guard *g);

/* Reads the current core_pattern without its newline. Returns 0 or -errno. */
int cd_pattern_get(char *buf, size_t size);

/* The suite fixture: remembers core_pattern and core_pipe_limit before the first test and puts
 * them back after the last. */
int cd_suite_setup(const struct check_suite *cs);
void cd_suite_teardown(const struct check_suite *cs);
