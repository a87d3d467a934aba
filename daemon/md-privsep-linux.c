/* SPDX-License-Identifier: MIT */
/*
 * The front end's side of the privilege split (md-privsep.h): starting md-capture-worker as
 * root, dropping minidumpd itself to its unprivileged user, and the calls to the worker, each
 * with a reply socket of its own so that the thread pool's captures never wait for one another.
 * It never logs: its callers do.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "md-config.h"
#include "md-os.h"
#include "md-peer.h"
#include "md-privsep.h"
#include "md-snapshot-build.h"

#define READY_MS  5000 /* time the worker has to say it is ready */
#define EXE_MS    2000 /* time the worker has to name an executable */
#define WORKER_FD 3    /* the worker's end of the socket, in the worker */
#define JOURNALS  2    /* reports.jsonl and its rotated copy (md-journal.c) */

static int ctl = -1;
static pid_t worker = -1;

bool mdd_privsep_active(void)
{
	return ctl >= 0;
}

int mdd_privsep_socket(void)
{
	return ctl;
}

int mdd_privsep_worker_pid(void)
{
	return (int)worker;
}

void mdd_privsep_worker_gone(char *how, size_t size)
{
	int st = 0;
	pid_t r = 0;

	for (int i = 0; worker > 0 && i < 1000 && (r = waitpid(worker, &st, WNOHANG)) == 0; i++)
		usleep(1000);
	if (r == worker && WIFSIGNALED(st))
		snprintf(how, size, "was killed by signal %d", WTERMSIG(st));
	else if (r == worker && WIFEXITED(st))
		snprintf(how, size, "has exited with status %d", WEXITSTATUS(st));
	else
		snprintf(how, size, "has closed its socket");
}

void mdd_privsep_stop(void)
{
	if (ctl >= 0)
		close(ctl);
	ctl = -1;
	for (int i = 0; worker > 0 && i < 2000 && waitpid(worker, NULL, WNOHANG) == 0; i++)
		usleep(1000);
	worker = -1;
}

int mdd_privsep_check_folder(const char *folder)
{
	return access(folder, W_OK | X_OK) < 0 ? -errno : 0;
}

/* Closes both ends of a socketpair that was not handed over. */
static void close_pair(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

/* $MD_CAPTURE_WORKER (root's environment: who starts the daemon), else the worker beside our
 * own executable (a build tree), else the installed one. */
static void worker_path(char *buf, size_t size)
{
	const char *env = getenv("MD_CAPTURE_WORKER");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && env[0] == '/' && (size_t)snprintf(buf, size, "%s", env) < size)
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(buf, size, "%.*s/%s", (int)(size - 32), self,
			                     MDD_PRIVSEP_WORKER) < size &&
			    access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, size, "%s/minidumpd/%s", MD_LIBEXECDIR, MDD_PRIVSEP_WORKER);
}

/* The dump folder becomes the front end's: it writes reports, the journal and prunes there; the
 * worker (root, without CAP_DAC_OVERRIDE, given the front end's group) writes the dumps. With a
 * dump group, others may pass through it to the files that group may read. The journal a root
 * daemon wrote before is handed over too; older dumps and reports stay root's. */
static int give_folders(const struct mdd_config *cfg, const char *dump_dir, uid_t uid, gid_t gid,
                        char *err, size_t size)
{
	static const char *const journals[JOURNALS] = {"reports.jsonl", "reports.jsonl.1"};
	mode_t mode = 0770 | (cfg->dump_gid >= 0 ? 0001 : 0);

	struct stat st;

	/* the mode first: once the folder is not ours, only CAP_FOWNER could change it; a folder
	 * already given (and now read-only, say) is left as it is */
	if (stat(dump_dir, &st) == 0 && st.st_uid == uid && st.st_gid == gid &&
	    (st.st_mode & 07777) == mode)
		;
	else if (chmod(dump_dir, mode) < 0 || chown(dump_dir, uid, gid) < 0) {
		snprintf(err, size, "cannot give the dump folder %s to %s: %s", dump_dir, cfg->user,
		         md_os_strerror(errno));
		return -errno;
	}
	for (int i = 0; i < JOURNALS; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dump_dir, journals[i]);
		if (lchown(path, uid, (gid_t)-1) < 0 && errno != ENOENT) {
			snprintf(err, size, "cannot give %s to %s: %s", path, cfg->user,
			         md_os_strerror(errno));
			return -errno;
		}
	}
	if (cfg->upload_enabled && chown(cfg->upload_outbox, uid, (gid_t)-1) < 0) {
		snprintf(err, size, "cannot give the upload outbox %s to %s: %s",
		         cfg->upload_outbox, cfg->user, md_os_strerror(errno));
		return -errno;
	}
	return 0;
}

static int wait_ready(int fd, char *err, size_t size)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char hello[4];
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, READY_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		snprintf(err, size, "the capture worker did not start within %d ms", READY_MS);
		return -ETIMEDOUT;
	}
	n = recv(fd, hello, sizeof(hello), 0);
	if (n != 4 || memcmp(hello, "MDPS", 4)) {
		snprintf(err, size, "the capture worker did not start (see its message above)");
		return -EIO;
	}
	return 0;
}

static int spawn(const struct mdd_config *cfg, const char *dump_dir, uid_t uid, gid_t gid,
                 char *err, size_t size)
{
	char path[PATH_MAX], a_uid[16], a_gid[16], a_dgid[24];
	int sv[2], r;
	pid_t pid;

	worker_path(path, sizeof(path));
	if (access(path, X_OK) < 0) {
		snprintf(err, size, "the capture worker %s: %s", path, md_os_strerror(errno));
		return -errno;
	}
	snprintf(a_uid, sizeof(a_uid), "%u", (unsigned)uid);
	snprintf(a_gid, sizeof(a_gid), "%u", (unsigned)gid);
	snprintf(a_dgid, sizeof(a_dgid), "%lld", (long long)cfg->dump_gid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, size, "socketpair: %s", md_os_strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close_pair(sv);
		snprintf(err, size, "cannot start the capture worker: %s", md_os_strerror(-r));
		return r;
	}
	if (pid == 0) {
		char *const argv[] = {path, (char *)dump_dir, a_uid, a_gid, a_dgid, NULL};
		sigset_t none;

		/* root with the front end's group as its only supplementary one: the dump folder is
		 * the front end's, mode 0770, and the worker has no CAP_DAC_OVERRIDE */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (setgroups(1, &gid) < 0 || dup2(sv[1], WORKER_FD) < 0)
			_exit(127);
		syscall(SYS_close_range, WORKER_FD + 1, ~0u, 0);
		execv(path, argv);
		_exit(127);
	}
	close(sv[1]);
	r = wait_ready(sv[0], err, size);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(sv[0]);
		return r;
	}
	ctl = sv[0];
	worker = pid;
	return 0;
}

/* This process becomes uid:gid, with only the dump group as a supplementary group (to give
 * reports that group), no capabilities left and none to gain. */
static int drop(const struct mdd_config *cfg, uid_t uid, gid_t gid, char *err, size_t size)
{
	gid_t dump_gid = (gid_t)cfg->dump_gid;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	uid_t ru, eu, su;

	if (setgroups(cfg->dump_gid >= 0 ? 1 : 0, &dump_gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, size, "cannot become user %s: %s", cfg->user, md_os_strerror(errno));
		return -errno;
	}
	memset(d, 0, sizeof(d));
	if (getresuid(&ru, &eu, &su) < 0 || ru != uid || eu != uid || su != uid ||
	    syscall(SYS_capget, &h, d) < 0 || d[0].permitted || d[1].permitted || d[0].effective ||
	    d[1].effective) {
		snprintf(err, size, "still privileged after becoming user %s", cfg->user);
		return -EPERM;
	}
	return 0;
}

int mdd_privsep_start(const struct mdd_config *cfg, const char *dump_dir, char *err, size_t size)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int r;

	if (geteuid() != 0 || !strcmp(cfg->user, "root"))
		return 0;
	if (getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &found) != 0 || !found) {
		snprintf(
		    err, size,
		    "user \"%s\" (config key \"user\") does not exist: create it "
		    "(systemd-sysusers with sysusers.d/minidumpd.conf), or set \"user\": \"root\" "
		    "to run without the privilege split",
		    cfg->user);
		return -ENOENT;
	}
	if (found->pw_uid == 0)
		return 0;
	r = give_folders(cfg, dump_dir, found->pw_uid, found->pw_gid, err, size);
	if (r >= 0)
		r = spawn(cfg, dump_dir, found->pw_uid, found->pw_gid, err, size);
	if (r >= 0)
		r = drop(cfg, found->pw_uid, found->pw_gid, err, size);
	return r < 0 ? r : 1;
}

/* Reads the whole result, at most wait_ms: the reply socket times out (SO_RCVTIMEO). */
static int read_result(int fd, struct mdd_privsep_result *res, double wait_ms)
{
	struct timeval tv = {.tv_sec = (time_t)(wait_ms / 1000),
	                     .tv_usec = (suseconds_t)((long)wait_ms % 1000 * 1000)};
	int64_t n;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	n = md_os_read_full(fd, res, sizeof(*res));
	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return -ETIMEDOUT;
	if (n < 0)
		return (int)n;
	return (size_t)n == sizeof(*res) ? 0 : -EPIPE;
}

int mdd_privsep_call(struct mdd_privsep_request *q, int pidfd, int stream,
                     struct mdd_privsep_result *ret, char *why, size_t size)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MDD_PRIVSEP_FDS_MAX)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = q, .iov_len = sizeof(*q)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control};
	double wait_ms = q->op == MDD_PRIVSEP_OP_EXE
	                     ? EXE_MS
	                     : (double)q->budget_ms + MDD_PRIVSEP_REPLY_GRACE_MS;
	int fds[MDD_PRIVSEP_FDS_MAX], sv[2], r;
	unsigned n = 0;
	struct cmsghdr *cm;

	if (ctl < 0) {
		snprintf(why, size, "no capture worker");
		return -ENOSYS;
	}
	q->magic = MDD_PRIVSEP_MAGIC;
	q->version = MDD_PRIVSEP_VERSION;
	q->size = sizeof(*q);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		snprintf(why, size, "socketpair: %s", md_os_strerror(-r));
		return r;
	}
	fds[n++] = sv[1];
	if (pidfd >= 0) {
		q->flags |= MDD_PRIVSEP_HAS_PIDFD;
		fds[n++] = pidfd;
	}
	if (stream >= 0)
		fds[n++] = stream;
	memset(&control, 0, sizeof(control));
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	r = sendmsg(ctl, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
	close(sv[1]);
	if (r < 0) {
		snprintf(why, size, "the capture worker cannot be reached: %s", md_os_strerror(-r));
		close(sv[0]);
		return r;
	}
	r = read_result(sv[0], ret, wait_ms);
	close(sv[0]);
	if (r == -ETIMEDOUT) {
		snprintf(why, size, "the capture worker did not answer within %.0f ms", wait_ms);
		return r;
	}
	if (r < 0) {
		snprintf(why, size,
		         "the capture worker ended without an answer (it crashed or was "
		         "killed; the target was resumed by the kernel)");
		return -EIO;
	}
	if (mdd_privsep_result_check(ret, sizeof(*ret)) < 0) {
		snprintf(why, size, "the capture worker answered something malformed");
		return -EIO;
	}
	return 0;
}

int mdd_privsep_process_exe(uint32_t pid, int pidfd, char *buf, size_t size, uint64_t *ret_id)
{
	struct mdd_privsep_request *q;
	struct mdd_privsep_result *res;
	char why[160];
	int r;

	if (ctl < 0)
		return md_platform_process_exe(pid, buf, size, ret_id);
	q = calloc(1, sizeof(*q));
	res = calloc(1, sizeof(*res));
	r = q && res ? 0 : -ENOMEM;
	if (r == 0) {
		q->op = MDD_PRIVSEP_OP_EXE;
		q->pid = pid;
		r = mdd_privsep_call(q, pidfd, -1, res, why, sizeof(why));
	}
	if (r == 0)
		r = res->error;
	if (r == 0) {
		if ((size_t)snprintf(buf, size, "%s", res->exe) >= size)
			r = -ENAMETOOLONG;
		else
			*ret_id = res->file_id;
	}
	free(q);
	free(res);
	return r;
}
