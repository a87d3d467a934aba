/* SPDX-License-Identifier: MIT */
/*
 * `mdctl status`: the daemon's version, uptime and counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "md-os.h"
#include "mdctl.h"

static void usage(FILE *f)
{
	fputs("Usage: mdctl status [--json] [--socket PATH]\n\n"
	      "Show the daemon's version, uptime and counters.\n",
	      f);
}

int mdctl_status_main(int argc, char **argv)
{
	static uint8_t reply[MD_PROTO_MAX_MESSAGE];
	const char *socket_path = NULL, *key;
	bool as_json = false;
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_STRING("socket", 0, &socket_path),
	    MD_CMDLINE_SET("json", 0, &as_json),
	    MD_CMDLINE_END,
	};
	uint8_t msg[32];
	struct md_proto_enc e;
	struct md_proto_msg m;
	json_t *j, *v;
	int n, r;

	if (!mdctl_parse_options(argc, argv, opts, usage, &r))
		return r;
	socket_path = mdctl_socket_path(socket_path);
	md_proto_begin(&e, msg, sizeof(msg), MD_MSG_STATUS_REQUEST);
	n = md_proto_finish(&e);
	r = mdctl_request(socket_path, msg, (size_t)n, 10000, reply, sizeof(reply), &m);
	if (r < 0) {
		fprintf(stderr, "mdctl: cannot reach minidumpd at %s: %s\n", socket_path,
		        md_os_strerror(-r));
		return MDCTL_EXIT_FAILURE;
	}
	if (m.type != MD_MSG_STATUS) {
		fprintf(stderr, "mdctl: %s\n",
		        m.type == MD_MSG_ERROR ? m.text : "unexpected reply");
		return MDCTL_EXIT_FAILURE;
	}
	if (as_json) {
		printf("%s\n", m.text);
		return MDCTL_EXIT_OK;
	}
	j = json_loads(m.text, 0, NULL);
	printf("minidumpd at %s\n", socket_path);
	json_object_foreach(j, key, v)
	{
		char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);

		printf("  %-18s %s\n", key, s ? s : json_string_value(v));
		free(s);
	}
	json_decref(j);
	return MDCTL_EXIT_OK;
}
