/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's connections: accepts them, learns each peer's identity from the kernel (never
 * from its messages), enforces the connection limits, reads framed messages with a size limit
 * and a deadline, hands each whole message to md-dispatch.c, and queues replies. Event loop
 * thread only. Every failure is logged once here, where it is decided.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md-daemon.h"

struct write_req {
	uv_write_t req;
	bool close_after;
	uint8_t data[];
};

static void on_written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct mdd_conn *c = req->data;

	if (w->close_after && c)
		mdd_conn_close(c);
	free(w);
}

/* Queues one encoded message to the peer; closes the connection after it if asked. */
static void send_msg(struct mdd_conn *c, const struct md_proto_enc *e, int n, bool close_after)
{
	struct write_req *w;
	uv_buf_t b;

	if (c->closing)
		return;
	if (n < 0) {
		mdd_log(MDD_LOG_ERR, "pid %u: cannot encode a reply: %s", c->peer.pid,
		        md_os_strerror(-n));
		mdd_conn_close(c);
		return;
	}
	w = malloc(sizeof(*w) + (size_t)n);
	if (!w) {
		mdd_conn_close(c);
		return;
	}
	memcpy(w->data, e->buf, (size_t)n);
	w->close_after = close_after;
	w->req.data = c;
	b = uv_buf_init((char *)w->data, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) < 0) {
		free(w);
		mdd_conn_close(c);
	}
}

void mdd_conn_send_error(struct mdd_conn *c, int error, const char *text, bool close_after)
{
	static uint8_t buf[MD_PROTO_MAX_MESSAGE];
	struct md_proto_enc e;

	md_proto_begin(&e, buf, sizeof(buf), MD_MSG_ERROR);
	md_proto_put_u32(&e, MD_TAG_ERRNO, (uint32_t)error);
	md_proto_put_str(&e, MD_TAG_TEXT, text);
	send_msg(c, &e, md_proto_finish(&e), close_after);
}

void mdd_conn_send_text(struct mdd_conn *c, enum md_proto_type type, const char *text)
{
	static uint8_t buf[MD_PROTO_MAX_MESSAGE];
	struct md_proto_enc e;

	md_proto_begin(&e, buf, sizeof(buf), type);
	md_proto_put_str(&e, MD_TAG_TEXT, text);
	send_msg(c, &e, md_proto_finish(&e), false);
}

void mdd_conn_send_report(struct mdd_conn *c, const struct md_report *r)
{
	static uint8_t buf[MD_PROTO_MAX_MESSAGE];
	struct md_report small = *r; /* a shallow copy: to_json only reads it */
	struct md_proto_enc e;
	char *text = md_report_to_text(r);
	int n;

	if (!text) {
		mdd_conn_send_error(c, -ENOMEM, "out of memory", false);
		return;
	}
	md_proto_begin(&e, buf, sizeof(buf), MD_MSG_RESULT);
	md_proto_put_str(&e, MD_TAG_TEXT, text);
	n = md_proto_finish(&e);
	free(text);
	if (n == -EMSGSIZE) {
		/* a report with thousands of problems: send the essentials, the file has it all */
		small.truncated = true;
		text = md_report_to_text(&small);
		md_proto_begin(&e, buf, sizeof(buf), MD_MSG_RESULT);
		md_proto_put_str(&e, MD_TAG_TEXT, text ? text : "{\"truncated\":true}");
		free(text);
		n = md_proto_finish(&e);
	}
	send_msg(c, &e, n, false);
}

void mdd_conn_send_pong(struct mdd_conn *c)
{
	static uint8_t out[64];
	struct md_proto_enc e;

	md_proto_begin(&e, out, sizeof(out), MD_MSG_PONG);
	md_proto_put_u32(&e, MD_TAG_VERSION, MD_PROTO_VERSION);
	send_msg(c, &e, md_proto_finish(&e), false);
}

void mdd_conn_free_annotations(size_t *n, char **keys, char **values)
{
	for (size_t i = 0; i < *n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	*n = 0;
}

static void on_conn_handle_closed(uv_handle_t *h)
{
	struct mdd_conn *c = h->data;

	if (--c->open_handles > 0)
		return;
	mdd_conn_free_annotations(&c->n_annotations, c->keys, c->values);
	free(c->buf);
	free(c);
}

void mdd_conn_close(struct mdd_conn *c)
{
	struct mdd_daemon *d = c->d;

	if (c->closing)
		return;
	c->closing = true;
	if (c->job)
		c->job->conn = NULL; /* the capture goes on; nobody is left to tell */
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->n_conns--;
	uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
	uv_close((uv_handle_t *)&c->pipe, on_conn_handle_closed);
}

/* ---- reading ---- */

static void on_message_deadline(uv_timer_t *t)
{
	struct mdd_conn *c = t->data;

	c->d->counters.bad_messages++;
	c->d->counters.events[MDD_EVENT_TIMED_OUT]++;
	mdd_log(MDD_LOG_WARNING,
	        "pid %u (uid %s): message not completed within %d ms; disconnected", c->peer.pid,
	        c->who, MDD_DAEMON_MESSAGE_MS);
	mdd_conn_send_error(c, -ETIMEDOUT, "message not completed in time", true);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct mdd_conn *c = h->data;

	if (!c->buf)
		c->buf = malloc(MD_PROTO_MAX_MESSAGE);
	if (!c->buf || c->len >= MD_PROTO_MAX_MESSAGE) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(MD_PROTO_MAX_MESSAGE - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct mdd_conn *c = stream->data;

	if (nread < 0) {
		if (nread == UV_EOF && c->len > 0) {
			/* it stopped in the middle of a message: say so, to the peer if it still
			 * reads */
			char text[128];

			c->d->counters.bad_messages++;
			c->d->counters.events[MDD_EVENT_TRUNCATED]++;
			snprintf(
			    text, sizeof(text),
			    "connection closed in the middle of a message (%zu bytes received)",
			    c->len);
			mdd_log(MDD_LOG_WARNING, "pid %u (uid %s): %s", c->peer.pid, c->who, text);
			mdd_conn_send_error(c, -EBADMSG, text, true);
			return;
		}
		if (nread != UV_EOF)
			mdd_log(MDD_LOG_INFO, "pid %u: connection error: %s", c->peer.pid,
			        uv_strerror((int)nread));
		mdd_conn_close(c);
		return;
	}
	if (nread == 0 && c->buf == NULL) {
		mdd_conn_close(c); /* out of memory in on_alloc */
		return;
	}
	c->len += (size_t)nread;
	while (!c->closing && c->len >= MD_PROTO_HEADER_SIZE) {
		enum md_proto_type type;
		int r = md_proto_header(c->buf, &type);
		size_t total;

		if (r < 0) {
			char text[128];

			c->d->counters.bad_messages++;
			c->d->counters.events[mdd_event_of_header_error(r)]++;
			snprintf(text, sizeof(text), "bad message header: %s",
			         r == -EBADMSG           ? "not the minidumpd protocol"
			         : r == -EPROTONOSUPPORT ? "unsupported protocol version"
			         : r == -EMSGSIZE        ? "message over the size limit"
			                                 : "unknown message type");
			mdd_log(MDD_LOG_WARNING, "pid %u (uid %s): %s", c->peer.pid, c->who, text);
			mdd_conn_send_error(c, r, text, true);
			return;
		}
		total = MD_PROTO_HEADER_SIZE + (size_t)r;
		if (c->len < total)
			break;
		mdd_dispatch_message(c, c->buf, total);
		if (c->closing)
			return;
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
	}
	if (c->closing)
		return;
	if (c->len == 0) {
		uv_timer_stop(&c->timer);
		free(c->buf); /* idle connections hold no buffer */
		c->buf = NULL;
	} else if (!uv_is_active((uv_handle_t *)&c->timer)) {
		uv_timer_start(&c->timer, on_message_deadline, MDD_DAEMON_MESSAGE_MS, 0);
	}
}

void mdd_conn_accept(uv_stream_t *server, int status)
{
	struct mdd_daemon *d = server->data;
	struct mdd_conn *c;
	int r;

	if (status < 0) {
		mdd_log(MDD_LOG_ERR, "accept failed: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->d = d;
	c->pidfd = -1;
	uv_pipe_init(d->loop, &c->pipe, 0);
	uv_timer_init(d->loop, &c->timer);
	c->pipe.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	d->n_conns++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		mdd_conn_close(c);
		return;
	}
	d->counters.connections++;
	if (md_listen_peer(&c->pipe, &c->peer) == 0) {
		c->has_peer = true;
		md_principal_to_string(&c->peer.user, c->who, sizeof(c->who));
	}
	if (!c->has_peer) {
		mdd_log(MDD_LOG_WARNING, "connection without kernel credentials refused");
		mdd_conn_send_error(c, -EPERM, "peer credentials unavailable", true);
		return;
	}
	if (!md_principal_is_root(&c->peer.user) && !d->stopping) {
		/* one user's idle connections may not lock out everyone else */
		unsigned same = 0;

		for (struct mdd_conn *o = d->conns; o; o = o->next)
			same += o->has_peer && md_principal_equal(&o->peer.user, &c->peer.user);
		if (same > MDD_DAEMON_MAX_CONNECTIONS_PER_UID) {
			d->counters.refused++;
			mdd_log(MDD_LOG_WARNING,
			        "pid %u (uid %s) refused: too many connections from uid %s",
			        c->peer.pid, c->who, c->who);
			mdd_conn_send_error(c, -EBUSY, "too many connections from this user", true);
			return;
		}
	}
	if (d->n_conns > MDD_DAEMON_MAX_CONNECTIONS || d->stopping) {
		d->counters.refused++;
		mdd_log(MDD_LOG_WARNING, "pid %u (uid %s) refused: %s", c->peer.pid, c->who,
		        d->stopping ? "shutting down" : "too many connections");
		mdd_conn_send_error(
		    c, d->stopping ? -ECANCELED : -EBUSY,
		    d->stopping ? "minidumpd is shutting down" : "too many connections", true);
		return;
	}
	c->pidfd = mdd_listen_pin_peer(&c->pipe, &c->peer); /* < 0: gone, served no dump */
	r = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	if (r < 0)
		mdd_conn_close(c);
}
