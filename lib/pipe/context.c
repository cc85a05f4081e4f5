/*
 * context.c - Moore / AnimateDiff `uniform` context windows and the per-frame
 * averaging of window predictions (see context.h).
 *
 * What uniform() does (src/pipelines/context.py, reproduced by behaviour):
 *   - num_frames <= context_size: one window, every frame in order;
 *   - else the stride count is capped at ceil(log2(num_frames / context_size)) + 1;
 *     for each context_step in 1, 2, 4, ... (that many):
 *       pad = round(num_frames * ordered_halving(step))     (Python round: half to even)
 *       for j in range(int(ordered_halving(step) * context_step) + pad,
 *                      num_frames + pad - (closed_loop ? 0 : context_overlap),
 *                      context_size * context_step - context_overlap):
 *         window = [e % num_frames for e in range(j, j + context_size * context_step, context_step)]
 * All arithmetic below is int64 / double, as Python's ints and floats.
 */
#include "pipe/context.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double ctx_ordered_halving(uint64_t val) {
    /* f"{val:064b}"[::-1] parsed back: the 64-bit reversal of val */
    uint64_t r = 0;
    for (int b = 0; b < 64; b++) {
        r = (r << 1) | (val & 1u);
        val >>= 1;
    }
    /* as_int / (1 << 64): Python's int true division rounds the exact quotient
     * once; converting r to double rounds the same way (to nearest, ties to
     * even) and the power-of-two scale is exact. */
    return (double)r * 0x1p-64;
}

/* Python len(range(start, stop, st)) for st > 0 */
static int64_t range_len(int64_t start, int64_t stop, int64_t st) {
    return stop > start ? (stop - start + st - 1) / st : 0;
}

anim_status ctx_windows(int step, int num_steps, int num_frames, int context_size, int context_stride,
                        int context_overlap, bool closed_loop, ctx_window_list *out, anim_error *err) {
    (void)num_steps; /* uniform() takes it and never reads it */
    memset(out, 0, sizeof *out);
    if (num_frames < 1 || num_frames > INT_MAX / 4)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "context windows: 'num_frames' must be in [1, %d] (got %d)",
                           INT_MAX / 4, num_frames);
    if (context_size < 1)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "context windows: 'context_size' must be positive (got %d)",
                           context_size);
    if (context_stride < 1)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "context windows: 'context_stride' must be positive (got %d)",
                           context_stride);
    if (context_overlap < 0 || context_overlap >= context_size)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "context windows: 'context_overlap' must be in [0, context_size = %d) (got %d)",
                           context_size, context_overlap);
    if (step < 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "context windows: 'step' must be non-negative (got %d)", step);

    if (num_frames <= context_size) {
        /* yield list(range(num_frames)) */
        out->frames = malloc((size_t)num_frames * sizeof *out->frames);
        if (!out->frames) return anim_seterr(err, ANIM_E_OOM, "context windows: out of memory");
        for (int f = 0; f < num_frames; f++) out->frames[f] = f;
        out->n_windows = 1;
        out->window_len = num_frames;
        return ANIM_OK;
    }

    /* context_stride = min(context_stride, int(np.ceil(np.log2(num_frames / context_size))) + 1) */
    const int cap = (int)ceil(log2((double)num_frames / (double)context_size)) + 1;
    const int n_strides = context_stride < cap ? context_stride : cap;
    const double oh = ctx_ordered_halving((uint64_t)step);
    /* pad = int(round(num_frames * ordered_halving(step))): rint rounds half to even */
    const int64_t pad = (int64_t)rint((double)num_frames * oh);
    const int64_t stop = (int64_t)num_frames + pad - (closed_loop ? 0 : context_overlap);

    /* first pass: how many windows (len(range(...)) for each context_step) */
    int64_t total = 0;
    for (int s = 0; s < n_strides; s++) {
        const int64_t cs = (int64_t)1 << s;                          /* 1 << np.arange(context_stride) */
        const int64_t start = (int64_t)(oh * (double)cs) + pad;      /* int(): truncation (value >= 0) */
        total += range_len(start, stop, context_size * cs - context_overlap);
    }
    if (total > INT_MAX / context_size)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "context windows: %lld windows of %d frames is too many",
                           (long long)total, context_size);
    out->frames = malloc((size_t)(total > 0 ? total : 1) * (size_t)context_size * sizeof *out->frames);
    if (!out->frames) return anim_seterr(err, ANIM_E_OOM, "context windows: out of memory for %lld windows",
                                         (long long)total);
    out->window_len = context_size;

    /* second pass: the windows, in generator order */
    int w = 0;
    for (int s = 0; s < n_strides; s++) {
        const int64_t cs = (int64_t)1 << s;
        const int64_t start = (int64_t)(oh * (double)cs) + pad;
        const int64_t st = context_size * cs - context_overlap;
        for (int64_t j = start; j < stop; j += st) {
            int *dst = out->frames + (size_t)w * (size_t)context_size;
            /* [e % num_frames for e in range(j, j + context_size * cs, cs)]; e >= 0 so % is Python's */
            for (int k = 0; k < context_size; k++) dst[k] = (int)((j + (int64_t)k * cs) % num_frames);
            w++;
        }
    }
    ANIM_ASSERT(w == total);
    out->n_windows = w;
    return ANIM_OK;
}

const int *ctx_window(const ctx_window_list *l, int w) {
    ANIM_ASSERT(w >= 0 && w < l->n_windows);
    return l->frames + (size_t)w * (size_t)l->window_len;
}

void ctx_window_list_free(ctx_window_list *l) {
    if (!l) return;
    free(l->frames);
    memset(l, 0, sizeof *l);
}

/* ---- per-frame averaging ---- */

anim_status ctx_accum_init(ctx_accum *a, size_t outer, int num_frames, size_t inner, anim_error *err) {
    memset(a, 0, sizeof *a);
    if (outer < 1 || inner < 1 || num_frames < 1)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "context accumulator: outer (%zu), num_frames (%d) and inner (%zu) must be positive",
                           outer, num_frames, inner);
    if (outer > SIZE_MAX / sizeof(float) / inner / (size_t)num_frames)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "context accumulator: %zu x %d x %zu floats overflow", outer,
                           num_frames, inner);
    const size_t n = outer * (size_t)num_frames * inner;
    a->sum = calloc(n, sizeof *a->sum);
    a->counter = calloc((size_t)num_frames, sizeof *a->counter);
    a->last = malloc((size_t)num_frames * sizeof *a->last);
    if (!a->sum || !a->counter || !a->last) {
        ctx_accum_free(a);
        return anim_seterr(err, ANIM_E_OOM, "context accumulator: out of memory for %zu floats", n);
    }
    a->outer = outer;
    a->inner = inner;
    a->num_frames = num_frames;
    return ANIM_OK;
}

void ctx_accum_zero(ctx_accum *a) {
    /* noise_pred = torch.zeros(...); counter = torch.zeros(...) */
    memset(a->sum, 0, a->outer * (size_t)a->num_frames * a->inner * sizeof *a->sum);
    memset(a->counter, 0, (size_t)a->num_frames * sizeof *a->counter);
}

void ctx_accum_free(ctx_accum *a) {
    if (!a) return;
    free(a->sum);
    free(a->counter);
    free(a->last);
    memset(a, 0, sizeof *a);
}

void ctx_accum_add(ctx_accum *a, const int *frames, int n, const float *pred) {
    const size_t F = (size_t)a->num_frames, inner = a->inner;
    /* the last position of each frame in this window wins (see context.h) */
    for (int k = 0; k < n; k++) {
        ANIM_ASSERT(frames[k] >= 0 && frames[k] < a->num_frames);
        a->last[frames[k]] = k;
    }
    for (int k = 0; k < n; k++) {
        const int f = frames[k];
        if (a->last[f] != k) continue;
        for (size_t o = 0; o < a->outer; o++) {
            float *dst = a->sum + (o * F + (size_t)f) * inner;
            const float *src = pred + (o * (size_t)n + (size_t)k) * inner;
            for (size_t i = 0; i < inner; i++) dst[i] = dst[i] + src[i];   /* noise_pred[:, :, c] + pred */
        }
        a->counter[f] = a->counter[f] + 1.0f;                               /* counter[:, :, c] + 1 */
    }
}

void ctx_accum_mean(const ctx_accum *a, float *out) {
    const size_t F = (size_t)a->num_frames, inner = a->inner;
    for (size_t o = 0; o < a->outer; o++)
        for (size_t f = 0; f < F; f++) {
            const float c = a->counter[f];
            const float *src = a->sum + (o * F + f) * inner;
            float *dst = out + (o * F + f) * inner;
            for (size_t i = 0; i < inner; i++) dst[i] = src[i] / c;        /* noise_pred / counter */
        }
}
