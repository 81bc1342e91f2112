/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake MCD stub core for testing and fuzzing the protocol layer.
 */

#ifndef TESTS_UNIT_MCD_FAKE_CORE_H
#define TESTS_UNIT_MCD_FAKE_CORE_H

/* How many cores the fake target has. */
#define MCD_FAKE_NR_CORES 2

/* How often mcd_target_detach() was called. */
extern unsigned mcd_fake_detach_count;

#endif /* TESTS_UNIT_MCD_FAKE_CORE_H */
