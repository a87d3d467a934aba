/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's capture jobs: a queue of at most MDD_DAEMON_MAX_QUEUED requests, at most
 * cfg->max_dumps of them running on libuv's thread pool at once, each with a time budget after
 * which its worker is told to give up. When a job is done the loop thread counts and logs it from
 * its typed report, replies to the app first, and only then hands the report to the journal,
 * which writes it off the loop thread: a crashing app never waits for the disk. Per-user
 * limits (md-fair.h) decide what runs, waits or is refused: one non-root user holds at most its
 * share of the workers and of the queue, and crashes start before requested dumps. Event loop
 * thread only (but mdd_capture_run).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-daemon.h"

static void start_next(struct mdd_daemon *d);

/* A crash, from the shim or the kernel: queued before requested dumps, outside users' shares. */
static bool is_crash(const struct mdd_job *job)
{
	return job->kind == MDD_JOB_CRASH || job->kind == MDD_JOB_COREDUMP;
}

struct mdd_fair_limits mdd_job_limits(const struct mdd_config *cfg)
{
	struct mdd_fair_limits l = {
	    .max_running = cfg->user_max_running,
	    .max_queued = cfg->user_max_queued,
	    .requests_burst = cfg->user_requests_burst,
	    .requests_per_min = cfg->user_requests_per_min,
	};

	if (!l.max_running)
		l.max_running = cfg->max_dumps / 2 ? cfg->max_dumps / 2 : 1;
	return l;
}

/* The figures of user p, created when create is set (NULL: none, or no memory). */
static struct mdd_fair_user *user_of(struct mdd_daemon *d, const struct md_principal *p,
                                     bool create)
{
	struct mdd_fair_user *u;

	for (size_t i = 0; i < d->n_users; i++)
		if (md_principal_equal(&d->users[i].user, p))
			return &d->users[i];
	if (!create)
		return NULL;
	u = realloc(d->users, (d->n_users + 1) * sizeof(*u));
	if (!u)
		return NULL;
	d->users = u;
	u = &d->users[d->n_users++];
	memset(u, 0, sizeof(*u));
	u->user = *p;
	return u;
}

/* Forgets users with nothing running or waiting and a full bucket. */
static void forget_idle_users(struct mdd_daemon *d)
{
	struct mdd_fair_limits l = mdd_job_limits(d->cfg);
	double now = md_now_ms();

	for (size_t i = 0; i < d->n_users;) {
		struct mdd_fair_user *u = &d->users[i];

		if (u->usage.running || u->usage.queued ||
		    !mdd_fair_bucket_full(&l, &u->bucket, now)) {
			i++;
			continue;
		}
		d->users[i] = d->users[--d->n_users];
	}
}

int mdd_job_take_token(struct mdd_conn *c)
{
	struct mdd_daemon *d = c->d;
	struct mdd_fair_limits l = mdd_job_limits(d->cfg);
	struct mdd_fair_user *u;
	char why[160 + MD_PRINCIPAL_STRING_MAX];

	if (md_principal_is_root(&c->peer.user) || !l.requests_burst)
		return 0;
	u = user_of(d, &c->peer.user, true);
	if (!u) {
		mdd_conn_send_error(c, -ENOMEM, "out of memory", false);
		return -ENOMEM;
	}
	if (mdd_fair_take(&l, &u->bucket, md_now_ms()))
		return 0;
	d->counters.refused++;
	mdd_log(MDD_LOG_WARNING,
	        "pid %u (uid %s): dump request refused, over the rate of %u per minute (burst %u)",
	        c->peer.pid, c->who, l.requests_per_min, l.requests_burst);
	snprintf(why, sizeof(why),
	         "too many dump requests from uid %s: at most %u at once and %u per minute; try "
	         "again later",
	         c->who, l.requests_burst, l.requests_per_min);
	mdd_conn_send_error(c, -EBUSY, why, false);
	return -EBUSY;
}

static void on_job_timer_closed(uv_handle_t *h)
{
	mdd_job_free(h->data);
}

static void on_budget(uv_timer_t *t)
{
	struct mdd_job *job = t->data;

	/* the worker sees this between steps, resumes the target and gives up */
	job->cancel = 1;
}

static void work_cb(uv_work_t *req)
{
	mdd_capture_run(req->data);
}

static void after_work_cb(uv_work_t *req, int status)
{
	struct mdd_job *job = req->data;
	struct mdd_daemon *d = job->d;
	struct mdd_conn *c = job->conn;

	d->running--;
	if (job->counted) {
		struct mdd_fair_user *u = user_of(d, &job->requester.user, false);

		if (u && u->usage.running)
			u->usage.running--;
		job->counted = false;
	}
	uv_timer_stop(&job->budget);
	if (job->has_report) {
		const struct md_report *r = &job->report;

		d->counters.dumps_ok++;
		d->counters.by_kind[job->kind]++;
		d->counters.bytes_written += r->bytes;
		d->counters.duration_ms_sum += r->duration_ms;
		d->counters.suspended_ms_sum += r->suspended_ms;
		d->counters.events[MDD_EVENT_PARTIAL] += r->partial;
		mdd_log_dump(
		    r, MDD_LOG_NOTICE,
		    "%s dump of pid %u (%s) saved: %s, %llu bytes, stopped %.1f ms, took %.1f "
		    "ms%s%s",
		    job->kind == MDD_JOB_CRASH      ? "crash"
		    : job->kind == MDD_JOB_DUMP_NOW ? "live"
		    : job->kind == MDD_JOB_COREDUMP ? "coredump"
		                                    : "requested",
		    job->pid, job->process_name, r->path ? r->path : "",
		    (unsigned long long)r->bytes, r->suspended_ms, r->duration_ms,
		    job->message[0] ? "; " : "", job->message);
		/* the app first: the journal and the metrics follow, off the loop thread */
		if (c)
			mdd_conn_send_report(c, r);
		mdd_journal_post(d, r, NULL);
		/* the stacks follow, off the crash path: the report is rewritten with them */
		if (d->symbolize)
			mdd_symbolize_post(d, &job->report);
	} else {
		d->counters.dumps_failed++;
		if (mdd_event_of_dump_error(job->error) != MDD_EVENT_COUNT)
			d->counters.events[mdd_event_of_dump_error(job->error)]++;
		mdd_log(MDD_LOG_ERR, "dump of pid %u failed: %s", job->pid, job->message);
		if (c)
			mdd_conn_send_error(c, job->error ? job->error : -EIO, job->message, false);
		mdd_journal_post(d, NULL, NULL);
	}
	if (c)
		c->job = NULL;
	uv_close((uv_handle_t *)&job->budget, on_job_timer_closed);
	start_next(d);
	forget_idle_users(d);
	if (d->stopping && d->running == 0 && d->queued == 0)
		mdd_server_stop(d);
}

static void start_job(struct mdd_daemon *d, struct mdd_job *job)
{
	int r;

	job->work.data = job;
	d->running++;
	if (!md_principal_is_root(&job->requester.user)) {
		struct mdd_fair_user *u = user_of(d, &job->requester.user, true);

		/* without memory for its figures the job runs uncounted */
		if (u) {
			u->usage.running++;
			job->counted = true;
		}
	}
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

static unsigned user_running(struct mdd_daemon *d, const struct md_principal *p)
{
	struct mdd_fair_user *u = user_of(d, p, false);

	return u ? u->usage.running : 0;
}

/* Starts waiting jobs while workers are free: crashes first, each user within its share. */
static void start_next(struct mdd_daemon *d)
{
	static struct mdd_fair_waiting w[MDD_DAEMON_MAX_QUEUED];
	struct mdd_fair_limits l = mdd_job_limits(d->cfg);

	while (d->queue_head && d->running < d->cfg->max_dumps) {
		struct mdd_job *job, *prev = NULL;
		size_t n = 0;
		long pick;

		for (job = d->queue_head; job && n < MDD_DAEMON_MAX_QUEUED;
		     job = job->next_queued) {
			w[n].is_crash = is_crash(job);
			w[n].is_root = md_principal_is_root(&job->requester.user);
			w[n].user_running =
			    w[n].is_root ? 0 : user_running(d, &job->requester.user);
			n++;
		}
		pick = mdd_fair_next(&l, w, n);
		if (pick < 0)
			return; /* every waiting job's user is at its share */
		job = d->queue_head;
		for (long i = 0; i < pick; i++) {
			prev = job;
			job = job->next_queued;
		}
		if (prev)
			prev->next_queued = job->next_queued;
		else
			d->queue_head = job->next_queued;
		if (d->queue_tail == job)
			d->queue_tail = prev;
		job->next_queued = NULL;
		d->queued--;
		if (!is_crash(job) && !w[pick].is_root) {
			struct mdd_fair_user *u = user_of(d, &job->requester.user, false);

			if (u && u->usage.queued)
				u->usage.queued--;
		}
		start_job(d, job);
	}
}

static char *dupstr(const char *s)
{
	return strdup(s ? s : "");
}

/* Builds a job for connection c; annotations from hello, overridden by the message's. */
struct mdd_job *mdd_job_new(struct mdd_conn *c, enum mdd_job_kind kind, uint32_t pid,
                            const struct md_proto_msg *m)
{
	struct mdd_job *job = calloc(1, sizeof(*job));

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
			mdd_job_free(job);
			return NULL;
		}
	}
	uv_timer_init(c->d->loop, &job->budget);
	job->budget.data = job;
	return job;
}

/* Puts job at the end of the queue, to start when a worker is free. */
static void enqueue(struct mdd_daemon *d, struct mdd_job *job)
{
	if (d->queue_tail)
		d->queue_tail->next_queued = job;
	else
		d->queue_head = job;
	d->queue_tail = job;
	d->queued++;
}

void mdd_job_submit(struct mdd_conn *c, struct mdd_job *job)
{
	struct mdd_daemon *d = c->d;
	struct mdd_fair_limits l = mdd_job_limits(d->cfg);
	bool root = md_principal_is_root(&c->peer.user), crash = is_crash(job);
	struct mdd_fair_user *u = root ? NULL : user_of(d, &c->peer.user, true);
	struct mdd_fair_usage none = {0};
	enum mdd_fair_verdict v;
	char why[200 + MD_PRINCIPAL_STRING_MAX];

	v = mdd_fair_admit(&l, u ? &u->usage : &none, root, crash, d->running, d->cfg->max_dumps,
	                   d->queued, MDD_DAEMON_MAX_QUEUED);
	if (v == MDD_FAIR_REFUSE_QUEUE || v == MDD_FAIR_REFUSE_SHARE) {
		d->counters.refused++;
		if (v == MDD_FAIR_REFUSE_QUEUE) {
			mdd_log(MDD_LOG_WARNING, "pid %u: refused, %u requests already waiting",
			        c->peer.pid, d->queued);
			snprintf(why, sizeof(why), "too many dumps waiting; try again later");
		} else {
			mdd_log(MDD_LOG_WARNING,
			        "pid %u (uid %s): refused, %u of its requests already waiting",
			        c->peer.pid, c->who, u->usage.queued);
			snprintf(why, sizeof(why),
			         "uid %s already has %u dump requests waiting (its share of the "
			         "queue); try again later",
			         c->who, u->usage.queued);
		}
		mdd_conn_send_error(c, -EBUSY, why, false);
		mdd_job_discard(job);
		return;
	}
	c->job = job;
	if (v == MDD_FAIR_RUN) {
		start_job(d, job);
		return;
	}
	if (!crash && u)
		u->usage.queued++;
	enqueue(d, job);
}

void mdd_server_submit(struct mdd_daemon *d, struct mdd_job *job)
{
	if (d->queued >= MDD_DAEMON_MAX_QUEUED) {
		d->counters.refused++;
		mdd_log(MDD_LOG_WARNING, "pid %u: refused, %u requests already waiting", job->pid,
		        d->queued);
		mdd_job_discard(job);
		return;
	}
	if (d->running < d->cfg->max_dumps) {
		start_job(d, job);
		return;
	}
	enqueue(d, job);
}

void mdd_job_discard(struct mdd_job *job)
{
	uv_close((uv_handle_t *)&job->budget, on_job_timer_closed);
}
