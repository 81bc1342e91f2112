/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub left out of the build (configure --disable-mcd).
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "mcdstub/mcdstub.h"

bool mcdserver_start(const char *device, Error **errp)
{
    ERRP_GUARD();

    error_setg(errp, "mcdstub: this QEMU was built without the MCD stub");
    error_append_hint(errp, "Configure QEMU with --enable-mcd.\n");
    return false;
}
