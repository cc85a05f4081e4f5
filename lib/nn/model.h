/*
 * model.h - a loaded pose-animation model: every network's weights in backend
 * memory, plus the configs they were built from. Read-only after load, so one
 * model can serve many runs (per-run scratch lives elsewhere).
 */
#ifndef ANIM_NN_MODEL_H
#define ANIM_NN_MODEL_H

#include "animate.h"
#include "backend.h"
#include "util/error.h"
#include "util/log.h"

typedef struct anim_model anim_model;

/* Resolve the model directory layout, parse configs, open and validate every
 * checkpoint (keys, shapes, dtypes) and upload the weights to `be`. */
anim_status anim_model_load(anim_be *be, const char *dir, const anim_hooks *hooks, anim_model **out,
                            anim_error *err);
void anim_model_free(anim_model *m);   /* NULL is a no-op */
/* flags: ANIM_LOAD_ACC (animate.h) loads EchoMimic's accelerated denoising UNet
 * and motion modules (*_acc) instead of the standard ones. */
anim_status anim_model_load_ex(anim_be *be, const char *dir, unsigned flags, const anim_hooks *hooks,
                               anim_model **out, anim_error *err);
void anim_model_describe(const anim_model *m, anim_model_info *out);

/* Backend pointer of a weight by network and canonical key ("vae",
 * "encoder.conv_in.weight"); NULL if unknown. Conv weights are OHWI. The
 * motion modules are part of "denoising_unet" (also found as "motion_module"). */
const void *anim_model_weight(const anim_model *m, const char *net, const char *key);
/* The same, also giving the key's spec (shape as in the checkpoint, flags); *spec
 * is NULL when the network has no such key. */
struct w_spec;
const void *anim_model_find(const anim_model *m, const char *net, const char *key, const struct w_spec **spec);

/* Enumerate loaded weights (tests, tools): i < anim_model_n_weights(m). */
size_t anim_model_n_weights(const anim_model *m);
const void *anim_model_weight_at(const anim_model *m, size_t i, const char **net, const char **key, int64_t *numel);

struct anim_model_config;
struct vae_config;
struct clip_vision_config;
const struct anim_model_config *anim_model_cfg(const anim_model *m);
const struct vae_config *anim_model_vae_cfg(const anim_model *m);
const struct clip_vision_config *anim_model_clip_cfg(const anim_model *m);
struct whisper_dims;
const struct whisper_dims *anim_model_whisper_dims(const anim_model *m);
anim_model_kind anim_model_kind_of(const anim_model *m);
bool anim_model_is_acc(const anim_model *m);   /* loaded with ANIM_LOAD_ACC */

#endif
