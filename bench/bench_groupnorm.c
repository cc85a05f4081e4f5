/*
 * bench_groupnorm.c - time GroupNorm(+SiLU) and LayerNorm (kernels/norm.cu) at
 * the SD UNet's shapes.
 *
 *   build/bench_groupnorm [--reps N] [--only SUBSTR]
 *
 * One line per configuration and variant:
 *   group_norm+silu(N,H,W,C,G) | variant | us/run | GB/s | % of peak
 *   layer_norm(M,C)            | variant | us/run | GB/s | % of peak
 * Shapes: batch 2 at one frame (the 96x64, 48x32, 24x16, 12x8 latent levels of
 * a 768x512 picture, with the up blocks' concatenated channel counts), 48
 * frames folded into N (24 frames x CFG 2), one VAE decoder level; LayerNorm
 * rows of the transformer and motion-module blocks and CLIP.
 * Variants: "rows" (K_GN_ROWS, what the backend uses for all of these) and
 * "generic" (K_GN_GENERIC, one block per (split, group, sample), scalar loads).
 * bench/torch_ops.py prints PyTorch's F.group_norm + F.silu at the same
 * shapes in the same format (run it on the same GPU to compare).
 *
 * GB/s counts the least traffic the op needs: x read once and y written once
 * (2 x N*H*W*C x 2 bytes). The GroupNorm kernels read x twice (statistics,
 * then apply), so at full bandwidth they would show 67% of peak - unless the
 * second read hits L2 (50 MB on H100: batch-2 shapes fit).
 * Peak: 3.35 TB/s on H100 SXM, 4.8 TB/s on H200 (by device name), else from
 * the memory clock and bus width.
 * Method: two warm-up runs, then the median of --reps runs, each timed alone
 * with CUDA events, the L2 flushed (a memset of 2x its size) before each. The
 * launcher takes its scratch from the stream-ordered pool on every call, as in
 * the backend; the bench keeps the pool from trimming at each event
 * synchronisation (release threshold = max), as it would stay warm in a
 * network run. Without CUDA, or without a device, it says so and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ANIM_WITH_CUDA
int main(void) {
    printf("bench_groupnorm: built without CUDA; nothing to time\n");
    return 0;
}
#else

#include <cuda_runtime_api.h>

#include "norm.h"
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
    cudaStream_t stream;
    cudaEvent_t t0, t1;
    void *flush;
    size_t flush_bytes;
    int reps;
    double peak_gbs;
} env;

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* device buffer of n fp16 values drawn from U(lo, hi) */
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

typedef int (*run_fn)(void *ctx, cudaStream_t s);

/* median us, or < 0 when a launch failed (printed) */
static double time_median(env *v, run_fn fn, void *ctx) {
    double *t = malloc((size_t)v->reps * sizeof *t);
    for (int r = -2; r < v->reps; r++) {
        CK(cudaMemsetAsync(v->flush, r & 0xff, v->flush_bytes, v->stream));
        CK(cudaEventRecord(v->t0, v->stream));
        int e = fn(ctx, v->stream);
        if (e != 0) {
            printf("  launch failed: %s\n", cudaGetErrorString((cudaError_t)e));
            free(t);
            return -1;
        }
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

static void report(const env *v, const char *name, const char *variant, double us, double bytes) {
    if (us < 0) return;
    const double gbs = bytes / us * 1e-3;
    printf("%-36s | %-8s | %9.1f us/run | %7.1f GB/s | %5.1f %% of peak\n", name, variant, us, gbs,
           100.0 * gbs / v->peak_gbs);
    fflush(stdout);
}

typedef struct gn_ctx {
    const uint16_t *x, *gamma, *beta;
    uint16_t *y;
    int n, hw, c, g, silu, variant;
} gn_ctx;

static int run_gn(void *p, cudaStream_t s) {
    gn_ctx *a = p;
    return k_group_norm(a->x, a->gamma, a->beta, a->y, a->n, a->hw, a->c, a->g, 1e-5f, a->silu, a->variant, s);
}

typedef struct ln_ctx {
    const uint16_t *x, *gamma, *beta;
    uint16_t *y;
    int m, c;
} ln_ctx;

static int run_ln(void *p, cudaStream_t s) {
    ln_ctx *a = p;
    return k_layer_norm(a->x, a->gamma, a->beta, a->y, a->m, a->c, 1e-5f, s);
}

int main(int argc, char **argv) {
    env v = {.reps = 50};
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) v.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else { fprintf(stderr, "usage: bench_groupnorm [--reps N] [--only SUBSTR]\n"); return 2; }
    }
    if (v.reps < 1) v.reps = 1;
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        printf("bench_groupnorm: no CUDA device; nothing to time\n");
        return 0;
    }
    struct cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    int mem_khz = 0, bus_bits = 0, l2 = 0;
    CK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0));
    CK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0));
    CK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0));
    if (strstr(prop.name, "H200")) v.peak_gbs = 4800.0;
    else if (strstr(prop.name, "H100") && !strstr(prop.name, "PCIe") && !strstr(prop.name, "NVL")) v.peak_gbs = 3350.0;
    else v.peak_gbs = 2.0 * mem_khz * 1e3 * (bus_bits / 8) * 1e-9;
    printf("device: %s (sm_%d%d, %d SMs, L2 %d MiB), peak %.0f GB/s; median of %d runs, L2 flushed\n", prop.name,
           prop.major, prop.minor, prop.multiProcessorCount, l2 >> 20, v.peak_gbs, v.reps);

    cudaMemPool_t pool;
    unsigned long long keep = ~0ull;
    CK(cudaDeviceGetDefaultMemPool(&pool, 0));
    CK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
    CK(cudaStreamCreateWithFlags(&v.stream, cudaStreamNonBlocking));
    CK(cudaEventCreate(&v.t0));
    CK(cudaEventCreate(&v.t1));
    v.flush_bytes = 2 * (size_t)(l2 > 0 ? l2 : 64 << 20);
    CK(cudaMalloc(&v.flush, v.flush_bytes));

    static const int gn_shapes[][4] = {   /* N, H, W, C; G = 32 */
        {2, 96, 64, 320},  {2, 96, 64, 640},  {2, 96, 64, 960},   {2, 48, 32, 640},  {2, 48, 32, 1920},
        {2, 24, 16, 1280}, {2, 24, 16, 2560}, {2, 12, 8, 1280},   {2, 12, 8, 2560},  {48, 96, 64, 320},
        {48, 48, 32, 640}, {48, 24, 16, 1280}, {48, 12, 8, 2560}, {2, 768, 512, 128},
    };
    for (size_t i = 0; i < sizeof gn_shapes / sizeof gn_shapes[0]; i++) {
        const int *s = gn_shapes[i];
        char name[96];
        snprintf(name, sizeof name, "group_norm+silu(%d,%d,%d,%d,32)", s[0], s[1], s[2], s[3]);
        if (only && !strstr(name, only)) continue;
        const size_t ne = (size_t)s[0] * s[1] * s[2] * s[3];
        uint16_t *x = dev_rand(ne, -2.0f, 3.0f, 1), *y;
        uint16_t *gamma = dev_rand((size_t)s[3], 0.5f, 1.5f, 2), *beta = dev_rand((size_t)s[3], -0.5f, 0.5f, 3);
        CK(cudaMalloc((void **)&y, ne * 2));
        const int variants[] = {K_GN_ROWS, K_GN_GENERIC};
        const char *vnames[] = {"rows", "generic"};
        for (int k = 0; k < 2; k++) {
            gn_ctx a = {x, gamma, beta, y, s[0], s[1] * s[2], s[3], 32, 1, variants[k]};
            report(&v, name, vnames[k], time_median(&v, run_gn, &a), 2.0 * ne * 2);
        }
        CK(cudaFree(x));
        CK(cudaFree(y));
        CK(cudaFree(gamma));
        CK(cudaFree(beta));
    }

    static const int ln_shapes[][2] = {   /* M, C */
        {2 * 6144, 320}, {2 * 1536, 640}, {2 * 384, 1280}, {2 * 96, 1280}, {2 * 257, 1024}, {48 * 6144, 320},
        {48 * 1536, 640},
    };
    for (size_t i = 0; i < sizeof ln_shapes / sizeof ln_shapes[0]; i++) {
        const int *s = ln_shapes[i];
        char name[96];
        snprintf(name, sizeof name, "layer_norm(%d,%d)", s[0], s[1]);
        if (only && !strstr(name, only)) continue;
        const size_t ne = (size_t)s[0] * s[1];
        uint16_t *x = dev_rand(ne, -2.0f, 3.0f, 4), *y;
        uint16_t *gamma = dev_rand((size_t)s[1], 0.5f, 1.5f, 5), *beta = dev_rand((size_t)s[1], -0.5f, 0.5f, 6);
        CK(cudaMalloc((void **)&y, ne * 2));
        ln_ctx a = {x, gamma, beta, y, s[0], s[1]};
        report(&v, name, "warp/row", time_median(&v, run_ln, &a), 2.0 * ne * 2);
        CK(cudaFree(x));
        CK(cudaFree(y));
        CK(cudaFree(gamma));
        CK(cudaFree(beta));
    }
    CK(cudaFree(v.flush));
    CK(cudaEventDestroy(v.t0));
    CK(cudaEventDestroy(v.t1));
    CK(cudaStreamDestroy(v.stream));
    return 0;
}
#endif
