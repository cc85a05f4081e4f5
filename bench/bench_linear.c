/*
 * bench_linear.c - time the CUDA linear op (lib/cuda/op_linear.c: cuBLAS /
 * cuBLASLt, fp16 in and out, fp32 accumulation) at the SD UNet's linear shapes.
 *
 *   build/bench_linear [--reps N] [--only SUBSTR] [--peak TFLOPS]
 *
 * One line per configuration and variant:
 *   linear(M,N,K[,bias][,res]) | variant | us/run | TFLOP/s | % of peak
 * FLOP = 2*M*N*K. Shapes: batch 2 of a 768x512 picture (12288, 3072, 768 and
 * 192 tokens at C = 320, 640, 1280, 1280): attention projections C -> C, the
 * GEGLU projection C -> 8C, the FF output 4C -> C with its residual (in
 * place), and to_out with bias and residual; the motion module at 48 frames
 * (294912 tokens of 320); CLIP ViT-L/14's MLP at batch 2; the per-frame
 * M = 6144 shapes of the tests.
 * Variants:
 *   "op"     - the backend op as the networks call it (bias / residual as
 *              named): cublasLt with the bias epilogue in builds with
 *              ANIM_WITH_CUBLASLT, else cublasGemmEx after a bias/residual
 *              pre-fill pass (the header line says which was compiled in);
 *   "gemmex" - bare cublasGemmEx, same layout, no bias, beta = 0: the
 *              library's own speed for the product alone.
 * Peak: dense fp16 tensor-core rate with fp32 accumulation, 989 TFLOP/s on
 * H100 SXM and H200 (by device name), else --peak or "-".
 * Method: two warm-up runs, then the median of --reps runs, each timed alone
 * with CUDA events on the backend's stream, the L2 flushed (a memset of 2x its
 * size) before each. Inputs are random (never zeros). Without CUDA, or
 * without a device, it says so and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ANIM_WITH_CUDA
int main(void) {
    printf("bench_linear: built without CUDA; nothing to time\n");
    return 0;
}
#else

#include "cuda/cuda_internal.h"
#include "util/dtype.h"

#define CK(call)                                                                                           \
    do {                                                                                                   \
        cudaError_t e_ = (call);                                                                           \
        if (e_ != cudaSuccess) {                                                                           \
            fprintf(stderr, "%s failed: %s (%s:%d)\n", #call, cudaGetErrorString(e_), __FILE__, __LINE__); \
            exit(1);                                                                                       \
        }                                                                                                  \
    } while (0)

typedef struct env {
    anim_be *be;
    cudaStream_t stream;
    cudaEvent_t t0, t1;
    void *flush;
    size_t flush_bytes;
    int reps;
    double peak;   /* TFLOP/s, 0 = unknown */
} env;

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint16_t *dev_rand(size_t n, float lo, float hi, uint32_t seed) {
    uint16_t *h = malloc(n * sizeof *h), *d;
    if (!h) { fprintf(stderr, "out of host memory\n"); exit(1); }
    uint32_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        h[i] = anim_f32_to_f16(lo + (hi - lo) * (float)(s >> 8) / 16777216.0f);
    }
    CK(cudaMalloc((void **)&d, n * sizeof *d));
    CK(cudaMemcpy(d, h, n * sizeof *d, cudaMemcpyHostToDevice));
    free(h);
    return d;
}

typedef struct lin_ctx {
    env *v;
    bk_linear a;
    bool bare;   /* bare cublasGemmEx, beta = 0, no bias */
} lin_ctx;

/* 0 or prints the failure and returns -1 */
static int run_once(lin_ctx *c) {
    if (c->bare) {
        const float one = 1.0f, zero = 0.0f;
        const bk_linear *a = &c->a;
        cublasStatus_t s = cublasGemmEx(IMPL(c->v->be)->cublas, CUBLAS_OP_T, CUBLAS_OP_N, a->n, a->m, a->k, &one, a->w,
                                        CUDA_R_16F, a->k, a->x, CUDA_R_16F, a->k, &zero, a->y, CUDA_R_16F, a->n,
                                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        if (s != CUBLAS_STATUS_SUCCESS) { printf("  cublasGemmEx failed: %s\n", cublasGetStatusString(s)); return -1; }
        return 0;
    }
    anim_error e;
    if (c->v->be->ops->linear(c->v->be, &c->a, &e) != ANIM_OK) { printf("  linear failed: %s\n", e.msg); return -1; }
    return 0;
}

static double time_median(lin_ctx *c) {
    env *v = c->v;
    double *t = malloc((size_t)v->reps * sizeof *t);
    for (int r = -2; r < v->reps; r++) {
        CK(cudaMemsetAsync(v->flush, r & 0xff, v->flush_bytes, v->stream));
        CK(cudaEventRecord(v->t0, v->stream));
        if (run_once(c) != 0) { free(t); return -1; }
        CK(cudaEventRecord(v->t1, v->stream));
        CK(cudaEventSynchronize(v->t1));
        float ms;
        CK(cudaEventElapsedTime(&ms, v->t0, v->t1));
        if (r >= 0) t[r] = ms * 1e3;
    }
    qsort(t, (size_t)v->reps, sizeof *t, cmp_d);
    double med = t[v->reps / 2];
    free(t);
    return med;
}

static void report(const env *v, const char *name, const char *variant, double us, double flop) {
    if (us < 0) return;
    const double tf = flop / us * 1e-6;
    if (v->peak > 0)
        printf("%-34s | %-7s | %9.1f us/run | %7.1f TFLOP/s | %5.1f %% of peak\n", name, variant, us, tf,
               100.0 * tf / v->peak);
    else
        printf("%-34s | %-7s | %9.1f us/run | %7.1f TFLOP/s | - %% of peak\n", name, variant, us, tf);
    fflush(stdout);
}

int main(int argc, char **argv) {
    env v = {.reps = 50};
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) v.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--peak") && i + 1 < argc) v.peak = atof(argv[++i]);
        else { fprintf(stderr, "usage: bench_linear [--reps N] [--only SUBSTR] [--peak TFLOPS]\n"); return 2; }
    }
    if (v.reps < 1) v.reps = 1;
    anim_error e;
    if (anim_be_create_cuda(0, &v.be, &e) != ANIM_OK) {
        printf("bench_linear: no CUDA device (%s); nothing to time\n", e.msg);
        return 0;
    }
    v.stream = IMPL(v.be)->stream;
    struct cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    if (v.peak <= 0 && (strstr(prop.name, "H200") || (strstr(prop.name, "H100") && !strstr(prop.name, "PCIe"))))
        v.peak = 989.0;
#ifdef ANIM_WITH_CUBLASLT
    const char *route = "cublasLt bias epilogue (ANIM_WITH_CUBLASLT)";
#else
    const char *route = "cublasGemmEx + bias/residual pre-fill";
#endif
    printf("device: %s (sm_%d%d, %d SMs); op route: %s; median of %d runs, L2 flushed\n", prop.name, prop.major,
           prop.minor, prop.multiProcessorCount, route, v.reps);
    int l2 = 0;
    CK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0));
    CK(cudaEventCreate(&v.t0));
    CK(cudaEventCreate(&v.t1));
    v.flush_bytes = 2 * (size_t)(l2 > 0 ? l2 : 64 << 20);
    CK(cudaMalloc(&v.flush, v.flush_bytes));

    typedef struct { int m, n, k, bias, res; } shape;
    static const shape shapes[] = {
        {12288, 320, 320, 0, 0},   {12288, 320, 320, 1, 1},   {12288, 2560, 320, 1, 0}, {12288, 320, 1280, 1, 1},
        {3072, 640, 640, 0, 0},    {3072, 640, 640, 1, 1},    {3072, 5120, 640, 1, 0},  {3072, 640, 2560, 1, 1},
        {768, 1280, 1280, 0, 0},   {768, 1280, 1280, 1, 1},   {768, 10240, 1280, 1, 0}, {768, 1280, 5120, 1, 1},
        {192, 1280, 1280, 0, 0},   {192, 10240, 1280, 1, 0},  {294912, 320, 320, 0, 0}, {294912, 2560, 320, 1, 0},
        {294912, 320, 1280, 1, 1}, {514, 4096, 1024, 1, 0},   {514, 1024, 4096, 1, 1},  {6144, 2560, 320, 1, 0},
        {6144, 320, 1280, 1, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        char name[96];
        snprintf(name, sizeof name, "linear(%d,%d,%d%s%s)", s->m, s->n, s->k, s->bias ? ",bias" : "",
                 s->res ? ",res" : "");
        if (only && !strstr(name, only)) continue;
        const float aw = 1.0f / 16.0f;
        uint16_t *x = dev_rand((size_t)s->m * s->k, -1.0f, 1.0f, 1);
        uint16_t *w = dev_rand((size_t)s->n * s->k, -aw, aw, 2);
        uint16_t *b = dev_rand((size_t)s->n, -1.0f, 1.0f, 3);
        uint16_t *y = dev_rand((size_t)s->m * s->n, -1.0f, 1.0f, 4);   /* also the in-place residual */
        const double flop = 2.0 * s->m * s->n * s->k;
        lin_ctx c = {.v = &v,
                     .a = {.x = x, .w = w, .bias = s->bias ? b : NULL, .res = s->res ? y : NULL, .y = y,
                           .m = s->m, .n = s->n, .k = s->k}};
        report(&v, name, "op", time_median(&c), flop);
        c.bare = true;
        report(&v, name, "gemmex", time_median(&c), flop);
        CK(cudaFree(x));
        CK(cudaFree(w));
        CK(cudaFree(b));
        CK(cudaFree(y));
    }
    CK(cudaFree(v.flush));
    CK(cudaEventDestroy(v.t0));
    CK(cudaEventDestroy(v.t1));
    anim_be_free(v.be);
    return 0;
}
#endif
