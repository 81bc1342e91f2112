/* SPDX-License-Identifier: MIT */
/*
 * Compile-time check of the MCD API 1.1 structure layout: the build of
 * libmcd fails if a structure of mcd_api.h drifts from the offsets and
 * sizes of the 1.1 ABI on LP64 Linux or on 64-bit Windows (where
 * mcd_bool_t is 32 bits).
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 */

#include <stddef.h>
#include "mcd_api.h"
#include "mcd-layout-check.h"

#ifdef MCD_LAYOUT_HOST

#define CHECK_SIZE(type, size) CHECK_SIZE_(type, size)
#define CHECK_SIZE_(type, size) \
    _Static_assert(sizeof(type) == (size), \
                   MCD_LAYOUT_HOST ": sizeof(" #type ") != " #size);
#define CHECK_OFF(type, field, off) CHECK_OFF_(type, field, off)
#define CHECK_OFF_(type, field, off) \
    _Static_assert(offsetof(type, field) == (off), \
                   MCD_LAYOUT_HOST ": offsetof(" #type ", " #field ") != " \
                   #off);

MCD_LAYOUT_LIST(CHECK_SIZE, CHECK_OFF)

_Static_assert(sizeof(mcd_bool_t) == MCD_LAYOUT_BOOL_SIZE,
               MCD_LAYOUT_HOST ": the size of mcd_bool_t");
_Static_assert(sizeof(void *) == 8, MCD_LAYOUT_HOST ": 64-bit pointers");

#endif

/* Keep the translation unit non-empty on other hosts. */
typedef int mcd_layout_check_unused;
