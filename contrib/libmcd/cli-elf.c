/* SPDX-License-Identifier: MIT */
/*
 * mcd-cli: a small reader of ELF files for symbols and loadable
 * segments, of ELF32 and ELF64 files of either byte order.  The file is
 * read whole; every offset in it is checked against its size.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli-elf.h"

#define PT_LOAD         1
#define SHT_SYMTAB      2
#define SHT_DYNSYM      11
#define SHF_ALLOC       2
#define SHN_UNDEF       0
#define SHN_LORESERVE   0xff00
#define SHN_ABS         0xfff1
#define STT_SECTION     3
#define STT_FILE        4
#define STB_LOCAL       0

/* a symbol and its section */
typedef struct Sym {
    CliSym pub;
    uint32_t shndx;
} Sym;

/* an ARM mapping symbol: where code of a kind or data starts */
typedef struct Mapping {
    uint64_t addr;
    uint32_t shndx;
    char kind;
} Mapping;

typedef struct Section {
    uint64_t addr;
    uint64_t size;
    uint32_t index;
} Section;

struct CliElf {
    char *path;
    uint8_t *data;
    size_t size;
    bool is64;
    bool big;
    uint16_t machine;
    uint64_t entry;
    CliSeg *segs;
    size_t n_segs;
    Section *secs;              /* the allocated sections with a size */
    size_t n_secs;
    Sym *syms;                  /* every named symbol, by address */
    size_t n_syms;
    size_t *by_addr;            /* those that are addresses (not SHN_ABS) */
    size_t n_by_addr;
    Mapping *maps;              /* by address */
    size_t n_maps;
};

/*
 * Fields of the file, in its byte order; 0 past its end (the callers
 * check ranges before they read).
 */
static uint64_t rd(const CliElf *e, uint64_t off, unsigned int len)
{
    uint64_t v = 0;
    unsigned int i;

    if (off > e->size || len > e->size - off) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        unsigned int k = e->big ? i : len - 1 - i;

        v = v << 8 | e->data[off + k];
    }
    return v;
}

/* A field that is 4 bytes in ELF32 and 8 in ELF64. */
static uint64_t rdw(const CliElf *e, uint64_t off)
{
    return rd(e, off, e->is64 ? 8 : 4);
}

static bool in_file(const CliElf *e, uint64_t off, uint64_t len)
{
    return off <= e->size && len <= e->size - off;
}

static bool fail(char *err, size_t errsize, const char *path,
                 const char *what)
{
    snprintf(err, errsize, "%s: %s", path, what);
    return false;
}

static bool read_file(CliElf *e, const char *path, char *err,
                      size_t errsize)
{
    FILE *f = fopen(path, "rb");
    long size;

    if (!f) {
        snprintf(err, errsize, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, errsize, "cannot read %s: %s", path, strerror(errno));
        fclose(f);
        return false;
    }
    e->size = size;
    e->data = malloc(e->size ? e->size : 1);
    if (!e->data) {
        fclose(f);
        return fail(err, errsize, path, "out of memory");
    }
    if (fread(e->data, 1, e->size, f) != e->size) {
        snprintf(err, errsize, "cannot read %s: %s", path,
                 ferror(f) ? strerror(errno) : "file shrank");
        fclose(f);
        return false;
    }
    fclose(f);
    return true;
}

static bool read_segments(CliElf *e, char *err, size_t errsize)
{
    uint64_t phoff = rdw(e, e->is64 ? 32 : 28);
    unsigned int phentsize = rd(e, e->is64 ? 54 : 42, 2);
    unsigned int phnum = rd(e, e->is64 ? 56 : 44, 2);
    unsigned int i;

    if (phnum == 0) {
        return true;
    }
    if (phentsize < (e->is64 ? 56u : 32u) ||
        !in_file(e, phoff, (uint64_t)phentsize * phnum)) {
        return fail(err, errsize, e->path, "bad program headers");
    }
    e->segs = calloc(phnum, sizeof(*e->segs));
    if (!e->segs) {
        return fail(err, errsize, e->path, "out of memory");
    }
    for (i = 0; i < phnum; i++) {
        uint64_t ph = phoff + (uint64_t)i * phentsize;
        CliSeg *s = &e->segs[e->n_segs];

        if (rd(e, ph, 4) != PT_LOAD) {
            continue;
        }
        if (e->is64) {
            s->flags = rd(e, ph + 4, 4);
            s->offset = rd(e, ph + 8, 8);
            s->vaddr = rd(e, ph + 16, 8);
            s->paddr = rd(e, ph + 24, 8);
            s->filesz = rd(e, ph + 32, 8);
            s->memsz = rd(e, ph + 40, 8);
        } else {
            s->offset = rd(e, ph + 4, 4);
            s->vaddr = rd(e, ph + 8, 4);
            s->paddr = rd(e, ph + 12, 4);
            s->filesz = rd(e, ph + 16, 4);
            s->memsz = rd(e, ph + 20, 4);
            s->flags = rd(e, ph + 24, 4);
        }
        if (!in_file(e, s->offset, s->filesz)) {
            return fail(err, errsize, e->path,
                        "a loadable segment lies past the end of the file");
        }
        e->n_segs++;
    }
    return true;
}

static int sym_rank(const CliSym *s)
{
    /* globals before weak before locals; functions and objects first */
    int rank = s->bind == STB_LOCAL ? 0 : s->bind == 2 ? 2 : 4;

    return rank + (s->type == 1 || s->type == 2 ? 1 : 0);
}

static int cmp_syms(const void *a, const void *b)
{
    const CliSym *x = &((const Sym *)a)->pub, *y = &((const Sym *)b)->pub;

    if (x->addr != y->addr) {
        return x->addr < y->addr ? -1 : 1;
    }
    if (sym_rank(x) != sym_rank(y)) {
        return sym_rank(y) - sym_rank(x);
    }
    return strcmp(x->name, y->name);
}

static int cmp_maps(const void *a, const void *b)
{
    const Mapping *x = a, *y = b;

    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* "$a", "$t", "$x", "$d" and the same with ".suffix" */
static char mapping_kind(const char *name)
{
    if (name[0] == '$' && strchr("atxd", name[1]) && name[1] &&
        (name[2] == '\0' || name[2] == '.')) {
        return name[1];
    }
    return 0;
}

/* The symbols of section @sh (SYMTAB or DYNSYM), with their names. */
static bool read_symbols(CliElf *e, uint64_t shoff, unsigned int shentsize,
                         unsigned int shnum, uint64_t sh, char *err,
                         size_t errsize)
{
    unsigned int entsize = e->is64 ? 24 : 16;
    uint64_t off = rdw(e, sh + (e->is64 ? 24 : 16));
    uint64_t size = rdw(e, sh + (e->is64 ? 32 : 20));
    uint32_t link = rd(e, sh + (e->is64 ? 40 : 24), 4);
    uint64_t str_sh, str_off, str_size, n, i;

    if (link >= shnum || !in_file(e, off, size)) {
        return fail(err, errsize, e->path, "bad symbol table");
    }
    str_sh = shoff + (uint64_t)link * shentsize;
    str_off = rdw(e, str_sh + (e->is64 ? 24 : 16));
    str_size = rdw(e, str_sh + (e->is64 ? 32 : 20));
    if (!in_file(e, str_off, str_size)) {
        return fail(err, errsize, e->path, "bad string table");
    }
    n = size / entsize;
    e->syms = calloc(n ? n : 1, sizeof(*e->syms));
    e->maps = calloc(n ? n : 1, sizeof(*e->maps));
    if (!e->syms || !e->maps) {
        return fail(err, errsize, e->path, "out of memory");
    }
    for (i = 0; i < n; i++) {
        uint64_t s = off + i * entsize;
        uint32_t name = rd(e, s, 4);
        unsigned int info = rd(e, s + (e->is64 ? 4 : 12), 1);
        unsigned int shndx = rd(e, s + (e->is64 ? 6 : 14), 2);
        uint64_t value = rdw(e, s + (e->is64 ? 8 : 4));
        uint64_t sz = rdw(e, s + (e->is64 ? 16 : 8));
        const char *text;
        Sym *sym;
        char kind;

        if (name == 0 || name >= str_size ||
            !memchr(e->data + str_off + name, '\0', str_size - name)) {
            continue;
        }
        text = (const char *)e->data + str_off + name;
        if ((info & 0xf) == STT_SECTION || (info & 0xf) == STT_FILE ||
            shndx == SHN_UNDEF) {
            continue;
        }
        kind = mapping_kind(text);
        if (kind) {
            if (shndx < SHN_LORESERVE) {
                e->maps[e->n_maps].addr = value;
                e->maps[e->n_maps].shndx = shndx;
                e->maps[e->n_maps].kind = kind;
                e->n_maps++;
            }
            continue;
        }
        sym = &e->syms[e->n_syms++];
        sym->pub.name = text;
        sym->pub.addr = value;
        sym->pub.size = sz;
        sym->pub.type = info & 0xf;
        sym->pub.bind = info >> 4;
        sym->pub.abs = shndx == SHN_ABS;
        sym->shndx = shndx;
        if (e->machine == CLI_EM_ARM && sym->pub.type == 2 && (value & 1)) {
            sym->pub.thumb = true;
            sym->pub.addr &= ~(uint64_t)1;
        }
    }
    qsort(e->syms, e->n_syms, sizeof(*e->syms), cmp_syms);
    qsort(e->maps, e->n_maps, sizeof(*e->maps), cmp_maps);
    e->by_addr = calloc(e->n_syms ? e->n_syms : 1, sizeof(*e->by_addr));
    if (!e->by_addr) {
        return fail(err, errsize, e->path, "out of memory");
    }
    for (i = 0; i < e->n_syms; i++) {
        if (!e->syms[i].pub.abs && e->syms[i].shndx < SHN_LORESERVE) {
            e->by_addr[e->n_by_addr++] = i;
        }
    }
    return true;
}

static bool read_sections(CliElf *e, char *err, size_t errsize)
{
    uint64_t shoff = rdw(e, e->is64 ? 40 : 32);
    unsigned int shentsize = rd(e, e->is64 ? 58 : 46, 2);
    unsigned int shnum = rd(e, e->is64 ? 60 : 48, 2);
    uint64_t symtab = 0, dynsym = 0, sh;
    unsigned int i;

    if (shoff == 0) {
        return true;
    }
    if (shentsize < (e->is64 ? 64u : 40u) || !in_file(e, shoff, shentsize)) {
        return fail(err, errsize, e->path, "bad section headers");
    }
    if (shnum == 0) {
        /* more than 0xff00 sections: the count is in section 0 */
        shnum = rdw(e, shoff + (e->is64 ? 32 : 20));
    }
    if (!in_file(e, shoff, (uint64_t)shentsize * shnum)) {
        return fail(err, errsize, e->path, "bad section headers");
    }
    e->secs = calloc(shnum ? shnum : 1, sizeof(*e->secs));
    if (!e->secs) {
        return fail(err, errsize, e->path, "out of memory");
    }
    for (i = 0; i < shnum; i++) {
        uint32_t type;
        uint64_t flags, addr, size;

        sh = shoff + (uint64_t)i * shentsize;
        type = rd(e, sh + 4, 4);
        flags = rdw(e, sh + 8);
        addr = rdw(e, sh + (e->is64 ? 16 : 12));
        size = rdw(e, sh + (e->is64 ? 32 : 20));
        if (type == SHT_SYMTAB && !symtab) {
            symtab = sh;
        } else if (type == SHT_DYNSYM && !dynsym) {
            dynsym = sh;
        }
        if ((flags & SHF_ALLOC) && size) {
            e->secs[e->n_secs].addr = addr;
            e->secs[e->n_secs].size = size;
            e->secs[e->n_secs].index = i;
            e->n_secs++;
        }
    }
    if (symtab || dynsym) {
        return read_symbols(e, shoff, shentsize, shnum,
                            symtab ? symtab : dynsym, err, errsize);
    }
    return true;
}

CliElf *cli_elf_open(const char *path, char *err, size_t errsize)
{
    static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };
    CliElf *e = calloc(1, sizeof(*e));

    if (e) {
        e->path = strdup(path);
    }
    if (!e || !e->path) {
        free(e);
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    if (!read_file(e, path, err, errsize)) {
        goto fail;
    }
    if (e->size < 52 || memcmp(e->data, magic, 4) != 0) {
        fail(err, errsize, path, "not an ELF file");
        goto fail;
    }
    if ((e->data[4] != 1 && e->data[4] != 2) ||
        (e->data[5] != 1 && e->data[5] != 2)) {
        fail(err, errsize, path, "unknown ELF class or byte order");
        goto fail;
    }
    e->is64 = e->data[4] == 2;
    e->big = e->data[5] == 2;
    if (e->is64 && e->size < 64) {
        fail(err, errsize, path, "truncated ELF header");
        goto fail;
    }
    e->machine = rd(e, 18, 2);
    e->entry = rdw(e, 24);
    if (!read_segments(e, err, errsize) || !read_sections(e, err, errsize)) {
        goto fail;
    }
    return e;
fail:
    cli_elf_free(e);
    return NULL;
}

void cli_elf_free(CliElf *e)
{
    if (!e) {
        return;
    }
    free(e->path);
    free(e->data);
    free(e->segs);
    free(e->secs);
    free(e->syms);
    free(e->by_addr);
    free(e->maps);
    free(e);
}

const char *cli_elf_path(const CliElf *e)
{
    return e->path;
}

uint16_t cli_elf_machine(const CliElf *e)
{
    return e->machine;
}

const char *cli_elf_machine_name(const CliElf *e)
{
    static char other[24];

    switch (e->machine) {
    case CLI_EM_AARCH64:
        return "AArch64";
    case CLI_EM_ARM:
        return "ARM";
    case CLI_EM_68K:
        return "m68k";
    default:
        snprintf(other, sizeof(other), "machine %u", e->machine);
        return other;
    }
}

bool cli_elf_is64(const CliElf *e)
{
    return e->is64;
}

bool cli_elf_big_endian(const CliElf *e)
{
    return e->big;
}

uint64_t cli_elf_entry(const CliElf *e)
{
    return e->entry;
}

size_t cli_elf_n_segs(const CliElf *e)
{
    return e->n_segs;
}

const CliSeg *cli_elf_seg(const CliElf *e, size_t i)
{
    return i < e->n_segs ? &e->segs[i] : NULL;
}

const uint8_t *cli_elf_seg_data(const CliElf *e, const CliSeg *seg)
{
    return e->data + seg->offset;
}

size_t cli_elf_n_syms(const CliElf *e)
{
    return e->n_syms;
}

const CliSym *cli_elf_sym(const CliElf *e, size_t i)
{
    return i < e->n_syms ? &e->syms[i].pub : NULL;
}

const CliSym *cli_elf_find(const CliElf *e, const char *name)
{
    const CliSym *found = NULL;
    size_t i;

    for (i = 0; i < e->n_syms; i++) {
        if (strcmp(e->syms[i].pub.name, name) == 0) {
            if (e->syms[i].pub.bind != STB_LOCAL) {
                return &e->syms[i].pub;
            }
            if (!found) {
                found = &e->syms[i].pub;
            }
        }
    }
    return found;
}

/*
 * The range that @addr lies in: its section, else (no section headers)
 * its segment.  False if the file has nothing at @addr.
 */
static bool range_of(const CliElf *e, uint64_t addr, uint64_t *start,
                     uint32_t *shndx)
{
    size_t i;

    for (i = 0; i < e->n_secs; i++) {
        if (addr >= e->secs[i].addr &&
            addr - e->secs[i].addr < e->secs[i].size) {
            *start = e->secs[i].addr;
            *shndx = e->secs[i].index;
            return true;
        }
    }
    if (e->n_secs) {
        return false;
    }
    for (i = 0; i < e->n_segs; i++) {
        if (addr >= e->segs[i].vaddr &&
            addr - e->segs[i].vaddr < e->segs[i].memsz) {
            *start = e->segs[i].vaddr;
            *shndx = UINT32_MAX;
            return true;
        }
    }
    return false;
}

const CliSym *cli_elf_lookup(const CliElf *e, uint64_t addr,
                             uint64_t *offset)
{
    size_t lo = 0, hi = e->n_by_addr, mid;
    uint64_t start;
    uint32_t shndx;
    const Sym *s;

    if (!range_of(e, addr, &start, &shndx)) {
        return NULL;
    }
    /* the first symbol above @addr */
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (e->syms[e->by_addr[mid]].pub.addr <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    /* back to the best symbol at the nearest address below */
    for (; lo > 0; lo--) {
        s = &e->syms[e->by_addr[lo - 1]];
        if (s->pub.addr < start) {
            return NULL;
        }
        if (shndx != UINT32_MAX && s->shndx != shndx) {
            continue;
        }
        while (lo > 1 &&
               e->syms[e->by_addr[lo - 2]].pub.addr == s->pub.addr &&
               (shndx == UINT32_MAX ||
                e->syms[e->by_addr[lo - 2]].shndx == shndx)) {
            lo--;
            s = &e->syms[e->by_addr[lo - 1]];
        }
        *offset = addr - s->pub.addr;
        return &s->pub;
    }
    return NULL;
}

char cli_elf_mapping(const CliElf *e, uint64_t addr)
{
    uint64_t start;
    uint32_t shndx;
    size_t i;

    if (!range_of(e, addr, &start, &shndx)) {
        return 0;
    }
    for (i = e->n_maps; i > 0; i--) {
        const Mapping *m = &e->maps[i - 1];

        if (m->addr > addr) {
            continue;
        }
        if (m->addr < start) {
            return 0;
        }
        if (shndx == UINT32_MAX || m->shndx == shndx) {
            return m->kind;
        }
    }
    return 0;
}
