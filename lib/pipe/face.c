/*
 * face.c - EchoMimic's face mask and face crop (infer_audio2vid.py), bit
 * exact. The rules, with the upstream expressions, are in face.h; each step
 * below names the expression it mirrors. Pictures are RGB8 HWC (anim_image),
 * masks uint8 or float32 row-major [h][w].
 *
 * Integer arithmetic is done in `long long` on values bounded by
 * FACE_BOX_COORD_MAX, so nothing overflows whatever box passes the checks.
 */
#include "pipe/face.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipe/cv_resize.h"

void face_opts_default(face_opts *o) {
    o->mask_ratio = FACE_MASK_DILATION;
    o->crop_ratio = FACE_CROP_DILATION;
    o->clip_mask = false;
}

/* ---- the flag ------------------------------------------------------------ */

anim_status face_box_parse(const char *s, float box[4], anim_error *err) {
    static const char *const names[4] = {"X0", "Y0", "X1", "Y1"};
    if (!s)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "--face-box: no value (expected X0,Y0,X1,Y1)");
    const char *p = s;
    double v[4];
    for (int i = 0; i < 4; i++) {
        while (*p == ' ' || *p == '\t') p++;
        char *end = NULL;
        v[i] = strtod(p, &end);
        if (end == p)
            return anim_seterr(err, ANIM_E_INVALID_ARG,
                               "--face-box \"%s\": %s is missing or not a number (expected X0,Y0,X1,Y1)", s,
                               names[i]);
        if (!isfinite(v[i]))
            return anim_seterr(err, ANIM_E_INVALID_ARG, "--face-box \"%s\": %s is not finite", s, names[i]);
        if (fabs(v[i]) > FACE_BOX_COORD_MAX)
            return anim_seterr(err, ANIM_E_INVALID_ARG, "--face-box \"%s\": %s = %g is beyond +-%g", s,
                               names[i], v[i], FACE_BOX_COORD_MAX);
        p = end;
        while (*p == ' ' || *p == '\t') p++;
        if (i < 3 && *p != ',')
            return anim_seterr(err, ANIM_E_INVALID_ARG,
                               "--face-box \"%s\": expected ',' after %s (the value is X0,Y0,X1,Y1)", s,
                               names[i]);
        if (i == 3 && *p != '\0')
            return anim_seterr(err, ANIM_E_INVALID_ARG,
                               "--face-box \"%s\": unexpected text after Y1 (the value is X0,Y0,X1,Y1)", s);
        if (i < 3) p++;
    }
    for (int i = 0; i < 4; i++) box[i] = (float)v[i];   /* MTCNN's boxes are float32 */
    if (!(box[0] < box[2]))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "--face-box \"%s\": X0 must be less than X1", s);
    if (!(box[1] < box[3]))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "--face-box \"%s\": Y0 must be less than Y1", s);
    return ANIM_OK;
}

anim_status face_box_check(const float box[4], int img_w, int img_h, anim_error *err) {
    static const char *const names[4] = {"X0", "Y0", "X1", "Y1"};
    for (int i = 0; i < 4; i++) {
        if (!isfinite(box[i]))
            return anim_seterr(err, ANIM_E_INVALID_ARG, "face box (--face-box): %s is not finite", names[i]);
        if (fabs((double)box[i]) > FACE_BOX_COORD_MAX)
            return anim_seterr(err, ANIM_E_INVALID_ARG, "face box (--face-box): %s = %g is beyond +-%g", names[i],
                               (double)box[i], FACE_BOX_COORD_MAX);
    }
    if (!(box[0] < box[2]) || !(box[1] < box[3]))
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "face box (--face-box) %g,%g,%g,%g: need X0 < X1 and Y0 < Y1 (X0,Y0,X1,Y1)",
                           (double)box[0], (double)box[1], (double)box[2], (double)box[3]);
    if (!(box[2] > 0.f && box[0] < (float)img_w && box[3] > 0.f && box[1] < (float)img_h))
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "face box (--face-box) %g,%g,%g,%g lies outside the %dx%d picture", (double)box[0],
                           (double)box[1], (double)box[2], (double)box[3], img_w, img_h);
    return ANIM_OK;
}

/* ---- geometry ------------------------------------------------------------ */

/* One numpy slice bound on an axis of length n: a negative index counts from
 * the end (i += n) and is then clamped to [0, n]. With clip: clamp only.
 * *wrapped is set when a negative bound was met. */
static long long slice_bound(long long i, long long n, bool clip, bool *wrapped) {
    if (i < 0) {
        *wrapped = true;
        if (!clip) i += n;
        if (i < 0) i = 0;
    } else if (i > n) {
        i = n;
    }
    return i;
}

/* Python int(float) on the product (re - rb) * ratio: truncation toward 0. */
static long long py_int_of(long long d, double ratio) {
    return (long long)trunc((double)d * ratio);
}

static long long min_ll(long long a, long long b) { return a < b ? a : b; }
static long long max_ll(long long a, long long b) { return a > b ? a : b; }
/* Python's // on values that may be negative (floor division). */
static long long floordiv_ll(long long a, long long b) {
    long long q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

anim_status face_geometry_compute(int img_w, int img_h, const float *box, const face_opts *opts,
                                  face_geometry *g, anim_error *err) {
    memset(g, 0, sizeof *g);
    if (img_w < 1 || img_h < 1 || img_w > ANIM_IMAGE_MAX_DIM || img_h > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "face: portrait size %dx%d is outside 1x1..%dx%d", img_w,
                           img_h, ANIM_IMAGE_MAX_DIM, ANIM_IMAGE_MAX_DIM);
    face_opts def;
    if (!opts) {
        face_opts_default(&def);
        opts = &def;
    }
    if (!isfinite(opts->mask_ratio) || opts->mask_ratio < 0.0 || opts->mask_ratio > 10.0 ||
        !isfinite(opts->crop_ratio) || opts->crop_ratio < 0.0 || opts->crop_ratio > 10.0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "face: dilation ratios %g (mask), %g (crop) are outside 0..10",
                           opts->mask_ratio, opts->crop_ratio);
    g->img_w = img_w;
    g->img_h = img_h;
    const long long w = img_w, h = img_h;

    if (!box) {
        /* `if select_bbox is None: face_mask[:, :] = 255` - no crop */
        g->has_box = false;
        g->mask_y0 = 0, g->mask_y1 = img_h, g->mask_x0 = 0, g->mask_x1 = img_w;
        g->mask_rows[0] = 0, g->mask_rows[1] = img_h, g->mask_cols[0] = 0, g->mask_cols[1] = img_w;
        int whole[4] = {0, 0, img_w, img_h};
        memcpy(g->box, whole, sizeof whole);
        memcpy(g->crop_rect, whole, sizeof whole);
        memcpy(g->square, whole, sizeof whole);
        return ANIM_OK;
    }

    anim_status st = face_box_check(box, img_w, img_h, err);
    if (st) return st;
    g->has_box = true;

    /* xyxy = np.round(xyxy).astype('int'): float32 rounded half to even (the
     * default rounding mode; the values are integers after it). */
    long long xyxy[4];
    for (int i = 0; i < 4; i++) xyxy[i] = (long long)nearbyintf(box[i]);
    /* rb, re, cb, ce = xyxy[1], xyxy[3], xyxy[0], xyxy[2] */
    long long rb = xyxy[1], re = xyxy[3], cb = xyxy[0], ce = xyxy[2];

    /* r_pad = int((re - rb) * args.facemusk_dilation_ratio); c_pad likewise */
    long long r_pad = py_int_of(re - rb, opts->mask_ratio);
    long long c_pad = py_int_of(ce - cb, opts->mask_ratio);
    /* face_mask[rb - r_pad : re + r_pad, cb - c_pad : ce + c_pad] = 255 */
    long long row_start = rb - r_pad, row_stop = re + r_pad, col_start = cb - c_pad, col_stop = ce + c_pad;
    bool wrapped = false;
    long long y0 = slice_bound(row_start, h, opts->clip_mask, &wrapped);
    long long y1 = slice_bound(row_stop, h, opts->clip_mask, &wrapped);
    long long x0 = slice_bound(col_start, w, opts->clip_mask, &wrapped);
    long long x1 = slice_bound(col_stop, w, opts->clip_mask, &wrapped);

    /* r_pad_crop = int((re - rb) * args.facecrop_dilation_ratio); c_pad_crop likewise
     * crop_rect = [max(0, cb - c_pad_crop), max(0, rb - r_pad_crop),
     *              min(ce + c_pad_crop, face_img.shape[1]), min(re + r_pad_crop, face_img.shape[0])] */
    long long r_pad_crop = py_int_of(re - rb, opts->crop_ratio);
    long long c_pad_crop = py_int_of(ce - cb, opts->crop_ratio);
    long long cr[4] = {max_ll(0, cb - c_pad_crop), max_ll(0, rb - r_pad_crop), min_ll(ce + c_pad_crop, w),
                       min_ll(re + r_pad_crop, h)};

    /* crop_and_pad(image, rect), src/utils/util.py */
    long long qx0 = max_ll(0, cr[0]), qy0 = max_ll(0, cr[1]);
    long long qx1 = min_ll(w, cr[2]), qy1 = min_ll(h, cr[3]);
    long long side = min_ll(qx1 - qx0, qy1 - qy0);
    long long cx = floordiv_ll(qx0 + qx1, 2), cy = floordiv_ll(qy0 + qy1, 2);
    long long nx0 = max_ll(0, cx - floordiv_ll(side, 2)), ny0 = max_ll(0, cy - floordiv_ll(side, 2));
    long long nx1 = min_ll(w, nx0 + side), ny1 = min_ll(h, ny0 + side);
    if (nx1 - nx0 != ny1 - ny0) {
        side = min_ll(nx1 - nx0, ny1 - ny0);
        nx1 = nx0 + side;
        ny1 = ny0 + side;
    }
    /* image[new_y0:new_y1, new_x0:new_x1]: the bounds are within [0, n]
     * here (non-negative, clamped above), so numpy takes them as they are. */
    if (nx1 - nx0 < 1 || ny1 - ny0 < 1)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "face box (--face-box) %g,%g,%g,%g rounds to %lld,%lld,%lld,%lld: the face crop of the "
                           "%dx%d picture is empty (upstream's cv2.resize would fail)",
                           (double)box[0], (double)box[1], (double)box[2], (double)box[3], cb, rb, ce, re, img_w,
                           img_h);

    g->box[0] = (int)cb, g->box[1] = (int)rb, g->box[2] = (int)ce, g->box[3] = (int)re;
    g->mask_pad_r = (int)r_pad, g->mask_pad_c = (int)c_pad;
    g->mask_rows[0] = (int)row_start, g->mask_rows[1] = (int)row_stop;
    g->mask_cols[0] = (int)col_start, g->mask_cols[1] = (int)col_stop;
    g->mask_y0 = (int)y0, g->mask_y1 = (int)y1, g->mask_x0 = (int)x0, g->mask_x1 = (int)x1;
    g->mask_wrapped = wrapped;
    g->crop_pad_r = (int)r_pad_crop, g->crop_pad_c = (int)c_pad_crop;
    for (int i = 0; i < 4; i++) g->crop_rect[i] = (int)cr[i];
    g->square[0] = (int)nx0, g->square[1] = (int)ny0, g->square[2] = (int)nx1, g->square[3] = (int)ny1;
    return ANIM_OK;
}

void face_mask_draw(const face_geometry *g, uint8_t *mask) {
    size_t w = (size_t)g->img_w;
    memset(mask, 0, w * (size_t)g->img_h);
    if (g->mask_y1 <= g->mask_y0 || g->mask_x1 <= g->mask_x0) return;   /* an empty slice */
    for (int y = g->mask_y0; y < g->mask_y1; y++)
        memset(mask + (size_t)y * w + g->mask_x0, 255, (size_t)(g->mask_x1 - g->mask_x0));
}

/* dst = src[y0:y1, x0:x1] for an interleaved w-wide picture of cn channels. */
static void crop_u8(const uint8_t *src, int w, int cn, const int sq[4], uint8_t *dst) {
    size_t rowlen = (size_t)(sq[2] - sq[0]) * cn;
    for (int y = sq[1]; y < sq[3]; y++)
        memcpy(dst + (size_t)(y - sq[1]) * rowlen, src + ((size_t)y * w + sq[0]) * cn, rowlen);
}

/* ---- the whole block ----------------------------------------------------- */

anim_status face_prepare(const anim_image *portrait, const float *box, int W, int H, const face_opts *opts,
                         anim_image *ref_out, float *mask_out, face_geometry *geo_out, anim_error *err) {
    if (ref_out) memset(ref_out, 0, sizeof *ref_out);
    if (!portrait || !portrait->rgb || !ref_out || !mask_out)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "face: NULL portrait or output");
    if (W < 1 || H < 1 || W > ANIM_IMAGE_MAX_DIM || H > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "face: output size %dx%d is outside 1x1..%dx%d", W, H,
                           ANIM_IMAGE_MAX_DIM, ANIM_IMAGE_MAX_DIM);
    face_geometry g;
    anim_status st = face_geometry_compute(portrait->w, portrait->h, box, opts, &g, err);
    if (st) return st;
    if (geo_out) *geo_out = g;

    if (!g.has_box) {
        /* No face: the picture goes to the pipeline as it is; the mask is
         * all 255, i.e. 1.0f after / 255.0 (returned at H x W, see face.h). */
        for (size_t i = 0; i < (size_t)W * H; i++) mask_out[i] = 1.0f;
        return anim_image_copy(portrait, ref_out, err);
    }

    int sw = g.square[2] - g.square[0], sh = g.square[3] - g.square[1];
    size_t npix = (size_t)portrait->w * portrait->h;
    uint8_t *mask = malloc(npix);
    uint8_t *mcrop = malloc((size_t)sw * sh);
    uint8_t *msized = malloc((size_t)W * H);
    anim_image icrop = {0};
    if (!mask || !mcrop || !msized) {
        st = anim_seterr(err, ANIM_E_OOM, "face: out of memory for the %dx%d mask", portrait->w, portrait->h);
        goto done;
    }
    face_mask_draw(&g, mask);
    /* face_img, _ = crop_and_pad(face_img, crop_rect); face_mask likewise */
    st = anim_image_alloc(&icrop, sw, sh, err);
    if (st) goto done;
    crop_u8(portrait->rgb, portrait->w, 3, g.square, icrop.rgb);
    crop_u8(mask, portrait->w, 1, g.square, mcrop);
    /* face_img = cv2.resize(face_img, (args.W, args.H)); face_mask likewise */
    st = cv_resize_image(&icrop, W, H, ref_out, err);
    if (st) goto done;
    st = cv_resize_u8(mcrop, sw, sh, 1, msized, W, H, err);
    if (st) {
        anim_image_free(ref_out);
        goto done;
    }
    /* torch.Tensor(face_mask) / 255.0: uint8 -> float32, divided in float32 */
    for (size_t i = 0; i < (size_t)W * H; i++) mask_out[i] = (float)msized[i] / 255.0f;

done:
    anim_image_free(&icrop);
    free(mask);
    free(mcrop);
    free(msized);
    return st;
}
