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
#include "nn/wspec.h"

/* vision_model.embeddings.position_ids [1, num_positions] (an int64 buffer that
 * transformers <= 4.30 saved) is accepted when present and never loaded
 * (W_OPTIONAL | W_UNUSED). */
void clip_vision_weights(const clip_vision_config *c, w_list *l);

#endif
