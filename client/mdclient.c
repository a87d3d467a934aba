/* SPDX-License-Identifier: MIT */
/*
 * The public functions of libmdclient outside the crash path: reading the options, the
 * connection and HELLO made at init, annotations, alternate signal stacks, dump_now and
 * shutdown. This code runs in normal context and may allocate and lock, but it prepares
 * everything the crash handler (mdclient-handler.c) needs, and it never prints, logs or
 * aborts: every failure is a negative errno for the application to act on.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mdclient-internal.h"
#include "mdclient-reply.h"
#include "mdclient-settings.h"
#include "mdclient.h"

#define ALTSTACK_BYTES (64u * 1024u) /* usable bytes of an alternate stack, at least */
#define COMM_MAX       64u           /* bytes read from /proc/self/comm (the kernel keeps 16) */

struct md_shim_state md_shim_state = {.fd = -1};

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

/* The alternate stack each thread got from us, freed when the thread exits. */
static pthread_once_t altstack_once = PTHREAD_ONCE_INIT;
static pthread_key_t altstack_key;
static int altstack_key_error;

void md_shim_lock(void)
{
	(void)pthread_mutex_lock(&state_lock);
}

void md_shim_unlock(void)
{
	(void)pthread_mutex_unlock(&state_lock);
}

/* Effective settings, from the options, then the environment, then the defaults. */
struct settings {
	struct sockaddr_un addr;
	socklen_t addr_len;
	int timeout_ms;
	unsigned int flags;
};

/* secure_getenv, so that a set-uid program does not let its caller pick the daemon. An empty
 * value counts as unset. */
static const char *env(const char *name)
{
	const char *v = secure_getenv(name);

	return v && *v ? v : NULL;
}

static int read_settings(const struct md_client_options *opts, struct settings *ret)
{
	const unsigned int known =
	    MD_CLIENT_NO_HANDLERS | MD_CLIENT_NO_ALTSTACK | MD_CLIENT_NO_CONNECT;
	struct settings s;
	const char *path;
	size_t len;
	int r;

	memset(&s, 0, sizeof(s));
	r = md_shim_check_options(opts);
	if (r < 0)
		return r;
	if (opts) {
		if (opts->flags & ~known)
			return -EINVAL;
		s.flags = opts->flags;
	}
	r = md_shim_timeout(opts ? opts->timeout_ms : 0, env("MINIDUMPD_TIMEOUT_MS"),
	                    &s.timeout_ms);
	if (r < 0)
		return r;

	path = opts && opts->socket_path ? opts->socket_path : env("MINIDUMPD_SOCKET");
	if (!path)
		path = MD_CLIENT_DEFAULT_SOCKET;
	len = strlen(path);
	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(s.addr.sun_path))
		return -ENAMETOOLONG;
	s.addr.sun_family = AF_UNIX;
	memcpy(s.addr.sun_path, path, len + 1);
	s.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	*ret = s;
	return 0;
}

/* The process name for HELLO: /proc/self/comm, else the program's short name. */
static void process_name(char *buf, size_t size)
{
	ssize_t n = -1;
	int fd;

	fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	if (n > 0) {
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
	}
	if (n <= 0 || !buf[0]) {
		strncpy(buf, program_invocation_short_name, size - 1);
		buf[size - 1] = 0;
	}
	if (!buf[0])
		strcpy(buf, "unknown");
}

/* Connects to the daemon and sends HELLO. Called with state_lock held. Returns the connected
 * descriptor or a negative errno; the caller treats failure as "not connected yet". */
static int connect_and_hello(const struct settings *s)
{
	char name[COMM_MAX], key[MD_PROTO_KEY_MAX + 1], value[MD_PROTO_VALUE_MAX + 1];
	struct md_proto_enc e;
	uint8_t *buf;
	int fd = -1, len, r;

	buf = malloc(MD_PROTO_MAX_MESSAGE);
	if (!buf)
		return -ENOMEM;
	process_name(name, sizeof(name));
	md_proto_begin(&e, buf, MD_PROTO_MAX_MESSAGE, MD_MSG_HELLO);
	md_proto_put_u32(&e, MD_TAG_VERSION, MD_PROTO_VERSION);
	md_proto_put_u32(&e, MD_TAG_PID, (uint32_t)getpid());
	md_proto_put_str(&e, MD_TAG_NAME, name);
	md_shim_annotations_put(md_shim_state.annotations, &e, key, value);
	len = md_proto_finish(&e);
	if (len < 0) {
		r = len;
		goto out;
	}

	fd = md_shim_connect(&s->addr, s->addr_len);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	/* Before HELLO, so the daemon may attach as soon as it knows us. */
	(void)md_shim_allow_ptrace(fd);
	r = md_shim_send(fd, buf, (size_t)len, md_shim_now_ms() + s->timeout_ms);
	if (r < 0) {
		md_shim_close(fd);
		goto out;
	}
	r = fd;
out:
	free(buf);
	return r;
}

/* An alternate stack we mapped: a guard page, then len - page usable bytes. */
struct altstack {
	char *base;
	size_t len;
};

/* Removes the thread's alternate stack if it is this one and not in use, and unmaps it. Also
 * the destructor of altstack_key, run when a thread exits. */
static void altstack_free(void *data)
{
	struct altstack *as = data;
	long page = sysconf(_SC_PAGESIZE);
	stack_t cur, off = {.ss_flags = SS_DISABLE};

	if (!as)
		return;
	if (sigaltstack(NULL, &cur) < 0 || (cur.ss_flags & SS_ONSTACK))
		return;
	if (cur.ss_sp == as->base + page && !(cur.ss_flags & SS_DISABLE))
		(void)sigaltstack(&off, NULL);
	(void)munmap(as->base, as->len);
	free(as);
}

static void altstack_key_init(void)
{
	altstack_key_error = -pthread_key_create(&altstack_key, altstack_free);
}

/* Gives the calling thread an alternate stack unless it has one. *ret_made tells whether
 * this call made one. */
static int altstack_setup(bool *ret_made)
{
	long page = sysconf(_SC_PAGESIZE), min = sysconf(_SC_SIGSTKSZ);
	size_t size = ALTSTACK_BYTES;
	struct altstack *as = NULL;
	stack_t cur, ss;
	char *base = MAP_FAILED;
	int r;

	*ret_made = false;
	(void)pthread_once(&altstack_once, altstack_key_init);
	if (altstack_key_error)
		return altstack_key_error;
	if (sigaltstack(NULL, &cur) < 0)
		return -errno;
	if (!(cur.ss_flags & SS_DISABLE))
		return 0;

	/* Four times the system's recommended size (which grows with the CPU's register
	 * state), for the kernel's signal frame plus the handler's own frames. */
	if (min > 0 && (size_t)min * 4 > size)
		size = (size_t)min * 4;
	size = (size + (size_t)page - 1) & ~((size_t)page - 1);
	as = malloc(sizeof(*as));
	if (!as)
		return -ENOMEM;
	/* The guard page sits below the stack, which grows down into it. */
	base = mmap(NULL, (size_t)page + size, PROT_READ | PROT_WRITE,
	            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (base == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	if (mprotect(base, (size_t)page, PROT_NONE) < 0) {
		r = -errno;
		goto fail;
	}
	as->base = base;
	as->len = (size_t)page + size;
	r = -pthread_setspecific(altstack_key, as);
	if (r < 0)
		goto fail;
	ss.ss_sp = base + page;
	ss.ss_size = size;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) < 0) {
		r = -errno;
		(void)pthread_setspecific(altstack_key, NULL);
		goto fail;
	}
	*ret_made = true;
	return 0;
fail:
	if (base != MAP_FAILED)
		(void)munmap(base, (size_t)page + size);
	free(as);
	return r;
}

int md_client_thread_init(void)
{
	bool made;

	return altstack_setup(&made);
}

void md_client_thread_done(void)
{
	struct altstack *as;

	(void)pthread_once(&altstack_once, altstack_key_init);
	if (altstack_key_error)
		return;
	as = pthread_getspecific(altstack_key);
	if (!as)
		return;
	(void)pthread_setspecific(altstack_key, NULL);
	altstack_free(as);
}

int md_client_init(const struct md_client_options *opts)
{
	struct settings s;
	bool own_altstack = false;
	int fd = -1, r;

	md_shim_lock();
	r = md_shim_state.initialized ? -EALREADY : read_settings(opts, &s);
	if (r < 0)
		goto out;
	md_shim_state.addr = s.addr;
	md_shim_state.addr_len = s.addr_len;
	md_shim_state.timeout_ms = s.timeout_ms;
	md_shim_state.flags = s.flags;

	if (!(s.flags & MD_CLIENT_NO_ALTSTACK)) {
		r = altstack_setup(&own_altstack);
		if (r < 0)
			goto out;
	}
	if (!(s.flags & MD_CLIENT_NO_CONNECT)) {
		/* No daemon is not an error: the handler connects at crash time. */
		fd = connect_and_hello(&s);
		if (fd >= 0) {
			__atomic_store_n(&md_shim_state.fd_pid, getpid(), __ATOMIC_RELEASE);
			__atomic_store_n(&md_shim_state.fd, fd, __ATOMIC_RELEASE);
		}
	}
	if (!(s.flags & MD_CLIENT_NO_HANDLERS)) {
		r = md_shim_handlers_install();
		if (r < 0) {
			__atomic_store_n(&md_shim_state.fd, -1, __ATOMIC_RELEASE);
			md_shim_close(fd);
			if (own_altstack)
				md_client_thread_done();
			goto out;
		}
	}
	md_shim_state.initialized = true;
	r = 0;
out:
	md_shim_unlock();
	return r;
}

int md_client_annotate(const char *key, const char *value)
{
	int r;

	md_shim_lock();
	r = md_shim_annotation_set(md_shim_state.annotations, key, value);
	md_shim_unlock();
	return r;
}

int md_client_dump_now_report(char *ret_report, size_t report_size)
{
	char key[MD_PROTO_KEY_MAX + 1], value[MD_PROTO_VALUE_MAX + 1];
	struct md_proto_msg reply;
	struct md_proto_enc e;
	struct settings s;
	int64_t deadline;
	uint8_t *buf = NULL;
	int fd = -1, len, r;

	if (!ret_report && report_size)
		return -EINVAL;
	md_shim_lock();
	if (md_shim_state.initialized) {
		s.addr = md_shim_state.addr;
		s.addr_len = md_shim_state.addr_len;
		s.timeout_ms = md_shim_state.timeout_ms;
		r = 0;
	} else {
		r = read_settings(NULL, &s);
	}
	md_shim_unlock();
	if (r < 0)
		return r;
	deadline = md_shim_now_ms() + s.timeout_ms;

	buf = malloc(MD_PROTO_MAX_MESSAGE);
	if (!buf)
		return -ENOMEM;
	md_proto_begin(&e, buf, MD_PROTO_MAX_MESSAGE, MD_MSG_DUMP_NOW);
	md_proto_put_u32(&e, MD_TAG_TID, (uint32_t)syscall(SYS_gettid));
	md_shim_lock();
	md_shim_annotations_put(md_shim_state.annotations, &e, key, value);
	md_shim_unlock();
	len = md_proto_finish(&e);
	if (len < 0) {
		r = len;
		goto out;
	}

	fd = md_shim_connect(&s.addr, s.addr_len);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	(void)md_shim_allow_ptrace(fd);
	r = md_shim_send(fd, buf, (size_t)len, deadline);
	if (r < 0)
		goto out;
	r = md_shim_recv_reply(fd, buf, MD_PROTO_MAX_MESSAGE, deadline, &reply);
	if (r < 0)
		goto out;
	if (reply.type == MD_MSG_ERROR) {
		r = reply.error < 0 ? reply.error : -EPROTO;
		goto out;
	}
	md_shim_report_copy(ret_report, report_size, reply.text, reply.text_len);
	r = 0;
out:
	md_shim_close(fd);
	free(buf);
	return r;
}

void md_client_shutdown(void)
{
	int fd;

	md_shim_lock();
	if (!md_shim_state.initialized)
		goto out;
	md_shim_handlers_remove();
	fd = __atomic_exchange_n(&md_shim_state.fd, -1, __ATOMIC_ACQ_REL);
	md_shim_close(fd);
	if (!(md_shim_state.flags & MD_CLIENT_NO_ALTSTACK))
		md_client_thread_done();
	md_shim_state.initialized = false;
out:
	md_shim_unlock();
}
