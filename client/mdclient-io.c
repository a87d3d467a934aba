/* SPDX-License-Identifier: MIT */
/*
 * Socket I/O of libmdclient: connecting to the daemon, sending a message and waiting for the
 * reply, all on non-blocking Unix sockets and bounded by one deadline, so that neither a
 * missing nor a frozen daemon can hold the application longer than its timeout. This file is
 * async-signal-safe: the crash handler uses it. It must never allocate, lock, use stdio or
 * block without a deadline.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "mdclient-internal.h"

/*
 * Async-signal-safe. Milliseconds of CLOCK_MONOTONIC, the clock of every deadline here.
 */
int64_t md_shim_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Async-signal-safe. Waits until fd is ready for events or the deadline passes. Returns 0
 * (ready, or in error: the next I/O call tells which), -ETIMEDOUT, or -errno of poll().
 */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline_ms - md_shim_now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Async-signal-safe. Opens a non-blocking, close-on-exec stream socket connected to addr.
 * A daemon whose listen backlog is full shows as -EAGAIN instead of blocking. Returns the
 * descriptor or -errno (-ENOENT or -ECONNREFUSED: no daemon).
 */
int md_shim_connect(const struct sockaddr_un *addr, socklen_t addr_len)
{
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, addr_len) < 0) {
		r = -errno;
		md_shim_close(fd);
		return r;
	}
	return fd;
}

/*
 * Async-signal-safe. Moves all len bytes before the deadline: sends them from out when
 * sending, else receives them into in. MSG_NOSIGNAL turns a closed peer into -EPIPE instead of
 * a SIGPIPE. Returns 0, -ECONNRESET (receiving: the peer closed first), -ETIMEDOUT or -errno.
 */
static int transfer(int fd, bool sending, const uint8_t *out, uint8_t *in, size_t len,
                    int64_t deadline_ms)
{
	size_t done = 0;
	int r;

	while (done < len) {
		ssize_t n = sending ? send(fd, out + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT)
		                    : recv(fd, in + done, len - done, MSG_DONTWAIT);

		if (n > 0 || (n == 0 && sending)) {
			done += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		r = wait_fd(fd, sending ? POLLOUT : POLLIN, deadline_ms);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Async-signal-safe. Sends all len bytes of buf before the deadline. Returns 0, -ETIMEDOUT or
 * -errno (-EPIPE: the daemon closed the connection).
 */
int md_shim_send(int fd, const void *buf, size_t len, int64_t deadline_ms)
{
	return transfer(fd, true, buf, NULL, len, deadline_ms);
}

/*
 * Async-signal-safe. Reads exactly len bytes before the deadline. Returns 0, -ECONNRESET
 * when the peer closes first, -ETIMEDOUT or -errno.
 */
static int recv_exact(int fd, uint8_t *buf, size_t len, int64_t deadline_ms)
{
	return transfer(fd, false, NULL, buf, len, deadline_ms);
}

/*
 * Async-signal-safe. Reads and drops whatever the daemon sent on a long-lived connection
 * before a new request (an answer to HELLO, say), so that it is not taken for the reply to
 * that request; buf is scratch space. Returns 0 when the connection is still open, or
 * -ECONNRESET or -errno when it is not.
 */
int md_shim_drain(int fd, void *buf, size_t size)
{
	for (;;) {
		ssize_t n = recv(fd, buf, size, MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -errno;
	}
}

/*
 * Async-signal-safe. Reads messages until a RESULT or an ERROR arrives (anything else the
 * daemon may send first is skipped) and decodes it into ret_msg, whose pointers point into
 * buf. size must be at least MD_PROTO_MAX_MESSAGE. Returns 0, -EPROTO (not a valid message),
 * -ECONNRESET (the daemon closed the connection without replying), -ETIMEDOUT or -errno.
 */
int md_shim_recv_reply(int fd, void *buf, size_t size, int64_t deadline_ms,
                       struct md_proto_msg *ret_msg)
{
	uint8_t *p = buf;
	struct md_proto_msg msg;
	enum md_proto_type type;
	int len, r;

	if (size < MD_PROTO_MAX_MESSAGE)
		return -EINVAL;
	for (;;) {
		r = recv_exact(fd, p, MD_PROTO_HEADER_SIZE, deadline_ms);
		if (r < 0)
			return r;
		len = md_proto_header(p, &type);
		if (len < 0)
			return -EPROTO;
		r = recv_exact(fd, p + MD_PROTO_HEADER_SIZE, (size_t)len, deadline_ms);
		if (r < 0)
			return r;
		if (type != MD_MSG_RESULT && type != MD_MSG_ERROR)
			continue;
		if (md_proto_decode(p, MD_PROTO_HEADER_SIZE + (size_t)len, &msg, NULL) < 0)
			return -EPROTO;
		*ret_msg = msg;
		return 0;
	}
}

/*
 * Async-signal-safe. Lets the process at the other end of fd (the daemon, from SO_PEERCRED)
 * ptrace this one when Yama's ptrace_scope is 1. A kernel without Yama rejects the prctl with
 * EINVAL, which is not an error: nothing needs allowing there. Returns 0 or -errno.
 */
int md_shim_allow_ptrace(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	/* 0 when the daemon lives in a pid namespace we cannot see into */
	if (cred.pid <= 0)
		return -ESRCH;
	if (prctl(PR_SET_PTRACER, (unsigned long)cred.pid, 0UL, 0UL, 0UL) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

/*
 * Async-signal-safe. Closes fd; EINTR is not retried, as on Linux the descriptor is gone
 * either way.
 */
void md_shim_close(int fd)
{
	if (fd >= 0)
		(void)close(fd);
}
