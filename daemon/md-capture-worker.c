/* SPDX-License-Identifier: MIT */
/*
 * md-capture-worker: the privileged half of minidumpd (md-privsep.h, docs/security.md). minidumpd
 * starts it as root before it drops its own privileges; it keeps only CAP_SYS_PTRACE,
 * CAP_DAC_READ_SEARCH, CAP_KILL and CAP_CHOWN and serves fixed-size requests on fd 3: each
 * capture runs on a thread of its own (ptrace binds a tracee to the thread that attached; a
 * thread, not a child process, so that the heap stays warm from one dump to the next: a fresh
 * process per dump cost milliseconds of page faults), writes the dump into the one dump folder
 * named on its command line, and answers on the request's reply socket. The main thread reads
 * the requests and cancels captures past their time budget. It links the OS layer, the
 * snapshot backend and the writers: no JSON library, no protocol decoder, no event loop. It
 * trusts no request: each is checked field by field and refused with a reason. It writes a
 * dump of a target that is not dumpable by its own user as root's alone, whatever the front
 * end said. Usage (by minidumpd only): md-capture-worker DUMP_DIR UID GID DUMP_GID
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "md-access.h"
#include "md-backend.h"
#include "md-capture.h"
#include "md-os.h"
#include "md-peer.h"
#include "md-privsep.h"
#include "md-unix.h"

#define CTL_FD   3
#define WATCH_MS 20 /* how often the budgets of running captures are looked at */

/* What the worker was started with. */
static struct {
	const char *dir;   /* the dump folder, from the command line: a request names none */
	uint32_t uid, gid; /* the front end's: owner of the dumps it may read */
	int64_t dump_gid;  /* the dump group, -1: none */
	pthread_mutex_t lock;
	struct job *running; /* captures on their threads, under lock */
	unsigned n_running;
} W = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* One capture: its request, its descriptors and its answer, owned by its thread. */
struct job {
	struct mdd_privsep_request q;
	struct mdd_privsep_result res;
	int reply, pidfd, stream;
	double deadline_ms;
	volatile sig_atomic_t cancel; /* set by the main thread past the deadline */
	struct job *next;
};

static struct mdd_privsep_request request;   /* read by the main thread */
static struct mdd_privsep_result answer_buf; /* the main thread's answers (refusals, exe) */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "md-capture-worker: %s\n", line);
}

static void answer(int reply, struct mdd_privsep_result *res)
{
	res->magic = MDD_PRIVSEP_MAGIC;
	res->version = MDD_PRIVSEP_VERSION;
	res->size = sizeof(*res);
	md_os_write_full(reply, res, sizeof(*res)); /* a front end gone: nobody to tell */
}

/* ---- one capture, on its own thread ---- */

struct capture_ctx {
	const struct mdd_privsep_request *q;
	int pidfd;
	int files[2]; /* copies of the dump's descriptors (plain, compressed), kept past the commit
	               */
	size_t n_files;
	bool private_; /* root's alone */
	struct mdd_privsep_result *res;
};

/* Once the file has its name: a dump the front end may read becomes its user's (with the dump
 * group's read access if there is one); a private one stays as it was created, root's and 0600.
 * Until then every file is root's: its final name is given with link(2), which
 * fs.protected_hardlinks refuses for a file the worker does not own, and the front end can read
 * nothing before the dump is known not to be private. */
static int give(struct capture_ctx *x, int fd)
{
	if (x->private_)
		return 0;
	/* the mode first: once the file is not ours, only CAP_FOWNER could change it */
	if (fchmod(fd, W.dump_gid >= 0 ? 0640 : 0600) < 0 ||
	    fchown(fd, W.uid, W.dump_gid >= 0 ? (gid_t)W.dump_gid : W.gid) < 0)
		return -errno;
	return 0;
}

static int prepare_file(void *ctx, int fd)
{
	struct capture_ctx *x = ctx;
	int copy;

	if (x->n_files >= 2)
		return -EINVAL;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0)
		return -errno;
	x->files[x->n_files++] = copy;
	return 0;
}

/* Once stopped: the requester's check (md-access.h) when asked, and in any case the worker's
 * own look at the target, which decides whether the file is root's alone. */
static int stopped(void *ctx, const struct md_snapshot *s)
{
	struct capture_ctx *x = ctx;
	const struct mdd_privsep_request *q = x->q;
	struct md_process_creds t = {0}; /* a zero one is not dumpable: the file stays root's */
	bool have_creds = false;
	int r;

	(void)s;
	x->private_ = (q->flags & MDD_PRIVSEP_PRIVATE) != 0;
	if (q->flags & MDD_PRIVSEP_CHECK) {
		const struct mdd_access_expect e = {
		    .requester_uid = q->requester_uid,
		    .requester_root = (q->flags & MDD_PRIVSEP_ROOT_ASKS) != 0,
		    .uid = q->uid,
		    .check_gid = (q->flags & MDD_PRIVSEP_CHECK_GID) != 0,
		    .gid = q->gid,
		    .caps = q->caps,
		};
		bool not_dumpable = false;

		r = mdd_access_decide(&e, q->pid, x->pidfd, &not_dumpable, &t, x->res->message,
		                      sizeof(x->res->message));
		if (r < 0)
			return r;
		if (not_dumpable)
			x->res->flags |= MDD_PRIVSEP_R_NOT_DUMPABLE;
		have_creds = true;
	}
	/* whatever the front end says: a target its own user may not dump is root's alone */
	r = have_creds ? 0 : md_platform_process_creds(q->pid, x->pidfd, &t);
	if (r < 0 || !t.dumpable || t.uid[0] != t.uid[1] || t.uid[1] != t.uid[2] ||
	    t.gid[0] != t.gid[1] || t.gid[1] != t.gid[2])
		x->private_ = true;
	if (x->private_)
		x->res->flags |= MDD_PRIVSEP_R_PRIVATE;
	return 0;
}

static void fill_result(struct mdd_privsep_result *res, const struct md_capture_result *cr)
{
	const struct md_snapshot *s = cr->snapshot;

	snprintf(res->name, sizeof(res->name), "%s", cr->name);
	res->time = (int64_t)cr->time;
	res->started_ms = cr->started_ms;
	res->duration_ms = cr->duration_ms;
	res->suspended_ms = cr->suspended_ms;
	res->bytes_on_disk = cr->bytes_on_disk;
	res->bytes = cr->dump.bytes;
	res->threads = cr->dump.threads;
	res->modules = cr->dump.modules;
	res->memory_ranges = cr->dump.memory_ranges;
	res->memory_bytes = cr->dump.memory_bytes;
	res->n_streams = (uint32_t)cr->dump.n_streams;
	for (size_t i = 0; i < cr->dump.n_streams && i < MD_STREAMS_MAX; i++) {
		const struct md_stream_result *in = &cr->dump.streams[i];
		struct mdd_privsep_stream *out = &res->streams[i];

		out->type = in->type;
		out->status = (int32_t)in->status;
		out->error = in->error;
		out->bytes = in->bytes;
		snprintf(out->name, sizeof(out->name), "%s", in->name ? in->name : "");
	}
	if (cr->dump.partial)
		res->flags |= MDD_PRIVSEP_R_PARTIAL;
	if (cr->dump.budget_cut)
		res->flags |= MDD_PRIVSEP_R_BUDGET_CUT;
	if (!s)
		return;
	res->pid = s->process.pid;
	res->uid = s->process.uid;
	res->requesting_tid = s->requesting_tid;
	snprintf(res->exe, sizeof(res->exe), "%s", s->process.exe);
	if (s->target_gone)
		res->flags |= MDD_PRIVSEP_R_TARGET_GONE;
	if (s->crash) {
		res->flags |= MDD_PRIVSEP_R_HAS_CRASH;
		res->crash_tid = s->crash->tid;
		res->crash_code = s->crash->code;
		res->crash_flags = s->crash->flags;
		res->crash_address = s->crash->address;
	}
	res->n_diag = (uint32_t)(s->diag.count < MD_DIAG_MAX ? s->diag.count : MD_DIAG_MAX);
	res->diag_dropped = s->diag.dropped + (s->diag.count - res->n_diag);
	for (uint32_t i = 0; i < res->n_diag; i++) {
		const struct md_diag_entry *e = &s->diag.entries[i];

		res->diag[i].kind = (uint32_t)e->kind;
		res->diag[i].error = e->error;
		res->diag[i].id = e->id;
		snprintf(res->diag[i].message, sizeof(res->diag[i].message), "%s", e->message);
	}
}

static void capture(struct job *job)
{
	const struct mdd_privsep_request *q = &job->q;
	struct mdd_privsep_result *res = &job->res;
	int pidfd = job->pidfd, stream = job->stream;
	char stream_error[160] = "";
	struct md_core_source src = {
	    .fd = stream, .error = stream_error, .error_size = sizeof(stream_error)};
	const char *keys[MDD_PRIVSEP_ANNOTATIONS], *values[MDD_PRIVSEP_ANNOTATIONS];
	struct capture_ctx x = {.q = q, .pidfd = pidfd, .res = res};
	double now = md_now_ms();
	struct md_capture_result cr;
	int r;

	for (uint32_t i = 0; i < q->n_annotations; i++) {
		keys[i] = q->keys[i];
		values[i] = q->values[i];
	}
	{
		const struct md_capture_options o = {
		    .backend = q->op == MDD_PRIVSEP_OP_CORE ? &md_platform_core_backend
		                                            : &md_platform_live_backend,
		    .pid = q->pid,
		    .snapshot =
		        {
		            .cancel = &job->cancel,
		            .deadline_ms = now + (double)q->budget_ms,
		            /* stopping gets half the budget; the rest is for reading and writing */
		            .stop_deadline_ms = now + (double)q->budget_ms / 2.0,
		            .crash = q->flags & MDD_PRIVSEP_HAS_CRASH ? &q->crash : NULL,
		            .pidfd = pidfd,
		            .source = q->op == MDD_PRIVSEP_OP_CORE ? &src : NULL,
		        },
		    .dump =
		        {
		            .cancel = &job->cancel,
		            .max_bytes = q->max_bytes,
		            .annotation_keys = keys,
		            .annotation_values = values,
		            .n_annotations = q->n_annotations,
		        },
		    .dir = W.dir,
		    .compress = (q->flags & MDD_PRIVSEP_COMPRESS) != 0,
		    .exe_hint = q->exe_hint[0] ? q->exe_hint : NULL,
		    .prepare_file = prepare_file,
		    .stopped = stopped,
		    .ctx = &x,
		};

		r = md_capture_dump(&o, &cr);
	}
	/* the kernel's task waits until every copy of its connection is closed */
	if (stream >= 0)
		close(stream);
	job->stream = -1;
	/* the last file written is the one kept (the compressed copy, when there is one) */
	if (r >= 0 && x.n_files && (r = give(&x, x.files[x.n_files - 1])) < 0) {
		cr.step = MD_CAPTURE_STEP_COMMIT;
		snprintf(res->message, sizeof(res->message), "cannot give the dump to uid %u: %s",
		         W.uid, md_os_strerror(-r));
	}
	for (size_t i = 0; i < x.n_files; i++)
		close(x.files[i]);
	res->error = r < 0 ? r : 0;
	res->step = (uint32_t)(r < 0 ? cr.step : MD_CAPTURE_STEP_DONE);
	if (stream_error[0] && !res->message[0])
		snprintf(res->message, sizeof(res->message), "%s", stream_error);
	if (r >= 0)
		fill_result(res, &cr);
	md_capture_result_done(&cr);
	answer(job->reply, res);
}

static void *capture_thread(void *arg)
{
	struct job *job = arg;

	capture(job);
	pthread_mutex_lock(&W.lock);
	for (struct job **p = &W.running; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			break;
		}
	W.n_running--;
	pthread_mutex_unlock(&W.lock);
	close(job->reply);
	if (job->pidfd >= 0)
		close(job->pidfd);
	free(job);
	return NULL;
}

/* The main thread: captures past their budget are told to give up (between steps; the target
 * is resumed on every path). */
static void watch_budgets(void)
{
	double now = md_now_ms();

	pthread_mutex_lock(&W.lock);
	for (struct job *j = W.running; j; j = j->next)
		if (now >= j->deadline_ms)
			j->cancel = 1;
	pthread_mutex_unlock(&W.lock);
}

/* ---- the main process ---- */

static void exe_of(const struct mdd_privsep_request *q, int reply, int pidfd)
{
	struct mdd_privsep_result *res = &answer_buf;
	int r = 0;

	memset(res, 0, sizeof(*res));
	res->step = MD_CAPTURE_STEP_DONE;
	if (pidfd >= 0)
		r = md_platform_pinned(pidfd, q->pid);
	if (r >= 0)
		r = md_platform_process_exe(q->pid, res->exe, sizeof(res->exe), &res->file_id);
	res->error = r < 0 ? r : 0;
	if (r >= 0)
		snprintf(res->name, sizeof(res->name), "exe");
	answer(reply, res);
}

static void refuse(int reply, int error, const char *why)
{
	struct mdd_privsep_result *res = &answer_buf;

	memset(res, 0, sizeof(*res));
	res->error = error;
	res->step = MD_CAPTURE_STEP_SNAPSHOT;
	snprintf(res->message, sizeof(res->message), "the capture worker refused the request: %s",
	         why);
	if (reply >= 0)
		answer(reply, res);
}

/* Reads one request and its descriptors; returns 1, 0 when the front end has gone, -errno. */
static int receive(int *fds, unsigned *ret_n, size_t *ret_len, bool *ret_truncated)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MDD_PRIVSEP_FDS_MAX)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = &request, .iov_len = sizeof(request)};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = &control,
	                    .msg_controllen = sizeof(control)};
	unsigned n = 0;
	ssize_t len;

	memset(&request, 0, sizeof(request));
	len = recvmsg(CTL_FD, &mh, MSG_CMSG_CLOEXEC);
	if (len < 0)
		return errno == EINTR ? -EINTR : -errno;
	md_unix_take_fds(&mh, fds, &n, MDD_PRIVSEP_FDS_MAX);
	if (len == 0 && n == 0)
		return 0;
	*ret_n = n;
	*ret_len = (size_t)len;
	*ret_truncated = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	return 1;
}

static void serve_one(void)
{
	int fds[MDD_PRIVSEP_FDS_MAX] = {-1, -1, -1};
	unsigned n = 0;
	size_t len = 0;
	bool truncated = false;
	char why[128];
	int reply, pidfd, stream, type = 0, r;
	socklen_t tl = sizeof(type);
	struct job *job;
	pthread_attr_t attr;
	pthread_t thread;
	bool busy;

	r = receive(fds, &n, &len, &truncated);
	if (r == 0) {
		/* the front end has gone: the captures running finish, then the worker exits */
		pthread_exit(NULL);
	}
	if (r < 0) {
		if (r != -EINTR && r != -EAGAIN) {
			say("cannot read a request: %s", md_os_strerror(-r));
			exit(1);
		}
		return;
	}
	/* the first descriptor is where the answer goes; it must be a stream socket */
	reply =
	    n > 0 && getsockopt(fds[0], SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM
	        ? fds[0]
	        : -1;
	if (truncated)
		r = -EBADMSG, snprintf(why, sizeof(why), "a request too long or with too many fds");
	else
		r = mdd_privsep_request_check(&request, len, n, why, sizeof(why));
	if (r == 0 && reply < 0)
		r = -EBADMSG, snprintf(why, sizeof(why), "no reply socket");
	if (r < 0) {
		say("request refused: %s", why);
		refuse(reply, r, why);
		goto out;
	}
	pidfd = request.flags & MDD_PRIVSEP_HAS_PIDFD ? fds[1] : -1;
	stream = request.op == MDD_PRIVSEP_OP_CORE ? fds[n - 1] : -1;
	if (request.op == MDD_PRIVSEP_OP_EXE) {
		exe_of(&request, reply, pidfd);
		goto out;
	}
	pthread_mutex_lock(&W.lock);
	busy = W.n_running >= MDD_PRIVSEP_CAPTURES_MAX;
	pthread_mutex_unlock(&W.lock);
	job = busy ? NULL : calloc(1, sizeof(*job));
	if (!job) {
		refuse(reply, busy ? -EBUSY : -ENOMEM,
		       busy ? "too many captures at once" : "out of memory");
		goto out;
	}
	job->q = request;
	job->reply = reply;
	job->pidfd = pidfd;
	job->stream = stream;
	job->deadline_ms = md_now_ms() + (double)request.budget_ms;
	pthread_mutex_lock(&W.lock);
	job->next = W.running;
	W.running = job;
	W.n_running++;
	pthread_mutex_unlock(&W.lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&thread, &attr, capture_thread, job);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		pthread_mutex_lock(&W.lock);
		W.running = job->next;
		W.n_running--;
		pthread_mutex_unlock(&W.lock);
		free(job);
		refuse(reply, -r, "cannot start a thread");
		goto out;
	}
	/* the thread owns them now */
	for (unsigned i = 0; i < n; i++)
		fds[i] = -1;
out:
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Keeps only what capturing needs: the bounding set loses the rest (where we may drop it), the
 * effective and permitted sets are exactly these four, nothing inheritable or ambient, and no
 * new privileges through exec. */
static int keep_capabilities(void)
{
	const uint64_t keep = (1ull << CAP_SYS_PTRACE) | (1ull << CAP_DAC_READ_SEARCH) |
	                      (1ull << CAP_KILL) | (1ull << CAP_CHOWN);
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	uint64_t have;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	have = (uint64_t)d[0].permitted | (uint64_t)d[1].permitted << 32;
	for (unsigned cap = 0; cap < 64; cap++)
		if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); /* EPERM without CAP_SETPCAP */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	have &= keep;
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)have;
	d[1].effective = d[1].permitted = (uint32_t)(have >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

static int parse_id(const char *s, int64_t min, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || !*s || *end || v < min || v >= (long long)UINT32_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	int64_t uid, gid, dump_gid;
	int dirfd, type = 0, r;
	socklen_t tl = sizeof(type);
	struct stat st;

	if (argc != 5 || parse_id(argv[2], 0, &uid) < 0 || parse_id(argv[3], 0, &gid) < 0 ||
	    parse_id(argv[4], -1, &dump_gid) < 0) {
		say("usage: md-capture-worker DUMP_DIR UID GID DUMP_GID (started by minidumpd)");
		return 2;
	}
	if (getsockopt(CTL_FD, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_SEQPACKET) {
		say("fd %d is not minidumpd's socket", CTL_FD);
		return 2;
	}
	W.uid = (uint32_t)uid;
	W.gid = (uint32_t)gid;
	W.dump_gid = dump_gid;
	/* the one folder dumps go to, opened again for each dump (by path, as the operator's
	 * mounts say it is now) */
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0 || fstat(dirfd, &st) < 0) {
		say("dump folder %s: %s", argv[1], md_os_strerror(errno));
		return 1;
	}
	close(dirfd);
	W.dir = argv[1];
	if (geteuid() == 0 && (r = keep_capabilities()) < 0) {
		say("cannot drop capabilities: %s", md_os_strerror(-r));
		return 1;
	}
	md_os_ignore_sigpipe();
	/* a stop is minidumpd's to make (systemd sends SIGTERM to the whole unit, a terminal SIGINT
	 * to the whole group): it finishes the dumps in flight, then closes the socket, and that
	 * ends the worker */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	/* ready: minidumpd waits for these four bytes before it drops its own privileges */
	if (md_os_write_full(CTL_FD, "MDPS", 4) < 0)
		return 1;
	for (;;) {
		struct pollfd p = {.fd = CTL_FD, .events = POLLIN};

		watch_budgets();
		r = poll(&p, 1, W.n_running ? WATCH_MS : -1);
		if (r < 0 && errno != EINTR) {
			say("poll: %s", md_os_strerror(errno));
			return 1;
		}
		if (r > 0)
			serve_one();
	}
}
