/* SPDX-License-Identifier: MIT */
/*
 * The core-stream backend of platform/md-backend.h: a snapshot of a crashing task from the
 * ELF core the kernel streams (the coredump socket, a core_pattern pipe) or from a core file.
 * The stream is read only up to the end of its notes (linux-core-notes.c): the registers of
 * every thread, the signal, the auxiliary vector, the mapped files. With a pid, the task is
 * still there while the kernel waits for us, so memory, mappings, process details and the raw
 * procfs files come from /proc/<pid> as for a live process; nothing has to be stopped, so
 * there is no stop or resume step. Without a pid (a core file), or where /proc/<pid>/mem
 * cannot be read, memory comes from the stream's PT_LOAD data (linux-core-memory.c).
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
#include "linux-core-snapshot.h"
#include "linux-core.h"
#include "linux-internal.h"
#include "md-backend.h"

#define MD_CORE_STATUS_MAX (64 * 1024) /* bytes read of a task's status file */

static int core_read_blob(struct md_snapshot *s, enum md_blob blob, md_sink_fn sink, void *ctx)
{
	struct md_core_snapshot *cs = md_core_from_pub(s);

	if (cs->lin.pid > 0 || blob == MD_BLOB_CPUINFO || blob == MD_BLOB_LSB_RELEASE)
		return md_linux_read_blob(s, blob, sink, ctx);
	if (blob == MD_BLOB_AUXV && cs->core.auxv_len)
		return sink(ctx, cs->core.auxv, cs->core.auxv_len);
	return -ENOENT;
}

static const struct md_snapshot_ops core_ops = {
    .read_ranges = md_core_read_ranges,
    .read_blob = core_read_blob,
};

static int core_open(struct md_snapshot *s, uint32_t pid, const struct md_backend_options *o)
{
	struct md_core_snapshot *cs = md_core_from_pub(s);
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
		return md_core_prefetch(cs);
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
	struct md_core_snapshot *cs = md_core_from_pub(s);
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

/* Whether what was read from /proc (r) stands; otherwise says that what comes from the core
 * alone. */
static bool read_live(struct md_snapshot *s, int r, const char *what)
{
	if (r < 0)
		md_diag_add(&s->diag, MD_DIAG_PROCESS, (uint64_t)md_core_from_pub(s)->lin.pid, r,
		            "%s from the core only: %s", what, strerror(-r));
	return r == 0;
}

static int core_process(struct md_snapshot *s)
{
	struct md_core_snapshot *cs = md_core_from_pub(s);

	if (cs->live) {
		if (read_live(s, md_linux_read_process_info(cs->lin.pid, &s->process, &s->diag),
		              "process details"))
			return 0;
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
	struct md_core_snapshot *cs = md_core_from_pub(s);

	if (cs->live &&
	    read_live(s, md_linux_read_maps(cs->lin.pid, &s->mappings, &s->n_mappings), "mappings"))
		return 0;
	return mappings_from_core(cs);
}

static int core_modules(struct md_snapshot *s)
{
	return md_linux_read_modules(&md_core_from_pub(s)->lin);
}

static void core_free(struct md_snapshot *s)
{
	struct md_core_snapshot *cs = md_core_from_pub(s);

	if (cs->lin.mem_fd >= 0)
		close(cs->lin.mem_fd);
	md_core_pieces_free(cs);
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
