/*
 * bench_attention.c - time the CUDA attention kernels (kernels/attention.cu)
 * at SD1.5 / AnimateAnyone shapes against an unfused cuBLAS baseline:
 * S = Q K^T (cublasGemmStridedBatchedEx, fp16 in, fp32 compute) -> row
 * softmax (k_softmax) -> O = P V (same GEMM), i.e. "standard attention" of
 * engines.md B.2, with the [nq, nk] score matrix in device memory.
 *
 *   build/bench_attention [--reps N] [--only SUBSTRING] [--simple]
 *
 * One line per configuration and variant:
 *   attention(B=..,H=..,nq=..,nk=..,d=..) | variant | us/run | TFLOP/s | % of peak
 * FLOPs = 4 B H nq (nk + nk2) d (QK^T and PV, the real d, not the padded one).
 * Warm-up first; CUDA events around each run; median of --reps runs; a 256 MB
 * buffer is written between runs so each run starts with a cold L2. The
 * `auto` line also prints the normalised MSE of its output against the cuBLAS
 * baseline's (a sanity check, not the test: tests/gpu/test_gpu_attention.c).
 * Peak: fp16 dense tensor rate with fp32 accumulation, from a table by device
 * name (H100 SXM / H200 989 TFLOP/s, H100 PCIe 756, A100 312, ...) or else
 * SMs x clock x per-SM rate for the architecture. Exits 0 with a message when
 * built without CUDA or when no device answers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

#ifdef ANIM_WITH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "attention.h"

#define FLUSH_BYTES ((size_t)256 << 20)

typedef struct bcfg {
    int batch, heads, nq, nk, nk2, d;
    int bank;     /* segment 2 broadcast over the batch (batch stride 0) */
    int temporal; /* [nq][batch][C] frame-axis layout, batch = pixels */
    const char *what;
} bcfg;

/* SD1.5 at a 64x96 latent, CFG batch 2: self-attention and reference attention
 * (own tokens + the ReferenceNet bank) per level, cross-attention on the CLIP
 * image token, temporal attention over 24 frames (2 videos x hw pixels), CLIP
 * vision, the VAE mid-block, and the d = 64/128 shapes of FlashAttention's
 * published H100 numbers (engines.md B.2) for comparison. */
static const bcfg configs[] = {
    {2, 8, 6144, 6144, 0, 40, 0, 0, "self, top level"},
    {2, 8, 6144, 6144, 6144, 40, 1, 0, "reference, top level"},
    {2, 8, 1536, 1536, 0, 80, 0, 0, "self, level 2"},
    {2, 8, 1536, 1536, 1536, 80, 1, 0, "reference, level 2"},
    {2, 8, 384, 384, 0, 160, 0, 0, "self, level 3"},
    {2, 8, 384, 384, 384, 160, 1, 0, "reference, level 3"},
    {2, 8, 96, 96, 96, 160, 1, 0, "reference, mid block"},
    {2, 8, 6144, 1, 0, 40, 0, 0, "cross, CLIP image token"},
    {12288, 8, 24, 24, 0, 40, 0, 1, "temporal F24, top level"},
    {3072, 8, 24, 24, 0, 80, 0, 1, "temporal F24, level 2"},
    {768, 8, 24, 24, 0, 160, 0, 1, "temporal F24, level 3"},
    {1, 16, 257, 257, 0, 64, 0, 0, "CLIP vision"},
    {1, 1, 6144, 6144, 0, 512, 0, 0, "VAE mid block"},
    {4, 32, 4096, 4096, 0, 64, 0, 0, "FA anchor d64"},
    {4, 16, 4096, 4096, 0, 128, 0, 0, "FA anchor d128"},
};

static int cmp_f(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* fp16 dense tensor-core peak with fp32 accumulation, TFLOP/s */
static double peak_tflops(int dev, const char **how) {
    struct cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, dev) != cudaSuccess) return 0;
    static const struct { const char *name; double tf; } table[] = {
        {"H100 PCIe", 756}, {"H100 NVL", 835}, {"H100", 989}, {"H200", 989}, {"H800", 989}, {"GH200", 989},
        {"A100", 312},      {"A800", 312},     {"L40S", 362}, {"L40", 181}, {"L4", 121},    {"RTX 4090", 165},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strstr(p.name, table[i].name)) {
            *how = "datasheet table";
            return table[i].tf;
        }
    int clock_khz = 0;
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, dev);
    /* dense fp16 FMA x2 per SM per clock with fp32 accumulation */
    double per_sm = p.major == 9 ? 4096 : p.major == 8 && p.minor == 0 ? 2048 : p.major == 8 ? 512 : 1024;
    *how = "SMs x clock x per-SM rate";
    return p.multiProcessorCount * (clock_khz * 1e3) * per_sm * 1e-12;
}

typedef struct bench_ctx {
    k_attn_params p;
    cudaStream_t stream;
    cublasHandle_t cublas;
    uint16_t *S;    /* cuBLAS baseline scores/probabilities [B][H][nq][nk+nk2] */
    int variant;    /* k_attention variant, or -1 for the cuBLAS baseline */
} bench_ctx;

static int gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const void *A,
                int lda, long long sa, const void *B, int ldb, long long sb, float beta, void *C, int ldc,
                long long sc, int count) {
    const float one = 1.0f;
    return (int)cublasGemmStridedBatchedEx(h, ta, tb, m, n, k, &one, A, CUDA_R_16F, lda, sa, B, CUDA_R_16F, ldb, sb,
                                           &beta, C, CUDA_R_16F, ldc, sc, count, CUBLAS_COMPUTE_32F,
                                           CUBLAS_GEMM_DEFAULT);
}

/* Unfused baseline. Row-major S_bh[nq][nkt] is the column-major nkt x nq
 * matrix K Q^T; O_bh^T = V^T P^T. Heads are the strided batch (stride d);
 * batches loop, unless every tensor's batch stride is heads*d (temporal
 * layout), when (b, h) folds into one strided batch. */
static int run_cublas(bench_ctx *c) {
    const k_attn_params *p = &c->p;
    const int d = p->d_head, nkt = p->nk + p->nk2;
    const long long hd = (long long)p->heads * d, sS = (long long)p->nq * nkt;
    const int uniform = p->nk2 == 0 && p->q_bs == hd && p->k_bs == hd && p->v_bs == hd && p->o_bs == hd;
    const int nb = uniform ? 1 : p->batch, cnt = uniform ? p->batch * p->heads : p->heads;
    int rc = 0;
    for (int b = 0; b < nb && !rc; b++) {
        uint16_t *S = c->S + (size_t)b * p->heads * sS;
        rc = gemm(c->cublas, CUBLAS_OP_T, CUBLAS_OP_N, p->nk, p->nq, d, p->k + b * p->k_bs, (int)p->k_ts, d,
                  p->q + b * p->q_bs, (int)p->q_ts, d, 0.0f, S, nkt, sS, cnt);
        if (!rc && p->nk2)
            rc = gemm(c->cublas, CUBLAS_OP_T, CUBLAS_OP_N, p->nk2, p->nq, d, p->k2 + b * p->k2_bs, (int)p->k2_ts, d,
                      p->q + b * p->q_bs, (int)p->q_ts, d, 0.0f, S + p->nk, nkt, sS, cnt);
    }
    if (rc) return rc;
    if ((rc = k_softmax(c->S, c->S, p->batch * p->heads * p->nq, nkt, p->scale, c->stream))) return rc;
    for (int b = 0; b < nb && !rc; b++) {
        uint16_t *S = c->S + (size_t)b * p->heads * sS;
        rc = gemm(c->cublas, CUBLAS_OP_N, CUBLAS_OP_N, d, p->nq, p->nk, p->v + b * p->v_bs, (int)p->v_ts, d, S, nkt,
                  sS, 0.0f, p->o + b * p->o_bs, (int)p->o_ts, d, cnt);
        if (!rc && p->nk2)
            rc = gemm(c->cublas, CUBLAS_OP_N, CUBLAS_OP_N, d, p->nq, p->nk2, p->v2 + b * p->v2_bs, (int)p->v2_ts, d,
                      S + p->nk, nkt, sS, 1.0f, p->o + b * p->o_bs, (int)p->o_ts, d, cnt);
    }
    return rc;
}

static int run_once(bench_ctx *c) { return c->variant < 0 ? run_cublas(c) : k_attention(&c->p, c->variant, c->stream); }

/* median microseconds of `reps` cold-L2 runs, or -1 on error */
static double time_it(bench_ctx *c, int reps, void *flush, cudaEvent_t e0, cudaEvent_t e1) {
    for (int w = 0; w < 2; w++)
        if (run_once(c)) return -1;
    float *t = malloc((size_t)reps * sizeof *t);
    if (!t) return -1;
    for (int r = 0; r < reps; r++) {
        if (cudaMemsetAsync(flush, r & 0xff, FLUSH_BYTES, c->stream) != cudaSuccess) goto fail;
        cudaEventRecord(e0, c->stream);
        if (run_once(c)) goto fail;
        cudaEventRecord(e1, c->stream);
        if (cudaEventSynchronize(e1) != cudaSuccess) goto fail;
        cudaEventElapsedTime(&t[r], e0, e1);
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_f);
    double med = t[reps / 2] * 1e3;
    free(t);
    return med;
fail:
    free(t);
    return -1;
}

static uint16_t *dev_random(size_t n, float lo, float hi, uint32_t seed) {
    uint16_t *h = malloc(n * sizeof *h), *d = NULL;
    if (!h) return NULL;
    uint32_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        h[i] = anim_f32_to_f16(lo + (hi - lo) * (float)(s >> 8) / 16777216.0f);
    }
    if (cudaMalloc((void **)&d, n * sizeof *d) != cudaSuccess || cudaMemcpy(d, h, n * sizeof *d, cudaMemcpyHostToDevice) != cudaSuccess) {
        cudaFree(d);
        d = NULL;
    }
    free(h);
    return d;
}

static double nmse_dev(const uint16_t *a, const uint16_t *ref, size_t n) {
    uint16_t *ha = malloc(n * 2), *hr = malloc(n * 2);
    double se = 0, sr = 0;
    if (ha && hr && cudaMemcpy(ha, a, n * 2, cudaMemcpyDeviceToHost) == cudaSuccess &&
        cudaMemcpy(hr, ref, n * 2, cudaMemcpyDeviceToHost) == cudaSuccess) {
        for (size_t i = 0; i < n; i++) {
            double x = anim_f16_to_f32(ha[i]), y = anim_f16_to_f32(hr[i]), dd = x - y;
            se += dd * dd;
            sr += y * y;
        }
    } else {
        se = -1;
    }
    free(ha);
    free(hr);
    return se < 0 ? -1 : sr > 0 ? se / sr : se;
}

static void bench_config(const bcfg *b, int reps, int with_simple, double peak, cudaStream_t st, cublasHandle_t hb,
                         void *flush, cudaEvent_t e0, cudaEvent_t e1) {
    const int C = b->heads * b->d, nkt = b->nk + b->nk2;
    const size_t nq_el = (size_t)b->batch * b->nq * C, nk_el = (size_t)b->batch * b->nk * C;
    const size_t nk2_el = (size_t)(b->bank ? 1 : b->batch) * b->nk2 * C;
    const double flops = 4.0 * b->batch * b->heads * (double)b->nq * nkt * b->d;
    char name[128];
    if (b->nk2)
        snprintf(name, sizeof name, "attention(B=%d,H=%d,nq=%d,nk=%d+%d%s,d=%d)", b->batch, b->heads, b->nq, b->nk,
                 b->nk2, b->bank ? " bank" : "", b->d);
    else if (b->temporal)
        snprintf(name, sizeof name, "attention(B=%d px,H=%d,F=%d,d=%d)", b->batch, b->heads, b->nq, b->d);
    else
        snprintf(name, sizeof name, "attention(B=%d,H=%d,nq=%d,nk=%d,d=%d)", b->batch, b->heads, b->nq, b->nk, b->d);

    uint16_t *q = dev_random(nq_el, -2, 2, 1), *k = dev_random(nk_el, -2, 2, 2), *v = dev_random(nk_el, -1, 1, 3);
    uint16_t *k2 = b->nk2 ? dev_random(nk2_el, -2, 2, 4) : NULL, *v2 = b->nk2 ? dev_random(nk2_el, -1, 1, 5) : NULL;
    uint16_t *o = NULL, *o_ref = NULL, *S = NULL;
    const size_t s_el = (size_t)b->batch * b->heads * b->nq * (size_t)nkt;
    if (!q || !k || !v || (b->nk2 && (!k2 || !v2)) || cudaMalloc((void **)&o, nq_el * 2) != cudaSuccess ||
        cudaMalloc((void **)&o_ref, nq_el * 2) != cudaSuccess) {
        printf("%-50s | setup failed (device memory)\n", name);
        goto out;
    }
    if (cudaMalloc((void **)&S, s_el * 2) != cudaSuccess) {
        cudaGetLastError();
        S = NULL;
    }
    bench_ctx c = {.stream = st, .cublas = hb, .S = S};
    c.p = (k_attn_params){
        .q = q, .k = k, .v = v, .k2 = k2, .v2 = v2, .o = o, .batch = b->batch, .heads = b->heads, .d_head = b->d,
        .nq = b->nq, .nk = b->nk, .nk2 = b->nk2, .scale = 1.0f / sqrtf((float)b->d),
    };
    if (b->temporal) { /* [n][pixels][C]: batch stride C, token stride pixels*C */
        c.p.q_bs = c.p.k_bs = c.p.v_bs = c.p.o_bs = C;
        c.p.q_ts = c.p.k_ts = c.p.v_ts = c.p.o_ts = (int64_t)b->batch * C;
    } else {
        c.p.q_bs = c.p.o_bs = (int64_t)b->nq * C;
        c.p.k_bs = c.p.v_bs = (int64_t)b->nk * C;
        c.p.q_ts = c.p.k_ts = c.p.v_ts = c.p.o_ts = C;
        c.p.k2_bs = c.p.v2_bs = b->bank ? 0 : (int64_t)b->nk2 * C;
        c.p.k2_ts = c.p.v2_ts = C;
    }

    /* baseline first (its output is the reference for the sanity check) */
    c.p.o = o_ref;
    c.variant = -1;
    double t_ref = S ? time_it(&c, reps, flush, e0, e1) : -1;
    if (S) {
        if (t_ref > 0)
            printf("%-50s | %-26s | %10.1f us/run | %7.1f TFLOP/s | %5.1f %%\n", name, "cublas+softmax (unfused)",
                   t_ref, flops / t_ref * 1e-6, flops / t_ref * 1e-6 / peak * 100);
        else
            printf("%-50s | %-26s | error\n", name, "cublas+softmax (unfused)");
    } else {
        printf("%-50s | %-26s | skipped: %.1f GB score matrix does not fit\n", name, "cublas+softmax (unfused)",
               s_el * 2e-9);
    }
    c.p.o = o;
    static const int variants[] = {K_ATTN_AUTO, K_ATTN_FLASH, K_ATTN_FLASH_SMALL, K_ATTN_SIMPLE};
    for (size_t vi = 0; vi < sizeof variants / sizeof variants[0]; vi++) {
        char vname[64], kname[48];
        c.variant = variants[vi];
        k_attention_variant_name(&c.p, c.variant, kname, sizeof kname);
        snprintf(vname, sizeof vname, "%s%s", c.variant == K_ATTN_AUTO ? "auto: " : "", kname);
        if (!k_attention_supported(&c.p, c.variant)) continue;
        if (c.variant == K_ATTN_SIMPLE && !with_simple && flops > 2e10) {
            printf("%-50s | %-26s | skipped (slow; --simple runs it)\n", name, vname);
            continue;
        }
        double t = time_it(&c, reps, flush, e0, e1);
        if (t < 0) {
            printf("%-50s | %-26s | error: %s\n", name, vname, cudaGetErrorString(cudaGetLastError()));
            continue;
        }
        printf("%-50s | %-26s | %10.1f us/run | %7.1f TFLOP/s | %5.1f %%", name, vname, t, flops / t * 1e-6,
               flops / t * 1e-6 / peak * 100);
        if (c.variant == K_ATTN_AUTO && t_ref > 0) printf(" | nmse vs cublas %.2e", nmse_dev(o, o_ref, nq_el));
        printf("\n");
    }
out:
    cudaFree(q);
    cudaFree(k);
    cudaFree(v);
    cudaFree(k2);
    cudaFree(v2);
    cudaFree(o);
    cudaFree(o_ref);
    cudaFree(S);
}
#endif

int main(int argc, char **argv) {
    int reps = 20, with_simple = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--simple")) with_simple = 1;
        else {
            fprintf(stderr, "usage: bench_attention [--reps N] [--only SUBSTRING] [--simple]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
#ifndef ANIM_WITH_CUDA
    (void)only;
    (void)with_simple;
    printf("bench_attention: built without CUDA (nvcc not found); nothing to time\n");
    return 0;
#else
    char dev_name[256];
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0 || !anim_cuda_device_name(0, dev_name, sizeof dev_name)) {
        cudaGetLastError();
        printf("bench_attention: no CUDA device present; nothing to time\n");
        return 0;
    }
    const char *how = "";
    const double peak = peak_tflops(0, &how);
    printf("device: %s\npeak: %.0f TFLOP/s fp16 dense, fp32 accumulate (%s); median of %d runs, L2 flushed (%zu MB "
           "write) before each\n",
           dev_name, peak, how, reps, FLUSH_BYTES >> 20);
    cudaStream_t st;
    cublasHandle_t hb;
    cudaEvent_t e0, e1;
    void *flush = NULL;
    if (cudaStreamCreate(&st) != cudaSuccess || cublasCreate(&hb) != CUBLAS_STATUS_SUCCESS ||
        cublasSetStream(hb, st) != CUBLAS_STATUS_SUCCESS || cudaEventCreate(&e0) != cudaSuccess ||
        cudaEventCreate(&e1) != cudaSuccess || cudaMalloc(&flush, FLUSH_BYTES) != cudaSuccess) {
        printf("bench_attention: CUDA setup failed: %s\n", cudaGetErrorString(cudaGetLastError()));
        return 1;
    }
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        char key[160];
        snprintf(key, sizeof key, "%s B=%d H=%d nq=%d nk=%d nk2=%d d=%d", configs[i].what, configs[i].batch,
                 configs[i].heads, configs[i].nq, configs[i].nk, configs[i].nk2, configs[i].d);
        if (only && !strstr(key, only)) continue;
        printf("# %s\n", configs[i].what);
        bench_config(&configs[i], reps, with_simple, peak, st, hb, flush, e0, e1);
    }
    cudaFree(flush);
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cublasDestroy(hb);
    cudaStreamDestroy(st);
    return 0;
#endif
}
