/*
 * test_pth.c - PyTorch zip checkpoints (lib/io/pth.c, zip.c, pickle.c).
 *
 * 1. The moore-tiny checkpoints saved by real torch.save (.pth state dicts,
 *    diffusers/transformers .bin) give exactly the tensors of the matching
 *    safetensors files: names, dtypes, shapes, values, raw bytes.
 * 2. pose_guider.pth keeps all tensors as views into one shared storage.
 * 3. Hand-built archives (a tiny stored-zip writer and pickle assembler
 *    below; no fixture files) cover what torch may also write - zip64
 *    records, strided/empty/scalar views, F16/BF16/I64 storages, protocol 4
 *    opcodes, _rebuild_parameter, OrderedDict _metadata, a whisper-style
 *    {'dims', 'model_state_dict'} wrapper - and every rejection with the
 *    phrase its message must contain.
 * 4. A deterministic mutation loop (truncations and byte flips of
 *    pose_guider.pth and of a small synthetic archive) that must never crash,
 *    leak, or hand out a tensor outside the buffer; run it under
 *    `make test SAN=1` for the leak/UB part.
 */
#include <stdlib.h>
#include <string.h>

#include "io/pickle.h"
#include "io/tensor_file.h"
#include "io/zip.h"
#include "test.h"

/* ---- byte buffers (test-only: abort on OOM) ------------------------------- */

typedef struct bbuf { uint8_t *p; size_t n, cap; } bbuf;

static void put(bbuf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->n + n) c *= 2;
        b->p = realloc(b->p, c);
        if (!b->p) abort();
        b->cap = c;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put_le(bbuf *b, uint64_t v, int n) {
    uint8_t t[8];
    for (int i = 0; i < n; i++) t[i] = (uint8_t)(v >> (8 * i));
    put(b, t, (size_t)n);
}
static void put_u8(bbuf *b, unsigned v) { put_le(b, v, 1); }

/* ---- pickle assembler ------------------------------------------------------ */

static void p_str(bbuf *b, const char *s) { put_u8(b, 'X'); put_le(b, strlen(s), 4); put(b, s, strlen(s)); }
/* BININT for 32-bit values, LONG1 (8 bytes) beyond */
static void p_int(bbuf *b, int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) { put_u8(b, 'J'); put_le(b, (uint64_t)v, 4); return; }
    put_u8(b, 0x8a);
    put_u8(b, 8);
    put_le(b, (uint64_t)v, 8);
}
static void p_glob(bbuf *b, const char *mod, const char *name) {
    put_u8(b, 'c');
    put(b, mod, strlen(mod));
    put_u8(b, '\n');
    put(b, name, strlen(name));
    put_u8(b, '\n');
}
static void p_int_tuple(bbuf *b, int nd, const int64_t *v) {
    put_u8(b, '(');
    for (int i = 0; i < nd; i++) p_int(b, v[i]);
    put_u8(b, 't');
}
static void p_empty_od(bbuf *b) { p_glob(b, "collections", "OrderedDict"); put_u8(b, ')'); put_u8(b, 'R'); }

/* _rebuild_tensor_v2(('storage', torch.<stype>, key, 'cpu', numel), offset, size, stride, False, OrderedDict()) */
static void p_tensor(bbuf *b, const char *stype, const char *key, int64_t numel, int64_t offset, int nd,
                     const int64_t *shape, const int64_t *stride) {
    p_glob(b, "torch._utils", "_rebuild_tensor_v2");
    put_u8(b, '(');
    put_u8(b, '(');
    p_str(b, "storage");
    p_glob(b, "torch", stype);
    p_str(b, key);
    p_str(b, "cpu");
    p_int(b, numel);
    put_u8(b, 't');
    put_u8(b, 'Q');
    p_int(b, offset);
    p_int_tuple(b, nd, shape);
    p_int_tuple(b, nd, stride);
    put_u8(b, 0x89);
    p_empty_od(b);
    put_u8(b, 't');
    put_u8(b, 'R');
}

/* a 1-d contiguous float tensor over storage key */
static void p_vec(bbuf *b, const char *key, int64_t numel, int64_t n) {
    int64_t one = 1;
    p_tensor(b, "FloatStorage", key, numel, 0, 1, &n, &one);
}

static void p_begin_sd(bbuf *b) {
    put_u8(b, 0x80);
    put_u8(b, 2);
    p_empty_od(b);
    put_u8(b, '(');
}
static void p_end_sd(bbuf *b) { put_u8(b, 'u'); put_u8(b, '.'); }

/* ---- stored-zip writer --------------------------------------------------- */

typedef struct zin { const char *name; const void *data; size_t len; unsigned method; } zin;

/* A zip of stored entries (method as given, no CRC: the reader ignores it).
 * zip64: saturate the 32-bit fields and write zip64 extras and end records,
 * the way big torch checkpoints look. Returns a malloc'd buffer of exactly
 * *len bytes, so that ASan sees any read past its end. */
static uint8_t *make_zip(const zin *e, size_t n, bool zip64, size_t *len) {
    bbuf b = {0}, cd = {0};
    for (size_t i = 0; i < n; i++) {
        size_t off = b.n, nl = strlen(e[i].name);
        put_le(&b, 0x04034b50, 4);
        put_le(&b, 20, 2);
        put_le(&b, 0, 2);
        put_le(&b, e[i].method, 2);
        put_le(&b, 0, 4); /* time, date */
        put_le(&b, 0, 4); /* crc */
        put_le(&b, e[i].len, 4);
        put_le(&b, e[i].len, 4);
        put_le(&b, nl, 2);
        put_le(&b, 0, 2);
        put(&b, e[i].name, nl);
        put(&b, e[i].data, e[i].len);

        put_le(&cd, 0x02014b50, 4);
        put_le(&cd, 45, 2);
        put_le(&cd, 45, 2);
        put_le(&cd, 0, 2);
        put_le(&cd, e[i].method, 2);
        put_le(&cd, 0, 4);
        put_le(&cd, 0, 4);
        put_le(&cd, zip64 ? 0xffffffffu : e[i].len, 4);
        put_le(&cd, zip64 ? 0xffffffffu : e[i].len, 4);
        put_le(&cd, nl, 2);
        put_le(&cd, zip64 ? 28 : 0, 2);
        put_le(&cd, 0, 2); /* comment */
        put_le(&cd, 0, 2); /* disk */
        put_le(&cd, 0, 2);
        put_le(&cd, 0, 4);
        put_le(&cd, zip64 ? 0xffffffffu : off, 4);
        put(&cd, e[i].name, nl);
        if (zip64) {
            put_le(&cd, 1, 2);
            put_le(&cd, 24, 2);
            put_le(&cd, e[i].len, 8);
            put_le(&cd, e[i].len, 8);
            put_le(&cd, off, 8);
        }
    }
    size_t cd_off = b.n;
    put(&b, cd.p, cd.n);
    if (zip64) {
        size_t z_off = b.n;
        put_le(&b, 0x06064b50, 4);
        put_le(&b, 44, 8);
        put_le(&b, 45, 2);
        put_le(&b, 45, 2);
        put_le(&b, 0, 4);
        put_le(&b, 0, 4);
        put_le(&b, n, 8);
        put_le(&b, n, 8);
        put_le(&b, cd.n, 8);
        put_le(&b, cd_off, 8);
        put_le(&b, 0x07064b50, 4);
        put_le(&b, 0, 4);
        put_le(&b, z_off, 8);
        put_le(&b, 1, 4);
    }
    put_le(&b, 0x06054b50, 4);
    put_le(&b, 0, 4);
    put_le(&b, zip64 ? 0xffff : n, 2);
    put_le(&b, zip64 ? 0xffff : n, 2);
    put_le(&b, zip64 ? 0xffffffffu : cd.n, 4);
    put_le(&b, zip64 ? 0xffffffffu : cd_off, 4);
    put_le(&b, 0, 2);
    free(cd.p);
    uint8_t *out = malloc(b.n);
    if (!out) abort();
    memcpy(out, b.p, b.n);
    free(b.p);
    *len = b.n;
    return out;
}

/* 64 floats 0, 1, 2, ... as storage bytes */
static float g_vals[64];
static const float *vals(void) {
    for (int i = 0; i < 64; i++) g_vals[i] = (float)i;
    return g_vals;
}

/* archive "<prefix>/data.pkl" + version + storages "<prefix>/data/<key>" */
static uint8_t *sd_zip(const bbuf *pkl, const char *prefix, const zin *st, size_t n_st, bool zip64, size_t *len) {
    zin e[16];
    char names[16][128];
    size_t n = 0;
    snprintf(names[n], sizeof names[n], "%s/data.pkl", prefix);
    e[n] = (zin){names[n], pkl->p, pkl->n, 0}, n++;
    for (size_t i = 0; i < n_st && n < 15; i++, n++) {
        snprintf(names[n], sizeof names[n], "%s/%s", prefix, st[i].name);
        e[n] = (zin){names[n], st[i].data, st[i].len, st[i].method};
    }
    snprintf(names[n], sizeof names[n], "%s/version", prefix);
    e[n] = (zin){names[n], "3\n", 2, 0}, n++;
    return make_zip(e, n, zip64, len);
}

/* A one-storage archive ("data/0" = 16 floats) around the given pickle. */
static uint8_t *simple_zip(const bbuf *pkl, size_t *len) {
    zin st = {"data/0", vals(), 16 * sizeof(float), 0};
    return sd_zip(pkl, "archive", &st, 1, false, len);
}

/* ---- parse helpers ---------------------------------------------------------- */

/* pth_parse must fail with `phrase` in the message and leave f clean. */
static void expect_error(const uint8_t *buf, size_t len, const char *phrase) {
    anim_error err;
    anim_err_clear(&err);
    tf_file *f = calloc(1, sizeof *f);
    CHECK(f);
    anim_status st = pth_parse(f, buf, len, &err);
    bool clean = !f->tensors && f->n == 0 && !f->priv && !f->sorted;
    if (st == ANIM_OK) tf_close(f);
    else free(f);
    CHECK_MSG(st != ANIM_OK, "expected an error containing \"%s\", but the parse succeeded", phrase);
    CHECK_MSG(clean, "a failed pth_parse left allocations in the tf_file");
    CHECK_CONTAINS(err.msg, phrase);
}

/* the error for a pickle wrapped in a one-storage archive */
static void expect_pickle_error(bbuf *pkl, const char *phrase) {
    size_t len;
    uint8_t *z = simple_zip(pkl, &len);
    expect_error(z, len, phrase);
    free(z);
    free(pkl->p);
    pkl->p = NULL;
    pkl->n = pkl->cap = 0;
}

/* ---- 1. real torch.save checkpoints vs safetensors ------------------------ */

static void compare_with_safetensors(const char *pth_path, const char *st_path) {
    anim_error err;
    tf_file *p = NULL, *s = NULL;
    CHECK_MSG((tf_open(pth_path, &p, &err)) == ANIM_OK, "%s", err.msg);
    anim_status st = tf_open(st_path, &s, &err);
    if (st) tf_close(p);
    CHECK_MSG((st) == ANIM_OK, "%s", err.msg);
    float *a = NULL, *b = NULL;
    size_t contiguous = 0;
    CHECK_MSG(p->format == TF_PTH, "%s: format %d", pth_path, (int)p->format);
    CHECK_MSG(p->n == s->n && p->n > 0, "%s has %zu tensors, %s has %zu", pth_path, p->n, st_path, s->n);
    for (size_t i = 0; i < s->n && !test_failed(); i++) {
        const tf_tensor *ts = &s->tensors[i], *tp = tf_find(p, ts->name);
        if (!tp) { test_fail(__FILE__, __LINE__, "%s lacks '%s'", pth_path, ts->name); break; }
        char sa[64], sb[64];
        if (tp->dtype != ts->dtype || tp->ndim != ts->ndim ||
            memcmp(tp->shape, ts->shape, (size_t)ts->ndim * sizeof ts->shape[0]) != 0) {
            test_fail(__FILE__, __LINE__, "%s '%s': %s %s vs %s %s", pth_path, ts->name, anim_dtype_name(tp->dtype),
                      tf_shape_str(tp->shape, tp->ndim, sa, sizeof sa), anim_dtype_name(ts->dtype),
                      tf_shape_str(ts->shape, ts->ndim, sb, sizeof sb));
            break;
        }
        size_t n = (size_t)tf_numel(ts);
        a = realloc(a, (n ? n : 1) * sizeof *a);
        b = realloc(b, (n ? n : 1) * sizeof *b);
        if (!a || !b) abort();
        if (tf_read_f32(tp, a, &err) || tf_read_f32(ts, b, &err)) {
            test_fail(__FILE__, __LINE__, "'%s': %s", ts->name, err.msg);
            break;
        }
        if (memcmp(a, b, n * sizeof *a) != 0) { /* bitwise: NaN-safe and exact */
            test_fail(__FILE__, __LINE__, "%s '%s': values differ from %s", pth_path, ts->name, st_path);
            break;
        }
        if (tf_is_contiguous(tp)) {
            contiguous++;
            if (tp->nbytes != ts->nbytes || memcmp(tp->data, ts->data, (size_t)ts->nbytes) != 0) {
                test_fail(__FILE__, __LINE__, "%s '%s': raw bytes differ (%llu vs %llu bytes)", pth_path,
                          ts->name, (unsigned long long)tp->nbytes, (unsigned long long)ts->nbytes);
                break;
            }
        }
    }
    free(a);
    free(b);
    tf_close(p);
    tf_close(s);
    CHECK_MSG(contiguous > 0, "%s: no contiguous tensor to compare bytes of", pth_path);
}

#define PTH_DIR "tests/fixtures/moore-tiny-pth/"
#define ST_DIR "tests/fixtures/moore-tiny/"

TEST(pth_reference_unet_matches_safetensors) {
    compare_with_safetensors(PTH_DIR "reference_unet.pth", ST_DIR "reference_unet.safetensors");
}
TEST(pth_denoising_unet_matches_safetensors) {
    compare_with_safetensors(PTH_DIR "denoising_unet.pth", ST_DIR "denoising_unet.safetensors");
}
TEST(pth_motion_module_matches_safetensors) {
    compare_with_safetensors(PTH_DIR "motion_module.pth", ST_DIR "motion_module.safetensors");
}
TEST(pth_pose_guider_matches_safetensors) {
    compare_with_safetensors(PTH_DIR "pose_guider.pth", ST_DIR "pose_guider.safetensors");
}
TEST(pth_vae_bin_matches_safetensors) {
    compare_with_safetensors(PTH_DIR "vae/diffusion_pytorch_model.bin",
                             ST_DIR "vae/diffusion_pytorch_model.safetensors");
}
TEST(pth_image_encoder_bin_matches_safetensors) {
    compare_with_safetensors(PTH_DIR "image_encoder/pytorch_model.bin", ST_DIR "image_encoder/model.safetensors");
}

/* ---- 2. shared storage ------------------------------------------------------- */

TEST(pth_pose_guider_shares_one_storage) {
    size_t len;
    uint8_t *buf = test_read_file(PTH_DIR "pose_guider.pth", &len);
    CHECK(buf);
    anim_error err;
    zip_archive z;
    tf_file *f = NULL;
    if (zip_open(&z, buf, len, &err)) { free(buf); CHECK_MSG(0, "%s", err.msg); }
    if (tf_open_mem(buf, len, "pose_guider.pth", &f, &err)) {
        zip_close(&z);
        free(buf);
        CHECK_MSG(0, "%s", err.msg);
    }
    /* which storage entry holds each tensor; all must lie fully inside one */
    size_t best = 0, with_offset = 0, outside = 0;
    for (size_t e = 0; e < z.n; e++) {
        size_t in = 0;
        for (size_t i = 0; i < f->n; i++) {
            const tf_tensor *t = &f->tensors[i];
            if (t->data >= z.entries[e].data && t->data + t->nbytes <= z.entries[e].data + z.entries[e].size) {
                in++;
                if (t->data != z.entries[e].data) with_offset++;
            }
        }
        if (in > best) best = in;
    }
    for (size_t i = 0; i < f->n; i++)
        if (f->tensors[i].data < buf || f->tensors[i].data + f->tensors[i].nbytes > buf + len) outside++;
    /* pickle order is kept: the first key of the pickle comes first */
    bool first_ok = f->n > 0 && strcmp(f->tensors[0].name, "blocks.0.bias") == 0;
    size_t n = f->n;
    tf_close(f);
    zip_close(&z);
    free(buf);
    CHECK_MSG(best >= 2, "no two tensors share a storage (best %zu of %zu)", best, n);
    CHECK_MSG(best == n, "pose_guider.pth should hold all %zu tensors in one storage, found %zu", n, best);
    CHECK_MSG(with_offset > 0, "no tensor starts at a non-zero storage offset");
    CHECK(outside == 0);
    CHECK(first_ok);
    /* the values of these views are compared with safetensors in
     * pth_pose_guider_matches_safetensors */
}

/* ---- 3a. synthetic archives that must load -------------------------------- */

static void check_views(bool zip64) {
    bbuf k = {0};
    p_begin_sd(&k);
    int64_t s23[2] = {2, 3}, c23[2] = {3, 1}, s32[2] = {3, 2}, t32[2] = {1, 3}, s04[2] = {0, 4}, c04[2] = {4, 1};
    int64_t s5 = 5, one = 1;
    p_str(&k, "a.weight");  /* contiguous (2,3) at offset 0 */
    p_tensor(&k, "FloatStorage", "0", 16, 0, 2, s23, c23);
    p_str(&k, "a.t");       /* its transpose: (3,2) strides (1,3) */
    p_tensor(&k, "FloatStorage", "0", 16, 0, 2, s32, t32);
    p_str(&k, "scalar");    /* 0-d at offset 7 */
    p_tensor(&k, "FloatStorage", "0", 16, 7, 0, NULL, NULL);
    p_str(&k, "empty");     /* (0,4) at the very end of the storage */
    p_tensor(&k, "FloatStorage", "0", 16, 16, 2, s04, c04);
    p_str(&k, "tail");      /* 5 elements at offset 11 */
    p_tensor(&k, "FloatStorage", "0", 16, 11, 1, &s5, &one);
    p_str(&k, "half");
    p_tensor(&k, "HalfStorage", "1", 2, 0, 1, (int64_t[]){2}, &one);
    p_str(&k, "bf16");
    p_tensor(&k, "BFloat16Storage", "2", 2, 0, 1, (int64_t[]){2}, &one);
    p_str(&k, "ids");
    p_tensor(&k, "LongStorage", "3", 2, 0, 1, (int64_t[]){2}, &one);
    p_end_sd(&k);
    const uint16_t h[2] = {0x3c00, 0xc000}, bf[2] = {0x3f80, 0x4040}; /* 1, -2 ; 1, 3 */
    const int64_t ids[2] = {-5, 1LL << 40};
    zin st[4] = {{"data/0", vals(), 16 * 4, 0}, {"data/1", h, 4, 0}, {"data/2", bf, 4, 0}, {"data/3", ids, 16, 0}};
    size_t len;
    uint8_t *z = sd_zip(&k, "my model", st, 4, zip64, &len);
    free(k.p);
    anim_error err;
    tf_file *f = NULL;
    anim_status status = tf_open_mem(z, len, "views", &f, &err);
    if (status) free(z);
    CHECK_MSG((status) == ANIM_OK, "%s", err.msg);
    float out[16];
    const tf_tensor *a = tf_find(f, "a.weight"), *t = tf_find(f, "a.t"), *sc = tf_find(f, "scalar"),
                    *em = tf_find(f, "empty"), *tl = tf_find(f, "tail");
    bool ok = f->n == 8 && a && t && sc && em && tl && strcmp(f->tensors[1].name, "a.t") == 0;
    ok = ok && a->dtype == ANIM_DT_F32 && a->ndim == 2 && a->nbytes == 24 && tf_is_contiguous(a);
    ok = ok && t->data == a->data && !tf_is_contiguous(t) && t->stride[0] == 1 && t->stride[1] == 3 &&
         t->nbytes == 24;
    ok = ok && tf_read_f32(t, out, &err) == ANIM_OK && out[0] == 0 && out[1] == 3 && out[2] == 1 && out[5] == 5;
    ok = ok && sc->ndim == 0 && sc->nbytes == 4 && sc->data == a->data + 28 && tf_read_f32(sc, out, &err) == 0 &&
         out[0] == 7;
    ok = ok && em->nbytes == 0 && tf_numel(em) == 0 && em->data == a->data + 64;
    ok = ok && tl->nbytes == 20 && tf_read_f32(tl, out, &err) == 0 && out[0] == 11 && out[4] == 15;
    const tf_tensor *hh = tf_find(f, "half"), *bb = tf_find(f, "bf16"), *ii = tf_find(f, "ids");
    ok = ok && hh && hh->dtype == ANIM_DT_F16 && tf_read_f32(hh, out, &err) == 0 && out[0] == 1 && out[1] == -2;
    ok = ok && bb && bb->dtype == ANIM_DT_BF16 && tf_read_f32(bb, out, &err) == 0 && out[0] == 1 && out[1] == 3;
    ok = ok && ii && ii->dtype == ANIM_DT_I64 && ii->nbytes == 16 && memcmp(ii->data, ids, 16) == 0;
    tf_close(f);
    free(z);
    CHECK_MSG(ok, "views not read as written (zip64 %d): %s", zip64, err.msg);
}

TEST(pth_synthetic_views_and_dtypes) { check_views(false); }
TEST(pth_synthetic_zip64_records) { check_views(true); }

/* protocol 4 opcodes, _rebuild_parameter, _metadata BUILD, memo reuse */
TEST(pth_protocol4_parameter_metadata) {
    bbuf k = {0};
    put_u8(&k, 0x80);
    put_u8(&k, 4);
    put_u8(&k, 0x95);
    put_le(&k, 0, 8); /* FRAME: its length is not checked against content */
    put_u8(&k, 0x8c); put_u8(&k, 11); put(&k, "collections", 11); put_u8(&k, 0x94);
    put_u8(&k, 0x8c); put_u8(&k, 11); put(&k, "OrderedDict", 11); put_u8(&k, 0x94);
    put_u8(&k, 0x93); put_u8(&k, 0x94); /* memo 2 = OrderedDict */
    put_u8(&k, ')'); put_u8(&k, 'R'); put_u8(&k, 0x94); /* memo 3 = the state dict */
    put_u8(&k, '(');
    /* 'w': _rebuild_parameter(_rebuild_tensor_v2(...), True, OrderedDict()) */
    put_u8(&k, 0x8c); put_u8(&k, 1); put(&k, "w", 1);
    p_glob(&k, "torch._utils", "_rebuild_parameter");
    put_u8(&k, '(');
    int64_t n4 = 4, one = 1;
    p_tensor(&k, "FloatStorage", "0", 16, 2, 1, &n4, &one);
    put_u8(&k, 0x88);
    put_u8(&k, 'h'); put_u8(&k, 2); put_u8(&k, ')'); put_u8(&k, 'R');
    put_u8(&k, 't'); put_u8(&k, 'R');
    /* 'v': a LONG1 numel and a BININT1/BININT2 shape */
    p_str(&k, "v");
    p_glob(&k, "torch._utils", "_rebuild_tensor_v2");
    put_u8(&k, '(');
    put_u8(&k, '('); p_str(&k, "storage"); p_glob(&k, "torch", "FloatStorage"); p_str(&k, "0"); p_str(&k, "cpu");
    put_u8(&k, 0x8a); put_u8(&k, 2); put_le(&k, 16, 2); put_u8(&k, 't');
    put_u8(&k, 'Q');
    put_u8(&k, 'K'); put_u8(&k, 0);
    put_u8(&k, 'M'); put_le(&k, 3, 2); put_u8(&k, 0x85);
    put_u8(&k, 'K'); put_u8(&k, 5); put_u8(&k, 0x85);
    put_u8(&k, 0x89); put_u8(&k, 'h'); put_u8(&k, 2); put_u8(&k, ')'); put_u8(&k, 'R');
    p_str(&k, "extra metadata argument");
    put_u8(&k, 't'); put_u8(&k, 'R');
    put_u8(&k, 'u');
    /* state: {'_metadata': OrderedDict({'': {'version': 1}})} */
    put_u8(&k, '}'); p_str(&k, "_metadata"); put_u8(&k, 'h'); put_u8(&k, 2); put_u8(&k, ')'); put_u8(&k, 'R');
    p_str(&k, ""); put_u8(&k, '}'); p_str(&k, "version"); put_u8(&k, 'K'); put_u8(&k, 1); put_u8(&k, 's');
    put_u8(&k, 's'); put_u8(&k, 's');
    put_u8(&k, 'b');
    put_u8(&k, '.');
    size_t len;
    uint8_t *z = simple_zip(&k, &len);
    free(k.p);
    anim_error err;
    tf_file *f = NULL;
    anim_status st = tf_open_mem(z, len, "p4", &f, &err);
    if (st) free(z);
    CHECK_MSG((st) == ANIM_OK, "%s", err.msg);
    const tf_tensor *w = tf_find(f, "w"), *v = tf_find(f, "v");
    float out[4];
    bool ok = f->n == 2 && w && v && w->ndim == 1 && w->shape[0] == 4 && tf_read_f32(w, out, &err) == 0 &&
              out[0] == 2 && out[3] == 5;
    ok = ok && v->shape[0] == 3 && v->stride[0] == 5 && v->nbytes == 44 && tf_read_f32(v, out, &err) == 0 &&
         out[0] == 0 && out[1] == 5 && out[2] == 10;
    tf_close(f);
    free(z);
    CHECK_MSG(ok, "protocol 4 checkpoint not read as written: %s", err.msg);
}

/* whisper: {'dims': {...}, 'model_state_dict': {...}}; dims stay readable */
TEST(pth_model_state_dict_wrapper) {
    bbuf k = {0};
    put_u8(&k, 0x80); put_u8(&k, 2);
    put_u8(&k, '}'); put_u8(&k, '(');
    p_str(&k, "dims");
    put_u8(&k, '}'); put_u8(&k, '(');
    p_str(&k, "n_mels"); put_u8(&k, 'K'); put_u8(&k, 80);
    p_str(&k, "n_audio_ctx"); put_u8(&k, 'M'); put_le(&k, 1500, 2);
    p_str(&k, "neg"); p_int(&k, -7);
    p_str(&k, "scale"); put_u8(&k, 'G'); put_u8(&k, 0x3f); put_u8(&k, 0xf8); put_le(&k, 0, 6); /* 1.5, big-endian */
    put_u8(&k, 'u');
    p_str(&k, "flags");
    put_u8(&k, ']'); put_u8(&k, '('); put_u8(&k, 0x88); put_u8(&k, 'N'); p_str(&k, "x"); put_u8(&k, 'e');
    p_str(&k, "model_state_dict");
    p_empty_od(&k); put_u8(&k, '(');
    p_str(&k, "encoder.w");
    p_vec(&k, "0", 16, 16);
    put_u8(&k, 'u');
    put_u8(&k, 'u');
    put_u8(&k, '.');
    size_t len;
    uint8_t *z = simple_zip(&k, &len);
    free(k.p);
    anim_error err;
    tf_file *f = NULL;
    anim_status st = tf_open_mem(z, len, "whisper", &f, &err);
    if (st) free(z);
    CHECK_MSG((st) == ANIM_OK, "%s", err.msg);
    bool ok = f->n == 1 && strcmp(f->tensors[0].name, "encoder.w") == 0 && f->tensors[0].nbytes == 64;
    const pk_obj *dims = pk_dict_get(pk_doc_root(f->priv), "dims");
    const pk_obj *mels = pk_dict_get(dims, "n_mels"), *ctx = pk_dict_get(dims, "n_audio_ctx"),
                 *neg = pk_dict_get(dims, "neg"), *scale = pk_dict_get(dims, "scale"),
                 *flags = pk_dict_get(pk_doc_root(f->priv), "flags");
    ok = ok && mels && mels->type == PK_INT && mels->u.i == 80 && ctx && ctx->u.i == 1500 && neg &&
         neg->u.i == -7 && scale && scale->type == PK_FLOAT && scale->u.f == 1.5;
    ok = ok && flags && flags->type == PK_LIST && flags->u.seq.n == 3 && flags->u.seq.items[0]->type == PK_BOOL &&
         flags->u.seq.items[1]->type == PK_NONE && flags->u.seq.items[2]->type == PK_STR;
    tf_close(f);
    free(z);
    CHECK_MSG(ok, "wrapped state dict / dims not read as written");
}

/* ---- 3b. rejections ---------------------------------------------------------- */

TEST(pth_rejects_non_zip_and_truncation) {
    const char *text = "this is not a zip archive, just some text that is long enough";
    expect_error((const uint8_t *)text, strlen(text), "end of central directory not found");
    expect_error((const uint8_t *)"", 0, "end of central directory not found");
    size_t len;
    uint8_t *buf = test_read_file(PTH_DIR "pose_guider.pth", &len);
    CHECK(buf);
    const size_t cuts[] = {1, 4, 30, 100, 1400, len / 2, len - 300, len - 120, len - 23, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        uint8_t *part = malloc(cuts[i]);
        if (!part) abort();
        memcpy(part, buf, cuts[i]);
        expect_error(part, cuts[i], "zip");
        free(part);
    }
    free(buf);
}

TEST(pth_rejects_bad_zip_structure) {
    bbuf k = {0};
    p_begin_sd(&k);
    p_str(&k, "w");
    p_vec(&k, "0", 16, 16);
    p_end_sd(&k);
    size_t len;
    uint8_t *z = simple_zip(&k, &len);
    /* the central directory's local-header offset of the first entry */
    size_t eocd = len - 22, cd = (size_t)z[eocd + 16] | (size_t)z[eocd + 17] << 8 | (size_t)z[eocd + 18] << 16;
    uint8_t save[4];
    memcpy(save, z + cd + 42, 4);
    memcpy(z + cd + 42, "\x40\xe2\x01\x00", 4); /* 123456 */
    expect_error(z, len, "zip entry 'archive/data.pkl': local header offset 123456 beyond end of file");
    memcpy(z + cd + 42, save, 4);
    z[30] = 'X'; /* first local header's name */
    expect_error(z, len, "names 'Xrchive/data.pkl' instead");
    z[30] = 'a';
    z[cd + 24] ^= 1; /* uncompressed size != compressed size */
    expect_error(z, len, "compressed size");
    z[cd + 24] ^= 1;
    z[eocd + 8] = z[eocd + 10] = 9; /* entry count larger than the directory */
    expect_error(z, len, "entries cannot fit");
    free(z);

    /* compressed (deflate) entry, and an archive without data.pkl */
    zin st = {"data/0", vals(), 64, 8};
    z = sd_zip(&k, "archive", &st, 1, false, &len);
    expect_error(z, len, "zip entry 'archive/data/0': compressed with method 8 (deflate); only stored");
    free(z);
    zin only = {"archive/data/0", vals(), 64, 0};
    z = make_zip(&only, 1, false, &len);
    expect_error(z, len, "no <prefix>/data.pkl entry");
    free(z);
    zin two[2] = {{"a/data.pkl", k.p, k.n, 0}, {"b/data.pkl", k.p, k.n, 0}};
    z = make_zip(two, 2, false, &len);
    expect_error(z, len, "two pickles");
    free(z);
    zin dup[2] = {{"a/data.pkl", k.p, k.n, 0}, {"a/data.pkl", k.p, k.n, 0}};
    z = make_zip(dup, 2, false, &len);
    expect_error(z, len, "listed twice");
    free(z);
    zin bo[2] = {{"data/0", vals(), 64, 0}, {"byteorder", "big", 3, 0}};
    z = sd_zip(&k, "archive", bo, 2, false, &len);
    expect_error(z, len, "only little-endian");
    free(z);
    bo[1].data = "little";
    bo[1].len = 6;
    z = sd_zip(&k, "archive", bo, 2, false, &len);
    tf_file *f = NULL;
    anim_error err;
    anim_status s = tf_open_mem(z, len, "little", &f, &err);
    tf_close(f);
    free(z);
    free(k.p);
    CHECK_MSG((s) == ANIM_OK, "%s", err.msg);
}

TEST(pth_rejects_forbidden_globals) {
    bbuf k = {0};
    /* the classic payload: os.system('echo pwned') via GLOBAL + REDUCE */
    put_u8(&k, 0x80); put_u8(&k, 2);
    p_glob(&k, "os", "system");
    p_str(&k, "echo pwned"); put_u8(&k, 0x85); put_u8(&k, 'R'); put_u8(&k, '.');
    expect_pickle_error(&k, "data.pkl: pickle global 'os.system' is not allowed (only state-dict types are read; "
                            "nothing is executed)");
    /* the same through STACK_GLOBAL (protocol 4) */
    put_u8(&k, 0x80); put_u8(&k, 4);
    put_u8(&k, 0x8c); put_u8(&k, 8); put(&k, "builtins", 8);
    put_u8(&k, 0x8c); put_u8(&k, 4); put(&k, "eval", 4);
    put_u8(&k, 0x93);
    expect_pickle_error(&k, "pickle global 'builtins.eval' is not allowed");
    put_u8(&k, 0x80); put_u8(&k, 4);
    p_str(&k, "os"); p_str(&k, "system"); put_u8(&k, 0x93);
    expect_pickle_error(&k, "pickle global 'os.system' is not allowed");
    /* python 2 spelling, and a torch name that is not on the list */
    put_u8(&k, 0x80); put_u8(&k, 2); p_glob(&k, "__builtin__", "getattr");
    expect_pickle_error(&k, "'__builtin__.getattr' is not allowed");
    put_u8(&k, 0x80); put_u8(&k, 2); p_glob(&k, "torch", "load");
    expect_pickle_error(&k, "'torch.load' is not allowed");
    /* a near miss must not match by prefix */
    put_u8(&k, 0x80); put_u8(&k, 2); p_glob(&k, "collections", "OrderedDictX");
    expect_pickle_error(&k, "'collections.OrderedDictX' is not allowed");
    /* STACK_GLOBAL with a non-str operand */
    put_u8(&k, 0x80); put_u8(&k, 4); p_str(&k, "os"); put_u8(&k, 'K'); put_u8(&k, 1); put_u8(&k, 0x93);
    expect_pickle_error(&k, "must be str");
    /* an allowed storage type may not be called */
    put_u8(&k, 0x80); put_u8(&k, 2); p_glob(&k, "torch", "FloatStorage"); put_u8(&k, ')'); put_u8(&k, 'R');
    expect_pickle_error(&k, "calling torch.FloatStorage is not supported");
    /* OrderedDict called with arguments */
    put_u8(&k, 0x80); put_u8(&k, 2); p_glob(&k, "collections", "OrderedDict"); put_u8(&k, 'N'); put_u8(&k, 0x85);
    put_u8(&k, 'R');
    expect_pickle_error(&k, "OrderedDict called with 1 arguments");
    /* GLOBAL without its newline */
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'c'); put(&k, "os", 2);
    expect_pickle_error(&k, "not ended by a newline");
}

TEST(pth_rejects_bad_opcodes_and_limits) {
    bbuf k = {0};
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, '}'); put_u8(&k, 0xff);
    expect_pickle_error(&k, "data.pkl: unsupported pickle opcode 0xff (unknown) at byte 3");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'i'); put(&k, "os\nsystem\n", 10);
    expect_pickle_error(&k, "unsupported pickle opcode 0x69 ('i', INST) at byte 2");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 0x81);
    expect_pickle_error(&k, "NEWOBJ) at byte 2");
    put_u8(&k, 0x80); put_u8(&k, 9);
    expect_pickle_error(&k, "pickle protocol 9");
    /* huge string lengths: beyond the limit, and beyond the data */
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'X'); put_le(&k, 0xffffffffu, 4);
    expect_pickle_error(&k, "BINUNICODE at byte 2: string length 4294967295 exceeds the limit");
    put_u8(&k, 0x80); put_u8(&k, 4); put_u8(&k, 0x8d); put_le(&k, UINT64_C(1) << 63, 8);
    expect_pickle_error(&k, "string length 9223372036854775808 exceeds the limit");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'X'); put_le(&k, 1000, 4); put(&k, "abc", 3);
    expect_pickle_error(&k, "runs past the end of the pickle");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'X'); put_le(&k, 2, 4); put(&k, "\xc3\x28", 2); put_u8(&k, '.');
    expect_pickle_error(&k, "not valid UTF-8");
    /* truncated operand, missing STOP, LONG1 beyond 64 bits */
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'J'); put(&k, "\1\2", 2);
    expect_pickle_error(&k, "pickle truncated: BININT at byte 2");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, '}');
    expect_pickle_error(&k, "without STOP");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 0x8a); put_u8(&k, 9); put(&k, "123456789", 9);
    expect_pickle_error(&k, "beyond 64 bits");
    /* memo: unset slot, slot beyond the pickle */
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'h'); put_u8(&k, 5);
    expect_pickle_error(&k, "reads memo slot 5, which was never set");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'N'); put_u8(&k, 'r'); put_le(&k, 0xfffffff0u, 4);
    expect_pickle_error(&k, "memo index 4294967280 at byte 3 is out of range");
    /* stack discipline */
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'R');
    expect_pickle_error(&k, "stack underflow: REDUCE at byte 2");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, '}'); put_u8(&k, '('); put_u8(&k, 'b');
    expect_pickle_error(&k, "above the last MARK");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'N'); put_u8(&k, 't');
    expect_pickle_error(&k, "TUPLE at byte 3 without a MARK");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, ']'); put_u8(&k, '('); put_u8(&k, 'N'); put_u8(&k, 'u');
    expect_pickle_error(&k, "SETITEMS at byte 5 on a list, not a dict");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, '}'); put_u8(&k, '('); put_u8(&k, 'N'); put_u8(&k, 'u');
    expect_pickle_error(&k, "odd number");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'N'); put_u8(&k, 'N'); put_u8(&k, 'b');
    expect_pickle_error(&k, "BUILD at byte 4 sets state on a None");
    /* deep MARK nesting, and a stack pushed past its limit without new objects */
    put_u8(&k, 0x80); put_u8(&k, 2);
    for (int i = 0; i < 5000; i++) put_u8(&k, '(');
    expect_pickle_error(&k, "MARK nesting deeper than 4096");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, 'N'); put_u8(&k, 'q'); put_u8(&k, 0);
    for (uint32_t i = 0; i <= PK_MAX_STACK; i++) { put_u8(&k, 'h'); put_u8(&k, 0); }
    expect_pickle_error(&k, "pickle stack deeper than 1048576 values");
    /* a list that contains itself is just a non-tensor value */
    p_begin_sd(&k); p_str(&k, "loop"); put_u8(&k, ']'); put_u8(&k, 'q'); put_u8(&k, 9); put_u8(&k, 'h');
    put_u8(&k, 9); put_u8(&k, 'a'); p_end_sd(&k);
    expect_pickle_error(&k, "state dict value 'loop' is a list, not a tensor");
}

TEST(pth_rejects_bad_state_dicts) {
    bbuf k = {0};
    int64_t ten = 10, one = 1, two = 2, neg = -1;
    /* views that leave their storage */
    p_begin_sd(&k); p_str(&k, "conv_in.weight"); p_tensor(&k, "FloatStorage", "0", 4, 0, 1, &ten, &one); p_end_sd(&k);
    expect_pickle_error(&k, "data.pkl: tensor 'conv_in.weight' spans elements 0..9 but storage '0' holds 4");
    p_begin_sd(&k); p_str(&k, "b"); p_tensor(&k, "FloatStorage", "0", 4, 3, 1, &two, &one); p_end_sd(&k);
    expect_pickle_error(&k, "tensor 'b' spans elements 3..4 but storage '0' holds 4");
    p_begin_sd(&k); p_str(&k, "s"); p_tensor(&k, "FloatStorage", "0", 4, 2, 1, &two, &two); p_end_sd(&k);
    expect_pickle_error(&k, "tensor 's' spans elements 2..4");
    p_begin_sd(&k); p_str(&k, "e"); p_tensor(&k, "FloatStorage", "0", 4, 5, 1, (int64_t[]){0}, &one); p_end_sd(&k);
    expect_pickle_error(&k, "tensor 'e' is empty but starts at element 5 beyond storage '0'");
    p_begin_sd(&k); p_str(&k, "n"); p_tensor(&k, "FloatStorage", "0", 4, 0, 1, &two, &neg); p_end_sd(&k);
    expect_pickle_error(&k, "tensor 'n': size and stride must be non-negative");
    p_begin_sd(&k); p_str(&k, "o");
    p_tensor(&k, "FloatStorage", "0", 4, 0, 2, (int64_t[]){0x10000, 0x10000}, (int64_t[]){0x10000, 1});
    p_end_sd(&k);
    expect_pickle_error(&k, "tensor 'o' spans elements 0..4294967295 but storage '0' holds 4");
    p_begin_sd(&k); p_str(&k, "big");
    p_tensor(&k, "FloatStorage", "0", 4, 0, 3, (int64_t[]){0x7fffffff, 0x7fffffff, 0x7fffffff}, (int64_t[]){0, 0, 0});
    p_end_sd(&k);
    expect_pickle_error(&k, "tensor 'big': size/stride/offset overflow 64 bits");
    int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    p_begin_sd(&k); p_str(&k, "d9"); p_tensor(&k, "FloatStorage", "0", 4, 0, 9, nine, nine); p_end_sd(&k);
    expect_pickle_error(&k, "tensor 'd9' has 9 dimensions");
    /* storages: missing entry, entry smaller than declared, bad key */
    p_begin_sd(&k); p_str(&k, "w"); p_vec(&k, "7", 4, 4); p_end_sd(&k);
    expect_pickle_error(&k, "data.pkl: storage '7' has no zip entry 'archive/data/7'");
    p_begin_sd(&k); p_str(&k, "w"); p_vec(&k, "0", 17, 4); p_end_sd(&k);
    expect_pickle_error(&k, "storage '0' declares 17 torch.FloatStorage elements but its entry 'archive/data/0' "
                            "holds only 64 bytes");
    p_begin_sd(&k); p_str(&k, "w"); p_vec(&k, "../0", 4, 4); p_end_sd(&k);
    expect_pickle_error(&k, "storage key '../0' is not a plain name");
    p_begin_sd(&k); p_str(&k, "w"); p_tensor(&k, "DoubleStorage", "0", 0x7fffffffffffffffLL >> 1, 0, 0, 0, 0);
    p_end_sd(&k);
    expect_pickle_error(&k, "holds only 64 bytes");
    /* malformed persistent id and rebuild arguments */
    p_begin_sd(&k); p_str(&k, "w"); put_u8(&k, '('); p_str(&k, "storage"); put_u8(&k, 't'); put_u8(&k, 'Q');
    p_end_sd(&k);
    expect_pickle_error(&k, "persistent id is not ('storage'");
    p_begin_sd(&k); p_str(&k, "w"); p_glob(&k, "torch._utils", "_rebuild_tensor_v2"); put_u8(&k, ')');
    put_u8(&k, 'R'); p_end_sd(&k);
    expect_pickle_error(&k, "_rebuild_tensor_v2 called with 0 arguments");
    p_begin_sd(&k); p_str(&k, "w"); p_glob(&k, "torch._utils", "_rebuild_parameter"); put_u8(&k, 'N');
    put_u8(&k, 'N'); put_u8(&k, 'N'); put_u8(&k, 0x87); put_u8(&k, 'R'); p_end_sd(&k);
    expect_pickle_error(&k, "_rebuild_parameter expects (tensor, ...)");
    /* what the state dict may hold */
    p_begin_sd(&k); p_str(&k, "foo"); put_u8(&k, 'K'); put_u8(&k, 5); p_end_sd(&k);
    expect_pickle_error(&k, "data.pkl: state dict value 'foo' is a int, not a tensor");
    p_begin_sd(&k); put_u8(&k, 'K'); put_u8(&k, 5); p_vec(&k, "0", 4, 4); p_end_sd(&k);
    expect_pickle_error(&k, "state dict key #0 is a int, not a str");
    p_begin_sd(&k); put_u8(&k, 'X'); put_le(&k, 3, 4); put(&k, "a\0b", 3); p_vec(&k, "0", 4, 4); p_end_sd(&k);
    expect_pickle_error(&k, "contains a NUL byte");
    p_begin_sd(&k); p_str(&k, "w"); p_vec(&k, "0", 4, 4); p_str(&k, "w"); p_vec(&k, "0", 4, 2); p_end_sd(&k);
    expect_pickle_error(&k, "duplicate tensor key 'w'");
    put_u8(&k, 0x80); put_u8(&k, 2); put_u8(&k, ']'); put_u8(&k, '.');
    expect_pickle_error(&k, "top-level object is a list, not a dict");
    /* sizes and strides of different lengths */
    p_begin_sd(&k); p_str(&k, "m");
    p_glob(&k, "torch._utils", "_rebuild_tensor_v2"); put_u8(&k, '(');
    put_u8(&k, '('); p_str(&k, "storage"); p_glob(&k, "torch", "FloatStorage"); p_str(&k, "0"); p_str(&k, "cpu");
    p_int(&k, 4); put_u8(&k, 't'); put_u8(&k, 'Q');
    p_int(&k, 0); p_int_tuple(&k, 2, (int64_t[]){2, 2}); p_int_tuple(&k, 1, &one);
    put_u8(&k, 0x89); put_u8(&k, 'N'); put_u8(&k, 't'); put_u8(&k, 'R');
    p_end_sd(&k);
    expect_pickle_error(&k, "tensor 'm' has 2 sizes but 1 strides");
}

/* ---- 4. mutation loop ------------------------------------------------------- */

/* Parse a mutated copy; a success must only hand out tensors inside buf. */
static void parse_mutant(const uint8_t *buf, size_t len, size_t *n_ok) {
    anim_error err;
    tf_file *f = calloc(1, sizeof *f);
    CHECK(f);
    anim_status st = pth_parse(f, buf, len, &err);
    if (st != ANIM_OK) {
        bool clean = !f->tensors && f->n == 0 && !f->priv;
        free(f);
        CHECK_MSG(clean, "failed parse left allocations behind");
        CHECK_MSG(err.msg[0] != '\0', "failure without a message");
        return;
    }
    (*n_ok)++;
    for (size_t i = 0; i < f->n; i++) {
        const tf_tensor *t = &f->tensors[i];
        bool inside = t->data >= buf && t->data <= buf + len && t->nbytes <= (uint64_t)(buf + len - t->data);
        if (!inside) {
            tf_close(f);
            CHECK_MSG(0, "mutant tensor %zu lies outside the buffer", i);
        }
    }
    tf_close(f);
}

static void mutation_loop(const uint8_t *orig, size_t len, size_t hot_lo, size_t hot_hi, int iters,
                          uint64_t seed, size_t *n_ok) {
    test_rng r;
    test_rng_seed(&r, seed);
    for (int it = 0; it < iters && !test_failed(); it++) {
        size_t n = len;
        if (it % 4 == 0) n = (size_t)(test_rng_u64(&r) % len); /* truncation */
        uint8_t *m = malloc(n ? n : 1);
        if (!m) abort();
        memcpy(m, orig, n);
        int flips = it % 4 == 0 ? 0 : 1 + (int)(test_rng_u64(&r) % 4);
        for (int j = 0; j < flips && n; j++) {
            uint64_t u = test_rng_u64(&r);
            size_t pos;
            switch (u % 3) { /* structure lives at both ends; the middle is tensor data */
            case 0: pos = hot_lo + (size_t)(u >> 8) % (hot_hi - hot_lo); break;
            case 1: pos = n - 1 - (size_t)(u >> 8) % (n < 400 ? n : 400); break;
            default: pos = (size_t)(u >> 8) % n; break;
            }
            if (pos >= n) pos = n - 1;
            if ((u >> 40) & 1) m[pos] ^= (uint8_t)(1u << ((u >> 32) & 7));
            else m[pos] = (uint8_t)(u >> 48);
        }
        parse_mutant(m, n, n_ok);
        free(m);
    }
}

TEST(pth_mutations_of_pose_guider) {
    size_t len, ok = 0;
    uint8_t *buf = test_read_file(PTH_DIR "pose_guider.pth", &len);
    CHECK(buf && len > 2000);
    mutation_loop(buf, len, 0, 1400, 3000, 1234, &ok); /* data.pkl sits in the first 1.4 KB */
    free(buf);
    CHECK_MSG(ok > 0, "no mutant parsed at all; the loop is not exercising the pickle");
}

TEST(pth_mutations_of_synthetic_archive) {
    bbuf k = {0};
    p_begin_sd(&k);
    int64_t s23[2] = {2, 3}, c23[2] = {3, 1};
    p_str(&k, "a");
    p_tensor(&k, "FloatStorage", "0", 16, 0, 2, s23, c23);
    p_str(&k, "b");
    p_tensor(&k, "HalfStorage", "1", 2, 1, 1, (int64_t[]){1}, (int64_t[]){1});
    p_end_sd(&k);
    zin st[2] = {{"data/0", vals(), 64, 0}, {"data/1", "\0\x3c\0\x3c", 4, 0}};
    size_t ok = 0;
    for (int zip64 = 0; zip64 < 2 && !test_failed(); zip64++) {
        size_t len;
        uint8_t *z = sd_zip(&k, "archive", st, 2, zip64, &len);
        mutation_loop(z, len, 0, len, 2000, 99 + (uint64_t)zip64, &ok);
        free(z);
    }
    free(k.p);
}
