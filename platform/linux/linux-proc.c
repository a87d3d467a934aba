/* SPDX-License-Identifier: MIT */
/*
 * What the Linux backend learns from procfs and uname without touching the target's memory:
 * process info (/proc/<pid>/stat, status, exe, auxv), system info (uname, /proc/cpuinfo through
 * the arch file), thread names, and the raw files streamed byte for byte as blobs. procfs
 * files report size 0, so everything here reads until EOF, with a named limit where the result
 * is kept in memory. Nothing here stops or resumes threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "linux-arch.h"
#include "linux-internal.h"
#include "md-os.h"

#define MD_LINUX_STAT_MAX   4096        /* /proc/<pid>/stat is one line of < 1 KiB */
#define MD_LINUX_STATUS_MAX (64 * 1024) /* /proc/<pid>/status and /proc/stat prefix, bytes */
#define MD_LINUX_AUXV_MAX   4096        /* /proc/<pid>/auxv, bytes (a few hundred in practice) */
#define MD_LINUX_BLOB_CHUNK 4096        /* bytes handed to a blob sink per call */
#define MD_LINUX_STAT_UTIME 11          /* utime's index among the fields after "comm)" */
#define MD_LINUX_STAT_STIME 12
#define MD_LINUX_STAT_START 19 /* starttime, clock ticks after boot */

/* Finds "key:" at the start of a line of a status-style file and returns what follows. */
const char *md_linux_status_field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return p + klen + 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

int md_linux_read_stat(pid_t pid, pid_t tid, char **ret_text, char **ret_fields)
{
	char path[MD_LINUX_PATH_MAX], *text, *p;
	size_t len;
	int r;

	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = md_linux_read_text_file(path, MD_LINUX_STAT_MAX, &text, &len);
	if (r < 0)
		return r;
	/* comm may contain spaces and ')'; the fields start after the last ')'. */
	p = strrchr(text, ')');
	if (!p || p[1] != ' ') {
		free(text);
		return -EINVAL;
	}
	*ret_text = text;
	*ret_fields = p + 2;
	return 0;
}

static int read_stat_times(pid_t pid, struct md_process_info *ret, struct md_diag *diag)
{
	unsigned long long utime = 0, stime = 0, start = 0, btime = 0;
	char *text = NULL, *save = NULL, *tok, *p;
	const char *f;
	long hz = sysconf(_SC_CLK_TCK);
	size_t len;
	unsigned i;
	int r;

	r = md_linux_read_stat(pid, 0, &text, &p);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	for (i = 0, tok = strtok_r(p, " ", &save); tok; i++, tok = strtok_r(NULL, " ", &save)) {
		if (i == MD_LINUX_STAT_UTIME)
			utime = strtoull(tok, NULL, 10);
		else if (i == MD_LINUX_STAT_STIME)
			stime = strtoull(tok, NULL, 10);
		else if (i == MD_LINUX_STAT_START)
			start = strtoull(tok, NULL, 10);
	}
	free(text);
	if (hz <= 0)
		return -EINVAL;
	ret->user_time = (uint32_t)(utime / (unsigned long long)hz);
	ret->kernel_time = (uint32_t)(stime / (unsigned long long)hz);

	/* Boot time, Unix seconds, from the "btime" line of /proc/stat. */
	r = md_linux_read_text_file("/proc/stat", MD_LINUX_STATUS_MAX, &text, &len);
	if (r < 0) {
		md_diag_add(diag, MD_DIAG_PROCESS, (uint64_t)pid, r, "cannot read /proc/stat");
		return 0;
	}
	f = strstr(text, "\nbtime ");
	if (f)
		btime = strtoull(f + 7, NULL, 10);
	free(text);
	if (btime)
		ret->start_time = (int64_t)(btime + start / (unsigned long long)hz);
	return 0;
}

static void read_auxv(pid_t pid, struct md_process_info *ret, struct md_diag *diag)
{
	char path[MD_LINUX_PATH_MAX], *text = NULL;
	uint64_t pair[2];
	size_t len, off;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	r = md_linux_read_text_file(path, MD_LINUX_AUXV_MAX, &text, &len);
	if (r < 0) {
		md_diag_add(diag, MD_DIAG_PROCESS, (uint64_t)pid, r, "cannot read auxv");
		return;
	}
	/* Native-word (type, value) pairs of a 64-bit process, ended by AT_NULL. */
	for (off = 0; off + sizeof(pair) <= len; off += sizeof(pair)) {
		uint64_t *keep;

		memcpy(pair, text + off, sizeof(pair));
		if (pair[0] == AT_NULL)
			break;
		keep = pair[0] == AT_ENTRY   ? &ret->at_entry
		       : pair[0] == AT_PHDR  ? &ret->at_phdr
		       : pair[0] == AT_PHNUM ? &ret->at_phnum
		       : pair[0] == AT_BASE  ? &ret->at_base
		                             : NULL;
		if (keep)
			*keep = pair[1];
	}
	free(text);
}

int md_linux_read_process_info(pid_t pid, struct md_process_info *ret, struct md_diag *diag)
{
	char path[MD_LINUX_PATH_MAX], *text = NULL;
	const char *uid;
	ssize_t n;
	size_t len;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->pid = (uint32_t)pid;
	r = read_stat_times(pid, ret, diag);
	if (r < 0)
		return r;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = md_linux_read_text_file(path, MD_LINUX_STATUS_MAX, &text, &len);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	uid = md_linux_status_field(text, "Uid");
	if (uid)
		ret->uid = (uint32_t)strtoul(uid, NULL, 10); /* the real uid comes first */
	free(text);

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, ret->exe, sizeof(ret->exe) - 1);
	if (n < 0 || (size_t)n >= sizeof(ret->exe) - 1) {
		md_diag_add(diag, MD_DIAG_PROCESS, (uint64_t)pid, n < 0 ? -errno : -ENAMETOOLONG,
		            "cannot read the executable's path");
		n = 0;
	}
	ret->exe[n] = '\0';

	read_auxv(pid, ret, diag);
	return 0;
}

int md_linux_cpuinfo_foreach(int (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int r = 0;

	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) >= 0) {
		char *colon = strchr(line, ':'), *key_end, *value;
		size_t vlen;

		if (!colon)
			continue;
		key_end = colon;
		while (key_end > line && (key_end[-1] == ' ' || key_end[-1] == '\t'))
			key_end--;
		*key_end = '\0';
		value = colon + 1;
		while (*value == ' ' || *value == '\t')
			value++;
		vlen = strlen(value);
		while (vlen && (value[vlen - 1] == '\n' || value[vlen - 1] == ' '))
			value[--vlen] = '\0';
		r = fn(ctx, line, value);
		if (r < 0)
			break;
	}
	free(line);
	fclose(f);
	return r;
}

int md_linux_read_system_info(struct md_system *ret, struct md_diag *diag)
{
	struct utsname u;
	char *p;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->processor_architecture = md_linux_arch_processor_architecture();
	ret->platform_id = MD_OS_LINUX;
	r = md_linux_arch_cpu_info(ret);
	if (r < 0)
		md_diag_add(diag, MD_DIAG_PROCESS, 0, r, "cannot read /proc/cpuinfo");
	if (uname(&u) < 0)
		return -errno;
	snprintf(ret->os_version, sizeof(ret->os_version), "%s %s %s %s", u.sysname, u.release,
	         u.version, u.machine);
	/* "6.1.0-18-amd64" gives 6, 1, 0. */
	ret->os_major = (uint32_t)strtoul(u.release, &p, 10);
	if (*p == '.')
		ret->os_minor = (uint32_t)strtoul(p + 1, &p, 10);
	if (*p == '.')
		ret->os_build = (uint32_t)strtoul(p + 1, &p, 10);
	return 0;
}

int md_linux_read_thread_name(int task_dir_fd, pid_t tid, char *buf, size_t size)
{
	char path[MD_LINUX_PATH_MAX];
	int64_t n;
	int fd;

	buf[0] = '\0';
	/* Relative to /proc/<pid>/task: procfs path walks are costly with hundreds of threads. */
	snprintf(path, sizeof(path), "%d/comm", (int)tid);
	fd = openat(task_dir_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = md_os_read_full(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

static int stream_file(const char *path, md_sink_fn sink, void *ctx)
{
	char buf[MD_LINUX_BLOB_CHUNK];
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		int64_t n = md_os_read_full(fd, buf, sizeof(buf));

		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0)
			break;
		r = sink(ctx, buf, (size_t)n);
		if (r < 0)
			break;
	}
	close(fd);
	return r < 0 ? r : 0;
}

int md_linux_read_blob(struct md_snapshot *s, enum md_blob blob, md_sink_fn sink, void *ctx)
{
	static const char *const proc_names[MD_BLOB_COUNT] = {
	    [MD_BLOB_PROC_STATUS] = "status", [MD_BLOB_CMDLINE] = "cmdline",
	    [MD_BLOB_ENVIRON] = "environ",    [MD_BLOB_AUXV] = "auxv",
	    [MD_BLOB_MAPS] = "maps",
	};
	struct md_linux_snapshot *ls = md_linux_snapshot_from_pub(s);
	char path[MD_LINUX_PATH_MAX];
	int r;

	switch (blob) {
	case MD_BLOB_CPUINFO:
		return stream_file("/proc/cpuinfo", sink, ctx);
	case MD_BLOB_LSB_RELEASE:
		r = stream_file("/etc/lsb-release", sink, ctx);
		if (r == -ENOENT)
			r = stream_file("/etc/os-release", sink, ctx);
		return r;
	case MD_BLOB_PROC_STATUS:
	case MD_BLOB_CMDLINE:
	case MD_BLOB_ENVIRON:
	case MD_BLOB_AUXV:
	case MD_BLOB_MAPS:
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)ls->pid, proc_names[blob]);
		return stream_file(path, sink, ctx);
	default:
		return -ENOENT;
	}
}
