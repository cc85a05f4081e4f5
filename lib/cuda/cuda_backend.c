/*
 * cuda_backend.c - host glue of the CUDA backend: device selection, stream,
 * cuBLAS handle, device memory, fp32 <-> fp16 staging, and the op table.
 *
 * Storage dtype is fp16 (activations and weights), math in fp32 (kernels/).
 * Every CUDA call is checked; failures name the call, file and line in the
 * error and return ANIM_E_CUDA (or ANIM_E_OOM with the bytes asked for and
 * the bytes free). The heavy ops (convolution, group norm, attention, linear,
 * layer norm, softmax) are the subject of the CUDA-kernels issue; until they
 * land they return ANIM_E_UNSUPPORTED naming the op, so a network run on this
 * backend fails loudly instead of computing garbage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda_internal.h"



static void cuda_destroy(anim_be *be) {
    cuda_impl *c = IMPL(be);
    if (c) {
        cudaSetDevice(c->device);
        if (c->staging) cudaFree(c->staging);
        if (c->cublas) cublasDestroy(c->cublas);
        if (c->stream) cudaStreamDestroy(c->stream);
        free(c);
    }
    free(be);
}

static anim_status cuda_alloc(anim_be *be, size_t n, void **out, anim_error *err) {
    *out = NULL;
    if (n > SIZE_MAX / 2) return anim_seterr(err, ANIM_E_OOM, "cuda alloc: %zu elements overflow", n);
    size_t bytes = n * 2;
    cudaError_t e = cudaMalloc(out, bytes ? bytes : 2);
    if (e != cudaSuccess) {
        size_t free_b = 0, total_b = 0;
        cudaGetLastError(); /* clear the sticky-free allocation error */
        cudaMemGetInfo(&free_b, &total_b);
        *out = NULL;
        return anim_seterr(err, e == cudaErrorMemoryAllocation ? ANIM_E_OOM : ANIM_E_CUDA,
                           "cudaMalloc of %zu bytes on device %d failed: %s (%zu of %zu bytes free)", bytes,
                           IMPL(be)->device, cudaGetErrorString(e), free_b, total_b);
    }
    return ANIM_OK;
}

static void cuda_free(anim_be *be, void *p) {
    (void)be;
    if (p) cudaFree(p);
}

static anim_status ensure_staging(cuda_impl *c, size_t n, anim_error *err) {
    if (c->staging_len >= n) return ANIM_OK;
    if (c->staging) cudaFree(c->staging);
    c->staging = NULL;
    c->staging_len = 0;
    CU_CHECK(cudaMalloc((void **)&c->staging, n * sizeof(float)), err);
    c->staging_len = n;
    return ANIM_OK;
}

/* Upload and download go through a bounded fp32 staging buffer in chunks so
 * a 3 GB checkpoint does not need a 3 GB staging area. */
#define STAGE_CHUNK ((size_t)16 << 20) /* floats */

static anim_status cuda_upload(anim_be *be, void *dst, const float *src, size_t n, anim_error *err) {
    cuda_impl *c = IMPL(be);
    anim_status st = ensure_staging(c, n < STAGE_CHUNK ? n : STAGE_CHUNK, err);
    if (st) return st;
    for (size_t off = 0; off < n; off += STAGE_CHUNK) {
        size_t len = n - off < STAGE_CHUNK ? n - off : STAGE_CHUNK;
        CU_CHECK(cudaMemcpyAsync(c->staging, src + off, len * sizeof(float), cudaMemcpyHostToDevice, c->stream), err);
        K_CHECK(k_f32_to_f16(c->staging, (uint16_t *)dst + off, len, c->stream), err);
    }
    CU_CHECK(cudaStreamSynchronize(c->stream), err);
    return ANIM_OK;
}

static anim_status cuda_download(anim_be *be, float *dst, const void *src, size_t n, anim_error *err) {
    cuda_impl *c = IMPL(be);
    anim_status st = ensure_staging(c, n < STAGE_CHUNK ? n : STAGE_CHUNK, err);
    if (st) return st;
    for (size_t off = 0; off < n; off += STAGE_CHUNK) {
        size_t len = n - off < STAGE_CHUNK ? n - off : STAGE_CHUNK;
        K_CHECK(k_f16_to_f32((const uint16_t *)src + off, c->staging, len, c->stream), err);
        CU_CHECK(cudaMemcpyAsync(dst + off, c->staging, len * sizeof(float), cudaMemcpyDeviceToHost, c->stream), err);
    }
    CU_CHECK(cudaStreamSynchronize(c->stream), err);
    return ANIM_OK;
}

static anim_status cuda_sync(anim_be *be, anim_error *err) {
    CU_CHECK(cudaStreamSynchronize(IMPL(be)->stream), err);
    return ANIM_OK;
}

anim_status cuda_not_yet(const char *op, anim_error *err) {
    return anim_seterr(err, ANIM_E_UNSUPPORTED,
                       "op %s is not implemented on the CUDA backend yet (use --backend cpu)", op);
}

static anim_status cuda_act(anim_be *be, bk_act act, const void *x, void *y, size_t n, anim_error *err) {
    K_CHECK(k_act((int)act, x, y, n, IMPL(be)->stream), err);
    return ANIM_OK;
}

static anim_status cuda_geglu(anim_be *be, const void *x, void *y, int m, int n, anim_error *err) {
    if (m <= 0 || n <= 0) return anim_seterr(err, ANIM_E_INVALID_ARG, "geglu: bad size m=%d n=%d", m, n);
    K_CHECK(k_geglu(x, y, m, n, IMPL(be)->stream), err);
    return ANIM_OK;
}

static anim_status cuda_upsample(anim_be *be, const void *x, void *y, int n, int h, int w, int c, int ho, int wo,
                                 anim_error *err) {
    if (n <= 0 || h <= 0 || w <= 0 || c <= 0 || ho <= 0 || wo <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "upsample_nearest: bad size");
    K_CHECK(k_upsample_nearest(x, y, n, h, w, c, ho, wo, IMPL(be)->stream), err);
    return ANIM_OK;
}

static anim_status cuda_axpby(anim_be *be, float alpha, const void *a, float beta, const void *b, void *y, size_t n,
                              anim_error *err) {
    K_CHECK(k_axpby(alpha, a, beta, b, y, n, IMPL(be)->stream), err);
    return ANIM_OK;
}

static anim_status cuda_add_channel(anim_be *be, const void *x, const void *v, void *y, int n, int hw, int c,
                                    int v_div, anim_error *err) {
    if (n <= 0 || hw <= 0 || c <= 0 || v_div <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "add_channel: bad size");
    K_CHECK(k_add_channel(x, v, y, n, hw, c, v_div, IMPL(be)->stream), err);
    return ANIM_OK;
}

static anim_status cuda_concat(anim_be *be, const void *a, const void *b, void *y, int m, int ca, int cb,
                               anim_error *err) {
    if (m <= 0 || ca < 0 || cb < 0) return anim_seterr(err, ANIM_E_INVALID_ARG, "concat_channels: bad size");
    K_CHECK(k_concat_channels(a, b, y, m, ca, cb, IMPL(be)->stream), err);
    return ANIM_OK;
}

static const anim_be_ops cuda_ops = {
    .name = "cuda",
    .destroy = cuda_destroy,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .sync = cuda_sync,
    .conv2d = cuda_op_conv2d,
    .group_norm = cuda_op_group_norm,
    .layer_norm = cuda_op_layer_norm,
    .linear = cuda_op_linear,
    .attention = cuda_op_attention,
    .softmax = cuda_op_softmax,
    .act = cuda_act,
    .geglu = cuda_geglu,
    .upsample_nearest = cuda_upsample,
    .axpby = cuda_axpby,
    .add_channel = cuda_add_channel,
    .concat_channels = cuda_concat,
};

anim_status anim_be_create_cuda(int device, anim_be **out, anim_error *err) {
    *out = NULL;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess)
        return anim_seterr(err, ANIM_E_CUDA, "cudaGetDeviceCount failed: %s (no usable NVIDIA driver/device?)",
                           cudaGetErrorString(e));
    if (device < 0 || device >= count)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "CUDA device %d requested but %d device%s present", device,
                           count, count == 1 ? " is" : "s are");
    anim_be *be = calloc(1, sizeof *be);
    cuda_impl *c = calloc(1, sizeof *c);
    if (!be || !c) {
        free(be);
        free(c);
        return anim_seterr(err, ANIM_E_OOM, "out of host memory");
    }
    be->ops = &cuda_ops;
    be->kind = ANIM_BACKEND_CUDA;
    be->storage = ANIM_DT_F16;
    be->impl = c;
    c->device = device;
    anim_status st = ANIM_OK;
    if ((e = cudaSetDevice(device)) != cudaSuccess)
        st = anim_seterr(err, ANIM_E_CUDA, "cudaSetDevice(%d) failed: %s", device, cudaGetErrorString(e));
    else if ((e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking)) != cudaSuccess)
        st = anim_seterr(err, ANIM_E_CUDA, "cudaStreamCreate failed: %s", cudaGetErrorString(e));
    else {
        cublasStatus_t cs = cublasCreate(&c->cublas);
        if (cs != CUBLAS_STATUS_SUCCESS) {
            c->cublas = NULL;
            st = anim_seterr(err, ANIM_E_CUDA, "cublasCreate failed: status %d", (int)cs);
        } else if ((cs = cublasSetStream(c->cublas, c->stream)) != CUBLAS_STATUS_SUCCESS) {
            st = anim_seterr(err, ANIM_E_CUDA, "cublasSetStream failed: status %d", (int)cs);
        } else {
            /* fp32 accumulation throughout: no fp16 split-K reductions inside cuBLAS */
            cublasSetMathMode(c->cublas, CUBLAS_DEFAULT_MATH | CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION);
        }
    }
    if (st == ANIM_OK) {
        /* ops take per-call scratch with cudaMallocAsync: keep freed blocks in the
         * pool instead of returning them to the driver at every synchronisation */
        cudaMemPool_t pool;
        if (cudaDeviceGetDefaultMemPool(&pool, device) == cudaSuccess) {
            uint64_t keep = UINT64_MAX;
            cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
        }
    }
    if (st != ANIM_OK) {
        cuda_destroy(be);
        return st;
    }
    *out = be;
    return ANIM_OK;
}

/* For bench/test programs: device name, or NULL when unavailable. */
const char *anim_cuda_device_name(int device, char *buf, size_t len) {
    struct cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, device) != cudaSuccess) return NULL;
    snprintf(buf, len, "%s (sm_%d%d, %zu MiB)", p.name, p.major, p.minor, p.totalGlobalMem >> 20);
    return buf;
}
