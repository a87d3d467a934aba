/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's server: starts listening (connections are md-conn.c's), the journal and the
 * store timer (md-journal.c), and stops them in order on SIGTERM: no new connections, the dumps
 * in flight and queued finish, then every handle is closed so the loop runs dry. Event loop
 * thread only.
 */

#include "md-daemon.h"

int mdd_server_start(struct mdd_daemon *d, int listen_fd)
{
	int r;

	r = mdd_journal_start(d);
	if (r < 0)
		return r;
	d->started_ms = md_now_ms();
	r = uv_pipe_init(d->loop, &d->server, 0);
	if (r < 0)
		return r;
	d->server.data = d;
	r = mdd_listen_attach(&d->server, listen_fd);
	if (r < 0)
		return r;
	return uv_listen((uv_stream_t *)&d->server, 256, mdd_conn_accept);
}

void mdd_server_stop(struct mdd_daemon *d)
{
	if (!d->stopping) {
		d->stopping = true;
		uv_close((uv_handle_t *)&d->server, NULL);
		mdd_coredump_stop(d);
		mdd_log(MDD_LOG_NOTICE, "stopping: %u dumps in flight, %u queued", d->running,
		        d->queued);
	}
	if (d->running > 0 || d->queued > 0)
		return; /* the jobs call us again when the last one is done */
	while (d->conns)
		mdd_conn_close(d->conns);
	mdd_symbolize_stop(d); /* a stack on its way still finishes; the waiting ones are dropped */
	mdd_journal_stop(d);
	if (!uv_is_closing((uv_handle_t *)&d->sigterm))
		uv_close((uv_handle_t *)&d->sigterm, NULL);
	if (!uv_is_closing((uv_handle_t *)&d->sigint))
		uv_close((uv_handle_t *)&d->sigint, NULL);
}
