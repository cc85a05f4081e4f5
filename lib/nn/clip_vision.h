/*
 * clip_vision.h - transformers 4.30 CLIPVisionModelWithProjection (the
 * image encoder of lambdalabs/sd-image-variations-diffusers, ViT-L/14 @ 224):
 * patch embedding conv (no bias), class token, learned positions,
 * pre_layrnorm (sic, the upstream spelling), pre-LN encoder layers,
 * post_layernorm on the class token, visual_projection (no bias).
 */
#ifndef ANIM_NN_CLIP_VISION_H
#define ANIM_NN_CLIP_VISION_H

#include "nn/config.h"
#include "nn/nn.h"
#include "nn/wspec.h"

/* vision_model.embeddings.position_ids [1, num_positions] (an int64 buffer that
 * transformers <= 4.30 saved) is accepted when present and never loaded
 * (W_OPTIONAL | W_UNUSED). */
void clip_vision_weights(const clip_vision_config *c, w_list *l);

/* CLIPVisionModelWithProjection(pixel_values).image_embeds: pixels
 * [n, image_size, image_size, num_channels] NHWC, already CLIP-normalised
 * (CLIPImageProcessor: /255, (x - mean) / std) -> [n, 1, 1, projection_dim],
 * projected, not L2-normalised. Selects the "image_encoder" weights (c->net is
 * set inside and restored on return); only the result stays on the arena. */
nn_t clip_vision_embed(nn_ctx *c, const clip_vision_config *cfg, nn_t pixels);

#endif
