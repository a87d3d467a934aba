/* SPDX-License-Identifier: MIT */
/*
 * The core-stream backend of platform/md-backend.h: a snapshot of a crashing task from the
 * ELF core the kernel streams (the coredump socket, a core_pattern pipe) or from a core file.
 * The stream is read only up to the end of its notes (linux-core-notes.c): the registers of
 * every thread, the signal, the auxiliary vector, the mapped files. With a pid, the task is
 * still there while the kernel waits for us, so memory, mappings, process details and the raw
 * procfs files come from /proc/<pid> as for a live process; nothing has to be stopped, so
 * there is no stop or resume step. Without a pid (a core file), or where /proc/<pid>/mem
 * cannot be read, memory comes from the stream's PT_LOAD data when the fd can be read at an
 * offset (a file); a socket or a pipe cannot go back, and such memory is then left out.
 */
#include "config.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linux-arch.h"
#include "linux-core.h"
#include "linux-internal.h"
#include "md-backend.h"

#define MD_CORE_STATUS_MAX   (64 * 1024)  /* bytes read of a task's status file */
#define MD_CORE_PREFETCH_MAX (4u << 20)   /* bytes of PT_LOAD data kept from a stream */
#define MD_CORE_STACK_MAX    (256u << 10) /* bytes of stack kept per thread (the writer's) */
#define MD_CORE_PC_AROUND    128u         /* bytes kept either side of a pc (the writer's) */
#define MD_CORE_HEAD_BYTES   4096u        /* bytes kept at the start of a file mapping */

/* A piece of the target's memory taken from the stream when it cannot be read back. */
struct md_core_piece {
	uint64_t addr;
	uint64_t offset; /* in the stream */
	size_t len;
	uint8_t *data;
};

struct md_core_snapshot {
	struct md_linux_snapshot lin; /* first: the live backend's helpers take it */
	struct md_core core;
	int fd;                       /* the stream, not ours to close */
	bool seekable;                /* pread works on fd: PT_LOAD data can be read back */
	bool live;                    /* the task's /proc/<pid> is read */
	struct md_core_piece *pieces; /* sorted by addr, disjoint; a stream's kept memory */
	size_t n_pieces;
};

static struct md_core_snapshot *core_from_pub(struct md_snapshot *s)
{
	return (struct md_core_snapshot *)s;
}

/* One range from the stream's PT_LOAD data. */
static void read_range_from_file(struct md_core_snapshot *cs, struct md_mem_range *r)
{
	const struct md_core *c = &cs->core;

	while (r->got < r->len) {
		uint64_t at = r->addr + r->got, in, avail;
		size_t lo = 0, hi = c->n_loads, want;
		const struct md_core_load *l = NULL;
		ssize_t n;

		while (lo < hi) { /* loads are sorted and disjoint (the parser checked) */
			size_t mid = lo + (hi - lo) / 2;

			if (at < c->loads[mid].vaddr) {
				hi = mid;
			} else if (at - c->loads[mid].vaddr >= c->loads[mid].memsz) {
				lo = mid + 1;
			} else {
				l = &c->loads[mid];
				break;
			}
		}
		in = l ? at - l->vaddr : 0;
		if (!l || in >= l->filesz || !cs->seekable) {
			r->err = -EFAULT; /* unmapped, or not in the core */
			return;
		}
		avail = l->filesz - in;
		want = r->len - r->got;
		if (want > avail)
			want = (size_t)avail;
		if (l->offset + in > (uint64_t)INT64_MAX) {
			r->err = -EFAULT;
			return;
		}
		n = pread(cs->fd, (char *)r->buf + r->got, want, (off_t)(l->offset + in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->err =
			    n < 0 ? -errno : -EIO; /* the file is shorter than its headers say */
			return;
		}
		r->got += (size_t)n;
	}
}

/* One range from the pieces kept from a stream; what was not kept is -EFAULT. */
static void read_range_from_pieces(struct md_core_snapshot *cs, struct md_mem_range *r)
{
	while (r->got < r->len) {
		uint64_t at = r->addr + r->got;
		const struct md_core_piece *p = NULL;
		size_t take;

		for (size_t i = 0; i < cs->n_pieces && !p; i++)
			if (at >= cs->pieces[i].addr && at - cs->pieces[i].addr < cs->pieces[i].len)
				p = &cs->pieces[i];
		if (!p) {
			r->err = -EFAULT;
			return;
		}
		take = (size_t)(p->addr + p->len - at);
		if (take > r->len - r->got)
			take = r->len - r->got;
		memcpy((char *)r->buf + r->got, p->data + (at - p->addr), take);
		r->got += take;
	}
}

static int core_read_ranges(struct md_snapshot *s, struct md_mem_range *ranges, size_t n)
{
	struct md_core_snapshot *cs = core_from_pub(s);

	if (cs->live) {
		int r = md_linux_read_ranges(s, ranges, n);

		if (r != -ESRCH || !cs->seekable)
			return r;
		/* the task is gone or its memory unreadable: the core file has it too */
		s->target_gone = false;
		cs->live = false;
	}
	for (size_t i = 0; i < n; i++) {
		ranges[i].got = 0;
		ranges[i].err = 0;
		if (cs->seekable)
			read_range_from_file(cs, &ranges[i]);
		else
			read_range_from_pieces(cs, &ranges[i]);
	}
	return 0;
}

static int core_read_blob(struct md_snapshot *s, enum md_blob blob, md_sink_fn sink, void *ctx)
{
	struct md_core_snapshot *cs = core_from_pub(s);

	if (cs->lin.pid > 0 || blob == MD_BLOB_CPUINFO || blob == MD_BLOB_LSB_RELEASE)
		return md_linux_read_blob(s, blob, sink, ctx);
	if (blob == MD_BLOB_AUXV && cs->core.auxv_len)
		return sink(ctx, cs->core.auxv, cs->core.auxv_len);
	return -ENOENT;
}

static const struct md_snapshot_ops core_ops = {
    .read_ranges = core_read_ranges,
    .read_blob = core_read_blob,
};

static const struct md_core_load *load_at(const struct md_core *c, uint64_t addr)
{
	for (size_t i = 0; i < c->n_loads; i++)
		if (addr >= c->loads[i].vaddr && addr - c->loads[i].vaddr < c->loads[i].memsz)
			return &c->loads[i];
	return NULL;
}

/* Adds [addr, addr + len) clipped to the dumped part of its PT_LOAD; 0 or -ENOMEM. */
static int want(struct md_core_snapshot *cs, uint64_t addr, uint64_t len, size_t *cap)
{
	const struct md_core_load *l = load_at(&cs->core, addr);
	struct md_core_piece *v;
	uint64_t in;

	if (!l || (in = addr - l->vaddr) >= l->filesz)
		return 0;
	if (len > l->filesz - in)
		len = l->filesz - in;
	if (cs->n_pieces == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		v = realloc(cs->pieces, *cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		cs->pieces = v;
	}
	cs->pieces[cs->n_pieces++] =
	    (struct md_core_piece){.addr = addr, .offset = l->offset + in, .len = (size_t)len};
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	const struct md_core_piece *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Reads forward to offset (from *pos), then len bytes into buf. */
static int stream_read_at(int fd, uint64_t *pos, uint64_t offset, uint8_t *buf, size_t len)
{
	uint8_t scratch[4096];

	while (*pos < offset || len) {
		bool skipping = *pos < offset;
		size_t want_n = skipping
		                    ? (offset - *pos < sizeof(scratch) ? (size_t)(offset - *pos)
		                                                       : sizeof(scratch))
		                    : len;
		ssize_t n = read(fd, skipping ? scratch : buf, want_n);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		*pos += (uint64_t)n;
		if (!skipping) {
			buf += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

/*
 * Without /proc/<pid>/mem and without a file to read back, the memory a minidump needs is
 * taken from the stream's PT_LOAD data as it goes by: each thread's stack from its sp (at
 * most what the writer keeps) and the bytes around its pc, and the first page of every file
 * mapping (ELF headers, build ids). At most MD_CORE_PREFETCH_MAX bytes; the stream is read
 * up to the last piece, never further.
 */
static int prefetch(struct md_core_snapshot *cs)
{
	struct md_snapshot *s = &cs->lin.pub;
	const struct md_core *c = &cs->core;
	uint64_t pos = c->consumed, total = 0;
	size_t cap = 0, kept = 0;
	int r = 0;

	for (size_t i = 0; i < c->n_threads && r == 0; i++) {
		struct md_context ctx;
		uint64_t sp, pc;

		if (md_linux_arch_core_context(&c->threads[i], &ctx, &sp, &pc) < 0)
			continue;
		r = want(cs, (sp - MD_CORE_PC_AROUND) & ~15ull, MD_CORE_STACK_MAX, &cap);
		if (r == 0 && pc > MD_CORE_PC_AROUND)
			r = want(cs, pc - MD_CORE_PC_AROUND, 2 * MD_CORE_PC_AROUND, &cap);
	}
	for (size_t i = 0; i < c->n_files && r == 0; i++)
		if (c->files[i].pgoff == 0)
			r = want(cs, c->files[i].start, MD_CORE_HEAD_BYTES, &cap);
	if (r < 0)
		return r;
	/* merge what overlaps, then keep within the budget */
	qsort(cs->pieces, cs->n_pieces, sizeof(*cs->pieces), by_addr);
	for (size_t i = 0; i < cs->n_pieces; i++) {
		struct md_core_piece *p = &cs->pieces[i],
		                     *last = kept ? &cs->pieces[kept - 1] : NULL;

		if (last && p->addr <= last->addr + last->len &&
		    p->offset - p->addr == last->offset - last->addr) {
			uint64_t end = p->addr + p->len;

			if (end > last->addr + last->len)
				last->len = (size_t)(end - last->addr);
			continue;
		}
		cs->pieces[kept++] = *p;
	}
	cs->n_pieces = kept;
	for (size_t i = 0; i < cs->n_pieces; i++) {
		struct md_core_piece *p = &cs->pieces[i];

		if (total + p->len > MD_CORE_PREFETCH_MAX || p->offset < pos) {
			md_diag_add(&s->diag, MD_DIAG_MEMORY, p->addr, -E2BIG,
			            "%zu bytes not kept from the core stream", p->len);
			p->len = 0;
			continue;
		}
		p->data = malloc(p->len);
		if (!p->data)
			return -ENOMEM;
		r = stream_read_at(cs->fd, &pos, p->offset, p->data, p->len);
		if (r < 0) {
			md_diag_add(&s->diag, MD_DIAG_MEMORY, p->addr, r,
			            "the core stream ended before its memory");
			p->len = 0;
			break;
		}
		total += p->len;
	}
	return 0;
}

static int core_open(struct md_snapshot *s, uint32_t pid, const struct md_backend_options *o)
{
	struct md_core_snapshot *cs = core_from_pub(s);
	const struct md_core_source *src = o->source;
	int r;

	cs->lin.mem_fd = -1; /* before anything can fail: core_free closes it */
	cs->fd = -1;
	if (!src || src->fd < 0 || pid > INT_MAX)
		return -EINVAL;
	cs->fd = src->fd;
	r = md_core_parse_fd(src->fd, &cs->core);
	if (src->error && src->error_size)
		snprintf(src->error, src->error_size, "%s", r < 0 ? cs->core.error : "");
	if (r < 0)
		return r;
	cs->seekable = lseek(src->fd, 0, SEEK_CUR) >= 0;
	cs->lin.pid = (pid_t)pid;
	cs->live = pid > 0;
	/* The task is in the kernel's coredump code: process_vm_readv is not what was tried
	 * there; /proc/<pid>/mem is known to work while the kernel waits. */
	cs->lin.mem_method = MD_LINUX_MEM_PROC_MEM;
	if (cs->live) {
		char path[MD_LINUX_PATH_MAX];

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
		cs->lin.mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (cs->lin.mem_fd < 0)
			md_diag_add(&s->diag, MD_DIAG_PROCESS, pid, -errno,
			            "/proc/%u/mem unreadable: memory from the core stream", pid);
	}
	if ((!cs->live || cs->lin.mem_fd < 0) && !cs->seekable) {
		cs->live = false;
		return prefetch(cs);
	}
	return 0;
}

/* The task's tid in the initial pid namespace from its tid in its own (NT_PRSTATUS gives the
 * latter): the last NSpid field of each /proc/<pid>/task/<tid>/status. Returns 0 when not
 * found. */
static uint32_t global_tid(int task_fd, uint32_t ns_tid, bool *nested)
{
	uint32_t found = 0;
	struct dirent *e;
	DIR *d;

	if (!*nested) {
		char path[MD_LINUX_PATH_MAX];

		snprintf(path, sizeof(path), "%u", ns_tid);
		if (faccessat(task_fd, path, F_OK, 0) == 0)
			return ns_tid; /* same namespace (checked once for the process below) */
		return 0;
	}
	d = fdopendir(dup(task_fd));
	if (!d)
		return 0;
	rewinddir(d); /* the dup shares task_fd's offset, left at the end by the last call */
	while (!found && (e = readdir(d))) {
		char path[512], *text, *line, *last;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d/%.255s/status", task_fd, e->d_name);
		if (md_linux_read_text_file(path, MD_CORE_STATUS_MAX, &text, &len) < 0)
			continue;
		line = (char *)md_linux_status_field(text, "NSpid");
		if (line) {
			char *end = strchr(line, '\n');

			if (end)
				*end = '\0';
			last = strrchr(line, '\t');
			last = last ? last + 1 : line;
			if (strtoul(last, NULL, 10) == ns_tid)
				found = (uint32_t)strtoul(e->d_name, NULL, 10);
		}
		free(text);
	}
	closedir(d);
	return found;
}

/* Whether the task lives in a pid namespace below ours: more than one NSpid field. */
static bool in_child_namespace(pid_t pid)
{
	char path[MD_LINUX_PATH_MAX], *text;
	const char *f;
	size_t len;
	bool nested = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (md_linux_read_text_file(path, MD_CORE_STATUS_MAX, &text, &len) < 0)
		return false;
	f = md_linux_status_field(text, "NSpid");
	if (f) {
		const char *end;

		f += strspn(f, " \t"); /* the separator's tab is not a second field */
		end = strchr(f, '\n');

		nested = memchr(f, '\t', end ? (size_t)(end - f) : strlen(f)) != NULL;
	}
	free(text);
	return nested;
}

static int core_threads(struct md_snapshot *s)
{
	struct md_core_snapshot *cs = core_from_pub(s);
	const struct md_core *c = &cs->core;
	char path[MD_LINUX_PATH_MAX];
	bool nested = false;
	int task_fd = -1;
	size_t i, usable = 0;

	s->threads = calloc(c->n_threads, sizeof(*s->threads));
	if (!s->threads)
		return -ENOMEM;
	s->n_threads = c->n_threads;
	if (cs->live) {
		snprintf(path, sizeof(path), "/proc/%d/task", (int)cs->lin.pid);
		task_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		nested = in_child_namespace(cs->lin.pid);
	}
	for (i = 0; i < c->n_threads; i++) {
		struct md_thread_info *t = &s->threads[i];
		uint32_t tid = c->threads[i].tid;
		int r;

		if (task_fd >= 0) {
			uint32_t g = global_tid(task_fd, tid, &nested);

			if (g)
				tid = g;
			else
				md_diag_add(&s->diag, MD_DIAG_THREAD, tid, -ESRCH,
				            "thread %u not found under /proc", tid);
			if (g)
				md_linux_read_thread_name(task_fd, (pid_t)g, t->name,
				                          sizeof(t->name));
		}
		t->tid = tid;
		r = md_linux_arch_core_context(&c->threads[i], &t->context, &t->sp, &t->pc);
		if (r < 0) {
			t->error = r;
			md_diag_add(&s->diag, MD_DIAG_THREAD, tid, r,
			            "NT_PRSTATUS of %u bytes has no registers",
			            c->threads[i].gregs_len);
			continue;
		}
		if (!c->threads[i].has_fx)
			md_diag_add(&s->diag, MD_DIAG_THREAD, tid, -ENOENT,
			            "no floating-point registers in the core");
		usable++;
	}
	if (task_fd >= 0)
		close(task_fd);
	if (!usable)
		return -EBADMSG;
	/* The kernel writes the thread that took the signal first. A core without a signal
	 * (gcore of a live process) is a dump requested of its first thread. */
	s->requesting_tid = s->threads[0].tid;
	if (!(c->has_siginfo && c->sig_signo > 0) && c->threads[0].cursig <= 0)
		return 0;
	s->crash_copy.tid = s->threads[0].tid;
	s->crash_copy.code = c->has_siginfo && c->sig_signo > 0 ? (uint32_t)c->sig_signo
	                                                        : (uint32_t)c->threads[0].cursig;
	s->crash_copy.flags = c->has_siginfo && c->sig_signo > 0 ? (uint32_t)c->sig_code : 0;
	s->crash_copy.address = c->sig_addr;
	s->crash_copy.context = s->threads[0].context;
	s->crash = &s->crash_copy;
	s->requesting_tid = s->crash_copy.tid;
	return 0;
}

/* The first NT_FILE path of the mapping that holds addr, or NULL. */
static const char *file_at(const struct md_core *c, uint64_t addr)
{
	for (size_t i = 0; i < c->n_files; i++)
		if (addr >= c->files[i].start && addr < c->files[i].end)
			return c->files[i].path;
	return NULL;
}

static void process_from_core(struct md_core_snapshot *cs)
{
	struct md_snapshot *s = &cs->lin.pub;
	const struct md_core *c = &cs->core;
	const char *exe;

	s->process.pid =
	    cs->lin.pid > 0 ? (uint32_t)cs->lin.pid : (c->has_psinfo ? (uint32_t)c->ps_pid : 0);
	if (c->has_psinfo)
		s->process.uid = c->ps_uid;
	s->process.at_entry = md_core_auxv(c, AT_ENTRY);
	s->process.at_phdr = md_core_auxv(c, AT_PHDR);
	s->process.at_phnum = md_core_auxv(c, AT_PHNUM);
	s->process.at_base = md_core_auxv(c, AT_BASE);
	exe = file_at(c, s->process.at_entry);
	snprintf(s->process.exe, sizeof(s->process.exe), "%s", exe ? exe : c->ps_fname);
}

static int core_process(struct md_snapshot *s)
{
	struct md_core_snapshot *cs = core_from_pub(s);
	int r;

	if (cs->live) {
		r = md_linux_read_process_info(cs->lin.pid, &s->process, &s->diag);
		if (r == 0)
			return 0;
		md_diag_add(&s->diag, MD_DIAG_PROCESS, (uint64_t)cs->lin.pid, r,
		            "process details from the core only: %s", strerror(-r));
		memset(&s->process, 0, sizeof(s->process));
	}
	process_from_core(cs);
	return 0;
}

static int core_system(struct md_snapshot *s)
{
	return md_linux_read_system_info(&s->system, &s->diag);
}

static int by_start(const void *a, const void *b)
{
	const struct md_mapping *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Whether [start, end) overlaps a PT_LOAD (sorted, disjoint). */
static bool overlaps_load(const struct md_core *c, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = c->n_loads;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct md_core_load *l = &c->loads[mid];

		if (end <= l->vaddr)
			hi = mid;
		else if (start >= l->vaddr + l->memsz)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * The mappings as the core describes them: its PT_LOADs, named from NT_FILE, and the NT_FILE
 * entries no PT_LOAD covers (gcore leaves read-only file mappings out of the program headers;
 * they are taken as readable and executable, which is what module detection needs to see a
 * text segment). Sorted; a mapping that overlaps the one before it is dropped.
 */
static int mappings_from_core(struct md_core_snapshot *cs)
{
	struct md_snapshot *s = &cs->lin.pub;
	const struct md_core *c = &cs->core;
	uint64_t vdso = md_core_auxv(c, AT_SYSINFO_EHDR);
	size_t n = 0, kept = 0, cap = c->n_loads + c->n_files;
	struct md_mapping *v;

	v = calloc(cap ? cap : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_loads; i++) {
		const struct md_core_load *l = &c->loads[i];
		const char *path = "";
		struct md_mapping *m = &v[n];

		m->start = l->vaddr;
		m->end = l->vaddr + l->memsz;
		m->prot = (l->flags & PF_R ? MD_PROT_READ : 0) |
		          (l->flags & PF_W ? MD_PROT_WRITE : 0) |
		          (l->flags & PF_X ? MD_PROT_EXEC : 0);
		for (size_t f = 0; f < c->n_files; f++) {
			if (c->files[f].start == l->vaddr) {
				path = c->files[f].path;
				m->offset = c->files[f].pgoff;
				break;
			}
		}
		if (vdso && l->vaddr == vdso)
			path = "[vdso]";
		m->path = strdup(path);
		if (!m->path)
			goto nomem;
		n++;
	}
	for (size_t f = 0; f < c->n_files; f++) {
		const struct md_core_file *cf = &c->files[f];
		struct md_mapping *m = &v[n];

		if (overlaps_load(c, cf->start, cf->end))
			continue;
		m->start = cf->start;
		m->end = cf->end;
		m->offset = cf->pgoff;
		m->prot = MD_PROT_READ | MD_PROT_EXEC;
		m->path = strdup(cf->path);
		if (!m->path)
			goto nomem;
		n++;
	}
	qsort(v, n, sizeof(*v), by_start);
	for (size_t i = 0; i < n; i++) {
		if (kept && v[i].start < v[kept - 1].end) {
			free((char *)v[i].path);
			continue;
		}
		v[kept++] = v[i];
	}
	s->mappings = v;
	s->n_mappings = kept;
	return 0;
nomem:
	md_linux_mappings_free(v, n);
	return -ENOMEM;
}

static int core_mappings(struct md_snapshot *s)
{
	struct md_core_snapshot *cs = core_from_pub(s);
	int r;

	if (cs->live) {
		r = md_linux_read_maps(cs->lin.pid, &s->mappings, &s->n_mappings);
		if (r == 0)
			return 0;
		md_diag_add(&s->diag, MD_DIAG_PROCESS, (uint64_t)cs->lin.pid, r,
		            "mappings from the core only: %s", strerror(-r));
	}
	return mappings_from_core(cs);
}

static int core_modules(struct md_snapshot *s)
{
	return md_linux_read_modules(&core_from_pub(s)->lin);
}

static void core_free(struct md_snapshot *s)
{
	struct md_core_snapshot *cs = core_from_pub(s);

	if (cs->lin.mem_fd >= 0)
		close(cs->lin.mem_fd);
	for (size_t i = 0; i < cs->n_pieces; i++)
		free(cs->pieces[i].data);
	free(cs->pieces);
	md_core_done(&cs->core);
	md_linux_modules_free(s->modules, s->n_modules);
	md_linux_mappings_free(s->mappings, s->n_mappings);
	/* s->threads is the builder's to free (md_snapshot_free) */
}

/* Nothing to stop or resume: the kernel holds the task until the stream is closed. */
const struct md_backend_ops md_platform_core_backend = {
    .snapshot_size = sizeof(struct md_core_snapshot),
    .snapshot_ops = &core_ops,
    .open = core_open,
    .threads = core_threads,
    .process = core_process,
    .system = core_system,
    .mappings = core_mappings,
    .modules = core_modules,
    .free = core_free,
};
