/*
 * talking_head.c - a portrait + a speech or song recording -> a video of that
 * person speaking (EchoMimic V1), through the public API only.
 *
 *   build/talking_head --models DIR --ref PORTRAIT.png --audio SPEECH.wav --out OUT [options]
 *
 * See --help. Writes an animated WebP (NAME.webp, plus the 16 kHz track as
 * NAME.wav) or PNG frames (a directory, with audio.wav inside; then the
 * ffmpeg command that makes an MP4 with sound is printed). Progress goes to
 * stderr; errors are one line and a non-zero exit status.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "animate.h"
#include "cli.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: talking_head --models DIR --ref PORTRAIT --audio SPEECH.wav --out OUT [options]\n"
            "\n"
            "Make the person in PORTRAIT speak (or sing) SPEECH.wav (EchoMimic V1).\n"
            "\n"
            "required:\n"
            "  --models DIR            an EchoMimic model directory (as tests/fixtures/echomimic-tiny, or\n"
            "                          EchoMimic's pretrained_weights/: .pth/.pt or .safetensors checkpoints)\n"
            "  --ref FILE              the portrait (PNG, JPEG or WebP)\n"
            "  --audio FILE            the speech or song (WAV: PCM 8/16/24/32-bit or float, any rate)\n"
            "  --out OUT               NAME.webp (+ NAME.wav), or a directory of PNG frames (+ audio.wav)\n"
            "options:\n"
            "  -W, --width N           output width (default 512)\n"
            "  -H, --height N          output height (default 512)\n"
            "  -L, --frames N          most frames to make (default: as many as the audio gives)\n"
            "  --acc                   the accelerated sampler: *_acc weights, 6 steps, no guidance\n"
            "  --steps N               DDIM steps (default 30; 6 with --acc)\n"
            "  --cfg X                 guidance scale (default 2.5; none with --acc)\n"
            "  --seed N                seed of the initial noise (default 420)\n"
            "  --fps N                 frames per second of the video (default 24)\n"
            "  --context-frames N      frames per context window (default 12)\n"
            "  --context-overlap N     frames shared by neighbouring windows (default 3)\n"
            "  --face-box X0,Y0,X1,Y1  the face in portrait pixels (floats allowed, as a face detector\n"
            "                          reports them); default: the whole portrait\n"
            "  --noise FILE            initial latents (tensor 'latents' [1,4,F,H/8,W/8], the raw normal\n"
            "                          draw; clamped to +-1.5 as upstream does)\n"
            "  --save-latents FILE     write the final latents (tensor 'latents', F32)\n"
            "  --quality N             WebP quality 0-100 (default 90)\n"
            "  --lossless              lossless WebP\n"
            "  --backend NAME          cpu, cuda or auto (default auto)\n"
            "  --threads N             CPU threads (default: all cores)\n"
            "  --quiet                 no progress output\n"
            "  -h, --help              this help\n");
}



/* "X0,Y0,X1,Y1": four finite numbers, x0 < x1, y0 < y1 */
static int parse_box(const char *v, float box[4]) {
    const char *s = v;
    for (int i = 0; i < 4; i++) {
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        if (errno || end == s || !isfinite(d) || fabs(d) > 1e6) return 0;
        box[i] = (float)d;
        s = end;
        if (i < 3) {
            if (*s != ',') return 0;
            s++;
        }
    }
    return *s == '\0' && box[0] < box[2] && box[1] < box[3];
}


static bool ends_with_webp(const char *s) {
    size_t n = strlen(s);
    return n >= 5 && !strcmp(s + n - 5, ".webp");
}

int main(int argc, char **argv) {
    cli_prog = "talking_head";
    const char *models = NULL, *ref_path = NULL, *audio = NULL, *out_path = NULL;
    anim_ctx_params cp;
    anim_ctx_params_default(&cp);
    anim_talk_params tp;
    anim_talk_params_default(&tp);
    anim_write_params wp;
    anim_write_params_default(&wp);
    cli_progress ps = {0};
    unsigned load_flags = 0;
    int fps = 24, fps_set = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE() do { if (!v) { fprintf(stderr, "talking_head: %s needs a value (see --help)\n", a); return 2; } i++; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--quiet")) ps.quiet = 1;
        else if (!strcmp(a, "--acc")) load_flags |= ANIM_LOAD_ACC;
        else if (!strcmp(a, "--lossless")) wp.lossless = true;
        else if (!strcmp(a, "--models")) { NEED_VALUE(); models = v; }
        else if (!strcmp(a, "--ref")) { NEED_VALUE(); ref_path = v; }
        else if (!strcmp(a, "--audio")) { NEED_VALUE(); audio = v; }
        else if (!strcmp(a, "--out")) { NEED_VALUE(); out_path = v; }
        else if (!strcmp(a, "-W") || !strcmp(a, "--width")) { NEED_VALUE(); if (!cli_int(a, v, 8, 16384, &tp.width)) return 2; }
        else if (!strcmp(a, "-H") || !strcmp(a, "--height")) { NEED_VALUE(); if (!cli_int(a, v, 8, 16384, &tp.height)) return 2; }
        else if (!strcmp(a, "-L") || !strcmp(a, "--frames")) { NEED_VALUE(); if (!cli_int(a, v, 1, 1000000, &tp.frames)) return 2; }
        else if (!strcmp(a, "--steps")) { NEED_VALUE(); if (!cli_int(a, v, 1, 1000, &tp.steps)) return 2; }
        else if (!strcmp(a, "--fps")) { NEED_VALUE(); if (!cli_int(a, v, 1, 240, &fps)) return 2; fps_set = 1; }
        else if (!strcmp(a, "--context-frames")) { NEED_VALUE(); if (!cli_int(a, v, 1, 100000, &tp.context_frames)) return 2; }
        else if (!strcmp(a, "--context-overlap")) { NEED_VALUE(); if (!cli_int(a, v, 0, 100000, &tp.context_overlap)) return 2; }
        else if (!strcmp(a, "--quality")) { NEED_VALUE(); if (!cli_int(a, v, 0, 100, &wp.quality)) return 2; }
        else if (!strcmp(a, "--threads")) { NEED_VALUE(); if (!cli_int(a, v, 0, 4096, &cp.n_threads)) return 2; }
        else if (!strcmp(a, "--noise")) { NEED_VALUE(); tp.noise_file = v; }
        else if (!strcmp(a, "--save-latents")) { NEED_VALUE(); tp.save_latents_file = v; }
        else if (!strcmp(a, "--face-box")) {
            NEED_VALUE();
            if (!parse_box(v, tp.face_box)) return cli_bad(a, v, "must be X0,Y0,X1,Y1 with X0 < X1 and Y0 < Y1"), 2;
            tp.has_face_box = true;
        } else if (!strcmp(a, "--cfg")) {
            NEED_VALUE();
            if (!cli_float(a, v, 0, 100, &tp.guidance)) return 2;
        } else if (!strcmp(a, "--seed")) {
            NEED_VALUE();
            if (!cli_seed(a, v, &tp.seed)) return 2;
        } else if (!strcmp(a, "--backend")) {
            NEED_VALUE();
            if (!cli_backend(a, v, &cp.backend)) return 2;
        } else {
            fprintf(stderr, "talking_head: unknown option '%s' (see --help)\n", a);
            return 2;
        }
#undef NEED_VALUE
    }
    if (!models || !ref_path || !audio || !out_path) {
        fprintf(stderr, "talking_head: --models, --ref, --audio and --out are required (see --help)\n");
        return 2;
    }
    if (!cli_check_out("--out", out_path, !ends_with_webp(out_path))) return 2;
    if (tp.save_latents_file && !cli_check_out("--save-latents", tp.save_latents_file, false)) return 2;
    if (tp.context_overlap >= tp.context_frames) {
        fprintf(stderr, "talking_head: --context-overlap %d must be smaller than --context-frames %d\n",
                tp.context_overlap, tp.context_frames);
        return 2;
    }
    tp.fps = fps;
    wp.fps = fps;
    (void)fps_set;

    cp.progress_cb = cli_on_progress;
    cp.progress_user = &ps;
    if (ps.quiet) cp.log_level = ANIM_LOG_ERROR;
    int rc = 1;
    anim_ctx *ctx = NULL;
    anim_picture ref = {0};
    anim_video video = {0};
    if (anim_ctx_create(&cp, &ctx) != ANIM_OK) {
        fprintf(stderr, "talking_head: could not create a context\n");
        goto done;
    }
    if (anim_picture_read(ctx, ref_path, &ref) != ANIM_OK || anim_ctx_load_models_ex(ctx, models, load_flags) != ANIM_OK ||
        anim_talking_head(ctx, &tp, &ref, audio, &video) != ANIM_OK) {
        fprintf(stderr, "talking_head: %s\n", anim_ctx_last_error(ctx));
        goto done;
    }
    char settings[1024];
    snprintf(settings, sizeof settings,
             "libanimate talking_head (EchoMimic V1%s): %dx%d, %d frames at %d fps, audio %s, models %s",
             (load_flags & ANIM_LOAD_ACC) ? ", accelerated" : "", video.width, video.height, video.n_frames, fps,
             audio, models);
    wp.settings = settings;
    if (anim_video_write(ctx, &video, out_path, &wp) != ANIM_OK) {
        fprintf(stderr, "talking_head: %s\n", anim_ctx_last_error(ctx));
        goto done;
    }
    if (!ps.quiet) {
        anim_run_stats rs;
        struct rusage ru;
        double rss = getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : 0.0;
        if (anim_ctx_run_stats(ctx, &rs) == ANIM_OK)
            fprintf(stderr,
                    "talking_head: %d frames in %.1f s (%.2f s per denoising step, %.2f s per frame); peak activation "
                    "memory %.1f MiB, process peak RSS %.1f MiB\n",
                    video.n_frames, rs.seconds, rs.steps ? rs.seconds_denoise / rs.steps : 0.0,
                    rs.seconds / video.n_frames, (double)rs.peak_scratch_bytes / (1 << 20), rss);
        fprintf(stderr, "talking_head: wrote %s\n", out_path);
    }
    if (!ends_with_webp(out_path))
        /* ffmpeg cannot read animated WebP, but it reads the PNG frames and the WAV */
        fprintf(stderr, "to make an MP4 with sound: ffmpeg -framerate %d -i %s/frame_%%03d.png -i %s/audio.wav "
                        "-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest %s.mp4\n",
                fps, out_path, out_path, out_path);
    rc = 0;
done:
    anim_video_free(&video);
    anim_picture_free(&ref);
    anim_ctx_free(ctx);
    return rc;
}
