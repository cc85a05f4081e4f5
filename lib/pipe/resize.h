/*
 * resize.h - Pillow's convolution resampling (Image.resize), bit exact on RGB8.
 *
 * Reproduces `PIL.Image.resize(size, resample)` of Pillow 7.0 .. 12.x for
 * 8-bit images with the whole picture as the box and no reducing_gap, which
 * is how the upstream pipelines call it (Moore pose2vid: BICUBIC for the CLIP
 * squash, LANCZOS in diffusers' VaeImageProcessor). The arithmetic is spelled
 * out in tests/fixtures/moore-tiny-resize/FIXTURE.md; in short:
 *   - separable; the horizontal pass runs first (only if the width changes)
 *     into a uint8 image of out_w x in_h, rounded and clamped; then the
 *     vertical pass (only if the height changes) reads that uint8 image;
 *     the same size in both directions returns a copy;
 *   - per axis: scale = in/out, support = filter support * max(scale, 1)
 *     (the kernel widens when downscaling: antialiasing), double-precision
 *     weights normalised by their sum, then rounded one by one, half away
 *     from zero, to 22-bit fixed point (never renormalised);
 *   - each output value is clamp((2^21 + sum k*src) >> 22, 0, 255).
 * The kernel-weight arithmetic keeps PIL's operation order so that the
 * fixed-point tables come out identical (the build uses -ffp-contract=off).
 */
#ifndef ANIM_PIPE_RESIZE_H
#define ANIM_PIPE_RESIZE_H

#include <stdint.h>

#include "io/image.h"
#include "util/error.h"

/* PIL's resample filter ids (Image.Resampling). */
typedef enum anim_filter {
    ANIM_FILTER_LANCZOS = 1,   /* sinc(x) sinc(x/3), support 3 */
    ANIM_FILTER_BILINEAR = 2,  /* triangle, support 1 */
    ANIM_FILTER_BICUBIC = 3    /* Keys cubic a = -0.5, support 2 (PIL's default since 7.0) */
} anim_filter;

const char *anim_filter_name(anim_filter f);   /* "LANCZOS", ...; "?" when unknown */

/* Fixed-point bits of the weights: 32 - 8 (pixel) - 2 (headroom for sums
 * above 1 and negative lobes), as PIL's PRECISION_BITS. */
#define ANIM_RESAMPLE_BITS 22

/* One axis's weights: for output index i, the `count[i]` taps start at input
 * index xmin[i] and weigh k[i*ksize + j]; k is zero-padded to ksize. */
typedef struct anim_resample_table {
    int in_size, out_size;
    int ksize;          /* (int)ceil(support) * 2 + 1 */
    int *xmin;          /* [out_size] */
    int *count;         /* [out_size] */
    int32_t *k;         /* [out_size * ksize] */
} anim_resample_table;

/* Build the table of one axis (in_size, out_size >= 1). */
anim_status anim_resample_table_build(int in_size, int out_size, anim_filter f, anim_resample_table *t,
                                      anim_error *err);
void anim_resample_table_free(anim_resample_table *t);   /* NULL is a no-op */

/* out = in resized to out_w x out_h (each 1..ANIM_IMAGE_MAX_DIM). */
anim_status anim_resize(const anim_image *in, int out_w, int out_h, anim_filter f, anim_image *out,
                        anim_error *err);

/* anim_resize that also returns, in *hpass (when not NULL), the uint8 image
 * the vertical pass reads: out_w x in_h after the horizontal pass, or a copy
 * of `in` when the width does not change. For tests and debugging. */
anim_status anim_resize_passes(const anim_image *in, int out_w, int out_h, anim_filter f, anim_image *hpass,
                               anim_image *out, anim_error *err);

#endif
