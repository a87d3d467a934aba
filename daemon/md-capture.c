/* SPDX-License-Identifier: MIT */
/*
 * One capture job, run on libuv's thread pool so a slow dump never stalls the event loop: the
 * capture itself is common/md-capture.c (stop the target, write the dump under a temporary
 * name, resume, give it its final name); this file adds what is the daemon's own: the job's
 * options, the file group, the owner check, the JSON report beside the dump, the upload ticket
 * and the store's limits. With the privilege split (md-privsep.h) the capture itself runs in
 * md-capture-worker, which this thread asks and waits for; without it (not started as root,
 * "user": "root", an OS without a split) the whole attach, read and detach happens on this one
 * thread (ptrace ties a tracee to the thread that attached). It never logs: it leaves the
 * outcome in the job for the loop thread to log and send.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "md-access.h"
#include "md-capture.h"
#include "md-daemon.h"
#include "md-os.h"
#include "md-output.h"
#include "md-privsep.h"
#include "md-prune.h"
#include "md-report.h"
#include "md-store.h"

_Static_assert(MDD_PRIVSEP_ANNOTATIONS == MD_PROTO_ANNOTATIONS_MAX &&
                   MDD_PRIVSEP_KEY_MAX == MD_PROTO_KEY_MAX + 1 &&
                   MDD_PRIVSEP_VALUE_MAX == MD_PROTO_VALUE_MAX + 1 &&
                   MDD_PRIVSEP_NAME_MAX == MD_PROTO_NAME_MAX + 1,
               "the worker's request holds what a client may send");

/* What a capture left for the report: in this process, its snapshot; through the worker, the
 * worker's figures laid out as a snapshot. */
struct outcome {
	struct md_capture_result res;
	struct mdd_privsep_result *ps;
	struct md_snapshot snap;
	struct md_crash_info crash;
	const struct md_snapshot *s;
	bool private_; /* the dump is root's alone */
};

static enum md_report_kind report_kind(enum mdd_job_kind k)
{
	switch (k) {
	case MDD_JOB_CRASH:
		return MD_REPORT_KIND_CRASH;
	case MDD_JOB_DUMP_NOW:
		return MD_REPORT_KIND_DUMP_NOW;
	case MDD_JOB_REQUEST:
		return MD_REPORT_KIND_REQUEST;
	case MDD_JOB_COREDUMP:
		return MD_REPORT_KIND_COREDUMP;
	case MDD_JOB_KINDS:
		break;
	}
	return MD_REPORT_KIND_NONE;
}

int mdd_capture_write_file(const char *dir, const char *name, const char *text, int64_t gid,
                           bool replace)
{
	struct md_output o;
	int r;

	r = md_output_open(&o, dir);
	if (r < 0)
		return r;
	if (gid >= 0 && (r = md_platform_set_file_group(o.fd, gid)) < 0) {
		md_output_abort(&o);
		return r;
	}
	r = md_os_write_full(o.fd, text, strlen(text));
	if (r < 0) {
		md_output_abort(&o);
		return r;
	}
	r = md_output_commit(&o, name, replace);
	md_output_abort(&o);
	return r;
}

static void fail(struct mdd_job *job, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct mdd_job *job, int error, const char *fmt, ...)
{
	va_list ap;

	job->error = error;
	va_start(ap, fmt);
	vsnprintf(job->message, sizeof(job->message), fmt, ap);
	va_end(ap);
}

/* Readable by the configured group (for example the uploader's): each file, before it is
 * written. */
static int give_to_group(void *ctx, int fd)
{
	struct mdd_job *job = ctx;

	if (job->d->cfg->dump_gid < 0 || (job->core && job->not_dumpable))
		return 0; /* a task not dumpable by its user: root's alone */
	return md_platform_set_file_group(fd, job->d->cfg->dump_gid);
}

static struct mdd_access_expect expect_of(const struct mdd_job *job)
{
	const struct md_peer *rq = &job->requester;

	return (struct mdd_access_expect){
	    .requester_uid = rq->user.id,
	    .requester_root = md_principal_is_root(&rq->user),
	    /* whose process it must be: the peer's own, or the owner a request was allowed for */
	    .uid = job->kind == MDD_JOB_REQUEST ? job->owner.id : rq->user.id,
	    .check_gid = job->kind != MDD_JOB_REQUEST,
	    .gid = rq->group.id,
	    .caps = rq->caps,
	};
}

int mdd_access_check(struct mdd_job *job)
{
	const struct mdd_access_expect e = expect_of(job);
	int r = mdd_access_decide(&e, job->pid, job->pidfd, &job->not_dumpable, NULL, job->message,
	                          sizeof(job->message));

	if (r < 0)
		job->error = r;
	return r;
}

/* Once the target is stopped it can no longer change (exec a setuid program, change its
 * credentials): check again that the requester may dump it (md-access.c). */
static int check_access(void *ctx, const struct md_snapshot *s)
{
	return mdd_access_check(ctx);
}

/* Step 1, in this process: the dump itself, into the dump folder under its default name. */
static int capture_here(struct mdd_job *job, const struct md_backend_options *core,
                        struct outcome *out)
{
	const struct mdd_config *cfg = job->d->cfg;
	const struct md_capture_options o = {
	    .backend = job->core ? mdd_coredump_backend() : &md_platform_live_backend,
	    .pid = job->pid,
	    .snapshot =
	        {
	            .cancel = &job->cancel,
	            .deadline_ms = md_now_ms() + (double)cfg->dump_budget_ms,
	            /* stopping gets half the budget; the rest is for reading and writing */
	            .stop_deadline_ms = md_now_ms() + (double)cfg->dump_budget_ms / 2.0,
	            .crash = job->has_crash ? &job->crash : NULL,
	            .pidfd = job->pidfd,
	            .source = job->core ? core->source : NULL,
	        },
	    .dump =
	        {
	            .cancel = &job->cancel,
	            .max_bytes = cfg->dump_max_bytes,
	            .annotation_keys = (const char *const *)job->keys,
	            .annotation_values = (const char *const *)job->values,
	            .n_annotations = job->n_annotations,
	        },
	    .dir = cfg->dump_dir,
	    .compress = cfg->store_compress,
	    .exe_hint = job->process_name,
	    .prepare_file = give_to_group,
	    .stopped = job->core ? NULL : check_access, /* the kernel is the requester */
	    .ctx = job,
	};
	int r = md_capture_dump(&o, &out->res);

	out->s = out->res.snapshot;
	out->private_ = job->core && job->not_dumpable;
	return r;
}

static void fill_request(const struct mdd_job *job, struct mdd_privsep_request *q)
{
	const struct mdd_config *cfg = job->d->cfg;

	q->op = job->core ? MDD_PRIVSEP_OP_CORE : MDD_PRIVSEP_OP_LIVE;
	q->pid = job->pid;
	q->budget_ms = cfg->dump_budget_ms;
	q->max_bytes = cfg->dump_max_bytes;
	if (job->has_crash) {
		q->flags |= MDD_PRIVSEP_HAS_CRASH;
		q->crash = job->crash;
	}
	if (!job->core) {
		const struct mdd_access_expect e = expect_of(job);

		/* the same check as before attaching, by the worker once the target is stopped */
		q->flags |= MDD_PRIVSEP_CHECK | (e.check_gid ? MDD_PRIVSEP_CHECK_GID : 0) |
		            (e.requester_root ? MDD_PRIVSEP_ROOT_ASKS : 0);
		q->requester_uid = e.requester_uid;
		q->uid = e.uid;
		q->gid = e.gid;
		q->caps = e.caps;
	} else if (job->not_dumpable) {
		q->flags |= MDD_PRIVSEP_PRIVATE;
	}
	if (cfg->store_compress)
		q->flags |= MDD_PRIVSEP_COMPRESS;
	snprintf(q->exe_hint, sizeof(q->exe_hint), "%s", job->process_name);
	for (size_t i = 0; i < job->n_annotations && i < MDD_PRIVSEP_ANNOTATIONS; i++) {
		snprintf(q->keys[i], sizeof(q->keys[i]), "%s", job->keys[i]);
		snprintf(q->values[i], sizeof(q->values[i]), "%s", job->values[i]);
		q->n_annotations++;
	}
}

/* The worker's figures as the capture result and snapshot the report is built from. */
static void take_result(struct outcome *out, const char *dir)
{
	const struct mdd_privsep_result *ps = out->ps;
	struct md_capture_result *res = &out->res;
	struct md_snapshot *s = &out->snap;

	snprintf(res->name, sizeof(res->name), "%s", ps->name);
	snprintf(res->path, sizeof(res->path), "%s/%s", dir, ps->name);
	res->bytes_on_disk = ps->bytes_on_disk;
	res->time = (time_t)ps->time;
	res->started_ms = ps->started_ms;
	res->duration_ms = ps->duration_ms;
	res->suspended_ms = ps->suspended_ms;
	res->dump.bytes = ps->bytes;
	res->dump.threads = ps->threads;
	res->dump.modules = ps->modules;
	res->dump.memory_ranges = ps->memory_ranges;
	res->dump.memory_bytes = ps->memory_bytes;
	res->dump.n_streams = ps->n_streams;
	for (uint32_t i = 0; i < ps->n_streams; i++) {
		res->dump.streams[i].type = ps->streams[i].type;
		res->dump.streams[i].name = ps->streams[i].name;
		res->dump.streams[i].status = (enum md_stream_status)ps->streams[i].status;
		res->dump.streams[i].error = ps->streams[i].error;
		res->dump.streams[i].bytes = ps->streams[i].bytes;
	}
	res->dump.partial = ps->flags & MDD_PRIVSEP_R_PARTIAL;
	res->dump.budget_cut = ps->flags & MDD_PRIVSEP_R_BUDGET_CUT;
	s->process.pid = ps->pid;
	s->process.uid = ps->uid;
	snprintf(s->process.exe, sizeof(s->process.exe), "%s", ps->exe);
	s->requesting_tid = ps->requesting_tid;
	s->target_gone = ps->flags & MDD_PRIVSEP_R_TARGET_GONE;
	if (ps->flags & MDD_PRIVSEP_R_HAS_CRASH) {
		out->crash.tid = ps->crash_tid;
		out->crash.code = ps->crash_code;
		out->crash.flags = ps->crash_flags;
		out->crash.address = ps->crash_address;
		s->crash = &out->crash;
	}
	s->diag.dropped = ps->diag_dropped;
	s->diag.entries = calloc(ps->n_diag ? ps->n_diag : 1, sizeof(*s->diag.entries));
	if (!s->diag.entries) {
		s->diag.dropped += ps->n_diag;
	} else {
		for (uint32_t i = 0; i < ps->n_diag; i++) {
			struct md_diag_entry *e = &s->diag.entries[i];

			e->kind = (enum md_diag_kind)ps->diag[i].kind;
			e->id = ps->diag[i].id;
			e->error = ps->diag[i].error;
			snprintf(e->message, sizeof(e->message), "%s", ps->diag[i].message);
		}
		s->diag.count = ps->n_diag;
	}
	out->s = s;
}

/* Step 1, through the worker: the same, with the request's checks made there once stopped. */
static int capture_in_worker(struct mdd_job *job, const struct md_backend_options *core,
                             struct outcome *out)
{
	struct md_core_source *src = job->core ? (struct md_core_source *)core->source : NULL;
	struct mdd_privsep_request *q = calloc(1, sizeof(*q));
	double started, finished;
	char why[200];
	int r;

	out->ps = calloc(1, sizeof(*out->ps));
	if (!q || !out->ps) {
		free(q);
		out->res.step = MD_CAPTURE_STEP_OPEN;
		return -ENOMEM;
	}
	fill_request(job, q);
	started = md_now_ms();
	r = mdd_privsep_call(q, job->pidfd, src ? src->fd : -1, out->ps, why, sizeof(why));
	finished = md_now_ms();
	free(q);
	if (r < 0) {
		/* named by the caller as a failure to stop the target, with the reason */
		out->res.step = MD_CAPTURE_STEP_STOPPED;
		fail(job, r, "cannot dump process %u: %s", job->pid, why);
		return r;
	}
	out->private_ = out->ps->flags & MDD_PRIVSEP_R_PRIVATE;
	if (out->ps->flags & MDD_PRIVSEP_R_NOT_DUMPABLE) {
		job->not_dumpable = true;
		snprintf(job->message, sizeof(job->message), "%s", out->ps->message);
	}
	if (src && src->error && out->ps->message[0])
		snprintf(src->error, src->error_size, "%s", out->ps->message);
	r = out->ps->error;
	out->res.step = (enum md_capture_step)out->ps->step;
	if (r < 0 && out->res.step == MD_CAPTURE_STEP_STOPPED) {
		job->error = r; /* the worker's access check said why */
		snprintf(job->message, sizeof(job->message), "%s", out->ps->message);
	}
	if (r >= 0) {
		take_result(out, job->d->cfg->dump_dir);
		/* as this thread saw it: the trip to the worker is part of the dump's time */
		out->res.started_ms = started;
		out->res.duration_ms = finished - started;
	}
	return r;
}

/* Step 1: the dump itself, here or in the worker, and the failure worded from its step. */
static int capture(struct mdd_job *job, const struct md_backend_options *core, struct outcome *out)
{
	const struct mdd_config *cfg = job->d->cfg;
	int r;

	r = mdd_privsep_active() ? capture_in_worker(job, core, out) : capture_here(job, core, out);
	switch (r < 0 ? out->res.step : MD_CAPTURE_STEP_DONE) {
	case MD_CAPTURE_STEP_OPEN:
	case MD_CAPTURE_STEP_NAME:
		fail(job, r, "cannot create a file in %s: %s", cfg->dump_dir, md_os_strerror(-r));
		break;
	case MD_CAPTURE_STEP_PREPARE:
		fail(job, r, "cannot give the dump to group %lld: %s", (long long)cfg->dump_gid,
		     md_os_strerror(-r));
		break;
	case MD_CAPTURE_STEP_SNAPSHOT:
		if (job->core) {
			fail(job, r, "cannot read the core of process %u: %s (%s)", job->pid,
			     r == -ECANCELED ? "time budget exceeded" : md_os_strerror(-r),
			     ((const struct md_core_source *)core->source)->error);
			break;
		}
		fail(job, r, "cannot stop process %u: %s", job->pid,
		     r == -ECANCELED   ? "time budget exceeded"
		     : r == -ETIMEDOUT ? "no thread could be stopped (asleep in the kernel)"
		                       : md_os_strerror(-r));
		break;
	case MD_CAPTURE_STEP_STOPPED:
		break; /* mdd_access_check said why */
	case MD_CAPTURE_STEP_WRITE:
		fail(job, r, "cannot write the dump of process %u: %s", job->pid,
		     r == -ECANCELED ? "time budget exceeded" : md_os_strerror(-r));
		break;
	case MD_CAPTURE_STEP_COMPRESS:
		fail(job, r, "cannot compress the dump: %s", md_os_strerror(-r));
		break;
	case MD_CAPTURE_STEP_COMMIT:
		fail(job, r, "cannot save the dump in %s: %s", cfg->dump_dir, md_os_strerror(-r));
		break;
	case MD_CAPTURE_STEP_DONE:
		break;
	}
	return r;
}

/* Step 2: the typed report in job->report: the dump's figures, then the daemon's and the
 * store's. */
static int build_report(struct mdd_job *job, const struct outcome *out, const char *id,
                        const char *report_path)
{
	const struct md_capture_result *res = &out->res;
	const struct mdd_config *cfg = job->d->cfg;
	struct md_report *r = &job->report;
	const struct md_report_times times = {.duration_ms = res->duration_ms,
	                                      .suspended_ms = res->suspended_ms};
	const char *sig = job->has_crash ? md_linux_signal_to_string(job->crash.code) : NULL;
	struct tm tm;
	int e = 0;

	e |= md_report_from_snapshot(r, out->s, &res->dump, res->path, &times);
	e |= md_report_set(&r->id, id);
	e |= md_report_set(&r->report_path, report_path);
	e |= md_report_set(&r->process_name, job->process_name);
	for (size_t i = 0; i < job->n_annotations; i++)
		e |= md_report_annotate(r, job->keys[i], job->values[i]);
	if (e) {
		md_report_done(r);
		fail(job, -ENOMEM, "out of memory building the report");
		return -ENOMEM;
	}
	r->compressed = cfg->store_compress;
	r->bytes_on_disk = res->bytes_on_disk;
	r->kind = report_kind(job->kind);
	gmtime_r(&res->time, &tm);
	strftime(r->time, sizeof(r->time), "%Y-%m-%dT%H:%M:%SZ", &tm);
	r->requested_by_pid = job->requester.pid;
	r->requested_by_uid = job->requester.user.id;
	r->queued_ms = res->started_ms - job->queued_ms;
	r->not_dumpable = job->not_dumpable;
	snprintf(r->signal, sizeof(r->signal), "%s", sig ? sig : "");
	if (job->has_crash && r->has_crash)
		r->crash.si_code = (int32_t)job->crash.flags;
	if (job->core && mdd_coredump_report(job, r) < 0) {
		md_report_done(r);
		fail(job, -ENOMEM, "out of memory building the report");
		return -ENOMEM;
	}
	job->has_report = true;
	return 0;
}

/* Step 3: the report beside the dump, and the uploader's ticket: the report, renamed into the
 * outbox when complete. */
static int save_report(struct mdd_job *job, const struct outcome *out, const char *report_name)
{
	const struct md_capture_result *res = &out->res;
	const struct mdd_config *cfg = job->d->cfg;
	char *text = md_report_to_text(&job->report);
	int r;

	if (!text) {
		fail(job, -ENOMEM, "out of memory writing the report");
		return -ENOMEM;
	}
	r = mdd_capture_write_file(cfg->dump_dir, report_name, text, cfg->dump_gid, false);
	if (r < 0) {
		fail(job, r, "dump saved as %s but its report could not be written: %s", res->path,
		     md_os_strerror(-r));
		free(text);
		return r;
	}
	if (out->s->target_gone)
		snprintf(job->message, sizeof(job->message), "process %u exited during the dump",
		         job->pid);
	if (cfg->upload_enabled && !out->private_) {
		r = mdd_capture_write_file(cfg->upload_outbox, report_name, text, cfg->dump_gid,
		                           false);
		if (r < 0)
			snprintf(job->message, sizeof(job->message),
			         "not queued for upload: cannot write to %s: %s",
			         cfg->upload_outbox, md_os_strerror(-r));
	}
	free(text);
	return 0;
}

/* Step 4: keep the store within its limits, never removing the dump just written. */
static void prune(struct mdd_job *job, const char *id)
{
	struct mdd_store_stats st;

	if (mdd_store_prune(job->d->cfg, id, &st) == 0 && st.removed && !job->message[0])
		snprintf(job->message, sizeof(job->message),
		         "%llu older dumps removed to stay within the store's limits",
		         (unsigned long long)st.removed);
}

void mdd_capture_run(struct mdd_job *job)
{
	const struct mdd_config *cfg = job->d->cfg;
	struct outcome out;
	char id[MD_STORE_ID_MAX + 1], report_name[MD_STORE_NAME_MAX];
	char report_path[MD_CAPTURE_PATH_MAX];
	enum md_store_kind kind;
	struct md_backend_options core = {.pidfd = -1};
	int r;

	memset(&out, 0, sizeof(out));
	if (job->core) {
		/* the kernel's connection: its request answered, the stream's fd to read */
		r = mdd_coredump_prepare(job, &core);
		if (r < 0) {
			job->error = r;
			return;
		}
	} else if (mdd_access_check(job) <
	           0) { /* before attaching: nothing stopped that may not be */
		return;
	}
	r = capture(job, &core, &out);
	/* the task waits in the kernel until its connection closes: let it go before the
	 * report, the upload ticket and the store pass */
	if (job->core)
		mdd_coredump_release(job);
	if (r < 0)
		goto out;
	if (job->core && out.s->crash) {
		/* the crash is the core's (NT_SIGINFO), not a client's message */
		job->crash = *out.s->crash;
		job->has_crash = true;
	}
	if (md_store_parse_name(out.res.name, id, &kind) < 0 ||
	    md_store_name(id, MD_STORE_REPORT, report_name) < 0) {
		fail(job, -EINVAL, "the dump's name %s is not a store name", out.res.name);
		goto out;
	}
	snprintf(report_path, sizeof(report_path), "%s/%s", cfg->dump_dir, report_name);
	if (build_report(job, &out, id, report_path) < 0)
		goto out;
	if (save_report(job, &out, report_name) < 0)
		goto out;
	prune(job, id);
out:
	md_capture_result_done(&out.res);
	if (out.ps)
		free(out.snap.diag.entries);
	free(out.ps);
}
void mdd_job_free(struct mdd_job *job)
{
	if (!job)
		return;
	for (size_t i = 0; i < job->n_annotations; i++) {
		free(job->keys[i]);
		free(job->values[i]);
	}
	if (job->pidfd >= 0)
		close(job->pidfd);
	mdd_coredump_job_free(job);
	md_report_done(&job->report);
	free(job);
}
