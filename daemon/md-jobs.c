/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's capture jobs: a queue of at most MD_DAEMON_MAX_QUEUED requests, at most
 * cfg->max_dumps of them running on libuv's thread pool at once, each with a time budget after
 * which its worker is told to give up. When a job is done the loop thread counts and logs it from
 * its typed report, replies to the app first, and only then hands the report to the journal,
 * which writes it off the loop thread: a crashing app never waits for the disk. Event loop
 * thread only (but md_capture_run).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-daemon.h"

static void start_next(struct md_daemon *d);

static void on_job_timer_closed(uv_handle_t *h)
{
	md_job_free(h->data);
}

static void on_budget(uv_timer_t *t)
{
	struct md_job *job = t->data;

	/* the worker sees this between steps, resumes the target and gives up */
	job->cancel = 1;
}

static void work_cb(uv_work_t *req)
{
	md_capture_run(req->data);
}

static void after_work_cb(uv_work_t *req, int status)
{
	struct md_job *job = req->data;
	struct md_daemon *d = job->d;
	struct md_conn *c = job->conn;

	d->running--;
	uv_timer_stop(&job->budget);
	if (job->has_report) {
		const struct md_report *r = &job->report;

		d->counters.dumps_ok++;
		d->counters.by_kind[job->kind]++;
		d->counters.bytes_written += r->bytes;
		d->counters.duration_ms_sum += r->duration_ms;
		d->counters.suspended_ms_sum += r->suspended_ms;
		d->counters.events[MD_EVENT_PARTIAL] += r->partial;
		md_log_dump(r, MD_LOG_NOTICE,
		       "%s dump of pid %u (%s) saved: %s, %llu bytes, stopped %.1f ms, took %.1f "
		       "ms%s%s",
		       job->kind == MD_JOB_CRASH      ? "crash"
		       : job->kind == MD_JOB_DUMP_NOW ? "live"
		                                      : "requested",
		       job->pid, job->process_name, r->path ? r->path : "",
		       (unsigned long long)r->bytes, r->suspended_ms, r->duration_ms,
		       job->message[0] ? "; " : "", job->message);
		/* the app first: the journal and the metrics follow, off the loop thread */
		if (c)
			md_conn_send_report(c, r);
		md_journal_post(d, r, NULL);
		/* the stacks follow, off the crash path: the report is rewritten with them */
		if (md_symbolize_enabled(d->cfg))
			md_symbolize_post(d, &job->report);
	} else {
		d->counters.dumps_failed++;
		if (md_event_of_dump_error(job->error) != MD_EVENT_COUNT)
			d->counters.events[md_event_of_dump_error(job->error)]++;
		md_log(MD_LOG_ERR, "dump of pid %u failed: %s", job->pid, job->message);
		if (c)
			md_conn_send_error(c, job->error ? job->error : -EIO, job->message, false);
		md_journal_post(d, NULL, NULL);
	}
	if (c)
		c->job = NULL;
	uv_close((uv_handle_t *)&job->budget, on_job_timer_closed);
	start_next(d);
	if (d->stopping && d->running == 0 && d->queued == 0)
		md_server_stop(d);
}

static void start_job(struct md_daemon *d, struct md_job *job)
{
	int r;

	job->work.data = job;
	d->running++;
	r = uv_queue_work(d->loop, &job->work, work_cb, after_work_cb);
	if (r < 0) {
		d->running--;
		snprintf(job->message, sizeof(job->message), "cannot start the dump: %s",
		         uv_strerror(r));
		job->error = -EIO;
		after_work_cb(&job->work, r);
		return;
	}
	uv_timer_start(&job->budget, on_budget, d->cfg->dump_budget_ms, 0);
}

static void start_next(struct md_daemon *d)
{
	while (d->queue_head && d->running < d->cfg->max_dumps) {
		struct md_job *job = d->queue_head;

		d->queue_head = job->next_queued;
		if (!d->queue_head)
			d->queue_tail = NULL;
		d->queued--;
		start_job(d, job);
	}
}

static char *dupstr(const char *s)
{
	return strdup(s ? s : "");
}

/* Builds a job for connection c; annotations from hello, overridden by the message's. */
struct md_job *md_job_new(struct md_conn *c, enum md_job_kind kind, uint32_t pid,
                          const struct md_proto_msg *m)
{
	struct md_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->d = c->d;
	job->conn = c;
	job->kind = kind;
	job->pid = pid;
	job->pidfd = -1;
	job->requester = c->peer;
	job->queued_ms = md_now_ms();
	snprintf(job->process_name, sizeof(job->process_name), "%s", c->name);
	for (size_t i = 0; i < c->n_annotations; i++) {
		job->keys[job->n_annotations] = dupstr(c->keys[i]);
		job->values[job->n_annotations] = dupstr(c->values[i]);
		job->n_annotations++;
	}
	for (size_t i = 0; m && i < m->n_annotations; i++) {
		size_t k;

		for (k = 0; k < job->n_annotations; k++)
			if (strcmp(job->keys[k], m->annotations[i].key) == 0)
				break;
		if (k == job->n_annotations) {
			if (job->n_annotations >= MD_PROTO_ANNOTATIONS_MAX)
				continue;
			job->keys[k] = dupstr(m->annotations[i].key);
			job->n_annotations++;
		} else {
			free(job->values[k]);
		}
		job->values[k] = dupstr(m->annotations[i].value);
	}
	for (size_t i = 0; i < job->n_annotations; i++) {
		if (!job->keys[i] || !job->values[i]) {
			md_job_free(job);
			return NULL;
		}
	}
	uv_timer_init(c->d->loop, &job->budget);
	job->budget.data = job;
	return job;
}

void md_job_submit(struct md_conn *c, struct md_job *job)
{
	struct md_daemon *d = c->d;

	if (d->queued >= MD_DAEMON_MAX_QUEUED) {
		d->counters.refused++;
		md_log(MD_LOG_WARNING, "pid %u: refused, %u requests already waiting", c->peer.pid,
		       d->queued);
		md_conn_send_error(c, -EBUSY, "too many dumps waiting; try again later", false);
		md_job_discard(job);
		return;
	}
	c->job = job;
	if (d->running < d->cfg->max_dumps) {
		start_job(d, job);
		return;
	}
	if (d->queue_tail)
		d->queue_tail->next_queued = job;
	else
		d->queue_head = job;
	d->queue_tail = job;
	d->queued++;
}

void md_job_discard(struct md_job *job)
{
	uv_close((uv_handle_t *)&job->budget, on_job_timer_closed);
}
