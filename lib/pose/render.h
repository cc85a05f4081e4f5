/*
 * render.h - upstream draw_pose: a pose_frame -> the DWPose skeleton picture
 * Moore-AnimateAnyone's pose guider was trained on.
 *
 * Pixel for pixel what src/dwpose/__init__.py::draw_pose (Moore @ a914ef3,
 * util.draw_bodypose / draw_handpose / draw_facepose, OpenCV 4.6 .. 4.12)
 * draws, at the frame's own canvas size, RGB8, channel order R G B exactly as
 * upstream's colour tuples are written (tests/fixtures/pose-render/FIXTURE.md,
 * "Drawing: every fact"):
 *   1. body limbs: filled ellipse polygons (half-width 4), limb-major across
 *      people;  2. the whole canvas * 0.6, truncated;  3. joints: radius-4
 *      dots, joint-major;  4. each hand: its 20 edges (thickness 2, HSV
 *      colours), then its dots (radius 4, blue);  5. face dots (radius 3,
 *      white). Hand and face points need truncated pixel coordinates >= 1.
 */
#ifndef ANIM_POSE_RENDER_H
#define ANIM_POSE_RENDER_H

#include "io/image.h"
#include "pose/draw.h"
#include "pose/pose_json.h"

/* Allocate out (f->width x f->height RGB8) and draw f on black. On failure
 * *out is zeroed. ANIM_E_INVALID_ARG for a frame that did not come from the
 * parser and holds out-of-range values (non-finite coordinates, bad subset
 * indices, a canvas outside 1..POSE_CANVAS_MAX). */
anim_status pose_render(const pose_frame *f, anim_image *out, anim_error *err);

/* Read, parse (pose_json_read) and render one JSON file; messages start with
 * the path. flags: POSE_PARSE_ALL_PEOPLE or 0 (Moore: the one best person). */
anim_status pose_render_file(const char *path, anim_image *out, anim_error *err);
anim_status pose_render_file_ex(const char *path, unsigned flags, anim_image *out, anim_error *err);

/* ---- drawing with a call log (for tests against upstream's recorded calls) ---- */

typedef enum pose_op_kind {
    POSE_OP_BEGIN,      /* section start: section = "body", "hands" or "faces" */
    POSE_OP_END,        /* section end */
    POSE_OP_ELLIPSE,    /* ellipse2Poly: cx cy a b angle -> pts[npts]; limb doubles set */
    POSE_OP_FILL,       /* fillConvexPoly of the last ellipse, colour rgb */
    POSE_OP_DIM,        /* canvas * 0.6, truncated */
    POSE_OP_CIRCLE,     /* filled circle cx cy radius rgb */
    POSE_OP_LINE        /* line x1 y1 x2 y2 thickness rgb */
} pose_op_kind;

typedef struct pose_op {
    pose_op_kind kind;
    const char *section;
    int cx, cy, a, b, angle, radius;
    int x1, y1, x2, y2, thickness;
    const pose_pt *pts;
    int npts;
    uint8_t rgb[3];
    int limb, person;                               /* ELLIPSE: limb index 0..16, person */
    double mean_x, mean_y, length, angle_deg;       /* ELLIPSE: before truncation */
} pose_op;

typedef void (*pose_op_fn)(const pose_op *op, void *user);

/* Draw f onto img, which must be f->width x f->height (normally all black),
 * calling log(op, user) (when not NULL) before each drawing call. */
anim_status pose_draw(const pose_frame *f, anim_image *img, pose_op_fn log, void *user, anim_error *err);

#endif
