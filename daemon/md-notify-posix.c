/* SPDX-License-Identifier: MIT */
/*
 * Readiness notification for service managers, without libsystemd: the protocol systemd
 * documents for sd_notify(3). When $NOTIFY_SOCKET names a socket (a path, or "@name" for
 * Linux's abstract namespace), one datagram of newline-separated VAR=VALUE assignments
 * ("READY=1", "STATUS=...", "STOPPING=1") is sent to it; the manager learns our pid from the
 * credentials the kernel attaches. Without $NOTIFY_SOCKET nothing is sent. A failure is logged
 * here, so that call sites stay one line. The variable is left in the environment on purpose:
 * the daemon notifies again when it stops. mdd_notify_open() connects to the socket once, before
 * the daemon drops its privileges (the socket may be root's alone); later notifications go
 * through that connection.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "md-daemon.h"
#include "md-os.h"

#define NOTIFY_MESSAGE_MAX 1024 /* bytes of one notification, assignments included */

/* Fills sa from $NOTIFY_SOCKET's value; returns the address length or -errno. */
static int notify_address(const char *path, struct sockaddr_un *sa)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (path[0] == '@') {
		/* abstract: a NUL, then the name, and the length says where it ends */
		if (n < 2 || n > sizeof(sa->sun_path))
			return -EINVAL;
		memcpy(sa->sun_path + 1, path + 1, n - 1);
		return (int)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	if (path[0] != '/')
		return -EAFNOSUPPORT; /* e.g. "vsock:...", which we do not speak */
	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, n);
	return (int)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

static int connected = -1; /* from mdd_notify_open() */

void mdd_notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	int fd, len;

	if (!path || !*path || connected >= 0 || (len = notify_address(path, &sa)) < 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, (socklen_t)len) < 0) {
		close(fd); /* mdd_notify() tries again, and says why if it fails */
		return;
	}
	connected = fd;
}

int mdd_notify(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	char msg[NOTIFY_MESSAGE_MAX];
	struct sockaddr_un sa;
	va_list ap;
	ssize_t sent;
	int fd, len, n, r;

	if (!path || !*path)
		return 0;
	len = notify_address(path, &sa);
	if (len < 0) {
		r = len;
		goto out;
	}
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg)) {
		r = -EMSGSIZE;
		goto out;
	}
	fd = connected >= 0 ? connected : socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	do
		sent = fd == connected ? send(fd, msg, (size_t)n, MSG_NOSIGNAL)
		                       : sendto(fd, msg, (size_t)n, MSG_NOSIGNAL,
		                                (struct sockaddr *)&sa, (socklen_t)len);
	while (sent < 0 && errno == EINTR);
	r = sent < 0 ? -errno : 1;
	if (fd != connected)
		close(fd);
out:
	if (r < 0)
		mdd_log(MDD_LOG_WARNING, "cannot notify the service manager at %s: %s", path,
		        md_os_strerror(-r));
	return r;
}
