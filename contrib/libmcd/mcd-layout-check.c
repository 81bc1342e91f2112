/* SPDX-License-Identifier: MIT */
/*
 * Compile-time check of the MCD API 1.1 structure layout: the build of
 * libmcd fails if a structure of mcd_api.h drifts from the offsets and
 * sizes of the 1.1 ABI on LP64 Linux.
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 */

#include <stddef.h>
#include "mcd_api.h"
#include "mcd-layout-check.h"

#if defined(__linux__) && (defined(__x86_64__) || defined(__LP64__))

#define CHECK_SIZE(type, size) \
    _Static_assert(sizeof(type) == (size), "sizeof(" #type ") != " #size);
#define CHECK_OFF(type, field, off) \
    _Static_assert(offsetof(type, field) == (off), \
                   "offsetof(" #type ", " #field ") != " #off);

MCD_LAYOUT_LIST(CHECK_SIZE, CHECK_OFF)

#endif

/* Keep the translation unit non-empty on other hosts. */
typedef int mcd_layout_check_unused;
