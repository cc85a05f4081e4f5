/*
 * ddim.h - the DDIM sampler of the pose pipelines: diffusers 0.24
 * DDIMScheduler (eta 0) and the classifier-free guidance that feeds it.
 *
 * Everything is host float32 arithmetic in the order PyTorch evaluates it, so
 * the results are bit-identical to the float32 reference (checked against
 * tests/fixtures/moore-tiny*: latents_after_step0):
 *   - betas: torch.linspace(..., dtype=float32) on the CPU, as the torch 1.13
 *     build that produced the fixtures computes it (see DDIM_LINSPACE_* below);
 *   - alphas_cumprod: torch.cumprod on a CPU float32 tensor, which accumulates
 *     in double (at::acc_type<float, is_cuda = false>) and rounds each output
 *     to float32;
 *   - rescale_zero_terminal_snr: the diffusers helper, float32 tensor ops;
 *   - step(): 0-dim float32 tensors times float32 tensors; `x ** 0.5` is sqrt.
 * Layout-free: step and guidance work on flat arrays of n floats.
 */
#ifndef ANIM_PIPE_DDIM_H
#define ANIM_PIPE_DDIM_H

#include <stdbool.h>
#include <stddef.h>

#include "nn/config.h"
#include "util/error.h"

/* How torch.linspace(float32) fills the beta table; the variants differ in
 * the last bit of about a quarter of the betas, which moves alphas_cumprod by
 * ~1e-7 relative.
 *   TORCH113: torch <= 1.13 CPU kernel, vectorized 8 floats at a time (AVX2 or
 *             the default build): each vector is base + k * step. This is what
 *             reproduces every fixture in tests/fixtures bit for bit (default).
 *   TORCH2:   torch >= 2.0 CPU kernel (vectorization removed, pytorch PR 89048):
 *             every element start + step * i (first half) or end - step * (n-1-i).
 *             Moore pins torch 2.0.1, so this is what its release runs. */
typedef enum ddim_linspace {
    DDIM_LINSPACE_TORCH113 = 0,
    DDIM_LINSPACE_TORCH2 = 1
} ddim_linspace;

typedef struct ddim {
    int num_train_timesteps;        /* T (config.num_train_timesteps) */
    int num_inference_steps;        /* as given to set_timesteps */
    int step_ratio;                 /* T // num_inference_steps: step() uses prev_t = t - step_ratio */
    int n_timesteps;                /* entries of timesteps; always num_inference_steps (see ddim_init) */
    int *timesteps;                 /* scheduler.timesteps, descending */
    float *alphas_cumprod;          /* [T] scheduler.alphas_cumprod (float32) */
    float *betas;                   /* [T] scheduler.betas after the optional zero-SNR rescale */
    float final_alpha_cumprod;      /* 1.0 (set_alpha_to_one) or alphas_cumprod[0] */
    float init_noise_sigma;         /* 1.0: latents = noise * init_noise_sigma */
    sched_prediction prediction_type;
    bool clip_sample;
    float clip_sample_range;
} ddim;

/* DDIMScheduler(**c) followed by set_timesteps(steps). Errors (ANIM_E_INVALID_ARG)
 * name the parameter: steps outside [1, num_train_timesteps], fewer than 2
 * training timesteps, a timestep outside [0, T) (e.g. "leading" with a large
 * steps_offset), and the step counts for which diffusers' "trailing" spacing
 * yields steps + 1 timesteps ending in -1 (numpy arange length rounding; 62 of
 * the counts 1..1000 for T = 1000, the first 61, 103, 121; 30, 25, 20 are fine).
 * On failure *d is left zeroed (ddim_free is still safe). */
anim_status ddim_init(ddim *d, const sched_config *c, int steps, anim_error *err);
anim_status ddim_init_linspace(ddim *d, const sched_config *c, int steps, ddim_linspace lin, anim_error *err);
void ddim_free(ddim *d);            /* NULL and a zeroed struct are no-ops */

/* scheduler.timesteps[i], 0 <= i < d->n_timesteps. */
int ddim_timestep(const ddim *d, int i);

/* The scalars of one step (0-dim float32 tensors in diffusers), so that other
 * backends can apply the same formula: for v-prediction
 *   x0  = sqrt_alpha_prod_t * x - sqrt_beta_prod_t * v
 *   eps = sqrt_alpha_prod_t * v + sqrt_beta_prod_t * x
 *   x'  = sqrt_alpha_prod_t_prev * x0 + sqrt_dir * eps
 * every product and sum rounded to float32 in this order. */
typedef struct ddim_coeffs {
    int t, prev_t;                  /* prev_t = t - T // steps (may be < 0) */
    float alpha_prod_t;             /* alphas_cumprod[t] */
    float alpha_prod_t_prev;        /* alphas_cumprod[prev_t], or final_alpha_cumprod when prev_t < 0 */
    float beta_prod_t;              /* 1 - alpha_prod_t */
    float sqrt_alpha_prod_t;        /* alpha_prod_t ** 0.5 */
    float sqrt_beta_prod_t;         /* beta_prod_t ** 0.5 */
    float sqrt_alpha_prod_t_prev;   /* alpha_prod_t_prev ** 0.5 */
    float sqrt_dir;                 /* (1 - alpha_prod_t_prev - std_dev_t ** 2) ** 0.5 with eta 0 */
} ddim_coeffs;
void ddim_step_coeffs(const ddim *d, int i, ddim_coeffs *k);

/* scheduler.step(model_output, timesteps[i], sample, eta=0).prev_sample,
 * written over sample (n floats). model_output and sample may not overlap. */
void ddim_step(const ddim *d, int i, const float *model_output, float *sample, size_t n);

/* Classifier-free guidance as the Moore pipelines write it:
 *   out = noise_pred_uncond + guidance_scale * (noise_pred_text - noise_pred_uncond)
 * in float32, n floats. out may alias uncond or cond. */
void ddim_guidance(float *out, const float *uncond, const float *cond, float scale, size_t n);

#endif
