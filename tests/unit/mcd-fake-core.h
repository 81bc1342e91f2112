/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake MCD stub core for testing and fuzzing the protocol layer.
 */

#ifndef TESTS_UNIT_MCD_FAKE_CORE_H
#define TESTS_UNIT_MCD_FAKE_CORE_H

/* How many cores the fake target has. */
#define MCD_FAKE_NR_CORES 2

/* How many sessions ended (mcd_session_free()). */
extern unsigned mcd_fake_detach_count;

/* The instructions stepped, and whether the last step let IRQs in. */
extern unsigned mcd_fake_steps;
extern bool mcd_fake_step_irqs;

/* The last reset: its class, core (-1 for none) and halt flag. */
extern int mcd_fake_reset_class;
extern int mcd_fake_reset_core;
extern bool mcd_fake_reset_halt;

/* Tell the session that @core stopped by itself (its steps ended). */
void mcd_fake_stop(uint32_t core);

/* The length of the last trigger set or removed. */
extern uint64_t mcd_fake_trigger_len;

#endif /* TESTS_UNIT_MCD_FAKE_CORE_H */
