/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's config: the defaults and the JSON config file (jansson). The schema is a table per
 * object; anything not in it, and any value of the wrong type or out of range, is refused with
 * the file, line and column where it stands (md-config-json.c). The policy file is read by
 * md-policy.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "md-config-json.h"
#include "md-defaults.h"
#include "md-proto.h"
#include "md-zstd.h"
#include "md-os.h"

void mdd_config_defaults(struct mdd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_path = MD_DEFAULT_SOCKET;
	cfg->socket_mode = MD_DEFAULT_SOCKET_MODE;
	cfg->socket_gid = -1;
	cfg->dump_dir = MD_DEFAULT_DUMP_DIR;
	cfg->dump_gid = -1;
	cfg->max_dumps = MD_DEFAULT_MAX_DUMPS;
	cfg->dump_budget_ms = MD_DEFAULT_DUMP_BUDGET_MS;
	cfg->store_check_interval_s = MD_DEFAULT_STORE_CHECK_S;
	cfg->loop_max_crashes = MD_DEFAULT_LOOP_MAX_CRASHES;
	cfg->user_max_running = MD_DEFAULT_USER_MAX_RUNNING;
	cfg->user_max_queued = MD_DEFAULT_USER_MAX_QUEUED;
	cfg->user_requests_burst = MD_DEFAULT_USER_BURST;
	cfg->user_requests_per_min = MD_DEFAULT_USER_PER_MIN;
	cfg->loop_window_s = MD_DEFAULT_LOOP_WINDOW_S;
	cfg->upload_outbox = MD_DEFAULT_UPLOAD_OUTBOX;
	cfg->symbolize = -1;
	cfg->user = MDD_DEFAULT_USER;
	cfg->symbolize_all_threads = true;
	/* the default policy: everyone may have dumps of their own processes (root: any) */
	cfg->policy.n_rules = 1;
	cfg->policy.rules[0].everyone = true;
	cfg->policy.rules[0].scope = MDD_POLICY_OWN;
}

const char *mdd_config_strdup(struct mdd_config *cfg, const char *s)
{
	char *copy;

	if (cfg->n_strings >= sizeof(cfg->strings) / sizeof(cfg->strings[0]))
		return NULL;
	copy = strdup(s);
	if (copy)
		cfg->strings[cfg->n_strings++] = copy;
	return copy;
}

void mdd_config_done(struct mdd_config *cfg)
{
	for (size_t i = 0; i < cfg->n_strings; i++)
		free(cfg->strings[i]);
	cfg->n_strings = 0;
}

/* ---- value kinds ---- */

enum kind { K_UINT, K_U64, K_PATH, K_TEXT, K_BOOL, K_TRISTATE, K_MODE, K_GROUP, K_DAYS, K_OBJECT };

struct key {
	const char *name;
	enum kind kind;
	size_t at;                  /* offsetof(struct mdd_config, member); not for K_OBJECT */
	uint64_t max;               /* numbers: the largest value; K_TEXT: bytes */
	const struct key *children; /* K_OBJECT */
	bool nullable;
};

/* The member's offset, and a compile error (a negative array size) unless it has that type. */
/* clang-format off */
#define AT(member, type) (offsetof(struct mdd_config, member) + \
	0 * sizeof(char[_Generic(((struct mdd_config *)0)->member, type: 1, default: -1)]))
/* Table entries, one macro per kind of value; each checks its member's type. */
#define KEY_UINT(k, m, mx)   {.name = k, .kind = K_UINT, .at = AT(m, unsigned), .max = mx}
#define KEY_U64(k, m, mx)    {.name = k, .kind = K_U64, .at = AT(m, uint64_t), .max = mx}
#define KEY_DAYS(k, m, mx)   {.name = k, .kind = K_DAYS, .at = AT(m, uint64_t), .max = mx}
#define KEY_BOOL(k, m)       {.name = k, .kind = K_BOOL, .at = AT(m, bool)}
#define KEY_TRISTATE(k, m)   {.name = k, .kind = K_TRISTATE, .at = AT(m, int), .nullable = true}
#define KEY_MODE(k, m)       {.name = k, .kind = K_MODE, .at = AT(m, unsigned)}
#define KEY_GROUP(k, m)      {.name = k, .kind = K_GROUP, .at = AT(m, int64_t), .nullable = true}
#define KEY_PATH(k, m, null) {.name = k, .kind = K_PATH, .at = AT(m, const char *), .nullable = null}
#define KEY_TEXT(k, m, mx) \
	{.name = k, .kind = K_TEXT, .at = AT(m, const char *), .max = mx, .nullable = true}
#define KEY_OBJECT(k, keys)  {.name = k, .kind = K_OBJECT, .children = keys}
/* clang-format on */
#define BYTES_MAX (UINT64_MAX >> 1)

/* The schema (docs/config.md). */
static const struct key store_keys[] = {
    KEY_U64("max_total_bytes", store_max_total_bytes, BYTES_MAX),
    KEY_U64("max_dumps", store_max_dumps, MDD_CONFIG_U32_MAX),
    KEY_DAYS("max_age_days", store_max_age_s, 36500),
    KEY_U64("min_free_bytes", store_min_free_bytes, BYTES_MAX),
    KEY_U64("max_dumps_per_user", store_max_dumps_per_user, MDD_CONFIG_U32_MAX),
    KEY_U64("max_bytes_per_user", store_max_bytes_per_user, BYTES_MAX),
    KEY_UINT("check_interval_s", store_check_interval_s, 86400),
    KEY_BOOL("compress", store_compress),
    {NULL},
};
static const struct key loop_keys[] = {
    KEY_UINT("max_crashes", loop_max_crashes, 256),
    KEY_UINT("window_s", loop_window_s, 86400),
    {NULL},
};
static const struct key per_user_keys[] = {
    KEY_UINT("max_running", user_max_running, 64),
    KEY_UINT("max_queued", user_max_queued, 1024),
    KEY_UINT("requests_burst", user_requests_burst, 100000),
    KEY_UINT("requests_per_minute", user_requests_per_min, 100000),
    {NULL},
};
static const struct key upload_keys[] = {
    KEY_BOOL("enabled", upload_enabled),
    KEY_PATH("outbox", upload_outbox, false),
    {NULL},
};
static const struct key symbolize_keys[] = {
    KEY_TRISTATE("enabled", symbolize),
    KEY_PATH("helper", symbolize_helper, true),
    KEY_UINT("budget_ms", symbolize_budget_ms, 600000),
    KEY_BOOL("all_threads", symbolize_all_threads),
    KEY_TEXT("debuginfod_urls", symbolize_debuginfod, 4096),
    KEY_PATH("socket", symbolize_socket, true),
    {NULL},
};
static const struct key top_keys[] = {
    KEY_PATH("socket", socket_path, false),
    /* the front end's user: a name, never null */
    {.name = "user", .kind = K_TEXT, .at = AT(user, const char *), .max = 64},
    KEY_MODE("socket_mode", socket_mode),
    KEY_GROUP("socket_group", socket_gid),
    KEY_PATH("dump_dir", dump_dir, false),
    KEY_GROUP("dump_group", dump_gid),
    KEY_UINT("max_concurrent_dumps", max_dumps, 64),
    KEY_UINT("dump_timeout_ms", dump_budget_ms, 3600000),
    KEY_U64("dump_max_bytes", dump_max_bytes, 0xFFFFFFFFull),
    KEY_OBJECT("store", store_keys),
    KEY_OBJECT("crash_loop", loop_keys),
    KEY_OBJECT("per_user", per_user_keys),
    KEY_PATH("policy", policy_path, true),
    KEY_PATH("metrics_file", metrics_file, true),
    KEY_PATH("coredump_socket", coredump_socket, true),
    KEY_OBJECT("upload", upload_keys),
    KEY_OBJECT("symbolize", symbolize_keys),
    {NULL},
};

static int parse_object(struct mdd_config_json *p, json_t *obj, const struct key *keys,
                        const char *from, const char *where);

/* A file's group (socket_group, dump_group): a gid, which only POSIX has. */
static int resolve_group(const char *name, int64_t *ret)
{
	struct md_principal g;

	if (md_principal_group_by_name(name, &g) < 0)
		return -ENOENT;
	*ret = g.id;
	return 0;
}

static int parse_value(struct mdd_config_json *p, const struct key *k, json_t *v, const char *at)
{
	void *dst = (char *)p->cfg + k->at;

	switch (k->kind) {
	case K_UINT:
	case K_U64:
	case K_DAYS: {
		json_int_t x;

		if (!json_is_integer(v))
			return mdd_config_json_fail(p, at, k->name, "\"%s\" must be a whole number",
			                            k->name);
		x = json_integer_value(v);
		if (x < 0 || (uint64_t)x > k->max)
			return mdd_config_json_fail(p, at, k->name,
			                            "\"%s\" must be between 0 and %llu", k->name,
			                            (unsigned long long)k->max);
		if (k->kind == K_UINT)
			*(unsigned *)dst = (unsigned)x;
		else if (k->kind == K_U64)
			*(uint64_t *)dst = (uint64_t)x;
		else
			*(uint64_t *)dst = (uint64_t)x * 86400u; /* days to seconds */
		return 0;
	}
	case K_BOOL:
		if (!json_is_boolean(v))
			return mdd_config_json_fail(p, at, k->name, "\"%s\" must be true or false",
			                            k->name);
		*(bool *)dst = json_is_true(v);
		return 0;
	case K_TRISTATE: /* true, false, or null for the default */
		if (!json_is_boolean(v) && !json_is_null(v))
			return mdd_config_json_fail(p, at, k->name,
			                            "\"%s\" must be true, false or null", k->name);
		*(int *)dst = json_is_null(v) ? -1 : json_is_true(v);
		return 0;
	case K_TEXT:
		if (json_is_null(v) && k->nullable) {
			*(const char **)dst = NULL;
			return 0;
		}
		if (!json_is_string(v) || strlen(json_string_value(v)) > k->max)
			return mdd_config_json_fail(
			    p, at, k->name, "\"%s\" must be a string of at most %llu bytes%s",
			    k->name, (unsigned long long)k->max, k->nullable ? ", or null" : "");
		*(const char **)dst = mdd_config_strdup(p->cfg, json_string_value(v));
		return *(const char **)dst ? 0 : -ENOMEM;
	case K_PATH: {
		const char *s;

		if (json_is_null(v) && k->nullable) {
			*(const char **)dst = NULL;
			return 0;
		}
		if (!json_is_string(v))
			return mdd_config_json_fail(p, at, k->name, "\"%s\" must be a string%s",
			                            k->name, k->nullable ? " or null" : "");
		s = json_string_value(v);
		if (!md_platform_path_is_absolute(s))
			return mdd_config_json_fail(p, at, k->name,
			                            "\"%s\" must be an absolute path", k->name);
		*(const char **)dst = mdd_config_strdup(p->cfg, s);
		return *(const char **)dst ? 0 : -ENOMEM;
	}
	case K_MODE: {
		char *end;
		unsigned long m;

		if (!json_is_string(v))
			return mdd_config_json_fail(
			    p, at, k->name, "\"%s\" must be an octal string such as \"0660\"",
			    k->name);
		m = strtoul(json_string_value(v), &end, 8);
		if (*end || m > 0777)
			return mdd_config_json_fail(p, at, k->name,
			                            "\"%s\": \"%s\" is not a mode from 0 to 0777",
			                            k->name, json_string_value(v));
		*(unsigned *)dst = (unsigned)m;
		return 0;
	}
	case K_GROUP:
		if (json_is_null(v)) {
			*(int64_t *)dst = -1;
			return 0;
		}
		if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= (json_int_t)MDD_CONFIG_U32_MAX - 1) {
			*(int64_t *)dst = json_integer_value(v);
			return 0;
		}
		if (json_is_string(v)) {
			if (resolve_group(json_string_value(v), (int64_t *)dst) < 0)
				return mdd_config_json_fail(p, at, k->name,
				                            "\"%s\": no group \"%s\"", k->name,
				                            json_string_value(v));
			return 0;
		}
		return mdd_config_json_fail(p, at, k->name,
		                            "\"%s\" must be a group name, a gid or null", k->name);
	case K_OBJECT:
		if (!json_is_object(v))
			return mdd_config_json_fail(p, at, k->name, "\"%s\" must be an object",
			                            k->name);
		return parse_object(p, v, k->children, at, k->name);
	}
	return -EINVAL;
}

static int parse_object(struct mdd_config_json *p, json_t *obj, const struct key *keys,
                        const char *from, const char *where)
{
	const char *name;
	json_t *v;

	json_object_foreach(obj, name, v)
	{
		const struct key *k = keys;
		int line, col, r;
		const char *at;

		while (k->name && strcmp(k->name, name) != 0)
			k++;
		at = mdd_config_json_locate(p, from, name, &line, &col);
		if (!k->name)
			return mdd_config_json_fail(p, from, name, "unknown key \"%s\"%s%s", name,
			                            where ? " in " : "", where ? where : "");
		r = parse_value(p, k, v, at);
		if (r < 0)
			return r;
	}
	return 0;
}

int mdd_config_load(struct mdd_config *cfg, const char *path, char *err, size_t err_size)
{
	struct mdd_config_json p = {.err = err, .err_size = err_size, .cfg = cfg};
	int r;

	r = mdd_config_json_open(&p, path);
	if (r == 0)
		r = parse_object(&p, p.root, top_keys, NULL, NULL);
	if (r == 0 && cfg->max_dumps == 0)
		r = mdd_config_json_fail(&p, NULL, "max_concurrent_dumps",
		                         "\"max_concurrent_dumps\" must be at least 1");
	if (r == 0 && cfg->dump_budget_ms == 0)
		r = mdd_config_json_fail(&p, NULL, "dump_timeout_ms",
		                         "\"dump_timeout_ms\" must be at least 1");
	if (r == 0 && cfg->dump_gid >= 0 &&
	    md_platform_set_file_group(-1, cfg->dump_gid) == -EOPNOTSUPP)
		r = mdd_config_json_fail(
		    &p, NULL, "dump_group",
		    "\"dump_group\": files have no group on this system; dumps stay readable by "
		    "the daemon's account only");
	if (r == 0 && cfg->store_compress && !md_zstd_available())
		r = mdd_config_json_fail(
		    &p, NULL, "compress",
		    "\"compress\": this build of minidumpd has no zstd support");
	if (r == 0)
		cfg->config_path = mdd_config_strdup(cfg, path);
	mdd_config_json_done(&p);
	return r;
}
