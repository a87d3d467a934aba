/* SPDX-License-Identifier: MIT */
/*
 * mdctl's side of the daemon connection: one request, one reply, with a deadline. The socket
 * comes from --socket, else $MINIDUMPD_SOCKET, else the system default.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdctl.h"
#include "md-os.h"

const char *mdctl_socket_path(const char *opt)
{
	const char *env = getenv("MINIDUMPD_SOCKET");

	if (opt)
		return opt;
	return env && *env ? env : MD_PROTO_SOCKET_DEFAULT;
}

/* Milliseconds left until start + deadline_ms; 0 when the time is up. */
static int time_left(int deadline_ms, int64_t start_ns)
{
	int64_t left = deadline_ms - (md_os_now_ns() - start_ns) / 1000000;

	return left > 0 ? (int)left : 0;
}

int mdctl_request(const char *socket_path, const void *msg, size_t len, int timeout_ms,
                  uint8_t *reply, size_t reply_size, struct md_proto_msg *ret_reply)
{
	struct md_platform_conn *conn;
	int64_t start;
	size_t got = 0, want = MD_PROTO_HEADER_SIZE;
	bool have_header = false;
	int r;

	/* the connection is the platform's: a Unix socket, or a named pipe on Windows */
	r = md_platform_conn_open(socket_path, &conn);
	if (r < 0)
		return r;
	start = md_os_now_ns();
	r = md_platform_conn_send(conn, msg, len, timeout_ms);
	if (r < 0)
		goto out;
	while (got < want) {
		int left = time_left(timeout_ms, start);

		if (left == 0) {
			r = -ETIMEDOUT;
			goto out;
		}
		r = md_platform_conn_recv(conn, reply + got, want - got, left);
		if (r < 0)
			goto out;
		got += (size_t)r;
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
	md_platform_conn_close(conn);
	return r;
}
