/*
 * render.c - Moore-AnimateAnyone's draw_pose (src/dwpose/__init__.py and
 * util.py @ a914ef3) in C, pixel-exact (see render.h and
 * tests/fixtures/pose-render/FIXTURE.md).
 *
 * Upstream works on normalised coordinates and multiplies them back by W and
 * H before truncating with int(): `(int)((x / W) * W)` is not always `x`
 * (with W = 720, 49 -> 48.99999999999999 -> 48), and that one-pixel shift is
 * part of what the network saw, so the round trip is kept (the normalising
 * half lives in pose_json.c). All arithmetic is IEEE double, no FMA
 * contraction (the Makefile's -ffp-contract=off), truncation toward zero as
 * Python's int() and C's cast do.
 */
#include "pose/render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* util.draw_bodypose `colors`, in the channel order they are written (R G B
 * of the saved picture): limbs use 0..16, joints 0..17. */
static const uint8_t body_colors[18][3] = {
    {255, 0, 0},   {255, 85, 0},  {255, 170, 0}, {255, 255, 0}, {170, 255, 0}, {85, 255, 0},
    {0, 255, 0},   {0, 255, 85},  {0, 255, 170}, {0, 255, 255}, {0, 170, 255}, {0, 85, 255},
    {0, 0, 255},   {85, 0, 255},  {170, 0, 255}, {255, 0, 255}, {255, 0, 170}, {255, 0, 85},
};

/* util.draw_bodypose `limbSeq`, made 0-based; upstream lists two more
 * ([3,17], [6,18]) that its loop (range(17)) never reaches. */
static const int limb_seq[17][2] = {
    {1, 2}, {1, 5}, {2, 3}, {3, 4}, {5, 6}, {6, 7}, {1, 8}, {8, 9}, {9, 10},
    {1, 11}, {11, 12}, {12, 13}, {1, 0}, {0, 14}, {14, 16}, {0, 15}, {15, 17},
};

/* util.draw_handpose `edges` */
static const int hand_edges[20][2] = {
    {0, 1}, {1, 2}, {2, 3}, {3, 4}, {0, 5}, {5, 6}, {6, 7}, {7, 8}, {0, 9}, {9, 10},
    {10, 11}, {11, 12}, {0, 13}, {13, 14}, {14, 15}, {15, 16}, {0, 17}, {17, 18}, {18, 19}, {19, 20},
};

/* matplotlib.colors.hsv_to_rgb([e / 20, 1, 1]) * 255 as OpenCV's
 * saturate_cast rounds it (half to even). A table, not the HSV formula: the
 * floats are asymmetric (edge 3 is 229.49999999999997 -> 229, edge 17 is
 * 229.50000000000009 -> 230), which round(hsv * 255) in C gets wrong. */
static const uint8_t hand_colors[20][3] = {
    {255, 0, 0},   {255, 77, 0},  {255, 153, 0}, {255, 229, 0}, {204, 255, 0},
    {128, 255, 0}, {51, 255, 0},  {0, 255, 25},  {0, 255, 102}, {0, 255, 179},
    {0, 255, 255}, {0, 178, 255}, {0, 102, 255}, {0, 25, 255},  {51, 0, 255},
    {128, 0, 255}, {204, 0, 255}, {255, 0, 230}, {255, 0, 153}, {255, 0, 77},
};

static const uint8_t hand_dot_color[3] = {0, 0, 255};
static const uint8_t face_dot_color[3] = {255, 255, 255};

#define STICK_WIDTH 4          /* the limb ellipse's minor semi-axis */
#define JOINT_RADIUS 4
#define HAND_LINE_THICKNESS 2
#define HAND_DOT_RADIUS 4
#define FACE_DOT_RADIUS 3
#define POS_EPS 0.01           /* draw_handpose / draw_facepose: x > eps and y > eps */

/* Largest |normalised value * canvas size| pose_draw accepts: keeps limb
 * lengths, ellipse points and 16.16 values far from int / int64 overflow.
 * The parser's POSE_VALUE_MAX (1e6 pixels) is well inside it. */
#define PIXEL_MAX 4e6

static void emit(pose_op_fn log, void *user, const pose_op *op) {
    if (log) log(op, user);
}

static void emit_section(pose_op_fn log, void *user, pose_op_kind kind, const char *section) {
    if (!log) return;
    pose_op op = {.kind = kind, .section = section};
    log(&op, user);
}

/* int(v * size): Python's int() of the denormalised float, toward zero. */
static int to_px(double v, int size) { return (int)(v * (double)size); }

static void draw_circle(anim_image *img, int x, int y, int r, const uint8_t rgb[3], pose_op_fn log, void *user) {
    if (log) {
        pose_op op = {.kind = POSE_OP_CIRCLE, .cx = x, .cy = y, .radius = r};
        memcpy(op.rgb, rgb, 3);
        log(&op, user);
    }
    pose_circle_filled(img, x, y, r, rgb);
}

static bool value_ok(double v, int size) { return isfinite(v) && fabs(v * (double)size) <= PIXEL_MAX; }

/* A frame built by hand (not by the parser) must not drive the integer
 * arithmetic out of range. */
static anim_status check_frame(const pose_frame *f, anim_error *err) {
    if (f->width < 1 || f->width > POSE_CANVAS_MAX || f->height < 1 || f->height > POSE_CANVAS_MAX)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_render: canvas %dx%d outside 1..%d", f->width,
                           f->height, POSE_CANVAS_MAX);
    if (f->n_people < 0 || (f->n_people > 0 && (!f->candidate || !f->subset || !f->hands || !f->faces)))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_render: %d people but missing arrays", f->n_people);
    const int W = f->width, H = f->height;
    for (int n = 0; n < f->n_people; n++) {
        for (int j = 0; j < POSE_BODY_POINTS; j++) {
            const int s = f->subset[n][j];
            if (s < -1 || s >= POSE_BODY_POINTS * f->n_people)
                return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_render: subset[%d][%d] = %d out of range", n,
                                   j, s);
            if (s >= 0 && !(value_ok(f->candidate[s][0], W) && value_ok(f->candidate[s][1], H)))
                return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_render: candidate[%d] out of range", s);
        }
        for (int h = 2 * n; h < 2 * n + 2; h++)
            for (int i = 0; i < POSE_HAND_POINTS; i++)
                if (!(value_ok(f->hands[h][i][0], W) && value_ok(f->hands[h][i][1], H)))
                    return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_render: hands[%d][%d] out of range", h, i);
        for (int i = 0; i < POSE_FACE_POINTS; i++)
            if (!(value_ok(f->faces[n][i][0], W) && value_ok(f->faces[n][i][1], H)))
                return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_render: faces[%d][%d] out of range", n, i);
    }
    return ANIM_OK;
}

/* Exponents read through volatile so that GCC does not rewrite pow(d, 2.0)
 * as d * d (it does, even without -ffast-math). */
static volatile double pow_two = 2.0, pow_half = 0.5;

/* util.draw_bodypose */
static void draw_body(const pose_frame *f, anim_image *img, pose_op_fn log, void *user) {
    const int W = f->width, H = f->height;
    pose_pt poly[POSE_ELLIPSE_MAX_PTS];
    /* limb-major: `for i in range(17): for n in range(len(subset))` */
    for (int i = 0; i < 17; i++) {
        for (int n = 0; n < f->n_people; n++) {
            const int ia = f->subset[n][limb_seq[i][0]], ib = f->subset[n][limb_seq[i][1]];
            if (ia < 0 || ib < 0) continue;
            const double xa = f->candidate[ia][0] * (double)W, xb = f->candidate[ib][0] * (double)W;
            const double ya = f->candidate[ia][1] * (double)H, yb = f->candidate[ib][1] * (double)H;
            /* np.mean of two values: (a + b) / 2 */
            const double mx = (xa + xb) / 2.0, my = (ya + yb) / 2.0;
            /* upstream: ((X0 - X1) ** 2 + (Y0 - Y1) ** 2) ** 0.5 with X the rows,
             * i.e. numpy float64 scalar power = libm pow(), three times.
             * pow(d, 2) is not always d * d (glibc's pow is not correctly
             * rounded: pose_005 limb 1 differs in the last bit), so pow is
             * called, with exponents the compiler cannot fold into d * d. */
            const double length = pow(pow(ya - yb, pow_two) + pow(xa - xb, pow_two), pow_half);
            /* math.degrees(math.atan2(dy, dx)): times the double 180/pi,
             * endpoint a minus endpoint b in limbSeq order */
            const double angle = atan2(ya - yb, xa - xb) * (180.0 / M_PI);
            const int cx = (int)mx, cy = (int)my, a = (int)(length / 2.0), ang = (int)angle;
            const int np = pose_ellipse2poly(cx, cy, a, STICK_WIDTH, ang, poly);
            if (log) {
                pose_op op = {.kind = POSE_OP_ELLIPSE, .cx = cx, .cy = cy, .a = a, .b = STICK_WIDTH,
                              .angle = ang, .pts = poly, .npts = np, .limb = i, .person = n,
                              .mean_x = mx, .mean_y = my, .length = length, .angle_deg = angle};
                log(&op, user);
                pose_op fill = {.kind = POSE_OP_FILL, .pts = poly, .npts = np};
                memcpy(fill.rgb, body_colors[i], 3);
                log(&fill, user);
            }
            pose_fill_convex_poly(img, poly, np, body_colors[i]);
        }
    }
    /* canvas = (canvas * 0.6).astype(np.uint8): only limbs exist so far */
    pose_op dim = {.kind = POSE_OP_DIM};
    emit(log, user, &dim);
    const size_t nbytes = (size_t)img->w * (size_t)img->h * 3;
    for (size_t k = 0; k < nbytes; k++) img->rgb[k] = (uint8_t)((double)img->rgb[k] * 0.6);
    /* joints, joint-major, no position test (a joint at y = -2.6 is drawn
     * centred on -2 and clipped) */
    for (int i = 0; i < POSE_BODY_POINTS; i++) {
        for (int n = 0; n < f->n_people; n++) {
            const int idx = f->subset[n][i];
            if (idx < 0) continue;
            draw_circle(img, to_px(f->candidate[idx][0], W), to_px(f->candidate[idx][1], H), JOINT_RADIUS,
                        body_colors[i], log, user);
        }
    }
}

/* util.draw_handpose: hand after hand, each its edges then its dots. */
static void draw_hands(const pose_frame *f, anim_image *img, pose_op_fn log, void *user) {
    const int W = f->width, H = f->height;
    for (int h = 0; h < 2 * f->n_people; h++) {
        const double (*pk)[2] = (const double (*)[2])f->hands[h];
        for (int e = 0; e < 20; e++) {
            const int x1 = to_px(pk[hand_edges[e][0]][0], W), y1 = to_px(pk[hand_edges[e][0]][1], H);
            const int x2 = to_px(pk[hand_edges[e][1]][0], W), y2 = to_px(pk[hand_edges[e][1]][1], H);
            /* `x > eps` on the truncated ints, i.e. >= 1: no upper bound */
            if (!(x1 > POS_EPS && y1 > POS_EPS && x2 > POS_EPS && y2 > POS_EPS)) continue;
            if (log) {
                pose_op op = {.kind = POSE_OP_LINE, .x1 = x1, .y1 = y1, .x2 = x2, .y2 = y2,
                              .thickness = HAND_LINE_THICKNESS};
                memcpy(op.rgb, hand_colors[e], 3);
                log(&op, user);
            }
            pose_line(img, x1, y1, x2, y2, HAND_LINE_THICKNESS, hand_colors[e]);
        }
        for (int i = 0; i < POSE_HAND_POINTS; i++) {
            const int x = to_px(pk[i][0], W), y = to_px(pk[i][1], H);
            if (x > POS_EPS && y > POS_EPS) draw_circle(img, x, y, HAND_DOT_RADIUS, hand_dot_color, log, user);
        }
    }
}

/* util.draw_facepose: dots only */
static void draw_faces(const pose_frame *f, anim_image *img, pose_op_fn log, void *user) {
    const int W = f->width, H = f->height;
    for (int n = 0; n < f->n_people; n++) {
        for (int i = 0; i < POSE_FACE_POINTS; i++) {
            const int x = to_px(f->faces[n][i][0], W), y = to_px(f->faces[n][i][1], H);
            if (x > POS_EPS && y > POS_EPS) draw_circle(img, x, y, FACE_DOT_RADIUS, face_dot_color, log, user);
        }
    }
}

anim_status pose_draw(const pose_frame *f, anim_image *img, pose_op_fn log, void *user, anim_error *err) {
    if (!f || !img || !img->rgb) return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_draw: NULL argument");
    anim_status st = check_frame(f, err);
    if (st != ANIM_OK) return st;
    if (img->w != f->width || img->h != f->height)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_draw: canvas is %dx%d but the frame is %dx%d", img->w,
                           img->h, f->width, f->height);
    /* draw_pose: body, then hands, then faces, on one canvas */
    emit_section(log, user, POSE_OP_BEGIN, "body");
    draw_body(f, img, log, user);
    emit_section(log, user, POSE_OP_END, "body");
    emit_section(log, user, POSE_OP_BEGIN, "hands");
    draw_hands(f, img, log, user);
    emit_section(log, user, POSE_OP_END, "hands");
    emit_section(log, user, POSE_OP_BEGIN, "faces");
    draw_faces(f, img, log, user);
    emit_section(log, user, POSE_OP_END, "faces");
    return ANIM_OK;
}

anim_status pose_render(const pose_frame *f, anim_image *out, anim_error *err) {
    if (!out) return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_render: out is NULL");
    memset(out, 0, sizeof *out);
    if (!f) return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_render: frame is NULL");
    anim_status st = check_frame(f, err);
    if (st != ANIM_OK) return st;
    st = anim_image_alloc(out, f->width, f->height, err);
    if (st != ANIM_OK) return st;
    memset(out->rgb, 0, (size_t)out->w * (size_t)out->h * 3);   /* np.zeros((H, W, 3), uint8) */
    st = pose_draw(f, out, NULL, NULL, err);
    if (st != ANIM_OK) anim_image_free(out);
    return st;
}

anim_status pose_render_file_ex(const char *path, unsigned flags, anim_image *out, anim_error *err) {
    if (out) memset(out, 0, sizeof *out);
    pose_frame f;
    anim_status st = pose_json_read(path, flags, &f, err);
    if (st != ANIM_OK) return st;
    st = pose_render(&f, out, err);
    if (st != ANIM_OK) anim_err_prefix(err, "%s", path);
    pose_frame_free(&f);
    return st;
}

anim_status pose_render_file(const char *path, anim_image *out, anim_error *err) {
    return pose_render_file_ex(path, 0, out, err);
}
