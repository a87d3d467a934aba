/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's requests: decodes a whole message, and for each type decides what the peer may
 * have. A crash or dump-now is always about the peer itself (its pid from the kernel, whatever
 * the message says); a dump of another process is checked against the policy with the
 * requester's kernel-provided credentials and the target's owner, pinned first. Event loop
 * thread only; every refusal is logged once here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "md-daemon.h"

static char *dupstr(const char *s)
{
	return strdup(s ? s : "");
}

static void handle_hello(struct md_conn *c, const struct md_proto_msg *m)
{
	md_conn_free_annotations(&c->n_annotations, c->keys, c->values);
	snprintf(c->name, sizeof(c->name), "%s", m->name ? m->name : "");
	for (size_t i = 0; i < m->n_annotations; i++) {
		c->keys[i] = dupstr(m->annotations[i].key);
		c->values[i] = dupstr(m->annotations[i].value);
		c->n_annotations++;
	}
	if (MD_PROTO_HAS(m, MD_TAG_PID) && m->pid != c->peer.pid)
		md_log(LOG_WARNING, "pid %u (uid %u) says it is pid %u; ignored", c->peer.pid,
		       c->peer.uid, m->pid);
	md_log(LOG_INFO, "client registered: pid %u uid %u name '%s', %zu annotations", c->peer.pid,
	       c->peer.uid, c->name, c->n_annotations);
}

static void handle_crash(struct md_conn *c, const struct md_proto_msg *m, bool crashed)
{
	uint32_t tid = MD_PROTO_HAS(m, MD_TAG_TID) ? m->tid : c->peer.pid;
	struct md_job *job;

	/* always the peer itself, whatever the message claims */
	if (MD_PROTO_HAS(m, MD_TAG_PID) && m->pid != c->peer.pid)
		md_log(LOG_WARNING,
		       "pid %u (uid %u) claims to be pid %u in a %s message; dumping pid %u",
		       c->peer.pid, c->peer.uid, m->pid, md_proto_type_to_string(m->type),
		       c->peer.pid);
	if (md_platform_thread_of(c->peer.pid, tid) != 1) {
		md_log(LOG_WARNING, "pid %u names thread %u, which is not one of its own; using %u",
		       c->peer.pid, tid, c->peer.pid);
		tid = c->peer.pid;
	}
	if (crashed && md_crashloop_handle(c, m, tid))
		return;
	job = md_job_new(c, crashed ? MD_JOB_CRASH : MD_JOB_DUMP_NOW, c->peer.pid, m);
	if (!job) {
		md_conn_send_error(c, -ENOMEM, "out of memory", false);
		return;
	}
	if (c->pidfd >= 0)
		job->pidfd = fcntl(c->pidfd, F_DUPFD_CLOEXEC, 0);
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
				md_log(LOG_WARNING,
				       "pid %u: unusable register context (kind %u, %u bytes): %s; "
				       "using the thread's own",
				       c->peer.pid, m->context_kind, m->context_len, strerror(-r));
				job->crash.context.size = 0;
			}
		}
		md_log(LOG_NOTICE,
		       "pid %u (uid %u, '%s') crashed: signal %u code %d at 0x%llx, thread %u",
		       c->peer.pid, c->peer.uid, c->name, m->signo, m->si_code,
		       (unsigned long long)m->fault_addr, tid);
	}
	md_job_submit(c, job);
}

static void handle_dump_request(struct md_conn *c, const struct md_proto_msg *m)
{
	uint32_t owner, owner_gid, groups[MD_DAEMON_GROUPS_MAX + 1];
	struct md_job *job;
	char why[200];
	int pidfd, n_groups, r;

	if (m->pid == 0 || m->pid == (uint32_t)getpid()) {
		md_conn_send_error(c, -EINVAL, "not a process that can be dumped", false);
		return;
	}
	/* pin the target first, so the owner we check is the owner of what we will dump */
	pidfd = md_platform_pin_process(m->pid);
	if (pidfd < 0 && pidfd != -ENOSYS) {
		snprintf(why, sizeof(why), "no process %u", m->pid);
		md_conn_send_error(c, pidfd == -ESRCH ? -ESRCH : pidfd, why, false);
		return;
	}
	r = md_platform_process_owner(m->pid, &owner, &owner_gid);
	if (r < 0) {
		if (pidfd >= 0)
			close(pidfd);
		snprintf(why, sizeof(why), "no process %u", m->pid);
		md_conn_send_error(c, r, why, false);
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
		md_log(LOG_WARNING,
		       "refused: uid %u (pid %u) asked for a dump of pid %u owned by uid %u",
		       c->peer.uid, c->peer.pid, m->pid, owner);
		snprintf(why, sizeof(why),
		         "uid %u may not dump process %u (owned by uid %u): the policy%s%s does "
		         "not allow it",
		         c->peer.uid, m->pid, owner, c->d->cfg->policy_path ? " in " : "",
		         c->d->cfg->policy_path ? c->d->cfg->policy_path : "");
		md_conn_send_error(c, -EPERM, why, false);
		return;
	}
	job = md_job_new(c, MD_JOB_REQUEST, m->pid, NULL);
	if (!job) {
		if (pidfd >= 0)
			close(pidfd);
		md_conn_send_error(c, -ENOMEM, "out of memory", false);
		return;
	}
	job->process_name[0] = '\0';
	job->pidfd = pidfd;
	job->expect_owner = true;
	job->owner_uid = owner;
	md_log(LOG_INFO, "uid %u (pid %u) requested a dump of pid %u", c->peer.uid, c->peer.pid,
	       m->pid);
	md_job_submit(c, job);
}

static void handle_status(struct md_conn *c)
{
	struct md_daemon *d = c->d;
	json_t *j = json_pack(
	    "{s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "version",
	    MD_VERSION_STRING, "uptime_s", (md_now_ms() - d->started_ms) / 1000.0, "connections",
	    (json_int_t)d->n_conns, "connections_total", (json_int_t)d->counters.connections,
	    "requests", (json_int_t)d->counters.requests, "bad_messages",
	    (json_int_t)d->counters.bad_messages, "dumps_ok", (json_int_t)d->counters.dumps_ok,
	    "dumps_failed", (json_int_t)d->counters.dumps_failed, "bytes_written",
	    (json_int_t)d->counters.bytes_written, "in_flight", (json_int_t)d->running, "queued",
	    (json_int_t)d->queued, "dump_dir", d->cfg->dump_dir);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!text) {
		md_conn_send_error(c, -ENOMEM, "out of memory", false);
		return;
	}
	md_conn_send_text(c, MD_MSG_STATUS, text);
	free(text);
}

void md_dispatch_message(struct md_conn *c, const uint8_t *buf, size_t len)
{
	struct md_proto_msg m;
	const char *why = NULL;
	int r;

	c->d->counters.requests++;
	r = md_proto_decode(buf, len, &m, &why);
	if (r < 0) {
		char text[160];

		c->d->counters.bad_messages++;
		snprintf(text, sizeof(text), "malformed message: %s", why ? why : strerror(-r));
		md_log(LOG_WARNING, "pid %u (uid %u): %s", c->peer.pid, c->peer.uid, text);
		md_conn_send_error(c, r, text, true);
		return;
	}
	if (m.type == MD_MSG_PING) {
		md_conn_send_pong(c);
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
		md_log(LOG_WARNING, "pid %u sent a %s message, which only the daemon sends",
		       c->peer.pid, md_proto_type_to_string(m.type));
		md_conn_send_error(c, -EBADMSG, "unexpected message type", true);
		return;
	}
	if (c->job) {
		md_conn_send_error(c, -EBUSY, "a request is already in progress on this connection",
		                   false);
		return;
	}
	if (m.type == MD_MSG_DUMP_REQUEST)
		handle_dump_request(c, &m);
	else
		handle_crash(c, &m, m.type == MD_MSG_CRASH);
}
