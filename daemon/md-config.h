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

#include "md-principal.h"

#define MDD_CONFIG_ERROR_MAX 512             /* bytes of one error message */
#define MDD_CONFIG_MAX_BYTES (1024u * 1024u) /* largest config or policy file we read */
#define MDD_DEFAULT_USER     "minidumpd"     /* the front end's user ("user"; docs/security.md) */

/* Who may ask for dumps of which processes (docs/security.md). */
enum mdd_policy_scope {
	MDD_POLICY_OWN, /* processes running as the requester's own uid */
	MDD_POLICY_ANY, /* any process */
	MDD_POLICY_LIST /* processes owned by the listed uids or gids */
};

#define MDD_POLICY_IDS_MAX        64 /* users or groups per list */
#define MDD_POLICY_RULES_MAX      64
#define MDD_POLICY_PRINCIPALS_MAX 1024 /* users and groups named in one policy, all lists */

/* Users or groups, as indexes into their policy's principals. */
struct mdd_id_list {
	size_t n;
	uint16_t at[MDD_POLICY_IDS_MAX];
};

struct mdd_policy_rule {
	struct mdd_id_list uids; /* requesters this rule is for (by uid)... */
	struct mdd_id_list gids; /* ...or by group (primary or supplementary) */
	bool everyone;           /* "users": "*" */
	enum mdd_policy_scope scope;
	struct mdd_id_list target_uids;
	struct mdd_id_list target_gids;
};

struct mdd_policy {
	size_t n_rules;
	struct mdd_policy_rule rules[MDD_POLICY_RULES_MAX];
	size_t n_principals;
	struct md_principal principals[MDD_POLICY_PRINCIPALS_MAX]; /* what the lists name */
};

struct mdd_config {
	const char *config_path; /* NULL: none was read */
	const char *socket_path;
	unsigned socket_mode;
	int64_t socket_gid; /* -1: leave the group alone */
	/* the front end's user once the capture worker is started (md-privsep.h); "root": no
	 * split, captures in the daemon's own process */
	const char *user;
	const char *dump_dir;
	int64_t dump_gid; /* -1: dumps are root's alone (0600); else 0640 with this group */
	bool foreground;
	unsigned max_dumps;
	unsigned dump_budget_ms;
	uint64_t dump_max_bytes; /* 0: no byte budget */
	/* the store */
	uint64_t store_max_total_bytes;
	uint64_t store_max_dumps;
	uint64_t store_max_age_s;
	uint64_t store_min_free_bytes;
	uint64_t store_max_dumps_per_user; /* by owner (docs/config.md); 0: a fair share only */
	uint64_t store_max_bytes_per_user;
	unsigned store_check_interval_s;
	bool store_compress; /* keep dumps zstd-compressed (<id>.dmp.zst) */
	/* per-user limits (md-fair.h); root has none */
	unsigned user_max_running;    /* 0 in the file: half of max_dumps, at least 1 */
	unsigned user_max_queued;     /* 0: no limit */
	unsigned user_requests_burst; /* 0: no rate limit */
	unsigned user_requests_per_min;
	/* crash loops */
	unsigned loop_max_crashes; /* 0: never limit */
	unsigned loop_window_s;
	/* authorization */
	const char *policy_path; /* NULL: the default policy */
	struct mdd_policy policy;
	const char *metrics_file;    /* NULL: none */
	const char *coredump_socket; /* NULL: the kernel's coredump socket is not served */
	bool upload_enabled;
	const char *upload_outbox;
	/* the symbolizer: stacks into the report after the app was released (md-symbolize-job.c) */
	int symbolize;                /* 1 on, 0 off, -1 (default): on when the helper is there */
	const char *symbolize_helper; /* NULL: $MD_SYMBOLIZE, else the installed md-symbolize */
	unsigned symbolize_budget_ms; /* 0: MDD_SYMBOLIZE_BUDGET_MS */
	bool symbolize_all_threads;   /* every thread's stack, not only the crashing one's */
	const char *symbolize_debuginfod; /* NULL: no debuginfod, and no network for the helper */
	const char *symbolize_socket; /* NULL: our own sandbox; else minidumpd-symbolize.socket's */
	/* storage for the strings above (owned) */
	char *strings[16];
	size_t n_strings;
};

/* Fills the defaults. */
void mdd_config_defaults(struct mdd_config *cfg);

/* Reads a config file over the current values. Returns 0, -ENOENT (the file is missing; only
 * an error when it was asked for explicitly), or another -errno with err set to
 * "FILE:LINE:COLUMN: what". */
int mdd_config_load(struct mdd_config *cfg, const char *path, char *err, size_t err_size);

/* Reads the policy file named by cfg->policy_path (if any) into cfg->policy; without one the
 * default policy applies (root: any process; everyone else: their own). */
int mdd_config_load_policy(struct mdd_config *cfg, char *err, size_t err_size);

/* May a requester (user, and its primary and supplementary groups) have a dump of a process
 * owned by target_user/target_group? root (md_principal_is_root) always may. */
bool mdd_policy_allows(const struct mdd_policy *p, const struct md_principal *user,
                       const struct md_principal *groups, size_t n_groups,
                       const struct md_principal *target_user,
                       const struct md_principal *target_group);

/* Keeps a copy of s in cfg (freed by mdd_config_done). */
const char *mdd_config_strdup(struct mdd_config *cfg, const char *s);

void mdd_config_done(struct mdd_config *cfg);
