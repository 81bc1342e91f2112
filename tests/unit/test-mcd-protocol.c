/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the MCD stub command and query tables
 * (mcdstub/protocol.c) against a fake target (mcd-fake-core.c):
 * parameter parsing, records, pagination, errors and negotiation.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "mcdstub/internals.h"
#include "mcd-fake-core.h"

/* The reply to "qprotocol" with the extensions @enabled */
#define PROTOCOL_MAX(max_payload, enabled) \
    "version=2.max_payload=" max_payload ".max_data=16384." \
    "max_binary=1048576.extensions=errors,steps,wplen,resethalt,stepirq," \
    "notify,stoprec,txopt,lists,regs,binary,coreinfo,stopregs.enabled=" \
    enabled "."
#define PROTOCOL(enabled) PROTOCOL_MAX("33792", enabled)
/* binary data raises the payload limit to 2 MiB + 256 bytes */
#define PROTOCOL_BINARY(enabled) PROTOCOL_MAX("2097408", enabled)

typedef struct Client {
    MCDServer s;
    GString *out;
} Client;

static void client_write(void *opaque, const uint8_t *buf, size_t len)
{
    Client *c = opaque;

    g_string_append_len(c->out, (const char *)buf, len);
}

static void client_packet(void *opaque, const char *payload, size_t len,
                          bool oversized)
{
    Client *c = opaque;

    mcd_handle_packet(&c->s, payload, len, oversized);
}

static const MCDPacketOps client_ops = {
    .write = client_write,
    .packet = client_packet,
};

static Client *client_new(void)
{
    Client *c = g_new0(Client, 1);

    c->out = g_string_new(NULL);
    mcd_server_init(&c->s, &client_ops, c);
    return c;
}

static void client_free(Client *c)
{
    mcd_server_destroy(&c->s);
    g_string_free(c->out, true);
    g_free(c);
}

/*
 * Send @cmd and check the reply: @reply is the payload of the reply
 * packet, or NULL when only the '+' may come back.
 */
static void check(Client *c, const char *cmd, const char *reply)
{
    g_autofree char *pkt = g_strdup_printf("$%s#|", cmd);
    g_autofree char *expected = reply ? g_strdup_printf("+$%s#|", reply)
                                      : g_strdup("+");

    g_string_truncate(c->out, 0);
    mcd_packet_input(&c->s.packet, (const uint8_t *)pkt, strlen(pkt));
    g_assert_cmpstr(c->out->str, ==, expected);
}

/* Parse @params with @schema; returns whether it parsed. */
static bool parse(const char *schema, const char *params, MCDCmdArgs *args)
{
    bool ok;

    memset(args, 0, sizeof(*args));
    ok = mcd_parse_args(schema, params, strlen(params), args);
    if (!ok && args->data) {
        g_byte_array_unref(args->data);
        args->data = NULL;
    }
    return ok;
}

static void test_parse_numbers(void)
{
    MCDCmdArgs a;

    g_assert_true(parse("cdl", "1;4294967295;18446744073709551615", &a));
    g_assert_cmpuint(a.arg[0].u32, ==, 1);
    g_assert_cmpuint(a.arg[1].u32, ==, UINT32_MAX);
    g_assert_cmpuint(a.arg[2].u64, ==, UINT64_MAX);
    g_assert_true(parse("", "", &a));
    g_assert_true(parse("q", "007", &a));
    g_assert_cmpuint(a.arg[0].u32, ==, 7);

    g_assert_false(parse("d", "4294967296", &a));
    g_assert_false(parse("l", "18446744073709551616", &a));
    g_assert_false(parse("l", "-1", &a));
    g_assert_false(parse("l", "0x10", &a));
    g_assert_false(parse("cd", "1", &a));
    g_assert_false(parse("cd", "1;2;3", &a));
    g_assert_false(parse("cd", "1;;2", &a));
    g_assert_false(parse("c", "", &a));
    g_assert_false(parse("", "1", &a));
}

static void test_parse_hex_and_string(void)
{
    MCDCmdArgs a;

    g_assert_true(parse("clh", "0;4096;00ff7Fa5", &a));
    g_assert_cmpuint(a.arg[1].u64, ==, 4096);
    g_assert_cmpuint(a.data->len, ==, 4);
    g_assert_cmpmem(a.data->data, 4, "\x00\xff\x7f\xa5", 4);
    g_byte_array_unref(a.data);

    /* empty hex data is zero bytes */
    g_assert_true(parse("ch", "0;", &a));
    g_assert_cmpuint(a.data->len, ==, 0);
    g_byte_array_unref(a.data);

    /* odd length, non-hex characters */
    g_assert_false(parse("ch", "0;123", &a));
    g_assert_false(parse("ch", "0;zz", &a));
    g_assert_false(parse("ch", "0;0g", &a));
    g_assert_false(parse("ch", "0;00 ", &a));

    /* a string takes the rest, separators included */
    g_assert_true(parse("cs", "3;a;b c", &a));
    g_assert_cmpstr(a.arg[1].str, ==, "a;b c");
    g_assert_true(parse("s", "", &a));
    g_assert_cmpstr(a.arg[0].str, ==, "");
}

static void test_handshake(void)
{
    Client *c = client_new();

    check(c, "I", "shaking your hand");
    g_assert_true(c->s.session_open);
    check(c, "qsystem", "qemu-system");
    /* '.' cannot appear in a value: the device name "fake-1.0" */
    check(c, "qcores", "device=fake-1_0.core=fake-cpu.nr_cores=2.");
    check(c, "qtrigger", "nr_trigger=16.type=1,2,3,4."
          "option=break_on_trigger.action=check_data_value.");
    client_free(c);
}

static void test_unknown(void)
{
    Client *c = client_new();

    check(c, "", "");
    check(c, "Z", "");
    check(c, "q", "");
    check(c, "qnosuch", "");
    check(c, "qSystem", "");
    client_free(c);
}

static void test_open_close_core(void)
{
    Client *c = client_new();

    check(c, "i0", NULL);
    check(c, "i1", NULL);
    g_assert_cmpuint(g_hash_table_size(c->s.cores), ==, 2);
    /* opening again is fine */
    check(c, "i0", NULL);
    g_assert_cmpuint(g_hash_table_size(c->s.cores), ==, 2);
    check(c, "d1", NULL);
    g_assert_cmpuint(g_hash_table_size(c->s.cores), ==, 1);

    /* no such core, core not open: era-1 commands answer "error" */
    check(c, "i2", "error");
    check(c, "i4294967295", "error");
    check(c, "d1", "error");
    g_assert_cmpuint(g_hash_table_size(c->s.cores), ==, 1);
    client_free(c);
}

static void test_bad_numbers(void)
{
    Client *c = client_new();
    static const char *const bad[] = {
        "i", "i-1", "i+1", "i 1", "i1 ", "i0x1", "i1a", "i1;", "i;1",
        "i4294967296", "i99999999999999999999999", "d", "d-0",
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        check(c, bad[i], "error");
    }
    g_assert_cmpuint(g_hash_table_size(c->s.cores), ==, 0);
    /* trailing text after a command without parameters */
    check(c, "Ix", "error");
    g_assert_false(c->s.session_open);
    /* queries answer the empty packet, as the era-1 stub did */
    check(c, "qresetc", "");
    check(c, "qresetcx", "");
    check(c, "qresetc-1", "");
    check(c, "qmemoryf", "");
    check(c, "qsystemx", "");
    client_free(c);
}

static void test_resets(void)
{
    Client *c = client_new();

    check(c, "qresetf0", "1!name=full_system_reset.id=0.");
    check(c, "qresetc1", "0!name=core_reset.id=1.");
    check(c, "qresetc0", "1!name=full_system_reset.id=0.");
    check(c, "qresetc2", "");
    client_free(c);
}

static void test_lists(void)
{
    Client *c = client_new();

    /* lists of a core that is not open */
    check(c, "qmemoryf0", "");
    check(c, "i0", NULL);

    check(c, "qmemoryf0", "1!name=Physical.id=1.type=18.bpm=8.i=1.e=1."
          "min=0.max=-1.sao=0.");
    check(c, "qmemoryc1", "0!name=GPR Registers.id=2.type=1.bpm=8.i=1.e=1."
          "min=0.max=-1.sao=0.");
    check(c, "qmemoryc2", "");

    check(c, "qreggroupf0", "1!id=1.name=core.");
    check(c, "qreggroupc1", "0!id=2.name=system.");

    check(c, "qregf0", "1!id=0.name=r0.size=32.reggroupid=1.memspaceid=2."
          "type=0.thread=0.opcode=0.");
    check(c, "qregc1", "2!id=15.name=pc.size=32.reggroupid=1.memspaceid=2."
          "type=0.thread=0.opcode=0.");
    check(c, "qregc2", "0!id=100.name=sys_reg.size=64.reggroupid=2."
          "memspaceid=2.type=0.thread=0.opcode=4660.");
    check(c, "qregc3", "");
    client_free(c);
}

static void test_empty_lists(void)
{
    Client *c = client_new();

    check(c, "i1", NULL);
    check(c, "qmemoryf1", "0!");
    check(c, "qreggroupf1", "0!");
    check(c, "qregf1", "0!");
    check(c, "qregc0", "0!");
    check(c, "qregc1", "");
    client_free(c);
}

/* The continuation queries refer to the core of the last first query. */
static void test_list_core(void)
{
    Client *c = client_new();

    check(c, "i0", NULL);
    check(c, "i1", NULL);
    check(c, "qregf1", "0!");
    check(c, "qregc1", "");
    check(c, "qmemoryf0", "1!name=Physical.id=1.type=18.bpm=8.i=1.e=1."
          "min=0.max=-1.sao=0.");
    check(c, "qregc1", "2!id=15.name=pc.size=32.reggroupid=1.memspaceid=2."
          "type=0.thread=0.opcode=0.");
    client_free(c);
}

static void test_oversized(void)
{
    Client *c = client_new();
    g_autofree char *big = g_strnfill(MCD_PACKET_MAX_PAYLOAD + 1, '1');
    g_autofree char *cmd = g_strconcat("i", big, NULL);

    check(c, cmd, "error");
    check(c, "qprotocolerrors", PROTOCOL("errors"));
    check(c, cmd, "error=258.text=packet longer than 33792 bytes.");
    client_free(c);
}

static void test_negotiation(void)
{
    Client *c = client_new();

    check(c, "qprotocol", PROTOCOL(""));
    /* an unknown extension enables nothing */
    check(c, "qprotocolerrors,bogus", "");
    check(c, "i2", "error");
    check(c, "qprotocolerrors", PROTOCOL("errors"));

    /* now every command answers, errors with an MCD error code */
    check(c, "i0", "success");
    check(c, "i2", "error=258.text=no core 2.");
    check(c, "d1", "error=257.text=core 1 is not open.");
    check(c, "i-1", "error=258.text=malformed parameters for 'i'.");
    check(c, "qregc9", "error=258.text=no list item 9, the list has 3.");
    check(c, "qmemoryf1", "error=257.text=core 1 is not open.");
    check(c, "qprotocolbogus", "error=258.text=unknown extension 'bogus'.");
    /* unknown commands still get the empty packet */
    check(c, "Z", "");
    check(c, "d0", "success");

    /* detach ends the session and its extensions */
    check(c, "D", "success");
    check(c, "i2", "error");
    client_free(c);
}

static void test_detach(void)
{
    Client *c = client_new();
    unsigned before = mcd_fake_detach_count;

    check(c, "I", "shaking your hand");
    check(c, "i0", NULL);
    check(c, "D", NULL);
    g_assert_false(c->s.session_open);
    g_assert_cmpuint(g_hash_table_size(c->s.cores), ==, 0);
    g_assert_cmpuint(mcd_fake_detach_count, ==, before + 1);
    /* a session can start again */
    check(c, "I", "shaking your hand");
    client_free(c);
}

static void test_registers(void)
{
    Client *c = client_new();

    check(c, "p0;15", "");
    check(c, "i0", NULL);
    check(c, "P0;15;4;78563412", "success");
    check(c, "p0;15", "78563412");
    check(c, "P0;0;4;01000000", "success");
    check(c, "p0;0", "01000000");
    check(c, "p0;15", "78563412");

    /* era-1: a failed read is the empty packet, a failed write "error" */
    check(c, "p0;7", "");
    check(c, "p1;0", "");
    check(c, "p0;x", "");
    check(c, "P0;15;2;1234", "error");       /* not the register's size */
    check(c, "P0;15;4;1234", "error");       /* length and data differ */
    check(c, "P0;15;4;7856341", "error");    /* odd hex */
    check(c, "P0;15;4;7856341g", "error");   /* not hex */
    check(c, "P0;100;8;0000000000000000", "error");  /* read-only */
    check(c, "P0;7;4;00000000", "error");
    check(c, "p0;15", "78563412");

    check(c, "qprotocolerrors", PROTOCOL("errors"));
    check(c, "p0;7", "error=258.text=core 0 has no register 7.");
    check(c, "P0;100;8;0000000000000000",
          "error=8449.text=system register sys_reg is read-only.");
    client_free(c);
}

static void test_memory(void)
{
    Client *c = client_new();
    g_autofree char *data = g_strnfill(2 * 16384, 'a');
    g_autofree char *write = g_strdup_printf("M0;1;4096;16384;%s", data);
    g_autofree char *more = g_strnfill(2 * 17000, 'b');
    g_autofree char *big = g_strdup_printf("M0;1;4096;17000;%s", more);
    g_autoptr(GString) hex = g_string_new(NULL);
    g_autofree char *cmd = NULL;
    int i;

    check(c, "i0", NULL);
    check(c, "M0;1;4100;4;deadbeef", "success");
    check(c, "m0;1;4100;4", "deadbeef");
    check(c, "m0;1;4098;8", "0000deadbeef0000");
    check(c, "M0;1;4096;0;", "success");
    check(c, "m0;1;4096;0", "");

    /* as much as a packet holds */
    check(c, write, "success");
    check(c, "m0;1;4096;16384", data);
    check(c, big, "error");                      /* oversized packet */
    check(c, "m0;1;4096;16385", "error");        /* more than 16 KiB */

    check(c, "M0;1;4096;3;deadbeef", "error");   /* length and data differ */
    check(c, "M0;1;4096;4;deadbeeg", "error");   /* not hex */
    check(c, "m0;2;4096;4", "error");            /* a register space */
    check(c, "m0;3;4096;4", "error");            /* no such space */
    check(c, "m0;0;4096;4", "error");
    check(c, "m0;1;0;4", "error");               /* nothing there */
    check(c, "M0;1;0;1;00", "error");
    check(c, "m1;1;4096;4", "error");            /* core not open */
    check(c, "m0;1;4100;4", "aaaaaaaa");

    /* every byte value, also where a read is no multiple of 4 bytes */
    for (i = 0; i < 256; i++) {
        g_string_append_printf(hex, "%02x", i);
    }
    cmd = g_strdup_printf("M0;1;4096;256;%s", hex->str);
    check(c, cmd, "success");
    check(c, "m0;1;4096;256", hex->str);
    check(c, "m0;1;4097;255", hex->str + 2);
    check(c, "m0;1;4099;6", "030405060708");
    /* every length up to 40 bytes, from four alignments */
    for (i = 0; i < 4 * 41; i++) {
        g_autofree char *read = g_strdup_printf("m0;1;%d;%d", 4096 + i % 4,
                                                i / 4);
        g_autofree char *want = g_strndup(hex->str + 2 * (i % 4),
                                          2 * (i / 4));

        check(c, read, want);
    }

    check(c, "qprotocolerrors", PROTOCOL("errors"));
    check(c, "m0;3;4096;4", "error=5136.text=core 0 has no memory space 3.");
    check(c, "m0;1;0;4", "error=8448.text=cannot read 0x0.");
    check(c, "M0;1;0;1;00", "error=8449.text=cannot write 0x0.");
    client_free(c);
}

static void test_run_control(void)
{
    Client *c = client_new();

    check(c, "i0", NULL);
    check(c, "qstate0", "state=running.event=0.thread=0.type=0.address=0."
          "stop_str=.info_str=core 0 running.");
    check(c, "b1;0", NULL);
    check(c, "qstate0", "state=debug.event=0.thread=0.type=0.address=0."
          "stop_str=stopped on request.info_str=core 0 stopped.");
    check(c, "C0;0", NULL);
    check(c, "qstate0", "state=running.event=0.thread=0.type=0.address=0."
          "stop_str=.info_str=core 0 running.");
    check(c, "b0;0", NULL);

    /* era-1 clients read no reply to these: failures stay silent */
    check(c, "C0;1", NULL);         /* core 1 is not open */
    check(c, "C2;0", NULL);
    check(c, "c0;0", NULL);         /* the core runs */
    check(c, "c0;0;2", NULL);       /* no steps extension */
    check(c, "r7", NULL);           /* no such reset class */
    check(c, "r0;0;1", NULL);       /* no resethalt extension */
    check(c, "Cx", NULL);
    check(c, "qstate1", "");

    check(c, "qprotocolerrors", PROTOCOL("errors"));
    /* what a client sent comes back printable and unframed */
    check(c, "qprotocolx\xe9\x01|$%~y", "error=258.text=unknown extension "
          "'x______y'.");
    check(c, "C0;1", "error=257.text=core 1 is not open.");
    check(c, "C2;0", "error=258.text=global must be 0 or 1, not 2.");
    check(c, "C0;0", "success");
    check(c, "c0;0", "error=257.text=core 0 is running.");
    check(c, "c0;0;2", "error=258.text=enable the steps extension first.");
    check(c, "c1;0", "error=256.text=global steps are not supported: "
          "step one core.");
    check(c, "r7", "error=258.text=unknown reset class 7.");
    check(c, "r0;0;1", "error=258.text=enable the resethalt extension "
          "first.");
    check(c, "C1;0", "success");

    /* detach lets a guest the debugger stopped run again */
    check(c, "b1;0", "success");
    check(c, "D", "success");
    check(c, "i0", NULL);
    check(c, "qstate0", "state=running.event=0.thread=0.type=0.address=0."
          "stop_str=.info_str=core 0 running.");
    client_free(c);
}

/* Era-1 clients get a stop once; stoprec clients until the core runs. */
static void test_stop_records(void)
{
    Client *c = client_new();

    check(c, "i0", NULL);
    check(c, "b1;0", NULL);
    check(c, "qstate0", "state=debug.event=0.thread=0.type=0.address=0."
          "stop_str=stopped on request.info_str=core 0 stopped.");
    check(c, "qstate0", "state=debug.event=0.thread=0.type=0.address=0."
          "stop_str=.info_str=core 0 stopped.");
    check(c, "C1;0", NULL);
    check(c, "qprotocolstoprec", PROTOCOL("stoprec"));
    check(c, "b1;0", NULL);
    check(c, "qstate0", "state=debug.event=16.thread=0.type=0.address=0."
          "stop_str=stopped on request.info_str=core 0 stopped."
          "trig_id=0.pc=0.data_addr=0.");
    check(c, "qstate0", "state=debug.event=0.thread=0.type=0.address=0."
          "stop_str=stopped on request.info_str=core 0 stopped."
          "trig_id=0.pc=0.data_addr=0.");
    check(c, "C1;0", NULL);
    check(c, "qstate0", "state=running.event=0.thread=0.type=0.address=0."
          "stop_str=.info_str=core 0 running.trig_id=0.pc=0.data_addr=0.");
    client_free(c);
}

/* Only TCG can run the stub's breakpoints and steps. */
static void test_accel(void)
{
    static const char *const refused[] = {
        "KVM", "HVF", "WHPX", "NVMM", "Xen", "QTest", "",
    };
    Error *err = NULL;
    size_t i;

    g_assert_true(mcd_accel_usable("tcg", &error_abort));
    for (i = 0; i < ARRAY_SIZE(refused); i++) {
        g_assert_false(mcd_accel_usable(refused[i], &err));
        g_assert_nonnull(strstr(error_get_pretty(err), "not supported"));
        error_free(err);
        err = NULL;
    }
}

static void test_extensions(void)
{
    Client *c = client_new();
    unsigned steps = mcd_fake_steps;

    check(c, "i0", NULL);
    check(c, "b1;0", NULL);
    check(c, "c0;0", NULL);
    g_assert_cmpuint(mcd_fake_steps, ==, steps + 1);
    g_assert_true(!mcd_fake_step_irqs);
    check(c, "r0", NULL);
    g_assert_cmpint(mcd_fake_reset_class, ==, 0);
    g_assert_cmpint(mcd_fake_reset_core, ==, -1);
    g_assert_false(mcd_fake_reset_halt);
    /* an era-1 core reset resets the core of the last qresetf */
    check(c, "qresetf0", "1!name=full_system_reset.id=0.");
    check(c, "r1", NULL);
    g_assert_cmpint(mcd_fake_reset_class, ==, 1);
    g_assert_cmpint(mcd_fake_reset_core, ==, 0);
    check(c, "t0;3;4096;1", "success");
    g_assert_cmpuint(mcd_fake_trigger_len, ==, 4);
    check(c, "t0;3;4096;1;8", "error");

    check(c, "qprotocolsteps,wplen,resethalt,stepirq",
          PROTOCOL("steps,wplen,resethalt,stepirq"));
    check(c, "c0;0;5", NULL);
    g_assert_cmpuint(mcd_fake_steps, ==, steps + 6);
    g_assert_true(mcd_fake_step_irqs);
    check(c, "t0;3;4096;1;8", "success");
    g_assert_cmpuint(mcd_fake_trigger_len, ==, 8);
    check(c, "T0;3;4096;1;8", "success");
    check(c, "r1;0;1", NULL);
    g_assert_cmpint(mcd_fake_reset_class, ==, 1);
    g_assert_cmpint(mcd_fake_reset_core, ==, 0);
    g_assert_true(mcd_fake_reset_halt);
    check(c, "r0;1;1", NULL);         /* core 1 is not open */
    g_assert_cmpint(mcd_fake_reset_class, ==, 1);
    check(c, "r0;0", NULL);           /* the halt flag is missing */
    check(c, "r0;0;2", NULL);
    g_assert_cmpint(mcd_fake_reset_class, ==, 1);

    check(c, "qprotocolerrors", PROTOCOL("errors,steps,wplen,resethalt,"
                                         "stepirq"));
    check(c, "r0;0;0", "success");
    g_assert_cmpint(mcd_fake_reset_class, ==, 0);
    g_assert_false(mcd_fake_reset_halt);
    check(c, "r0;0", "error=258.text=malformed parameters for 'r'.");
    check(c, "r0;0;2", "error=258.text=halt must be 0 or 1.");
    client_free(c);
}

static void test_optional_args(void)
{
    MCDCmdArgs a;

    g_assert_true(parse("dc?d", "1;2", &a));
    g_assert_cmpuint(a.count, ==, 2);
    g_assert_true(parse("dc?d", "1;2;3", &a));
    g_assert_cmpuint(a.count, ==, 3);
    g_assert_cmpuint(a.arg[2].u32, ==, 3);
    g_assert_true(parse("d?cd", "1", &a));
    g_assert_cmpuint(a.count, ==, 1);
    g_assert_true(parse("d?cd", "1;0;1", &a));
    g_assert_cmpuint(a.arg[1].u32, ==, 0);
    g_assert_cmpuint(a.arg[2].u32, ==, 1);
    g_assert_false(parse("d?cd", "1;0", &a));
    g_assert_false(parse("dc?d", "1;2;", &a));
    g_assert_false(parse("dc?d", "1;2;3;4", &a));
    g_assert_false(parse("dc?d", "1", &a));
}

static void test_nul_in_payload(void)
{
    Client *c = client_new();
    static const char pkt[] = "$I\0x#|";

    mcd_packet_input(&c->s.packet, (const uint8_t *)pkt, sizeof(pkt) - 1);
    g_assert_cmpstr(c->out->str, ==, "+$#|");
    client_free(c);
}

/* Send the packet @cmd of @len bytes; returns the raw output. */
static const char *send_raw(Client *c, const char *cmd, size_t len)
{
    g_autoptr(GString) pkt = g_string_new("$");

    g_string_append_len(pkt, cmd, len);
    g_string_append(pkt, "#|");
    g_string_truncate(c->out, 0);
    mcd_packet_input(&c->s.packet, (const uint8_t *)pkt->str, pkt->len);
    return c->out->str;
}

static void test_ext_coreinfo(void)
{
    Client *c = client_new();

    /* unknown until enabled, then per core, open or not */
    check(c, "qcoreinfo0", "");
    check(c, "qprotocolcoreinfo", PROTOCOL("coreinfo"));
    check(c, "qcoreinfo1", "core=1.model=fake-cpu.arch=fake.core_type=0.");
    check(c, "qcoreinfo2", "");
    check(c, "qprotocolerrors", PROTOCOL("errors,coreinfo"));
    check(c, "qcoreinfo2", "error=258.text=there is no core 2.");
    check(c, "qcoreinfo4294967295", "error=258.text=there is no core "
          "4294967295.");
    client_free(c);
}

static void test_ext_lists(void)
{
    Client *c = client_new();

    check(c, "i0", NULL);
    check(c, "i1", NULL);
    check(c, "qprotocollists", PROTOCOL("lists"));
    check(c, "qregf0", "0!id=0.name=r0.size=32.reggroupid=1.memspaceid=2."
          "type=0.thread=0.opcode=0.;id=15.name=pc.size=32.reggroupid=1."
          "memspaceid=2.type=0.thread=0.opcode=0.;id=100.name=sys_reg."
          "size=64.reggroupid=2.memspaceid=2.type=0.thread=0.opcode=4660.");
    check(c, "qregc2", "0!id=100.name=sys_reg.size=64.reggroupid=2."
          "memspaceid=2.type=0.thread=0.opcode=4660.");
    check(c, "qregc3", "");
    check(c, "qreggroupf0", "0!id=1.name=core.;id=2.name=system.");
    check(c, "qmemoryf0", "0!name=Physical.id=1.type=18.bpm=8.i=1.e=1."
          "min=0.max=-1.sao=0.;name=GPR Registers.id=2.type=1.bpm=8.i=1."
          "e=1.min=0.max=-1.sao=0.");
    check(c, "qresetf0", "0!name=full_system_reset.id=0.;name=core_reset."
          "id=1.");
    check(c, "qregf1", "0!");
    client_free(c);
}

static void test_ext_regs(void)
{
    Client *c = client_new();
    static const char *const bad[] = {
        "g0;", "g0;15-0", "g0;0,", "g0;,0", "g0;0;1", "g0;0-", "g0;-1",
        "g0;0-4096", "g0;1", "g1;0", "g0;18446744073709551615",
        "g0;18446744073709551614-18446744073709551615",
        "G0;0;0100", "G0;0,15;01000000",
        "G0;0;010000000", "G0;0;0100000g", "G0;0",
    };
    size_t i;

    check(c, "i0", NULL);
    /* unknown until enabled */
    check(c, "g0;0", "");
    check(c, "G0;0;00000000", "");
    check(c, "qprotocolregs", PROTOCOL("regs"));
    check(c, "G0;0,15;0100000078563412", "success");
    check(c, "g0;0,15", "0100000078563412");
    check(c, "g0;15,0,15", "785634120100000078563412");
    check(c, "g0;0,15,100", "01000000785634120000000000000000");
    check(c, "g0;0-0,15-15,0", "010000007856341201000000");
    check(c, "p0;0", "01000000");
    /* a failed write puts back the registers written before it */
    check(c, "G0;0,100,15;02000000000000000000000011111111", "error");
    check(c, "g0;0,15", "0100000078563412");
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        check(c, bad[i], "error");
    }
    check(c, "qprotocolerrors", PROTOCOL("errors,regs"));
    check(c, "g0;1", "error=258.text=core 0 has no register 1.");
    check(c, "G0;0,15;01000000", "error=258.text=the registers take 8 "
          "bytes, not 4.");
    check(c, "G0;0,100,15;02000000000000000000000011111111",
          "error=8449.text=system register sys_reg is read-only.");
    client_free(c);
}

/* The stop notification of a core, as the client receives it. */
static void check_stop(Client *c, const char *notification)
{
    g_string_truncate(c->out, 0);
    mcd_fake_stop(0);
    g_assert_cmpstr(c->out->str, ==, notification);
}

static void test_ext_stopregs(void)
{
    Client *c = client_new();
    static const char *const bad[] = {
        "E0;", "E0;1", "E0;0,1", "E1;0", "E0;0-4096", "E0;0;1", "E0;x",
    };
    size_t i;

    check(c, "I", "shaking your hand");
    check(c, "i0", NULL);
    /* unknown until enabled */
    check(c, "E0;0", "");
    check(c, "qprotocolnotify,regs,stopregs",
          PROTOCOL("notify,regs,stopregs"));
    check(c, "G0;0,15;0100000078563412", "success");
    check_stop(c, "%stop=0.#|");
    check(c, "E0;15,0", "success");
    check_stop(c, "%stop=0.regs=7856341201000000.#|");
    /* the values of the moment of the stop */
    check(c, "G0;0;02000000", "success");
    check_stop(c, "%stop=0.regs=7856341202000000.#|");
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        check(c, bad[i], "error");
    }
    /* a failed E leaves the list as it was */
    check_stop(c, "%stop=0.regs=7856341202000000.#|");
    /* a list replaces the last one; E alone ends it */
    check(c, "E0;0-0", "success");
    check_stop(c, "%stop=0.regs=02000000.#|");
    check(c, "E0", "success");
    check_stop(c, "%stop=0.#|");
    /* opening the open core keeps the list, closing it forgets it */
    check(c, "E0;0", "success");
    check(c, "i0", NULL);
    check_stop(c, "%stop=0.regs=02000000.#|");
    check(c, "d0", NULL);
    check(c, "i0", NULL);
    check_stop(c, "%stop=0.#|");
    /* with stoprec, after the state record */
    check(c, "E0;15", "success");
    check(c, "qprotocolstoprec,errors",
          PROTOCOL("errors,notify,stoprec,regs,stopregs"));
    check(c, "b1;0", "success");
    check_stop(c, "%stop=0.state=debug.event=16.thread=0.type=0.address=0."
               "stop_str=stopped on request.info_str=core 0 stopped."
               "trig_id=0.pc=0.data_addr=0.regs=78563412.#|");
    check(c, "E0;1", "error=258.text=core 0 has no register 1.");
    check(c, "E0;100,100,100", "success");
    check(c, "D", "success");
    client_free(c);
}

static void test_ext_binary(void)
{
    Client *c = client_new();
    static const char write[] = "X0;1;4096;8;\0a}\x03$}\x04}]}\x05\xff";
    static const char reply[] = "+$\0a}\x03}\x04}\x04}]}\x05\xff#|";
    g_autofree char *big = g_strnfill(1024 * 1024, 'z');
    g_autofree char *bigw = g_strdup_printf("X0;1;4096;%d;%s", 1024 * 1024,
                                            big);

    check(c, "i0", NULL);
    check(c, "x0;1;4096;4", "");
    check(c, "qprotocolbinary", PROTOCOL_BINARY("binary"));
    /* NUL as it is; '#', '$', '%' and '}' escaped (an unescaped '$' too) */
    g_assert_cmpstr(send_raw(c, write, sizeof(write) - 1), ==, "+$success#|");
    send_raw(c, "x0;1;4096;8", 11);
    g_assert_cmpmem(c->out->str, c->out->len, reply, sizeof(reply) - 1);
    check(c, "m0;1;4096;8", "00612324247d25ff");
    /* a '}' at the end, a length that differs, too much, no such space */
    g_assert_cmpstr(send_raw(c, "X0;1;4096;1;}", 13), ==, "+$error#|");
    g_assert_cmpstr(send_raw(c, "X0;1;4096;2;}#", 14), ==, "-");
    check(c, "X0;1;4096;2;a", "error");
    check(c, "x0;1;4096;1048577", "error");
    check(c, "x0;3;4096;1", "error");
    check(c, "x0;1;0;1", "error");
    check(c, "x0;1;4096;1;2", "error");
    /* the fake RAM is 64 KiB; a 1 MiB write fits in a packet */
    check(c, bigw, "error");
    check(c, "qprotocolerrors", PROTOCOL_BINARY("errors,binary"));
    check(c, bigw, "error=8449.text=cannot write 0x1000.");
    check(c, "x0;1;4096;1;2", "error=258.text=access options 0x2 not "
          "supported by memory space 1.");
    client_free(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/mcd/protocol/parse-numbers", test_parse_numbers);
    g_test_add_func("/mcd/protocol/parse-hex-and-string",
                    test_parse_hex_and_string);
    g_test_add_func("/mcd/protocol/handshake", test_handshake);
    g_test_add_func("/mcd/protocol/unknown", test_unknown);
    g_test_add_func("/mcd/protocol/open-close-core", test_open_close_core);
    g_test_add_func("/mcd/protocol/bad-numbers", test_bad_numbers);
    g_test_add_func("/mcd/protocol/resets", test_resets);
    g_test_add_func("/mcd/protocol/lists", test_lists);
    g_test_add_func("/mcd/protocol/empty-lists", test_empty_lists);
    g_test_add_func("/mcd/protocol/list-core", test_list_core);
    g_test_add_func("/mcd/protocol/oversized", test_oversized);
    g_test_add_func("/mcd/protocol/negotiation", test_negotiation);
    g_test_add_func("/mcd/protocol/detach", test_detach);
    g_test_add_func("/mcd/protocol/registers", test_registers);
    g_test_add_func("/mcd/protocol/memory", test_memory);
    g_test_add_func("/mcd/protocol/run-control", test_run_control);
    g_test_add_func("/mcd/protocol/stop-records", test_stop_records);
    g_test_add_func("/mcd/protocol/ext-coreinfo", test_ext_coreinfo);
    g_test_add_func("/mcd/protocol/ext-lists", test_ext_lists);
    g_test_add_func("/mcd/protocol/ext-regs", test_ext_regs);
    g_test_add_func("/mcd/protocol/ext-binary", test_ext_binary);
    g_test_add_func("/mcd/protocol/ext-stopregs", test_ext_stopregs);
    g_test_add_func("/mcd/protocol/accel", test_accel);
    g_test_add_func("/mcd/protocol/extensions", test_extensions);
    g_test_add_func("/mcd/protocol/optional-arguments", test_optional_args);
    g_test_add_func("/mcd/protocol/nul-in-payload", test_nul_in_payload);

    return g_test_run();
}
