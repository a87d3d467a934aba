/* SPDX-License-Identifier: MIT */
/*
 * SystemInfo writer: CPU architecture (which picks the stack walker and must agree with every
 * context), CPU identification, OS and its version string.
 */
#include <string.h>

#include "md-streams.h"

int md_stream_system_info(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                          enum md_stream_status *ret_status)
{
	const struct md_system *sys = &c->s->system;
	md_system_info si;
	uint32_t rva;
	int r;

	memset(&si, 0, sizeof(si));
	si.processor_architecture = sys->processor_architecture;
	si.processor_level = sys->processor_level;
	si.processor_revision = sys->processor_revision;
	si.number_of_processors = sys->number_of_processors;
	si.major_version = sys->os_major;
	si.minor_version = sys->os_minor;
	si.build_number = sys->os_build;
	si.platform_id = sys->platform_id;
	if (sys->processor_architecture == MD_CPU_ARCHITECTURE_AMD64 ||
	    sys->processor_architecture == MD_CPU_ARCHITECTURE_X86) {
		memcpy(si.cpu.x86_cpu_info.vendor_id, sys->cpu_vendor, 12);
		si.cpu.x86_cpu_info.version_information = sys->cpu_version_information;
		si.cpu.x86_cpu_info.feature_information = sys->cpu_feature_information;
	} else {
		si.cpu.arm_cpu_info.cpuid = sys->arm_cpuid;
	}
	/* the string goes first so the struct can be written whole */
	r = md_writer_string(c->w, sys->os_version, &rva);
	if (r < 0)
		return r;
	si.csd_version_rva = rva;
	return md_stream_put_whole(c, &si, sizeof(si), ret_loc, ret_status);
}
