/* SPDX-License-Identifier: MIT */
/*
 * Writers for the raw Linux streams (LinuxCpuInfo, LinuxProcStatus, LinuxLsbRelease,
 * LinuxCmdLine, LinuxEnviron, LinuxAuxv, LinuxMaps): the backend's bytes copied unchanged as
 * they stream in, with no terminator added. A source that is missing or empty leaves the
 * stream out, as Breakpad does. Memory use is one chunk, whatever the file's size.
 */
#include <errno.h>

#include "md-streams.h"

#define BLOB_MAX (64u * 1024u * 1024u) /* bytes kept of one raw file (maps of huge processes) */

struct blob_sink {
	struct md_writer *w;
	uint64_t size;
	bool truncated;
};

static int sink(void *ctx, const void *data, size_t len)
{
	struct blob_sink *b = ctx;

	if (b->size + len > BLOB_MAX) {
		len = (size_t)(BLOB_MAX - b->size);
		b->truncated = true;
	}
	b->size += len;
	return len ? md_writer_put(b->w, data, len) : (b->truncated ? -EFBIG : 0);
}

int md_stream_blob(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                   enum md_stream_status *ret_status)
{
	struct blob_sink b = {.w = c->w};
	uint32_t rva;
	int r;

	r = md_writer_begin(c->w, &rva);
	if (r < 0)
		return r;
	r = c->s->ops->read_blob(c->s, (enum md_blob)arg, sink, &b);
	if (r == -EFBIG && b.truncated) {
		md_diag_add(&c->s->diag, MD_DIAG_STREAM, arg, r, "raw stream cut at %u bytes",
		            BLOB_MAX);
		r = 0;
	}
	if (r == -ENOENT || r == -EOPNOTSUPP || (r >= 0 && b.size == 0)) {
		/* nothing to write; the bytes appended so far (none) are simply unreferenced */
		*ret_status = MD_STREAM_SKIPPED;
		return b.size == 0 ? 0 : -EIO;
	}
	if (r < 0)
		return r;
	*ret_loc = (md_location){.data_size = (uint32_t)b.size, .rva = rva};
	*ret_status = b.truncated ? MD_STREAM_PARTIAL : MD_STREAM_OK;
	return 0;
}
