/*
 * ops_norm.c - GroupNorm (optionally fused with SiLU) and LayerNorm.
 *
 * GroupNorm: x[n][hw][c], groups of cg = c/groups consecutive channels;
 * statistics per (sample n, group g) over the hw*cg values, biased variance
 * (torch.nn.GroupNorm), y = (x - mean)/sqrt(var + eps) * gamma[c] + beta[c],
 * then SiLU when requested (the "GN -> SiLU" pairs of ResnetBlock2D). Frames
 * are folded into n by the caller, which makes this InflatedGroupNorm's
 * per-frame statistics.
 * LayerNorm: x[m][c], statistics per row over c, biased variance, optional
 * affine (torch.nn.LayerNorm).
 *
 * Numerics: this is the reference, so the statistics are computed in double
 * with two passes (mean, then the mean of squared deviations - no
 * E[x^2]-E[x]^2 cancellation), and the normalisation
 * ((x - mean) * rstd) * gamma + beta is evaluated in double and rounded once
 * to float. The fused SiLU is applied to that float, exactly as the separate
 * act op would. PyTorch's CPU kernels compute in float; the difference is
 * float rounding noise, far inside any fp16 comparison.
 * Threads: GroupNorm statistics over (n, g) pairs, then the normalisation
 * over (n, position) rows; LayerNorm over rows. Each statistic is summed by
 * one thread in a fixed order, so results do not depend on the thread count.
 */
#include <math.h>

#include "cpu/cpu_ops.h"

/* ---- group norm ---------------------------------------------------------- */

typedef struct gn_job {
    const bk_group_norm *a;
    double *mean, *rstd;   /* [n][groups] */
} gn_job;

static void gn_stats(void *vctx, size_t begin, size_t end) {
    const gn_job *j = vctx;
    const bk_group_norm *a = j->a;
    const size_t c = (size_t)a->c, hw = (size_t)a->hw, cg = c / (size_t)a->groups;
    const double count = (double)hw * (double)cg;
    for (size_t t = begin; t < end; t++) {
        const size_t b = t / (size_t)a->groups, g = t % (size_t)a->groups;
        const float *x = (const float *)a->x + b * hw * c + g * cg;
        double s = 0.0;
        for (size_t p = 0; p < hw; p++)
            for (size_t ci = 0; ci < cg; ci++) s += x[p * c + ci];
        const double mean = s / count;
        double ss = 0.0;
        for (size_t p = 0; p < hw; p++)
            for (size_t ci = 0; ci < cg; ci++) {
                const double d = x[p * c + ci] - mean;
                ss += d * d;
            }
        j->mean[t] = mean;
        j->rstd[t] = 1.0 / sqrt(ss / count + (double)a->eps);
    }
}

static void gn_apply(void *vctx, size_t begin, size_t end) {
    const gn_job *j = vctx;
    const bk_group_norm *a = j->a;
    const size_t c = (size_t)a->c, hw = (size_t)a->hw, cg = c / (size_t)a->groups;
    const float *gamma = a->gamma, *beta = a->beta;
    for (size_t row = begin; row < end; row++) {   /* row = b*hw + p */
        const size_t b = row / hw;
        const float *x = (const float *)a->x + row * c;
        float *y = (float *)a->y + row * c;
        const double *mean = j->mean + b * (size_t)a->groups, *rstd = j->rstd + b * (size_t)a->groups;
        for (size_t ci = 0; ci < c; ci++) {
            const size_t g = ci / cg;
            double v = ((double)x[ci] - mean[g]) * rstd[g];
            if (gamma) v *= gamma[ci];
            if (beta) v += beta[ci];
            const float f = (float)v;
            y[ci] = a->silu ? cpu_silu(f) : f;
        }
    }
}

anim_status cpu_group_norm(anim_be *be, const bk_group_norm *a, anim_error *err) {
    anim_status st = bk_check_group_norm(a, err);
    if (st != ANIM_OK) return st;
    cpu_impl *impl = cpu_impl_of(be);
    const size_t n_stats = (size_t)a->n * (size_t)a->groups;
    gn_job j = { .a = a };
    j.mean = cpu_scratch(impl, 2 * n_stats * sizeof(double), "group_norm", err);
    if (!j.mean) return ANIM_E_OOM;
    j.rstd = j.mean + n_stats;
    anim_pool_parallel_for(impl->pool, n_stats, gn_stats, &j);
    anim_pool_parallel_for(impl->pool, (size_t)a->n * (size_t)a->hw, gn_apply, &j);
    return ANIM_OK;
}

/* ---- layer norm ---------------------------------------------------------- */

static void ln_rows(void *vctx, size_t begin, size_t end) {
    const bk_layer_norm *a = vctx;
    const size_t c = (size_t)a->c;
    const float *gamma = a->gamma, *beta = a->beta;
    for (size_t i = begin; i < end; i++) {
        const float *x = (const float *)a->x + i * c;
        float *y = (float *)a->y + i * c;
        double s = 0.0;
        for (size_t k = 0; k < c; k++) s += x[k];
        const double mean = s / (double)c;
        double ss = 0.0;
        for (size_t k = 0; k < c; k++) {
            const double d = x[k] - mean;
            ss += d * d;
        }
        const double rstd = 1.0 / sqrt(ss / (double)c + (double)a->eps);
        for (size_t k = 0; k < c; k++) {   /* y may alias x: x[k] is read before y[k] is written */
            double v = ((double)x[k] - mean) * rstd;
            if (gamma) v *= gamma[k];
            if (beta) v += beta[k];
            y[k] = (float)v;
        }
    }
}

anim_status cpu_layer_norm(anim_be *be, const bk_layer_norm *a, anim_error *err) {
    anim_status st = bk_check_layer_norm(a, err);
    if (st != ANIM_OK) return st;
    anim_pool_parallel_for(cpu_impl_of(be)->pool, (size_t)a->m, ln_rows, (void *)a);
    return ANIM_OK;
}
