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
 */
#include "nn/motion_module.h"

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
