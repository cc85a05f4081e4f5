/*
 * pose_guider.h - Moore src/models/pose_guider.py PoseGuider (= ControlNet's
 * controlnet_cond_embedding; also EchoMimic's FaceLocator with 1 input
 * channel): conv_in, then per pair of block_out_channels a 3x3 conv at the
 * same width and a stride-2 3x3 conv to the next width, then conv_out to the
 * UNet's first width. All InflatedConv3d (per-frame Conv2d) with bias, SiLU
 * after every conv but the last.
 */
#ifndef ANIM_NN_POSE_GUIDER_H
#define ANIM_NN_POSE_GUIDER_H

#include "nn/config.h"
#include "nn/nn.h"
#include "nn/wspec.h"

/* conv_in [b0, cond_ch, 3, 3]; blocks.{2i} [b_i, b_i, 3, 3];
 * blocks.{2i+1} [b_{i+1}, b_i, 3, 3] (stride 2); conv_out [emb, b_last, 3, 3]. */
void pose_guider_weights(const pose_guider_config *c, w_list *l);

/* number of entries in `blocks` (2 x (n_blocks - 1)); block k has stride 2 iff k is odd */
int pose_guider_num_blocks(const pose_guider_config *c);

/* PoseGuider(pose): pose [F, H, W, conditioning_channels] NHWC, pose pixels / 255
 * in [0, 1] -> [F, ceil(H / 2^(n_blocks-1)), .., conditioning_embedding_channels]
 * (H/8 x W/8 x 320 for the released model). Frames are run one at a time.
 * Selects the "pose_guider" weights (c->net is set inside and restored on
 * return); only the result stays on the arena. */
nn_t pose_guider_forward(nn_ctx *c, const pose_guider_config *cfg, nn_t pose);

#endif
