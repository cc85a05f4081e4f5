/*
 * render_poses.c - OpenPose keypoint JSON files -> DWPose skeleton pictures,
 * drawn exactly as Moore-AnimateAnyone's draw_pose draws them.
 *
 *   build/render_poses [--all-people] IN_DIR OUT_DIR
 *
 * Every NAME.json in IN_DIR holding a top-level "people" array becomes
 * OUT_DIR/NAME.png (canvas_width x canvas_height, RGB). Other files, and JSON
 * files without "people", are skipped. A .json file that is not valid JSON,
 * or a pose file with a bad field, stops the run with a one-line message
 * naming the file (and the field) and exit status 1. The result is the input
 * of the pose2vid example (--poses OUT_DIR).
 * The PNGs are marked in their metadata as algorithmic renderings (IPTC
 * "algorithmicMedia"), not as AI-generated pictures.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "animate.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: render_poses [--all-people] IN_DIR OUT_DIR\n"
            "\n"
            "Draw every OpenPose keypoint file IN_DIR/NAME.json (a JSON object with a \"people\"\n"
            "array; canvas_width and canvas_height required) as OUT_DIR/NAME.png, the DWPose\n"
            "skeleton picture Moore-AnimateAnyone's draw_pose makes from it. OUT_DIR is created\n"
            "if missing. Other files are skipped; a malformed pose file stops the run.\n"
            "\n"
            "options:\n"
            "  --all-people   draw every person (default: only the one with the highest mean\n"
            "                 body confidence, as Moore-AnimateAnyone does)\n"
            "  -h, --help     this help\n");
}

/* mkdir -p */
static int make_dirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        buf[i] = c;
    }
    struct stat sb;
    return (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) ? 0 : -1;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool ends_with_json(const char *s) {
    size_t n = strlen(s);
    return n > 5 && strcmp(s + n - 5, ".json") == 0;
}

int main(int argc, char **argv) {
    const char *in_dir = NULL, *out_dir = NULL;
    bool all_people = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--all-people")) all_people = true;
        else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "render_poses: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!in_dir) in_dir = a;
        else if (!out_dir) out_dir = a;
        else {
            fprintf(stderr, "render_poses: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!in_dir || !out_dir) {
        usage(stderr);
        return 2;
    }

    /* the .json names, sorted so that runs (and the first error) are repeatable */
    DIR *d = opendir(in_dir);
    if (!d) {
        fprintf(stderr, "render_poses: %s: cannot open directory: %s\n", in_dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!ends_with_json(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **t = realloc(names, cap * sizeof *t);
            if (!t) { fprintf(stderr, "render_poses: out of memory\n"); closedir(d); return 1; }
            names = t;
        }
        if (!(names[n] = strdup(e->d_name))) { fprintf(stderr, "render_poses: out of memory\n"); closedir(d); return 1; }
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);

    int rc = 0, rendered = 0, skipped = 0;
    anim_ctx_params cp;
    anim_ctx_params_default(&cp);
    cp.backend = ANIM_BACKEND_CPU; /* drawing needs no accelerator */
    cp.log_level = ANIM_LOG_ERROR;
    anim_ctx *ctx = NULL;
    anim_write_params wp;
    anim_write_params_default(&wp);
    wp.not_ai = true;
    wp.settings = "render_poses: OpenPose keypoints drawn as Moore-AnimateAnyone's DWPose draw_pose";
    if (anim_ctx_create(&cp, &ctx) != ANIM_OK) {
        fprintf(stderr, "render_poses: could not create a context\n");
        rc = 1;
    } else if (make_dirs(out_dir) != 0) {
        fprintf(stderr, "render_poses: %s: cannot create directory: %s\n", out_dir, strerror(errno));
        rc = 1;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        char in_path[4096], out_path[4096];
        int l1 = snprintf(in_path, sizeof in_path, "%s/%s", in_dir, names[i]);
        size_t stem = strlen(names[i]) - 5;
        int l2 = snprintf(out_path, sizeof out_path, "%s/%.*s.png", out_dir, (int)stem, names[i]);
        if (l1 < 0 || l2 < 0 || (size_t)l1 >= sizeof in_path || (size_t)l2 >= sizeof out_path) {
            fprintf(stderr, "render_poses: %s/%s: path too long\n", in_dir, names[i]);
            rc = 1;
            break;
        }
        anim_file_kind kind = anim_file_kind_of(in_path);
        if (kind != ANIM_FILE_POSE_JSON && kind != ANIM_FILE_BROKEN_JSON) { skipped++; continue; }
        /* a broken .json goes through the renderer too: its parse error names the file and the fault */
        anim_picture pic = {0};
        if (anim_pose_json_render(ctx, in_path, all_people, &pic) != ANIM_OK ||
            anim_picture_write(ctx, &pic, out_path, &wp) != ANIM_OK) {
            fprintf(stderr, "render_poses: %s\n", anim_ctx_last_error(ctx));
            rc = 1;
        } else {
            rendered++;
        }
        anim_picture_free(&pic);
    }
    anim_ctx_free(ctx);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (rc == 0)
        printf("rendered %d pose file%s from %s into %s (%d other .json file%s skipped)\n", rendered,
               rendered == 1 ? "" : "s", in_dir, out_dir, skipped, skipped == 1 ? "" : "s");
    return rc;
}
