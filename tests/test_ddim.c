/*
 * test_ddim.c - DDIM scheduler (lib/pipe/ddim.c) against diffusers 0.24 and
 * the float32 fixtures made by the upstream PyTorch code.
 *
 * Expected values and where they come from:
 *   - timesteps: params.json of the fixtures ([999, 666, 332], [999, 499]),
 *     the formula round(T * (steps - i) / steps) - 1 computed here with exact
 *     integers (it differs from numpy's float arange only on exact halves),
 *     and lists produced by numpy 1.24.2 (the fixtures' version) for the
 *     half-way and linspace cases, written in below;
 *   - alphas_cumprod: the zero-SNR schedule derived here in double;
 *   - step / CFG: tests/fixtures/moore-tiny*, outputs/intermediates.safetensors.
 */
#include <stdlib.h>

#include "io/tensor_file.h"
#include "nn/config.h"
#include "pipe/ddim.h"
#include "test.h"

#define TINY "tests/fixtures/moore-tiny/"
#define RESIZE "tests/fixtures/moore-tiny-resize/"

/* tensor `key` of a safetensors file as malloc'd floats; NULL (and a test
 * failure message) when missing */
static float *ddim_test_load(const char *path, const char *key, size_t *n) {
    tf_file *f = NULL;
    anim_error e;
    if (tf_open(path, &f, &e)) {
        printf("    %s\n", e.msg);
        return NULL;
    }
    const tf_tensor *t = tf_find(f, key);
    float *x = NULL;
    if (t) {
        *n = (size_t)tf_numel(t);
        x = malloc(*n * sizeof *x);
        if (x && tf_read_f32(t, x, &e)) {
            printf("    %s\n", e.msg);
            free(x);
            x = NULL;
        }
    } else {
        printf("    %s: no tensor '%s'\n", path, key);
    }
    tf_close(f);
    return x;
}

/* the scheduler config the fixtures ship (model_config.json noise_scheduler_kwargs) */
static bool ddim_test_fixture_sched(sched_config *s) {
    anim_model_config mc;
    anim_error e;
    if (anim_model_config_load(&mc, TINY "unet/config.json", TINY "model_config.json", &e)) {
        printf("    %s\n", e.msg);
        return false;
    }
    *s = mc.sched;
    return true;
}

static size_t count_diff(const float *a, const float *b, size_t n, double *max_abs) {
    size_t bad = 0;
    *max_abs = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || isnan(a[i]) != isnan(b[i])) {
            bad++;
            double d = fabs((double)a[i] - (double)b[i]);
            if (!(d <= *max_abs)) *max_abs = d;
        }
    }
    return bad;
}

TEST(ddim_timesteps_fixtures) {
    sched_config s;
    CHECK(ddim_test_fixture_sched(&s));
    CHECK(s.timestep_spacing == SCHED_SPACING_TRAILING && s.num_train_timesteps == 1000);
    anim_error e;
    ddim d;
    /* moore-tiny / moore-tiny-long params.json scheduler.timesteps */
    CHECK_OK(ddim_init(&d, &s, 3, &e), &e);
    CHECK(d.n_timesteps == 3 && d.step_ratio == 333);
    CHECK(ddim_timestep(&d, 0) == 999 && ddim_timestep(&d, 1) == 666 && ddim_timestep(&d, 2) == 332);
    ddim_free(&d);
    /* moore-tiny-resize params.json: 2 steps */
    CHECK_OK(ddim_init(&d, &s, 2, &e), &e);
    CHECK(d.n_timesteps == 2 && d.step_ratio == 500);
    CHECK(ddim_timestep(&d, 0) == 999 && ddim_timestep(&d, 1) == 499);
    ddim_free(&d);
    ddim_free(&d); /* a freed (zeroed) struct is a no-op */
    ddim_free(NULL);
}

/* round(T * (steps - i) / steps) - 1 with exact integers, half to even */
static int exact_trailing(int T, int steps, int i) {
    long v = (long)T * (steps - i), q = v / steps, r = v % steps;
    long rq = 2 * r > steps ? q + 1 : 2 * r < steps ? q : q + (q & 1);
    return (int)rq - 1;
}

TEST(ddim_timesteps_trailing) {
    sched_config s;
    sched_config_default(&s);
    anim_error e;
    ddim d;
    /* 30 steps (Moore's default): the list in reference/models.md 1.6 */
    static const int want30[30] = {999, 966, 932, 899, 866, 832, 799, 766, 732, 699, 666, 632, 599, 566, 532,
                                   499, 466, 432, 399, 366, 332, 299, 266, 232, 199, 166, 132, 99,  66,  32};
    CHECK_OK(ddim_init(&d, &s, 30, &e), &e);
    CHECK(d.n_timesteps == 30 && d.step_ratio == 33); /* prev_t = t - 1000 // 30 */
    for (int i = 0; i < 30; i++) {
        CHECK_MSG(ddim_timestep(&d, i) == want30[i], "30 steps: [%d] = %d, want %d", i, ddim_timestep(&d, i),
                  want30[i]);
        CHECK(ddim_timestep(&d, i) == exact_trailing(1000, 30, i));
    }
    ddim_coeffs k;
    ddim_step_coeffs(&d, 1, &k);
    CHECK(k.t == 966 && k.prev_t == 933); /* the quirk: not the next timestep (932) */
    ddim_step_coeffs(&d, 29, &k);
    CHECK(k.t == 32 && k.prev_t == -1 && k.alpha_prod_t_prev == 1.0f && k.sqrt_dir == 0.0f);
    ddim_free(&d);

    /* every step count 1..1000: numpy's float arange agrees with the exact
     * formula except on exact halves, where its rounding error decides */
    int n_ok = 0, n_refused = 0, n_half = 0;
    for (int steps = 1; steps <= 1000; steps++) {
        anim_status st = ddim_init(&d, &s, steps, &e);
        if (st) {
            CHECK_MSG(st == ANIM_E_INVALID_ARG, "%d steps: %s", steps, e.msg);
            CHECK_CONTAINS(e.msg, "trailing");
            n_refused++;
            continue;
        }
        CHECK(d.n_timesteps == steps && d.step_ratio == 1000 / steps);
        for (int i = 0; i < steps; i++) {
            int x = exact_trailing(1000, steps, i);
            if (ddim_timestep(&d, i) != x) {
                /* only where T * (steps - i) / steps is exactly k + 0.5 */
                CHECK_MSG((2L * 1000 * (steps - i)) % steps == 0 && (2L * 1000 * (steps - i) / steps) % 2 == 1,
                          "%d steps: [%d] = %d, exact %d", steps, i, ddim_timestep(&d, i), x);
                CHECK(abs(ddim_timestep(&d, i) - x) == 1);
                n_half++;
            }
        }
        n_ok++;
        ddim_free(&d);
    }
    /* numpy 1.24.2: len(np.arange(1000, 0, -1000 / steps)) == steps + 1 for 62
     * counts (61, 103, 121, ..., 998); the extra timestep is -1 */
    CHECK_MSG(n_refused == 62, "refused %d step counts, want 62", n_refused);
    CHECK(ddim_init(&d, &s, 61, &e) == ANIM_E_INVALID_ARG);
    CHECK(ddim_init(&d, &s, 871, &e) == ANIM_E_INVALID_ARG);
    CHECK(d.timesteps == NULL && d.alphas_cumprod == NULL); /* zeroed on failure */
    /* numpy 1.24.2: np.round(np.arange(1000, 0, -1000 / 48)).astype(int64) - 1
     * = [999, 978, 957, 936, ...]: 937.5 comes out as 937.4999... -> 936, not 937 */
    CHECK_OK(ddim_init(&d, &s, 48, &e), &e);
    CHECK(ddim_timestep(&d, 1) == 978 && ddim_timestep(&d, 2) == 957 && ddim_timestep(&d, 3) == 936);
    ddim_free(&d);
    CHECK(n_half > 0 && n_ok == 1000 - 62);
}

TEST(ddim_timesteps_leading_linspace) {
    sched_config s;
    sched_config_default(&s);
    anim_error e;
    ddim d;
    /* leading: (arange(steps) * (T // steps))[::-1] + steps_offset */
    s.timestep_spacing = SCHED_SPACING_LEADING;
    CHECK_OK(ddim_init(&d, &s, 3, &e), &e);
    CHECK(ddim_timestep(&d, 0) == 667 && ddim_timestep(&d, 1) == 334 && ddim_timestep(&d, 2) == 1);
    ddim_free(&d);
    CHECK_OK(ddim_init(&d, &s, 30, &e), &e);
    for (int i = 0; i < 30; i++) CHECK(ddim_timestep(&d, i) == (29 - i) * 33 + 1);
    ddim_free(&d);
    /* 1000 steps + offset 1 would index alphas_cumprod[1000] */
    CHECK_STATUS(ddim_init(&d, &s, 1000, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "outside [0, 1000)");
    s.steps_offset = 0;
    CHECK_OK(ddim_init(&d, &s, 1000, &e), &e);
    CHECK(ddim_timestep(&d, 0) == 999 && ddim_timestep(&d, 999) == 0);
    ddim_free(&d);

    /* linspace: np.linspace(0, T - 1, steps).round()[::-1]; numpy 1.24.2 gives
     * [0, 166.5, 333, 499.5, 666, 832.5, 999] -> [0, 166, 333, 500, 666, 832, 999]
     * (half to even) and [0, 249.75, 499.5, 749.25, 999] -> [0, 250, 500, 749, 999] */
    s.timestep_spacing = SCHED_SPACING_LINSPACE;
    static const int want7[7] = {999, 832, 666, 500, 333, 166, 0};
    static const int want5[5] = {999, 749, 500, 250, 0};
    CHECK_OK(ddim_init(&d, &s, 7, &e), &e);
    for (int i = 0; i < 7; i++) CHECK_MSG(ddim_timestep(&d, i) == want7[i], "[%d] %d", i, ddim_timestep(&d, i));
    ddim_free(&d);
    CHECK_OK(ddim_init(&d, &s, 5, &e), &e);
    for (int i = 0; i < 5; i++) CHECK(ddim_timestep(&d, i) == want5[i]);
    ddim_free(&d);
    /* numpy 1.24.2, 30 steps: 999 965 930 896 ... 69 34 0 */
    CHECK_OK(ddim_init(&d, &s, 30, &e), &e);
    CHECK(ddim_timestep(&d, 0) == 999 && ddim_timestep(&d, 1) == 965 && ddim_timestep(&d, 2) == 930 &&
          ddim_timestep(&d, 3) == 896 && ddim_timestep(&d, 27) == 69 && ddim_timestep(&d, 28) == 34 &&
          ddim_timestep(&d, 29) == 0);
    ddim_free(&d);
    CHECK_OK(ddim_init(&d, &s, 1, &e), &e);
    CHECK(d.n_timesteps == 1 && ddim_timestep(&d, 0) == 0);
    ddim_free(&d);
}

TEST(ddim_rejects_bad_arguments) {
    sched_config s;
    sched_config_default(&s);
    anim_error e;
    ddim d;
    CHECK_STATUS(ddim_init(&d, &s, 0, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "num_inference_steps");
    CHECK_STATUS(ddim_init(&d, &s, 1001, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "num_inference_steps");
    s.num_train_timesteps = 1;
    CHECK_STATUS(ddim_init(&d, &s, 1, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "num_train_timesteps");
    sched_config_default(&s);
    CHECK_STATUS(ddim_init_linspace(&d, &s, 30, (ddim_linspace)7, &e), ANIM_E_INVALID_ARG, &e);
    ddim_free(&d);
}

/* The zero-SNR schedule in double, from the same float32 betas. */
static void zero_snr_double(const float *betas32, int T, double *ac) {
    double p = 1.0;
    for (int i = 0; i < T; i++) {
        p *= 1.0 - (double)betas32[i];
        ac[i] = sqrt(p);
    }
    const double s0 = ac[0], sT = ac[T - 1];
    for (int i = 0; i < T; i++) {
        double v = (ac[i] - sT) * (s0 / (s0 - sT));
        ac[i] = v * v;
    }
}

TEST(ddim_alphas_cumprod_zero_snr) {
    sched_config s;
    sched_config_default(&s);
    anim_error e;
    ddim d;
    CHECK_OK(ddim_init(&d, &s, 30, &e), &e);
    const int T = 1000;
    CHECK(d.alphas_cumprod[T - 1] == 0.0f);        /* zero terminal SNR, exactly */
    CHECK(d.betas[T - 1] == 1.0f);
    CHECK(d.final_alpha_cumprod == 1.0f && d.init_noise_sigma == 1.0f);

    /* the rescaled betas, rebuilt: the linear betas before the rescale, in
     * float32, equal linspace ends exactly */
    ddim raw;
    s.rescale_betas_zero_snr = false;
    CHECK_OK(ddim_init(&raw, &s, 30, &e), &e);
    CHECK(raw.betas[0] == 0.00085f && raw.betas[T - 1] == 0.012f);
    for (int i = 1; i < T; i++) CHECK(raw.betas[i] > raw.betas[i - 1]);
    /* no rescale: alphas_cumprod[999] = prod(1 - beta) ~ 1.58e-3 */
    double p = 1.0;
    for (int i = 0; i < T; i++) p *= 1.0 - (double)(0.00085 + (0.012 - 0.00085) * i / 999.0);
    CHECK_MSG(fabs(raw.alphas_cumprod[T - 1] / p - 1) < 1e-4, "raw ac[999] %.9g vs %.9g", raw.alphas_cumprod[T - 1],
              p);

    double *ref = malloc(T * sizeof *ref);
    CHECK(ref);
    zero_snr_double(raw.betas, T, ref);
    ddim_free(&raw);
    /* float32 rounding in 1 - beta, sqrt, shift, scale, square, the ratios and
     * the second cumprod; the relative error grows where alphas_cumprod -> 0
     * (the shift cancels). Measured max: 4.3e-7 for t <= 500, 8.6e-7 for
     * 500 < t <= 900, 1.9e-5 above. */
    double worst_lo = 0, worst_hi = 0, worst_tail = 0;
    for (int t = 0; t < T - 1; t++) {
        double rel = fabs(d.alphas_cumprod[t] - ref[t]) / ref[t];
        if (t <= 500 && rel > worst_lo) worst_lo = rel;
        if (t > 500 && t <= 900 && rel > worst_hi) worst_hi = rel;
        if (t > 900 && rel > worst_tail) worst_tail = rel;
        if (t <= 900) CHECK_MSG(rel < (t <= 500 ? 1e-6 : 4e-6), "t %d: %.9g vs %.9g (rel %.3g)", t,
                                d.alphas_cumprod[t], ref[t], rel);
        CHECK_MSG(rel < 5e-4, "t %d: %.9g vs %.9g (rel %.3g)", t, d.alphas_cumprod[t], ref[t], rel);
        CHECK(d.alphas_cumprod[t] > d.alphas_cumprod[t + 1]);
    }
    printf("    zero-SNR alphas_cumprod vs double: max rel %.3g (t <= 500), %.3g (500 < t <= 900), %.3g (t > 900)\n",
           worst_lo, worst_hi, worst_tail);
    free(ref);
    /* reference/models.md 1.6 (float64 approximations, 3-4 digits) */
    static const struct { int t; double v; } doc[] = {
        {966, 8.05e-5}, {932, 3.94e-4}, {99, 0.8639}, {66, 0.9184}, {32, 0.9653}};
    for (size_t i = 0; i < sizeof doc / sizeof doc[0]; i++)
        CHECK_MSG(fabs(d.alphas_cumprod[doc[i].t] / doc[i].v - 1) < 1e-3, "t %d: %.6g vs %.6g", doc[i].t,
                  d.alphas_cumprod[doc[i].t], doc[i].v);
    /* the value step 0 of moore-tiny uses (t 999 -> prev 666), bit-exact in
     * ddim_step_fixture_moore_tiny; printed for the record */
    printf("    alphas_cumprod[666] = %.9g, [499] = %.9g\n", d.alphas_cumprod[666], d.alphas_cumprod[499]);
    ddim_free(&d);
}

TEST(ddim_scaled_linear_betas) {
    /* MusePose: torch.linspace(sqrt(0.00085), sqrt(0.012), T, float32) ** 2 */
    sched_config s;
    sched_config_default(&s);
    s.beta_schedule = SCHED_BETA_SCALED_LINEAR;
    s.rescale_betas_zero_snr = false;
    anim_error e;
    ddim d;
    CHECK_OK(ddim_init(&d, &s, 30, &e), &e);
    const float b0 = (float)sqrt(0.00085), b1 = (float)sqrt(0.012);
    CHECK(d.betas[0] == b0 * b0 && d.betas[999] == b1 * b1);
    for (int i = 0; i < 1000; i += 37) {
        double x = sqrt(0.00085) + (sqrt(0.012) - sqrt(0.00085)) * i / 999.0;
        CHECK_MSG(fabs(d.betas[i] / (x * x) - 1) < 1e-6, "beta[%d] %.9g vs %.9g", i, d.betas[i], x * x);
    }
    ddim_free(&d);
}

/* torch 1.13's vectorized linspace and torch 2's scalar one give different
 * float32 betas (in the last bit) */
TEST(ddim_linspace_variants) {
    sched_config s;
    sched_config_default(&s);
    s.rescale_betas_zero_snr = false;
    anim_error e;
    ddim a, b;
    CHECK_OK(ddim_init_linspace(&a, &s, 30, DDIM_LINSPACE_TORCH113, &e), &e);
    CHECK_OK(ddim_init_linspace(&b, &s, 30, DDIM_LINSPACE_TORCH2, &e), &e);
    int diff = 0;
    for (int i = 0; i < 1000; i++) {
        if (a.betas[i] != b.betas[i]) {
            diff++;
            CHECK(fabsf(a.betas[i] - b.betas[i]) <= 2e-9f); /* an ulp or two of ~0.006 */
        }
    }
    /* both are exact at the ends and at the first / last few elements */
    CHECK(a.betas[0] == b.betas[0] && a.betas[1] == b.betas[1] && a.betas[999] == b.betas[999]);
    CHECK_MSG(diff > 100, "only %d betas differ", diff);
    ddim_free(&a);
    ddim_free(&b);
}

/* step(v-prediction) on the fixture: latents_init + step0_guided_model_output
 * -> latents_after_step0, and CFG on step0_noise_pred.call0 */
static void run_step_fixture(const char *dir, int steps, ddim_linspace lin, bool want_exact) {
    char p[256];
    snprintf(p, sizeof p, "%soutputs/intermediates.safetensors", dir);
    size_t n = 0, n2 = 0, n3 = 0, np = 0;
    float *x = ddim_test_load(p, "latents_init", &n);
    float *v = ddim_test_load(p, "step0_guided_model_output", &n2);
    float *want = ddim_test_load(p, "latents_after_step0", &n3);
    float *pred = ddim_test_load(p, "step0_noise_pred.call0", &np);
    float *g = malloc((n ? n : 1) * sizeof *g);
    sched_config s;
    ddim d = {0};
    anim_error e;
    bool ok = x && v && want && pred && g && n == n2 && n == n3 && np == 2 * n && ddim_test_fixture_sched(&s);
    if (!ok) test_fail(__FILE__, __LINE__, "%s: fixture tensors missing or of unexpected sizes", dir);
    if (ok && ddim_init_linspace(&d, &s, steps, lin, &e)) {
        test_fail(__FILE__, __LINE__, "%s", e.msg);
        ok = false;
    }
    if (ok) {
        /* CFG: batch 0 = uncond, batch 1 = cond (the [2, 4, F, h, w] halves) */
        ddim_guidance(g, pred, pred + n, 3.5f, n);
        double mx;
        size_t bad = count_diff(g, v, n, &mx);
        if (bad) test_fail(__FILE__, __LINE__, "%s CFG: %zu of %zu differ (max %.3g)", dir, bad, n, mx);
        ddim_step(&d, 0, v, x, n);
        bad = count_diff(x, want, n, &mx);
        printf("    %s step 0 (t %d -> %d, linspace %s): %zu of %zu differ, max |err| %.3g\n", dir,
               ddim_timestep(&d, 0), ddim_timestep(&d, 0) - d.step_ratio,
               lin == DDIM_LINSPACE_TORCH113 ? "torch1.13" : "torch2", bad, n, mx);
        if (want_exact && bad) test_fail(__FILE__, __LINE__, "%s: step 0 is not bit-exact", dir);
        if (!want_exact && mx > 1e-6) test_fail(__FILE__, __LINE__, "%s: step 0 error %.3g > 1e-6", dir, mx);
    }
    ddim_free(&d);
    free(x);
    free(v);
    free(want);
    free(pred);
    free(g);
}

TEST(ddim_step_fixture_moore_tiny) {
    run_step_fixture(TINY, 3, DDIM_LINSPACE_TORCH113, true);
}

TEST(ddim_step_fixture_resize) {
    /* 2 steps: 999 -> 499, whose alphas_cumprod differs in the last bit
     * between the linspace variants: only the torch 1.13 one is bit-exact */
    run_step_fixture(RESIZE, 2, DDIM_LINSPACE_TORCH113, true);
    if (test_failed()) return;
    run_step_fixture(RESIZE, 2, DDIM_LINSPACE_TORCH2, false);
}

TEST(ddim_step_formulas) {
    /* every prediction type / clip option against the formula in double,
     * with the coefficients the step uses */
    test_rng r;
    test_rng_seed(&r, 11);
    enum { N = 4096 };
    float *x = malloc(N * sizeof *x), *m = malloc(N * sizeof *m), *y = malloc(N * sizeof *y);
    double *ref = malloc(N * sizeof *ref);
    CHECK(x && m && y && ref);
    test_fill_uniform(&r, x, N, -3, 3);
    test_fill_uniform(&r, m, N, -3, 3);
    sched_config s;
    sched_config_default(&s);
    anim_error e;
    for (int variant = 0; variant < 3; variant++) {
        s.prediction_type = variant == 0 ? SCHED_PRED_V : SCHED_PRED_EPSILON;
        s.clip_sample = variant == 2;
        s.rescale_betas_zero_snr = variant == 0;
        s.timestep_spacing = variant == 0 ? SCHED_SPACING_TRAILING : SCHED_SPACING_LEADING;
        ddim d;
        CHECK_OK(ddim_init(&d, &s, 25, &e), &e);
        for (int i = 0; i < 25; i += 6) {
            ddim_coeffs k;
            ddim_step_coeffs(&d, i, &k);
            CHECK(k.t == ddim_timestep(&d, i) && k.prev_t == k.t - 40);
            CHECK(k.alpha_prod_t == d.alphas_cumprod[k.t]);
            CHECK(k.alpha_prod_t_prev == (k.prev_t >= 0 ? d.alphas_cumprod[k.prev_t] : 1.0f));
            double a = k.alpha_prod_t, ap = k.alpha_prod_t_prev;
            for (int j = 0; j < N; j++) {
                double x0, eps;
                if (variant == 0) {
                    x0 = sqrt(a) * x[j] - sqrt(1 - a) * m[j];
                    eps = sqrt(a) * m[j] + sqrt(1 - a) * x[j];
                } else {
                    x0 = (x[j] - sqrt(1 - a) * m[j]) / sqrt(a);
                    eps = m[j];
                }
                if (variant == 2) x0 = x0 < -1 ? -1 : x0 > 1 ? 1 : x0;
                ref[j] = sqrt(ap) * x0 + sqrt(1 - ap) * eps;
            }
            memcpy(y, x, N * sizeof *y);
            ddim_step(&d, i, m, y, N);
            char what[64];
            snprintf(what, sizeof what, "variant %d step %d (t %d)", variant, i, k.t);
            /* epsilon at t near 999 divides by sqrt(alpha) ~ 0.07: larger values */
            CHECK(test_compare(what, y, ref, N, 1e-12, 1e-5, 2e-6));
        }
        ddim_free(&d);
    }
    free(x);
    free(m);
    free(y);
    free(ref);
}

TEST(ddim_guidance_formula) {
    float u[5] = {0.0f, 1.0f, -2.5f, 3.25f, 1e-3f}, c[5] = {1.0f, 1.0f, 0.5f, -1.0f, 2e-3f}, out[5];
    ddim_guidance(out, u, c, 3.5f, 5);
    for (int i = 0; i < 5; i++) CHECK(out[i] == u[i] + 3.5f * (c[i] - u[i]));
    CHECK(out[0] == 3.5f && out[1] == 1.0f && out[2] == 8.0f);
    /* out may alias an input */
    ddim_guidance(u, u, c, 1.0f, 5);
    for (int i = 0; i < 5; i++) CHECK(u[i] == c[i]);
}
