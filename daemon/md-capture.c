/* SPDX-License-Identifier: MIT */
/*
 * One capture job, run on libuv's thread pool so a slow dump never stalls the event loop: the
 * capture itself is common/md-capture.c (stop the target, write the dump under a temporary
 * name, resume, give it its final name); this file adds what is the daemon's own: the job's
 * options, the file group, the owner check, the JSON report beside the dump, the upload ticket
 * and the store's limits. The whole attach, read and detach happens on this one worker thread
 * (ptrace ties a tracee to the thread that attached). It never logs: it leaves the outcome in
 * the job for the loop thread to log and send.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "md-capture.h"
#include "md-daemon.h"
#include "md-os.h"
#include "md-output.h"
#include "md-prune.h"
#include "md-report.h"
#include "md-store.h"

static enum md_report_kind report_kind(enum md_job_kind k)
{
	switch (k) {
	case MD_JOB_CRASH:
		return MD_REPORT_KIND_CRASH;
	case MD_JOB_DUMP_NOW:
		return MD_REPORT_KIND_DUMP_NOW;
	case MD_JOB_REQUEST:
		return MD_REPORT_KIND_REQUEST;
	case MD_JOB_COREDUMP:
		return MD_REPORT_KIND_COREDUMP;
	case MD_JOB_KINDS:
		break;
	}
	return MD_REPORT_KIND_NONE;
}

int md_capture_write_file(const char *dir, const char *name, const char *text, int64_t gid,
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

static void fail(struct md_job *job, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct md_job *job, int error, const char *fmt, ...)
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
	struct md_job *job = ctx;

	if (job->d->cfg->dump_gid < 0 || (job->core && job->not_dumpable))
		return 0; /* a task not dumpable by its user: root's alone */
	return md_platform_set_file_group(fd, job->d->cfg->dump_gid);
}

/* Once the target is stopped it can no longer change (exec a setuid program, change its
 * credentials): check again that the requester may dump it (md-access.c). */
static int check_access(void *ctx, const struct md_snapshot *s)
{
	return md_access_check(ctx);
}

/* Step 1: the dump itself, into the dump folder under its default name. */
static int capture(struct md_job *job, const struct md_backend_options *core,
                   struct md_capture_result *res)
{
	const struct md_config *cfg = job->d->cfg;
	const struct md_capture_options o = {
	    .backend = job->core ? md_coredump_backend() : &md_platform_live_backend,
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
	int r;

	r = md_capture_dump(&o, res);
	switch (r < 0 ? res->step : MD_CAPTURE_STEP_DONE) {
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
		break; /* md_access_check said why */
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
static int build_report(struct md_job *job, const struct md_capture_result *res, const char *id,
                        const char *report_path)
{
	const struct md_config *cfg = job->d->cfg;
	struct md_report *r = &job->report;
	const struct md_report_times times = {.duration_ms = res->duration_ms,
	                                      .suspended_ms = res->suspended_ms};
	const char *sig = job->has_crash ? md_linux_signal_to_string(job->crash.code) : NULL;
	struct tm tm;
	int e = 0;

	e |= md_report_from_snapshot(r, res->snapshot, &res->dump, res->path, &times);
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
	if (job->core && md_coredump_report(job, r) < 0) {
		md_report_done(r);
		fail(job, -ENOMEM, "out of memory building the report");
		return -ENOMEM;
	}
	job->has_report = true;
	return 0;
}

/* Step 3: the report beside the dump, and the uploader's ticket: the report, renamed into the
 * outbox when complete. */
static int save_report(struct md_job *job, const struct md_capture_result *res,
                       const char *report_name)
{
	const struct md_config *cfg = job->d->cfg;
	char *text = md_report_to_text(&job->report);
	int r;

	if (!text) {
		fail(job, -ENOMEM, "out of memory writing the report");
		return -ENOMEM;
	}
	r = md_capture_write_file(cfg->dump_dir, report_name, text, cfg->dump_gid, false);
	if (r < 0) {
		fail(job, r, "dump saved as %s but its report could not be written: %s", res->path,
		     md_os_strerror(-r));
		free(text);
		return r;
	}
	if (res->snapshot->target_gone)
		snprintf(job->message, sizeof(job->message), "process %u exited during the dump",
		         job->pid);
	if (cfg->upload_enabled && !(job->core && job->not_dumpable)) {
		r = md_capture_write_file(cfg->upload_outbox, report_name, text, cfg->dump_gid,
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
static void prune(struct md_job *job, const char *id)
{
	struct md_store_stats st;

	if (md_store_prune(job->d->cfg, id, &st) == 0 && st.removed && !job->message[0])
		snprintf(job->message, sizeof(job->message),
		         "%llu older dumps removed to stay within the store's limits",
		         (unsigned long long)st.removed);
}

void md_capture_run(struct md_job *job)
{
	const struct md_config *cfg = job->d->cfg;
	struct md_capture_result res;
	char id[MD_STORE_ID_MAX + 1], report_name[MD_STORE_NAME_MAX];
	char report_path[MD_CAPTURE_PATH_MAX];
	enum md_store_kind kind;
	struct md_backend_options core = {.pidfd = -1};
	int r;

	memset(&res, 0, sizeof(res));
	if (job->core) {
		/* the kernel's connection: its request answered, the stream's fd to read */
		r = md_coredump_prepare(job, &core);
		if (r < 0) {
			job->error = r;
			return;
		}
	} else if (md_access_check(job) <
	           0) { /* before attaching: nothing stopped that may not be */
		return;
	}
	r = capture(job, &core, &res);
	/* the task waits in the kernel until its connection closes: let it go before the
	 * report, the upload ticket and the store pass */
	if (job->core)
		md_coredump_release(job);
	if (r < 0)
		goto out;
	if (job->core && res.snapshot->crash) {
		/* the crash is the core's (NT_SIGINFO), not a client's message */
		job->crash = *res.snapshot->crash;
		job->has_crash = true;
	}
	if (md_store_parse_name(res.name, id, &kind) < 0 ||
	    md_store_name(id, MD_STORE_REPORT, report_name) < 0) {
		fail(job, -EINVAL, "the dump's name %s is not a store name", res.name);
		goto out;
	}
	snprintf(report_path, sizeof(report_path), "%s/%s", cfg->dump_dir, report_name);
	if (build_report(job, &res, id, report_path) < 0)
		goto out;
	if (save_report(job, &res, report_name) < 0)
		goto out;
	prune(job, id);
out:
	md_capture_result_done(&res);
}
void md_job_free(struct md_job *job)
{
	if (!job)
		return;
	for (size_t i = 0; i < job->n_annotations; i++) {
		free(job->keys[i]);
		free(job->values[i]);
	}
	if (job->pidfd >= 0)
		close(job->pidfd);
	md_coredump_job_free(job);
	md_report_done(&job->report);
	free(job);
}
