/*
 * test_pose_render.c - OpenPose JSON -> DWPose skeleton pictures (lib/pose),
 * against tests/fixtures/pose-render (drawn by upstream Moore-AnimateAnyone
 * draw_pose on OpenCV 4.6; see its FIXTURE.md).
 *
 * 1. Pixels: every fixture frame (pose_000..007, quirk-720x1080/pose_000..001,
 *    extra/pose_003_all_people with POSE_PARSE_ALL_PEOPLE) rendered from its
 *    JSON equals the expected PNG byte for byte.
 * 2. Mapping: the parsed draw_pose input (candidate, subset, hands, faces)
 *    equals pose_NNN.drawpose.json exactly (doubles compared with ==).
 * 3. Calls: the renderer's own call log equals upstream's recorded cv2 calls
 *    (pose_NNN.trace.json) op by op: sections, ellipse centre/axes/angle and
 *    every polygon point, fill colours, the dim, circle centres/radii/colours,
 *    line ends/colours (the recorded float colour through saturate_cast), and
 *    each limb's mean/length/angle doubles before truncation.
 * 4. Primitives on their own: every recorded call replayed through
 *    lib/pose/draw.c (ellipse2Poly compared with the recorded polygon, the
 *    recorded polygon filled) reproduces the PNG.
 * 5. Bad input: each error class gives its message naming the file and the
 *    field; empty people is black; BODY_25 maps onto OpenPose-18; person
 *    choice (first on ties); a deterministic mutation loop (truncations,
 *    byte flips, digit edits) never crashes (run under SAN=1 for leaks).
 * 6. build/render_poses on a scratch directory: only pose files rendered,
 *    identical to the fixture PNGs; a malformed file stops it with one line
 *    naming the file and a non-zero exit.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/image.h"
#include "io/json.h"
#include "pose/draw.h"
#include "pose/pose_json.h"
#include "pose/render.h"
#include "test.h"

#define PFIX "tests/fixtures/pose-render/"

static const char *const frames[] = {
    "pose_000", "pose_001", "pose_002", "pose_003", "pose_004", "pose_005", "pose_006", "pose_007",
    "quirk-720x1080/pose_000", "quirk-720x1080/pose_001",
};
#define N_FRAMES (sizeof frames / sizeof frames[0])

/* ---- helpers ---------------------------------------------------------------- */

static const char *fix(const char *stem, const char *ext) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], PFIX "%s%s", stem, ext);
    return buf[k];
}

/* Count differing pixels; print the count and the first few. */
static bool same_pixels(const char *what, const anim_image *got, const anim_image *want) {
    if (got->w != want->w || got->h != want->h) {
        printf("    %s: size %dx%d, expected %dx%d\n", what, got->w, got->h, want->w, want->h);
        return false;
    }
    size_t bad = 0;
    for (int y = 0; y < got->h; y++)
        for (int x = 0; x < got->w; x++) {
            const uint8_t *g = got->rgb + ((size_t)y * got->w + x) * 3, *w = want->rgb + ((size_t)y * got->w + x) * 3;
            if (memcmp(g, w, 3) == 0) continue;
            if (bad < 8)
                printf("    %s: pixel (x %d, y %d) = %d,%d,%d, expected %d,%d,%d\n", what, x, y, g[0], g[1], g[2],
                       w[0], w[1], w[2]);
            bad++;
        }
    if (bad) printf("    %s: %zu of %d pixels differ\n", what, bad, got->w * got->h);
    return bad == 0;
}

static int jint(const json_value *v) { return v && v->type == JSON_NUMBER ? (int)v->num : -999999; }
static const json_value *jat(const json_value *a, size_t i) {
    return a && a->type == JSON_ARRAY && i < a->len ? &a->items[i] : NULL;
}
static double jnum(const json_value *v) { return v && v->type == JSON_NUMBER ? v->num : NAN; }

static const char *png_of(const char *stem) { return fix(stem, ".png"); }

/* ---- 1. pixels ------------------------------------------------------------------ */

static bool render_matches(const char *json_path, unsigned flags, const char *png_path) {
    anim_error err;
    anim_image got = {0}, want = {0};
    anim_status st = pose_render_file_ex(json_path, flags, &got, &err);
    if (st != ANIM_OK) { printf("    %s: %s\n", json_path, err.msg); return false; }
    st = anim_image_read(png_path, &want, &err);
    if (st != ANIM_OK) { printf("    %s: %s\n", png_path, err.msg); anim_image_free(&got); return false; }
    bool ok = same_pixels(json_path, &got, &want);
    anim_image_free(&got);
    anim_image_free(&want);
    return ok;
}

TEST(pose_render_every_fixture_frame_pixel_exact) {
#ifndef ANIM_WITH_PNG
    SKIP("built without libpng: cannot decode the expected PNGs");
#endif
    int bad = 0;
    for (size_t i = 0; i < N_FRAMES; i++) bad += !render_matches(fix(frames[i], ".json"), 0, png_of(frames[i]));
    CHECK_MSG(bad == 0, "%d of %zu frames differ from upstream", bad, N_FRAMES);
}

TEST(pose_render_all_people_option_pixel_exact) {
#ifndef ANIM_WITH_PNG
    SKIP("built without libpng: cannot decode the expected PNGs");
#endif
    CHECK(render_matches(PFIX "pose_003.json", POSE_PARSE_ALL_PEOPLE, PFIX "extra/pose_003_all_people.png"));
    /* and the default draws only people[1] (mean 0.773 beats 0.328) */
    CHECK(render_matches(PFIX "pose_003.json", 0, PFIX "pose_003.png"));
}

/* ---- 2. mapping ------------------------------------------------------------------ */

/* Compare the parsed frame with a drawpose.json; prints the first mismatch. */
static bool mapping_matches(const char *json_path, unsigned flags, const char *drawpose_path) {
    anim_error err;
    pose_frame f;
    if (pose_json_read(json_path, flags, &f, &err) != ANIM_OK) { printf("    %s\n", err.msg); return false; }
    json_value *d = json_parse_file(drawpose_path, NULL, &err);
    if (!d) { printf("    %s\n", err.msg); pose_frame_free(&f); return false; }
    bool ok = true;
    const json_value *cand = json_get(d, "candidate"), *sub = json_get(d, "subset");
    const json_value *hands = json_get(d, "hands"), *faces = json_get(d, "faces");
    if (jint(json_get(d, "W")) != f.width || jint(json_get(d, "H")) != f.height || !cand || !sub || !hands ||
        !faces || sub->len != (size_t)f.n_people || cand->len != (size_t)f.n_people * 18 ||
        hands->len != (size_t)f.n_people * 2 || faces->len != (size_t)f.n_people) {
        printf("    %s: shape differs (W %d H %d people %d)\n", json_path, f.width, f.height, f.n_people);
        ok = false;
    }
    for (size_t r = 0; ok && r < (size_t)f.n_people * 18; r++)
        for (int c = 0; c < 2; c++)
            if (jnum(jat(jat(cand, r), c)) != f.candidate[r][c]) {
                printf("    %s: candidate[%zu][%d] = %.17g, expected %.17g\n", json_path, r, c, f.candidate[r][c],
                       jnum(jat(jat(cand, r), c)));
                ok = false;
            }
    for (int n = 0; ok && n < f.n_people; n++)
        for (int j = 0; j < 18; j++)
            if (jnum(jat(jat(sub, n), j)) != (double)f.subset[n][j]) {
                printf("    %s: subset[%d][%d] = %d, expected %g\n", json_path, n, j, f.subset[n][j],
                       jnum(jat(jat(sub, n), j)));
                ok = false;
            }
    for (int h = 0; ok && h < 2 * f.n_people; h++)
        for (int i = 0; i < 21; i++)
            for (int c = 0; c < 2; c++)
                if (jnum(jat(jat(jat(hands, h), i), c)) != f.hands[h][i][c]) {
                    printf("    %s: hands[%d][%d][%d] = %.17g, expected %.17g\n", json_path, h, i, c,
                           f.hands[h][i][c], jnum(jat(jat(jat(hands, h), i), c)));
                    ok = false;
                }
    for (int n = 0; ok && n < f.n_people; n++)
        for (int i = 0; i < 68; i++)
            for (int c = 0; c < 2; c++)
                if (jnum(jat(jat(jat(faces, n), i), c)) != f.faces[n][i][c]) {
                    printf("    %s: faces[%d][%d][%d] = %.17g, expected %.17g\n", json_path, n, i, c,
                           f.faces[n][i][c], jnum(jat(jat(jat(faces, n), i), c)));
                    ok = false;
                }
    json_free(d);
    pose_frame_free(&f);
    return ok;
}

TEST(pose_render_mapping_equals_drawpose_input) {
    int bad = 0;
    for (size_t i = 0; i < N_FRAMES; i++)
        bad += !mapping_matches(fix(frames[i], ".json"), 0, fix(frames[i], ".drawpose.json"));
    bad += !mapping_matches(PFIX "pose_003.json", POSE_PARSE_ALL_PEOPLE, PFIX "extra/pose_003_all_people.drawpose.json");
    CHECK_MSG(bad == 0, "%d mappings differ", bad);
}

TEST(pose_render_person_choice_matches_manifest) {
    /* the manifest's selected_person and people_in_file for every frame */
    anim_error err;
    json_value *m = json_parse_file(PFIX "manifest.json", NULL, &err);
    CHECK_MSG(m, "%s", err.msg);
    const json_value *fr = json_get(m, "frames");
    int checked = 0, bad = 0;
    for (size_t i = 0; fr && i < fr->len; i++) {
        const char *js = json_get_str(&fr->items[i], "json", NULL);
        const json_value *canvas = json_get(&fr->items[i], "canvas");
        if (!js || !canvas) continue;
        char path[512];
        snprintf(path, sizeof path, PFIX "%s", js);
        /* mode "all": the extra/ drawing of everyone, selected_person null */
        const unsigned flags = strcmp(json_get_str(&fr->items[i], "mode", ""), "all") == 0 ? POSE_PARSE_ALL_PEOPLE : 0;
        pose_frame f;
        if (pose_json_read(path, flags, &f, &err) != ANIM_OK) { printf("    %s\n", err.msg); bad++; continue; }
        const json_value *sel = json_get(&fr->items[i], "selected_person");
        const int want_sel = (sel && sel->type == JSON_NUMBER) ? (int)sel->num : -1;
        const int want_n = (int)json_get_num(&fr->items[i], "people_in_file", -1);
        if (f.selected != want_sel || f.people_in_file != want_n || f.width != jint(jat(canvas, 0)) ||
            f.height != jint(jat(canvas, 1))) {
            printf("    %s: selected %d of %d, expected %d of %d\n", path, f.selected, f.people_in_file, want_sel,
                   want_n);
            bad++;
        }
        checked++;
        pose_frame_free(&f);
    }
    json_free(m);
    CHECK_MSG(checked == 11, "only %d manifest frames checked", checked);
    CHECK(bad == 0);
}

/* ---- 3. the renderer's calls against upstream's recorded calls ----------- */

typedef struct rec_op {
    pose_op op;
    pose_pt *pts;   /* own copy for ELLIPSE */
} rec_op;

typedef struct rec_log {
    rec_op *ops;
    size_t n, cap;
    bool oom;
} rec_log;

static void record(const pose_op *op, void *user) {
    rec_log *l = user;
    if (l->oom) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        rec_op *t = realloc(l->ops, cap * sizeof *t);
        if (!t) { l->oom = true; return; }
        l->ops = t;
        l->cap = cap;
    }
    rec_op *r = &l->ops[l->n++];
    r->op = *op;
    r->pts = NULL;
    if (op->kind == POSE_OP_ELLIPSE) {
        r->pts = malloc((size_t)op->npts * sizeof *r->pts);
        if (!r->pts) { l->oom = true; return; }
        memcpy(r->pts, op->pts, (size_t)op->npts * sizeof *r->pts);
    }
    r->op.pts = r->pts;
}

static void rec_free(rec_log *l) {
    for (size_t i = 0; i < l->n; i++) free(l->ops[i].pts);
    free(l->ops);
    memset(l, 0, sizeof *l);
}

static bool rgb_eq(const uint8_t *rgb, const json_value *c) {
    return jint(jat(c, 0)) == rgb[0] && jint(jat(c, 1)) == rgb[1] && jint(jat(c, 2)) == rgb[2];
}

static const char *kind_name(pose_op_kind k) {
    static const char *const names[] = {"begin", "end", "ellipse2Poly", "fillConvexPoly", "scale_0.6_truncate",
                                        "circle", "line"};
    return names[k];
}

/* One op of ours against one recorded op; prints why not. */
static bool op_matches(const char *what, size_t i, const rec_op *r, const json_value *t) {
    const char *op = json_get_str(t, "op", "");
    const pose_op *o = &r->op;
    if (strcmp(op, kind_name(o->kind)) != 0) {
        printf("    %s op %zu: ours is %s, upstream %s\n", what, i, kind_name(o->kind), op);
        return false;
    }
    bool ok = true;
    switch (o->kind) {
    case POSE_OP_BEGIN:
    case POSE_OP_END: ok = strcmp(o->section, json_get_str(t, "section", "")) == 0; break;
    case POSE_OP_ELLIPSE: {
        const json_value *c = json_get(t, "center"), *ax = json_get(t, "axes"), *pts = json_get(t, "points");
        ok = jint(jat(c, 0)) == o->cx && jint(jat(c, 1)) == o->cy && jint(jat(ax, 0)) == o->a &&
             jint(jat(ax, 1)) == o->b && jint(json_get(t, "angle")) == o->angle && pts &&
             pts->len == (size_t)o->npts;
        for (int k = 0; ok && k < o->npts; k++)
            ok = jint(jat(jat(pts, k), 0)) == o->pts[k].x && jint(jat(jat(pts, k), 1)) == o->pts[k].y;
        if (!ok)
            printf("    %s op %zu: ellipse2Poly((%d,%d),(%d,%d),%d) -> %d points differs from upstream\n", what, i,
                   o->cx, o->cy, o->a, o->b, o->angle, o->npts);
        return ok;
    }
    case POSE_OP_FILL:
        ok = jint(json_get(t, "npts")) == o->npts && rgb_eq(o->rgb, json_get(t, "color"));
        break;
    case POSE_OP_DIM: break;
    case POSE_OP_CIRCLE: {
        const json_value *c = json_get(t, "center");
        ok = jint(jat(c, 0)) == o->cx && jint(jat(c, 1)) == o->cy && jint(json_get(t, "radius")) == o->radius &&
             rgb_eq(o->rgb, json_get(t, "color")) && jint(json_get(t, "thickness")) == -1;
        break;
    }
    case POSE_OP_LINE: {
        const json_value *p1 = json_get(t, "p1"), *p2 = json_get(t, "p2"), *cf = json_get(t, "color_float");
        ok = jint(jat(p1, 0)) == o->x1 && jint(jat(p1, 1)) == o->y1 && jint(jat(p2, 0)) == o->x2 &&
             jint(jat(p2, 1)) == o->y2 && jint(json_get(t, "thickness")) == o->thickness;
        /* upstream passed hsv_to_rgb(..) * 255 as floats: OpenCV rounds them */
        for (int k = 0; ok && k < 3; k++) ok = pose_saturate_u8(jnum(jat(cf, (size_t)k))) == o->rgb[k];
        break;
    }
    }
    if (!ok) printf("    %s op %zu (%s) differs from upstream\n", what, i, op);
    return ok;
}

static bool calls_match(const char *json_path, unsigned flags, const char *trace_path) {
    anim_error err;
    pose_frame f;
    if (pose_json_read(json_path, flags, &f, &err) != ANIM_OK) { printf("    %s\n", err.msg); return false; }
    json_value *t = json_parse_file(trace_path, NULL, &err);
    if (!t) { printf("    %s\n", err.msg); pose_frame_free(&f); return false; }
    anim_image img = {0};
    rec_log log = {0};
    bool ok = anim_image_alloc(&img, f.width, f.height, &err) == ANIM_OK;
    if (ok) {
        memset(img.rgb, 0, (size_t)img.w * img.h * 3);
        ok = pose_draw(&f, &img, record, &log, &err) == ANIM_OK && !log.oom;
    }
    const json_value *ops = json_get(t, "ops"), *limbs = json_get(t, "limb_floats_recomputed");
    if (ok && (!ops || ops->len != log.n)) {
        printf("    %s: %zu calls, upstream made %zu\n", json_path, log.n, ops ? ops->len : 0);
        ok = false;
    }
    size_t limb = 0;
    for (size_t i = 0; ok && i < log.n; i++) {
        ok = op_matches(json_path, i, &log.ops[i], &ops->items[i]);
        const pose_op *o = &log.ops[i].op;
        if (ok && o->kind == POSE_OP_ELLIPSE) {
            /* the doubles before truncation, exactly */
            const json_value *l = jat(limbs, limb++);
            ok = l && jint(json_get(l, "limb")) == o->limb && jint(json_get(l, "person")) == o->person &&
                 jnum(json_get(l, "mean_x")) == o->mean_x && jnum(json_get(l, "mean_y")) == o->mean_y &&
                 jnum(json_get(l, "length")) == o->length && jnum(json_get(l, "angle")) == o->angle_deg;
            if (!ok)
                printf("    %s: limb %d doubles %.17g %.17g %.17g %.17g differ from upstream\n", json_path, o->limb,
                       o->mean_x, o->mean_y, o->length, o->angle_deg);
        }
    }
    if (ok && limbs && limb != limbs->len) {
        printf("    %s: %zu limbs, upstream %zu\n", json_path, limb, limbs->len);
        ok = false;
    }
    rec_free(&log);
    anim_image_free(&img);
    json_free(t);
    pose_frame_free(&f);
    return ok;
}

TEST(pose_render_calls_equal_upstream_trace) {
    int bad = 0;
    for (size_t i = 0; i < N_FRAMES; i++)
        bad += !calls_match(fix(frames[i], ".json"), 0, fix(frames[i], ".trace.json"));
    bad += !calls_match(PFIX "pose_003.json", POSE_PARSE_ALL_PEOPLE, PFIX "extra/pose_003_all_people.trace.json");
    CHECK_MSG(bad == 0, "%d frames make other calls than upstream", bad);
}

/* ---- 4. primitives on their own: replay the recorded calls ---------------- */

/* Replays trace_path onto a black canvas; counts polygons that differ. */
static bool replay_matches(const char *trace_path, const char *png_path, int *polys) {
    anim_error err;
    json_value *t = json_parse_file(trace_path, NULL, &err);
    if (!t) { printf("    %s\n", err.msg); return false; }
    anim_image img = {0}, want = {0};
    bool ok = anim_image_alloc(&img, jint(json_get(t, "W")), jint(json_get(t, "H")), &err) == ANIM_OK;
    if (ok) memset(img.rgb, 0, (size_t)img.w * img.h * 3);
    const json_value *ops = json_get(t, "ops");
    const json_value *last_poly = NULL;
    pose_pt mine[POSE_ELLIPSE_MAX_PTS];
    for (size_t i = 0; ok && ops && i < ops->len; i++) {
        const json_value *o = &ops->items[i];
        const char *op = json_get_str(o, "op", "");
        if (!strcmp(op, "ellipse2Poly")) {
            const json_value *c = json_get(o, "center"), *ax = json_get(o, "axes"), *arc = json_get(o, "arc");
            if (jint(jat(arc, 0)) != 0 || jint(jat(arc, 1)) != 360 || jint(json_get(o, "delta")) != 1) {
                printf("    %s op %zu: an arc other than 0..360 step 1\n", trace_path, i);
                ok = false;
                break;
            }
            const int n = pose_ellipse2poly(jint(jat(c, 0)), jint(jat(c, 1)), jint(jat(ax, 0)), jint(jat(ax, 1)),
                                            jint(json_get(o, "angle")), mine);
            last_poly = json_get(o, "points");
            bool same = last_poly && last_poly->len == (size_t)n;
            for (int k = 0; same && k < n; k++)
                same = jint(jat(jat(last_poly, k), 0)) == mine[k].x && jint(jat(jat(last_poly, k), 1)) == mine[k].y;
            if (!same) {
                printf("    %s op %zu: ellipse2Poly((%d,%d),(%d,%d),%d): %d points, upstream %zu or other values\n",
                       trace_path, i, jint(jat(c, 0)), jint(jat(c, 1)), jint(jat(ax, 0)), jint(jat(ax, 1)),
                       jint(json_get(o, "angle")), n, last_poly ? last_poly->len : 0);
                ok = false;
            }
            (*polys)++;
        } else if (!strcmp(op, "fillConvexPoly")) {
            /* fill the polygon upstream got, not ours: each primitive alone */
            if (!last_poly || (int)last_poly->len != jint(json_get(o, "npts"))) { ok = false; break; }
            pose_pt *p = malloc(last_poly->len * sizeof *p);
            if (!p) { ok = false; break; }
            for (size_t k = 0; k < last_poly->len; k++) {
                p[k].x = jint(jat(jat(last_poly, k), 0));
                p[k].y = jint(jat(jat(last_poly, k), 1));
            }
            const json_value *c = json_get(o, "color");
            const uint8_t rgb[3] = {(uint8_t)jint(jat(c, 0)), (uint8_t)jint(jat(c, 1)), (uint8_t)jint(jat(c, 2))};
            pose_fill_convex_poly(&img, p, (int)last_poly->len, rgb);
            free(p);
        } else if (!strcmp(op, "scale_0.6_truncate")) {
            for (size_t k = 0; k < (size_t)img.w * img.h * 3; k++) img.rgb[k] = (uint8_t)(img.rgb[k] * 0.6);
        } else if (!strcmp(op, "circle")) {
            const json_value *c = json_get(o, "center"), *col = json_get(o, "color");
            const uint8_t rgb[3] = {(uint8_t)jint(jat(col, 0)), (uint8_t)jint(jat(col, 1)), (uint8_t)jint(jat(col, 2))};
            if (jint(json_get(o, "thickness")) != -1) { ok = false; break; }
            pose_circle_filled(&img, jint(jat(c, 0)), jint(jat(c, 1)), jint(json_get(o, "radius")), rgb);
        } else if (!strcmp(op, "line")) {
            const json_value *p1 = json_get(o, "p1"), *p2 = json_get(o, "p2"), *cf = json_get(o, "color_float");
            const uint8_t rgb[3] = {pose_saturate_u8(jnum(jat(cf, 0))), pose_saturate_u8(jnum(jat(cf, 1))),
                                    pose_saturate_u8(jnum(jat(cf, 2)))};
            pose_line(&img, jint(jat(p1, 0)), jint(jat(p1, 1)), jint(jat(p2, 0)), jint(jat(p2, 1)),
                      jint(json_get(o, "thickness")), rgb);
        } else if (strcmp(op, "begin") != 0 && strcmp(op, "end") != 0) {
            printf("    %s op %zu: unknown op '%s'\n", trace_path, i, op);
            ok = false;
        }
    }
    if (ok) {
        ok = anim_image_read(png_path, &want, &err) == ANIM_OK;
        if (!ok) printf("    %s\n", err.msg);
        else ok = same_pixels(trace_path, &img, &want);
    }
    anim_image_free(&img);
    anim_image_free(&want);
    json_free(t);
    return ok;
}

TEST(pose_render_primitives_replay_upstream_calls) {
#ifndef ANIM_WITH_PNG
    SKIP("built without libpng: cannot decode the expected PNGs");
#endif
    int bad = 0, polys = 0;
    for (size_t i = 0; i < N_FRAMES; i++) bad += !replay_matches(fix(frames[i], ".trace.json"), png_of(frames[i]), &polys);
    bad += !replay_matches(PFIX "extra/pose_003_all_people.trace.json", PFIX "extra/pose_003_all_people.png", &polys);
    CHECK_MSG(bad == 0, "%d replays differ", bad);
    CHECK_MSG(polys > 100, "only %d polygons checked", polys);
}

TEST(pose_render_primitive_shapes) {
    /* the circle masks of FIXTURE.md: half-widths per row, and clipping */
    anim_image img = {0};
    anim_error err;
    CHECK_OK(anim_image_alloc(&img, 20, 20, &err), &err);
    static const int r4[9] = {0, 2, 3, 3, 4, 3, 3, 2, 0}, r3[7] = {0, 2, 2, 3, 2, 2, 0}, r1[3] = {0, 1, 0};
    const struct { int r; const int *hw; } cases[3] = {{4, r4}, {3, r3}, {1, r1}};
    const uint8_t white[3] = {255, 255, 255};
    for (int c = 0; c < 3; c++) {
        memset(img.rgb, 0, 20 * 20 * 3);
        pose_circle_filled(&img, 10, 10, cases[c].r, white);
        int total = 0, want_total = 0;
        for (int dy = -cases[c].r; dy <= cases[c].r; dy++) {
            const int hw = cases[c].hw[dy + cases[c].r];
            want_total += 2 * hw + 1;
            for (int x = 0; x < 20; x++) {
                const bool on = img.rgb[((10 + dy) * 20 + x) * 3] == 255;
                CHECK_MSG(on == (x >= 10 - hw && x <= 10 + hw), "r %d row %d x %d", cases[c].r, dy, x);
            }
        }
        for (size_t k = 0; k < 20 * 20; k++) total += img.rgb[k * 3] == 255;
        CHECK_MSG(total == want_total, "r %d: %d pixels, want %d", cases[c].r, total, want_total);
    }
    /* clipped at a corner: the pixels inside are kept (r 4 at (-2, 1)) */
    memset(img.rgb, 0, 20 * 20 * 3);
    pose_circle_filled(&img, -2, 1, 4, white);
    int inside = 0;
    for (size_t k = 0; k < 20 * 20; k++) inside += img.rgb[k * 3] == 255;
    /* rows dy = -1..4 (y 0..5) with x = -2 + [-hw, hw] clipped at 0: hw 3,4,3,3,2,0 -> 2,3,2,2,1,0 */
    CHECK_MSG(inside == 10, "clipped circle covers %d pixels", inside);
    /* a far-off convex polygon and line draw nothing and do not hang */
    const pose_pt far[3] = {{-900000, -900000}, {-899000, 900000}, {-898000, -900000}};
    pose_fill_convex_poly(&img, far, 3, white);
    pose_line(&img, -900000, 5, -800000, 7, 2, white);
    int after = 0;
    for (size_t k = 0; k < 20 * 20; k++) after += img.rgb[k * 3] == 255;
    CHECK(after == inside);
    /* a polygon spanning far above the canvas fills the visible rows */
    const pose_pt tall[4] = {{2, -800000}, {5, -800000}, {5, 10}, {2, 10}};
    memset(img.rgb, 0, 20 * 20 * 3);
    pose_fill_convex_poly(&img, tall, 4, white);
    int filled = 0;
    for (size_t k = 0; k < 20 * 20; k++) filled += img.rgb[k * 3] == 255;
    CHECK_MSG(filled == 4 * 11, "tall polygon filled %d pixels", filled);
    /* saturate_cast: half to even, clamp */
    CHECK(pose_saturate_u8(229.49999999999997) == 229 && pose_saturate_u8(229.50000000000009) == 230);
    CHECK(pose_saturate_u8(127.5) == 128 && pose_saturate_u8(128.5) == 128 && pose_saturate_u8(-3) == 0);
    CHECK(pose_saturate_u8(300) == 255 && pose_saturate_u8(NAN) == 0);
    /* ellipse2Poly of a zero-size ellipse: [centre, centre] */
    pose_pt pts[POSE_ELLIPSE_MAX_PTS];
    CHECK(pose_ellipse2poly(7, 9, 0, 0, 33, pts) == 2 && pts[0].x == 7 && pts[1].y == 9);
    anim_image_free(&img);
}

/* ---- 5. input validation -------------------------------------------------- */

/* "[v,v,...]" with n copies */
static void repeat_values(char *dst, size_t cap, const char *v, int n) {
    size_t o = 0;
    o += (size_t)snprintf(dst + o, cap - o, "[");
    for (int i = 0; i < n && o < cap; i++) o += (size_t)snprintf(dst + o, cap - o, "%s%s", i ? "," : "", v);
    if (o < cap) snprintf(dst + o, cap - o, "]");
}

static anim_status parse_str(const char *s, const char *name, pose_frame *f, anim_error *err) {
    anim_err_clear(err);
    return pose_json_parse(s, strlen(s), name, f, err);
}

TEST(pose_render_malformed_inputs_named_errors) {
    char body[4096], hand60[4096], hand63[4096], face205[8192];
    repeat_values(body, sizeof body, "1", 54);
    repeat_values(hand60, sizeof hand60, "1", 60);
    repeat_values(hand63, sizeof hand63, "1", 63);
    repeat_values(face205, sizeof face205, "1", 205);
    struct { const char *doc; const char *want[2]; } cases[32];
    int n = 0;
    static char bufs[32][9000];
#define ADD(want0, want1, ...)                                             \
    do {                                                                   \
        snprintf(bufs[n], sizeof bufs[n], __VA_ARGS__);                    \
        cases[n].doc = bufs[n];                                            \
        cases[n].want[0] = want0;                                          \
        cases[n].want[1] = want1;                                          \
        n++;                                                               \
    } while (0)
#define HDR "{\"canvas_width\":512,\"canvas_height\":768,"
    ADD("pose_003.json: people[0].hand_left_keypoints_2d has 60 values; 63 expected", NULL,
        HDR "\"people\":[{\"pose_keypoints_2d\":%s,\"hand_left_keypoints_2d\":%s}]}", body, hand60);
    ADD("pose_003.json: people[1].face_keypoints_2d has 205 values; 204 or 210 expected", NULL,
        HDR "\"people\":[{},{\"face_keypoints_2d\":%s}]}", face205);
    ADD("people[0].pose_keypoints_2d has 3 values; 54 (or 75 for BODY_25) expected", NULL,
        HDR "\"people\":[{\"pose_keypoints_2d\":[1,2,3]}]}");
    ADD("people[0].hand_right_keypoints_2d[4] is a string; a number expected", NULL,
        HDR "\"people\":[{\"hand_right_keypoints_2d\":[1,1,1,1,\"1\",%s}]}", hand63 + 11);
    ADD("people[0].hand_right_keypoints_2d[0] is null; a number expected", NULL,
        HDR "\"people\":[{\"hand_right_keypoints_2d\":[null,%s}]}", hand63 + 3);
    ADD("people[0].pose_keypoints_2d is a string; an array of numbers expected", NULL,
        HDR "\"people\":[{\"pose_keypoints_2d\":\"0 0 0\"}]}");
    ADD("people[0].pose_keypoints_2d[1] = 1e+07 is out of range", NULL,
        HDR "\"people\":[{\"pose_keypoints_2d\":[1,1e7,%s}]}", body + 5);
    ADD("pose_003.json: line 1", "NaN", HDR "\"people\":[{\"pose_keypoints_2d\":[NaN,%s}]}", body + 3);
    ADD("pose_003.json: line 1", NULL, HDR "\"people\":[{\"pose_keypoints_2d\":[Infinity,%s}]}", body + 3);
    ADD("pose_003.json: line 1", NULL, HDR "\"people\":[{\"pose_keypoints_2d\":[1e400,%s}]}", body + 3);
    ADD("pose_003.json: canvas_width missing", NULL, "{\"canvas_height\":768,\"people\":[]}");
    ADD("pose_003.json: canvas_height missing", NULL, "{\"canvas_width\":768,\"people\":[]}");
    ADD("canvas_width = -512; an integer 1..16384 expected", NULL, "{\"canvas_width\":-512,\"canvas_height\":768,\"people\":[]}");
    ADD("canvas_height = 0; an integer 1..16384 expected", NULL, "{\"canvas_width\":512,\"canvas_height\":0,\"people\":[]}");
    ADD("canvas_width = 100000; an integer", NULL, "{\"canvas_width\":100000,\"canvas_height\":768,\"people\":[]}");
    ADD("canvas_width = 512.5; an integer", NULL, "{\"canvas_width\":512.5,\"canvas_height\":768,\"people\":[]}");
    ADD("canvas_width is a string; an integer", NULL, "{\"canvas_width\":\"512\",\"canvas_height\":768,\"people\":[]}");
    ADD("pose_003.json: people[0] is a number; an object expected", NULL, HDR "\"people\":[1]}");
    ADD("pose_003.json: people[1] is an array; an object expected", NULL, HDR "\"people\":[{},[]]}");
    ADD("pose_003.json: people missing", NULL, "{\"canvas_width\":512,\"canvas_height\":768}");
    ADD("pose_003.json: people is an object; an array expected", NULL, HDR "\"people\":{}}");
    ADD("pose_003.json: the top-level value is an array; a JSON object expected", NULL, "[1,2]");
    ADD("pose_003.json: line 1", NULL, HDR "\"people\":[{\"pose_keypoints_2d\":[1,2,3,]}]}");
    ADD("pose_003.json: ", NULL, "%s", "");
#undef HDR
#undef ADD
    for (int i = 0; i < n; i++) {
        pose_frame f;
        anim_error err;
        anim_status st = parse_str(cases[i].doc, "pose_003.json", &f, &err);
        CHECK_MSG(st == ANIM_E_FORMAT, "case %d: status %d (%s) for %.120s", i, st, err.msg, cases[i].doc);
        CHECK_MSG(strncmp(err.msg, "pose_003.json: ", 15) == 0, "case %d: message \"%s\"", i, err.msg);
        CHECK_CONTAINS(err.msg, cases[i].want[0]);
        if (cases[i].want[1]) CHECK_CONTAINS(err.msg, cases[i].want[1]);
        CHECK(f.n_people == 0 && f.candidate == NULL);   /* zeroed on failure */
        pose_frame_free(&f);
    }
    /* the file variant names the path; a missing file and a directory fail cleanly */
    anim_image img;
    anim_error err;
    CHECK_STATUS(pose_render_file(PFIX "no_such_pose.json", &img, &err), ANIM_E_IO, &err);
    CHECK_CONTAINS(err.msg, "no_such_pose.json");
    CHECK(img.rgb == NULL);
    CHECK_STATUS(pose_render_file(PFIX "extra", &img, &err), ANIM_E_IO, &err);
    CHECK_CONTAINS(err.msg, "not a regular file");
    /* a bad field in a file: "path: people[0]..." */
    char path[512];
    snprintf(path, sizeof path, "%s/pose_bad_field.json", test_tmp_dir());
    snprintf(bufs[0], sizeof bufs[0], "{\"canvas_width\":64,\"canvas_height\":64,\"people\":[{\"hand_left_keypoints_2d\":%s}]}", hand60);
    CHECK(test_write_file(path, bufs[0], strlen(bufs[0])));
    CHECK_STATUS(pose_render_file(path, &img, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.msg, "people[0].hand_left_keypoints_2d has 60 values; 63 expected");
    /* probe / classify */
    CHECK(pose_json_probe(PFIX "pose_004.json"));
    CHECK(pose_json_probe(path));                       /* has "people": a pose file, if a bad one */
    CHECK(!pose_json_probe(PFIX "manifest.json"));      /* JSON without people */
    CHECK(!pose_json_probe(PFIX "pose_000.png"));
    CHECK(!pose_json_probe(PFIX "FIXTURE.md"));
    CHECK(!pose_json_probe(PFIX "extra"));
    CHECK(!pose_json_probe(PFIX "nope.json"));
    snprintf(path, sizeof path, "%s/pose_truncated.json", test_tmp_dir());
    CHECK(test_write_file(path, "{\"people\": [", 12));
    CHECK(!pose_json_probe(path));
    anim_err_clear(&err);
    CHECK(pose_json_classify(path, &err) == POSE_FILE_BROKEN);
    CHECK_CONTAINS(err.msg, path);
    CHECK(pose_json_classify(PFIX "manifest.json", &err) == POSE_FILE_OTHER);
    CHECK(pose_json_classify(PFIX "pose_000.json", &err) == POSE_FILE_POSE);
}

TEST(pose_render_absent_parts_and_empty_people) {
    /* absent: missing key, null, []; empty people -> black at the canvas size */
    const char *docs[] = {
        "{\"canvas_width\":7,\"canvas_height\":5,\"people\":[]}",
        "{\"canvas_width\":7,\"canvas_height\":5,\"people\":[{}]}",
        "{\"canvas_width\":7,\"canvas_height\":5,\"people\":[{\"pose_keypoints_2d\":null,"
        "\"hand_left_keypoints_2d\":[],\"face_keypoints_2d\":null,\"person_id\":[-1]}],\"version\":1.3}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        pose_frame f;
        anim_error err;
        CHECK_OK(parse_str(docs[i], "empty.json", &f, &err), &err);
        CHECK(f.width == 7 && f.height == 5 && f.people_in_file == (i ? 1 : 0));
        anim_image img;
        CHECK_OK(pose_render(&f, &img, &err), &err);
        CHECK(img.w == 7 && img.h == 5);
        for (size_t k = 0; k < 7 * 5 * 3; k++) CHECK(img.rgb[k] == 0);
        anim_image_free(&img);
        pose_frame_free(&f);
    }
    pose_frame_free(NULL);
    /* a hand-made frame with a NaN is refused by the renderer */
    double cand[18][2] = {{0}};
    int subset[1][18];
    double hands[2][21][2] = {{{0}}}, faces[1][68][2] = {{{0}}};
    for (int j = 0; j < 18; j++) subset[0][j] = j;
    cand[3][1] = NAN;
    pose_frame f = {.width = 16, .height = 16, .n_people = 1, .candidate = cand, .subset = subset,
                    .hands = hands, .faces = faces};
    anim_image img;
    anim_error err;
    CHECK_STATUS(pose_render(&f, &img, &err), ANIM_E_INVALID_ARG, &err);
    cand[3][1] = 0.5;
    subset[0][4] = 18;
    CHECK_STATUS(pose_render(&f, &img, &err), ANIM_E_INVALID_ARG, &err);
    subset[0][4] = 4;
    CHECK_OK(pose_render(&f, &img, &err), &err);
    anim_image_free(&img);
}

/* Build JSON text for one person whose body is given as BODY_25 */
TEST(pose_render_body25_maps_to_openpose18) {
#ifndef ANIM_WITH_PNG
    SKIP("built without libpng");
#endif
    anim_error err;
    json_value *src = json_parse_file(PFIX "pose_000.json", NULL, &err);
    CHECK_MSG(src, "%s", err.msg);
    const json_value *p0 = jat(json_get(src, "people"), 0);
    const json_value *body = json_get(p0, "pose_keypoints_2d");
    CHECK(body && body->len == 54);
    size_t cap = 1 << 16, o = 0;
    char *doc = malloc(cap);
    CHECK(doc);
    o += (size_t)snprintf(doc + o, cap - o, "{\"canvas_width\":512,\"canvas_height\":768,\"people\":[{\"pose_keypoints_2d\":[");
    /* BODY_25: 0..7 as OpenPose-18, MidHip at 8, 9..18 = OpenPose-18 8..17, feet 19..24 */
    for (int k = 0; k < 25; k++) {
        double x = 250, y = 400, c = 0.9;   /* MidHip and feet: confident, must be dropped */
        if (k <= 7 || (k >= 9 && k <= 18)) {
            const int j = k <= 7 ? k : k - 1;
            x = body->items[j * 3].num;
            y = body->items[j * 3 + 1].num;
            c = body->items[j * 3 + 2].num;
        }
        o += (size_t)snprintf(doc + o, cap - o, "%s%.17g,%.17g,%.17g", k ? "," : "", x, y, c);
    }
    o += (size_t)snprintf(doc + o, cap - o, "]");
    static const char *const parts[] = {"hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d"};
    for (int p = 0; p < 3; p++) {
        const json_value *a = json_get(p0, parts[p]);
        o += (size_t)snprintf(doc + o, cap - o, ",\"%s\":[", parts[p]);
        for (size_t k = 0; a && k < a->len; k++) o += (size_t)snprintf(doc + o, cap - o, "%s%.17g", k ? "," : "", a->items[k].num);
        o += (size_t)snprintf(doc + o, cap - o, "]");
    }
    snprintf(doc + o, cap - o, "}]}");
    json_free(src);
    char path[512];
    snprintf(path, sizeof path, "%s/pose_body25.json", test_tmp_dir());
    bool wrote = test_write_file(path, doc, strlen(doc));
    free(doc);
    CHECK(wrote);
    CHECK(mapping_matches(path, 0, PFIX "pose_000.drawpose.json"));
    CHECK(render_matches(path, 0, PFIX "pose_000.png"));
}

TEST(pose_render_person_choice_first_on_ties) {
    char body_a[2048], body_b[2048], doc[8192];
    repeat_values(body_a, sizeof body_a, "100", 54);   /* every c = 100 */
    repeat_values(body_b, sizeof body_b, "200", 54);   /* x = y = c = 200 */
    pose_frame f;
    anim_error err;
    snprintf(doc, sizeof doc, "{\"canvas_width\":512,\"canvas_height\":768,\"people\":[{\"pose_keypoints_2d\":%s},{\"pose_keypoints_2d\":%s}]}", body_a, body_a);
    CHECK_OK(parse_str(doc, "tie.json", &f, &err), &err);
    CHECK(f.selected == 0 && f.n_people == 1);
    pose_frame_free(&f);
    snprintf(doc, sizeof doc, "{\"canvas_width\":512,\"canvas_height\":768,\"people\":[{},{\"pose_keypoints_2d\":%s},{\"pose_keypoints_2d\":%s}]}", body_a, body_b);
    CHECK_OK(parse_str(doc, "tie.json", &f, &err), &err);
    CHECK(f.selected == 2 && f.people_in_file == 3);
    CHECK(f.candidate[0][0] == 200.0 / 512 && f.subset[0][17] == 17);
    pose_frame_free(&f);
    CHECK_OK(pose_json_parse_ex(doc, strlen(doc), "tie.json", POSE_PARSE_ALL_PEOPLE, &f, &err), &err);
    CHECK(f.selected == -1 && f.n_people == 3 && f.subset[0][0] == -1 && f.subset[2][5] == 41);
    pose_frame_free(&f);
}

TEST(pose_render_mutation_loop_never_crashes) {
    size_t len = 0;
    unsigned char *base = test_read_file(PFIX "pose_001.json", &len);
    CHECK(base);
    unsigned char *buf = malloc(len + 16);
    if (!buf) { free(base); CHECK(buf); }
    test_rng rng;
    test_rng_seed(&rng, 20240607);
    int parsed = 0, rendered = 0, failed_bad_msg = 0;
    static const char digits[] = "0123456789-.eE";
    for (int it = 0; it < 3000; it++) {
        memcpy(buf, base, len);
        size_t n = len;
        const int kind = (int)(test_rng_u64(&rng) % 4);
        const int edits = 1 + (int)(test_rng_u64(&rng) % 3);
        for (int e = 0; e < edits; e++) {
            const size_t at = (size_t)(test_rng_u64(&rng) % n);
            if (kind == 0) n = at;                                              /* truncate */
            else if (kind == 1) buf[at] = (unsigned char)test_rng_u64(&rng);    /* any byte */
            else if (kind == 2) {                                               /* digit edit */
                if ((buf[at] >= '0' && buf[at] <= '9') || buf[at] == '.' || buf[at] == '-')
                    buf[at] = (unsigned char)digits[test_rng_u64(&rng) % (sizeof digits - 1)];
            } else {                                                            /* delete a byte */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
            }
            if (n == 0) break;
        }
        pose_frame f;
        anim_error err;
        anim_err_clear(&err);
        anim_status st = pose_json_parse_ex((const char *)buf, n, "mut.json", (unsigned)(it & 1), &f, &err);
        if (st == ANIM_OK) {
            parsed++;
            anim_image img;
            /* rendering every third success keeps the loop quick under ASan */
            if (it % 3 == 0) {
                if (pose_render(&f, &img, &err) == ANIM_OK) rendered++;
                anim_image_free(&img);
            }
            pose_frame_free(&f);
        } else if (strncmp(err.msg, "mut.json: ", 10) != 0) {
            if (failed_bad_msg++ < 3) printf("    message without the name: %s\n", err.msg);
        }
    }
    free(buf);
    free(base);
    printf("    %d of 3000 mutants parsed, %d rendered\n", parsed, rendered);
    CHECK(failed_bad_msg == 0);
    CHECK(parsed > 100 && rendered > 20);
}

/* ---- 6. the render_poses example ---------------------------------------------- */

/* build/render_poses next to this runner (build-san/tests/run_tests ->
 * build-san/render_poses), else build/render_poses. */
static const char *example_path(void) {
    static char p[1100];
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *s = strrchr(exe, '/');
        if (s) { *s = 0; s = strrchr(exe, '/'); }
        if (s) {
            *s = 0;
            snprintf(p, sizeof p, "%s/render_poses", exe);
            if (access(p, X_OK) == 0) return p;
        }
    }
    snprintf(p, sizeof p, "build/render_poses");
    return access(p, X_OK) == 0 ? p : NULL;
}

static int run_cmd(const char *cmd, char *out, size_t len) {
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *f = popen(full, "r");
    if (!f) return -1;
    size_t n = fread(out, 1, len - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

TEST(pose_render_example_binary) {
#ifndef ANIM_WITH_PNG
    SKIP("built without libpng: render_poses cannot write PNGs");
#endif
    const char *bin = example_path();
    if (!bin) SKIP("render_poses not built");
    char in[512], out_dir[512], cmd[4096], out[8192];
    snprintf(in, sizeof in, "%s/render_poses_in", test_tmp_dir());
    snprintf(out_dir, sizeof out_dir, "%s/render_poses_out/a/b", test_tmp_dir());
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s' '%s/render_poses_out' && mkdir -p '%s' && cp " PFIX "pose_000.json " PFIX
             "pose_006.json '%s/' && echo '{\"canvas_width\": 4, \"frames\": []}' > '%s/other.json' && "
             "echo 'not json at all' > '%s/notes.txt'",
             in, test_tmp_dir(), in, in, in, in);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s --help", bin);
    CHECK(run_cmd(cmd, out, sizeof out) == 0);
    CHECK_CONTAINS(out, "usage: render_poses");
    snprintf(cmd, sizeof cmd, "%s '%s' '%s'", bin, in, out_dir);
    int rc = run_cmd(cmd, out, sizeof out);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "rendered 2 pose files");
    CHECK_MSG(count_entries(out_dir) == 2, "%d files in %s", count_entries(out_dir), out_dir);
    const char *stems[2] = {"pose_000", "pose_006"};
    for (int i = 0; i < 2; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s.png", out_dir, stems[i]);
        anim_image got, want;
        anim_error err;
        CHECK_OK(anim_image_read(p, &got, &err), &err);
        CHECK_OK(anim_image_read(png_of(stems[i]), &want, &err), &err);
        bool same = same_pixels(p, &got, &want);
        anim_image_free(&got);
        anim_image_free(&want);
        CHECK(same);
    }
    /* a bad field: one line naming the file and the field, exit != 0 */
    snprintf(cmd, sizeof cmd,
             "printf '{\"canvas_width\":64,\"canvas_height\":64,\"people\":[{\"pose_keypoints_2d\":[1,2,3]}]}' > '%s/pose_zz_bad.json'",
             in);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s '%s' '%s'", bin, in, out_dir);
    rc = run_cmd(cmd, out, sizeof out);
    CHECK_MSG(rc != 0, "exit 0 on a malformed file: %s", out);
    CHECK_CONTAINS(out, "pose_zz_bad.json: people[0].pose_keypoints_2d has 3 values");
    CHECK_MSG(strchr(out, '\n') == out + strlen(out) - 1, "not one line: %s", out);
    /* broken JSON syntax: not skipped, reported */
    snprintf(cmd, sizeof cmd, "rm '%s/pose_zz_bad.json' && printf '{\"people\": [' > '%s/pose_zz_cut.json'", in, in);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s '%s' '%s'", bin, in, out_dir);
    rc = run_cmd(cmd, out, sizeof out);
    CHECK_MSG(rc != 0, "exit 0 on a truncated file: %s", out);
    CHECK_CONTAINS(out, "pose_zz_cut.json");
    /* usage errors */
    snprintf(cmd, sizeof cmd, "%s '%s'", bin, in);
    CHECK(run_cmd(cmd, out, sizeof out) == 2);
}
