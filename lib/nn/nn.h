/*
 * nn.h - the building blocks every network is written with.
 *
 * A network forward pass is straight-line code over nn_t activations (NHWC,
 * in backend memory) calling these helpers with checkpoint key prefixes:
 *
 *     nn_t h = nn_group_norm(c, x, "encoder.down_blocks.0.resnets.0.norm1", 32, 1e-6f, true);
 *     h = nn_conv(c, h, "encoder.down_blocks.0.resnets.0.conv1", 1, 1);
 *
 * Errors are sticky (as in a graph builder): the first failure is recorded
 * in c->st / c->err and every later helper returns an empty nn_t at once, so
 * network code checks nn_ok(c) only where it must stop early. Weights are
 * found by key in the loaded model (kernel size, channels and bias presence
 * come from the checkpoint's shapes); a missing key is a bug in the network
 * code, reported as ANIM_E_INTERNAL naming the key.
 *
 * Memory: activations come from a stack arena (nn_mark / nn_release), so a
 * block frees its temporaries by releasing to a mark taken at its start and
 * copying its result below (nn_keep). Layout of nn_t: d[n][h][w][c];
 * token matrices are n=batch, h=1, w=tokens.
 */
#ifndef ANIM_NN_NN_H
#define ANIM_NN_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "nn/model.h"
#include "nn/wspec.h"
#include "util/error.h"
#include "util/log.h"

typedef struct nn_t {
    void *d;
    int n, h, w, c;
} nn_t;

/* Stack arena over backend memory, grown in chunks. */
typedef struct nn_arena nn_arena;
anim_status nn_arena_create(anim_be *be, size_t chunk_elems, nn_arena **out, anim_error *err);
void nn_arena_free(nn_arena *ar);
size_t nn_arena_peak(const nn_arena *ar);   /* most elements ever in use */

typedef struct nn_mark_t { size_t chunk, used; } nn_mark_t;

typedef struct nn_ctx {
    anim_be *be;
    const anim_model *model;
    const char *net;             /* which network's weights nn_w() reads: "vae", "denoising_unet", ... */
    nn_arena *ar;
    const anim_hooks *hooks;
    anim_status st;              /* sticky first error */
    anim_error *err;
} nn_ctx;

static inline bool nn_ok(const nn_ctx *c) { return c->st == ANIM_OK; }
static inline size_t nn_numel(nn_t t) { return (size_t)t.n * t.h * t.w * t.c; }

/* record an error (only the first one sticks); returns the status */
anim_status nn_fail(nn_ctx *c, anim_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- memory ---- */
nn_t nn_new(nn_ctx *c, int n, int h, int w, int ch);
nn_mark_t nn_mark(nn_ctx *c);
void nn_release(nn_ctx *c, nn_mark_t m);
/* Release to m but keep t: t is copied to the arena top after the release
 * (t must have been allocated after m). Returns the kept tensor. */
nn_t nn_keep(nn_ctx *c, nn_mark_t m, nn_t t);
/* view of frames [f0, f0+nf) of a batch of frames (no copy) */
nn_t nn_slice_n(nn_ctx *c, nn_t t, int f0, int nf);
/* element pointer arithmetic in backend storage */
void *nn_ptr(const nn_ctx *c, const void *base, size_t elems);
nn_t nn_reshape(nn_t t, int n, int h, int w, int ch);   /* same numel, no copy */
nn_t nn_copy(nn_ctx *c, nn_t x);
/* copy src into an existing tensor or view (same element count) */
void nn_store(nn_ctx *c, nn_t dst, nn_t src);
/* dst = alpha a + beta b into an existing tensor or view (b.d NULL: dst = alpha a; dst may alias a or b) */
void nn_axpby_into(nn_ctx *c, nn_t dst, float alpha, nn_t a, float beta, nn_t b);

/* host <-> backend (F32 on the host, NHWC) */
nn_t nn_from_host(nn_ctx *c, const float *x, int n, int h, int w, int ch);
bool nn_to_host(nn_ctx *c, nn_t t, float *out);

/* ---- weights ---- */
/* weight by printf-formatted key; NULL and a sticky error if missing */
const void *nn_w(nn_ctx *c, const struct w_spec **spec, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* NULL (no error) if the key does not exist */
const void *nn_w_opt(nn_ctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- layers (prefix = key without ".weight"/".bias") ---- */
/* Conv with weight [cout, cin, kh, kw] from the checkpoint, bias if present,
 * symmetric zero padding `pad`; res (may be {0}) is added to the output. */
nn_t nn_conv(nn_ctx *c, nn_t x, const char *prefix, int stride, int pad);
nn_t nn_conv_res(nn_ctx *c, nn_t x, const char *prefix, int stride, int pad_t, int pad_l, int pad_b, int pad_r,
                 nn_t res);
/* y = x W^T + b over the last dim: [.., K] -> [.., N]; res added if res.d */
nn_t nn_linear(nn_ctx *c, nn_t x, const char *prefix);
nn_t nn_linear_res(nn_ctx *c, nn_t x, const char *prefix, nn_t res);
nn_t nn_group_norm(nn_ctx *c, nn_t x, const char *prefix, int groups, float eps, bool silu);
nn_t nn_layer_norm(nn_ctx *c, nn_t x, const char *prefix, float eps);
nn_t nn_act(nn_ctx *c, nn_t x, bk_act act);
void nn_act_inplace(nn_ctx *c, nn_t x, bk_act act);
nn_t nn_add(nn_ctx *c, nn_t a, nn_t b);                   /* same shapes */
nn_t nn_axpby(nn_ctx *c, float alpha, nn_t a, float beta, nn_t b);
nn_t nn_scale(nn_ctx *c, nn_t a, float alpha);
/* x + v per sample: v is [n / v_div, 1, 1, c] (a time embedding per CFG sample) */
nn_t nn_add_channel(nn_ctx *c, nn_t x, nn_t v, int v_div);
nn_t nn_concat(nn_ctx *c, nn_t a, nn_t b);                /* channel concat */
nn_t nn_upsample(nn_ctx *c, nn_t x, int ho, int wo);      /* nearest, PyTorch legacy index */
nn_t nn_geglu(nn_ctx *c, nn_t x);                         /* [.., 2N] -> [.., N] */

/* Multi-head attention over token matrices q [B, Nq, Cq], k/v [B, Nk, C]
 * (k2/v2: an optional second key/value segment with its own batch count kb2,
 * 1 = broadcast to every batch), heads of C/heads channels, scale 1/sqrt(d). */
nn_t nn_attention(nn_ctx *c, nn_t q, nn_t k, nn_t v, nn_t k2, nn_t v2, int heads);

/* ---- blocks shared by several networks ---- */
/* diffusers ResnetBlock2D (+ Moore ResnetBlock3D per frame): GN(groups, eps) ->
 * SiLU -> conv1 -> (+ time_emb_proj(temb) per sample) -> GN -> SiLU -> conv2;
 * shortcut conv_shortcut (1x1) when present; (x + h) / out_scale.
 * temb: [B, 1, 1, Ct] (the time embedding, before SiLU) or {0}; frames = x.n / B. */
nn_t nn_resnet(nn_ctx *c, nn_t x, const char *prefix, nn_t temb, int groups, float eps, float out_scale);
/* diffusers Attention (to_q/to_k/to_v/to_out.0) on normed tokens; kv_in: keys/values input
 * (NULL .d: self-attention on x), extra (.d non-NULL): extra tokens appended to the keys/values
 * input (reference bank), one per batch or one broadcast (extra.n == 1). */
nn_t nn_attn(nn_ctx *c, nn_t x, nn_t kv_in, nn_t extra, const char *prefix, int heads);
/* diffusers FeedForward with GEGLU: net.0.proj -> GEGLU -> net.2 */
nn_t nn_ff_geglu(nn_ctx *c, nn_t x, const char *prefix);

/* ---- host layout helpers (fixtures are PyTorch NCHW / NCFHW) ---- */
/* [n][c][h][w] -> [n][h][w][c] and back */
void nn_nchw_to_nhwc(float *dst, const float *src, int n, int ch, int h, int w);
void nn_nhwc_to_nchw(float *dst, const float *src, int n, int h, int w, int ch);
/* [b][c][f][h][w] (video latents) <-> frames [b*f][h][w][c] */
void nn_ncfhw_to_frames(float *dst, const float *src, int b, int ch, int f, int h, int w);
void nn_frames_to_ncfhw(float *dst, const float *src, int b, int ch, int f, int h, int w);

#endif
