/* SPDX-License-Identifier: MIT */
/*
 * Where minidumpd has no privilege split yet (Windows): captures run in the daemon's own
 * process, as before (md-capture.c), and these say so.
 */
#include <errno.h>
#include <stdio.h>

#include "md-peer.h"
#include "md-privsep.h"

int mdd_privsep_start(const struct mdd_config *cfg, const char *dump_dir, char *err, size_t size)
{
	(void)cfg;
	(void)dump_dir;
	(void)err;
	(void)size;
	return 0;
}

bool mdd_privsep_active(void)
{
	return false;
}

int mdd_privsep_socket(void)
{
	return -1;
}

int mdd_privsep_worker_pid(void)
{
	return -1;
}

void mdd_privsep_worker_gone(char *how, size_t size)
{
	snprintf(how, size, "is not there");
}

void mdd_privsep_stop(void)
{
}

int mdd_privsep_check_folder(const char *folder)
{
	(void)folder;
	return 0;
}

int mdd_privsep_call(struct mdd_privsep_request *q, int pidfd, int stream,
                     struct mdd_privsep_result *ret, char *why, size_t size)
{
	(void)q;
	(void)pidfd;
	(void)stream;
	(void)ret;
	snprintf(why, size, "no capture worker on this OS");
	return -ENOSYS;
}

int mdd_privsep_process_exe(uint32_t pid, int pidfd, char *buf, size_t size, uint64_t *ret_id)
{
	(void)pidfd;
	return md_platform_process_exe(pid, buf, size, ret_id);
}
