/*
 * safetensors.c - validate a safetensors buffer and describe its tensors.
 *
 * Layout (huggingface/safetensors README, engines.md part C.1):
 *   bytes 0..8        N, the header length, unsigned little-endian u64
 *   bytes 8..8+N      UTF-8 JSON object: name -> {"dtype", "shape", "data_offsets"},
 *                     plus an optional "__metadata__" string -> string map
 *   bytes 8+N..end    the data section; data_offsets [BEGIN, END) are relative
 *                     to its start, data is little-endian, C order.
 *
 * The file is untrusted, so st_parse enforces the whole checklist of
 * engines.md C.3 before any tensor is exposed:
 *   - 2 <= N <= 100,000,000 and 8 + N <= file length (overflow-safe);
 *   - the header starts with '{' after optional JSON whitespace (writers may
 *     pad it at either end to align the data section) and is one strict JSON
 *     object (lib/io/json.c: UTF-8 checked, duplicate keys rejected) parsed
 *     with tight limits: depth 3, element count proportional to N;
 *   - each entry has exactly the fields dtype, shape and data_offsets
 *     (the JSON schema says additionalProperties: false; the Rust reader
 *     ignores extra fields, we do not), shape and offsets are plain unsigned
 *     integers, dimensions at most 2^48-1 (the schema's cap);
 *   - element count and byte size are overflow-checked and must equal
 *     END - BEGIN exactly;
 *   - sorted by BEGIN, the tensors tile the data section with no gap, no
 *     overlap (the "json attack": many tensors over the same bytes), and no
 *     trailing bytes (polyglot files);
 *   - "__metadata__" is a flat string -> string object.
 * All of this is checked with the bit sizes of every safetensors dtype, so a
 * well-formed file whose dtypes we cannot compute with (F8_*, U32, C64, ...)
 * gets ANIM_E_UNSUPPORTED naming the tensor, and a malformed one gets
 * ANIM_E_FORMAT, whatever its dtypes.
 *
 * Tensors are listed in header order; names are copied into one block owned
 * by f->priv; data pointers point into buf (no copy, no alignment promise).
 */
#include "io/tensor_file.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "io/json.h"

#define ST_MAX_HEADER 100000000ull   /* MAX_HEADER_SIZE of the reference reader */
#define ST_MAX_DIM ((1ull << 48) - 1) /* the JSON schema's integer cap */
#define ST_MAX_NAME 4096              /* real tensor names are < 200 bytes */
#define ST_MAX_VALUES 4000000         /* JSON values in one header (~300 MB of tree) */

/* Every dtype of the safetensors Dtype enum with its bit size; the ones
 * libanimate computes with are recognised by anim_dtype_from_st. */
static const struct { const char *name; unsigned bits; } st_dtypes[] = {
    {"BOOL", 8},        {"F4", 4},          {"F6_E2M3", 6},     {"F6_E3M2", 6},
    {"U8", 8},          {"I8", 8},          {"F8_E5M2", 8},     {"F8_E4M3", 8},
    {"F8_E8M0", 8},     {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"I16", 16},
    {"U16", 16},        {"F16", 16},        {"BF16", 16},       {"I32", 32},
    {"U32", 32},        {"F32", 32},        {"C64", 64},        {"F64", 64},
    {"I64", 64},        {"U64", 64},
};

typedef struct st_entry {
    const char *name;        /* points into the JSON tree while parsing */
    size_t name_len;
    const char *dtype_name;  /* ditto */
    int dtype;               /* anim_dtype, or -1: valid safetensors dtype we do not support */
    unsigned bits;           /* bits per element */
    int ndim;
    int64_t shape[TF_MAX_DIMS];
    uint64_t begin, end;
    size_t index;            /* position in header order */
} st_entry;

/* ---- messages ---------------------------------------------------------- */

/* A tensor name fit for a one-line message: control bytes become '?', long
 * names are cut (the whole message must fit ANIM_ERR_MSG_MAX). */
typedef struct st_name { char s[132]; } st_name;

static st_name show(const char *name) {
    st_name out;
    size_t k = 0, n = strlen(name);
    for (size_t i = 0; i < n && k < 124; i++) {
        unsigned char c = (unsigned char)name[i];
        out.s[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (k < n) { memcpy(out.s + k, "...", 3); k += 3; }
    out.s[k] = '\0';
    return out;
}

/* ---- length prefix and header ------------------------------------------ */

static uint64_t read_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Reads N and checks it against the limit and the buffer; *data_len is the
 * size of the data section. */
static anim_status check_lengths(const uint8_t *buf, size_t len, uint64_t *n_out, uint64_t *data_len,
                                 anim_error *err) {
    if (len < 8)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "file too small: %zu bytes, a safetensors file has at least an 8-byte header length", len);
    uint64_t n = read_le64(buf);
    if (n > ST_MAX_HEADER)
        return anim_seterr(err, ANIM_E_FORMAT, "header length %" PRIu64 " exceeds the %llu-byte limit", n,
                           ST_MAX_HEADER);
    if (n < 2)
        return anim_seterr(err, ANIM_E_FORMAT, "header length %" PRIu64 " is too small (the shortest header is '{}')",
                           n);
    /* len >= 8 and n <= 1e8, so neither side can overflow */
    if (n > (uint64_t)len - 8)
        return anim_seterr(err, ANIM_E_FORMAT, "file truncated: header claims %" PRIu64 " bytes, %zu present", n,
                           len - 8);
    *n_out = n;
    *data_len = (uint64_t)len - 8 - n;
    return ANIM_OK;
}

static bool is_json_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static anim_status parse_header(const uint8_t *hdr, uint64_t n, json_value **root, anim_error *err) {
    uint64_t i = 0;
    while (i < n && is_json_ws(hdr[i])) i++;
    if (i == n || hdr[i] != '{')
        return anim_seterr(err, ANIM_E_FORMAT, "header does not start with '{' (not a safetensors file?)");
    /* depth 3: top object -> entry object -> shape/data_offsets arrays. A
     * legitimate header spends > 4 bytes per JSON value, so N/4 values bound
     * the tree's memory by the header size without refusing real files. */
    json_limits lim = {.max_depth = 3, .max_string = (size_t)n, .max_elements = (size_t)(n / 4 + 64)};
    if (lim.max_elements > ST_MAX_VALUES) lim.max_elements = ST_MAX_VALUES;
    json_value *v = json_parse((const char *)hdr, (size_t)n, &lim, err);
    if (!v) {
        if (err && err->status == ANIM_E_FORMAT) anim_err_prefix(err, "invalid JSON header");
        return err ? err->status : ANIM_E_FORMAT;
    }
    *root = v;
    return ANIM_OK;
}

static anim_status check_metadata(const json_value *md, anim_error *err) {
    if (md->type != JSON_OBJECT)
        return anim_seterr(err, ANIM_E_FORMAT, "__metadata__ must be an object of strings");
    for (size_t i = 0; i < md->len; i++)
        if (md->items[i].type != JSON_STRING)
            return anim_seterr(err, ANIM_E_FORMAT, "__metadata__ value for key '%s' is not a string",
                               show(md->keys[i]).s);
    return ANIM_OK;
}

/* ---- one tensor entry --------------------------------------------------- */

static anim_status entry_dtype(st_entry *e, const json_value *v, anim_error *err) {
    if (v->type != JSON_STRING)
        return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': dtype must be a string", show(e->name).s);
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strlen(st_dtypes[i].name) == v->len && memcmp(st_dtypes[i].name, v->str, v->len) == 0) {
            e->dtype_name = st_dtypes[i].name;
            e->bits = st_dtypes[i].bits;
            e->dtype = anim_dtype_from_st(v->str, v->len);
            return ANIM_OK;
        }
    return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': unknown dtype '%s'", show(e->name).s, show(v->str).s);
}

static anim_status entry_shape(st_entry *e, const json_value *v, anim_error *err) {
    if (v->type != JSON_ARRAY)
        return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': shape must be an array of integers", show(e->name).s);
    if (v->len > TF_MAX_DIMS)
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "tensor '%s': %zu dimensions, more than the %d supported",
                           show(e->name).s, v->len, TF_MAX_DIMS);
    for (size_t i = 0; i < v->len; i++) {
        const json_value *d = &v->items[i];
        if (d->type != JSON_NUMBER || !d->is_uint) {
            if (d->type == JSON_NUMBER)
                return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': shape[%zu] is %.17g, not a non-negative integer",
                                   show(e->name).s, i, d->num);
            return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': shape[%zu] is not a number", show(e->name).s, i);
        }
        if (d->u64 > ST_MAX_DIM)
            return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': shape[%zu] = %" PRIu64 " exceeds the 2^48-1 limit",
                               show(e->name).s, i, d->u64);
        e->shape[i] = (int64_t)d->u64;
    }
    e->ndim = (int)v->len;
    return ANIM_OK;
}

static anim_status entry_offsets(st_entry *e, const json_value *v, anim_error *err) {
    if (v->type != JSON_ARRAY || v->len != 2 || v->items[0].type != JSON_NUMBER || !v->items[0].is_uint ||
        v->items[1].type != JSON_NUMBER || !v->items[1].is_uint)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "tensor '%s': data_offsets must be [BEGIN, END], two non-negative integers",
                           show(e->name).s);
    e->begin = v->items[0].u64;
    e->end = v->items[1].u64;
    if (e->end < e->begin)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] end before they begin",
                           show(e->name).s, e->begin, e->end);
    return ANIM_OK;
}

/* numel x bits / 8 must be a whole number of bytes equal to END - BEGIN. */
static anim_status entry_size(st_entry *e, anim_error *err) {
    char sh[256];
    tf_shape_str(e->shape, e->ndim, sh, sizeof sh);
    uint64_t numel = 1;
    for (int i = 0; i < e->ndim; i++) {
        uint64_t d = (uint64_t)e->shape[i];
        if (d && numel > UINT64_MAX / d)
            return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': shape %s element count overflows",
                               show(e->name).s, sh);
        numel *= d;
    }
    if (numel > UINT64_MAX / e->bits)
        return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': shape %s x %s byte size overflows", show(e->name).s, sh,
                           e->dtype_name);
    uint64_t bits = numel * e->bits;
    if (bits % 8)
        return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': shape %s x %s is not a whole number of bytes",
                           show(e->name).s, sh, e->dtype_name);
    if (bits / 8 != e->end - e->begin)
        return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': shape %s x %s needs %" PRIu64
                           " bytes but data_offsets span %" PRIu64, show(e->name).s, sh, e->dtype_name, bits / 8,
                           e->end - e->begin);
    return ANIM_OK;
}

static anim_status parse_entry(st_entry *e, const json_value *v, anim_error *err) {
    static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
    if (e->name_len != strlen(e->name))
        return anim_seterr(err, ANIM_E_FORMAT, "tensor name '%s' contains a NUL character", show(e->name).s);
    if (e->name_len > ST_MAX_NAME)
        return anim_seterr(err, ANIM_E_FORMAT, "tensor name '%s' is %zu bytes, over the %d-byte limit",
                           show(e->name).s, e->name_len, ST_MAX_NAME);
    if (v->type != JSON_OBJECT)
        return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': entry must be an object", show(e->name).s);
    for (size_t i = 0; i < v->len; i++) {
        bool known = false;
        for (int k = 0; k < 3; k++) known |= strcmp(v->keys[i], fields[k]) == 0 && v->key_lens[i] == strlen(fields[k]);
        if (!known)
            return anim_seterr(err, ANIM_E_FORMAT,
                               "tensor '%s': unknown field '%s' (expected dtype, shape, data_offsets)",
                               show(e->name).s, show(v->keys[i]).s);
    }
    const json_value *f[3];
    for (int k = 0; k < 3; k++)
        if (!(f[k] = json_get(v, fields[k])))
            return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': missing field '%s'", show(e->name).s, fields[k]);
    anim_status st;
    if ((st = entry_dtype(e, f[0], err)) != ANIM_OK) return st;
    if ((st = entry_shape(e, f[1], err)) != ANIM_OK) return st;
    if ((st = entry_offsets(e, f[2], err)) != ANIM_OK) return st;
    return entry_size(e, err);
}

/* ---- tiling ------------------------------------------------------------ */

/* By BEGIN, then END (a zero-size tensor sorts before the tensor starting at
 * the same offset), then header order so the result is deterministic. */
static int cmp_offsets(const void *a, const void *b) {
    const st_entry *x = *(const st_entry *const *)a, *y = *(const st_entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static anim_status check_tiling(st_entry *e, size_t n, uint64_t data_len, anim_error *err) {
    st_entry **s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return anim_seterr(err, ANIM_E_OOM, "out of memory sorting %zu tensors", n);
    for (size_t i = 0; i < n; i++) s[i] = &e[i];
    qsort(s, n, sizeof *s, cmp_offsets);
    anim_status st = ANIM_OK;
    uint64_t covered = 0;
    const st_entry *prev = NULL;
    for (size_t i = 0; i < n && st == ANIM_OK; i++) {
        const st_entry *t = s[i];
        if (t->begin < covered)
            st = anim_seterr(err, ANIM_E_FORMAT,
                             "tensor '%s' data_offsets [%" PRIu64 ", %" PRIu64 "] overlap tensor '%s' [%" PRIu64
                             ", %" PRIu64 "]",
                             show(t->name).s, t->begin, t->end, show(prev->name).s, prev->begin, prev->end);
        else if (t->begin > covered && prev)
            st = anim_seterr(err, ANIM_E_FORMAT,
                             "gap of %" PRIu64 " bytes between tensor '%s' [%" PRIu64 ", %" PRIu64
                             "] and tensor '%s' [%" PRIu64 ", %" PRIu64 "]",
                             t->begin - covered, show(prev->name).s, prev->begin, prev->end, show(t->name).s,
                             t->begin, t->end);
        else if (t->begin > covered)
            st = anim_seterr(err, ANIM_E_FORMAT,
                             "gap of %" PRIu64 " bytes at the start of the data section (first tensor '%s' "
                             "begins at %" PRIu64 ")",
                             t->begin, show(t->name).s, t->begin);
        covered = t->end;
        prev = t;
    }
    free(s);
    if (st != ANIM_OK) return st;
    if (covered > data_len)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "file truncated: tensors cover %" PRIu64 " bytes but the data section has %" PRIu64,
                           covered, data_len);
    if (covered < data_len)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "data section is %" PRIu64 " bytes but tensors cover %" PRIu64 " (trailing bytes)",
                           data_len, covered);
    return ANIM_OK;
}

/* ---- assembling the tf_file --------------------------------------------- */

static anim_status collect_entries(const json_value *root, st_entry **out, size_t *n_out, anim_error *err) {
    size_t n = 0;
    for (size_t i = 0; i < root->len; i++)
        if (strcmp(root->keys[i], "__metadata__") != 0 || root->key_lens[i] != 12) n++;
    st_entry *e = calloc(n ? n : 1, sizeof *e);
    if (!e) return anim_seterr(err, ANIM_E_OOM, "out of memory for %zu tensor entries", n);
    size_t k = 0;
    for (size_t i = 0; i < root->len; i++) {
        anim_status st;
        if (root->key_lens[i] == 12 && strcmp(root->keys[i], "__metadata__") == 0)
            st = check_metadata(&root->items[i], err);
        else {
            e[k].name = root->keys[i];
            e[k].name_len = root->key_lens[i];
            e[k].index = k;
            st = parse_entry(&e[k], &root->items[i], err);
            k++;
        }
        if (st != ANIM_OK) {
            free(e);
            return st;
        }
    }
    *out = e;
    *n_out = n;
    return ANIM_OK;
}

/* A valid file whose dtypes we cannot compute with: named, after the format
 * itself was found sound. */
static anim_status check_supported(const st_entry *e, size_t n, anim_error *err) {
    for (size_t i = 0; i < n; i++)
        if (e[i].dtype < 0)
            return anim_seterr(err, ANIM_E_UNSUPPORTED, "tensor '%s': dtype %s is not supported", show(e[i].name).s,
                               e[i].dtype_name);
    return ANIM_OK;
}

static void fill_strides(tf_tensor *t) {
    int64_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        t->stride[d] = s;
        s *= t->shape[d];
    }
}

/* Copies the names into one block (f->priv) and fills f->tensors. */
static anim_status build_tensors(tf_file *f, const st_entry *e, size_t n, const uint8_t *data, anim_error *err) {
    size_t total = 1;
    for (size_t i = 0; i < n; i++) total += e[i].name_len + 1;  /* bounded by the header size */
    char *names = malloc(total);
    tf_tensor *t = calloc(n ? n : 1, sizeof *t);
    if (!names || !t) {
        free(names);
        free(t);
        return anim_seterr(err, ANIM_E_OOM, "out of memory for %zu tensors", n);
    }
    char *p = names;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, e[i].name, e[i].name_len + 1);
        t[i].name = p;
        p += e[i].name_len + 1;
        t[i].dtype = (anim_dtype)e[i].dtype;
        t[i].ndim = e[i].ndim;
        memcpy(t[i].shape, e[i].shape, sizeof t[i].shape);
        fill_strides(&t[i]);
        t[i].data = data + e[i].begin;
        t[i].nbytes = e[i].end - e[i].begin;
    }
    f->tensors = n ? t : NULL;
    if (!n) free(t);
    f->n = n;
    f->priv = names;
    f->priv_free = free;
    return ANIM_OK;
}

static void reset_file(tf_file *f) {
    free(f->tensors);
    if (f->priv_free && f->priv) f->priv_free(f->priv);
    f->tensors = NULL;
    f->n = 0;
    f->priv = NULL;
    f->priv_free = NULL;
}

anim_status st_parse(tf_file *f, const uint8_t *buf, size_t len, anim_error *err) {
    uint64_t hlen = 0, data_len = 0;
    json_value *root = NULL;
    st_entry *e = NULL;
    size_t n = 0;
    anim_status st = check_lengths(buf, len, &hlen, &data_len, err);
    /* parse_header checked the leading '{', so root is an object */
    if (st == ANIM_OK) st = parse_header(buf + 8, hlen, &root, err);
    if (st == ANIM_OK) st = collect_entries(root, &e, &n, err);
    if (st == ANIM_OK) st = check_tiling(e, n, data_len, err);
    if (st == ANIM_OK) st = check_supported(e, n, err);
    if (st == ANIM_OK) st = build_tensors(f, e, n, buf + 8 + hlen, err);
    free(e);
    json_free(root);
    if (st == ANIM_OK) {
        f->format = TF_SAFETENSORS;
        st = tf_finish(f, err);
    }
    if (st != ANIM_OK) reset_file(f);
    return st;
}
