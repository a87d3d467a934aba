/* SPDX-License-Identifier: MIT */
/*
 * The one home of the defaults the daemon, mdctl and the uploader share: file locations (from
 * meson's sysconfdir and localstatedir, through config.h; docs/config.md) and the daemon's
 * tunables that a config file or flag may change. Nothing else spells a default path.
 */
#pragma once

#include "config.h"
#include "md-proto.h"

/* locations */
#define MD_DEFAULT_CONFIG_FILE   MD_SYSCONFDIR "/minidumpd/minidumpd.json"
#define MD_DEFAULT_UPLOAD_CONFIG MD_SYSCONFDIR "/minidumpd/mdupload.json"
#define MD_DEFAULT_DUMP_DIR      MD_LOCALSTATEDIR "/lib/minidumpd/dumps"
#define MD_DEFAULT_UPLOAD_OUTBOX MD_LOCALSTATEDIR "/lib/minidumpd/outbox"
#define MD_DEFAULT_UPLOAD_STATE  MD_LOCALSTATEDIR "/lib/mdupload/state"
#define MD_DEFAULT_SOCKET        MD_PROTO_SOCKET_DEFAULT /* a named pipe's name on Windows */

/* the daemon's tunables */
#define MD_DEFAULT_SOCKET_MODE      0666
#define MD_DEFAULT_MAX_DUMPS        4     /* dumps in flight at once */
#define MD_DEFAULT_DUMP_BUDGET_MS   30000 /* time one dump may take before it is cancelled */
#define MD_DEFAULT_STORE_CHECK_S    300   /* s between periodic passes over the store */
#define MD_DEFAULT_LOOP_MAX_CRASHES 10    /* crashes of one program within the window... */
#define MD_DEFAULT_LOOP_WINDOW_S    60    /* ...seconds, before later ones are summarized */
/* per-user limits (docs/security.md); root has none */
#define MD_DEFAULT_USER_MAX_RUNNING 0  /* 0: half the workers (at least 1) */
#define MD_DEFAULT_USER_MAX_QUEUED  16 /* requested dumps of one user waiting */
#define MD_DEFAULT_USER_BURST       10 /* dump-now and dump requests of one user at once... */
#define MD_DEFAULT_USER_PER_MIN     20 /* ...and per minute after that */
