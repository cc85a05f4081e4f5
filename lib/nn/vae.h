/*
 * vae.h - diffusers 0.24 AutoencoderKL (stabilityai/sd-vae-ft-mse): Encoder
 * (DownEncoderBlock2D x n, UNetMidBlock2D with one attention), quant_conv,
 * post_quant_conv, Decoder (UNetMidBlock2D, UpDecoderBlock2D x n with
 * layers_per_block + 1 resnets). Resnets have no time embedding.
 */
#ifndef ANIM_NN_VAE_H
#define ANIM_NN_VAE_H

#include "nn/config.h"
#include "nn/nn.h"
#include "nn/wspec.h"

/* Mid-block attention keys use the in-memory diffusers names
 * (group_norm, to_q, to_k, to_v, to_out.0; q/k/v/out 2-D [C, C] with bias) and
 * accept the deprecated AttentionBlock names SD-era hub files ship
 * (query, key, value, proj_attn) as aliases. */
void vae_weights(const vae_config *c, w_list *l);

/* Forward passes over NHWC activations. Both select the "vae" weights
 * (c->net is set inside and restored on return), run one image at a time
 * (scratch bounded by one image's activations) and leave only their result
 * on the arena above the caller's allocations. Any batch size n >= 1.
 *
 * vae_encode_mean: img [n, H, W, in_channels] in [-1, 1] ->
 *   AutoencoderKL.encode(img).latent_dist.mean [n, h, w, latent_channels],
 *   h = H halved (floor) n_levels - 1 times. NOT multiplied by the scaling
 *   factor (the pipeline does that).
 * vae_decode: z [n, h, w, latent_channels], already divided by the scaling
 *   factor -> AutoencoderKL.decode(z).sample [n, h*2^(n_levels-1), ..,
 *   out_channels], roughly in [-1, 1]; the caller maps (x/2 + 0.5).clamp(0, 1). */
nn_t vae_encode_mean(nn_ctx *c, const vae_config *cfg, nn_t img);
nn_t vae_decode(nn_ctx *c, const vae_config *cfg, nn_t z);

#endif
