/*
 * bench_conv.c - time the implicit-GEMM convolution (kernels/conv.cu) at the SD
 * UNet's conv shapes and compare, in the same run, with cuDNN's fastest
 * algorithm for the same convolution.
 *
 *   build/bench_conv [--batch N] [--reps N] [--only SUBSTR] [--auto-only] [--peak TFLOPS]
 *
 * Shapes: batch 48 (24 frames x CFG 2) at 512x768, i.e. the 96x64, 48x32, 24x16
 * and 12x8 latent levels, 3x3 convs (resnets, the concat inputs of the up
 * blocks, downsamplers, conv_in/conv_out) and the 1x1 shortcuts; then the two
 * deep levels again at batch 2, where split-K matters.
 *
 * One line per configuration and variant:
 *   conv3x3(N,H,W,Cin->Cout,sS) | variant | us/run | TFLOP/s | % of peak
 * FLOP = 2*N*Ho*Wo*Cout*KH*KW*Cin. Two warm-up runs, then the median of --reps
 * runs timed with CUDA events, the L2 flushed (a memset of 2x its size) before
 * each run. No bias and no residual on either side. Variants: "igemm auto
 * <tile>/<path>/s<splits>" (the plan the backend uses), "igemm <tile>/<path>" (each tile forced, unsplit),
 * and "cudnn algo A" (cudnnFindConvolutionForwardAlgorithmEx over NHWC fp16 with
 * CUDNN_TENSOR_OP_MATH and fp32 compute, its fastest algorithm timed the same
 * way). The cuDNN line ends with the normalised MSE between its output and ours.
 * Split-K workspaces are allocated before timing (the backend op takes them from
 * the stream-ordered pool per call).
 *
 * cuDNN is compiled in when ANIM_BENCH_CUDNN is defined (and -lcudnn linked);
 * without it only our variants run. Without CUDA, or without a device, it says
 * so and exits 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ANIM_WITH_CUDA
int main(void) {
    printf("bench_conv: built without CUDA; nothing to time\n");
    return 0;
}
#else

#include <cuda_runtime_api.h>

#include "conv.h"
#include "util/dtype.h"
#ifdef ANIM_BENCH_CUDNN
#include <cudnn.h>
#endif

#define CK(call)                                                                                           \
    do {                                                                                                   \
        cudaError_t e_ = (call);                                                                           \
        if (e_ != cudaSuccess) {                                                                           \
            fprintf(stderr, "%s failed: %s (%s:%d)\n", #call, cudaGetErrorString(e_), __FILE__, __LINE__); \
            exit(1);                                                                                       \
        }                                                                                                  \
    } while (0)

typedef struct shape {
    int n, h, w, cin, cout, k, stride;
} shape;

typedef struct bench_env {
    cudaStream_t stream;
    cudaEvent_t e0, e1;
    void *flush;
    size_t flush_bytes;
    int reps, sm_count;
    double peak; /* TFLOP/s, 0 = unknown */
} bench_env;

static int cmp_f(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

typedef int (*run_fn)(void *ctx, cudaStream_t s);

/* median us over env->reps runs, L2 flushed before each; < 0 on a failed run */
static double time_median(bench_env *env, run_fn fn, void *ctx) {
    for (int i = 0; i < 2; i++)
        if (fn(ctx, env->stream) != 0) return -1;
    if (cudaStreamSynchronize(env->stream) != cudaSuccess) return -1;
    float *t = malloc((size_t)env->reps * sizeof *t);
    if (!t) return -1;
    for (int r = 0; r < env->reps; r++) {
        CK(cudaMemsetAsync(env->flush, r & 0xff, env->flush_bytes, env->stream));
        CK(cudaEventRecord(env->e0, env->stream));
        int e = fn(ctx, env->stream);
        CK(cudaEventRecord(env->e1, env->stream));
        CK(cudaEventSynchronize(env->e1));
        if (e != 0) {
            free(t);
            return -1;
        }
        CK(cudaEventElapsedTime(&t[r], env->e0, env->e1));
    }
    qsort(t, (size_t)env->reps, sizeof *t, cmp_f);
    double med = (double)t[env->reps / 2] * 1e3;
    free(t);
    return med;
}

static void report(const bench_env *env, const char *name, const char *variant, double us, double flop,
                   const char *extra) {
    if (us < 0) {
        printf("%-34s | %-28s | failed\n", name, variant);
        return;
    }
    double tf = flop / us * 1e-6;
    if (env->peak > 0)
        printf("%-34s | %-28s | %9.1f us/run | %7.1f TFLOP/s | %5.1f %% of peak%s\n", name, variant, us, tf,
               100.0 * tf / env->peak, extra ? extra : "");
    else
        printf("%-34s | %-28s | %9.1f us/run | %7.1f TFLOP/s | - %% of peak%s\n", name, variant, us, tf,
               extra ? extra : "");
    fflush(stdout);
}

/* fill n fp16 elements with U(-scale, scale) values: a 1M-element random block repeated */
static void fill_random(uint16_t *dev, size_t n, float scale, uint32_t seed) {
    const size_t blk = (size_t)1 << 20;
    uint16_t *h = malloc(blk * sizeof *h);
    if (!h) exit(1);
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < blk; i++) {
        s = s * 1664525u + 1013904223u;
        h[i] = anim_f32_to_f16(scale * ((float)(s >> 8) / 8388608.0f - 1.0f));
    }
    for (size_t off = 0; off < n; off += blk)
        CK(cudaMemcpy(dev + off, h, (n - off < blk ? n - off : blk) * sizeof *h, cudaMemcpyHostToDevice));
    free(h);
}

typedef struct ours_ctx {
    k_conv2d_params p;
    k_conv2d_plan plan;
    float *ws;
} ours_ctx;

static int run_ours(void *ctx, cudaStream_t s) {
    ours_ctx *o = ctx;
    return k_conv2d(&o->p, &o->plan, o->ws, s);
}

#ifdef ANIM_BENCH_CUDNN
/* normalised MSE of a against b over the first n fp16 elements of each */
static double nmse_dev(const uint16_t *a, const uint16_t *b, size_t n) {
    uint16_t *ha = malloc(n * sizeof *ha), *hb = malloc(n * sizeof *hb);
    if (!ha || !hb) exit(1);
    CK(cudaMemcpy(ha, a, n * sizeof *ha, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hb, b, n * sizeof *hb, cudaMemcpyDeviceToHost));
    double se = 0, sr = 0;
    for (size_t i = 0; i < n; i++) {
        double x = anim_f16_to_f32(ha[i]), r = anim_f16_to_f32(hb[i]);
        if (x != x) { /* NaN never passes */
            se = 1e30;
            sr = 1;
            break;
        }
        se += (x - r) * (x - r);
        sr += r * r;
    }
    free(ha);
    free(hb);
    return sr > 0 ? se / sr : se;
}

#define DNN(call)                                                                                   \
    do {                                                                                            \
        cudnnStatus_t s_ = (call);                                                                  \
        if (s_ != CUDNN_STATUS_SUCCESS) {                                                           \
            printf("%-34s | %-28s | %s failed: %s\n", name, "cudnn", #call, cudnnGetErrorString(s_)); \
            goto done;                                                                              \
        }                                                                                           \
    } while (0)

typedef struct dnn_ctx {
    cudnnHandle_t h;
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnConvolutionFwdAlgo_t algo;
    const void *x, *w;
    void *y, *ws;
    size_t ws_bytes;
} dnn_ctx;

static int run_dnn(void *ctx, cudaStream_t s) {
    dnn_ctx *d = ctx;
    (void)s; /* the handle is bound to the stream */
    const float alpha = 1.0f, beta = 0.0f;
    return cudnnConvolutionForward(d->h, &alpha, d->xd, d->x, d->wd, d->w, d->cd, d->algo, d->ws, d->ws_bytes,
                                   &beta, d->yd, d->y) == CUDNN_STATUS_SUCCESS
               ? 0
               : 1;
}

static void bench_cudnn(bench_env *env, cudnnHandle_t h, const char *name, const shape *sh, int ho, int wo,
                        const uint16_t *x, const uint16_t *w, uint16_t *y, const uint16_t *y_ours, void *ws,
                        size_t ws_max, double flop) {
    dnn_ctx d = {.h = h, .x = x, .w = w, .y = y, .ws = ws};
    const int pad = sh->k / 2;
    DNN(cudnnCreateTensorDescriptor(&d.xd));
    DNN(cudnnCreateTensorDescriptor(&d.yd));
    DNN(cudnnCreateFilterDescriptor(&d.wd));
    DNN(cudnnCreateConvolutionDescriptor(&d.cd));
    DNN(cudnnSetTensor4dDescriptor(d.xd, CUDNN_TENSOR_NHWC, CUDNN_DATA_HALF, sh->n, sh->cin, sh->h, sh->w));
    DNN(cudnnSetFilter4dDescriptor(d.wd, CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, sh->cout, sh->cin, sh->k, sh->k));
    DNN(cudnnSetConvolution2dDescriptor(d.cd, pad, pad, sh->stride, sh->stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                        CUDNN_DATA_FLOAT));
    DNN(cudnnSetConvolutionMathType(d.cd, CUDNN_TENSOR_OP_MATH));
    int on, oc, oh, ow;
    DNN(cudnnGetConvolution2dForwardOutputDim(d.cd, d.xd, d.wd, &on, &oc, &oh, &ow));
    if (oh != ho || ow != wo) {
        printf("%-34s | %-28s | output %dx%d, ours %dx%d: skipped\n", name, "cudnn", oh, ow, ho, wo);
        goto done;
    }
    DNN(cudnnSetTensor4dDescriptor(d.yd, CUDNN_TENSOR_NHWC, CUDNN_DATA_HALF, sh->n, sh->cout, ho, wo));
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int got = 0;
    DNN(cudnnFindConvolutionForwardAlgorithmEx(h, d.xd, x, d.wd, w, d.cd, d.yd, y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                               &got, perf, ws, ws_max));
    int best = -1;
    for (int i = 0; i < got && best < 0; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS) best = i;
    if (best < 0) {
        printf("%-34s | %-28s | no algorithm succeeded\n", name, "cudnn");
        goto done;
    }
    d.algo = perf[best].algo;
    d.ws_bytes = perf[best].memory;
    DNN(cudnnSetConvolutionMathType(d.cd, perf[best].mathType));
    double us = time_median(env, run_dnn, &d);
    char variant[64], extra[64];
    snprintf(variant, sizeof variant, "cudnn algo %d%s", (int)d.algo,
             perf[best].mathType == CUDNN_DEFAULT_MATH ? " (default math)" : "");
    const size_t ny = (size_t)sh->n * ho * wo * sh->cout;
    extra[0] = 0;
    if (us >= 0 && y_ours)
        snprintf(extra, sizeof extra, " | nmse vs ours %.2g", nmse_dev(y_ours, y, ny < 8u << 20 ? ny : 8u << 20));
    report(env, name, variant, us, flop, extra);
done:
    if (d.cd) cudnnDestroyConvolutionDescriptor(d.cd);
    if (d.wd) cudnnDestroyFilterDescriptor(d.wd);
    if (d.yd) cudnnDestroyTensorDescriptor(d.yd);
    if (d.xd) cudnnDestroyTensorDescriptor(d.xd);
}
#endif

static double guess_peak(const char *name) {
    /* dense fp16 tensor-core rate with fp32 accumulation, TFLOP/s (engines.md B.5) */
    if (strstr(name, "H100") && strstr(name, "PCIe")) return 756.0;
    if (strstr(name, "H100") || strstr(name, "H200") || strstr(name, "H800") || strstr(name, "GH200")) return 989.4;
    if (strstr(name, "A100")) return 312.0;
    return 0;
}

int main(int argc, char **argv) {
    int batch = 48, reps = 20, auto_only = 0;
    double peak = -1;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--peak") && i + 1 < argc) peak = atof(argv[++i]);
        else if (!strcmp(argv[i], "--auto-only")) auto_only = 1;
        else {
            fprintf(stderr, "usage: bench_conv [--batch N] [--reps N] [--only SUBSTR] [--auto-only] [--peak TFLOPS]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (batch < 1) batch = 1;
    int count = 0;
    cudaError_t ce = cudaGetDeviceCount(&count);
    if (ce != cudaSuccess || count == 0) {
        printf("bench_conv: no CUDA device (%s); nothing to time\n",
               ce != cudaSuccess ? cudaGetErrorString(ce) : "0 devices");
        return 0;
    }
    struct cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    CK(cudaSetDevice(0));
    bench_env env = {.reps = reps, .sm_count = prop.multiProcessorCount};
    env.peak = peak > 0 ? peak : guess_peak(prop.name);
    CK(cudaStreamCreateWithFlags(&env.stream, cudaStreamNonBlocking));
    CK(cudaEventCreate(&env.e0));
    CK(cudaEventCreate(&env.e1));
    env.flush_bytes = 2 * (size_t)(prop.l2CacheSize > 0 ? prop.l2CacheSize : 64 << 20);
    CK(cudaMalloc(&env.flush, env.flush_bytes));
    printf("device: %s (sm_%d%d, %d SMs, %d MiB L2), peak %s%.1f TFLOP/s fp16 dense, median of %d runs, "
           "L2 flushed (%zu MiB memset) before each\n",
           prop.name, prop.major, prop.minor, prop.multiProcessorCount, prop.l2CacheSize >> 20,
           env.peak > 0 ? "" : "unknown ", env.peak, reps, env.flush_bytes >> 20);
#ifdef ANIM_BENCH_CUDNN
    cudnnHandle_t dnn = NULL;
    if (cudnnCreate(&dnn) != CUDNN_STATUS_SUCCESS || cudnnSetStream(dnn, env.stream) != CUDNN_STATUS_SUCCESS) {
        printf("cudnn: handle creation failed; cuDNN lines skipped\n");
        if (dnn) cudnnDestroy(dnn);
        dnn = NULL;
    } else {
        printf("cudnn %zu (legacy API, cudnnFindConvolutionForwardAlgorithmEx)\n", cudnnGetVersion());
    }
    const size_t dnn_ws_max = (size_t)1 << 30;
    void *dnn_ws = NULL;
    if (dnn) CK(cudaMalloc(&dnn_ws, dnn_ws_max));
#else
    printf("cudnn: not compiled in (build with -DANIM_BENCH_CUDNN=1 and -lcudnn)\n");
#endif

    const int B = batch;
    const shape shapes[] = {
        /* 96x64: conv_in, resnets, the up blocks' concat inputs, the upsampler conv, downsample, conv_out */
        {B, 96, 64, 4, 320, 3, 1},     {B, 96, 64, 320, 320, 3, 1},   {B, 96, 64, 640, 320, 3, 1},
        {B, 96, 64, 960, 320, 3, 1},   {B, 96, 64, 640, 640, 3, 1},   {B, 96, 64, 320, 320, 3, 2},
        {B, 96, 64, 320, 4, 3, 1},
        /* 48x32 */
        {B, 48, 32, 320, 640, 3, 1},   {B, 48, 32, 640, 640, 3, 1},   {B, 48, 32, 1920, 640, 3, 1},
        {B, 48, 32, 1280, 1280, 3, 1}, {B, 48, 32, 640, 640, 3, 2},
        /* 24x16 */
        {B, 24, 16, 640, 1280, 3, 1},  {B, 24, 16, 1280, 1280, 3, 1}, {B, 24, 16, 2560, 1280, 3, 1},
        {B, 24, 16, 1280, 1280, 3, 2},
        /* 12x8 */
        {B, 12, 8, 1280, 1280, 3, 1},  {B, 12, 8, 2560, 1280, 3, 1},
        /* 1x1 shortcuts */
        {B, 96, 64, 960, 320, 1, 1},   {B, 96, 64, 640, 320, 1, 1},   {B, 48, 32, 320, 640, 1, 1},
        {B, 48, 32, 1920, 640, 1, 1},  {B, 24, 16, 640, 1280, 1, 1},  {B, 24, 16, 2560, 1280, 1, 1},
        {B, 12, 8, 2560, 1280, 1, 1},
        /* deep levels at batch 2 (one frame pair): split-K */
        {2, 12, 8, 1280, 1280, 3, 1},  {2, 12, 8, 2560, 1280, 3, 1},  {2, 24, 16, 1280, 1280, 3, 1},
    };
    const int n_shapes = (int)(sizeof shapes / sizeof shapes[0]);

    for (int si = 0; si < n_shapes; si++) {
        const shape *sh = &shapes[si];
        const int pad = sh->k / 2;
        const int ho = (sh->h + 2 * pad - sh->k) / sh->stride + 1, wo = (sh->w + 2 * pad - sh->k) / sh->stride + 1;
        char name[96];
        snprintf(name, sizeof name, "conv%dx%d(%d,%d,%d,%d->%d,s%d)", sh->k, sh->k, sh->n, sh->h, sh->w, sh->cin,
                 sh->cout, sh->stride);
        if (only && !strstr(name, only)) continue;
        const size_t nx = (size_t)sh->n * sh->h * sh->w * sh->cin, nw = (size_t)sh->cout * sh->k * sh->k * sh->cin;
        const size_t ny = (size_t)sh->n * ho * wo * sh->cout;
        const double flop = 2.0 * (double)ny * sh->k * sh->k * sh->cin;
        uint16_t *x, *w, *y, *y2;
        CK(cudaMalloc((void **)&x, nx * 2));
        CK(cudaMalloc((void **)&w, nw * 2));
        CK(cudaMalloc((void **)&y, ny * 2));
        CK(cudaMalloc((void **)&y2, ny * 2));
        fill_random(x, nx, 1.0f, 1 + (uint32_t)si);
        fill_random(w, nw, sqrtf(3.0f / (float)(sh->k * sh->k * sh->cin)), 2 + (uint32_t)si); /* outputs ~ 0.6 */

        ours_ctx o = {.p = {.x = x, .wt = w, .bias = NULL, .res = NULL, .y = y, .n = sh->n, .h = sh->h, .w = sh->w,
                            .cin = sh->cin, .cout = sh->cout, .kh = sh->k, .kw = sh->k, .stride = sh->stride,
                            .pad_t = pad, .pad_l = pad, .pad_b = pad, .pad_r = pad}};
        k_conv2d_plan_auto(&o.p, env.sm_count, &o.plan);
        const size_t ws_bytes = k_conv2d_workspace_bytes(&o.p, &o.plan);
        if (ws_bytes) CK(cudaMalloc((void **)&o.ws, ws_bytes));
        char variant[64];
        snprintf(variant, sizeof variant, "igemm auto %s/%s/s%d", k_conv2d_cfg_name(o.plan.cfg),
                 k_conv2d_path_name(o.plan.path), o.plan.splits);
        report(&env, name, variant, time_median(&env, run_ours, &o), flop, NULL);
        /* y now holds the auto plan's output: the cuDNN comparison reads it */
        const k_conv2d_plan auto_plan = o.plan;
        if (!auto_only)
            for (int cfg = 0; cfg < K_CONV_CFG_COUNT; cfg++) {
                if (cfg == auto_plan.cfg && auto_plan.splits == 1) continue;
                ours_ctx f = o;
                f.p.y = y2;
                f.plan.cfg = cfg;
                f.plan.splits = 1;
                snprintf(variant, sizeof variant, "igemm %s/%s", k_conv2d_cfg_name(cfg), k_conv2d_path_name(f.plan.path));
                report(&env, name, variant, time_median(&env, run_ours, &f), flop, NULL);
            }
#ifdef ANIM_BENCH_CUDNN
        if (dnn) bench_cudnn(&env, dnn, name, sh, ho, wo, x, w, y2, y, dnn_ws, dnn_ws_max, flop);
#endif
        if (o.ws) CK(cudaFree(o.ws));
        CK(cudaFree(x));
        CK(cudaFree(w));
        CK(cudaFree(y));
        CK(cudaFree(y2));
    }
#ifdef ANIM_BENCH_CUDNN
    if (dnn_ws) CK(cudaFree(dnn_ws));
    if (dnn) cudnnDestroy(dnn);
#endif
    CK(cudaFree(env.flush));
    CK(cudaEventDestroy(env.e0));
    CK(cudaEventDestroy(env.e1));
    CK(cudaStreamDestroy(env.stream));
    return 0;
}
#endif /* ANIM_WITH_CUDA */
