/* SPDX-License-Identifier: MIT */
/* The stream writers' suites' helpers (streams-util.h). */
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

struct dump write_dump(struct md_snapshot *s, const struct md_dump_options *o)
{
	char path[] = "/tmp/check-streams-XXXXXX";
	struct dump d = {0};
	struct stat st;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	d.s = s;
	d.r = md_dump_write(s, fd, o, &d.res);
	ck_assert_int_eq(fstat(fd, &st), 0);
	d.len = (size_t)st.st_size;
	d.data = malloc(d.len + 1);
	ck_assert_int_eq(pread(fd, d.data, d.len, 0), (ssize_t)d.len);
	close(fd);
	return d;
}

struct md_snapshot *fake_threads(size_t n_threads)
{
	struct fake_options fo = {.n_threads = n_threads};
	struct md_snapshot *s = fake_snapshot_new(&fo);

	ck_assert_ptr_nonnull(s);
	return s;
}

struct dump fake_dump(size_t n_threads, const struct md_dump_options *o)
{
	struct dump d = write_dump(fake_threads(n_threads), o);

	ck_assert_int_eq(d.r, 0);
	return d;
}

void dump_free(struct dump *d)
{
	free(d->data);
	fake_snapshot_free(d->s);
	*d = (struct dump){0};
}

/* The stream's location, checked to lie inside the file; NULL data if absent. */
const uint8_t *stream(const struct dump *d, uint32_t type, uint32_t *ret_size)
{
	md_header h;
	const uint8_t *found = NULL;
	int seen = 0;

	memcpy(&h, d->data, sizeof(h));
	for (uint32_t i = 0; i < h.stream_count; i++) {
		md_directory e;

		memcpy(&e, d->data + h.stream_directory_rva + i * sizeof(e), sizeof(e));
		if (e.stream_type == 0) {
			ck_assert_uint_eq(e.location.data_size, 0);
			ck_assert_uint_eq(e.location.rva, 0);
			continue;
		}
		ck_assert_uint_le((uint64_t)e.location.rva + e.location.data_size, d->len);
		ck_assert_uint_eq(e.location.rva % 8, 0);
		if (e.stream_type == type) {
			seen++;
			found = d->data + e.location.rva;
			*ret_size = e.location.data_size;
		}
	}
	ck_assert_int_le(seen, 1); /* never twice */
	return found;
}

uint32_t list_stream(const struct dump *d, uint32_t type, const uint8_t **ret_p, uint32_t *ret_size)
{
	uint32_t count;

	*ret_p = stream(d, type, ret_size);
	ck_assert_msg(*ret_p != NULL, "no stream of type 0x%x", type);
	ck_assert_uint_ge(*ret_size, 4);
	memcpy(&count, *ret_p, 4);
	return count;
}

const uint8_t *list_entries(const struct dump *d, uint32_t type, uint32_t n, size_t entry_size)
{
	const uint8_t *p;
	uint32_t size;

	ck_assert_uint_eq(list_stream(d, type, &p, &size), n);
	ck_assert_uint_eq(size, 4 + n * entry_size);
	return p + 4;
}

uint32_t stream_read(const struct dump *d, uint32_t type, void *out, size_t size)
{
	uint32_t got;
	const uint8_t *p = stream(d, type, &got);

	ck_assert_msg(p != NULL, "no stream of type 0x%x", type);
	ck_assert_uint_ge(got, size);
	memcpy(out, p, size);
	return got;
}

md_thread dump_thread(const struct dump *d, uint32_t i)
{
	const uint8_t *p;
	uint32_t size, count = list_stream(d, MD_STREAM_THREAD_LIST, &p, &size);
	md_thread t;

	ck_assert_uint_lt(i, count);
	memcpy(&t, p + 4 + i * sizeof(t), sizeof(t));
	return t;
}

enum md_stream_status stream_status(const struct dump *d, uint32_t type)
{
	for (size_t i = 0; i < d->res.n_streams; i++)
		if (d->res.streams[i].type == type)
			return d->res.streams[i].status;
	ck_abort_msg("no stream of type 0x%x in the result", type);
	return MD_STREAM_SKIPPED;
}

void utf16_to_ascii(const struct dump *d, uint64_t rva, char *out, size_t size)
{
	uint32_t len;
	size_t i;

	ck_assert_uint_le(rva + 4, d->len);
	memcpy(&len, d->data + rva, 4);
	ck_assert_uint_eq(len % 2, 0);
	ck_assert_uint_le(rva + 4 + len + 2, d->len);
	for (i = 0; i < len / 2 && i + 1 < size; i++) {
		uint16_t u;

		memcpy(&u, d->data + rva + 4 + 2 * i, 2);
		out[i] = (char)u;
	}
	out[i] = '\0';
	/* the terminator is present and not counted */
	ck_assert_uint_eq(d->data[rva + 4 + len], 0);
	ck_assert_uint_eq(d->data[rva + 4 + len + 1], 0);
}

void check_pattern(const struct dump *d, uint64_t addr, const md_location *loc)
{
	ck_assert_uint_le((uint64_t)loc->rva + loc->data_size, d->len);
	for (uint32_t k = 0; k < loc->data_size; k++)
		if (d->data[loc->rva + k] != fake_byte(addr + k))
			ck_abort_msg("memory byte at 0x%llx differs",
			             (unsigned long long)(addr + k));
}
