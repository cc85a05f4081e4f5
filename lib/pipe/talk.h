/*
 * talk.h - the talking-head pipeline behind anim_talking_head() (see talk.c
 * for the steps and the upstream behaviour each reproduces).
 */
#ifndef ANIM_PIPE_TALK_H
#define ANIM_PIPE_TALK_H

#include "animate.h"
#include "backend.h"
#include "io/image.h"
#include "nn/model.h"
#include "util/error.h"
#include "util/log.h"

void pipe_talk_params_default(anim_talk_params *p);

/* What tests may observe inside a run (optional). */
typedef struct pipe_debug_talk {
    float *frames01;   /* F*H*W*3 floats: the frames in [0, 1] before the uint8 conversion */
    /* after DDIM step `step` (0-based): latents as NCFHW [1, 4, F, h, w] */
    void (*on_step)(int step, const float *latents, int F, int h, int w, void *user);
    void *user;
} pipe_debug_talk;

anim_status pipe_talking_head(anim_be *be, const anim_model *m, const anim_hooks *hooks, const anim_talk_params *p,
                              const anim_image *portrait, const char *wav_path, anim_video *out,
                              const pipe_debug_talk *dbg, anim_run_stats *stats, anim_error *err);

#endif
