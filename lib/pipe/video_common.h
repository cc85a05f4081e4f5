/*
 * video_common.h - the steps both video pipelines (pose animation, talking
 * head) share: the initial latents, keeping the final latents, and decoding
 * latents into frames one at a time.
 */
#ifndef ANIM_PIPE_VIDEO_COMMON_H
#define ANIM_PIPE_VIDEO_COMMON_H

#include <stdint.h>
#include <time.h>

#include "animate.h"
#include "nn/config.h"
#include "nn/nn.h"
#include "pipe/context.h"
#include "pipe/ddim.h"

double pipe_seconds_since(const struct timespec *t0);

/* Initial latents NCFHW [1, 4, F, h, w]: `noise` (copied) if given, else the
 * tensor "latents" of `noise_file` (shape checked, F32/F16/BF16), else the
 * seeded draw. Errors name the file and both shapes. */
anim_status pipe_initial_noise(const char *noise_file, const float *noise, uint64_t seed, int F, int h, int w,
                               float *out, anim_error *err);

/* Final latents (frames layout [F][h][w][4]) as NCFHW into `array` (if not
 * NULL) and as tensor "latents" (F32) into `file` (if not NULL). */
anim_status pipe_save_latents(const float *lat, int F, int h, int w, const char *file, float *array, anim_error *err);

/* The end of a denoising step, as both upstream pipelines do it: per-frame
 * average of the window predictions (acc), guidance uncond + g (cond - uncond)
 * when the batch is [uncond, cond] (B = 2), one DDIM step on the clip latents
 * lat ([F][h][w][4]), then on_step (if any) with the latents as NCFHW.
 * avg ([B][F][h][w][4]) and guided ([F][h][w][4]) are scratch. */
void pipe_finish_step(const ctx_accum *acc, const ddim *d, int step, int B, float guidance, float *avg,
                      float *guided, float *lat, int F, int h, int w,
                      void (*on_step)(int, const float *, int, int, int, void *), void *user);

/* Decode latents (frames layout [F][h][w][4]) frame by frame with the VAE:
 * latents * (1/0.18215) -> decode -> (x/2 + 0.5).clamp(0, 1) -> uint8 by
 * truncation of x * 255 (as Moore's and EchoMimic's save code does), into
 * v (allocated here). frames01 (optional) gets the floats. Progress stage
 * "decode"; the abort hook is polled per frame. Errors go to c. */
void pipe_decode(nn_ctx *c, const vae_config *vcfg, const float *lat, int F, int h, int w, anim_video *v,
                 float *frames01, const struct timespec *t0);

#endif
