/*
 * json.c - strict RFC 8259 JSON parser for untrusted input (see json.h).
 *
 * Recursive descent over a byte buffer that is NOT assumed NUL-terminated.
 * Every value becomes a json_value; arrays and objects own a heap array of
 * child values (objects also own parallel key / key-length arrays). Every
 * allocation is checked, and on any error the partial tree is freed, so
 * json_parse either returns a complete tree or NULL.
 *
 * What is rejected, and why it matters for the files we read:
 *   - anything outside the RFC grammar: comments, trailing commas, single
 *     quotes, NaN/Infinity, leading zeros, a '+' sign, a leading UTF-8 BOM
 *     (RFC 8259 section 8.1: implementations MUST NOT add one), data after the
 *     top-level value;
 *   - invalid UTF-8 inside strings (overlong forms, UTF-16 surrogates encoded
 *     directly, code points above U+10FFFF), raw control characters, lone
 *     surrogate \u escapes;
 *   - duplicate object keys (the safetensors checklist, engines.md C.3 item 4;
 *     found by sorting the keys of each object, so a 1000-key safetensors
 *     header costs O(n log n), not O(n^2));
 *   - numbers that overflow a double (1e400): a config value of inf is never
 *     meant, and it would poison arithmetic downstream.
 *
 * Limits (json_limits; NULL or a field <= 0 means the default from json.h):
 * max_depth (default 64, clamped to JSON_DEPTH_HARD_MAX so a caller cannot ask
 * for a recursion deep enough to overflow the C stack), max_string (decoded
 * bytes in one string or key, default 1 MiB) and max_elements (values in the
 * whole document, default 10M). Depth counts arrays/objects: "[[1]]" is 2.
 *
 * Numbers: the literal is first validated against the JSON grammar, then
 * converted with strtod under a "C" LC_NUMERIC locale installed for the
 * calling thread only (uselocale), because strtod reads the decimal point of
 * the current locale and a host program may have called setlocale(LC_ALL, "").
 *
 * Error positions are "line L, column C" (both 1-based; columns count UTF-8
 * characters, so they match what an editor shows).
 */
#include "io/json.h"
#include "util/file.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define JSON_DEFAULT_DEPTH 64
#define JSON_DEPTH_HARD_MAX 1024
#define JSON_DEFAULT_STRING ((size_t)1 << 20)
#define JSON_DEFAULT_ELEMENTS ((size_t)10000000)
#define JSON_FILE_MAX ((long long)64 << 20)

typedef struct json_parser {
    const unsigned char *s;
    size_t len, pos;
    int max_depth;
    size_t max_string, max_elements, n_elements;
    locale_t c_locale;     /* created on the first number with '.', 'e' or 'E' */
    anim_error *err;
} json_parser;

/* ---- errors ------------------------------------------------------------ */

/* 1-based line and column of byte offset `at`; UTF-8 continuation bytes do
 * not advance the column. */
static void line_col(const json_parser *p, size_t at, size_t *line, size_t *col) {
    size_t l = 1, c = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->s[i] == '\n') { l++; c = 1; }
        else if ((p->s[i] & 0xC0) != 0x80) c++;
    }
    *line = l;
    *col = c;
}

static anim_status jp_fail(json_parser *p, size_t at, anim_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static anim_status jp_fail(json_parser *p, size_t at, anim_status st, const char *fmt, ...) {
    char msg[ANIM_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t line, col;
    line_col(p, at, &line, &col);
    return anim_seterr(p->err, st, "line %zu, column %zu: %s", line, col, msg);
}

static anim_status jp_oom(json_parser *p) {
    return anim_seterr(p->err, ANIM_E_OOM, "out of memory parsing JSON");
}

/* A key or character made printable for an error message: control bytes
 * become '?', and long keys are cut with "..." (the message is one line). */
static void printable(char *dst, size_t cap, const char *src, size_t n) {
    size_t k = 0, lim = cap > 4 ? cap - 4 : 0;
    for (size_t i = 0; i < n && k < lim; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (k < n && k == lim && cap >= 4) { memcpy(dst + k, "...", 3); k += 3; }
    dst[k] = '\0';
}

/* Describe the byte at pos for "unexpected character" messages. */
static const char *describe_byte(unsigned char c, char *buf, size_t cap) {
    if (c >= 0x21 && c < 0x7f) snprintf(buf, cap, "'%c'", c);
    else snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

/* ---- small helpers ----------------------------------------------------- */

static void skip_ws(json_parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Grow *ptr (elements of size el) so it holds at least need elements. */
static bool grow(void **ptr, size_t *cap, size_t el, size_t need) {
    if (need <= *cap) return true;
    size_t nc = *cap ? *cap : 4;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return false;
        nc *= 2;
    }
    if (nc > SIZE_MAX / el) return false;
    void *q = realloc(*ptr, nc * el);
    if (!q) return false;
    *ptr = q;
    *cap = nc;
    return true;
}

static void free_contents(json_value *v);

static void free_items(json_value *items, char **keys, size_t *key_lens, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free_contents(&items[i]);
        if (keys) free(keys[i]);
    }
    free(items);
    free(keys);
    free(key_lens);
}

static void free_contents(json_value *v) {
    if (v->type == JSON_STRING) free(v->str);
    if (v->type == JSON_ARRAY || v->type == JSON_OBJECT)
        free_items(v->items, v->keys, v->key_lens, v->len);
    memset(v, 0, sizeof *v);
}

/* ---- UTF-8 ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence starting at s (n bytes available), or 0
 * if it is invalid: stray continuation byte, overlong form (C0, C1, E0 80..9F,
 * F0 80..8F), UTF-16 surrogate (ED A0..BF), above U+10FFFF (F4 90.., F5..FF),
 * or truncated. */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;  /* allowed range of the second byte */
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) need = 2;
    else if (c < 0xF0) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c < 0xF5) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (n < need) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return need;
}

static size_t utf8_encode(uint32_t cp, unsigned char *out) {
    if (cp < 0x80) { out[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- strings ----------------------------------------------------------- */

/* Four hex digits at s[at..at+4) -> *cp; false if absent or not hex. */
static bool read_hex4(const json_parser *p, size_t at, uint32_t *cp) {
    if (at > p->len || p->len - at < 4) return false;
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        unsigned char c = p->s[at + i];
        unsigned d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return false;
        v = v * 16 + d;
    }
    *cp = v;
    return true;
}

/* Decode the escape at p->pos (a backslash) into out; advances p->pos.
 * Returns the number of bytes written (1..4), or 0 after setting the error. */
static size_t decode_escape(json_parser *p, unsigned char *out) {
    size_t at = p->pos;
    if (at + 1 >= p->len) {
        jp_fail(p, at, ANIM_E_FORMAT, "unterminated string");
        return 0;
    }
    unsigned char e = p->s[at + 1];
    p->pos += 2;
    switch (e) {
    case '"': out[0] = '"'; return 1;
    case '\\': out[0] = '\\'; return 1;
    case '/': out[0] = '/'; return 1;
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'n': out[0] = '\n'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 't': out[0] = '\t'; return 1;
    case 'u': break;
    default: {
        char d[16];
        jp_fail(p, at, ANIM_E_FORMAT, "invalid escape '\\' followed by %s",
                describe_byte(e, d, sizeof d));
        return 0;
    }
    }
    uint32_t cp, lo;
    if (!read_hex4(p, at + 2, &cp)) {
        jp_fail(p, at, ANIM_E_FORMAT, "invalid \\u escape: expected 4 hex digits");
        return 0;
    }
    p->pos = at + 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        jp_fail(p, at, ANIM_E_FORMAT, "lone surrogate \\u%04X (a low surrogate needs a high one before it)",
                (unsigned)cp);
        return 0;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        /* UTF-16 pair: the high half must be followed at once by \uDC00-\uDFFF */
        if (!(at + 7 < p->len && p->s[at + 6] == '\\' && p->s[at + 7] == 'u' &&
              read_hex4(p, at + 8, &lo) && lo >= 0xDC00 && lo <= 0xDFFF)) {
            jp_fail(p, at, ANIM_E_FORMAT, "lone surrogate \\u%04X (not followed by a low surrogate)",
                    (unsigned)cp);
            return 0;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        p->pos = at + 12;
    }
    return utf8_encode(cp, out);
}

/* Parse the string starting at p->pos (the opening quote) into a malloc'd,
 * NUL-terminated buffer. */
static anim_status parse_string(json_parser *p, char **out, size_t *out_len) {
    size_t open = p->pos, i = open + 1;
    /* First pass only sizes the buffer: the decoded string is never longer
     * than its raw span, and never allowed past max_string. */
    while (i < p->len && p->s[i] != '"') i += (p->s[i] == '\\') ? 2 : 1;
    size_t span = (i < p->len ? i : p->len) - (open + 1);
    size_t cap = (span < p->max_string ? span : p->max_string) + 1;
    unsigned char *buf = malloc(cap);
    if (!buf) return jp_oom(p);
    size_t n = 0;
    p->pos = open + 1;
    for (;;) {
        if (p->pos >= p->len) {
            free(buf);
            return jp_fail(p, open, ANIM_E_FORMAT, "unterminated string");
        }
        unsigned char c = p->s[p->pos], tmp[4];
        size_t k;
        if (c == '"') break;
        if (c < 0x20) {
            free(buf);
            return jp_fail(p, p->pos, ANIM_E_FORMAT, "control character 0x%02x in string (must be escaped)", c);
        }
        if (c == '\\') {
            k = decode_escape(p, tmp);
            if (!k) { free(buf); return ANIM_E_FORMAT; }
        } else {
            k = utf8_seq_len(p->s + p->pos, p->len - p->pos);
            if (!k) {
                free(buf);
                return jp_fail(p, p->pos, ANIM_E_FORMAT, "invalid UTF-8 byte 0x%02x in string", c);
            }
            memcpy(tmp, p->s + p->pos, k);
            p->pos += k;
        }
        if (k > p->max_string - n) {
            free(buf);
            return jp_fail(p, open, ANIM_E_FORMAT, "string longer than the %zu-byte limit", p->max_string);
        }
        if (k > cap - 1 - n) { /* cannot happen: decoding never expands the raw span */
            free(buf);
            return jp_fail(p, open, ANIM_E_INTERNAL, "string decoder overran its buffer");
        }
        memcpy(buf + n, tmp, k);
        n += k;
    }
    p->pos++;  /* closing quote */
    buf[n] = '\0';
    *out = (char *)buf;
    *out_len = n;
    return ANIM_OK;
}

/* ---- numbers ----------------------------------------------------------- */

static anim_status scan_digits(json_parser *p, size_t at, const char *what) {
    if (p->pos >= p->len || !is_digit(p->s[p->pos]))
        return jp_fail(p, p->pos < p->len ? p->pos : at, ANIM_E_FORMAT, "expected a digit %s", what);
    while (p->pos < p->len && is_digit(p->s[p->pos])) p->pos++;
    return ANIM_OK;
}

/* strtod on a validated literal, with the "C" decimal point for this thread. */
static anim_status literal_to_double(json_parser *p, const char *lit, bool plain, size_t at, double *out) {
    locale_t old = (locale_t)0;
    if (!plain) {
        /* Only '.' depends on LC_NUMERIC; integers and exponents without a
         * fraction read the same everywhere, but switching is cheap. */
        if (!p->c_locale) {
            p->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
            if (!p->c_locale) return jp_oom(p);
        }
        old = uselocale(p->c_locale);
    }
    errno = 0;
    double d = strtod(lit, NULL);
    int e = errno;
    if (!plain) uselocale(old);
    if (e == ERANGE && isinf(d))
        return jp_fail(p, at, ANIM_E_FORMAT, "number %.40s%s is out of range for a double", lit,
                       strlen(lit) > 40 ? "..." : "");
    *out = d;
    return ANIM_OK;
}

static anim_status parse_number(json_parser *p, json_value *v) {
    size_t start = p->pos;
    anim_status st;
    bool neg = false, plain = true;
    if (p->s[p->pos] == '-') { neg = true; p->pos++; }
    if (p->pos < p->len && (p->s[p->pos] == 'I' || p->s[p->pos] == 'N'))
        return jp_fail(p, start, ANIM_E_FORMAT, "NaN and Infinity are not valid JSON numbers");
    if (p->pos < p->len && p->s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && is_digit(p->s[p->pos]))
            return jp_fail(p, start, ANIM_E_FORMAT, "leading zeros are not allowed in numbers");
    } else if ((st = scan_digits(p, start, "after '-'")) != ANIM_OK) {
        return st;
    }
    size_t int_end = p->pos;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        plain = false;
        p->pos++;
        if ((st = scan_digits(p, start, "after the decimal point")) != ANIM_OK) return st;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        plain = false;
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        if ((st = scan_digits(p, start, "in the exponent")) != ANIM_OK) return st;
    }
    v->type = JSON_NUMBER;
    if (!neg && plain) {
        uint64_t u = 0;
        bool fits = true;
        for (size_t i = start; i < int_end && fits; i++) {
            unsigned d = p->s[i] - '0';
            if (u > (UINT64_MAX - d) / 10) fits = false;
            else u = u * 10 + d;
        }
        v->is_uint = fits;
        v->u64 = fits ? u : 0;
    }
    /* copy the literal: strtod needs a NUL and the input has none */
    size_t n = p->pos - start;
    char small[64], *lit = n < sizeof small ? small : malloc(n + 1);
    if (!lit) return jp_oom(p);
    memcpy(lit, p->s + start, n);
    lit[n] = '\0';
    st = literal_to_double(p, lit, plain, start, &v->num);
    if (lit != small) free(lit);
    return st;
}

/* ---- values ------------------------------------------------------------ */

static anim_status parse_value(json_parser *p, json_value *v, int depth);

static anim_status parse_literal(json_parser *p, json_value *v) {
    static const struct { const char *word; json_type type; bool b; } lits[] = {
        {"true", JSON_BOOL, true}, {"false", JSON_BOOL, false}, {"null", JSON_NULL, false},
    };
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        size_t n = strlen(lits[i].word);
        if (p->len - p->pos >= n && memcmp(p->s + p->pos, lits[i].word, n) == 0) {
            v->type = lits[i].type;
            v->b = lits[i].b;
            p->pos += n;
            return ANIM_OK;
        }
    }
    return jp_fail(p, p->pos, ANIM_E_FORMAT, "invalid literal (expected true, false or null)");
}

static anim_status parse_array(json_parser *p, json_value *v, int depth) {
    json_value *items = NULL;
    size_t n = 0, cap = 0;
    anim_status st = ANIM_OK;
    size_t open = p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        v->type = JSON_ARRAY;
        return ANIM_OK;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ']' && n > 0) {
            st = jp_fail(p, p->pos, ANIM_E_FORMAT, "trailing comma before ']'");
            break;
        }
        if (!grow((void **)&items, &cap, sizeof *items, n + 1)) { st = jp_oom(p); break; }
        memset(&items[n], 0, sizeof items[n]);
        if ((st = parse_value(p, &items[n], depth)) != ANIM_OK) break;
        n++;
        skip_ws(p);
        if (p->pos >= p->len) {
            st = jp_fail(p, open, ANIM_E_FORMAT, "unterminated array (expected ',' or ']')");
            break;
        }
        if (p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->s[p->pos] == ']') { p->pos++; break; }
        st = jp_fail(p, p->pos, ANIM_E_FORMAT, "expected ',' or ']'");
        break;
    }
    if (st != ANIM_OK) {
        free_items(items, NULL, NULL, n);
        return st;
    }
    v->type = JSON_ARRAY;
    v->items = items;
    v->len = n;
    return ANIM_OK;
}

/* Keys compared as byte strings (they may hold escaped NULs). */
static int key_cmp(const json_value *o, size_t a, size_t b) {
    size_t la = o->key_lens[a], lb = o->key_lens[b];
    int c = memcmp(o->keys[a], o->keys[b], la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : la > lb;
}

/* Stable merge sort of key indices; no qsort because the comparison needs
 * the object and qsort_r is not C11. */
static void sort_keys(const json_value *o, size_t *v, size_t *tmp, size_t n) {
    if (n < 2) return;
    size_t h = n / 2, i = 0, j = h, k = 0;
    sort_keys(o, v, tmp, h);
    sort_keys(o, v + h, tmp, n - h);
    while (i < h && j < n) tmp[k++] = key_cmp(o, v[i], v[j]) <= 0 ? v[i++] : v[j++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

/* Reject duplicate keys; key_pos[i] is where key i starts (for the message). */
static anim_status check_duplicates(json_parser *p, const json_value *o, const size_t *key_pos) {
    size_t n = o->len;
    if (n < 2) return ANIM_OK;
    size_t dup = n;
    if (n <= 8) {
        /* tiny objects (configs, safetensors entries): pairwise is cheaper */
        for (size_t j = 1; j < n && dup == n; j++)
            for (size_t i = 0; i < j; i++)
                if (key_cmp(o, i, j) == 0) { dup = j; break; }
    } else {
        size_t *idx = malloc(2 * n * sizeof *idx);
        if (!idx) return jp_oom(p);
        for (size_t i = 0; i < n; i++) idx[i] = i;
        sort_keys(o, idx, idx + n, n);
        for (size_t i = 1; i < n; i++)
            if (key_cmp(o, idx[i - 1], idx[i]) == 0) {
                /* stable sort: idx[i] is the later occurrence */
                if (dup == n || idx[i] < dup) dup = idx[i];
            }
        free(idx);
    }
    if (dup == n) return ANIM_OK;
    char name[160];
    printable(name, sizeof name, o->keys[dup], o->key_lens[dup]);
    return jp_fail(p, key_pos[dup], ANIM_E_FORMAT, "duplicate key '%s'", name);
}

typedef struct obj_build {
    json_value *items;
    char **keys;
    size_t *key_lens, *key_pos;
    size_t n, cap_items, cap_keys, cap_lens, cap_pos;
} obj_build;

static bool obj_reserve(obj_build *b) {
    size_t need = b->n + 1;
    return grow((void **)&b->items, &b->cap_items, sizeof *b->items, need) &&
           grow((void **)&b->keys, &b->cap_keys, sizeof *b->keys, need) &&
           grow((void **)&b->key_lens, &b->cap_lens, sizeof *b->key_lens, need) &&
           grow((void **)&b->key_pos, &b->cap_pos, sizeof *b->key_pos, need);
}

/* One "key": value member; on success b->n grows by one. */
static anim_status parse_member(json_parser *p, obj_build *b, int depth) {
    if (!obj_reserve(b)) return jp_oom(p);
    size_t i = b->n;
    memset(&b->items[i], 0, sizeof b->items[i]);
    b->key_pos[i] = p->pos;
    anim_status st = parse_string(p, &b->keys[i], &b->key_lens[i]);
    if (st != ANIM_OK) return st;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':') {
        free(b->keys[i]);
        return jp_fail(p, p->pos, ANIM_E_FORMAT, "expected ':' after object key");
    }
    p->pos++;
    if ((st = parse_value(p, &b->items[i], depth)) != ANIM_OK) {
        free(b->keys[i]);
        return st;
    }
    b->n++;
    return ANIM_OK;
}

static anim_status parse_object(json_parser *p, json_value *v, int depth) {
    obj_build b = {0};
    anim_status st = ANIM_OK;
    size_t open = p->pos++;
    skip_ws(p);
    bool empty = p->pos < p->len && p->s[p->pos] == '}';
    if (empty) p->pos++;
    while (!empty) {
        skip_ws(p);
        if (p->pos >= p->len) {
            st = jp_fail(p, open, ANIM_E_FORMAT, "unterminated object (expected a key)");
            break;
        }
        unsigned char c = p->s[p->pos];
        if (c != '"') {
            char d[16];
            st = (c == '}' && b.n > 0)
                     ? jp_fail(p, p->pos, ANIM_E_FORMAT, "trailing comma before '}'")
                 : c == '\''
                     ? jp_fail(p, p->pos, ANIM_E_FORMAT, "strings must use double quotes")
                     : jp_fail(p, p->pos, ANIM_E_FORMAT, "expected a string key, found %s",
                               describe_byte(c, d, sizeof d));
            break;
        }
        if ((st = parse_member(p, &b, depth)) != ANIM_OK) break;
        skip_ws(p);
        if (p->pos >= p->len) {
            st = jp_fail(p, open, ANIM_E_FORMAT, "unterminated object (expected ',' or '}')");
            break;
        }
        if (p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->s[p->pos] == '}') { p->pos++; break; }
        st = jp_fail(p, p->pos, ANIM_E_FORMAT, "expected ',' or '}'");
        break;
    }
    v->type = JSON_OBJECT;
    v->items = b.items;
    v->keys = b.keys;
    v->key_lens = b.key_lens;
    v->len = b.n;
    if (st == ANIM_OK) st = check_duplicates(p, v, b.key_pos);
    free(b.key_pos);
    if (st != ANIM_OK) free_contents(v);
    return st;
}

/* depth: how many arrays/objects enclose v (0 for the top-level value). On
 * failure v holds nothing that needs freeing. */
static anim_status parse_value(json_parser *p, json_value *v, int depth) {
    skip_ws(p);
    if (p->pos >= p->len)
        return jp_fail(p, p->pos, ANIM_E_FORMAT, "unexpected end of input (expected a value)");
    if (++p->n_elements > p->max_elements)
        return jp_fail(p, p->pos, ANIM_E_FORMAT, "more than %zu values (element limit)", p->max_elements);
    unsigned char c = p->s[p->pos];
    if ((c == '[' || c == '{') && depth + 1 > p->max_depth)
        return jp_fail(p, p->pos, ANIM_E_FORMAT, "nesting deeper than %d levels", p->max_depth);
    char d[16];
    switch (c) {
    case '{': return parse_object(p, v, depth + 1);
    case '[': return parse_array(p, v, depth + 1);
    case '"': {
        anim_status st = parse_string(p, &v->str, &v->len);
        if (st == ANIM_OK) v->type = JSON_STRING;
        return st;
    }
    case 't': case 'f': case 'n': return parse_literal(p, v);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': case 'N': case 'I':
        return parse_number(p, v);
    case '+': return jp_fail(p, p->pos, ANIM_E_FORMAT, "a number may not start with '+'");
    case '.': return jp_fail(p, p->pos, ANIM_E_FORMAT, "a number must have a digit before the decimal point");
    case '/': return jp_fail(p, p->pos, ANIM_E_FORMAT, "comments are not allowed in JSON");
    case '\'': return jp_fail(p, p->pos, ANIM_E_FORMAT, "strings must use double quotes");
    case ']': case '}': case ',':
        return jp_fail(p, p->pos, ANIM_E_FORMAT, "expected a value, found '%c'", c);
    default:
        return jp_fail(p, p->pos, ANIM_E_FORMAT, "unexpected %s (expected a value)", describe_byte(c, d, sizeof d));
    }
}

/* ---- public API -------------------------------------------------------- */

static void apply_limits(json_parser *p, const json_limits *lim) {
    p->max_depth = JSON_DEFAULT_DEPTH;
    p->max_string = JSON_DEFAULT_STRING;
    p->max_elements = JSON_DEFAULT_ELEMENTS;
    if (!lim) return;
    if (lim->max_depth > 0) p->max_depth = lim->max_depth < JSON_DEPTH_HARD_MAX ? lim->max_depth : JSON_DEPTH_HARD_MAX;
    if (lim->max_string > 0) p->max_string = lim->max_string;
    if (lim->max_elements > 0) p->max_elements = lim->max_elements;
}

json_value *json_parse(const char *buf, size_t len, const json_limits *lim, anim_error *err) {
    json_parser p = {.s = (const unsigned char *)buf, .len = buf ? len : 0, .err = err};
    apply_limits(&p, lim);
    if (p.len >= 3 && p.s[0] == 0xEF && p.s[1] == 0xBB && p.s[2] == 0xBF) {
        jp_fail(&p, 0, ANIM_E_FORMAT, "UTF-8 byte order mark is not allowed");
        return NULL;
    }
    json_value *v = calloc(1, sizeof *v);
    if (!v) {
        jp_oom(&p);
        return NULL;
    }
    anim_status st = parse_value(&p, v, 0);
    if (st == ANIM_OK) {
        skip_ws(&p);
        if (p.pos < p.len) st = jp_fail(&p, p.pos, ANIM_E_FORMAT, "unexpected data after the top-level value");
    }
    if (p.c_locale) freelocale(p.c_locale);
    if (st != ANIM_OK) {
        json_free(v);
        return NULL;
    }
    return v;
}

void json_free(json_value *v) {
    if (!v) return;
    free_contents(v);
    free(v);
}

const json_value *json_get(const json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT || !key) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < obj->len; i++)
        if (obj->key_lens[i] == n && memcmp(obj->keys[i], key, n) == 0) return &obj->items[i];
    return NULL;
}

double json_get_num(const json_value *obj, const char *key, double def) {
    const json_value *v = json_get(obj, key);
    return v && v->type == JSON_NUMBER ? v->num : def;
}

bool json_get_bool(const json_value *obj, const char *key, bool def) {
    const json_value *v = json_get(obj, key);
    return v && v->type == JSON_BOOL ? v->b : def;
}

const char *json_get_str(const json_value *obj, const char *key, const char *def) {
    const json_value *v = json_get(obj, key);
    return v && v->type == JSON_STRING ? v->str : def;
}


json_value *json_parse_file(const char *path, const json_limits *lim, anim_error *err) {
    size_t len = 0;
    char *buf = anim_read_small_file(path, (size_t)JSON_FILE_MAX, "JSON files", &len, err);
    if (!buf) return NULL;
    json_value *v = json_parse(buf, len, lim, err);
    free(buf);
    if (!v) anim_err_prefix(err, "%s", path);
    return v;
}
