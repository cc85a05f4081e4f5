/*
 * test_gpu_ops.c - every op of the CUDA backend checked against the CPU
 * backend on random inputs (ggml test-backend-ops style): fp16 storage on the
 * GPU, so limits are fp16-sized (normalised MSE <= 1e-6 for elementwise ops).
 * Guard elements around GPU outputs catch out-of-bounds writes; NaN never
 * passes. Every test skips with a message when the library was built without
 * CUDA or no device answers. Run with `make test-gpu`.
 */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "backend.h"

#define GUARD 64
#define SENTINEL 1234.5f /* exactly representable in fp16 */

static anim_be *gpu, *cpu;

static bool setup(void) {
    anim_error e;
    anim_err_clear(&e);
    if (!cpu && anim_be_create_cpu(1, &cpu, &e) != ANIM_OK) { test_fail(__FILE__, __LINE__, "cpu: %s", e.msg); return false; }
    if (!gpu && anim_be_create_cuda(0, &gpu, &e) != ANIM_OK) {
        test_skip("no CUDA device: %s", e.msg);
        return false;
    }
    return true;
}

/* a device buffer of n elements with GUARD sentinel elements on each side */
typedef struct { void *base; void *p; size_t n; } gbuf;

static bool gbuf_new(gbuf *g, const float *host, size_t n) {
    anim_error e;
    g->n = n;
    if (gpu->ops->alloc(gpu, n + 2 * GUARD, &g->base, &e) != ANIM_OK) { test_fail(__FILE__, __LINE__, "%s", e.msg); return false; }
    g->p = (uint16_t *)g->base + GUARD;
    float *tmp = malloc((n + 2 * GUARD) * sizeof *tmp);
    for (size_t i = 0; i < n + 2 * GUARD; i++) tmp[i] = SENTINEL;
    if (host) memcpy(tmp + GUARD, host, n * sizeof *tmp);
    anim_status st = gpu->ops->upload(gpu, g->base, tmp, n + 2 * GUARD, &e);
    free(tmp);
    if (st != ANIM_OK) { test_fail(__FILE__, __LINE__, "%s", e.msg); return false; }
    return true;
}

/* download, check guards, return the payload (caller frees) */
static float *gbuf_get(gbuf *g, const char *what) {
    anim_error e;
    float *tmp = malloc((g->n + 2 * GUARD) * sizeof *tmp);
    if (gpu->ops->download(gpu, tmp, g->base, g->n + 2 * GUARD, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "%s: %s", what, e.msg);
        free(tmp);
        return NULL;
    }
    for (size_t i = 0; i < GUARD; i++)
        if (tmp[i] != SENTINEL || tmp[GUARD + g->n + i] != SENTINEL) {
            test_fail(__FILE__, __LINE__, "%s: guard element overwritten", what);
            free(tmp);
            return NULL;
        }
    float *out = malloc(g->n * sizeof *out);
    memcpy(out, tmp + GUARD, g->n * sizeof *out);
    free(tmp);
    return out;
}

static void gbuf_free(gbuf *g) { gpu->ops->free(gpu, g->base); }

/* round host inputs to fp16 so CPU and GPU see the same values */
static void round_f16(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = anim_f16_to_f32(anim_f32_to_f16(x[i]));
}

static bool compare(const char *what, const float *gpu_out, const float *cpu_out, size_t n, double nmse_max) {
    double *ref = malloc(n * sizeof *ref);
    for (size_t i = 0; i < n; i++) ref[i] = cpu_out[i];
    bool ok = test_compare(what, gpu_out, ref, n, nmse_max, 2e-3, 2e-3);
    free(ref);
    return ok;
}

TEST(gpu_upload_download_roundtrip) {
    if (!setup()) return;
    test_rng r;
    test_rng_seed(&r, 1);
    size_t n = 100003;
    float *x = malloc(n * sizeof *x);
    test_fill_uniform(&r, x, n, -70000.f, 70000.f);
    gbuf g;
    if (!gbuf_new(&g, x, n)) { free(x); return; }
    float *y = gbuf_get(&g, "roundtrip");
    gbuf_free(&g);
    bool ok = y != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        float want = anim_f16_to_f32(anim_f32_to_f16(x[i])); /* host RNE == device __float2half_rn */
        if (memcmp(&want, &y[i], 4) != 0) {
            test_fail(__FILE__, __LINE__, "element %zu: %g -> %g, want %g", i, x[i], y[i], want);
            ok = false;
        }
    }
    free(x);
    free(y);
}

typedef anim_status (*unary_run)(anim_be *be, const void *x, void *y, void *arg, anim_error *e);

static anim_status run_act(anim_be *be, const void *x, void *y, void *arg, anim_error *e) {
    int *a = arg;
    return be->ops->act(be, (bk_act)a[0], x, y, (size_t)a[1], e);
}
static anim_status run_geglu(anim_be *be, const void *x, void *y, void *arg, anim_error *e) {
    int *a = arg;
    return be->ops->geglu(be, x, y, a[0], a[1], e);
}
static anim_status run_up(anim_be *be, const void *x, void *y, void *arg, anim_error *e) {
    int *a = arg;
    return be->ops->upsample_nearest(be, x, y, a[0], a[1], a[2], a[3], a[4], a[5], e);
}

/* run a one-input op on both backends and compare */
static void check_unary(const char *what, unary_run fn, void *arg, size_t nin, size_t nout, double nmse) {
    test_rng r;
    test_rng_seed(&r, 7);
    float *x = malloc(nin * sizeof *x), *yc = malloc(nout * sizeof *yc);
    test_fill_uniform(&r, x, nin, -4.f, 4.f);
    round_f16(x, nin);
    anim_error e;
    if (fn(cpu, x, yc, arg, &e) != ANIM_OK) { test_fail(__FILE__, __LINE__, "cpu %s: %s", what, e.msg); goto out; }
    gbuf gx, gy;
    if (!gbuf_new(&gx, x, nin)) goto out;
    if (!gbuf_new(&gy, NULL, nout)) { gbuf_free(&gx); goto out; }
    if (fn(gpu, gx.p, gy.p, arg, &e) != ANIM_OK || gpu->ops->sync(gpu, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "cuda %s: %s", what, e.msg);
    } else {
        float *yg = gbuf_get(&gy, what);
        if (yg && !compare(what, yg, yc, nout, nmse)) test_fail(__FILE__, __LINE__, "%s differs", what);
        free(yg);
    }
    gbuf_free(&gx);
    gbuf_free(&gy);
out:
    free(x);
    free(yc);
}

TEST(gpu_act_silu_gelu_quickgelu) {
    if (!setup()) return;
    for (int a = 0; a < 3; a++) {
        int arg[2] = {a, 64 * 96 * 320 + 7};
        check_unary("act", run_act, arg, (size_t)arg[1], (size_t)arg[1], 1e-6);
    }
}

TEST(gpu_geglu) {
    if (!setup()) return;
    int arg[2] = {6144 + 3, 1280};
    check_unary("geglu", run_geglu, arg, (size_t)arg[0] * 2 * arg[1], (size_t)arg[0] * arg[1], 1e-6);
}

TEST(gpu_upsample_nearest) {
    if (!setup()) return;
    int shapes[][6] = {{2, 12, 8, 1280, 24, 16}, {2, 13, 8, 64, 25, 16}, {1, 49, 32, 40, 98, 64}, {3, 7, 5, 3, 5, 9}};
    for (int i = 0; i < 4; i++) {
        int *a = shapes[i];
        check_unary("upsample_nearest", run_up, a, (size_t)a[0] * a[1] * a[2] * a[3],
                    (size_t)a[0] * a[4] * a[5] * a[3], 0);
    }
}


/* ---- two-input ops ---- */
typedef anim_status (*binary_run)(anim_be *be, const void *a, const void *b, void *y, int *arg, anim_error *e);

static anim_status run_axpby(anim_be *be, const void *a, const void *b, void *y, int *arg, anim_error *e) {
    return be->ops->axpby(be, 3.5f, a, -2.5f, b, y, (size_t)arg[0], e);
}
static anim_status run_addc(anim_be *be, const void *a, const void *b, void *y, int *arg, anim_error *e) {
    return be->ops->add_channel(be, a, b, y, arg[0], arg[1], arg[2], arg[3], e);
}
static anim_status run_concat(anim_be *be, const void *a, const void *b, void *y, int *arg, anim_error *e) {
    return be->ops->concat_channels(be, a, b, y, arg[0], arg[1], arg[2], e);
}

static void check_binary(const char *what, binary_run fn, int *arg, size_t na, size_t nb, size_t nout, double nmse) {
    test_rng r;
    test_rng_seed(&r, 11);
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *yc = malloc(nout * sizeof *yc);
    test_fill_uniform(&r, a, na, -4.f, 4.f);
    test_fill_uniform(&r, b, nb, -4.f, 4.f);
    round_f16(a, na);
    round_f16(b, nb);
    anim_error e;
    gbuf ga, gb, gy;
    if (fn(cpu, a, b, yc, arg, &e) != ANIM_OK) { test_fail(__FILE__, __LINE__, "cpu %s: %s", what, e.msg); goto out; }
    if (!gbuf_new(&ga, a, na)) goto out;
    if (!gbuf_new(&gb, b, nb)) { gbuf_free(&ga); goto out; }
    if (!gbuf_new(&gy, NULL, nout)) { gbuf_free(&ga); gbuf_free(&gb); goto out; }
    if (fn(gpu, ga.p, gb.p, gy.p, arg, &e) != ANIM_OK || gpu->ops->sync(gpu, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "cuda %s: %s", what, e.msg);
    } else {
        float *yg = gbuf_get(&gy, what);
        if (yg && !compare(what, yg, yc, nout, nmse)) test_fail(__FILE__, __LINE__, "%s differs", what);
        free(yg);
    }
    gbuf_free(&ga);
    gbuf_free(&gb);
    gbuf_free(&gy);
out:
    free(a);
    free(b);
    free(yc);
}

TEST(gpu_axpby) {
    if (!setup()) return;
    int arg[1] = {1000003};
    check_binary("axpby", run_axpby, arg, (size_t)arg[0], (size_t)arg[0], (size_t)arg[0], 1e-6);
}

TEST(gpu_add_channel) {
    if (!setup()) return;
    int arg[4] = {48, 96, 320, 24}; /* 2 samples x 24 frames, time embedding per sample */
    size_t n = (size_t)arg[0] * arg[1] * arg[2];
    check_binary("add_channel", run_addc, arg, n, (size_t)(arg[0] / arg[3]) * arg[2], n, 1e-6);
}

TEST(gpu_concat_channels) {
    if (!setup()) return;
    int arg[3] = {6144 + 5, 320, 640};
    check_binary("concat_channels", run_concat, arg, (size_t)arg[0] * arg[1], (size_t)arg[0] * arg[2],
                 (size_t)arg[0] * (arg[1] + arg[2]), 0);
}
