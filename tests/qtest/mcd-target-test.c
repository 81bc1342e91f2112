/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for the MCD stub on the targets other than ARM: RISC-V and x86.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "mcd-util.h"

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    return g_test_run();
}
