/* SPDX-License-Identifier: MIT */
/*
 * mdctl's side of the daemon connection: one request, one reply, with a deadline. The socket
 * comes from --socket, else $MINIDUMPD_SOCKET, else the system default.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mdctl.h"

const char *mdctl_socket_path(const char *opt)
{
	const char *env = getenv("MINIDUMPD_SOCKET");

	if (opt)
		return opt;
	return env && *env ? env : MD_PROTO_SOCKET_DEFAULT;
}

static int wait_io(int fd, short events, int deadline_ms, struct timespec *start)
{
	struct timespec now;
	struct pollfd p = {.fd = fd, .events = events};
	long left;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left = deadline_ms - ((now.tv_sec - start->tv_sec) * 1000 +
			      (now.tv_nsec - start->tv_nsec) / 1000000);
	if (left <= 0)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)left);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

int mdctl_request(const char *socket_path, const void *msg, size_t len, int timeout_ms,
		  uint8_t *reply, size_t reply_size, struct md_proto_msg *ret_reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timespec start;
	size_t got = 0, want = MD_PROTO_HEADER_SIZE;
	bool have_header = false;
	int fd, r;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len) {
		r = -errno;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (got < want) {
		ssize_t n;

		r = wait_io(fd, POLLIN, timeout_ms, &start);
		if (r < 0)
			goto out;
		n = recv(fd, reply + got, want - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? -ECONNRESET : -errno;
			goto out;
		}
		got += (size_t)n;
		if (!have_header && got == MD_PROTO_HEADER_SIZE) {
			enum md_proto_type type;

			r = md_proto_header(reply, &type);
			if (r < 0)
				goto out;
			want = MD_PROTO_HEADER_SIZE + (size_t)r;
			if (want > reply_size) {
				r = -EMSGSIZE;
				goto out;
			}
			have_header = true;
		}
	}
	r = md_proto_decode(reply, got, ret_reply, NULL);
out:
	close(fd);
	return r;
}
