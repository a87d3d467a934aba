/* SPDX-License-Identifier: MIT */
/*
 * The symbolize suite's test cases kept in files of their own, added to its Suite by
 * check-symbolize.c: Windows minidumps (check-symbolize-windows.c) and the helper as a
 * socket-activated service (check-symbolize-socket.c).
 */
#pragma once

#include <check.h>

void symbolize_windows_tcase(Suite *s);
void symbolize_socket_tcase(Suite *s);
