/*
 * convert.cu - fp32 <-> fp16 conversion for weight upload and result download.
 * Grid-stride loops; one element per thread iteration. Rounding is
 * round-to-nearest-even (__float2half_rn), matching torch's .half().
 */
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels.h"

__global__ void f32_to_f16_kernel(const float *src, __half *dst, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __float2half_rn(src[i]);
}

__global__ void f16_to_f32_kernel(const __half *src, float *dst, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __half2float(src[i]);
}

static unsigned grid_for(size_t n) {
    size_t g = (n + 255) / 256;
    return (unsigned)(g > 65535 * 8 ? 65535 * 8 : (g ? g : 1));
}

extern "C" int k_f32_to_f16(const float *src, uint16_t *dst, size_t n, void *stream) {
    f32_to_f16_kernel<<<grid_for(n), 256, 0, (cudaStream_t)stream>>>(src, (__half *)dst, n);
    return (int)cudaGetLastError();
}

extern "C" int k_f16_to_f32(const uint16_t *src, float *dst, size_t n, void *stream) {
    f16_to_f32_kernel<<<grid_for(n), 256, 0, (cudaStream_t)stream>>>((const __half *)src, dst, n);
    return (int)cudaGetLastError();
}
