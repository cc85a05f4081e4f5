/*
 * test_gpu_attention.c - the CUDA attention and softmax ops checked against
 * the CPU backend (lib/cpu/ops_attention.c, ops_elementwise.c) on random
 * inputs with a fixed seed, rounded to fp16 before either backend sees them.
 *
 * Shapes: the SD1.5 per-frame shapes of a 64x96 latent (6144 tokens 8 x 40,
 * 1536 tokens 8 x 80, 384 tokens 8 x 160), each with a reference-token
 * segment 2 of the same length broadcast over the batch (batch stride 0);
 * cross-attention with one key (the projected CLIP image token); temporal
 * attention over the frame axis of [F, hw, C] (F = 16, 24; d = C/8); CLIP's
 * 257 x 64; the VAE's single 512-wide head; odd sizes (37 x 53, d = 3, gaps
 * between tokens, views starting one element off 16-byte alignment, which
 * take the element-load path). Every case runs through the backend op (AUTO)
 * and through each kernel variant that can take it (SIMPLE up to 20 GFLOP,
 * FLASH, FLASH_SMALL), so a failure names the variant.
 *
 * Limits: normalised MSE <= 1e-5 and |err| <= 1e-3 + 1e-2 |ref| per element
 * (attention); 1e-6 and 1e-5 + 2e-3 |ref| (softmax). ggml allows 5e-4 NMSE
 * for flash_attn_ext with fp16 inputs; ours are tighter because both
 * backends see the same fp16 inputs and the GPU adds only the fp16 rounding
 * of p and of the output (~1e-7). NaN never passes. Every element of each
 * output buffer outside the op's view (guards, gaps between tokens, other
 * heads) must keep its sentinel. To keep the CPU side short on big shapes,
 * the CPU computes one or two heads and the last rows of queries (rows are
 * independent; the last ones cover the partial query tile).
 * Everything skips with a message when no CUDA device answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "backend.h"

#ifdef ANIM_WITH_CUDA
#include <cuda_runtime_api.h>

#include "attention.h"
#endif

#define GUARD 64
#define SENTINEL 1234.5f /* exactly representable in fp16 */

#define ATTN_NMSE 1e-5
#define ATTN_ATOL 1e-3
#define ATTN_RTOL 1e-2

static anim_be *gpu, *cpu;

static bool setup(void) {
    anim_error e;
    anim_err_clear(&e);
    if (!cpu && anim_be_create_cpu(0, &cpu, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "cpu: %s", e.msg);
        return false;
    }
    if (!gpu && anim_be_create_cuda(0, &gpu, &e) != ANIM_OK) {
        test_skip("no CUDA device: %s", e.msg);
        return false;
    }
    return true;
}

/* a device buffer of n elements with GUARD sentinel elements on each side;
 * host NULL: the payload is sentinels too */
typedef struct { void *base; void *p; size_t n; } gbuf;

static bool gbuf_new(gbuf *g, const float *host, size_t n) {
    anim_error e;
    g->n = n;
    g->base = NULL;
    if (gpu->ops->alloc(gpu, n + 2 * GUARD, &g->base, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "%s", e.msg);
        return false;
    }
    g->p = (uint16_t *)g->base + GUARD;
    float *tmp = malloc((n + 2 * GUARD) * sizeof *tmp);
    if (!tmp) {
        test_fail(__FILE__, __LINE__, "out of host memory");
        return false;
    }
    for (size_t i = 0; i < n + 2 * GUARD; i++) tmp[i] = SENTINEL;
    if (host) memcpy(tmp + GUARD, host, n * sizeof *tmp);
    anim_status st = gpu->ops->upload(gpu, g->base, tmp, n + 2 * GUARD, &e);
    free(tmp);
    if (st != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "%s", e.msg);
        return false;
    }
    return true;
}

/* download, check the guards, return the payload (caller frees) */
static float *gbuf_get(gbuf *g, const char *what) {
    anim_error e;
    float *tmp = malloc((g->n + 2 * GUARD) * sizeof *tmp);
    if (!tmp) {
        test_fail(__FILE__, __LINE__, "out of host memory");
        return NULL;
    }
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
    if (out) memcpy(out, tmp + GUARD, g->n * sizeof *out);
    free(tmp);
    return out;
}

static void gbuf_free(gbuf *g) {
    if (g->base) gpu->ops->free(gpu, g->base);
    g->base = NULL;
}

static void round_f16(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = anim_f16_to_f32(anim_f32_to_f16(x[i]));
}

/* ---- attention ------------------------------------------------------------ */

typedef struct acase {
    const char *name;
    int batch, heads, d, nq, nk, nk2;
    int ts_pad;        /* elements between tokens beyond heads*d (0: dense rows) */
    bool bank;         /* segment 2 broadcast over the batch (batch stride 0) */
    bool temporal;     /* [n][batch][C] (frame axis; batch = pixels) instead of [batch][n][C] */
    int misalign;      /* element offset of every view in its buffer (1: not 16-byte aligned) */
    int cpu_heads[2];  /* heads the CPU computes ... */
    int n_cpu_heads;   /* ... (0: all) */
    int cpu_q0;        /* first query the CPU computes */
} acase;

/* one tensor of the op: host copy, device copy, and its view (offset and strides) */
typedef struct atensor {
    float *host;
    gbuf dev;
    size_t len, off;
    int64_t bs, ts;
} atensor;

static void at_layout(atensor *t, const acase *c, int n_rows, int batch, bool broadcast) {
    const int64_t w = (int64_t)c->heads * c->d + c->ts_pad;
    t->off = (size_t)c->misalign;
    if (c->temporal) {
        t->bs = w;
        t->ts = (int64_t)batch * w;
    } else {
        t->bs = broadcast ? 0 : (int64_t)n_rows * w;
        t->ts = w;
    }
    t->len = t->off + (size_t)(broadcast ? 1 : batch) * (size_t)n_rows * (size_t)w;
}

static bool at_init(atensor *t, test_rng *r, float lo, float hi, bool output) {
    t->host = malloc(t->len * sizeof *t->host);
    t->dev.base = NULL;
    if (!t->host) {
        test_fail(__FILE__, __LINE__, "out of host memory");
        return false;
    }
    if (output) {
        for (size_t i = 0; i < t->len; i++) t->host[i] = 0.0f;
        return gbuf_new(&t->dev, NULL, t->len);
    }
    test_fill_uniform(r, t->host, t->len, lo, hi); /* gaps too: they must not leak into results */
    round_f16(t->host, t->len);
    return gbuf_new(&t->dev, t->host, t->len);
}

/* the device address of the view (its first element) */
static void *at_dev_view(atensor *t) { return (uint16_t *)t->dev.p + t->off; }

static void at_free(atensor *t) {
    free(t->host);
    t->host = NULL;
    if (gpu) gbuf_free(&t->dev);
}

/* the op's arguments on `base` pointers (host floats for the CPU, device halves for the GPU) */
static bk_attention at_args(const acase *c, atensor *T[6], void *ptr[6]) {
    bk_attention a = {
        .q = ptr[0], .k = ptr[1], .v = ptr[2], .o = ptr[3],
        .k2 = c->nk2 ? ptr[4] : NULL, .v2 = c->nk2 ? ptr[5] : NULL,
        .batch = c->batch, .heads = c->heads, .d_head = c->d, .nq = c->nq, .nk = c->nk, .nk2 = c->nk2,
        .q_bs = T[0]->bs, .q_ts = T[0]->ts, .k_bs = T[1]->bs, .k_ts = T[1]->ts,
        .v_bs = T[2]->bs, .v_ts = T[2]->ts, .o_bs = T[3]->bs, .o_ts = T[3]->ts,
        .k2_bs = c->nk2 ? T[4]->bs : 0, .k2_ts = c->nk2 ? T[4]->ts : 0,
        .v2_bs = c->nk2 ? T[5]->bs : 0, .v2_ts = c->nk2 ? T[5]->ts : 0,
        .scale = (float)(1.0 / sqrt((double)c->d)),
    };
    return a;
}

static size_t at_index(const atensor *t, int b, int i, int h, int d_head, int dd) {
    return t->off + (size_t)((int64_t)b * t->bs + (int64_t)i * t->ts + (int64_t)h * d_head + dd);
}

static bool head_checked(const acase *c, int h) {
    if (c->n_cpu_heads == 0) return true;
    for (int k = 0; k < c->n_cpu_heads; k++)
        if (c->cpu_heads[k] == h) return true;
    return false;
}

static const char *variant_str(int v) {
    switch (v) {
    case -1: return "op";
    case 1: return "simple";
    case 2: return "flash";
    case 3: return "flash_small";
    default: return "?";
    }
}

/* run one variant on the GPU: -1 = the backend op (AUTO), else k_attention(variant);
 * returns false (without failing) when the variant cannot take this problem */
static bool gpu_run(const bk_attention *a, int variant, anim_error *e, bool *ran) {
    *ran = false;
    if (variant < 0) {
        if (gpu->ops->attention(gpu, a, e) != ANIM_OK || gpu->ops->sync(gpu, e) != ANIM_OK) return false;
        *ran = true;
        return true;
    }
#ifdef ANIM_WITH_CUDA
    k_attn_params p = {
        .q = a->q, .k = a->k, .v = a->v, .k2 = a->k2, .v2 = a->v2, .o = a->o, .batch = a->batch,
        .heads = a->heads, .d_head = a->d_head, .nq = a->nq, .nk = a->nk, .nk2 = a->nk2, .q_bs = a->q_bs,
        .q_ts = a->q_ts, .k_bs = a->k_bs, .k_ts = a->k_ts, .v_bs = a->v_bs, .v_ts = a->v_ts, .o_bs = a->o_bs,
        .o_ts = a->o_ts, .k2_bs = a->k2_bs, .k2_ts = a->k2_ts, .v2_bs = a->v2_bs, .v2_ts = a->v2_ts,
        .scale = a->scale,
    };
    if (!k_attention_supported(&p, variant)) return true;
    /* the backend's stream is non-blocking: finish its uploads, launch on the
     * default stream, and wait for the device before downloading */
    if (gpu->ops->sync(gpu, e) != ANIM_OK) return false;
    int rc = k_attention(&p, variant, NULL);
    if (rc == 0) rc = (int)cudaDeviceSynchronize();
    if (rc != 0) {
        anim_seterr(e, ANIM_E_CUDA, "k_attention(%s): %s", variant_str(variant), cudaGetErrorString((cudaError_t)rc));
        return false;
    }
    *ran = true;
#else
    (void)e;
#endif
    return true;
}

static void check_attention(const acase *c, uint64_t seed) {
    test_rng r;
    test_rng_seed(&r, seed);
    atensor t[6];
    atensor *T[6] = {&t[0], &t[1], &t[2], &t[3], &t[4], &t[5]};
    memset(t, 0, sizeof t);
    const int n_rows[6] = {c->nq, c->nk, c->nk, c->nq, c->nk2, c->nk2};
    const int n_t = c->nk2 ? 6 : 4;
    float *ref = NULL, *gv = NULL, *rv = NULL;
    unsigned char *in_view = NULL;
    for (int k = 0; k < n_t; k++) at_layout(T[k], c, n_rows[k], c->batch, k >= 4 && c->bank);
    /* q, k in [-2, 2] give scores of standard deviation ~1.3 after scaling: a peaked softmax */
    if (!at_init(T[0], &r, -2.f, 2.f, false) || !at_init(T[1], &r, -2.f, 2.f, false) ||
        !at_init(T[2], &r, -1.f, 1.f, false) || !at_init(T[3], &r, 0, 0, true))
        goto out;
    if (c->nk2 && (!at_init(T[4], &r, -2.f, 2.f, false) || !at_init(T[5], &r, -1.f, 1.f, false))) goto out;

    /* CPU reference: the checked heads, queries [cpu_q0, nq) */
    anim_error e;
    void *hp[6];
    for (int k = 0; k < 6; k++) hp[k] = k < n_t ? (void *)(t[k].host + t[k].off) : NULL;
    const int nh = c->n_cpu_heads ? c->n_cpu_heads : 1;
    for (int k = 0; k < nh; k++) {
        const int h = c->n_cpu_heads ? c->cpu_heads[k] : 0;
        void *p[6];
        for (int j = 0; j < 6; j++) {
            int64_t shift = (int64_t)h * c->d + ((j == 0 || j == 3) ? (int64_t)c->cpu_q0 * T[j]->ts : 0);
            p[j] = hp[j] ? (void *)((float *)hp[j] + shift) : NULL;
        }
        bk_attention a = at_args(c, T, p);
        if (c->n_cpu_heads) a.heads = 1;
        a.nq = c->nq - c->cpu_q0;
        if (cpu->ops->attention(cpu, &a, &e) != ANIM_OK) {
            test_fail(__FILE__, __LINE__, "cpu %s: %s", c->name, e.msg);
            goto out;
        }
    }
    ref = t[3].host;

    /* which output elements belong to the op (all heads, all queries) */
    in_view = calloc(t[3].len, 1);
    size_t n_cmp = 0;
    for (int h = 0; h < c->heads; h++)
        if (head_checked(c, h)) n_cmp += (size_t)c->batch * (size_t)(c->nq - c->cpu_q0) * (size_t)c->d;
    gv = malloc((n_cmp ? n_cmp : 1) * sizeof *gv);
    rv = malloc((n_cmp ? n_cmp : 1) * sizeof *rv);
    if (!in_view || !gv || !rv) {
        test_fail(__FILE__, __LINE__, "out of host memory");
        goto out;
    }
    for (int b = 0; b < c->batch; b++)
        for (int i = 0; i < c->nq; i++)
            for (int h = 0; h < c->heads; h++)
                for (int dd = 0; dd < c->d; dd++) in_view[at_index(T[3], b, i, h, c->d, dd)] = 1;

    void *dp[6];
    for (int k = 0; k < 6; k++) dp[k] = k < n_t ? at_dev_view(&t[k]) : NULL;
    bk_attention ga = at_args(c, T, dp);
    const int variants[4] = {-1, 1, 2, 3};
    for (int vi = 0; vi < 4; vi++) {
        const int v = variants[vi];
        char what[160];
        snprintf(what, sizeof what, "attention %s [%s]", c->name, variant_str(v));
        /* fresh sentinels in the output so every variant must write every element itself */
        gbuf_free(&t[3].dev);
        if (!gbuf_new(&t[3].dev, NULL, t[3].len)) goto out;
        ga.o = at_dev_view(&t[3]);
        /* the fp32 fallback on the biggest shapes would only slow the run (and
         * compute-sanitizer's); the smaller cases cover it */
        const double flops = 4.0 * c->batch * c->heads * (double)c->nq * (c->nk + c->nk2) * c->d;
        if (v == 1 && flops > 2e10) {
            printf("    %s: skipped (%.0f GFLOP for the fp32 fallback)\n", what, flops * 1e-9);
            continue;
        }
        bool ran;
        if (!gpu_run(&ga, v, &e, &ran)) {
            test_fail(__FILE__, __LINE__, "cuda %s: %s", what, e.msg);
            continue;
        }
        if (!ran) {
            printf("    %s: variant not available for this problem\n", what);
            continue;
        }
        float *y = gbuf_get(&t[3].dev, what);
        if (!y) continue;
        size_t outside = 0, first_outside = 0, m = 0;
        for (size_t i = 0; i < t[3].len; i++)
            if (!in_view[i] && y[i] != SENTINEL && outside++ == 0) first_outside = i;
        if (outside) test_fail(__FILE__, __LINE__, "%s: %zu elements outside the output view written (first at %zu)", what, outside, first_outside);
        for (int b = 0; b < c->batch; b++)
            for (int i = c->cpu_q0; i < c->nq; i++)
                for (int h = 0; h < c->heads; h++) {
                    if (!head_checked(c, h)) continue;
                    for (int dd = 0; dd < c->d; dd++) {
                        const size_t at = at_index(T[3], b, i, h, c->d, dd);
                        gv[m] = y[at];
                        rv[m] = ref[at];
                        m++;
                    }
                }
        free(y);
        double *rd = malloc(m * sizeof *rd), se = 0, sr = 0, worst = 0;
        if (!rd) {
            test_fail(__FILE__, __LINE__, "out of host memory");
            goto out;
        }
        for (size_t i = 0; i < m; i++) {
            rd[i] = rv[i];
            const double dlt = (double)gv[i] - rd[i];
            se += dlt * dlt;
            sr += rd[i] * rd[i];
            if (fabs(dlt) > worst) worst = fabs(dlt);
        }
        printf("    %-58s nmse %.2e  max|err| %.2e  (%zu values)\n", what, sr > 0 ? se / sr : se, worst, m);
        if (!test_compare(what, gv, rd, m, ATTN_NMSE, ATTN_ATOL, ATTN_RTOL)) test_fail(__FILE__, __LINE__, "%s differs", what);
        free(rd);
    }
out:
    for (int k = 0; k < 6; k++) at_free(&t[k]);
    free(in_view);
    free(gv);
    free(rv);
}

/* 64x96 latent, top level: 6144 tokens, 8 heads x 40 (C = 320) */
TEST(gpu_attention_sd_self_6144_d40) {
    if (!setup()) return;
    acase c = {.name = "self 1x8x6144x6144 d40", .batch = 1, .heads = 8, .d = 40, .nq = 6144, .nk = 6144,
               .cpu_heads = {0, 7}, .n_cpu_heads = 2, .cpu_q0 = 6144 - 1024};
    check_attention(&c, 101);
}

/* the same with the reference bank: 6144 own + 6144 reference tokens (broadcast over 2 frames) */
TEST(gpu_attention_sd_ref_6144_d40) {
    if (!setup()) return;
    acase c = {.name = "ref 2x8x6144x(6144+6144 bank) d40", .batch = 2, .heads = 8, .d = 40, .nq = 6144,
               .nk = 6144, .nk2 = 6144, .bank = true, .cpu_heads = {0, 7}, .n_cpu_heads = 2, .cpu_q0 = 6144 - 384};
    check_attention(&c, 102);
}

TEST(gpu_attention_sd_ref_1536_d80) {
    if (!setup()) return;
    acase c = {.name = "ref 2x8x1536x(1536+1536 bank) d80", .batch = 2, .heads = 8, .d = 80, .nq = 1536,
               .nk = 1536, .nk2 = 1536, .bank = true, .cpu_heads = {0, 5}, .n_cpu_heads = 2, .cpu_q0 = 1536 - 512};
    check_attention(&c, 103);
}

TEST(gpu_attention_sd_ref_384_d160) {
    if (!setup()) return;
    acase c = {.name = "ref 2x8x384x(384+384 bank) d160", .batch = 2, .heads = 8, .d = 160, .nq = 384, .nk = 384,
               .nk2 = 384, .bank = true, .cpu_heads = {2, 7}, .n_cpu_heads = 2};
    check_attention(&c, 104);
}

/* cross-attention on the projected CLIP image token: one key, softmax = 1, o = v */
TEST(gpu_attention_cross_nk1) {
    if (!setup()) return;
    acase c = {.name = "cross 2x8x6144x1 d40", .batch = 2, .heads = 8, .d = 40, .nq = 6144, .nk = 1};
    check_attention(&c, 105);
    acase c2 = {.name = "cross 2x8x384x1 d160", .batch = 2, .heads = 8, .d = 160, .nq = 384, .nk = 1};
    check_attention(&c2, 106);
}

/* motion-module attention over the frame axis: [F, hw, C], one sequence per pixel */
TEST(gpu_attention_temporal) {
    if (!setup()) return;
    acase c24 = {.name = "temporal F24 hw1536 C320 d40", .batch = 1536, .heads = 8, .d = 40, .nq = 24, .nk = 24,
                 .temporal = true};
    check_attention(&c24, 107);
    acase c16 = {.name = "temporal F16 hw384 C640 d80", .batch = 384, .heads = 8, .d = 80, .nq = 16, .nk = 16,
                 .temporal = true};
    check_attention(&c16, 108);
    acase c160 = {.name = "temporal F24 hw96 C1280 d160", .batch = 96, .heads = 8, .d = 160, .nq = 24, .nk = 24,
                  .temporal = true};
    check_attention(&c160, 109);
}

TEST(gpu_attention_odd_sizes) {
    if (!setup()) return;
    acase a = {.name = "odd 2x3x37x(53+19) d40", .batch = 2, .heads = 3, .d = 40, .nq = 37, .nk = 53, .nk2 = 19};
    check_attention(&a, 110);
    acase b = {.name = "odd 2x2x37x53 d3 gaps", .batch = 2, .heads = 2, .d = 3, .nq = 37, .nk = 53, .ts_pad = 5};
    check_attention(&b, 111);
    acase m = {.name = "misaligned 2x2x100x(77+30 bank) d40", .batch = 2, .heads = 2, .d = 40, .nq = 100, .nk = 77,
               .nk2 = 30, .bank = true, .misalign = 1};
    check_attention(&m, 112);
    acase g = {.name = "gaps 2x2x130x(1000+77 bank) d40", .batch = 2, .heads = 2, .d = 40, .nq = 130, .nk = 1000,
               .nk2 = 77, .bank = true, .ts_pad = 8};
    check_attention(&g, 113);
    acase s = {.name = "short 3x2x5x(3+2) d40", .batch = 3, .heads = 2, .d = 40, .nq = 5, .nk = 3, .nk2 = 2};
    check_attention(&s, 114);
}

/* the other padded head sizes, including CLIP's 64 and the VAE's single 512-wide head */
TEST(gpu_attention_head_dims) {
    if (!setup()) return;
    static const int dims[][4] = {/* d, heads, nq, nk */
                                  {8, 4, 70, 90},   {16, 4, 70, 90},  {32, 2, 150, 100}, {64, 16, 257, 257},
                                  {96, 2, 200, 150}, {128, 2, 200, 150}, {200, 2, 130, 90}, {256, 1, 70, 100},
                                  {512, 1, 300, 300}, {1000, 1, 20, 40}};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "1x%dx%dx%d d%d", dims[i][1], dims[i][2], dims[i][3], dims[i][0]);
        acase c = {.name = name, .batch = 1, .heads = dims[i][1], .d = dims[i][0], .nq = dims[i][2], .nk = dims[i][3]};
        check_attention(&c, 120 + i);
    }
}

TEST(gpu_attention_rejects_bad_args) {
    if (!setup()) return;
    anim_error e;
    gbuf g;
    if (!gbuf_new(&g, NULL, 4096)) return;
    bk_attention a = {.q = g.p, .k = g.p, .v = g.p, .o = g.p, .batch = 1, .heads = 1, .d_head = 8, .nq = 4,
                      .nk = 0, .q_ts = 8, .k_ts = 8, .v_ts = 8, .o_ts = 8, .scale = 1.0f};
    anim_status st = gpu->ops->attention(gpu, &a, &e);
    if (st != ANIM_E_INVALID_ARG) test_fail(__FILE__, __LINE__, "nk = 0: status %d, want INVALID_ARG", (int)st);
    a.nk = 4;
    a.nk2 = 2;
    st = gpu->ops->attention(gpu, &a, &e);
    if (st != ANIM_E_INVALID_ARG) test_fail(__FILE__, __LINE__, "nk2 without k2: status %d, want INVALID_ARG", (int)st);
    a.nk2 = 0;
    a.d_head = 4096;
    st = gpu->ops->attention(gpu, &a, &e);
    if (st != ANIM_E_UNSUPPORTED) test_fail(__FILE__, __LINE__, "d_head 4096: status %d, want UNSUPPORTED", (int)st);
    gbuf_free(&g);
}

/* ---- softmax ---------------------------------------------------------------- */

static void check_softmax(int m, int n, float scale, bool in_place, uint64_t seed) {
    test_rng r;
    test_rng_seed(&r, seed);
    const size_t len = (size_t)m * n;
    float *x = malloc(len * sizeof *x), *yc = malloc(len * sizeof *yc);
    double *rd = malloc(len * sizeof *rd);
    char what[96];
    snprintf(what, sizeof what, "softmax %dx%d scale %g%s", m, n, (double)scale, in_place ? " in place" : "");
    gbuf gx = {0}, gy = {0};
    if (!x || !yc || !rd) {
        test_fail(__FILE__, __LINE__, "out of host memory");
        goto out;
    }
    test_fill_uniform(&r, x, len, -8.f, 8.f);
    round_f16(x, len);
    anim_error e;
    if (cpu->ops->softmax(cpu, x, yc, m, n, scale, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "cpu %s: %s", what, e.msg);
        goto out;
    }
    if (!gbuf_new(&gx, x, len)) goto out;
    if (!in_place && !gbuf_new(&gy, NULL, len)) goto out;
    gbuf *out = in_place ? &gx : &gy;
    if (gpu->ops->softmax(gpu, gx.p, out->p, m, n, scale, &e) != ANIM_OK || gpu->ops->sync(gpu, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "cuda %s: %s", what, e.msg);
        goto out;
    }
    float *yg = gbuf_get(out, what);
    if (yg) {
        for (size_t i = 0; i < len; i++) rd[i] = yc[i];
        if (!test_compare(what, yg, rd, len, 1e-6, 1e-5, 2e-3)) test_fail(__FILE__, __LINE__, "%s differs", what);
    }
    free(yg);
out:
    if (gx.base) gbuf_free(&gx);
    if (gy.base) gbuf_free(&gy);
    free(x);
    free(yc);
    free(rd);
}

TEST(gpu_softmax) {
    if (!setup()) return;
    check_softmax(1000, 1, 0.125f, false, 201);
    check_softmax(999, 7, 0.5f, false, 202);
    check_softmax(1000, 77, 0.158113883f, false, 203);
    check_softmax(64, 1000, 1.0f, false, 204);
    check_softmax(16, 6144 + 3, 0.125f, false, 205);
    check_softmax(8, 12288, 0.158113883f, false, 206);
    check_softmax(37, 4096, -0.75f, false, 207);
    check_softmax(300, 1536, 0.125f, true, 208);
    check_softmax(300, 77, 0.125f, true, 209);
}
