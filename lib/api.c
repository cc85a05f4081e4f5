/*
 * api.c - the public anim_ctx: parameters, backend choice, hooks, last error,
 * and the loaded model. Everything the header promises about errors lives
 * here: internal calls fill an anim_error, and every public entry point copies
 * it into the context's last-error string before returning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "animate.h"
#include "backend.h"
#include "nn/model.h"
#include "pipe/pose2vid.h"
#include "pipe/talk.h"
#include "util/error.h"
#include "util/log.h"

struct anim_ctx {
    anim_ctx_params p;
    anim_hooks hooks;
    anim_be *be;
    anim_model *model;
    anim_run_stats stats;
    bool have_stats;
    char last_error[ANIM_ERR_MSG_MAX];
};

void anim_ctx_params_default(anim_ctx_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->struct_size = (uint32_t)sizeof *p;
    p->backend = ANIM_BACKEND_AUTO;
    p->device = 0;
    p->n_threads = 0;
    p->log_level = ANIM_LOG_INFO;
}

const char *anim_backend_name(anim_backend b) {
    switch (b) {
    case ANIM_BACKEND_AUTO: return "auto";
    case ANIM_BACKEND_CPU: return "cpu";
    case ANIM_BACKEND_CUDA: return "cuda";
    }
    return "unknown";
}

static anim_status ctx_fail(anim_ctx *ctx, const anim_error *e) {
    snprintf(ctx->last_error, sizeof ctx->last_error, "%s", e->msg);
    return e->status;
}

static anim_status ctx_ok(anim_ctx *ctx) {
    ctx->last_error[0] = '\0';
    return ANIM_OK;
}

anim_status anim_ctx_create(const anim_ctx_params *p, anim_ctx **out) {
    if (!out) return ANIM_E_INVALID_ARG;
    *out = NULL;
    anim_ctx_params def;
    if (!p) {
        anim_ctx_params_default(&def);
        p = &def;
    }
    /* an older caller's smaller struct: take what it has, default the rest */
    anim_ctx_params prm;
    anim_ctx_params_default(&prm);
    if (p->struct_size < offsetof(anim_ctx_params, backend) + sizeof p->backend ||
        p->struct_size > sizeof prm)
        return ANIM_E_INVALID_ARG;
    memcpy(&prm, p, p->struct_size);
    prm.struct_size = (uint32_t)sizeof prm;

    anim_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return ANIM_E_OOM;
    ctx->p = prm;
    ctx->hooks = (anim_hooks){prm.log_level, prm.log_cb, prm.log_user, prm.progress_cb, prm.progress_user,
                              prm.abort_cb, prm.abort_user};
    anim_error e;
    anim_err_clear(&e);
    anim_status st = ANIM_OK;
    if (prm.backend != ANIM_BACKEND_AUTO && prm.backend != ANIM_BACKEND_CPU && prm.backend != ANIM_BACKEND_CUDA)
        st = anim_seterr(&e, ANIM_E_INVALID_ARG, "unknown backend %d (use cpu, cuda or auto)", (int)prm.backend);
    else if (prm.n_threads < 0)
        st = anim_seterr(&e, ANIM_E_INVALID_ARG, "n_threads %d must be >= 0 (0 = all cores)", prm.n_threads);
    else if (prm.device < 0)
        st = anim_seterr(&e, ANIM_E_INVALID_ARG, "device %d must be >= 0", prm.device);
    else if (prm.backend == ANIM_BACKEND_CUDA)
        st = anim_be_create_cuda(prm.device, &ctx->be, &e);
    else if (prm.backend == ANIM_BACKEND_CPU)
        st = anim_be_create_cpu(prm.n_threads, &ctx->be, &e);
    else {
        st = anim_be_create_cuda(prm.device, &ctx->be, &e);
        if (st != ANIM_OK) {
            anim_log(&ctx->hooks, ANIM_LOG_INFO, "backend auto: CUDA unavailable (%s); using the CPU backend", e.msg);
            anim_err_clear(&e);
            st = anim_be_create_cpu(prm.n_threads, &ctx->be, &e);
        }
    }
    if (st != ANIM_OK) {
        /* creation failed: no context to hold the message, so log it */
        anim_log(&ctx->hooks, ANIM_LOG_ERROR, "%s", e.msg);
        free(ctx);
        return st;
    }
    *out = ctx;
    return ANIM_OK;
}

void anim_ctx_free(anim_ctx *ctx) {
    if (!ctx) return;
    anim_model_free(ctx->model);
    anim_be_free(ctx->be);
    free(ctx);
}

/* Record the outcome of a call made by another public-API file (media.c). */
anim_status anim__ctx_result(anim_ctx *ctx, const anim_error *e) {
    return e->status == ANIM_OK ? ctx_ok(ctx) : ctx_fail(ctx, e);
}

void anim_pose_params_default(anim_pose_params *p) {
    if (p) pipe_pose_params_default(p);
}

anim_status anim_pose2vid(anim_ctx *ctx, const anim_pose_params *p, const anim_picture *ref,
                          const anim_picture *poses, int n_poses, anim_video *out) {
    if (!ctx || !out) return ANIM_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    anim_error e;
    anim_err_clear(&e);
    if (!ctx->model) return ctx_fail(ctx, &(anim_error){ANIM_E_STATE, "no model loaded (call anim_ctx_load_models first)"});
    if (anim_model_kind_of(ctx->model) != ANIM_MODEL_POSE)
        return ctx_fail(ctx, &(anim_error){ANIM_E_STATE, "the loaded model is a talking-head model, not a pose-animation model"});
    if (!ref || !ref->rgb || ref->width < 1 || ref->height < 1 || !poses || n_poses < 1)
        return ctx_fail(ctx, &(anim_error){ANIM_E_INVALID_ARG, "reference picture and at least one pose picture are needed"});
    anim_pose_params def;
    if (!p) {
        anim_pose_params_default(&def);
        p = &def;
    } else if (p->struct_size != sizeof *p) {
        return ctx_fail(ctx, &(anim_error){ANIM_E_INVALID_ARG, "anim_pose_params.struct_size mismatch (use anim_pose_params_default)"});
    }
    anim_image *imgs = calloc((size_t)n_poses, sizeof *imgs);
    if (!imgs) return ctx_fail(ctx, &(anim_error){ANIM_E_OOM, "out of memory"});
    for (int i = 0; i < n_poses; i++) {
        if (!poses[i].rgb || poses[i].width < 1 || poses[i].height < 1) {
            free(imgs);
            anim_seterr(&e, ANIM_E_INVALID_ARG, "pose picture %d is empty", i);
            return ctx_fail(ctx, &e);
        }
        imgs[i] = (anim_image){poses[i].width, poses[i].height, poses[i].rgb};
    }
    anim_image r = {ref->width, ref->height, ref->rgb};
    anim_run_stats stats;
    anim_status st = pipe_pose2vid(ctx->be, ctx->model, &ctx->hooks, p, &r, imgs, n_poses, out, NULL, &stats, &e);
    free(imgs);
    if (st == ANIM_OK) {
        ctx->stats = stats;
        ctx->have_stats = true;
    }
    return st == ANIM_OK ? ctx_ok(ctx) : ctx_fail(ctx, &e);
}

void anim_talk_params_default(anim_talk_params *p) {
    if (p) pipe_talk_params_default(p);
}

anim_status anim_talking_head(anim_ctx *ctx, const anim_talk_params *p, const anim_picture *portrait,
                              const char *wav_path, anim_video *out) {
    if (!ctx || !out) return ANIM_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    anim_error e;
    anim_err_clear(&e);
    if (!ctx->model) return ctx_fail(ctx, &(anim_error){ANIM_E_STATE, "no model loaded (call anim_ctx_load_models first)"});
    if (!portrait || !portrait->rgb || portrait->width < 1 || portrait->height < 1 || !wav_path)
        return ctx_fail(ctx, &(anim_error){ANIM_E_INVALID_ARG, "a portrait and an audio file are needed"});
    anim_talk_params def;
    if (!p) {
        anim_talk_params_default(&def);
        p = &def;
    } else if (p->struct_size != sizeof *p) {
        return ctx_fail(ctx, &(anim_error){ANIM_E_INVALID_ARG, "anim_talk_params.struct_size mismatch (use anim_talk_params_default)"});
    }
    anim_image img = {portrait->width, portrait->height, portrait->rgb};
    anim_run_stats stats;
    anim_status st = pipe_talking_head(ctx->be, ctx->model, &ctx->hooks, p, &img, wav_path, out, NULL, &stats, &e);
    if (st == ANIM_OK) {
        ctx->stats = stats;
        ctx->have_stats = true;
    }
    return st == ANIM_OK ? ctx_ok(ctx) : ctx_fail(ctx, &e);
}

anim_status anim_ctx_run_stats(const anim_ctx *ctx, anim_run_stats *out) {
    if (!ctx || !out) return ANIM_E_INVALID_ARG;
    if (!ctx->have_stats) return ANIM_E_STATE;
    *out = ctx->stats;
    return ANIM_OK;
}

const char *anim_ctx_last_error(const anim_ctx *ctx) { return ctx ? ctx->last_error : "no context"; }

anim_backend anim_ctx_backend(const anim_ctx *ctx) { return ctx && ctx->be ? ctx->be->kind : ANIM_BACKEND_AUTO; }

anim_status anim_ctx_load_models(anim_ctx *ctx, const char *model_dir) {
    return anim_ctx_load_models_ex(ctx, model_dir, 0);
}

anim_status anim_ctx_load_models_ex(anim_ctx *ctx, const char *model_dir, unsigned flags) {
    if (!ctx) return ANIM_E_INVALID_ARG;
    anim_error e;
    anim_err_clear(&e);
    if (!model_dir || !*model_dir)
        return ctx_fail(ctx, &(anim_error){ANIM_E_INVALID_ARG, "model directory is empty"});
    anim_model *m = NULL;
    anim_status st = anim_model_load_ex(ctx->be, model_dir, flags, &ctx->hooks, &m, &e);
    if (st != ANIM_OK) return ctx_fail(ctx, &e);
    anim_model_free(ctx->model); /* replace only once the new one loaded */
    ctx->model = m;
    return ctx_ok(ctx);
}

anim_status anim_ctx_model_info(const anim_ctx *ctx, anim_model_info *out) {
    if (!ctx || !out) return ANIM_E_INVALID_ARG;
    if (!ctx->model) return ANIM_E_STATE;
    anim_model_describe(ctx->model, out);
    return ANIM_OK;
}

const char *anim_version_info(void) {
    return "libanimate " ANIM_VERSION_STRING " (backends: cpu"
#ifdef ANIM_WITH_CUDA
           ", cuda sm_80/sm_89/sm_90a+ptx"
#endif
           "; image I/O:"
#ifdef ANIM_WITH_PNG
           " png"
#endif
#ifdef ANIM_WITH_WEBP
           " webp"
#endif
#ifdef ANIM_WITH_JPEG
           " jpeg"
#endif
           ")";
}
