/*
 * test_context.c - context windows and per-frame averaging (lib/pipe/context.c).
 *
 * Expected windows: tests/fixtures/moore-tiny-long (params.json ->
 * context.windows_per_step, FIXTURE.md's table), reference/models.md 1.7
 * (the 64-frame example) and lists worked out by hand from the upstream
 * uniform() algorithm (written out in the comments). The averaging is checked
 * end to end on moore-tiny-long: per-window UNet outputs -> average -> CFG ->
 * DDIM step 0 must give the fixture's latents_after_step0 bit for bit.
 */
#include <stdlib.h>

#include "io/json.h"
#include "io/tensor_file.h"
#include "nn/config.h"
#include "pipe/context.h"
#include "pipe/ddim.h"
#include "test.h"

#define LONG "tests/fixtures/moore-tiny-long/"

/* window w of l equals the n frames in want */
static bool window_is(const ctx_window_list *l, int w, const int *want, int n) {
    if (w >= l->n_windows || l->window_len != n) return false;
    const int *f = ctx_window(l, w);
    for (int k = 0; k < n; k++)
        if (f[k] != want[k]) return false;
    return true;
}

static void print_windows(const ctx_window_list *l) {
    for (int w = 0; w < l->n_windows; w++) {
        printf("      [");
        for (int k = 0; k < l->window_len; k++) printf("%s%d", k ? ", " : "", ctx_window(l, w)[k]);
        printf("]\n");
    }
}

TEST(context_ordered_halving) {
    /* the bits of val mirrored behind the binary point: 0 -> 0, 1 -> 0.5,
     * 2 -> 0.25, 3 -> 0.75, 4 -> 0.125, 5 -> 0.625, 6 -> 0.375, 7 -> 0.875, 8 -> 0.0625 */
    static const double want[9] = {0.0, 0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875, 0.0625};
    for (int i = 0; i < 9; i++) CHECK_MSG(ctx_ordered_halving((uint64_t)i) == want[i], "oh(%d)", i);
    CHECK(ctx_ordered_halving(9) == 0.5625);
    CHECK(ctx_ordered_halving((uint64_t)1 << 63) == 0x1p-64);
    /* all 64 bits set: (2^64 - 1) / 2^64 rounds to 1.0 in double, as in Python */
    CHECK(ctx_ordered_halving(UINT64_MAX) == 1.0);
}

TEST(context_fixture_long) {
    /* the windows the upstream pipeline used, read from params.json */
    anim_error e;
    json_value *root = json_parse_file(LONG "params.json", NULL, &e);
    CHECK_MSG(root, "%s", e.msg);
    const json_value *ctx = json_get(root, "context");
    const json_value *per_step = ctx ? json_get(ctx, "windows_per_step") : NULL;
    const json_value *call = json_get(root, "call");
    bool ok = ctx && per_step && per_step->type == JSON_ARRAY && call;
    int frames = ok ? (int)json_get_num(call, "video_length", 0) : 0;
    int steps = ok ? (int)json_get_num(call, "num_inference_steps", 0) : 0;
    int size = ok ? (int)json_get_num(ctx, "context_frames", 0) : 0;
    int overlap = ok ? (int)json_get_num(ctx, "context_overlap", -1) : 0;
    int stride = ok ? (int)json_get_num(ctx, "context_stride", 0) : 0;
    ok = ok && frames == 10 && steps == 3 && size == 4 && overlap == 2 && stride == 1 && (int)per_step->len == steps;
    if (!ok) json_free(root);
    CHECK_MSG(ok, "params.json: unexpected context section");
    for (int s = 0; s < steps && !test_failed(); s++) {
        /* pipeline_pose2vid_long.py calls uniform(0, ...) at every step */
        ctx_window_list l;
        if (ctx_windows(0, steps, frames, size, stride, overlap, true, &l, &e)) {
            test_fail(__FILE__, __LINE__, "%s", e.msg);
            break;
        }
        const json_value *ws = &per_step->items[s];
        bool same = ws->type == JSON_ARRAY && (int)ws->len == l.n_windows;
        for (int w = 0; same && w < l.n_windows; w++) {
            const json_value *win = &ws->items[w];
            same = win->type == JSON_ARRAY && (int)win->len == l.window_len;
            for (int k = 0; same && k < l.window_len; k++) same = (int)win->items[k].num == ctx_window(&l, w)[k];
        }
        if (!same) {
            test_fail(__FILE__, __LINE__, "step %d: windows differ from params.json; got:", s);
            print_windows(&l);
        }
        ctx_window_list_free(&l);
    }
    json_free(root);
    if (test_failed()) return;

    /* FIXTURE.md's table, written out */
    ctx_window_list l;
    CHECK_OK(ctx_windows(0, 3, 10, 4, 1, 2, true, &l, &e), &e);
    static const int w[5][4] = {{0, 1, 2, 3}, {2, 3, 4, 5}, {4, 5, 6, 7}, {6, 7, 8, 9}, {8, 9, 0, 1}};
    CHECK(l.n_windows == 5 && l.window_len == 4);
    for (int i = 0; i < 5; i++) CHECK(window_is(&l, i, w[i], 4));
    ctx_window_list_free(&l);
    ctx_window_list_free(&l); /* zeroed: no-op */
    ctx_window_list_free(NULL);
}

TEST(context_single_window) {
    anim_error e;
    ctx_window_list l;
    int seq[24];
    for (int i = 0; i < 24; i++) seq[i] = i;
    /* num_frames <= context_size: yield list(range(num_frames)), whatever the step */
    static const int cases[][2] = {{1, 24}, {4, 4}, {23, 24}, {24, 24}, {3, 16}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int step = 0; step < 4; step++) {
            CHECK_OK(ctx_windows(step, 30, cases[c][0], cases[c][1], 1, cases[c][1] / 2, step & 1, &l, &e), &e);
            CHECK_MSG(l.n_windows == 1 && window_is(&l, 0, seq, cases[c][0]), "%d frames, size %d", cases[c][0],
                      cases[c][1]);
            ctx_window_list_free(&l);
        }
    }
}

/* every frame covered; each window context_size consecutive frames (mod n)
 * starting at 20 * w; returns the per-frame cover count in cover[] */
static bool moore_default_structure(int n, int *cover) {
    anim_error e;
    ctx_window_list l;
    if (ctx_windows(0, 30, n, 24, 1, 4, true, &l, &e)) {
        printf("    %s\n", e.msg);
        return false;
    }
    bool ok = l.window_len == 24 && l.n_windows == (n + 19) / 20;
    memset(cover, 0, (size_t)n * sizeof *cover);
    for (int w = 0; ok && w < l.n_windows; w++) {
        const int *f = ctx_window(&l, w);
        for (int k = 0; k < 24; k++) {
            ok = ok && f[k] == (20 * w + k) % n;
            cover[f[k]]++;
        }
    }
    for (int i = 0; ok && i < n; i++) ok = cover[i] >= 1;
    if (!ok) print_windows(&l);
    ctx_window_list_free(&l);
    return ok;
}

TEST(context_moore_defaults) {
    /* pose2vid.py: context_frames 24, context_overlap 4, context_stride 1 */
    int cover[64];
    CHECK(moore_default_structure(25, cover));
    /* 25: [0..23], [20..24, 0..18]: frames 0..18 and 20..23 twice, 19 and 24 once */
    for (int i = 0; i < 25; i++) CHECK_MSG(cover[i] == (i == 19 || i == 24 ? 1 : 2), "25: frame %d %d", i, cover[i]);
    CHECK(moore_default_structure(48, cover));
    /* 48: [0..23] [20..43] [40..47, 0..15]: three windows, the last wraps */
    for (int i = 0; i < 48; i++) CHECK(cover[i] == ((i < 16 || (i >= 20 && i < 24) || (i >= 40 && i < 44)) ? 2 : 1));
    CHECK(moore_default_structure(60, cover));
    /* 60: starts 0, 20, 40 -> the last window [40..59, 0..3] wraps by 4 */
    for (int i = 0; i < 60; i++) CHECK(cover[i] == ((i < 4 || (i >= 20 && i < 24) || (i >= 40 && i < 44)) ? 2 : 1));
    /* reference/models.md 1.7, L = 64: [0-23], [20-43], [40-63], [60-63, 0-19];
     * coverage 0-23 x2, 24-39 x1, 40-43 x2, 44-59 x1, 60-63 x2 */
    CHECK(moore_default_structure(64, cover));
    for (int i = 0; i < 64; i++) {
        int want = (i < 24 || (i >= 40 && i < 44) || i >= 60) ? 2 : 1;
        CHECK_MSG(cover[i] == want, "64: frame %d covered %d times, want %d", i, cover[i], want);
    }
    /* 24 frames: a single window */
    anim_error e;
    ctx_window_list l;
    CHECK_OK(ctx_windows(0, 30, 24, 24, 1, 4, true, &l, &e), &e);
    CHECK(l.n_windows == 1 && l.window_len == 24 && ctx_window(&l, 0)[23] == 23);
    ctx_window_list_free(&l);
}

TEST(context_open_loop) {
    /* closed_loop False: range stops at num_frames + pad - overlap */
    anim_error e;
    ctx_window_list l;
    CHECK_OK(ctx_windows(0, 3, 10, 4, 1, 2, false, &l, &e), &e);
    static const int w[4][4] = {{0, 1, 2, 3}, {2, 3, 4, 5}, {4, 5, 6, 7}, {6, 7, 8, 9}};
    CHECK(l.n_windows == 4);
    for (int i = 0; i < 4; i++) CHECK(window_is(&l, i, w[i], 4));
    ctx_window_list_free(&l);
    /* 11 frames: j = 0, 2, 4, 6, 8 (< 9) and the last still wraps by modulo: [8, 9, 10, 0] */
    CHECK_OK(ctx_windows(0, 3, 11, 4, 1, 2, false, &l, &e), &e);
    static const int last[4] = {8, 9, 10, 0};
    CHECK(l.n_windows == 5 && window_is(&l, 4, last, 4));
    ctx_window_list_free(&l);
}

TEST(context_shifted_steps) {
    anim_error e;
    ctx_window_list l;
    /* 10 frames, size 4, overlap 2 (moore-tiny-long), step s shifts every
     * window by pad = round(10 * ordered_halving(s)) with Python's round:
     * step 1: 0.5 -> pad 5; step 2: 0.25 -> 2.5 -> 2 (half to even);
     * step 3: 0.75 -> 7.5 -> 8 (half to even); the range starts at pad. */
    static const int s1[5][4] = {{5, 6, 7, 8}, {7, 8, 9, 0}, {9, 0, 1, 2}, {1, 2, 3, 4}, {3, 4, 5, 6}};
    static const int s2[5][4] = {{2, 3, 4, 5}, {4, 5, 6, 7}, {6, 7, 8, 9}, {8, 9, 0, 1}, {0, 1, 2, 3}};
    static const int s3[5][4] = {{8, 9, 0, 1}, {0, 1, 2, 3}, {2, 3, 4, 5}, {4, 5, 6, 7}, {6, 7, 8, 9}};
    const int(*want[3])[4] = {s1, s2, s3};
    for (int s = 1; s <= 3; s++) {
        CHECK_OK(ctx_windows(s, 3, 10, 4, 1, 2, true, &l, &e), &e);
        bool ok = l.n_windows == 5;
        for (int i = 0; ok && i < 5; i++) ok = window_is(&l, i, want[s - 1][i], 4);
        if (!ok) print_windows(&l);
        ctx_window_list_free(&l);
        CHECK_MSG(ok, "step %d", s);
    }

    /* stride 1 in general: the windows of step s are those of step 0, in the
     * same order, each frame shifted by pad(s) (mod n) */
    static const int shapes[][3] = {{10, 4, 2}, {25, 24, 4}, {64, 24, 4}, {37, 8, 3}, {100, 16, 0}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        const int n = shapes[c][0], size = shapes[c][1], ov = shapes[c][2];
        ctx_window_list l0;
        CHECK_OK(ctx_windows(0, 30, n, size, 1, ov, true, &l0, &e), &e);
        for (int s = 0; s < 40; s++) {
            if (ctx_windows(s, 30, n, size, 1, ov, true, &l, &e)) {
                ctx_window_list_free(&l0);
                CHECK_MSG(false, "%s", e.msg);
            }
            /* pad = round half to even of n * oh(s) (n * oh is a multiple of 2^-k: exact) */
            double x = n * ctx_ordered_halving((uint64_t)s), fl = floor(x);
            int pad = (int)fl + (x - fl > 0.5 || (x - fl == 0.5 && ((long)fl & 1)));
            bool ok = l.n_windows == l0.n_windows && l.window_len == l0.window_len;
            for (int w = 0; ok && w < l.n_windows; w++)
                for (int k = 0; ok && k < size; k++) ok = ctx_window(&l, w)[k] == (ctx_window(&l0, w)[k] + pad) % n;
            ctx_window_list_free(&l);
            if (!ok) {
                ctx_window_list_free(&l0);
                CHECK_MSG(false, "n %d size %d overlap %d step %d: not step 0 shifted by %d", n, size, ov, s, pad);
            }
        }
        ctx_window_list_free(&l0);
    }
}

TEST(context_strides) {
    anim_error e;
    ctx_window_list l;
    /* 25 frames, size 12, overlap 4, stride 3: the cap is
     * ceil(log2(25 / 12)) + 1 = 3, so context_step 1, 2, 4:
     *   step 1: j in range(0, 25, 8)  -> 0, 8, 16, 24
     *   step 2: j in range(0, 25, 20) -> 0, 20   (every 2nd frame, 12 of them, mod 25)
     *   step 4: j in range(0, 25, 44) -> 0       (every 4th frame) */
    static const int w0[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    static const int w2[12] = {16, 17, 18, 19, 20, 21, 22, 23, 24, 0, 1, 2};
    static const int w3[12] = {24, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    static const int w4[12] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22};
    static const int w5[12] = {20, 22, 24, 1, 3, 5, 7, 9, 11, 13, 15, 17};
    static const int w6[12] = {0, 4, 8, 12, 16, 20, 24, 3, 7, 11, 15, 19};
    for (int stride = 3; stride <= 10; stride += 7) { /* 10 is capped to 3 */
        CHECK_OK(ctx_windows(0, 30, 25, 12, stride, 4, true, &l, &e), &e);
        bool ok = l.n_windows == 7 && window_is(&l, 0, w0, 12) && window_is(&l, 2, w2, 12) &&
                  window_is(&l, 3, w3, 12) && window_is(&l, 4, w4, 12) && window_is(&l, 5, w5, 12) &&
                  window_is(&l, 6, w6, 12);
        if (!ok) print_windows(&l);
        ctx_window_list_free(&l);
        CHECK_MSG(ok, "stride %d", stride);
    }
    /* stride 2 stops after context_step 2: 6 windows */
    CHECK_OK(ctx_windows(0, 30, 25, 12, 2, 4, true, &l, &e), &e);
    CHECK(l.n_windows == 6 && window_is(&l, 5, w5, 12));
    ctx_window_list_free(&l);
    /* step 1: ordered_halving 0.5, pad round(12.5) = 12; starts
     * int(0.5 * 1) + 12 = 12, int(0.5 * 2) + 12 = 13, int(0.5 * 4) + 12 = 14; stop 37 */
    static const int t0[12] = {12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};
    static const int t4[12] = {13, 15, 17, 19, 21, 23, 0, 2, 4, 6, 8, 10};
    static const int t5[12] = {8, 10, 12, 14, 16, 18, 20, 22, 24, 1, 3, 5}; /* j = 33 */
    static const int t6[12] = {14, 18, 22, 1, 5, 9, 13, 17, 21, 0, 4, 8};
    CHECK_OK(ctx_windows(1, 30, 25, 12, 3, 4, true, &l, &e), &e);
    bool ok = l.n_windows == 7 && window_is(&l, 0, t0, 12) && window_is(&l, 4, t4, 12) &&
              window_is(&l, 5, t5, 12) && window_is(&l, 6, t6, 12);
    if (!ok) print_windows(&l);
    ctx_window_list_free(&l);
    CHECK(ok);
    /* 48 frames of 24: log2(2) = 1 exactly -> cap 2 */
    CHECK_OK(ctx_windows(0, 30, 48, 24, 5, 4, true, &l, &e), &e);
    CHECK(l.n_windows == 3 + 2); /* step 1: 0, 20, 40; step 2: range(0, 48, 44) -> 0, 44 */
    ctx_window_list_free(&l);
}

TEST(context_rejects_bad_arguments) {
    anim_error e;
    ctx_window_list l;
    CHECK_STATUS(ctx_windows(0, 30, 10, 4, 1, 4, true, &l, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "context_overlap");
    CHECK_STATUS(ctx_windows(0, 30, 10, 4, 1, -1, true, &l, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "context_overlap");
    CHECK_STATUS(ctx_windows(0, 30, 10, 0, 1, 0, true, &l, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "context_size");
    CHECK_STATUS(ctx_windows(0, 30, 10, 4, 0, 2, true, &l, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "context_stride");
    CHECK_STATUS(ctx_windows(0, 30, 0, 4, 1, 2, true, &l, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "num_frames");
    CHECK_STATUS(ctx_windows(-1, 30, 10, 4, 1, 2, true, &l, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "'step'");
    /* checked even when one window would cover the clip */
    CHECK_STATUS(ctx_windows(0, 30, 3, 4, 1, 4, true, &l, &e), ANIM_E_INVALID_ARG, &e);
    CHECK(l.frames == NULL && l.n_windows == 0);
    ctx_accum a;
    CHECK_STATUS(ctx_accum_init(&a, 0, 4, 4, &e), ANIM_E_INVALID_ARG, &e);
    ctx_accum_free(&a);
    ctx_accum_free(NULL);
}

TEST(context_accumulate) {
    anim_error e;
    /* [outer 3][F 6][inner 5]; windows of 4 frames, overlap 2, closed loop */
    enum { O = 3, F = 6, I = 5, W = 4 };
    ctx_accum a;
    CHECK_OK(ctx_accum_init(&a, O, F, I, &e), &e);
    ctx_window_list l;
    CHECK_OK(ctx_windows(0, 1, F, W, 1, 2, true, &l, &e), &e); /* [0-3] [2-5] [4,5,0,1] */
    CHECK(l.n_windows == 3);
    test_rng r;
    test_rng_seed(&r, 5);
    float pred[3][O * W * I];
    double sum[O][F][I] = {{{0}}};
    int cnt[F] = {0};
    for (int w = 0; w < 3; w++) {
        test_fill_uniform(&r, pred[w], O * W * I, -2, 2);
        const int *f = ctx_window(&l, w);
        for (int o = 0; o < O; o++)
            for (int k = 0; k < W; k++)
                for (int i = 0; i < I; i++) sum[o][f[k]][i] += pred[w][(o * W + k) * I + i];
        for (int k = 0; k < W; k++) cnt[f[k]]++;
    }
    float out[O * F * I];
    for (int rep = 0; rep < 2; rep++) { /* the second pass checks ctx_accum_zero */
        ctx_accum_zero(&a);
        for (int w = 0; w < 3; w++) ctx_accum_add(&a, ctx_window(&l, w), W, pred[w]);
        ctx_accum_mean(&a, out);
        for (int f = 0; f < F; f++) CHECK(a.counter[f] == (float)cnt[f] && cnt[f] == 2);
        for (int o = 0; o < O; o++)
            for (int f = 0; f < F; f++)
                for (int i = 0; i < I; i++) {
                    double want = sum[o][f][i] / cnt[f];
                    float got = out[(o * F + f) * I + i];
                    CHECK_MSG(fabs(got - want) <= 1e-6 * (1 + fabs(want)), "o %d f %d i %d: %g vs %g", o, f, i, got,
                              want);
                }
        /* frame 2 = window 0 (k 2) + window 1 (k 0), added in float in that order, then / 2 */
        float exact = (0.0f + pred[0][(1 * W + 2) * I + 3] + pred[1][(1 * W + 0) * I + 3]) / 2.0f;
        CHECK(out[(1 * F + 2) * I + 3] == exact);
    }
    ctx_window_list_free(&l);

    /* a frame twice in one window: the last occurrence wins, counted once */
    ctx_accum_zero(&a);
    static const int dup[3] = {0, 1, 0};
    float p3[O * 3 * I];
    for (int j = 0; j < O * 3 * I; j++) p3[j] = (float)(j + 1);
    ctx_accum_add(&a, dup, 3, p3);
    CHECK(a.counter[0] == 1.0f && a.counter[1] == 1.0f && a.counter[2] == 0.0f);
    ctx_accum_mean(&a, out);
    for (int o = 0; o < O; o++)
        for (int i = 0; i < I; i++) {
            CHECK(out[(o * F + 0) * I + i] == p3[(o * 3 + 2) * I + i]);
            CHECK(out[(o * F + 1) * I + i] == p3[(o * 3 + 1) * I + i]);
            CHECK(isnan(out[(o * F + 2) * I + i])); /* 0 / 0: never covered */
        }
    ctx_accum_free(&a);
}

/* tensor `key` of an open tf_file as malloc'd floats, *n its size */
static float *ctx_test_read(const tf_file *f, const char *key, size_t *n) {
    const tf_tensor *t = tf_find(f, key);
    if (!t) {
        printf("    no tensor '%s'\n", key);
        return NULL;
    }
    *n = (size_t)tf_numel(t);
    float *x = malloc(*n * sizeof *x);
    anim_error e;
    if (x && tf_read_f32(t, x, &e)) {
        printf("    %s\n", e.msg);
        free(x);
        return NULL;
    }
    return x;
}

/* moore-tiny-long step 0: 5 windows of 4 frames; window inputs are the
 * latents at the window's frames, outputs averaged per frame, then CFG 3.5
 * and one DDIM step. Everything float32, as the upstream pipeline ran it. */
TEST(context_fixture_long_step0) {
    anim_error e;
    tf_file *tf = NULL;
    CHECK_OK(tf_open(LONG "outputs/intermediates.safetensors", &tf, &e), &e);
    anim_model_config mc;
    if (anim_model_config_load(&mc, "tests/fixtures/moore-tiny/unet/config.json",
                               "tests/fixtures/moore-tiny/model_config.json", &e)) {
        tf_close(tf);
        CHECK_MSG(false, "%s", e.msg);
    }
    enum { C = 4, F = 10, HW = 64, W = 4, NW = 5 };
    size_t n = 0, m = 0;
    float *lat = ctx_test_read(tf, "latents_init", &n);             /* [1, 4, 10, 8, 8] */
    float *guided = ctx_test_read(tf, "step0_guided_model_output", &m);
    float *want = ctx_test_read(tf, "latents_after_step0", &m);
    float *mean = malloc(2 * C * F * HW * sizeof *mean), *g = malloc(C * F * HW * sizeof *g);
    ctx_window_list l = {0};
    ctx_accum a = {0};
    ddim d = {0};
    bool ok = lat && guided && want && mean && g && n == C * F * HW && m == n;
    if (!ok) test_fail(__FILE__, __LINE__, "fixture tensors missing or of unexpected size");
    if (ok && (ctx_windows(0, 3, F, W, 1, 2, true, &l, &e) || ctx_accum_init(&a, 2 * C, F, HW, &e) ||
               ddim_init(&d, &mc.sched, 3, &e))) {
        test_fail(__FILE__, __LINE__, "%s", e.msg);
        ok = false;
    }
    ok = ok && l.n_windows == NW;
    for (int w = 0; ok && w < NW; w++) {
        char key[64];
        size_t ni = 0, np = 0;
        snprintf(key, sizeof key, "step0_unet_in_latents.call%d", w);
        float *in = ctx_test_read(tf, key, &ni);                    /* [2, 4, 4, 8, 8] */
        snprintf(key, sizeof key, "step0_noise_pred.call%d", w);
        float *pred = ctx_test_read(tf, key, &np);
        ok = in && pred && ni == 2 * C * W * HW && np == ni;
        /* the UNet input of call w is cat([latents[:, :, c]] * 2) for our window c */
        const int *fr = ok ? ctx_window(&l, w) : NULL;
        for (int b = 0; ok && b < 2; b++)
            for (int c = 0; ok && c < C; c++)
                for (int k = 0; ok && k < W; k++)
                    ok = !memcmp(in + ((b * C + c) * W + k) * HW, lat + (c * F + fr[k]) * HW, HW * sizeof(float));
        if (!ok) test_fail(__FILE__, __LINE__, "call %d: UNet input is not latents at our window %d", w, w);
        if (ok) ctx_accum_add(&a, fr, W, pred);                     /* outer = batch 2 x channels 4 */
        free(in);
        free(pred);
    }
    if (ok) {
        /* (noise_pred / counter).chunk(2) -> uncond + 3.5 * (cond - uncond) */
        ctx_accum_mean(&a, mean);
        ddim_guidance(g, mean, mean + C * F * HW, 3.5f, C * F * HW);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) bad += g[i] != guided[i];
        if (bad) test_fail(__FILE__, __LINE__, "guided model output: %zu of %zu differ", bad, n);
        ddim_step(&d, 0, g, lat, n);
        bad = 0;
        double mx = 0;
        for (size_t i = 0; i < n; i++)
            if (lat[i] != want[i]) {
                bad++;
                if (fabs(lat[i] - want[i]) > mx) mx = fabs(lat[i] - want[i]);
            }
        printf("    moore-tiny-long step 0 (5 windows, average, CFG, DDIM): %zu of %zu differ (max %.3g)\n", bad, n,
               mx);
        if (bad) test_fail(__FILE__, __LINE__, "latents_after_step0 not bit-exact");
    }
    ddim_free(&d);
    ctx_accum_free(&a);
    ctx_window_list_free(&l);
    free(lat);
    free(guided);
    free(want);
    free(mean);
    free(g);
    tf_close(tf);
}
