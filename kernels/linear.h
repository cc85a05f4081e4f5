/*
 * linear.h - C-callable launcher of kernels/linear.cu (the bias/residual
 * pre-fill used by lib/cuda/op_linear.c when the GEMM runs through
 * cublasGemmEx, which has no bias epilogue). Conventions as kernels.h.
 */
#ifndef ANIM_KERNELS_LINEAR_H
#define ANIM_KERNELS_LINEAR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y[i*ldy + j] = (res ? res[i*ldy + j] : 0) + (bias ? bias[j] : 0) for i < m, j < n,
 * summed in fp32 and rounded once; res may be y (in place). Elements j >= n of
 * each row are not touched. */
int k_linear_prefill(uint16_t *y, const uint16_t *res, const uint16_t *bias, int m, int n, int ldy, void *stream);

#ifdef __cplusplus
}
#endif

#endif
