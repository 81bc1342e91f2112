/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the MCD stub's JSON front-end (mcdstub/json.c),
 * with its generated marshallers, on the fake target of mcd-fake-core.c.
 * Built and run with clang by buildsys/fuzz.sh ("make fuzz"), not by
 * meson.
 *
 * The first byte of the input chooses how the rest is cut into reads.
 * Every reply must be one line holding one JSON object with "return" or
 * "error".
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/main-loop.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "mcdstub/json.h"
#include "mcd-fake-core.h"

static GString *fuzz_out;

static void fuzz_write(void *opaque, const uint8_t *buf, size_t len)
{
    g_string_append_len(fuzz_out, (const char *)buf, len);
}

static const MCDJsonOps fuzz_ops = {
    .write = fuzz_write,
};

static void check_output(const GString *out)
{
    g_auto(GStrv) lines = g_strsplit(out->str, "\n", -1);
    size_t i;

    g_assert(!out->len || out->str[out->len - 1] == '\n');
    for (i = 0; lines[i] && lines[i][0]; i++) {
        QObject *obj = qobject_from_json(lines[i], &error_abort);
        QDict *rsp = qobject_to(QDict, obj);

        g_assert(rsp);
        g_assert(qdict_haskey(rsp, "return") || qdict_haskey(rsp, "error"));
        qobject_unref(obj);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    qemu_init_main_loop(&error_abort);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static MCDJsonServer *j;
    size_t chunk, off;

    if (size == 0) {
        return 0;
    }
    if (!j) {
        j = mcd_json_server_new(&fuzz_ops, NULL);
    }
    chunk = data[0] ? data[0] : size;
    data++;
    size--;

    fuzz_out = g_string_new(NULL);
    mcd_json_connect(j);
    for (off = 0; off < size; off += chunk) {
        mcd_json_input(j, data + off, MIN(chunk, size - off));
    }
    /* a step's reply waits for its end: let it end */
    mcd_fake_stop(0);
    mcd_fake_stop(1);
    /* the client goes away, and a packet client ends its session */
    mcd_json_disconnect(j);
    mcd_json_end_session(j);
    check_output(fuzz_out);
    g_string_free(fuzz_out, true);
    return 0;
}
