/* SPDX-License-Identifier: MIT */
/*
 * Streaming zstd compression and decompression of dump files (see md-zstd.h). Never holds
 * more than zstd's recommended buffer sizes in memory.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md-os.h"
#include "md-zstd.h"

#define ZSTD_MAGIC 0xFD2FB528u /* a zstd frame starts with these bytes, little-endian */

bool md_zstd_is_compressed(const void *head, size_t len)
{
	uint32_t m;

	if (len < 4)
		return false;
	memcpy(&m, head, 4);
	return m == ZSTD_MAGIC;
}

#if HAVE_ZSTD
#include <zstd.h>

bool md_zstd_available(void)
{
	return true;
}

int md_zstd_compress_fd(int in_fd, int out_fd, uint64_t *ret_out_bytes)
{
	size_t in_size = ZSTD_CStreamInSize(), out_size = ZSTD_CStreamOutSize();
	uint8_t *in = malloc(in_size), *out = malloc(out_size);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	uint64_t total = 0, off = 0;
	int r = 0;

	if (!in || !out || !cctx) {
		r = -ENOMEM;
		goto out;
	}
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, MD_ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	for (;;) {
		int64_t n = md_os_pread(in_fd, in, in_size, off);
		ZSTD_EndDirective mode;
		ZSTD_inBuffer ib;
		bool done = false;

		if (n < 0) {
			r = (int)n;
			goto out;
		}
		off += (uint64_t)n;
		mode = n == 0 ? ZSTD_e_end : ZSTD_e_continue;
		ib = (ZSTD_inBuffer){in, (size_t)n, 0};
		while (!done) {
			ZSTD_outBuffer ob = {out, out_size, 0};
			size_t left = ZSTD_compressStream2(cctx, &ob, &ib, mode);

			if (ZSTD_isError(left)) {
				r = -EIO;
				goto out;
			}
			r = md_os_write_full(out_fd, out, ob.pos);
			if (r < 0)
				goto out;
			total += ob.pos;
			done = mode == ZSTD_e_end ? left == 0 : ib.pos == ib.size;
		}
		if (n == 0)
			break;
	}
	if (ret_out_bytes)
		*ret_out_bytes = total;
out:
	ZSTD_freeCCtx(cctx);
	free(out);
	free(in);
	return r;
}

int md_zstd_decompress_fd(int in_fd, int out_fd, uint64_t max_out)
{
	uint64_t written = 0;
	size_t in_size = ZSTD_DStreamInSize(), out_size = ZSTD_DStreamOutSize();
	uint8_t *in = malloc(in_size), *out = malloc(out_size);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	size_t last = 1;
	int r = 0;

	if (!in || !out || !dctx) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		int64_t n = md_os_read_full(in_fd, in, in_size);
		ZSTD_inBuffer ib;

		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		ib = (ZSTD_inBuffer){in, (size_t)n, 0};
		while (ib.pos < ib.size) {
			ZSTD_outBuffer ob = {out, out_size, 0};

			last = ZSTD_decompressStream(dctx, &ob, &ib);
			if (ZSTD_isError(last)) {
				r = -EBADMSG;
				goto out;
			}
			written += ob.pos;
			if (max_out && written > max_out) {
				r = -EFBIG; /* a decompression bomb, or a dump past our limits */
				goto out;
			}
			r = md_os_write_full(out_fd, out, ob.pos);
			if (r < 0)
				goto out;
		}
	}
	if (last != 0)
		r = -EBADMSG; /* the input ended inside a frame */
out:
	ZSTD_freeDCtx(dctx);
	free(out);
	free(in);
	return r;
}
#else
bool md_zstd_available(void)
{
	return false;
}

int md_zstd_compress_fd(int in_fd, int out_fd, uint64_t *ret_out_bytes)
{
	return -EOPNOTSUPP;
}

int md_zstd_decompress_fd(int in_fd, int out_fd, uint64_t max_out)
{
	return -EOPNOTSUPP;
}
#endif
