/* SPDX-License-Identifier: MIT */
/*
 * Peers and principals: what the broker knows about the processes that talk to it and about
 * users and groups, all from the OS, never from a message.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct md_peer {
	uint32_t pid;
	uint32_t uid;
	uint32_t gid;
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

/* The effective uid and gid of pid, from the OS. */
int md_platform_process_owner(uint32_t pid, uint32_t *ret_uid, uint32_t *ret_gid);

/* The supplementary groups of pid, from the OS. Returns how many were stored (at most max) or
 * -errno. */
int md_platform_process_groups(uint32_t pid, uint32_t *gids, size_t max);

/* Returns 1 if tid is a thread of pid, 0 if not, -errno on error. */
int md_platform_thread_of(uint32_t pid, uint32_t tid);


/* The executable of pid: its path, and an identity of the file itself (device and inode
 * folded), so a rebuilt binary at the same path counts as another program. */
int md_platform_process_exe(uint32_t pid, char *buf, size_t size, uint64_t *ret_file_id);

/* The uid of the user called name (Windows: the RID of the account's SID, the same stand-in
 * for a uid as md_platform_process_owner's). -ENOENT when there is no such user. */
int md_platform_user_by_name(const char *name, uint32_t *ret_uid);

/* The gid of the group called name (Windows: the RID of the group's SID). -ENOENT when there
 * is no such group. */
int md_platform_group_by_name(const char *name, uint32_t *ret_gid);
