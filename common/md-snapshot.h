/* SPDX-License-Identifier: MIT */
/*
 * The platform-neutral picture of a stopped process that the section writers read from.
 * A backend (a table of steps run by the snapshot builder, md-snapshot-build.h: the live
 * process of platform/<os>/, or the fake process of the tests) fills the plain data fields
 * and supplies the few operations that must reach into the live target (memory, raw text
 * files). Writers never see a pid, a ptrace call or a Win32 handle. Nothing here may block
 * on the target for longer than one memory read, and nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "md-diag.h"
#include "md-format.h"

/* A CPU context already laid out as the minidump stores it (md-format.h). */
struct md_context {
	uint32_t size; /* bytes used in u: 1232 for AMD64, 796 for ARM64_OLD, 0 if none */
	union {
		md_context_amd64 amd64;
		md_context_arm64_old arm64;
		uint8_t raw[sizeof(md_context_amd64)];
	} u;
};

#define MD_THREAD_NAME_MAX 64 /* bytes, NUL included; Linux comm names are 16 */

struct md_thread_info {
	uint32_t tid;
	char name[MD_THREAD_NAME_MAX]; /* "" when the thread has none */
	uint64_t sp;                   /* stack pointer, from the context */
	uint64_t pc;                   /* instruction pointer, from the context */
	int error;                     /* < 0: registers could not be read; context.size is 0 */
	struct md_context context;
};

#define MD_PROT_READ   0x1u
#define MD_PROT_WRITE  0x2u
#define MD_PROT_EXEC   0x4u
#define MD_PROT_SHARED 0x8u

struct md_mapping {
	uint64_t start; /* inclusive */
	uint64_t end;   /* exclusive */
	uint64_t offset;
	uint64_t inode;
	uint32_t prot; /* MD_PROT_* */
	char *path; /* owned by the backend; "" for anonymous; "[stack]", "[vdso]" and the like as
	               the OS names them */
};

enum md_module_id_kind {
	MD_MODULE_ID_NONE = 0,  /* no identifier could be found */
	MD_MODULE_ID_BUILD_ID,  /* GNU build-id note bytes: BpEL record */
	MD_MODULE_ID_TEXT_HASH, /* 16-byte XOR fold of .text (Breakpad's fallback): BpEL record */
	MD_MODULE_ID_PDB70,     /* id = 16-byte GUID then u32 age; pdb_name set: RSDS record */
};

struct md_module_info {
	uint64_t base;
	uint64_t size;
	char *path; /* owned by the backend; name for the dump; on Linux the basename is already the
	               DT_SONAME */
	enum md_module_id_kind id_kind;
	uint32_t id_len;
	uint8_t id[MD_BUILD_ID_MAX];
	char *pdb_name; /* owned by the backend; PDB70 only */
	bool has_version;
	md_vs_fixedfileinfo version;
};

struct md_system {
	uint16_t processor_architecture; /* MD_CPU_ARCHITECTURE_* */
	uint16_t processor_level;
	uint16_t processor_revision;
	uint8_t number_of_processors;
	uint32_t platform_id; /* MD_OS_* */
	uint32_t os_major, os_minor, os_build;
	char os_version[512]; /* CSD string, e.g. "Linux 6.1.0 #1 SMP ... x86_64" */
	char cpu_vendor[13];  /* x86: "GenuineIntel"; "" elsewhere */
	uint32_t cpu_version_information;
	uint32_t cpu_feature_information;
	uint32_t arm_cpuid;
};

struct md_process_info {
	uint32_t pid;
	int64_t start_time; /* Unix seconds, 0 if unknown */
	uint32_t user_time; /* CPU seconds */
	uint32_t kernel_time;
	uint32_t uid;
	char exe[4096]; /* path of the executable, "" if unknown */
	/* From the auxiliary vector (0 if unknown); the DSO debug writer needs them. */
	uint64_t at_entry;
	uint64_t at_phdr;
	uint64_t at_phnum;
	uint64_t at_base;
};

/* What the crashing process told us about its fault; absent for a live dump. */
struct md_crash_info {
	uint32_t tid;
	uint32_t code;  /* Linux: signal number; Windows: exception code */
	uint32_t flags; /* Linux: si_code */
	uint64_t address;
	uint32_t number_parameters;
	uint64_t parameters[MD_EXCEPTION_MAXIMUM_PARAMETERS];
	struct md_context context; /* registers at the fault; size 0 if not supplied */
};

/* Raw text/binary files some platforms expose, written byte for byte as their own streams. */
enum md_blob {
	MD_BLOB_CPUINFO,     /* /proc/cpuinfo */
	MD_BLOB_PROC_STATUS, /* /proc/<pid>/status */
	MD_BLOB_LSB_RELEASE, /* /etc/lsb-release, else /etc/os-release */
	MD_BLOB_CMDLINE,     /* /proc/<pid>/cmdline */
	MD_BLOB_ENVIRON,     /* /proc/<pid>/environ */
	MD_BLOB_AUXV,        /* /proc/<pid>/auxv */
	MD_BLOB_MAPS,        /* /proc/<pid>/maps */
	MD_BLOB_COUNT,
};

/* One range for a batched read. The backend fills got (bytes read from addr onwards, possibly
 * fewer than len) and err (0, or -errno for why it stopped short). */
struct md_mem_range {
	uint64_t addr;
	size_t len;
	void *buf;
	size_t got;
	int err;
};

/* Receives a blob piece by piece; returns < 0 to stop. */
typedef int (*md_sink_fn)(void *ctx, const void *data, size_t len);

struct md_snapshot;
struct md_backend_ops;

struct md_snapshot_ops {
	/* Reads every range it can, as many ranges per system call as the OS allows. Returns 0
	 * when the ranges were attempted (see each range's got/err), or < 0 when the target is
	 * gone altogether (-ESRCH). */
	int (*read_ranges)(struct md_snapshot *s, struct md_mem_range *ranges, size_t n);
	/* Streams one blob to sink. -ENOENT/-EOPNOTSUPP: this platform has no such blob. */
	int (*read_blob)(struct md_snapshot *s, enum md_blob blob, md_sink_fn sink, void *ctx);
};

struct md_snapshot {
	const struct md_snapshot_ops *ops;
	struct md_system system;
	struct md_process_info process;
	struct md_thread_info *threads;
	size_t n_threads;
	struct md_mapping *mappings; /* sorted by start, not overlapping */
	size_t n_mappings;
	struct md_module_info *modules; /* modules[0] is the main executable */
	size_t n_modules;
	const struct md_crash_info *crash; /* NULL for a live dump */
	uint32_t requesting_tid;           /* thread the dump is about (crash tid, else main) */
	bool target_gone;                  /* set by the backend when the target died meanwhile */
	struct md_diag diag;               /* what the backend could not capture, and why */
	/* Kept by the snapshot builder (md-snapshot-build.c); NULL backend for a hand-made one. */
	const struct md_backend_ops *backend;
	struct md_crash_info crash_copy; /* crash points here when the client sent one */
	bool resumed;                    /* the backend's resume has run */
	uint64_t stopped_us;             /* what it returned */
};

/* Reads one range; returns bytes read (>= 0, may be short) or -errno. */
int md_snapshot_read(struct md_snapshot *s, uint64_t addr, void *buf, size_t len);

/* The mapping that contains addr, or NULL. */
const struct md_mapping *md_snapshot_find_mapping(const struct md_snapshot *s, uint64_t addr);

/* How many mappings start at or below addr (a binary search: they are sorted by start and do
 * not overlap); mappings[that - 1] is the one that may contain addr. */
size_t md_snapshot_mappings_upto(const struct md_snapshot *s, uint64_t addr);
