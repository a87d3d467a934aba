/* SPDX-License-Identifier: MIT */
/*
 * Reads minidumpd's JSON config and policy files (jansson). The schema is a table per object;
 * anything not in it, and any value of the wrong type or out of range, is refused with the
 * file, line and column where it stands. Users and groups may be given by name or number.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "md-config.h"
#include "md-defaults.h"
#include "md-proto.h"
#include "md-zstd.h"
#include "md-os.h"
#include "md-peer.h"

#define UINT_MAX_CFG 0xFFFFFFFFull

void md_config_defaults(struct md_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_path = MD_DEFAULT_SOCKET;
	cfg->socket_mode = MD_DEFAULT_SOCKET_MODE;
	cfg->socket_gid = -1;
	cfg->user = MD_DEFAULT_USER;
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

/* ---- error positions ---- */

struct parse {
	const char *path;
	const char *text; /* the file's text, to find where a key stands */
	char *err;
	size_t err_size;
	struct md_config *cfg;
};

/* Line and column of the first "key" after from (jansson keeps no positions in values). */
static const char *locate(const struct parse *p, const char *from, const char *key, int *line,
                          int *col)
{
	char quoted[160];
	const char *at;

	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	at = strstr(from ? from : p->text, quoted);
	if (!at)
		at = strstr(p->text, quoted);
	*line = 1;
	*col = 1;
	if (!at)
		return from;
	for (const char *c = p->text; c < at; c++) {
		if (*c == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
	return at;
}

static int fail_at(const struct parse *p, const char *from, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(const struct parse *p, const char *from, const char *key, const char *fmt, ...)
{
	char what[256];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	locate(p, from, key, &line, &col);
	snprintf(p->err, p->err_size, "%s:%d:%d: %s", p->path, line, col, what);
	return -EINVAL;
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

static int parse_object(struct parse *p, json_t *obj, const struct key *keys, const char *from,
                        const char *where);

/* A file's group (socket_group, dump_group): a gid, which only POSIX has. */
static int resolve_group(const char *name, int64_t *ret)
{
	struct md_principal g;

	if (md_principal_group_by_name(name, &g) < 0)
		return -ENOENT;
	*ret = g.id;
	return 0;
}

static int parse_value(struct parse *p, const struct key *k, json_t *v, const char *at)
{
	switch (k->kind) {
	case K_UINT:
	case K_U64:
	case K_DAYS: {
		json_int_t x;

		if (!json_is_integer(v))
			return fail_at(p, at, k->name, "\"%s\" must be a whole number", k->name);
		x = json_integer_value(v);
		if (x < 0 || (uint64_t)x > k->max)
			return fail_at(p, at, k->name, "\"%s\" must be between 0 and %llu", k->name,
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
			return fail_at(p, at, k->name, "\"%s\" must be true or false", k->name);
		*(bool *)k->dst = json_is_true(v);
		return 0;
	case K_TRISTATE: /* true, false, or null for the default */
		if (!json_is_boolean(v) && !json_is_null(v))
			return fail_at(p, at, k->name, "\"%s\" must be true, false or null",
			               k->name);
		*(int *)k->dst = json_is_null(v) ? -1 : json_is_true(v);
		return 0;
	case K_TEXT:
		if (json_is_null(v) && k->nullable) {
			*(const char **)k->dst = NULL;
			return 0;
		}
		if (!json_is_string(v) || strlen(json_string_value(v)) > k->max)
			return fail_at(p, at, k->name,
			               "\"%s\" must be a string of at most %llu bytes%s", k->name,
			               (unsigned long long)k->max, k->nullable ? ", or null" : "");
		*(const char **)k->dst = md_config_strdup(p->cfg, json_string_value(v));
		return *(const char **)k->dst ? 0 : -ENOMEM;
	case K_PATH: {
		const char *s;

		if (json_is_null(v) && k->nullable) {
			*(const char **)k->dst = NULL;
			return 0;
		}
		if (!json_is_string(v))
			return fail_at(p, at, k->name, "\"%s\" must be a string%s", k->name,
			               k->nullable ? " or null" : "");
		s = json_string_value(v);
		if (!md_platform_path_is_absolute(s))
			return fail_at(p, at, k->name, "\"%s\" must be an absolute path", k->name);
		*(const char **)k->dst = md_config_strdup(p->cfg, s);
		return *(const char **)k->dst ? 0 : -ENOMEM;
	}
	case K_MODE: {
		char *end;
		unsigned long m;

		if (!json_is_string(v))
			return fail_at(p, at, k->name,
			               "\"%s\" must be an octal string such as \"0660\"", k->name);
		m = strtoul(json_string_value(v), &end, 8);
		if (*end || m > 0777)
			return fail_at(p, at, k->name,
			               "\"%s\": \"%s\" is not a mode from 0 to 0777", k->name,
			               json_string_value(v));
		*(unsigned *)k->dst = (unsigned)m;
		return 0;
	}
	case K_GROUP:
		if (json_is_null(v)) {
			*(int64_t *)k->dst = -1;
			return 0;
		}
		if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= (json_int_t)UINT_MAX_CFG - 1) {
			*(int64_t *)k->dst = json_integer_value(v);
			return 0;
		}
		if (json_is_string(v)) {
			if (resolve_group(json_string_value(v), (int64_t *)k->dst) < 0)
				return fail_at(p, at, k->name, "\"%s\": no group \"%s\"", k->name,
				               json_string_value(v));
			return 0;
		}
		return fail_at(p, at, k->name, "\"%s\" must be a group name, a gid or null",
		               k->name);
	case K_OBJECT:
		if (!json_is_object(v))
			return fail_at(p, at, k->name, "\"%s\" must be an object", k->name);
		return parse_object(p, v, k->children, at, k->name);
	}
	return -EINVAL;
}

static int parse_object(struct parse *p, json_t *obj, const struct key *keys, const char *from,
                        const char *where)
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
		at = locate(p, from, name, &line, &col);
		if (!k->name)
			return fail_at(p, from, name, "unknown key \"%s\"%s%s", name,
			               where ? " in " : "", where ? where : "");
		r = parse_value(p, k, v, at);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_file(const char *path, char **ret)
{
	size_t len;

	return md_os_read_file(path, MD_CONFIG_MAX_BYTES, ret, &len);
}

/* Parses text as JSON; jansson reports syntax errors with their line and column. */
static json_t *load_json(const char *path, const char *text, char *err, size_t err_size)
{
	json_error_t je;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);

	if (!root) {
		snprintf(err, err_size, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(err, err_size, "%s:1:1: the top level must be an object", path);
		json_decref(root);
		return NULL;
	}
	return root;
}

int md_config_load(struct md_config *cfg, const char *path, char *err, size_t err_size)
{
	const struct key store[] = {
	    {"max_total_bytes", K_U64, &cfg->store_max_total_bytes, UINT64_MAX >> 1, NULL, false},
	    {"max_dumps", K_U64, &cfg->store_max_dumps, UINT_MAX_CFG, NULL, false},
	    {"max_age_days", K_DAYS, &cfg->store_max_age_s, 36500, NULL, false},
	    {"min_free_bytes", K_U64, &cfg->store_min_free_bytes, UINT64_MAX >> 1, NULL, false},
	    {"max_dumps_per_user", K_U64, &cfg->store_max_dumps_per_user, UINT_MAX_CFG, NULL,
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
	    {"user", K_TEXT, &cfg->user, 64, NULL, false},
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
	struct parse p = {.path = path, .err = err, .err_size = err_size, .cfg = cfg};
	char *text = NULL;
	json_t *root;
	int r;

	r = read_file(path, &text);
	if (r < 0) {
		snprintf(err, err_size, "%s: %s", path, md_os_strerror(-r));
		return r;
	}
	p.text = text;
	root = load_json(path, text, err, err_size);
	if (!root) {
		free(text);
		return -EINVAL;
	}
	r = parse_object(&p, root, top, NULL, NULL);
	if (r == 0 && cfg->max_dumps == 0)
		r = fail_at(&p, NULL, "max_concurrent_dumps",
		            "\"max_concurrent_dumps\" must be at least 1");
	if (r == 0 && cfg->dump_budget_ms == 0)
		r = fail_at(&p, NULL, "dump_timeout_ms", "\"dump_timeout_ms\" must be at least 1");
	if (r == 0 && cfg->dump_gid >= 0 &&
	    md_platform_set_file_group(-1, cfg->dump_gid) == -EOPNOTSUPP)
		r = fail_at(
		    &p, NULL, "dump_group",
		    "\"dump_group\": files have no group on this system; dumps stay readable by "
		    "the daemon's account only");
	if (r == 0 && cfg->store_compress && !md_zstd_available())
		r = fail_at(&p, NULL, "compress",
		            "\"compress\": this build of minidumpd has no zstd support");
	if (r == 0)
		cfg->config_path = md_config_strdup(cfg, path);
	json_decref(root);
	free(text);
	return r;
}

/* ---- policy ---- */

/* A list of users (or groups): names or numbers; "*" (users only) means everyone. */
static int parse_ids(struct parse *p, struct md_policy *pol, json_t *v, const char *key,
                     bool groups, struct md_id_list *out, bool *everyone, const char *at)
{
	size_t i;
	json_t *e;

	if (everyone && json_is_string(v) && strcmp(json_string_value(v), "*") == 0) {
		*everyone = true;
		return 0;
	}
	if (!json_is_array(v))
		return fail_at(p, at, key, "\"%s\" must be a list of %s names or ids%s", key,
		               groups ? "group" : "user", everyone ? ", or \"*\"" : "");
	json_array_foreach(v, i, e)
	{
		struct md_principal *who;

		if (out->n >= MD_POLICY_IDS_MAX)
			return fail_at(p, at, key, "\"%s\" lists more than %d entries", key,
			               MD_POLICY_IDS_MAX);
		if (pol->n_principals >= MD_POLICY_PRINCIPALS_MAX)
			return fail_at(p, at, key, "the policy names more than %d users and groups",
			               MD_POLICY_PRINCIPALS_MAX);
		who = &pol->principals[pol->n_principals];
		if (json_is_integer(e)) {
			if (json_integer_value(e) < 0 ||
			    (uint64_t)json_integer_value(e) >= UINT_MAX_CFG)
				return fail_at(p, at, key, "\"%s\": bad id", key);
			*who = md_principal_from_id((uint32_t)json_integer_value(e));
		} else if (json_is_string(e)) {
			int r = groups ? md_principal_group_by_name(json_string_value(e), who)
			               : md_principal_user_by_name(json_string_value(e), who);

			if (r < 0)
				return fail_at(p, at, key, "\"%s\": no %s \"%s\"", key,
				               groups ? "group" : "user", json_string_value(e));
		} else {
			return fail_at(p, at, key, "\"%s\" entries must be names or ids", key);
		}
		out->at[out->n++] = (uint16_t)pol->n_principals++;
	}
	return 0;
}

static int parse_rule(struct parse *p, struct md_policy *pol, json_t *r,
                      struct md_policy_rule *rule, const char *from)
{
	const char *name;
	json_t *v;
	bool has_who = false, has_scope = false;

	if (!json_is_object(r))
		return fail_at(p, from, "rules", "each rule must be an object");
	json_object_foreach(r, name, v)
	{
		int line, col, e = 0;
		const char *at = locate(p, from, name, &line, &col);

		if (strcmp(name, "users") == 0) {
			e = parse_ids(p, pol, v, name, false, &rule->uids, &rule->everyone, at);
			has_who = true;
		} else if (strcmp(name, "groups") == 0) {
			e = parse_ids(p, pol, v, name, true, &rule->gids, NULL, at);
			has_who = true;
		} else if (strcmp(name, "may_dump") == 0) {
			has_scope = true;
			if (json_is_string(v) && strcmp(json_string_value(v), "own") == 0) {
				rule->scope = MD_POLICY_OWN;
			} else if (json_is_string(v) && strcmp(json_string_value(v), "any") == 0) {
				rule->scope = MD_POLICY_ANY;
			} else if (json_is_object(v)) {
				const char *k2;
				json_t *v2;

				rule->scope = MD_POLICY_LIST;
				json_object_foreach(v, k2, v2)
				{
					const char *at2 = locate(p, at, k2, &line, &col);

					if (strcmp(k2, "users") == 0)
						e = parse_ids(p, pol, v2, k2, false,
						              &rule->target_uids, NULL, at2);
					else if (strcmp(k2, "groups") == 0)
						e = parse_ids(p, pol, v2, k2, true,
						              &rule->target_gids, NULL, at2);
					else
						e = fail_at(p, at, k2,
						            "unknown key \"%s\" in may_dump", k2);
					if (e < 0)
						return e;
				}
			} else {
				return fail_at(p, at, name,
				               "\"may_dump\" must be \"own\", \"any\" or "
				               "{\"users\": [...], \"groups\": [...]}");
			}
		} else {
			return fail_at(p, at, name, "unknown key \"%s\" in a rule", name);
		}
		if (e < 0)
			return e;
	}
	if (!has_who || !has_scope)
		return fail_at(p, from, "rules",
		               "a rule needs \"users\" or \"groups\", and \"may_dump\"");
	return 0;
}

int md_config_load_policy(struct md_config *cfg, char *err, size_t err_size)
{
	struct parse p = {.path = cfg->policy_path, .err = err, .err_size = err_size, .cfg = cfg};
	struct md_policy pol;
	char *text = NULL;
	json_t *root, *rules, *r;
	const char *key;
	json_t *v;
	size_t i;
	int e = 0;

	if (!cfg->policy_path)
		return 0;
	e = read_file(cfg->policy_path, &text);
	if (e < 0) {
		snprintf(err, err_size, "%s: %s", cfg->policy_path, md_os_strerror(-e));
		return e;
	}
	p.text = text;
	root = load_json(cfg->policy_path, text, err, err_size);
	if (!root) {
		free(text);
		return -EINVAL;
	}
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "rules") != 0) {
			e = fail_at(&p, NULL, key, "unknown key \"%s\"", key);
			goto out;
		}
	}
	rules = json_object_get(root, "rules");
	if (!json_is_array(rules)) {
		e = fail_at(&p, NULL, "rules", "\"rules\" must be a list of rules");
		goto out;
	}
	if (json_array_size(rules) > MD_POLICY_RULES_MAX) {
		e = fail_at(&p, NULL, "rules", "more than %d rules", MD_POLICY_RULES_MAX);
		goto out;
	}
	memset(&pol, 0, sizeof(pol));
	{
		const char *from = strstr(text, "\"rules\"");

		json_array_foreach(rules, i, r)
		{
			/* each rule's keys are looked for after the previous rule's opening */
			const char *brace = from ? strchr(from + 1, '{') : NULL;

			e = parse_rule(&p, &pol, r, &pol.rules[pol.n_rules], brace ? brace : from);
			if (e < 0)
				goto out;
			pol.n_rules++;
			from = brace ? brace : from;
		}
	}
	cfg->policy = pol;
out:
	json_decref(root);
	free(text);
	return e;
}

static bool in_list(const struct md_policy *p, const struct md_id_list *l,
                    const struct md_principal *who)
{
	for (size_t i = 0; i < l->n; i++)
		if (md_principal_equal(&p->principals[l->at[i]], who))
			return true;
	return false;
}

bool md_policy_allows(const struct md_policy *p, const struct md_principal *user,
                      const struct md_principal *groups, size_t n_groups,
                      const struct md_principal *target_user,
                      const struct md_principal *target_group)
{
	if (md_principal_is_root(user))
		return true; /* root can ptrace anything anyway */
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct md_policy_rule *r = &p->rules[i];
		bool applies = r->everyone || in_list(p, &r->uids, user);

		for (size_t g = 0; !applies && g < n_groups; g++)
			applies = in_list(p, &r->gids, &groups[g]);
		if (!applies)
			continue;
		if (r->scope == MD_POLICY_ANY)
			return true;
		if (r->scope == MD_POLICY_OWN && md_principal_equal(target_user, user))
			return true;
		if (r->scope == MD_POLICY_LIST && (in_list(p, &r->target_uids, target_user) ||
		                                   in_list(p, &r->target_gids, target_group)))
			return true;
	}
	return false;
}
