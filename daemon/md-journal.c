/* SPDX-License-Identifier: MIT */
/*
 * What the daemon writes besides dumps, written off the event loop thread: the journal
 * `reports.jsonl` (one report per line, in the order the captures finished), crash-loop
 * summaries, and the metrics file; and the periodic pass over the store. The loop thread only
 * queues: lines wait in a bounded list (MDD_DAEMON_JOURNAL_PENDING; more are dropped and
 * counted in the log) and one batch at a time goes to the thread pool, so lines stay in order
 * and whole. The journal is bounded: past MD_STORE_JOURNAL_MAX bytes it is renamed to
 * `reports.jsonl.1` (replacing the previous one) and started again, so it never holds more
 * than twice that. The metrics file is rewritten after each batch from a copy of the counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md-daemon.h"
#include "md-prune.h"
#include "md-store.h"

#define PATH_BYTES (4096 + MD_STORE_NAME_MAX + 2)

/* One report waiting for the journal; summary_id set for a crash-loop summary. */
struct line {
	char *text;
	char *summary_id; /* NULL but for a crash-loop summary */
};

struct mdd_journal {
	struct mdd_daemon *d;
	struct line *pending; /* MDD_DAEMON_JOURNAL_PENDING, loop thread */
	size_t n_pending;
	uint64_t dropped;
	bool metrics_due;
	bool busy; /* a batch is on the thread pool */
	uv_work_t work;
	/* the batch being written: the worker's while busy */
	struct line *batch;
	size_t n_batch;
	bool write_metrics;
	struct mdd_metrics_view view;
	int journal_error, summary_error, metrics_error;
};

/* Renames the journal to its .1 when adding len bytes would take it past the limit. */
static void rotate(const char *dir, size_t len)
{
	char path[PATH_BYTES], old[PATH_BYTES];
	struct md_os_stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, MD_STORE_JOURNAL);
	if (md_os_stat_nofollow(path, &st) < 0 || !st.is_file || st.size == 0 ||
	    st.size + len <= MD_STORE_JOURNAL_MAX)
		return;
	snprintf(old, sizeof(old), "%s/%s", dir, MD_STORE_JOURNAL_OLD);
	md_os_replace_file(path, old); /* on failure the journal grows until the next try */
}

static int append(const char *dir, const struct line *lines, size_t n)
{
	char path[PATH_BYTES], *buf;
	size_t len = 0, off = 0;
	int fd, r = 0;

	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i].text) + 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(lines[i].text);

		memcpy(buf + off, lines[i].text, l);
		buf[off + l] = '\n';
		off += l + 1;
	}
	rotate(dir, len);
	snprintf(path, sizeof(path), "%s/%s", dir, MD_STORE_JOURNAL);
	fd = md_os_open_write(path, MD_OS_APPEND, 0600);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	/* one write for the batch keeps its lines whole */
	r = md_os_write_full(fd, buf, len);
	close(fd);
out:
	free(buf);
	return r;
}

/* Writes a crash-loop summary, one line, as dir/<id>.json through a temporary file. */
static int write_summary(const struct mdd_config *cfg, const struct line *l)
{
	char name[MD_STORE_NAME_MAX], *text;
	int r;

	r = md_store_name(l->summary_id, MD_STORE_REPORT, name);
	if (r < 0)
		return r;
	if (asprintf(&text, "%s\n", l->text) < 0)
		return -ENOMEM;
	r = mdd_capture_write_file(cfg->dump_dir, name, text, -1, true);
	free(text);
	return r;
}

static void work(uv_work_t *req)
{
	struct mdd_journal *j = req->data;
	const struct mdd_config *cfg = j->d->cfg;

	j->journal_error = j->summary_error = j->metrics_error = 0;
	/* summaries first: whoever sees a line in the journal finds its summary too */
	for (size_t i = 0; i < j->n_batch; i++) {
		int r;

		if (!j->batch[i].summary_id)
			continue;
		r = write_summary(cfg, &j->batch[i]);
		if (r < 0)
			j->summary_error = r;
	}
	if (j->n_batch)
		j->journal_error = append(cfg->dump_dir, j->batch, j->n_batch);
	if (j->write_metrics)
		j->metrics_error = mdd_metrics_write(cfg->metrics_file, &j->view);
}

static void kick(struct mdd_journal *j);

static void done(uv_work_t *req, int status)
{
	struct mdd_journal *j = req->data;
	const struct mdd_config *cfg = j->d->cfg;

	if (j->journal_error < 0)
		mdd_log(MDD_LOG_WARNING, "cannot append to %s/%s: %s", cfg->dump_dir,
		        MD_STORE_JOURNAL, md_os_strerror(-j->journal_error));
	if (j->summary_error < 0)
		mdd_log(MDD_LOG_WARNING, "cannot write a crash-loop summary in %s: %s",
		        cfg->dump_dir, md_os_strerror(-j->summary_error));
	if (j->metrics_error < 0)
		mdd_log(MDD_LOG_WARNING, "cannot write metrics to %s: %s", cfg->metrics_file,
		        md_os_strerror(-j->metrics_error));
	for (size_t i = 0; i < j->n_batch; i++) {
		free(j->batch[i].text);
		free(j->batch[i].summary_id);
	}
	j->n_batch = 0;
	j->busy = false;
	kick(j);
}

static void kick(struct mdd_journal *j)
{
	struct mdd_daemon *d = j->d;
	struct line *swap;
	int r;

	if (j->busy || (j->n_pending == 0 && !j->metrics_due))
		return;
	if (j->dropped) {
		mdd_log(MDD_LOG_WARNING, "%llu reports not journaled: the journal fell behind",
		        (unsigned long long)j->dropped);
		j->dropped = 0;
	}
	/* the pending list becomes the batch; the batch's (empty) array takes new lines */
	swap = j->batch;
	j->batch = j->pending;
	j->n_batch = j->n_pending;
	j->pending = swap;
	j->n_pending = 0;
	j->write_metrics = j->metrics_due && d->cfg->metrics_file;
	j->metrics_due = false;
	j->view.counters = d->counters;
	j->view.connections = d->n_conns;
	j->view.in_flight = d->running + d->queued;
	j->busy = true;
	j->work.data = j;
	r = uv_queue_work(d->loop, &j->work, work, done);
	if (r < 0) {
		mdd_log(MDD_LOG_ERR, "cannot queue the journal: %s", uv_strerror(r));
		j->journal_error = j->summary_error = j->metrics_error = 0;
		done(&j->work, r);
	}
}

void mdd_journal_post(struct mdd_daemon *d, const struct md_report *r, const char *summary_id)
{
	struct mdd_journal *j = d->journal;

	if (!j)
		return;
	j->metrics_due = true;
	if (r) {
		char *text = md_report_to_text(r), *sid = summary_id ? strdup(summary_id) : NULL;

		if (!text || (summary_id && !sid) || j->n_pending >= MDD_DAEMON_JOURNAL_PENDING) {
			free(text);
			free(sid);
			j->dropped++;
		} else {
			j->pending[j->n_pending].text = text;
			j->pending[j->n_pending].summary_id = sid;
			j->n_pending++;
		}
	}
	kick(j);
}

/* ---- the periodic store pass ---- */

static void store_work(uv_work_t *req)
{
	struct mdd_daemon *d = req->data;
	struct mdd_store_stats st;

	if (mdd_store_prune(d->cfg, NULL, &st) == 0 && st.removed)
		mdd_log(MDD_LOG_NOTICE,
		        "store: removed %llu old items (%llu bytes) to stay within limits",
		        (unsigned long long)st.removed, (unsigned long long)st.removed_bytes);
}

static void store_done(uv_work_t *req, int status)
{
	struct mdd_daemon *d = req->data;

	d->store_busy = false;
	mdd_journal_post(d, NULL, NULL);
	free(req);
}

static void on_store_timer(uv_timer_t *t)
{
	struct mdd_daemon *d = t->data;
	uv_work_t *req;

	if (d->store_busy || d->stopping)
		return;
	req = calloc(1, sizeof(*req));
	if (!req)
		return;
	req->data = d;
	d->store_busy = true;
	if (uv_queue_work(d->loop, req, store_work, store_done) < 0) {
		d->store_busy = false;
		free(req);
	}
}

int mdd_journal_start(struct mdd_daemon *d)
{
	uint64_t every = (uint64_t)d->cfg->store_check_interval_s * 1000u;
	struct mdd_journal *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->d = d;
	j->pending = calloc(MDD_DAEMON_JOURNAL_PENDING, sizeof(*j->pending));
	j->batch = calloc(MDD_DAEMON_JOURNAL_PENDING, sizeof(*j->batch));
	if (!j->pending || !j->batch) {
		free(j->pending);
		free(j->batch);
		free(j);
		return -ENOMEM;
	}
	d->journal = j;
	/* the store is checked at start, then periodically (and after every dump) */
	uv_timer_init(d->loop, &d->store_timer);
	d->store_timer.data = d;
	if (every)
		uv_timer_start(&d->store_timer, on_store_timer, 0, every);
	return 0;
}

void mdd_journal_stop(struct mdd_daemon *d)
{
	if (!uv_is_closing((uv_handle_t *)&d->store_timer))
		uv_close((uv_handle_t *)&d->store_timer, NULL);
}

void mdd_journal_free(struct mdd_daemon *d)
{
	struct mdd_journal *j = d->journal;

	if (!j)
		return;
	/* the loop has run dry: no batch is in flight, nothing is pending */
	for (size_t i = 0; i < j->n_pending; i++) {
		free(j->pending[i].text);
		free(j->pending[i].summary_id);
	}
	free(j->pending);
	free(j->batch);
	free(j);
	d->journal = NULL;
}
