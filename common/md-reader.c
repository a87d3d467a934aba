/* SPDX-License-Identifier: MIT */
/*
 * The minidump reader (see md-reader.h). Every offset and size from the file is widened to 64
 * bits and checked against the file size before anything is read, every count against a named
 * limit before anything is allocated, and everything the views keep is charged to the reader's
 * MD_READER_ALLOC_MAX budget. A malformed file yields -EBADMSG with a message naming the stream,
 * entry and offsets involved. Nothing here may crash, over-read, allocate without bound, loop on
 * a count taken from the file without bounding it first, or log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "md-dump.h"
#include "md-os.h"
#include "md-reader.h"
#include "md-text.h"

#define DIR_ENTRY_SIZE    sizeof(md_directory) /* 12 bytes per directory entry */
#define CV_PDB70_MIN      (4u + 16u + 4u + 1u) /* signature, GUID, age, at least a NUL */
#define CRASHPAD_INFO_MIN 52u                  /* version 1 without reserved/address_mask */
#define MISC_INFO_V5_SIZE 1364u                /* bytes of MINIDUMP_MISC_INFO_5 */

/* The views, for remembering failures. */
enum view_id {
	V_SYSTEM_INFO,
	V_THREADS,
	V_THREAD_NAMES,
	V_MODULES,
	V_MEMORY_LIST,
	V_MEMORY_INFO,
	V_EXCEPTION,
	V_MISC_INFO,
	V_BREAKPAD_INFO,
	V_CRASHPAD_INFO,
	V_COUNT,
};

/* A view that failed, kept so that asking again (once per thread, say) costs nothing. */
struct view_failure {
	int ret;
	char message[MD_READER_ERROR_MAX];
};

/* ThreadNames sorted by tid (then file order), so a lookup per thread is a binary search. */
struct name_key {
	uint32_t tid;
	uint32_t index;
};

/* One allocation owned by the reader; the list is freed at md_reader_free(). */
struct rd_block {
	struct rd_block *next;
	size_t size;
	max_align_t data[];
};

struct md_reader {
	const uint8_t *data; /* buffer source (borrowed), or NULL */
	int fd;              /* file source, or -1 */
	uint64_t size;       /* bytes in the file or buffer */
	md_header header;
	md_directory *dir; /* header.stream_count entries */
	struct rd_block *blocks;
	size_t charged; /* bytes in blocks, bounded by MD_READER_ALLOC_MAX */
	char error[MD_READER_ERROR_MAX];

	struct view_failure failed[V_COUNT];
	const void *views[V_COUNT]; /* views that parsed, NULL until then */
	struct name_key *name_keys; /* ThreadNames' count entries, once it parsed */
};

/* ---- Errors ---- */

static int fail(struct md_reader *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct md_reader *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return err;
}

/* Puts a prefix in front of the current message, to say which entry a nested check was for. */
static int prefix(struct md_reader *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int prefix(struct md_reader *r, int err, const char *fmt, ...)
{
	char old[MD_READER_ERROR_MAX];
	va_list ap;
	int n;

	memcpy(old, r->error, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(r->error))
		snprintf(r->error + n, sizeof(r->error) - (size_t)n, "%s", old);
	return err;
}

static const char *stream_name(uint32_t type)
{
	const char *name = md_stream_type_to_string(type);

	return name ? name : "unknown";
}

const char *md_reader_error(const struct md_reader *r)
{
	return r->error;
}

/* Keeps a view's failure, except running out of memory, which may pass. */
static int remember(struct md_reader *r, enum view_id id, int ret)
{
	if (ret != -ENOMEM) {
		r->failed[id].ret = ret;
		memcpy(r->failed[id].message, r->error, sizeof(r->error));
	}
	return ret;
}

static int replay(struct md_reader *r, enum view_id id)
{
	memcpy(r->error, r->failed[id].message, sizeof(r->error));
	return r->failed[id].ret;
}

/* ---- Allocation ---- */

/* Allocates zeroed memory owned by the reader, charged to MD_READER_ALLOC_MAX. */
static int rd_alloc(struct md_reader *r, size_t size, void **ret)
{
	struct rd_block *b;

	if (size > MD_READER_ALLOC_MAX || r->charged > MD_READER_ALLOC_MAX - size)
		return fail(r, -E2BIG, "views would hold more than %u bytes (MD_READER_ALLOC_MAX)",
		            MD_READER_ALLOC_MAX);
	b = calloc(1, sizeof(*b) + size);
	if (!b)
		return fail(r, -ENOMEM, "out of memory for %zu bytes", size);
	b->size = size;
	b->next = r->blocks;
	r->blocks = b;
	r->charged += size;
	*ret = b->data;
	return 0;
}

/* Frees every block allocated after mark, for a view that failed half-way. */
static void rd_release(struct md_reader *r, struct rd_block *mark)
{
	while (r->blocks && r->blocks != mark) {
		struct rd_block *b = r->blocks;

		r->blocks = b->next;
		r->charged -= b->size;
		free(b);
	}
}

/* ---- Bounded reads ---- */

static int check_range(struct md_reader *r, uint64_t rva, uint64_t size, const char *what)
{
	if (rva > r->size || size > r->size - rva)
		return fail(r, -EBADMSG,
		            "%s at rva 0x%llx size 0x%llx runs past end of file (size 0x%llx)",
		            what, (unsigned long long)rva, (unsigned long long)size,
		            (unsigned long long)r->size);
	return 0;
}

int md_reader_read(struct md_reader *r, uint64_t rva, void *buf, size_t size)
{
	int64_t n;
	int ret;

	ret = check_range(r, rva, size, "read");
	if (ret < 0)
		return ret;
	if (r->data) {
		if (size > 0)
			memcpy(buf, r->data + rva, size);
		return 0;
	}
	n = md_os_pread_full(r->fd, buf, size, rva);
	if (n < 0)
		return fail(r, (int)n, "read at rva 0x%llx: %s", (unsigned long long)rva,
		            md_os_strerror((int)n));
	if ((size_t)n < size)
		return fail(r, -EBADMSG, "file shrank while reading at rva 0x%llx",
		            (unsigned long long)(rva + (uint64_t)n));
	return 0;
}

static int read_u32(struct md_reader *r, uint64_t rva, uint32_t *ret)
{
	return md_reader_read(r, rva, ret, sizeof(*ret));
}

/* Gives a pointer to size bytes at rva: into the buffer, or into *tofree (malloc'd, read with
 * pread). Callers bound size before they ask. */
static int rd_map(struct md_reader *r, uint64_t rva, size_t size, const uint8_t **ret,
                  void **tofree)
{
	uint8_t *p;
	int ret_err;

	*tofree = NULL;
	ret_err = check_range(r, rva, size, "block");
	if (ret_err < 0)
		return ret_err;
	if (r->data) {
		*ret = r->data + rva;
		return 0;
	}
	p = malloc(size > 0 ? size : 1);
	if (!p)
		return fail(r, -ENOMEM, "out of memory for %zu bytes", size);
	ret_err = md_reader_read(r, rva, p, size);
	if (ret_err < 0) {
		free(p);
		return ret_err;
	}
	*ret = p;
	*tofree = p;
	return 0;
}

/* ---- Open and free ---- */

static int set_err(struct md_reader_error *err, const char *msg)
{
	if (err)
		snprintf(err->message, sizeof(err->message), "%s", msg);
	return 0;
}

static int parse_directory(struct md_reader *r)
{
	uint64_t dir_bytes;
	uint32_t n;
	int ret;

	if (r->size < sizeof(md_header))
		return fail(r, -EBADMSG, "file is 0x%llx bytes, shorter than the 0x%zx-byte header",
		            (unsigned long long)r->size, sizeof(md_header));
	ret = md_reader_read(r, 0, &r->header, sizeof(r->header));
	if (ret < 0)
		return ret;
	if (r->header.signature != MD_SIGNATURE)
		return fail(r, -EBADMSG, "bad signature 0x%08x (expected 0x%08x, \"MDMP\")",
		            r->header.signature, MD_SIGNATURE);
	if ((r->header.version & 0xFFFFu) != MD_VERSION)
		return fail(r, -EBADMSG, "bad version 0x%08x (low 16 bits must be 0x%04x)",
		            r->header.version, MD_VERSION);
	n = r->header.stream_count;
	if (n > MD_READER_STREAMS_MAX)
		return fail(r, -E2BIG, "%u directory entries exceed the limit of %u", n,
		            MD_READER_STREAMS_MAX);
	dir_bytes = (uint64_t)n * DIR_ENTRY_SIZE;
	if (r->header.stream_directory_rva > r->size ||
	    dir_bytes > r->size - r->header.stream_directory_rva)
		return fail(r, -EBADMSG,
		            "stream directory at rva 0x%x with %u entries (0x%llx bytes) runs past "
		            "end of file (size 0x%llx)",
		            r->header.stream_directory_rva, n, (unsigned long long)dir_bytes,
		            (unsigned long long)r->size);
	if (n == 0)
		return 0;
	r->dir = calloc(n, DIR_ENTRY_SIZE);
	if (!r->dir)
		return fail(r, -ENOMEM, "out of memory for the directory");
	ret = md_reader_read(r, r->header.stream_directory_rva, r->dir, (size_t)dir_bytes);
	if (ret < 0)
		return ret;

	for (uint32_t i = 0; i < n; i++) {
		const md_directory *d = &r->dir[i];
		uint64_t end = (uint64_t)d->location.rva + d->location.data_size;

		if (d->location.data_size > 0 && end > r->size)
			return fail(r, -EBADMSG,
			            "stream %u (%s) at rva 0x%x size 0x%x runs past end of file "
			            "(size 0x%llx)",
			            i, stream_name(d->stream_type), d->location.rva,
			            d->location.data_size, (unsigned long long)r->size);
		if (d->stream_type == MD_STREAM_UNUSED || d->stream_type == MD_STREAM_EXCEPTION)
			continue;
		/* At most one stream of each type, as LLDB requires; only Exception may repeat. */
		for (uint32_t j = 0; j < i; j++)
			if (r->dir[j].stream_type == d->stream_type)
				return fail(r, -EBADMSG,
				            "stream %u (%s, type 0x%x) duplicates stream %u", i,
				            stream_name(d->stream_type), d->stream_type, j);
	}
	return 0;
}

static int open_common(struct md_reader *r, struct md_reader_error *err,
                       struct md_reader **ret_reader)
{
	int ret = parse_directory(r);

	if (ret < 0) {
		set_err(err, r->error);
		md_reader_free(r);
		return ret;
	}
	r->error[0] = '\0';
	set_err(err, "");
	*ret_reader = r;
	return 0;
}

int md_reader_open_buffer(const void *data, size_t size, struct md_reader_error *err,
                          struct md_reader **ret_reader)
{
	struct md_reader *r;

	if (!data && size > 0) {
		set_err(err, "no buffer");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		set_err(err, "out of memory");
		return -ENOMEM;
	}
	r->fd = -1;
	r->data = data ? data : (const uint8_t *)"";
	r->size = size;
	return open_common(r, err, ret_reader);
}

int md_reader_open_file(const char *path, struct md_reader_error *err,
                        struct md_reader **ret_reader)
{
	struct md_reader *r;
	struct stat st;
	char msg[MD_READER_ERROR_MAX];
	int fd, ret;

	fd = md_os_open_read(path);
	if (fd < 0) {
		ret = fd;
		snprintf(msg, sizeof(msg), "cannot open: %s", md_os_strerror(fd));
		set_err(err, msg);
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(msg, sizeof(msg), "cannot stat: %s", md_os_strerror(errno));
		set_err(err, msg);
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, "not a regular file");
		close(fd);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		set_err(err, "out of memory");
		close(fd);
		return -ENOMEM;
	}
	r->fd = fd;
	r->size = (uint64_t)st.st_size;
	return open_common(r, err, ret_reader);
}

void md_reader_free(struct md_reader *r)
{
	if (!r)
		return;
	rd_release(r, NULL);
	free(r->dir);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

/* ---- Header and directory ---- */

uint64_t md_reader_file_size(const struct md_reader *r)
{
	return r->size;
}

const md_header *md_reader_header(const struct md_reader *r)
{
	return &r->header;
}

uint32_t md_reader_stream_count(const struct md_reader *r)
{
	return r->header.stream_count;
}

const md_directory *md_reader_stream_entry(const struct md_reader *r, uint32_t index)
{
	if (index >= r->header.stream_count)
		return NULL;
	return &r->dir[index];
}

int md_reader_find_stream(struct md_reader *r, uint32_t type, md_location *ret_location)
{
	if (type == MD_STREAM_UNUSED)
		return fail(r, -EINVAL, "stream type 0 marks unused entries");
	for (uint32_t i = 0; i < r->header.stream_count; i++) {
		if (r->dir[i].stream_type == type) {
			*ret_location = r->dir[i].location;
			return 0;
		}
	}
	return fail(r, -ENOENT, "no %s stream (type 0x%x)", stream_name(type), type);
}

int md_reader_stream_data(struct md_reader *r, uint32_t type, char **ret_data, size_t *ret_size)
{
	md_location loc;
	char *p;
	int ret;

	ret = md_reader_find_stream(r, type, &loc);
	if (ret < 0)
		return ret;
	if (loc.data_size > MD_READER_BLOB_MAX)
		return fail(r, -E2BIG, "stream %s is 0x%x bytes, more than the limit of 0x%x",
		            stream_name(type), loc.data_size, MD_READER_BLOB_MAX);
	p = malloc((size_t)loc.data_size + 1);
	if (!p)
		return fail(r, -ENOMEM, "out of memory for stream %s", stream_name(type));
	ret = md_reader_read(r, loc.rva, p, loc.data_size);
	if (ret < 0) {
		free(p);
		return prefix(r, ret, "stream %s: ", stream_name(type));
	}
	p[loc.data_size] = '\0';
	*ret_data = p;
	*ret_size = loc.data_size;
	return 0;
}

/* ---- Strings ---- */

/* Reads the MDString at rva into reader-owned memory (owned) or malloc'd memory. */
static int read_string(struct md_reader *r, uint64_t rva, bool utf16, bool owned, char **ret)
{
	const char *kind = utf16 ? "MDString" : "UTF-8 string";
	const uint8_t *bytes;
	void *tofree = NULL;
	uint32_t len;
	size_t out_size;
	char *out;
	int ret_err;

	if (rva > r->size || r->size - rva < sizeof(len))
		return fail(r, -EBADMSG, "%s at rva 0x%llx runs past end of file (size 0x%llx)",
		            kind, (unsigned long long)rva, (unsigned long long)r->size);
	ret_err = read_u32(r, rva, &len);
	if (ret_err < 0)
		return ret_err;
	if (len > r->size - rva - sizeof(len))
		return fail(r, -EBADMSG,
		            "%s at rva 0x%llx with length 0x%x runs past end of file (size 0x%llx)",
		            kind, (unsigned long long)rva, len, (unsigned long long)r->size);
	if (len > MD_READER_STRING_MAX)
		return fail(r, -E2BIG, "%s at rva 0x%llx has length 0x%x, over the limit of 0x%x",
		            kind, (unsigned long long)rva, len, MD_READER_STRING_MAX);
	if (utf16 && len % 2 != 0)
		return fail(r, -EBADMSG, "%s at rva 0x%llx has odd byte length 0x%x", kind,
		            (unsigned long long)rva, len);
	ret_err = rd_map(r, rva + sizeof(len), len, &bytes, &tofree);
	if (ret_err < 0)
		return ret_err;
	out_size = 3 * (size_t)len + 1;
	if (owned) {
		ret_err = rd_alloc(r, out_size, (void **)&out);
		if (ret_err < 0)
			goto out;
	} else {
		out = malloc(out_size);
		if (!out) {
			ret_err = fail(r, -ENOMEM, "out of memory for a string");
			goto out;
		}
	}
	if (utf16)
		md_text_utf16le_to_utf8(bytes, len / 2, out);
	else
		md_text_sanitize_utf8(bytes, len, out);
	*ret = out;
	ret_err = 0;
out:
	free(tofree);
	return ret_err;
}

int md_reader_string(struct md_reader *r, uint64_t rva, char **ret_utf8)
{
	return read_string(r, rva, true, false, ret_utf8);
}

int md_reader_utf8_string(struct md_reader *r, uint64_t rva, char **ret_utf8)
{
	return read_string(r, rva, false, false, ret_utf8);
}

/* ---- Contexts ---- */

int md_reader_context(struct md_reader *r, md_location loc, struct md_reader_context *ret_context)
{
	struct md_reader_context c;
	int ret;

	memset(&c, 0, sizeof(c));
	if (loc.data_size == 0) {
		*ret_context = c;
		return 0;
	}
	if (loc.data_size == sizeof(md_context_amd64)) {
		ret = md_reader_read(r, loc.rva, &c.u.amd64, sizeof(c.u.amd64));
		if (ret < 0)
			return prefix(r, ret, "context: ");
		if ((c.u.amd64.context_flags & MD_CONTEXT_CPU_MASK) != MD_CONTEXT_AMD64)
			return fail(
			    r, -EBADMSG,
			    "context at rva 0x%x is 0x%x bytes (AMD64) but its flags 0x%08x "
			    "lack the AMD64 CPU bit 0x%08x",
			    loc.rva, loc.data_size, c.u.amd64.context_flags, MD_CONTEXT_AMD64);
		c.cpu = MD_READER_CPU_AMD64;
		c.flags = c.u.amd64.context_flags;
		c.pc = c.u.amd64.rip;
		c.sp = c.u.amd64.rsp;
		c.fp = c.u.amd64.rbp;
	} else if (loc.data_size == sizeof(md_context_arm64_old)) {
		ret = md_reader_read(r, loc.rva, &c.u.arm64, sizeof(c.u.arm64));
		if (ret < 0)
			return prefix(r, ret, "context: ");
		if (((uint32_t)c.u.arm64.context_flags & MD_CONTEXT_CPU_MASK) !=
		    MD_CONTEXT_ARM64_OLD)
			return fail(r, -EBADMSG,
			            "context at rva 0x%x is 0x%x bytes (ARM64_OLD) but its flags "
			            "0x%llx lack the ARM64_OLD CPU bit 0x%08x",
			            loc.rva, loc.data_size,
			            (unsigned long long)c.u.arm64.context_flags,
			            MD_CONTEXT_ARM64_OLD);
		c.cpu = MD_READER_CPU_ARM64_OLD;
		c.flags = c.u.arm64.context_flags;
		c.pc = c.u.arm64.pc;
		c.sp = c.u.arm64.iregs[31];
		c.fp = c.u.arm64.iregs[29];
	} else {
		return fail(
		    r, -EBADMSG,
		    "context at rva 0x%x has size 0x%x, neither AMD64 (0x%zx) nor ARM64_OLD "
		    "(0x%zx)",
		    loc.rva, loc.data_size, sizeof(md_context_amd64), sizeof(md_context_arm64_old));
	}
	*ret_context = c;
	return 0;
}

/* ---- List streams ---- */

struct list_info {
	md_location loc;
	uint32_t count;
	uint64_t entries_rva;
};

/* Reads a list stream's u32 count and checks data_size == 4 + count*entry_size (or 8 + ... when
 * Breakpad's padding after the count is allowed). */
static int list_header(struct md_reader *r, uint32_t type, size_t entry_size, uint32_t max,
                       bool allow_pad, struct list_info *ret)
{
	struct list_info li;
	uint64_t expect;
	int err;

	err = md_reader_find_stream(r, type, &li.loc);
	if (err < 0)
		return err;
	if (li.loc.data_size < sizeof(uint32_t))
		return fail(r, -EBADMSG, "%s stream at rva 0x%x size 0x%x is too small for a count",
		            stream_name(type), li.loc.rva, li.loc.data_size);
	err = read_u32(r, li.loc.rva, &li.count);
	if (err < 0)
		return err;
	expect = sizeof(uint32_t) + (uint64_t)li.count * entry_size;
	if (li.loc.data_size == expect)
		li.entries_rva = (uint64_t)li.loc.rva + sizeof(uint32_t);
	else if (allow_pad && li.loc.data_size == expect + 4)
		li.entries_rva = (uint64_t)li.loc.rva + 8;
	else
		return fail(
		    r, -EBADMSG,
		    "%s stream at rva 0x%x has size 0x%x, which does not match its count %u "
		    "(expected 0x%llx%s)",
		    stream_name(type), li.loc.rva, li.loc.data_size, li.count,
		    (unsigned long long)expect, allow_pad ? " or 4 more" : "");
	if (li.count > max)
		return fail(r, -E2BIG, "%s stream has %u entries, over the limit of %u",
		            stream_name(type), li.count, max);
	*ret = li;
	return 0;
}

/*
 * How every list view of md-reader.h begins: its count, then a pointer to its items. A view
 * is allocated as a list_view followed by its items; LIST_VIEW checks that a view type has
 * this layout.
 */
struct list_view {
	size_t count;
	void *items;
};
#define LIST_VIEW(type, items_field)                                                               \
	_Static_assert(offsetof(type, count) == offsetof(struct list_view, count) &&               \
	                   offsetof(type, items_field) == offsetof(struct list_view, items) &&     \
	                   sizeof(type) == sizeof(struct list_view),                               \
	               #type " is not laid out as a list view")
LIST_VIEW(struct md_reader_thread_list, threads);
LIST_VIEW(struct md_reader_thread_names, names);
LIST_VIEW(struct md_reader_module_list, modules);
LIST_VIEW(struct md_reader_memory_list, ranges);

/* An entry of a list stream, copied out of the file so that it is aligned. */
union list_entry {
	md_thread thread;
	md_thread_name name;
	md_module module;
	md_memory_descriptor range;
};

/*
 * A list stream: count items of item_size, each filled from one entry_size-byte entry of the
 * file by item(). done(), if set, runs once every item is filled.
 */
struct list_kind {
	uint32_t type;
	size_t entry_size;
	uint32_t max;   /* the named limit on the count */
	bool allow_pad; /* Breakpad's 4 bytes of padding after the count */
	size_t item_size;
	/* Fills the item from its entry (a copy, aligned); i is its index, for messages. */
	int (*item)(struct md_reader *r, void *item, uint32_t i, const void *entry);
	int (*done)(struct md_reader *r, void *view);
};
/* A list_kind, sized from the types of a file entry (which must fit union list_entry: a
 * negative array size otherwise) and of a view item. */
#define ENTRY_SIZE(type)                                                                           \
	(sizeof(type) + 0 * sizeof(char[sizeof(type) <= sizeof(union list_entry) ? 1 : -1]))
#define LIST_KIND(stream, entry_type, max, allow_pad, item_type, item, done)                       \
	{                                                                                          \
		(stream), ENTRY_SIZE(entry_type), (max), (allow_pad), sizeof(item_type), (item),   \
		    (done)                                                                         \
	}

/* Parses a list view: header, entries mapped, view allocated, each item filled. On failure
 * everything it allocated is released. */
static int parse_list(struct md_reader *r, const struct list_kind *k, const void **ret_view)
{
	struct rd_block *mark = r->blocks;
	const uint8_t *bytes = NULL;
	struct list_info li = {.count = 0};
	struct list_view *view;
	void *tofree = NULL;
	uint8_t *items;
	int ret;

	ret = list_header(r, k->type, k->entry_size, k->max, k->allow_pad, &li);
	if (ret < 0)
		return ret;
	ret = rd_map(r, li.entries_rva, (size_t)li.count * k->entry_size, &bytes, &tofree);
	if (ret < 0)
		return ret;
	ret = rd_alloc(r, sizeof(*view) + (size_t)li.count * k->item_size, (void **)&view);
	if (ret < 0)
		goto out;
	items = (uint8_t *)(view + 1);
	view->count = li.count;
	view->items = items;
	for (uint32_t i = 0; i < li.count; i++) {
		union list_entry entry;

		memcpy(&entry, bytes + (size_t)i * k->entry_size, k->entry_size);
		ret = k->item(r, items + (size_t)i * k->item_size, i, &entry);
		if (ret < 0)
			goto out;
	}
	ret = k->done ? k->done(r, view) : 0;
	if (ret < 0)
		goto out;
	*ret_view = view;
out:
	free(tofree);
	if (ret < 0)
		rd_release(r, mark);
	return ret;
}

/* Reads a stream that is one fixed-size struct (SystemInfo, Exception, BreakpadInfo). */
static int read_fixed(struct md_reader *r, uint32_t type, void *raw, size_t size)
{
	md_location loc;
	int ret;

	ret = md_reader_find_stream(r, type, &loc);
	if (ret < 0)
		return ret;
	if (loc.data_size != size)
		return fail(r, -EBADMSG, "%s stream at rva 0x%x has size 0x%x, not 0x%zx",
		            stream_name(type), loc.rva, loc.data_size, size);
	return md_reader_read(r, loc.rva, raw, size);
}

/* ---- SystemInfo ---- */

static int parse_system_info(struct md_reader *r, const void **ret_info)
{
	struct rd_block *mark = r->blocks;
	struct md_reader_system_info *info;
	md_system_info raw;
	int ret;

	ret = read_fixed(r, MD_STREAM_SYSTEM_INFO, &raw, sizeof(raw));
	if (ret < 0)
		return ret;
	ret = rd_alloc(r, sizeof(*info), (void **)&info);
	if (ret < 0)
		return ret;
	info->arch = raw.processor_architecture;
	info->level = raw.processor_level;
	info->revision = raw.processor_revision;
	info->cpus = raw.number_of_processors;
	info->platform_id = raw.platform_id;
	info->major_version = raw.major_version;
	info->minor_version = raw.minor_version;
	info->build_number = raw.build_number;
	if (raw.csd_version_rva != 0) {
		ret = read_string(r, raw.csd_version_rva, true, true, &info->csd);
		if (ret < 0) {
			prefix(r, ret, "SystemInfo CSD version: ");
			goto out;
		}
	} else {
		ret = rd_alloc(r, 1, (void **)&info->csd);
		if (ret < 0)
			goto out;
	}
	if (info->arch == MD_CPU_ARCHITECTURE_X86 || info->arch == MD_CPU_ARCHITECTURE_AMD64) {
		memcpy(info->cpu_vendor, raw.cpu.x86_cpu_info.vendor_id, 12);
		for (size_t i = 0; i < 12; i++)
			if (info->cpu_vendor[i] < 0x20 || info->cpu_vendor[i] > 0x7E)
				info->cpu_vendor[i] = info->cpu_vendor[i] ? '?' : '\0';
		info->cpu_vendor[12] = '\0';
	} else if (info->arch == MD_CPU_ARCHITECTURE_ARM ||
	           info->arch == MD_CPU_ARCHITECTURE_ARM64 ||
	           info->arch == MD_CPU_ARCHITECTURE_ARM64_OLD) {
		info->arm_cpuid = raw.cpu.arm_cpu_info.cpuid;
	}
	*ret_info = info;
	ret = 0;
out:
	if (ret < 0)
		rd_release(r, mark);
	return ret;
}

/* ---- ThreadList ---- */

/* Checks a parsed context against SystemInfo's architecture, when SystemInfo parses. */
static int check_cpu(struct md_reader *r, enum md_reader_cpu cpu)
{
	const struct md_reader_system_info *sys;
	bool ok;

	if (cpu == MD_READER_CPU_NONE || md_reader_system_info(r, &sys) < 0)
		return 0;
	switch (sys->arch) {
	case MD_CPU_ARCHITECTURE_AMD64:
		ok = cpu == MD_READER_CPU_AMD64;
		break;
	case MD_CPU_ARCHITECTURE_ARM64:
	case MD_CPU_ARCHITECTURE_ARM64_OLD:
		ok = cpu == MD_READER_CPU_ARM64_OLD;
		break;
	default:
		ok = false;
		break;
	}
	if (!ok)
		return fail(r, -EBADMSG, "%s context does not match SystemInfo architecture 0x%x",
		            cpu == MD_READER_CPU_AMD64 ? "AMD64" : "ARM64_OLD", sys->arch);
	return 0;
}

static int thread_item(struct md_reader *r, void *item, uint32_t i, const void *entry)
{
	struct md_reader_thread *t = item;
	struct md_reader_context ctx;
	const md_thread *raw = entry;
	int ret;

	t->tid = raw->thread_id;
	t->stack_start = raw->stack.start_of_memory_range;
	t->stack_size = raw->stack.memory.data_size;
	t->stack_rva = raw->stack.memory.rva;
	t->context = raw->thread_context;
	if (t->stack_size > 0) {
		ret = check_range(r, t->stack_rva, t->stack_size, "stack");
		if (ret < 0)
			return prefix(r, ret, "thread %u (tid %u) ", i, t->tid);
	}
	ret = md_reader_context(r, raw->thread_context, &ctx);
	if (ret >= 0)
		ret = check_cpu(r, ctx.cpu);
	if (ret < 0)
		return prefix(r, ret, "thread %u (tid %u): ", i, t->tid);
	t->cpu = ctx.cpu;
	t->context_flags = ctx.flags;
	t->pc = ctx.pc;
	t->sp = ctx.sp;
	t->fp = ctx.fp;
	return 0;
}

static const struct list_kind thread_list =
    LIST_KIND(MD_STREAM_THREAD_LIST, md_thread, MD_READER_THREADS_MAX, true,
              struct md_reader_thread, thread_item, NULL);

/* ---- ThreadNames ---- */

static int cmp_name_key(const void *a, const void *b)
{
	const struct name_key *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int name_item(struct md_reader *r, void *item, uint32_t i, const void *entry)
{
	struct md_reader_thread_name *n = item;
	const md_thread_name *raw = entry;
	int ret;

	n->tid = raw->thread_id;
	ret = read_string(r, raw->thread_name_rva, true, true, &n->name);
	if (ret < 0)
		return prefix(r, ret, "thread name %u (tid %u): ", i, raw->thread_id);
	return 0;
}

/* Keeps the names' sort keys, for md_reader_thread_name(). */
static int names_done(struct md_reader *r, void *view)
{
	const struct md_reader_thread_names *names = view;
	struct name_key *keys;
	int ret;

	ret = rd_alloc(r, names->count * sizeof(*keys) + 1, (void **)&keys);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < names->count; i++) {
		keys[i].tid = names->names[i].tid;
		keys[i].index = (uint32_t)i;
	}
	qsort(keys, names->count, sizeof(*keys), cmp_name_key);
	r->name_keys = keys;
	return 0;
}

static const struct list_kind thread_names =
    LIST_KIND(MD_STREAM_THREAD_NAMES, md_thread_name, MD_READER_THREAD_NAMES_MAX, false,
              struct md_reader_thread_name, name_item, names_done);

const char *md_reader_thread_name(struct md_reader *r, uint32_t tid)
{
	const struct md_reader_thread_names *names;
	size_t lo = 0, hi;

	if (md_reader_thread_names(r, &names) < 0)
		return NULL;
	/* The first key with this tid: the name listed first in the file. */
	hi = names->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->name_keys[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < names->count && r->name_keys[lo].tid == tid)
		return names->names[r->name_keys[lo].index].name;
	return NULL;
}

/* ---- ModuleList ---- */

static int parse_cv_record(struct md_reader *r, struct md_reader_module *m)
{
	const uint8_t *bytes;
	void *tofree = NULL;
	uint32_t size = m->cv_record.data_size, sig;
	int ret;

	if (size == 0) {
		m->cv = MD_READER_CV_NONE;
		return 0;
	}
	if (size < sizeof(sig))
		return fail(r, -EBADMSG, "CodeView record at rva 0x%x has size 0x%x, too small",
		            m->cv_record.rva, size);
	if (size > MD_READER_STRING_MAX + CV_PDB70_MIN)
		return fail(r, -E2BIG, "CodeView record at rva 0x%x has size 0x%x, over the limit",
		            m->cv_record.rva, size);
	ret = rd_map(r, m->cv_record.rva, size, &bytes, &tofree);
	if (ret < 0)
		return prefix(r, ret, "CodeView record: ");
	memcpy(&sig, bytes, sizeof(sig));
	if (sig == MD_CVINFO_ELF_SIGNATURE) {
		size_t n = size - sizeof(sig);

		if (n > MD_BUILD_ID_MAX) {
			ret =
			    fail(r, -E2BIG,
			         "CodeView record at rva 0x%x has a %zu-byte build id, longer than "
			         "%u",
			         m->cv_record.rva, n, MD_BUILD_ID_MAX);
			goto out;
		}
		m->cv = MD_READER_CV_ELF;
		memcpy(m->build_id, bytes + sizeof(sig), n);
		m->build_id_len = n;
		md_module_code_id(m->build_id, n, m->code_id, sizeof(m->code_id));
		md_module_debug_id(m->build_id, n, 0, m->debug_id, sizeof(m->debug_id));
	} else if (sig == MD_CVINFO_PDB70_SIGNATURE) {
		size_t name_len = size - 24u;

		if (size < CV_PDB70_MIN || bytes[size - 1] != '\0') {
			ret = fail(
			    r, -EBADMSG,
			    "RSDS CodeView record at rva 0x%x size 0x%x lacks a NUL-terminated "
			    "PDB name",
			    m->cv_record.rva, size);
			goto out;
		}
		m->cv = MD_READER_CV_PDB70;
		memcpy(m->build_id, bytes + 4, 16);
		m->build_id_len = 16;
		memcpy(&m->pdb_age, bytes + 20, sizeof(m->pdb_age));
		name_len = strnlen((const char *)bytes + 24, name_len);
		ret = rd_alloc(r, 3 * name_len + 1, (void **)&m->pdb_name);
		if (ret < 0)
			goto out;
		md_text_sanitize_utf8(bytes + 24, name_len, m->pdb_name);
		snprintf(m->code_id, sizeof(m->code_id), "%08X%x", m->time_date_stamp, m->size);
		md_module_debug_id(m->build_id, 16, m->pdb_age, m->debug_id, sizeof(m->debug_id));
	} else {
		m->cv = MD_READER_CV_OTHER;
	}
	ret = 0;
out:
	free(tofree);
	return ret;
}

static int module_item(struct md_reader *r, void *item, uint32_t i, const void *entry)
{
	struct md_reader_module *m = item;
	const md_module *raw = entry;
	int ret;

	m->base = raw->base_of_image;
	m->size = raw->size_of_image;
	m->time_date_stamp = raw->time_date_stamp;
	m->cv_record = raw->cv_record;
	ret = read_string(r, raw->module_name_rva, true, true, &m->name);
	if (ret < 0)
		return prefix(r, ret, "module %u (base 0x%llx) name: ", i,
		              (unsigned long long)m->base);
	ret = parse_cv_record(r, m);
	if (ret < 0)
		return prefix(r, ret, "module %u (%s): ", i, m->name);
	return 0;
}

static const struct list_kind module_list =
    LIST_KIND(MD_STREAM_MODULE_LIST, md_module, MD_READER_MODULES_MAX, true,
              struct md_reader_module, module_item, NULL);

/* ---- MemoryList ---- */

static int range_item(struct md_reader *r, void *item, uint32_t i, const void *entry)
{
	struct md_reader_memory_range *m = item;
	const md_memory_descriptor *raw = entry;
	int ret;

	*m = (struct md_reader_memory_range){.start = raw->start_of_memory_range,
	                                     .size = raw->memory.data_size,
	                                     .rva = raw->memory.rva};
	if (raw->memory.data_size > 0) {
		ret = check_range(r, raw->memory.rva, raw->memory.data_size, "bytes");
		if (ret < 0)
			return prefix(r, ret, "memory range %u (0x%llx) ", i,
			              (unsigned long long)raw->start_of_memory_range);
	}
	return 0;
}

static const struct list_kind memory_list =
    LIST_KIND(MD_STREAM_MEMORY_LIST, md_memory_descriptor, MD_READER_RANGES_MAX, true,
              struct md_reader_memory_range, range_item, NULL);

int md_reader_read_memory(struct md_reader *r, uint64_t addr, void *buf, size_t size)
{
	const struct md_reader_memory_list *list;
	int ret;

	ret = md_reader_memory_list(r, &list);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < list->count; i++) {
		const struct md_reader_memory_range *m = &list->ranges[i];

		if (addr >= m->start && size <= m->size && addr - m->start <= m->size - size)
			return md_reader_read(r, (uint64_t)m->rva + (addr - m->start), buf, size);
	}
	return fail(r, -ENOENT, "no memory range holds 0x%zx bytes at 0x%llx", size,
	            (unsigned long long)addr);
}

/* ---- MemoryInfoList ---- */

static int parse_memory_info(struct md_reader *r, const void **ret_list)
{
	struct rd_block *mark = r->blocks;
	struct md_reader_memory_info_list *list;
	md_memory_info_list hdr;
	md_location loc;
	int ret;

	ret = md_reader_find_stream(r, MD_STREAM_MEMORY_INFO_LIST, &loc);
	if (ret < 0)
		return ret;
	if (loc.data_size < sizeof(hdr))
		return fail(r, -EBADMSG,
		            "MemoryInfoList stream at rva 0x%x size 0x%x is smaller "
		            "than its 0x%zx-byte header",
		            loc.rva, loc.data_size, sizeof(hdr));
	ret = md_reader_read(r, loc.rva, &hdr, sizeof(hdr));
	if (ret < 0)
		return ret;
	if (hdr.size_of_header != sizeof(hdr) || hdr.size_of_entry != sizeof(md_memory_info))
		return fail(
		    r, -EBADMSG,
		    "MemoryInfoList stream at rva 0x%x has header size %u and entry size %u "
		    "(expected %zu and %zu)",
		    loc.rva, hdr.size_of_header, hdr.size_of_entry, sizeof(hdr),
		    sizeof(md_memory_info));
	/* Divide rather than multiply: number_of_entries is a u64 from the file. */
	if ((loc.data_size - sizeof(hdr)) % sizeof(md_memory_info) != 0 ||
	    hdr.number_of_entries != (loc.data_size - sizeof(hdr)) / sizeof(md_memory_info))
		return fail(r, -EBADMSG,
		            "MemoryInfoList stream at rva 0x%x has size 0x%x, which does not match "
		            "its %llu entries",
		            loc.rva, loc.data_size, (unsigned long long)hdr.number_of_entries);
	if (hdr.number_of_entries > MD_READER_MEMORY_INFO_MAX)
		return fail(r, -E2BIG,
		            "MemoryInfoList stream has %llu entries, over the limit of %u",
		            (unsigned long long)hdr.number_of_entries, MD_READER_MEMORY_INFO_MAX);
	ret = rd_alloc(r, sizeof(*list) + (size_t)hdr.number_of_entries * sizeof(md_memory_info),
	               (void **)&list);
	if (ret < 0)
		return ret;
	list->count = (size_t)hdr.number_of_entries;
	list->entries = (md_memory_info *)(list + 1);
	ret = md_reader_read(r, (uint64_t)loc.rva + sizeof(hdr), list->entries,
	                     list->count * sizeof(md_memory_info));
	if (ret < 0) {
		rd_release(r, mark);
		return ret;
	}
	*ret_list = list;
	return 0;
}

/* ---- Exception ---- */

static int parse_exception(struct md_reader *r, const void **ret_exception)
{
	struct md_reader_exception *e;
	struct md_reader_context ctx;
	md_exception_stream raw;
	int ret;

	ret = read_fixed(r, MD_STREAM_EXCEPTION, &raw, sizeof(raw));
	if (ret < 0)
		return ret;
	if (raw.exception_record.number_parameters > MD_EXCEPTION_MAXIMUM_PARAMETERS)
		return fail(r, -EBADMSG, "Exception stream has %u parameters, more than %d",
		            raw.exception_record.number_parameters,
		            MD_EXCEPTION_MAXIMUM_PARAMETERS);
	ret = md_reader_context(r, raw.thread_context, &ctx);
	if (ret >= 0)
		ret = check_cpu(r, ctx.cpu);
	if (ret < 0)
		return prefix(r, ret, "Exception stream (thread %u): ", raw.thread_id);
	ret = rd_alloc(r, sizeof(*e), (void **)&e);
	if (ret < 0)
		return ret;
	e->thread_id = raw.thread_id;
	e->code = raw.exception_record.exception_code;
	e->flags = raw.exception_record.exception_flags;
	e->address = raw.exception_record.exception_address;
	e->n_parameters = raw.exception_record.number_parameters;
	memcpy(e->parameters, raw.exception_record.exception_information, sizeof(e->parameters));
	e->context = raw.thread_context;
	*ret_exception = e;
	return 0;
}

/* ---- MiscInfo ---- */

static int parse_misc_info(struct md_reader *r, const void **ret_info)
{
	static const uint32_t sizes[] = {24, 44, 232, 832, MISC_INFO_V5_SIZE};
	struct md_reader_misc_info *info;
	md_misc_info raw;
	md_location loc;
	bool known = false;
	int ret;

	ret = md_reader_find_stream(r, MD_STREAM_MISC_INFO, &loc);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		known = known || loc.data_size == sizes[i];
	if (!known && loc.data_size <= MISC_INFO_V5_SIZE)
		return fail(
		    r, -EBADMSG,
		    "MiscInfo stream at rva 0x%x has size 0x%x, not a MiscInfo version size",
		    loc.rva, loc.data_size);
	ret = md_reader_read(r, loc.rva, &raw, sizeof(raw));
	if (ret < 0)
		return ret;
	if (raw.size_of_info != loc.data_size)
		return fail(
		    r, -EBADMSG,
		    "MiscInfo stream at rva 0x%x: size_of_info 0x%x differs from its size 0x%x",
		    loc.rva, raw.size_of_info, loc.data_size);
	ret = rd_alloc(r, sizeof(*info), (void **)&info);
	if (ret < 0)
		return ret;
	info->size_of_info = raw.size_of_info;
	info->flags1 = raw.flags1;
	info->has_pid = raw.flags1 & MD_MISCINFO_FLAGS1_PROCESS_ID;
	info->pid = info->has_pid ? raw.process_id : 0;
	info->has_times = raw.flags1 & MD_MISCINFO_FLAGS1_PROCESS_TIMES;
	if (info->has_times) {
		info->create_time = raw.process_create_time;
		info->user_time = raw.process_user_time;
		info->kernel_time = raw.process_kernel_time;
	}
	*ret_info = info;
	return 0;
}

/* ---- BreakpadInfo ---- */

static int parse_breakpad_info(struct md_reader *r, const void **ret_info)
{
	md_breakpad_info raw, *info;
	int ret;

	ret = read_fixed(r, MD_STREAM_BREAKPAD_INFO, &raw, sizeof(raw));
	if (ret >= 0)
		ret = rd_alloc(r, sizeof(*info), (void **)&info);
	if (ret < 0)
		return ret;
	*info = raw;
	*ret_info = info;
	return 0;
}

/* ---- CrashpadInfo ---- */

static int parse_crashpad_info(struct md_reader *r, const void **ret_info)
{
	struct rd_block *mark = r->blocks;
	struct md_reader_crashpad_info *info;
	const uint8_t *bytes = NULL;
	void *tofree = NULL;
	md_crashpad_info raw;
	md_location loc, dict;
	uint32_t count = 0;
	int ret;

	ret = md_reader_find_stream(r, MD_STREAM_CRASHPAD_INFO, &loc);
	if (ret < 0)
		return ret;
	if (loc.data_size < CRASHPAD_INFO_MIN)
		return fail(r, -EBADMSG,
		            "CrashpadInfo stream at rva 0x%x has size 0x%x, less than 0x%x",
		            loc.rva, loc.data_size, CRASHPAD_INFO_MIN);
	memset(&raw, 0, sizeof(raw));
	ret = md_reader_read(r, loc.rva, &raw,
	                     loc.data_size < sizeof(raw) ? loc.data_size : sizeof(raw));
	if (ret < 0)
		return ret;
	dict = raw.simple_annotations;
	if (dict.data_size > 0) {
		uint64_t expect;

		if (dict.data_size < sizeof(count))
			return fail(
			    r, -EBADMSG,
			    "CrashpadInfo annotations at rva 0x%x size 0x%x are too small for "
			    "a count",
			    dict.rva, dict.data_size);
		ret = check_range(r, dict.rva, dict.data_size, "CrashpadInfo annotations");
		if (ret < 0)
			return ret;
		ret = read_u32(r, dict.rva, &count);
		if (ret < 0)
			return ret;
		expect =
		    sizeof(count) + (uint64_t)count * sizeof(md_simple_string_dictionary_entry);
		if (dict.data_size != expect)
			return fail(
			    r, -EBADMSG,
			    "CrashpadInfo annotations at rva 0x%x have size 0x%x, which does "
			    "not match their count %u (expected 0x%llx)",
			    dict.rva, dict.data_size, count, (unsigned long long)expect);
		if (count > MD_READER_ANNOTATIONS_MAX)
			return fail(r, -E2BIG,
			            "CrashpadInfo has %u annotations, over the limit of %u", count,
			            MD_READER_ANNOTATIONS_MAX);
		ret = rd_map(r, (uint64_t)dict.rva + sizeof(count), dict.data_size - sizeof(count),
		             &bytes, &tofree);
		if (ret < 0)
			return ret;
	}
	ret = rd_alloc(r, sizeof(*info) + (size_t)count * sizeof(info->annotations[0]),
	               (void **)&info);
	if (ret < 0)
		goto out;
	info->version = raw.version;
	info->report_id = raw.report_id;
	info->client_id = raw.client_id;
	info->n_annotations = count;
	info->annotations = (struct md_reader_annotation *)(info + 1);
	for (uint32_t i = 0; i < count; i++) {
		md_simple_string_dictionary_entry e;

		memcpy(&e, bytes + (size_t)i * sizeof(e), sizeof(e));
		ret = read_string(r, e.key, false, true, &info->annotations[i].key);
		if (ret < 0) {
			prefix(r, ret, "CrashpadInfo annotation %u key: ", i);
			goto out;
		}
		ret = read_string(r, e.value, false, true, &info->annotations[i].value);
		if (ret < 0) {
			prefix(r, ret, "CrashpadInfo annotation %u (%s) value: ", i,
			       info->annotations[i].key);
			goto out;
		}
	}
	*ret_info = info;
	ret = 0;
out:
	free(tofree);
	if (ret < 0)
		rd_release(r, mark);
	return ret;
}

/* ---- Cached entry points ---- */

typedef int (*view_parse_fn)(struct md_reader *r, const void **ret_view);

/* Each view is parsed once, on first use; its result or its failure is kept. A view is a list
 * (parse_list) or has a parser of its own. */
static const struct {
	view_parse_fn parse;
	const struct list_kind *list;
} view_sources[V_COUNT] = {
    [V_SYSTEM_INFO] = {parse_system_info, NULL},
    [V_THREADS] = {NULL, &thread_list},
    [V_THREAD_NAMES] = {NULL, &thread_names},
    [V_MODULES] = {NULL, &module_list},
    [V_MEMORY_LIST] = {NULL, &memory_list},
    [V_MEMORY_INFO] = {parse_memory_info, NULL},
    [V_EXCEPTION] = {parse_exception, NULL},
    [V_MISC_INFO] = {parse_misc_info, NULL},
    [V_BREAKPAD_INFO] = {parse_breakpad_info, NULL},
    [V_CRASHPAD_INFO] = {parse_crashpad_info, NULL},
};

static int view_get(struct md_reader *r, enum view_id id, const void **ret_view)
{
	const void *view = NULL;
	int ret;

	if (r->views[id]) {
		*ret_view = r->views[id];
		return 0;
	}
	if (r->failed[id].ret < 0)
		return replay(r, id);
	if (view_sources[id].list)
		ret = parse_list(r, view_sources[id].list, &view);
	else
		ret = view_sources[id].parse(r, &view);
	if (ret < 0)
		return remember(r, id, ret);
	r->views[id] = view;
	*ret_view = view;
	return 0;
}

/* The public accessors, typed: one line each over view_get(). */
#define VIEW_ACCESSOR(name, id, type)                                                              \
	int md_reader_##name(struct md_reader *r, const type **ret_view)                           \
	{                                                                                          \
		const void *view = NULL;                                                           \
		int ret = view_get(r, id, &view);                                                  \
                                                                                                   \
		if (ret >= 0)                                                                      \
			*ret_view = view;                                                          \
		return ret;                                                                        \
	}
VIEW_ACCESSOR(system_info, V_SYSTEM_INFO, struct md_reader_system_info)
VIEW_ACCESSOR(threads, V_THREADS, struct md_reader_thread_list)
VIEW_ACCESSOR(thread_names, V_THREAD_NAMES, struct md_reader_thread_names)
VIEW_ACCESSOR(modules, V_MODULES, struct md_reader_module_list)
VIEW_ACCESSOR(memory_list, V_MEMORY_LIST, struct md_reader_memory_list)
VIEW_ACCESSOR(memory_info, V_MEMORY_INFO, struct md_reader_memory_info_list)
VIEW_ACCESSOR(exception, V_EXCEPTION, struct md_reader_exception)
VIEW_ACCESSOR(misc_info, V_MISC_INFO, struct md_reader_misc_info)
VIEW_ACCESSOR(breakpad_info, V_BREAKPAD_INFO, md_breakpad_info)
VIEW_ACCESSOR(crashpad_info, V_CRASHPAD_INFO, struct md_reader_crashpad_info)

/* ---- Process id ---- */

int md_reader_pid(struct md_reader *r, uint32_t *ret_pid)
{
	const struct md_reader_misc_info *misc;
	char *status = NULL;
	size_t size;
	int ret;

	if (md_reader_misc_info(r, &misc) >= 0 && misc->has_pid) {
		*ret_pid = misc->pid;
		return 0;
	}
	ret = md_reader_stream_data(r, MD_STREAM_LINUX_PROC_STATUS, &status, &size);
	if (ret < 0)
		return fail(r, -ENOENT, "neither MiscInfo nor LinuxProcStatus gives a pid");
	/* the stream is /proc/<pid>/status as read at the dump */
	ret = md_text_proc_status_u32(status, "Pid", ret_pid);
	free(status);
	if (ret < 0)
		return fail(r, -ENOENT, "LinuxProcStatus has no Pid: line");
	r->error[0] = '\0';
	return 0;
}
