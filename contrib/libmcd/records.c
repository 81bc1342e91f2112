/* SPDX-License-Identifier: MIT */
/*
 * libmcd records: the "key=value." items of the stub's replies, the
 * "<next>!" prefix of paginated lists, decimal numbers, hex data and the
 * binary data of x and X.
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 */

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "libmcd-int.h"

void lm_strlcpy(char *dst, const char *src, size_t size)
{
    size_t len;

    if (size == 0) {
        return;
    }
    len = strnlen(src, size - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Would v * 10 + d overflow?  (No division per digit.) */
static inline bool too_big(uint64_t v, unsigned int d)
{
    return v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10);
}

bool lm_parse_digits(const char *text, size_t len, uint64_t *value)
{
    uint64_t v = 0;
    size_t i;

    if (len == 0) {
        return false;
    }
    for (i = 0; i < len; i++) {
        unsigned int d = (unsigned char)text[i] - '0';

        if (d > 9 || too_big(v, d)) {
            return false;
        }
        v = v * 10 + d;
    }
    *value = v;
    return true;
}

/* The same up to the end of @text, in one pass. */
static bool parse_number(const char *text, uint64_t *value)
{
    uint64_t v = 0;
    const char *p;

    if (!*text) {
        return false;
    }
    for (p = text; *p; p++) {
        unsigned int d = (unsigned char)*p - '0';

        if (d > 9 || too_big(v, d)) {
            return false;
        }
        v = v * 10 + d;
    }
    *value = v;
    return true;
}

bool lm_parse_u64(const char *text, uint64_t *value)
{
    uint64_t v;

    if (!text) {
        return false;
    }
    if (text[0] == '-') {
        if (!parse_number(text + 1, &v) || v > (uint64_t)INT64_MAX + 1) {
            return false;
        }
        *value = -v;
        return true;
    }
    return parse_number(text, value);
}

/*
 * A record that turned out malformed: put back the '=' and '.' of the
 * items parsed, so that an error message can show the text as it came.
 */
static bool parse_failed(LmRecord *rec)
{
    unsigned int i;
    char *v;

    for (i = 0; i < rec->count; i++) {
        v = (char *)rec->value[i];
        v[-1] = '=';
        v[strlen(v)] = '.';
    }
    rec->count = 0;
    return false;
}

/*
 * Records are parsed in place, in one pass over their characters: keys
 * and values are a few bytes long, and a register list has thousands of
 * them.  With @rest, a ';' where an item would start ends the record,
 * and *@rest is set to what follows it, or NULL at the end of @text.
 */
static bool parse_record(char *text, LmRecord *rec, char **rest)
{
    char *p = text;
    char *eq;
    uint64_t next;

    rec->paginated = false;
    rec->next = 0;
    rec->count = 0;
    for (eq = text; *eq && *eq != '=' && *eq != '!'; eq++) {
        continue;
    }
    /* "<next>!" before the first '=' starts a list item */
    if (*eq == '!') {
        if (!lm_parse_digits(text, eq - text, &next) || next > UINT32_MAX) {
            return false;
        }
        rec->paginated = true;
        rec->next = next;
        p = eq + 1;
    }
    while (*p && !(rest && *p == ';')) {
        if (rec->count == LM_RECORD_MAX_ITEMS || *p == '=') {
            return parse_failed(rec);
        }
        rec->key[rec->count] = p;
        /* the key: up to the '=' */
        do {
            p++;
        } while (*p != '=' && *p);
        if (!*p) {
            return parse_failed(rec);
        }
        eq = p++;
        /* the value: up to the '.' */
        rec->value[rec->count] = p;
        while (*p != '.' && *p) {
            p++;
        }
        if (!*p) {
            return parse_failed(rec);
        }
        *eq = '\0';
        *p++ = '\0';
        rec->count++;
    }
    if (rest) {
        *rest = *p ? p + 1 : NULL;
        *p = '\0';
    }
    return true;
}

bool lm_record_parse(char *text, LmRecord *rec)
{
    return parse_record(text, rec, NULL);
}

bool lm_record_parse_item(char *text, LmRecord *rec, char **rest)
{
    return parse_record(text, rec, rest);
}

/* Keys are a few bytes long: compared here, without a call. */
static bool same_key(const char *a, const char *b)
{
    while (*a == *b) {
        if (!*a) {
            return true;
        }
        a++;
        b++;
    }
    return false;
}

const char *lm_record_get(const LmRecord *rec, const char *key)
{
    unsigned int i;

    for (i = 0; i < rec->count; i++) {
        if (same_key(rec->key[i], key)) {
            return rec->value[i];
        }
    }
    return NULL;
}

void lm_record_find(const LmRecord *rec, const char *const *keys,
                    unsigned int n, const char **values)
{
    unsigned int i, j, k, at = 0;

    for (j = 0; j < n; j++) {
        values[j] = NULL;
        /* from where the key before was: records keep their order */
        for (k = 0, i = at; k < rec->count; k++, i++) {
            if (i == rec->count) {
                i = 0;
            }
            if (same_key(rec->key[i], keys[j])) {
                values[j] = rec->value[i];
                at = i + 1;
                break;
            }
        }
    }
}

bool lm_record_u64(const LmRecord *rec, const char *key, uint64_t *value)
{
    return lm_parse_u64(lm_record_get(rec, key), value);
}

bool lm_record_u32(const LmRecord *rec, const char *key, uint32_t *value)
{
    return lm_parse_u32(lm_record_get(rec, key), value);
}

size_t lm_put_u64(char *out, uint64_t v)
{
    char buf[20];
    size_t n = 0, i;

    do {
        buf[n++] = '0' + v % 10;
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++) {
        out[i] = buf[n - 1 - i];
    }
    return n;
}

bool lm_parse_u32(const char *text, uint32_t *value)
{
    uint64_t v;

    if (!text || text[0] == '-' || !lm_parse_u64(text, &v) ||
        v > UINT32_MAX) {
        return false;
    }
    *value = v;
    return true;
}

bool lm_list_has(const char *list, const char *name)
{
    size_t len = strlen(name);
    const char *p = list;
    const char *end;

    if (!list || !len) {
        return false;
    }
    while (*p) {
        end = strchr(p, ',');
        if (!end) {
            end = p + strlen(p);
        }
        if ((size_t)(end - p) == len && memcmp(p, name, len) == 0) {
            return true;
        }
        p = *end ? end + 1 : end;
    }
    return false;
}

void lm_hex_encode(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0xf];
    }
    out[2 * len] = '\0';
}

/* 0x100 | the value of each hex digit; 0 for other characters. */
static const uint16_t hex_value[256] = {
    ['0'] = 0x100, ['1'] = 0x101, ['2'] = 0x102, ['3'] = 0x103,
    ['4'] = 0x104, ['5'] = 0x105, ['6'] = 0x106, ['7'] = 0x107,
    ['8'] = 0x108, ['9'] = 0x109,
    ['a'] = 0x10a, ['b'] = 0x10b, ['c'] = 0x10c, ['d'] = 0x10d,
    ['e'] = 0x10e, ['f'] = 0x10f,
    ['A'] = 0x10a, ['B'] = 0x10b, ['C'] = 0x10c, ['D'] = 0x10d,
    ['E'] = 0x10e, ['F'] = 0x10f,
};

#ifdef __SSE2__
/*
 * Decode 16 hex digits at @h to 8 bytes at @out with SSE2; false if one
 * is no hex digit.  A digit is c - '0' if that is at most 9, a letter
 * (c | 0x20) - 'a' + 10 if (c | 0x20) - 'a' is at most 5, compared
 * unsigned.
 */
static bool hex_decode16(const uint8_t *h, uint8_t *out)
{
    __m128i x = _mm_loadu_si128((const __m128i *)h);
    __m128i dig = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i let = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)),
                               _mm_set1_epi8('a'));
    __m128i is_dig = _mm_cmpeq_epi8(_mm_min_epu8(dig, _mm_set1_epi8(9)), dig);
    __m128i is_let = _mm_cmpeq_epi8(_mm_min_epu8(let, _mm_set1_epi8(5)), let);
    __m128i val, pair;

    if (_mm_movemask_epi8(_mm_or_si128(is_dig, is_let)) != 0xffff) {
        return false;
    }
    val = _mm_or_si128(_mm_and_si128(is_dig, dig),
                       _mm_and_si128(is_let,
                                     _mm_add_epi8(let, _mm_set1_epi8(10))));
    /* a 16-bit lane holds digit 2k (the high half of byte k) low */
    pair = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(val,
                                                     _mm_set1_epi16(0xff)),
                                       4),
                        _mm_srli_epi16(val, 8));
    _mm_storel_epi64((__m128i *)out, _mm_packus_epi16(pair, pair));
    return true;
}
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ONES 0x0101010101010101ULL

/*
 * Decode 8 hex digits at @h to 4 bytes at @out, 8 digits at a time in a
 * 64-bit word; false if one is no hex digit.  The value of a digit c is
 * (c & 0xf) + 9 for letters (bit 6 set), else c & 0xf; a character is a
 * hex digit if that value is below 16 and encodes back to c, letters
 * compared in lower case.
 */
static bool hex_decode8(const uint8_t *h, uint8_t *out)
{
    uint64_t x, letter, nib, gt9, enc, t;
    uint32_t v;

    memcpy(&x, h, 8);
    letter = (x >> 6) & ONES;
    nib = (x & (ONES * 0x0f)) + letter * 9;
    gt9 = ((nib + ONES * 0x76) >> 7) & ONES;
    enc = nib + ONES * 0x30 + gt9 * 0x27;
    if (((nib + ONES * 0x70) & (ONES * 0x80)) || enc != (x | letter << 5)) {
        return false;
    }
    /* digit 2k is the high half of byte k */
    t = (nib & 0x000f000f000f000fULL) << 4 | ((nib >> 8) & 0x000f000f000f000fULL);
    t = (t | t >> 8) & 0x0000ffff0000ffffULL;
    v = t | t >> 16;
    memcpy(out, &v, 4);
    return true;
}
#endif

bool lm_hex_decode(const char *hex, size_t hex_len, uint8_t *out,
                   size_t len)
{
    const uint8_t *h = (const uint8_t *)hex;
    unsigned int good = 0x100;
    size_t i = 0;

    if (hex_len != 2 * len) {
        return false;
    }
#ifdef __SSE2__
    for (; i + 8 <= len; i += 8) {
        if (!hex_decode16(h + 2 * i, out + i)) {
            return false;
        }
    }
#endif
#ifdef ONES
    for (; i + 4 <= len; i += 4) {
        if (!hex_decode8(h + 2 * i, out + i)) {
            return false;
        }
    }
#endif
    /* a character that is no hex digit clears bit 8, seen at the end */
    for (; i < len; i++) {
        unsigned int hi = hex_value[h[2 * i]];
        unsigned int lo = hex_value[h[2 * i + 1]];

        good &= hi & lo;
        out[i] = hi << 4 | (lo & 0xf);
    }
    return good;
}

/* The bytes binary data escapes: the framing's '#', '$', '%' and '}'. */
#define BIN_ESCAPE '}'
#define BIN_XOR 0x20

static const uint8_t bin_escaped[256] = {
    ['#'] = 1, ['$'] = 1, ['%'] = 1, [BIN_ESCAPE] = 1,
};

size_t lm_bin_encode(const uint8_t *data, size_t len, char *out)
{
    char *o = out;
    size_t i;

    for (i = 0; i < len; i++) {
        if (bin_escaped[data[i]]) {
            *o++ = BIN_ESCAPE;
            *o++ = data[i] ^ BIN_XOR;
        } else {
            *o++ = data[i];
        }
    }
    return o - out;
}

bool lm_bin_decode(const char *bin, size_t bin_len, uint8_t *out,
                   size_t len)
{
    const char *end = bin + bin_len;
    const char *esc;
    uint8_t *o = out;
    size_t n;

    /* fewer bytes than @len, or more than twice as many, cannot be it */
    if (bin_len < len || bin_len > 2 * len) {
        return false;
    }
    while (bin < end) {
        esc = memchr(bin, BIN_ESCAPE, end - bin);
        n = (esc ? esc : end) - bin;
        if (n > len - (o - out)) {
            return false;
        }
        memcpy(o, bin, n);
        o += n;
        bin += n;
        if (!esc) {
            break;
        }
        if (esc + 1 == end || o == out + len) {
            return false;
        }
        *o++ = esc[1] ^ BIN_XOR;
        bin = esc + 2;
    }
    return o == out + len;
}
