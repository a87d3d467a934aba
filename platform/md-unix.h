/* SPDX-License-Identifier: MIT */
/*
 * POSIX only: descriptors passed over a Unix socket (SCM_RIGHTS). Included by programs that
 * exist on POSIX alone (the capture worker, the symbolizer); the rest of the OS layer is
 * md-os.h.
 */
#pragma once

#include <sys/socket.h>

/* Takes the descriptors that came with mh (received with MSG_CMSG_CLOEXEC): they go on at
 * fds[*n] while *n is under max (*n grows), and the others are closed at once. Returns how many
 * came, kept or not. */
unsigned md_unix_take_fds(const struct msghdr *mh, int *fds, unsigned *n, unsigned max);
