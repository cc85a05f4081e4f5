/*
 * test_whisper.c - the Whisper AudioEncoder and EchoMimic's Audio2Feature
 * (lib/nn/whisper.c) against the echomimic-tiny fixture, which the real
 * upstream code produced (antgroup/echomimic vendored whisper + audio2feature,
 * torch 1.13 CPU float32, float16 checkpoint values upcast):
 *   log_mel (80, 216) -> whisper_feature (T50 108, 5, 64): the 5 hidden states
 *   before ln_post, then feature2chunks -> audio_fea_final (1, 12, 50, 64).
 * Plus the frame-count / window rules on hand-computed cases and the
 * segmenting of a mel longer than one 3000-frame segment.
 */
#include <stdlib.h>

#include "io/tensor_file.h"
#include "nn/model.h"
#include "nn/whisper.h"
#include "test.h"

#define EMT "tests/fixtures/echomimic-tiny"

static anim_be *wh_be;
static anim_model *wh_model;

/* the echomimic-tiny model (loaded once), a fresh context over it */
static bool wh_ctx(nn_ctx *c, anim_error *e) {
    memset(c, 0, sizeof *c);
    anim_err_clear(e);
    if (!wh_be && anim_be_create_cpu(4, &wh_be, e) != ANIM_OK) return false;
    if (!wh_model) {
        anim_hooks h = {ANIM_LOG_ERROR, NULL, NULL, NULL, NULL, NULL, NULL};
        if (anim_model_load(wh_be, EMT, &h, &wh_model, e) != ANIM_OK) {
            wh_model = NULL;
            return false;
        }
    }
    c->be = wh_be;
    c->model = wh_model;
    c->net = "test";
    c->err = e;
    return nn_arena_create(wh_be, 0, &c->ar, e) == ANIM_OK;
}

/* tensor `key` of EMT/audio_features/audio_features.safetensors as malloc'd F32 */
static float *wh_read(const char *key, int64_t *shape, int *ndim, anim_error *e) {
    tf_file *f = NULL;
    if (tf_open(EMT "/audio_features/audio_features.safetensors", &f, e) != ANIM_OK) return NULL;
    const tf_tensor *t = tf_find(f, key);
    float *x = t ? malloc((size_t)tf_numel(t) * sizeof *x) : NULL;
    if (!t) anim_seterr(e, ANIM_E_IO, "audio_features.safetensors: no tensor '%s'", key);
    if (x && tf_read_f32(t, x, e) != ANIM_OK) {
        free(x);
        x = NULL;
    }
    if (x) {
        *ndim = t->ndim;
        for (int i = 0; i < t->ndim; i++) shape[i] = t->shape[i];
    }
    tf_close(f);
    return x;
}

static double *wh_double(const float *x, size_t n) {
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; d && i < n; i++) d[i] = x[i];
    return d;
}

/* nmse and max |err| of out against ref over n values */
static void wh_err(const float *out, const float *ref, size_t n, size_t stride, size_t count, double *nmse,
                   double *maxe) {
    double se = 0, sr = 0, mx = 0;
    for (size_t b = 0; b < n; b += stride)
        for (size_t i = b; i < b + count; i++) {
            double d = (double)out[i] - ref[i];
            se += d * d;
            sr += (double)ref[i] * ref[i];
            if (fabs(d) > mx) mx = fabs(d);
        }
    *nmse = sr > 0 ? se / sr : se;
    *maxe = mx;
}

/* whisper_feature from the fixture's log_mel, every T50 x 5 x C value.
 * Measured (CPU backend): nmse 6.3e-13 over all states, per state h0 1.8e-14,
 * h1 3.8e-13, h2 5.4e-13, h3 7.7e-13, h4 7.5e-13; max |err| 6.9e-6 with |ref|
 * up to 6.8: float32 rounding (summation orders differ from torch's) through
 * the 1500-position attention of 4 blocks. Scaling the scores once by
 * 1/sqrt(d) instead of q and k by d^-0.25 each measures the same (6.2e-13).
 * Limits: h0 nmse 6e-14, h1..h4 1.2e-12, all 1e-12, max |err| 1e-5.
 * Failing variants measured (nmse over all states): LayerNorm eps 1e-6 4.3e-11
 * (h0 untouched), QuickGELU in the MLPs 6.9e-5, QuickGELU after conv2 6.4e-6
 * (h0 1.6e-5), no positional embedding 0.96, a plain LayerNorm (ln_post
 * without its affine) on the last state 0.11 (h4 0.29), k not scaled 5.9e-2. */
TEST(whisper_features_match_upstream) {
    anim_error e;
    nn_ctx c;
    CHECK_MSG(wh_ctx(&c, &e), "%s", e.msg);
    const whisper_dims *d = anim_model_whisper_dims(wh_model);
    CHECK(d && d->n_audio_state == 64 && d->n_audio_layer == 4 && d->n_audio_ctx == 1500);
    int64_t ms[8], fs[8];
    int nm, nf;
    float *mel = wh_read("log_mel", ms, &nm, &e);
    float *ref = wh_read("whisper_feature", fs, &nf, &e);
    CHECK_MSG(mel && ref && nm == 2 && nf == 3 && ms[0] == d->n_mels && fs[1] == 5 && fs[2] == 64, "%s", e.msg);
    const int n_frames = (int)ms[1], T50 = (int)fs[0];
    CHECK(n_frames == 216 && T50 == 108 && whisper_feature_len(d, n_frames) == T50);

    float *feat = NULL;
    int t50 = 0;
    CHECK_OK(whisper_encode(&c, d, mel, n_frames, &feat, &t50), &e);
    CHECK(t50 == T50 && feat);
    const size_t n = (size_t)T50 * 5 * 64;
    bool ok = true;
    char what[64];
    for (int l = 0; l < 5; l++) { /* per hidden state, so a failure says which */
        double nmse, maxe;
        wh_err(feat + l * 64, ref + l * 64, n, 5 * 64, 64, &nmse, &maxe);
        snprintf(what, sizeof what, "whisper_feature h%d", l);
        if (!(nmse <= (l == 0 ? 6e-14 : 1.2e-12) && maxe <= 1e-5)) {
            printf("    %s: nmse %.3g max |err| %.3g\n", what, nmse, maxe);
            ok = false;
        }
    }
    double *rd = wh_double(ref, n);
    ok = test_compare("whisper_feature", feat, rd, n, 1e-12, 1e-5, 0) && ok;
    free(rd);
    free(mel); free(ref); free(feat);
    nn_arena_free(c.ar);
    CHECK(ok);
}

/* feature2chunks(whisper_feature)[:video_length] == audio_fea_final: bit exact
 * from the fixture's own features (pure indexing), and within the feature
 * limits from ours (measured nmse 6.2e-13, max |err| 6.9e-6). */
TEST(whisper_frame_tokens_match_upstream) {
    anim_error e;
    nn_ctx c;
    CHECK_MSG(wh_ctx(&c, &e), "%s", e.msg);
    const whisper_dims *d = anim_model_whisper_dims(wh_model);
    int64_t ms[8], fs[8], as[8];
    int nm, nf, na;
    float *mel = wh_read("log_mel", ms, &nm, &e);
    float *feat_ref = wh_read("whisper_feature", fs, &nf, &e);
    float *tok_ref = wh_read("audio_fea_final", as, &na, &e);
    CHECK_MSG(mel && feat_ref && tok_ref && na == 4 && as[0] == 1 && as[2] == 50 && as[3] == 64, "%s", e.msg);
    const int T50 = (int)fs[0], L = (int)as[1], S = 64, NS = 5;
    const double fps = 24;
    /* FIXTURE.md: 'video_length 12 of 54 audio frames' (L argument 12) */
    const int N = whisper_frame_count(T50, fps);
    CHECK_MSG(N == 54, "frame count %d, want 54", N);
    CHECK(L == (N < 12 ? N : 12));

    float *feat = NULL;
    int t50 = 0;
    CHECK_OK(whisper_encode(&c, d, mel, (int)ms[1], &feat, &t50), &e);
    CHECK(t50 == T50);
    const size_t per = (size_t)10 * NS * S, n = (size_t)L * per;
    float *tok = malloc(n * sizeof *tok), *tok_own = malloc(n * sizeof *tok_own);
    for (int i = 0; i < L; i++) {
        whisper_frame_tokens(feat_ref, T50, NS, S, i, fps, tok + i * per);
        whisper_frame_tokens(feat, T50, NS, S, i, fps, tok_own + i * per);
    }
    bool exact = memcmp(tok, tok_ref, n * sizeof *tok) == 0;
    double *rd = wh_double(tok_ref, n);
    bool close = test_compare("audio_fea_final (own features)", tok_own, rd, n, 1e-12, 1e-5, 0);
    free(rd);
    free(mel); free(feat_ref); free(tok_ref); free(feat); free(tok); free(tok_own);
    nn_arena_free(c.ar);
    CHECK_MSG(exact, "tokens from the fixture's whisper_feature differ from audio_fea_final");
    CHECK(close);
}

/* feature2chunks' frame count: N = first i with int(i * (50./fps)) > T50, + 1 */
TEST(whisper_frame_count_rules) {
    CHECK(whisper_frame_count(108, 24) == 54);  /* i = 52: 108.33 -> 108; i = 53: 110.4 -> 110 */
    CHECK(whisper_frame_count(108, 25) == 56);  /* 2i > 108 first at i = 55 */
    CHECK(whisper_frame_count(109, 25) == 56);  /* 110 > 109 at i = 55 */
    CHECK(whisper_frame_count(110, 25) == 57);  /* 110 is not > 110; 112 at i = 56 */
    CHECK(whisper_frame_count(100, 50) == 102); /* c = i: 101 > 100 at i = 101 */
    CHECK(whisper_frame_count(1, 25) == 2);     /* 0, then 2 > 1 */
    CHECK(whisper_frame_count(500, 30) == 302); /* i = 300: 500 is not > 500; i = 301: 501.67 */
    /* fps 29, i = 145: 145 * 50 / 29 = 250 exactly, but 145 * (50. / 29) =
     * 249.99999999999997 -> 249, so at T50 249 upstream goes on to i = 146
     * (N = 147); the single-division form would stop at 145 (N = 146). */
    CHECK(whisper_frame_count(249, 29) == 147);
    CHECK(whisper_frame_count(248, 29) == 146);
    /* 10 s of audio at 24 fps (talking-head.md 2.7: 242 frames) */
    CHECK(whisper_frame_count(500, 24) == 242);
    CHECK(whisper_frame_count(0, 24) == 0 && whisper_frame_count(10, 0) == 0);
    /* the upstream loop literally, over many lengths and rates */
    const double rates[] = {1, 7.5, 12, 23.976, 24, 25, 29, 29.97, 30, 48, 50, 60, 120, 1000};
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++)
        for (int t = 1; t <= 700; t++) {
            const double mult = 50.0 / rates[k];
            int i = 0;
            for (;;) {
                const long long start_idx = (long long)(i * mult);
                i++;
                if (start_idx > t) break;
            }
            CHECK_MSG(whisper_frame_count(t, rates[k]) == i, "T50 %d fps %g: %d, want %d", t, rates[k],
                      whisper_frame_count(t, rates[k]), i);
        }
}

/* get_sliced_feature windows on a feature whose values encode (idx, state, s) */
TEST(whisper_frame_tokens_windows) {
    const int T50 = 300, NS = 5, S = 3;
    float *f = malloc((size_t)T50 * NS * S * sizeof *f), out[10 * 5 * 3];
    for (int t = 0; t < T50; t++)
        for (int l = 0; l < NS; l++)
            for (int s = 0; s < S; s++) f[(t * NS + l) * S + s] = (float)(t * 100 + l * 10 + s);
    struct { int t50, frame; double fps; int idx[10]; } cases[] = {
        {T50, 0, 25, {0, 0, 0, 0, 0, 1, 2, 3, 4, 5}},           /* clamped at the start */
        {T50, 3, 25, {2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},         /* c = 6 */
        {T50, 5, 24, {6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},     /* c = int(250 / 24) = 10 */
        {T50, 12, 24, {21, 22, 23, 24, 25, 26, 27, 28, 29, 30}},/* c = 600 / 24 = 25 exactly */
        /* c = int(145 * 50 / 29) = 250 (one division), not int(145 * (50. / 29)) = 249 */
        {T50, 145, 29, {246, 247, 248, 249, 250, 251, 252, 253, 254, 255}},
        {108, 53, 24, {106, 107, 107, 107, 107, 107, 107, 107, 107, 107}}, /* c = 110, clamped at the end */
        {T50, 7, 29.97, {7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},  /* c = int(11.678) = 11 */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        whisper_frame_tokens(f, cases[k].t50, NS, S, cases[k].frame, cases[k].fps, out);
        for (int j = 0; j < 10; j++)
            for (int l = 0; l < NS; l++)
                for (int s = 0; s < S; s++) {
                    float want = (float)(cases[k].idx[j] * 100 + l * 10 + s);
                    if (out[(j * NS + l) * S + s] != want) {
                        free(f);
                        CHECK_MSG(0, "case %zu (frame %d, fps %g): token %d state %d = %g, want %g", k,
                                  cases[k].frame, cases[k].fps, j, l, out[(j * NS + l) * S + s], want);
                    }
                }
    }
    free(f);
}

/* T50 = sum over 3000-frame segments of int(valid_frames / 2) */
TEST(whisper_feature_len_rules) {
    whisper_dims d;
    whisper_dims_default(&d);
    CHECK(whisper_feature_len(&d, 0) == 0 && whisper_feature_len(&d, 1) == 0 && whisper_feature_len(&d, 2) == 1);
    CHECK(whisper_feature_len(&d, 216) == 108 && whisper_feature_len(&d, 217) == 108);
    CHECK(whisper_feature_len(&d, 2999) == 1499 && whisper_feature_len(&d, 3000) == 1500);
    CHECK(whisper_feature_len(&d, 3001) == 1500 && whisper_feature_len(&d, 3002) == 1501);
    CHECK(whisper_feature_len(&d, 4001) == 2000 && whisper_feature_len(&d, 7001) == 3500);
}

/* A mel of 4001 frames (two segments: 3000 + 1001 valid, the second zero-padded)
 * on the fixture's random tiny weights: T50 = 1500 + 500; each segment's rows
 * are, bit for bit, what that segment alone gives, and the padded tail equals
 * an explicit zero-padded 3000-frame input. */
TEST(whisper_multi_segment) {
    anim_error e;
    nn_ctx c;
    CHECK_MSG(wh_ctx(&c, &e), "%s", e.msg);
    const whisper_dims *d = anim_model_whisper_dims(wh_model);
    const int M = d->n_mels, NS = d->n_audio_layer + 1, S = d->n_audio_state;
    const int n = 4001, n2 = n - 3000;
    float *mel = malloc((size_t)M * n * sizeof *mel), *a = malloc((size_t)M * 3000 * sizeof *a);
    float *b = calloc((size_t)M * 3000, sizeof *b);
    test_rng r;
    test_rng_seed(&r, 7);
    test_fill_uniform(&r, mel, (size_t)M * n, -1.0f, 1.5f); /* the normalised log-mel range */
    for (int k = 0; k < M; k++) {
        memcpy(a + (size_t)k * 3000, mel + (size_t)k * n, 3000 * sizeof *a);
        memcpy(b + (size_t)k * 3000, mel + (size_t)k * n + 3000, (size_t)n2 * sizeof *b);
    }
    float *fl = NULL, *fa = NULL, *fpad = NULL;
    int tl = 0, ta = 0, tpad = 0;
    CHECK_OK(whisper_encode(&c, d, mel, n, &fl, &tl), &e);
    CHECK_OK(whisper_encode(&c, d, a, 3000, &fa, &ta), &e);
    CHECK_OK(whisper_encode(&c, d, b, 3000, &fpad, &tpad), &e);
    const size_t row = (size_t)NS * S;
    bool shapes = tl == 2000 && ta == 1500 && tpad == 1500;
    bool seg1 = shapes && memcmp(fl, fa, 1500 * row * sizeof *fl) == 0;
    bool seg2 = shapes && memcmp(fl + 1500 * row, fpad, 500 * row * sizeof *fl) == 0;
    /* the segment boundary is a real one: the two segments' first rows differ */
    bool differ = shapes && memcmp(fl, fl + 1500 * row, row * sizeof *fl) != 0;
    /* one frame more than a whole segment keeps nothing of the second (int(1/2) = 0) */
    float *m1 = malloc((size_t)M * 3001 * sizeof *m1), *f1 = NULL;
    for (int k = 0; k < M; k++) memcpy(m1 + (size_t)k * 3001, mel + (size_t)k * n, 3001 * sizeof *m1);
    int t1 = 0;
    anim_status st1 = whisper_encode(&c, d, m1, 3001, &f1, &t1);
    free(m1);
    bool one_more = st1 == ANIM_OK && t1 == 1500 && memcmp(f1, fa, 1500 * row * sizeof *f1) == 0;
    /* a 1-frame mel keeps no position: an error, no output */
    float *f0 = NULL;
    int t0 = -1;
    anim_status st0 = whisper_encode(&c, d, mel, 1, &f0, &t0);
    free(mel); free(a); free(b); free(fl); free(fa); free(fpad); free(f1);
    nn_arena_free(c.ar);
    CHECK_MSG(shapes, "T50 %d / %d / %d, want 2000 / 1500 / 1500", tl, ta, tpad);
    CHECK_MSG(seg1, "segment 1 differs from the first 3000 frames encoded alone");
    CHECK_MSG(seg2, "segment 2 differs from its frames zero-padded to 3000");
    CHECK(differ && one_more);
    CHECK(st0 == ANIM_E_INVALID_ARG && f0 == NULL && t0 == 0);
    CHECK_CONTAINS(e.msg, "1 frames");
}

/* a segment of the wrong shape is refused naming both shapes */
TEST(whisper_encoder_rejects_bad_segment) {
    anim_error e;
    nn_ctx c;
    CHECK_MSG(wh_ctx(&c, &e), "%s", e.msg);
    const whisper_dims *d = anim_model_whisper_dims(wh_model);
    float *x = calloc((size_t)2999 * d->n_mels, sizeof *x);
    nn_t y = whisper_encoder_forward(&c, d, nn_from_host(&c, x, 1, 1, 2999, d->n_mels));
    free(x);
    nn_arena_free(c.ar);
    CHECK(y.d == NULL && c.st == ANIM_E_INVALID_ARG);
    CHECK_CONTAINS(e.msg, "2999");
    CHECK_CONTAINS(e.msg, "3000");
    CHECK(!strcmp(c.net, "test"));
}

/* the stack holds n_layer + 1 states of [1500, S]; state 0 is not state 1 */
TEST(whisper_encoder_state_stack) {
    anim_error e;
    nn_ctx c;
    CHECK_MSG(wh_ctx(&c, &e), "%s", e.msg);
    const whisper_dims *d = anim_model_whisper_dims(wh_model);
    const int M = d->n_mels, T = d->n_audio_ctx, S = d->n_audio_state;
    float *x = malloc((size_t)2 * T * M * sizeof *x);
    test_rng r;
    test_rng_seed(&r, 3);
    test_fill_uniform(&r, x, (size_t)2 * T * M, -1.0f, 1.5f);
    nn_mark_t m0 = nn_mark(&c);
    nn_t y = whisper_encoder_forward(&c, d, nn_from_host(&c, x, 1, 1, 2 * T, M));
    CHECK_MSG(nn_ok(&c), "%s", e.msg);
    CHECK(y.n == d->n_audio_layer + 1 && y.h == 1 && y.w == T && y.c == S);
    float *h = malloc(nn_numel(y) * sizeof *h);
    CHECK(nn_to_host(&c, y, h));
    bool differ = memcmp(h, h + (size_t)T * S, (size_t)T * S * sizeof *h) != 0;
    bool finite = true;
    for (size_t i = 0; i < nn_numel(y); i++) finite = finite && isfinite(h[i]);
    nn_release(&c, m0);
    free(x); free(h);
    nn_arena_free(c.ar);
    CHECK(differ && finite);
}
