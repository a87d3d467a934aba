/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's config: the defaults and the JSON config file (jansson). The schema is a table per
 * object; anything not in it, and any value of the wrong type or out of range, is refused with
 * the file, line and column where it stands (md-config-json.c). The policy file is read by
 * md-policy.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md-config-json.h"
#include "md-defaults.h"
#include "md-proto.h"
#include "md-zstd.h"
#include "md-os.h"

void md_config_defaults(struct md_config *cfg)
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
	cfg->symbolize_all_threads = true;
	/* the default policy: everyone may have dumps of their own processes (root: any) */
	cfg->policy.n_rules = 1;
	cfg->policy.rules[0].everyone = true;
	cfg->policy.rules[0].scope = MD_POLICY_OWN;
}

const char *md_config_strdup(struct md_config *cfg, const char *s)
{
	char *copy;

	if (cfg->n_strings >= sizeof(cfg->strings) / sizeof(cfg->strings[0]))
		return NULL;
	copy = strdup(s);
	if (copy)
		cfg->strings[cfg->n_strings++] = copy;
	return copy;
}

void md_config_done(struct md_config *cfg)
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
	void *dst;
	uint64_t max;
	const struct key *children; /* K_OBJECT */
	bool nullable;
};

static int parse_object(struct md_config_json *p, json_t *obj, const struct key *keys,
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

static int parse_value(struct md_config_json *p, const struct key *k, json_t *v, const char *at)
{
	switch (k->kind) {
	case K_UINT:
	case K_U64:
	case K_DAYS: {
		json_int_t x;

		if (!json_is_integer(v))
			return md_config_json_fail(p, at, k->name, "\"%s\" must be a whole number",
			                           k->name);
		x = json_integer_value(v);
		if (x < 0 || (uint64_t)x > k->max)
			return md_config_json_fail(p, at, k->name,
			                           "\"%s\" must be between 0 and %llu", k->name,
			                           (unsigned long long)k->max);
		if (k->kind == K_UINT)
			*(unsigned *)k->dst = (unsigned)x;
		else if (k->kind == K_U64)
			*(uint64_t *)k->dst = (uint64_t)x;
		else
			*(uint64_t *)k->dst = (uint64_t)x * 86400u; /* days to seconds */
		return 0;
	}
	case K_BOOL:
		if (!json_is_boolean(v))
			return md_config_json_fail(p, at, k->name, "\"%s\" must be true or false",
			                           k->name);
		*(bool *)k->dst = json_is_true(v);
		return 0;
	case K_TRISTATE: /* true, false, or null for the default */
		if (!json_is_boolean(v) && !json_is_null(v))
			return md_config_json_fail(p, at, k->name,
			                           "\"%s\" must be true, false or null", k->name);
		*(int *)k->dst = json_is_null(v) ? -1 : json_is_true(v);
		return 0;
	case K_TEXT:
		if (json_is_null(v) && k->nullable) {
			*(const char **)k->dst = NULL;
			return 0;
		}
		if (!json_is_string(v) || strlen(json_string_value(v)) > k->max)
			return md_config_json_fail(
			    p, at, k->name, "\"%s\" must be a string of at most %llu bytes%s",
			    k->name, (unsigned long long)k->max, k->nullable ? ", or null" : "");
		*(const char **)k->dst = md_config_strdup(p->cfg, json_string_value(v));
		return *(const char **)k->dst ? 0 : -ENOMEM;
	case K_PATH: {
		const char *s;

		if (json_is_null(v) && k->nullable) {
			*(const char **)k->dst = NULL;
			return 0;
		}
		if (!json_is_string(v))
			return md_config_json_fail(p, at, k->name, "\"%s\" must be a string%s",
			                           k->name, k->nullable ? " or null" : "");
		s = json_string_value(v);
		if (!md_platform_path_is_absolute(s))
			return md_config_json_fail(p, at, k->name,
			                           "\"%s\" must be an absolute path", k->name);
		*(const char **)k->dst = md_config_strdup(p->cfg, s);
		return *(const char **)k->dst ? 0 : -ENOMEM;
	}
	case K_MODE: {
		char *end;
		unsigned long m;

		if (!json_is_string(v))
			return md_config_json_fail(
			    p, at, k->name, "\"%s\" must be an octal string such as \"0660\"",
			    k->name);
		m = strtoul(json_string_value(v), &end, 8);
		if (*end || m > 0777)
			return md_config_json_fail(p, at, k->name,
			                           "\"%s\": \"%s\" is not a mode from 0 to 0777",
			                           k->name, json_string_value(v));
		*(unsigned *)k->dst = (unsigned)m;
		return 0;
	}
	case K_GROUP:
		if (json_is_null(v)) {
			*(int64_t *)k->dst = -1;
			return 0;
		}
		if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= (json_int_t)MD_CONFIG_U32_MAX - 1) {
			*(int64_t *)k->dst = json_integer_value(v);
			return 0;
		}
		if (json_is_string(v)) {
			if (resolve_group(json_string_value(v), (int64_t *)k->dst) < 0)
				return md_config_json_fail(p, at, k->name,
				                           "\"%s\": no group \"%s\"", k->name,
				                           json_string_value(v));
			return 0;
		}
		return md_config_json_fail(p, at, k->name,
		                           "\"%s\" must be a group name, a gid or null", k->name);
	case K_OBJECT:
		if (!json_is_object(v))
			return md_config_json_fail(p, at, k->name, "\"%s\" must be an object",
			                           k->name);
		return parse_object(p, v, k->children, at, k->name);
	}
	return -EINVAL;
}

static int parse_object(struct md_config_json *p, json_t *obj, const struct key *keys,
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
		at = md_config_json_locate(p, from, name, &line, &col);
		if (!k->name)
			return md_config_json_fail(p, from, name, "unknown key \"%s\"%s%s", name,
			                           where ? " in " : "", where ? where : "");
		r = parse_value(p, k, v, at);
		if (r < 0)
			return r;
	}
	return 0;
}

int md_config_load(struct md_config *cfg, const char *path, char *err, size_t err_size)
{
	const struct key store[] = {
	    {"max_total_bytes", K_U64, &cfg->store_max_total_bytes, UINT64_MAX >> 1, NULL, false},
	    {"max_dumps", K_U64, &cfg->store_max_dumps, MD_CONFIG_U32_MAX, NULL, false},
	    {"max_age_days", K_DAYS, &cfg->store_max_age_s, 36500, NULL, false},
	    {"min_free_bytes", K_U64, &cfg->store_min_free_bytes, UINT64_MAX >> 1, NULL, false},
	    {"max_dumps_per_user", K_U64, &cfg->store_max_dumps_per_user, MD_CONFIG_U32_MAX, NULL,
	     false},
	    {"max_bytes_per_user", K_U64, &cfg->store_max_bytes_per_user, UINT64_MAX >> 1, NULL,
	     false},
	    {"check_interval_s", K_UINT, &cfg->store_check_interval_s, 86400, NULL, false},
	    {"compress", K_BOOL, &cfg->store_compress, 0, NULL, false},
	    {NULL, K_UINT, NULL, 0, NULL, false},
	};
	const struct key loop[] = {
	    {"max_crashes", K_UINT, &cfg->loop_max_crashes, 256, NULL, false},
	    {"window_s", K_UINT, &cfg->loop_window_s, 86400, NULL, false},
	    {NULL, K_UINT, NULL, 0, NULL, false},
	};
	const struct key per_user[] = {
	    {"max_running", K_UINT, &cfg->user_max_running, 64, NULL, false},
	    {"max_queued", K_UINT, &cfg->user_max_queued, 1024, NULL, false},
	    {"requests_burst", K_UINT, &cfg->user_requests_burst, 100000, NULL, false},
	    {"requests_per_minute", K_UINT, &cfg->user_requests_per_min, 100000, NULL, false},
	    {NULL, K_UINT, NULL, 0, NULL, false},
	};
	const struct key upload[] = {
	    {"enabled", K_BOOL, &cfg->upload_enabled, 0, NULL, false},
	    {"outbox", K_PATH, &cfg->upload_outbox, 0, NULL, false},
	    {NULL, K_UINT, NULL, 0, NULL, false},
	};
	const struct key symbolize[] = {
	    {"enabled", K_TRISTATE, &cfg->symbolize, 0, NULL, true},
	    {"helper", K_PATH, &cfg->symbolize_helper, 0, NULL, true},
	    {"budget_ms", K_UINT, &cfg->symbolize_budget_ms, 600000, NULL, false},
	    {"all_threads", K_BOOL, &cfg->symbolize_all_threads, 0, NULL, false},
	    {"debuginfod_urls", K_TEXT, &cfg->symbolize_debuginfod, 4096, NULL, true},
	    {NULL, K_UINT, NULL, 0, NULL, false},
	};
	const struct key top[] = {
	    {"socket", K_PATH, &cfg->socket_path, 0, NULL, false},
	    {"socket_mode", K_MODE, &cfg->socket_mode, 0, NULL, false},
	    {"socket_group", K_GROUP, &cfg->socket_gid, 0, NULL, true},
	    {"dump_dir", K_PATH, &cfg->dump_dir, 0, NULL, false},
	    {"dump_group", K_GROUP, &cfg->dump_gid, 0, NULL, true},
	    {"max_concurrent_dumps", K_UINT, &cfg->max_dumps, 64, NULL, false},
	    {"dump_timeout_ms", K_UINT, &cfg->dump_budget_ms, 3600000, NULL, false},
	    {"dump_max_bytes", K_U64, &cfg->dump_max_bytes, 0xFFFFFFFFull, NULL, false},
	    {"store", K_OBJECT, NULL, 0, store, false},
	    {"crash_loop", K_OBJECT, NULL, 0, loop, false},
	    {"per_user", K_OBJECT, NULL, 0, per_user, false},
	    {"policy", K_PATH, &cfg->policy_path, 0, NULL, true},
	    {"metrics_file", K_PATH, &cfg->metrics_file, 0, NULL, true},
	    {"coredump_socket", K_PATH, &cfg->coredump_socket, 0, NULL, true},
	    {"upload", K_OBJECT, NULL, 0, upload, false},
	    {"symbolize", K_OBJECT, NULL, 0, symbolize, false},
	    {NULL, K_UINT, NULL, 0, NULL, false},
	};
	struct md_config_json p = {.err = err, .err_size = err_size, .cfg = cfg};
	int r;

	r = md_config_json_open(&p, path);
	if (r == 0)
		r = parse_object(&p, p.root, top, NULL, NULL);
	if (r == 0 && cfg->max_dumps == 0)
		r = md_config_json_fail(&p, NULL, "max_concurrent_dumps",
		                        "\"max_concurrent_dumps\" must be at least 1");
	if (r == 0 && cfg->dump_budget_ms == 0)
		r = md_config_json_fail(&p, NULL, "dump_timeout_ms",
		                        "\"dump_timeout_ms\" must be at least 1");
	if (r == 0 && cfg->dump_gid >= 0 &&
	    md_platform_set_file_group(-1, cfg->dump_gid) == -EOPNOTSUPP)
		r = md_config_json_fail(
		    &p, NULL, "dump_group",
		    "\"dump_group\": files have no group on this system; dumps stay readable by "
		    "the daemon's account only");
	if (r == 0 && cfg->store_compress && !md_zstd_available())
		r = md_config_json_fail(
		    &p, NULL, "compress",
		    "\"compress\": this build of minidumpd has no zstd support");
	if (r == 0)
		cfg->config_path = md_config_strdup(cfg, path);
	md_config_json_done(&p);
	return r;
}
