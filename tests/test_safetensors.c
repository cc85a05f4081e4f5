/*
 * test_safetensors.c - the safetensors parser (lib/io/safetensors.c).
 *
 * 1. Every .safetensors file of the moore-tiny fixture opens through tf_open,
 *    with known tensor counts, shapes, dtypes and values (decoded here from
 *    the raw file bytes, independently of the parser).
 * 2. Small files built here with known F16 / BF16 / I64 / ... bit patterns.
 * 3. One test per malformed case of engines.md C.2/C.3, checking the status
 *    and the message; where the Rust reference has a test for the case, the
 *    byte string is the same as in that test (named in the comment).
 * 4. A deterministic mutation loop over a real fixture (never crash, never
 *    leak, never expose a tensor outside the buffer).
 * Buffers are exact-size heap copies so that ASan (make SAN=1) sees any
 * over-read.
 */
#include <stdlib.h>
#include <string.h>

#include "io/tensor_file.h"
#include "test.h"

#define FIX "tests/fixtures/moore-tiny/"

/* ---- helpers ----------------------------------------------------------- */

/* 8-byte LE length + header + data, in one malloc'd buffer. */
static uint8_t *st_file(const char *header, const void *data, size_t dlen, size_t *n) {
    size_t h = strlen(header);
    uint8_t *b = malloc(8 + h + dlen + 1);
    if (!b) return NULL;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    if (dlen) memcpy(b + 8 + h, data, dlen);
    *n = 8 + h + dlen;
    return b;
}

/* Parse an exact-size copy of bytes[0..n); the copy is freed at once, so
 * this is for rejections only. Returns the status, err holds the message. */
static anim_status try_open(const void *bytes, size_t n, anim_error *err) {
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) return ANIM_E_OOM;
    if (n) memcpy(copy, bytes, n);
    tf_file *f = (tf_file *)0x1;
    anim_err_clear(err);
    anim_status st = tf_open_mem(copy, n, "t.safetensors", &f, err);
    if (st == ANIM_OK) tf_close(f);
    else if (f != NULL) st = ANIM_E_INTERNAL;  /* *out must be NULL on failure */
    free(copy);
    return st;
}

/* bytes must be rejected with status `want` and a message holding `frag`
 * (after the "t.safetensors: " prefix that tf_open_mem adds). */
#define EXPECT_REJECT(bytes, n, want, frag)                                                   \
    do {                                                                                      \
        anim_error e_;                                                                        \
        anim_status s_ = try_open((bytes), (n), &e_);                                         \
        CHECK_MSG(s_ == (want), "status %d, want %d (%s)", (int)s_, (int)(want), e_.msg);     \
        CHECK_CONTAINS(e_.msg, "t.safetensors: ");                                            \
        CHECK_CONTAINS(e_.msg, frag);                                                         \
    } while (0)

/* header + data must be rejected like EXPECT_REJECT */
#define EXPECT_REJECT_HDR(header, data, dlen, want, frag)                                     \
    do {                                                                                      \
        size_t n_;                                                                            \
        uint8_t *b_ = st_file((header), (data), (dlen), &n_);                                 \
        CHECK(b_);                                                                            \
        anim_error e_;                                                                        \
        anim_status s_ = try_open(b_, n_, &e_);                                               \
        free(b_);                                                                             \
        CHECK_MSG(s_ == (want), "status %d, want %d (%s)", (int)s_, (int)(want), e_.msg);     \
        CHECK_CONTAINS(e_.msg, frag);                                                         \
    } while (0)

/* a string literal of raw bytes, length from sizeof (it may hold NULs) */
#define EXPECT_REJECT_LIT(lit, want, frag) EXPECT_REJECT((lit), sizeof(lit) - 1, want, frag)

/* expr must succeed; err is an anim_error (not a pointer) */
#define ST_OK(expr, err)                                                                      \
    do {                                                                                      \
        anim_status s_ = (expr);                                                              \
        CHECK_MSG(s_ == ANIM_OK, "%s returned %d (%s)", #expr, (int)s_, (err).msg);          \
    } while (0)

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static float le_f32(const uint8_t *p) {
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static bool shape_is(const tf_tensor *t, int ndim, const int64_t *want) {
    if (t->ndim != ndim) return false;
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] != want[i]) return false;
    return true;
}

/* ---- fixtures ---------------------------------------------------------- */

TEST(st_fixture_every_file) {
    static const struct { const char *path; size_t n; } files[] = {
        {FIX "denoising_unet.safetensors", 438},
        {FIX "reference_unet.safetensors", 434},
        {FIX "motion_module.safetensors", 364},
        {FIX "pose_guider.safetensors", 16},
        {FIX "vae/diffusion_pytorch_model.safetensors", 180},
        {FIX "image_encoder/model.safetensors", 41},
        {FIX "inputs/noise.safetensors", 1},
        {FIX "outputs/final_latents.safetensors", 1},
        {FIX "outputs/frames.safetensors", 1},
        {FIX "outputs/intermediates.safetensors", 35},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        tf_file *f;
        anim_error err;
        ST_OK(tf_open(files[i].path, &f, &err), err);
        bool ok = f->format == TF_SAFETENSORS && f->n == files[i].n;
        /* every tensor lies inside the mapping and is C-contiguous */
        const uint8_t *lo = f->map, *hi = lo + f->map_len;
        for (size_t k = 0; k < f->n && ok; k++) {
            const tf_tensor *t = &f->tensors[k];
            ok = t->data >= lo && t->nbytes <= (uint64_t)(hi - t->data) &&
                 t->nbytes == (uint64_t)tf_numel(t) * anim_dtype_size(t->dtype) && tf_is_contiguous(t) &&
                 tf_find(f, t->name) == t;
        }
        tf_close(f);
        CHECK_MSG(ok, "%s: wrong tensor count or layout", files[i].path);
    }
}

TEST(st_fixture_known_tensors) {
    tf_file *f;
    anim_error err;
    ST_OK(tf_open(FIX "denoising_unet.safetensors", &f, &err), err);
    const tf_tensor *w = tf_find(f, "conv_in.weight");
    const tf_tensor *b = tf_find(f, "conv_in.bias");
    bool ok = w && b && w->dtype == ANIM_DT_F32 && shape_is(w, 4, (const int64_t[]){32, 4, 3, 3}) &&
              w->stride[0] == 36 && w->stride[1] == 9 && w->stride[2] == 3 && w->stride[3] == 1 &&
              b->dtype == ANIM_DT_F32 && shape_is(b, 1, (const int64_t[]){32}) &&
              strcmp(f->tensors[0].name, "conv_in.bias") == 0 &&  /* header order */
              tf_find(f, "no.such.key") == NULL;
    tf_close(f);
    CHECK(ok);

    ST_OK(tf_open(FIX "image_encoder/model.safetensors", &f, &err), err);
    const tf_tensor *pid = tf_find(f, "vision_model.embeddings.position_ids");
    ok = pid && pid->dtype == ANIM_DT_I64 && shape_is(pid, 2, (const int64_t[]){1, 257}) && pid->nbytes == 257 * 8;
    float ids[257];
    if (ok) ok = tf_read_f32(pid, ids, &err) == ANIM_OK;
    for (int i = 0; i < 257 && ok; i++) ok = ids[i] == (float)i;  /* torch.arange(257) */
    tf_close(f);
    CHECK_MSG(ok, "position_ids wrong: %s", err.msg);

    ST_OK(tf_open(FIX "inputs/noise.safetensors", &f, &err), err);
    const tf_tensor *lat = tf_find(f, "latents");
    ok = lat && lat->dtype == ANIM_DT_F32 && shape_is(lat, 5, (const int64_t[]){1, 4, 4, 8, 8});
    tf_close(f);
    CHECK(ok);
}

/* conv_in.bias, read through the parser, equals the floats at the offsets the
 * header gives ([0, 128], seen with a JSON tool), decoded here byte by byte. */
TEST(st_fixture_values_match_raw_bytes) {
    size_t len;
    uint8_t *raw = test_read_file(FIX "denoising_unet.safetensors", &len);
    CHECK(raw && len > 8);
    uint64_t n = le64(raw);
    CHECK(n == 49808 && 8 + n + 128 <= len);
    tf_file *f;
    anim_error err;
    anim_status st = tf_open_mem(raw, len, "denoising_unet", &f, &err);
    if (st != ANIM_OK) free(raw);
    ST_OK(st, err);
    const tf_tensor *b = tf_find(f, "conv_in.bias");
    float got[32];
    bool ok = b && b->data == raw + 8 + n && b->nbytes == 128 && tf_read_f32(b, got, &err) == ANIM_OK;
    int bad = -1;
    for (int i = 0; i < 32 && ok; i++) {
        float want = le_f32(raw + 8 + n + 4 * (size_t)i);
        if (memcmp(&want, &got[i], 4) != 0) { ok = false; bad = i; }
    }
    /* the values are not all zero (a test of zeros against zeros proves little) */
    bool nonzero = false;
    for (int i = 0; i < 32 && ok; i++) nonzero |= got[i] != 0.0f;
    tf_close(f);
    free(raw);
    CHECK_MSG(ok && nonzero, "conv_in.bias mismatch at %d", bad);
}

/* ---- small files with known bit patterns ------------------------------- */

TEST(st_dtype_conversions) {
    /* F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), -0
     * BF16: 1, -5, +inf, 0x3F81 = 1.0078125
     * I64: -3, 2^40;  I32: -7;  I16: -300;  I8: -128;  U8: 255;  BOOL: 1;  F64: 0.1 */
    static const uint16_t f16[5] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000};
    static const uint16_t bf16[4] = {0x3F80, 0xC0A0, 0x7F80, 0x3F81};
    uint8_t data[10 + 8 + 16 + 4 + 2 + 1 + 1 + 1 + 8];
    size_t o = 0;
    for (int i = 0; i < 5; i++) { data[o++] = (uint8_t)f16[i]; data[o++] = (uint8_t)(f16[i] >> 8); }
    for (int i = 0; i < 4; i++) { data[o++] = (uint8_t)bf16[i]; data[o++] = (uint8_t)(bf16[i] >> 8); }
    const uint64_t i64[2] = {(uint64_t)-3, 1ull << 40};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 8; i++) data[o++] = (uint8_t)(i64[k] >> (8 * i));
    const uint32_t i32 = (uint32_t)-7;
    for (int i = 0; i < 4; i++) data[o++] = (uint8_t)(i32 >> (8 * i));
    data[o++] = (uint8_t)(uint16_t)-300;
    data[o++] = (uint8_t)((uint16_t)-300 >> 8);
    data[o++] = 0x80;
    data[o++] = 0xFF;
    data[o++] = 0x01;
    const double d01 = 0.1;
    uint64_t du;
    memcpy(&du, &d01, 8);
    for (int i = 0; i < 8; i++) data[o++] = (uint8_t)(du >> (8 * i));
    const char *hdr =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[0,10]},"
        "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[10,18]},"
        "\"l\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[18,34]},"
        "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[34,38]},"
        "\"s\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[38,40]},"
        "\"c\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[40,41]},"
        "\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[41,42]},"
        "\"o\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[42,43]},"
        "\"d\":{\"dtype\":\"F64\",\"shape\":[1,1],\"data_offsets\":[43,51]}}";
    CHECK(o == sizeof data);
    size_t n;
    uint8_t *buf = st_file(hdr, data, sizeof data, &n);
    CHECK(buf);
    tf_file *f;
    anim_error err;
    anim_status st = tf_open_mem(buf, n, "dtypes", &f, &err);
    if (st != ANIM_OK) free(buf);
    ST_OK(st, err);
    static const struct { const char *name; anim_dtype dt; int n; float want[5]; } cases[] = {
        {"h", ANIM_DT_F16, 5, {1.0f, -2.0f, 65504.0f, 5.9604644775390625e-8f, -0.0f}},
        {"b", ANIM_DT_BF16, 4, {1.0f, -5.0f, INFINITY, 1.0078125f}},
        {"l", ANIM_DT_I64, 2, {-3.0f, 1099511627776.0f}},
        {"i", ANIM_DT_I32, 1, {-7.0f}},
        {"s", ANIM_DT_I16, 1, {-300.0f}},
        {"c", ANIM_DT_I8, 1, {-128.0f}},
        {"u", ANIM_DT_U8, 1, {255.0f}},
        {"o", ANIM_DT_BOOL, 1, {1.0f}},
        {"d", ANIM_DT_F64, 1, {0.1f}},
    };
    bool ok = f->n == 9 && strcmp(f->tensors[0].name, "h") == 0 && strcmp(f->tensors[8].name, "d") == 0;
    const char *bad = "count/order";
    for (size_t c = 0; c < sizeof cases / sizeof cases[0] && ok; c++) {
        const tf_tensor *t = tf_find(f, cases[c].name);
        float got[5];
        ok = t && t->dtype == cases[c].dt && tf_numel(t) == cases[c].n && tf_read_f32(t, got, &err) == ANIM_OK;
        for (int i = 0; i < cases[c].n && ok; i++)  /* bitwise: -0 and inf count */
            ok = memcmp(&got[i], &cases[c].want[i], 4) == 0;
        bad = cases[c].name;
    }
    tf_close(f);
    free(buf);
    CHECK_MSG(ok, "tensor '%s' decoded wrong", bad);
}

/* Rust test_deserialization: one I32 [2,2] tensor of zeros. */
TEST(st_reference_deserialization) {
    static const char bytes[] = "<\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
                                "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    tf_file *f;
    anim_error err;
    ST_OK(tf_open_mem(bytes, sizeof bytes - 1, "t", &f, &err), err);
    const tf_tensor *t = tf_find(f, "test");
    bool ok = f->n == 1 && t && t->dtype == ANIM_DT_I32 && shape_is(t, 2, (const int64_t[]){2, 2}) &&
              t->nbytes == 16 && t->data == (const uint8_t *)bytes + 68;
    tf_close(f);
    CHECK(ok);
}

/* ---- accepted edge cases ----------------------------------------------- */

/* Rust test_zero_sized_tensor, plus zero-size tensors between and after
 * others, sharing their offsets. */
TEST(st_zero_size_tensor_accepted) {
    static const char bytes[] = "<\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":[0, 0]}}";
    tf_file *f;
    anim_error err;
    ST_OK(tf_open_mem(bytes, sizeof bytes - 1, "t", &f, &err), err);
    const tf_tensor *t = tf_find(f, "test");
    bool ok = t && shape_is(t, 2, (const int64_t[]){2, 0}) && t->nbytes == 0 && tf_numel(t) == 0;
    float dummy;
    ok = ok && tf_read_f32(t, &dummy, &err) == ANIM_OK;
    tf_close(f);
    CHECK(ok);

    const char *hdr = "{\"z2\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[8,8]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"z1\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[0,0]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                      "\"z3\":{\"dtype\":\"BF16\",\"shape\":[4,0],\"data_offsets\":[12,12]}}";
    uint8_t data[12] = {0};
    size_t n;
    uint8_t *buf = st_file(hdr, data, sizeof data, &n);
    CHECK(buf);
    anim_status st = tf_open_mem(buf, n, "t", &f, &err);
    if (st == ANIM_OK) {
        ok = f->n == 5 && tf_find(f, "z3")->nbytes == 0 && tf_find(f, "b")->nbytes == 4;
        tf_close(f);
    }
    free(buf);
    ST_OK(st, err);
    CHECK(ok);
}

/* Rust test_empty_shapes_allowed: shape [] is a scalar of one element. */
TEST(st_scalar_accepted) {
    static const char bytes[] = "8\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}"
                                "\x2a\x00\x00\x00";
    tf_file *f;
    anim_error err;
    ST_OK(tf_open_mem(bytes, sizeof bytes - 1, "t", &f, &err), err);
    const tf_tensor *t = tf_find(f, "test");
    float v = 0;
    bool ok = t && t->ndim == 0 && tf_numel(t) == 1 && t->nbytes == 4 && tf_read_f32(t, &v, &err) == ANIM_OK && v == 42.0f;
    tf_close(f);
    CHECK(ok);
}

/* Rust test_whitespace_padded_header and test_whitespace_leading_padded_header. */
TEST(st_whitespace_padded_header_accepted) {
    static const char trailing[] = "\x06\x00\x00\x00\x00\x00\x00\x00{}\x0D\x20\x09\x0A";
    static const char leading[] = "\x06\x00\x00\x00\x00\x00\x00\x00\x0D\x20\x09\x0A{}";
    tf_file *f;
    anim_error err;
    ST_OK(tf_open_mem(trailing, sizeof trailing - 1, "t", &f, &err), err);
    bool ok = f->n == 0 && f->tensors == NULL;
    tf_close(f);
    CHECK(ok);
    ST_OK(tf_open_mem(leading, sizeof leading - 1, "t", &f, &err), err);
    ok = f->n == 0;
    tf_close(f);
    CHECK(ok);
    /* a page-aligned writer: header padded with spaces on both sides, one tensor */
    char hdr[200];
    snprintf(hdr, sizeof hdr, "%-16s{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}%-20s", "", "");
    EXPECT_REJECT_HDR(hdr, "\0\0\0\0\0", 5, ANIM_E_FORMAT, "(trailing bytes)");  /* sanity: data checked */
    size_t n;
    uint8_t *buf = st_file(hdr, "\0\0\x80\x3f", 4, &n);
    CHECK(buf);
    anim_status st = tf_open_mem(buf, n, "t", &f, &err);
    float v = 0;
    if (st == ANIM_OK) {
        ok = f->n == 1 && tf_read_f32(&f->tensors[0], &v, &err) == ANIM_OK && v == 1.0f;
        tf_close(f);
    }
    free(buf);
    ST_OK(st, err);
    CHECK(ok);
}

/* ---- rejections: length prefix ------------------------------------------ */

/* Rust test_header_too_small (b""), and 7 bytes. */
TEST(st_reject_file_too_small) {
    EXPECT_REJECT("", 0, ANIM_E_FORMAT, "file too small: 0 bytes");
    EXPECT_REJECT_LIT("\x02\x00\x00\x00\x00\x00\x00", ANIM_E_FORMAT, "file too small: 7 bytes");
    /* through tf_open too */
    char path[512];
    snprintf(path, sizeof path, "%s/st_small.safetensors", test_tmp_dir());
    CHECK(test_write_file(path, "\x02\x00\x00", 3));
    tf_file *f;
    anim_error err;
    anim_status st = tf_open(path, &f, &err);
    CHECK_MSG(st == ANIM_E_FORMAT, "status %d (%s)", (int)st, err.msg);
    CHECK(f == NULL);
    CHECK_CONTAINS(err.msg, "too small");
    CHECK_CONTAINS(err.msg, path);
}

/* Rust test_header_too_large, plus an all-0xff length and the limit itself. */
TEST(st_reject_header_too_large) {
    static const char rust[] = "<\x00\x00\x00\x00\xff\xff\xff{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
                               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    EXPECT_REJECT(rust, sizeof rust - 1, ANIM_E_FORMAT, "header length 18446742974197923900 exceeds the 100000000-byte limit");
    EXPECT_REJECT_LIT("\xff\xff\xff\xff\xff\xff\xff\xff{}", ANIM_E_FORMAT,
                  "header length 18446744073709551615 exceeds the 100000000-byte limit");
    /* 100000001 = 0x05F5E101 */
    EXPECT_REJECT_LIT("\x01\xe1\xf5\x05\x00\x00\x00\x00{}", ANIM_E_FORMAT, "header length 100000001 exceeds");
    /* exactly the limit passes that check and fails on the buffer size */
    EXPECT_REJECT_LIT("\x00\xe1\xf5\x05\x00\x00\x00\x00{}", ANIM_E_FORMAT,
                  "file truncated: header claims 100000000 bytes, 2 present");
}

/* Rust test_invalid_header_length: claims 60 bytes, has 0. */
TEST(st_reject_header_beyond_file) {
    EXPECT_REJECT_LIT("<\x00\x00\x00\x00\x00\x00\x00", ANIM_E_FORMAT, "file truncated: header claims 60 bytes, 0 present");
    EXPECT_REJECT_LIT("\x05\x00\x00\x00\x00\x00\x00\x00{}  ", ANIM_E_FORMAT, "header claims 5 bytes, 4 present");
    EXPECT_REJECT_LIT("\x00\x00\x00\x00\x00\x00\x00\x00", ANIM_E_FORMAT, "header length 0 is too small");
}

/* ---- rejections: header ------------------------------------------------- */

/* Rust test_invalid_header_non_utf8 uses N = 1, which our N >= 2 rule
 * refuses first; the UTF-8 check itself is shown with a full header. */
TEST(st_reject_invalid_utf8) {
    EXPECT_REJECT_LIT("\x01\x00\x00\x00\x00\x00\x00\x00\xff", ANIM_E_FORMAT, "header length 1 is too small");
    EXPECT_REJECT_HDR("{\"\xff\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4,
                      ANIM_E_FORMAT, "invalid UTF-8 byte 0xff");
    /* overlong '/' and a CESU-8 surrogate in a tensor name */
    EXPECT_REJECT_HDR("{\"a\xc0\xaf\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4,
                      ANIM_E_FORMAT, "invalid UTF-8 byte 0xc0");
    EXPECT_REJECT_HDR("{\"a\xed\xa0\x80\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4,
                      ANIM_E_FORMAT, "invalid UTF-8 byte 0xed");
}

/* Rust test_invalid_header_not_json (N = 1, "{"), then real JSON faults. */
TEST(st_reject_not_json) {
    EXPECT_REJECT_LIT("\x01\x00\x00\x00\x00\x00\x00\x00{", ANIM_E_FORMAT, "header length 1 is too small");
    EXPECT_REJECT_LIT("\x02\x00\x00\x00\x00\x00\x00\x00{\"", ANIM_E_FORMAT, "invalid JSON header: line 1, column 2: unterminated string");
    EXPECT_REJECT_HDR("{\"test\":", NULL, 0, ANIM_E_FORMAT, "invalid JSON header: line 1, column 9: unexpected end of input");
    EXPECT_REJECT_HDR("[]", NULL, 0, ANIM_E_FORMAT, "header does not start with '{'");
    EXPECT_REJECT_HDR("  ", NULL, 0, ANIM_E_FORMAT, "header does not start with '{'");
    EXPECT_REJECT_LIT("\x04\x00\x00\x00\x00\x00\x00\x00{}\x00\x00", ANIM_E_FORMAT,
                  "unexpected data after the top-level value");  /* NUL padding is not whitespace */
    EXPECT_REJECT_HDR("{}{}", NULL, 0, ANIM_E_FORMAT, "unexpected data after the top-level value");
    EXPECT_REJECT_HDR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "trailing comma");
    /* depth 3 is all a header needs */
    EXPECT_REJECT_HDR("{\"a\":{\"dtype\":\"F32\",\"shape\":[[1]],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "nesting deeper than 3 levels");
}

TEST(st_reject_duplicate_key) {
    EXPECT_REJECT_HDR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                      "\0\0\0\0\0\0\0\0", 8, ANIM_E_FORMAT, "duplicate key 'a'");
    /* inside an entry, and in __metadata__ */
    EXPECT_REJECT_HDR("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                      "\0\0\0\0", 4, ANIM_E_FORMAT, "duplicate key 'dtype'");
    EXPECT_REJECT_HDR("{\"__metadata__\":{\"format\":\"pt\",\"format\":\"np\"}}", NULL, 0, ANIM_E_FORMAT,
                      "duplicate key 'format'");
}

TEST(st_reject_metadata_not_strings) {
    EXPECT_REJECT_HDR("{\"__metadata__\":{\"format\":1}}", NULL, 0, ANIM_E_FORMAT,
                      "__metadata__ value for key 'format' is not a string");
    EXPECT_REJECT_HDR("{\"__metadata__\":{\"a\":\"x\",\"nested\":{\"b\":\"c\"}}}", NULL, 0, ANIM_E_FORMAT,
                      "__metadata__ value for key 'nested' is not a string");
    EXPECT_REJECT_HDR("{\"__metadata__\":\"pt\"}", NULL, 0, ANIM_E_FORMAT, "__metadata__ must be an object of strings");
    EXPECT_REJECT_HDR("{\"__metadata__\":null}", NULL, 0, ANIM_E_FORMAT, "__metadata__ must be an object");
    /* a flat string map is fine, and it is not a tensor */
    size_t n;
    uint8_t *b = st_file("{\"__metadata__\":{\"format\":\"pt\",\"x\":\"\"}}", NULL, 0, &n);
    CHECK(b);
    tf_file *f;
    anim_error err;
    anim_status st = tf_open_mem(b, n, "t", &f, &err);
    bool ok = st == ANIM_OK && f->n == 0;
    if (st == ANIM_OK) tf_close(f);
    free(b);
    CHECK_MSG(ok, "%s", err.msg);
}

TEST(st_reject_entry_fields) {
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", "\0\0\0\0", 4,
                      ANIM_E_FORMAT, "tensor 't': unknown field 'extra'");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "tensor 't': missing field 'shape'");
    EXPECT_REJECT_HDR("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "tensor 't': missing field 'dtype'");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "tensor 't': missing field 'data_offsets'");
    EXPECT_REJECT_HDR("{\"t\":[1]}", NULL, 0, ANIM_E_FORMAT, "tensor 't': entry must be an object");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "tensor 't': dtype must be a string");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "tensor 't': shape must be an array");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "tensor 't': data_offsets must be [BEGIN, END]");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,-4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "data_offsets must be [BEGIN, END]");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "data_offsets must be [BEGIN, END]");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "tensor 't': data_offsets [4, 0] end before they begin");
    /* names are bounded (real ones are < 200 bytes) */
    char hdr[4200 + 100];
    snprintf(hdr, sizeof hdr, "{\"%04097d\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 7);
    EXPECT_REJECT_HDR(hdr, "\0\0\0\0", 4, ANIM_E_FORMAT, "is 4097 bytes, over the 4096-byte limit");
    snprintf(hdr, sizeof hdr, "{\"%04096d\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 7);
    EXPECT_REJECT_HDR(hdr, "\0\0\0\0\0", 5, ANIM_E_FORMAT, "(trailing bytes)");  /* 4096 passes the name check */
    /* a NUL in a name would make it unreachable as a C string */
    EXPECT_REJECT_HDR("{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4,
                      ANIM_E_FORMAT, "contains a NUL character");
}

TEST(st_reject_unknown_dtype) {
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "tensor 't': unknown dtype 'F33'");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "unknown dtype 'f32'");  /* case matters */
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"\",\"shape\":[1],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "unknown dtype ''");
}

/* Valid safetensors dtypes that libanimate does not compute with. */
TEST(st_unsupported_dtype) {
    EXPECT_REJECT_HDR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[4,6]}}",
                      "\0\0\0\0\0\0", 6, ANIM_E_UNSUPPORTED, "tensor 'x': dtype F8_E4M3 is not supported");
    EXPECT_REJECT_HDR("{\"u\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4,
                      ANIM_E_UNSUPPORTED, "dtype U32 is not supported");
    EXPECT_REJECT_HDR("{\"c\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", "\0\0\0\0\0\0\0\0", 8,
                      ANIM_E_UNSUPPORTED, "dtype C64 is not supported");
    /* F4 is 4 bits: 2 elements in 1 byte is valid (unsupported) ... */
    EXPECT_REJECT_HDR("{\"q\":{\"dtype\":\"F4\",\"shape\":[1,2],\"data_offsets\":[0,1]}}", "\0", 1,
                      ANIM_E_UNSUPPORTED, "dtype F4 is not supported");
    /* ... 3 elements are not a whole number of bytes (Rust MisalignedSlice) */
    EXPECT_REJECT_HDR("{\"q\":{\"dtype\":\"F4\",\"shape\":[1,3],\"data_offsets\":[0,2]}}", "\0\0", 2,
                      ANIM_E_FORMAT, "tensor 'q': shape [1, 3] x F4 is not a whole number of bytes");
    /* a malformed file is a format error whatever its dtypes */
    EXPECT_REJECT_HDR("{\"x\":{\"dtype\":\"F8_E5M2\",\"shape\":[2],\"data_offsets\":[0,6]}}", "\0\0\0\0\0\0", 6,
                      ANIM_E_FORMAT, "needs 2 bytes but data_offsets span 6");
    /* more dimensions than tf_tensor holds */
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4,
                      ANIM_E_UNSUPPORTED, "tensor 't': 9 dimensions, more than the 8 supported");
}

TEST(st_reject_bad_shape) {
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]}}", "\0\0\0\0\0\0\0\0", 8,
                      ANIM_E_FORMAT, "tensor 't': shape[0] is -1, not a non-negative integer");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,1.5],\"data_offsets\":[0,12]}}", "\0\0\0\0\0\0\0\0\0\0\0\0", 12,
                      ANIM_E_FORMAT, "tensor 't': shape[1] is 1.5, not a non-negative integer");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "shape[0] is 1, not a non-negative integer");  /* integers only: no exponent */
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", "\0\0\0\0\0\0\0\0", 8,
                      ANIM_E_FORMAT, "tensor 't': shape[0] is not a number");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"U8\",\"shape\":[281474976710656],\"data_offsets\":[0,1]}}", "\0", 1,
                      ANIM_E_FORMAT, "shape[0] = 281474976710656 exceeds the 2^48-1 limit");
}

/* Rust test_validation_overflow: both byte strings exceed the schema's 2^48-1
 * dimension cap; products of in-range dimensions still overflow. */
TEST(st_reject_numel_overflow) {
    static const char a[] = "O\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,18446744073709551614],\"data_offsets\":[0,16]}}"
                            "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    static const char b[] = "N\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,9223372036854775807],\"data_offsets\":[0,16]}}"
                            "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    EXPECT_REJECT(a, sizeof a - 1, ANIM_E_FORMAT, "tensor 'test': shape[1] = 18446744073709551614 exceeds the 2^48-1 limit");
    EXPECT_REJECT(b, sizeof b - 1, ANIM_E_FORMAT, "tensor 'test': shape[1] = 9223372036854775807 exceeds the 2^48-1 limit");
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"U8\",\"shape\":[281474976710655,281474976710655],\"data_offsets\":[0,16]}}",
                      "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, ANIM_E_FORMAT,
                      "tensor 't': shape [281474976710655, 281474976710655] element count overflows");
    /* 2^62 elements fit u64, x 64 bits do not */
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"F64\",\"shape\":[4194304,1099511627776],\"data_offsets\":[0,16]}}",
                      "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, ANIM_E_FORMAT, "x F64 byte size overflows");
}

/* Rust test_invalid_info: [2,2] I32 with 4 bytes. */
TEST(st_reject_size_mismatch) {
    static const char rust[] = "<\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0, 4]}}";
    EXPECT_REJECT(rust, sizeof rust - 1, ANIM_E_FORMAT, "tensor 'test': shape [2, 2] x I32 needs 16 bytes but data_offsets span 4");
    EXPECT_REJECT_HDR("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,4]}}", "\0\0\0\0", 4, ANIM_E_FORMAT,
                      "tensor 'w': shape [2, 2] x F32 needs 16 bytes but data_offsets span 4");
    EXPECT_REJECT_HDR("{\"w\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", "\0\0\0\0\0\0\0\0", 8,
                      ANIM_E_FORMAT, "x BF16 needs 6 bytes but data_offsets span 8");
}

/* ---- rejections: data section tiling ------------------------------------ */

/* Rust test_json_attack: 10 tensors all claiming [0, 16] over 16 bytes. */
TEST(st_reject_overlap_json_attack) {
    char hdr[1024];
    size_t o = 0;
    o += (size_t)snprintf(hdr + o, sizeof hdr - o, "{");
    for (int i = 0; i < 10; i++)
        o += (size_t)snprintf(hdr + o, sizeof hdr - o, "%s\"weight_%d\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}",
                              i ? "," : "", i);
    snprintf(hdr + o, sizeof hdr - o, "}");
    static const uint8_t zeros[16];
    EXPECT_REJECT_HDR(hdr, zeros, 16, ANIM_E_FORMAT, "tensor 'weight_1' data_offsets [0, 16] overlap tensor 'weight_0' [0, 16]");
    /* a partial overlap */
    EXPECT_REJECT_HDR("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[12,28]}}",
                      zeros, 16, ANIM_E_FORMAT, "tensor 'b' data_offsets [12, 28] overlap tensor 'a' [0, 16]");
    /* a zero-size tensor strictly inside another is an overlap too (as in the reference) */
    EXPECT_REJECT_HDR("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                      "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}",
                      zeros, 16, ANIM_E_FORMAT, "tensor 'z' data_offsets [8, 8] overlap tensor 'a' [0, 16]");
}

TEST(st_reject_gap) {
    static const uint8_t zeros[16];
    EXPECT_REJECT_HDR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                      zeros, 12, ANIM_E_FORMAT, "gap of 4 bytes between tensor 'a' [0, 4] and tensor 'b' [8, 12]");
    EXPECT_REJECT_HDR("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", zeros, 8, ANIM_E_FORMAT,
                      "gap of 4 bytes at the start of the data section (first tensor 'b' begins at 4)");
}

/* Rust test_metadata_incomplete_buffer, first half: a polyglot tail. */
TEST(st_reject_trailing_bytes) {
    static const char rust[] = "<\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
                               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                               "extra_bogus_data_for_polyglot_file";  /* split: \x00e would be one escape */
    EXPECT_REJECT(rust, sizeof rust - 1, ANIM_E_FORMAT, "data section is 50 bytes but tensors cover 16 (trailing bytes)");
    /* no tensors at all, yet data */
    EXPECT_REJECT_LIT("\x02\x00\x00\x00\x00\x00\x00\x00{}xx", ANIM_E_FORMAT, "data section is 2 bytes but tensors cover 0");
}

/* Rust test_metadata_incomplete_buffer, second half: 2 bytes missing. */
TEST(st_reject_truncated_data) {
    static const char rust[] = "<\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
                               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    EXPECT_REJECT(rust, sizeof rust - 1, ANIM_E_FORMAT, "file truncated: tensors cover 16 bytes but the data section has 14");
    /* offsets far beyond the file */
    EXPECT_REJECT_HDR("{\"t\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[18446744073709551599,18446744073709551615]}}",
                      NULL, 0, ANIM_E_FORMAT, "gap of 18446744073709551599 bytes at the start");
}

/* A failed st_parse leaves the tf_file empty (the caller then closes it). */
TEST(st_parse_failure_leaves_file_clean) {
    size_t n;
    uint8_t *b = st_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                         "\"x\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[4,6]}}", "\0\0\0\0\0\0", 6, &n);
    CHECK(b);
    tf_file f;
    memset(&f, 0, sizeof f);
    anim_error err;
    anim_status st = st_parse(&f, b, n, &err);
    free(b);
    CHECK_MSG(st == ANIM_E_UNSUPPORTED, "status %d (%s)", (int)st, err.msg);
    CHECK(f.tensors == NULL && f.n == 0 && f.priv == NULL && f.sorted == NULL);
    /* the caller, not st_parse, adds the file name */
    CHECK(strncmp(err.msg, "tensor 'x'", 10) == 0);
}

/* ---- mutation loop ------------------------------------------------------ */

/* Whatever a mutated file yields, an accepted file must describe tensors that
 * lie inside the buffer and match their shape and dtype exactly. */
static bool accepted_file_ok(const tf_file *f, const uint8_t *buf, size_t len) {
    for (size_t i = 0; i < f->n; i++) {
        const tf_tensor *t = &f->tensors[i];
        if (t->data < buf || t->data > buf + len || t->nbytes > (uint64_t)(buf + len - t->data)) return false;
        if (t->nbytes != (uint64_t)tf_numel(t) * anim_dtype_size(t->dtype)) return false;
        if (tf_find(f, t->name) != t) return false;
    }
    return true;
}

TEST(st_mutation_loop) {
    size_t len;
    uint8_t *orig = test_read_file(FIX "pose_guider.safetensors", &len);
    CHECK(orig && len > 8);
    const uint64_t hlen = le64(orig);
    CHECK(hlen < len);
    test_rng r;
    test_rng_seed(&r, 99);
    int accepted = 0, rejected = 0;
    const char *fail = NULL;
    char failmsg[ANIM_ERR_MSG_MAX] = "";
    for (int it = 0; it < 4000 && !fail; it++) {
        size_t n = len;
        uint8_t *b = malloc(len + 1);
        if (!b) { fail = "oom"; break; }
        memcpy(b, orig, len);
        int kind = (int)(test_rng_u64(&r) % 6);
        int edits = 1 + (int)(test_rng_u64(&r) % 3);
        for (int e = 0; e < edits; e++) {
            /* mostly inside the header, where the parser's work is */
            size_t at = 8 + (size_t)(test_rng_u64(&r) % hlen);
            uint64_t x = test_rng_u64(&r);
            switch (kind) {
            case 0: b[at] = (uint8_t)x; break;                          /* random byte */
            case 1: b[at] ^= (uint8_t)(1u << (x % 8)); break;           /* bit flip */
            case 2:                                                     /* digit swap: shapes/offsets */
                if (b[at] >= '0' && b[at] <= '9') b[at] = (uint8_t)('0' + x % 10);
                else b[at] = (uint8_t)"0123456789,[]{}\":-"[x % 18];
                break;
            case 3: b[x % 8] = (uint8_t)(test_rng_u64(&r)); break;      /* length prefix */
            case 4: n = (size_t)(x % (n + 1)); break;                   /* truncation */
            default: b[8 + hlen + x % (len - 8 - hlen)] ^= 1; break;   /* data byte: must not matter */
            }
        }
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact) { free(b); fail = "oom"; break; }
        memcpy(exact, b, n);
        free(b);
        tf_file *f;
        anim_error err;
        anim_err_clear(&err);
        anim_status st = tf_open_mem(exact, n, "m", &f, &err);
        if (st == ANIM_OK) {
            if (!accepted_file_ok(f, exact, n)) fail = "accepted file with out-of-range tensors";
            tf_close(f);
            accepted++;
        } else {
            if (f != NULL) fail = "*out not NULL on failure";
            else if (st != ANIM_E_FORMAT && st != ANIM_E_UNSUPPORTED) fail = "unexpected status";
            else if (strncmp(err.msg, "m: ", 3) != 0 || strlen(err.msg) < 8) fail = "message without file name";
            if (fail) snprintf(failmsg, sizeof failmsg, "%d: %s", (int)st, err.msg);
            rejected++;
        }
        free(exact);
    }
    free(orig);
    CHECK_MSG(!fail, "%s (%s)", fail, failmsg);
    /* data-byte mutations are always accepted; header mutations mostly not */
    CHECK_MSG(accepted > 300 && rejected > 2000, "accepted %d rejected %d", accepted, rejected);
}
