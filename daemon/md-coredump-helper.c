/* SPDX-License-Identifier: MIT */
/*
 * md-coredump: the kernel's core_pattern pipe helper, for kernels without the coredump socket
 * (before Linux 6.16), installed as LIBEXECDIR/minidumpd/md-coredump:
 *   kernel.core_pattern = |/usr/libexec/minidumpd/md-coredump %P %I %s %t %d %u %g
 *   kernel.core_pipe_limit = 16 (or any value > 0: the kernel then keeps /proc/<pid>)
 * It hands its stdin (the core stream) and the kernel's numbers to minidumpd's coredump
 * socket and waits until minidumpd is done with the task; all policy, storage and reports are
 * the daemon's. When minidumpd is not there it exits at once and the task dies without a core.
 * It runs as root in the initial namespaces, with no environment and stdout/stderr on
 * /dev/null: it prints nothing and needs nothing but its arguments.
 *   md-coredump [--socket PATH] PID TID SIGNAL TIME DUMPABLE UID GID [more ignored]
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "md-coredump-proto.h"

#ifndef MD_COREDUMP_SOCKET_DEFAULT
#define MD_COREDUMP_SOCKET_DEFAULT "/run/minidumpd/coredump.sock"
#endif
#define HELPER_WAIT_MS 60000 /* longest the daemon may hold the task (its dump budget is less) */

static int number(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -1;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = MD_COREDUMP_SOCKET_DEFAULT;
	struct mdd_cd_helper_msg m = {.magic = MDD_CD_HELPER_MAGIC,
	                              .version = MDD_CD_HELPER_VERSION};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = control,
	                    .msg_controllen = sizeof(control)};
	struct cmsghdr *cm;
	uint64_t v[7];
	int i = 1, fd, in = STDIN_FILENO;

	if (argc > 2 && !strcmp(argv[1], "--socket")) {
		path = argv[2];
		i = 3;
	}
	if (argc - i < 7)
		return 2;
	for (int k = 0; k < 7; k++)
		if (number(argv[i + k], k == 3 ? UINT64_MAX : UINT32_MAX, &v[k]) < 0)
			return 2;
	m.pid = (uint32_t)v[0];
	m.tid = (uint32_t)v[1];
	m.signo = (uint32_t)v[2];
	m.time = v[3];
	m.dumpable = (uint32_t)v[4];
	m.uid = (uint32_t)v[5];
	m.gid = (uint32_t)v[6];
	if (strlen(path) >= sizeof(a.sun_path))
		return 2;
	memcpy(a.sun_path, path, strlen(path) + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return 1; /* no daemon: the task dies now, without a core */
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &in, sizeof(int));
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		return 1;
	close(STDIN_FILENO); /* the daemon holds the stream now */
	/* until the daemon closes: the kernel keeps the task while we run */
	{
		struct pollfd p = {.fd = fd, .events = POLLIN};

		while (poll(&p, 1, HELPER_WAIT_MS) < 0 && errno == EINTR)
			;
	}
	return 0;
}
