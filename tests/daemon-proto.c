/* SPDX-License-Identifier: MIT */
/*
 * The raw protocol client of the daemon suites (daemon-proto.h).
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon-proto.h"
#include "daemon-util.h"
#include "md-os.h"

int connect_daemon(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	md_os_ignore_sigpipe();
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", D.sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

void send_all(int fd, const void *data, size_t len)
{
	/* a peer that closed early is not an error here: what it answered is read next */
	(void)md_os_write_full(fd, data, len);
}

/* One read of at most len bytes once fd is readable, polling at least once (what has already
 * arrived counts even past the deadline, an it_now_ms() time). Returns the count, 0 at end of
 * file, -ETIMEDOUT or -errno (-EINTR: try again). */
static ssize_t read_by(int fd, void *buf, size_t len, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int64_t left = deadline - it_now_ms();
	int r = poll(&p, 1, left > 0 ? (int)left : 0);
	ssize_t n;

	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	n = read(fd, buf, len);
	return n < 0 ? -errno : n;
}

int recv_msg(int fd, int timeout_ms, struct md_proto_msg *m)
{
	static uint8_t buf[MD_PROTO_MAX_MESSAGE];
	int64_t deadline = it_now_ms() + timeout_ms;
	size_t got = 0;

	for (;;) {
		ssize_t n;

		if (got >= MD_PROTO_HEADER_SIZE) {
			enum md_proto_type t;
			int pl = md_proto_header(buf, &t);

			if (pl < 0)
				return pl;
			if (got >= MD_PROTO_HEADER_SIZE + (size_t)pl)
				return md_proto_decode(buf, MD_PROTO_HEADER_SIZE + (size_t)pl, m,
				                       NULL);
		}
		n = read_by(fd, buf + got, sizeof(buf) - got, deadline);
		if (n == -EINTR)
			continue;
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return (int)n;
		got += (size_t)n;
	}
}

int daemon_request(const void *data, size_t len, bool shut, int timeout_ms, struct md_proto_msg *m)
{
	int fd = connect_daemon(), r;

	if (fd < 0)
		return fd;
	send_all(fd, data, len);
	if (shut)
		shutdown(fd, SHUT_WR);
	r = recv_msg(fd, timeout_ms, m);
	close(fd);
	return r;
}

int reply_errno(const struct md_proto_msg *m)
{
	if (m->type != MD_MSG_ERROR)
		return 0;
	return m->error < 0 ? m->error : -EPROTO;
}

bool peer_closed(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	return poll(&p, 1, timeout_ms) == 1 && read(fd, &c, 1) == 0;
}

int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read_by(fd, (char *)buf + got, len - got, deadline);

		if (n == -EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -EPIPE : (int)n;
		got += (size_t)n;
	}
	return 0;
}

void put_header(uint8_t *h, uint32_t magic, uint16_t version, uint16_t type, uint32_t len)
{
	h[0] = (uint8_t)magic, h[1] = (uint8_t)(magic >> 8);
	h[2] = (uint8_t)(magic >> 16), h[3] = (uint8_t)(magic >> 24);
	h[4] = (uint8_t)version, h[5] = (uint8_t)(version >> 8);
	h[6] = (uint8_t)type, h[7] = (uint8_t)(type >> 8);
	h[8] = (uint8_t)len, h[9] = (uint8_t)(len >> 8);
	h[10] = (uint8_t)(len >> 16), h[11] = (uint8_t)(len >> 24);
	memset(h + 12, 0, 4);
}

int encode_bare(uint8_t *buf, size_t size, enum md_proto_type type)
{
	struct md_proto_enc e;

	md_proto_begin(&e, buf, size, type);
	return md_proto_finish(&e);
}

int encode_ping(uint8_t *buf, size_t size)
{
	struct md_proto_enc e;

	md_proto_begin(&e, buf, size, MD_MSG_PING);
	md_proto_put_u32(&e, MD_TAG_VERSION, MD_PROTO_VERSION);
	return md_proto_finish(&e);
}

int encode_dump_request(uint8_t *buf, size_t size, pid_t pid)
{
	struct md_proto_enc e;

	md_proto_begin(&e, buf, size, MD_MSG_DUMP_REQUEST);
	md_proto_put_u32(&e, MD_TAG_PID, (uint32_t)pid);
	return md_proto_finish(&e);
}

int exchange(const void *data, size_t len, bool shut, char *text, size_t text_size)
{
	struct md_proto_msg m;
	int r = daemon_request(data, len, shut, REPLY_MS, &m);

	if (text && text_size)
		snprintf(text, text_size, "%s", r == 0 && m.text ? m.text : "");
	return r == 0 ? reply_errno(&m) : r;
}

void assert_serving(void)
{
	uint8_t msg[64];
	struct md_proto_msg m;
	int r = daemon_request(msg, (size_t)encode_ping(msg, sizeof(msg)), false, REPLY_MS, &m);

	ck_assert_msg(r == 0, "no answer to a ping from minidumpd: %s", strerror(-r));
	ck_assert_int_eq(m.type, MD_MSG_PONG);
}

json_t *daemon_status(void)
{
	uint8_t msg[64];
	struct md_proto_msg m;
	json_t *j;
	int n = encode_bare(msg, sizeof(msg), MD_MSG_STATUS_REQUEST);

	ck_assert_int_eq(daemon_request(msg, (size_t)n, false, REPLY_MS, &m), 0);
	ck_assert_int_eq(m.type, MD_MSG_STATUS);
	j = json_loads(m.text, 0, NULL);
	ck_assert_ptr_nonnull(j);
	return j;
}

pid_t fork_as(uid_t uid)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		gid_t g = (gid_t)uid;

		/* the death signal after the change of credentials, which clears it */
		if (setgroups(1, &g) < 0 || setresgid(g, g, g) < 0 ||
		    setresuid(uid, uid, uid) < 0 || prctl(PR_SET_DUMPABLE, 1) < 0 ||
		    prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(120);
	}
	return pid;
}
