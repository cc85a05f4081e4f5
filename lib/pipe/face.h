/*
 * face.h - EchoMimic's face geometry: from a face box to the face mask, the
 * square face crop and the W x H reference picture, bit exact.
 *
 * Reproduces the "face musk prepare" / "face crop" block of antgroup/
 * echomimic infer_audio2vid.py (@a53e970, lines 199-228) and crop_and_pad
 * (src/utils/util.py). Upstream gets the box from MTCNN (the largest face
 * with prob > 0.8); here the caller gives it (`--face-box X0,Y0,X1,Y1`, the
 * detector's float pixel corners) or gives none, which is upstream's "no
 * face detected" branch. With a box (w x h: the portrait's size; all
 * integers are Python ints, slices are numpy's):
 *
 *   box   xyxy = np.round(select_bbox[:4]).astype('int')
 *           MTCNN's boxes are float32, so the float box is rounded as a
 *           float32, half to even (np.round), then truncated to int (exact).
 *           rb, re, cb, ce = xyxy[1], xyxy[3], xyxy[0], xyxy[2]
 *   mask  r_pad = int((re - rb) * facemusk_dilation_ratio)   (0.1)
 *         c_pad = int((ce - cb) * facemusk_dilation_ratio)
 *           the products are Python floats (double), int() truncates.
 *         face_mask = zeros(h, w) uint8;
 *         face_mask[rb - r_pad : re + r_pad, cb - c_pad : ce + c_pad] = 255
 *           numpy slice bounds: a NEGATIVE bound counts from the end
 *           (i += n, then clamped to [0, n]); a bound above n is n; stop <=
 *           start selects nothing. So when the dilated box pokes above or
 *           left of the picture, the slice wraps: the rows/columns selected
 *           are not the face's, often none at all (an upstream bug, kept by
 *           default; face_opts.clip_mask fixes it by clamping at 0).
 *   crop  r_pad_crop = int((re - rb) * facecrop_dilation_ratio)   (0.5)
 *         c_pad_crop = int((ce - cb) * facecrop_dilation_ratio)
 *         crop_rect = [max(0, cb - c_pad_crop), max(0, rb - r_pad_crop),
 *                      min(ce + c_pad_crop, w), min(re + r_pad_crop, h)]
 *         crop_and_pad(img, crop_rect): x0, y0 = max(0, x0), max(0, y0);
 *           x1, y1 = min(w, x1), min(h, y1); side = min(x1 - x0, y1 - y0);
 *           cx, cy = (x0 + x1) // 2, (y0 + y1) // 2;
 *           nx0 = max(0, cx - side // 2); ny0 = max(0, cy - side // 2);
 *           nx1 = min(w, nx0 + side); ny1 = min(h, ny0 + side);
 *           if nx1 - nx0 != ny1 - ny0: side = min(both); nx1 = nx0 + side;
 *           ny1 = ny0 + side;  crop = img[ny0:ny1, nx0:nx1]
 *         The same square is cut from the picture and from the mask.
 *   size  face_img = cv2.resize(face_img, (W, H)); face_mask likewise (one
 *         channel) - INTER_LINEAR, see cv_resize.h. The resized mask has
 *         interpolated, non-binary edges.
 *   out   ref_image_pil = the resized picture (BGR -> RGB; our pictures are
 *         RGB throughout, and cv2's resize treats channels alike);
 *         face_mask_tensor = torch.Tensor(face_mask) / 255.0 (float32).
 *
 * Without a box: face_mask[:, :] = 255 and nothing is cropped or resized;
 * the pipeline gets the portrait as it is (its VaeImageProcessor then
 * resizes it to W x H, LANCZOS: anim_prep_vae) and the all-255 mask at the
 * PORTRAIT's size. That mask only fits the latents when the portrait is
 * already W x H (upstream fails otherwise: talking-head.md 2.12); a constant
 * mask is the same at any size, so we return it at H x W (all 1.0f), which
 * equals upstream wherever upstream runs.
 *
 * A box upstream could never get from MTCNN is refused instead of crashing
 * later: non-finite or reversed corners, no overlap with the picture,
 * coordinates beyond +-FACE_BOX_COORD_MAX, or a crop that rounds to nothing
 * (cv2.resize raises on an empty picture).
 */
#ifndef ANIM_PIPE_FACE_H
#define ANIM_PIPE_FACE_H

#include <stdbool.h>
#include <stdint.h>

#include "io/image.h"
#include "util/error.h"

/* infer_audio2vid.py CLI defaults: --facemusk_dilation_ratio 0.1,
 * --facecrop_dilation_ratio 0.5 (Python floats, i.e. these doubles). */
#define FACE_MASK_DILATION 0.1
#define FACE_CROP_DILATION 0.5

/* Largest |coordinate| accepted in a face box (keeps every integer of the
 * geometry far inside int range; MTCNN boxes are within the picture give or
 * take a margin). */
#define FACE_BOX_COORD_MAX 1.0e6

typedef struct face_opts {
    double mask_ratio;   /* facemusk_dilation_ratio, default 0.1 (0..10) */
    double crop_ratio;   /* facecrop_dilation_ratio, default 0.5 (0..10) */
    bool clip_mask;      /* false (upstream): numpy's wrap of negative slice
                            starts; true: clamp them at 0 instead (a fix) */
} face_opts;

void face_opts_default(face_opts *o);

/* Everything derived from the box, in upstream's names and order. */
typedef struct face_geometry {
    int img_w, img_h;        /* the portrait */
    bool has_box;            /* false: the no-face branch (mask all 255, no crop) */
    int box[4];              /* xyxy rounded: cb, rb, ce, re */
    int mask_pad_r, mask_pad_c;   /* r_pad, c_pad */
    int mask_rows[2];        /* the slice bounds as written: rb - r_pad, re + r_pad */
    int mask_cols[2];        /* cb - c_pad, ce + c_pad */
    int mask_y0, mask_y1;    /* rows the slice selects, after numpy's (or, with */
    int mask_x0, mask_x1;    /* clip_mask, clamping) rules; empty when y1 <= y0 */
    bool mask_wrapped;       /* a negative bound wrapped around (numpy); with
                                clip_mask: a negative bound was clamped */
    int crop_pad_r, crop_pad_c;   /* r_pad_crop, c_pad_crop */
    int crop_rect[4];        /* x0, y0, x1, y1 after the clipping */
    int square[4];           /* crop_and_pad's (new_x0, new_y0, new_x1, new_y1) */
} face_geometry;

/*
 * Parse the --face-box flag: "X0,Y0,X1,Y1", four decimal numbers (spaces
 * around them allowed), the pixel corners of the face as a detector reports
 * them (x right, y down, X0 < X1, Y0 < Y1). Stored as float32, as MTCNN's
 * boxes are. Errors (ANIM_E_INVALID_ARG) quote the flag's value.
 */
anim_status face_box_parse(const char *s, float box[4], anim_error *err);

/* Check a box against a w x h portrait: finite, within +-FACE_BOX_COORD_MAX,
 * X0 < X1, Y0 < Y1, and overlapping the picture (X1 > 0, X0 < w, Y1 > 0,
 * Y0 < h). */
anim_status face_box_check(const float box[4], int img_w, int img_h, anim_error *err);

/* The geometry for a w x h portrait; box NULL: the no-face branch. opts NULL:
 * face_opts_default. Checks the box (face_box_check) and refuses a crop that
 * is empty after rounding. */
anim_status face_geometry_compute(int img_w, int img_h, const float *box, const face_opts *opts,
                                  face_geometry *g, anim_error *err);

/* The uint8 mask at portrait size (img_h * img_w bytes, row-major): 255 in
 * the selected rows x columns (everywhere without a box), 0 elsewhere. */
void face_mask_draw(const face_geometry *g, uint8_t *mask);

/*
 * The whole block: the reference picture and the face-locator mask.
 *   ref_out  allocated here: with a box, the square crop of `portrait`
 *            resized to W x H (cv2 INTER_LINEAR); without, a copy of the
 *            portrait at its own size (what upstream hands the pipeline).
 *   mask_out H * W floats (caller's buffer), mask / 255 in float32.
 *   geo_out  may be NULL.
 * W, H: the output size (1..ANIM_IMAGE_MAX_DIM; the pipeline wants multiples
 * of 8). box NULL: no face. opts NULL: defaults.
 */
anim_status face_prepare(const anim_image *portrait, const float *box, int W, int H, const face_opts *opts,
                         anim_image *ref_out, float *mask_out, face_geometry *geo_out, anim_error *err);

#endif
