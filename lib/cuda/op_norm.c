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
    anim_status st = bk_check_group_norm(a, err);
    if (st != ANIM_OK) return st;
    int e = k_group_norm(a->x, a->gamma, a->beta, a->y, a->n, a->hw, a->c, a->groups, a->eps, a->silu, K_GN_AUTO,
                         IMPL(be)->stream);
    if (e != 0)
        return anim_seterr(err, e == (int)cudaErrorMemoryAllocation ? ANIM_E_OOM : ANIM_E_CUDA,
                           "group_norm (n %d hw %d c %d groups %d): %s", a->n, a->hw, a->c, a->groups,
                           cudaGetErrorString((cudaError_t)e));
    return ANIM_OK;
}

anim_status cuda_op_layer_norm(anim_be *be, const bk_layer_norm *a, anim_error *err) {
    anim_status st = bk_check_layer_norm(a, err);
    if (st != ANIM_OK) return st;
    K_CHECK(k_layer_norm(a->x, a->gamma, a->beta, a->y, a->m, a->c, a->eps, IMPL(be)->stream), err);
    return ANIM_OK;
}
