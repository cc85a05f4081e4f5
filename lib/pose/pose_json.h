/*
 * pose_json.h - OpenPose-format keypoint JSON -> upstream draw_pose's input.
 *
 * Input: one frame per file, as written by OpenPose and ControlNet pose
 * editors (tests/fixtures/pose-render/FIXTURE.md, "Input format"):
 *   {"canvas_width": W, "canvas_height": H,
 *    "people": [{"pose_keypoints_2d": [x,y,c]*18 (or *25, OpenPose BODY_25),
 *                "hand_left_keypoints_2d": [x,y,c]*21, "hand_right_keypoints_2d": [x,y,c]*21,
 *                "face_keypoints_2d": [x,y,c]*68 (or *70)}, ...]}
 * Coordinates are canvas pixels. A missing key, null or [] means that part is
 * absent; other keys are ignored. Validation is strict and every message
 * names the file and the field ("pose_003.json: people[0].hand_left_keypoints_2d
 * has 60 values; 63 expected").
 *
 * Output (pose_frame): exactly what Moore-AnimateAnyone's
 * DWposeDetector.__call__ hands to draw_pose (src/dwpose/__init__.py @ a914ef3):
 * coordinates normalised by x / W, y / H in double (draw_pose multiplies them
 * back, which moves some integers by one pixel: kept on purpose), body points
 * present iff c > 0.3, hand/face points iff c >= 0.3 (absent -> [-1, -1]), and
 * only the person with the highest numpy mean of the 18 body confidences
 * (first on ties). POSE_PARSE_ALL_PEOPLE keeps everyone instead (not what
 * Moore does; ControlNet-style).
 */
#ifndef ANIM_POSE_POSE_JSON_H
#define ANIM_POSE_POSE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define POSE_BODY_POINTS 18
#define POSE_HAND_POINTS 21
#define POSE_FACE_POINTS 68
#define POSE_CANVAS_MAX 16384            /* = ANIM_IMAGE_MAX_DIM */
#define POSE_VALUE_MAX 1e6               /* |x|, |y|, |c| accepted in keypoint arrays */
#define POSE_JSON_MAX_BYTES ((size_t)8 << 20)

/* pose_json_parse_ex flags */
#define POSE_PARSE_ALL_PEOPLE 1u

/* draw_pose's input. Person n owns candidate rows 18n..18n+17, subset[n],
 * hands[2n] (left) and hands[2n+1] (right), faces[n]. */
typedef struct pose_frame {
    int width, height;          /* canvas_width, canvas_height */
    int n_people;               /* people handed to draw_pose: 0 or 1 (all with POSE_PARSE_ALL_PEOPLE) */
    int people_in_file;
    int selected;               /* file index of the person kept; -1 when none, or all are kept */
    double (*candidate)[2];     /* [18 n][x / W, y / H], absent points keep their coordinates */
    int (*subset)[POSE_BODY_POINTS];              /* [n][j] = 18 n + j if present, else -1 */
    double (*hands)[POSE_HAND_POINTS][2];         /* [2 n]; absent point = [-1, -1] */
    double (*faces)[POSE_FACE_POINTS][2];         /* [n]; absent point = [-1, -1] */
} pose_frame;

/* Parse buf[0..len) (name is used in messages only). On failure *out is
 * zeroed and err holds "name: what is wrong, where". */
anim_status pose_json_parse(const char *buf, size_t len, const char *name, pose_frame *out, anim_error *err);
anim_status pose_json_parse_ex(const char *buf, size_t len, const char *name, unsigned flags,
                               pose_frame *out, anim_error *err);

/* Read (at most POSE_JSON_MAX_BYTES) and parse the file at path; messages
 * start with the path. */
anim_status pose_json_read(const char *path, unsigned flags, pose_frame *out, anim_error *err);

/* What a file is, for picking the pose files out of a directory:
 *   POSE_FILE_POSE   a JSON object with a top-level "people" array;
 *   POSE_FILE_OTHER  valid JSON without it, or not a regular file, or over
 *                    POSE_JSON_MAX_BYTES (nothing to report);
 *   POSE_FILE_BROKEN unreadable or not valid JSON: err says why, naming the
 *                    path (a truncated pose file must not be skipped silently).
 * Only the JSON syntax and the "people" key are checked here. */
typedef enum pose_file_kind {
    POSE_FILE_BROKEN = -1,
    POSE_FILE_OTHER = 0,
    POSE_FILE_POSE = 1
} pose_file_kind;
pose_file_kind pose_json_classify(const char *path, anim_error *err);

/* True when pose_json_classify(path) is POSE_FILE_POSE; files that do not
 * start with '{' are rejected after reading a few bytes. Never fails. */
bool pose_json_probe(const char *path);

/* Free the arrays and zero *f; NULL is a no-op. */
void pose_frame_free(pose_frame *f);

#endif
