/*
 * cuda_internal.h - what the CUDA backend's host files share: the backend
 * state, the error-checking macros, and the op entry points (one file per op
 * family under lib/cuda/, each launching the kernels of kernels/<family>.cu).
 * C11, no CUDA C++: the runtime API headers are plain C.
 */
#ifndef ANIM_CUDA_INTERNAL_H
#define ANIM_CUDA_INTERNAL_H

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "backend.h"
#include "kernels.h"

typedef struct cuda_impl {
    int device;
    cudaStream_t stream;
    cublasHandle_t cublas;
    float *staging;      /* device fp32 buffer for upload/download conversion */
    size_t staging_len;  /* in floats */
} cuda_impl;

#define CU_CHECK(call, err)                                                                        \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess)                                                                     \
            return anim_seterr((err), e_ == cudaErrorMemoryAllocation ? ANIM_E_OOM : ANIM_E_CUDA,  \
                               "%s failed: %s (%s:%d)", #call, cudaGetErrorString(e_), __FILE__,   \
                               __LINE__);                                                          \
    } while (0)

#define K_CHECK(launch, err)                                                                       \
    do {                                                                                           \
        int e_ = (launch);                                                                         \
        if (e_ != 0)                                                                               \
            return anim_seterr((err), ANIM_E_CUDA, "kernel launch %s failed: %s", #launch,         \
                               cudaGetErrorString((cudaError_t)e_));                               \
    } while (0)

static inline cuda_impl *IMPL(anim_be *be) { return (cuda_impl *)be->impl; }

/* op entry points (lib/cuda/op_*.c) */
anim_status cuda_op_conv2d(anim_be *be, const bk_conv2d *a, anim_error *err);
anim_status cuda_op_group_norm(anim_be *be, const bk_group_norm *a, anim_error *err);
anim_status cuda_op_layer_norm(anim_be *be, const bk_layer_norm *a, anim_error *err);
anim_status cuda_op_linear(anim_be *be, const bk_linear *a, anim_error *err);
anim_status cuda_op_attention(anim_be *be, const bk_attention *a, anim_error *err);
anim_status cuda_op_softmax(anim_be *be, const void *x, void *y, int m, int n, float scale, anim_error *err);

/* "op X is not implemented on the CUDA backend yet" */
anim_status cuda_not_yet(const char *op, anim_error *err);

#endif
