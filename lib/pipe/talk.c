/*
 * talk.c - the talking-head pipeline: EchoMimic V1's Audio2VideoPipeline
 * (pipeline_echo_mimic.py, as infer_audio2vid.py runs it) and its
 * accelerated twin (pipeline_echo_mimic_acc.py), step for step:
 *
 *   1. audio: WAV -> mono 16 kHz as ffmpeg gives it to whisper's load_audio,
 *      log-mel over the whole file, the Whisper encoder per 30 s segment,
 *      per-frame audio tokens (50 per frame at `fps`); the video length is
 *      min(L, the frame count upstream derives from the audio);
 *   2. face: the portrait cropped around the face box and resized with cv2's
 *      bilinear rule, the dilated face mask (or the whole frame without box);
 *   3. the face locator on the mask -> features added after conv_in of the
 *      cond half (the uncond half gets zeros);
 *   4. reference latents: VAE mean * 0.18215 of the (cropped) portrait; the
 *      reference UNet (no cross-attention) once at timestep 0 -> the bank;
 *   5. initial noise clamped to [-1.5, 1.5];
 *   6. DDIM: the context windows are computed once and rotated by 2*step
 *      every step; per window the UNet on [uncond, cond] (or cond only
 *      without guidance) with each frame's own audio tokens (x3.0) and the
 *      bank for the cond half; predictions summed per frame and divided by the
 *      count - always (the standard upstream pipeline forgets the division when
 *      guidance is off; we do not copy that); guidance; one DDIM step. The
 *      accelerated weights' predictions are first turned into upstream's
 *      "pseudo velocity" (x0 = a_t x - b_t v; (x0 - (a_s a_t + b_s b_t) x) /
 *      (b_s a_t - a_s b_t) with s = -1, alpha 1);
 *   7. VAE decode frame by frame; the video carries the 16 kHz track.
 */
#include "pipe/talk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/mel.h"
#include "audio/resample.h"
#include "audio/wav.h"
#include "nn/config.h"
#include "nn/nn.h"
#include "nn/pose_guider.h"
#include "nn/unet.h"
#include "nn/vae.h"
#include "nn/whisper.h"
#include "pipe/context.h"
#include "pipe/ddim.h"
#include "pipe/face.h"
#include "pipe/preprocess.h"
#include "pipe/video_common.h"

#define VAE_SCALE 0.18215f  /* hard-coded in EchoMimic's pipeline, as in Moore's */
#define NOISE_CLAMP 1.5f    /* latents = clamp(randn, -1.5, 1.5) */
#define WINDOW_SHIFT 2      /* every window index becomes (idx + 2 * step) % L */

void pipe_talk_params_default(anim_talk_params *p) {
    memset(p, 0, sizeof *p);
    p->struct_size = (uint32_t)sizeof *p;
    p->width = p->height = 512;
    p->steps = 0;       /* 30, or 6 with the accelerated weights */
    p->guidance = -1;   /* 2.5, or none with the accelerated weights */
    p->seed = 420;      /* infer_audio2vid.py's default */
    p->fps = 24;
    p->context_frames = 12;
    p->context_overlap = 3;
}

typedef struct talk_run {
    nn_ctx c;
    const anim_model_config *mc;
    bool acc;
    int F, h, w, H8, W8, B, steps;
    float guidance;
    float *lat;          /* [F][h][w][4] */
    float *tokens;       /* [F][T][S] per-frame audio tokens */
    int T, S;            /* tokens per frame (50), their width */
    nn_t face;           /* [1, h, w, C0] */
    unet_bank bank;
    struct timespec t0;
    double denoise_s;
    int unet_calls;
} talk_run;

/* 1: audio -> 16 kHz track and per-frame tokens; sets r->F */
static void audio_tokens(talk_run *r, const char *wav_path, const anim_talk_params *p, anim_video *out) {
    nn_ctx *c = &r->c;
    anim_error e;
    anim_err_clear(&e);
    wav_audio a = {0};
    float *x = NULL, *mel = NULL, *feat = NULL;
    size_t n = 0;
    int n_mel = 0, t50 = 0;
    if (wav_read_file(wav_path, &a, &e) != ANIM_OK || resample_load_audio_16k(&a, &x, &n, &e) != ANIM_OK ||
        whisper_log_mel(x, n, &mel, &n_mel, &e) != ANIM_OK) {
        nn_fail(c, e.status ? e.status : ANIM_E_FORMAT, "%s", e.msg);
        goto out;
    }
    const whisper_dims *wd = anim_model_whisper_dims(c->model);
    if (whisper_encode(c, wd, mel, n_mel, &feat, &t50) != ANIM_OK) goto out;
    int N = whisper_frame_count(t50, p->fps);
    r->F = p->frames > 0 && p->frames < N ? p->frames : N;
    r->S = wd->n_audio_state;
    r->T = 10 * (wd->n_audio_layer + 1); /* 10 positions x the stacked hidden states: 50 for whisper tiny */
    r->tokens = malloc((size_t)r->F * r->T * r->S * sizeof *r->tokens);
    if (!r->tokens) {
        nn_fail(c, ANIM_E_OOM, "out of memory for the audio tokens of %d frames", r->F);
        goto out;
    }
    for (int f = 0; f < r->F; f++)
        whisper_frame_tokens(feat, t50, wd->n_audio_layer + 1, r->S, f, p->fps, r->tokens + (size_t)f * r->T * r->S);
    /* the track the video was made from goes with it */
    out->audio = x;
    out->n_samples = n;
    out->sample_rate = 16000;
    x = NULL;
out:
    wav_free(&a);
    free(x);
    free(mel);
    free(feat);
}

/* 2-4: face crop and mask, face locator features, reference bank */
static void prepare(talk_run *r, const anim_image *portrait, const anim_talk_params *p) {
    nn_ctx *c = &r->c;
    anim_error e;
    anim_err_clear(&e);
    size_t px = (size_t)r->H8 * r->W8;
    float *mask = malloc(px * sizeof *mask), *img = malloc(px * 3 * sizeof *img);
    float *ref_lat = malloc((size_t)r->h * r->w * 4 * sizeof *ref_lat);
    anim_image ref = {0};
    face_geometry geo;
    if (!mask || !img || !ref_lat) {
        nn_fail(c, ANIM_E_OOM, "out of host memory preparing the portrait");
        goto out;
    }
    if (face_prepare(portrait, p->has_face_box ? p->face_box : NULL, r->W8, r->H8, NULL, &ref, mask, &geo, &e) !=
        ANIM_OK) {
        nn_fail(c, e.status, "%s", e.msg);
        goto out;
    }
    if (geo.has_box && geo.mask_wrapped)
        anim_log(c->hooks, ANIM_LOG_WARN,
                 "the dilated face box reaches past the portrait's top or left edge: the face mask is computed as "
                 "upstream computes it (numpy's negative slice start wraps), which leaves it smaller than the face");
    /* 3. the face locator on the single mask frame */
    nn_mark_t m0 = nn_mark(c);
    nn_t fm = nn_from_host(c, mask, 1, r->H8, r->W8, 1);
    r->face = nn_keep(c, m0, pose_guider_forward(c, &r->mc->pose_guider, fm));
    /* 4. reference latents (VaeImageProcessor: LANCZOS to W x H - a copy when the crop already has that size) */
    nn_mark_t m1 = nn_mark(c);
    if (anim_prep_vae(&ref, r->W8, r->H8, img, &e) != ANIM_OK) {
        nn_fail(c, e.status, "%s", e.msg);
        goto out;
    }
    nn_t mean = vae_encode_mean(c, anim_model_vae_cfg(c->model), nn_from_host(c, img, 1, r->H8, r->W8, 3));
    if (!nn_to_host(c, mean, ref_lat)) goto out;
    nn_release(c, m1);
    for (size_t i = 0; i < (size_t)r->h * r->w * 4; i++) ref_lat[i] *= VAE_SCALE;
    nn_t rl = nn_from_host(c, ref_lat, 1, r->h, r->w, 4);
    nn_t none = {0};
    if (nn_ok(c)) {
        anim_status st = unet_reference_bank(c, &r->mc->reference_unet, rl, none, true, &r->bank);
        if (st != ANIM_OK) nn_fail(c, st, "reference UNet failed");
    }
    anim_progress_report(c->hooks, &(anim_progress){"prepare", 1, 1, 0, 0, 0, 0, pipe_seconds_since(&r->t0)});
out:
    anim_image_free(&ref);
    free(mask);
    free(img);
    free(ref_lat);
}

/* upstream's pseudo velocity towards t = -1 (alpha 1), in its float32 order */
static void pseudo_velocity(const ddim *d, int t, const float *x, float *v, size_t n) {
    const float alpha_t = d->alphas_cumprod[t], alpha_s = 1.0f;
    const float a_t = sqrtf(alpha_t), b_t = sqrtf(1.0f - alpha_t);
    const float a_s = sqrtf(alpha_s), b_s = sqrtf(1.0f - alpha_s);
    const float k = a_s * a_t + b_s * b_t, den = b_s * a_t - a_s * b_t;
    for (size_t i = 0; i < n; i++) {
        float x0 = a_t * x[i] - b_t * v[i]; /* origin_by_velocity_and_sample */
        v[i] = (x0 - k * x[i]) / den;
    }
}

/* 6: the DDIM loop */
static void denoise(talk_run *r, const anim_talk_params *p, const pipe_debug_talk *dbg) {
    nn_ctx *c = &r->c;
    anim_error e;
    ddim d = {0};
    ctx_window_list wl = {0};
    ctx_accum acc = {0};
    size_t inner = (size_t)r->h * r->w * 4, clip_n = (size_t)r->F * inner, tok = (size_t)r->T * r->S;
    float *in = NULL, *pred = NULL, *avg = NULL, *guided = NULL, *states = NULL;
    int *fr = NULL;
    if (ddim_init(&d, &r->mc->sched, r->steps, &e) != ANIM_OK ||
        ctx_windows(0, r->steps, r->F, p->context_frames, 1, p->context_overlap, true, &wl, &e) != ANIM_OK ||
        ctx_accum_init(&acc, (size_t)r->B, r->F, inner, &e) != ANIM_OK) {
        nn_fail(c, e.status, "%s", e.msg);
        goto out;
    }
    int L = wl.window_len;
    in = malloc((size_t)r->B * L * inner * sizeof *in);
    pred = malloc((size_t)r->B * L * inner * sizeof *pred);
    avg = malloc((size_t)r->B * clip_n * sizeof *avg);
    guided = malloc(clip_n * sizeof *guided);
    states = calloc((size_t)r->B * L * tok, sizeof *states); /* the uncond half's audio stays zero */
    fr = malloc((size_t)L * sizeof *fr);
    if (!in || !pred || !avg || !guided || !states || !fr) {
        nn_fail(c, ANIM_E_OOM, "out of host memory for %d frames of latents", r->F);
        goto out;
    }
    unet_cond cond;
    unet_cond_init(&cond);
    cond.cross_attn_scale = UNET_ECHO_AUDIO_SCALE;
    cond.features = r->face;
    cond.features_cond_only = true;
    cond.bank = &r->bank;
    int total = r->steps * wl.n_windows, done = 0;
    double t_start = pipe_seconds_since(&r->t0);
    nn_mark_t m = nn_mark(c);
    for (int i = 0; i < r->steps && nn_ok(c); i++) {
        int t = ddim_timestep(&d, i);
        ctx_accum_zero(&acc);
        for (int wi = 0; wi < wl.n_windows && nn_ok(c); wi++) {
            if (anim_should_abort(c->hooks)) {
                nn_fail(c, ANIM_E_ABORTED, "aborted by the caller at step %d, window %d", i + 1, wi + 1);
                break;
            }
            const int *w0 = ctx_window(&wl, wi);
            for (int j = 0; j < L; j++) fr[j] = (w0[j] + WINDOW_SHIFT * i) % r->F;
            for (int b = 0; b < r->B; b++)
                for (int j = 0; j < L; j++)
                    memcpy(in + ((size_t)b * L + j) * inner, r->lat + (size_t)fr[j] * inner, inner * sizeof *in);
            for (int j = 0; j < L; j++) /* the cond (last) sample: each frame's own audio tokens */
                memcpy(states + ((size_t)(r->B - 1) * L + j) * tok, r->tokens + (size_t)fr[j] * tok,
                       tok * sizeof *states);
            nn_t x = nn_from_host(c, in, r->B * L, r->h, r->w, 4);
            cond.encoder_states = nn_from_host(c, states, r->B * L, 1, r->T, r->S);
            nn_t o = unet_denoise_ex(c, &r->mc->denoising_unet, x, L, (float)t, &cond);
            if (!nn_to_host(c, o, pred)) break;
            nn_release(c, m);
            if (r->acc) pseudo_velocity(&d, t, in, pred, (size_t)r->B * L * inner);
            ctx_accum_add(&acc, fr, L, pred);
            r->unet_calls++;
            anim_progress_report(c->hooks, &(anim_progress){"denoise", ++done, total, i + 1, r->steps, wi + 1,
                                                            wl.n_windows, pipe_seconds_since(&r->t0)});
        }
        if (!nn_ok(c)) break;
        pipe_finish_step(&acc, &d, i, r->B, r->guidance, avg, guided, r->lat, r->F, r->h, r->w,
                         dbg ? dbg->on_step : NULL, dbg ? dbg->user : NULL);
    }
    r->denoise_s = pipe_seconds_since(&r->t0) - t_start;
out:
    free(in);
    free(pred);
    free(avg);
    free(guided);
    free(states);
    free(fr);
    ctx_accum_free(&acc);
    ctx_window_list_free(&wl);
    ddim_free(&d);
}

anim_status pipe_talking_head(anim_be *be, const anim_model *m, const anim_hooks *hooks, const anim_talk_params *p,
                              const anim_image *portrait, const char *wav_path, anim_video *out,
                              const pipe_debug_talk *dbg, anim_run_stats *stats, anim_error *err) {
    memset(out, 0, sizeof *out);
    talk_run r;
    memset(&r, 0, sizeof r);
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    if (anim_model_kind_of(m) != ANIM_MODEL_TALKING_HEAD)
        return anim_seterr(err, ANIM_E_STATE, "the loaded model is a pose-animation model, not a talking-head model");
    if (p->width < 8 || p->height < 8 || p->width > 16384 || p->height > 16384)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "width x height %d x %d: each must be in 8..16384", p->width,
                           p->height);
    if (!(p->fps > 0 && p->fps <= 240)) return anim_seterr(err, ANIM_E_INVALID_ARG, "fps %g must be in (0, 240]", p->fps);
    if (p->frames < 0) return anim_seterr(err, ANIM_E_INVALID_ARG, "frames %d must be >= 1", p->frames);
    if (p->context_frames < 1 || p->context_overlap < 0 || p->context_overlap >= p->context_frames)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "context windows of %d frames with overlap %d: need frames >= 1 and 0 <= overlap < frames",
                           p->context_frames, p->context_overlap);
    if (p->steps < 0) return anim_seterr(err, ANIM_E_INVALID_ARG, "steps %d must be >= 1 (0: the default)", p->steps);
    if (isnan(p->guidance)) return anim_seterr(err, ANIM_E_INVALID_ARG, "guidance is NaN");
    if (p->has_face_box) { /* checked before the audio work, not after it */
        anim_status sb = face_box_check(p->face_box, portrait->w, portrait->h, err);
        if (sb != ANIM_OK) return sb;
    }
    r.acc = anim_model_is_acc(m);
    r.steps = p->steps > 0 ? p->steps : (r.acc ? 6 : 30);
    r.guidance = p->guidance >= 0 ? p->guidance : (r.acc ? 1.0f : 2.5f);
    if (r.steps > 1000) return anim_seterr(err, ANIM_E_INVALID_ARG, "steps %d must be in 1..1000", r.steps);
    if (!(r.guidance <= 100)) return anim_seterr(err, ANIM_E_INVALID_ARG, "guidance %g must be <= 100", (double)r.guidance);
    r.B = r.guidance > 1.0f ? 2 : 1; /* do_classifier_free_guidance = guidance_scale > 1 */
    r.mc = anim_model_cfg(m);
    anim_prep_vae_size(p->width, p->height, &r.W8, &r.H8);
    r.h = r.H8 / 8;
    r.w = r.W8 / 8;

    nn_arena *ar = NULL;
    anim_status st = nn_arena_create(be, 0, &ar, err);
    if (st != ANIM_OK) return st;
    anim_err_clear(err);
    r.c = (nn_ctx){be, m, "pipeline", ar, hooks, ANIM_OK, err};
    audio_tokens(&r, wav_path, p, out);
    float *noise = NULL;
    if (nn_ok(&r.c)) {
        size_t lat_n = (size_t)4 * r.F * r.h * r.w;
        noise = malloc(lat_n * sizeof *noise);
        r.lat = malloc(lat_n * sizeof *r.lat);
        if (!noise || !r.lat) nn_fail(&r.c, ANIM_E_OOM, "out of memory for %d frames of latents", r.F);
        else if ((st = pipe_initial_noise(p->noise_file, p->noise, p->seed, r.F, r.h, r.w, noise, err)) != ANIM_OK)
            r.c.st = st;
        else {
            for (size_t i = 0; i < lat_n; i++) /* torch.clamp(latents, -1.5, 1.5), init_noise_sigma 1 */
                noise[i] = noise[i] < -NOISE_CLAMP ? -NOISE_CLAMP : (noise[i] > NOISE_CLAMP ? NOISE_CLAMP : noise[i]);
            nn_ncfhw_to_frames(r.lat, noise, 1, 4, r.F, r.h, r.w);
        }
    }
    free(noise);
    if (nn_ok(&r.c)) prepare(&r, portrait, p);
    if (nn_ok(&r.c)) denoise(&r, p, dbg);
    if (nn_ok(&r.c) && (p->save_latents_file || p->latents_out)) {
        anim_status s2 = pipe_save_latents(r.lat, r.F, r.h, r.w, p->save_latents_file, p->latents_out, err);
        if (s2 != ANIM_OK) r.c.st = s2;
    }
    if (nn_ok(&r.c))
        pipe_decode(&r.c, anim_model_vae_cfg(m), r.lat, r.F, r.h, r.w, out, dbg ? dbg->frames01 : NULL, &r.t0);
    st = r.c.st;
    if (st == ANIM_OK) {
        out->fps = p->fps;
        if (stats) {
            anim_model_info info;
            anim_model_describe(m, &info);
            *stats = (anim_run_stats){pipe_seconds_since(&r.t0), r.denoise_s, r.steps, r.unet_calls,
                                      (int64_t)(nn_arena_peak(ar) * anim_dtype_size(be->storage)), info.weight_bytes};
        }
    }
    nn_arena_free(ar);
    free(r.lat);
    free(r.tokens);
    if (st != ANIM_OK) {
        free(out->rgb);
        free(out->audio);
        memset(out, 0, sizeof *out);
    }
    return st;
}
