/*
 * fuzz_pose_json.c - libFuzzer harness for OpenPose keypoint JSON
 * (lib/pose/pose_json.c, through pose_json_parse_ex, which pose_json_read
 * runs on a file's bytes) and the skeleton renderer it feeds
 * (lib/pose/render.c + draw.c, pose_render), as pose_render_file_ex does.
 *
 * Built and run by `make fuzz` / `make fuzz-build` (see tests/fuzz/README.md):
 *   ./build-fuzz/fuzz_pose_json -max_len=16384 build-fuzz/corpus/pose_json tests/fuzz/corpus_pose_json
 *
 * Every input is parsed twice: Moore's one-best-person mode (flags 0) and
 * POSE_PARSE_ALL_PEOPLE; both results are rendered.
 *
 * Render cap: canvases over FUZZ_POSE_MAX_AREA pixels (2048 x 2048) are
 * parsed and checked but not rendered. The parser accepts up to 16384 x 16384
 * (805 MB of RGB8); allocating and clearing that on every exec would make the
 * fuzzer crawl or hit the RSS limit. Wide or tall canvases within the area
 * (16384 x 256, ...) are rendered, and coordinates far outside the canvas
 * (up to POSE_VALUE_MAX) are drawn and clipped whatever the canvas size.
 *
 * Seeds (tests/fuzz/corpus_pose_json): the pose-render fixture inputs
 * (the tests/fixtures/pose-render JSONs and the 720x1080 quirk files), plus
 * hand-made ones from tools/make_fuzz_seeds.py: BODY_25 and 70-point faces,
 * nulls and empty arrays, several people, negative and huge coordinates,
 * confidences at the 0.3 thresholds, and malformed files.
 *
 * Checks: on failure an empty frame and a message naming the input; on
 * success a canvas of 1..POSE_CANVAS_MAX, people counts and the selected
 * index consistent with the flag, subset entries -1 or 18n+j, finite
 * coordinates, absent hand/face points exactly [-1, -1]; pose_render never
 * refuses a parsed frame and gives a picture of the canvas size; a file
 * with one person renders the same in both modes.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "pose/pose_json.h"
#include "pose/render.h"

#define NAME "fuzz_pose.json"
#define FUZZ_POSE_MAX_AREA (2048 * 2048)

static void check_points(const double (*p)[2], int n) {
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(isfinite(p[i][0]) && isfinite(p[i][1]));
        /* absent = [-1, -1]; a present point may also be -1 (x = -W), so
         * only the pair's consistency with the flag is not checkable here */
    }
}

static void check_frame(const pose_frame *f, unsigned flags) {
    FUZZ_CHECK(f->width >= 1 && f->width <= POSE_CANVAS_MAX && f->height >= 1 && f->height <= POSE_CANVAS_MAX);
    FUZZ_CHECK(f->people_in_file >= 0);
    if (flags & POSE_PARSE_ALL_PEOPLE) {
        FUZZ_CHECK(f->n_people == f->people_in_file && f->selected == -1);
    } else {
        FUZZ_CHECK(f->n_people == (f->people_in_file > 0));
        FUZZ_CHECK(f->n_people ? (f->selected >= 0 && f->selected < f->people_in_file) : f->selected == -1);
    }
    if (f->n_people == 0) return;
    FUZZ_CHECK(f->candidate && f->subset && f->hands && f->faces);
    for (int n = 0; n < f->n_people; n++) {
        for (int j = 0; j < POSE_BODY_POINTS; j++) {
            FUZZ_CHECK(f->subset[n][j] == -1 || f->subset[n][j] == POSE_BODY_POINTS * n + j);
            FUZZ_CHECK(isfinite(f->candidate[POSE_BODY_POINTS * n + j][0]) &&
                       isfinite(f->candidate[POSE_BODY_POINTS * n + j][1]));
        }
        check_points((const double (*)[2])f->hands[2 * n], POSE_HAND_POINTS);
        check_points((const double (*)[2])f->hands[2 * n + 1], POSE_HAND_POINTS);
        check_points((const double (*)[2])f->faces[n], POSE_FACE_POINTS);
    }
}

/* Render f when its canvas is within the cap; returns the picture (or an
 * empty one when skipped). */
static anim_image render(const pose_frame *f) {
    anim_image img = {0};
    if ((int64_t)f->width * f->height > FUZZ_POSE_MAX_AREA) return img;
    anim_error err = {0};
    anim_status st = pose_render(f, &img, &err);
    if (st != ANIM_OK) fprintf(stderr, "pose_render refused a parsed frame: %s\n", err.msg);
    FUZZ_CHECK(st == ANIM_OK);
    FUZZ_CHECK(img.w == f->width && img.h == f->height && img.rgb != NULL);
    return img;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pose_frame fr[2];
    anim_image img[2] = {{0}, {0}};
    static const unsigned flags[2] = {0, POSE_PARSE_ALL_PEOPLE};
    anim_status st[2];
    for (int k = 0; k < 2; k++) {
        anim_error err = {0};
        st[k] = pose_json_parse_ex((const char *)data, size, NAME, flags[k], &fr[k], &err);
        if (st[k] != ANIM_OK) {
            FUZZ_CHECK(fr[k].n_people == 0 && fr[k].candidate == NULL && fr[k].width == 0);
            fuzz_check_error(st[k], &err, NAME);
            continue;
        }
        check_frame(&fr[k], flags[k]);
        img[k] = render(&fr[k]);
    }
    /* the flag changes which people are kept, never whether the file is valid */
    FUZZ_CHECK(st[0] == st[1]);
    if (st[0] == ANIM_OK && fr[0].people_in_file == 1 && img[0].rgb)
        FUZZ_CHECK(memcmp(img[0].rgb, img[1].rgb, (size_t)img[0].w * (size_t)img[0].h * 3) == 0);
    for (int k = 0; k < 2; k++) {
        anim_image_free(&img[k]);
        if (st[k] == ANIM_OK) pose_frame_free(&fr[k]);
    }
    return 0;
}
