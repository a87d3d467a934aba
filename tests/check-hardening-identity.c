/* SPDX-License-Identifier: MIT */
/*
 * Hardening, identity: a dump-now of a process whose identity changed (a setuid exec, made
 * non-dumpable, a peer gone before its connection was accepted) is refused, and client text
 * (names, annotations) can neither forge log lines nor drive a terminal. See check-hardening.c.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hardening-util.h"

/* ---- identity at the time of the dump (issue 15, holes 1 and 2) ---- */

/* Sends a hello naming the process name on fd, with the annotation key=value unless NULL. */
static void send_hello_annotated(int fd, const char *name, const char *key, const char *value)
{
	uint8_t msg[512];
	struct md_proto_enc e;
	int n;

	md_proto_begin(&e, msg, sizeof(msg), MD_MSG_HELLO);
	md_proto_put_u32(&e, MD_TAG_VERSION, MD_PROTO_VERSION);
	md_proto_put_str(&e, MD_TAG_NAME, name);
	if (key)
		md_proto_put_annotation(&e, key, value);
	n = md_proto_finish(&e);
	ck_assert_int_gt(n, 0);
	send_all(fd, msg, (size_t)n);
}

static void send_hello(int fd, const char *name)
{
	send_hello_annotated(fd, name, NULL, NULL);
}

/* Sends a dump-now on fd and returns the reply: 0 for a RESULT, the errno of an ERROR, or a
 * recv_msg() error. Usable in a forked child (no ck_assert). */
static int dump_now_on(int fd)
{
	uint8_t msg[64];
	struct md_proto_msg m;
	int n = encode_bare(msg, sizeof(msg), MD_MSG_DUMP_NOW), r;

	if (n < 0)
		return n;
	send_all(fd, msg, (size_t)n);
	r = recv_msg(fd, REPLY_MS * 3, &m);
	if (r < 0)
		return r;
	if (m.type == MD_MSG_RESULT)
		return 0;
	return m.type == MD_MSG_ERROR ? reply_errno(&m) : -EPROTO;
}

/* In a forked child: waits for a byte on go, sends a dump-now on fd, writes the reply's code
 * (dump_now_on()) to result and exits. */
_Noreturn static void dump_now_when_told(int fd, int go, int result)
{
	char c;
	int r = -EPIPE;

	if (read(go, &c, 1) == 1)
		r = dump_now_on(fd);
	if (write(result, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	_exit(0);
}

/* Reads a "ready PID" line from fd within timeout_ms; returns the pid or -errno. */
static int read_ready(int fd, int timeout_ms)
{
	char line[64];
	size_t n = 0;
	int pid;

	while (n + 1 < sizeof(line)) {
		if (read_full(fd, line + n, 1, timeout_ms) < 0)
			return -ETIMEDOUT;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return sscanf(line, "ready %d", &pid) == 1 ? pid : -EPROTO;
}

/* A root-owned set-uid copy of the helper target in D.dir; returns its path (owned). */
static char *setuid_target(void)
{
	size_t len;
	char *bytes = it_read_file(it_env("TARGET_THREADS"), &len), *path;
	int fd;

	ck_assert_ptr_nonnull(bytes);
	ck_assert_int_ge(asprintf(&path, "%s/suid-target", D.dir), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	ck_assert_int_eq(fchown(fd, 0, 0), 0);
	ck_assert_int_eq(fchmod(fd, 04755), 0); /* after chown, which clears set-uid */
	close(fd);
	free(bytes);
	return path;
}

START_TEST(dump_now_after_a_setuid_exec_is_refused)
{
	char *suid = setuid_target();
	int go[2], result[2], in[2], out[2], r, st;
	uint8_t msg[64];
	struct md_proto_msg m;
	pid_t attacker, target;
	char want[128];
	json_t *j;
	int n, fd;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(result), 0);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	/* nobody connects and says hello, leaves the connection with a child, and execs a
	 * set-uid root program; the child then asks for a dump "of itself" on that connection */
	attacker = fork_as(NOBODY_ID);
	if (attacker == 0) {
		const char *argv[] = {suid, NULL};

		fd = connect_daemon();
		if (fd < 0)
			_exit(121);
		send_hello(fd, "setuid-attack");
		if (fork() == 0)
			dump_now_when_told(fd, go[0], result[1]);
		close(fd);
		it_exec_piped(in[0], out[1], argv);
	}
	close(in[0]);
	close(out[1]);
	close(go[0]);
	close(result[1]);
	ck_assert_int_eq(read_ready(out[0], IT_TARGET_READY_MS), attacker);
	ck_assert_msg(proc_status_number(attacker, "Uid", 1) == 0 /* effective */,
	              "the set-uid exec did not make pid %d root", (int)attacker);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(read_full(result[0], &r, sizeof(r), REPLY_MS * 4), 0);
	ck_assert_msg(r == -EPERM,
	              "dump-now of pid %d (now set-uid root) for nobody: %d, want "
	              "-EPERM; log:\n%s",
	              (int)attacker, r, log_tail());
	ck_assert_msg(find_dump_any(attacker, "dmp") == NULL, "the set-uid process was dumped");
	snprintf(want, sizeof(want), "may not dump process %d now", (int)attacker);
	ck_assert_int_ge(log_count(want), 1);
	ck_assert_int_eq(it_stopped_task(attacker, NULL), 0);

	/* root may have it, and its report says the process was not dumpable */
	target = attacker;
	n = encode_dump_request(msg, sizeof(msg), target);
	ck_assert_int_eq(daemon_request(msg, (size_t)n, false, REPLY_MS * 3, &m), 0);
	ck_assert_msg(m.type == MD_MSG_RESULT, "root's dump of the set-uid process: %s", m.text);
	j = json_loads(m.text, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), target);
	ck_assert(json_is_false(json_object_get(j, "dumpable")));
	json_decref(j);
	ck_assert_int_eq(it_stopped_task(target, NULL), 0);

	close(in[1]); /* end of file: the target exits */
	ck_assert_int_eq(waitpid(attacker, &st, 0), attacker);
	close(out[0]);
	close(go[1]);
	close(result[0]);
	free(suid);
	assert_serving();
}
END_TEST

START_TEST(dump_now_of_a_process_made_non_dumpable_is_refused)
{
	int result[2], st;
	pid_t child;
	int got[2];

	ck_assert_int_eq(pipe(result), 0);
	child = fork_as(NOBODY_ID);
	if (child == 0) {
		int fd = connect_daemon(), out[2];

		if (fd < 0)
			_exit(121);
		send_hello(fd, "goes-non-dumpable");
		out[0] = dump_now_on(fd);  /* dumpable: its own dump */
		prctl(PR_SET_DUMPABLE, 0); /* as ssh-agent or gpg-agent do */
		out[1] = dump_now_on(fd);
		if (write(result[1], out, sizeof(out)) != (ssize_t)sizeof(out))
			_exit(1);
		_exit(0);
	}
	close(result[1]);
	ck_assert_int_eq(read_full(result[0], got, sizeof(got), REPLY_MS * 7), 0);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	close(result[0]);
	ck_assert_msg(got[0] == 0, "dump-now of a dumpable process of nobody's: %d; log:\n%s",
	              got[0], log_tail());
	ck_assert_msg(got[1] == -EPERM,
	              "dump-now after PR_SET_DUMPABLE 0: %d, want -EPERM; log:\n%s", got[1],
	              log_tail());
	ck_assert_int_ge(log_count("it is not dumpable"), 1);
	ck_assert_int_eq(assert_dump_dir_clean(), 1);
}
END_TEST

/* clone3() with set_tid: a child with exactly the pid wanted (root in the initial pid
 * namespace may ask for one that is free). Returns 0 in the child, its pid, or -errno. */
static pid_t fork_with_pid(pid_t want)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		    set_tid, set_tid_size, cgroup;
	} args = {.exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)&want, .set_tid_size = 1};
	long r;

	fflush(NULL);
	r = syscall(SYS_clone3, &args, sizeof(args));
	return r < 0 ? -errno : (pid_t)r;
}

START_TEST(peer_gone_before_accept_gets_no_dump_of_the_pid)
{
	int go[2], result[2], in[2], out[2], r, st;
	pid_t peer, victim;
	char want[128];
	int64_t deadline;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(result), 0);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	/* the daemon does not accept for a while (as under load): nobody's process connects, says
	 * hello, leaves the connection with a child and exits before it is accepted */
	ck_assert_int_eq(kill(D.pid, SIGSTOP), 0);
	peer = fork_as(NOBODY_ID);
	if (peer == 0) {
		int fd = connect_daemon();

		if (fd < 0)
			_exit(121);
		send_hello(fd, "gone-before-accept");
		if (fork() == 0)
			dump_now_when_told(fd, go[0], result[1]);
		_exit(0);
	}
	close(go[0]);
	close(result[1]);
	ck_assert_int_eq(waitpid(peer, &st, 0), peer); /* its pid is free from here on */
	ck_assert_int_eq(kill(D.pid, SIGCONT), 0);
	snprintf(want, sizeof(want), "client registered: pid %d", (int)peer);
	deadline = it_now_ms() + REPLY_MS;
	while (log_count(want) < 1 && it_now_ms() < deadline)
		usleep(5000);
	ck_assert_msg(log_count(want) == 1, "connection not accepted; log:\n%s", log_tail());

	/* a root process gets the peer's pid */
	victim = fork_with_pid(peer);
	if (victim == 0) {
		const char *argv[] = {it_env("TARGET_THREADS"), NULL};

		it_exec_piped(in[0], out[1], argv);
	}
	ck_assert_msg(victim == peer, "no process with pid %d: %s", (int)peer,
	              victim < 0 ? strerror(-victim) : "another pid");
	close(in[0]);
	close(out[1]);
	ck_assert_int_eq(read_ready(out[0], IT_TARGET_READY_MS), victim);

	/* the connection's dump-now must not dump root's process */
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(read_full(result[0], &r, sizeof(r), REPLY_MS * 4), 0);
	ck_assert_msg(r == -ESRCH,
	              "dump-now on a connection whose peer had gone: %d, want -ESRCH; "
	              "log:\n%s",
	              r, log_tail());
	ck_assert_msg(find_dump_any(victim, "dmp") == NULL, "root's process with the reused pid "
	                                                    "was dumped for nobody");
	ck_assert_int_ge(log_count("has exited (or was gone before its connection was accepted)"),
	                 1);
	ck_assert_int_eq(it_stopped_task(victim, NULL), 0);
	close(in[1]);
	ck_assert_int_eq(waitpid(victim, &st, 0), victim);
	close(out[0]);
	close(go[1]);
	close(result[0]);
	assert_serving();
}
END_TEST

/* ---- client text in logs and listings (issue 15, hole 4) ---- */

/* What mdctl prints for args (NULL-ended), as root; owned, exits 0. */
static char *mdctl_out(const char *const *args)
{
	const char *argv[16] = {it_env("MDCTL")};
	struct it_result res;
	char *out;
	int n = 1;

	for (; args[n - 1] && n < 15; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "mdctl %s: %s %s", args[0],
	              it_result_status(&res), res.err);
	out = strdup(res.out ? res.out : "");
	it_result_done(&res);
	return out;
}

/* Neither an escape character nor a line that starts with the forged text. */
static void assert_no_forgery(const char *what, const char *text)
{
	ck_assert_msg(!strchr(text, '\x1b'), "%s holds an ESC byte:\n%s", what, text);
	ck_assert_msg(strncmp(text, "FAKE LOG LINE", 13) != 0 && !strstr(text, "\nFAKE LOG LINE"),
	              "%s has a forged line:\n%s", what, text);
}

START_TEST(client_text_cannot_forge_log_lines_or_drive_terminals)
{
	static const char name[] = "evil\nFAKE LOG LINE uid 0 did it\x1b[2J\xff";
	static const char key[] = "note\x1b]0;owned\x07", value[] = "v\nFAKE LOG LINE two\xfe";
	int result[2], r, st;
	char *log, *report, *out;
	pid_t child;
	json_t *j, *ann;

	ck_assert_int_eq(pipe(result), 0);
	child = fork_as(NOBODY_ID);
	if (child == 0) {
		int fd = connect_daemon();

		if (fd < 0)
			_exit(121);
		send_hello_annotated(fd, name, key, value);
		r = dump_now_on(fd);
		if (write(result[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(result[1]);
	ck_assert_int_eq(read_full(result[0], &r, sizeof(r), REPLY_MS * 4), 0);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	close(result[0]);
	ck_assert_msg(r == 0, "dump-now: %d; log:\n%s", r, log_tail());

	/* the daemon logged the name, escaped, on its own line */
	log = log_read();
	assert_no_forgery("the daemon log", log);
	ck_assert_msg(strstr(log, "evil\\nFAKE LOG LINE uid 0 did it\\x1b[2J\\xff"),
	              "the name is not in the log as escaped text:\n%s", log);
	free(log);

	/* the report keeps the text (JSON escapes controls itself), invalid UTF-8 escaped */
	report = find_dump_any(child, "json");
	ck_assert_ptr_nonnull(report);
	j = load_json(report);
	ck_assert_msg(json_is_string(json_object_get(j, "process_name")), "no process_name");
	ck_assert_str_eq(json_string_value(json_object_get(j, "process_name")),
	                 "evil\nFAKE LOG LINE uid 0 did it\x1b[2J\\xff");
	ann = json_object_get(j, "annotations");
	ck_assert_str_eq(json_string_value(json_object_get(ann, key)), "v\nFAKE LOG LINE two\\xfe");

	/* what mdctl shows of it */
	out = mdctl_out((const char *const[]){"list", "--dump-dir", D.dumps, NULL});
	assert_no_forgery("mdctl list", out);
	free(out);
	out = mdctl_out((const char *const[]){"info", json_string_value(json_object_get(j, "id")),
	                                      "--dump-dir", D.dumps, NULL});
	ck_assert_msg(strstr(out, "evil\\nFAKE LOG LINE"), "mdctl info does not show the name:\n%s",
	              out);
	assert_no_forgery("mdctl info", out);
	free(out);
	out = mdctl_out(
	    (const char *const[]){"inspect", json_string_value(json_object_get(j, "path")), NULL});
	assert_no_forgery("mdctl inspect", out);
	free(out);
	json_decref(j);
	free(report);
}
END_TEST

START_TEST(executable_name_in_invalid_utf8_still_gets_its_report)
{
	char exe[512], sockenv[300], *bytes, *report, *out;
	const char *argv[] = {exe, "dump-now", NULL};
	const char *env[] = {sockenv, NULL};
	struct it_proc p;
	struct it_result res;
	size_t len;
	json_t *j;
	int fd;

	/* a program file whose name is not UTF-8 and holds an escape sequence */
	snprintf(exe, sizeof(exe), "%s/app-\x1b[31m-\xff-name", D.dir);
	bytes = it_read_file(it_env("CRASH_APP"), &len);
	ck_assert_ptr_nonnull(bytes);
	fd = open(exe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	close(fd);
	free(bytes);
	snprintf(sockenv, sizeof(sockenv), "MINIDUMPD_SOCKET=%s", D.sock);
	ck_assert_int_eq(it_spawn(argv, env, &p), 0);
	ck_assert_int_eq(it_wait(&p, APP_LOADED_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0 && strstr(res.out, "dump-now: 0"),
	              "dump-now of a program with such a name: %s %s; log:\n%s",
	              it_result_status(&res), res.out, log_tail());
	it_result_done(&res);

	/* the report is there, with the name as JSON can hold it */
	report = find_dump_any(p.pid, "json");
	ck_assert_msg(report != NULL, "no report; log:\n%s", log_tail());
	j = load_json(report);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "executable")),
	                             "/app-\x1b[31m-\\xff-name"));
	json_decref(j);
	free(report);
	out = mdctl_out((const char *const[]){"list", "--dump-dir", D.dumps, NULL});
	ck_assert_msg(strstr(out, "app-\\x1b[31m-\\\\xff-name"), "mdctl list:\n%s", out);
	assert_no_forgery("mdctl list", out);
	free(out);
	assert_no_forgery("the daemon log", log_tail());
}
END_TEST

CHECK_SUITE_FN(hardening_identity_suite, "hardening-identity",
               CHECK_CASE("identity", daemon_setup, hardening_teardown, 120,
                          CHECK_TEST(dump_now_after_a_setuid_exec_is_refused),
                          CHECK_TEST(dump_now_of_a_process_made_non_dumpable_is_refused),
                          CHECK_TEST(peer_gone_before_accept_gets_no_dump_of_the_pid),
                          CHECK_TEST(client_text_cannot_forge_log_lines_or_drive_terminals),
                          CHECK_TEST(executable_name_in_invalid_utf8_still_gets_its_report)));

CHECK_SUITE("hardening-identity", hardening_identity_suite);
