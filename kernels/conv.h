/*
 * conv.h - C-callable launchers of the implicit-GEMM convolution (kernels/conv.cu).
 *
 * Valid C11, no CUDA types; `stream` is a cudaStream_t passed as void*.
 * Layouts are those of lib/backend.h (bk_conv2d): NHWC fp16 activations,
 * OHWI fp16 weights, fp16 bias[cout] and residual[n][ho][wo][cout], element
 * counts; fp16 values travel as uint16_t bits.
 *
 *   y[b,oh,ow,co] = sum_{r<kh, s<kw, ci<cin} x[b, oh*S - pad_t + r, ow*S - pad_l + s, ci] * wt[co,r,s,ci]
 *                   + bias[co] + res[b,oh,ow,co]
 *   ho = (h + pad_t + pad_b - kh)/S + 1,  wo = (w + pad_l + pad_r - kw)/S + 1
 *
 * Use: fill k_conv2d_params, let k_conv2d_plan_auto choose a plan (tile
 * configuration, load path, split-K factor; pure host logic, no CUDA call),
 * give k_conv2d a device workspace of k_conv2d_workspace_bytes() when the
 * plan splits K, and launch. Tests and benches may fill a plan by hand to
 * force one variant; k_conv2d rejects a plan that does not fit the problem.
 */
#ifndef ANIM_KERNELS_CONV_H
#define ANIM_KERNELS_CONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct k_conv2d_params {
    const uint16_t *x;    /* [n][h][w][cin] */
    const uint16_t *wt;   /* [cout][kh][kw][cin] */
    const uint16_t *bias; /* [cout], may be NULL */
    const uint16_t *res;  /* [n][ho][wo][cout], may be NULL; may be y itself */
    uint16_t *y;          /* [n][ho][wo][cout] */
    int n, h, w, cin, cout, kh, kw, stride;
    int pad_t, pad_l, pad_b, pad_r;
} k_conv2d_params;

/* CTA tile configurations (M rows = output pixels x N cols = output channels). */
typedef enum k_conv_cfg {
    K_CONV_CFG_128x128_8W = 0, /* 256 threads, 2x4 warps of 64x32 */
    K_CONV_CFG_128x128_4W,     /* 128 threads, 2x2 warps of 64x64 */
    K_CONV_CFG_128x64,         /* 128 threads, 2x2 warps of 64x32 */
    K_CONV_CFG_64x64,          /* 128 threads, 2x2 warps of 32x32 */
    K_CONV_CFG_128x32,         /* 128 threads, 4x1 warps of 32x32 (small Cout) */
    K_CONV_CFG_256x128,        /* 256 threads, 4x2 warps of 64x64, 3 stages */
    K_CONV_CFG_COUNT
} k_conv_cfg;

/* How the A (input patch) and B (weight) tiles are loaded. */
typedef enum k_conv_path {
    K_CONV_PATH_1X1 = 0, /* 1x1, stride 1, no padding: A is the input matrix [n*h*w][cin];
                            cin % 8 == 0, x and wt 16-byte aligned */
    K_CONV_PATH_VEC,     /* any kernel/stride/padding, 16-byte cp.async gathers;
                            cin % 8 == 0, x and wt 16-byte aligned */
    K_CONV_PATH_SCALAR,  /* anything (cin 3 or 4, unaligned pointers): element gathers */
    K_CONV_PATH_COUNT
} k_conv_path;

typedef struct k_conv2d_plan {
    int cfg;    /* k_conv_cfg */
    int path;   /* k_conv_path */
    int splits; /* split-K factor >= 1; > 1 needs the fp32 workspace */
} k_conv2d_plan;

/* Choose a plan for p on a device with sm_count multiprocessors. */
void k_conv2d_plan_auto(const k_conv2d_params *p, int sm_count, k_conv2d_plan *plan);

/* Bytes of device workspace the plan needs (0 when it does not split K):
 * fp32 partial sums [splits][n*ho*wo][cout]. */
size_t k_conv2d_workspace_bytes(const k_conv2d_params *p, const k_conv2d_plan *plan);

/* Launch. workspace: device memory of k_conv2d_workspace_bytes() bytes, or
 * NULL when that is 0. Returns 0, or a cudaError_t: cudaErrorInvalidValue (1)
 * for bad shapes or a plan that does not fit (path conditions, missing
 * workspace), else the launch error. */
int k_conv2d(const k_conv2d_params *p, const k_conv2d_plan *plan, float *workspace, void *stream);

/* "128x128_8w", "vec", ... for logs and benches ("?" when out of range) */
const char *k_conv2d_cfg_name(int cfg);
const char *k_conv2d_path_name(int path);

#ifdef __cplusplus
}
#endif

#endif
