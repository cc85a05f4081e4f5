/*
 * elementwise.cu - small memory-bound kernels: activations, axpby, per-channel
 * add, channel concat, GEGLU, nearest upsampling. fp16 storage, fp32 math.
 * Layouts and formulas are those of lib/backend.h; the CPU reference ops in
 * lib/cpu/ are what these are checked against (tests/gpu/).
 * GELU is the exact erf form (diffusers GEGLU uses F.gelu without tanh).
 */
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels.h"

#define GRID_STRIDE(i, n) \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

static unsigned grid_for(size_t n) {
    size_t g = (n + 255) / 256;
    return (unsigned)(g > 65535 * 8 ? 65535 * 8 : (g ? g : 1));
}

__device__ __forceinline__ float gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

__global__ void act_kernel(int act, const __half *x, __half *y, size_t n) {
    GRID_STRIDE(i, n) {
        float v = __half2float(x[i]), r;
        if (act == 0) r = v / (1.0f + expf(-v));                 /* SiLU */
        else if (act == 1) r = gelu_erf(v);                       /* GELU (erf) */
        else r = v / (1.0f + expf(-1.702f * v));                 /* QuickGELU */
        y[i] = __float2half_rn(r);
    }
}

__global__ void axpby_kernel(float alpha, const __half *a, float beta, const __half *b, __half *y, size_t n) {
    GRID_STRIDE(i, n) {
        float r = alpha * __half2float(a[i]);
        if (b) r += beta * __half2float(b[i]);
        y[i] = __float2half_rn(r);
    }
}

__global__ void add_channel_kernel(const __half *x, const __half *v, __half *y, size_t total, int hw, int c, int v_div) {
    GRID_STRIDE(i, total) {
        size_t ch = i % c, sample = i / ((size_t)hw * c);
        y[i] = __float2half_rn(__half2float(x[i]) + __half2float(v[(sample / v_div) * c + ch]));
    }
}

__global__ void concat_kernel(const __half *a, const __half *b, __half *y, size_t total, int ca, int cb) {
    GRID_STRIDE(i, total) {
        size_t row = i / (ca + cb), col = i % (ca + cb);
        y[i] = col < (size_t)ca ? a[row * ca + col] : b[row * cb + (col - ca)];
    }
}

__global__ void geglu_kernel(const __half *x, __half *y, size_t total, int n) {
    GRID_STRIDE(i, total) {
        size_t row = i / n, col = i % n;
        float h = __half2float(x[row * 2 * n + col]), g = __half2float(x[row * 2 * n + n + col]);
        y[i] = __float2half_rn(h * gelu_erf(g));
    }
}

/* PyTorch legacy nearest: src = min(floor(dst * (float)in/out), in - 1) */
__global__ void upsample_kernel(const __half *x, __half *y, size_t total, int h, int w, int c, int ho, int wo) {
    float sh = (float)h / (float)ho, sw = (float)w / (float)wo;
    GRID_STRIDE(i, total) {
        size_t ch = i % c, t = i / c;
        int ox = (int)(t % wo); t /= wo;
        int oy = (int)(t % ho);
        size_t nb = t / ho;
        int iy = min((int)floorf(oy * sh), h - 1), ix = min((int)floorf(ox * sw), w - 1);
        y[i] = x[((nb * h + iy) * w + ix) * c + ch];
    }
}

extern "C" int k_act(int act, const uint16_t *x, uint16_t *y, size_t n, void *stream) {
    act_kernel<<<grid_for(n), 256, 0, (cudaStream_t)stream>>>(act, (const __half *)x, (__half *)y, n);
    return (int)cudaGetLastError();
}

extern "C" int k_axpby(float alpha, const uint16_t *a, float beta, const uint16_t *b, uint16_t *y, size_t n,
                       void *stream) {
    axpby_kernel<<<grid_for(n), 256, 0, (cudaStream_t)stream>>>(alpha, (const __half *)a, beta,
                                                                (const __half *)b, (__half *)y, n);
    return (int)cudaGetLastError();
}

extern "C" int k_add_channel(const uint16_t *x, const uint16_t *v, uint16_t *y, int n, int hw, int c, int v_div,
                             void *stream) {
    size_t total = (size_t)n * hw * c;
    add_channel_kernel<<<grid_for(total), 256, 0, (cudaStream_t)stream>>>((const __half *)x, (const __half *)v,
                                                                          (__half *)y, total, hw, c, v_div);
    return (int)cudaGetLastError();
}

extern "C" int k_concat_channels(const uint16_t *a, const uint16_t *b, uint16_t *y, int m, int ca, int cb,
                                 void *stream) {
    size_t total = (size_t)m * (ca + cb);
    concat_kernel<<<grid_for(total), 256, 0, (cudaStream_t)stream>>>((const __half *)a, (const __half *)b,
                                                                     (__half *)y, total, ca, cb);
    return (int)cudaGetLastError();
}

extern "C" int k_geglu(const uint16_t *x, uint16_t *y, int m, int n, void *stream) {
    size_t total = (size_t)m * n;
    geglu_kernel<<<grid_for(total), 256, 0, (cudaStream_t)stream>>>((const __half *)x, (__half *)y, total, n);
    return (int)cudaGetLastError();
}

extern "C" int k_upsample_nearest(const uint16_t *x, uint16_t *y, int n, int h, int w, int c, int ho, int wo,
                                  void *stream) {
    size_t total = (size_t)n * ho * wo * c;
    upsample_kernel<<<grid_for(total), 256, 0, (cudaStream_t)stream>>>((const __half *)x, (__half *)y, total, h, w,
                                                                       c, ho, wo);
    return (int)cudaGetLastError();
}
