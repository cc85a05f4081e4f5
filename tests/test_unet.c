/*
 * test_unet.c - the two UNet forward passes (lib/nn/unet.c, lib/nn/motion_module.c)
 * against the moore-tiny fixture, which the real Moore-AnimateAnyone code
 * (diffusers 0.24, torch, float32, CPU) produced:
 *   - reference UNet (timestep 0, CFG batch [ref, ref], states [zeros, embeds])
 *     -> every ref_bank_fp32.<block> (the writer's LN1 outputs) and, after the
 *     float16 cast of ReferenceAttentionControl.update, every reader_bank.<block>;
 *   - denoising UNet at step 0 (t = 999, CFG batch, pose features, the fixture's
 *     reader banks) -> step0_noise_pred.call0, both halves;
 *   - the same with our own reference bank (the two nets end to end);
 * plus properties upstream fixes but the fixture does not isolate: the uncond
 * half ignores the bank, a cond-only pass equals the cond half, the bank
 * pairing sorts by channels, odd latent sizes (forced-size upsampling) run, and
 * one motion module against a float64 evaluation on non-degenerate inputs.
 * The reference bank agrees to float32 rounding; the denoising output has a
 * floor set by upstream's own rounding at zero-variance GroupNorm groups of
 * this tiny model (explained at unet_denoise_matches_upstream_with_fixture_bank).
 */
#include <stdlib.h>
#include <string.h>

#include "fixture_tiny.h"
#include "nn/config.h"
#include "nn/model.h"
#include "nn/motion_module.h"
#include "nn/unet.h"
#include "util/dtype.h"
#include "test.h"

#define INTER "outputs/intermediates.safetensors"

static const anim_model_config *tiny_cfg(anim_error *e) {
    const anim_model *m = tiny_model(e);
    return m ? anim_model_cfg(m) : NULL;
}

/* nmse = sum (o - r)^2 / sum r^2 and max |o - r| against a float (rf) or double
 * (rd) reference, printed so the measured agreement is visible in the test log;
 * NaN/Inf never passes. */
static bool compare2(const char *what, const float *out, const float *rf, const double *rd, size_t n, double nmse_max,
                     double abs_max) {
    double se = 0, sr = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i])) {
            printf("    %s: non-finite output at %zu\n", what, i);
            return false;
        }
        double r = rf ? (double)rf[i] : rd[i], d = (double)out[i] - r;
        se += d * d;
        sr += r * r;
        if (fabs(d) > mx) mx = fabs(d);
    }
    double nmse = sr > 0 ? se / sr : se;
    bool ok = nmse <= nmse_max && mx <= abs_max;
    printf("    %-60s nmse %.3g max|err| %.3g%s\n", what, nmse, mx, ok ? "" : "  <-- over the limit");
    return ok;
}

static bool compare(const char *what, const float *out, const float *ref, size_t n, double nmse_max, double abs_max) {
    return compare2(what, out, ref, NULL, n, nmse_max, abs_max);
}

/* encoder_hidden_states of the CFG batch: [zeros, clip image_embeds] as [2, 1, 1, D] */
static nn_t cfg_states(nn_ctx *c, anim_error *e) {
    int64_t s[8];
    int nd;
    float *emb = tiny_read(INTER, "clip_image_embeds", s, &nd, e);
    if (!emb || nd != 2) { free(emb); return (nn_t){0}; }
    const int D = (int)s[1];
    float *x = calloc(2 * (size_t)D, sizeof *x);
    memcpy(x + D, emb, (size_t)D * sizeof *x);
    nn_t t = nn_from_host(c, x, 2, 1, 1, D);
    free(x);
    free(emb);
    return t;
}

/* the fixture's reference UNet input [2, 4, h, w] as NHWC */
static nn_t ref_latents(nn_ctx *c, anim_error *e) {
    int64_t s[8];
    int nd;
    float *x = tiny_read(INTER, "reference_unet_in_latents", s, &nd, e);
    if (!x || nd != 4) { free(x); return (nn_t){0}; }
    const int N = (int)s[0], C = (int)s[1], H = (int)s[2], W = (int)s[3];
    float *y = malloc((size_t)N * C * H * W * sizeof *y);
    nn_nchw_to_nhwc(y, x, N, C, H, W);
    nn_t t = nn_from_host(c, y, N, H, W, C);
    free(x);
    free(y);
    return t;
}

/* Compare every bank with `<prefix>.<block name>` of the fixture ([2, hw, C]);
 * the fixture names reader banks by the reader block, and the pairing is the
 * identity here (checked in unet_bank_pairing_sorts_by_channels). */
static bool compare_banks(nn_ctx *c, const unet_config *cfg, const unet_bank *bank, const char *prefix,
                          double nmse_max, double abs_max, anim_error *e) {
    unet_tblock tb[64];
    int nb = unet_tblocks(cfg, tb, 64);
    if (nb != bank->n || nb > 64) {
        printf("    %d banks, %d blocks\n", bank->n, nb);
        return false;
    }
    bool ok = true;
    for (int k = 0; k < nb; k++) {
        char name[W_NAME_MAX], key[W_NAME_MAX + 32];
        unet_tblock_name(&tb[k], name, sizeof name);
        snprintf(key, sizeof key, "%s.%s", prefix, name);
        int64_t s[8];
        int nd;
        float *ref = tiny_read(INTER, key, s, &nd, e);
        nn_t t = bank->t[k];
        if (!ref || nd != 3 || s[0] != t.n || s[1] != (int64_t)t.h * t.w || s[2] != t.c) {
            printf("    %s: missing or shape mismatch (%s)\n", key, e->msg);
            free(ref);
            return false;
        }
        float *y = malloc(nn_numel(t) * sizeof *y);
        ok = nn_to_host(c, t, y) && compare(key, y, ref, nn_numel(t), nmse_max, abs_max) && ok;
        free(y);
        free(ref);
    }
    return ok;
}

static float f16_round(float x) { return anim_f16_to_f32(anim_f32_to_f16(x)); }

TEST(unet_reference_bank_matches_upstream) {
    anim_error e;
    nn_ctx c;
    const anim_model_config *mc = tiny_cfg(&e);
    CHECK_MSG(mc && tiny_ctx(&c, &e), "%s", e.msg);
    const unet_config *rc = &mc->reference_unet;
    nn_mark_t m = nn_mark(&c);
    nn_t x = ref_latents(&c, &e), enc = cfg_states(&c, &e);
    CHECK_MSG(nn_ok(&c) && x.d && enc.d, "%s", e.msg);

    /* float32 writer values. measured: nmse 1.7e-13 (first block) growing to
     * 2.2e-12 (mid block, the deepest), max |err| <= 7.5e-6 (LayerNorm outputs,
     * |ref| up to ~4): float32 rounding amplified by the random net (perturbing
     * the denoising UNet's input by 1 ulp moves its output by nmse 1.2e-12).
     * Limits 4-5x above. GroupNorm eps 1e-5 instead of 1e-6 in the spatial
     * transformers fails 9 of the 10 blocks (nmse 1.6e-11 .. 8.5e-10), the
     * timestep embedding without flip_sin_to_cos all of them (nmse ~0.1). */
    static unet_bank bank;
    CHECK_OK(unet_reference_bank(&c, rc, x, enc, false, &bank), &e);
    CHECK(!strcmp(c.net, "test")); /* the caller's network selection is restored */
    CHECK(bank.n == 10 && bank.samples == 2);
    CHECK(compare_banks(&c, rc, &bank, "ref_bank_fp32", 1e-11, 3e-5, &e));
    float *ours32[64] = {0};
    for (int k = 0; k < bank.n; k++) {
        ours32[k] = malloc(nn_numel(bank.t[k]) * sizeof(float));
        CHECK(ours32[k] && nn_to_host(&c, bank.t[k], ours32[k]));
    }

    /* The float16 cast (ReferenceAttentionControl.update): every value must be
     * exactly our float32 value rounded to nearest even, and equal the
     * fixture's reader_bank except where our float32 value and upstream's
     * (~1e-6 apart) round to neighbouring float16 values. measured: 98 such
     * ties among 16192 values (0.6%, as expected from fp32 differences of
     * ~1e-6 against fp16 steps of ~1e-3); limit 2%. Without the rounding every
     * value is "unexplained". */
    nn_release(&c, m);
    x = ref_latents(&c, &e);
    enc = cfg_states(&c, &e);
    CHECK_OK(unet_reference_bank(&c, rc, x, enc, true, &bank), &e);
    unet_tblock tb[64];
    unet_tblocks(rc, tb, 64);
    size_t total = 0, ties = 0, bad = 0;
    for (int k = 0; k < bank.n; k++) {
        char name[W_NAME_MAX], key[W_NAME_MAX + 32];
        unet_tblock_name(&tb[k], name, sizeof name);
        int64_t s1[8], s2[8];
        int n1, n2;
        snprintf(key, sizeof key, "reader_bank.%s", name);
        float *fx16 = tiny_read(INTER, key, s1, &n1, &e);
        snprintf(key, sizeof key, "ref_bank_fp32.%s", name);
        float *fx32 = tiny_read(INTER, key, s2, &n2, &e);
        const size_t cnt = nn_numel(bank.t[k]);
        float *ours16 = malloc(cnt * sizeof *ours16);
        bool ok = fx16 && fx32 && ours16 && (size_t)(s1[0] * s1[1] * s1[2]) == cnt && nn_to_host(&c, bank.t[k], ours16);
        for (size_t i = 0; ok && i < cnt; i++) {
            total++;
            if (fx16[i] != f16_round(fx32[i])) bad++;            /* upstream: reader = fp16(writer) */
            if (ours16[i] != f16_round(ours32[k][i])) bad++;     /* ours: round to nearest even */
            if (ours16[i] != fx16[i]) {
                if (f16_round(fx32[i]) != f16_round(ours32[k][i]) && fabsf(fx32[i] - ours32[k][i]) < 3e-5f) ties++;
                else bad++;
            }
        }
        free(fx16);
        free(fx32);
        free(ours16);
        CHECK_MSG(ok, "%s: %s", key, e.msg);
    }
    printf("    reader banks: %zu values, %zu at an fp16 rounding tie, %zu unexplained\n", total, ties, bad);
    for (int k = 0; k < bank.n; k++) free(ours32[k]);
    CHECK(bad == 0 && ties * 50 < total);
    tiny_ctx_free(&c);
}

/* The fixture's reader banks as a unet_bank (allocated on c's arena). */
static bool fixture_bank(nn_ctx *c, const unet_config *cfg, unet_bank *bank, anim_error *e) {
    unet_tblock tb[64];
    int nb = unet_tblocks(cfg, tb, 64);
    if (nb > 64) return false;
    bank->n = nb;
    bank->samples = 2;
    for (int k = 0; k < nb; k++) {
        char name[W_NAME_MAX], key[W_NAME_MAX + 32];
        unet_tblock_name(&tb[k], name, sizeof name);
        snprintf(key, sizeof key, "reader_bank.%s", name);
        int64_t s[8];
        int nd;
        float *x = tiny_read(INTER, key, s, &nd, e);
        if (!x || nd != 3) { free(x); return false; }
        bank->t[k] = nn_from_host(c, x, (int)s[0], 1, (int)s[1], (int)s[2]);
        bank->channels[k] = (int)s[2];
        free(x);
    }
    return nn_ok(c);
}

/* step-0 inputs of the denoising UNet: latents [2F, h, w, 4] (CFG batch), pose
 * features [F, h, w, C0]; the expected output as NCFHW in *ref */
typedef struct denoise_io {
    nn_t x, pose, enc;
    int F, h, w, cout;
    float *ref;      /* step0_noise_pred.call0, [2, 4, F, h, w] */
    size_t n_out;
} denoise_io;

static bool denoise_inputs(nn_ctx *c, denoise_io *io, anim_error *e) {
    int64_t s[8], p[8], r[8];
    int nd, np, nr;
    float *lat = tiny_read(INTER, "step0_unet_in_latents.call0", s, &nd, e);
    float *pose = tiny_read(INTER, "pose_guider_out", p, &np, e);
    io->ref = tiny_read(INTER, "step0_noise_pred.call0", r, &nr, e);
    bool ok = lat && pose && io->ref && nd == 5 && np == 5 && nr == 5 && s[0] == 2 && p[0] == 1 && p[2] == s[2];
    if (ok) {
        const int B = 2, C = (int)s[1], F = (int)s[2], H = (int)s[3], W = (int)s[4], C0 = (int)p[1];
        io->F = F, io->h = H, io->w = W, io->cout = (int)r[1];
        io->n_out = (size_t)B * r[1] * F * H * W;
        float *y = malloc((size_t)B * C * F * H * W * sizeof *y), *q = malloc((size_t)C0 * F * H * W * sizeof *q);
        nn_ncfhw_to_frames(y, lat, B, C, F, H, W);
        nn_ncfhw_to_frames(q, pose, 1, C0, F, H, W);
        io->x = nn_from_host(c, y, B * F, H, W, C);
        io->pose = nn_from_host(c, q, F, H, W, C0);
        io->enc = cfg_states(c, e);
        free(y);
        free(q);
        ok = nn_ok(c) && io->enc.d;
    }
    free(lat);
    free(pose);
    return ok;
}

/* run the denoising UNet at the first timestep and compare both CFG halves */
static bool denoise_and_compare(nn_ctx *c, const unet_config *cfg, const denoise_io *io, const unet_bank *bank,
                                const char *what, double nmse_max, double abs_max) {
    /* params.json scheduler.timesteps[0] */
    nn_t y = unet_denoise(c, cfg, io->x, io->F, 999.0f, io->enc, io->pose, bank);
    if (!nn_ok(c) || y.n != 2 * io->F || y.h != io->h || y.w != io->w || y.c != io->cout) {
        printf("    %s: %s\n", what, c->err->msg);
        return false;
    }
    float *o = malloc(io->n_out * sizeof *o), *on = malloc(io->n_out * sizeof *on);
    bool ok = nn_to_host(c, y, o);
    nn_frames_to_ncfhw(on, o, 2, io->cout, io->F, io->h, io->w);
    const size_t half = io->n_out / 2;
    char name[128];
    snprintf(name, sizeof name, "%s (uncond half)", what);
    ok = ok && compare(name, on, io->ref, half, nmse_max, abs_max);
    snprintf(name, sizeof name, "%s (cond half)", what);
    ok = compare(name, on + half, io->ref + half, half, nmse_max, abs_max) && ok;
    free(o);
    free(on);
    return ok;
}

TEST(unet_denoise_matches_upstream_with_fixture_bank) {
    anim_error e;
    nn_ctx c;
    const anim_model_config *mc = tiny_cfg(&e);
    CHECK_MSG(mc && tiny_ctx(&c, &e), "%s", e.msg);
    static unet_bank bank;
    denoise_io io = {0};
    CHECK_MSG(fixture_bank(&c, &mc->denoising_unet, &bank, &e) && denoise_inputs(&c, &io, &e), "%s", e.msg);
    /* measured: uncond half nmse 8.3e-8, max |err| 5.9e-4; cond half nmse 2.2e-8,
     * max |err| 3.0e-4 (outputs in [-1.5, 2.1], rms 0.47). This is NOT our
     * rounding (the reference UNet, the same blocks without motion modules,
     * agrees to 2e-12; one motion module agrees with float64 to 5e-14): at the
     * 1x1 level of this tiny 8x8-latent model each motion-module GroupNorm group
     * is ONE value (32 groups of 32 channels, 1 pixel), its variance is exactly
     * 0, and the exact output is beta. torch computes it as scale*x + (beta -
     * scale*mean) with scale = gamma/sqrt(1e-6) ~ 1000*gamma, so upstream's value
     * is beta plus rounding noise of ~ulp(1000*gamma*x) ~ 1e-4, which reaches the
     * whole output. Emulating torch's formula there (with or without FMA)
     * moves our output by nmse 5e-9 .. 1.1e-7 and its distance to the fixture
     * between 2e-9 and 1.9e-7: the fixture's floor for this check. (The released
     * model has 40-channel groups at >= 8x12 pixels there: no such groups.)
     * Limits ~3x above.
     * What this check still catches (nmse of the worse half): pe dropped 0.78,
     * reference tokens also for the uncond half 0.23, no flip_sin_to_cos 0.12,
     * banks paired reversed 0.10 or shifted by one 0.09, no mid-block motion
     * module 0.028, pose features not added 0.68. Finer faults are left to the
     * tighter tests: the fp16 rounding (reference-bank test), motion-module eps,
     * pe, strides (unet_motion_module_matches_float64_reference). */
    bool ok = denoise_and_compare(&c, &mc->denoising_unet, &io, &bank, "step0 noise_pred, fixture bank", 3e-7, 2e-3);
    CHECK(!strcmp(c.net, "test"));
    free(io.ref);
    tiny_ctx_free(&c);
    CHECK(ok);
}

TEST(unet_reference_then_denoise_matches_upstream) {
    anim_error e;
    nn_ctx c;
    const anim_model_config *mc = tiny_cfg(&e);
    CHECK_MSG(mc && tiny_ctx(&c, &e), "%s", e.msg);
    static unet_bank bank;
    nn_t x = ref_latents(&c, &e), enc = cfg_states(&c, &e);
    CHECK_MSG(nn_ok(&c) && x.d && enc.d, "%s", e.msg);
    CHECK_OK(unet_reference_bank(&c, &mc->reference_unet, x, enc, true, &bank), &e);
    denoise_io io = {0};
    CHECK_MSG(denoise_inputs(&c, &io, &e), "%s", e.msg);
    /* measured: uncond nmse 8.3e-8 (the same: no bank), cond 2.25e-8 (our banks
     * differ from the fixture's at the 98 fp16 ties); limits and floor as above */
    bool ok = denoise_and_compare(&c, &mc->denoising_unet, &io, &bank, "step0 noise_pred, own bank", 3e-7, 2e-3);
    free(io.ref);
    tiny_ctx_free(&c);
    CHECK(ok);
}

/* Upstream facts the end-to-end comparison cannot isolate on its own:
 * (a) the uncond half never sees the bank (bit-identical with and without one);
 * (b) a cond-only pass (B = 1, the bank's last sample) equals the cond half;
 * (c) a reference pass on the cond sample alone gives that sample's banks. */
TEST(unet_cfg_halves_and_batch_independence) {
    anim_error e;
    nn_ctx c;
    const anim_model_config *mc = tiny_cfg(&e);
    CHECK_MSG(mc && tiny_ctx(&c, &e), "%s", e.msg);
    const unet_config *dc = &mc->denoising_unet;
    static unet_bank bank, bank1;
    denoise_io io = {0};
    CHECK_MSG(fixture_bank(&c, dc, &bank, &e) && denoise_inputs(&c, &io, &e), "%s", e.msg);
    const int F = io.F;
    const size_t nh = (size_t)F * io.h * io.w * io.cout;
    float *a = malloc(2 * nh * sizeof *a), *b = malloc(2 * nh * sizeof *b), *d = malloc(nh * sizeof *d);

    nn_mark_t m = nn_mark(&c);
    nn_t y = unet_denoise(&c, dc, io.x, F, 999.0f, io.enc, io.pose, &bank);
    CHECK_MSG(nn_to_host(&c, y, a), "%s", e.msg);
    nn_release(&c, m);
    y = unet_denoise(&c, dc, io.x, F, 999.0f, io.enc, io.pose, NULL);
    CHECK_MSG(nn_to_host(&c, y, b), "%s", e.msg);
    nn_release(&c, m);
    CHECK(memcmp(a, b, nh * sizeof *a) == 0);            /* (a) */
    CHECK(memcmp(a + nh, b + nh, nh * sizeof *a) != 0);  /* the bank does reach the cond half */

    y = unet_denoise(&c, dc, nn_slice_n(&c, io.x, F, F), F, 999.0f, nn_slice_n(&c, io.enc, 1, 1), io.pose, &bank);
    CHECK_MSG(nn_to_host(&c, y, d), "%s", e.msg);
    nn_release(&c, m);
    /* (b) measured: identical bits (per-sample ops); a tolerance keeps the check
     * independent of how a backend blocks its batch dimension */
    CHECK(compare("cond-only pass vs cond half", d, a + nh, nh, 1e-13, 1e-6));

    nn_t x = ref_latents(&c, &e), enc = cfg_states(&c, &e);
    CHECK_OK(unet_reference_bank(&c, &mc->reference_unet, x, enc, true, &bank), &e);
    CHECK_OK(unet_reference_bank(&c, &mc->reference_unet, nn_slice_n(&c, x, 1, 1), nn_slice_n(&c, enc, 1, 1), true,
                                 &bank1), &e);
    CHECK(bank1.n == bank.n && bank1.samples == 1);
    size_t differing = 0, total = 0;
    for (int k = 0; k < bank.n; k++) {
        nn_t t2 = nn_slice_n(&c, bank.t[k], 1, 1), t1 = bank1.t[k];
        CHECK(nn_numel(t1) == nn_numel(t2));
        float *p = malloc(nn_numel(t1) * sizeof *p), *q = malloc(nn_numel(t1) * sizeof *q);
        bool got = nn_to_host(&c, t1, p) && nn_to_host(&c, t2, q);
        for (size_t i = 0; got && i < nn_numel(t1); i++) differing += fabsf(p[i] - q[i]) > 1e-6f;
        total += nn_numel(t1);
        free(p);
        free(q);
        CHECK(got);
    }
    printf("    cond-only banks vs sample 1 of the CFG pass: %zu of %zu values differ by > 1e-6\n", differing, total);
    CHECK(differing == 0); /* (c) measured: identical bits */
    free(a); free(b); free(d);
    free(io.ref);
    tiny_ctx_free(&c);
}

/* ReferenceAttentionControl.update: both DFS lists stable-sorted by -channels,
 * zipped. Same architecture -> identity (the released 320/640/1280 layout and
 * the tiny one); a writer listed in another order is matched by channels, ties
 * in DFS order. */
TEST(unet_bank_pairing_sorts_by_channels) {
    unet_config rel;
    unet_config_default(&rel);
    unet_tblock tb[32];
    const int n = unet_tblocks(&rel, tb, 32);
    CHECK(n == 16);
    /* DFS: down 0,0 1,1 2,2 (320 640 1280), up 1x3 2x3 3x3 (1280 640 320), mid (1280) */
    CHECK(tb[0].channels == 320 && tb[5].channels == 1280 && tb[6].section == UNET_SEC_UP && tb[6].level == 1 &&
          tb[15].section == UNET_SEC_MID && tb[15].channels == 1280);
    char name[W_NAME_MAX];
    unet_tblock_name(&tb[7], name, sizeof name);
    CHECK(!strcmp(name, "up_blocks.1.attentions.1.transformer_blocks.0"));
    int ch[16], pair[16];
    for (int k = 0; k < n; k++) ch[k] = tb[k].channels;
    CHECK(unet_bank_pairing(&rel, ch, n, pair) == n);
    for (int k = 0; k < n; k++) CHECK(pair[k] == k);
    /* writer listed in reverse: reader's 1280s are DFS 4,5,6,7,8,15, the writer's
     * (reversed) 0,7,8,9,10,11 -> zipped in those orders; likewise 640s and 320s */
    int rev[16];
    for (int k = 0; k < n; k++) rev[k] = ch[n - 1 - k];
    CHECK(unet_bank_pairing(&rel, rev, n, pair) == n);
    static const int want[16] = {1, 2, 4, 5, 0, 7, 8, 9, 10, 6, 12, 13, 3, 14, 15, 11};
    for (int k = 0; k < n; k++) CHECK_MSG(pair[k] == want[k], "reader %d -> writer %d, want %d", k, pair[k], want[k]);
    /* a shorter writer list leaves the last sorted readers without a bank (zip) */
    CHECK(unet_bank_pairing(&rel, ch, 15, pair) == n);
    int unpaired = 0;
    for (int k = 0; k < n; k++) unpaired += pair[k] < 0;
    CHECK(unpaired == 1 && pair[14] == -1); /* sorted last: the last 320 in DFS order (up_blocks.3.attentions.2) */
}

/* Odd latent sizes (Moore's default 512x784 has 98 rows -> 49 -> 25 -> 13):
 * downsampling gives ceil(n/2), the up path interpolates to each skip's exact
 * size. 9x13 -> 5x7 -> 3x4 -> 2x2 here; shapes and finiteness are checked (no
 * upstream numbers exist for it). */
TEST(unet_odd_latent_size_runs) {
    anim_error e;
    nn_ctx c;
    const anim_model_config *mc = tiny_cfg(&e);
    CHECK_MSG(mc && tiny_ctx(&c, &e), "%s", e.msg);
    const unet_config *rc = &mc->reference_unet, *dc = &mc->denoising_unet;
    const int F = 3, H = 9, W = 13, C0 = dc->block_out_channels[0];
    test_rng rng;
    test_rng_seed(&rng, 11);
    float *buf = malloc((size_t)2 * F * H * W * C0 * sizeof *buf);
    test_fill_uniform(&rng, buf, (size_t)2 * F * H * W * C0, -1.0f, 1.0f);
    nn_t ref = nn_from_host(&c, buf, 2, H, W, 4);
    nn_t x = nn_from_host(&c, buf + 100, 2 * F, H, W, 4);
    nn_t pose = nn_from_host(&c, buf + 7, F, H, W, C0);
    nn_t enc = nn_from_host(&c, buf + 3, 2, 1, 1, dc->cross_attention_dim);
    static unet_bank bank;
    CHECK_OK(unet_reference_bank(&c, rc, ref, enc, true, &bank), &e);
    CHECK(bank.n == 10);
    /* down_blocks.2 (level 2: 3x4), mid (2x2), up_blocks.1 (level 2), up_blocks.3 (level 0) */
    CHECK(bank.t[2].h == 3 && bank.t[2].w == 4 && bank.t[3].h == 3 && bank.t[3].w == 4);
    CHECK(bank.t[9].h == 2 && bank.t[9].w == 2 && bank.t[7].h == 9 && bank.t[7].w == 13);
    nn_t y = unet_denoise(&c, dc, x, F, 500.0f, enc, pose, &bank);
    CHECK_MSG(nn_ok(&c), "%s", e.msg);
    CHECK(y.n == 2 * F && y.h == H && y.w == W && y.c == 4);
    size_t n = nn_numel(y);
    float *o = malloc(n * sizeof *o);
    CHECK(nn_to_host(&c, y, o));
    bool finite = true;
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        finite = finite && isfinite(o[i]);
        ss += (double)o[i] * o[i];
    }
    CHECK(finite && ss > 0);
    /* a bad frame count or state shape is refused, naming the problem */
    nn_t bad = unet_denoise(&c, dc, x, 4, 500.0f, enc, pose, &bank);
    CHECK(bad.d == NULL && c.st == ANIM_E_INVALID_ARG);
    CHECK_CONTAINS(e.msg, "frames");
    free(o);
    free(buf);
    tiny_ctx_free(&c);
}

/* ---- motion module against a float64 host evaluation ----
 * The fixture cannot check the motion modules tightly (see the denoising test:
 * upstream's own rounding at zero-variance GroupNorm groups sets a floor), so one
 * module is also compared with a direct double-precision evaluation of Moore's
 * motion_module.py (VanillaTemporalModule -> TemporalTransformer3DModel) written
 * out below with plain loops, on non-degenerate inputs: small-variance inputs so
 * that the GroupNorm eps matters, odd sizes (F = 5 frames, 3x5 pixels, 2 samples). */

static const float *mw(const char *p, const char *suffix) {
    anim_error e;
    char key[4 * W_NAME_MAX];
    snprintf(key, sizeof key, "%s.%s", p, suffix);
    return anim_model_weight(tiny_model(&e), "denoising_unet", key);
}

/* y[m][n] = x[m][k] W[n][k] + b[n] */
static void ref_linear(double *y, const double *x, int m, int k, int n, const float *w, const float *b) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = b ? b[j] : 0.0;
            for (int t = 0; t < k; t++) s += x[(size_t)i * k + t] * w[(size_t)j * k + t];
            y[(size_t)i * n + j] = s;
        }
}

static void ref_layer_norm(double *y, const double *x, int m, int c, const float *g, const float *b, double eps) {
    for (int i = 0; i < m; i++) {
        const double *r = x + (size_t)i * c;
        double mu = 0, var = 0;
        for (int t = 0; t < c; t++) mu += r[t];
        mu /= c;
        for (int t = 0; t < c; t++) var += (r[t] - mu) * (r[t] - mu);
        var /= c;
        for (int t = 0; t < c; t++) y[(size_t)i * c + t] = (r[t] - mu) / sqrt(var + eps) * g[t] + b[t];
    }
}

/* x: [B*F][hw][C] -> y, the module under prefix p with heads heads */
static bool ref_motion_module(const char *p, const double *x, double *y, int B, int F, int hw, int C, int heads) {
    char k[2 * W_NAME_MAX];
    const size_t N = (size_t)B * F * hw, NC = N * C;
    double *h = calloc(NC, sizeof *h), *n = calloc(NC, sizeof *n), *q = calloc(NC, sizeof *q),
           *kk = calloc(NC, sizeof *kk), *v = calloc(NC, sizeof *v), *o = calloc(NC, sizeof *o),
           *f8 = calloc(N * 8 * C, sizeof *f8), *f4 = calloc(N * 4 * C, sizeof *f4);
    bool ok = h && n && q && kk && v && o && f8 && f4;
    const float *gn_g = mw(p, "temporal_transformer.norm.weight"), *gn_b = mw(p, "temporal_transformer.norm.bias");
    ok = ok && gn_g && gn_b;
    if (!ok) printf("    motion module reference: missing weights or memory\n");
    /* GroupNorm(32, C, eps=1e-6) per frame */
    const int G = 32, cg = C / G;
    for (int fr = 0; ok && fr < B * F; fr++)
        for (int g = 0; g < G; g++) {
            double mu = 0, var = 0;
            for (int pix = 0; pix < hw; pix++)
                for (int t = 0; t < cg; t++) mu += x[((size_t)fr * hw + pix) * C + g * cg + t];
            mu /= hw * cg;
            for (int pix = 0; pix < hw; pix++)
                for (int t = 0; t < cg; t++) {
                    double d = x[((size_t)fr * hw + pix) * C + g * cg + t] - mu;
                    var += d * d;
                }
            var /= hw * cg;
            for (int pix = 0; pix < hw; pix++)
                for (int t = 0; t < cg; t++) {
                    size_t i = ((size_t)fr * hw + pix) * C + g * cg + t;
                    n[i] = (x[i] - mu) / sqrt(var + 1e-6) * gn_g[g * cg + t] + gn_b[g * cg + t];
                }
        }
    if (ok) ref_linear(h, n, (int)N, C, C, mw(p, "temporal_transformer.proj_in.weight"),
                       mw(p, "temporal_transformer.proj_in.bias"));
    const int d = C / heads;
    for (int a = 0; ok && a < 2; a++) {
        char ab[W_NAME_MAX];
        snprintf(ab, sizeof ab, "temporal_transformer.transformer_blocks.0.attention_blocks.%d", a);
        snprintf(k, sizeof k, "temporal_transformer.transformer_blocks.0.norms.%d.weight", a);
        const float *lg = mw(p, k);
        snprintf(k, sizeof k, "temporal_transformer.transformer_blocks.0.norms.%d.bias", a);
        const float *lb = mw(p, k);
        snprintf(k, sizeof k, "%s.pos_encoder.pe", ab);
        const float *pe = mw(p, k);
        ok = lg && lb && pe;
        if (!ok) printf("    motion module reference: missing %s weights\n", ab);
        ref_layer_norm(n, h, (int)N, C, lg, lb, 1e-5);
        /* PositionalEncoding on the (b d) f c sequences: frame f gets pe[0, f] */
        for (int fr = 0; fr < B * F; fr++)
            for (int pix = 0; pix < hw; pix++)
                for (int t = 0; t < C; t++) n[((size_t)fr * hw + pix) * C + t] += pe[(size_t)(fr % F) * C + t];
        snprintf(k, sizeof k, "%s.to_q.weight", ab);
        ref_linear(q, n, (int)N, C, C, mw(p, k), NULL);
        snprintf(k, sizeof k, "%s.to_k.weight", ab);
        ref_linear(kk, n, (int)N, C, C, mw(p, k), NULL);
        snprintf(k, sizeof k, "%s.to_v.weight", ab);
        ref_linear(v, n, (int)N, C, C, mw(p, k), NULL);
        /* softmax over the F frames of each (sample, pixel, head) */
        for (int b = 0; b < B; b++)
            for (int pix = 0; pix < hw; pix++)
                for (int hd = 0; hd < heads; hd++)
                    for (int i = 0; i < F; i++) {
                        double s[64], mx = -1e300, l = 0;
                        const double *qi = q + ((size_t)(b * F + i) * hw + pix) * C + hd * d;
                        for (int j = 0; j < F; j++) {
                            const double *kj = kk + ((size_t)(b * F + j) * hw + pix) * C + hd * d;
                            s[j] = 0;
                            for (int t = 0; t < d; t++) s[j] += qi[t] * kj[t];
                            s[j] /= sqrt((double)d);
                            if (s[j] > mx) mx = s[j];
                        }
                        for (int j = 0; j < F; j++) l += (s[j] = exp(s[j] - mx));
                        double *oi = o + ((size_t)(b * F + i) * hw + pix) * C + hd * d;
                        for (int t = 0; t < d; t++) {
                            double acc = 0;
                            for (int j = 0; j < F; j++) acc += s[j] * v[((size_t)(b * F + j) * hw + pix) * C + hd * d + t];
                            oi[t] = acc / l;
                        }
                    }
        snprintf(k, sizeof k, "%s.to_out.0.weight", ab);
        char kb[2 * W_NAME_MAX];
        snprintf(kb, sizeof kb, "%s.to_out.0.bias", ab);
        ref_linear(n, o, (int)N, C, C, mw(p, k), mw(p, kb));
        for (size_t i = 0; i < NC; i++) h[i] += n[i]; /* attention + hidden (the residual has no pe) */
    }
    if (ok) {
        const float *fg = mw(p, "temporal_transformer.transformer_blocks.0.ff_norm.weight");
        const float *fb = mw(p, "temporal_transformer.transformer_blocks.0.ff_norm.bias");
        ref_layer_norm(n, h, (int)N, C, fg, fb, 1e-5);
        ref_linear(f8, n, (int)N, C, 8 * C, mw(p, "temporal_transformer.transformer_blocks.0.ff.net.0.proj.weight"),
                   mw(p, "temporal_transformer.transformer_blocks.0.ff.net.0.proj.bias"));
        /* GEGLU: hidden, gate = chunk(2); hidden * gelu(gate), erf form */
        for (size_t i = 0; i < N; i++)
            for (int t = 0; t < 4 * C; t++) {
                double hv = f8[i * 8 * C + t], gt = f8[i * 8 * C + 4 * C + t];
                f4[i * 4 * C + t] = hv * 0.5 * gt * (1.0 + erf(gt / sqrt(2.0)));
            }
        ref_linear(n, f4, (int)N, 4 * C, C, mw(p, "temporal_transformer.transformer_blocks.0.ff.net.2.weight"),
                   mw(p, "temporal_transformer.transformer_blocks.0.ff.net.2.bias"));
        for (size_t i = 0; i < NC; i++) h[i] += n[i];
        ref_linear(y, h, (int)N, C, C, mw(p, "temporal_transformer.proj_out.weight"),
                   mw(p, "temporal_transformer.proj_out.bias"));
        for (size_t i = 0; i < NC; i++) y[i] += x[i];
    }
    free(h); free(n); free(q); free(kk); free(v); free(o); free(f8); free(f4);
    return ok;
}

TEST(unet_motion_module_matches_float64_reference) {
    anim_error e;
    nn_ctx c;
    const anim_model_config *mc = tiny_cfg(&e);
    CHECK_MSG(mc && tiny_ctx(&c, &e), "%s", e.msg);
    const unet_config *dc = &mc->denoising_unet;
    const char *p = "up_blocks.3.motion_modules.1";
    const int B = 2, F = 5, H = 3, W = 5, C = dc->block_out_channels[0], heads = dc->mm.num_attention_heads;
    CHECK(dc->mm.num_transformer_block == 1 && dc->mm.n_attention_blocks == 2 && C == 32);
    const size_t n = (size_t)B * F * H * W * C;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double *xd = malloc(n * sizeof *xd), *ref = malloc(n * sizeof *ref);
    test_rng rng;
    test_rng_seed(&rng, 5);
    /* per-channel offsets and a small spread: GroupNorm variances ~1e-4, where
     * its eps (1e-6 here, 1e-5 elsewhere) visibly matters */
    for (size_t i = 0; i < n; i++) {
        x[i] = 0.5f * (float)((i % C) % 7) - 1.5f + test_rng_uniform(&rng, -0.02f, 0.02f);
        xd[i] = x[i];
    }
    CHECK(ref_motion_module(p, xd, ref, B, F, H * W, C, heads));
    c.net = "denoising_unet"; /* motion_module_forward reads c->net's weights */
    nn_t out = motion_module_forward(&c, &dc->mm, nn_from_host(&c, x, B * F, H, W, C), F, p);
    CHECK_MSG(nn_ok(&c), "%s", e.msg);
    CHECK(out.n == B * F && out.h == H && out.w == W && out.c == C);
    CHECK(nn_to_host(&c, out, y));
    /* measured: nmse 5.3e-14, max |err| 1.8e-6 (|ref| up to ~9); limits ~10x / 5x
     * above. Caught: GroupNorm eps 1e-5 (nmse 7.2e-4), LayerNorm eps 1e-6 (2.0e-11),
     * pe dropped (0.23), pe also added to the residual (0.74), attention over the
     * pixels of a frame instead of the frames of a pixel (0.39). */
    CHECK(compare2("motion module vs float64", y, NULL, ref, n, 5e-13, 1e-5));
    /* more frames than pos_encoder.pe holds is refused by name (upstream: a shape error) */
    const int F2 = 33;
    float *x2 = calloc((size_t)F2 * C, sizeof *x2);
    nn_t bad = motion_module_forward(&c, &dc->mm, nn_from_host(&c, x2, F2, 1, 1, C), F2, p);
    CHECK(bad.d == NULL && c.st == ANIM_E_UNSUPPORTED);
    CHECK_CONTAINS(e.msg, "pos_encoder.pe");
    free(x2);
    free(x); free(y); free(xd); free(ref);
    tiny_ctx_free(&c);
}
