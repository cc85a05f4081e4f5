/*
 * context.h - long-video context windows and the per-frame averaging of the
 * window predictions.
 *
 * Windows: Moore src/pipelines/context.py `uniform` (the AnimateDiff
 * "uniform" context scheduler), reproduced exactly, windows in the order the
 * generator yields them. Moore's pose2vid long pipeline calls it as
 * uniform(0, num_steps, L, context_frames, context_stride, context_overlap)
 * (closed_loop defaults to True) at EVERY denoising step, so its windows never
 * change; other pipelines pass the step index, which rotates the windows by
 * round(L * ordered_halving(step)) frames.
 *
 * Averaging: the pipelines keep noise_pred (CFG batch x channels x L frames
 * x h x w) and counter (L) at zero, do `noise_pred[:, :, c] += pred;
 * counter[:, :, c] += 1` per window c, then use noise_pred / counter. The
 * accumulator does the same float32 arithmetic over a [outer, L, inner] view
 * of the clip (NCFHW: outer = batch * channels, inner = h * w; a frame-major
 * [batch, L, h, w, C] layout: outer = batch, inner = h * w * C).
 */
#ifndef ANIM_PIPE_CONTEXT_H
#define ANIM_PIPE_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Every window of one list has the same length: context_size, or num_frames
 * when the whole clip fits in one window. */
typedef struct ctx_window_list {
    int n_windows;
    int window_len;
    int *frames;        /* [n_windows][window_len] frame indices in [0, num_frames) */
} ctx_window_list;

/* context.py ordered_halving(val): the 64 bits of val reversed, / 2^64
 * (0 -> 0, 1 -> 0.5, 2 -> 0.25, 3 -> 0.75, 4 -> 0.125, ...). */
double ctx_ordered_halving(uint64_t val);

/* uniform(step, num_steps, num_frames, context_size, context_stride,
 * context_overlap, closed_loop) into *out (previous contents are not freed).
 * num_steps is accepted for signature parity and unused, as upstream.
 * ANIM_E_INVALID_ARG, naming the parameter, unless num_frames >= 1,
 * context_size >= 1, context_stride >= 1, 0 <= context_overlap < context_size
 * and step >= 0 (checked even when one window covers the clip). */
anim_status ctx_windows(int step, int num_steps, int num_frames, int context_size, int context_stride,
                        int context_overlap, bool closed_loop, ctx_window_list *out, anim_error *err);

/* Frame indices of window w (window_len of them). */
const int *ctx_window(const ctx_window_list *l, int w);
void ctx_window_list_free(ctx_window_list *l);   /* NULL / zeroed: no-op */

/* ---- per-frame averaging ---- */
typedef struct ctx_accum {
    size_t outer, inner;
    int num_frames;
    float *sum;         /* [outer][num_frames][inner]: noise_pred */
    float *counter;     /* [num_frames]: counter (float32, as upstream) */
    int *last;          /* scratch: last position of each frame in the current window */
} ctx_accum;

/* Allocate and zero (noise_pred = zeros, counter = zeros). */
anim_status ctx_accum_init(ctx_accum *a, size_t outer, int num_frames, size_t inner, anim_error *err);
void ctx_accum_zero(ctx_accum *a);               /* start of a denoising step */
void ctx_accum_free(ctx_accum *a);               /* NULL / zeroed: no-op */

/* noise_pred[:, :, frames] = noise_pred[:, :, frames] + pred;
 * counter[:, :, frames] = counter[:, :, frames] + 1.
 * pred is [outer][n][inner], frame k of it belongs to clip frame frames[k].
 * A frame listed twice in one window (possible only with context_stride > 1
 * on very short clips) keeps only its LAST occurrence, added once to the value
 * from before this window: torch's index_put on the CPU writes duplicates in
 * order, and both sides of the assignment were gathered before the write. */
void ctx_accum_add(ctx_accum *a, const int *frames, int n, const float *pred);

/* out = noise_pred / counter (float32 division, per frame), [outer][num_frames][inner].
 * A frame no window covered divides 0 by 0 (NaN), as upstream would. */
void ctx_accum_mean(const ctx_accum *a, float *out);

#endif
