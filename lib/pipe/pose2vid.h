/*
 * pose2vid.h - the pose-animation pipeline behind anim_pose2vid() (see
 * pose2vid.c for the steps and the upstream behaviour each reproduces).
 */
#ifndef ANIM_PIPE_POSE2VID_H
#define ANIM_PIPE_POSE2VID_H

#include "animate.h"
#include "backend.h"
#include "io/image.h"
#include "nn/model.h"
#include "util/error.h"
#include "util/log.h"

void pipe_pose_params_default(anim_pose_params *p);

/* What tests may observe inside a run (all optional). */
typedef struct pipe_debug {
    float *frames01;   /* F*H*W*3 floats: the frames in [0, 1] before the uint8 conversion */
    /* after DDIM step `step` (0-based): latents as NCFHW [1, 4, F, h, w] */
    void (*on_step)(int step, const float *latents, int F, int h, int w, void *user);
    void *user;
} pipe_debug;

/* Run the pipeline on loaded weights; dbg and stats may be NULL. On failure *out is empty. */
anim_status pipe_pose2vid(anim_be *be, const anim_model *m, const anim_hooks *hooks, const anim_pose_params *p,
                          const anim_image *ref, const anim_image *poses, int n_poses, anim_video *out,
                          const pipe_debug *dbg, anim_run_stats *stats, anim_error *err);

#endif
