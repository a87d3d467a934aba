/* SPDX-License-Identifier: MIT */
/*
 * ThreadList writer: one entry per thread whose registers were captured, each with its full
 * CPU context and the stack from the stack pointer (less the red zone) to the end of its
 * mapping, capped at stack_max; when the stack pointer has overflowed into the guard area, from
 * the lowest readable byte of the stack above it. For the crashing thread the client's context
 * replaces the backend's, so the dump shows the fault and not the signal handler. Threads without a
 * context are left out and reported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md-streams.h"

/* Bytes from an overflowed stack pointer up to its stack's lowest readable byte that we still
 * recognise as an overflow: the kernel's guard gap below a main thread's stack (256 pages),
 * plus the frame that overflowed; glibc's guard below a thread's stack is smaller. */
#define MD_STACK_GUARD_GAP_MAX (2u * 1024u * 1024u)

int md_context_sp_pc(const struct md_context *ctx, uint64_t *ret_sp, uint64_t *ret_pc)
{
	if (ctx->size == sizeof(md_context_amd64) &&
	    (ctx->u.amd64.context_flags & MD_CONTEXT_CPU_MASK) == MD_CONTEXT_AMD64) {
		*ret_sp = ctx->u.amd64.rsp;
		*ret_pc = ctx->u.amd64.rip;
		return 0;
	}
	if (ctx->size == sizeof(md_context_arm64_old) &&
	    (ctx->u.arm64.context_flags & MD_CONTEXT_ARM64_OLD)) {
		*ret_sp = ctx->u.arm64.iregs[31];
		*ret_pc = ctx->u.arm64.pc;
		return 0;
	}
	return -EINVAL;
}

uint32_t md_red_zone(uint16_t processor_architecture)
{
	/* the System V x86_64 ABI lets leaf code use 128 bytes below rsp; aarch64 has none */
	return processor_architecture == MD_CPU_ARCHITECTURE_AMD64 ? MD_RED_ZONE_AMD64 : 0;
}

int md_dump_copy_ranges(struct md_dump_ctx *c, const uint64_t *starts, const uint64_t *lens,
                        size_t n, md_memory_descriptor *ret_desc)
{
	struct md_mem_range batch[64]; /* ranges per read call; bounded by the scratch buffer too */
	size_t i = 0;

	while (i < n) {
		size_t nb = 0, used = 0, first = i;
		int r;

		while (i < n && nb < sizeof(batch) / sizeof(batch[0])) {
			size_t len = (size_t)lens[i];

			if (len > MD_READ_BATCH_BYTES)
				len = MD_READ_BATCH_BYTES; /* callers cap ranges below this */
			if (nb > 0 && used + len > MD_READ_BATCH_BYTES)
				break;
			batch[nb] = (struct md_mem_range){
			    .addr = starts[i], .len = len, .buf = c->scratch + used};
			used += len;
			nb++;
			i++;
		}
		r = c->s->ops->read_ranges(c->s, batch, nb);
		if (r < 0) {
			for (size_t k = 0; k < nb; k++) {
				batch[k].got = 0;
				batch[k].err = r;
			}
		}
		for (size_t k = 0; k < nb; k++) {
			md_memory_descriptor *d = &ret_desc[first + k];
			uint32_t rva = 0;

			d->start_of_memory_range = batch[k].addr;
			d->memory.data_size = 0;
			d->memory.rva = 0;
			if (batch[k].got < batch[k].len)
				md_diag_add(&c->s->diag, MD_DIAG_MEMORY, batch[k].addr,
				            batch[k].err ? batch[k].err : -EFAULT,
				            "read %zu of %zu bytes at 0x%llx", batch[k].got,
				            batch[k].len, (unsigned long long)batch[k].addr);
			if (batch[k].got == 0)
				continue;
			r = md_writer_append(c->w, batch[k].buf, batch[k].got, &rva);
			if (r < 0)
				return r;
			d->memory.data_size = (uint32_t)batch[k].got;
			d->memory.rva = rva;
			c->result->memory_ranges++;
			c->result->memory_bytes += batch[k].got;
		}
	}
	return 0;
}

uint32_t md_dump_crashing_tid(const struct md_snapshot *s)
{
	return s->crash ? s->crash->tid : s->requesting_tid;
}

/* The stack pointer to capture from: the fault's for the crashing thread. */
static uint64_t thread_sp(const struct md_snapshot *s, const struct md_thread_info *t)
{
	uint64_t sp = t->sp, pc;

	if (s->crash && s->crash->tid == t->tid && s->crash->context.size > 0 &&
	    md_context_sp_pc(&s->crash->context, &sp, &pc) < 0)
		sp = t->sp;
	return sp;
}

/*
 * For a stack pointer in no readable memory: the stack it overflowed, or NULL. After a stack
 * overflow the fault's sp lies in the guard area below the stack (an optimised frame is
 * allocated before it is touched), and the frames that recursed are in the lowest readable pages
 * above it. The stack is the first mapping above sp, past guard pages (PROT_NONE mappings) that
 * end where the next mapping starts, if it is writable and not executable and starts at most
 * MD_STACK_GUARD_GAP_MAX bytes above sp. An sp inside an unreadable mapping that does not end at
 * such a stack (it is no guard) gets NULL, so another thread's stack is never taken for its own.
 */
static const struct md_mapping *overflowed_stack(const struct md_snapshot *s, uint64_t sp)
{
	size_t lo = md_snapshot_mappings_upto(s, sp);
	const struct md_mapping *m;

	/* mappings[lo - 1] holds sp, if any mapping does: it must be a guard ending at the next */
	if (lo > 0 && s->mappings[lo - 1].end > sp &&
	    (s->mappings[lo - 1].prot != 0 || lo == s->n_mappings ||
	     s->mappings[lo - 1].end != s->mappings[lo].start))
		return NULL;
	while (lo + 1 < s->n_mappings && s->mappings[lo].prot == 0 &&
	       s->mappings[lo].end == s->mappings[lo + 1].start)
		lo++;
	if (lo == s->n_mappings)
		return NULL;
	m = &s->mappings[lo];
	if ((m->prot & (MD_PROT_READ | MD_PROT_WRITE)) != (MD_PROT_READ | MD_PROT_WRITE) ||
	    (m->prot & MD_PROT_EXEC) || m->start - sp > MD_STACK_GUARD_GAP_MAX)
		return NULL;
	return m;
}

/* The range of stack to keep for a thread whose stack pointer is sp, at most max bytes: from sp
 * (less the red zone), or from the bottom of the stack sp overflowed. */
static int stack_range_max(struct md_dump_ctx *c, uint64_t sp, uint64_t max, uint64_t *ret_start,
                           uint64_t *ret_len)
{
	const struct md_mapping *m = md_snapshot_find_mapping(c->s, sp);
	uint64_t start, end;

	if (!m || !(m->prot & MD_PROT_READ)) {
		m = overflowed_stack(c->s, sp);
		if (!m)
			return -EFAULT;
		sp = m->start;
	}
	start = sp - md_red_zone(c->s->system.processor_architecture);
	start &= ~(uint64_t)15;
	if (start < m->start || start > sp)
		start = m->start;
	end = m->end;
	if (end - start > max)
		end = start + max;
	*ret_start = start;
	*ret_len = end - start;
	return 0;
}

/* Bytes of the other threads' stacks if each is capped at cap. */
static uint64_t other_stacks(struct md_dump_ctx *c, uint64_t cap)
{
	uint32_t crashing = md_dump_crashing_tid(c->s);
	uint64_t total = 0, start, len;

	for (size_t i = 0; i < c->s->n_threads; i++) {
		const struct md_thread_info *t = &c->s->threads[i];

		if (t->context.size == 0 || t->tid == crashing)
			continue;
		if (stack_range_max(c, thread_sp(c->s, t), cap, &start, &len) == 0)
			total += len;
	}
	return total;
}

void md_dump_plan(struct md_dump_ctx *c)
{
	const struct md_snapshot *s = c->s;
	uint64_t budget = c->opts->max_bytes, fixed, crash_stack = 0, ip, avail, lo, hi;
	uint32_t crashing = md_dump_crashing_tid(s);

	c->other_stack_max = c->stack_max;
	c->drop_ip_regions = false;
	if (!budget)
		return;
	/* what is never cut (contexts, lists, the module list, the crashing stack), plus a
	 * generous allowance for the raw Linux files and the diagnostics */
	fixed = 32 + 12 * (uint64_t)MD_STREAMS_MAX +
	        s->n_threads * (uint64_t)(sizeof(md_thread) + sizeof(md_context_amd64) + 16 +
	                                  2 * MD_THREAD_NAME_MAX + 16) +
	        s->n_modules * (uint64_t)(sizeof(md_module) + 16 + 4 + MD_BUILD_ID_MAX + 2 * 256) +
	        16 + s->n_mappings * (uint64_t)(sizeof(md_memory_info) + 128) + 64 * 1024;
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct md_thread_info *t = &s->threads[i];
		uint64_t start, len;

		if (t->context.size && t->tid == crashing &&
		    stack_range_max(c, thread_sp(s, t), c->stack_max, &start, &len) == 0)
			crash_stack += len;
	}
	ip = s->n_threads * 2ull * MD_IP_CONTEXT;
	if (fixed + crash_stack + ip + other_stacks(c, c->stack_max) <= budget)
		return;
	c->result->budget_cut = true;
	if (fixed + crash_stack + ip > budget) {
		/* even without other stacks it does not fit: the pc regions go too */
		c->other_stack_max = 0;
		c->drop_ip_regions = true;
		md_diag_add(
		    &c->s->diag, MD_DIAG_MEMORY, 0, -EFBIG,
		    "byte budget %llu: other threads' stacks and the memory around pcs left out",
		    (unsigned long long)budget);
		return;
	}
	/* the largest per-thread cap whose total fits */
	avail = budget - fixed - crash_stack - ip;
	lo = 0;
	hi = c->stack_max;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;

		if (other_stacks(c, mid) <= avail)
			lo = mid;
		else
			hi = mid - 1;
	}
	c->other_stack_max = lo & ~(uint64_t)15;
	md_diag_add(&c->s->diag, MD_DIAG_MEMORY, 0, -EFBIG,
	            "byte budget %llu: stacks of threads other than %u cut to %llu bytes",
	            (unsigned long long)budget, crashing, (unsigned long long)c->other_stack_max);
}

/* The range of stack to keep for thread t (its stack pointer is sp). */
static int stack_range(struct md_dump_ctx *c, const struct md_thread_info *t, uint64_t sp,
                       uint64_t *ret_start, uint64_t *ret_len)
{
	uint64_t max = t->tid == md_dump_crashing_tid(c->s) ? c->stack_max : c->other_stack_max;

	if (max == 0)
		return -ENOSPC; /* left out to keep within the budget */
	return stack_range_max(c, sp, max, ret_start, ret_len);
}

int md_stream_thread_list(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                          enum md_stream_status *ret_status)
{
	struct md_snapshot *s = c->s;
	const struct md_crash_info *crash = s->crash;
	uint64_t *starts = NULL, *lens = NULL;
	md_memory_descriptor *desc = NULL;
	md_thread *entries = NULL;
	size_t *which = NULL, n_stacks = 0;
	uint32_t list_rva, count = 0, list_size;
	bool partial = false;
	int r;

	c->thread_written = calloc(s->n_threads ? s->n_threads : 1, sizeof(bool));
	c->context_loc = calloc(s->n_threads ? s->n_threads : 1, sizeof(md_location));
	c->stack = calloc(s->n_threads ? s->n_threads : 1, sizeof(md_memory_descriptor));
	starts = calloc(s->n_threads ? s->n_threads : 1, sizeof(uint64_t));
	lens = calloc(s->n_threads ? s->n_threads : 1, sizeof(uint64_t));
	desc = calloc(s->n_threads ? s->n_threads : 1, sizeof(md_memory_descriptor));
	which = calloc(s->n_threads ? s->n_threads : 1, sizeof(size_t));
	if (!c->thread_written || !c->context_loc || !c->stack || !starts || !lens || !desc ||
	    !which) {
		r = -ENOMEM;
		goto out;
	}

	for (size_t i = 0; i < s->n_threads; i++)
		if (s->threads[i].context.size > 0)
			count++;
	list_size = 4 + count * (uint32_t)sizeof(md_thread);
	r = md_writer_append(c->w, &count, sizeof(count), &list_rva);
	if (r >= 0)
		r = md_writer_put(c->w, NULL, list_size - 4);
	if (r < 0)
		goto out;

	/* contexts first, collecting the stack ranges to read */
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct md_thread_info *t = &s->threads[i];
		const struct md_context *ctx = &t->context;
		uint64_t sp = t->sp, pc = t->pc;
		uint32_t rva;

		if (ctx->size == 0) {
			partial = true;
			md_diag_add(&s->diag, MD_DIAG_THREAD, t->tid, t->error ? t->error : -EIO,
			            "thread %u left out: no registers", t->tid);
			continue;
		}
		if (crash && crash->tid == t->tid && crash->context.size > 0) {
			ctx = &crash->context;
			if (md_context_sp_pc(ctx, &sp, &pc) < 0) {
				ctx = &t->context;
				sp = t->sp;
			}
		}
		r = md_writer_append(c->w, ctx->u.raw, ctx->size, &rva);
		if (r < 0)
			goto out;
		c->context_loc[i] = (md_location){.data_size = ctx->size, .rva = rva};
		if (ctx != &t->context)
			c->crash_context = c->context_loc[i];
		c->thread_written[i] = true;
		c->n_written++;
		c->stack[i].start_of_memory_range = sp;
		r = stack_range(c, t, sp, &starts[n_stacks], &lens[n_stacks]);
		if (r == -ENOSPC)
			continue; /* the budget's doing, already reported */
		if (r < 0) {
			partial = true;
			md_diag_add(&s->diag, MD_DIAG_THREAD, t->tid, -EFAULT,
			            "thread %u: stack pointer 0x%llx is not in readable memory",
			            t->tid, (unsigned long long)sp);
			continue;
		}
		if (starts[n_stacks] > sp)
			md_diag_add(
			    &s->diag, MD_DIAG_THREAD, t->tid, -EFAULT,
			    "thread %u: stack pointer 0x%llx is below its stack (overflow?); "
			    "stack kept from 0x%llx",
			    t->tid, (unsigned long long)sp, (unsigned long long)starts[n_stacks]);
		which[n_stacks++] = i;
	}

	r = md_dump_copy_ranges(c, starts, lens, n_stacks, desc);
	if (r < 0)
		goto out;
	for (size_t k = 0; k < n_stacks; k++) {
		c->stack[which[k]] = desc[k];
		if (desc[k].memory.data_size == 0)
			partial = true;
	}

	/* now the entries, which point at everything written above: one write, since the list
	 * block is long flushed by now and a write per entry would be a syscall per thread */
	entries = calloc(count ? count : 1, sizeof(*entries));
	if (!entries) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0, idx = 0; i < s->n_threads; i++) {
		if (!c->thread_written[i])
			continue;
		entries[idx].thread_id = s->threads[i].tid;
		entries[idx].stack = c->stack[i];
		entries[idx].thread_context = c->context_loc[i];
		idx++;
	}
	r = md_writer_write_at(c->w, list_rva + 4, entries, count * sizeof(*entries));
	if (r < 0)
		goto out;
	c->result->threads = count;
	*ret_loc = (md_location){.data_size = list_size, .rva = list_rva};
	*ret_status = partial ? MD_STREAM_PARTIAL : MD_STREAM_OK;
	r = 0;
out:
	free(entries);
	free(which);
	free(desc);
	free(lens);
	free(starts);
	return r;
}
