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
	d.r = md_dump_write(s, fd, o, &d.res);
	ck_assert_int_eq(fstat(fd, &st), 0);
	d.len = (size_t)st.st_size;
	d.data = malloc(d.len + 1);
	ck_assert_int_eq(pread(fd, d.data, d.len, 0), (ssize_t)d.len);
	close(fd);
	return d;
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
