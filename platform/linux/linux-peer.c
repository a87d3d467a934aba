/* SPDX-License-Identifier: MIT */
/*
 * What the broker learns about its peers from the Linux kernel: SO_PEERCRED on the socket, a
 * pidfd pinning the process (SO_PEERPIDFD), owners, credentials and dumpability of processes
 * and threads from /proc. Nothing here trusts anything a peer says about itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "linux-internal.h"
#include "md-peer.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux >= 6.5; older headers (Debian 12's) lack it */
#endif
#define STATUS_MAX (64 * 1024) /* bytes read of /proc/<pid>/status or fdinfo */

int md_platform_peer_credentials(int fd, struct md_peer *ret_peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (len != sizeof(cred) || cred.pid <= 0)
		return -EPROTO; /* the peer is in another pid namespace, or not a process */
	ret_peer->pid = (uint32_t)cred.pid;
	ret_peer->user = md_principal_from_id(cred.uid);
	ret_peer->group = md_principal_from_id(cred.gid);
	return 0;
}

int md_platform_pin_process(uint32_t pid)
{
#if HAVE_PIDFD_OPEN
	long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0);

	if (fd < 0)
		return -errno;
	return (int)fd;
#else
	(void)pid;
	return -ENOSYS;
#endif
}

int md_platform_pinned(int pidfd, uint32_t pid)
{
	char path[MD_LINUX_PATH_MAX], *text = NULL;
	const char *f;
	size_t len;
	int r;

	if (pidfd < 0)
		return -EBADF;
	/* "Pid:" of a pidfd is its process's pid, -1 once that process has exited and been reaped
	 * (only then can its pid be given to another process) */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	r = md_linux_read_text_file(path, STATUS_MAX, &text, &len);
	if (r < 0)
		return r == -ENOENT ? -EBADF : r;
	f = md_linux_status_field(text, "Pid");
	if (!f)
		r = -ENOTSUP; /* not a pidfd */
	else if (strtol(f, NULL, 10) != (long)pid)
		r = -ESRCH;
	free(text);
	return r;
}

/* The four numbers of a "Uid:" or "Gid:" line (real, effective, saved, filesystem). */
static int status_ids(const char *text, const char *key, uint32_t ids[3])
{
	const char *f = md_linux_status_field(text, key);
	char *end;

	for (int i = 0; f && i < 3; i++) {
		unsigned long v = strtoul(f, &end, 10);

		if (end == f)
			return -EBADMSG;
		ids[i] = (uint32_t)v;
		f = end;
	}
	return f ? 0 : -EBADMSG;
}

int md_platform_process_creds(uint32_t pid, int pidfd, struct md_process_creds *ret_creds)
{
	struct md_process_creds c = {0};
	char path[MD_LINUX_PATH_MAX], *text = NULL;
	const char *prm, *eff;
	struct stat st;
	size_t len;
	int r;

	if (pidfd >= 0 && (r = md_platform_pinned(pidfd, pid)) < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	r = md_linux_read_text_file(path, STATUS_MAX, &text, &len);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	/* The files under /proc/<pid>/ (not the directory itself) belong to the process's
	 * effective uid and gid while it is dumpable, and to root once it is not: the kernel's
	 * task_dump_owner(), applied afresh at each path lookup. */
	if (stat(path, &st) < 0) {
		r = errno == ENOENT ? -ESRCH : -errno;
		goto out;
	}
	r = status_ids(text, "Uid", c.uid);
	if (r >= 0)
		r = status_ids(text, "Gid", c.gid);
	prm = md_linux_status_field(text, "CapPrm");
	eff = md_linux_status_field(text, "CapEff");
	if (r >= 0 && (!prm || !eff))
		r = -EBADMSG;
	if (r < 0)
		goto out;
	c.cap_prm = strtoull(prm, NULL, 16);
	c.cap_eff = strtoull(eff, NULL, 16);
	/* a process of root's own is root's whether dumpable or not: counted as dumpable */
	c.dumpable = st.st_uid == c.uid[1] && st.st_gid == c.gid[1];
	/* what was read is about the pinned process only if it has not exited meanwhile */
	if (pidfd >= 0 && (r = md_platform_pinned(pidfd, pid)) < 0)
		goto out;
	*ret_creds = c;
out:
	free(text);
	return r;
}

int md_platform_pin_peer(int fd, struct md_peer *peer)
{
	struct md_process_creds c;
	socklen_t len = sizeof(int);
	int pidfd = -1, r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
		/* only a kernel that does not know the option (before 6.5) gets the fallback */
		if (errno != ENOPROTOOPT)
			return errno == EINVAL || errno == ESRCH ? -ESRCH : -errno;
		pidfd = md_platform_pin_process(peer->pid);
		if (pidfd < 0)
			return pidfd;
		r = md_platform_process_creds(peer->pid, pidfd, &c);
		if (r >= 0 && (c.uid[0] != peer->user.id || c.uid[1] != peer->user.id ||
		               c.gid[1] != peer->group.id))
			r = -ESRCH; /* the peer's pid, now another user's process */
	} else {
		/* the peer itself, even if it has exited (then its pidfd names no pid) */
		r = md_platform_process_creds(peer->pid, pidfd, &c);
	}
	if (r < 0) {
		close(pidfd);
		return r;
	}
	peer->caps = c.cap_prm;
	return pidfd;
}

int md_platform_process_owner(uint32_t pid, struct md_principal *ret_user,
                              struct md_principal *ret_group)
{
	char path[32];
	struct stat st;

	/* /proc/PID is owned by the process's effective uid and gid (even when it is not
	 * dumpable: only the files in it then belong to root) */
	snprintf(path, sizeof(path), "/proc/%u", pid);
	if (stat(path, &st) < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	*ret_user = md_principal_from_id(st.st_uid);
	*ret_group = md_principal_from_id(st.st_gid);
	return 0;
}

int md_platform_process_groups(uint32_t pid, struct md_principal *groups, size_t max)
{
	char path[32], line[4096];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 7, *end;

		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		/* "Groups:\t4 24 27 ...", numbers separated by spaces */
		while (n < max) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			groups[n++] = md_principal_from_id((uint32_t)g);
			p = end;
		}
		break;
	}
	fclose(f);
	return (int)n;
}

int md_platform_thread_of(uint32_t pid, uint32_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/task/%u", pid, tid);
	if (access(path, F_OK) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

int md_platform_process_exe(uint32_t pid, char *buf, size_t size, uint64_t *ret_file_id)
{
	char path[32];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	buf[n] = '\0';
	/* stat through the magic link: the file the process runs, even if replaced or deleted */
	if (stat(path, &st) < 0)
		return -errno;
	*ret_file_id =
	    ((uint64_t)st.st_dev << 40) ^ (uint64_t)st.st_ino ^ ((uint64_t)st.st_mtime << 20);
	return 0;
}
