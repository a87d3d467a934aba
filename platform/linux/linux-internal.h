/* SPDX-License-Identifier: MIT */
/*
 * Shared declarations of the Linux backend: the private snapshot that wraps the public
 * md_snapshot, the set of ptrace-stopped threads, and the helpers each linux-*.c file offers
 * the others. Nothing here knows a register layout (that is linux-arch.h), and nothing here
 * may leave a thread stopped: whoever fills an md_linux_tracees detaches it on every path.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "md-os.h"
#include "md-snapshot.h"

#define MD_LINUX_PATH_MAX 64 /* bytes for a "/proc/<pid>/task/<tid>/comm" style path */

/* One thread we seized. */
struct md_linux_tracee {
	pid_t tid;
	int pending_sig; /* signal seen in a signal-delivery-stop, re-injected on detach; 0 if none
	                  */
	bool settled;    /* while attaching: its stop (or exit) has been collected */
	bool seized;     /* under our ptrace (false: left alone, asleep in the kernel) */
	bool unstopped;  /* not stopped by the deadline: no registers to read */
	/* Its name (comm), from the stat line read for its state right before it was seized, so
	 * that no second file per thread is read; "" if unknown. */
	char name[16];
};

/* Every thread of the target that is currently stopped under ptrace by us. */
struct md_linux_tracees {
	struct md_linux_tracee *t; /* sorted by tid once md_linux_attach_all() returns */
	size_t n;
	size_t cap;
	pid_t pid;            /* the process */
	bool parent_is_us;    /* we are also its parent: its exit status is not ours to reap here */
	bool stopped;         /* true while at least one thread is attached */
	bool leader_unreaped; /* the group leader died traced and is still ours to reap */
	uint64_t stop_ns;     /* CLOCK_MONOTONIC when the first thread was stopped, in ns */
};

/* How linux-memory.c reads the target; it falls back down this list for good when a reader is
 * unavailable. */
enum md_linux_mem_method {
	MD_LINUX_MEM_VM_READV = 0, /* process_vm_readv, many ranges per call */
	MD_LINUX_MEM_PROC_MEM,     /* pread on /proc/<pid>/mem */
	MD_LINUX_MEM_PEEK,         /* PTRACE_PEEKDATA, one word per call */
};

/* The backend's snapshot; the public part comes first so the two convert freely. */
struct md_linux_snapshot {
	struct md_snapshot pub;
	pid_t pid;
	struct md_linux_tracees tracees;
	int mem_fd;     /* /proc/<pid>/mem, opened on first need; -1 if not open */
	int mem_method; /* enum md_linux_mem_method: the reader that worked last */
};

static inline struct md_linux_snapshot *md_linux_snapshot_from_pub(struct md_snapshot *s)
{
	return (struct md_linux_snapshot *)s;
}

/* linux-ptrace.c */

/*
 * Seizes and interrupts every thread of pid, re-reading /proc/<pid>/task until no new thread
 * appears, and waits for each to stop. Threads that exit meanwhile are dropped and recorded in
 * diag. A thread asleep in the kernel is not seized until it wakes; one that does not wake soon,
 * and whatever has not stopped by the deadline (CLOCK_MONOTONIC ns, 0 for none), is kept in
 * the list marked unstopped (left running, reason in diag). Returns 0 with at least one thread
 * stopped, -ESRCH if the process is gone, -EPERM if the kernel refuses, -ETIMEDOUT if no thread
 * could be stopped by the deadline, -ECANCELED if *cancel became non-zero. On error nothing stays
 * attached.
 */
int md_linux_attach_all(pid_t pid, volatile sig_atomic_t *cancel, uint64_t deadline_ns,
                        struct md_diag *diag, struct md_linux_tracees *tracees);

/* Detaches every attached thread (re-injecting pending signals). Returns microseconds since
 * the first stop, or 0 if nothing was attached. Frees nothing but the tracee array. */
uint64_t md_linux_detach_all(struct md_linux_tracees *tracees);

/* linux-memory.c */

int md_linux_read_ranges(struct md_snapshot *s, struct md_mem_range *ranges, size_t n);

/* linux-maps.c */

/* Parses /proc/<pid>/maps into a sorted array; each path is heap-allocated (free with
 * md_linux_mappings_free). */
int md_linux_read_maps(pid_t pid, struct md_mapping **ret_mappings, size_t *ret_n);
void md_linux_mappings_free(struct md_mapping *mappings, size_t n);

/* linux-modules.c */

/* Builds the module list from s->mappings and the target's memory (s must be able to read
 * memory). Problems go to s->diag. */
int md_linux_read_modules(struct md_linux_snapshot *ls);
void md_linux_modules_free(struct md_module_info *modules, size_t n);

/* linux-proc.c */

/* Fills ret; only a process that is gone (-ESRCH) or unreadable fails it, lesser gaps go to
 * diag. */
int md_linux_read_process_info(pid_t pid, struct md_process_info *ret, struct md_diag *diag);
int md_linux_read_system_info(struct md_system *ret, struct md_diag *diag);
/* Reads /proc/<pid>/task/<tid>/comm without its newline; task_dir_fd is /proc/<pid>/task. */
int md_linux_read_thread_name(int task_dir_fd, pid_t tid, char *buf, size_t size);

/* Reads /proc/<pid>/stat, or /proc/<pid>/task/<tid>/stat when tid > 0, into *ret_text (owned)
 * and points *ret_fields into it at the fields after the command name, the state letter first.
 * -EINVAL when there is no command name to skip. */
int md_linux_read_stat(pid_t pid, pid_t tid, char **ret_text, char **ret_fields);
/* The text after "key:" at the start of a line of a status-style procfs file, or NULL. */
const char *md_linux_status_field(const char *text, const char *key);
int md_linux_read_blob(struct md_snapshot *s, enum md_blob blob, md_sink_fn sink, void *ctx);
/* Calls fn for each "key : value" line of /proc/cpuinfo (both trimmed). */
int md_linux_cpuinfo_foreach(int (*fn)(void *ctx, const char *key, const char *value), void *ctx);
/* Reads the first limit bytes of a procfs file (which reports size 0, so it is read until EOF)
 * into a NUL-terminated heap buffer: md_os_read_file_head(). */
static inline int md_linux_read_text_file(const char *path, size_t limit, char **ret_text,
                                          size_t *ret_len)
{
	return md_os_read_file_head(path, limit, ret_text, ret_len);
}
