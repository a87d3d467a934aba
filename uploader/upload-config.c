/* SPDX-License-Identifier: MIT */
/*
 * Loading mdupload's JSON configuration (see upload-config.h and docs/upload.md). Every key is
 * checked here, once: the rest of the uploader trusts the struct. Unknown keys are errors, not
 * warnings, so a typo never silently disables something (consent above all).
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-defaults.h"
#include "md-report.h"
#include "upload-config.h"

#define DEFAULT_MAX_BYTES       (100ull * 1024 * 1024) /* bytes of one request body */
#define DEFAULT_RATE_PER_MINUTE 60                     /* requests per minute per server */
#define DEFAULT_TIMEOUT_MS      120000                 /* ms for one whole request */
#define DEFAULT_SCAN_MS         2000                   /* ms between listings of the outbox */
#define DEFAULT_RETRY_INITIAL   5000                   /* ms before the first retry */
#define DEFAULT_RETRY_MAX       3600000                /* ms: longest wait between retries */
#define RATE_MAX                60000                  /* requests per minute (1 per ms) */
#define SCAN_MIN_MS             10                     /* ms: fastest outbox listing */

struct ctx {
	const char *file;
	char *err;
	size_t err_size;
};

static int bad(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->err_size, "%s: %s", c->file, msg);
	return -EINVAL;
}

/* Rejects any key of o not in the NULL-terminated list allowed. */
static int only_keys(struct ctx *c, json_t *o, const char *where, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		size_t i;

		for (i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (!allowed[i])
			return bad(c, "%s%s%s: unknown key", where, where[0] ? "." : "", key);
	}
	return 0;
}

static int get_string(struct ctx *c, json_t *o, const char *key, const char *where, char **ret)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad(c, "%s%s: must be a non-empty string", where, key);
	free(*ret);
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

static int get_bool(struct ctx *c, json_t *o, const char *key, const char *where, bool *ret)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return bad(c, "%s%s: must be true or false", where, key);
	*ret = json_is_true(v);
	return 0;
}

static int get_uint(struct ctx *c, json_t *o, const char *key, const char *where, uint64_t min,
                    uint64_t max, uint64_t *ret)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
		return bad(c, "%s%s: must be an integer from %llu to %llu", where, key,
		           (unsigned long long)min, (unsigned long long)max);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_uint32(struct ctx *c, json_t *o, const char *key, const char *where, unsigned min,
                      unsigned max, unsigned *ret)
{
	uint64_t v = *ret;
	int r = get_uint(c, o, key, where, min, max, &v);

	*ret = (unsigned)v;
	return r;
}

int mdu_upload_url_parse(const char *url, bool *ret_tls, char **ret_host, int *ret_port,
                         char **ret_path)
{
	const char *p, *host, *host_end, *path;
	char *h = NULL, *pa = NULL;
	long port;
	bool tls;

	if (strncmp(url, "http://", 7) == 0) {
		tls = false;
		p = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		tls = true;
		p = url + 8;
	} else {
		return -EINVAL;
	}
	host = p;
	path = p + strcspn(p, "/?#");
	if (*path == '#' || memchr(host, '@', (size_t)(path - host)))
		return -EINVAL; /* no fragments; credentials belong in a DSN or a field */
	port = tls ? 443 : 80;
	if (*host == '[') { /* an IPv6 literal */
		host_end = memchr(host, ']', (size_t)(path - host));
		if (!host_end)
			return -EINVAL;
		host++;
		p = host_end + 1;
	} else {
		host_end = memchr(host, ':', (size_t)(path - host));
		if (!host_end)
			host_end = path;
		p = host_end;
	}
	if (p < path) {
		char *end;

		if (*p != ':')
			return -EINVAL;
		port = strtol(p + 1, &end, 10);
		if (end != path || port < 1 || port > 65535)
			return -EINVAL;
	}
	if (host_end == host)
		return -EINVAL;
	for (const char *q = path; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '#')
			return -EINVAL; /* no spaces or controls in a request line */
	h = strndup(host, (size_t)(host_end - host));
	if (*path == '?' || !*path) {
		pa = malloc(strlen(path) + 2);
		if (pa)
			sprintf(pa, "/%s", path);
	} else {
		pa = strdup(path);
	}
	if (!h || !pa) {
		free(h);
		free(pa);
		return -ENOMEM;
	}
	*ret_tls = tls;
	*ret_host = h;
	*ret_port = (int)port;
	*ret_path = pa;
	return 0;
}

int mdu_upload_sentry_url(const char *dsn, char **ret_url)
{
	const char *scheme_end = strstr(dsn, "://"), *at, *rest, *slash, *project;
	size_t key_len, scheme_len;
	char *url;

	if (!scheme_end)
		return -EINVAL;
	scheme_len = (size_t)(scheme_end - dsn);
	if (!((scheme_len == 4 && strncmp(dsn, "http", 4) == 0) ||
	      (scheme_len == 5 && strncmp(dsn, "https", 5) == 0)))
		return -EINVAL;
	rest = scheme_end + 3;
	at = strchr(rest, '@');
	if (!at || at == rest)
		return -EINVAL;
	key_len = strcspn(rest, ":@"); /* the public key; a legacy ":secret" is dropped */
	for (size_t i = 0; i < key_len; i++)
		if (!((rest[i] >= 'a' && rest[i] <= 'z') || (rest[i] >= 'A' && rest[i] <= 'Z') ||
		      (rest[i] >= '0' && rest[i] <= '9')))
			return -EINVAL;
	slash = strrchr(at, '/');
	if (!slash || slash[1] == '\0' || strchr(slash, '?') || slash == at + 1)
		return -EINVAL;
	project = slash + 1;
	for (const char *q = project; *q; q++)
		if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') || *q == '-'))
			return -EINVAL;
	/* scheme://HOST[:PORT][/PREFIX] + /api/PROJECT/minidump/?sentry_key=KEY */
	if (asprintf(&url, "%.*s://%.*s/api/%s/minidump/?sentry_key=%.*s", (int)scheme_len, dsn,
	             (int)(slash - at - 1), at + 1, project, (int)key_len, rest) < 0)
		return -ENOMEM;
	*ret_url = url;
	return 0;
}

static bool name_ok(const char *s)
{
	if (!s[0] || strlen(s) >= MD_UPLOAD_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* A form field name goes into a Content-Disposition header: no quotes, controls or CR/LF. */
static bool field_key_ok(const char *s)
{
	if (!s[0] || strlen(s) >= MD_UPLOAD_FIELD_KEY_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' || *s == 0x7f)
			return false;
	return true;
}

static int load_server(struct ctx *c, json_t *o, size_t index, struct mdu_upload_config *cfg,
                       struct mdu_upload_server *s)
{
	static const char *const keys[] = {
	    "name",       "url",     "sentry_dsn", "kind", "gzip", "max_bytes", "rate_per_minute",
	    "timeout_ms", "ca_file", "fields",     NULL};
	char where[32], obj[32], *kind = NULL, *dsn = NULL;
	uint64_t max_bytes = DEFAULT_MAX_BYTES;
	json_t *fields;
	int r;

	snprintf(where, sizeof(where), "servers[%zu].", index);
	s->rate_per_minute = DEFAULT_RATE_PER_MINUTE;
	s->timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!json_is_object(o))
		return bad(c, "servers[%zu]: must be an object", index);
	snprintf(obj, sizeof(obj), "servers[%zu]", index);
	if ((r = only_keys(c, o, obj, keys)) < 0)
		return r;
	if ((r = get_string(c, o, "name", where, &s->name)) < 0 ||
	    (r = get_string(c, o, "url", where, &s->url)) < 0 ||
	    (r = get_string(c, o, "sentry_dsn", where, &dsn)) < 0 ||
	    (r = get_string(c, o, "kind", where, &kind)) < 0 ||
	    (r = get_bool(c, o, "gzip", where, &s->gzip)) < 0 ||
	    (r = get_uint(c, o, "max_bytes", where, 1, MD_UPLOAD_BODY_HARD_MAX, &max_bytes)) < 0 ||
	    (r = get_uint32(c, o, "rate_per_minute", where, 0, RATE_MAX, &s->rate_per_minute)) <
	        0 ||
	    (r = get_uint32(c, o, "timeout_ms", where, 1, MD_UPLOAD_TIMEOUT_MAX_MS,
	                    &s->timeout_ms)) < 0 ||
	    (r = get_string(c, o, "ca_file", where, &s->ca_file)) < 0)
		goto out;
	s->max_bytes = max_bytes;
	if (!s->name) {
		r = bad(c, "%sname: required", where);
		goto out;
	}
	if (!name_ok(s->name)) {
		r = bad(c, "%sname: 1 to %d characters of A-Z a-z 0-9 . _ -", where,
		        MD_UPLOAD_NAME_MAX - 1);
		goto out;
	}
	for (size_t i = 0; i < index; i++) {
		if (strcmp(cfg->servers[i].name, s->name) == 0) {
			r = bad(c, "%sname: \"%s\" is used twice", where, s->name);
			goto out;
		}
	}
	if (!kind || strcmp(kind, "breakpad") == 0) {
		s->kind = dsn && !kind ? MD_UPLOAD_KIND_SENTRY : MD_UPLOAD_KIND_BREAKPAD;
	} else if (strcmp(kind, "sentry") == 0) {
		s->kind = MD_UPLOAD_KIND_SENTRY;
	} else {
		r = bad(c, "%skind: must be \"breakpad\" or \"sentry\"", where);
		goto out;
	}
	if (!!s->url == !!dsn) {
		r = bad(c, "%s: exactly one of url and sentry_dsn is required", obj);
		goto out;
	}
	if (dsn && s->kind != MD_UPLOAD_KIND_SENTRY) {
		r = bad(c, "%ssentry_dsn: needs kind \"sentry\"", where);
		goto out;
	}
	if (dsn && mdu_upload_sentry_url(dsn, &s->url) < 0) {
		r = bad(c, "%ssentry_dsn: not a Sentry DSN (SCHEME://KEY@HOST/PROJECT)", where);
		goto out;
	}
	if (strlen(s->url) >= MD_UPLOAD_URL_MAX ||
	    mdu_upload_url_parse(s->url, &s->tls, &s->host, &s->port, &s->path) < 0) {
		r = bad(c, "%s%s: not an http:// or https:// URL (no credentials, no fragment)",
		        where, dsn ? "sentry_dsn" : "url");
		goto out;
	}
	fields = json_object_get(o, "fields");
	if (fields) {
		const char *key;
		json_t *v;

		if (!json_is_object(fields) || json_object_size(fields) > MD_UPLOAD_FIELDS_MAX) {
			r = bad(c, "%sfields: must be an object of at most %d strings", where,
			        MD_UPLOAD_FIELDS_MAX);
			goto out;
		}
		s->field_keys = calloc(json_object_size(fields) + 1, sizeof(char *));
		s->field_values = calloc(json_object_size(fields) + 1, sizeof(char *));
		if (!s->field_keys || !s->field_values) {
			r = -ENOMEM;
			goto out;
		}
		json_object_foreach(fields, key, v)
		{
			if (!field_key_ok(key) || strcmp(key, "upload_file_minidump") == 0) {
				r = bad(c, "%sfields: \"%s\" cannot name a form field", where, key);
				goto out;
			}
			if (!json_is_string(v) ||
			    json_string_length(v) >= MD_UPLOAD_FIELD_VALUE_MAX) {
				r = bad(c, "%sfields.%s: must be a string under %d bytes", where,
				        key, MD_UPLOAD_FIELD_VALUE_MAX);
				goto out;
			}
			{
				char *k = strdup(key), *val = strdup(json_string_value(v));

				if (!k || !val) {
					free(k);
					free(val);
					r = -ENOMEM;
					goto out;
				}
				s->field_keys[s->n_fields] = k;
				s->field_values[s->n_fields++] = val;
			}
		}
	}
	r = 0;
out:
	free(kind);
	free(dsn);
	return r;
}

static int load(struct ctx *c, json_t *root, struct mdu_upload_config *cfg)
{
	static const char *const keys[] = {
	    "outbox",           "state_dir", "consent", "metrics_file",
	    "scan_interval_ms", "retry",     "servers", NULL};
	static const char *const retry_keys[] = {"initial_ms", "max_ms", "max_attempts", NULL};
	json_t *retry, *servers, *v;
	size_t i;
	int r;

	if (!json_is_object(root))
		return bad(c, "the configuration must be a JSON object");
	if ((r = only_keys(c, root, "", keys)) < 0 ||
	    (r = get_string(c, root, "outbox", "", &cfg->outbox)) < 0 ||
	    (r = get_string(c, root, "state_dir", "", &cfg->state_dir)) < 0 ||
	    (r = get_string(c, root, "metrics_file", "", &cfg->metrics_file)) < 0 ||
	    (r = get_bool(c, root, "consent", "", &cfg->consent)) < 0 ||
	    (r = get_uint32(c, root, "scan_interval_ms", "", SCAN_MIN_MS, 3600000,
	                    &cfg->scan_interval_ms)) < 0)
		return r;
	retry = json_object_get(root, "retry");
	if (retry) {
		if (!json_is_object(retry))
			return bad(c, "retry: must be an object");
		if ((r = only_keys(c, retry, "retry", retry_keys)) < 0 ||
		    (r = get_uint32(c, retry, "initial_ms", "retry.", 1, 86400000,
		                    &cfg->retry_initial_ms)) < 0 ||
		    (r = get_uint32(c, retry, "max_ms", "retry.", 1, 86400000,
		                    &cfg->retry_max_ms)) < 0 ||
		    (r = get_uint32(c, retry, "max_attempts", "retry.", 0, 1000000,
		                    &cfg->retry_max_attempts)) < 0)
			return r;
		if (cfg->retry_max_ms < cfg->retry_initial_ms)
			return bad(c, "retry.max_ms: must not be below retry.initial_ms");
	}
	servers = json_object_get(root, "servers");
	if (!servers)
		return 0;
	if (!json_is_array(servers) || json_array_size(servers) > MD_UPLOAD_SERVERS_MAX)
		return bad(c, "servers: must be an array of at most %d servers",
		           MD_UPLOAD_SERVERS_MAX);
	cfg->servers = calloc(json_array_size(servers) + 1, sizeof(*cfg->servers));
	if (!cfg->servers)
		return -ENOMEM;
	json_array_foreach(servers, i, v)
	{
		cfg->n_servers = i + 1;
		r = load_server(c, v, i, cfg, &cfg->servers[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int mdu_upload_config_load(const char *path, struct mdu_upload_config **ret_config, char *err,
                           size_t err_size)
{
	struct ctx c = {.file = path ? path : "(defaults)", .err = err, .err_size = err_size};
	struct mdu_upload_config *cfg = calloc(1, sizeof(*cfg));
	json_t *root = NULL;
	json_error_t je;
	int r = -ENOMEM;

	if (!cfg)
		goto out;
	cfg->scan_interval_ms = DEFAULT_SCAN_MS;
	cfg->retry_initial_ms = DEFAULT_RETRY_INITIAL;
	cfg->retry_max_ms = DEFAULT_RETRY_MAX;
	if (path) {
		root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
		if (!root) {
			r = json_error_code(&je) == json_error_cannot_open_file ? -ENOENT : -EINVAL;
			snprintf(err, err_size, "%s:%d:%d: %s", path, je.line, je.column, je.text);
			goto out;
		}
		r = load(&c, root, cfg);
		if (r < 0)
			goto out;
	}
	r = -ENOMEM;
	if (!cfg->outbox && !(cfg->outbox = strdup(MD_DEFAULT_UPLOAD_OUTBOX)))
		goto out;
	if (!cfg->state_dir && !(cfg->state_dir = strdup(MD_DEFAULT_UPLOAD_STATE)))
		goto out;
	r = 0;
out:
	if (r == -ENOMEM && err[0] == '\0')
		snprintf(err, err_size, "%s: out of memory", c.file);
	json_decref(root);
	if (r < 0) {
		mdu_upload_config_free(cfg);
		return r;
	}
	*ret_config = cfg;
	return 0;
}

void mdu_upload_config_free(struct mdu_upload_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_servers; i++) {
		struct mdu_upload_server *s = &c->servers[i];

		md_report_pairs_free(s->field_keys, s->field_values, s->n_fields);
		free(s->name);
		free(s->url);
		free(s->host);
		free(s->path);
		free(s->ca_file);
	}
	free(c->servers);
	free(c->outbox);
	free(c->state_dir);
	free(c->metrics_file);
	free(c);
}

int64_t mdu_upload_backoff_ms(const struct mdu_upload_config *cfg, unsigned attempt, uint32_t rnd)
{
	uint64_t d = cfg->retry_initial_ms;

	for (unsigned i = 1; i < attempt && d < cfg->retry_max_ms; i++)
		d *= 2;
	if (d > cfg->retry_max_ms)
		d = cfg->retry_max_ms;
	return (int64_t)(d / 2 + (d - d / 2) * (uint64_t)rnd / UINT32_MAX);
}
