/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's event loop side: accepts connections, learns each peer's identity from the
 * kernel (never from its messages), reads framed messages with a size limit and a deadline,
 * authorizes requests, hands captures to the thread pool with bounded concurrency, and sends
 * each peer its result. Every failure is logged once here, where it is decided.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "md-daemon.h"
#include "md-report.h"
#include "md-store.h"

#define REPORT_LOG "reports.jsonl" /* one JSON line per capture, in the dump dir */

struct write_req {
	uv_write_t req;
	bool close_after;
	uint8_t data[];
};

static void conn_close(struct md_conn *c);
static void start_next(struct md_daemon *d);

static void on_written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct md_conn *c = req->data;

	if (w->close_after && c)
		conn_close(c);
	free(w);
}

/* Queues one encoded message to the peer; closes the connection after it if asked. */
static void send_msg(struct md_conn *c, const struct md_proto_enc *e, int n, bool close_after)
{
	struct write_req *w;
	uv_buf_t b;

	if (c->closing)
		return;
	if (n < 0) {
		md_log(LOG_ERR, "pid %u: cannot encode a reply: %s", c->peer.pid, strerror(-n));
		conn_close(c);
		return;
	}
	w = malloc(sizeof(*w) + (size_t)n);
	if (!w) {
		conn_close(c);
		return;
	}
	memcpy(w->data, e->buf, (size_t)n);
	w->close_after = close_after;
	w->req.data = c;
	b = uv_buf_init((char *)w->data, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) < 0) {
		free(w);
		conn_close(c);
	}
}

static void send_error(struct md_conn *c, int error, const char *text, bool close_after)
{
	static uint8_t buf[MD_PROTO_MAX_MESSAGE];
	struct md_proto_enc e;

	md_proto_begin(&e, buf, sizeof(buf), MD_MSG_ERROR);
	md_proto_put_u32(&e, MD_TAG_ERRNO, (uint32_t)error);
	md_proto_put_str(&e, MD_TAG_TEXT, text);
	send_msg(c, &e, md_proto_finish(&e), close_after);
}

static void send_text(struct md_conn *c, enum md_proto_type type, const char *text)
{
	static uint8_t buf[MD_PROTO_MAX_MESSAGE];
	struct md_proto_enc e;
	int n;

	md_proto_begin(&e, buf, sizeof(buf), type);
	md_proto_put_str(&e, MD_TAG_TEXT, text);
	n = md_proto_finish(&e);
	if (n == -EMSGSIZE) {
		/* a report with thousands of problems: send the essentials, the file has it all */
		json_t *j = json_loads(text, 0, NULL);
		char *small = NULL;

		if (j) {
			json_object_del(j, "errors");
			json_object_del(j, "streams");
			json_object_set_new(j, "truncated", json_true());
			small = json_dumps(j, JSON_COMPACT);
			json_decref(j);
		}
		md_proto_begin(&e, buf, sizeof(buf), type);
		md_proto_put_str(&e, MD_TAG_TEXT, small ? small : "{\"truncated\":true}");
		free(small);
		n = md_proto_finish(&e);
	}
	send_msg(c, &e, n, false);
}

static void free_annotations(size_t *n, char **keys, char **values)
{
	for (size_t i = 0; i < *n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	*n = 0;
}

static void on_conn_handle_closed(uv_handle_t *h)
{
	struct md_conn *c = h->data;

	if (--c->open_handles > 0)
		return;
	free_annotations(&c->n_annotations, c->keys, c->values);
	free(c->buf);
	free(c);
}

static void conn_close(struct md_conn *c)
{
	struct md_daemon *d = c->d;

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

/* ---- capture jobs ---- */

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

static void append_report_log(struct md_daemon *d, const char *report)
{
	char path[4096 + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d->cfg->dump_dir, REPORT_LOG);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		md_log(LOG_WARNING, "cannot open %s: %s", path, strerror(errno));
		return;
	}
	/* one write per line keeps lines whole */
	{
		size_t len = strlen(report);
		char *line = malloc(len + 2);

		if (line) {
			memcpy(line, report, len);
			line[len] = '\n';
			if (write(fd, line, len + 1) != (ssize_t)(len + 1))
				md_log(LOG_WARNING, "cannot append to %s: %s", path,
				       strerror(errno));
			free(line);
		}
	}
	close(fd);
}

static void write_metrics(struct md_daemon *d)
{
	int r = md_metrics_write(d);

	if (r < 0)
		md_log(LOG_WARNING, "cannot write metrics to %s: %s", d->cfg->metrics_file,
		       strerror(-r));
}

static void after_work_cb(uv_work_t *req, int status)
{
	struct md_job *job = req->data;
	struct md_daemon *d = job->d;
	struct md_conn *c = job->conn;

	d->running--;
	uv_timer_stop(&job->budget);
	if (job->report) {
		json_t *j = json_loads(job->report, 0, NULL);

		d->counters.dumps_ok++;
		d->counters.by_kind[job->kind]++;
		d->counters.bytes_written += (uint64_t)json_integer_value(json_object_get(j, "bytes"));
		d->counters.duration_ms_sum += json_real_value(json_object_get(j, "duration_ms"));
		d->counters.suspended_ms_sum += json_real_value(json_object_get(j, "suspended_ms"));
		d->counters.events[MD_EVENT_PARTIAL] += json_is_true(json_object_get(j, "partial"));
		md_log(LOG_NOTICE, "%s dump of pid %u (%s) saved: %s, %lld bytes, stopped %.1f ms, took %.1f ms%s%s",
		       job->kind == MD_JOB_CRASH      ? "crash"
		       : job->kind == MD_JOB_DUMP_NOW ? "live"
		       : job->kind == MD_JOB_COREDUMP ? "coredump"
		                                      : "requested",
		       job->pid, job->process_name, json_string_value(json_object_get(j, "path")),
		       (long long)json_integer_value(json_object_get(j, "bytes")),
		       json_real_value(json_object_get(j, "suspended_ms")),
		       json_real_value(json_object_get(j, "duration_ms")),
		       job->message[0] ? "; " : "", job->message);
		json_decref(j);
		append_report_log(d, job->report);
		/* the log and the metrics first: whoever the reply releases may look at them */
		write_metrics(d);
		if (c)
			send_text(c, MD_MSG_RESULT, job->report);
	} else {
		d->counters.dumps_failed++;
		if (md_event_of_dump_error(job->error) != MD_EVENT_COUNT)
			d->counters.events[md_event_of_dump_error(job->error)]++;
		md_log(LOG_ERR, "dump of pid %u failed: %s", job->pid, job->message);
		write_metrics(d);
		if (c)
			send_error(c, job->error ? job->error : -EIO, job->message, false);
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
static struct md_job *job_new(struct md_conn *c, enum md_job_kind kind, uint32_t pid,
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

void md_server_submit(struct md_daemon *d, struct md_job *job)
{
	if (d->queued >= MD_DAEMON_MAX_QUEUED) {
		d->counters.refused++;
		md_log(LOG_WARNING, "pid %u: refused, %u requests already waiting", job->pid,
		       d->queued);
		uv_close((uv_handle_t *)&job->budget, on_job_timer_closed);
		return;
	}
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

static void submit(struct md_conn *c, struct md_job *job)
{
	struct md_daemon *d = c->d;

	if (d->queued >= MD_DAEMON_MAX_QUEUED) {
		d->counters.refused++;
		md_log(LOG_WARNING, "pid %u: refused, %u requests already waiting", c->peer.pid,
		       d->queued);
		send_error(c, -EBUSY, "too many dumps waiting; try again later", false);
		uv_close((uv_handle_t *)&job->budget, on_job_timer_closed);
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

/* ---- requests ---- */

static void handle_hello(struct md_conn *c, const struct md_proto_msg *m)
{
	free_annotations(&c->n_annotations, c->keys, c->values);
	snprintf(c->name, sizeof(c->name), "%s", m->name ? m->name : "");
	for (size_t i = 0; i < m->n_annotations; i++) {
		c->keys[i] = dupstr(m->annotations[i].key);
		c->values[i] = dupstr(m->annotations[i].value);
		c->n_annotations++;
	}
	if (MD_PROTO_HAS(m, MD_TAG_PID) && m->pid != c->peer.pid)
		md_log(LOG_WARNING, "pid %u (uid %u) says it is pid %u; ignored", c->peer.pid,
		       c->peer.uid, m->pid);
	c->d->counters.events[MD_EVENT_REGISTERED]++;
	md_log(LOG_INFO, "client registered: pid %u uid %u name '%s', %zu annotations",
	       c->peer.pid, c->peer.uid, c->name, c->n_annotations);
}

/* A program in a crash loop: count and summarize this crash instead of dumping it, and
 * release the app at once. Returns true when the crash was handled so. */
static bool rate_limited(struct md_conn *c, const struct md_proto_msg *m, uint32_t tid)
{
	struct md_daemon *d = c->d;
	struct md_loop_entry *e;
	char exe[MD_LOOP_EXE_MAX], iso[32], name[128], path[4096 + 160], *text;
	const char *base;
	uint64_t file_id;
	json_t *report, *ann;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;

	if (md_platform_process_exe(c->peer.pid, exe, sizeof(exe), &file_id) < 0)
		return false; /* cannot tell which program: dump it */
	if (!md_loop_check(d->loops, exe, file_id, md_now_ms() / 1000.0, &e))
		return false;
	d->counters.rate_limited++;
	gmtime_r(&now, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ann = json_object();
	for (size_t i = 0; i < c->n_annotations; i++)
		md_report_set_text(ann, c->keys[i], c->values[i]);
	for (size_t i = 0; i < m->n_annotations; i++)
		md_report_set_text(ann, m->annotations[i].key, m->annotations[i].value);
	report = json_pack("{s:s, s:b, s:I, s:I, s:o, s:o, s:s, s:o, s:{s:I, s:I, s:I, s:s?}, "
			   "s:I, s:I, s:I, s:I, s:o}",
			   "kind", "crash", "rate_limited", 1, "pid", (json_int_t)c->peer.pid,
			   "uid", (json_int_t)c->peer.uid, "executable", md_report_text(exe),
			   "process_name", md_report_text(c->name), "time", iso, "signal",
			   md_linux_signal_to_string(m->signo)
				   ? json_string(md_linux_signal_to_string(m->signo))
				   : json_null(),
			   "crash", "thread_id", (json_int_t)tid, "code", (json_int_t)m->signo,
			   "flags", (json_int_t)m->si_code, "signal",
			   md_linux_signal_to_string(m->signo), "suppressed",
			   (json_int_t)e->suppressed, "suppressed_total",
			   (json_int_t)e->suppressed_total, "max_crashes",
			   (json_int_t)d->cfg->loop_max_crashes, "window_s",
			   (json_int_t)d->cfg->loop_window_s, "annotations", ann);
	text = report ? json_dumps(report, JSON_COMPACT) : NULL;
	if (text) {
		append_report_log(d, text);
		/* the program's loop summary, holding its latest suppressed crash */
		base = strrchr(exe, '/');
		base = base ? base + 1 : exe;
		snprintf(name, sizeof(name), "%.64s.%016llx.crashloop.json", base,
			 (unsigned long long)file_id);
		for (char *p = name; *p; p++)
			if (*p == '/' || (p == name && *p == '.'))
				*p = '_';
		snprintf(path, sizeof(path), "%s/%s", d->cfg->dump_dir, name);
		f = fopen(path, "we");
		if (f) {
			fprintf(f, "%s\n", text);
			fclose(f);
		}
	}
	write_metrics(d);
	if (text)
		send_text(c, MD_MSG_RESULT, text);
	else
		send_error(c, -EBUSY, "crash loop: not dumped", false);
	md_log(LOG_NOTICE,
	       "pid %u (%s) crashed (signal %u), not dumped: %u crashes within %u s (%llu suppressed in a row)",
	       c->peer.pid, exe, m->signo, d->cfg->loop_max_crashes, d->cfg->loop_window_s,
	       (unsigned long long)e->suppressed);
	free(text);
	json_decref(report);
	return true;
}

static void handle_crash(struct md_conn *c, const struct md_proto_msg *m, bool crashed)
{
	uint32_t tid = MD_PROTO_HAS(m, MD_TAG_TID) ? m->tid : c->peer.pid;
	struct md_job *job;

	/* always the peer itself, whatever the message claims */
	if (MD_PROTO_HAS(m, MD_TAG_PID) && m->pid != c->peer.pid) {
		c->d->counters.events[MD_EVENT_FOREIGN_PID]++;
		md_log(LOG_WARNING, "pid %u (uid %u) claims to be pid %u in a %s message; dumping pid %u",
		       c->peer.pid, c->peer.uid, m->pid, md_proto_type_to_string(m->type),
		       c->peer.pid);
	}
	if (md_platform_thread_of(c->peer.pid, tid) != 1) {
		c->d->counters.events[MD_EVENT_FOREIGN_THREAD]++;
		md_log(LOG_WARNING, "pid %u names thread %u, which is not one of its own; using %u",
		       c->peer.pid, tid, c->peer.pid);
		tid = c->peer.pid;
	}
	if (crashed && rate_limited(c, m, tid))
		return;
	job = job_new(c, crashed ? MD_JOB_CRASH : MD_JOB_DUMP_NOW, c->peer.pid, m);
	if (!job) {
		send_error(c, -ENOMEM, "out of memory", false);
		return;
	}
	job->pidfd = c->pidfd >= 0 ? fcntl(c->pidfd, F_DUPFD_CLOEXEC, 0) : c->pidfd;
	if (crashed) {
		job->has_crash = true;
		job->crash.tid = tid;
		job->crash.code = m->signo;
		job->crash.flags = (uint32_t)m->si_code;
		job->crash.address = m->fault_addr;
		if (m->context) {
			int r = md_platform_client_context(m->context_kind, m->context,
							   m->context_len, &job->crash.context);

			if (r < 0) {
				md_log(LOG_WARNING, "pid %u: unusable register context (kind %u, %u bytes): %s; using the thread's own",
				       c->peer.pid, m->context_kind, m->context_len, strerror(-r));
				job->crash.context.size = 0;
			}
		}
		md_log(LOG_NOTICE, "pid %u (uid %u, '%s') crashed: signal %u code %d at 0x%llx, thread %u",
		       c->peer.pid, c->peer.uid, c->name, m->signo, m->si_code,
		       (unsigned long long)m->fault_addr, tid);
		md_coredump_note_client_crash(c->d, c->peer.pid);
	}
	submit(c, job);
}

static void handle_dump_request(struct md_conn *c, const struct md_proto_msg *m)
{
	uint32_t owner, owner_gid, groups[MD_DAEMON_GROUPS_MAX + 1];
	struct md_job *job;
	char why[200];
	int pidfd, n_groups, r;

	if (m->pid == 0 || m->pid == (uint32_t)getpid()) {
		send_error(c, -EINVAL, "not a process that can be dumped", false);
		return;
	}
	/* pin the target first, so the owner we check is the owner of what we will dump */
	pidfd = md_platform_pin_process(m->pid);
	if (pidfd < 0 && pidfd != -ENOSYS) {
		snprintf(why, sizeof(why), "no process %u", m->pid);
		send_error(c, pidfd == -ESRCH ? -ESRCH : pidfd, why, false);
		return;
	}
	r = md_platform_process_owner(m->pid, &owner, &owner_gid);
	if (r < 0) {
		if (pidfd >= 0)
			close(pidfd);
		snprintf(why, sizeof(why), "no process %u", m->pid);
		send_error(c, r, why, false);
		return;
	}
	/* the requester's groups: primary from SO_PEERCRED, supplementary from the OS */
	groups[0] = c->peer.gid;
	n_groups = md_platform_process_groups(c->peer.pid, groups + 1, MD_DAEMON_GROUPS_MAX);
	n_groups = n_groups < 0 ? 1 : n_groups + 1;
	if (!md_policy_allows(&c->d->cfg->policy, c->peer.uid, groups, (size_t)n_groups, owner,
			      owner_gid)) {
		if (pidfd >= 0)
			close(pidfd);
		c->d->counters.refused++;
		md_log(LOG_WARNING, "refused: uid %u (pid %u) asked for a dump of pid %u owned by uid %u",
		       c->peer.uid, c->peer.pid, m->pid, owner);
		snprintf(why, sizeof(why),
			 "uid %u may not dump process %u (owned by uid %u): the policy%s%s does not allow it",
			 c->peer.uid, m->pid, owner, c->d->cfg->policy_path ? " in " : "",
			 c->d->cfg->policy_path ? c->d->cfg->policy_path : "");
		send_error(c, -EPERM, why, false);
		return;
	}
	job = job_new(c, MD_JOB_REQUEST, m->pid, NULL);
	if (!job) {
		if (pidfd >= 0)
			close(pidfd);
		send_error(c, -ENOMEM, "out of memory", false);
		return;
	}
	job->process_name[0] = '\0';
	job->pidfd = pidfd;
	job->owner_uid = owner;
	md_log(LOG_INFO, "uid %u (pid %u) requested a dump of pid %u", c->peer.uid, c->peer.pid,
	       m->pid);
	submit(c, job);
}

static void handle_status(struct md_conn *c)
{
	struct md_daemon *d = c->d;
	json_t *j = json_pack("{s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
			      "version", MD_VERSION_STRING, "uptime_s",
			      (md_now_ms() - d->started_ms) / 1000.0, "connections",
			      (json_int_t)d->n_conns, "connections_total",
			      (json_int_t)d->counters.connections, "requests",
			      (json_int_t)d->counters.requests, "bad_messages",
			      (json_int_t)d->counters.bad_messages, "dumps_ok",
			      (json_int_t)d->counters.dumps_ok, "dumps_failed",
			      (json_int_t)d->counters.dumps_failed, "bytes_written",
			      (json_int_t)d->counters.bytes_written, "in_flight",
			      (json_int_t)d->running, "queued", (json_int_t)d->queued, "dump_dir",
			      d->cfg->dump_dir);

	if (j &&
	    (json_object_set_new(j, "refused", json_integer((json_int_t)d->counters.refused)) < 0 ||
	     json_object_set_new(j, "socket_inherited", json_boolean(d->socket_inherited)) < 0 ||
	     json_object_set_new(j, "events", md_events_to_json(&d->counters)) < 0)) {
		json_decref(j);
		j = NULL;
	}
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!text) {
		send_error(c, -ENOMEM, "out of memory", false);
		return;
	}
	send_text(c, MD_MSG_STATUS, text);
	free(text);
}

static void handle_message(struct md_conn *c, const uint8_t *buf, size_t len)
{
	struct md_proto_msg m;
	const char *why = NULL;
	char why_buf[200];
	int r;

	c->d->counters.requests++;
	r = md_proto_decode(buf, len, &m, &why);
	if (r < 0) {
		char text[160];

		c->d->counters.bad_messages++;
		c->d->counters.events[MD_EVENT_MALFORMED]++;
		snprintf(text, sizeof(text), "malformed message: %s", why ? why : strerror(-r));
		md_log(LOG_WARNING, "pid %u (uid %u): %s", c->peer.pid, c->peer.uid, text);
		send_error(c, r, text, true);
		return;
	}
	if (m.type == MD_MSG_PING) {
		static uint8_t out[64];
		struct md_proto_enc e;

		md_proto_begin(&e, out, sizeof(out), MD_MSG_PONG);
		md_proto_put_u32(&e, MD_TAG_VERSION, MD_PROTO_VERSION);
		send_msg(c, &e, md_proto_finish(&e), false);
		return;
	}
	if (m.type == MD_MSG_HELLO) {
		handle_hello(c, &m);
		return;
	}
	if (m.type == MD_MSG_STATUS_REQUEST) {
		handle_status(c);
		return;
	}
	if (m.type != MD_MSG_CRASH && m.type != MD_MSG_DUMP_NOW && m.type != MD_MSG_DUMP_REQUEST) {
		c->d->counters.bad_messages++;
		c->d->counters.events[MD_EVENT_DAEMON_ONLY_TYPE]++;
		md_log(LOG_WARNING, "pid %u sent a %s message, which only the daemon sends",
		       c->peer.pid, md_proto_type_to_string(m.type));
		send_error(c, -EBADMSG, "unexpected message type", true);
		return;
	}
	if (c->job) {
		send_error(c, -EBUSY, "a request is already in progress on this connection", false);
		return;
	}
	if (md_access_peer_pinned(c->pidfd, c->peer.pid, why_buf, sizeof(why_buf)) < 0) {
		md_log(LOG_WARNING, "uid %u: %s", c->peer.uid, why_buf);
		send_error(c, -ESRCH, why_buf, true);
		return;
	}
	if (m.type == MD_MSG_DUMP_REQUEST)
		handle_dump_request(c, &m);
	else
		handle_crash(c, &m, m.type == MD_MSG_CRASH);
}

/* ---- reading ---- */

static void on_message_deadline(uv_timer_t *t)
{
	struct md_conn *c = t->data;

	c->d->counters.bad_messages++;
	c->d->counters.events[MD_EVENT_TIMED_OUT]++;
	md_log(LOG_WARNING, "pid %u (uid %u): message not completed within %d ms; disconnected",
	       c->peer.pid, c->peer.uid, MD_DAEMON_MESSAGE_MS);
	send_error(c, -ETIMEDOUT, "message not completed in time", true);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct md_conn *c = h->data;

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
	struct md_conn *c = stream->data;

	if (nread < 0) {
		if (nread == UV_EOF && c->len > 0) {
			/* it stopped in the middle of a message: say so, to the peer if it still reads */
			char text[128];

			c->d->counters.bad_messages++;
			c->d->counters.events[MD_EVENT_TRUNCATED]++;
			snprintf(text, sizeof(text),
				 "connection closed in the middle of a message (%zu bytes received)",
				 c->len);
			md_log(LOG_WARNING, "pid %u (uid %u): %s", c->peer.pid, c->peer.uid, text);
			send_error(c, -EBADMSG, text, true);
			return;
		}
		if (nread != UV_EOF)
			md_log(LOG_INFO, "pid %u: connection error: %s", c->peer.pid,
			       uv_strerror((int)nread));
		conn_close(c);
		return;
	}
	if (nread == 0 && c->buf == NULL) {
		conn_close(c); /* out of memory in on_alloc */
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
			c->d->counters.events[md_event_of_header_error(r)]++;
			snprintf(text, sizeof(text), "bad message header: %s",
				 r == -EBADMSG	      ? "not the minidumpd protocol"
				 : r == -EPROTONOSUPPORT ? "unsupported protocol version"
				 : r == -EMSGSIZE	      ? "message over the size limit"
							      : "unknown message type");
			md_log(LOG_WARNING, "pid %u (uid %u): %s", c->peer.pid, c->peer.uid, text);
			send_error(c, r, text, true);
			return;
		}
		total = MD_PROTO_HEADER_SIZE + (size_t)r;
		if (c->len < total)
			break;
		handle_message(c, c->buf, total);
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
		uv_timer_start(&c->timer, on_message_deadline, MD_DAEMON_MESSAGE_MS, 0);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct md_daemon *d = server->data;
	struct md_conn *c;
	int r;

	if (status < 0) {
		md_log(LOG_ERR, "accept failed: %s", uv_strerror(status));
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
		conn_close(c);
		return;
	}
	d->counters.connections++;
	if (md_listen_peer(&c->pipe, &c->peer) == 0)
		c->has_peer = true;
	if (!c->has_peer) {
		md_log(LOG_WARNING, "connection without kernel credentials refused");
		send_error(c, -EPERM, "peer credentials unavailable", true);
		return;
	}
	if (c->peer.uid != 0 && !d->stopping) {
		/* one user's idle connections may not lock out everyone else */
		unsigned same = 0;

		for (struct md_conn *o = d->conns; o; o = o->next)
			same += o->has_peer && o->peer.uid == c->peer.uid;
		if (same > MD_DAEMON_MAX_CONNECTIONS_PER_UID) {
			d->counters.refused++;
			md_log(LOG_WARNING, "pid %u (uid %u) refused: too many connections from uid %u",
			       c->peer.pid, c->peer.uid, c->peer.uid);
			send_error(c, -EBUSY, "too many connections from this user", true);
			return;
		}
	}
	if (d->n_conns > MD_DAEMON_MAX_CONNECTIONS || d->stopping) {
		d->counters.refused++;
		md_log(LOG_WARNING, "pid %u (uid %u) refused: %s", c->peer.pid, c->peer.uid,
		       d->stopping ? "shutting down" : "too many connections");
		send_error(c, d->stopping ? -ESHUTDOWN : -EBUSY,
			   d->stopping ? "minidumpd is shutting down" : "too many connections",
			   true);
		return;
	}
	c->pidfd = md_listen_pin_peer(&c->pipe, &c->peer); /* < 0: gone, served no dump */
	r = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	if (r < 0)
		conn_close(c);
}

static void store_work(uv_work_t *req)
{
	struct md_daemon *d = req->data;
	struct md_store_stats st;

	if (md_store_prune(d->cfg, NULL, &st) == 0 && st.removed)
		md_log(LOG_NOTICE, "store: removed %llu old dumps (%llu bytes) to stay within limits",
		       (unsigned long long)st.removed, (unsigned long long)st.removed_bytes);
}

static void store_done(uv_work_t *req, int status)
{
	struct md_daemon *d = req->data;

	d->store_busy = false;
	write_metrics(d);
	free(req);
}

static void on_store_timer(uv_timer_t *t)
{
	struct md_daemon *d = t->data;
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

int md_server_start(struct md_daemon *d, int listen_fd)
{
	uint64_t every = (uint64_t)d->cfg->store_check_interval_s * 1000u;
	int r;

	/* the store is checked at start, then periodically (and after every dump) */
	uv_timer_init(d->loop, &d->store_timer);
	d->store_timer.data = d;
	if (every)
		uv_timer_start(&d->store_timer, on_store_timer, 0, every);

	d->started_ms = md_now_ms();
	r = uv_pipe_init(d->loop, &d->server, 0);
	if (r < 0)
		return r;
	d->server.data = d;
	r = md_listen_attach(&d->server, listen_fd);
	if (r < 0)
		return r;
	return uv_listen((uv_stream_t *)&d->server, 256, on_connection);
}

void md_server_stop(struct md_daemon *d)
{
	if (!d->stopping) {
		d->stopping = true;
		uv_close((uv_handle_t *)&d->server, NULL);
		md_coredump_stop(d);
		md_log(LOG_NOTICE, "stopping: %u dumps in flight, %u queued", d->running, d->queued);
	}
	if (d->running > 0 || d->queued > 0)
		return; /* after_work_cb calls us again when the last one is done */
	while (d->conns)
		conn_close(d->conns);
	if (!uv_is_closing((uv_handle_t *)&d->store_timer))
		uv_close((uv_handle_t *)&d->store_timer, NULL);
	if (!uv_is_closing((uv_handle_t *)&d->sigterm))
		uv_close((uv_handle_t *)&d->sigterm, NULL);
	if (!uv_is_closing((uv_handle_t *)&d->sigint))
		uv_close((uv_handle_t *)&d->sigint, NULL);
}
