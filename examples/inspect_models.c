/*
 * inspect_models.c - load a model directory, validate every checkpoint against
 * the networks built from its configs, and print what was loaded.
 *
 *   build/inspect_models --models DIR [--backend cpu|cuda|auto] [--threads N] [--quiet]
 *
 * Use it to check a download before a long run: a truncated file, a missing
 * or unexpected key, or a shape that disagrees with the config is reported
 * with the file and key at fault, and the exit status is non-zero.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "animate.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: inspect_models --models DIR [options]\n"
            "\n"
            "Load and validate a pose-animation model directory (libanimate layout as\n"
            "tests/fixtures/moore-tiny, or Moore-AnimateAnyone's pretrained_weights/).\n"
            "\n"
            "options:\n"
            "  --models DIR      model directory (required)\n"
            "  --backend NAME    cpu, cuda or auto (default auto)\n"
            "  --threads N       CPU threads (default: all cores)\n"
            "  --acc             EchoMimic: check the accelerated (*_acc) checkpoints\n"
            "  --quiet           print only errors\n"
            "  -h, --help        this help\n");
}

/* one line per 10% so logs stay readable */
static void on_progress(const anim_progress *pr, void *user) {
    int *last = user, pct = pr->total ? (int)(100LL * pr->done / pr->total) : 100;
    if (pct / 10 == *last / 10 && pr->done != pr->total) return;
    *last = pct;
    fprintf(stderr, "%s: %3d%% (%d/%d tensors)\n", pr->stage, pct, pr->done, pr->total);
}

int main(int argc, char **argv) {
    const char *models = NULL;
    anim_ctx_params p;
    anim_ctx_params_default(&p);
    int quiet = 0;
    unsigned load_flags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (!strcmp(a, "--models") && i + 1 < argc) models = argv[++i];
        else if (!strcmp(a, "--backend") && i + 1 < argc) {
            const char *b = argv[++i];
            if (!strcmp(b, "cpu")) p.backend = ANIM_BACKEND_CPU;
            else if (!strcmp(b, "cuda")) p.backend = ANIM_BACKEND_CUDA;
            else if (!strcmp(b, "auto")) p.backend = ANIM_BACKEND_AUTO;
            else { fprintf(stderr, "inspect_models: --backend must be cpu, cuda or auto, not '%s'\n", b); return 2; }
        } else if (!strcmp(a, "--acc")) {
            load_flags |= ANIM_LOAD_ACC;
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 0 || n > 4096) { fprintf(stderr, "inspect_models: --threads must be 0..4096\n"); return 2; }
            p.n_threads = (int)n;
        } else {
            fprintf(stderr, "inspect_models: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!models) { fprintf(stderr, "inspect_models: --models DIR is required (see --help)\n"); return 2; }
    if (quiet) p.log_level = ANIM_LOG_ERROR;
    int last_pct = -10;
    if (!quiet) {
        p.progress_cb = on_progress;
        p.progress_user = &last_pct;
    }

    anim_ctx *ctx = NULL;
    anim_status st = anim_ctx_create(&p, &ctx);
    if (st != ANIM_OK) { fprintf(stderr, "inspect_models: %s\n", anim_status_str(st)); return 1; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = anim_ctx_load_models_ex(ctx, models, load_flags);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (st != ANIM_OK) {
        fprintf(stderr, "inspect_models: %s\n", anim_ctx_last_error(ctx));
        anim_ctx_free(ctx);
        return 1;
    }
    if (!quiet) {
        anim_model_info info;
        anim_ctx_model_info(ctx, &info);
        printf("%s\n", anim_version_info());
        printf("%s model %s loaded on the %s backend in %.2f s\n",
               info.kind == ANIM_MODEL_TALKING_HEAD ? "talking-head (EchoMimic)" : "pose-animation (Moore-AnimateAnyone)",
               models, anim_backend_name(anim_ctx_backend(ctx)),
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
        printf("%-16s %8s %14s  %s\n", "network", "tensors", "parameters", "file");
        for (int i = 0; i < info.n_nets; i++)
            printf("%-16s %8lld %14lld  %s\n", info.nets[i].name, (long long)info.nets[i].n_tensors,
                   (long long)info.nets[i].n_params, info.nets[i].file);
        printf("total %lld parameters, %.1f MiB in backend storage\n", (long long)info.total_params,
               (double)info.weight_bytes / (1 << 20));
    }
    anim_ctx_free(ctx);
    return 0;
}
