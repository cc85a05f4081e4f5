/*
 * op_norm.c - CUDA GroupNorm (+ fused SiLU) and LayerNorm: argument checks
 * (the same as the CPU reference's, lib/cpu/ops_norm.c) and the launches of
 * kernels/norm.cu, whose top comment gives layouts, variants and numerics.
 * GroupNorm takes the K_GN_AUTO variant: whole-row blocks with 16-byte
 * accesses for every SD shape, the generic kernels for anything else.
 */
#include <math.h>

#include "cuda/cuda_internal.h"
#include "norm.h"

anim_status cuda_op_group_norm(anim_be *be, const bk_group_norm *a, anim_error *err) {
    if (!a->x || !a->y)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "group_norm: NULL x or y");
    if (a->n <= 0 || a->hw <= 0 || a->c <= 0 || a->groups <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "group_norm: bad shape n %d hw %d c %d groups %d (all must be >= 1)",
                           a->n, a->hw, a->c, a->groups);
    if (a->c % a->groups != 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "group_norm: channels %d not divisible by groups %d",
                           a->c, a->groups);
    if (!(a->eps >= 0.0f) || !isfinite(a->eps))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "group_norm: bad eps %g", (double)a->eps);
    int e = k_group_norm(a->x, a->gamma, a->beta, a->y, a->n, a->hw, a->c, a->groups, a->eps, a->silu, K_GN_AUTO,
                         IMPL(be)->stream);
    if (e != 0)
        return anim_seterr(err, e == (int)cudaErrorMemoryAllocation ? ANIM_E_OOM : ANIM_E_CUDA,
                           "group_norm (n %d hw %d c %d groups %d): %s", a->n, a->hw, a->c, a->groups,
                           cudaGetErrorString((cudaError_t)e));
    return ANIM_OK;
}

anim_status cuda_op_layer_norm(anim_be *be, const bk_layer_norm *a, anim_error *err) {
    if (!a->x || !a->y)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "layer_norm: NULL x or y");
    if (a->m <= 0 || a->c <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "layer_norm: bad shape m %d c %d (both must be >= 1)",
                           a->m, a->c);
    if (!(a->eps >= 0.0f) || !isfinite(a->eps))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "layer_norm: bad eps %g", (double)a->eps);
    K_CHECK(k_layer_norm(a->x, a->gamma, a->beta, a->y, a->m, a->c, a->eps, IMPL(be)->stream), err);
    return ANIM_OK;
}
