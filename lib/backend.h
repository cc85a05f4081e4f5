/*
 * backend.h - the op interface the networks call, and the backend object.
 *
 * A network (lib/nn) is written once against these ops and runs on either
 * backend: the CPU reference (lib/cpu, fp32, plain loops, multithreaded) or
 * CUDA (lib/cuda + kernels/, fp16 storage with fp32 accumulation).
 *
 * Layout conventions (all backends):
 *   - activations are NHWC: x[n][h][w][c], c fastest; a "token" matrix
 *     [M, C] is the same memory as [N, H*W, C];
 *   - conv weights are OHWI: w[cout][kh][kw][cin] (lib/nn repacks PyTorch's
 *     OIHW once at load time);
 *   - linear weights are PyTorch's [out, in]: y = x W^T + b;
 *   - `void *` data pointers are backend memory holding the backend's
 *     storage dtype (F32 on the CPU backend); counts are in elements.
 * Every op returns ANIM_OK or an error (CUDA launch failures, bad arguments);
 * ops never allocate from the system allocator on hot paths except through
 * the backend's own scratch.
 */
#ifndef ANIM_BACKEND_H
#define ANIM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "animate.h"
#include "util/dtype.h"
#include "util/error.h"

typedef struct anim_be anim_be;

/* y[n,ho,wo,co] = sum_{kh,kw,ci} x[n, ho*s - pt + kh, wo*s - pl + kw, ci] * wt[co,kh,kw,ci]
 *                 + bias[co] + res[n,ho,wo,co]
 * Out-of-range input positions read as zero. Ho = (H + pt + pb - KH)/s + 1. */
typedef struct bk_conv2d {
    const void *x; const void *wt; const void *bias; /* wt: weights, OHWI; bias may be NULL */
    const void *res;                               /* residual added after bias, may be NULL */
    void *y;
    int n, h, w, cin, cout, kh, kw, stride;
    int pad_t, pad_l, pad_b, pad_r;
} bk_conv2d;

/* GroupNorm over x[n][hw][c] with `groups` groups of c/groups channels each,
 * statistics per sample n (per frame: frames are folded into n), biased
 * variance, y = (x - mean)/sqrt(var + eps) * gamma[c] + beta[c], then SiLU
 * if `silu`. gamma/beta may be NULL (no affine). */
typedef struct bk_group_norm {
    const void *x; const void *gamma; const void *beta; void *y;
    int n, hw, c, groups; float eps; bool silu;
} bk_group_norm;

/* LayerNorm over the last dim of x[m][c] (row stride c); gamma/beta may be NULL. */
typedef struct bk_layer_norm {
    const void *x; const void *gamma; const void *beta; void *y;
    int m, c; float eps;
} bk_layer_norm;

/* y[i, j] = sum_k x[i*ldx + k] * w[j*k_dim + k] + bias[j] + res[i*ldy + j]
 * for i < m, j < n. ldx/ldy = 0 mean k and n. bias and res may be NULL;
 * y may alias res (in-place residual add). */
typedef struct bk_linear {
    const void *x; const void *w; const void *bias; const void *res; void *y;
    int m, n, k; int ldx, ldy;
} bk_linear;

/* Multi-head attention, one softmax per (batch, head, query):
 *   o[b,i,h,:] = sum_j softmax_j(scale * q[b,i,h,:].k[b,j,h,:]) v[b,j,h,:]
 * where the keys/values are the concatenation of segment 1 (nk rows) and the
 * optional segment 2 (nk2 rows; the reference-image tokens). Element (b, i, h, d)
 * of a tensor T is at T + b*T_bs + i*T_ts + h*d_head + d, so NHWC activations,
 * projection outputs and temporal (frame-axis) sequences are all addressed
 * without copies; a batch stride of 0 broadcasts (one reference bank for every
 * frame). Strides are in elements. */
typedef struct bk_attention {
    const void *q, *k, *v; void *o;
    const void *k2, *v2;               /* segment 2, may be NULL (nk2 = 0) */
    int batch, heads, d_head, nq, nk, nk2;
    int64_t q_bs, q_ts, k_bs, k_ts, v_bs, v_ts, o_bs, o_ts;
    int64_t k2_bs, k2_ts, v2_bs, v2_ts;
    float scale;
} bk_attention;

typedef enum bk_act { BK_ACT_SILU = 0, BK_ACT_GELU, BK_ACT_QUICK_GELU } bk_act;

typedef struct anim_be_ops {
    const char *name;
    void (*destroy)(anim_be *be);
    /* memory */
    anim_status (*alloc)(anim_be *be, size_t n_elems, void **out, anim_error *err);
    void (*free)(anim_be *be, void *p);
    /* host F32 -> backend storage, backend storage -> host F32 (elements) */
    anim_status (*upload)(anim_be *be, void *dst, const float *src, size_t n, anim_error *err);
    anim_status (*download)(anim_be *be, float *dst, const void *src, size_t n, anim_error *err);
    anim_status (*sync)(anim_be *be, anim_error *err);
    /* ops */
    anim_status (*conv2d)(anim_be *be, const bk_conv2d *a, anim_error *err);
    anim_status (*group_norm)(anim_be *be, const bk_group_norm *a, anim_error *err);
    anim_status (*layer_norm)(anim_be *be, const bk_layer_norm *a, anim_error *err);
    anim_status (*linear)(anim_be *be, const bk_linear *a, anim_error *err);
    anim_status (*attention)(anim_be *be, const bk_attention *a, anim_error *err);
    /* row softmax of x[m][n] into y (may alias), scaled: softmax(scale * x) */
    anim_status (*softmax)(anim_be *be, const void *x, void *y, int m, int n, float scale, anim_error *err);
    /* y = act(x), n elements (may alias) */
    anim_status (*act)(anim_be *be, bk_act act, const void *x, void *y, size_t n, anim_error *err);
    /* y[m][n] = x[m][0:n] * gelu(x[m][n:2n])  (diffusers GEGLU: hidden, gate = chunk(2)) */
    anim_status (*geglu)(anim_be *be, const void *x, void *y, int m, int n, anim_error *err);
    /* nearest resize x[n][h][w][c] -> y[n][ho][wo][c], src = floor(dst * (in/out)) as PyTorch's legacy 'nearest' */
    anim_status (*upsample_nearest)(anim_be *be, const void *x, void *y, int n, int h, int w, int c, int ho, int wo, anim_error *err);
    /* y = alpha*a + beta*b, n elements (b may be NULL: y = alpha*a; y may alias a or b) */
    anim_status (*axpby)(anim_be *be, float alpha, const void *a, float beta, const void *b, void *y, size_t n, anim_error *err);
    /* y[i][p][c] = x[i][p][c] + v[i / v_div][c], i < n, p < hw: a per-sample channel vector
     * (time embedding) added to every position; v_div folds frames onto their sample */
    anim_status (*add_channel)(anim_be *be, const void *x, const void *v, void *y, int n, int hw, int c, int v_div, anim_error *err);
    /* y[m][0:ca] = a[m][:], y[m][ca:ca+cb] = b[m][:]  (channel concat of NHWC skips) */
    anim_status (*concat_channels)(anim_be *be, const void *a, const void *b, void *y, int m, int ca, int cb, anim_error *err);
} anim_be_ops;

struct anim_be {
    const anim_be_ops *ops;
    anim_backend kind;
    anim_dtype storage;   /* F32 on CPU; F16/BF16 on CUDA */
    void *impl;
};

/* Create a backend. CPU: n_threads 0 = all cores. CUDA: ANIM_E_UNSUPPORTED when
 * the library was built without CUDA, ANIM_E_CUDA (naming the call) when no
 * device answers. */
anim_status anim_be_create_cpu(int n_threads, anim_be **out, anim_error *err);
anim_status anim_be_create_cuda(int device, anim_be **out, anim_error *err);
void anim_be_free(anim_be *be);   /* NULL is a no-op */

/* Shared argument checks (ANIM_E_INVALID_ARG naming the op), so every backend fails alike. */
anim_status bk_check_group_norm(const bk_group_norm *a, anim_error *err);
anim_status bk_check_layer_norm(const bk_layer_norm *a, anim_error *err);
anim_status bk_check_linear(const bk_linear *a, anim_error *err);
/* "NVIDIA H100 ... (sm_90, 81559 MiB)" into buf, or NULL when no CUDA device / no CUDA build. */
const char *anim_cuda_device_name(int device, char *buf, size_t len);

/* Host-side helpers shared by the networks (cheap, computed once per call). */
/* diffusers get_timestep_embedding: half = dim/2, freq_k = exp(-ln(1e4) k/(half - shift)),
 * emb = [sin(t f), cos(t f)], swapped to [cos, sin] when flip_sin_to_cos. */
void anim_timestep_embedding(float *out, float t, int dim, bool flip_sin_to_cos, float freq_shift);
/* AnimateDiff PositionalEncoding: pe[p][2i] = sin(p w_i), pe[p][2i+1] = cos(p w_i),
 * w_i = exp(-ln(1e4) 2i/dim). (The released checkpoints store this table; we load it.) */
void anim_sinusoidal_pe(float *out, int max_len, int dim);

#endif
