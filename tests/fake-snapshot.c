/* SPDX-License-Identifier: MIT */
/*
 * The fake snapshot behind the stream writers' unit tests (see fake-snapshot.h): a third
 * backend beside the live ones of platform/<os>/, built by the same snapshot builder. It has
 * nothing to stop or resume, as a core file would not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-snapshot.h"
#include "md-snapshot-build.h"

struct fake {
	struct md_snapshot s;
	struct fake_options o;
};

static int fake_read_ranges(struct md_snapshot *s, struct md_mem_range *ranges, size_t n)
{
	struct fake *f = (struct fake *)s;

	if (f->o.vanish) {
		s->target_gone = true;
		return -ESRCH;
	}
	for (size_t i = 0; i < n; i++) {
		struct md_mem_range *r = &ranges[i];

		r->got = 0;
		r->err = 0;
		for (size_t k = 0; k < r->len; k++) {
			const struct md_mapping *m = md_snapshot_find_mapping(s, r->addr + k);

			if (!m || !(m->prot & MD_PROT_READ)) {
				r->err = -EFAULT;
				break;
			}
			((uint8_t *)r->buf)[k] = fake_byte(r->addr + k);
			r->got++;
		}
	}
	return 0;
}

static const char *const blobs[MD_BLOB_COUNT] = {
    [MD_BLOB_CPUINFO] = "processor\t: 0\nvendor_id\t: FakeVendor\n",
    [MD_BLOB_PROC_STATUS] = "Name:\tfake\nPid:\t4242\n",
    [MD_BLOB_LSB_RELEASE] = NULL, /* missing: the stream is left out */
    [MD_BLOB_CMDLINE] = "fake\0--flag\0",
    [MD_BLOB_ENVIRON] = "", /* empty: left out too */
    [MD_BLOB_AUXV] = "\x09\0\0\0\0\0\0\0\x34\x12\0\0\0\0\0\0",
    [MD_BLOB_MAPS] = "555555554000-555555558000 r-xp 00000000 08:01 1 /fake\n",
};
static const size_t blob_len[MD_BLOB_COUNT] = {
    [MD_BLOB_CMDLINE] = 12,
    [MD_BLOB_AUXV] = 16,
};

static int fake_read_blob(struct md_snapshot *s, enum md_blob blob, md_sink_fn sink, void *ctx)
{
	size_t len;
	const char *p;

	if ((unsigned)blob >= MD_BLOB_COUNT || !blobs[blob])
		return -ENOENT;
	p = blobs[blob];
	len = blob_len[blob] ? blob_len[blob] : strlen(p);
	/* in two pieces, to exercise the streaming path */
	if (len > 1) {
		int r = sink(ctx, p, len / 2);

		if (r < 0)
			return r;
		return sink(ctx, p + len / 2, len - len / 2);
	}
	return len ? sink(ctx, p, len) : 0;
}

static const struct md_snapshot_ops fake_ops = {
    .read_ranges = fake_read_ranges,
    .read_blob = fake_read_blob,
};

/* The fake knows its process and system from the start (as a core file's header would tell
 * them at once): no process or system step. */
static int fake_open(struct md_snapshot *s, uint32_t pid, const struct md_backend_options *o)
{
	struct fake *f = (struct fake *)s;

	f->o = *(const struct fake_options *)o->source;
	s->requesting_tid = pid;
	s->system.processor_architecture = MD_CPU_ARCHITECTURE_AMD64;
	s->system.processor_level = 6;
	s->system.processor_revision = 0x5504;
	s->system.number_of_processors = 2;
	s->system.platform_id = MD_OS_LINUX;
	snprintf(s->system.os_version, sizeof(s->system.os_version), "Linux 6.1.0 #1 SMP x86_64");
	memcpy(s->system.cpu_vendor, "GenuineIntel", 13);
	s->process.pid = FAKE_PID;
	s->process.uid = 1000;
	s->process.start_time = 1700000000;
	s->process.user_time = 3;
	s->process.kernel_time = 1;
	snprintf(s->process.exe, sizeof(s->process.exe), "/usr/bin/fake");
	return 0;
}

static int fake_threads(struct md_snapshot *s)
{
	const struct fake_options *o = &((struct fake *)s)->o;

	s->threads = calloc(o->n_threads ? o->n_threads : 1, sizeof(*s->threads));
	if (!s->threads)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_threads; i++) {
		struct md_thread_info *t = &s->threads[i];
		uint64_t base = FAKE_STACK_BASE + i * FAKE_STACK_STEP;

		t->tid = (uint32_t)(FAKE_PID + i);
		snprintf(t->name, sizeof(t->name), "fake-%zu", i);
		if (o->no_context_thread && i == 2) {
			t->error = -ESRCH;
			continue;
		}
		t->sp = base + FAKE_SP_OFFSET;
		t->pc = FAKE_PC + i;
		t->context.size = sizeof(md_context_amd64);
		t->context.u.amd64.context_flags =
		    MD_CONTEXT_AMD64_FULL | MD_CONTEXT_AMD64_SEGMENTS;
		t->context.u.amd64.rsp = t->sp;
		t->context.u.amd64.rip = t->pc;
		t->context.u.amd64.rax = 0x1111 * (i + 1);
	}
	s->n_threads = o->n_threads;
	return 0;
}

/* The executable, a library, and one stack per thread. */
static int fake_mappings(struct md_snapshot *s)
{
	const struct fake_options *o = &((struct fake *)s)->o;
	size_t nm = 0;

	s->mappings = calloc(o->n_threads + 3, sizeof(*s->mappings));
	if (!s->mappings)
		return -ENOMEM;
	s->mappings[nm++] = (struct md_mapping){
	    FAKE_EXE_BASE,  FAKE_EXE_BASE + FAKE_EXE_SIZE, 0, 1, MD_PROT_READ | MD_PROT_EXEC,
	    "/usr/bin/fake"};
	s->mappings[nm++] = (struct md_mapping){FAKE_LIB_BASE,
	                                        FAKE_LIB_BASE + FAKE_LIB_SIZE,
	                                        0,
	                                        2,
	                                        MD_PROT_READ | MD_PROT_EXEC,
	                                        "/usr/lib/libfake.so.1"};
	for (size_t i = 0; i < o->n_threads; i++) {
		uint64_t base = FAKE_STACK_BASE + i * FAKE_STACK_STEP;
		uint32_t prot = MD_PROT_READ | MD_PROT_WRITE;

		if (o->unreadable_stacks && i == 1)
			prot = 0;
		s->mappings[nm++] =
		    (struct md_mapping){base, base + FAKE_STACK_SIZE, 0, 0, prot, ""};
	}
	s->n_mappings = nm;
	return 0;
}

static int fake_modules(struct md_snapshot *s)
{
	s->modules = calloc(2, sizeof(*s->modules));
	if (!s->modules)
		return -ENOMEM;
	s->modules[0] = (struct md_module_info){.base = FAKE_EXE_BASE,
	                                        .size = FAKE_EXE_SIZE,
	                                        .path = "/usr/bin/fake",
	                                        .id_kind = MD_MODULE_ID_BUILD_ID,
	                                        .id_len = 20};
	for (int i = 0; i < 20; i++)
		s->modules[0].id[i] = (uint8_t)(0x01 + i * 0x11);
	s->modules[1] = (struct md_module_info){.base = FAKE_LIB_BASE,
	                                        .size = FAKE_LIB_SIZE,
	                                        .path = "/usr/lib/libfake.so.1",
	                                        .id_kind = MD_MODULE_ID_NONE};
	s->n_modules = 2;
	return 0;
}

static void fake_free(struct md_snapshot *s)
{
	free(s->mappings);
	free(s->modules);
}

const struct md_backend_ops fake_backend = MD_BACKEND_OPS(struct fake, fake);

struct md_snapshot *fake_snapshot_new(const struct fake_options *o)
{
	const struct md_backend_options bo = {.pidfd = -1, .source = o};
	struct md_snapshot *s;

	return md_snapshot_build(&fake_backend, FAKE_PID, &bo, &s) < 0 ? NULL : s;
}

void fake_snapshot_free(struct md_snapshot *s)
{
	md_snapshot_free(s);
}
