/*
 * test_gpu_norm_linear.c - the CUDA group_norm, layer_norm and linear
 * (kernels/norm.cu, kernels/linear.cu, lib/cuda/op_norm.c, op_linear.c)
 * against the CPU backend (lib/cpu/ops_norm.c, ops_linear.c) on random
 * fp16-rounded inputs.
 *
 * Shapes: GroupNorm at the SD UNet's per-frame levels with batch 2 (96x64x320,
 * 48x32x640, 24x16x960 and 2560, 12x8x1280; G 32; eps 1e-5 and 1e-6; with
 * and without SiLU and affine), frames folded into n, a mean 100x the std,
 * in place, odd shapes (c 6 / 3 groups / hw 35; c 9000 / 9 groups, which
 * only the generic kernels take), and both kernel variants forced.
 * LayerNorm: 6144x320, CLIP 257x1024, 768x1280, odd 37x40 and 5x37, in place.
 * Linear: GEGLU proj 6144x320 -> 2560 with bias, FF out 6144x1280 -> 320 with
 * bias and the residual in place, 1536x640 -> 640 plain, residual out of
 * place, ldx/ldy larger than k/n (elements between rows must stay untouched),
 * k = 3, a misaligned x, odd ldx.
 *
 * Limits, with outputs of order 1 (x ~ U(-1,1) or offset + U(-s,s); gamma ~
 * U(0.5,1.5), beta ~ U(-0.5,0.5); w ~ U(-a,a), a = sqrt(3/k); bias, res ~
 * U(-1,1)):
 *   norms:  nmse <= 1e-6, |gpu - cpu| <= 2e-3 + 2e-3 |cpu|. The reference
 *           computes in double; the GPU's fp32 statistics differ by ~1e-7
 *           relative, so what remains is the final fp16 rounding (<= 2^-11
 *           relative, nmse ~1e-7).
 *   linear: nmse <= 1e-5, |gpu - cpu| <= 4e-3 + 2e-3 |cpu|. Same fp16 products
 *           on both sides, fp32 sums in another order (~1e-6), one fp16
 *           rounding - or two on the cublasGemmEx route with a bias or
 *           residual (res + bias is rounded first), and cuBLAS may reduce
 *           split-K partials in fp16.
 * Outputs are poisoned with NaN before every run (NaN never passes: an
 * element left unwritten fails), and GUARD sentinel elements on each side of
 * every output catch out-of-bounds writes. Everything skips with a message
 * when the library was built without CUDA or no device answers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "backend.h"

#ifdef ANIM_WITH_CUDA
#include "cuda/cuda_internal.h"
#include "norm.h"
#endif

#define GUARD 64
#define SENTINEL 1234.5f /* exactly representable in fp16 */

static anim_be *gpu, *cpu;

static bool setup(void) {
    anim_error e;
    anim_err_clear(&e);
    if (!cpu && anim_be_create_cpu(0, &cpu, &e) != ANIM_OK) { test_fail(__FILE__, __LINE__, "cpu: %s", e.msg); return false; }
    if (!gpu && anim_be_create_cuda(0, &gpu, &e) != ANIM_OK) {
        test_skip("no CUDA device: %s", e.msg);
        return false;
    }
    return true;
}

/* ---- device buffers with guards ------------------------------------------ */

/* n payload elements with GUARD sentinels on each side; payload = host, or NaN when host is NULL */
typedef struct { void *base; void *p; size_t n; } gbuf;

static bool gbuf_new(gbuf *g, const float *host, size_t n) {
    anim_error e;
    g->n = n;
    g->base = NULL;
    if (gpu->ops->alloc(gpu, n + 2 * GUARD, &g->base, &e) != ANIM_OK) { test_fail(__FILE__, __LINE__, "%s", e.msg); return false; }
    g->p = (uint16_t *)g->base + GUARD;
    float *tmp = malloc((n + 2 * GUARD) * sizeof *tmp);
    for (size_t i = 0; i < n + 2 * GUARD; i++) tmp[i] = SENTINEL;
    for (size_t i = 0; i < n; i++) tmp[GUARD + i] = host ? host[i] : NAN;
    anim_status st = gpu->ops->upload(gpu, g->base, tmp, n + 2 * GUARD, &e);
    free(tmp);
    if (st != ANIM_OK) { test_fail(__FILE__, __LINE__, "%s", e.msg); return false; }
    return true;
}

/* download, check the guards, return the payload (caller frees) */
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

static void gbuf_free(gbuf *g) {
    if (g->base) gpu->ops->free(gpu, g->base);
    g->base = NULL;
}

static float *rand_f16(test_rng *r, size_t n, float lo, float hi) {
    float *x = malloc((n ? n : 1) * sizeof *x);
    test_fill_uniform(r, x, n, lo, hi);
    for (size_t i = 0; i < n; i++) x[i] = anim_f16_to_f32(anim_f32_to_f16(x[i]));
    return x;
}

static bool compare(const char *what, const float *gpu_out, const float *cpu_out, size_t n, double nmse_max,
                    double atol, double rtol) {
    double *ref = malloc((n ? n : 1) * sizeof *ref);
    for (size_t i = 0; i < n; i++) ref[i] = cpu_out[i];
    bool ok = test_compare(what, gpu_out, ref, n, nmse_max, atol, rtol);
    free(ref);
    return ok;
}

/* ---- group norm ------------------------------------------------------------ */

typedef struct gn_case {
    int n, hw, c, groups;
    float eps;
    bool silu, affine, in_place;
    float offset, spread;   /* x ~ offset + U(-spread, spread) */
    int variant;            /* K_GN_AUTO runs the backend op; others call the launcher */
} gn_case;

/* = K_GN_* of kernels/norm.h, which is on the include path only in CUDA builds */
enum { GN_AUTO = 0, GN_GENERIC = 1, GN_ROWS = 2 };
#ifdef ANIM_WITH_CUDA
_Static_assert((int)GN_AUTO == (int)K_GN_AUTO && (int)GN_GENERIC == (int)K_GN_GENERIC && (int)GN_ROWS == (int)K_GN_ROWS,
               "K_GN_* values");
#endif

static void check_gn(const gn_case *t, uint64_t seed) {
    char what[200];
    static const char *vname[] = {"op", "generic", "rows"};
    snprintf(what, sizeof what, "group_norm(n %d hw %d c %d G %d eps %g%s%s%s | %s)", t->n, t->hw, t->c, t->groups,
             (double)t->eps, t->silu ? " silu" : "", t->affine ? " affine" : "", t->in_place ? " in-place" : "",
             vname[t->variant]);
    test_rng r;
    test_rng_seed(&r, seed);
    const size_t nx = (size_t)t->n * t->hw * t->c;
    float *x = rand_f16(&r, nx, t->offset - t->spread, t->offset + t->spread);
    float *gamma = rand_f16(&r, (size_t)t->c, 0.5f, 1.5f), *beta = rand_f16(&r, (size_t)t->c, -0.5f, 0.5f);
    float *yc = malloc(nx * sizeof *yc);
    anim_error e;
    gbuf gx = {0}, gg = {0}, gb = {0}, gy = {0};
    bk_group_norm a = {.x = x, .gamma = t->affine ? gamma : NULL, .beta = t->affine ? beta : NULL, .y = yc,
                       .n = t->n, .hw = t->hw, .c = t->c, .groups = t->groups, .eps = t->eps, .silu = t->silu};
    if (cpu->ops->group_norm(cpu, &a, &e) != ANIM_OK) { test_fail(__FILE__, __LINE__, "cpu %s: %s", what, e.msg); goto out; }
    if (!gbuf_new(&gx, x, nx) || !gbuf_new(&gg, gamma, (size_t)t->c) || !gbuf_new(&gb, beta, (size_t)t->c)) goto out;
    if (!t->in_place && !gbuf_new(&gy, NULL, nx)) goto out;
    gbuf *yb = t->in_place ? &gx : &gy;
    a.x = gx.p;
    a.gamma = t->affine ? gg.p : NULL;
    a.beta = t->affine ? gb.p : NULL;
    a.y = yb->p;
    anim_status st = ANIM_OK;
    if (t->variant == GN_AUTO) {
        st = gpu->ops->group_norm(gpu, &a, &e);
    } else {
#ifdef ANIM_WITH_CUDA
        int ce = k_group_norm(a.x, a.gamma, a.beta, a.y, a.n, a.hw, a.c, a.groups, a.eps, a.silu, t->variant,
                              IMPL(gpu)->stream);
        if (ce != 0) st = anim_seterr(&e, ANIM_E_CUDA, "k_group_norm: %s", cudaGetErrorString((cudaError_t)ce));
#endif
    }
    if (st == ANIM_OK) st = gpu->ops->sync(gpu, &e);
    if (st != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "cuda %s: %s", what, e.msg);
    } else {
        float *yg = gbuf_get(yb, what);
        if (yg && !compare(what, yg, yc, nx, 1e-6, 2e-3, 2e-3)) test_fail(__FILE__, __LINE__, "%s differs", what);
        free(yg);
    }
out:
    gbuf_free(&gx);
    gbuf_free(&gg);
    gbuf_free(&gb);
    gbuf_free(&gy);
    free(x);
    free(gamma);
    free(beta);
    free(yc);
}

TEST(gpu_gn_sd_levels_batch2) {
    if (!setup()) return;
    const gn_case cases[] = {
        {2, 96 * 64, 320, 32, 1e-5f, true, true, false, 0.0f, 4.0f, GN_AUTO},
        {2, 96 * 64, 320, 32, 1e-6f, false, true, false, 0.5f, 2.0f, GN_AUTO},
        {2, 48 * 32, 640, 32, 1e-5f, true, true, false, 0.0f, 1.0f, GN_AUTO},
        {2, 24 * 16, 960, 32, 1e-5f, true, true, false, -1.0f, 3.0f, GN_AUTO},
        {2, 24 * 16, 2560, 32, 1e-5f, true, true, false, 0.0f, 1.0f, GN_AUTO},
        {2, 12 * 8, 1280, 32, 1e-6f, false, true, false, 0.0f, 2.0f, GN_AUTO},
        {2, 12 * 8, 1280, 32, 1e-5f, true, false, false, 0.0f, 2.0f, GN_AUTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !test_failed(); i++) check_gn(&cases[i], 100 + i);
}

TEST(gpu_gn_frames_offset_in_place) {
    if (!setup()) return;
    const gn_case cases[] = {
        {16, 24 * 16, 640, 32, 1e-5f, true, true, false, 0.0f, 1.0f, GN_AUTO},        /* 8 frames x CFG 2 */
        {2, 48 * 32, 640, 32, 1e-6f, false, true, false, 100.0f, 1.0f, GN_AUTO},      /* mean = 170 std */
        {2, 48 * 32, 640, 32, 1e-6f, false, true, false, 100.0f, 1.0f, GN_GENERIC},
        {2, 24 * 16, 960, 32, 1e-5f, true, true, true, 0.0f, 2.0f, GN_AUTO},          /* y = x */
        {2, 24 * 16, 960, 32, 1e-5f, true, true, true, 0.0f, 2.0f, GN_GENERIC},
        {1, 64 * 64, 128, 32, 1e-6f, false, true, false, 0.0f, 1.0f, GN_AUTO},         /* VAE-like, cg 4 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !test_failed(); i++) check_gn(&cases[i], 200 + i);
}

TEST(gpu_gn_odd_shapes_and_variants) {
    if (!setup()) return;
    const gn_case cases[] = {
        {3, 35, 6, 3, 1e-5f, true, false, false, 0.0f, 1.0f, GN_AUTO},
        {3, 35, 6, 3, 1e-6f, false, true, false, 0.3f, 1.0f, GN_GENERIC},
        {3, 35, 6, 3, 1e-6f, true, true, false, 0.3f, 1.0f, GN_ROWS},
        {1, 7, 9000, 9, 1e-5f, true, true, false, 0.0f, 1.0f, GN_AUTO},    /* c/vec > 512: generic only */
        {2, 1, 64, 32, 1e-5f, false, true, false, 0.0f, 1.0f, GN_AUTO},    /* 2 values per group */
        {2, 5, 15, 5, 1e-5f, true, true, false, 0.0f, 1.0f, GN_AUTO},      /* odd c: scalar vectors */
        {2, 96 * 64, 320, 32, 1e-5f, true, true, false, 0.0f, 4.0f, GN_GENERIC},
        {2, 12 * 8, 1280, 32, 1e-5f, true, true, false, 0.0f, 2.0f, GN_ROWS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !test_failed(); i++) check_gn(&cases[i], 300 + i);
}

TEST(gpu_gn_rejects_bad_args) {
    if (!setup()) return;
    anim_error e;
    uint16_t dummy[8];
    bk_group_norm a = {.x = dummy, .y = dummy, .n = 1, .hw = 1, .c = 6, .groups = 4, .eps = 1e-5f};
    CHECK_STATUS(gpu->ops->group_norm(gpu, &a, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "divisible");
    a.groups = 3;
    a.eps = -1.0f;
    CHECK_STATUS(gpu->ops->group_norm(gpu, &a, &e), ANIM_E_INVALID_ARG, &e);
    a.eps = 1e-5f;
    a.hw = 0;
    CHECK_STATUS(gpu->ops->group_norm(gpu, &a, &e), ANIM_E_INVALID_ARG, &e);
}

/* ---- layer norm ------------------------------------------------------------ */

static void check_ln(int m, int c, float eps, bool affine, bool in_place, uint64_t seed) {
    char what[160];
    snprintf(what, sizeof what, "layer_norm(m %d c %d eps %g%s%s)", m, c, (double)eps, affine ? " affine" : "",
             in_place ? " in-place" : "");
    test_rng r;
    test_rng_seed(&r, seed);
    const size_t nx = (size_t)m * c;
    float *x = rand_f16(&r, nx, -3.0f, 5.0f);
    float *gamma = rand_f16(&r, (size_t)c, 0.5f, 1.5f), *beta = rand_f16(&r, (size_t)c, -0.5f, 0.5f);
    float *yc = malloc(nx * sizeof *yc);
    anim_error e;
    gbuf gx = {0}, gg = {0}, gb = {0}, gy = {0};
    bk_layer_norm a = {.x = x, .gamma = affine ? gamma : NULL, .beta = affine ? beta : NULL, .y = yc, .m = m, .c = c,
                       .eps = eps};
    if (cpu->ops->layer_norm(cpu, &a, &e) != ANIM_OK) { test_fail(__FILE__, __LINE__, "cpu %s: %s", what, e.msg); goto out; }
    if (!gbuf_new(&gx, x, nx) || !gbuf_new(&gg, gamma, (size_t)c) || !gbuf_new(&gb, beta, (size_t)c)) goto out;
    if (!in_place && !gbuf_new(&gy, NULL, nx)) goto out;
    gbuf *yb = in_place ? &gx : &gy;
    a.x = gx.p;
    a.gamma = affine ? gg.p : NULL;
    a.beta = affine ? gb.p : NULL;
    a.y = yb->p;
    if (gpu->ops->layer_norm(gpu, &a, &e) != ANIM_OK || gpu->ops->sync(gpu, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "cuda %s: %s", what, e.msg);
    } else {
        float *yg = gbuf_get(yb, what);
        if (yg && !compare(what, yg, yc, nx, 1e-6, 2e-3, 2e-3)) test_fail(__FILE__, __LINE__, "%s differs", what);
        free(yg);
    }
out:
    gbuf_free(&gx);
    gbuf_free(&gg);
    gbuf_free(&gb);
    gbuf_free(&gy);
    free(x);
    free(gamma);
    free(beta);
    free(yc);
}

TEST(gpu_ln_shapes) {
    if (!setup()) return;
    check_ln(6144, 320, 1e-5f, true, false, 1);
    if (!test_failed()) check_ln(257, 1024, 1e-5f, true, false, 2);   /* CLIP ViT-L/14 tokens */
    if (!test_failed()) check_ln(768, 1280, 1e-5f, true, false, 3);
    if (!test_failed()) check_ln(37, 40, 1e-6f, false, false, 4);
    if (!test_failed()) check_ln(5, 37, 1e-6f, true, false, 5);        /* odd c: scalar loads */
    if (!test_failed()) check_ln(1536, 640, 1e-5f, true, true, 6);     /* y = x */
}

/* ---- linear ------------------------------------------------------------------ */

typedef struct lin_case {
    int m, n, k, ldx, ldy;   /* 0 = k, n */
    bool bias, res, in_place;
    int x_off;               /* elements: 1 misaligns x */
} lin_case;

static void check_linear(const lin_case *t, uint64_t seed) {
    const int ldx = t->ldx ? t->ldx : t->k, ldy = t->ldy ? t->ldy : t->n;
    char what[200];
    snprintf(what, sizeof what, "linear(m %d n %d k %d ldx %d ldy %d%s%s%s%s)", t->m, t->n, t->k, ldx, ldy,
             t->bias ? " bias" : "", t->res ? " res" : "", t->in_place ? " in-place" : "", t->x_off ? " x+1" : "");
    test_rng r;
    test_rng_seed(&r, seed);
    const float a_w = sqrtf(3.0f / (float)t->k);
    const size_t nx = (size_t)t->m * ldx + (size_t)t->x_off, ny = (size_t)t->m * ldy;
    float *x = rand_f16(&r, nx, -1.0f, 1.0f);
    float *w = rand_f16(&r, (size_t)t->n * t->k, -a_w, a_w);
    float *bias = rand_f16(&r, (size_t)t->n, -1.0f, 1.0f);
    float *res = rand_f16(&r, ny, -1.0f, 1.0f);
    /* the CPU output buffer starts as the GPU's does: res (in place) or NaN */
    float *yc = malloc(ny * sizeof *yc), *yg = NULL;
    for (size_t i = 0; i < ny; i++) yc[i] = t->in_place ? res[i] : NAN;
    anim_error e;
    gbuf gx = {0}, gw = {0}, gbias = {0}, gres = {0}, gy = {0};
    bk_linear a = {.x = x + t->x_off, .w = w, .bias = t->bias ? bias : NULL,
                   .res = !t->res ? NULL : t->in_place ? yc : res, .y = yc,
                   .m = t->m, .n = t->n, .k = t->k, .ldx = t->ldx, .ldy = t->ldy};
    if (cpu->ops->linear(cpu, &a, &e) != ANIM_OK) { test_fail(__FILE__, __LINE__, "cpu %s: %s", what, e.msg); goto out; }
    if (!gbuf_new(&gx, x, nx) || !gbuf_new(&gw, w, (size_t)t->n * t->k) || !gbuf_new(&gbias, bias, (size_t)t->n))
        goto out;
    if (t->res && !t->in_place && !gbuf_new(&gres, res, ny)) goto out;
    if (!gbuf_new(&gy, t->in_place ? res : NULL, ny)) goto out;
    a.x = (uint16_t *)gx.p + t->x_off;
    a.w = gw.p;
    a.bias = t->bias ? gbias.p : NULL;
    a.res = !t->res ? NULL : t->in_place ? gy.p : gres.p;
    a.y = gy.p;
    if (gpu->ops->linear(gpu, &a, &e) != ANIM_OK || gpu->ops->sync(gpu, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "cuda %s: %s", what, e.msg);
        goto out;
    }
    yg = gbuf_get(&gy, what);
    if (!yg) goto out;
    /* elements j >= n of each row must be untouched (NaN, or res in place) */
    for (size_t i = 0; i < (size_t)t->m; i++)
        for (size_t j = (size_t)t->n; j < (size_t)ldy; j++) {
            const float g = yg[i * ldy + j], c = yc[i * ldy + j];
            if (!(g == c || (isnan(g) && isnan(c)))) {
                test_fail(__FILE__, __LINE__, "%s: element [%zu][%zu] beyond n written (%g, was %g)", what, i, j,
                          (double)g, (double)c);
                goto out;
            }
        }
    /* compare the m x n payload */
    for (size_t i = 0; i < (size_t)t->m; i++) {
        memmove(yg + i * t->n, yg + i * ldy, (size_t)t->n * sizeof *yg);
        memmove(yc + i * t->n, yc + i * ldy, (size_t)t->n * sizeof *yc);
    }
    if (!compare(what, yg, yc, (size_t)t->m * t->n, 1e-5, 4e-3, 2e-3)) test_fail(__FILE__, __LINE__, "%s differs", what);
out:
    gbuf_free(&gx);
    gbuf_free(&gw);
    gbuf_free(&gbias);
    gbuf_free(&gres);
    gbuf_free(&gy);
    free(x);
    free(w);
    free(bias);
    free(res);
    free(yc);
    free(yg);
}

TEST(gpu_linear_unet_shapes) {
    if (!setup()) return;
    const lin_case cases[] = {
        {6144, 2560, 320, 0, 0, true, false, false, 0},    /* GEGLU proj (ff.net.0.proj) */
        {6144, 320, 1280, 0, 0, true, true, true, 0},      /* ff.net.2 + residual, in place */
        {1536, 640, 640, 0, 0, false, false, false, 0},    /* to_q: no bias */
        {1536, 640, 640, 0, 0, false, true, true, 0},      /* residual in place, no bias */
        {384, 1280, 1280, 0, 0, true, true, false, 0},     /* to_out + residual, out of place */
        {300, 320, 320, 0, 0, false, true, false, 0},      /* residual out of place, no bias */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !test_failed(); i++) check_linear(&cases[i], 400 + i);
}

TEST(gpu_linear_strides_and_alignment) {
    if (!setup()) return;
    const lin_case cases[] = {
        {100, 48, 64, 80, 56, true, true, true, 0},     /* ldx > k, ldy > n, in place */
        {100, 48, 64, 72, 64, true, true, false, 0},    /* strided, residual out of place */
        {64, 40, 128, 0, 48, true, false, false, 0},    /* ldy > n, bias only */
        {77, 5, 3, 0, 0, true, false, false, 0},        /* k = 3: nothing is 16-byte aligned */
        {77, 5, 3, 0, 0, true, true, true, 0},
        {33, 40, 64, 0, 0, true, true, false, 1},       /* x misaligned by one element */
        {33, 40, 8, 9, 0, true, false, false, 0},       /* odd ldx */
        {1, 1, 1, 0, 0, true, true, false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !test_failed(); i++) check_linear(&cases[i], 500 + i);
}

TEST(gpu_linear_rejects_bad_args) {
    if (!setup()) return;
    anim_error e;
    uint16_t dummy[8];
    bk_linear a = {.x = dummy, .w = dummy, .y = dummy, .m = 1, .n = 2, .k = 4, .ldx = 3};
    CHECK_STATUS(gpu->ops->linear(gpu, &a, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "ldx");
    a.ldx = 0;
    a.ldy = 1;
    CHECK_STATUS(gpu->ops->linear(gpu, &a, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "ldy");
    a.ldy = 0;
    a.k = 0;
    CHECK_STATUS(gpu->ops->linear(gpu, &a, &e), ANIM_E_INVALID_ARG, &e);
}
