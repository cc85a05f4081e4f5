/*
 * pose_json.c - OpenPose keypoint JSON -> draw_pose's input (see pose_json.h).
 *
 * Reproduces Moore-AnimateAnyone's DWposeDetector.__call__
 * (src/dwpose/__init__.py @ a914ef3) from the keypoints on, as described in
 * tests/fixtures/pose-render/FIXTURE.md ("Mapping onto draw_pose's input"):
 *   candidate[..., 0] /= W; candidate[..., 1] /= H        (double division)
 *   max_ind = np.mean(score[:, :18], axis=-1).argmax()     (numpy's pairwise sum)
 *   subset: 18 i + j where score > 0.3, else -1            (body: strictly above)
 *   candidate[subset < 0.3] = -1                           (hands, face: absent below)
 * The body rows are copied before the -1 assignment, so absent body points
 * keep their coordinates; absent hand and face points become [-1, -1] and
 * fall off the canvas at draw time.
 *
 * The JSON tree comes from lib/io/json.c (strict RFC 8259, NaN/Infinity and
 * overflowing numbers rejected). Here every field is checked for type, length
 * and range before anything is allocated for the output.
 */
#include "pose/pose_json.h"
#include "util/file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/json.h"

#define POSE_PEOPLE_MAX 10000   /* keeps a hostile file from asking for gigabytes */

/* a keypoint array of one person, validated */
typedef struct kp_array {
    const json_value *v;   /* NULL when absent (missing, null or []) */
    int points;            /* triples in the file (18, 25, 21, 68 or 70) */
} kp_array;

typedef struct person_src {
    kp_array body, lhand, rhand, face;
} person_src;

static const char *type_name(const json_value *v) {
    switch (v->type) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "a boolean";
    case JSON_NUMBER: return "a number";
    case JSON_STRING: return "a string";
    case JSON_ARRAY: return "an array";
    case JSON_OBJECT: return "an object";
    }
    return "?";
}

/* people[pi].key: absent, or an array of numbers whose length is one of
 * points_ok[] triples, every value finite and within POSE_VALUE_MAX. */
static anim_status get_keypoints(const json_value *person, int pi, const char *key, const int *points_ok,
                                 int n_ok, const char *expected, const char *name, kp_array *out,
                                 anim_error *err) {
    out->v = NULL;
    out->points = 0;
    const json_value *a = json_get(person, key);
    if (!a || a->type == JSON_NULL) return ANIM_OK;
    if (a->type != JSON_ARRAY)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: people[%d].%s is %s; an array of numbers expected", name,
                           pi, key, type_name(a));
    if (a->len == 0) return ANIM_OK;
    int points = -1;
    for (int k = 0; k < n_ok; k++)
        if (a->len == (size_t)points_ok[k] * 3) points = points_ok[k];
    if (points < 0)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: people[%d].%s has %zu values; %s expected", name, pi, key,
                           a->len, expected);
    for (size_t i = 0; i < a->len; i++) {
        const json_value *x = &a->items[i];
        if (x->type != JSON_NUMBER)
            return anim_seterr(err, ANIM_E_FORMAT, "%s: people[%d].%s[%zu] is %s; a number expected", name, pi,
                               key, i, type_name(x));
        /* the parser never yields NaN/Inf; the bound keeps every pixel
         * coordinate and limb length well inside int range downstream */
        if (!(fabs(x->num) <= POSE_VALUE_MAX))
            return anim_seterr(err, ANIM_E_FORMAT, "%s: people[%d].%s[%zu] = %g is out of range (|value| <= %g)",
                               name, pi, key, i, x->num, POSE_VALUE_MAX);
    }
    out->v = a;
    out->points = points;
    return ANIM_OK;
}

/* canvas_width / canvas_height: an integer 1..POSE_CANVAS_MAX. */
static anim_status get_canvas_dim(const json_value *root, const char *key, const char *name, int *out,
                                  anim_error *err) {
    const json_value *v = json_get(root, key);
    if (!v)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: %s missing (the canvas size is required)", name, key);
    if (v->type != JSON_NUMBER)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: %s is %s; an integer 1..%d expected", name, key,
                           type_name(v), POSE_CANVAS_MAX);
    if (!(v->num >= 1 && v->num <= POSE_CANVAS_MAX && v->num == floor(v->num)))
        return anim_seterr(err, ANIM_E_FORMAT, "%s: %s = %g; an integer 1..%d expected", name, key, v->num,
                           POSE_CANVAS_MAX);
    *out = (int)v->num;
    return ANIM_OK;
}

/* OpenPose-18 index j -> index in the file's body array: identity for
 * OpenPose-18/COCO-18; for BODY_25, [0..7, 9..18] (MidHip 8 and the feet
 * 19..24 dropped). */
static int body_src_index(int points, int j) { return (points == 25 && j >= 8) ? j + 1 : j; }

static double kp(const kp_array *a, int point, int comp) { return a->v->items[point * 3 + comp].num; }

/* np.mean(score, axis=-1) for 18 confidences, bit for bit: numpy's pairwise
 * sum unrolls 8 accumulators over the first 16 values, combines them as a
 * tree, then adds the remaining two one at a time. A plain left-to-right sum
 * differs in the last bit often enough to flip near-ties. */
static double body_conf_mean(const kp_array *body) {
    double c[POSE_BODY_POINTS] = {0};
    if (body->v)
        for (int j = 0; j < POSE_BODY_POINTS; j++) c[j] = kp(body, body_src_index(body->points, j), 2);
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = c[j] + c[8 + j];
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    s += c[16];
    s += c[17];
    return s / 18.0;
}

/* hand or face points: [x / W, y / H] when c >= 0.3, else [-1, -1] */
static void map_points(const kp_array *a, int n, double W, double H, double (*out)[2]) {
    for (int i = 0; i < n; i++) {
        if (a->v && kp(a, i, 2) >= 0.3) {
            out[i][0] = kp(a, i, 0) / W;
            out[i][1] = kp(a, i, 1) / H;
        } else {
            out[i][0] = -1.0;
            out[i][1] = -1.0;
        }
    }
}

/* Fill person slot n of f from src. */
static void map_person(pose_frame *f, int n, const person_src *src) {
    const double W = f->width, H = f->height;
    for (int j = 0; j < POSE_BODY_POINTS; j++) {
        double *cand = f->candidate[POSE_BODY_POINTS * n + j];
        if (src->body.v) {
            const int s = body_src_index(src->body.points, j);
            cand[0] = kp(&src->body, s, 0) / W;
            cand[1] = kp(&src->body, s, 1) / H;
            /* body: strictly above 0.3 (c = 0.3 is absent; hands/face differ) */
            f->subset[n][j] = kp(&src->body, s, 2) > 0.3 ? POSE_BODY_POINTS * n + j : -1;
        } else {
            cand[0] = cand[1] = 0.0;   /* no body: 18 points 0,0,0 */
            f->subset[n][j] = -1;
        }
    }
    map_points(&src->lhand, POSE_HAND_POINTS, W, H, f->hands[2 * n]);
    map_points(&src->rhand, POSE_HAND_POINTS, W, H, f->hands[2 * n + 1]);
    /* a 70-point face: the pupils 68, 69 are dropped */
    map_points(&src->face, POSE_FACE_POINTS, W, H, f->faces[n]);
}

void pose_frame_free(pose_frame *f) {
    if (!f) return;
    free(f->candidate);
    free(f->subset);
    free(f->hands);
    free(f->faces);
    memset(f, 0, sizeof *f);
}

static anim_status from_json(const json_value *root, const char *name, unsigned flags, pose_frame *out,
                             anim_error *err) {
    if (root->type != JSON_OBJECT)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: the top-level value is %s; a JSON object expected", name,
                           type_name(root));
    int W = 0, H = 0;
    anim_status st = get_canvas_dim(root, "canvas_width", name, &W, err);
    if (st == ANIM_OK) st = get_canvas_dim(root, "canvas_height", name, &H, err);
    if (st != ANIM_OK) return st;
    const json_value *people = json_get(root, "people");
    if (!people)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: people missing (a top-level \"people\" array is required)",
                           name);
    if (people->type != JSON_ARRAY)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: people is %s; an array expected", name, type_name(people));
    if (people->len > POSE_PEOPLE_MAX)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: people has %zu entries; at most %d supported", name,
                           people->len, POSE_PEOPLE_MAX);
    const int np = (int)people->len;

    static const int body_ok[2] = {18, 25}, hand_ok[1] = {21}, face_ok[2] = {68, 70};
    person_src *src = np ? calloc((size_t)np, sizeof *src) : NULL;
    if (np && !src) return anim_seterr(err, ANIM_E_OOM, "%s: out of memory for %d people", name, np);
    /* validate everyone, then pick: a malformed person is an error even if
     * it would not be drawn */
    int best = -1;
    double best_mean = 0;
    for (int p = 0; p < np && st == ANIM_OK; p++) {
        const json_value *pv = &people->items[p];
        if (pv->type != JSON_OBJECT) {
            st = anim_seterr(err, ANIM_E_FORMAT, "%s: people[%d] is %s; an object expected", name, p,
                             type_name(pv));
            break;
        }
        st = get_keypoints(pv, p, "pose_keypoints_2d", body_ok, 2, "54 (or 75 for BODY_25)", name, &src[p].body,
                           err);
        if (st == ANIM_OK)
            st = get_keypoints(pv, p, "hand_left_keypoints_2d", hand_ok, 1, "63", name, &src[p].lhand, err);
        if (st == ANIM_OK)
            st = get_keypoints(pv, p, "hand_right_keypoints_2d", hand_ok, 1, "63", name, &src[p].rhand, err);
        if (st == ANIM_OK)
            st = get_keypoints(pv, p, "face_keypoints_2d", face_ok, 2, "204 or 210", name, &src[p].face, err);
        if (st != ANIM_OK) break;
        /* np.argmax: the first maximum wins, hence '>' */
        const double m = body_conf_mean(&src[p].body);
        if (best < 0 || m > best_mean) { best = p; best_mean = m; }
    }
    if (st != ANIM_OK) { free(src); return st; }

    pose_frame f = {0};
    f.width = W;
    f.height = H;
    f.people_in_file = np;
    const bool all = (flags & POSE_PARSE_ALL_PEOPLE) != 0;
    f.n_people = all ? np : (np > 0 ? 1 : 0);
    f.selected = all ? -1 : best;
    if (f.n_people > 0) {
        const size_t n = (size_t)f.n_people;
        f.candidate = malloc(n * POSE_BODY_POINTS * sizeof *f.candidate);
        f.subset = malloc(n * sizeof *f.subset);
        f.hands = malloc(2 * n * sizeof *f.hands);
        f.faces = malloc(n * sizeof *f.faces);
        if (!f.candidate || !f.subset || !f.hands || !f.faces) {
            pose_frame_free(&f);
            free(src);
            return anim_seterr(err, ANIM_E_OOM, "%s: out of memory for %d people", name, f.n_people);
        }
        if (all)
            for (int p = 0; p < np; p++) map_person(&f, p, &src[p]);
        else
            map_person(&f, 0, &src[best]);
    }
    free(src);
    *out = f;
    return ANIM_OK;
}

anim_status pose_json_parse_ex(const char *buf, size_t len, const char *name, unsigned flags, pose_frame *out,
                               anim_error *err) {
    if (!out) return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_json_parse: out is NULL");
    memset(out, 0, sizeof *out);
    if (!name) name = "pose JSON";
    if (!buf) return anim_seterr(err, ANIM_E_INVALID_ARG, "%s: no buffer", name);
    if (flags & ~POSE_PARSE_ALL_PEOPLE)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "%s: unknown parse flags 0x%x", name, flags);
    /* a pose file is flat: 4 levels; a small depth limit costs nothing */
    const json_limits lim = {.max_depth = 16, .max_string = 0, .max_elements = 0};
    json_value *root = json_parse(buf, len, &lim, err);
    if (!root) return anim_err_prefix(err, "%s", name);
    anim_status st = from_json(root, name, flags, out, err);
    json_free(root);
    return st;
}

anim_status pose_json_parse(const char *buf, size_t len, const char *name, pose_frame *out, anim_error *err) {
    return pose_json_parse_ex(buf, len, name, 0, out, err);
}


anim_status pose_json_read(const char *path, unsigned flags, pose_frame *out, anim_error *err) {
    if (out) memset(out, 0, sizeof *out);
    if (!path || !out) return anim_seterr(err, ANIM_E_INVALID_ARG, "pose_json_read: NULL argument");
    size_t len = 0;
    char *buf = anim_read_small_file(path, POSE_JSON_MAX_BYTES, "pose JSON files", &len, err);
    if (!buf) return err ? err->status : ANIM_E_IO;
    anim_status st = pose_json_parse_ex(buf, len, path, flags, out, err);
    free(buf);
    return st;
}

pose_file_kind pose_json_classify(const char *path, anim_error *err) {
    if (!path) return POSE_FILE_OTHER;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        anim_seterr(err, ANIM_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return POSE_FILE_BROKEN;
    }
    if (!S_ISREG(sb.st_mode) || (unsigned long long)sb.st_size > POSE_JSON_MAX_BYTES) return POSE_FILE_OTHER;
    size_t len = 0;
    char *buf = anim_read_small_file(path, POSE_JSON_MAX_BYTES, "pose JSON files", &len, err);
    if (!buf) return POSE_FILE_BROKEN;
    /* the parser's default limits: a deep but valid non-pose JSON is "other" */
    json_value *root = json_parse(buf, len, NULL, err);
    free(buf);
    if (!root) {
        anim_err_prefix(err, "%s", path);
        return POSE_FILE_BROKEN;
    }
    const json_value *people = json_get(root, "people");
    const bool pose = people && people->type == JSON_ARRAY;
    json_free(root);
    return pose ? POSE_FILE_POSE : POSE_FILE_OTHER;
}

bool pose_json_probe(const char *path) {
    if (!path) return false;
    /* cheap rejection of pictures, text and arrays before a full parse */
    FILE *fp = fopen(path, "rb");
    if (!fp) return false;
    int c;
    do c = fgetc(fp); while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    fclose(fp);
    return c == '{' && pose_json_classify(path, NULL) == POSE_FILE_POSE;
}
