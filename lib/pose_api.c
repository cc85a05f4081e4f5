/* pose_api.c - the public keypoint-JSON functions over lib/pose (parse + DWPose drawing). */
#include <string.h>
#include <strings.h>

#include "animate.h"
#include "io/image.h"
#include "pose/pose_json.h"
#include "pose/render.h"

anim_status anim__ctx_result(anim_ctx *ctx, const anim_error *e);

anim_file_kind anim_file_kind_of(const char *path) {
    if (!path) return ANIM_FILE_OTHER;
    if (anim_is_picture(path)) return ANIM_FILE_PICTURE;
    anim_error e;
    switch (pose_json_classify(path, &e)) {
    case POSE_FILE_POSE: return ANIM_FILE_POSE_JSON;
    case POSE_FILE_BROKEN: {
        /* only a file named *.json is a broken pose file; any other unparsable file is just not ours */
        size_t n = strlen(path);
        return n >= 5 && strcasecmp(path + n - 5, ".json") == 0 ? ANIM_FILE_BROKEN_JSON : ANIM_FILE_OTHER;
    }
    default: return ANIM_FILE_OTHER;
    }
}

anim_status anim_pose_json_render(anim_ctx *ctx, const char *path, bool all_people, anim_picture *out) {
    if (!ctx || !out) return ANIM_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    anim_error e;
    anim_err_clear(&e);
    anim_image img = {0};
    if (!path) anim_seterr(&e, ANIM_E_INVALID_ARG, "pose file path is NULL");
    else if (pose_render_file_ex(path, all_people ? POSE_PARSE_ALL_PEOPLE : 0, &img, &e) == ANIM_OK) {
        out->width = img.w;
        out->height = img.h;
        out->rgb = img.rgb;
    }
    return anim__ctx_result(ctx, &e);
}
