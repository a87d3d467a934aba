/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the stream writers at their limits, driven by the fake snapshot: a target that
 * vanishes, a cancel, a full disk, and byte budgets that must keep what matters most. See
 * check-streams.c.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-main.h"
#include "fake-snapshot.h"
#include "md-dump.h"
#include "streams-util.h"

START_TEST(vanished_target_gives_a_flagged_partial_dump)
{
	struct fake_options fo = {.n_threads = 2, .vanish = true};
	struct md_snapshot *s = fake_snapshot_new(&fo);
	struct dump d = write_dump(s, NULL);
	const uint8_t *p;
	uint32_t size;

	ck_assert_int_eq(d.r, 0);
	ck_assert(d.res.partial);
	ck_assert(s->target_gone);
	/* the registers were captured before it died: threads are still listed */
	ck_assert_uint_eq(list_stream(&d, MD_STREAM_THREAD_LIST, &p, &size), 2);
	ck_assert_uint_eq(d.data[0], 'M');
	dump_free(&d);
}
END_TEST

START_TEST(cancel_stops_the_dump)
{
	struct md_snapshot *s = fake_threads(1);
	volatile sig_atomic_t cancel = 1;
	struct md_dump_options o = {.cancel = &cancel};
	struct dump d = write_dump(s, &o);

	ck_assert_int_eq(d.r, -ECANCELED);
	/* the header is written last: a cancelled file is never a valid dump */
	ck_assert(d.len < 4 || memcmp(d.data, "MDMP", 4) != 0);
	dump_free(&d);
}
END_TEST

START_TEST(full_disk_fails_cleanly)
{
	struct md_snapshot *s = fake_threads(64);
	struct md_dump_result res;
	int fd = open("/dev/full", O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(md_dump_write(s, fd, NULL, &res), -ENOSPC);
	close(fd);
	fake_snapshot_free(s);
}
END_TEST

static uint32_t stack_of(const struct dump *d, uint32_t tid)
{
	const uint8_t *p;
	uint32_t size, count = list_stream(d, MD_STREAM_THREAD_LIST, &p, &size);

	for (uint32_t i = 0; i < count; i++) {
		md_thread t = dump_thread(d, i);

		if (t.thread_id == tid)
			return t.stack.memory.data_size;
	}
	ck_abort_msg("thread %u not in the dump", tid);
	return 0;
}

START_TEST(byte_budget_cuts_other_stacks_first)
{
	struct md_dump_options o = {.max_bytes = 250 * 1024};
	struct dump d = fake_dump(64, &o);
	const uint32_t full = FAKE_STACK_SIZE - FAKE_SP_OFFSET + MD_RED_ZONE_AMD64;
	uint32_t size;

	ck_assert(d.res.budget_cut);
	ck_assert_uint_le(d.len, o.max_bytes);
	/* the thread the dump is about keeps its whole stack; the others are cut, not dropped */
	ck_assert_uint_eq(stack_of(&d, 4242), full);
	ck_assert_uint_lt(stack_of(&d, 4243), full);
	ck_assert_uint_gt(stack_of(&d, 4243), 0);
	/* the memory around the pcs is still there */
	ck_assert_ptr_nonnull(stream(&d, MD_STREAM_MEMORY_LIST, &size));
	ck_assert_uint_eq(size, 4 + (64 + 1) * sizeof(md_memory_descriptor));
	dump_free(&d);
}
END_TEST

START_TEST(tight_budget_keeps_contexts_modules_and_the_crashing_stack)
{
	struct md_snapshot *s = fake_threads(64);
	struct md_crash_info crash = {.tid = 4250, .code = 11};
	struct md_dump_options o = {.max_bytes = 100 * 1024};
	const uint32_t full = FAKE_STACK_SIZE - FAKE_SP_OFFSET + MD_RED_ZONE_AMD64;
	struct dump d;
	uint32_t size;
	const uint8_t *p;

	s->crash = &crash;
	d = write_dump(s, &o);
	ck_assert_int_eq(d.r, 0);
	ck_assert(d.res.budget_cut);
	ck_assert_uint_eq(stack_of(&d, 4250), full);
	ck_assert_uint_eq(stack_of(&d, 4242), 0);
	/* every context is kept */
	ck_assert_uint_eq(list_stream(&d, MD_STREAM_THREAD_LIST, &p, &size), 64);
	ck_assert_uint_eq(list_stream(&d, MD_STREAM_MODULE_LIST, &p, &size), 2);
	ck_assert_ptr_nonnull(stream(&d, MD_STREAM_SYSTEM_INFO, &size));
	ck_assert_ptr_nonnull(stream(&d, MD_STREAM_MINIDUMPD_DIAGNOSTICS, &size));
	ck_assert_ptr_nonnull(memmem(p = stream(&d, MD_STREAM_MINIDUMPD_DIAGNOSTICS, &size), size,
	                             "byte budget", 11));
	dump_free(&d);
}
END_TEST

CHECK_SUITE_FN(
    streams_limits_suite, "streams-limits",
    CHECK_CASE_PLAIN("limits", CHECK_TEST(vanished_target_gives_a_flagged_partial_dump),
                     CHECK_TEST(cancel_stops_the_dump), CHECK_TEST(full_disk_fails_cleanly),
                     CHECK_TEST(byte_budget_cuts_other_stacks_first),
                     CHECK_TEST(tight_budget_keeps_contexts_modules_and_the_crashing_stack)));

CHECK_SUITE("streams-limits", streams_limits_suite);
