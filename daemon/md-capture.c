/* SPDX-License-Identifier: MIT */
/*
 * One capture, run on libuv's thread pool so a slow dump never stalls the event loop: stop
 * the target, write the dump into the dump dir under a temporary name, resume the target,
 * give the file its final name and write the JSON report beside it. The whole attach, read and
 * detach happens on this one worker thread (ptrace ties a tracee to the thread that attached).
 * It never logs: it leaves the outcome in the job for the loop thread to log and send.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "md-daemon.h"
#include "md-dump.h"
#include "md-output.h"
#include "md-prune.h"
#include "md-report.h"
#include "md-store.h"
#include "md-zstd.h"

/* Names tried for one dump: the name has the second it was taken, so this many dumps of one
 * thread fit in a second (a small process is dumped in a few ms, by several workers). */
#define NAME_ATTEMPTS 10000

double md_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static enum md_report_kind report_kind(enum md_job_kind k)
{
	switch (k) {
	case MD_JOB_CRASH:
		return MD_REPORT_KIND_CRASH;
	case MD_JOB_DUMP_NOW:
		return MD_REPORT_KIND_DUMP_NOW;
	case MD_JOB_REQUEST:
		return MD_REPORT_KIND_REQUEST;
	}
	return MD_REPORT_KIND_NONE;
}

/* Writes text as dir/name, 0600 (0640 with group gid), through a temporary file. */
static int write_file(const char *dir, const char *name, const char *text, int64_t gid)
{
	struct md_output o;
	size_t len = strlen(text), off = 0;
	int r;

	r = md_output_open(&o, dir);
	if (r < 0)
		return r;
	if (gid >= 0 && (r = md_platform_set_file_group(o.fd, gid)) < 0) {
		md_output_abort(&o);
		return r;
	}
	while (off < len) {
		ssize_t n = write(o.fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			md_output_abort(&o);
			return r;
		}
		off += (size_t)n;
	}
	r = md_output_commit(&o, name, false);
	md_output_abort(&o);
	return r;
}

/* The report of a saved dump: the dump's figures, then the daemon's and the store's. */
static int build_report(struct md_job *job, const struct md_snapshot *s,
                        const struct md_dump_result *res, const char *id, const char *path,
                        const char *report_path, const struct md_report_times *times,
                        uint64_t stored_bytes, time_t when, double queued_ms)
{
	const struct md_config *cfg = job->d->cfg;
	struct md_report *r = &job->report;
	const char *sig = job->has_crash ? md_linux_signal_to_string(job->crash.code) : NULL;
	struct tm tm;
	int e = 0;

	e |= md_report_from_snapshot(r, s, res, path, times);
	e |= md_report_set(&r->id, id);
	e |= md_report_set(&r->report_path, report_path);
	e |= md_report_set(&r->process_name, job->process_name);
	for (size_t i = 0; i < job->n_annotations; i++)
		e |= md_report_annotate(r, job->keys[i], job->values[i]);
	if (e)
		return -ENOMEM;
	r->compressed = cfg->store_compress;
	r->bytes_on_disk = stored_bytes ? stored_bytes : res->bytes;
	r->kind = report_kind(job->kind);
	gmtime_r(&when, &tm);
	strftime(r->time, sizeof(r->time), "%Y-%m-%dT%H:%M:%SZ", &tm);
	r->requested_by_pid = job->requester.pid;
	r->requested_by_uid = job->requester.uid;
	r->queued_ms = queued_ms;
	snprintf(r->signal, sizeof(r->signal), "%s", sig ? sig : "");
	if (job->has_crash && r->has_crash)
		r->crash.si_code = (int32_t)job->crash.flags;
	return 0;
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

void md_capture_run(struct md_job *job)
{
	const struct md_config *cfg = job->d->cfg;
	struct md_platform_options po = {
		.cancel = &job->cancel,
		.crash = job->has_crash ? &job->crash : NULL,
		.pidfd = job->pidfd,
	};
	struct md_dump_options dopts = {
		.cancel = &job->cancel,
		.max_bytes = cfg->dump_max_bytes,
		.annotation_keys = (const char *const *)job->keys,
		.annotation_values = (const char *const *)job->values,
		.n_annotations = job->n_annotations,
	};
	struct md_output out = {.dirfd = -1, .fd = -1};
	struct md_snapshot *s = NULL;
	struct md_dump_result res;
	char id[MD_STORE_ID_MAX + 1], name[MD_STORE_NAME_MAX], report_name[MD_STORE_NAME_MAX];
	char path[4096 + MD_STORE_NAME_MAX], rpath[sizeof(path)], *text = NULL;
	double t0 = md_now_ms(), suspended_ms;
	uint64_t stored_bytes = 0;
	time_t now;
	int r;

	r = md_output_open(&out, cfg->dump_dir);
	if (r < 0) {
		fail(job, r, "cannot create a file in %s: %s", cfg->dump_dir, strerror(-r));
		goto out;
	}
	r = md_platform_snapshot_new(job->pid, &po, &s);
	if (r < 0) {
		fail(job, r, "cannot stop process %u: %s", job->pid,
		     r == -ECANCELED ? "time budget exceeded" : strerror(-r));
		goto out;
	}
	if (job->expect_owner) {
		uint32_t uid, gid;

		/* it may have exec'd a setuid program since the request was allowed */
		r = md_platform_process_owner(job->pid, &uid, &gid);
		if (r < 0 || uid != job->owner_uid) {
			md_platform_snapshot_free(s);
			s = NULL;
			fail(job, -EPERM, "process %u changed owner (uid %u, now %u) before its dump",
			     job->pid, job->owner_uid, r < 0 ? 0 : uid);
			goto out;
		}
	}
	if (cfg->dump_gid >= 0) {
		/* readable by the configured group (for example the uploader's) */
		r = md_platform_set_file_group(out.fd, cfg->dump_gid);
		if (r < 0) {
			fail(job, r, "cannot give the dump to group %lld: %s",
			     (long long)cfg->dump_gid, strerror(-r));
			goto out;
		}
	}
	r = md_dump_write(s, out.fd, &dopts, &res);
	suspended_ms = (double)md_platform_snapshot_resume(s) / 1000.0;
	if (r < 0) {
		fail(job, r, "cannot write the dump of process %u: %s", job->pid,
		     r == -ECANCELED ? "time budget exceeded" : strerror(-r));
		goto out;
	}

	if (cfg->store_compress) {
		/* at rest compressed: the plain file is replaced by its zstd stream */
		struct md_output z = {.dirfd = -1, .fd = -1};
		uint64_t zbytes = 0;

		r = md_output_open(&z, cfg->dump_dir);
		if (r >= 0 && cfg->dump_gid >= 0)
			r = md_platform_set_file_group(z.fd, cfg->dump_gid);
		if (r >= 0)
			r = md_zstd_compress_fd(out.fd, z.fd, &zbytes);
		if (r < 0) {
			md_output_abort(&z);
			fail(job, r, "cannot compress the dump: %s", strerror(-r));
			goto out;
		}
		md_output_abort(&out);
		out = z;
		stored_bytes = zbytes;
	}

	/* a unique, descriptive name: executable, pid, time, thread */
	now = time(NULL);
	for (unsigned attempt = 0;; attempt++) {
		md_store_make_id(s->process.exe[0] ? s->process.exe : job->process_name, job->pid,
		                 now, job->has_crash ? job->crash.tid : s->requesting_tid, attempt,
		                 id);
		md_store_name(id, cfg->store_compress ? MD_STORE_DUMP_ZSTD : MD_STORE_DUMP, name);
		r = md_output_commit(&out, name, false);
		if (r != -EEXIST || attempt >= NAME_ATTEMPTS)
			break;
	}
	if (r < 0) {
		fail(job, r, "cannot save the dump in %s: %s", cfg->dump_dir, strerror(-r));
		goto out;
	}
	md_store_name(id, MD_STORE_REPORT, report_name);
	snprintf(path, sizeof(path), "%s/%s", cfg->dump_dir, name);
	snprintf(rpath, sizeof(rpath), "%s/%s", cfg->dump_dir, report_name);
	{
		struct md_report_times times = {.duration_ms = md_now_ms() - t0,
		                                .suspended_ms = suspended_ms};

		if (build_report(job, s, &res, id, path, rpath, &times, stored_bytes, now,
		                 t0 - job->queued_ms) < 0 ||
		    !(text = md_report_to_text(&job->report))) {
			md_report_done(&job->report);
			fail(job, -ENOMEM, "out of memory building the report");
			goto out;
		}
		job->has_report = true;
	}
	r = write_file(cfg->dump_dir, report_name, text, cfg->dump_gid);
	if (r < 0) {
		fail(job, r, "dump saved as %s but its report could not be written: %s", path,
		     strerror(-r));
		goto out;
	}
	if (s->target_gone)
		snprintf(job->message, sizeof(job->message), "process %u exited during the dump",
			 job->pid);
	if (cfg->upload_enabled) {
		/* the uploader's ticket: the report, renamed into the outbox when complete */
		r = write_file(cfg->upload_outbox, report_name, text, cfg->dump_gid);
		if (r < 0)
			snprintf(job->message, sizeof(job->message),
				 "not queued for upload: cannot write to %s: %s", cfg->upload_outbox,
				 strerror(-r));
	}
	{
		/* keep the store within its limits, never removing the dump just written */
		struct md_store_stats st;

		if (md_store_prune(cfg, id, &st) == 0 && st.removed && !job->message[0])
			snprintf(job->message, sizeof(job->message),
				 "%llu older dumps removed to stay within the store's limits",
				 (unsigned long long)st.removed);
	}
out:
	free(text);
	md_platform_snapshot_free(s);
	md_output_abort(&out);
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
	md_report_done(&job->report);
	free(job);
}
