/*
 * motion_module.h - AnimateDiff "Vanilla" temporal modules of the denoising
 * UNet (Moore src/models/motion_module.py VanillaTemporalModule ->
 * TemporalTransformer3DModel -> TemporalTransformerBlock / VersatileAttention).
 *
 * They ship in their own file (motion_module.pth, AnimateDiff naming) and are
 * bound together with the denoising UNet's file against the union of
 * unet_weights(UNET_DENOISING) and motion_module_weights.
 */
#ifndef ANIM_NN_MOTION_MODULE_H
#define ANIM_NN_MOTION_MODULE_H

#include "nn/config.h"
#include "nn/nn.h"
#include "nn/wspec.h"

/* Append the `*.motion_modules.*` keys at every place the config puts them
 * (unet_config_mm_down/up/mid): layers_per_block modules per down level,
 * layers_per_block + 1 per up level, one in the mid block. Includes the
 * sinusoidal `pos_encoder.pe` buffers [1, max_len, C]: they are stored in the
 * released files and are loaded, not regenerated. Nothing if use_motion_module
 * is false. */
void motion_module_weights(const unet_config *c, w_list *l);

/* The keys of one module with `channels` input channels under prefix p
 * ("down_blocks.0.motion_modules.1"). */
void motion_module_one_weights(const motion_module_config *m, int channels, const char *p, w_list *l);

/* attention width inside a module: heads x (C // heads // temporal_attention_dim_div) */
int motion_module_inner_dim(const motion_module_config *m, int channels);

/* Forward of one VanillaTemporalModule under prefix p on x [B * frames, h, w, C]
 * (sample-major frames; weights from c->net): per-frame GroupNorm(32, eps 1e-6),
 * proj_in, TemporalTransformerBlocks (LayerNorm -> + pos_encoder.pe[f] ->
 * self-attention over the frame axis at every pixel -> + residual; GEGLU FF),
 * proj_out, + x. Returns [B * frames, h, w, C] at the arena top. */
nn_t motion_module_forward(nn_ctx *c, const motion_module_config *m, nn_t x, int frames, const char *p);

#endif
