/*
 * vae.c - AutoencoderKL weight-name table (see vae.h).
 *
 * Channel plan (diffusers vae.py Encoder / Decoder):
 *   encoder.conv_in [b0, in]; down_blocks.i: resnets j (in: b_{i-1} for j == 0,
 *   else b_i), downsamplers.0.conv on all but the last level; mid_block at
 *   b_last; conv_norm_out; conv_out [2 x latent, b_last] (double_z).
 *   decoder.conv_in [b_last, latent]; mid_block; up_blocks.i at
 *   reversed(b)[i]: layers_per_block + 1 resnets (first input: previous
 *   level's width), upsamplers.0.conv on all but the last; conv_norm_out [b0];
 *   conv_out [out, b0].
 */
#include "nn/vae.h"

#include <stdio.h>

#include "nn/unet.h"


/* Attention(heads = 1, dim_head = C, bias = True, norm_num_groups, _from_deprecated_attn_block) */
static void mid_attention(w_list *l, const char *p, int C) {
    static const char *const NEW[4] = {"to_q", "to_k", "to_v", "to_out.0"};
    static const char *const OLD[4] = {"query", "key", "value", "proj_attn"};
    char k[W_NAME_MAX];
    w_key(k, "%s.group_norm", p);
    wl_norm(l, k, C);
    for (int i = 0; i < 4; i++) {
        wl_add(l, 0, 2, C, C, 0, 0, "%s.%s.weight", p, NEW[i]);
        w_key(k, "%s.%s.weight", p, OLD[i]);
        wl_alias_last(l, k);
        wl_add(l, 0, 1, C, 0, 0, 0, "%s.%s.bias", p, NEW[i]);
        w_key(k, "%s.%s.bias", p, OLD[i]);
        wl_alias_last(l, k);
    }
}

static void mid_block(w_list *l, const char *p, int C) {
    char k[W_NAME_MAX];
    w_key(k, "%s.resnets.0", p);
    unet_resnet_weights(l, k, C, C, 0);
    w_key(k, "%s.attentions.0", p);
    mid_attention(l, k, C);
    w_key(k, "%s.resnets.1", p);
    unet_resnet_weights(l, k, C, C, 0);
}

void vae_weights(const vae_config *c, w_list *l) {
    const int n = c->n_levels, L = c->layers_per_block, lat = c->latent_channels;
    const int *b = c->block_out_channels, last = b[n - 1];
    char p[W_NAME_MAX];

    wl_conv(l, "encoder.conv_in", b[0], c->in_channels, 3, true);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < L; j++) {
            w_key(p, "encoder.down_blocks.%d.resnets.%d", i, j);
            unet_resnet_weights(l, p, j == 0 ? (i == 0 ? b[0] : b[i - 1]) : b[i], b[i], 0);
        }
        if (i < n - 1) {
            w_key(p, "encoder.down_blocks.%d.downsamplers.0.conv", i);
            wl_conv(l, p, b[i], b[i], 3, true);
        }
    }
    mid_block(l, "encoder.mid_block", last);
    wl_norm(l, "encoder.conv_norm_out", last);
    wl_conv(l, "encoder.conv_out", 2 * lat, last, 3, true);

    wl_conv(l, "quant_conv", 2 * lat, 2 * lat, 1, true);
    wl_conv(l, "post_quant_conv", lat, lat, 1, true);

    wl_conv(l, "decoder.conv_in", last, lat, 3, true);
    mid_block(l, "decoder.mid_block", last);
    for (int i = 0; i < n; i++) {
        int out = b[n - 1 - i], prev = i == 0 ? last : b[n - i];
        for (int j = 0; j <= L; j++) {
            w_key(p, "decoder.up_blocks.%d.resnets.%d", i, j);
            unet_resnet_weights(l, p, j == 0 ? prev : out, out, 0);
        }
        if (i < n - 1) {
            w_key(p, "decoder.up_blocks.%d.upsamplers.0.conv", i);
            wl_conv(l, p, out, out, 3, true);
        }
    }
    wl_norm(l, "decoder.conv_norm_out", b[0]);
    wl_conv(l, "decoder.conv_out", c->out_channels, b[0], 3, true);
}
