/*
 * test_gpu_conv.c - the CUDA conv2d (kernels/conv.cu via lib/cuda/op_conv.c)
 * against the CPU backend's conv2d (lib/cpu/ops_conv.c) on random fp16-rounded
 * inputs: SD UNet shapes at one frame (24x16, 48x32, 12x8, the 96x64x320 level
 * once), 1x1 shortcuts, stride-2 downsamples, the VAE's asymmetric pad
 * (0,1,0,1), cin 3 and 4, CLIP's 14x14 stride-14 patch conv, odd sizes and
 * kernel shapes, bias and residual on and off, residual in place; then every
 * tile configuration x load path x split-K factor forced on small problems.
 *
 * Limits: normalised MSE <= 1e-5 and per element |gpu - cpu| <= 1e-3 + 1e-3 |cpu|.
 * Inputs are x ~ U(-1,1), w ~ U(-a,a) with a = sqrt(3/K) (outputs of order 1),
 * bias, residual ~ U(-1,1). Both sides multiply the same fp16 values and sum
 * in fp32, so the difference is the GPU's final fp16 rounding (<= 2^-11
 * relative, nmse <= 2.4e-7) plus fp32 summation-order noise (~1e-6 absolute
 * at K = 23040). Outputs are poisoned with NaN before every run (an element
 * left unwritten fails: NaN never passes), and GUARD sentinel elements on
 * each side catch out-of-bounds writes.
 *
 * The plan heuristics and the launcher's argument checks are host logic and
 * run without a device; everything else skips with a message when the library
 * was built without CUDA or no device answers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "backend.h"

#ifdef ANIM_WITH_CUDA
#include "conv.h"
#include "cuda/cuda_internal.h"
#endif

#define GUARD 64
#define SENTINEL 1234.5f /* exactly representable in fp16 */
#define NMSE_MAX 1e-5
#define ATOL 1e-3
#define RTOL 1e-3

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
 * payload = host values, or NaN (poison) when host is NULL */
typedef struct { void *base; void *p; size_t n; } gbuf;

static bool gbuf_fill(gbuf *g, const float *host) {
    anim_error e;
    float *tmp = malloc((g->n + 2 * GUARD) * sizeof *tmp);
    if (!tmp) { test_fail(__FILE__, __LINE__, "out of host memory"); return false; }
    for (size_t i = 0; i < g->n + 2 * GUARD; i++) tmp[i] = SENTINEL;
    for (size_t i = 0; i < g->n; i++) tmp[GUARD + i] = host ? host[i] : NAN;
    anim_status st = gpu->ops->upload(gpu, g->base, tmp, g->n + 2 * GUARD, &e);
    free(tmp);
    if (st != ANIM_OK) { test_fail(__FILE__, __LINE__, "upload: %s", e.msg); return false; }
    return true;
}

static bool gbuf_new(gbuf *g, const float *host, size_t n) {
    anim_error e;
    g->n = n;
    if (gpu->ops->alloc(gpu, n + 2 * GUARD, &g->base, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "%s", e.msg);
        g->base = NULL;
        return false;
    }
    g->p = (uint16_t *)g->base + GUARD;
    return gbuf_fill(g, host);
}

static void gbuf_free(gbuf *g) {
    if (g->base) gpu->ops->free(gpu, g->base);
    g->base = NULL;
}

/* download, check the guards, return the payload (caller frees) */
static float *gbuf_get(gbuf *g, const char *what) {
    anim_error e;
    float *tmp = malloc((g->n + 2 * GUARD) * sizeof *tmp);
    if (!tmp) { test_fail(__FILE__, __LINE__, "out of host memory"); return NULL; }
    if (gpu->ops->download(gpu, tmp, g->base, g->n + 2 * GUARD, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "%s: %s", what, e.msg);
        free(tmp);
        return NULL;
    }
    for (size_t i = 0; i < GUARD; i++)
        if (tmp[i] != SENTINEL || tmp[GUARD + g->n + i] != SENTINEL) {
            test_fail(__FILE__, __LINE__, "%s: guard element %s the output overwritten", what,
                      tmp[i] != SENTINEL ? "before" : "after");
            free(tmp);
            return NULL;
        }
    float *out = malloc(g->n * sizeof *out);
    if (out) memcpy(out, tmp + GUARD, g->n * sizeof *out);
    free(tmp);
    return out;
}

static bool compare(const char *what, const float *gpu_out, const float *cpu_out, size_t n) {
    double *ref = malloc(n * sizeof *ref);
    if (!ref) return false;
    for (size_t i = 0; i < n; i++) ref[i] = cpu_out[i];
    bool ok = test_compare(what, gpu_out, ref, n, NMSE_MAX, ATOL, RTOL);
    free(ref);
    return ok;
}

static void round_f16(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = anim_f16_to_f32(anim_f32_to_f16(x[i]));
}

typedef struct conv_case {
    const char *name;
    int n, h, w, cin, cout, kh, kw, stride, pt, pl, pb, pr;
    int bias, res; /* 0/1 */
} conv_case;

static int out_h(const conv_case *c) { return (c->h + c->pt + c->pb - c->kh) / c->stride + 1; }
static int out_w(const conv_case *c) { return (c->w + c->pl + c->pr - c->kw) / c->stride + 1; }

/* host inputs of a case and the CPU reference output */
typedef struct conv_data {
    size_t nx, nw, ny;
    float *x, *w, *b, *r, *yref;
} conv_data;

static void data_free(conv_data *d) {
    free(d->x);
    free(d->w);
    free(d->b);
    free(d->r);
    free(d->yref);
    memset(d, 0, sizeof *d);
}

static bool data_make(const conv_case *c, uint64_t seed, conv_data *d) {
    memset(d, 0, sizeof *d);
    d->nx = (size_t)c->n * c->h * c->w * c->cin;
    d->nw = (size_t)c->cout * c->kh * c->kw * c->cin;
    d->ny = (size_t)c->n * out_h(c) * out_w(c) * c->cout;
    d->x = malloc(d->nx * sizeof *d->x);
    d->w = malloc(d->nw * sizeof *d->w);
    d->b = malloc((size_t)c->cout * sizeof *d->b);
    d->r = malloc(d->ny * sizeof *d->r);
    d->yref = malloc(d->ny * sizeof *d->yref);
    if (!d->x || !d->w || !d->b || !d->r || !d->yref) {
        test_fail(__FILE__, __LINE__, "out of host memory");
        data_free(d);
        return false;
    }
    test_rng rng;
    test_rng_seed(&rng, seed);
    const float a = sqrtf(3.0f / (float)((size_t)c->kh * c->kw * c->cin));
    test_fill_uniform(&rng, d->x, d->nx, -1.f, 1.f);
    test_fill_uniform(&rng, d->w, d->nw, -a, a);
    test_fill_uniform(&rng, d->b, (size_t)c->cout, -1.f, 1.f);
    test_fill_uniform(&rng, d->r, d->ny, -1.f, 1.f);
    round_f16(d->x, d->nx);
    round_f16(d->w, d->nw);
    round_f16(d->b, (size_t)c->cout);
    round_f16(d->r, d->ny);
    anim_error e;
    bk_conv2d args = {
        .x = d->x, .wt = d->w, .bias = c->bias ? d->b : NULL, .res = c->res ? d->r : NULL, .y = d->yref,
        .n = c->n, .h = c->h, .w = c->w, .cin = c->cin, .cout = c->cout, .kh = c->kh, .kw = c->kw,
        .stride = c->stride, .pad_t = c->pt, .pad_l = c->pl, .pad_b = c->pb, .pad_r = c->pr,
    };
    if (cpu->ops->conv2d(cpu, &args, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "cpu %s: %s", c->name, e.msg);
        data_free(d);
        return false;
    }
    return true;
}

/* the case through the backend op; in_place: the residual is uploaded into y and res = y */
static void run_case(const conv_case *c, uint64_t seed, bool in_place) {
    conv_data d;
    if (!data_make(c, seed, &d)) return;
    gbuf gx = {0}, gw = {0}, gb = {0}, gr = {0}, gy = {0};
    if (!gbuf_new(&gx, d.x, d.nx) || !gbuf_new(&gw, d.w, d.nw) || !gbuf_new(&gb, d.b, (size_t)c->cout) ||
        (c->res && !in_place && !gbuf_new(&gr, d.r, d.ny)) || !gbuf_new(&gy, in_place ? d.r : NULL, d.ny))
        goto out;
    anim_error e;
    bk_conv2d args = {
        .x = gx.p, .wt = gw.p, .bias = c->bias ? gb.p : NULL,
        .res = c->res ? (in_place ? gy.p : gr.p) : NULL, .y = gy.p,
        .n = c->n, .h = c->h, .w = c->w, .cin = c->cin, .cout = c->cout, .kh = c->kh, .kw = c->kw,
        .stride = c->stride, .pad_t = c->pt, .pad_l = c->pl, .pad_b = c->pb, .pad_r = c->pr,
    };
    if (gpu->ops->conv2d(gpu, &args, &e) != ANIM_OK || gpu->ops->sync(gpu, &e) != ANIM_OK) {
        test_fail(__FILE__, __LINE__, "cuda %s: %s", c->name, e.msg);
        goto out;
    }
    float *yg = gbuf_get(&gy, c->name);
    if (yg && !compare(c->name, yg, d.yref, d.ny)) test_fail(__FILE__, __LINE__, "%s differs", c->name);
    free(yg);
out:
    gbuf_free(&gx);
    gbuf_free(&gw);
    gbuf_free(&gb);
    gbuf_free(&gr);
    gbuf_free(&gy);
    data_free(&d);
}

static void run_cases(const conv_case *cases, int n, uint64_t seed) {
    for (int i = 0; i < n; i++) run_case(&cases[i], seed + (uint64_t)i, false);
}

/*                                         n   h   w  cin  cout kh kw  s  pt pl pb pr  b  r */
TEST(gpu_conv_unet_3x3) {
    if (!setup()) return;
    static const conv_case cases[] = {
        {"unet 24x16 320->320 3x3 +b+r",    1, 24, 16, 320, 320, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        {"unet 48x32 320->640 3x3 +b",      1, 48, 32, 320, 640, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {"unet 48x32 640->640 3x3 +r",      1, 48, 32, 640, 640, 3, 3, 1, 1, 1, 1, 1, 0, 1},
        {"unet 24x16 640->1280 3x3 +b+r",   1, 24, 16, 640, 1280, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        {"unet 12x8 1280->1280 3x3 +b+r",   1, 12, 8, 1280, 1280, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        {"unet 12x8 2560->1280 3x3 +b",     1, 12, 8, 2560, 1280, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {"unet 24x16 1920->1280 3x3 +b",    1, 24, 16, 1920, 1280, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {"unet 96x64 320->320 3x3 +b",      1, 96, 64, 320, 320, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {"unet conv_in 24x16 4->320 +b",    2, 24, 16, 4, 320, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {"unet conv_out 24x16 320->4 +b",   1, 24, 16, 320, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0},
    };
    run_cases(cases, (int)(sizeof cases / sizeof cases[0]), 100);
}

TEST(gpu_conv_1x1_shortcuts) {
    if (!setup()) return;
    static const conv_case cases[] = {
        {"1x1 24x16 640->1280 +b",          1, 24, 16, 640, 1280, 1, 1, 1, 0, 0, 0, 0, 1, 0},
        {"1x1 48x32 320->640 +b+r",         1, 48, 32, 320, 640, 1, 1, 1, 0, 0, 0, 0, 1, 1},
        {"1x1 48x32 960->320 +b",           1, 48, 32, 960, 320, 1, 1, 1, 0, 0, 0, 0, 1, 0},
        {"1x1 12x8 2560->1280 +r",          2, 12, 8, 2560, 1280, 1, 1, 1, 0, 0, 0, 0, 0, 1},
        {"1x1 proj 24x16 320->320",         1, 24, 16, 320, 320, 1, 1, 1, 0, 0, 0, 0, 0, 0},
        {"1x1 odd 7x5 24->13 +b+r",         3, 7, 5, 24, 13, 1, 1, 1, 0, 0, 0, 0, 1, 1},
        {"1x1 stride 2 48x32 320->640",     1, 48, 32, 320, 640, 1, 1, 2, 0, 0, 0, 0, 1, 0},
    };
    run_cases(cases, (int)(sizeof cases / sizeof cases[0]), 200);
}

TEST(gpu_conv_downsample_and_vae_pad) {
    if (!setup()) return;
    static const conv_case cases[] = {
        {"down 48x32 320 s2 p1",            1, 48, 32, 320, 320, 3, 3, 2, 1, 1, 1, 1, 1, 0},
        {"down 24x16 640 s2 p1",            2, 24, 16, 640, 640, 3, 3, 2, 1, 1, 1, 1, 1, 0},
        {"down 25x15 320 s2 p1 (odd)",      1, 25, 15, 320, 320, 3, 3, 2, 1, 1, 1, 1, 1, 1},
        {"vae down 64x48 128 s2 (0,1,0,1)", 1, 64, 48, 128, 128, 3, 3, 2, 0, 0, 1, 1, 1, 0},
        {"vae down 33x21 256 s2 (0,1,0,1)", 1, 33, 21, 256, 256, 3, 3, 2, 0, 0, 1, 1, 1, 0},
        {"vae 32x24 512->512 3x3 +b+r",     1, 32, 24, 512, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        {"vae conv_in 40x24 3->128 +b",     1, 40, 24, 3, 128, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {"vae conv_out 40x24 128->3 +b",    1, 40, 24, 128, 3, 3, 3, 1, 1, 1, 1, 1, 1, 0},
    };
    run_cases(cases, (int)(sizeof cases / sizeof cases[0]), 300);
}

TEST(gpu_conv_small_cin_patch_and_odd_shapes) {
    if (!setup()) return;
    static const conv_case cases[] = {
        {"clip patch 224x224x3 14/14 ->32", 1, 224, 224, 3, 32, 14, 14, 14, 0, 0, 0, 0, 0, 0},
        {"clip patch 2x224x224x3 ->72 +b",  2, 224, 224, 3, 72, 14, 14, 14, 0, 0, 0, 0, 1, 0},
        {"pose conv_in 48x32 3->16 +b",     2, 48, 32, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {"cin 4 12x8 4->320 s2",            1, 12, 8, 4, 320, 3, 3, 2, 1, 1, 1, 1, 1, 0},
        {"odd 7x5 24->40 +b+r",             3, 7, 5, 24, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        {"odd 7x5 20->13 +b+r",             2, 7, 5, 20, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        {"5x5 p2 9x11 16->24 +b+r",         1, 9, 11, 16, 24, 5, 5, 1, 2, 2, 2, 2, 1, 1},
        {"2x3 s3 pad(1,2,0,1) 8->40 +r",    1, 13, 17, 8, 40, 2, 3, 3, 1, 2, 0, 1, 0, 1},
        {"1x1 input 3x3 p1 1x1x64->64",     1, 1, 1, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        {"kernel = input 5x5x8->8",         2, 5, 5, 8, 8, 5, 5, 1, 0, 0, 0, 0, 1, 0},
    };
    run_cases(cases, (int)(sizeof cases / sizeof cases[0]), 400);
}

TEST(gpu_conv_residual_in_place) {
    if (!setup()) return;
    static const conv_case c1 = {"in-place res 24x16 320->320", 1, 24, 16, 320, 320, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    static const conv_case c2 = {"in-place res 12x8 1280 (split)", 1, 12, 8, 1280, 1280, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    static const conv_case c3 = {"in-place res 7x5 20->13", 2, 7, 5, 20, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    run_case(&c1, 500, true);
    run_case(&c2, 501, true);
    run_case(&c3, 502, true);
}

TEST(gpu_conv_bad_args) {
    if (!setup()) return;
    anim_error e;
    uint16_t dummy[8];
    bk_conv2d a = {.x = dummy, .wt = dummy, .y = dummy, .n = 1, .h = 2, .w = 2, .cin = 1, .cout = 1,
                   .kh = 5, .kw = 5, .stride = 1};
    CHECK_STATUS(gpu->ops->conv2d(gpu, &a, &e), ANIM_E_INVALID_ARG, &e);
    CHECK_CONTAINS(e.msg, "conv2d");
    a.kh = a.kw = 1;
    a.pad_l = -1;
    CHECK_STATUS(gpu->ops->conv2d(gpu, &a, &e), ANIM_E_INVALID_ARG, &e);
    a.pad_l = 0;
    a.stride = 0;
    CHECK_STATUS(gpu->ops->conv2d(gpu, &a, &e), ANIM_E_INVALID_ARG, &e);
    a.stride = 1;
    a.x = NULL;
    CHECK_STATUS(gpu->ops->conv2d(gpu, &a, &e), ANIM_E_INVALID_ARG, &e);
}

#ifdef ANIM_WITH_CUDA

static k_conv2d_params params_of(const conv_case *c, const void *x, const void *w, const void *b, const void *r,
                                 void *y) {
    k_conv2d_params p = {
        .x = x, .wt = w, .bias = b, .res = r, .y = y,
        .n = c->n, .h = c->h, .w = c->w, .cin = c->cin, .cout = c->cout, .kh = c->kh, .kw = c->kw,
        .stride = c->stride, .pad_t = c->pt, .pad_l = c->pl, .pad_b = c->pb, .pad_r = c->pr,
    };
    return p;
}

/* Host logic, no device needed: what the plan picks for the shapes that matter. */
TEST(gpu_conv_plan_heuristics) {
    /* any 16-byte-aligned non-NULL address will do: the plan only looks at alignment */
    const void *al = (const void *)(uintptr_t)0x10000, *mis = (const void *)(uintptr_t)0x10002;
    void *yal = (void *)(uintptr_t)0x20000;
    k_conv2d_plan pl;
    conv_case c = {"12x8 1280 b2", 2, 12, 8, 1280, 1280, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    k_conv2d_params p = params_of(&c, al, al, al, NULL, yal);
    k_conv2d_plan_auto(&p, 132, &pl);
    CHECK_MSG(pl.path == K_CONV_PATH_VEC, "12x8x1280 path %s", k_conv2d_path_name(pl.path));
    CHECK_MSG(pl.splits > 1, "12x8x1280 at batch 2 should split K (got %d, tile %s)", pl.splits,
              k_conv2d_cfg_name(pl.cfg));
    CHECK(k_conv2d_workspace_bytes(&p, &pl) == (size_t)pl.splits * 2 * 96 * 1280 * sizeof(float));
    c.n = 48;
    p = params_of(&c, al, al, al, NULL, yal);
    k_conv2d_plan_auto(&p, 132, &pl);
    CHECK_MSG(pl.splits == 1, "batch 48 needs no split (got %d)", pl.splits);
    CHECK(k_conv2d_workspace_bytes(&p, &pl) == 0);

    conv_case c1 = {"1x1", 48, 24, 16, 640, 1280, 1, 1, 1, 0, 0, 0, 0, 1, 0};
    p = params_of(&c1, al, al, al, NULL, yal);
    k_conv2d_plan_auto(&p, 132, &pl);
    CHECK_MSG(pl.path == K_CONV_PATH_1X1, "1x1 path %s", k_conv2d_path_name(pl.path));
    p.x = mis;
    k_conv2d_plan_auto(&p, 132, &pl);
    CHECK_MSG(pl.path == K_CONV_PATH_SCALAR, "misaligned x path %s", k_conv2d_path_name(pl.path));

    conv_case c2 = {"cin 4", 48, 96, 64, 4, 320, 3, 3, 1, 1, 1, 1, 1, 1, 0};
    p = params_of(&c2, al, al, al, NULL, yal);
    k_conv2d_plan_auto(&p, 132, &pl);
    CHECK_MSG(pl.path == K_CONV_PATH_SCALAR, "cin 4 path %s", k_conv2d_path_name(pl.path));
    conv_case c3 = {"cout 4", 48, 96, 64, 320, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0};
    p = params_of(&c3, al, al, al, NULL, yal);
    k_conv2d_plan_auto(&p, 132, &pl);
    CHECK_MSG(pl.cfg == K_CONV_CFG_128x32, "cout 4 tile %s", k_conv2d_cfg_name(pl.cfg));
    conv_case c4 = {"s2", 48, 96, 64, 320, 320, 1, 1, 2, 0, 0, 0, 0, 1, 0};
    p = params_of(&c4, al, al, al, NULL, yal);
    k_conv2d_plan_auto(&p, 132, &pl);
    CHECK_MSG(pl.path == K_CONV_PATH_VEC, "1x1 stride 2 path %s", k_conv2d_path_name(pl.path));

    /* the launcher refuses what does not fit before touching the device */
    p = params_of(&c, al, al, al, NULL, yal);
    k_conv2d_plan bad = {K_CONV_CFG_64x64, K_CONV_PATH_1X1, 1}; /* 3x3 on the 1x1 path */
    CHECK(k_conv2d(&p, &bad, NULL, NULL) == 1 /* cudaErrorInvalidValue */);
    bad.path = K_CONV_PATH_VEC;
    bad.splits = 4; /* split without a workspace */
    CHECK(k_conv2d(&p, &bad, NULL, NULL) == 1);
    bad.splits = 1;
    bad.cfg = K_CONV_CFG_COUNT;
    CHECK(k_conv2d(&p, &bad, NULL, NULL) == 1);
    p.kh = 20; /* kernel larger than the padded input */
    bad.cfg = K_CONV_CFG_64x64;
    CHECK(k_conv2d(&p, &bad, NULL, NULL) == 1);
    p = params_of(&c2, al, al, al, NULL, yal);
    bad.path = K_CONV_PATH_VEC; /* cin 4 on the vector path */
    CHECK(k_conv2d(&p, &bad, NULL, NULL) == 1);
}

/* Every tile configuration x load path x split factor on small problems, forced
 * through the launcher (the backend op only ever runs the plan's choice). */
static void run_variants(const conv_case *c, uint64_t seed, size_t x_shift) {
    conv_data d;
    if (!data_make(c, seed, &d)) return;
    cuda_impl *ci = IMPL(gpu);
    const bool is1x1 = c->kh == 1 && c->kw == 1 && c->stride == 1 && !c->pt && !c->pl && !c->pb && !c->pr;
    gbuf gx = {0}, gw = {0}, gb = {0}, gr = {0}, gy = {0};
    float *ws = NULL;
    /* x_shift elements before x's payload: x_shift = 1 makes x 2-byte but not 16-byte aligned */
    float *xs = calloc(d.nx + x_shift, sizeof *xs);
    if (!xs) { test_fail(__FILE__, __LINE__, "out of host memory"); goto out; }
    memcpy(xs + x_shift, d.x, d.nx * sizeof *xs);
    if (!gbuf_new(&gx, xs, d.nx + x_shift) || !gbuf_new(&gw, d.w, d.nw) || !gbuf_new(&gb, d.b, (size_t)c->cout) ||
        !gbuf_new(&gr, d.r, d.ny) || !gbuf_new(&gy, NULL, d.ny))
        goto out;
    const void *xp = (const uint16_t *)gx.p + x_shift;
    const k_conv2d_params p = params_of(c, xp, gw.p, c->bias ? gb.p : NULL, c->res ? gr.p : NULL, gy.p);
    if (x_shift) {
        k_conv2d_plan pl;
        k_conv2d_plan_auto(&p, 132, &pl);
        if (pl.path != K_CONV_PATH_SCALAR) {
            test_fail(__FILE__, __LINE__, "%s: misaligned x must take the scalar path", c->name);
            goto out;
        }
    }
    static const int split_list[] = {1, 2, 5};
    const size_t ws_bytes = (size_t)5 * d.ny * sizeof(float);
    if (cudaMalloc((void **)&ws, ws_bytes) != cudaSuccess) {
        test_fail(__FILE__, __LINE__, "cudaMalloc of %zu bytes failed", ws_bytes);
        ws = NULL;
        goto out;
    }
    for (int cfg = 0; cfg < K_CONV_CFG_COUNT; cfg++)
        for (int path = 0; path < K_CONV_PATH_COUNT; path++)
            for (int si = 0; si < 3; si++) {
                const k_conv2d_plan pl = {cfg, path, split_list[si]};
                const bool vec = c->cin % 8 == 0 && x_shift % 8 == 0;
                const bool fits = path == K_CONV_PATH_SCALAR || (path == K_CONV_PATH_VEC && vec) ||
                                  (path == K_CONV_PATH_1X1 && vec && is1x1);
                char what[160];
                snprintf(what, sizeof what, "%s [%s %s split %d]", c->name, k_conv2d_cfg_name(cfg),
                         k_conv2d_path_name(path), pl.splits);
                if (!gbuf_fill(&gy, NULL)) goto out; /* poison */
                int e = k_conv2d(&p, &pl, ws, ci->stream);
                if (!fits) {
                    if (e != 1) test_fail(__FILE__, __LINE__, "%s: should be refused, got %d", what, e);
                    continue;
                }
                cudaError_t se = cudaStreamSynchronize(ci->stream);
                if (e != 0 || se != cudaSuccess) {
                    test_fail(__FILE__, __LINE__, "%s: %s / %s", what, cudaGetErrorString((cudaError_t)e),
                              cudaGetErrorString(se));
                    goto out;
                }
                float *yg = gbuf_get(&gy, what);
                bool ok = yg && compare(what, yg, d.yref, d.ny);
                free(yg);
                if (!ok) {
                    test_fail(__FILE__, __LINE__, "%s differs", what);
                    goto out;
                }
            }
out:
    if (ws) cudaFree(ws);
    free(xs);
    gbuf_free(&gx);
    gbuf_free(&gw);
    gbuf_free(&gb);
    gbuf_free(&gr);
    gbuf_free(&gy);
    data_free(&d);
}

TEST(gpu_conv_every_variant) {
    if (!setup()) return;
    static const conv_case cases[] = {
        {"3x3 9x7 64->96 +b+r",             2, 9, 7, 64, 96, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        {"1x1 11x13 48->80 +b+r",           1, 11, 13, 48, 80, 1, 1, 1, 0, 0, 0, 0, 1, 1},
        {"3x3 s2 (0,1,0,1) 10x9 16->37 +b", 1, 10, 9, 16, 37, 3, 3, 2, 0, 0, 1, 1, 1, 0},
        {"5x5 p2 8x6 5->24 +r",             1, 8, 6, 5, 24, 5, 5, 1, 2, 2, 2, 2, 0, 1},
        {"3x3 20x3 40->264 +b+r",           1, 20, 3, 40, 264, 3, 3, 1, 1, 1, 1, 1, 1, 1},
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]) && !test_failed(); i++)
        run_variants(&cases[i], 600 + (uint64_t)i, 0);
    if (!test_failed()) run_variants(&cases[0], 700, 1); /* misaligned x */
}

#endif /* ANIM_WITH_CUDA */
