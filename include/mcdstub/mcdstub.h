/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub: a debug server for machine-level debuggers that use the
 * Multi-Core Debug (MCD) API, such as Lauterbach TRACE32.
 *
 * See docs/interop/mcd.rst.
 */

#ifndef MCDSTUB_MCDSTUB_H
#define MCDSTUB_MCDSTUB_H

/* What "-mcd default" means: the loopback interface only. */
#define MCD_DEFAULT_DEVICE "tcp:127.0.0.1:1235"

/**
 * mcdserver_start() - start the MCD stub
 * @device: where to accept the debugger: "default", "tcp:[host]:port",
 *          "unix:path", "chardev:id" or "none"
 * @errp: set on failure
 *
 * Called once per -mcd option after the machine is created.  Fails when
 * the machine has no CPU, the accelerator cannot debug guests, @device
 * is not usable, or QEMU was built without the MCD stub.
 *
 * Returns: true on success.
 */
bool mcdserver_start(const char *device, Error **errp);

#endif /* MCDSTUB_MCDSTUB_H */
