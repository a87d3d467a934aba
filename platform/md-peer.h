/* SPDX-License-Identifier: MIT */
/*
 * Peers: what the broker knows about the processes that talk to it and about the processes it
 * is asked to dump, all from the OS, never from a message. Their users and groups are
 * principals (md-principal.h). Implemented by the backend (platform/linux, platform/windows).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "md-principal.h"

struct md_peer {
	uint32_t pid;
	struct md_principal user;  /* its effective user */
	struct md_principal group; /* its primary group */
};

/* Credentials of the process at the other end of a connected local socket. */
int md_platform_peer_credentials(int fd, struct md_peer *ret_peer);

/* An fd that pins pid's identity (Linux pidfd), so pid reuse cannot redirect a dump. Returns
 * the fd, or -errno (-ENOSYS where the OS has no such thing: callers go on without). */
int md_platform_pin_process(uint32_t pid);

/* The effective user and primary group of pid, from the OS (Windows: its token's user and
 * primary group). */
int md_platform_process_owner(uint32_t pid, struct md_principal *ret_user,
                              struct md_principal *ret_group);

/* The supplementary groups of pid, from the OS. Returns how many were stored (at most max) or
 * -errno (Windows: 0, token groups are not looked at yet). */
int md_platform_process_groups(uint32_t pid, struct md_principal *groups, size_t max);

/* Returns 1 if tid is a thread of pid, 0 if not, -errno on error. */
int md_platform_thread_of(uint32_t pid, uint32_t tid);

/* The executable of pid: its path, and an identity of the file itself (device and inode
 * folded), so a rebuilt binary at the same path counts as another program. */
int md_platform_process_exe(uint32_t pid, char *buf, size_t size, uint64_t *ret_file_id);
