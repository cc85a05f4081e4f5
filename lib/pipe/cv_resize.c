/*
 * cv_resize.c - OpenCV INTER_LINEAR resize of 8-bit pictures, bit exact.
 *
 * The rules are listed in cv_resize.h; this file follows OpenCV 4.6's
 * modules/imgproc/src/resize.cpp behaviour (hal::resize, resizeGeneric_,
 * HResizeLinear, VResizeLinear + VResizeLinearVec_32s8u, resizeAreaFast_)
 * without its code. Layout: interleaved uint8, `cn` channels, row-major.
 *
 * Work is row by row: two int rows hold the horizontal pass of the two
 * source rows an output row needs (recomputed only when the source row
 * changes, as OpenCV reuses them), then the vertical pass writes the row.
 * The build uses -ffp-contract=off, so the float/double coordinate
 * arithmetic is evaluated as OpenCV's SSE2 code evaluates it (no FMA).
 */
#include "pipe/cv_resize.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* cvRound on x86 and ARM: round half to even (the default rounding mode);
 * saturate_cast<short>(float) clamps that to int16. */
static inline int16_t sat_short_f(float v) {
    long iv = lrintf(v);
    return (int16_t)(iv < -32768 ? -32768 : (iv > 32767 ? 32767 : iv));
}

/* ---- the vertical rounding ----------------------------------------------- */

uint8_t cv_resize_vert(int32_t h0, int32_t h1, int b0, int b1) {
    /* VResizeLinear<uchar, int, short, ...>: ((b0 * (S0[x] >> 4)) >> 16) +
     * ((b1 * (S1[x] >> 4)) >> 16) + 2) >> 2, the SIMD loop's v_mul_hi
     * arithmetic. Every term is >= 0 for the weights OpenCV builds and uint8
     * inputs; the clamps keep other inputs (tests) defined and mirror the
     * vector loop's saturating packs. */
    int32_t t0 = h0 < 0 ? 0 : h0 >> 4, t1 = h1 < 0 ? 0 : h1 >> 4;
    if (t0 > 32767) t0 = 32767;
    if (t1 > 32767) t1 = 32767;
    b0 = b0 < 0 ? 0 : (b0 > 32767 ? 32767 : b0);
    b1 = b1 < 0 ? 0 : (b1 > 32767 ? 32767 : b1);
    int32_t v = (((t0 * b0) >> 16) + ((t1 * b1) >> 16) + 2) >> 2;
    return (uint8_t)(v > 255 ? 255 : v);
}

/* ---- coefficient tables -------------------------------------------------- */

void cv_resize_axis_free(cv_resize_axis *a) {
    if (!a) return;
    free(a->ofs);
    free(a->w);
    memset(a, 0, sizeof *a);
}

anim_status cv_resize_axis_build(int src, int dst, bool is_cols, cv_resize_axis *a, anim_error *err) {
    memset(a, 0, sizeof *a);
    if (src < 1 || dst < 1 || src > ANIM_IMAGE_MAX_DIM || dst > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "cv_resize: size %d -> %d is outside 1..%d", src, dst,
                           ANIM_IMAGE_MAX_DIM);
    a->ofs = malloc((size_t)dst * sizeof *a->ofs);
    a->w = malloc((size_t)dst * 2 * sizeof *a->w);
    if (!a->ofs || !a->w) {
        cv_resize_axis_free(a);
        return anim_seterr(err, ANIM_E_OOM, "cv_resize: out of memory for a %d-entry table", dst);
    }
    a->src = src;
    a->dst = dst;
    a->xmax = dst;
    /* cv::resize: inv_scale_x = (double)dsize.width / ssize.width;
     * hal::resize: scale_x = 1. / inv_scale_x */
    double inv_scale = (double)dst / (double)src;
    double scale = 1.0 / inv_scale;
    for (int d = 0; d < dst; d++) {
        /* fx = (float)((dx + 0.5) * scale_x - 0.5); sx = cvFloor(fx); fx -= sx; */
        float f = (float)(((double)d + 0.5) * scale - 0.5);
        int s = (int)floorf(f);
        f -= (float)s;
        if (is_cols) {
            /* if (sx < 0) fx = 0, sx = 0;  (ksize2 - 1 = 0) */
            if (s < 0) { f = 0.f; s = 0; }
            /* if (sx + 1 >= ssize.width) { xmax = min(xmax, dx); fx = 0, sx = ssize.width - 1; } */
            if (s + 1 >= src) {
                if (d < a->xmax) a->xmax = d;
                f = 0.f;
                s = src - 1;
            }
        }
        a->ofs[d] = s;
        /* cbuf[0] = 1.f - fx; cbuf[1] = fx;
         * ialpha[k] = saturate_cast<short>(cbuf[k] * INTER_RESIZE_COEF_SCALE) */
        a->w[2 * d] = sat_short_f((1.f - f) * (float)CV_RESIZE_COEF_ONE);
        a->w[2 * d + 1] = sat_short_f(f * (float)CV_RESIZE_COEF_ONE);
    }
    return ANIM_OK;
}

/* ---- the 2x2 area path --------------------------------------------------- */

/* resizeAreaFast_ at scale 2 x 2. ResizeAreaFastVec's "fast mode" (cn 1, 3
 * or 4) gives every element, vectorised or not, (sum of 4 + 2) >> 2; with 2
 * channels its generic loop runs instead: saturate_cast<uchar>(sum * 0.25f),
 * which rounds half to even. */
static void resize_area2(const uint8_t *src, int sw, int cn, uint8_t *dst, int dw, int dh) {
    size_t sstride = (size_t)sw * cn, dstride = (size_t)dw * cn;
    for (int y = 0; y < dh; y++) {
        const uint8_t *r0 = src + (size_t)(2 * y) * sstride, *r1 = r0 + sstride;
        uint8_t *o = dst + (size_t)y * dstride;
        for (int x = 0; x < dw; x++)
            for (int c = 0; c < cn; c++) {
                size_t i = (size_t)(2 * x) * cn + c;
                int sum = r0[i] + r0[i + cn] + r1[i] + r1[i + cn];
                o[(size_t)x * cn + c] = (uint8_t)(cn == 2 ? lrintf((float)sum * 0.25f) : (sum + 2) >> 2);
            }
    }
}

/* ---- the general path ---------------------------------------------------- */

/* Horizontal pass of one source row into hrow (dw * cn ints). HResizeLinear:
 * below xmax S[sx] * a0 + S[sx + cn] * a1, from xmax on S[sx] * 2048
 * (INTER_RESIZE_COEF_SCALE; the weights there are (2048, 0) anyway, the
 * special case only avoids reading past the row). */
static void hpass(const uint8_t *row, int cn, const cv_resize_axis *ax, int32_t *hrow) {
    for (int x = 0; x < ax->dst; x++) {
        const uint8_t *p = row + (size_t)ax->ofs[x] * cn;
        int32_t a0 = ax->w[2 * x], a1 = ax->w[2 * x + 1];
        for (int c = 0; c < cn; c++)
            hrow[x * cn + c] = x < ax->xmax ? (int32_t)p[c] * a0 + (int32_t)p[c + cn] * a1
                                            : (int32_t)p[c] * CV_RESIZE_COEF_ONE;
    }
}

anim_status cv_resize_u8(const uint8_t *src, int sw, int sh, int cn, uint8_t *dst, int dw, int dh,
                         anim_error *err) {
    if (!src || !dst)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "cv_resize: NULL picture");
    if (cn < 1 || cn > CV_RESIZE_MAX_CN)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "cv_resize: %d channels (1..%d supported)", cn,
                           CV_RESIZE_MAX_CN);
    if (sw < 1 || sh < 1 || sw > ANIM_IMAGE_MAX_DIM || sh > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "cv_resize: input %dx%d is outside 1x1..%dx%d", sw, sh,
                           ANIM_IMAGE_MAX_DIM, ANIM_IMAGE_MAX_DIM);
    if (dw < 1 || dh < 1 || dw > ANIM_IMAGE_MAX_DIM || dh > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "cv_resize: output %dx%d is outside 1x1..%dx%d", dw, dh,
                           ANIM_IMAGE_MAX_DIM, ANIM_IMAGE_MAX_DIM);

    /* cv::resize: `if (dsize == ssize) { src.copyTo(dst); return; }` */
    if (sw == dw && sh == dh) {
        memcpy(dst, src, (size_t)sw * sh * cn);
        return ANIM_OK;
    }

    /* hal::resize: scale = 1 / ((double)dst / src); iscale = saturate_cast<int>
     * (round); is_area_fast = |scale - iscale| < DBL_EPSILON on both axes;
     * INTER_LINEAR with iscale 2 x 2 becomes INTER_AREA (fast). */
    double scale_x = 1.0 / ((double)dw / (double)sw), scale_y = 1.0 / ((double)dh / (double)sh);
    double isx = nearbyint(scale_x), isy = nearbyint(scale_y);
    if (fabs(scale_x - isx) < DBL_EPSILON && fabs(scale_y - isy) < DBL_EPSILON && isx == 2.0 && isy == 2.0) {
        resize_area2(src, sw, cn, dst, dw, dh);
        return ANIM_OK;
    }

    cv_resize_axis ax, ay;
    anim_status st = cv_resize_axis_build(sw, dw, true, &ax, err);
    if (st) return st;
    st = cv_resize_axis_build(sh, dh, false, &ay, err);
    if (st) { cv_resize_axis_free(&ax); return st; }

    size_t len = (size_t)dw * cn;
    int32_t *buf = malloc(2 * len * sizeof *buf);
    if (!buf) {
        cv_resize_axis_free(&ax);
        cv_resize_axis_free(&ay);
        return anim_seterr(err, ANIM_E_OOM, "cv_resize: out of memory for %dx%dx%d", dw, dh, cn);
    }
    int32_t *hrow[2] = {buf, buf + len};
    int have[2] = {-1, -1};   /* source row held in hrow[k] */
    size_t sstride = (size_t)sw * cn;

    for (int y = 0; y < dh; y++) {
        int b0 = ay.w[2 * y], b1 = ay.w[2 * y + 1];
        for (int k = 0; k < 2; k++) {
            /* resizeGeneric_Invoker: sy = clip(sy0 + k, 0, ssize.height) */
            int sy = ay.ofs[y] + k;
            sy = sy < 0 ? 0 : (sy >= sh ? sh - 1 : sy);
            if (have[k] == sy) continue;
            if (have[1 - k] == sy) {
                memcpy(hrow[k], hrow[1 - k], len * sizeof *buf);
            } else {
                hpass(src + (size_t)sy * sstride, cn, &ax, hrow[k]);
            }
            have[k] = sy;
        }
        uint8_t *o = dst + (size_t)y * len;
        for (size_t e = 0; e < len; e++) o[e] = cv_resize_vert(hrow[0][e], hrow[1][e], b0, b1);
    }

    free(buf);
    cv_resize_axis_free(&ax);
    cv_resize_axis_free(&ay);
    return ANIM_OK;
}

anim_status cv_resize_image(const anim_image *in, int w, int h, anim_image *out, anim_error *err) {
    memset(out, 0, sizeof *out);
    if (!in || !in->rgb)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "cv_resize: NULL picture");
    anim_status st = anim_image_alloc(out, w, h, err);
    if (st) return st;
    st = cv_resize_u8(in->rgb, in->w, in->h, 3, out->rgb, w, h, err);
    if (st) anim_image_free(out);
    return st;
}
