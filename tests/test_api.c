/* test_api.c - the public anim_ctx API: params, errors, callbacks, model loading. */
#include <stdlib.h>

#include "animate.h"
#include "test.h"

static anim_ctx *cpu_ctx(anim_ctx_params *p) {
    anim_ctx_params d;
    if (!p) { anim_ctx_params_default(&d); p = &d; }
    p->backend = ANIM_BACKEND_CPU;
    anim_ctx *ctx = NULL;
    return anim_ctx_create(p, &ctx) == ANIM_OK ? ctx : NULL;
}

TEST(api_defaults_and_free_null) {
    anim_ctx_params p;
    anim_ctx_params_default(&p);
    CHECK(p.struct_size == sizeof p);
    CHECK(p.backend == ANIM_BACKEND_AUTO);
    CHECK(p.n_threads == 0 && p.device == 0);
    anim_ctx_free(NULL); /* no-op */
    CHECK(strstr(anim_status_str(ANIM_E_MODEL), "ANIM_E_MODEL") != NULL);
    CHECK(strstr(anim_version_info(), ANIM_VERSION_STRING) != NULL);
    CHECK(!strcmp(anim_backend_name(ANIM_BACKEND_CUDA), "cuda"));
}

TEST(api_bad_params_are_rejected) {
    anim_ctx_params p;
    anim_ctx *ctx = (anim_ctx *)1;
    anim_ctx_params_default(&p);
    p.backend = (anim_backend)42;
    p.log_level = ANIM_LOG_NONE; /* silence the creation error log */
    CHECK(anim_ctx_create(&p, &ctx) == ANIM_E_INVALID_ARG);
    CHECK(ctx == NULL);
    anim_ctx_params_default(&p);
    p.n_threads = -3;
    p.log_level = ANIM_LOG_NONE;
    CHECK(anim_ctx_create(&p, &ctx) == ANIM_E_INVALID_ARG);
    anim_ctx_params_default(&p);
    p.struct_size = 2;
    CHECK(anim_ctx_create(&p, &ctx) == ANIM_E_INVALID_ARG);
    CHECK(anim_ctx_create(&p, NULL) == ANIM_E_INVALID_ARG);
}

TEST(api_cuda_backend_unavailable_is_a_clear_error_auto_falls_back) {
    anim_ctx_params p;
    anim_ctx_params_default(&p);
    p.backend = ANIM_BACKEND_CUDA;
    p.log_level = ANIM_LOG_NONE;
    anim_ctx *ctx = NULL;
    anim_status st = anim_ctx_create(&p, &ctx);
    if (st == ANIM_OK) { /* a machine with a GPU */
        CHECK(anim_ctx_backend(ctx) == ANIM_BACKEND_CUDA);
        anim_ctx_free(ctx);
    } else {
        CHECK(st == ANIM_E_UNSUPPORTED || st == ANIM_E_CUDA || st == ANIM_E_INVALID_ARG);
        CHECK(ctx == NULL);
    }
    p.backend = ANIM_BACKEND_AUTO;
    p.log_level = ANIM_LOG_ERROR;
    CHECK(anim_ctx_create(&p, &ctx) == ANIM_OK);
    CHECK(anim_ctx_backend(ctx) == (st == ANIM_OK ? ANIM_BACKEND_CUDA : ANIM_BACKEND_CPU));
    anim_ctx_free(ctx);
}

TEST(api_info_before_load_is_state_error) {
    anim_ctx *ctx = cpu_ctx(NULL);
    CHECK(ctx);
    anim_model_info info;
    CHECK(anim_ctx_model_info(ctx, &info) == ANIM_E_STATE);
    CHECK(!strcmp(anim_ctx_last_error(ctx), ""));
    anim_ctx_free(ctx);
}

TEST(api_load_missing_dir_names_it) {
    anim_ctx *ctx = cpu_ctx(NULL);
    CHECK(ctx);
    anim_status st = anim_ctx_load_models(ctx, "tests/fixtures/no-such-dir");
    CHECK(st == ANIM_E_IO);
    CHECK_CONTAINS(anim_ctx_last_error(ctx), "tests/fixtures/no-such-dir");
    CHECK(anim_ctx_load_models(ctx, "") == ANIM_E_INVALID_ARG);
    anim_ctx_free(ctx);
}

typedef struct { int calls, last_done, last_total; } progress_log;

static void on_progress(const anim_progress *p, void *user) {
    progress_log *l = user;
    l->calls += !strcmp(p->stage, "load");
    l->last_done = p->done;
    l->last_total = p->total;
}

TEST(api_load_tiny_fixture_reports_networks_and_progress) {
    progress_log pl = {0};
    anim_ctx_params p;
    anim_ctx_params_default(&p);
    p.progress_cb = on_progress;
    p.progress_user = &pl;
    anim_ctx *ctx = cpu_ctx(&p);
    CHECK(ctx);
    anim_status st = anim_ctx_load_models(ctx, "tests/fixtures/moore-tiny");
    CHECK_MSG(st == ANIM_OK, "load: %s", anim_ctx_last_error(ctx));
    anim_model_info info;
    CHECK(anim_ctx_model_info(ctx, &info) == ANIM_OK);
    CHECK(info.n_nets == 6);
    int64_t sum = 0;
    for (int i = 0; i < info.n_nets; i++) sum += info.nets[i].n_params;
    CHECK(sum == info.total_params);
    CHECK(info.weight_bytes == info.total_params * 4); /* CPU backend stores F32 */
    CHECK(pl.calls > 0 && pl.last_done == pl.last_total);
    anim_ctx_free(ctx);
}

static bool abort_now(void *user) { (void)user; return true; }

TEST(api_abort_callback_stops_loading) {
    anim_ctx_params p;
    anim_ctx_params_default(&p);
    p.abort_cb = abort_now;
    anim_ctx *ctx = cpu_ctx(&p);
    CHECK(ctx);
    CHECK(anim_ctx_load_models(ctx, "tests/fixtures/moore-tiny") == ANIM_E_ABORTED);
    anim_model_info info;
    CHECK(anim_ctx_model_info(ctx, &info) == ANIM_E_STATE);
    anim_ctx_free(ctx);
}

TEST(api_pth_and_safetensors_dirs_load_the_same_model) {
    anim_ctx *a = cpu_ctx(NULL), *b = cpu_ctx(NULL);
    CHECK(a && b);
    CHECK_MSG(anim_ctx_load_models(a, "tests/fixtures/moore-tiny") == ANIM_OK, "%s", anim_ctx_last_error(a));
    CHECK_MSG(anim_ctx_load_models(b, "tests/fixtures/moore-tiny-pth") == ANIM_OK, "%s", anim_ctx_last_error(b));
    anim_model_info ia, ib;
    anim_ctx_model_info(a, &ia);
    anim_ctx_model_info(b, &ib);
    CHECK(ia.n_nets == ib.n_nets && ia.total_params == ib.total_params);
    for (int i = 0; i < ia.n_nets; i++) {
        CHECK(!strcmp(ia.nets[i].name, ib.nets[i].name));
        CHECK(ia.nets[i].n_tensors == ib.nets[i].n_tensors);
        CHECK(ia.nets[i].n_params == ib.nets[i].n_params);
    }
    anim_ctx_free(a);
    anim_ctx_free(b);
}
