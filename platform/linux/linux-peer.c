/* SPDX-License-Identifier: MIT */
/*
 * What the broker learns about its peers from the Linux kernel: SO_PEERCRED on the socket, a
 * pidfd pinning the process, owners of processes and threads from /proc. Nothing here trusts
 * anything a peer says about itself.
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
#include "md-peer.h"

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

int md_platform_process_owner(uint32_t pid, struct md_principal *ret_user,
                              struct md_principal *ret_group)
{
	char path[32];
	struct stat st;

	/* /proc/PID is owned by the process's effective uid and gid (root when it is not
	 * dumpable) */
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
	*ret_file_id = ((uint64_t)st.st_dev << 40) ^ (uint64_t)st.st_ino ^
		       ((uint64_t)st.st_mtime << 20);
	return 0;
}
