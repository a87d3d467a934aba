/* SPDX-License-Identifier: MIT */
/*
 * A defensive minidump reader, used by the tests and by `mdctl inspect`, and fuzzed. It parses
 * a dump from a memory buffer or from a file (read with pread on demand, so a large dump costs
 * no more memory than the parts asked for). It never trusts a size, count or offset from the
 * file: every read is bounds-checked against the file size, every count against a named limit,
 * and everything the reader allocates is charged to a per-reader budget. A corrupt, truncated or
 * hostile file gives -EBADMSG (or -E2BIG past one of our limits) with a message saying what is
 * wrong and where; it must never crash, over-read, allocate without bound or loop forever. It
 * never logs.
 *
 * Ownership: views returned by md_reader_*() point into storage the reader owns; they stay valid
 * until md_reader_free(). A view that parsed once is cached and returned again. Functions that
 * return caller-owned memory say so. A reader is not thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "md-format.h"

#define MD_READER_ERROR_MAX        256        /* bytes of an error message, NUL included */
#define MD_READER_STREAMS_MAX      1024       /* directory entries accepted */
#define MD_READER_THREADS_MAX      65536      /* ThreadList entries */
#define MD_READER_THREAD_NAMES_MAX 65536      /* ThreadNames entries */
#define MD_READER_MODULES_MAX      65536      /* ModuleList entries */
#define MD_READER_RANGES_MAX       (1u << 20) /* MemoryList entries */
#define MD_READER_MEMORY_INFO_MAX  (1u << 20) /* MemoryInfoList entries */
#define MD_READER_ANNOTATIONS_MAX  4096       /* CrashpadInfo simple annotations */
#define MD_READER_STRING_MAX       65536u     /* bytes in one MDString or UTF-8 string */
#define MD_READER_BLOB_MAX         (64u * 1024u * 1024u)  /* bytes of one raw stream returned */
#define MD_READER_ALLOC_MAX        (256u * 1024u * 1024u) /* bytes all views of a reader may hold */
#define MD_READER_CODE_ID_MAX      (2 * MD_BUILD_ID_MAX + 1) /* bytes of a code id string, NUL incl. */
#define MD_READER_DEBUG_ID_MAX     42 /* bytes of a debug id: GUID (32) + age (up to 8) + NUL */

struct md_reader;

/* The message of an open that failed (the reader does not exist yet to hold it). */
struct md_reader_error {
	char message[MD_READER_ERROR_MAX];
};

/* Parses the header and directory of the dump in data[0..size). The buffer is borrowed: it must
 * stay valid and unchanged until md_reader_free(). err may be NULL; on failure it receives the
 * reason. Returns 0, -EBADMSG for an invalid dump, -E2BIG past a limit, -ENOMEM. */
int md_reader_open_buffer(const void *data, size_t size, struct md_reader_error *err,
                          struct md_reader **ret_reader);

/* Opens path read-only and parses its header and directory; later views pread what they need.
 * The file descriptor stays open until md_reader_free(). Returns 0, -errno from open/fstat/pread,
 * -EINVAL if path is not a regular file, or the errors of md_reader_open_buffer(). */
int md_reader_open_file(const char *path, struct md_reader_error *err,
                        struct md_reader **ret_reader);

/* Like md_reader_open_file(), but also opens a zstd-compressed dump (`.dmp.zst`, as the daemon
 * stores them with store.compress), decompressing it into an unlinked temporary file under
 * $TMPDIR. Returns -EOPNOTSUPP for a compressed file in a build without zstd. */
int md_reader_open_path(const char *path, struct md_reader_error *err,
                        struct md_reader **ret_reader);

/* Frees the reader and every view it returned. Accepts NULL. */
void md_reader_free(struct md_reader *r);

/* The message of the last failed call on r ("" if none). Valid until the next call on r. */
const char *md_reader_error(const struct md_reader *r);

/* ---- Header and directory ---- */

uint64_t md_reader_file_size(const struct md_reader *r);
const md_header *md_reader_header(const struct md_reader *r);
/* Directory entries, as in the file (unused slots included); index < stream_count. */
uint32_t md_reader_stream_count(const struct md_reader *r);
const md_directory *md_reader_stream_entry(const struct md_reader *r, uint32_t index);

/* Finds the first stream of type (never type 0). Returns 0 and its location, or -ENOENT. */
int md_reader_find_stream(struct md_reader *r, uint32_t type, md_location *ret_location);

/* Copies size bytes at file offset rva into buf. Returns 0, or -EBADMSG if they are not all
 * inside the file. */
int md_reader_read(struct md_reader *r, uint64_t rva, void *buf, size_t size);

/* Reads a whole stream of the given type into a new NUL-terminated buffer (the NUL is not counted
 * in *ret_size), for text streams (LinuxProcStatus, LinuxMaps...) and our diagnostics JSON.
 * The caller frees *ret_data with free(). Returns 0, -ENOENT, -E2BIG past MD_READER_BLOB_MAX. */
int md_reader_stream_data(struct md_reader *r, uint32_t type, char **ret_data, size_t *ret_size);

/* Converts the MDString (u32 byte length, UTF-16LE) at rva into a new NUL-terminated UTF-8
 * string; unpaired surrogates and NUL units become U+FFFD. The caller frees it with free().
 * Returns 0, -EBADMSG for an odd length or a string outside the file, -E2BIG over
 * MD_READER_STRING_MAX bytes. */
int md_reader_string(struct md_reader *r, uint64_t rva, char **ret_utf8);

/* Reads a MinidumpUTF8String (u32 length, bytes, NUL) at rva the same way; invalid UTF-8 and NUL
 * bytes become U+FFFD so the result is always valid UTF-8. */
int md_reader_utf8_string(struct md_reader *r, uint64_t rva, char **ret_utf8);

/* ---- Contexts ---- */

enum md_reader_cpu {
	MD_READER_CPU_NONE = 0, /* the thread has no context (data_size 0) */
	MD_READER_CPU_AMD64,
	MD_READER_CPU_ARM64_OLD,
};

struct md_reader_context {
	enum md_reader_cpu cpu;
	uint64_t flags; /* context_flags (u32 for AMD64, u64 for ARM64_OLD) */
	uint64_t pc;    /* rip / pc */
	uint64_t sp;    /* rsp / sp */
	uint64_t fp;    /* rbp / x29 */
	union {
		md_context_amd64 amd64;
		md_context_arm64_old arm64;
	} u;
};

/* Reads and checks the context at loc: 1232 bytes with the AMD64 CPU flag, 796 bytes with the
 * ARM64_OLD flag, or data_size 0 (cpu NONE). Anything else is -EBADMSG. */
int md_reader_context(struct md_reader *r, md_location loc, struct md_reader_context *ret_context);

/* ---- Parsed views. Each returns 0 and a reader-owned view, -ENOENT if the stream is absent,
 * -EBADMSG if it is malformed (with md_reader_error() saying how), -E2BIG, -ENOMEM. ---- */

struct md_reader_system_info {
	uint16_t arch;            /* MD_CPU_ARCHITECTURE_* */
	uint16_t level, revision; /* x86: the CPU family; its model and stepping */
	uint8_t cpus;
	uint32_t platform_id; /* MD_OS_* */
	uint32_t major_version, minor_version, build_number;
	char *csd;           /* UTF-8 CSD string ("Linux 6.1.0 #1 SMP ... x86_64"), "" if none */
	char cpu_vendor[13]; /* x86/AMD64: vendor id, non-printable bytes as '?'; else "" */
	uint32_t arm_cpuid;  /* ARM/ARM64: MIDR-style cpuid; else 0 */
};
int md_reader_system_info(struct md_reader *r, const struct md_reader_system_info **ret_info);

struct md_reader_thread {
	uint32_t tid;
	enum md_reader_cpu cpu;
	uint64_t context_flags;
	uint64_t pc, sp, fp;  /* from the context; 0 when cpu is NONE */
	uint64_t stack_start; /* lowest captured stack address */
	uint32_t stack_size;  /* bytes captured */
	uint32_t stack_rva;
	md_location context; /* where the context lies, for md_reader_context() */
};
struct md_reader_thread_list {
	size_t count;
	struct md_reader_thread *threads;
};
/* Also checks each context's CPU against SystemInfo's architecture when SystemInfo parses. */
int md_reader_threads(struct md_reader *r, const struct md_reader_thread_list **ret_list);

struct md_reader_thread_name {
	uint32_t tid;
	char *name; /* UTF-8 */
};
struct md_reader_thread_names {
	size_t count;
	struct md_reader_thread_name *names;
};
int md_reader_thread_names(struct md_reader *r, const struct md_reader_thread_names **ret_names);
/* The first name listed for tid, or NULL (also when ThreadNames is absent or malformed). */
const char *md_reader_thread_name(struct md_reader *r, uint32_t tid);

enum md_reader_cv {
	MD_READER_CV_NONE = 0, /* no CodeView record */
	MD_READER_CV_ELF,      /* "BpEL" + build id */
	MD_READER_CV_PDB70,    /* "RSDS" + GUID + age + PDB name */
	MD_READER_CV_OTHER,    /* a record with another signature, kept as is */
};

struct md_reader_module {
	uint64_t base;
	uint32_t size;
	uint32_t time_date_stamp;
	char *name; /* UTF-8 module path */
	enum md_reader_cv cv;
	md_location cv_record;
	uint8_t build_id[MD_BUILD_ID_MAX]; /* CV_ELF; CV_PDB70: the GUID bytes as stored */
	size_t build_id_len;
	uint32_t pdb_age; /* CV_PDB70 */
	char *pdb_name;   /* CV_PDB70: UTF-8; else NULL */
	/* As Breakpad prints them: code id = build id bytes in lowercase hex (CV_ELF; for
	 * CV_PDB70 the Windows form %08X%x of time stamp and size); debug id = GUID in uppercase
	 * hex then the age in lowercase hex. "" when there is no record. */
	char code_id[MD_READER_CODE_ID_MAX];
	char debug_id[MD_READER_DEBUG_ID_MAX];
};
struct md_reader_module_list {
	size_t count;
	struct md_reader_module *modules;
};
int md_reader_modules(struct md_reader *r, const struct md_reader_module_list **ret_list);

struct md_reader_memory_range {
	uint64_t start;
	uint32_t size;
	uint32_t rva;
};
struct md_reader_memory_list {
	size_t count;
	struct md_reader_memory_range *ranges;
};
int md_reader_memory_list(struct md_reader *r, const struct md_reader_memory_list **ret_list);

/* Copies size bytes of target memory at addr from the first MemoryList range holding all of
 * them. Returns 0, -ENOENT if no range holds them, or the errors of md_reader_memory_list(). */
int md_reader_read_memory(struct md_reader *r, uint64_t addr, void *buf, size_t size);

struct md_reader_memory_info_list {
	size_t count;
	md_memory_info *entries; /* as on disk */
};
int md_reader_memory_info(struct md_reader *r, const struct md_reader_memory_info_list **ret_list);

struct md_reader_exception {
	uint32_t thread_id;
	uint32_t code;  /* Linux: signal number, or MD_EXCEPTION_CODE_LIN_DUMP_REQUESTED */
	uint32_t flags; /* Linux: si_code */
	uint64_t address;
	uint32_t n_parameters; /* at most MD_EXCEPTION_MAXIMUM_PARAMETERS */
	uint64_t parameters[MD_EXCEPTION_MAXIMUM_PARAMETERS];
	md_location context; /* checked like a thread context */
};
int md_reader_exception(struct md_reader *r, const struct md_reader_exception **ret_exception);

struct md_reader_misc_info {
	uint32_t size_of_info;
	uint32_t flags1;
	bool has_pid; /* flags1 has MD_MISCINFO_FLAGS1_PROCESS_ID */
	uint32_t pid;
	bool has_times;
	uint32_t create_time, user_time, kernel_time; /* Unix time / seconds */
};
int md_reader_misc_info(struct md_reader *r, const struct md_reader_misc_info **ret_info);

int md_reader_breakpad_info(struct md_reader *r, const md_breakpad_info **ret_info);

struct md_reader_annotation {
	char *key;   /* UTF-8 */
	char *value; /* UTF-8 */
};
struct md_reader_crashpad_info {
	uint32_t version;
	md_guid report_id;
	md_guid client_id;
	size_t n_annotations;
	struct md_reader_annotation *annotations; /* simple annotations, in file order */
};
int md_reader_crashpad_info(struct md_reader *r, const struct md_reader_crashpad_info **ret_info);

/* The pid from MiscInfo, else from the "Pid:" line of LinuxProcStatus. Returns 0 and the pid, or
 * -ENOENT when neither has one. */
int md_reader_pid(struct md_reader *r, uint32_t *ret_pid);
