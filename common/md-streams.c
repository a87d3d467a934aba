/* SPDX-License-Identifier: MIT */
/*
 * The one table of stream writers. The directory has exactly one slot per entry, in this
 * order; its size comes from the table, never from a hand-kept count. ThreadList comes first
 * because MemoryList and Exception point at what it wrote; Diagnostics comes last because it
 * reports on all the others. Also the ending the one-struct writers share.
 */
#include "md-streams.h"

const struct md_stream_writer md_stream_table[] = {
    {MD_STREAM_THREAD_LIST, true, md_stream_thread_list, 0},
    {MD_STREAM_MODULE_LIST, false, md_stream_module_list, 0},
    {MD_STREAM_MEMORY_LIST, false, md_stream_memory_list, 0},
    {MD_STREAM_EXCEPTION, false, md_stream_exception, 0},
    {MD_STREAM_SYSTEM_INFO, true, md_stream_system_info, 0},
    {MD_STREAM_MISC_INFO, false, md_stream_misc_info, 0},
    {MD_STREAM_BREAKPAD_INFO, false, md_stream_breakpad_info, 0},
    {MD_STREAM_THREAD_NAMES, false, md_stream_thread_names, 0},
    {MD_STREAM_MEMORY_INFO_LIST, false, md_stream_memory_info_list, 0},
    {MD_STREAM_LINUX_CPU_INFO, false, md_stream_blob, MD_BLOB_CPUINFO},
    {MD_STREAM_LINUX_PROC_STATUS, false, md_stream_blob, MD_BLOB_PROC_STATUS},
    {MD_STREAM_LINUX_LSB_RELEASE, false, md_stream_blob, MD_BLOB_LSB_RELEASE},
    {MD_STREAM_LINUX_CMD_LINE, false, md_stream_blob, MD_BLOB_CMDLINE},
    {MD_STREAM_LINUX_ENVIRON, false, md_stream_blob, MD_BLOB_ENVIRON},
    {MD_STREAM_LINUX_AUXV, false, md_stream_blob, MD_BLOB_AUXV},
    {MD_STREAM_LINUX_MAPS, false, md_stream_blob, MD_BLOB_MAPS},
    {MD_STREAM_LINUX_DSO_DEBUG, false, md_stream_dso_debug, 0},
    {MD_STREAM_CRASHPAD_INFO, false, md_stream_crashpad_info, 0},
    {MD_STREAM_MINIDUMPD_DIAGNOSTICS, false, md_stream_diagnostics, 0},
};

const size_t md_stream_table_size = sizeof(md_stream_table) / sizeof(md_stream_table[0]);

_Static_assert(sizeof(md_stream_table) / sizeof(md_stream_table[0]) <= MD_STREAMS_MAX,
               "raise MD_STREAMS_MAX");

int md_stream_put_whole(struct md_dump_ctx *c, const void *data, size_t size, md_location *ret_loc,
                        enum md_stream_status *ret_status)
{
	uint32_t rva;
	int r = md_writer_append(c->w, data, size, &rva);

	if (r < 0)
		return r;
	*ret_loc = (md_location){.data_size = (uint32_t)size, .rva = rva};
	*ret_status = MD_STREAM_OK;
	return 0;
}
