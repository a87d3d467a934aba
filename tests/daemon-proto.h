/* SPDX-License-Identifier: MIT */
/*
 * A raw protocol client of the daemon under test (D.sock), for the suites that send what a
 * well-behaved client never would, or ask from forked children (daemon-proto.c): connect, send,
 * read one whole message within a deadline, build headers and requests, the daemon's status
 * over the protocol, and children running as another user. What returns an error code never
 * ck_asserts, so that forked children may use it.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "md-proto.h"

#define REPLY_MS 10000 /* ms to wait for a reply that must come */

/* A new connection to D.sock, or -errno. A write to it after the daemon closed its end fails
 * with EPIPE instead of killing the test (SIGPIPE is ignored from the first call on). */
int connect_daemon(void);

/* Writes all of data, ignoring a peer that closed early (it may have answered already). */
void send_all(int fd, const void *data, size_t len);

/* Reads one whole message within timeout_ms; m points into a static buffer until the next
 * call. Returns 0, -ETIMEDOUT, -ECONNRESET (closed before a whole message), or the decoder's
 * error. */
int recv_msg(int fd, int timeout_ms, struct md_proto_msg *m);

/* Sends data on a new connection, half-closes it when shut, and reads the reply within
 * timeout_ms into m (as recv_msg()). Returns 0, the connect's -errno or a recv_msg() error. */
int daemon_request(const void *data, size_t len, bool shut, int timeout_ms, struct md_proto_msg *m);

/* The errno of an ERROR reply (-EPROTO for one without a negative errno), 0 for any other. */
int reply_errno(const struct md_proto_msg *m);

/* True when the peer has closed: a read gives end of file within timeout_ms. */
bool peer_closed(int fd, int timeout_ms);

/* Reads exactly len bytes from fd within timeout_ms. Returns 0, -ETIMEDOUT, -EPIPE (end of file
 * first) or -errno. */
int read_full(int fd, void *buf, size_t len, int timeout_ms);

/* The 16-byte header with any fields. */
void put_header(uint8_t *h, uint32_t magic, uint16_t version, uint16_t type, uint32_t len);

/* A message of type with no fields (a status request, a dump-now). Returns its size or the
 * encoder's error. */
int encode_bare(uint8_t *buf, size_t size, enum md_proto_type type);

int encode_ping(uint8_t *buf, size_t size);

int encode_dump_request(uint8_t *buf, size_t size, pid_t pid);

/* Sends data on a new connection (as daemon_request(), within REPLY_MS) and returns the reply's
 * errno for an ERROR (and its text in text), 0 for any other message, or a negative connect or
 * recv_msg() error. */
int exchange(const void *data, size_t len, bool shut, char *text, size_t text_size);

/* The daemon answers a ping on a new connection. */
void assert_serving(void);

/* The daemon's status counters (a status request on a new connection); see daemon-util.h's
 * status_*_in() for reading them. */
json_t *daemon_status(void);

/* A child process running as uid, its group the same number, no other groups; returns its pid
 * (0 in the child). Like any process that did not change its credentials it is dumpable (the
 * kernel clears that flag on setresuid; a login's processes have it from their exec), and it is
 * killed when the test process ends. */
pid_t fork_as(uid_t uid);
