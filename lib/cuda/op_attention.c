/*
 * op_attention.c - CUDA attention and row softmax: argument checks (the same
 * ones as the CPU reference, lib/cpu/ops_attention.c and ops_elementwise.c)
 * and the launch of kernels/attention.cu on the backend's stream. The kernel
 * variant is chosen by k_attention (K_ATTN_AUTO): tensor-core flash kernel,
 * its short-sequence tiling for temporal attention, or the fp32 fallback.
 */
#include <math.h>

#include "attention.h"
#include "cuda/cuda_internal.h"

anim_status cuda_op_attention(anim_be *be, const bk_attention *a, anim_error *err) {
    if (!a->q || !a->k || !a->v || !a->o)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "attention: NULL q, k, v or o");
    if (a->batch <= 0 || a->heads <= 0 || a->d_head <= 0 || a->nq <= 0 || a->nk <= 0 || a->nk2 < 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "attention: bad shape batch %d heads %d d_head %d nq %d nk %d nk2 %d", a->batch,
                           a->heads, a->d_head, a->nq, a->nk, a->nk2);
    if (a->nk2 > 0 && (!a->k2 || !a->v2))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "attention: nk2 %d but k2 or v2 is NULL", a->nk2);
    if (!isfinite(a->scale))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "attention: non-finite scale %g", (double)a->scale);
    if (a->d_head > K_ATTN_MAX_D)
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "attention: d_head %d > %d is not supported on CUDA", a->d_head,
                           K_ATTN_MAX_D);
    if (a->nk > INT32_MAX - 1024 - a->nk2)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "attention: nk %d + nk2 %d keys overflow", a->nk, a->nk2);
    k_attn_params p = {
        .q = a->q, .k = a->k, .v = a->v, .k2 = a->nk2 > 0 ? a->k2 : NULL, .v2 = a->nk2 > 0 ? a->v2 : NULL,
        .o = a->o, .batch = a->batch, .heads = a->heads, .d_head = a->d_head, .nq = a->nq, .nk = a->nk,
        .nk2 = a->nk2, .q_bs = a->q_bs, .q_ts = a->q_ts, .k_bs = a->k_bs, .k_ts = a->k_ts, .v_bs = a->v_bs,
        .v_ts = a->v_ts, .o_bs = a->o_bs, .o_ts = a->o_ts, .k2_bs = a->k2_bs, .k2_ts = a->k2_ts,
        .v2_bs = a->v2_bs, .v2_ts = a->v2_ts, .scale = a->scale,
    };
    K_CHECK(k_attention(&p, K_ATTN_AUTO, IMPL(be)->stream), err);
    return ANIM_OK;
}

anim_status cuda_op_softmax(anim_be *be, const void *x, void *y, int m, int n, float scale, anim_error *err) {
    if (!x || !y) return anim_seterr(err, ANIM_E_INVALID_ARG, "softmax: NULL x or y");
    if (m <= 0 || n <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "softmax: bad shape m %d n %d (both must be >= 1)", m, n);
    if (!isfinite(scale))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "softmax: non-finite scale %g", (double)scale);
    K_CHECK(k_softmax(x, y, m, n, scale, IMPL(be)->stream), err);
    return ANIM_OK;
}
