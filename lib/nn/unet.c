/*
 * unet.c - UNet weight-name tables and channel plan (see unet.h).
 *
 * Mirrors diffusers 0.24 UNet2DConditionModel / Moore UNet3DConditionModel
 * construction: conv_in, time_embedding, down_blocks (resnets, attentions,
 * downsamplers), mid_block (resnet, attention, resnet), up_blocks (resnets,
 * attentions, upsamplers), then conv_norm_out / conv_out for the denoising
 * UNet only. Conv weights (InflatedConv3d = per-frame Conv2d) are 4-D.
 */
#include "nn/unet.h"

#include <stdio.h>


int unet_temb_channels(const unet_config *c) { return 4 * c->block_out_channels[0]; }

int unet_down_resnet_in(const unet_config *c, int i, int j) {
    if (j > 0) return c->block_out_channels[i];
    return i == 0 ? c->block_out_channels[0] : c->block_out_channels[i - 1];
}

static int rev_boc(const unet_config *c, int i) {
    if (i > c->n_levels - 1) i = c->n_levels - 1;
    return c->block_out_channels[c->n_levels - 1 - i];
}

int unet_up_out_channels(const unet_config *c, int i) { return rev_boc(c, i); }

int unet_up_skip_channels(const unet_config *c, int i, int j) {
    /* diffusers: res_skip_channels = in_channels if (j == num_layers - 1) else out_channels,
     * with in_channels = reversed_block_out_channels[min(i + 1, n - 1)] */
    return j == c->layers_per_block ? rev_boc(c, i + 1) : rev_boc(c, i);
}

int unet_up_resnet_in(const unet_config *c, int i, int j) {
    int prev_out = i == 0 ? rev_boc(c, 0) : rev_boc(c, i - 1);
    int hidden = j == 0 ? prev_out : rev_boc(c, i);
    return hidden + unet_up_skip_channels(c, i, j);
}

void unet_resnet_weights(w_list *l, const char *p, int in, int out, int temb) {
    char k[W_NAME_MAX];
    w_key(k, "%s.norm1", p);
    wl_norm(l, k, in);
    w_key(k, "%s.conv1", p);
    wl_conv(l, k, out, in, 3, true);
    if (temb > 0) {
        w_key(k, "%s.time_emb_proj", p);
        wl_linear(l, k, out, temb, true);
    }
    w_key(k, "%s.norm2", p);
    wl_norm(l, k, out);
    w_key(k, "%s.conv2", p);
    wl_conv(l, k, out, out, 3, true);
    if (in != out) {
        w_key(k, "%s.conv_shortcut", p);
        wl_conv(l, k, out, in, 1, true);
    }
}

void unet_ff_weights(w_list *l, const char *p, int dim) {
    char k[W_NAME_MAX];
    w_key(k, "%s.net.0.proj", p);
    wl_linear(l, k, 2 * 4 * dim, dim, true);
    w_key(k, "%s.net.2", p);
    wl_linear(l, k, dim, 4 * dim, true);
}

void unet_attn_weights(w_list *l, const char *p, int query_dim, int kv_dim, int inner) {
    wl_add(l, 0, 2, inner, query_dim, 0, 0, "%s.to_q.weight", p);
    wl_add(l, 0, 2, inner, kv_dim, 0, 0, "%s.to_k.weight", p);
    wl_add(l, 0, 2, inner, kv_dim, 0, 0, "%s.to_v.weight", p);
    char k[W_NAME_MAX];
    w_key(k, "%s.to_out.0", p);
    wl_linear(l, k, query_dim, inner, true);
}

/* Transformer2DModel / Moore Transformer3DModel with use_linear_projection
 * false and one BasicTransformerBlock: GroupNorm, proj_in 1x1 conv, block,
 * proj_out 1x1 conv. inner = heads x (C // heads) (= C after unet_config_check). */
static void transformer(w_list *l, const char *p, int C, int heads, int cross_dim, bool cross) {
    int inner = heads * (C / heads);
    char k[W_NAME_MAX];
    w_key(k, "%s.norm", p);
    wl_norm(l, k, C);
    w_key(k, "%s.proj_in", p);
    wl_conv(l, k, inner, C, 1, true);
    w_key(k, "%s.transformer_blocks.0.norm1", p);
    wl_norm(l, k, inner);
    w_key(k, "%s.transformer_blocks.0.attn1", p);
    unet_attn_weights(l, k, inner, inner, inner);
    if (cross) {
        w_key(k, "%s.transformer_blocks.0.norm2", p);
        wl_norm(l, k, inner);
        w_key(k, "%s.transformer_blocks.0.attn2", p);
        unet_attn_weights(l, k, inner, cross_dim, inner);
    }
    w_key(k, "%s.transformer_blocks.0.norm3", p);
    wl_norm(l, k, inner);
    w_key(k, "%s.transformer_blocks.0.ff", p);
    unet_ff_weights(l, k, inner);
    w_key(k, "%s.proj_out", p);
    wl_conv(l, k, C, inner, 1, true);
}

void unet_weights(const unet_config *c, unet_kind kind, unsigned flags, w_list *l) {
    const int n = c->n_levels, L = c->layers_per_block, c0 = c->block_out_channels[0];
    const int temb = unet_temb_channels(c), xd = c->cross_attention_dim;
    const bool cross = !(flags & UNET_NO_CROSS_ATTN);
    char p[W_NAME_MAX];

    wl_conv(l, "conv_in", c0, c->in_channels, 3, true);
    wl_linear(l, "time_embedding.linear_1", temb, c0, true);
    wl_linear(l, "time_embedding.linear_2", temb, temb, true);

    for (int i = 0; i < n; i++) {
        int C = c->block_out_channels[i];
        for (int j = 0; j < L; j++) {
            w_key(p, "down_blocks.%d.resnets.%d", i, j);
            unet_resnet_weights(l, p, unet_down_resnet_in(c, i, j), C, temb);
            if (c->down_attn[i]) {
                w_key(p, "down_blocks.%d.attentions.%d", i, j);
                transformer(l, p, C, unet_config_down_heads(c, i), xd, cross);
            }
        }
        if (i < n - 1) { /* Downsample2D(use_conv=True): conv 3x3 stride 2 */
            w_key(p, "down_blocks.%d.downsamplers.0.conv", i);
            wl_conv(l, p, C, C, 3, true);
        }
    }

    const int Cm = c->block_out_channels[n - 1];
    unet_resnet_weights(l, "mid_block.resnets.0", Cm, Cm, temb);
    transformer(l, "mid_block.attentions.0", Cm, unet_config_mid_heads(c), xd, cross);
    unet_resnet_weights(l, "mid_block.resnets.1", Cm, Cm, temb);

    for (int i = 0; i < n; i++) {
        int C = unet_up_out_channels(c, i);
        for (int j = 0; j <= L; j++) {
            w_key(p, "up_blocks.%d.resnets.%d", i, j);
            unet_resnet_weights(l, p, unet_up_resnet_in(c, i, j), C, temb);
            if (c->up_attn[i]) {
                w_key(p, "up_blocks.%d.attentions.%d", i, j);
                transformer(l, p, C, unet_config_up_heads(c, i), xd, cross);
            }
        }
        if (i < n - 1) { /* Upsample2D(use_conv=True): nearest x2 then conv 3x3 */
            w_key(p, "up_blocks.%d.upsamplers.0.conv", i);
            wl_conv(l, p, C, C, 3, true);
        }
    }

    if (kind == UNET_DENOISING) {
        wl_norm(l, "conv_norm_out", c0);
        wl_conv(l, "conv_out", c->out_channels, c0, 3, true);
    }
}
