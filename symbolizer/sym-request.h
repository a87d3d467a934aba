/* SPDX-License-Identifier: MIT */
/*
 * md-symbolize as an instance of minidumpd-symbolize@.service (Accept=yes): the request minidumpd
 * sends on the connection (common/md-symbolize-wire.h). Never used in the spawn path.
 */
#pragma once

#include <stddef.h>

/* Reads one request from sock (the connection, a Unix stream socket), up to the peer's EOF.
 * Every descriptor above 2 is closed first; the descriptors the request carries, each a regular
 * file open read-only, are then put at 3, 4, ... in the order sent, and nothing else is open
 * above 2. Returns 0 with the request's arguments as a new argv (argv[0] is "md-symbolize",
 * NULL-terminated; caller frees *ret_argv, one block) and the number of descriptors; else
 * -errno with err saying what was wrong, and no descriptor of the request left open. */
int sym_request_receive(int sock, int *ret_argc, char ***ret_argv, unsigned *ret_n_fds, char *err,
                        size_t err_size);
