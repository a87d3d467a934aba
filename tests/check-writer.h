/* SPDX-License-Identifier: MIT */
/*
 * What the writer suite's two files share: the temporary folder of a test (made and removed by
 * the checked fixture tmpdir_setup/tmpdir_teardown) and the capture tests' suite.
 */
#pragma once

#include <check.h>

extern char tmpdir[64]; /* the current test's folder, under /tmp */

void tmpdir_setup(void);
void tmpdir_teardown(void);

/* check-capture.c: the snapshot builder and the capture pipeline. */
Suite *capture_suite(void);
