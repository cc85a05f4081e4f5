/*
 * linear.cu - the one kernel of the linear op that cuBLAS does not provide:
 * when the GEMM goes through cublasGemmEx (no bias epilogue; see
 * lib/cuda/op_linear.c), y is first filled with res + bias, and the GEMM then
 * accumulates into it with beta = 1.
 * Layout: y and res are rows of n fp16 values with row stride ldy (>= n);
 * bias [n]. Sum in fp32, one rounding to fp16. Each element is read and
 * written by one thread, so res may be y.
 */
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "linear.h"

__global__ void linear_prefill_kernel(__half *y, const __half *res, const __half *bias, size_t total, int n, int ldy) {
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const size_t i = e / n, j = e % n, at = i * ldy + j;
        float v = res ? __half2float(res[at]) : 0.0f;
        if (bias) v += __half2float(bias[j]);
        y[at] = __float2half_rn(v);
    }
}

extern "C" int k_linear_prefill(uint16_t *y, const uint16_t *res, const uint16_t *bias, int m, int n, int ldy,
                                void *stream) {
    if (!y || m <= 0 || n <= 0 || ldy < n) return (int)cudaErrorInvalidValue;
    const size_t total = (size_t)m * n;
    size_t g = (total + 255) / 256;
    if (g > 65535u * 8) g = 65535u * 8;
    linear_prefill_kernel<<<(unsigned)g, 256, 0, (cudaStream_t)stream>>>((__half *)y, (const __half *)res,
                                                                         (const __half *)bias, total, n, ldy);
    return (int)cudaGetLastError();
}
