/* SPDX-License-Identifier: MIT */
/*
 * ModuleList writer: one 108-byte entry per module with its name and CodeView record, so
 * Breakpad's symbol files (keyed by debug id) and LLDB's UUID lookup match. The first module
 * is the main executable: the backend orders them.
 */
#include <errno.h>
#include <string.h>

#include "md-streams.h"

#define CV_RECORD_MAX (4 + MD_BUILD_ID_MAX + 4096) /* signature, id, and a PDB path */

/* Appends the CodeView record for m; a zero location when there is no identifier. */
static int write_cv_record(struct md_writer *w, const struct md_module_info *m, md_location *ret)
{
	uint8_t rec[CV_RECORD_MAX];
	size_t n = 0;
	uint32_t sig, rva;
	int r;

	switch (m->id_kind) {
	case MD_MODULE_ID_BUILD_ID:
	case MD_MODULE_ID_TEXT_HASH:
		if (m->id_len == 0 || m->id_len > MD_BUILD_ID_MAX)
			return -EINVAL;
		sig = MD_CVINFO_ELF_SIGNATURE;
		memcpy(rec, &sig, 4);
		memcpy(rec + 4, m->id, m->id_len);
		n = 4 + m->id_len;
		break;
	case MD_MODULE_ID_PDB70: {
		size_t name_len = strlen(m->pdb_name ? m->pdb_name : "");

		if (m->id_len != 20 || name_len + 1 > sizeof(rec) - 24)
			return -EINVAL;
		sig = MD_CVINFO_PDB70_SIGNATURE;
		memcpy(rec, &sig, 4);
		memcpy(rec + 4, m->id, 20); /* GUID then age */
		memcpy(rec + 24, m->pdb_name ? m->pdb_name : "", name_len + 1);
		n = 24 + name_len + 1;
		break;
	}
	case MD_MODULE_ID_NONE:
	default:
		*ret = (md_location){0, 0};
		return 0;
	}
	r = md_writer_append(w, rec, n, &rva);
	if (r < 0)
		return r;
	*ret = (md_location){.data_size = (uint32_t)n, .rva = rva};
	return 0;
}

int md_stream_module_list(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                          enum md_stream_status *ret_status)
{
	struct md_snapshot *s = c->s;
	uint32_t count = (uint32_t)s->n_modules, list_rva, list_size;
	bool partial = false;
	int r;

	if (s->n_modules > (MD_RVA_MAX - 4) / sizeof(md_module))
		return -EFBIG;
	list_size = 4 + count * (uint32_t)sizeof(md_module);
	r = md_writer_reserve(c->w, list_size, &list_rva);
	if (r < 0)
		return r;
	r = md_writer_write_at(c->w, list_rva, &count, sizeof(count));
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < count; i++) {
		const struct md_module_info *m = &s->modules[i];
		md_module e;

		memset(&e, 0, sizeof(e));
		e.base_of_image = m->base;
		/* size_of_image is 32 bits; a larger module is clipped and reported */
		e.size_of_image = m->size > UINT32_MAX ? UINT32_MAX : (uint32_t)m->size;
		if (m->has_version)
			e.version_info = m->version;
		uint32_t name_rva;
		md_location cv;

		r = md_writer_string(c->w, m->path, &name_rva);
		if (r < 0)
			return r;
		r = write_cv_record(c->w, m, &cv);
		if (r < 0)
			return r;
		e.module_name_rva = name_rva;
		e.cv_record = cv;
		if (m->id_kind == MD_MODULE_ID_NONE)
			partial = true; /* the backend said why in the diagnostics */
		r = md_writer_write_at(c->w, list_rva + 4 + i * (uint32_t)sizeof(e), &e, sizeof(e));
		if (r < 0)
			return r;
	}
	c->result->modules = count;
	*ret_loc = (md_location){.data_size = list_size, .rva = list_rva};
	*ret_status = partial ? MD_STREAM_PARTIAL : MD_STREAM_OK;
	return 0;
}
