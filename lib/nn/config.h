/*
 * config.h - the hyper-parameters of every pose-animation network, parsed
 * from the configs the released models ship with.
 *
 * Each struct has a *_config_default() that equals the RELEASED model (so a
 * Moore pretrained_weights/ folder without model_config.json still works) and
 * a parser that overrides those values from a JSON DOM (io/json.h). Missing
 * fields keep the released value; unknown fields are ignored; a field of the
 * wrong type or an invalid value is ANIM_E_FORMAT, a valid value this engine
 * does not implement is ANIM_E_UNSUPPORTED. Every message names the file and
 * the field: "unet/config.json: 'block_out_channels' must be an array of
 * positive integers".
 *
 * Sources the fields mirror:
 *   unet_config       diffusers 0.24 UNet2DConditionModel config.json (SD1.5
 *                     unet/config.json) + Moore UNet3DConditionModel
 *                     unet_additional_kwargs (configs/inference/inference_v2.yaml)
 *   sched_config      diffusers DDIMScheduler kwargs (noise_scheduler_kwargs)
 *   pose_guider_config Moore PoseGuider / EchoMimic FaceLocator constructor
 *   vae_config        diffusers AutoencoderKL config.json (sd-vae-ft-mse)
 *   clip_vision_config transformers CLIPVisionConfig (CLIPVisionModelWithProjection,
 *                     lambdalabs/sd-image-variations-diffusers image_encoder)
 *   anim_model_config model_config.json: the JSON mirror of inference_v2.yaml
 *                     plus the constructor arguments the scripts hard-code.
 */
#ifndef ANIM_NN_CONFIG_H
#define ANIM_NN_CONFIG_H

#include <stdbool.h>

#include "io/json.h"
#include "util/error.h"

#define UNET_MAX_LEVELS 8
#define MM_MAX_RESOLUTIONS 16
#define MM_MAX_ATTN_BLOCKS 4
#define PG_MAX_BLOCKS 8
#define VAE_MAX_LEVELS 8

/* ---- motion module (Moore/AnimateDiff VanillaTemporalModule kwargs) ---- */
typedef struct motion_module_config {
    int num_attention_heads;               /* released 8 */
    int num_transformer_block;             /* released 1 */
    int n_attention_blocks;                /* len(attention_block_types); each is Temporal_Self (released 2) */
    bool temporal_position_encoding;       /* released true */
    int temporal_position_encoding_max_len; /* released 32: pe buffers are [1, max_len, C] */
    int temporal_attention_dim_div;        /* released 1 */
} motion_module_config;

/* ---- UNet (2D reference and 3D denoising) ---- */
typedef struct unet_config {
    /* diffusers UNet2DConditionModel config.json */
    int in_channels, out_channels;
    int n_levels;                              /* len(block_out_channels) */
    int block_out_channels[UNET_MAX_LEVELS];
    int n_down_types, n_up_types;              /* lengths of the block-type lists (checked == n_levels) */
    bool down_attn[UNET_MAX_LEVELS];           /* down_block_types[i] is CrossAttnDownBlock2D/3D */
    bool up_attn[UNET_MAX_LEVELS];             /* up_block_types[i] (deepest first) is CrossAttnUpBlock2D/3D */
    int layers_per_block;
    /* 'attention_head_dim': in these models it is the HEAD COUNT (diffusers legacy
     * naming). n_heads 0: one int for every level, kept in attention_heads[0]. */
    int n_heads;
    int attention_heads[UNET_MAX_LEVELS];
    int cross_attention_dim;
    int norm_num_groups;
    double norm_eps;
    bool flip_sin_to_cos;
    int freq_shift;
    int downsample_padding;
    double mid_block_scale_factor;
    bool upcast_attention;
    /* Moore UNet3DConditionModel unet_additional_kwargs (denoising UNet only) */
    bool use_inflated_groupnorm;
    bool use_motion_module;
    int n_mm_resolutions;
    int motion_module_resolutions[MM_MAX_RESOLUTIONS];
    bool motion_module_mid_block;
    bool motion_module_decoder_only;
    bool motion_module_vanilla;                /* motion_module_type == "Vanilla" (the only type) */
    motion_module_config mm;                   /* motion_module_kwargs */
} unet_config;

/* SD1.5 unet/config.json + Moore inference_v2.yaml unet_additional_kwargs
 * (the released denoising UNet; the reference UNet uses the same base fields). */
void unet_config_default(unet_config *c);
/* Override from a diffusers config.json object; `file` names it in errors.
 * Runs unet_config_check at the end. */
anim_status unet_config_parse(unet_config *c, const json_value *root, const char *file, anim_error *err);
/* Apply an unet_additional_kwargs object as Moore's from_pretrained_2d does
 * (from_config(base, **kwargs): any UNet3DConditionModel argument, e.g.
 * EchoMimic's cross_attention_dim 384). `prefix` is prepended to field names in
 * errors ("unet_additional_kwargs."). Runs unet_config_check at the end. */
anim_status unet_config_apply_kwargs(unet_config *c, const json_value *kwargs, const char *file,
                                     const char *prefix, anim_error *err);
/* Consistency of the whole struct (list lengths, divisibility, supported options). */
anim_status unet_config_check(const unet_config *c, const char *file, anim_error *err);
/* Heads of the transformers at down level i / up level i (deepest first) / mid block. */
int unet_config_down_heads(const unet_config *c, int i);
int unet_config_up_heads(const unet_config *c, int i);
int unet_config_mid_heads(const unet_config *c);
/* Where Moore's UNet3DConditionModel puts motion modules: down level i iff
 * use_motion_module and 2^i in motion_module_resolutions and not decoder_only;
 * up level i iff 2^(3-i) in the resolutions (upstream hard-codes the 3); the
 * mid block iff motion_module_mid_block. */
bool unet_config_mm_down(const unet_config *c, int level);
bool unet_config_mm_up(const unet_config *c, int level);
bool unet_config_mm_mid(const unet_config *c);

void motion_module_config_default(motion_module_config *m);

/* ---- DDIM scheduler (noise_scheduler_kwargs) ---- */
typedef enum sched_beta_schedule { SCHED_BETA_LINEAR = 0, SCHED_BETA_SCALED_LINEAR = 1 } sched_beta_schedule;
typedef enum sched_prediction { SCHED_PRED_EPSILON = 0, SCHED_PRED_V = 1 } sched_prediction;
typedef enum sched_spacing {
    SCHED_SPACING_LEADING = 0, SCHED_SPACING_TRAILING = 1, SCHED_SPACING_LINSPACE = 2
} sched_spacing;

typedef struct sched_config {
    int num_train_timesteps;            /* 1000 */
    double beta_start, beta_end;        /* 0.00085, 0.012 */
    sched_beta_schedule beta_schedule;  /* linear (Moore, EchoMimic) */
    bool clip_sample;                   /* false */
    double clip_sample_range;           /* 1.0 */
    bool set_alpha_to_one;              /* true */
    int steps_offset;                   /* 1 */
    sched_prediction prediction_type;   /* v_prediction */
    bool rescale_betas_zero_snr;        /* true */
    sched_spacing timestep_spacing;     /* trailing */
} sched_config;

void sched_config_default(sched_config *s);
anim_status sched_config_parse(sched_config *s, const json_value *obj, const char *file, const char *prefix,
                               anim_error *err);

/* ---- PoseGuider / FaceLocator ---- */
typedef struct pose_guider_config {
    int conditioning_embedding_channels;  /* 320 (= UNet block_out_channels[0]) */
    int conditioning_channels;            /* 3 (pose RGB); EchoMimic face locator 1 */
    int n_blocks;
    int block_out_channels[PG_MAX_BLOCKS]; /* [16, 32, 96, 256] */
} pose_guider_config;

void pose_guider_config_default(pose_guider_config *p);
anim_status pose_guider_config_parse(pose_guider_config *p, const json_value *obj, const char *file,
                                     const char *prefix, anim_error *err);

/* ---- VAE (diffusers AutoencoderKL) ---- */
typedef struct vae_config {
    int in_channels, out_channels;         /* 3, 3 */
    int latent_channels;                   /* 4 */
    int n_levels;
    int block_out_channels[VAE_MAX_LEVELS]; /* [128, 256, 512, 512] */
    int layers_per_block;                  /* 2 (decoder up blocks have layers_per_block + 1 resnets) */
    int norm_num_groups;                   /* 32 */
    double scaling_factor;                 /* 0.18215 */
} vae_config;

void vae_config_default(vae_config *v);     /* stabilityai/sd-vae-ft-mse */
anim_status vae_config_parse(vae_config *v, const json_value *root, const char *file, anim_error *err);

/* ---- CLIP vision tower (transformers CLIPVisionModelWithProjection) ---- */
typedef enum clip_act { CLIP_ACT_QUICK_GELU = 0, CLIP_ACT_GELU = 1 } clip_act;

typedef struct clip_vision_config {
    int hidden_size;          /* 1024 */
    int intermediate_size;    /* 4096 */
    int num_hidden_layers;    /* 24 */
    int num_attention_heads;  /* 16 */
    int patch_size;           /* 14 */
    int image_size;           /* 224 */
    int num_channels;         /* 3 */
    int projection_dim;       /* 768 */
    clip_act hidden_act;      /* quick_gelu */
    double layer_norm_eps;    /* 1e-5 */
} clip_vision_config;

void clip_vision_config_default(clip_vision_config *c); /* lambdalabs/sd-image-variations-diffusers image_encoder */
/* A CLIPVisionConfig config.json, or a full CLIPModel config.json with the
 * vision tower under "vision_config" (its projection_dim, else the top-level one). */
anim_status clip_vision_config_parse(clip_vision_config *c, const json_value *root, const char *file,
                                     anim_error *err);
/* (image_size / patch_size)^2 + 1 (the class token). */
int clip_vision_num_positions(const clip_vision_config *c);

/* ---- model_config.json ---- */
typedef struct anim_model_config {
    /* UNet2DConditionModel.from_pretrained(base, subfolder="unet"): base config only */
    unet_config reference_unet;
    /* UNet3DConditionModel.from_pretrained_2d(base, ..., unet_additional_kwargs) */
    unet_config denoising_unet;
    sched_config sched;                 /* noise_scheduler_kwargs */
    pose_guider_config pose_guider;     /* pose_guider {...} */
    double vae_latent_scaling;          /* 0.18215 (hard-coded in the Moore pipeline) */
    int clip_image_size;                /* 224 */
} anim_model_config;

/* Released values: SD1.5 unet config + Moore inference_v2 (tests/fixtures/real-manifests). */
void anim_model_config_default(anim_model_config *mc);
/* unet_json: a diffusers UNet config.json object (NULL: SD1.5 values);
 * model_json: a model_config.json object (NULL: released values). The
 * denoising UNet gets the base config with the 3D block types that
 * from_pretrained_2d forces, then unet_additional_kwargs. */
anim_status anim_model_config_parse(anim_model_config *mc, const json_value *unet_json, const char *unet_file,
                                    const json_value *model_json, const char *model_file, anim_error *err);
/* The same from files; a NULL path means "absent" (defaults). A path that
 * cannot be read or parsed is an error. */
anim_status anim_model_config_load(anim_model_config *mc, const char *unet_config_path,
                                   const char *model_config_path, anim_error *err);

/* File-level loaders: defaults, then the file. */
anim_status unet_config_load(unet_config *c, const char *path, anim_error *err);
anim_status vae_config_load(vae_config *v, const char *path, anim_error *err);
anim_status clip_vision_config_load(clip_vision_config *c, const char *path, anim_error *err);

#endif
