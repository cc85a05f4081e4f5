/*
 * unet.h - the two UNets of the pose-animation models: the reference UNet
 * (Moore src/models/unet_2d_condition.py UNet2DConditionModel, run once on
 * the reference image to fill the attention bank) and the denoising UNet
 * (Moore src/models/unet_3d.py UNet3DConditionModel: the same 2-D layers
 * applied per frame, plus motion modules, see motion_module.h). Both use
 * diffusers 0.24 state-dict naming.
 *
 * EchoMimic V1 (antgroup/echomimic src/models/unet_3d_echo.py, attention.py,
 * mutual_self_attention.py) runs the same two nets with small changes, all
 * selected by the weights or by unet_cond: a reference UNet without
 * cross-attention, per-frame audio tokens as attn2's keys/values with the
 * output scaled by 3, face-locator features broadcast over frames and given to
 * the cond sample only.
 *
 * This file holds the weight-name tables, the channel plan derived from a
 * unet_config and the two forward passes (unet_reference_bank, unet_denoise_ex).
 */
#ifndef ANIM_NN_UNET_H
#define ANIM_NN_UNET_H

#include <stdbool.h>

#include "nn/config.h"
#include "nn/nn.h"
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

/* ---- BasicTransformerBlocks (the reference-attention sites) ---- */

/* Most BasicTransformerBlocks a unet_config can have: n_levels x layers_per_block
 * down + n_levels x (layers_per_block + 1) up + 1 mid, at the parser's limits. */
#define UNET_MAX_TBLOCKS (UNET_MAX_LEVELS * (2 * 64 + 1) + 1)

typedef enum unet_section { UNET_SEC_DOWN = 0, UNET_SEC_UP = 1, UNET_SEC_MID = 2 } unet_section;

/* One BasicTransformerBlock: down_blocks.<level>.attentions.<index>,
 * up_blocks.<level>.attentions.<index> or mid_block.attentions.0. */
typedef struct unet_tblock {
    unet_section section;
    int level, index;
    int channels;           /* norm1.normalized_shape[0] */
} unet_tblock;

/* The UNet's BasicTransformerBlocks in PyTorch module DFS order - down blocks,
 * up blocks, mid block, as the modules are registered in UNet2DConditionModel /
 * UNet3DConditionModel.__init__ - the order ReferenceAttentionControl lists them
 * in. Returns how many (at most max are written to out, which may be NULL). */
int unet_tblocks(const unet_config *c, unet_tblock *out, int max);
/* "down_blocks.0.attentions.1.transformer_blocks.0" */
void unet_tblock_name(const unet_tblock *b, char *buf, size_t len);

/* The reference bank (Moore mutual_self_attention.py, "write" mode): LN1 output
 * of every BasicTransformerBlock of the reference UNet, writer DFS order,
 * [samples, h, w, C] (token j = pixel j), rounded to float16 as
 * ReferenceAttentionControl.update(dtype=torch.float16) does. The tensors live
 * in the nn_ctx arena below the mark unet_reference_bank took: they stay valid
 * until the caller releases to a mark taken before that call. */
typedef struct unet_bank {
    int n;                              /* blocks */
    int samples;                        /* batch of the reference pass; the LAST sample is the cond one */
    int channels[UNET_MAX_TBLOCKS];     /* per writer block (for the reader pairing) */
    nn_t t[UNET_MAX_TBLOCKS];
} unet_bank;

/* Pair reader blocks with writer blocks as ReferenceAttentionControl.update():
 * both lists in DFS order, each stable-sorted by descending channel count, then
 * zipped (Python zip: the shorter list decides). reader_to_writer[r] = writer
 * DFS index, or -1 for a reader block left without a bank. Returns the number
 * of reader blocks. */
int unet_bank_pairing(const unet_config *reader, const int *writer_channels, int n_writer, int *reader_to_writer);

/* ---- forward passes (NHWC; frames folded into n, sample-major: b * F + f) ---- */

/*
 * Moore UNet2DConditionModel as the reference net (pipeline: once, before step 0):
 * ref_latents [B, h, w, in_channels] (Moore: B = 2, the CFG batch [ref, ref];
 * B = 1: the cond sample only, which gives the reader the same bank - EchoMimic
 * always runs batch 1), timestep 0. encoder_states: Moore [B, 1, 1,
 * cross_attention_dim] ([zeros, image_embeds]); {0} for a net built without
 * cross-attention (EchoMimic's reference UNet, UNET_NO_CROSS_ATTN: called with
 * encoder_hidden_states=None; states given to such a net are ignored, a net
 * with attn2 weights and no states is refused). Fills *bank (allocated on c's
 * arena before any temporaries, see unet_bank) and stops after the last bank
 * write - the rest of the net is dead. Net "reference_unet".
 * round_f16: true reproduces upstream (the float16 cast of update()); false keeps
 * the writer's values as computed (tests comparing them with the float32 bank).
 * A CFG reader needs no copy of a batch-1 bank: upstream's cat([v, v]) gives the
 * uncond half a bank it never reads (see unet_denoise_ex), the cond half reads v.
 */
anim_status unet_reference_bank(nn_ctx *c, const unet_config *cfg, nn_t ref_latents, nn_t encoder_states,
                                bool round_f16, unet_bank *bank);

/* EchoMimic mutual_self_attention.py hacked_basic_transformer_inner_forward:
 * audio_feature_ratio, the factor on attn2's output before the residual add */
#define UNET_ECHO_AUDIO_SCALE 3.0f

/*
 * The conditioning of one denoising UNet call. The CFG batch is [uncond, cond]
 * (B = 2) or cond only (B = 1); "the cond sample" is always the LAST one.
 *
 * encoder_states  attn2's keys/values, tokens along h*w:
 *                 [B, 1, T, D]: one set per sample, repeated over its frames
 *                   (Moore: T = 1, the CLIP image embedding; zeros for uncond);
 *                 [B * frames, 1, T, D]: one set per frame (EchoMimic
 *                   Transformer3DModel "b f n c -> (b f) n c": the frame's 50
 *                   audio tokens; zeros for the uncond half, which makes its
 *                   attn2 output exactly to_out.0.bias).
 *                 D = cross_attention_dim.
 * cross_attn_scale factor on attn2's output (h = s * attn2(norm2(h)) + h):
 *                 1 for Moore, UNET_ECHO_AUDIO_SCALE for EchoMimic.
 * features        added to conv_in's output ({0}: none): [frames or B * frames,
 *                 h, w, C0] (Moore pose_cond_fea), or [1, h, w, C0] broadcast
 *                 over every frame (EchoMimic face_musk_fea: the face locator
 *                 output of the single mask frame).
 * features_cond_only  add the features to the cond sample only; the others get
 *                 nothing (EchoMimic: cat([zeros, face_locator_tensor])).
 *                 features must then be [1 or frames, ...].
 * bank            from unet_reference_bank (NULL: no reference attention).
 *                 Reference tokens go to the cond sample only (B = 2: the
 *                 uncond sample runs plain self-attention, as both Moore's and
 *                 EchoMimic's read-mode block overwrite it under uc_mask).
 */
typedef struct unet_cond {
    nn_t encoder_states;
    float cross_attn_scale;
    nn_t features;
    bool features_cond_only;
    const unet_bank *bank;
} unet_cond;

/* Moore's conditioning: everything absent, cross_attn_scale 1. */
void unet_cond_init(unet_cond *cond);

/*
 * Moore UNet3DConditionModel / EchoMimic EchoUNet3DConditionModel forward
 * (motion modules included): latents [B * frames, h, w, in_channels] with
 * B = 2 (CFG batch [uncond frames, cond frames]) or 1 (cond only), one
 * timestep for all samples, conditioning as in unet_cond. Weights: net
 * "denoising_unet" (with ANIM_LOAD_ACC the model resolves that role to
 * EchoMimic's accelerated weights: the same network). Returns
 * the model output [B * frames, h, w, out_channels] (v-prediction), allocated
 * where the call started; {0} with the error in c on failure.
 */
nn_t unet_denoise_ex(nn_ctx *c, const unet_config *cfg, nn_t latents, int frames, float timestep,
                     const unet_cond *cond);

/*
 * The Moore call: unet_denoise_ex with encoder_states (per sample [B, 1, 1, D]
 * or per frame), pose_features [frames or B * frames, h, w, C0] added to every
 * sample ({0}: none), bank (NULL: none), cross_attn_scale 1.
 */
nn_t unet_denoise(nn_ctx *c, const unet_config *cfg, nn_t latents, int frames, float timestep, nn_t encoder_states,
                  nn_t pose_features, const unet_bank *bank);

#endif
