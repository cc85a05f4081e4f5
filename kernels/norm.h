/*
 * norm.h - C-callable launchers of kernels/norm.cu (GroupNorm, LayerNorm).
 *
 * Same conventions as kernels.h: valid C11, no CUDA types, fp16 storage as
 * uint16_t bits, `stream` is a cudaStream_t passed as void*, each launcher
 * returns 0 or the cudaError_t of the first failing CUDA call. Shapes are
 * checked by the caller (lib/cuda/op_norm.c); the launchers only reject what
 * they cannot run (cudaErrorInvalidValue).
 */
#ifndef ANIM_KERNELS_NORM_H
#define ANIM_KERNELS_NORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* GroupNorm variants (see the top of norm.cu):
 *   K_GN_AUTO    - K_GN_ROWS when it applies, else K_GN_GENERIC;
 *   K_GN_GENERIC - one block per (split, group, sample), scalar loads: any shape;
 *   K_GN_ROWS    - blocks over whole rows of one sample, 16-byte loads:
 *                  needs c / vec <= 512 (vec: widest of 8,4,2,1 dividing c
 *                  with x and y aligned to it); cudaErrorInvalidValue otherwise. */
enum { K_GN_AUTO = 0, K_GN_GENERIC = 1, K_GN_ROWS = 2 };

/* y[b][p][ch] = (x[b][p][ch] - mean[b][g]) * rstd[b][g] * gamma[ch] + beta[ch], g = ch / (c / groups),
 * then SiLU when `silu`; x, y: [n][hw][c]; gamma/beta: [c] or NULL. y may be x.
 * Allocates its scratch (n*groups*(splits*16 + 8) bytes) stream-ordered
 * (cudaMallocAsync/cudaFreeAsync on `stream`). */
int k_group_norm(const uint16_t *x, const uint16_t *gamma, const uint16_t *beta, uint16_t *y, int n, int hw, int c,
                 int groups, float eps, int silu, int variant, void *stream);

/* y[i][:] = (x[i][:] - mean_i) * rstd_i * gamma + beta over rows of c; y may be x. */
int k_layer_norm(const uint16_t *x, const uint16_t *gamma, const uint16_t *beta, uint16_t *y, int m, int c,
                 float eps, void *stream);

#ifdef __cplusplus
}
#endif

#endif
