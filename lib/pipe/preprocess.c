/*
 * preprocess.c - RGB8 pictures -> the pipeline's float32 input tensors (NHWC).
 *
 * Reproduces, bit for bit, the input handling of Moore-AnimateAnyone's long
 * pipeline (pipeline_pose2vid_long.py) as recorded in
 * tests/fixtures/moore-tiny-resize/FIXTURE.md:
 *   CLIP:  ref.resize((224, 224)) [PIL default BICUBIC] -> CLIPImageProcessor
 *          (transformers 4.30: shortest-edge BICUBIC resize, center crop,
 *          u8 * (1/255) in float64 then float32, (x - mean) / std in float32);
 *   VAE:   VaeImageProcessor (diffusers 0.24): size floored to multiples of
 *          8, LANCZOS resize, float32(u8) / 255, 2x - 1 in float32;
 *   pose:  the same without 2x - 1 (do_normalize=False).
 * The float steps are written as single float32 operations in the same order
 * as numpy/torch evaluate them (the build disables FMA contraction), which is
 * what makes the results identical, not merely close.
 */
#include "pipe/preprocess.h"

#include <stdlib.h>

#include "pipe/resize.h"

/* The Python constants, rounded to float32 from their double values as
 * numpy does (a direct decimal -> float literal could round differently). */
const float anim_clip_mean[3] = {(float)0.48145466, (float)0.4578275, (float)0.40821073};
const float anim_clip_std[3] = {(float)0.26862954, (float)0.26130258, (float)0.27577711};

static anim_status prep_check(const anim_image *img, const char *what, anim_error *err) {
    if (!img || !img->rgb || img->w < 1 || img->h < 1)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "%s: empty picture", what);
    return ANIM_OK;
}

/* CLIPImageProcessor's "shortest_edge" output size (get_resize_output_image_size
 * with default_to_square=False): the short side becomes `size`, the long side
 * int(size * long / short). The product is exact and the double division is
 * correctly rounded, as Python's int / int, before the truncation. */
static void clip_resize_size(int w, int h, int size, int *ow, int *oh) {
    int s = w <= h ? w : h, l = w <= h ? h : w;
    int nl = (int)((double)((long long)size * l) / s);
    if (w <= h) { *ow = size; *oh = nl; }
    else { *ow = nl; *oh = size; }
}

/* Crop size x size at (left, top) of img, rescale and normalise into out. */
static void clip_normalize(const anim_image *img, int left, int top, int size, const float mean[3],
                           const float std[3], float *out) {
    for (int y = 0; y < size; y++) {
        const uint8_t *s = img->rgb + ((size_t)(top + y) * (size_t)img->w + (size_t)left) * 3;
        float *d = out + (size_t)y * (size_t)size * 3;
        for (int i = 0; i < size * 3; i++) {
            /* rescale: uint8 array * python float -> float64, then .astype(float32) */
            float x = (float)((double)s[i] * (1.0 / 255.0));
            d[i] = (x - mean[i % 3]) / std[i % 3];   /* float32 numpy arithmetic */
        }
    }
}

anim_status anim_prep_clip_processor(const anim_image *img, int size, const float mean[3], const float std[3],
                                     float *out, anim_error *err) {
    anim_status st = prep_check(img, "CLIP preprocessing", err);
    if (st != ANIM_OK) return st;
    if (size < 1 || size > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "CLIP preprocessing: image size %d out of range", size);
    if (!mean) mean = anim_clip_mean;
    if (!std) std = anim_clip_std;
    int rw, rh;
    clip_resize_size(img->w, img->h, size, &rw, &rh);
    anim_image r;
    /* PIL's resize to the same size is a copy: anim_resize does the same */
    if ((st = anim_resize(img, rw, rh, ANIM_FILTER_BICUBIC, &r, err)) != ANIM_OK) {
        anim_err_prefix(err, "CLIP preprocessing");
        return st;
    }
    /* center_crop: floor division of the slack (never negative here: the
     * short side is exactly `size` and the long side is at least that) */
    clip_normalize(&r, (rw - size) / 2, (rh - size) / 2, size, mean, std, out);
    anim_image_free(&r);
    return ANIM_OK;
}

anim_status anim_prep_clip(const anim_image *ref, int size, const float mean[3], const float std[3], float *out,
                           anim_error *err) {
    anim_status st = prep_check(ref, "CLIP preprocessing", err);
    if (st != ANIM_OK) return st;
    if (size < 1 || size > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "CLIP preprocessing: image size %d out of range", size);
    anim_image sq;
    /* the long pipeline's own ref_image.resize((224, 224)): no filter given,
     * so PIL's default, BICUBIC; the picture is squashed to a square */
    if ((st = anim_resize(ref, size, size, ANIM_FILTER_BICUBIC, &sq, err)) != ANIM_OK) {
        anim_err_prefix(err, "CLIP preprocessing");
        return st;
    }
    st = anim_prep_clip_processor(&sq, size, mean, std, out, err);
    anim_image_free(&sq);
    return st;
}

void anim_prep_vae_size(int width, int height, int *w8, int *h8) {
    *w8 = width - width % 8;
    *h8 = height - height % 8;
}

/* VaeImageProcessor.preprocess on one PIL picture: LANCZOS resize to the
 * floored size, np.array(...).astype(float32) / 255.0, then, when
 * `normalize`, 2.0 * x - 1.0 (torch float32 ops). */
static anim_status vae_processor(const anim_image *img, int width, int height, bool normalize, const char *what,
                                 float *out, anim_error *err) {
    anim_status st = prep_check(img, what, err);
    if (st != ANIM_OK) return st;
    int w8, h8;
    anim_prep_vae_size(width, height, &w8, &h8);
    if (w8 < 8 || h8 < 8 || w8 > ANIM_IMAGE_MAX_DIM || h8 > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "%s: size %dx%d (floored to %dx%d) is out of range", what,
                           width, height, w8, h8);
    anim_image r;
    if ((st = anim_resize(img, w8, h8, ANIM_FILTER_LANCZOS, &r, err)) != ANIM_OK) {
        anim_err_prefix(err, "%s", what);
        return st;
    }
    size_t n = (size_t)w8 * (size_t)h8 * 3;
    for (size_t i = 0; i < n; i++) {
        float x = (float)r.rgb[i] / 255.0f;
        out[i] = normalize ? 2.0f * x - 1.0f : x;
    }
    anim_image_free(&r);
    return ANIM_OK;
}

anim_status anim_prep_vae(const anim_image *ref, int width, int height, float *out, anim_error *err) {
    return vae_processor(ref, width, height, true, "VAE preprocessing", out, err);
}

anim_status anim_prep_pose(const anim_image *pose, int width, int height, float *out, anim_error *err) {
    return vae_processor(pose, width, height, false, "pose preprocessing", out, err);
}
