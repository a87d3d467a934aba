/* SPDX-License-Identifier: MIT */
/*
 * The helper as a socket-activated service (mdd_sandbox_request() in md-sandbox.h): where the
 * caller cannot make the sandbox itself (minidumpd under its unit has no CAP_SETUID, and its
 * seccomp filter refuses setrlimit), systemd makes it, one minidumpd-symbolize@.service instance
 * per connection (Accept=yes). This side connects, sends the arguments and the descriptors
 * (common/md-symbolize-wire.h), and reads the answer with the same size cap and time budget as
 * the spawn path. It never waits past the budget (non-blocking, polled), never takes SIGPIPE,
 * and never logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "md-sandbox.h"
#include "md-symbolize-wire.h"

#define CONNECT_RETRY_MS 10 /* ms between tries while the socket's backlog is full */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Milliseconds until deadline for poll(), at least 1; 0 once it has passed. */
static int ms_left(double deadline)
{
	double left = deadline - now_ms();

	return left <= 0 ? 0 : (int)left + 1;
}

/* Sends size bytes and, with n_fds > 0, the descriptors with them. Returns 0 or -errno. */
static int send_part(int fd, const void *data, size_t size, const int *fds, size_t n_fds,
                     double deadline)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(MD_SYMBOLIZE_WIRE_FDS_BATCH * sizeof(int))];
	} control;
	size_t sent = 0;

	while (sent < size) {
		struct iovec iov = {.iov_base = (char *)data + sent, .iov_len = size - sent};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		ssize_t n;

		if (n_fds && sent == 0) {
			struct cmsghdr *c;

			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
			memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
		}
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n >= 0) {
			sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		/* the helper reads slower than we write: wait for room, within the budget */
		if (!ms_left(deadline))
			return -ETIMEDOUT;
		if (poll(&p, 1, ms_left(deadline)) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* The request: header, the descriptors in batches, the arguments (argv[1] on). */
static int send_request(int fd, const struct mdd_sandbox *sb, double deadline)
{
	struct md_symbolize_wire_header h = {.n_fds = (uint32_t)sb->n_fds};
	const char byte = MD_SYMBOLIZE_WIRE_FD_BYTE;
	size_t len = 0;
	char *args;
	int r;

	for (size_t i = 1; sb->argv[i]; i++)
		len += strlen(sb->argv[i]) + 1;
	if (len > MD_SYMBOLIZE_WIRE_ARGS_MAX)
		return -E2BIG;
	args = malloc(len ? len : 1);
	if (!args)
		return -ENOMEM;
	len = 0;
	for (size_t i = 1; sb->argv[i]; i++) {
		size_t n = strlen(sb->argv[i]) + 1;

		memcpy(args + len, sb->argv[i], n);
		len += n;
	}
	memcpy(h.magic, MD_SYMBOLIZE_WIRE_MAGIC, sizeof(h.magic));
	h.args_len = (uint32_t)len;
	r = send_part(fd, &h, sizeof(h), NULL, 0, deadline);
	for (size_t at = 0; r == 0 && at < sb->n_fds; at += MD_SYMBOLIZE_WIRE_FDS_BATCH) {
		size_t batch = sb->n_fds - at < MD_SYMBOLIZE_WIRE_FDS_BATCH
		                   ? sb->n_fds - at
		                   : MD_SYMBOLIZE_WIRE_FDS_BATCH;

		r = send_part(fd, &byte, 1, sb->fds + at, batch, deadline);
	}
	if (r == 0 && len)
		r = send_part(fd, args, len, NULL, 0, deadline);
	if (r == 0 && shutdown(fd, SHUT_WR) < 0)
		r = -errno;
	free(args);
	return r;
}

int mdd_sandbox_request(const char *socket_path, const struct mdd_sandbox *sb,
                        struct mdd_sandbox_result *ret)
{
	unsigned budget_ms = sb->budget_ms ? sb->budget_ms : MDD_SANDBOX_BUDGET_MS;
	double t0 = now_ms(), deadline = t0 + budget_ms;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *buf = NULL;
	size_t len = 0, size = 0;
	int fd = -1, r, sent;

	memset(ret, 0, sizeof(*ret));
	if (sb->n_fds == 0 || sb->n_fds > MD_SYMBOLIZE_WIRE_FDS_MAX) {
		snprintf(ret->reason, sizeof(ret->reason), "%zu descriptors, 1 to %d", sb->n_fds,
		         MD_SYMBOLIZE_WIRE_FDS_MAX);
		return -E2BIG;
	}
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		snprintf(ret->reason, sizeof(ret->reason), "socket path too long: %s", socket_path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(ret->reason, sizeof(ret->reason), "socket: %s", strerror(-r));
		return r;
	}
	/* a full backlog says EAGAIN: systemd has not accepted the earlier ones yet */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		if ((r == -EAGAIN || r == -EINTR) && now_ms() + CONNECT_RETRY_MS < deadline) {
			poll(NULL, 0, CONNECT_RETRY_MS);
			continue;
		}
		snprintf(ret->reason, sizeof(ret->reason), "cannot connect to %s: %s", socket_path,
		         strerror(-r));
		goto out;
	}
	/* a request the helper refused ends its side early: its answer still says why */
	sent = send_request(fd, sb, deadline);

	/* the answer, up to EOF, within the budget and the size cap */
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char chunk[65536];
		ssize_t n;

		if (!ms_left(deadline)) {
			snprintf(ret->reason, sizeof(ret->reason),
			         "gave no answer within its budget of %u ms", budget_ms);
			r = -ETIMEDOUT;
			goto out;
		}
		if (poll(&p, 1, ms_left(deadline)) < 0 && errno != EINTR) {
			r = -errno;
			snprintf(ret->reason, sizeof(ret->reason), "poll: %s", strerror(-r));
			goto out;
		}
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* EOF, or the connection reset after what it said */
		if (len + (size_t)n > MDD_SANDBOX_OUT_MAX) {
			snprintf(ret->reason, sizeof(ret->reason), "its answer passed %u bytes",
			         MDD_SANDBOX_OUT_MAX);
			r = -EFBIG;
			goto out;
		}
		if (len + (size_t)n + 1 > size) {
			size_t want = size ? size * 2 : 65536;
			char *grown;

			while (want < len + (size_t)n + 1)
				want *= 2;
			grown = realloc(buf, want);
			if (!grown) {
				r = -ENOMEM;
				snprintf(ret->reason, sizeof(ret->reason), "out of memory");
				goto out;
			}
			buf = grown;
			size = want;
		}
		memcpy(buf + len, chunk, (size_t)n);
		len += (size_t)n;
		buf[len] = 0;
	}
	ret->elapsed_ms = now_ms() - t0;
	if (len == 0) {
		snprintf(ret->reason, sizeof(ret->reason),
		         "closed the connection without an answer%s%s (journalctl -u "
		         "'minidumpd-symbolize@*' says why)",
		         sent < 0 ? ": sending the request: " : "",
		         sent < 0 ? strerror(-sent) : "");
		r = -ECHILD;
		goto out;
	}
	ret->out = buf;
	ret->out_len = len;
	buf = NULL;
	r = 0;
out:
	if (r < 0 && !ret->elapsed_ms)
		ret->elapsed_ms = now_ms() - t0;
	free(buf);
	close(fd);
	return r;
}
