/*
 * motion_module.c - motion-module weight-name table (see motion_module.h).
 *
 * Per module (AnimateDiff / Moore naming), with inner = heads x head_dim:
 *   temporal_transformer.norm               GroupNorm(32, C)
 *   temporal_transformer.proj_in            Linear(C, inner)      2-D weight, bias
 *   temporal_transformer.transformer_blocks.b.attention_blocks.a.{to_q,to_k,to_v,to_out.0}
 *   temporal_transformer.transformer_blocks.b.attention_blocks.a.pos_encoder.pe  [1, max_len, inner]
 *   temporal_transformer.transformer_blocks.b.norms.a               LayerNorm(inner)
 *   temporal_transformer.transformer_blocks.b.ff.net.{0.proj,2}     GEGLU feed-forward
 *   temporal_transformer.transformer_blocks.b.ff_norm               LayerNorm(inner)
 *   temporal_transformer.proj_out           Linear(inner, C)
 *
 * Forward (motion_module_forward), Moore src/models/motion_module.py at a914ef3,
 * on frames folded into n (x[b * F + f][h][w][C], NHWC = the "(b f) (h w) c"
 * token layout upstream builds by rearranging):
 *   residual = x
 *   h = proj_in(GroupNorm(32, eps 1e-6)(x))                per frame
 *   per TemporalTransformerBlock, per attention block a:
 *     n = norms.a(h)                                       LayerNorm eps 1e-5
 *     n = n + pe[f]                                        PositionalEncoding on the
 *                                                          "(b d) f c" sequence: frame f
 *     h = to_out(softmax(q k^T / sqrt(d)) v) + h           over the F frames of each
 *                                                          (sample, pixel); q/k/v = to_*(n)
 *   h = ff(ff_norm(h)) + h
 *   out = proj_out(h) + residual
 * The frame-axis attention reads the [F, hw, C] projections in place: the
 * sequence of pixel p is rows p, p + hw, ... (token stride hw*C, batch stride
 * C), one backend call per sample b.
 */
#include "nn/motion_module.h"

#include <math.h>
#include <stdio.h>

#include "nn/unet.h"


int motion_module_inner_dim(const motion_module_config *m, int channels) {
    /* VanillaTemporalModule: attention_head_dim = in_channels // heads // dim_div */
    return m->num_attention_heads * (channels / m->num_attention_heads / m->temporal_attention_dim_div);
}

void motion_module_one_weights(const motion_module_config *m, int C, const char *p, w_list *l) {
    const int inner = motion_module_inner_dim(m, C);
    char k[W_NAME_MAX];
    w_key(k, "%s.temporal_transformer.norm", p);
    wl_norm(l, k, C);
    w_key(k, "%s.temporal_transformer.proj_in", p);
    wl_linear(l, k, inner, C, true);
    for (int b = 0; b < m->num_transformer_block; b++) {
        for (int a = 0; a < m->n_attention_blocks; a++) {
            /* VersatileAttention, Temporal_Self: self-attention over frames */
            w_key(k, "%s.temporal_transformer.transformer_blocks.%d.attention_blocks.%d", p, b, a);
            unet_attn_weights(l, k, inner, inner, inner);
            if (m->temporal_position_encoding)
                wl_add(l, 0, 3, 1, m->temporal_position_encoding_max_len, inner, 0,
                       "%s.temporal_transformer.transformer_blocks.%d.attention_blocks.%d.pos_encoder.pe", p, b, a);
            w_key(k, "%s.temporal_transformer.transformer_blocks.%d.norms.%d", p, b, a);
            wl_norm(l, k, inner);
        }
        w_key(k, "%s.temporal_transformer.transformer_blocks.%d.ff", p, b);
        unet_ff_weights(l, k, inner);
        w_key(k, "%s.temporal_transformer.transformer_blocks.%d.ff_norm", p, b);
        wl_norm(l, k, inner);
    }
    w_key(k, "%s.temporal_transformer.proj_out", p);
    wl_linear(l, k, C, inner, true);
}

void motion_module_weights(const unet_config *c, w_list *l) {
    if (!c->use_motion_module) return;
    const int n = c->n_levels, L = c->layers_per_block;
    char p[W_NAME_MAX];
    for (int i = 0; i < n; i++) {
        if (!unet_config_mm_down(c, i)) continue;
        for (int j = 0; j < L; j++) {
            w_key(p, "down_blocks.%d.motion_modules.%d", i, j);
            motion_module_one_weights(&c->mm, c->block_out_channels[i], p, l);
        }
    }
    if (unet_config_mm_mid(c))
        motion_module_one_weights(&c->mm, c->block_out_channels[n - 1], "mid_block.motion_modules.0", l);
    for (int i = 0; i < n; i++) {
        if (!unet_config_mm_up(c, i)) continue;
        for (int j = 0; j <= L; j++) {
            w_key(p, "up_blocks.%d.motion_modules.%d", i, j);
            motion_module_one_weights(&c->mm, unet_up_out_channels(c, i), p, l);
        }
    }
}

/* ---------------------------------------------------------------- forward */

/* TemporalTransformer3DModel hard-codes these (norm_num_groups=32, eps=1e-6 for
 * the GroupNorm; nn.LayerNorm default eps for norms.* and ff_norm). */
#define MM_GN_GROUPS 32
#define MM_GN_EPS 1e-6f
#define MM_LN_EPS 1e-5f

/* VersatileAttention(attention_mode="Temporal") core for one sample: q, k, v, o
 * are [F, hw, C] (views into [B*F, hw, C] tensors); the batch of the op is the
 * hw pixels, its tokens the F frames. */
static void mm_frame_attention(nn_ctx *c, nn_t q, nn_t k, nn_t v, nn_t o, int heads) {
    if (!nn_ok(c)) return;
    const int F = q.n, hw = q.h * q.w, C = q.c;
    const int64_t ts = (int64_t)hw * C;
    bk_attention a = {.q = q.d, .k = k.d, .v = v.d, .o = o.d, .batch = hw, .heads = heads, .d_head = C / heads,
                      .nq = F, .nk = F, .nk2 = 0,
                      .q_bs = C, .q_ts = ts, .k_bs = C, .k_ts = ts, .v_bs = C, .v_ts = ts, .o_bs = C, .o_ts = ts,
                      .scale = (float)(1.0 / sqrt((double)(C / heads)))};
    anim_error e;
    anim_status st = c->be->ops->attention(c->be, &a, &e);
    if (st != ANIM_OK) nn_fail(c, st, "%s: temporal attention: %s", c->net, e.msg);
}

/* One Temporal_Self attention block: returns attention_block(norm(h)) + h. */
static nn_t mm_attention_block(nn_ctx *c, const motion_module_config *m, nn_t h, int frames, const char *tb, int a) {
    char k[W_NAME_MAX], ab[W_NAME_MAX];
    nn_mark_t mk = nn_mark(c);
    const int B = h.n / frames;
    w_key(k, "%s.norms.%d", tb, a);
    nn_t n = nn_layer_norm(c, h, k, MM_LN_EPS);
    w_key(ab, "%s.attention_blocks.%d", tb, a);
    nn_t pe = {0};
    if (m->temporal_position_encoding) {
        const struct w_spec *s;
        const void *w = nn_w(c, &s, "%s.pos_encoder.pe", ab);
        if (!nn_ok(c)) return (nn_t){0};
        /* pe is [1, max_len, inner]; PositionalEncoding adds pe[:, :F] and the
         * table is only max_len long */
        if (s->ndim != 3 || s->shape[2] != n.c || s->shape[1] < frames) {
            nn_fail(c, ANIM_E_UNSUPPORTED, "%s: %s.pos_encoder.pe holds %lld positions of %lld channels; %d frames of %d "
                    "channels requested", c->net, ab, (long long)(s->ndim == 3 ? s->shape[1] : 0),
                    (long long)(s->ndim == 3 ? s->shape[2] : 0), frames, n.c);
            return (nn_t){0};
        }
        pe = (nn_t){(void *)w, frames, 1, 1, n.c};
    }
    nn_t o = nn_new(c, h.n, h.h, h.w, h.c);
    for (int b = 0; b < B && nn_ok(c); b++) {
        nn_mark_t mb = nn_mark(c);
        nn_t nb = nn_slice_n(c, n, b * frames, frames);
        /* the position encoding reaches q, k and v but not the residual */
        if (pe.d) nb = nn_add_channel(c, nb, pe, 1);
        w_key(k, "%s.to_q", ab);
        nn_t q = nn_linear(c, nb, k);
        w_key(k, "%s.to_k", ab);
        nn_t kk = nn_linear(c, nb, k);
        w_key(k, "%s.to_v", ab);
        nn_t v = nn_linear(c, nb, k);
        mm_frame_attention(c, q, kk, v, nn_slice_n(c, o, b * frames, frames), m->num_attention_heads);
        nn_release(c, mb);
    }
    w_key(k, "%s.to_out.0", ab);
    o = nn_linear_res(c, o, k, h);
    return nn_keep(c, mk, o);
}

nn_t motion_module_forward(nn_ctx *c, const motion_module_config *m, nn_t x, int frames, const char *p) {
    char k[W_NAME_MAX], tb[W_NAME_MAX];
    if (!nn_ok(c)) return (nn_t){0};
    if (frames <= 0 || x.n % frames) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: motion module %s on %d images of %d frames", c->net, p, x.n, frames);
        return (nn_t){0};
    }
    const int inner = motion_module_inner_dim(m, x.c);
    if (x.c % MM_GN_GROUPS || inner % m->num_attention_heads) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: motion module %s: %d channels do not fit 32 groups / %d heads", c->net, p,
                x.c, m->num_attention_heads);
        return (nn_t){0};
    }
    nn_mark_t mk = nn_mark(c);
    w_key(k, "%s.temporal_transformer.norm", p);
    nn_t h = nn_group_norm(c, x, k, MM_GN_GROUPS, MM_GN_EPS, false);
    w_key(k, "%s.temporal_transformer.proj_in", p);
    h = nn_keep(c, mk, nn_linear(c, h, k));
    for (int b = 0; b < m->num_transformer_block; b++) {
        w_key(tb, "%s.temporal_transformer.transformer_blocks.%d", p, b);
        for (int a = 0; a < m->n_attention_blocks; a++) h = nn_keep(c, mk, mm_attention_block(c, m, h, frames, tb, a));
        /* TemporalTransformerBlock: hidden = ff(ff_norm(hidden)) + hidden */
        w_key(k, "%s.ff_norm", tb);
        nn_t n = nn_layer_norm(c, h, k, MM_LN_EPS);
        w_key(k, "%s.ff", tb);
        n = nn_ff_geglu(c, n, k);
        h = nn_keep(c, mk, nn_add(c, n, h));
    }
    w_key(k, "%s.temporal_transformer.proj_out", p);
    h = nn_linear_res(c, h, k, x);
    return nn_keep(c, mk, h);
}
