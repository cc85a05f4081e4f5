/*
 * test_echo_unet.c - EchoMimic V1's use of the networks (lib/nn/unet.c,
 * lib/nn/pose_guider.c) against the echomimic-tiny fixture, which the real
 * antgroup/echomimic code (Audio2VideoPipeline, EchoUNet3DConditionModel,
 * FaceLocator; diffusers 0.24, torch, float32, CPU) produced (FIXTURE.md items 6-10):
 *   - the face locator (PoseGuider, 1 input channel) on the face mask -> face_locator_out;
 *   - the reference UNet without cross-attention (batch 1, timestep 0,
 *     encoder_hidden_states=None) -> every ref_bank_fp32.<block>, and after the
 *     float16 cast every reader_bank.<block> (CFG: cat([v, v]));
 *   - the denoising UNet at step 0 (t = 999) for each of the 3 window calls:
 *     standard pipeline (CFG batch [uncond, cond]: uncond without reference
 *     attention, with zero audio and zero face features) and the acc pipeline
 *     (its own *_acc weights, batch 1, cond only) -> step0_noise_pred.callK;
 *   - the faults those comparisons must catch (audio scale, uncond audio, face
 *     features missing or also on the uncond half, tokens of the wrong frame).
 * The face locator and the banks agree to float32 rounding; the denoising
 * output has the same floor as the Moore fixture (upstream's rounding at the
 * zero-variance 1x1 motion-module GroupNorm groups of this tiny model, see
 * echo_denoise_step0_matches_upstream).
 */
#include <stdlib.h>
#include <string.h>

#include "fixture_tiny.h"
#include "io/json.h"
#include "io/tensor_file.h"
#include "nn/config.h"
#include "nn/model.h"
#include "nn/nn.h"
#include "nn/pose_guider.h"
#include "nn/unet.h"
#include "util/dtype.h"
#include "test.h"

#define ECHO_DIR "tests/fixtures/echomimic-tiny"
#define AUDIO "audio_features/audio_features.safetensors"

/* ---- fixture access ---- */

static anim_be *echo_be;
static anim_model *echo_m[2]; /* [0] standard weights, [1] ANIM_LOAD_ACC */

static const anim_model *echo_model(bool acc, anim_error *e) {
    if (echo_m[acc]) return echo_m[acc];
    if (!echo_be && anim_be_create_cpu(4, &echo_be, e) != ANIM_OK) return NULL;
    anim_hooks h = {ANIM_LOG_ERROR, NULL, NULL, NULL, NULL, NULL, NULL};
    if (anim_model_load_ex(echo_be, ECHO_DIR, acc ? ANIM_LOAD_ACC : 0, &h, &echo_m[acc], e) != ANIM_OK)
        echo_m[acc] = NULL;
    return echo_m[acc];
}

static bool echo_ctx(nn_ctx *c, bool acc, anim_error *e) {
    memset(c, 0, sizeof *c);
    const anim_model *m = echo_model(acc, e);
    if (!m) return false;
    c->be = echo_be;
    c->model = m;
    c->net = "test";
    c->err = e;
    anim_err_clear(e);
    return nn_arena_create(echo_be, 0, &c->ar, e) == ANIM_OK;
}

static void echo_ctx_free(nn_ctx *c) {
    nn_arena_free(c->ar);
    c->ar = NULL;
}

/* intermediates of one pipeline variant */
static const char *inter(bool acc) {
    return acc ? "outputs_acc/intermediates.safetensors" : "outputs/intermediates.safetensors";
}

/* tensor `key` of ECHO_DIR/file as malloc'd F32 (F16 converted); shape/ndim out */
static float *echo_read(const char *file, const char *key, int64_t *shape, int *ndim, anim_error *e) {
    return fixture_read(ECHO_DIR, file, key, shape, ndim, e);
}

/* params.json variants.<v>: the step-0 timestep and the step-0 windows (after the 2*t_i shift) */
typedef struct echo_plan {
    float t0;
    int n_calls, F;
    int win[8][32];
} echo_plan;

static bool echo_plan_load(bool acc, echo_plan *p, anim_error *e) {
    json_value *root = json_parse_file(ECHO_DIR "/params.json", NULL, e);
    const json_value *v = root ? json_get(json_get(root, "variants"), acc ? "acc" : "standard") : NULL;
    const json_value *ts = v ? json_get(v, "timesteps") : NULL;
    const json_value *ctx = v ? json_get(v, "context") : NULL;
    const json_value *w = ctx ? json_get(ctx, "windows_per_step_after_shift") : NULL;
    bool ok = ts && ts->type == JSON_ARRAY && ts->len > 0 && w && w->type == JSON_ARRAY && w->len > 0 &&
              w->items[0].type == JSON_ARRAY && w->items[0].len > 0 && w->items[0].len <= 8;
    if (ok) {
        p->t0 = (float)ts->items[0].num;
        const json_value *s0 = &w->items[0];
        p->n_calls = (int)s0->len;
        p->F = (int)s0->items[0].len;
        for (int k = 0; ok && k < p->n_calls; k++) {
            const json_value *wk = &s0->items[k];
            ok = wk->type == JSON_ARRAY && (int)wk->len == p->F && p->F <= 32;
            for (int f = 0; ok && f < p->F; f++) p->win[k][f] = (int)wk->items[f].num;
        }
    }
    if (!ok && root) anim_seterr(e, ANIM_E_FORMAT, "params.json: no step-0 timesteps/windows for %s", acc ? "acc" : "standard");
    json_free(root);
    return ok;
}

/* nmse = sum (o - r)^2 / sum r^2 and max |o - r|, printed so the measured
 * agreement is visible in the test log; NaN/Inf never passes */
static bool measure(const float *out, const float *ref, size_t n, double *nmse, double *mx) {
    double se = 0, sr = 0;
    *mx = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i])) {
            *nmse = *mx = INFINITY;
            return false;
        }
        double d = (double)out[i] - ref[i];
        se += d * d;
        sr += (double)ref[i] * ref[i];
        if (fabs(d) > *mx) *mx = fabs(d);
    }
    *nmse = sr > 0 ? se / sr : se;
    return true;
}

static bool compare(const char *what, const float *out, const float *ref, size_t n, double nmse_max, double abs_max) {
    double nmse, mx;
    bool fin = measure(out, ref, n, &nmse, &mx);
    bool ok = fin && nmse <= nmse_max && mx <= abs_max;
    printf("    %-66s nmse %.3g max|err| %.3g%s\n", what, nmse, mx, ok ? "" : "  <-- over the limit");
    return ok;
}

/* ---- face locator ---- */

TEST(echo_face_locator_matches_upstream) {
    anim_error e;
    nn_ctx c;
    CHECK_MSG(echo_ctx(&c, false, &e), "%s", e.msg);
    const anim_model_config *mc = anim_model_cfg(c.model);
    int64_t s[8], r[8];
    int nd = 0, nr = 0;
    float *mask = echo_read("inputs/face_mask.safetensors", "face_mask", s, &nd, &e);
    float *ref = mask ? echo_read(inter(false), "face_locator_out", r, &nr, &e) : NULL;
    float *o = NULL, *on = NULL;
    bool ok = mc->pose_guider.conditioning_channels == 1 && mask && ref && nd == 5 && nr == 5 && s[1] == 1 &&
              s[2] == 1 && r[2] == 1;
    if (!ok) {
        test_fail(__FILE__, __LINE__, "face locator inputs: %s", e.msg);
    } else {
        const int H = (int)s[3], W = (int)s[4], C0 = (int)r[1], h = (int)r[3], w = (int)r[4];
        /* (1, 1, 1, H, W) with one channel is already NHWC [1, H, W, 1] */
        nn_t y = pose_guider_forward(&c, &mc->pose_guider, nn_from_host(&c, mask, 1, H, W, 1));
        o = malloc((size_t)C0 * h * w * sizeof *o);
        on = malloc((size_t)C0 * h * w * sizeof *on);
        if (!nn_ok(&c)) {
            test_fail(__FILE__, __LINE__, "%s", e.msg);
        } else if (y.n != 1 || y.h != h || y.w != w || y.c != C0 || !o || !on || !nn_to_host(&c, y, o)) {
            test_fail(__FILE__, __LINE__, "face locator output [%d, %d, %d, %d], want [1, %d, %d, %d]", y.n, y.h, y.w,
                      y.c, h, w, C0);
        } else {
            nn_nhwc_to_nchw(on, o, 1, h, w, C0);
            /* measured: nmse 6.1e-13, max |err| 6.9e-7 (|ref| up to ~1; 8 convs in
             * float32); limits ~15x above */
            if (!compare("face_locator_out", on, ref, (size_t)C0 * h * w, 1e-11, 1e-5))
                test_fail(__FILE__, __LINE__, "face_locator_out differs from upstream");
        }
    }
    free(o); free(on); free(mask); free(ref);
    echo_ctx_free(&c);
}

/* ---- reference UNet ---- */

/* the reference UNet input: ref_image_latents (1, 4, h, w) as NHWC */
static nn_t ref_latents(nn_ctx *c, bool acc, anim_error *e) {
    int64_t s[8];
    int nd;
    float *x = echo_read(inter(acc), "ref_image_latents", s, &nd, e);
    if (!x || nd != 4) { free(x); return (nn_t){0}; }
    const int N = (int)s[0], C = (int)s[1], H = (int)s[2], W = (int)s[3];
    float *y = malloc((size_t)N * C * H * W * sizeof *y);
    nn_nchw_to_nhwc(y, x, N, C, H, W);
    nn_t t = nn_from_host(c, y, N, H, W, C);
    free(x);
    free(y);
    return t;
}

static float f16_round(float x) { return anim_f16_to_f32(anim_f32_to_f16(x)); }

TEST(echo_reference_bank_matches_upstream) {
    anim_error e;
    nn_ctx c;
    CHECK_MSG(echo_ctx(&c, false, &e), "%s", e.msg);
    const unet_config *rc = &anim_model_cfg(c.model)->reference_unet;
    /* EchoMimic's reference UNet has no attn2 (checked on the first block) */
    c.net = "reference_unet";
    CHECK(nn_w_opt(&c, "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight") &&
          !nn_w_opt(&c, "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_q.weight"));
    c.net = "test";
    unet_tblock tb[64];
    const int nb = unet_tblocks(rc, tb, 64);
    CHECK(nb == 10);
    static unet_bank b32, b16;
    nn_t x = ref_latents(&c, false, &e);
    CHECK_MSG(x.d && x.n == 1, "%s", e.msg);
    /* pipeline_echo_mimic.py: reference_unet(ref_image_latents, zeros_like(t), encoder_hidden_states=None) */
    CHECK_OK(unet_reference_bank(&c, rc, x, (nn_t){0}, false, &b32), &e);
    CHECK(!strcmp(c.net, "test") && b32.n == nb && b32.samples == 1);
    CHECK_OK(unet_reference_bank(&c, rc, x, (nn_t){0}, true, &b16), &e);

    /* Both variants ran the same reference UNet on the same latents; the acc
     * pipeline has no CFG (reader bank batch 1), the standard one cat([v, v]). */
    for (int acc = 0; acc < 2; acc++) {
        size_t total = 0, ties = 0, bad = 0;
        for (int k = 0; k < nb; k++) {
            char name[W_NAME_MAX], key[W_NAME_MAX + 32];
            unet_tblock_name(&tb[k], name, sizeof name);
            int64_t s1[8], s2[8];
            int n1, n2;
            snprintf(key, sizeof key, "ref_bank_fp32.%s", name);
            float *fx32 = echo_read(inter(acc), key, s1, &n1, &e);
            snprintf(key, sizeof key, "reader_bank.%s", name);
            float *fx16 = echo_read(inter(acc), key, s2, &n2, &e);
            const size_t cnt = nn_numel(b32.t[k]);
            float *o32 = malloc(cnt * sizeof *o32), *o16 = malloc(cnt * sizeof *o16);
            bool ok = fx32 && fx16 && o32 && o16 && n1 == 3 && n2 == 3 && s1[0] == 1 && s2[0] == (acc ? 1 : 2) &&
                      (size_t)(s1[1] * s1[2]) == cnt && s2[1] == s1[1] && s2[2] == s1[2] && b32.t[k].c == s1[2] &&
                      nn_to_host(&c, b32.t[k], o32) && nn_to_host(&c, b16.t[k], o16);
            if (!ok) {
                free(fx32); free(fx16); free(o32); free(o16);
                CHECK_MSG(false, "%s: missing, shape or read problem (%s)", name, e.msg);
            }
            /* float32 LayerNorm outputs: rounding only, amplified by the random
             * net as in the Moore fixture. measured: nmse 1.2e-13 (first block)
             * to 3.1e-12 (up_blocks.3.attentions.1), max |err| 1.6e-6 .. 1.4e-5;
             * limits ~3x above */
            snprintf(key, sizeof key, "%s ref_bank_fp32.%s", acc ? "acc" : "std", name);
            if (!compare(key, o32, fx32, cnt, 1e-11, 4e-5)) bad++;
            /* reader bank: every value fp16(writer), the same in both CFG halves;
             * ours equals it except where our float32 value and upstream's round
             * to neighbouring float16 values. measured: 98 of 16192 (std) and 49
             * of 8096 (acc) values at such a tie (0.6%), none unexplained; limit
             * 2%. Without the rounding every value is unexplained. */
            for (int half = 0; half < s2[0]; half++)
                for (size_t i = 0; i < cnt; i++) {
                    const float fx = fx16[half * cnt + i];
                    total++;
                    if (fx != f16_round(fx32[i])) bad++;
                    if (o16[i] != f16_round(o32[i])) bad++;
                    if (o16[i] != fx) {
                        if (f16_round(fx32[i]) != f16_round(o32[i]) && fabsf(fx32[i] - o32[i]) < 4e-5f) ties++;
                        else bad++;
                    }
                }
            free(fx32); free(fx16); free(o32); free(o16);
        }
        printf("    %s reader banks: %zu values, %zu at an fp16 rounding tie, %zu unexplained\n",
               acc ? "acc" : "std", total, ties, bad);
        CHECK(bad == 0 && ties * 50 < total);
    }

    echo_ctx_free(&c);
}

/* ---- denoising UNet, step 0 ---- */

/* The fixture's reader banks of one variant as a unet_bank (on c's arena). */
static bool fixture_bank(nn_ctx *c, bool acc, const unet_config *cfg, unet_bank *bank, anim_error *e) {
    unet_tblock tb[64];
    int nb = unet_tblocks(cfg, tb, 64);
    if (nb > 64) return false;
    bank->n = nb;
    for (int k = 0; k < nb; k++) {
        char name[W_NAME_MAX], key[W_NAME_MAX + 32];
        unet_tblock_name(&tb[k], name, sizeof name);
        snprintf(key, sizeof key, "reader_bank.%s", name);
        int64_t s[8];
        int nd;
        float *x = echo_read(inter(acc), key, s, &nd, e);
        if (!x || nd != 3) { free(x); return false; }
        bank->samples = (int)s[0];
        bank->t[k] = nn_from_host(c, x, (int)s[0], 1, (int)s[1], (int)s[2]);
        bank->channels[k] = (int)s[2];
        free(x);
    }
    return nn_ok(c);
}

/* how to build one call's audio tokens (the correct way and the faults) */
typedef enum audio_mode {
    AUDIO_OK = 0,        /* frame f of the window: audio_fea_final[window[f]]; uncond zeros */
    AUDIO_UNCOND_TOO,    /* the uncond half gets the audio as well */
    AUDIO_CLIP_FRAME,    /* frame f gets audio_fea_final[f] (the window's shift ignored) */
    AUDIO_FIRST_FRAME    /* every frame gets the window's first frame's tokens (per sample) */
} audio_mode;

/* One step-0 window call: latents [B * F, h, w, 4], audio [B * F, 1, 50, Ca],
 * face features [1, h, w, C0]; the expected output (NCFHW) in ref. */
typedef struct echo_call {
    int B, F, h, w, cout;
    nn_t x, face;
    float *audio;        /* audio_fea_final (1, L, T, Ca) */
    int L, T, Ca;
    float *ref;          /* step0_noise_pred.callK [B, 4, F, h, w] */
    size_t n_out;
} echo_call;

static void echo_call_free(echo_call *io) {
    free(io->audio);
    free(io->ref);
    memset(io, 0, sizeof *io);
}

static bool echo_call_inputs(nn_ctx *c, bool acc, int call, echo_call *io, anim_error *e) {
    memset(io, 0, sizeof *io);
    char key[64];
    int64_t s[8], r[8], fs[8], as[8];
    int nd, nr, nf, na;
    snprintf(key, sizeof key, "step0_unet_in_latents.call%d", call);
    float *lat = echo_read(inter(acc), key, s, &nd, e);
    snprintf(key, sizeof key, "step0_noise_pred.call%d", call);
    io->ref = echo_read(inter(acc), key, r, &nr, e);
    float *face = echo_read(inter(acc), "face_locator_out", fs, &nf, e);
    io->audio = echo_read(AUDIO, "audio_fea_final", as, &na, e);
    bool ok = lat && io->ref && face && io->audio && nd == 5 && nr == 5 && nf == 5 && na == 4 && s[0] == (acc ? 1 : 2) &&
              r[0] == s[0] && fs[0] == 1 && fs[2] == 1 && fs[3] == s[3] && fs[4] == s[4];
    if (ok) {
        const int B = (int)s[0], C = (int)s[1], F = (int)s[2], H = (int)s[3], W = (int)s[4], C0 = (int)fs[1];
        io->B = B, io->F = F, io->h = H, io->w = W, io->cout = (int)r[1];
        io->L = (int)as[1], io->T = (int)as[2], io->Ca = (int)as[3];
        io->n_out = (size_t)B * r[1] * F * H * W;
        float *y = malloc((size_t)B * C * F * H * W * sizeof *y), *q = malloc((size_t)C0 * H * W * sizeof *q);
        nn_ncfhw_to_frames(y, lat, B, C, F, H, W);
        nn_ncfhw_to_frames(q, face, 1, C0, 1, H, W);
        io->x = nn_from_host(c, y, B * F, H, W, C);
        io->face = nn_from_host(c, q, 1, H, W, C0);
        free(y);
        free(q);
        ok = nn_ok(c);
    }
    free(lat);
    free(face);
    if (!ok && !e->msg[0]) anim_seterr(e, ANIM_E_FORMAT, "call %d: unexpected fixture shapes", call);
    return ok;
}

/* encoder states [B * F, 1, T, Ca] for the window (see audio_mode) */
static nn_t audio_states(nn_ctx *c, const echo_call *io, const int *window, audio_mode mode) {
    const size_t per = (size_t)io->T * io->Ca;
    float *a = calloc((size_t)io->B * io->F * per, sizeof *a);
    if (!a) return (nn_t){0};
    for (int b = 0; b < io->B; b++) {
        /* pipeline_echo_mimic.py: cat([zeros_like(audio_latents), audio_latents]) */
        if (b < io->B - 1 && mode != AUDIO_UNCOND_TOO) continue;
        for (int f = 0; f < io->F; f++) {
            int src = mode == AUDIO_CLIP_FRAME ? f : mode == AUDIO_FIRST_FRAME ? window[0] : window[f];
            memcpy(a + ((size_t)b * io->F + f) * per, io->audio + (size_t)src * per, per * sizeof *a);
        }
    }
    nn_t t = nn_from_host(c, a, io->B * io->F, 1, io->T, io->Ca);
    free(a);
    return t;
}

/* EchoMimic's conditioning of one call, with optional faults */
typedef struct echo_fault {
    audio_mode audio;
    float scale;          /* attn2 output factor (UNET_ECHO_AUDIO_SCALE) */
    bool no_face, face_uncond_too;
} echo_fault;

/* run one call; nmse and max |err| of each half (uncond first; B = 1: [0] only) */
static bool run_call(nn_ctx *c, const unet_config *cfg, const echo_call *io, const int *window, float t,
                     const unet_bank *bank, echo_fault fl, double nmse[2], double mx[2]) {
    nn_mark_t m = nn_mark(c);
    unet_cond cond;
    unet_cond_init(&cond);
    cond.encoder_states = audio_states(c, io, window, fl.audio);
    cond.cross_attn_scale = fl.scale;
    cond.features = fl.no_face ? (nn_t){0} : io->face;
    cond.features_cond_only = !fl.face_uncond_too;
    cond.bank = bank;
    nn_t y = unet_denoise_ex(c, cfg, io->x, io->F, t, &cond);
    bool ok = nn_ok(c) && y.n == io->B * io->F && y.h == io->h && y.w == io->w && y.c == io->cout;
    if (!ok) printf("    unet_denoise_ex: %s\n", c->err->msg);
    float *o = malloc(io->n_out * sizeof *o), *on = malloc(io->n_out * sizeof *on);
    ok = ok && o && on && nn_to_host(c, y, o);
    if (ok) {
        nn_frames_to_ncfhw(on, o, io->B, io->cout, io->F, io->h, io->w);
        const size_t half = io->n_out / (size_t)io->B;
        for (int b = 0; b < io->B && ok; b++) ok = measure(on + b * half, io->ref + b * half, half, &nmse[b], &mx[b]);
    }
    free(o);
    free(on);
    nn_release(c, m);
    return ok;
}

static const echo_fault NO_FAULT = {AUDIO_OK, UNET_ECHO_AUDIO_SCALE, false, false};

/*
 * Limits of the step-0 comparisons. The fixture has the floor the Moore tests
 * document (tests/test_unet.c, unet_denoise_matches_upstream_with_fixture_bank):
 * the 64x64 fixture's deepest level is 1x1, where every motion-module GroupNorm
 * group (32 groups of 32 channels) holds ONE value with variance exactly 0;
 * torch computes beta + rounding noise of ~ulp(gamma / sqrt(1e-6) * x) ~ 1e-4
 * there, and that noise reaches the whole output. This fixture has the same
 * 1x1 level (8x8 latents, 4 levels, motion modules at every level and in the
 * mid block, 32 channels in 32 groups), and the same size of disagreement,
 * while the same 2-D blocks without motion modules (the reference UNet banks)
 * agree to 3e-12. Measured (outputs rms ~0.5): standard nmse 3.3e-9 .. 3.0e-8,
 * max |err| 9.9e-5 .. 3.1e-4 over the 3 calls x 2 halves; acc nmse 4.9e-9 ..
 * 1.0e-8, max |err| 1.3e-4 .. 2.1e-4. Limits 10x / 6x above the worst. The
 * stages without that effect (face locator, banks) are held to 1e-11.
 */
#define STEP0_NMSE 3e-7
#define STEP0_ABS 2e-3

static void step0_variant(bool acc) {
    anim_error e;
    nn_ctx c;
    CHECK_MSG(echo_ctx(&c, acc, &e), "%s", e.msg);
    const unet_config *dc = &anim_model_cfg(c.model)->denoising_unet;
    echo_plan plan;
    CHECK_MSG(echo_plan_load(acc, &plan, &e), "%s", e.msg);
    CHECK(plan.n_calls == 3 && plan.t0 == 999.0f);
    static unet_bank bank;
    CHECK_MSG(fixture_bank(&c, acc, dc, &bank, &e), "%s", e.msg);
    CHECK(bank.samples == (acc ? 1 : 2));
    bool all = true;
    for (int k = 0; k < plan.n_calls; k++) {
        echo_call io;
        nn_mark_t m = nn_mark(&c);
        CHECK_MSG(echo_call_inputs(&c, acc, k, &io, &e), "%s", e.msg);
        CHECK(io.F == plan.F && io.B == (acc ? 1 : 2) && io.L >= 12 && io.Ca == dc->cross_attention_dim);
        for (int f = 0; f < io.F; f++) CHECK(plan.win[k][f] >= 0 && plan.win[k][f] < io.L);
        double nmse[2] = {0}, mx[2] = {0};
        bool ran = run_call(&c, dc, &io, plan.win[k], plan.t0, &bank, NO_FAULT, nmse, mx);
        for (int b = 0; ran && b < io.B; b++) {
            bool ok = nmse[b] <= STEP0_NMSE && mx[b] <= STEP0_ABS;
            printf("    %s step0_noise_pred.call%d %-13s window [%d..%d]   nmse %.3g max|err| %.3g%s\n",
                   acc ? "acc" : "std", k, io.B == 1 ? "(cond only)" : b ? "(cond half)" : "(uncond half)",
                   plan.win[k][0], plan.win[k][io.F - 1], nmse[b], mx[b], ok ? "" : "  <-- over the limit");
            all = all && ok;
        }
        all = all && ran;
        echo_call_free(&io);
        nn_release(&c, m);
    }
    /* The two nets end to end: our own batch-1 bank (reference UNet on
     * ref_image_latents, fp16-rounded) read by call 0. The CFG reader needs no
     * cat([v, v]): the cond half reads the last (only) sample. measured: as with
     * the fixture's bank (std uncond 8.1e-9 - no bank there - cond 3.3e-9; acc
     * 4.9e-9): our banks differ from upstream's only at the fp16 ties. */
    static unet_bank own;
    nn_t rl = ref_latents(&c, acc, &e);
    CHECK_MSG(rl.d, "%s", e.msg);
    CHECK_OK(unet_reference_bank(&c, &anim_model_cfg(c.model)->reference_unet, rl, (nn_t){0}, true, &own), &e);
    CHECK(own.samples == 1);
    echo_call io;
    CHECK_MSG(echo_call_inputs(&c, acc, 0, &io, &e), "%s", e.msg);
    double nmse[2] = {0}, mx[2] = {0};
    bool ran = run_call(&c, dc, &io, plan.win[0], plan.t0, &own, NO_FAULT, nmse, mx);
    for (int b = 0; ran && b < io.B; b++) {
        bool ok = nmse[b] <= STEP0_NMSE && mx[b] <= STEP0_ABS;
        printf("    %s step0_noise_pred.call0 %-13s own batch-1 bank  nmse %.3g max|err| %.3g%s\n", acc ? "acc" : "std",
               io.B == 1 ? "(cond only)" : b ? "(cond half)" : "(uncond half)", nmse[b], mx[b],
               ok ? "" : "  <-- over the limit");
        all = all && ok;
    }
    all = all && ran;
    echo_call_free(&io);
    CHECK(!strcmp(c.net, "test"));
    echo_ctx_free(&c);
    CHECK(all);
}

TEST(echo_denoise_step0_matches_upstream) { step0_variant(false); }

TEST(echo_denoise_acc_step0_matches_upstream) { step0_variant(true); }

/* Each fault must move the output far beyond the pass limit (the half it
 * affects; printed). Call 1 (window 4..9) so that a window-frame / clip-frame
 * mix-up shows. */
TEST(echo_denoise_faults_are_caught) {
    anim_error e;
    nn_ctx c;
    CHECK_MSG(echo_ctx(&c, false, &e), "%s", e.msg);
    const unet_config *dc = &anim_model_cfg(c.model)->denoising_unet;
    echo_plan plan;
    CHECK_MSG(echo_plan_load(false, &plan, &e), "%s", e.msg);
    static unet_bank bank;
    CHECK_MSG(fixture_bank(&c, false, dc, &bank, &e), "%s", e.msg);
    echo_call io;
    CHECK_MSG(echo_call_inputs(&c, false, 1, &io, &e), "%s", e.msg);
    CHECK(plan.win[1][0] != 0);
    static const struct {
        const char *what;
        echo_fault fl;
        int half;   /* 0 uncond, 1 cond */
    } faults[] = {
        {"attn2 output not scaled by 3 (uncond)", {AUDIO_OK, 1.0f, false, false}, 0},
        {"attn2 output not scaled by 3 (cond)", {AUDIO_OK, 1.0f, false, false}, 1},
        {"audio also given to the uncond half", {AUDIO_UNCOND_TOO, UNET_ECHO_AUDIO_SCALE, false, false}, 0},
        {"face features not added", {AUDIO_OK, UNET_ECHO_AUDIO_SCALE, true, false}, 1},
        {"face features also added to the uncond half", {AUDIO_OK, UNET_ECHO_AUDIO_SCALE, false, true}, 0},
        {"audio of clip frame f instead of window frame f", {AUDIO_CLIP_FRAME, UNET_ECHO_AUDIO_SCALE, false, false}, 1},
        {"one token set per sample (window's first frame)", {AUDIO_FIRST_FRAME, UNET_ECHO_AUDIO_SCALE, false, false},
         1},
    };
    bool all = true;
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        double nmse[2] = {0}, mx[2] = {0};
        bool ran = run_call(&c, dc, &io, plan.win[1], plan.t0, &bank, faults[i].fl, nmse, mx);
        const int b = faults[i].half;
        bool caught = ran && nmse[b] > 100 * STEP0_NMSE;
        printf("    fault: %-50s %s nmse %.3g max|err| %.3g%s\n", faults[i].what, b ? "cond  " : "uncond", nmse[b],
               mx[b], caught ? "" : "  <-- NOT caught");
        all = all && caught;
    }
    echo_call_free(&io);
    /* the acc pipeline's call 0 through the standard weights (ANIM_LOAD_ACC ignored) */
    echo_plan pa;
    static unet_bank bank1;
    CHECK_MSG(echo_plan_load(true, &pa, &e) && fixture_bank(&c, true, dc, &bank1, &e) &&
                  echo_call_inputs(&c, true, 0, &io, &e), "%s", e.msg);
    double nmse[2] = {0}, mx[2] = {0};
    bool ran = run_call(&c, dc, &io, pa.win[0], pa.t0, &bank1, NO_FAULT, nmse, mx);
    bool caught = ran && nmse[0] > 100 * STEP0_NMSE;
    printf("    fault: %-50s %s nmse %.3g max|err| %.3g%s\n", "acc call with the standard weights", "cond  ", nmse[0],
           mx[0], caught ? "" : "  <-- NOT caught");
    all = all && caught;
    echo_call_free(&io);
    echo_ctx_free(&c);
    CHECK(all);
}

/* API edges: a net with attn2 and no encoder states is refused by name (for
 * the reference UNet: Moore's weights need states, EchoMimic's have none);
 * token sets per sample or per frame only; face features [1 or F] when they
 * go to the cond sample only; the acc model answers the denoising role. */
TEST(echo_unet_conditioning_is_checked) {
    anim_error e;
    nn_ctx c;
    CHECK_MSG(echo_ctx(&c, false, &e), "%s", e.msg);
    const unet_config *dc = &anim_model_cfg(c.model)->denoising_unet;
    echo_call io;
    CHECK_MSG(echo_call_inputs(&c, false, 0, &io, &e), "%s", e.msg);
    unet_cond cond;
    unet_cond_init(&cond);
    CHECK(cond.cross_attn_scale == 1.0f && !cond.encoder_states.d && !cond.features.d && !cond.bank);
    cond.cross_attn_scale = UNET_ECHO_AUDIO_SCALE;
    /* no audio at all: refused, naming attn2 */
    nn_t y = unet_denoise_ex(&c, dc, io.x, io.F, 999.0f, &cond);
    CHECK(!y.d && c.st == ANIM_E_INVALID_ARG);
    CHECK_CONTAINS(e.msg, "attn2");
    /* tokens for 3 of the 12 frames: neither per sample nor per frame */
    c.st = ANIM_OK;
    anim_err_clear(&e);
    float *z = calloc((size_t)io.B * io.F * io.T * io.Ca, sizeof *z);
    cond.encoder_states = nn_from_host(&c, z, 3, 1, io.T, io.Ca);
    y = unet_denoise_ex(&c, dc, io.x, io.F, 999.0f, &cond);
    CHECK(!y.d && c.st == ANIM_E_INVALID_ARG);
    CHECK_CONTAINS(e.msg, "per frame");
    /* per-frame face features for both samples cannot go to the cond sample only */
    c.st = ANIM_OK;
    anim_err_clear(&e);
    cond.encoder_states = nn_from_host(&c, z, io.B * io.F, 1, io.T, io.Ca);
    float *ff = calloc((size_t)io.B * io.F * io.h * io.w * io.face.c, sizeof *ff);
    cond.features = nn_from_host(&c, ff, io.B * io.F, io.h, io.w, io.face.c);
    cond.features_cond_only = true;
    y = unet_denoise_ex(&c, dc, io.x, io.F, 999.0f, &cond);
    CHECK(!y.d && c.st == ANIM_E_INVALID_ARG);
    CHECK_CONTAINS(e.msg, "cond sample only");
    free(ff);
    free(z);
    echo_call_free(&io);
    echo_ctx_free(&c);
    /* Moore's reference UNet has attn2: without encoder states it is refused */
    const anim_model_config *tc = tiny_model(&e) ? anim_model_cfg(tiny_model(&e)) : NULL;
    CHECK_MSG(tc && tiny_ctx(&c, &e), "%s", e.msg);
    float *r = calloc(4 * 8 * 8, sizeof *r);
    static unet_bank bank;
    CHECK(unet_reference_bank(&c, &tc->reference_unet, nn_from_host(&c, r, 1, 8, 8, 4), (nn_t){0}, false, &bank) ==
          ANIM_E_INVALID_ARG);
    CHECK_CONTAINS(e.msg, "attn2");
    CHECK(bank.n == 0);
    free(r);
    tiny_ctx_free(&c);
    /* the acc model answers the role "denoising_unet" (what unet_denoise_ex
     * reads) with its *_acc weights, motion modules included */
    const anim_model *ma = echo_model(true, &e);
    CHECK_MSG(ma, "%s", e.msg);
    const char *mm = "down_blocks.0.motion_modules.0.temporal_transformer.proj_in.weight";
    CHECK(anim_model_find(ma, "denoising_unet", "conv_in.weight", NULL) &&
          anim_model_find(ma, "denoising_unet", "conv_in.weight", NULL) ==
              anim_model_find(ma, "denoising_unet_acc", "conv_in.weight", NULL) &&
          anim_model_find(ma, "denoising_unet", mm, NULL) == anim_model_find(ma, "motion_module_acc", mm, NULL));
}
