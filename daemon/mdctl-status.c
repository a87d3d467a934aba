/* SPDX-License-Identifier: MIT */
/*
 * `mdctl status`: the daemon's version, uptime and counters.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "md-os.h"
#include "mdctl.h"

int mdctl_status_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static uint8_t reply[MD_PROTO_MAX_MESSAGE];
	const char *socket_path = NULL, *key;
	bool as_json = false;
	uint8_t msg[32];
	struct md_proto_enc e;
	struct md_proto_msg m;
	json_t *j, *v;
	int c, n, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			puts("Usage: mdctl status [--json] [--socket PATH]\n\n"
			     "Show the daemon's version, uptime and counters.");
			return MDCTL_EXIT_OK;
		default:
			return MDCTL_EXIT_USAGE;
		}
	}
	if (mdctl_verb_args(argc, argv) != MDCTL_EXIT_OK)
		return MDCTL_EXIT_USAGE;
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
