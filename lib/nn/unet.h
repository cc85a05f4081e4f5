/*
 * unet.h - the two UNets of the pose-animation models: the reference UNet
 * (Moore src/models/unet_2d_condition.py UNet2DConditionModel, run once on
 * the reference image to fill the attention bank) and the denoising UNet
 * (Moore src/models/unet_3d.py UNet3DConditionModel: the same 2-D layers
 * applied per frame, plus motion modules, see motion_module.h). Both use
 * diffusers 0.24 state-dict naming.
 *
 * This file holds the weight-name tables and the channel plan derived from a
 * unet_config; the forward passes live here too (added separately).
 */
#ifndef ANIM_NN_UNET_H
#define ANIM_NN_UNET_H

#include <stdbool.h>

#include "nn/config.h"
#include "nn/wspec.h"

typedef enum unet_kind {
    UNET_REFERENCE = 0, /* UNet2DConditionModel: no conv_norm_out / conv_out (Moore deletes them) */
    UNET_DENOISING = 1  /* UNet3DConditionModel minus motion modules (those: motion_module_weights) */
} unet_kind;

/* unet_weights flags */
enum {
    /* EchoMimic's reference UNet: BasicTransformerBlock built without norm2/attn2
     * (antgroup/echomimic src/models/attention.py) */
    UNET_NO_CROSS_ATTN = 1u << 0
};

/* Append every state-dict key of the UNet with its exact shape. The config
 * must have passed unet_config_check. Out-of-memory is recorded in l->oom. */
void unet_weights(const unet_config *c, unet_kind kind, unsigned flags, w_list *l);

/* diffusers ResnetBlock2D / Moore ResnetBlock3D keys under prefix p:
 * norm1, conv1, time_emb_proj (only if temb > 0), norm2, conv2, and
 * conv_shortcut (1x1, with bias) iff in != out. Shared with the VAE. */
void unet_resnet_weights(w_list *l, const char *p, int in, int out, int temb);
/* diffusers Attention (attention_bias False): to_q [inner, query_dim],
 * to_k/to_v [inner, kv_dim] without bias, to_out.0 [query_dim, inner] + bias.
 * Shared with the motion module's VersatileAttention. */
void unet_attn_weights(w_list *l, const char *p, int query_dim, int kv_dim, int inner);
/* diffusers FeedForward(dim, activation_fn="geglu", mult=4): net.0.proj
 * [2 x 4 dim, dim] (GEGLU value and gate halves), net.2 [dim, 4 dim], both with bias. */
void unet_ff_weights(w_list *l, const char *p, int dim);

/* ---- channel plan (diffusers UNet2DConditionModel.__init__) ---- */

/* time embedding width: 4 x block_out_channels[0] */
int unet_temb_channels(const unet_config *c);
/* input channels of resnet j of down level i */
int unet_down_resnet_in(const unet_config *c, int i, int j);
/* Up level i (deepest first) has layers_per_block + 1 resnets; resnet j takes
 * the previous hidden state (prev_out for j == 0, else out) concatenated with
 * one skip tensor popped from the down path: */
int unet_up_out_channels(const unet_config *c, int i);    /* reversed(block_out_channels)[i] */
int unet_up_skip_channels(const unet_config *c, int i, int j);
int unet_up_resnet_in(const unet_config *c, int i, int j); /* hidden + skip */

#endif
