/*
 * vae.h - diffusers 0.24 AutoencoderKL (stabilityai/sd-vae-ft-mse): Encoder
 * (DownEncoderBlock2D x n, UNetMidBlock2D with one attention), quant_conv,
 * post_quant_conv, Decoder (UNetMidBlock2D, UpDecoderBlock2D x n with
 * layers_per_block + 1 resnets). Resnets have no time embedding.
 */
#ifndef ANIM_NN_VAE_H
#define ANIM_NN_VAE_H

#include "nn/config.h"
#include "nn/wspec.h"

/* Mid-block attention keys use the in-memory diffusers names
 * (group_norm, to_q, to_k, to_v, to_out.0; q/k/v/out 2-D [C, C] with bias) and
 * accept the deprecated AttentionBlock names SD-era hub files ship
 * (query, key, value, proj_attn) as aliases. */
void vae_weights(const vae_config *c, w_list *l);

#endif
