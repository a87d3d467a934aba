/* SPDX-License-Identifier: MIT */
/*
 * The sandbox runner (see md-sandbox.h). Between fork and exec the child only makes system
 * calls (the daemon has threads): everything that allocates or looks up a user is done before
 * the fork. The order in the child matters: namespaces and mounts need privilege, so they come
 * first; then the capability bounding set is emptied and the user is dropped (setgroups, gid,
 * uid), then rlimits and no_new_privs, then exec. seccomp is the helper's own last step before
 * it reads anything (symbolizer/sym-seccomp.c): a filter installed here would have to allow
 * everything the dynamic loader does.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "md-sandbox.h"

#define ENV_MAX       32 /* environment entries passed to the helper */
#define NOFILE_SPARE  64 /* descriptors the helper may open beyond those handed over */
#define TMPFS_OPTIONS "size=64m,mode=1777" /* the private /tmp, for debuginfod's cache */
#define FSIZE_NETWORK (512ull << 20)       /* bytes a debuginfod download may write */

/* Sanitizer builds reserve terabytes of shadow memory: no RLIMIT_AS there. */
#if defined(__SANITIZE_ADDRESS__)
#define LIMIT_AS 0
#else
#define LIMIT_AS 1
#endif

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Child side, between fork and exec: system calls only. Never returns. */
static void child(const struct mdd_sandbox *sb, char *const *envp, int out_w, int err_w, bool root,
                  uid_t uid, gid_t gid, unsigned budget_ms)
{
	int base = 3 + (int)sb->n_fds;
	struct rlimit rl;
	sigset_t all;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* Move the pipes and the handed fds above every fd number they will land on, then put
	 * them in place; everything else is closed. */
	for (size_t i = 0; i < sb->n_fds; i++)
		if (sb->fds[i] >= base)
			base = sb->fds[i] + 1;
	if (out_w >= base)
		base = out_w + 1;
	if (err_w >= base)
		base = err_w + 1;
	int o = fcntl(out_w, F_DUPFD, base), e = fcntl(err_w, F_DUPFD, base);
	int moved[MDD_SANDBOX_FDS_MAX];

	if (o < 0 || e < 0)
		_exit(126);
	for (size_t i = 0; i < sb->n_fds; i++) {
		moved[i] = fcntl(sb->fds[i], F_DUPFD, base);
		if (moved[i] < 0)
			_exit(126);
	}
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
		_exit(126);
	for (size_t i = 0; i < sb->n_fds; i++)
		if (dup2(moved[i], 3 + (int)i) < 0)
			_exit(126);
	close_range(3 + (unsigned)sb->n_fds, ~0u, 0);

	/* Namespaces where the kernel lets us: a new mount namespace (a private /tmp, nothing we
	 * mount leaks out) and, without debuginfod, a network namespace with no interfaces. */
	if (root) {
		if (unshare(CLONE_NEWNS | CLONE_NEWIPC | (sb->network ? 0 : CLONE_NEWNET)) == 0) {
			/* with debuginfod, its cache goes to a /tmp of its own */
			if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 && sb->network)
				mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
				      TMPFS_OPTIONS);
		} else if (!sb->network) {
			unshare(CLONE_NEWNET);
		}
		for (int cap = 0; cap < 64; cap++)
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(125);
		if (getuid() == 0 || geteuid() == 0)
			_exit(125);
	} else if (!sb->network) {
		/* unprivileged: a user namespace makes a network namespace possible */
		unshare(CLONE_NEWUSER | CLONE_NEWNET);
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(125);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* below the daemon's captures: in a crash storm the dumps, which apps wait for, come first
	 */
	setpriority(PRIO_PROCESS, 0, MDD_SANDBOX_NICE);

	rl.rlim_cur = rl.rlim_max = budget_ms / 1000 + 1; /* seconds of CPU */
	setrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = rl.rlim_max = 3 + sb->n_fds + NOFILE_SPARE;
	setrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = rl.rlim_max = sb->network ? FSIZE_NETWORK : 0;
	setrlimit(RLIMIT_FSIZE, &rl);
	if (LIMIT_AS) {
		rl.rlim_cur = rl.rlim_max = MDD_SANDBOX_AS_MAX;
		setrlimit(RLIMIT_AS, &rl);
	}
	execve(sb->program, sb->argv, envp);
	_exit(127);
}

/* Appends what fd has to say to *buf (capped at cap bytes: beyond, *over is set). Returns 0 on
 * EOF, 1 when more may come. */
static int drain(int fd, char **buf, size_t *len, size_t *size, size_t cap, bool *over)
{
	char chunk[65536];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	if (*len + (size_t)n > cap) {
		*over = true;
		n = (ssize_t)(cap - *len);
	}
	if (*len + (size_t)n + 1 > *size) {
		size_t want = *size ? *size : 65536;
		char *p;

		while (want < *len + (size_t)n + 1)
			want *= 2;
		p = realloc(*buf, want);
		if (!p) {
			*over = true;
			return 0;
		}
		*buf = p;
		*size = want;
	}
	memcpy(*buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = 0;
	return *over ? 0 : 1;
}

/* Closes *fd if it is open and marks it closed. */
static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int mdd_sandbox_run(const struct mdd_sandbox *sb, struct mdd_sandbox_result *ret)
{
	unsigned budget_ms = sb->budget_ms ? sb->budget_ms : MDD_SANDBOX_BUDGET_MS;
	const char *user = sb->user ? sb->user : MDD_SANDBOX_USER;
	char *envp[ENV_MAX + 1];
	size_t n_env = 0;
	static const char *const pass[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
	char pass_buf[3][1024];
	int out[2] = {-1, -1}, err[2] = {-1, -1};
	bool root = geteuid() == 0, over = false;
	uid_t uid = 65534;
	gid_t gid = 65534;
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, osize = 0, elen = 0, esize = 0;
	double t0 = now_ms(), deadline = t0 + budget_ms;
	int status = 0, r = 0;
	pid_t pid;
	bool exited = false;

	memset(ret, 0, sizeof(*ret));
	if (sb->n_fds > MDD_SANDBOX_FDS_MAX) {
		snprintf(ret->reason, sizeof(ret->reason), "%zu descriptors, at most %d", sb->n_fds,
		         MDD_SANDBOX_FDS_MAX);
		return -E2BIG;
	}
	if (root) {
		struct passwd pw, *found = NULL;
		char pwbuf[4096];

		/* an unknown user falls back to the overflow uid, never to root */
		if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found &&
		    found->pw_uid != 0) {
			uid = found->pw_uid;
			gid = found->pw_gid;
		}
	}
	envp[n_env++] = (char *)"PATH=/usr/bin:/bin";
	envp[n_env++] = (char *)"LC_ALL=C";
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(pass[i]);

		if (v && snprintf(pass_buf[i], sizeof(pass_buf[i]), "%s=%s", pass[i], v) <
		             (int)sizeof(pass_buf[i]))
			envp[n_env++] = pass_buf[i];
	}
	for (size_t i = 0; sb->env && sb->env[i] && n_env < ENV_MAX; i++)
		envp[n_env++] = (char *)sb->env[i];
	envp[n_env] = NULL;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		r = -errno;
		snprintf(ret->reason, sizeof(ret->reason), "pipe: %s", strerror(-r));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		snprintf(ret->reason, sizeof(ret->reason), "fork: %s", strerror(-r));
		goto out;
	}
	if (pid == 0)
		child(sb, envp, out[1], err[1], root, uid, gid, budget_ms);
	close_fd(&out[1]);
	close_fd(&err[1]);

	/* Read both pipes until they close, the budget runs out or the output is too big. */
	{
		struct pollfd p[2] = {{.fd = out[0], .events = POLLIN},
		                      {.fd = err[0], .events = POLLIN}};
		bool timed_out = false;

		while (p[0].fd >= 0 || p[1].fd >= 0) {
			double left = deadline - now_ms();
			int n;

			if (left <= 0) {
				timed_out = true;
				break;
			}
			n = poll(p, 2, (int)left + 1);
			if (n < 0 && errno != EINTR)
				break;
			for (int i = 0; i < 2 && n > 0; i++) {
				if (p[i].fd < 0 || !p[i].revents)
					continue;
				bool dummy = false;
				int more = i == 0 ? drain(p[i].fd, &obuf, &olen, &osize,
				                          MDD_SANDBOX_OUT_MAX, &over)
				                  : drain(p[i].fd, &ebuf, &elen, &esize,
				                          MDD_SANDBOX_ERR_MAX, &dummy);
				if (!more || (i == 1 && dummy))
					p[i].fd = -1;
			}
			if (over)
				break;
		}
		/* the pipes closed: the helper should be exiting; it still has until the deadline
		 */
		while (!timed_out && !over) {
			pid_t w = waitpid(pid, &status, WNOHANG);

			if (w == pid) {
				exited = true;
				break;
			}
			if (now_ms() >= deadline) {
				timed_out = true;
				break;
			}
			poll(NULL, 0, 2);
		}
		if (!exited) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
		}
		ret->elapsed_ms = now_ms() - t0;
		if (timed_out) {
			snprintf(ret->reason, sizeof(ret->reason),
			         "killed after its budget of %u ms", budget_ms);
			r = -ETIMEDOUT;
			goto out;
		}
		if (over) {
			snprintf(ret->reason, sizeof(ret->reason),
			         "killed: its answer passed %u bytes", MDD_SANDBOX_OUT_MAX);
			r = -EFBIG;
			goto out;
		}
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		snprintf(ret->reason, sizeof(ret->reason), "killed by signal %d (%s)%s", sig,
		         sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
		         sig == SIGSYS    ? ": a system call its seccomp filter forbids"
		         : sig == SIGXCPU ? ": CPU time limit"
		                          : "");
		r = -ECHILD;
		goto out;
	}
	if (WEXITSTATUS(status) != 0) {
		int code = WEXITSTATUS(status);
		const char *what = code == 127   ? "cannot run the helper: "
		                   : code == 125 ? "cannot drop privileges: "
		                   : code == 126 ? "cannot set up descriptors: "
		                                 : "";
		/* the helper's stderr, first line only, as the reason */
		if (ebuf) {
			char *nl = strchr(ebuf, '\n');

			if (nl)
				*nl = 0;
		}
		snprintf(ret->reason, sizeof(ret->reason), "exited with status %d: %s%s", code,
		         what, ebuf && *ebuf ? ebuf : sb->program);
		r = -ECHILD;
		goto out;
	}
	ret->out = obuf;
	ret->out_len = olen;
	obuf = NULL;
	if (!ret->out) {
		ret->out = strdup("");
		if (!ret->out)
			r = -ENOMEM;
	}
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&out[i]);
		close_fd(&err[i]);
	}
	free(obuf);
	free(ebuf);
	return r;
}

/* Whether this process may make a user namespace (a unit's RestrictNamespaces= or
 * user.max_user_namespaces may forbid it): a helper run by a process that is not root gets no
 * user of its own without one. */
static bool user_namespace_possible(void)
{
	pid_t pid = fork();
	int st = 0;

	if (pid < 0)
		return false;
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

bool mdd_sandbox_available(void)
{
	struct rlimit rl;
	FILE *f;
	char line[256];
	unsigned long long eff = 0;

	if (geteuid() != 0)
		return user_namespace_possible();
	f = fopen("/proc/self/status", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	/* CAP_SETGID is 6, CAP_SETUID 7 (linux/capability.h) */
	if ((eff & (1ull << 6)) == 0 || (eff & (1ull << 7)) == 0)
		return false;
	/* a seccomp filter that refuses setrlimit (systemd's ~@resources) leaves no limits */
	return getrlimit(RLIMIT_CORE, &rl) == 0 && setrlimit(RLIMIT_CORE, &rl) == 0;
}
