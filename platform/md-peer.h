/* SPDX-License-Identifier: MIT */
/*
 * Peers: what the broker knows about the processes that talk to it and about the processes it
 * is asked to dump, all from the OS, never from a message. Their users and groups are
 * principals (md-principal.h). Implemented by the backend (platform/linux, platform/windows).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "md-principal.h"

struct md_peer {
	uint32_t pid;
	struct md_principal user;  /* its effective user */
	struct md_principal group; /* its primary group */
	uint64_t caps; /* permitted capabilities when it was pinned (bit n: capability n; Linux) */
};

/* A process's credentials at one moment, from the OS (Linux: /proc/<pid>/status). */
struct md_process_creds {
	uint32_t uid[3]; /* real, effective, saved */
	uint32_t gid[3];
	uint64_t cap_prm; /* permitted and effective capabilities (bit n: capability n) */
	uint64_t cap_eff;
	/* 0 once the process is not dumpable (a set-uid/set-gid exec, raised file capabilities,
	 * a credential change, prctl(PR_SET_DUMPABLE, 0)): the kernel then keeps even its
	 * owner from tracing it or reading its memory. */
	bool dumpable;
};

/* Credentials of the process at the other end of a connected local socket. */
int md_platform_peer_credentials(int fd, struct md_peer *ret_peer);

/* An fd that pins pid's identity (Linux pidfd), so pid reuse cannot redirect a dump. Returns
 * the fd, or -errno (-ENOSYS where the OS has no such thing: callers go on without). */
int md_platform_pin_process(uint32_t pid);

/* Pins the process at the other end of the connected local socket fd, whose SO_PEERCRED
 * identity is in peer: a pidfd the kernel made for the very process that connected
 * (SO_PEERPIDFD), or, on kernels without it, pidfd_open of peer->pid, accepted only while that
 * process runs with the peer's uid and gid (a reused pid of another user is not pinned). Also
 * sets peer->caps. Returns the fd, -ESRCH when the peer has exited (its pid may be another
 * process's by now), -ENOSYS where the OS has no pidfds, or another -errno. */
int md_platform_pin_peer(int fd, struct md_peer *peer);

/* Returns 0 while pidfd (from md_platform_pin_*) still names the live process pid, -ESRCH once
 * that process has exited (pid may then name another process), or another -errno. */
int md_platform_pinned(int pidfd, uint32_t pid);

/* The credentials of pid as they are now. With pidfd >= 0 they are read only while pidfd
 * names pid (checked before and after the reads): -ESRCH if it does not. -ENOSYS where the OS
 * has no such notion. */
int md_platform_process_creds(uint32_t pid, int pidfd, struct md_process_creds *ret_creds);

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
