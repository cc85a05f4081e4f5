/*
 * op_conv.c - CUDA conv2d: argument checks (the CPU reference's, same messages),
 * plan choice and launch of the implicit-GEMM kernels in kernels/conv.cu.
 *
 * Formula and layouts: lib/backend.h (bk_conv2d) and kernels/conv.h. The plan
 * (tile shape, load path, split-K factor) depends only on the shape, the
 * pointers' alignment and the SM count. When it splits K the fp32 partial sums
 * need a workspace; the backend state has no workspace field yet, so it is
 * taken from the device's default memory pool on the backend's stream
 * (cudaMallocAsync/cudaFreeAsync, stream-ordered, so nothing synchronises).
 * Where pools are unsupported or the allocation fails, the conv runs unsplit:
 * slower on small deep levels, same result up to fp32 summation order.
 */
#include "conv.h"
#include "cuda/cuda_internal.h"

anim_status cuda_op_conv2d(anim_be *be, const bk_conv2d *a, anim_error *err) {
    if (!a->x || !a->wt || !a->y) return anim_seterr(err, ANIM_E_INVALID_ARG, "conv2d: NULL x, w or y");
    if (a->n <= 0 || a->h <= 0 || a->w <= 0 || a->cin <= 0 || a->cout <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "conv2d: bad shape n %d h %d w %d cin %d cout %d (all must be >= 1)", a->n, a->h, a->w,
                           a->cin, a->cout);
    if (a->kh <= 0 || a->kw <= 0 || a->stride <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "conv2d: bad kernel %dx%d stride %d (must be >= 1)", a->kh,
                           a->kw, a->stride);
    if (a->pad_t < 0 || a->pad_l < 0 || a->pad_b < 0 || a->pad_r < 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "conv2d: negative padding (t %d l %d b %d r %d)", a->pad_t,
                           a->pad_l, a->pad_b, a->pad_r);
    const int64_t span_h = (int64_t)a->h + a->pad_t + a->pad_b - a->kh;
    const int64_t span_w = (int64_t)a->w + a->pad_l + a->pad_r - a->kw;
    if (span_h < 0 || span_w < 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "conv2d: kernel %dx%d larger than padded input %lldx%lld (output size < 1)", a->kh, a->kw,
                           (long long)(span_h + a->kh), (long long)(span_w + a->kw));
    const int64_t ho = span_h / a->stride + 1, wo = span_w / a->stride + 1;
    if (span_h + a->kh > INT32_MAX || span_w + a->kw > INT32_MAX || (int64_t)a->n * ho * wo > INT32_MAX - 1024 ||
        (int64_t)a->kh * a->kw * a->cin > ((int64_t)1 << 30))
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "conv2d: problem too large for the CUDA kernels (n*ho*wo %lld, kh*kw*cin %lld)",
                           (long long)((int64_t)a->n * ho * wo), (long long)((int64_t)a->kh * a->kw * a->cin));

    cuda_impl *c = IMPL(be);
    const k_conv2d_params p = {
        .x = a->x, .wt = a->wt, .bias = a->bias, .res = a->res, .y = a->y,
        .n = a->n, .h = a->h, .w = a->w, .cin = a->cin, .cout = a->cout,
        .kh = a->kh, .kw = a->kw, .stride = a->stride,
        .pad_t = a->pad_t, .pad_l = a->pad_l, .pad_b = a->pad_b, .pad_r = a->pad_r,
    };
    int sm_count = 0;
    CU_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, c->device), err);
    k_conv2d_plan plan;
    k_conv2d_plan_auto(&p, sm_count, &plan);

    float *ws = NULL;
    const size_t ws_bytes = k_conv2d_workspace_bytes(&p, &plan);
    if (ws_bytes) {
        int pools = 0;
        if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, c->device) != cudaSuccess || !pools ||
            cudaMallocAsync((void **)&ws, ws_bytes, c->stream) != cudaSuccess) {
            (void)cudaGetLastError(); /* not sticky: clear it so the launch check below does not see it */
            ws = NULL;
            plan.splits = 1;
        }
    }
    const int ke = k_conv2d(&p, &plan, ws, c->stream);
    const cudaError_t fe = ws ? cudaFreeAsync(ws, c->stream) : cudaSuccess;
    if (ke != 0)
        return anim_seterr(err, ANIM_E_CUDA,
                           "conv2d %dx%d s%d pad (%d,%d,%d,%d) on %dx%dx%dx%d -> %d (tile %s, path %s, split %d): "
                           "kernel launch failed: %s",
                           a->kh, a->kw, a->stride, a->pad_t, a->pad_l, a->pad_b, a->pad_r, a->n, a->h, a->w,
                           a->cin, a->cout, k_conv2d_cfg_name(plan.cfg), k_conv2d_path_name(plan.path), plan.splits,
                           cudaGetErrorString((cudaError_t)ke));
    if (fe != cudaSuccess)
        return anim_seterr(err, ANIM_E_CUDA, "conv2d: cudaFreeAsync of the %zu-byte split-K workspace failed: %s",
                           ws_bytes, cudaGetErrorString(fe));
    return ANIM_OK;
}
