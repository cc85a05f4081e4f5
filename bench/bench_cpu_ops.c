/*
 * bench_cpu_ops.c - time the CPU reference backend's heavy ops at SD-shaped
 * sizes (one frame at a reduced latent so a run takes seconds, not minutes).
 *
 *   build/bench_cpu_ops [--threads N] [--reps N] [--op conv|gn|linear|attn]
 *
 * One line per configuration: op(shape) | variant | us/run | GFLOP/s or GB/s.
 * Warm-up first, median of --reps runs. This is the baseline the CUDA
 * backend's benches are compared with; the CPU backend aims at clarity, not speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *rnd(size_t n) {
    float *p = malloc(n * sizeof *p);
    uint32_t s = 12345;
    for (size_t i = 0; p && i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

typedef anim_status (*op_fn)(anim_be *be, void *args, anim_error *e);
static anim_status run_conv(anim_be *be, void *a, anim_error *e) { return be->ops->conv2d(be, a, e); }
static anim_status run_gn(anim_be *be, void *a, anim_error *e) { return be->ops->group_norm(be, a, e); }
static anim_status run_lin(anim_be *be, void *a, anim_error *e) { return be->ops->linear(be, a, e); }
static anim_status run_attn(anim_be *be, void *a, anim_error *e) { return be->ops->attention(be, a, e); }

static void bench(anim_be *be, const char *name, const char *variant, op_fn fn, void *args, int reps,
                  double work, const char *unit) {
    anim_error e;
    if (fn(be, args, &e) != ANIM_OK) { printf("%s | %s | error: %s\n", name, variant, e.msg); return; }
    double *t = malloc((size_t)reps * sizeof *t);
    for (int r = 0; r < reps; r++) {
        double t0 = now_us();
        fn(be, args, &e);
        t[r] = now_us() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    double med = t[reps / 2];
    printf("%-44s | %-10s | %10.1f us/run | %8.2f %s | -\n", name, variant, med, work / med * 1e-3, unit);
    free(t);
}

int main(int argc, char **argv) {
    int threads = 0, reps = 5;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--op") && i + 1 < argc) only = argv[++i];
        else { fprintf(stderr, "usage: bench_cpu_ops [--threads N] [--reps N] [--op conv|gn|linear|attn]\n"); return 2; }
    }
    if (reps < 1) reps = 1;
    anim_be *be;
    anim_error e;
    if (anim_be_create_cpu(threads, &be, &e) != ANIM_OK) { fprintf(stderr, "%s\n", e.msg); return 1; }
    if (threads) printf("CPU backend, %d threads, median of %d runs\n", threads, reps);
    else printf("CPU backend, all cores, median of %d runs\n", reps);
    const int H = 48, W = 32; /* 1/4 of the 96x64 top latent level */
    char name[128];
    if (!only || !strcmp(only, "conv")) {
        int C = 320;
        float *x = rnd((size_t)H * W * C), *w = rnd((size_t)C * 9 * C), *b = rnd(C), *y = rnd((size_t)H * W * C);
        bk_conv2d a = {.x = x, .wt = w, .bias = b, .y = y, .n = 1, .h = H, .w = W, .cin = C, .cout = C,
                       .kh = 3, .kw = 3, .stride = 1, .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1};
        snprintf(name, sizeof name, "conv3x3(1x%dx%dx%d -> %d)", H, W, C, C);
        bench(be, name, "cpu_ref", run_conv, &a, reps, 2.0 * H * W * C * 9.0 * C, "GFLOP/s");
        free(x); free(w); free(b); free(y);
    }
    if (!only || !strcmp(only, "gn")) {
        int C = 320, N = 8;
        float *x = rnd((size_t)N * H * W * C), *g = rnd(C), *b = rnd(C), *y = rnd((size_t)N * H * W * C);
        bk_group_norm a = {.x = x, .gamma = g, .beta = b, .y = y, .n = N, .hw = H * W, .c = C, .groups = 32,
                           .eps = 1e-5f, .silu = true};
        snprintf(name, sizeof name, "group_norm+silu(%dx%dx%dx%d, G32)", N, H, W, C);
        bench(be, name, "cpu_ref", run_gn, &a, reps, 2.0 * 4.0 * N * H * W * C, "GB/s");
        free(x); free(g); free(b); free(y);
    }
    if (!only || !strcmp(only, "linear")) {
        int M = H * W, K = 320, N = 2560;
        float *x = rnd((size_t)M * K), *w = rnd((size_t)N * K), *b = rnd(N), *y = rnd((size_t)M * N);
        bk_linear a = {.x = x, .w = w, .bias = b, .y = y, .m = M, .n = N, .k = K};
        snprintf(name, sizeof name, "linear(%dx%d -> %d) GEGLU proj", M, K, N);
        bench(be, name, "cpu_ref", run_lin, &a, reps, 2.0 * M * K * N, "GFLOP/s");
        free(x); free(w); free(b); free(y);
    }
    if (!only || !strcmp(only, "attn")) {
        int N = H * W, C = 320, heads = 8;
        float *q = rnd((size_t)N * C), *k = rnd((size_t)N * C), *v = rnd((size_t)N * C), *o = rnd((size_t)N * C);
        bk_attention a = {.q = q, .k = k, .v = v, .o = o, .batch = 1, .heads = heads, .d_head = C / heads,
                          .nq = N, .nk = N, .q_bs = (int64_t)N * C, .q_ts = C, .k_bs = (int64_t)N * C, .k_ts = C,
                          .v_bs = (int64_t)N * C, .v_ts = C, .o_bs = (int64_t)N * C, .o_ts = C,
                          .scale = 0.15811388f};
        snprintf(name, sizeof name, "attention(1x%d tokens, 8x40)", N);
        bench(be, name, "cpu_ref", run_attn, &a, reps, 4.0 * N * (double)N * C, "GFLOP/s");
        free(q); free(k); free(v); free(o);
    }
    anim_be_free(be);
    return 0;
}
