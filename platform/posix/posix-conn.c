/* SPDX-License-Identifier: MIT */
/*
 * mdctl's connection to the daemon on POSIX (platform/md-os.h): a Unix stream socket, sends
 * (MSG_NOSIGNAL) and receives that never block, each after poll() said the socket was ready.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "md-os.h"

struct md_platform_conn {
	int fd;
};

int md_platform_conn_open(const char *endpoint, struct md_platform_conn **ret_conn)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct md_platform_conn *c;
	int r;

	if (strlen(endpoint) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, endpoint);
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		r = -errno;
		free(c);
		return r;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		md_platform_conn_close(c);
		return r;
	}
	*ret_conn = c;
	return 0;
}

/* Waits up to timeout_ms for fd to be ready. A signal ends the wait early with 0: the caller's
 * send or recv (MSG_DONTWAIT) then finds nothing to do and waits again. */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r = poll(&p, 1, timeout_ms);

	if (r == 0)
		return -ETIMEDOUT;
	return r < 0 && errno != EINTR ? -errno : 0;
}

int md_platform_conn_send(struct md_platform_conn *c, const void *buf, size_t len, int timeout_ms)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n;
		int r = wait_fd(c->fd, POLLOUT, timeout_ms);

		if (r < 0)
			return r;
		n = send(c->fd, (const char *)buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

int md_platform_conn_recv(struct md_platform_conn *c, void *buf, size_t len, int timeout_ms)
{
	for (;;) {
		ssize_t n;
		int r = wait_fd(c->fd, POLLIN, timeout_ms);

		if (r < 0)
			return r;
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return -errno;
		return n == 0 ? -ECONNRESET : (int)n;
	}
}

void md_platform_conn_close(struct md_platform_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
