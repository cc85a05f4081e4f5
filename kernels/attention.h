/*
 * attention.h - C-callable launchers of kernels/attention.cu: fused
 * multi-head attention (flash style, tensor cores) and the row softmax.
 *
 * Valid C11 (and C++): no CUDA types. Tensors are fp16 (IEEE half bits as
 * uint16_t) in device memory; `stream` is a cudaStream_t passed as void*.
 * Each launcher returns 0 or the cudaError_t of what failed (argument
 * checks answer cudaErrorInvalidValue = 1, a grid too large
 * cudaErrorInvalidConfiguration = 9), so lib/cuda/ can name it.
 * The semantics are those of bk_attention and anim_be_ops.softmax in
 * lib/backend.h; kernels/attention.cu's top comment has the details.
 */
#ifndef ANIM_KERNELS_ATTENTION_H
#define ANIM_KERNELS_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element (b, i, h, d) of tensor T is at T + b*T_bs + i*T_ts + h*d_head + d
 * (strides in elements; a batch stride 0 broadcasts). Keys/values are
 * segment 1 (nk rows) followed by segment 2 (nk2 rows, k2/v2; NULL when
 * nk2 = 0). o = softmax(scale * q k^T) v per (b, h, query). */
typedef struct k_attn_params {
    const uint16_t *q, *k, *v, *k2, *v2;
    uint16_t *o;
    int batch, heads, d_head, nq, nk, nk2;
    int64_t q_bs, q_ts, k_bs, k_ts, v_bs, v_ts, o_bs, o_ts;
    int64_t k2_bs, k2_ts, v2_bs, v2_ts;
    float scale;
} k_attn_params;

/* Kernel variants (k_attention's `variant`). AUTO is what the backend uses. */
enum {
    K_ATTN_AUTO = 0,        /* FLASH_SMALL for nq <= 32, else FLASH; SIMPLE where those cannot run */
    K_ATTN_SIMPLE = 1,      /* fp32 CUDA cores, one warp per query: the plain reference on the GPU */
    K_ATTN_FLASH = 2,       /* mma.sync tensor cores, 64-128 query rows per block */
    K_ATTN_FLASH_SMALL = 3  /* same kernel, 32 query rows and 32-key tiles (temporal F = 16-24) */
};

/* the largest d_head any variant takes (SIMPLE); FLASH* take d_head <= 512 */
#define K_ATTN_MAX_D 1024

int k_attention(const k_attn_params *p, int variant, void *stream);
/* 1 if `variant` can run this problem on the current device, else 0 */
int k_attention_supported(const k_attn_params *p, int variant);
/* what `variant` (AUTO: the one chosen) runs for p, into buf: "flash-d48-q128-k64",
 * "simple" or "unsupported"; returns buf */
const char *k_attention_variant_name(const k_attn_params *p, int variant, char *buf, size_t len);

/* y[r][:] = softmax(scale * x[r][:]) for r < m, n columns, fp32 math; y may alias x */
int k_softmax(const uint16_t *x, uint16_t *y, int m, int n, float scale, void *stream);

#ifdef __cplusplus
}
#endif

#endif
