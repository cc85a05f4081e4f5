/*
 * test_pose2vid.c - the whole pose pipeline against runs of the real upstream
 * code: moore-tiny (4 frames, 3 steps), moore-tiny-resize (inputs of other
 * sizes, 2 steps), moore-tiny-long (10 frames, wrapped context windows), all
 * from the fixtures' own initial latents. Compares the latents after every
 * DDIM step, the final latents and the decoded frames; and runs the
 * build/pose2vid binary end to end, including its one-line errors.
 *
 * Limits. moore-tiny-resize (64x96) lands at 1.1e-5 relative L2 (final
 * latents) and 2.6e-5 max on the frames: float32 rounding; we require 3e-5 and
 * 1e-4. The two 64x64 fixtures have a floor of their own: their 1x1 deepest
 * level makes every motion-module GroupNorm group a single value (variance
 * exactly 0), where upstream's float32 `scale*x + (beta - scale*mean)` with
 * scale ~1000 leaves rounding noise of ~1e-4 that a more exact computation does
 * not reproduce (the UNet tests isolate it: the step-0 noise prediction sits at
 * nmse ~1e-7 there). Measured: 1.8e-4 (moore-tiny), 1.3e-4 (long); we require
 * 3e-4 and frames within 1e-3. The released model (40-channel groups at 8x12
 * pixels and more) has no such groups; every stage is also tested on its own
 * at tighter limits (test_unet.c, test_vae.c, test_ddim.c, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "io/image.h"
#include "io/tensor_file.h"
#include "nn/model.h"
#include "pipe/pose2vid.h"
#include "test.h"

#define REL_L2_TINY 3e-4   /* 64x64 fixtures: degenerate 1x1 GroupNorm groups (see above) */
#define FRAME_MAX_TINY 1e-3
#define REL_L2_RESIZE 3e-5
#define FRAME_MAX_RESIZE 1e-4


typedef struct fixture_run {
    const char *dir;          /* tests/fixtures/<name> */
    int n_steps, F;
    float *steps_err;         /* rel L2 after each step */
    const char *inter;        /* path of intermediates.safetensors */
} fixture_run;

static void on_step(int step, const float *lat, int F, int h, int w, void *user) {
    fixture_run *fr = user;
    char key[64];
    snprintf(key, sizeof key, "latents_after_step%d", step);
    size_t n = 0;
    float *want = test_read_tensor(fr->inter, key, &n);
    fr->steps_err[step] = want && n == (size_t)4 * F * h * w ? (float)test_rel_l2(lat, want, n) : INFINITY;
    free(want);
}

static anim_be *cpu(void) {
    static anim_be *be;
    anim_error e;
    if (!be && anim_be_create_cpu(0, &be, &e) != ANIM_OK) return NULL;
    return be;
}

static const anim_model *tiny(void) {
    static anim_model *m;
    anim_error e;
    anim_hooks h = {ANIM_LOG_ERROR, NULL, NULL, NULL, NULL, NULL, NULL};
    if (!m && anim_model_load(cpu(), "tests/fixtures/moore-tiny", &h, &m, &e) != ANIM_OK) printf("    %s\n", e.msg);
    return m;
}

/* Run one fixture through pipe_pose2vid and compare every stage it saved. */
static void check_fixture(const char *dir, int W, int H, int F, int steps, int ctx_frames, int ctx_overlap,
                          double rel_max, double frame_lim) {
#ifndef ANIM_WITH_PNG
    SKIP("built without libpng: the fixture inputs are PNG");
#endif
    char path[512], inter[512];
    snprintf(inter, sizeof inter, "%s/outputs/intermediates.safetensors", dir);
    const anim_model *m = tiny();
    CHECK(m != NULL);
    anim_error e;
    anim_image ref = {0}, *poses = calloc((size_t)F, sizeof *poses);
    snprintf(path, sizeof path, "%s/inputs/ref.png", dir);
    CHECK_OK(anim_image_read(path, &ref, &e), &e);
    for (int i = 0; i < F; i++) {
        snprintf(path, sizeof path, "%s/inputs/pose_%03d.png", dir, i);
        CHECK_OK(anim_image_read(path, &poses[i], &e), &e);
    }
    anim_pose_params p;
    pipe_pose_params_default(&p);
    p.width = W;
    p.height = H;
    p.frames = F;
    p.steps = steps;
    p.guidance = 3.5f;
    p.context_frames = ctx_frames;
    p.context_overlap = ctx_overlap;
    snprintf(path, sizeof path, "%s/inputs/noise.safetensors", dir);
    p.noise_file = path;
    size_t lat_n = (size_t)4 * F * (H / 8) * (W / 8), px = (size_t)F * H * W * 3;
    float *lat = malloc(lat_n * sizeof *lat), *frames = malloc(px * sizeof *frames);
    p.latents_out = lat;
    float step_err[64] = {0};
    fixture_run fr = {dir, steps, F, step_err, inter};
    pipe_debug dbg = {frames, on_step, &fr};
    anim_video v = {0};
    anim_hooks h = {ANIM_LOG_ERROR, NULL, NULL, NULL, NULL, NULL, NULL};
    anim_status st = pipe_pose2vid(cpu(), m, &h, &p, &ref, poses, F, &v, &dbg, NULL, &e);
    for (int i = 0; i < F; i++) anim_image_free(&poses[i]);
    free(poses);
    anim_image_free(&ref);
    CHECK_OK(st, &e);
    CHECK(v.n_frames == F && v.width == W && v.height == H);

    size_t n = 0;
    snprintf(path, sizeof path, "%s/outputs/final_latents.safetensors", dir);
    float *want = test_read_tensor(path, "latents", &n);
    CHECK(want && n == lat_n);
    double lat_err = test_rel_l2(lat, want, n);
    free(want);
    snprintf(path, sizeof path, "%s/outputs/frames.safetensors", dir);
    float *vid = test_read_tensor(path, "videos", &n); /* [1, 3, F, H, W] */
    CHECK(vid && n == px);
    double frame_max = 0;
    int u8_off = 0;
    for (int f = 0; f < F; f++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int k = 0; k < 3; k++) {
                    float a = frames[(((size_t)f * H + y) * W + x) * 3 + k];
                    float b = vid[(((size_t)k * F + f) * H + y) * W + x];
                    frame_max = fmax(frame_max, fabs((double)a - b));
                    /* the uint8 frames: truncation of x * 255, off by one at most where x*255 sits on an integer */
                    int ua = v.rgb[(((size_t)f * H + y) * W + x) * 3 + k], ub = (int)(b * 255.0f);
                    if (abs(ua - ub) > 1) u8_off++;
                }
    free(vid);
    printf("    %s: rel L2 per step", dir);
    for (int i = 0; i < steps; i++) printf(" %.2e", step_err[i]);
    printf("; final latents %.2e; frames max |err| %.2e\n", lat_err, frame_max);
    for (int i = 0; i < steps; i++) CHECK_MSG(step_err[i] <= rel_max, "step %d: rel L2 %g", i, step_err[i]);
    CHECK_MSG(lat_err <= rel_max, "final latents rel L2 %g", lat_err);
    CHECK_MSG(frame_max <= frame_lim, "frames max |err| %g", frame_max);
    CHECK(u8_off == 0);
    anim_video_free(&v);
    free(lat);
    free(frames);
}

TEST(pose2vid_moore_tiny_matches_upstream) { check_fixture("tests/fixtures/moore-tiny", 64, 64, 4, 3, 24, 4, REL_L2_TINY, FRAME_MAX_TINY);
}

TEST(pose2vid_resized_inputs_match_upstream) {
    /* reference 150x230 and poses 80x112 resized by the pipeline to 64x96 */
    check_fixture("tests/fixtures/moore-tiny-resize", 64, 96, 4, 2, 24, 4, REL_L2_RESIZE, FRAME_MAX_RESIZE);
}

TEST(pose2vid_long_wrapped_context_windows_match_upstream) {
    check_fixture("tests/fixtures/moore-tiny-long", 64, 64, 10, 3, 4, 2, REL_L2_TINY, FRAME_MAX_TINY);
}

/* ---- the example binary ---- */

static int run_cmd(const char *cmd, char *out, size_t len) {
    char full[2048];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *f = popen(full, "r");
    if (!f) return -1;
    size_t n = fread(out, 1, len - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *pose_dir(void) {
    static char d[256];
    snprintf(d, sizeof d, "%s/tiny_poses", test_tmp_dir());
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && mkdir -p %s && cp tests/fixtures/moore-tiny/inputs/pose_00*.png %s/ && echo notes > %s/README.txt",
             d, d, d, d);
    return system(cmd) == 0 ? d : NULL;
}

TEST(pose2vid_binary_end_to_end_with_noise_and_save_latents) {
    if (access("build/pose2vid", X_OK) != 0) SKIP("build/pose2vid not built");
    const char *d = pose_dir();
    CHECK(d);
    char cmd[2048], out[8192], lat[512], frames[512];
    snprintf(lat, sizeof lat, "%s/e2e_latents.safetensors", test_tmp_dir());
    snprintf(frames, sizeof frames, "%s/e2e_frames", test_tmp_dir());
    snprintf(cmd, sizeof cmd,
             "build/pose2vid --backend cpu --models tests/fixtures/moore-tiny --ref tests/fixtures/moore-tiny/inputs/ref.png "
             "--poses %s -W 64 -H 64 --steps 3 --noise tests/fixtures/moore-tiny/inputs/noise.safetensors "
             "--save-latents %s --out %s",
             d, lat, frames);
    int rc = run_cmd(cmd, out, sizeof out);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "step 3/3");
    size_t n = 0, m = 0;
    float *got = test_read_tensor(lat, "latents", &n);
    float *want = test_read_tensor("tests/fixtures/moore-tiny/outputs/final_latents.safetensors", "latents", &m);
    CHECK(got && want && n == m && n == 4 * 4 * 8 * 8);
    double err = test_rel_l2(got, want, n);
    free(got);
    free(want);
    CHECK_MSG(err <= REL_L2_TINY, "final latents rel L2 %g", err);
    for (int i = 0; i < 4; i++) {
        char png[600];
        snprintf(png, sizeof png, "%s/frame_%03d.png", frames, i);
        anim_image img = {0};
        anim_error e;
        CHECK_OK(anim_image_read(png, &img, &e), &e);
        CHECK(img.w == 64 && img.h == 64);
        anim_image_free(&img);
    }
}

TEST(pose2vid_binary_errors_are_one_line_and_nonzero) {
    if (access("build/pose2vid", X_OK) != 0) SKIP("build/pose2vid not built");
    const char *d = pose_dir();
    CHECK(d);
    char cmd[2048], out[8192];
    const char *base = "build/pose2vid --backend cpu --quiet --models tests/fixtures/moore-tiny -W 64 -H 64 --steps 1";
    struct { const char *args, *want; } cases[] = {
        {"--ref tests/fixtures/moore-tiny/inputs/missing.png --poses %s --out x.webp", "missing.png"},
        {"--ref tests/fixtures/moore-tiny/inputs/ref.png --poses %s -L 9 --out x.webp", "-L 9 frames asked for but"},
        {"--ref tests/fixtures/moore-tiny/FIXTURE.md --poses %s --out x.webp", "FIXTURE.md"},
        {"--ref tests/fixtures/moore-tiny/inputs/ref.png --poses %s --noise tests/fixtures/moore-tiny-long/inputs/noise.safetensors --out x.webp",
         "has shape [1, 4, 10, 8, 8] but"},
        {"--ref tests/fixtures/moore-tiny/inputs/ref.png --poses %s --steps 0 --out x.webp", "--steps '0'"},
        {"--ref tests/fixtures/moore-tiny/inputs/ref.png --poses %s", "are required"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[1024];
        snprintf(args, sizeof args, cases[i].args, d);
        snprintf(cmd, sizeof cmd, "%s %s", base, args);
        int rc = run_cmd(cmd, out, sizeof out);
        CHECK_MSG(rc != 0, "case %zu exited 0", i);
        CHECK_MSG(strstr(out, cases[i].want) != NULL, "case %zu: \"%s\" lacks \"%s\"", i, out, cases[i].want);
        /* exactly one line */
        char *nl = strchr(out, '\n');
        CHECK_MSG(nl && nl[1] == '\0', "case %zu: not one line: \"%s\"", i, out);
    }
    /* a model directory with a missing checkpoint */
    char bad[512];
    snprintf(bad, sizeof bad, "%s/bad_models", test_tmp_dir());
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r tests/fixtures/moore-tiny %s && rm %s/motion_module.safetensors", bad,
             bad, bad);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd,
             "build/pose2vid --backend cpu --quiet --models %s --ref tests/fixtures/moore-tiny/inputs/ref.png --poses %s "
             "-W 64 -H 64 --steps 1 --out x.webp",
             bad, d);
    int rc = run_cmd(cmd, out, sizeof out);
    CHECK(rc != 0);
    CHECK_CONTAINS(out, "missing checkpoint");
    CHECK_CONTAINS(out, "motion_module");
}

/* ---- the public API ---- */

typedef struct abort_after { int calls, limit; } abort_after;

static bool abort_cb(void *user) {
    abort_after *a = user;
    return ++a->calls > a->limit;
}

TEST(pose2vid_public_api_state_abort_and_webp) {
    abort_after ab = {0, 1 << 30};
    anim_ctx_params cp;
    anim_ctx_params_default(&cp);
    cp.backend = ANIM_BACKEND_CPU;
    cp.log_level = ANIM_LOG_ERROR;
    cp.abort_cb = abort_cb;
    cp.abort_user = &ab;
    anim_ctx *ctx = NULL;
    CHECK(anim_ctx_create(&cp, &ctx) == ANIM_OK);
    anim_picture ref = {0}, poses[4] = {{0}};
    CHECK(anim_picture_read(ctx, "tests/fixtures/moore-tiny/inputs/ref.png", &ref) == ANIM_OK);
    for (int i = 0; i < 4; i++) {
        char p[128];
        snprintf(p, sizeof p, "tests/fixtures/moore-tiny/inputs/pose_%03d.png", i);
        CHECK(anim_picture_read(ctx, p, &poses[i]) == ANIM_OK);
    }
    anim_pose_params pp;
    anim_pose_params_default(&pp);
    pp.width = pp.height = 64;
    pp.steps = 3;
    pp.noise_file = "tests/fixtures/moore-tiny/inputs/noise.safetensors";
    anim_video v;
    /* no model yet */
    CHECK(anim_pose2vid(ctx, &pp, &ref, poses, 4, &v) == ANIM_E_STATE);
    CHECK_CONTAINS(anim_ctx_last_error(ctx), "no model loaded");
    CHECK(anim_ctx_load_models(ctx, "tests/fixtures/moore-tiny") == ANIM_OK);
    /* abort at the second UNet call: an error, an empty video */
    ab.calls = 0;
    ab.limit = 1;
    CHECK(anim_pose2vid(ctx, &pp, &ref, poses, 4, &v) == ANIM_E_ABORTED);
    CHECK(v.rgb == NULL && v.n_frames == 0);
    CHECK_CONTAINS(anim_ctx_last_error(ctx), "aborted");
    /* the same context runs to the end afterwards; the video is written as an animated WebP */
    ab.limit = 1 << 30;
    CHECK_MSG(anim_pose2vid(ctx, &pp, &ref, poses, 4, &v) == ANIM_OK, "%s", anim_ctx_last_error(ctx));
    CHECK(v.n_frames == 4 && v.width == 64 && v.height == 64);
    anim_run_stats rs;
    CHECK(anim_ctx_run_stats(ctx, &rs) == ANIM_OK);
    CHECK(rs.steps == 3 && rs.unet_calls == 3 && rs.seconds >= rs.seconds_denoise && rs.seconds_denoise > 0);
    CHECK(rs.peak_scratch_bytes > 0 && rs.weight_bytes == 1906455LL * 4);
    char path[512];
    snprintf(path, sizeof path, "%s/api.webp", test_tmp_dir());
    anim_write_params wp;
    anim_write_params_default(&wp);
#ifdef ANIM_WITH_WEBP
    CHECK_MSG(anim_video_write(ctx, &v, path, &wp) == ANIM_OK, "%s", anim_ctx_last_error(ctx));
    size_t len = 0;
    unsigned char *buf = test_read_file(path, &len);
    CHECK(buf && len > 12 && !memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "WEBP", 4));
    bool anim_chunk = false; /* the animation chunk of an animated WebP */
    for (size_t i = 12; i + 4 <= len && !anim_chunk; i++) anim_chunk = !memcmp(buf + i, "ANIM", 4);
    CHECK(anim_chunk);
    free(buf);
#endif
    anim_video_free(&v);
    /* bad parameters are named */
    pp.context_overlap = pp.context_frames;
    CHECK(anim_pose2vid(ctx, &pp, &ref, poses, 4, &v) == ANIM_E_INVALID_ARG);
    CHECK_CONTAINS(anim_ctx_last_error(ctx), "overlap");
    anim_video_free(&v);
    anim_picture_free(&ref);
    for (int i = 0; i < 4; i++) anim_picture_free(&poses[i]);
    anim_ctx_free(ctx);
}

/* ---- keypoint JSON poses, metadata ---- */

static bool file_contains(const char *path, const char *needle) {
    size_t len = 0, nl = strlen(needle);
    unsigned char *buf = test_read_file(path, &len);
    bool found = false;
    for (size_t i = 0; buf && i + nl <= len && !found; i++) found = !memcmp(buf + i, needle, nl);
    free(buf);
    return found;
}

TEST(pose2vid_binary_json_poses_equal_rendered_pictures_and_outputs_are_marked) {
    if (access("build/pose2vid", X_OK) != 0 || access("build/render_poses", X_OK) != 0)
        SKIP("examples not built");
#if !defined(ANIM_WITH_PNG)
    SKIP("built without libpng");
#endif
    const char *t = test_tmp_dir();
    char cmd[4096], out[8192];
    /* the same four poses as keypoint JSON, and as the pictures render_poses draws from them */
    snprintf(cmd, sizeof cmd,
             "rm -rf %s/jp && mkdir -p %s/jp/json && cp tests/fixtures/pose-render/pose_00[0-3].json %s/jp/json/ && "
             "build/render_poses %s/jp/json %s/jp/png > /dev/null",
             t, t, t, t, t);
    CHECK(system(cmd) == 0);
    const char *common = "build/pose2vid --backend cpu --quiet --models tests/fixtures/moore-tiny "
                         "--ref tests/fixtures/moore-tiny/inputs/ref.png -W 64 -H 96 --steps 2";
    snprintf(cmd, sizeof cmd, "%s --poses %s/jp/json --save-latents %s/jp/a.safetensors --out %s/jp/frames_a", common, t, t, t);
    int rc = run_cmd(cmd, out, sizeof out);
    CHECK_MSG(rc == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "%s --poses %s/jp/png --save-latents %s/jp/b.safetensors --out %s/jp/b.webp", common, t, t, t);
    rc = run_cmd(cmd, out, sizeof out);
    CHECK_MSG(rc == 0, "%s", out);
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/jp/a.safetensors", t);
    snprintf(pb, sizeof pb, "%s/jp/b.safetensors", t);
    size_t na = 0, nb = 0;
    float *a = test_read_tensor(pa, "latents", &na), *b = test_read_tensor(pb, "latents", &nb);
    CHECK(a && b && na == nb && na == (size_t)4 * 4 * 12 * 8);
    CHECK_MSG(memcmp(a, b, na * sizeof *a) == 0, "JSON poses and their rendered pictures gave different latents");
    free(a);
    free(b);
    /* every output carries the AI-generated marker and the settings */
    char f0[512];
    snprintf(f0, sizeof f0, "%s/jp/frames_a/frame_000.png", t);
    CHECK(file_contains(f0, "XML:com.adobe.xmp"));
    CHECK(file_contains(f0, "digitalsourcetype/trainedAlgorithmicMedia"));
    CHECK(file_contains(f0, "2 DDIM steps"));
#ifdef ANIM_WITH_WEBP
    char wb[512];
    snprintf(wb, sizeof wb, "%s/jp/b.webp", t);
    CHECK(file_contains(wb, "XMP "));
    CHECK(file_contains(wb, "digitalsourcetype/trainedAlgorithmicMedia"));
#endif
    /* the pose renderings themselves are marked as algorithmic, not AI-generated */
    snprintf(f0, sizeof f0, "%s/jp/png/pose_000.png", t);
    CHECK(file_contains(f0, "digitalsourcetype/algorithmicMedia"));
    /* a directory mixing the two kinds is refused */
    snprintf(cmd, sizeof cmd, "cp %s/jp/json/pose_000.json %s/jp/png/ && %s --poses %s/jp/png --out %s/jp/c.webp", t, t,
             common, t, t);
    rc = run_cmd(cmd, out, sizeof out);
    CHECK(rc != 0);
    CHECK_CONTAINS(out, "holds both pictures");
}
