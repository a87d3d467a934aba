/* SPDX-License-Identifier: MIT */
/*
 * mdupload: the unprivileged uploader. It takes the tickets minidumpd drops into the outbox,
 * sends each dump to the configured crash collectors (Breakpad/Crashpad multipart, Sentry) and
 * records the outcome in its own state dir, so the privileged daemon never needs the network.
 * It must never need root: it reads the outbox and the dumps (group access), writes its state
 * dir and metrics file, and talks HTTP(S). See docs/upload.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "md-cmdline.h"
#include "md-defaults.h"
#include "mdupload.h"

static bool verbose;
static bool journal; /* stderr goes to the journal: prefix lines with <priority> */

void mdu_ulog(int priority, const char *fmt, ...)
{
	char line[MD_UPLOAD_LOG_LINE], out[MD_UPLOAD_LOG_LINE + 64];
	static const char *const level[] = {"emerg",   "alert",  "crit", "error",
	                                    "warning", "notice", "info", "debug"};
	int saved = errno, n;
	va_list ap;

	if ((priority & 7) == LOG_DEBUG && !verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (journal)
		n = snprintf(out, sizeof(out), "<%d>%s\n", priority & 7, line);
	else
		n = snprintf(out, sizeof(out), "mdupload[%d] %s: %s\n", (int)getpid(),
		             level[priority & 7], line);
	if (n > (int)sizeof(out))
		n = (int)sizeof(out);
	if (n > 0 && write(STDERR_FILENO, out, (size_t)n) < 0)
		return;
	errno = saved;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mdupload [--config FILE] [--check-config] [--verbose]\n"
	           "\n"
	           "Uploads the dumps minidumpd leaves in its outbox to crash collectors.\n"
	           "  --config FILE    configuration (default " MD_DEFAULT_UPLOAD_CONFIG ")\n"
	           "  --check-config   validate the configuration, print the endpoints, exit 0/1\n"
	           "  --verbose        log every request\n"
	           "  --version        print the version\n");
}

int main(int argc, char **argv)
{
	const char *config_path = MD_DEFAULT_UPLOAD_CONFIG;
	struct mdu_upload_config *cfg = NULL;
	struct mdu_service svc = {0};
	bool check = false;
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_STRING("config", 'c', &config_path),
	    MD_CMDLINE_SET("check-config", 0, &check),
	    MD_CMDLINE_SET("verbose", 'v', &verbose),
	    MD_CMDLINE_END,
	};
	const struct md_cmdline cmdline = {"mdupload", usage, opts, .version = true,
	                                   .no_operands = true};
	char err[1024] = "";
	int r;

	if (!md_cmdline_parse(&cmdline, argc, argv, &r))
		return r;
	journal = getenv("JOURNAL_STREAM") != NULL;
	r = mdu_upload_config_load(config_path, &cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "mdupload: %s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: valid; outbox %s, state %s, consent %s\n", config_path, cfg->outbox,
		       cfg->state_dir, cfg->consent ? "true" : "false");
		for (size_t i = 0; i < cfg->n_servers; i++)
			printf("server %s: %s POST %s%s\n", cfg->servers[i].name,
			       cfg->servers[i].kind == MD_UPLOAD_KIND_SENTRY ? "sentry"
			                                                     : "breakpad",
			       cfg->servers[i].url, cfg->servers[i].gzip ? " (gzip)" : "");
		mdu_upload_config_free(cfg);
		return 0;
	}
	if (geteuid() == 0)
		mdu_ulog(LOG_WARNING,
		         "running as root: mdupload needs no privileges; run it as its "
		         "own user (see docs/upload.md)");
	/* a peer closing a connection must be an error on that request, not the end of us */
	signal(SIGPIPE, SIG_IGN);
	svc.verbose = verbose;
	r = mdu_service_init(&svc, cfg);
	if (r >= 0)
		r = mdu_service_run(&svc);
	else
		mdu_ulog(LOG_ERR, "cannot start: %s", strerror(-r));
	mdu_service_done(&svc);
	mdu_upload_config_free(cfg);
	return r < 0 ? 1 : 0;
}
