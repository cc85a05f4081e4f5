/*
 * kernels.h - C-callable launchers of the CUDA kernels (kernels/ (*.cu files)).
 *
 * Valid C11: no CUDA types. `stream` is a cudaStream_t passed as void*.
 * Storage is fp16 (IEEE half, as uint16_t bits in memory) with fp32 math.
 * Each launcher returns 0 on success or the cudaError_t of the launch, so
 * the host glue (lib/cuda/) can name the failing kernel in its error.
 * Layouts follow lib/backend.h: NHWC activations, element counts.
 */
#ifndef ANIM_KERNELS_H
#define ANIM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* convert.cu: f32 <-> f16 (round to nearest even, as __float2half_rn) */
int k_f32_to_f16(const float *src, uint16_t *dst, size_t n, void *stream);
int k_f16_to_f32(const uint16_t *src, float *dst, size_t n, void *stream);

/* elementwise.cu (see lib/backend.h for the exact semantics of each) */
int k_act(int act, const uint16_t *x, uint16_t *y, size_t n, void *stream); /* act: bk_act */
int k_axpby(float alpha, const uint16_t *a, float beta, const uint16_t *b, uint16_t *y, size_t n, void *stream);
int k_add_channel(const uint16_t *x, const uint16_t *v, uint16_t *y, int n, int hw, int c, int v_div, void *stream);
int k_concat_channels(const uint16_t *a, const uint16_t *b, uint16_t *y, int m, int ca, int cb, void *stream);
int k_geglu(const uint16_t *x, uint16_t *y, int m, int n, void *stream);
int k_upsample_nearest(const uint16_t *x, uint16_t *y, int n, int h, int w, int c, int ho, int wo, void *stream);

#ifdef __cplusplus
}
#endif

#endif
