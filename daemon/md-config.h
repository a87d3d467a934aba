/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's configuration: defaults, then the JSON config file, then command-line flags.
 * Every key is documented in docs/config.md. Loading never exits: it returns an error with
 * the file, line and column of what is wrong.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MD_CONFIG_FILE_DEFAULT "/etc/minidumpd/minidumpd.json"
#define MD_CONFIG_ERROR_MAX    512 /* bytes of one error message */
#define MD_CONFIG_MAX_BYTES    (1024u * 1024u) /* largest config or policy file we read */

/* Who may ask for dumps of which processes (docs/security.md). */
enum md_policy_scope {
	MD_POLICY_OWN, /* processes running as the requester's own uid */
	MD_POLICY_ANY, /* any process */
	MD_POLICY_LIST /* processes owned by the listed uids or gids */
};

#define MD_POLICY_IDS_MAX   64 /* uids or gids per list */
#define MD_POLICY_RULES_MAX 64

struct md_id_list {
	size_t n;
	uint32_t id[MD_POLICY_IDS_MAX];
};

struct md_policy_rule {
	struct md_id_list uids;   /* requesters this rule is for (by uid)... */
	struct md_id_list gids;   /* ...or by group (primary or supplementary) */
	bool everyone;            /* "users": "*" */
	enum md_policy_scope scope;
	struct md_id_list target_uids;
	struct md_id_list target_gids;
};

struct md_policy {
	size_t n_rules;
	struct md_policy_rule rules[MD_POLICY_RULES_MAX];
};

struct md_config {
	const char *config_path; /* NULL: none was read */
	const char *socket_path;
	unsigned socket_mode;
	int64_t socket_gid; /* -1: leave the group alone */
	const char *dump_dir;
	int64_t dump_gid;   /* -1: dumps are root's alone (0600); else 0640 with this group */
	bool foreground;
	unsigned max_dumps;
	unsigned dump_budget_ms;
	uint64_t dump_max_bytes; /* 0: no byte budget */
	/* the store */
	uint64_t store_max_total_bytes;
	uint64_t store_max_dumps;
	uint64_t store_max_age_s;
	uint64_t store_min_free_bytes;
	unsigned store_check_interval_s;
	bool store_compress; /* keep dumps zstd-compressed (<id>.dmp.zst) */
	/* crash loops */
	unsigned loop_max_crashes; /* 0: never limit */
	unsigned loop_window_s;
	/* authorization */
	const char *policy_path; /* NULL: the default policy */
	struct md_policy policy;
	const char *metrics_file; /* NULL: none */
	const char *coredump_socket; /* NULL: the kernel's coredump socket is not served */
	bool upload_enabled;
	const char *upload_outbox;
	/* storage for the strings above (owned) */
	char *strings[16];
	size_t n_strings;
};

/* Fills the defaults. */
void md_config_defaults(struct md_config *cfg);

/* Reads a config file over the current values. Returns 0, -ENOENT (the file is missing; only
 * an error when it was asked for explicitly), or another -errno with err set to
 * "FILE:LINE:COLUMN: what". */
int md_config_load(struct md_config *cfg, const char *path, char *err, size_t err_size);

/* Reads the policy file named by cfg->policy_path (if any) into cfg->policy; without one the
 * default policy applies (root: any process; everyone else: their own). */
int md_config_load_policy(struct md_config *cfg, char *err, size_t err_size);

/* Does requester (uid, gid and supplementary groups) may have a dump of a process owned by
 * target_uid/target_gid? root always may. */
bool md_policy_allows(const struct md_policy *p, uint32_t uid, const uint32_t *gids, size_t n_gids,
		      uint32_t target_uid, uint32_t target_gid);

/* Keeps a copy of s in cfg (freed by md_config_done). */
const char *md_config_strdup(struct md_config *cfg, const char *s);

void md_config_done(struct md_config *cfg);
