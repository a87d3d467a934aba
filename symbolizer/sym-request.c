/* SPDX-License-Identifier: MIT */
/*
 * Receiving minidumpd's request on the connection md-symbolize was started with (see
 * sym-request.h and common/md-symbolize-wire.h). Strict: the exact bytes of the wire format, the
 * announced number of descriptors in batches of the announced size, no descriptor anywhere else,
 * every descriptor a regular file open read-only, and EOF after the arguments. Anything else
 * ends the request with the reason and closes whatever arrived. It runs before the seccomp
 * filter (which has no recvmsg) and before anything untrusted is parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "md-symbolize-wire.h"
#include "md-unix.h"
#include "sym-request.h"

#define RECV_TIMEOUT_S 10  /* s the daemon may take to send its whole request */
#define CMSG_FDS_MAX   253 /* descriptors one message can carry (the kernel's SCM_MAX_FD) */

struct rx {
	int sock;
	int *fds; /* received so far, in order */
	unsigned n_fds;
	char *err;
	size_t err_size;
};

static int failf(struct rx *x, int r, const char *what)
{
	snprintf(x->err, x->err_size, "request: %s", what);
	return r;
}

/* Receives exactly size bytes. want_fds: how many descriptors must come with them (-1: none
 * may); they are appended to x->fds. */
static int recv_exact(struct rx *x, void *buf, size_t size, int want_fds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(CMSG_FDS_MAX * sizeof(int))];
	} control;
	size_t got = 0;
	int n_got = 0;

	while (got < size) {
		struct iovec iov = {.iov_base = (char *)buf + got, .iov_len = size - got};
		struct msghdr msg = {.msg_iov = &iov,
		                     .msg_iovlen = 1,
		                     .msg_control = control.buf,
		                     .msg_controllen = sizeof(control.buf)};
		ssize_t n = recvmsg(x->sock, &msg, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return failf(x, -errno,
			             errno == EAGAIN ? "the daemon did not send it in time"
			                             : strerror(errno));
		/* kept (and closed on failure) even when unwanted */
		n_got += (int)md_unix_take_fds(&msg, x->fds, &x->n_fds,
		                               MD_SYMBOLIZE_WIRE_FDS_MAX + CMSG_FDS_MAX);
		if (msg.msg_flags & MSG_CTRUNC)
			return failf(x, -EBADMSG, "descriptors were cut off");
		if (n == 0)
			return failf(x, -EBADMSG, "the connection ended in the middle");
		got += (size_t)n;
	}
	if (n_got != (want_fds < 0 ? 0 : want_fds))
		return failf(x, -EBADMSG,
		             want_fds < 0 ? "descriptors came with bytes that carry none"
		                          : "a batch did not have the descriptors it should");
	return 0;
}

/* A descriptor the helper may be given: a regular file open read-only. */
static bool fd_acceptable(int fd)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_ACCMODE) == O_RDONLY && fstat(fd, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

/* Puts x->fds at 3, 4, ...: first all above every target, then into place. With nothing but 0-2
 * open before, the kernel gave them the lowest free numbers in order, so they are usually in
 * place already (moving 1024 of them would take twice that under LimitNOFILE). */
static int place_fds(struct rx *x)
{
	int base = 3 + (int)x->n_fds;
	unsigned in_place = 0;

	while (in_place < x->n_fds && x->fds[in_place] == 3 + (int)in_place)
		in_place++;
	if (in_place == x->n_fds)
		return 0;
	for (unsigned i = 0; i < x->n_fds; i++)
		if (x->fds[i] >= base)
			base = x->fds[i] + 1;
	for (unsigned i = 0; i < x->n_fds; i++) {
		int high = fcntl(x->fds[i], F_DUPFD_CLOEXEC, base);

		if (high < 0)
			return failf(x, -errno, "cannot move a descriptor");
		close(x->fds[i]);
		x->fds[i] = high;
	}
	for (unsigned i = 0; i < x->n_fds; i++) {
		if (dup2(x->fds[i], 3 + (int)i) < 0)
			return failf(x, -errno, "cannot move a descriptor");
		close(x->fds[i]);
		x->fds[i] = 3 + (int)i;
	}
	return 0;
}

int sym_request_receive(int sock, int *ret_argc, char ***ret_argv, unsigned *ret_n_fds, char *err,
                        size_t err_size)
{
	struct rx x = {.sock = sock, .err = err, .err_size = err_size};
	struct md_symbolize_wire_header h;
	struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
	int type = 0, domain = 0, argc = 0, r;
	socklen_t len = sizeof(type);
	char *args = NULL, **argv = NULL, byte;
	size_t pos;

	err[0] = 0;
	/* nothing but the connection (0, 1) and stderr is open from here on */
	close_range(3, ~0u, 0);
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM ||
	    (len = sizeof(domain), getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &len)) < 0 ||
	    domain != AF_UNIX)
		return failf(&x, -ENOTSOCK, "stdin is not a Unix stream connection");
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	x.fds = calloc(MD_SYMBOLIZE_WIRE_FDS_MAX + CMSG_FDS_MAX, sizeof(int));
	if (!x.fds)
		return failf(&x, -ENOMEM, "out of memory");

	r = recv_exact(&x, &h, sizeof(h), -1);
	if (r < 0)
		goto out;
	if (memcmp(h.magic, MD_SYMBOLIZE_WIRE_MAGIC, sizeof(h.magic)) != 0) {
		r = failf(&x, -EBADMSG, "not a minidumpd symbolize request");
		goto out;
	}
	if (h.n_fds == 0 || h.n_fds > MD_SYMBOLIZE_WIRE_FDS_MAX ||
	    h.args_len > MD_SYMBOLIZE_WIRE_ARGS_MAX) {
		r = failf(&x, -E2BIG, "descriptors or arguments out of bounds");
		goto out;
	}
	for (unsigned sent = 0; sent < h.n_fds; sent += MD_SYMBOLIZE_WIRE_FDS_BATCH) {
		unsigned batch = h.n_fds - sent < MD_SYMBOLIZE_WIRE_FDS_BATCH
		                     ? h.n_fds - sent
		                     : MD_SYMBOLIZE_WIRE_FDS_BATCH;

		r = recv_exact(&x, &byte, 1, (int)batch);
		if (r < 0)
			goto out;
		if (byte != MD_SYMBOLIZE_WIRE_FD_BYTE) {
			r = failf(&x, -EBADMSG, "a batch of descriptors without its marker");
			goto out;
		}
	}
	args = malloc(h.args_len + 1);
	if (!args) {
		r = failf(&x, -ENOMEM, "out of memory");
		goto out;
	}
	r = recv_exact(&x, args, h.args_len, -1);
	if (r < 0)
		goto out;
	/* one request per connection: the daemon shut its side down after it */
	if (recv(sock, &byte, 1, 0) != 0) {
		r = failf(&x, -EBADMSG, "bytes after the arguments");
		goto out;
	}
	if (h.args_len && args[h.args_len - 1] != 0) {
		r = failf(&x, -EBADMSG, "the last argument is not terminated");
		goto out;
	}
	for (unsigned i = 0; i < x.n_fds; i++) {
		if (!fd_acceptable(x.fds[i])) {
			r = failf(&x, -EBADF, "a descriptor is not a regular file open read-only");
			goto out;
		}
	}
	r = place_fds(&x);
	if (r < 0)
		goto out;

	for (pos = 0; pos < h.args_len; pos += strlen(args + pos) + 1)
		argc++;
	/* argv[0], the arguments, NULL; then their bytes, in one block */
	argv = malloc((size_t)(argc + 2) * sizeof(*argv) + h.args_len + 1);
	if (!argv) {
		r = failf(&x, -ENOMEM, "out of memory");
		goto out;
	}
	{
		char *bytes = (char *)(argv + argc + 2);

		memcpy(bytes, args, h.args_len);
		argv[0] = (char *)"md-symbolize";
		for (int i = 0, off = 0; i < argc; i++) {
			argv[1 + i] = bytes + off;
			off += (int)strlen(bytes + off) + 1;
		}
		argv[argc + 1] = NULL;
	}
	*ret_argc = argc + 1;
	*ret_argv = argv;
	*ret_n_fds = x.n_fds;
	r = 0;
out:
	if (r < 0)
		for (unsigned i = 0; i < x.n_fds; i++)
			close(x.fds[i]);
	free(x.fds);
	free(args);
	return r;
}
