/*
 * pose2vid.c - a reference photo + a pose sequence -> a video of that person
 * performing the poses (Moore-AnimateAnyone), through the public API only.
 *
 *   build/pose2vid --models DIR --ref REF.png --poses POSES [options] --out OUT
 *
 * See --help. Progress (one line per denoising step with window, elapsed
 * time and ETA) goes to stderr; --quiet silences it. Errors are one line on
 * stderr and a non-zero exit status.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "animate.h"
#include "cli.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: pose2vid --models DIR --ref REF.png --poses POSES --out OUT [options]\n"
            "\n"
            "Animate the person in REF through the pose pictures in POSES (Moore-AnimateAnyone).\n"
            "\n"
            "required:\n"
            "  --models DIR            model directory: libanimate's layout (as tests/fixtures/moore-tiny)\n"
            "                          or Moore-AnimateAnyone's pretrained_weights/ folder\n"
            "  --ref FILE              the reference picture (PNG)\n"
            "  --poses DIR             a directory of pose pictures (PNG, JPEG, WebP) or of OpenPose\n"
            "                          keypoint JSON files (drawn as upstream's DWPose renderer draws\n"
            "                          them), sorted by file name; other files are skipped\n"
            "  --out OUT               NAME.webp: animated WebP; anything else: a directory (created\n"
            "                          if missing) of frame_000.png, frame_001.png, ...\n"
            "options:\n"
            "  -W, --width N           output width (default 512)\n"
            "  -H, --height N          output height (default 784)\n"
            "  -L, --frames N          frames to make (default: one per pose picture)\n"
            "  --steps N               DDIM steps (default 30)\n"
            "  --cfg X                 classifier-free guidance scale (default 3.5)\n"
            "  --seed N                seed of the initial noise (default 42)\n"
            "  --context-frames N      frames per context window (default 24)\n"
            "  --context-overlap N     frames shared by neighbouring windows (default 4)\n"
            "  --noise FILE            initial latents instead of the seeded draw: a safetensors file\n"
            "                          with tensor 'latents' [1,4,F,H/8,W/8] (F32 or F16)\n"
            "  --save-latents FILE     write the final latents (tensor 'latents', F32) before decoding\n"
            "  --fps N                 frame rate of the WebP (default 30)\n"
            "  --quality N             WebP quality 0-100 (default 90)\n"
            "  --lossless              lossless WebP\n"
            "  --backend NAME          cpu, cuda or auto (default auto)\n"
            "  --threads N             CPU threads (default: all cores)\n"
            "  --quiet                 no progress output\n"
            "  -h, --help              this help\n");
}

/* ---- argument parsing ---- */



/* ---- progress ---- */


/* ---- pose directory ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* every pose file in dir (pictures, or keypoint JSON), sorted by name; returns
 * the count or -1. *json: the files are keypoint JSON. Mixing the two kinds,
 * or a *.json that is not valid JSON, is an error. */
static int list_poses(const char *dir, char ***out, int *json) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "pose2vid: --poses %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    int n = 0, cap = 0, n_pic = 0, n_json = 0, bad = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) break;
        snprintf(path, len, "%s/%s", dir, e->d_name);
        struct stat sb;
        anim_file_kind kind = ANIM_FILE_OTHER;
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) kind = anim_file_kind_of(path);
        /* a *.json that does not parse is listed with the keypoint files: drawing
         * it reports the parse error with its line and column */
        if (kind == ANIM_FILE_BROKEN_JSON) kind = ANIM_FILE_POSE_JSON;
        if (kind != ANIM_FILE_PICTURE && kind != ANIM_FILE_POSE_JSON) {
            free(path);
            continue;
        }
        n_pic += kind == ANIM_FILE_PICTURE;
        n_json += kind == ANIM_FILE_POSE_JSON;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) { free(path); break; }
            names = nn;
        }
        names[n++] = path;
    }
    closedir(d);
    if (!bad && n_pic && n_json) {
        fprintf(stderr, "pose2vid: --poses %s: holds both pictures (%d) and keypoint JSON files (%d); use one kind\n",
                dir, n_pic, n_json);
        bad = 1;
    }
    if (bad) {
        for (int i = 0; i < n; i++) free(names[i]);
        free(names);
        return -1;
    }
    if (n > 1) qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    *json = n_json > 0;
    return n;
}

int main(int argc, char **argv) {
    cli_prog = "pose2vid";
    const char *models = NULL, *ref_path = NULL, *poses_dir = NULL, *out_path = NULL;
    anim_ctx_params cp;
    anim_ctx_params_default(&cp);
    anim_pose_params pp;
    anim_pose_params_default(&pp);
    anim_write_params wp;
    anim_write_params_default(&wp);
    cli_progress ps = {0};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE() do { if (!v) { fprintf(stderr, "pose2vid: %s needs a value (see --help)\n", a); return 2; } i++; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--quiet")) ps.quiet = 1;
        else if (!strcmp(a, "--lossless")) wp.lossless = true;
        else if (!strcmp(a, "--models")) { NEED_VALUE(); models = v; }
        else if (!strcmp(a, "--ref")) { NEED_VALUE(); ref_path = v; }
        else if (!strcmp(a, "--poses")) { NEED_VALUE(); poses_dir = v; }
        else if (!strcmp(a, "--out")) { NEED_VALUE(); out_path = v; }
        else if (!strcmp(a, "-W") || !strcmp(a, "--width")) { NEED_VALUE(); if (!cli_int(a, v, 8, 16384, &pp.width)) return 2; }
        else if (!strcmp(a, "-H") || !strcmp(a, "--height")) { NEED_VALUE(); if (!cli_int(a, v, 8, 16384, &pp.height)) return 2; }
        else if (!strcmp(a, "-L") || !strcmp(a, "--frames")) { NEED_VALUE(); if (!cli_int(a, v, 1, 100000, &pp.frames)) return 2; }
        else if (!strcmp(a, "--steps")) { NEED_VALUE(); if (!cli_int(a, v, 1, 1000, &pp.steps)) return 2; }
        else if (!strcmp(a, "--context-frames")) { NEED_VALUE(); if (!cli_int(a, v, 1, 100000, &pp.context_frames)) return 2; }
        else if (!strcmp(a, "--context-overlap")) { NEED_VALUE(); if (!cli_int(a, v, 0, 100000, &pp.context_overlap)) return 2; }
        else if (!strcmp(a, "--fps")) { NEED_VALUE(); if (!cli_int(a, v, 1, 1000, &wp.fps)) return 2; }
        else if (!strcmp(a, "--quality")) { NEED_VALUE(); if (!cli_int(a, v, 0, 100, &wp.quality)) return 2; }
        else if (!strcmp(a, "--threads")) { NEED_VALUE(); if (!cli_int(a, v, 0, 4096, &cp.n_threads)) return 2; }
        else if (!strcmp(a, "--noise")) { NEED_VALUE(); pp.noise_file = v; }
        else if (!strcmp(a, "--save-latents")) { NEED_VALUE(); pp.save_latents_file = v; }
        else if (!strcmp(a, "--cfg")) {
            NEED_VALUE();
            if (!cli_float(a, v, 0, 100, &pp.guidance)) return 2;
        } else if (!strcmp(a, "--seed")) {
            NEED_VALUE();
            if (!cli_seed(a, v, &pp.seed)) return 2;
        } else if (!strcmp(a, "--backend")) {
            NEED_VALUE();
            if (!cli_backend(a, v, &cp.backend)) return 2;
        } else {
            fprintf(stderr, "pose2vid: unknown option '%s' (see --help)\n", a);
            return 2;
        }
#undef NEED_VALUE
    }
    if (!models || !ref_path || !poses_dir || !out_path) {
        fprintf(stderr, "pose2vid: --models, --ref, --poses and --out are required (see --help)\n");
        return 2;
    }
    {
        size_t ol = strlen(out_path);
        bool webp = ol >= 5 && !strcmp(out_path + ol - 5, ".webp");
        if (!cli_check_out("--out", out_path, !webp)) return 2;
        if (pp.save_latents_file && !cli_check_out("--save-latents", pp.save_latents_file, false)) return 2;
    }
    if (pp.context_overlap >= pp.context_frames) {
        fprintf(stderr, "pose2vid: --context-overlap %d must be smaller than --context-frames %d\n",
                pp.context_overlap, pp.context_frames);
        return 2;
    }

    char **names = NULL;
    int json = 0, n_names = list_poses(poses_dir, &names, &json);
    if (n_names < 0) return 1;
    if (n_names == 0) {
        fprintf(stderr, "pose2vid: --poses %s: no pose pictures or keypoint JSON files in the directory\n", poses_dir);
        free(names);
        return 1;
    }
    if (pp.frames > n_names) {
        fprintf(stderr, "pose2vid: -L %d frames asked for but %s holds only %d pose pictures\n", pp.frames,
                poses_dir, n_names);
        return 1;
    }
    int n_use = pp.frames ? pp.frames : n_names;

    cp.progress_cb = cli_on_progress;
    cp.progress_user = &ps;
    if (ps.quiet) cp.log_level = ANIM_LOG_ERROR;
    int rc = 1;
    anim_ctx *ctx = NULL;
    anim_picture ref = {0};
    anim_picture *poses = calloc((size_t)n_use, sizeof *poses);
    anim_video video = {0};
    if (!poses || anim_ctx_create(&cp, &ctx) != ANIM_OK) {
        fprintf(stderr, "pose2vid: could not create a context\n");
        goto done;
    }
    if (anim_picture_read(ctx, ref_path, &ref) != ANIM_OK) {
        fprintf(stderr, "pose2vid: %s\n", anim_ctx_last_error(ctx));
        goto done;
    }
    for (int i = 0; i < n_use; i++)
        if ((json ? anim_pose_json_render(ctx, names[i], false, &poses[i])
                  : anim_picture_read(ctx, names[i], &poses[i])) != ANIM_OK) {
            fprintf(stderr, "pose2vid: %s\n", anim_ctx_last_error(ctx));
            goto done;
        }
    if (anim_ctx_load_models(ctx, models) != ANIM_OK) {
        fprintf(stderr, "pose2vid: %s\n", anim_ctx_last_error(ctx));
        goto done;
    }
    if (!ps.quiet)
        fprintf(stderr, "pose2vid: %d frames at %dx%d, %d steps, cfg %.2f, %s backend\n", n_use, pp.width, pp.height,
                pp.steps, pp.guidance, anim_backend_name(anim_ctx_backend(ctx)));
    if (anim_pose2vid(ctx, &pp, &ref, poses, n_use, &video) != ANIM_OK) {
        fprintf(stderr, "pose2vid: %s\n", anim_ctx_last_error(ctx));
        goto done;
    }
    /* the generation settings go into the output's metadata */
    char settings[1024];
    snprintf(settings, sizeof settings,
             "libanimate pose2vid (Moore-AnimateAnyone): %dx%d, %d frames, %d DDIM steps, guidance %.2f, %s, "
             "context %d/%d, models %s",
             video.width, video.height, video.n_frames, pp.steps, pp.guidance, pp.noise_file ? "initial latents from file" : "seeded noise",
             pp.context_frames, pp.context_overlap, models);
    if (!pp.noise_file) {
        size_t l = strlen(settings);
        snprintf(settings + l, sizeof settings - l, ", seed %llu", (unsigned long long)pp.seed);
    }
    wp.settings = settings;
    if (anim_video_write(ctx, &video, out_path, &wp) != ANIM_OK) {
        fprintf(stderr, "pose2vid: %s\n", anim_ctx_last_error(ctx));
        goto done;
    }
    if (!ps.quiet) {
        anim_run_stats rs;
        if (anim_ctx_run_stats(ctx, &rs) == ANIM_OK)
        {
            struct rusage ru;
            double rss_mib = getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : 0.0; /* KiB on Linux */
            fprintf(stderr,
                    "pose2vid: %d frames in %.1f s (%.2f s per denoising step); peak activation memory %.1f MiB, "
                    "weights %.1f MiB, process peak RSS %.1f MiB\n",
                    video.n_frames, rs.seconds, rs.steps ? rs.seconds_denoise / rs.steps : 0.0,
                    (double)rs.peak_scratch_bytes / (1 << 20), (double)rs.weight_bytes / (1 << 20), rss_mib);
        }
        fprintf(stderr, "pose2vid: wrote %s\n", out_path);
    }
    rc = 0;
done:
    anim_video_free(&video);
    for (int i = 0; poses && i < n_use; i++) anim_picture_free(&poses[i]);
    free(poses);
    anim_picture_free(&ref);
    for (int i = 0; i < n_names; i++) free(names[i]);
    free(names);
    anim_ctx_free(ctx);
    return rc;
}
