/*
 * cv_resize.h - OpenCV's cv2.resize(img, (w, h)) with its default
 * INTER_LINEAR on 8-bit pictures, bit exact.
 *
 * EchoMimic's infer_audio2vid.py resizes the cropped face picture and the
 * cropped uint8 face mask with `cv2.resize(x, (W, H))`. This file reproduces
 * what OpenCV 4.6 computes (the version behind the echomimic-tiny fixture;
 * newer releases may differ: OpenCV's current master has, for instance, a
 * dedicated path for exact 2x upscaling). Written from the behaviour, not
 * from OpenCV's code:
 *
 *   1. dst size == src size: a plain copy (cv::resize copies).
 *   2. inv_scale = (double)dst / src, scale = 1.0 / inv_scale (per axis; NOT
 *      src / dst, which can differ in the last bit). When both scales are 2
 *      within DBL_EPSILON (src exactly twice dst on both axes) OpenCV
 *      switches to INTER_AREA's fast path: each output is the mean of its
 *      2x2 block, (a + b + c + d + 2) >> 2 (with 2 channels: rint(sum *
 *      0.25f), half to even).
 *   3. Otherwise, per axis and output index d, in float as OpenCV does:
 *        f = (float)((d + 0.5) * scale - 0.5); s = floor(f); f -= s;
 *      weights w0 = rint((1.f - f) * 2048), w1 = rint(f * 2048) (saturate_cast
 *      <short>: round half to even; INTER_RESIZE_COEF_BITS = 11). Columns are
 *      clamped: s < 0 gives (s, f) = (0, 0), s >= src_w - 1 gives
 *      (src_w - 1, 0). Rows are NOT: the weights keep the unclamped fraction
 *      and the two source rows s, s + 1 are each clamped to [0, src_h - 1]
 *      afterwards (so at the borders one row is weighted twice).
 *   4. Horizontal pass, exact, into int: H[x] = S[s] * w0 + S[s + cn] * w1
 *      (S[s] * 2048 where the column was clamped on the right).
 *   5. Vertical pass, every element of the row (b0, b1: the row weights):
 *        out = (((b0 * (H0 >> 4)) >> 16) + ((b1 * (H1 >> 4)) >> 16) + 2) >> 2
 *      This is OpenCV's 8-bit specialisation of VResizeLinear, whose scalar
 *      loop repeats what its SIMD loop does with v_mul_hi on int16. It is
 *      NOT the generic fixed-point cast (H0 b0 + H1 b1 + (1 << 21)) >> 22,
 *      which gives one more for some inputs (tests/test_face.c shows one).
 *      Since vector and scalar loops agree, neither the SIMD width of the
 *      OpenCV build nor the channel order (BGR or RGB) changes a value.
 *      For uint8 inputs no intermediate saturates: H <= 255 * 2049, H >> 4
 *      fits int16, and the sum stays within 0..1023 before the last shift.
 *
 * Checked against cv2 4.6.0 on x86-64 (Debian bookworm's python3-opencv, the
 * fixture's version; SSE2 baseline, no IPP) on about 10,000 random cases:
 * 1 to 4 channels, 1..800 pixels, up and down by integer and non-integer
 * factors, exact 2x down and up, 1-pixel pictures, uniform white.
 * Layout: interleaved uint8, row-major, `cn` channels.
 */
#ifndef ANIM_PIPE_CV_RESIZE_H
#define ANIM_PIPE_CV_RESIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "io/image.h"
#include "util/error.h"

/* INTER_RESIZE_COEF_BITS: weights are fixed point with 11 fraction bits. */
#define CV_RESIZE_COEF_BITS 11
#define CV_RESIZE_COEF_ONE (1 << CV_RESIZE_COEF_BITS)

/* Largest channel count accepted (OpenCV: any; EchoMimic needs 1 and 3). */
#define CV_RESIZE_MAX_CN 4

/* One axis's interpolation table: output index d reads source indices
 * ofs[d] and ofs[d] + 1 (already clamped for columns, NOT for rows: see
 * clamp_rows) with weights w[2 d], w[2 d + 1]. */
typedef struct cv_resize_axis {
    int src, dst;
    int *ofs;       /* [dst] */
    int16_t *w;     /* [2 * dst] */
    int xmax;       /* columns: first d whose source was clamped on the right
                       (OpenCV's xmax; outputs from there are S[ofs] * 2048) */
} cv_resize_axis;

/* Build the table of one axis as OpenCV does for INTER_LINEAR (src, dst >= 1).
 * is_cols: columns clamp s and f at both ends; rows keep the raw s and f. */
anim_status cv_resize_axis_build(int src, int dst, bool is_cols, cv_resize_axis *a, anim_error *err);
void cv_resize_axis_free(cv_resize_axis *a);   /* NULL is a no-op */

/* The vertical rounding of step 5 (exposed for the tests): h0, h1 are the
 * horizontal-pass values of the two source rows, b0, b1 the row weights. */
uint8_t cv_resize_vert(int32_t h0, int32_t h1, int b0, int b1);

/*
 * dst (dw x dh x cn, interleaved) = cv2.resize(src, (dw, dh)) for an sw x sh
 * x cn uint8 picture (cn 1..CV_RESIZE_MAX_CN; sizes 1..ANIM_IMAGE_MAX_DIM).
 * src and dst must not overlap.
 */
anim_status cv_resize_u8(const uint8_t *src, int sw, int sh, int cn, uint8_t *dst, int dw, int dh,
                         anim_error *err);

/* out = cv2.resize(in, (w, h)) for an RGB picture (the order of the channels
 * makes no difference, see above). out is allocated (w x h); free it with
 * anim_image_free. */
anim_status cv_resize_image(const anim_image *in, int w, int h, anim_image *out, anim_error *err);

#endif
