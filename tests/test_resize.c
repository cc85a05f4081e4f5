/*
 * test_resize.c - PIL-exact resampling (lib/pipe/resize.c) and the pipeline's
 * input preprocessing (lib/pipe/preprocess.c).
 *
 * Against tests/fixtures/moore-tiny-resize (a run of the real long pipeline
 * with Pillow 9.4 on inputs that need resizing, see its FIXTURE.md):
 *   1. every coefficient table (xmin, count, 22-bit k) of the three resizes;
 *   2. every uint8 image after the horizontal pass and after both passes
 *      (ref_clip224, ref_vae, the 4 pose frames);
 *   3. clip_pixel_values, ref_image_tensor and pose_cond_tensor, bit for bit.
 * Against tests/fixtures/moore-tiny (the short pipeline): the CLIP processor
 * alone (64x64 -> shortest edge 224, an upscale) and the VAE input.
 * Plus hand-computed small cases (bilinear, pass order, same-size copy) and
 * argument errors. The fixture inputs are PNG: without libpng the tests
 * that need them skip.
 */
#include <stdlib.h>
#include <string.h>

#include "io/image.h"
#include "io/tensor_file.h"
#include "pipe/preprocess.h"
#include "pipe/resize.h"
#include "test.h"

#define RFIX "tests/fixtures/moore-tiny-resize/"
#define TFIX "tests/fixtures/moore-tiny/"

/* ---- helpers ----------------------------------------------------------- */

/* The tensor `name` of f with dtype dt and the given shape, or NULL (printed). */
static const tf_tensor *need(const tf_file *f, const char *name, anim_dtype dt, int ndim, const int64_t *shape) {
    const tf_tensor *t = tf_find(f, name);
    if (!t) { printf("    %s: missing in %s\n", name, f->path); return NULL; }
    bool ok = t->dtype == dt && t->ndim == ndim && t->data && tf_is_contiguous(t);
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    if (!ok) { printf("    %s: unexpected dtype/shape\n", name); return NULL; }
    return t;
}

static int32_t le_i32(const uint8_t *p) {
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* Compare uint8 images; prints the first difference and the count. */
static bool same_u8(const char *what, const uint8_t *got, const uint8_t *want, size_t n, int w) {
    size_t bad = 0, first = n;
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i]) { if (first == n) first = i; bad++; }
    if (bad)
        printf("    %s: %zu of %zu values differ; first at y=%zu x=%zu c=%zu: got %d want %d\n", what, bad, n,
               first / 3 / (size_t)w, first / 3 % (size_t)w, first % 3, got[first], want[first]);
    return bad == 0;
}

/* Compare float arrays bit for bit. */
static bool same_bits(const char *what, const float *got, const float *want, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0) {
            printf("    %s: first difference at %zu: got %.9g want %.9g\n", what, i, got[i], want[i]);
            return false;
        }
    return true;
}

/* The fixture's tensor (F32, shape [1, 3, H, W] or [1, 3, F, H, W]) frame f,
 * transposed to NHWC. */
static bool read_nchw_frame(const tf_file *f, const char *name, int frames, int frame, int h, int w, float *nhwc) {
    int64_t shape5[5] = {1, 3, frames, h, w}, shape4[4] = {1, 3, h, w};
    const tf_tensor *t = frames ? need(f, name, ANIM_DT_F32, 5, shape5) : need(f, name, ANIM_DT_F32, 4, shape4);
    if (!t) return false;
    size_t plane = (size_t)h * (size_t)w, fstride = frames ? (size_t)frames * plane : plane;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            memcpy(&nhwc[i * 3 + (size_t)c], t->data + ((size_t)c * fstride + (size_t)frame * plane + i) * 4, 4);
    return true;
}

/* An h x w picture with pixel (x, y, c) = fn-ish values, for synthetic tests. */
static bool make_image(anim_image *img, int w, int h, uint32_t seed) {
    if (anim_image_alloc(img, w, h, NULL) != ANIM_OK) return false;
    test_rng r;
    test_rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++) img->rgb[i] = (uint8_t)(test_rng_u64(&r) >> 56);
    return true;
}

/* ---- coefficient tables ------------------------------------------------ */

typedef struct resize_case {
    const char *name;     /* fixture key part: coeffs.<name>.<x|y>.* */
    const char *input;    /* PNG under RFIX "inputs/" */
    int in_w, in_h, out_w, out_h;
    anim_filter filter;
} resize_case;

static const resize_case CASES[] = {
    {"ref_clip224", "ref.png", 150, 230, 224, 224, ANIM_FILTER_BICUBIC},
    {"ref_vae", "ref.png", 150, 230, 64, 96, ANIM_FILTER_LANCZOS},
    {"pose", "pose_000.png", 80, 112, 64, 96, ANIM_FILTER_LANCZOS},
};

/* Our table of one axis equals coeffs.<name>.<axis>.{xmin,count,k}. */
static bool table_matches(const tf_file *f, const char *name, char axis, int in, int out, anim_filter flt) {
    anim_resample_table t;
    anim_error err;
    if (anim_resample_table_build(in, out, flt, &t, &err) != ANIM_OK) {
        printf("    %s.%c: %s\n", name, axis, err.msg);
        return false;
    }
    char key[96];
    int64_t s1[1] = {out}, s2[2] = {out, t.ksize};
    snprintf(key, sizeof key, "coeffs.%s.%c.xmin", name, axis);
    const tf_tensor *xmin = need(f, key, ANIM_DT_I32, 1, s1);
    snprintf(key, sizeof key, "coeffs.%s.%c.count", name, axis);
    const tf_tensor *count = need(f, key, ANIM_DT_I32, 1, s1);
    snprintf(key, sizeof key, "coeffs.%s.%c.k", name, axis);
    const tf_tensor *k = need(f, key, ANIM_DT_I32, 2, s2);  /* also checks our ksize */
    bool ok = xmin && count && k;
    for (int i = 0; ok && i < out; i++) {
        ok = t.xmin[i] == le_i32(xmin->data + 4 * i) && t.count[i] == le_i32(count->data + 4 * i);
        for (int j = 0; ok && j < t.ksize; j++) {
            int32_t want = le_i32(k->data + 4 * ((size_t)i * (size_t)t.ksize + (size_t)j));
            ok = t.k[(size_t)i * (size_t)t.ksize + (size_t)j] == want;
            if (!ok) printf("    %s.%c: k[%d][%d] = %d, want %d\n", name, axis, i, j,
                            t.k[(size_t)i * (size_t)t.ksize + (size_t)j], want);
        }
        if (!ok && t.xmin[i] != le_i32(xmin->data + 4 * i)) printf("    %s.%c: xmin[%d] differs\n", name, axis, i);
    }
    anim_resample_table_free(&t);
    return ok;
}

TEST(resize_coeff_tables_match_pil) {
    anim_error err;
    tf_file *f = NULL;
    CHECK_OK(tf_open(RFIX "outputs/resize_reference.safetensors", &f, &err), &err);
    bool ok = true;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        const resize_case *rc = &CASES[c];
        ok = table_matches(f, rc->name, 'x', rc->in_w, rc->out_w, rc->filter) && ok;
        ok = table_matches(f, rc->name, 'y', rc->in_h, rc->out_h, rc->filter) && ok;
    }
    tf_close(f);
    CHECK(ok);
}

/* ---- uint8 images ------------------------------------------------------ */

/* Resize RFIX inputs/<input> as the case says; compare the horizontal pass
 * and the result with <key>_hpass / <key> (frame `frame` of `frames`). */
static bool image_case_matches(const tf_file *f, const resize_case *rc, const char *input, int frames, int frame) {
    char path[256], key[64];
    snprintf(path, sizeof path, RFIX "inputs/%s", input);
    anim_image in, hp, out;
    anim_error err;
    if (anim_image_read(path, &in, &err) != ANIM_OK) { printf("    %s\n", err.msg); return false; }
    bool ok = in.w == rc->in_w && in.h == rc->in_h;
    if (ok && anim_resize_passes(&in, rc->out_w, rc->out_h, rc->filter, &hp, &out, &err) != ANIM_OK) {
        printf("    %s\n", err.msg);
        ok = false;
    } else if (ok) {
        int64_t sh[4] = {frames, rc->in_h, rc->out_w, 3}, so[4] = {frames, rc->out_h, rc->out_w, 3};
        int off = frames ? 1 : 0;   /* 3-d tensors have no frame axis */
        snprintf(key, sizeof key, "%s_hpass", rc->name);
        const tf_tensor *th = need(f, key, ANIM_DT_U8, 3 + off, sh + 1 - off);
        const tf_tensor *to = need(f, rc->name, ANIM_DT_U8, 3 + off, so + 1 - off);
        size_t nh = (size_t)rc->in_h * (size_t)rc->out_w * 3, no = (size_t)rc->out_h * (size_t)rc->out_w * 3;
        ok = th && to && hp.w == rc->out_w && hp.h == rc->in_h && out.w == rc->out_w && out.h == rc->out_h;
        ok = ok && same_u8(key, hp.rgb, th->data + (size_t)frame * nh, nh, rc->out_w);
        ok = ok && same_u8(rc->name, out.rgb, to->data + (size_t)frame * no, no, rc->out_w);
        anim_image_free(&hp);
        anim_image_free(&out);
    }
    anim_image_free(&in);
    return ok;
}

static bool have_png(void) {
#ifdef ANIM_WITH_PNG
    return true;
#else
    return false;
#endif
}

TEST(resize_images_match_pil) {
    if (!have_png()) SKIP("built without libpng: the fixture inputs are PNG");
    anim_error err;
    tf_file *f = NULL;
    CHECK_OK(tf_open(RFIX "outputs/resize_reference.safetensors", &f, &err), &err);
    bool ok = image_case_matches(f, &CASES[0], "ref.png", 0, 0);
    ok = image_case_matches(f, &CASES[1], "ref.png", 0, 0) && ok;
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "pose_%03d.png", i);
        ok = image_case_matches(f, &CASES[2], name, 4, i) && ok;
    }
    tf_close(f);
    CHECK(ok);
}

/* ---- float input tensors ----------------------------------------------- */

TEST(prep_long_pipeline_inputs_bit_exact) {
    if (!have_png()) SKIP("built without libpng: the fixture inputs are PNG");
    anim_error err;
    tf_file *f = NULL;
    CHECK_OK(tf_open(RFIX "outputs/intermediates.safetensors", &f, &err), &err);
    anim_image ref = {0, 0, NULL}, pose = {0, 0, NULL};
    const int S = ANIM_CLIP_IMAGE_SIZE, W = 64, H = 96;
    float *want = malloc(sizeof(float) * S * S * 3), *got = malloc(sizeof(float) * S * S * 3);
    bool ok = want && got && anim_image_read(RFIX "inputs/ref.png", &ref, &err) == ANIM_OK;
    /* CLIP: the squash to 224x224 and the processor */
    ok = ok && anim_prep_clip(&ref, S, anim_clip_mean, anim_clip_std, got, &err) == ANIM_OK;
    ok = ok && read_nchw_frame(f, "clip_pixel_values", 0, 0, S, S, want);
    ok = ok && same_bits("clip_pixel_values", got, want, (size_t)S * S * 3);
    /* VAE reference, with a width/height that floors to the same 64x96 */
    ok = ok && anim_prep_vae(&ref, W + 7, H + 5, got, &err) == ANIM_OK;
    ok = ok && read_nchw_frame(f, "ref_image_tensor", 0, 0, H, W, want);
    ok = ok && same_bits("ref_image_tensor", got, want, (size_t)H * W * 3);
    for (int i = 0; ok && i < 4; i++) {
        char path[128];
        snprintf(path, sizeof path, RFIX "inputs/pose_%03d.png", i);
        ok = anim_image_read(path, &pose, &err) == ANIM_OK;
        ok = ok && anim_prep_pose(&pose, W, H, got, &err) == ANIM_OK;
        ok = ok && read_nchw_frame(f, "pose_cond_tensor", 4, i, H, W, want);
        ok = ok && same_bits("pose_cond_tensor", got, want, (size_t)H * W * 3);
        anim_image_free(&pose);
    }
    if (!ok && err.msg[0]) printf("    %s\n", err.msg);
    anim_image_free(&ref);
    free(want);
    free(got);
    tf_close(f);
    CHECK(ok);
}

/* The short pipeline's CLIP input: the processor alone on the 64x64
 * reference (shortest edge 64 -> 224, a BICUBIC upscale), and the VAE input
 * at the picture's own size (LANCZOS to the same size = copy). */
TEST(prep_short_pipeline_clip_and_vae_bit_exact) {
    if (!have_png()) SKIP("built without libpng: the fixture inputs are PNG");
    anim_error err;
    err.msg[0] = '\0';
    tf_file *f = NULL;
    CHECK_OK(tf_open(TFIX "outputs/intermediates.safetensors", &f, &err), &err);
    anim_image ref = {0, 0, NULL};
    const int S = ANIM_CLIP_IMAGE_SIZE;
    float *want = malloc(sizeof(float) * S * S * 3), *got = malloc(sizeof(float) * S * S * 3);
    bool ok = want && got && anim_image_read(TFIX "inputs/ref.png", &ref, &err) == ANIM_OK;
    ok = ok && anim_prep_clip_processor(&ref, S, NULL, NULL, got, &err) == ANIM_OK;
    ok = ok && read_nchw_frame(f, "clip_pixel_values", 0, 0, S, S, want);
    ok = ok && same_bits("clip_pixel_values (short)", got, want, (size_t)S * S * 3);
    ok = ok && anim_prep_vae(&ref, 64, 64, got, &err) == ANIM_OK;
    ok = ok && read_nchw_frame(f, "ref_image_tensor", 0, 0, 64, 64, want);
    ok = ok && same_bits("ref_image_tensor (short)", got, want, (size_t)64 * 64 * 3);
    if (!ok && err.msg[0]) printf("    %s\n", err.msg);
    anim_image_free(&ref);
    free(want);
    free(got);
    tf_close(f);
    CHECK(ok);
}

/* CLIPImageProcessor on a non-square picture: shortest edge to 224 with the
 * long side truncated, then a centered crop. 100x37 -> 605x224 (224*100/37 =
 * 605.4), crop left (605-224)/2 = 190. Checked against resize + crop done
 * here by hand. */
TEST(prep_clip_processor_crops_the_center) {
    anim_image img, r;
    CHECK(make_image(&img, 100, 37, 7));
    anim_error err;
    const int S = 224;
    float *got = malloc(sizeof(float) * S * S * 3);
    CHECK(got);
    anim_status st = anim_prep_clip_processor(&img, S, NULL, NULL, got, &err);
    st = st == ANIM_OK ? anim_resize(&img, 605, 224, ANIM_FILTER_BICUBIC, &r, &err) : st;
    anim_image_free(&img);
    if (st != ANIM_OK) free(got);
    CHECK_OK(st, &err);
    bool ok = true;
    for (int y = 0; ok && y < S; y++)
        for (int x = 0; ok && x < S; x++)
            for (int c = 0; ok && c < 3; c++) {
                float v = (float)(r.rgb[((size_t)y * 605 + 190 + (size_t)x) * 3 + (size_t)c] * (1.0 / 255.0));
                float want = (v - anim_clip_mean[c]) / anim_clip_std[c];
                ok = memcmp(&want, &got[((size_t)y * S + (size_t)x) * 3 + (size_t)c], 4) == 0;
            }
    anim_image_free(&r);
    free(got);
    CHECK(ok);
}

/* ---- hand-computed cases ----------------------------------------------- */

/* Bilinear 4 -> 2 (scale 2, support 2): output 0 is centered at 1.0, taps
 * x = 0..2 with weights tri((x - 1 + 0.5) / 2) = 0.75, 0.75, 0.25 -> /1.75;
 * output 1 at 3.0: taps 1..3 (xmax clipped to 4) weights 0.25, 0.75, 0.75. */
TEST(resize_bilinear_table_by_hand) {
    anim_resample_table t;
    anim_error err;
    CHECK_OK(anim_resample_table_build(4, 2, ANIM_FILTER_BILINEAR, &t, &err), &err);
    bool ok = t.ksize == 5 && t.xmin[0] == 0 && t.count[0] == 3 && t.xmin[1] == 1 && t.count[1] == 3;
    const double one = 4194304.0;
    int32_t a = (int32_t)(0.75 / 1.75 * one + 0.5), b = (int32_t)(0.25 / 1.75 * one + 0.5);
    ok = ok && t.k[0] == a && t.k[1] == a && t.k[2] == b && t.k[3] == 0 && t.k[4] == 0;
    ok = ok && t.k[5] == b && t.k[6] == a && t.k[7] == a;
    anim_resample_table_free(&t);
    CHECK(ok);
}

/* 2x1 -> 1x1 bilinear: both taps weigh 1/2 = 2^21; (2^21 + 2^21 (10 + 21)) >> 22 = 16. */
TEST(resize_rounding_by_hand) {
    anim_image in, out;
    anim_error err;
    CHECK_OK(anim_image_alloc(&in, 2, 1, &err), &err);
    const uint8_t px[6] = {10, 0, 255, 21, 255, 0};
    memcpy(in.rgb, px, 6);
    anim_status st = anim_resize(&in, 1, 1, ANIM_FILTER_BILINEAR, &out, &err);
    anim_image_free(&in);
    CHECK_OK(st, &err);
    int r = out.rgb[0], g = out.rgb[1], b = out.rgb[2];
    anim_image_free(&out);
    CHECK_MSG(r == 16 && g == 128 && b == 128, "2->1 bilinear gave %d %d %d, want 16 128 128", r, g, b);
}

/* Lanczos rings past 0..255 next to a spike (bright on black) or a hole
 * (black on white): those values must clamp, never wrap around. Each output
 * is checked against the same integer weights summed in double and clamped. */
TEST(resize_ringing_clamps) {
    for (int hole = 0; hole < 2; hole++) {
        anim_image in, out;
        anim_error err;
        CHECK_OK(anim_image_alloc(&in, 9, 1, &err), &err);
        memset(in.rgb, hole ? 255 : 0, 27);
        memset(in.rgb + 4 * 3, hole ? 0 : 255, 3);
        anim_resample_table t;
        anim_status st = anim_resample_table_build(9, 20, ANIM_FILTER_LANCZOS, &t, &err);
        if (st == ANIM_OK) st = anim_resize(&in, 20, 1, ANIM_FILTER_LANCZOS, &out, &err);
        CHECK_OK(st, &err);
        int worst = 0, clamped = 0;
        for (int i = 0; i < 20; i++) {
            double acc = 0;
            for (int j = 0; j < t.count[i]; j++) acc += (double)t.k[i * t.ksize + j] * in.rgb[(t.xmin[i] + j) * 3];
            acc /= 4194304.0;
            clamped += acc < 0 || acc > 255;
            double ref = acc < 0 ? 0 : acc > 255 ? 255 : acc;
            int d = (int)fabs(out.rgb[i * 3] - ref + 0.0);
            worst = d > worst ? d : worst;
        }
        anim_resample_table_free(&t);
        anim_image_free(&in);
        anim_image_free(&out);
        CHECK_MSG(clamped > 0, "no ringing outside 0..255: the test proves nothing");
        CHECK_MSG(worst <= 1, "%s: output differs from the clamped sum by %d", hole ? "hole" : "spike", worst);
    }
}

/* Width-only and height-only resizes run one pass; the same size is a copy;
 * and the uint8 rounding between passes is there: resizing in two calls
 * (width, then height) equals the single call. */
TEST(resize_pass_structure) {
    anim_image in, a, b, hp, ab;
    anim_error err;
    CHECK(make_image(&in, 37, 23, 3));
    bool ok = anim_resize_passes(&in, 37, 23, ANIM_FILTER_LANCZOS, &hp, &a, &err) == ANIM_OK;
    ok = ok && memcmp(a.rgb, in.rgb, 37 * 23 * 3) == 0 && memcmp(hp.rgb, in.rgb, 37 * 23 * 3) == 0;
    anim_image_free(&a);
    anim_image_free(&hp);
    ok = ok && anim_resize(&in, 50, 23, ANIM_FILTER_BICUBIC, &a, &err) == ANIM_OK;   /* horizontal only */
    ok = ok && anim_resize(&a, 50, 11, ANIM_FILTER_BICUBIC, &b, &err) == ANIM_OK;    /* vertical only */
    ok = ok && anim_resize_passes(&in, 50, 11, ANIM_FILTER_BICUBIC, &hp, &ab, &err) == ANIM_OK;
    ok = ok && hp.w == 50 && hp.h == 23 && memcmp(hp.rgb, a.rgb, 50 * 23 * 3) == 0;
    ok = ok && ab.w == 50 && ab.h == 11 && memcmp(ab.rgb, b.rgb, 50 * 11 * 3) == 0;
    anim_image_free(&in);
    anim_image_free(&a);
    anim_image_free(&b);
    anim_image_free(&hp);
    anim_image_free(&ab);
    CHECK_MSG(ok, "%s", err.msg);
}

/* A constant picture stays constant through every filter and ratio, even
 * though the fixed-point weights do not sum to exactly 2^22. */
TEST(resize_constant_stays_constant) {
    const anim_filter fl[3] = {ANIM_FILTER_LANCZOS, ANIM_FILTER_BILINEAR, ANIM_FILTER_BICUBIC};
    const int sizes[][2] = {{1, 1}, {3, 200}, {77, 13}, {301, 299}, {13, 1}};
    anim_image in, out;
    anim_error err;
    CHECK_OK(anim_image_alloc(&in, 41, 29, &err), &err);
    for (int v = 0; v < 256; v += 51) {
        memset(in.rgb, v, 41 * 29 * 3);
        for (int f = 0; f < 3; f++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                anim_status st = anim_resize(&in, sizes[s][0], sizes[s][1], fl[f], &out, &err);
                if (st != ANIM_OK) anim_image_free(&in);
                CHECK_OK(st, &err);
                size_t n = (size_t)out.w * (size_t)out.h * 3, bad = n;
                for (size_t i = 0; i < n && bad == n; i++) if (out.rgb[i] != v) bad = i;
                anim_image_free(&out);
                if (bad != n) anim_image_free(&in);
                CHECK_MSG(bad == n, "value %d, %s to %dx%d changed", v, anim_filter_name(fl[f]), sizes[s][0],
                          sizes[s][1]);
            }
    }
    anim_image_free(&in);
}

TEST(resize_rejects_bad_arguments) {
    anim_image in, out;
    anim_error err;
    CHECK(make_image(&in, 8, 8, 1));
    anim_status s1 = anim_resize(&in, 0, 4, ANIM_FILTER_LANCZOS, &out, &err);
    anim_status s2 = anim_resize(&in, 4, ANIM_IMAGE_MAX_DIM + 1, ANIM_FILTER_LANCZOS, &out, &err);
    anim_status s3 = anim_resize(&in, 4, 4, (anim_filter)0, &out, &err);   /* NEAREST: not implemented */
    char msg3[ANIM_ERR_MSG_MAX];
    memcpy(msg3, err.msg, sizeof msg3);
    anim_image_free(&in);
    anim_status s4 = anim_resize(&in, 4, 4, ANIM_FILTER_LANCZOS, &out, &err);   /* freed: empty */
    CHECK(s1 == ANIM_E_INVALID_ARG && s2 == ANIM_E_INVALID_ARG && s3 == ANIM_E_INVALID_ARG);
    CHECK(s4 == ANIM_E_INVALID_ARG && out.rgb == NULL);
    CHECK_CONTAINS(msg3, "unknown filter 0");
    float buf[3 * 64];
    CHECK_STATUS(anim_prep_vae(&in, 64, 64, buf, &err), ANIM_E_INVALID_ARG, &err);
    CHECK(make_image(&in, 8, 8, 1));
    anim_status s5 = anim_prep_pose(&in, 7, 64, buf, &err);   /* floors to 0 */
    anim_image_free(&in);
    CHECK_STATUS(s5, ANIM_E_INVALID_ARG, &err);
    CHECK_CONTAINS(err.msg, "pose preprocessing");
    int w8, h8;
    anim_prep_vae_size(784, 515, &w8, &h8);
    CHECK(w8 == 784 && h8 == 512);
}
