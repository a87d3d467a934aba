/* SPDX-License-Identifier: MIT */
/*
 * On-disk layout of a Google Breakpad / Microsoft minidump, as minidumpd writes and reads it.
 * Every struct here is the exact byte image of what lies in the file (little-endian hosts
 * only), and each size is checked at compile time against the documented on-disk size.
 * Nothing here may depend on the host OS: the Windows and macOS backends use it too.
 * Facts come from ../shared/docs/minidump-format.md; the code is our own.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define MD_SIGNATURE 0x504D444Du /* "MDMP" */
#define MD_VERSION   0xA793u     /* low 16 bits of the header version */
#define MD_RVA_MAX   0xFFFFFFFFu /* 32-bit file offsets: a file is at most 4 GiB */
#define MD_ALIGN     8u          /* every block starts 8-aligned, as Breakpad does */

/* Stream types. */
enum md_stream_type {
	MD_STREAM_UNUSED = 0,
	MD_STREAM_THREAD_LIST = 3,
	MD_STREAM_MODULE_LIST = 4,
	MD_STREAM_MEMORY_LIST = 5,
	MD_STREAM_EXCEPTION = 6,
	MD_STREAM_SYSTEM_INFO = 7,
	MD_STREAM_MEMORY64_LIST = 9,
	MD_STREAM_HANDLE_DATA = 12,
	MD_STREAM_MISC_INFO = 15,
	MD_STREAM_MEMORY_INFO_LIST = 16,
	MD_STREAM_THREAD_NAMES = 24,
	MD_STREAM_BREAKPAD_INFO = 0x47670001,
	MD_STREAM_LINUX_CPU_INFO = 0x47670003,
	MD_STREAM_LINUX_PROC_STATUS = 0x47670004,
	MD_STREAM_LINUX_LSB_RELEASE = 0x47670005,
	MD_STREAM_LINUX_CMD_LINE = 0x47670006,
	MD_STREAM_LINUX_ENVIRON = 0x47670007,
	MD_STREAM_LINUX_AUXV = 0x47670008,
	MD_STREAM_LINUX_MAPS = 0x47670009,
	MD_STREAM_LINUX_DSO_DEBUG = 0x4767000A,
	MD_STREAM_CRASHPAD_INFO = 0x43500001,
	/* Our own user streams ("md" + index); user streams start above 0xFFFF. See docs/dumper.md.
	 */
	MD_STREAM_MINIDUMPD_DIAGNOSTICS = 0x6D640001,
	MD_STREAM_MINIDUMPD_ANNOTATIONS = 0x6D640002,
};

/* Returns a stable name ("ThreadList") or NULL for a type we do not know. */
const char *md_stream_type_to_string(uint32_t type);

#define MD_PACKED __attribute__((packed))

typedef struct MD_PACKED {
	uint32_t signature;
	uint32_t version;
	uint32_t stream_count;
	uint32_t stream_directory_rva;
	uint32_t checksum;
	uint32_t time_date_stamp;
	uint64_t flags;
} md_header;

typedef struct MD_PACKED {
	uint32_t data_size;
	uint32_t rva;
} md_location;

typedef struct MD_PACKED {
	uint32_t stream_type;
	md_location location;
} md_directory;

typedef struct MD_PACKED {
	uint64_t start_of_memory_range;
	md_location memory;
} md_memory_descriptor;

/* MINIDUMP_STRING: u32 byte length (without terminator), UTF-16LE units, then a NUL unit. */
typedef struct MD_PACKED {
	uint32_t length;
	uint16_t buffer[];
} md_string;

/* ---- CPU contexts ---- */

#define MD_CONTEXT_AMD64                0x00100000u
#define MD_CONTEXT_AMD64_CONTROL        (MD_CONTEXT_AMD64 | 0x01u)
#define MD_CONTEXT_AMD64_INTEGER        (MD_CONTEXT_AMD64 | 0x02u)
#define MD_CONTEXT_AMD64_SEGMENTS       (MD_CONTEXT_AMD64 | 0x04u)
#define MD_CONTEXT_AMD64_FLOATING_POINT (MD_CONTEXT_AMD64 | 0x08u)
#define MD_CONTEXT_AMD64_DEBUG          (MD_CONTEXT_AMD64 | 0x10u)
#define MD_CONTEXT_AMD64_FULL           (MD_CONTEXT_AMD64 | 0x0Bu)
#define MD_CONTEXT_CPU_MASK             0xFFFFFF00u

typedef struct MD_PACKED {
	uint64_t low;
	uint64_t high;
} md_uint128;

/* FXSAVE image, the same bytes Linux keeps in user_fpregs_struct. */
typedef struct MD_PACKED {
	uint16_t control_word;
	uint16_t status_word;
	uint8_t tag_word;
	uint8_t reserved1;
	uint16_t error_opcode;
	uint32_t error_offset;
	uint16_t error_selector;
	uint16_t reserved2;
	uint32_t data_offset;
	uint16_t data_selector;
	uint16_t reserved3;
	uint32_t mx_csr;
	uint32_t mx_csr_mask;
	md_uint128 float_registers[8];
	md_uint128 xmm_registers[16];
	uint8_t reserved4[96];
} md_xmm_save_area32;

typedef struct MD_PACKED {
	uint64_t p1_home, p2_home, p3_home, p4_home, p5_home, p6_home;
	uint32_t context_flags;
	uint32_t mx_csr;
	uint16_t cs, ds, es, fs, gs, ss;
	uint32_t eflags;
	uint64_t dr0, dr1, dr2, dr3, dr6, dr7;
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip;
	md_xmm_save_area32 flt_save;
	md_uint128 vector_register[26];
	uint64_t vector_control;
	uint64_t debug_control;
	uint64_t last_branch_to_rip;
	uint64_t last_branch_from_rip;
	uint64_t last_exception_to_rip;
	uint64_t last_exception_from_rip;
} md_context_amd64;

/* Breakpad's Linux aarch64 layout (ARM64_OLD), which LLDB parses. */
#define MD_CONTEXT_ARM64_OLD      0x80000000u
#define MD_CONTEXT_ARM64_OLD_FULL 0x80000006u

typedef struct MD_PACKED {
	uint64_t context_flags;
	uint64_t iregs[32]; /* x0..x28, fp (x29), lr (x30), sp */
	uint64_t pc;
	uint32_t cpsr;
	uint32_t fpsr;
	uint32_t fpcr;
	md_uint128 fregs[32];
} md_context_arm64_old;

/* ---- ThreadList ---- */

typedef struct MD_PACKED {
	uint32_t thread_id;
	uint32_t suspend_count;
	uint32_t priority_class;
	uint32_t priority;
	uint64_t teb;
	md_memory_descriptor stack;
	md_location thread_context;
} md_thread;

/* ---- ModuleList ---- */

typedef struct MD_PACKED {
	uint32_t signature;
	uint32_t struct_version;
	uint32_t file_version_hi;
	uint32_t file_version_lo;
	uint32_t product_version_hi;
	uint32_t product_version_lo;
	uint32_t file_flags_mask;
	uint32_t file_flags;
	uint32_t file_os;
	uint32_t file_type;
	uint32_t file_subtype;
	uint32_t file_date_hi;
	uint32_t file_date_lo;
} md_vs_fixedfileinfo;

typedef struct MD_PACKED {
	uint64_t base_of_image;
	uint32_t size_of_image;
	uint32_t checksum;
	uint32_t time_date_stamp;
	uint32_t module_name_rva;
	md_vs_fixedfileinfo version_info;
	md_location cv_record;
	md_location misc_record;
	uint64_t reserved0;
	uint64_t reserved1;
} md_module;

#define MD_CVINFO_ELF_SIGNATURE   0x4270454Cu /* "BpEL" */
#define MD_CVINFO_PDB70_SIGNATURE 0x53445352u /* "RSDS" */
#define MD_BUILD_ID_MAX           64u         /* longest build id we carry, in bytes */

/* ---- Exception ---- */

#define MD_EXCEPTION_MAXIMUM_PARAMETERS      15
#define MD_EXCEPTION_CODE_LIN_DUMP_REQUESTED 0xFFFFFFFFu

typedef struct MD_PACKED {
	uint32_t exception_code;
	uint32_t exception_flags;
	uint64_t exception_record;
	uint64_t exception_address;
	uint32_t number_parameters;
	uint32_t unused_alignment;
	uint64_t exception_information[MD_EXCEPTION_MAXIMUM_PARAMETERS];
} md_exception;

typedef struct MD_PACKED {
	uint32_t thread_id;
	uint32_t alignment;
	md_exception exception_record;
	md_location thread_context;
} md_exception_stream;

/* ---- SystemInfo ---- */

#define MD_CPU_ARCHITECTURE_X86       0
#define MD_CPU_ARCHITECTURE_ARM       5
#define MD_CPU_ARCHITECTURE_AMD64     9
#define MD_CPU_ARCHITECTURE_ARM64     12
#define MD_CPU_ARCHITECTURE_ARM64_OLD 0x8003
#define MD_CPU_ARCHITECTURE_UNKNOWN   0xFFFF

#define MD_OS_WIN32_NT 2
#define MD_OS_MAC_OS_X 0x8101
#define MD_OS_LINUX    0x8201
#define MD_OS_ANDROID  0x8203

typedef struct MD_PACKED {
	uint16_t processor_architecture;
	uint16_t processor_level;
	uint16_t processor_revision;
	uint8_t number_of_processors;
	uint8_t product_type;
	uint32_t major_version;
	uint32_t minor_version;
	uint32_t build_number;
	uint32_t platform_id;
	uint32_t csd_version_rva;
	uint16_t suite_mask;
	uint16_t reserved2;
	union MD_PACKED {
		struct MD_PACKED {
			uint32_t vendor_id[3];
			uint32_t version_information;
			uint32_t feature_information;
			uint32_t amd_extended_cpu_features;
		} x86_cpu_info;
		struct MD_PACKED {
			uint32_t cpuid;
			uint32_t elf_hwcaps;
		} arm_cpu_info;
		struct MD_PACKED {
			uint64_t processor_features[2];
		} other_cpu_info;
	} cpu;
} md_system_info;

/* ---- MiscInfo (v1 is all Linux needs) ---- */

#define MD_MISCINFO_FLAGS1_PROCESS_ID    0x001u
#define MD_MISCINFO_FLAGS1_PROCESS_TIMES 0x002u

typedef struct MD_PACKED {
	uint32_t size_of_info;
	uint32_t flags1;
	uint32_t process_id;
	uint32_t process_create_time;
	uint32_t process_user_time;
	uint32_t process_kernel_time;
} md_misc_info;

/* ---- MemoryInfoList ---- */

typedef struct MD_PACKED {
	uint32_t size_of_header;
	uint32_t size_of_entry;
	uint64_t number_of_entries;
} md_memory_info_list;

#define MD_MEMORY_STATE_COMMIT              0x1000u
#define MD_MEMORY_STATE_FREE                0x10000u
#define MD_MEMORY_TYPE_PRIVATE              0x20000u
#define MD_MEMORY_TYPE_MAPPED               0x40000u
#define MD_MEMORY_TYPE_IMAGE                0x1000000u
#define MD_MEMORY_PROTECT_NOACCESS          0x01u
#define MD_MEMORY_PROTECT_READONLY          0x02u
#define MD_MEMORY_PROTECT_READWRITE         0x04u
#define MD_MEMORY_PROTECT_EXECUTE           0x10u
#define MD_MEMORY_PROTECT_EXECUTE_READ      0x20u
#define MD_MEMORY_PROTECT_EXECUTE_READWRITE 0x40u

typedef struct MD_PACKED {
	uint64_t base_address;
	uint64_t allocation_base;
	uint32_t allocation_protection;
	uint32_t alignment1;
	uint64_t region_size;
	uint32_t state;
	uint32_t protection;
	uint32_t type;
	uint32_t alignment2;
} md_memory_info;

/* ---- ThreadNames ---- */

typedef struct MD_PACKED {
	uint32_t thread_id;
	uint64_t thread_name_rva; /* RVA64 of an md_string */
} md_thread_name;

/* ---- BreakpadInfo ---- */

#define MD_BREAKPAD_INFO_VALID_DUMP_THREAD_ID       0x1u
#define MD_BREAKPAD_INFO_VALID_REQUESTING_THREAD_ID 0x2u

typedef struct MD_PACKED {
	uint32_t validity;
	uint32_t dump_thread_id;
	uint32_t requesting_thread_id;
} md_breakpad_info;

/* ---- LinuxDsoDebug (64-bit process, C alignment as md2core reads it) ---- */

typedef struct {
	uint32_t version;
	uint32_t map; /* RVA of md_link_map64[dso_count], or 0xFFFFFFFF */
	uint32_t dso_count;
	uint32_t pad;
	uint64_t brk;
	uint64_t ldbase;
	uint64_t dynamic;
} md_debug64;

typedef struct {
	uint64_t addr;
	uint32_t name; /* RVA of an md_string */
	uint32_t pad;
	uint64_t ld;
} md_link_map64;

/* ---- CrashpadInfo (used for annotations, which Breakpad's and Sentry's readers show) ---- */

typedef struct MD_PACKED {
	uint32_t data1;
	uint16_t data2;
	uint16_t data3;
	uint8_t data4[8];
} md_guid;

typedef struct MD_PACKED {
	uint32_t version;
	md_guid report_id;
	md_guid client_id;
	md_location simple_annotations; /* md_simple_string_dictionary */
	md_location module_list;
	uint32_t reserved;
	uint64_t address_mask;
} md_crashpad_info;

typedef struct MD_PACKED {
	uint32_t key;   /* RVA of md_utf8_string */
	uint32_t value; /* RVA of md_utf8_string */
} md_simple_string_dictionary_entry;

#define MD_STATIC_SIZE(type, size)                                                                 \
	_Static_assert(sizeof(type) == (size), #type " must be " #size " bytes on disk")

MD_STATIC_SIZE(md_header, 32);
MD_STATIC_SIZE(md_location, 8);
MD_STATIC_SIZE(md_directory, 12);
MD_STATIC_SIZE(md_memory_descriptor, 16);
MD_STATIC_SIZE(md_xmm_save_area32, 512);
MD_STATIC_SIZE(md_context_amd64, 1232);
MD_STATIC_SIZE(md_context_arm64_old, 796);
MD_STATIC_SIZE(md_thread, 48);
MD_STATIC_SIZE(md_vs_fixedfileinfo, 52);
MD_STATIC_SIZE(md_module, 108);
MD_STATIC_SIZE(md_exception, 152);
MD_STATIC_SIZE(md_exception_stream, 168);
MD_STATIC_SIZE(md_system_info, 56);
MD_STATIC_SIZE(md_misc_info, 24);
MD_STATIC_SIZE(md_memory_info_list, 16);
MD_STATIC_SIZE(md_memory_info, 48);
MD_STATIC_SIZE(md_thread_name, 12);
MD_STATIC_SIZE(md_breakpad_info, 12);
MD_STATIC_SIZE(md_debug64, 40);
MD_STATIC_SIZE(md_link_map64, 24);
MD_STATIC_SIZE(md_guid, 16);
MD_STATIC_SIZE(md_crashpad_info, 64);
_Static_assert(offsetof(md_context_amd64, rsp) == 0x98, "rsp offset");
_Static_assert(offsetof(md_context_amd64, rip) == 0xF8, "rip offset");
_Static_assert(offsetof(md_context_amd64, flt_save) == 0x100, "flt_save offset");
_Static_assert(offsetof(md_context_amd64, vector_register) == 0x300, "vector_register offset");
_Static_assert(offsetof(md_context_amd64, flt_save.xmm_registers) == 0x1A0, "xmm0 offset");
_Static_assert(offsetof(md_context_arm64_old, pc) == 0x108, "arm64 pc offset");
_Static_assert(offsetof(md_context_arm64_old, fregs) == 0x11C, "arm64 v0 offset");
_Static_assert(offsetof(md_module, cv_record) == 0x4C, "cv_record offset");
_Static_assert(offsetof(md_system_info, cpu) == 0x20, "cpu union offset");
_Static_assert(offsetof(md_exception_stream, thread_context) == 160, "exception context offset");

/* "SIGSEGV" for a Linux exception code (= signal number), "DUMP_REQUESTED" for 0xFFFFFFFF,
 * NULL when unknown. */
const char *md_linux_signal_to_string(uint32_t code);
