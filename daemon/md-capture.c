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
#include "md-report.h"
#include "md-store.h"
#include "md-zstd.h"

/* Names tried for one dump: the name has the second it was taken, so this many dumps of one
 * thread fit in a second (a small process is dumped in a few ms, by several workers). */
#define NAME_ATTEMPTS 10000
#define EXE_PATH_MAX 4096 /* bytes of an executable's path, as in md_process_info.exe */

double md_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *kind_name(enum md_job_kind k)
{
	switch (k) {
	case MD_JOB_CRASH: return "crash";
	case MD_JOB_DUMP_NOW: return "dump-now";
	case MD_JOB_REQUEST: return "request";
	}
	return "unknown";
}

/* A file name part made only of [A-Za-z0-9._-], from an executable's basename (split at the
 * OS's path separators). */
static void safe_name(const char *exe, char *out, size_t size)
{
	char dir[EXE_PATH_MAX], file[MD_OUTPUT_NAME_MAX];
	const char *base = strrchr(exe, '/');
	size_t n = 0;

	base = base ? base + 1 : exe;
	if (md_output_split_path(exe, dir, sizeof(dir), file, sizeof(file)) == 0)
		base = file;
	if (!*base)
		base = "process";
	for (; *base && n + 1 < size && n < 64; base++) {
		char c = *base;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '-';

		out[n++] = ok ? c : '_';
	}
	if (n > 0 && out[0] == '.')
		out[0] = '_'; /* never a hidden file */
	out[n] = '\0';
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

static json_t *annotations_json(const struct md_job *job)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < job->n_annotations; i++)
		json_object_set_new(o, job->keys[i], json_string(job->values[i]));
	return o;
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
		/* stopping gets half the budget; the rest is for reading and writing */
		.deadline_ns = (uint64_t)((md_now_ms() + cfg->dump_budget_ms / 2.0) * 1e6),
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
	char base[80], stamp[32], name[MD_OUTPUT_NAME_MAX], report_name[MD_OUTPUT_NAME_MAX];
	char path[4096 + MD_OUTPUT_NAME_MAX];
	double t0 = md_now_ms(), suspended_ms;
	uint64_t stored_bytes = 0;
	size_t id_len;
	json_t *report = NULL;
	struct tm tm;
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
		     r == -ECANCELED   ? "time budget exceeded"
		     : r == -ETIMEDOUT ? "no thread could be stopped (asleep in the kernel)"
				       : strerror(-r));
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
	safe_name(s->process.exe[0] ? s->process.exe : job->process_name, base, sizeof(base));
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int attempt = 0;; attempt++) {
		snprintf(name, sizeof(name), "%s.%u.%s.%u%s%.0d.dmp%s", base, job->pid, stamp,
			 job->has_crash ? job->crash.tid : s->requesting_tid, attempt ? "-" : "",
			 attempt, cfg->store_compress ? ".zst" : "");
		r = md_output_commit(&out, name, false);
		if (r != -EEXIST || attempt >= NAME_ATTEMPTS)
			break;
	}
	if (r < 0) {
		fail(job, r, "cannot save the dump in %s: %s", cfg->dump_dir, strerror(-r));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", cfg->dump_dir, name);
	id_len = strlen(name) - (cfg->store_compress ? 8 : 4); /* without .dmp or .dmp.zst */
	snprintf(report_name, sizeof(report_name), "%.*s.json", (int)id_len, name);

	{
		struct md_report_times times = {.duration_ms = md_now_ms() - t0,
						.suspended_ms = suspended_ms};
		char iso[32], rpath[sizeof(path)];
		json_t *crash;

		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(rpath, sizeof(rpath), "%s/%s", cfg->dump_dir, report_name);
		report = md_report_dump(s, &res, path, &times);
		if (!report) {
			fail(job, -ENOMEM, "out of memory building the report");
			goto out;
		}
		json_object_set_new(report, "id", json_stringn(name, id_len));
		json_object_set_new(report, "compressed", json_boolean(cfg->store_compress));
		json_object_set_new(report, "bytes_on_disk",
				    json_integer((json_int_t)(stored_bytes ? stored_bytes : res.bytes)));
		json_object_set_new(report, "kind", json_string(kind_name(job->kind)));
		json_object_set_new(report, "time", json_string(iso));
		json_object_set_new(report, "report", json_string(rpath));
		json_object_set_new(report, "process_name", json_string(job->process_name));
		json_object_set_new(report, "requested_by",
				    json_pack("{s:I, s:I}", "pid", (json_int_t)job->requester.pid,
					      "uid", (json_int_t)job->requester.uid));
		json_object_set_new(report, "queued_ms", json_real(t0 - job->queued_ms));
		json_object_set_new(report, "budget_cut", json_boolean(res.budget_cut));
		json_object_set_new(report, "annotations", annotations_json(job));
		crash = json_object_get(report, "crash");
		if (job->has_crash && json_is_object(crash)) {
			const char *sig = md_linux_signal_to_string(job->crash.code);

			json_object_set_new(crash, "signal", sig ? json_string(sig) : json_null());
			json_object_set_new(crash, "si_code", json_integer((int32_t)job->crash.flags));
		}
		json_object_set_new(report, "signal",
				    job->has_crash && md_linux_signal_to_string(job->crash.code)
					    ? json_string(md_linux_signal_to_string(job->crash.code))
					    : json_null());
	}
	job->report = json_dumps(report, JSON_COMPACT);
	if (!job->report) {
		fail(job, -ENOMEM, "out of memory building the report");
		goto out;
	}
	r = write_file(cfg->dump_dir, report_name, job->report, cfg->dump_gid);
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
		r = write_file(cfg->upload_outbox, report_name, job->report, cfg->dump_gid);
		if (r < 0)
			snprintf(job->message, sizeof(job->message),
				 "not queued for upload: cannot write to %s: %s", cfg->upload_outbox,
				 strerror(-r));
	}
	{
		/* keep the store within its limits, never removing the dump just written */
		struct md_store_stats st;
		char id[MD_OUTPUT_NAME_MAX];

		snprintf(id, sizeof(id), "%.*s", (int)id_len, name);
		if (md_store_prune(cfg, id, &st) == 0 && st.removed && !job->message[0])
			snprintf(job->message, sizeof(job->message),
				 "%llu older dumps removed to stay within the store's limits",
				 (unsigned long long)st.removed);
	}
out:
	json_decref(report);
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
	free(job->report);
	free(job);
}
