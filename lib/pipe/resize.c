/*
 * resize.c - Pillow's convolution resampling on RGB8, bit exact.
 *
 * What is reproduced and why is described in resize.h and in
 * tests/fixtures/moore-tiny-resize/FIXTURE.md (Pillow src/libImaging/
 * Resample.c, unchanged in its 8-bit arithmetic from 7.0 to 12.x). Layout:
 * anim_image RGB8 HWC; the three channels are filtered independently with
 * the same weights.
 *
 * Written from the described behaviour, not from Pillow's code. Two choices
 * differ in form but not in result:
 *   - the horizontal pass computes every input row, where PIL skips rows the
 *     vertical pass will not read (with the whole picture as the box every
 *     row is read anyway when downscaling, and the values are the same);
 *   - sums are accumulated in int64 where PIL uses int: identical whenever
 *     PIL's int does not overflow (it cannot for these filters: at most
 *     255 * 1.3 * 2^22 < 2^31), and never undefined behaviour here.
 */
#include "pipe/resize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

const char *anim_filter_name(anim_filter f) {
    switch (f) {
    case ANIM_FILTER_LANCZOS: return "LANCZOS";
    case ANIM_FILTER_BILINEAR: return "BILINEAR";
    case ANIM_FILTER_BICUBIC: return "BICUBIC";
    }
    return "?";
}

/* ---- the filters, in double, with PIL's operation order ------------------ */

static double filt_bilinear(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Keys' cubic convolution with a = -0.5. The products are evaluated left to
 * right exactly as ((a+2)x - (a+3)) * x * x + 1, which is how PIL writes it:
 * another grouping can move a weight by one ulp and flip a fixed-point round. */
static double filt_bicubic(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* sin(pi x) / (pi x), computed as PIL does: x is scaled by M_PI first. */
static double filt_sinc(double x) {
    if (x == 0.0) return 1.0;
    x = x * M_PI;
    return sin(x) / x;
}

/* Lanczos-3; the window is [-3, 3) (half open, as in PIL). */
static double filt_lanczos(double x) {
    if (-3.0 <= x && x < 3.0) return filt_sinc(x) * filt_sinc(x / 3);
    return 0.0;
}

typedef double (*filt_fn)(double);

static bool filt_lookup(anim_filter f, filt_fn *fn, double *support) {
    switch (f) {
    case ANIM_FILTER_LANCZOS: *fn = filt_lanczos; *support = 3.0; return true;
    case ANIM_FILTER_BILINEAR: *fn = filt_bilinear; *support = 1.0; return true;
    case ANIM_FILTER_BICUBIC: *fn = filt_bicubic; *support = 2.0; return true;
    }
    return false;
}

/* ---- coefficient tables -------------------------------------------------- */

void anim_resample_table_free(anim_resample_table *t) {
    if (!t) return;
    free(t->xmin);
    free(t->count);
    free(t->k);
    memset(t, 0, sizeof *t);
}

/* Round a normalised weight to fixed point, half away from zero. */
static int32_t fixed_weight(double w) {
    const double one = (double)(1 << ANIM_RESAMPLE_BITS);
    return w < 0 ? (int32_t)(w * one - 0.5) : (int32_t)(w * one + 0.5);
}

/* Weights of output index i: taps [xmin, xmin+count), w[] filled, normalised. */
static void table_row(filt_fn fn, int in_size, double scale, double support, double inv_fs, int i, int *xmin,
                      int *count, double *w) {
    double center = (i + 0.5) * scale;
    /* C casts truncate toward zero, as PIL's (int) casts; a negative start
     * then clamps to 0 */
    int lo = (int)(center - support + 0.5);
    int hi = (int)(center + support + 0.5);
    if (lo < 0) lo = 0;
    if (hi > in_size) hi = in_size;
    int n = hi - lo;
    double sum = 0.0;
    for (int j = 0; j < n; j++) {
        /* the tap's distance from the center, in input pixels, then squeezed
         * by 1/filterscale: (j + lo) is an int converted once, as in PIL */
        w[j] = fn(((j + lo) - center + 0.5) * inv_fs);
        sum += w[j];
    }
    if (sum != 0.0)
        for (int j = 0; j < n; j++) w[j] /= sum;
    *xmin = lo;
    *count = n;
}

anim_status anim_resample_table_build(int in_size, int out_size, anim_filter f, anim_resample_table *t,
                                      anim_error *err) {
    memset(t, 0, sizeof *t);
    filt_fn fn;
    double fsupport;
    if (!filt_lookup(f, &fn, &fsupport))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "resize: unknown filter %d", (int)f);
    if (in_size < 1 || out_size < 1 || in_size > ANIM_IMAGE_MAX_DIM || out_size > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "resize: size %d -> %d is outside 1..%d", in_size, out_size,
                           ANIM_IMAGE_MAX_DIM);
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = fsupport * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;   /* <= 6 * 16384 + 3 here */
    t->in_size = in_size;
    t->out_size = out_size;
    t->ksize = ksize;
    t->xmin = malloc(sizeof(int) * (size_t)out_size);
    t->count = malloc(sizeof(int) * (size_t)out_size);
    t->k = calloc((size_t)out_size * (size_t)ksize, sizeof(int32_t));
    double *w = malloc(sizeof(double) * (size_t)ksize);
    if (!t->xmin || !t->count || !t->k || !w) {
        free(w);
        anim_resample_table_free(t);
        return anim_seterr(err, ANIM_E_OOM, "resize: out of memory for a %d x %d weight table", out_size, ksize);
    }
    double inv_fs = 1.0 / filterscale;
    for (int i = 0; i < out_size; i++) {
        table_row(fn, in_size, scale, support, inv_fs, i, &t->xmin[i], &t->count[i], w);
        int32_t *k = t->k + (size_t)i * (size_t)ksize;
        for (int j = 0; j < t->count[i]; j++) k[j] = fixed_weight(w[j]);
    }
    free(w);
    return ANIM_OK;
}

/* ---- the two passes ------------------------------------------------------ */

/* (acc >> 22) clamped to 0..255. A negative acc always clamps to 0, so the
 * shift is only ever applied to non-negative values (no implementation-
 * defined right shift of a negative number). */
static inline uint8_t clip8(int64_t acc) {
    if (acc < 0) return 0;
    int64_t v = acc >> ANIM_RESAMPLE_BITS;
    return (uint8_t)(v > 255 ? 255 : v);
}

#define ACC_INIT ((int64_t)1 << (ANIM_RESAMPLE_BITS - 1))   /* rounds the final shift */

/* Every row of `in`: width in->w -> t->out_size; out is t->out_size x in->h. */
static void pass_horizontal(const anim_image *in, const anim_resample_table *t, anim_image *out) {
    const size_t in_stride = (size_t)in->w * 3, out_stride = (size_t)out->w * 3;
    for (int y = 0; y < in->h; y++) {
        const uint8_t *row = in->rgb + (size_t)y * in_stride;
        uint8_t *dst = out->rgb + (size_t)y * out_stride;
        for (int x = 0; x < t->out_size; x++) {
            const int32_t *k = t->k + (size_t)x * (size_t)t->ksize;
            const uint8_t *s = row + (size_t)t->xmin[x] * 3;
            int64_t r = ACC_INIT, g = ACC_INIT, b = ACC_INIT;
            for (int j = 0; j < t->count[x]; j++, s += 3) {
                r += (int64_t)s[0] * k[j];
                g += (int64_t)s[1] * k[j];
                b += (int64_t)s[2] * k[j];
            }
            dst[3 * x + 0] = clip8(r);
            dst[3 * x + 1] = clip8(g);
            dst[3 * x + 2] = clip8(b);
        }
    }
}

/* Height in->h -> t->out_size at constant width; acc is scratch of w*3. Rows
 * are accumulated tap by tap so that memory is read row after row. */
static void pass_vertical(const anim_image *in, const anim_resample_table *t, anim_image *out, int64_t *acc) {
    const size_t stride = (size_t)in->w * 3;
    for (int y = 0; y < t->out_size; y++) {
        const int32_t *k = t->k + (size_t)y * (size_t)t->ksize;
        for (size_t c = 0; c < stride; c++) acc[c] = ACC_INIT;
        for (int j = 0; j < t->count[y]; j++) {
            const uint8_t *s = in->rgb + (size_t)(t->xmin[y] + j) * stride;
            for (size_t c = 0; c < stride; c++) acc[c] += (int64_t)s[c] * k[j];
        }
        uint8_t *dst = out->rgb + (size_t)y * stride;
        for (size_t c = 0; c < stride; c++) dst[c] = clip8(acc[c]);
    }
}

static anim_status resize_horizontal(const anim_image *in, int out_w, anim_filter f, anim_image *out,
                                     anim_error *err) {
    anim_resample_table t;
    anim_status st = anim_resample_table_build(in->w, out_w, f, &t, err);
    if (st == ANIM_OK) st = anim_image_alloc(out, out_w, in->h, err);
    if (st == ANIM_OK) pass_horizontal(in, &t, out);
    anim_resample_table_free(&t);
    return st;
}

static anim_status resize_vertical(const anim_image *in, int out_h, anim_filter f, anim_image *out,
                                   anim_error *err) {
    anim_resample_table t;
    anim_status st = anim_resample_table_build(in->h, out_h, f, &t, err);
    int64_t *acc = NULL;
    if (st == ANIM_OK) st = anim_image_alloc(out, in->w, out_h, err);
    if (st == ANIM_OK && !(acc = malloc(sizeof(int64_t) * (size_t)in->w * 3)))
        st = anim_seterr(err, ANIM_E_OOM, "resize: out of memory");
    if (st == ANIM_OK) pass_vertical(in, &t, out, acc);
    else anim_image_free(out);
    free(acc);
    anim_resample_table_free(&t);
    return st;
}

anim_status anim_resize_passes(const anim_image *in, int out_w, int out_h, anim_filter f, anim_image *hpass,
                               anim_image *out, anim_error *err) {
    anim_image mid = {0, 0, NULL};
    out->w = out->h = 0;
    out->rgb = NULL;
    if (hpass) *hpass = mid;
    if (!in || !in->rgb || in->w < 1 || in->h < 1 || in->w > ANIM_IMAGE_MAX_DIM || in->h > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "resize: input picture %dx%d is empty or too large",
                           in ? in->w : 0, in ? in->h : 0);
    if (out_w < 1 || out_h < 1 || out_w > ANIM_IMAGE_MAX_DIM || out_h > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "resize: output size %dx%d is outside 1x1..%dx%d", out_w,
                           out_h, ANIM_IMAGE_MAX_DIM, ANIM_IMAGE_MAX_DIM);
    double unused_support;
    filt_fn unused_fn;
    if (!filt_lookup(f, &unused_fn, &unused_support))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "resize: unknown filter %d", (int)f);

    /* PIL runs each pass only when its size changes; the vertical pass reads
     * the rounded uint8 result of the horizontal one */
    anim_status st = ANIM_OK;
    const anim_image *src = in;
    if (out_w != in->w) st = resize_horizontal(in, out_w, f, &mid, err);
    else if (hpass) st = anim_image_copy(in, &mid, err);
    if (st != ANIM_OK) return st;
    if (mid.rgb) src = &mid;
    st = out_h != in->h ? resize_vertical(src, out_h, f, out, err) : anim_image_copy(src, out, err);
    if (st == ANIM_OK && hpass) *hpass = mid;
    else anim_image_free(&mid);
    return st;
}

anim_status anim_resize(const anim_image *in, int out_w, int out_h, anim_filter f, anim_image *out,
                        anim_error *err) {
    return anim_resize_passes(in, out_w, out_h, f, NULL, out, err);
}
