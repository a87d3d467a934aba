/* SPDX-License-Identifier: MIT */
/*
 * The dump policy (docs/security.md): reads the policy file into struct mdd_policy, refusing
 * anything unknown with its file, line and column, and decides whether a requester may have a
 * dump of a process. Users and groups may be given by name or number; a name is resolved once,
 * when the file is read.
 */
#include <errno.h>
#include <string.h>

#include "md-config-json.h"

/* A list of users (or groups): names or numbers; "*" (users only) means everyone. */
static int parse_ids(struct mdd_config_json *p, struct mdd_policy *pol, json_t *v, const char *key,
                     bool groups, struct mdd_id_list *out, bool *everyone, const char *at)
{
	size_t i;
	json_t *e;

	if (everyone && json_is_string(v) && strcmp(json_string_value(v), "*") == 0) {
		*everyone = true;
		return 0;
	}
	if (!json_is_array(v))
		return mdd_config_json_fail(
		    p, at, key, "\"%s\" must be a list of %s names or ids%s", key,
		    groups ? "group" : "user", everyone ? ", or \"*\"" : "");
	json_array_foreach(v, i, e)
	{
		struct md_principal *who;

		if (out->n >= MDD_POLICY_IDS_MAX)
			return mdd_config_json_fail(p, at, key, "\"%s\" lists more than %d entries",
			                            key, MDD_POLICY_IDS_MAX);
		if (pol->n_principals >= MDD_POLICY_PRINCIPALS_MAX)
			return mdd_config_json_fail(
			    p, at, key, "the policy names more than %d users and groups",
			    MDD_POLICY_PRINCIPALS_MAX);
		who = &pol->principals[pol->n_principals];
		if (json_is_integer(e)) {
			if (json_integer_value(e) < 0 ||
			    (uint64_t)json_integer_value(e) >= MDD_CONFIG_U32_MAX)
				return mdd_config_json_fail(p, at, key, "\"%s\": bad id", key);
			*who = md_principal_from_id((uint32_t)json_integer_value(e));
		} else if (json_is_string(e)) {
			int r = groups ? md_principal_group_by_name(json_string_value(e), who)
			               : md_principal_user_by_name(json_string_value(e), who);

			if (r < 0)
				return mdd_config_json_fail(p, at, key, "\"%s\": no %s \"%s\"", key,
				                            groups ? "group" : "user",
				                            json_string_value(e));
		} else {
			return mdd_config_json_fail(p, at, key,
			                            "\"%s\" entries must be names or ids", key);
		}
		out->at[out->n++] = (uint16_t)pol->n_principals++;
	}
	return 0;
}

static int parse_rule(struct mdd_config_json *p, struct mdd_policy *pol, json_t *r,
                      struct mdd_policy_rule *rule, const char *from)
{
	const char *name;
	json_t *v;
	bool has_who = false, has_scope = false;

	if (!json_is_object(r))
		return mdd_config_json_fail(p, from, "rules", "each rule must be an object");
	json_object_foreach(r, name, v)
	{
		int line, col, e = 0;
		const char *at = mdd_config_json_locate(p, from, name, &line, &col);

		if (strcmp(name, "users") == 0) {
			e = parse_ids(p, pol, v, name, false, &rule->uids, &rule->everyone, at);
			has_who = true;
		} else if (strcmp(name, "groups") == 0) {
			e = parse_ids(p, pol, v, name, true, &rule->gids, NULL, at);
			has_who = true;
		} else if (strcmp(name, "may_dump") == 0) {
			has_scope = true;
			if (json_is_string(v) && strcmp(json_string_value(v), "own") == 0) {
				rule->scope = MDD_POLICY_OWN;
			} else if (json_is_string(v) && strcmp(json_string_value(v), "any") == 0) {
				rule->scope = MDD_POLICY_ANY;
			} else if (json_is_object(v)) {
				const char *k2;
				json_t *v2;

				rule->scope = MDD_POLICY_LIST;
				json_object_foreach(v, k2, v2)
				{
					const char *at2 =
					    mdd_config_json_locate(p, at, k2, &line, &col);

					if (strcmp(k2, "users") == 0)
						e = parse_ids(p, pol, v2, k2, false,
						              &rule->target_uids, NULL, at2);
					else if (strcmp(k2, "groups") == 0)
						e = parse_ids(p, pol, v2, k2, true,
						              &rule->target_gids, NULL, at2);
					else
						e = mdd_config_json_fail(
						    p, at, k2, "unknown key \"%s\" in may_dump",
						    k2);
					if (e < 0)
						return e;
				}
			} else {
				return mdd_config_json_fail(
				    p, at, name,
				    "\"may_dump\" must be \"own\", \"any\" or "
				    "{\"users\": [...], \"groups\": [...]}");
			}
		} else {
			return mdd_config_json_fail(p, at, name, "unknown key \"%s\" in a rule",
			                            name);
		}
		if (e < 0)
			return e;
	}
	if (!has_who || !has_scope)
		return mdd_config_json_fail(
		    p, from, "rules", "a rule needs \"users\" or \"groups\", and \"may_dump\"");
	return 0;
}

int mdd_config_load_policy(struct mdd_config *cfg, char *err, size_t err_size)
{
	struct mdd_config_json p = {.err = err, .err_size = err_size, .cfg = cfg};
	struct mdd_policy pol;
	json_t *rules, *r, *v;
	const char *key, *from;
	size_t i;
	int e;

	if (!cfg->policy_path)
		return 0;
	e = mdd_config_json_open(&p, cfg->policy_path);
	if (e < 0)
		goto out;
	json_object_foreach(p.root, key, v)
	{
		if (strcmp(key, "rules") != 0) {
			e = mdd_config_json_fail(&p, NULL, key, "unknown key \"%s\"", key);
			goto out;
		}
	}
	rules = json_object_get(p.root, "rules");
	if (!json_is_array(rules)) {
		e = mdd_config_json_fail(&p, NULL, "rules", "\"rules\" must be a list of rules");
		goto out;
	}
	if (json_array_size(rules) > MDD_POLICY_RULES_MAX) {
		e = mdd_config_json_fail(&p, NULL, "rules", "more than %d rules",
		                         MDD_POLICY_RULES_MAX);
		goto out;
	}
	memset(&pol, 0, sizeof(pol));
	from = strstr(p.text, "\"rules\"");
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
	cfg->policy = pol;
out:
	mdd_config_json_done(&p);
	return e;
}

static bool in_list(const struct mdd_policy *p, const struct mdd_id_list *l,
                    const struct md_principal *who)
{
	for (size_t i = 0; i < l->n; i++)
		if (md_principal_equal(&p->principals[l->at[i]], who))
			return true;
	return false;
}

bool mdd_policy_allows(const struct mdd_policy *p, const struct md_principal *user,
                       const struct md_principal *groups, size_t n_groups,
                       const struct md_principal *target_user,
                       const struct md_principal *target_group)
{
	if (md_principal_is_root(user))
		return true; /* root can ptrace anything anyway */
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct mdd_policy_rule *r = &p->rules[i];
		bool applies = r->everyone || in_list(p, &r->uids, user);

		for (size_t g = 0; !applies && g < n_groups; g++)
			applies = in_list(p, &r->gids, &groups[g]);
		if (!applies)
			continue;
		if (r->scope == MDD_POLICY_ANY)
			return true;
		if (r->scope == MDD_POLICY_OWN && md_principal_equal(target_user, user))
			return true;
		if (r->scope == MDD_POLICY_LIST && (in_list(p, &r->target_uids, target_user) ||
		                                    in_list(p, &r->target_gids, target_group)))
			return true;
	}
	return false;
}
