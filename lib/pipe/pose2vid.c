/*
 * pose2vid.c - the pose-animation pipeline: Moore-AnimateAnyone's long
 * pipeline (src/pipelines/pipeline_pose2vid_long.py, as scripts/pose2vid.py
 * runs it), step for step:
 *
 *   1. CLIP: the reference squashed to 224x224 (PIL bicubic) -> image_embeds,
 *      the one-token context [zeros (uncond), embeds (cond)];
 *   2. VAE: the reference resized (LANCZOS) to W x H -> latent mean * 0.18215;
 *   3. reference UNet once at timestep 0 on [ref, ref] -> the bank (fp16-rounded);
 *   4. PoseGuider on every pose picture (LANCZOS to W x H, / 255);
 *   5. DDIM: per step, context windows (closed loop, wrapping); per window the
 *      UNet on [uncond, cond] x window frames with the window's pose features;
 *      predictions summed per frame and divided by the per-frame count; then
 *      guidance (uncond + s (cond - uncond)) and one DDIM step on the clip;
 *   6. VAE decode one frame at a time, (x / 2 + 0.5).clamp(0, 1), uint8 by
 *      truncation of x * 255 (Moore's save_videos_grid).
 * Guidance is skipped when the scale is <= 1 (do_classifier_free_guidance).
 * Latents live on the host between UNet calls (they are small); activations
 * live in one arena, with the persistent tensors (context, bank, pose
 * features) at its bottom and everything per window released after it.
 */
#include "pipe/pose2vid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/st_write.h"
#include "io/tensor_file.h"
#include "nn/clip_vision.h"
#include "nn/config.h"
#include "nn/nn.h"
#include "nn/pose_guider.h"
#include "nn/unet.h"
#include "nn/vae.h"
#include "pipe/context.h"
#include "pipe/ddim.h"
#include "pipe/noise.h"
#include "pipe/preprocess.h"
#include "pipe/video_common.h"

/* Moore's pipeline hard-codes the SD VAE scale (not the config's) */
#define VAE_SCALE 0.18215f

void pipe_pose_params_default(anim_pose_params *p) {
    memset(p, 0, sizeof *p);
    p->struct_size = (uint32_t)sizeof *p;
    p->width = 512;
    p->height = 784;
    p->steps = 30;
    p->guidance = 3.5f;
    p->seed = 42;
    p->context_frames = 24;
    p->context_overlap = 4;
}

static anim_status check_params(const anim_pose_params *p, int n_poses, int *frames, anim_error *err) {
    if (p->width < 8 || p->height < 8 || p->width > 16384 || p->height > 16384)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "width x height %d x %d: each must be in 8..16384", p->width,
                           p->height);
    if (p->frames < 0) return anim_seterr(err, ANIM_E_INVALID_ARG, "frames %d must be >= 1", p->frames);
    int f = p->frames ? p->frames : n_poses;
    if (n_poses < 1) return anim_seterr(err, ANIM_E_INVALID_ARG, "no pose pictures given");
    if (f > n_poses)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "%d frames asked for but only %d pose pictures given", f,
                           n_poses);
    if (p->steps < 1 || p->steps > 1000)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "steps %d must be in 1..1000", p->steps);
    if (!(p->guidance >= 0 && p->guidance <= 100))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "guidance scale %g must be in 0..100", (double)p->guidance);
    if (p->context_frames < 1 || p->context_overlap < 0 || p->context_overlap >= p->context_frames)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "context windows of %d frames with overlap %d: need frames >= 1 and 0 <= overlap < frames",
                           p->context_frames, p->context_overlap);
    *frames = f;
    return ANIM_OK;
}

typedef struct run {
    nn_ctx c;
    const anim_model_config *mc;
    int F, h, w, H8, W8, B;        /* B: 2 with guidance ([uncond, cond]), else 1 */
    float *lat;                    /* latents, frames layout [F][h][w][4] */
    nn_t enc, posefeat;            /* persistent: context [B,1,1,D], pose features [F,h,w,C0] */
    unet_bank bank;
    struct timespec t0;
    double denoise_s;
    int unet_calls;
} run;

/* steps 1-4: everything computed once per video */
static void prepare(run *r, const anim_image *ref, const anim_image *poses) {
    nn_ctx *c = &r->c;
    const clip_vision_config *ccfg = anim_model_clip_cfg(c->model);
    const vae_config *vcfg = anim_model_vae_cfg(c->model);
    int S = ccfg->image_size, D = ccfg->projection_dim;
    size_t pix_n = (size_t)S * S * 3, img_n = (size_t)r->H8 * r->W8 * 3, lat_n = (size_t)r->h * r->w * 4;
    float *host = malloc((pix_n > img_n ? pix_n : img_n) * sizeof *host);
    float *emb = calloc((size_t)2 * D, sizeof *emb), *ref_lat = malloc(2 * lat_n * sizeof *ref_lat);
    if (!host || !emb || !ref_lat) {
        nn_fail(c, ANIM_E_OOM, "out of host memory preparing the inputs");
        goto out;
    }
    anim_error e;
    nn_mark_t m0 = nn_mark(c);
    /* 1. CLIP image embedding: the uncond context is all zeros */
    if (anim_prep_clip(ref, S, NULL, NULL, host, &e) != ANIM_OK) { nn_fail(c, e.status, "%s", e.msg); goto out; }
    nn_t emb_t = clip_vision_embed(c, ccfg, nn_from_host(c, host, 1, S, S, 3));
    if (!nn_to_host(c, emb_t, emb + (size_t)(r->B - 1) * D)) goto out;
    nn_release(c, m0);
    anim_progress_report(c->hooks, &(anim_progress){"prepare", 1, 4, 0, 0, 0, 0, pipe_seconds_since(&r->t0)});
    /* 2. reference latents: VAE mean * 0.18215, repeated for the CFG batch */
    if (anim_prep_vae(ref, r->W8, r->H8, host, &e) != ANIM_OK) { nn_fail(c, e.status, "%s", e.msg); goto out; }
    nn_t mean = vae_encode_mean(c, vcfg, nn_from_host(c, host, 1, r->H8, r->W8, 3));
    if (!nn_to_host(c, mean, ref_lat)) goto out;
    nn_release(c, m0);
    for (size_t i = 0; i < lat_n; i++) ref_lat[i] *= VAE_SCALE;
    if (r->B == 2) memcpy(ref_lat + lat_n, ref_lat, lat_n * sizeof *ref_lat);
    anim_progress_report(c->hooks, &(anim_progress){"prepare", 2, 4, 0, 0, 0, 0, pipe_seconds_since(&r->t0)});
    /* 4. pose features for every frame (kept for the whole run), one picture at a time */
    const pose_guider_config *pg = &r->mc->pose_guider;
    r->posefeat = nn_new(c, r->F, r->h, r->w, pg->conditioning_embedding_channels);
    for (int f = 0; f < r->F && nn_ok(c); f++) {
        nn_mark_t mf = nn_mark(c);
        if (anim_prep_pose(&poses[f], r->W8, r->H8, host, &e) != ANIM_OK) { nn_fail(c, e.status, "%s", e.msg); break; }
        nn_t pf = pose_guider_forward(c, pg, nn_from_host(c, host, 1, r->H8, r->W8, 3));
        nn_store(c, nn_slice_n(c, r->posefeat, f, 1), pf);
        nn_release(c, mf);
    }
    anim_progress_report(c->hooks, &(anim_progress){"prepare", 3, 4, 0, 0, 0, 0, pipe_seconds_since(&r->t0)});
    /* 3. the reference bank, once, at timestep 0 */
    r->enc = nn_from_host(c, emb, r->B, 1, 1, D);
    nn_t ref2 = nn_from_host(c, ref_lat, r->B, r->h, r->w, 4);
    if (nn_ok(c)) {
        anim_status st = unet_reference_bank(c, &r->mc->reference_unet, ref2, r->enc, true, &r->bank);
        if (st != ANIM_OK) nn_fail(c, st, "reference UNet failed");
    }
    anim_progress_report(c->hooks, &(anim_progress){"prepare", 4, 4, 0, 0, 0, 0, pipe_seconds_since(&r->t0)});
out:
    free(host);
    free(emb);
    free(ref_lat);
}

/* step 5: the DDIM loop over context windows */
static void denoise(run *r, const anim_pose_params *p, const pipe_debug *dbg) {
    nn_ctx *c = &r->c;
    anim_error e;
    ddim d = {0};
    ctx_window_list wl = {0};
    ctx_accum acc = {0};
    size_t inner = (size_t)r->h * r->w * 4, clip_n = (size_t)r->F * inner;
    float *in = NULL, *pred = NULL, *avg = NULL, *guided = NULL;
    if (ddim_init(&d, &r->mc->sched, p->steps, &e) != ANIM_OK ||
        ctx_windows(0, p->steps, r->F, p->context_frames, 1, p->context_overlap, true, &wl, &e) != ANIM_OK ||
        ctx_accum_init(&acc, (size_t)r->B, r->F, inner, &e) != ANIM_OK) {
        nn_fail(c, e.status, "%s", e.msg);
        goto out;
    }
    int L = wl.window_len, C0 = r->posefeat.c;
    in = malloc((size_t)r->B * L * inner * sizeof *in);
    pred = malloc((size_t)r->B * L * inner * sizeof *pred);
    avg = malloc((size_t)r->B * clip_n * sizeof *avg);
    guided = malloc(clip_n * sizeof *guided);
    if (!in || !pred || !avg || !guided) {
        nn_fail(c, ANIM_E_OOM, "out of host memory for %d frames of latents", r->F);
        goto out;
    }
    int total = p->steps * wl.n_windows, done = 0;
    double t_start = pipe_seconds_since(&r->t0);
    nn_mark_t m = nn_mark(c);
    for (int i = 0; i < p->steps && nn_ok(c); i++) {
        float t = (float)ddim_timestep(&d, i);
        ctx_accum_zero(&acc);
        for (int wi = 0; wi < wl.n_windows && nn_ok(c); wi++) {
            if (anim_should_abort(c->hooks)) {
                nn_fail(c, ANIM_E_ABORTED, "aborted by the caller at step %d, window %d", i + 1, wi + 1);
                break;
            }
            const int *fr = ctx_window(&wl, wi);
            /* UNet input: the window's latents for each CFG half, pose features of those frames */
            for (int b = 0; b < r->B; b++)
                for (int j = 0; j < L; j++)
                    memcpy(in + ((size_t)b * L + j) * inner, r->lat + (size_t)fr[j] * inner, inner * sizeof *in);
            nn_t x = nn_from_host(c, in, r->B * L, r->h, r->w, 4);
            nn_t pf = nn_new(c, L, r->h, r->w, C0);
            for (int j = 0; j < L; j++) nn_store(c, nn_slice_n(c, pf, j, 1), nn_slice_n(c, r->posefeat, fr[j], 1));
            nn_t out = unet_denoise(c, &r->mc->denoising_unet, x, L, t, r->enc, pf, &r->bank);
            if (!nn_to_host(c, out, pred)) break;
            nn_release(c, m);
            ctx_accum_add(&acc, fr, L, pred);
            r->unet_calls++;
            anim_progress_report(c->hooks, &(anim_progress){"denoise", ++done, total, i + 1, p->steps, wi + 1,
                                                     wl.n_windows, pipe_seconds_since(&r->t0)});
        }
        if (!nn_ok(c)) break;
        pipe_finish_step(&acc, &d, i, r->B, p->guidance, avg, guided, r->lat, r->F, r->h, r->w,
                         dbg ? dbg->on_step : NULL, dbg ? dbg->user : NULL);
    }
    r->denoise_s = pipe_seconds_since(&r->t0) - t_start;
out:
    free(in);
    free(pred);
    free(avg);
    free(guided);
    ctx_accum_free(&acc);
    ctx_window_list_free(&wl);
    ddim_free(&d);
}

anim_status pipe_pose2vid(anim_be *be, const anim_model *m, const anim_hooks *hooks, const anim_pose_params *p,
                          const anim_image *ref, const anim_image *poses, int n_poses, anim_video *out,
                          const pipe_debug *dbg, anim_run_stats *stats, anim_error *err) {
    memset(out, 0, sizeof *out);
    run r;
    memset(&r, 0, sizeof r);
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    anim_status st = check_params(p, n_poses, &r.F, err);
    if (st != ANIM_OK) return st;
    r.mc = anim_model_cfg(m);
    anim_prep_vae_size(p->width, p->height, &r.W8, &r.H8);
    r.h = r.H8 / 8;
    r.w = r.W8 / 8;
    r.B = p->guidance > 1.0f ? 2 : 1; /* Moore: do_classifier_free_guidance = guidance_scale > 1 */
    size_t lat_n = (size_t)4 * r.F * r.h * r.w;
    float *noise = malloc(lat_n * sizeof *noise);
    r.lat = malloc(lat_n * sizeof *r.lat);
    if (!noise || !r.lat) {
        free(noise);
        free(r.lat);
        return anim_seterr(err, ANIM_E_OOM, "out of memory for %d frames of latents", r.F);
    }
    if ((st = pipe_initial_noise(p->noise_file, p->noise, p->seed, r.F, r.h, r.w, noise, err)) == ANIM_OK)
        nn_ncfhw_to_frames(r.lat, noise, 1, 4, r.F, r.h, r.w); /* init_noise_sigma is 1 for DDIM */
    free(noise);
    nn_arena *ar = NULL;
    if (st == ANIM_OK) st = nn_arena_create(be, 0, &ar, err);
    if (st == ANIM_OK) {
        anim_err_clear(err);
        r.c = (nn_ctx){be, m, "pipeline", ar, hooks, ANIM_OK, err};
        prepare(&r, ref, poses);
        if (nn_ok(&r.c)) denoise(&r, p, dbg);
        if (nn_ok(&r.c) && (p->save_latents_file || p->latents_out)) {
            anim_status s2 = pipe_save_latents(r.lat, r.F, r.h, r.w, p->save_latents_file, p->latents_out, err);
            if (s2 != ANIM_OK) r.c.st = s2;
        }
        if (nn_ok(&r.c))
            pipe_decode(&r.c, anim_model_vae_cfg(m), r.lat, r.F, r.h, r.w, out, dbg ? dbg->frames01 : NULL, &r.t0);
        st = r.c.st;
        if (st == ANIM_OK && stats) {
            anim_model_info info;
            anim_model_describe(m, &info);
            *stats = (anim_run_stats){pipe_seconds_since(&r.t0), r.denoise_s, p->steps, r.unet_calls,
                                      (int64_t)(nn_arena_peak(ar) * anim_dtype_size(be->storage)),
                                      info.weight_bytes};
        }
    }
    nn_arena_free(ar);
    free(r.lat);
    if (st != ANIM_OK) {
        free(out->rgb);
        memset(out, 0, sizeof *out);
    }
    return st;
}
