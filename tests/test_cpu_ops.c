/*
 * test_cpu_ops.c - the CPU reference backend (lib/cpu) against plain
 * double-precision implementations written out here, op by op.
 *
 * Every op: random inputs from fixed seeds, odd sizes next to real SD shapes,
 * outputs allocated with GUARD sentinel floats on both sides (and the output
 * itself pre-filled with the sentinel, so an unwritten element fails the
 * comparison), compared with test_compare (normalised MSE and a per-element
 * |err| <= atol + rtol |ref|). Limits, for fp32 against an exact reference:
 *   - sums of K products (conv, linear, attention scores): float accumulation
 *     in a fixed order, error grows ~ sqrt(K) ulp of the output scale:
 *     NMSE <= 1e-11, atol ~ 2e-6 * sqrt(K) * (typical |term|), rtol 1e-5;
 *   - normalisations (statistics in double): NMSE <= 1e-12, atol 2e-6, rtol 1e-6;
 *   - activations computed in double and rounded once: half an ulp
 *     (rtol 6e-8); geglu and axpby a few float roundings; copies
 *     (upsample, concat) and single float adds (add_channel) exact;
 *   - embeddings: 1e-6 against the float32 torch recipe redone here, and
 *     1e-6 + 1.5e-7 t against exact math (torch's float32 frequencies).
 * Set ANIM_TEST_VERBOSE=1 to print the measured NMSE and max |err| per case.
 * Determinism: conv, linear, attention and group norm give bitwise-identical
 * outputs on 1, 2 and 3 threads.
 */
#include <stdlib.h>

#include "backend.h"
#include "test.h"

#define GUARD 16
static const float SENT = -1234567.875f;   /* exactly representable sentinel */

/* ---- helpers ---------------------------------------------------------- */

static anim_be *be_new(int threads) {
    anim_be *be = NULL;
    anim_error e_, *e = &e_;
    if (anim_be_create_cpu(threads, &be, e) != ANIM_OK) {
        printf("    anim_be_create_cpu(%d): %s\n", threads, e->msg);
        return NULL;
    }
    return be;
}

/* n floats with GUARD sentinels on each side; the body is sentinel too */
static float *gnew(size_t n) {
    float *p = malloc((n + 2 * GUARD) * sizeof *p);
    if (!p) return NULL;
    for (size_t i = 0; i < n + 2 * GUARD; i++) p[i] = SENT;
    return p + GUARD;
}

static bool gok(const char *what, const float *p, size_t n) {
    for (size_t i = 1; i <= GUARD; i++)
        if (memcmp(&p[-(ptrdiff_t)i], &SENT, sizeof SENT) || memcmp(&p[n + i - 1], &SENT, sizeof SENT)) {
            printf("    %s: guard float overwritten (before or after %zu elements)\n", what, n);
            return false;
        }
    return true;
}

static void gfree(float *p) {
    if (p) free(p - GUARD);
}

static float *rnd(size_t n, uint64_t seed, float lo, float hi) {
    float *p = gnew(n);
    test_rng r;
    test_rng_seed(&r, seed);
    test_fill_uniform(&r, p, n, lo, hi);
    return p;
}

static bool verbose(void) {
    const char *v = getenv("ANIM_TEST_VERBOSE");
    return v && *v && *v != '0';
}

/* test_compare, plus the measured errors when verbose */
static bool cmp(const char *what, const float *out, const double *ref, size_t n, double nmse_max, double atol,
                double rtol) {
    if (verbose()) {
        double se = 0, sr = 0, mx = 0, mrel = 0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs((double)out[i] - ref[i]);
            se += d * d;
            sr += ref[i] * ref[i];
            if (d > mx) mx = d;
            if (fabs(ref[i]) > 1e-3 && d / fabs(ref[i]) > mrel) mrel = d / fabs(ref[i]);
        }
        printf("    %-44s n %-8zu nmse %.3g  max|err| %.3g  max rel %.3g\n", what, n, sr > 0 ? se / sr : se, mx,
               mrel);
    }
    return test_compare(what, out, ref, n, nmse_max, atol, rtol);
}

static double *dnew(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

static double silu_d(double x) { return x / (1.0 + exp(-x)); }
static double gelu_d(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

/* ---- conv2d --------------------------------------------------------------- */

typedef struct conv_case {
    int n, h, w, cin, cout, kh, kw, stride, pt, pl, pb, pr;
    bool bias, res;
} conv_case;

static void conv_ref(const conv_case *c, const float *x, const float *w, const float *bias, const float *res,
                     int ho, int wo, double *ref) {
    for (int b = 0; b < c->n; b++)
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++)
                for (int co = 0; co < c->cout; co++) {
                    double s = 0;
                    for (int r = 0; r < c->kh; r++)
                        for (int q = 0; q < c->kw; q++) {
                            int ih = oh * c->stride - c->pt + r, iw = ow * c->stride - c->pl + q;
                            if (ih < 0 || ih >= c->h || iw < 0 || iw >= c->w) continue;
                            const float *xp = x + (((size_t)b * c->h + ih) * c->w + iw) * c->cin;
                            const float *wp = w + (((size_t)co * c->kh + r) * c->kw + q) * c->cin;
                            for (int ci = 0; ci < c->cin; ci++) s += (double)xp[ci] * wp[ci];
                        }
                    size_t o = (((size_t)b * ho + oh) * wo + ow) * c->cout + co;
                    if (bias) s += bias[co];
                    if (res) s += res[o];
                    ref[o] = s;
                }
}

/* runs one case on be (and, when be_other is given, checks bitwise equality with it) */
static bool conv_run(anim_be *be, anim_be *be_other, const conv_case *c, uint64_t seed) {
    const int ho = (c->h + c->pt + c->pb - c->kh) / c->stride + 1;
    const int wo = (c->w + c->pl + c->pr - c->kw) / c->stride + 1;
    const size_t nx = (size_t)c->n * c->h * c->w * c->cin, nw = (size_t)c->cout * c->kh * c->kw * c->cin;
    const size_t ny = (size_t)c->n * ho * wo * c->cout, k = (size_t)c->kh * c->kw * c->cin;
    float *x = rnd(nx, seed, -1, 1), *w = rnd(nw, seed + 1, -1, 1);
    float *bias = c->bias ? rnd((size_t)c->cout, seed + 2, -1, 1) : NULL;
    float *res = c->res ? rnd(ny, seed + 3, -1, 1) : NULL;
    float *y = gnew(ny), *y2 = gnew(ny);
    double *ref = dnew(ny);
    char what[160];
    snprintf(what, sizeof what, "conv2d n%d %dx%dx%d->%d k%dx%d s%d pad(%d,%d,%d,%d)%s%s", c->n, c->h, c->w, c->cin,
             c->cout, c->kh, c->kw, c->stride, c->pt, c->pl, c->pb, c->pr, c->bias ? " bias" : "",
             c->res ? " res" : "");
    bk_conv2d a = { .x = x, .wt = w, .bias = bias, .res = res, .y = y, .n = c->n, .h = c->h, .w = c->w,
                    .cin = c->cin, .cout = c->cout, .kh = c->kh, .kw = c->kw, .stride = c->stride,
                    .pad_t = c->pt, .pad_l = c->pl, .pad_b = c->pb, .pad_r = c->pr };
    anim_error e_, *e = &e_;
    bool ok = true;
    if (be->ops->conv2d(be, &a, e) != ANIM_OK) {
        printf("    %s: %s\n", what, e->msg);
        ok = false;
    }
    if (ok && be_other) {
        a.y = y2;
        ok = be_other->ops->conv2d(be_other, &a, e) == ANIM_OK && memcmp(y, y2, ny * sizeof *y) == 0;
        if (!ok) printf("    %s: not bitwise identical across thread counts\n", what);
    } else if (ok) {
        conv_ref(c, x, w, bias, res, ho, wo, ref);
        ok = cmp(what, y, ref, ny, 1e-11, 2e-6 * sqrt((double)k), 1e-5) && gok(what, y, ny);
    }
    gfree(x); gfree(w); gfree(bias); gfree(res); gfree(y); gfree(y2); free(ref);
    return ok;
}

static const conv_case conv_cases[] = {
    /* n  h   w  cin cout kh kw s  pt pl pb pr  bias  res */
    { 2,  7,  5,  3,   6, 3, 3, 1, 1, 1, 1, 1, true,  true  },   /* 3x3 same, odd sizes */
    { 1,  7,  5,  6,   5, 3, 3, 1, 1, 1, 1, 1, false, false },
    { 1,  7,  5,  6,  17, 3, 3, 2, 1, 1, 1, 1, true,  false },   /* UNet downsample: s2 p1 */
    { 2,  8,  6,  4,   7, 3, 3, 2, 0, 0, 1, 1, true,  false },   /* VAE downsample: pad (0,0,1,1) */
    { 1,  7,  9,  5,   3, 3, 3, 2, 0, 0, 1, 1, false, true  },   /* same, odd input */
    { 2,  7,  5,  6,  33, 1, 1, 1, 0, 0, 0, 0, false, true  },   /* 1x1 shortcut */
    { 1,  6,  6,  5,   3, 1, 1, 2, 1, 0, 0, 1, true,  false },   /* 1x1, stride 2, padded */
    { 1, 28, 42,  3,  20, 14, 14, 14, 0, 0, 0, 0, false, false }, /* CLIP patch embedding (28x42 -> 2x3) */
    { 1,  5,  4,  3,   4, 2, 3, 1, 0, 2, 1, 0, true,  true  },   /* uneven kernel and padding */
    { 1,  3,  3,  2,   2, 5, 5, 1, 2, 2, 2, 2, true,  false },   /* kernel larger than input */
    { 1, 12,  8, 320, 320, 3, 3, 1, 1, 1, 1, 1, true, true  },   /* real channels, small plane */
};

TEST(cpu_conv2d_vs_double) {
    anim_be *be = be_new(2);
    CHECK(be);
    bool ok = true;
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        ok &= conv_run(be, NULL, &conv_cases[i], 100 + i);
    anim_be_free(be);
    CHECK(ok);
}

TEST(cpu_conv2d_deterministic_across_threads) {
    anim_be *b1 = be_new(1), *b2 = be_new(2), *b3 = be_new(3);
    CHECK(b1 && b2 && b3);
    bool ok = true;
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        ok &= conv_run(b1, b2, &conv_cases[i], 200 + i);
        ok &= conv_run(b1, b3, &conv_cases[i], 200 + i);
    }
    anim_be_free(b1); anim_be_free(b2); anim_be_free(b3);
    CHECK(ok);
}

/* ---- linear --------------------------------------------------------------- */

typedef struct lin_case {
    int m, n, k, ldx, ldy;
    bool bias, res, inplace;
    int ref_every;   /* check every this many rows against double (1 = all) */
} lin_case;

static bool lin_run(anim_be *be, anim_be *be_other, const lin_case *c, uint64_t seed) {
    const size_t ldx = c->ldx ? (size_t)c->ldx : (size_t)c->k, ldy = c->ldy ? (size_t)c->ldy : (size_t)c->n;
    const size_t nx = (size_t)(c->m - 1) * ldx + c->k, ny = (size_t)(c->m - 1) * ldy + c->n;
    float *x = rnd(nx, seed, -1, 1), *w = rnd((size_t)c->n * c->k, seed + 1, -1, 1);
    float *bias = c->bias ? rnd((size_t)c->n, seed + 2, -1, 1) : NULL;
    float *res = c->res ? rnd(ny, seed + 3, -1, 1) : NULL;
    float *y = gnew(ny), *y2 = gnew(ny);
    if (c->inplace) {   /* y starts as the residual and is updated in place */
        memcpy(y, res, ny * sizeof *y);
        memcpy(y2, res, ny * sizeof *y);
    }
    char what[160];
    snprintf(what, sizeof what, "linear m%d n%d k%d ldx%d ldy%d%s%s%s", c->m, c->n, c->k, c->ldx, c->ldy,
             c->bias ? " bias" : "", c->res ? " res" : "", c->inplace ? " in-place" : "");
    bk_linear a = { .x = x, .w = w, .bias = bias, .res = c->inplace ? y : res, .y = y, .m = c->m, .n = c->n,
                    .k = c->k, .ldx = c->ldx, .ldy = c->ldy };
    anim_error e_, *e = &e_;
    bool ok = be->ops->linear(be, &a, e) == ANIM_OK;
    if (!ok) printf("    %s: %s\n", what, e->msg);
    if (ok && be_other) {
        a.y = y2;
        if (c->inplace) a.res = y2;
        ok = be_other->ops->linear(be_other, &a, e) == ANIM_OK && memcmp(y, y2, ny * sizeof *y) == 0;
        if (!ok) printf("    %s: not bitwise identical across thread counts\n", what);
    } else if (ok) {
        /* reference on the checked rows, gathered compactly; the gaps between
         * rows (ldy > n) must still hold their previous contents */
        size_t rows = ((size_t)c->m + c->ref_every - 1) / c->ref_every, nr = rows * c->n, o = 0;
        double *ref = dnew(nr);
        float *got = malloc(nr * sizeof *got);
        for (int i = 0; i < c->m; i += c->ref_every)
            for (int j = 0; j < c->n; j++, o++) {
                double s = 0;
                for (int kk = 0; kk < c->k; kk++) s += (double)x[i * ldx + kk] * w[(size_t)j * c->k + kk];
                if (bias) s += bias[j];
                if (res) s += res[i * ldy + j];
                ref[o] = s;
                got[o] = y[i * ldy + j];
            }
        ok = cmp(what, got, ref, nr, 1e-11, 2e-6 * sqrt((double)c->k), 1e-5) && gok(what, y, ny);
        for (int i = 0; ok && i + 1 < c->m; i++)
            for (size_t j = (size_t)c->n; j < ldy; j++) {
                float want = c->inplace ? res[i * ldy + j] : SENT;
                if (memcmp(&y[i * ldy + j], &want, sizeof want)) {
                    printf("    %s: row gap element [%d][%zu] written\n", what, i, j);
                    ok = false;
                    break;
                }
            }
        free(ref);
        free(got);
    }
    gfree(x); gfree(w); gfree(bias); gfree(res); gfree(y); gfree(y2);
    return ok;
}

static const lin_case lin_cases[] = {
    /*  m    n    k  ldx ldy  bias   res    inplace every */
    { 7,    5,   3,   0,  0, false, false, false, 1 },
    { 37,  33,  19,  23, 40, true,  true,  true,  1 },   /* strided rows, in-place residual */
    { 37,  33,  19,  19, 35, true,  true,  false, 1 },
    { 1,   70,   9,   0,  0, true,  false, false, 1 },   /* one row, many features */
    { 65,  17,  40,  41,  0, false, true,  false, 1 },   /* m = 64 + 1 (tile edge) */
    { 130, 16, 320,   0,  0, true,  false, false, 1 },
    { 2,  1280, 320,  0,  0, true,  false, false, 1 },   /* time embedding linear_1 */
    { 1536, 640, 640, 0,  0, true,  true,  true,  13 },  /* level-1 proj, checked on every 13th row */
};

TEST(cpu_linear_vs_double) {
    anim_be *be = be_new(2);
    CHECK(be);
    bool ok = true;
    for (size_t i = 0; i < sizeof lin_cases / sizeof lin_cases[0]; i++) ok &= lin_run(be, NULL, &lin_cases[i], 300 + i);
    anim_be_free(be);
    CHECK(ok);
}

TEST(cpu_linear_deterministic_across_threads) {
    anim_be *b1 = be_new(1), *b2 = be_new(2), *b3 = be_new(3);
    CHECK(b1 && b2 && b3);
    bool ok = true;
    for (size_t i = 0; i + 1 < sizeof lin_cases / sizeof lin_cases[0]; i++) {
        ok &= lin_run(b1, b2, &lin_cases[i], 400 + i);
        ok &= lin_run(b1, b3, &lin_cases[i], 400 + i);
    }
    anim_be_free(b1); anim_be_free(b2); anim_be_free(b3);
    CHECK(ok);
}

/* ---- attention ------------------------------------------------------------ */

/* One attention problem over caller-laid-out buffers: q/k/v/k2/v2 are filled
 * with random values over their whole extent; o is a guarded buffer of o_len
 * floats, and every element the op must not write stays the sentinel. */
typedef struct attn_case {
    const char *name;
    bk_attention a;   /* shapes, strides, scale (pointers set by attn_run) */
    size_t q_len, k_len, v_len, k2_len, v2_len, o_len;
    /* offsets of k/v inside one shared buffer when kv_fused (v = k + v_off) */
    bool kv_fused;
    size_t v_off;
    double atol;
} attn_case;

static void attn_ref(const bk_attention *a, double *ref, bool *written) {
    const int nkt = a->nk + a->nk2, d = a->d_head;
    double *s = malloc((size_t)nkt * sizeof *s);
    for (int b = 0; b < a->batch; b++)
        for (int h = 0; h < a->heads; h++)
            for (int i = 0; i < a->nq; i++) {
                const float *q = (const float *)a->q + b * a->q_bs + i * a->q_ts + h * d;
                double mx = -INFINITY;
                for (int j = 0; j < nkt; j++) {
                    const float *k = j < a->nk ? (const float *)a->k + b * a->k_bs + j * a->k_ts + h * d
                                               : (const float *)a->k2 + b * a->k2_bs + (j - a->nk) * a->k2_ts + h * d;
                    double dot = 0;
                    for (int dd = 0; dd < d; dd++) dot += (double)q[dd] * k[dd];
                    s[j] = a->scale * dot;
                    if (s[j] > mx) mx = s[j];
                }
                double l = 0;
                for (int j = 0; j < nkt; j++) l += s[j] = exp(s[j] - mx);
                int64_t o = b * a->o_bs + i * a->o_ts + h * d;
                for (int dd = 0; dd < d; dd++) {
                    double acc = 0;
                    for (int j = 0; j < nkt; j++) {
                        const float *v = j < a->nk ? (const float *)a->v + b * a->v_bs + j * a->v_ts + h * d
                                                   : (const float *)a->v2 + b * a->v2_bs + (j - a->nk) * a->v2_ts + h * d;
                        acc += s[j] * v[dd];
                    }
                    ref[o + dd] = acc / l;
                    written[o + dd] = true;
                }
            }
    free(s);
}

static bool attn_run(anim_be *be, anim_be *be_other, const attn_case *c, uint64_t seed) {
    bk_attention a = c->a;
    float *q = rnd(c->q_len, seed, -1, 1);
    float *k = rnd(c->k_len, seed + 1, -1, 1);
    float *v = c->kv_fused ? NULL : rnd(c->v_len, seed + 2, -1, 1);
    float *k2 = c->k2_len ? rnd(c->k2_len, seed + 3, -1, 1) : NULL;
    float *v2 = c->v2_len ? rnd(c->v2_len, seed + 4, -1, 1) : NULL;
    float *o = gnew(c->o_len), *o2 = gnew(c->o_len);
    a.q = q; a.k = k; a.v = c->kv_fused ? k + c->v_off : v; a.k2 = k2; a.v2 = v2; a.o = o;
    anim_error e_, *e = &e_;
    bool ok = be->ops->attention(be, &a, e) == ANIM_OK;
    if (!ok) printf("    %s: %s\n", c->name, e->msg);
    if (ok && be_other) {
        a.o = o2;
        ok = be_other->ops->attention(be_other, &a, e) == ANIM_OK && memcmp(o, o2, c->o_len * sizeof *o) == 0;
        if (!ok) printf("    %s: not bitwise identical across thread counts\n", c->name);
    } else if (ok) {
        double *ref = dnew(c->o_len);
        bool *written = calloc(c->o_len, sizeof *written);
        attn_ref(&a, ref, written);
        size_t n = 0;
        float *got = malloc(c->o_len * sizeof *got);
        for (size_t i = 0; i < c->o_len; i++) {
            if (written[i]) {
                got[n] = o[i];
                ref[n++] = ref[i];
            } else if (memcmp(&o[i], &SENT, sizeof SENT)) {
                printf("    %s: element %zu outside the output written\n", c->name, i);
                ok = false;
                break;
            }
        }
        ok = ok && cmp(c->name, got, ref, n, 1e-11, c->atol, 1e-5) && gok(c->name, o, c->o_len);
        free(ref);
        free(written);
        free(got);
    }
    gfree(q); gfree(k); gfree(v); gfree(k2); gfree(v2); gfree(o); gfree(o2);
    return ok;
}

static attn_case attn_cases[6];
static size_t n_attn_cases;

static void attn_cases_init(void) {
    if (n_attn_cases) return;
    attn_case *c;
    /* A: token layout [b][tok][heads*d], d_head 40 */
    c = &attn_cases[n_attn_cases++];
    {
        const int B = 2, H = 3, D = 40, NQ = 13, NK = 29, C = H * D;
        *c = (attn_case){ .name = "attention tokens b2 h3 d40 nq13 nk29",
                          .a = { .batch = B, .heads = H, .d_head = D, .nq = NQ, .nk = NK,
                                 .q_bs = NQ * C, .q_ts = C, .k_bs = NK * C, .k_ts = C, .v_bs = NK * C, .v_ts = C,
                                 .o_bs = NQ * C, .o_ts = C, .scale = 1.0f / sqrtf((float)D) },
                          .q_len = (size_t)B * NQ * C, .k_len = (size_t)B * NK * C, .v_len = (size_t)B * NK * C,
                          .o_len = (size_t)B * NQ * C, .atol = 2e-6 };
    }
    /* B: d_head 3, fused kv buffer [b][nk][2C], segment 2 broadcast (batch
     * stride 0), output rows padded (o_ts = C + 5), sharp softmax (scale 4) */
    c = &attn_cases[n_attn_cases++];
    {
        const int B = 3, H = 2, D = 3, NQ = 5, NK = 7, NK2 = 11, C = H * D, OT = C + 5;
        *c = (attn_case){ .name = "attention d3 fused-kv seg2 broadcast padded-o",
                          .a = { .batch = B, .heads = H, .d_head = D, .nq = NQ, .nk = NK, .nk2 = NK2,
                                 .q_bs = NQ * C, .q_ts = C, .k_bs = NK * 2 * C, .k_ts = 2 * C, .v_bs = NK * 2 * C,
                                 .v_ts = 2 * C, .o_bs = NQ * OT, .o_ts = OT, .k2_bs = 0, .k2_ts = C, .v2_bs = 0,
                                 .v2_ts = C, .scale = 4.0f },
                          .q_len = (size_t)B * NQ * C, .k_len = (size_t)B * NK * 2 * C, .kv_fused = true,
                          .v_off = (size_t)C, .k2_len = (size_t)NK2 * C, .v2_len = (size_t)NK2 * C,
                          .o_len = (size_t)B * NQ * OT, .atol = 2e-6 };
    }
    /* C: temporal attention over an NHWC [F][HW][C] tensor: one sequence per
     * spatial position (batch = HW, batch stride C), tokens are frames
     * (token stride HW*C) */
    c = &attn_cases[n_attn_cases++];
    {
        const int F = 5, HW = 6, H = 2, D = 8, C = H * D;
        *c = (attn_case){ .name = "attention temporal F5 HW6 h2 d8",
                          .a = { .batch = HW, .heads = H, .d_head = D, .nq = F, .nk = F,
                                 .q_bs = C, .q_ts = HW * C, .k_bs = C, .k_ts = HW * C, .v_bs = C, .v_ts = HW * C,
                                 .o_bs = C, .o_ts = HW * C, .scale = 1.0f / sqrtf((float)D) },
                          .q_len = (size_t)F * HW * C, .k_len = (size_t)F * HW * C, .v_len = (size_t)F * HW * C,
                          .o_len = (size_t)F * HW * C, .atol = 2e-6 };
    }
    /* D: one key in segment 1, segment 2 per batch (non-zero batch stride), d 17 */
    c = &attn_cases[n_attn_cases++];
    {
        const int B = 2, H = 1, D = 17, NQ = 33, NK = 1, NK2 = 40, C = H * D;
        *c = (attn_case){ .name = "attention nk1 + seg2 per batch d17",
                          .a = { .batch = B, .heads = H, .d_head = D, .nq = NQ, .nk = NK, .nk2 = NK2,
                                 .q_bs = NQ * C, .q_ts = C, .k_bs = NK * C, .k_ts = C, .v_bs = NK * C, .v_ts = C,
                                 .o_bs = NQ * C, .o_ts = C, .k2_bs = NK2 * C, .k2_ts = C, .v2_bs = NK2 * C,
                                 .v2_ts = C, .scale = 1.0f / sqrtf((float)D) },
                          .q_len = (size_t)B * NQ * C, .k_len = (size_t)B * NK * C, .v_len = (size_t)B * NK * C,
                          .k2_len = (size_t)B * NK2 * C, .v2_len = (size_t)B * NK2 * C, .o_len = (size_t)B * NQ * C,
                          .atol = 2e-6 };
    }
    /* E: large scale: scores up to ~1000, exp overflows unless the row max is
     * subtracted first. The result is ill-conditioned in the scores (an error
     * of 1 ulp in a score of 1000 moves a weight by 6e-5), hence the atol. */
    c = &attn_cases[n_attn_cases++];
    {
        const int B = 1, H = 2, D = 40, NQ = 9, NK = 70, C = H * D;
        *c = (attn_case){ .name = "attention sharp softmax scale 30",
                          .a = { .batch = B, .heads = H, .d_head = D, .nq = NQ, .nk = NK,
                                 .q_bs = NQ * C, .q_ts = C, .k_bs = NK * C, .k_ts = C, .v_bs = NK * C, .v_ts = C,
                                 .o_bs = NQ * C, .o_ts = C, .scale = 30.0f },
                          .q_len = (size_t)B * NQ * C, .k_len = (size_t)B * NK * C, .v_len = (size_t)B * NK * C,
                          .o_len = (size_t)B * NQ * C, .atol = 2e-4 };
    }
    /* F: SD level-0 heads (8 x 40) with a reference bank, fewer tokens */
    c = &attn_cases[n_attn_cases++];
    {
        const int B = 1, H = 8, D = 40, NQ = 192, NK = 192, NK2 = 192, C = H * D;
        *c = (attn_case){ .name = "attention h8 d40 nq192 nk192+192",
                          .a = { .batch = B, .heads = H, .d_head = D, .nq = NQ, .nk = NK, .nk2 = NK2,
                                 .q_bs = NQ * C, .q_ts = C, .k_bs = NK * C, .k_ts = C, .v_bs = NK * C, .v_ts = C,
                                 .o_bs = NQ * C, .o_ts = C, .k2_bs = 0, .k2_ts = C, .v2_bs = 0, .v2_ts = C,
                                 .scale = 1.0f / sqrtf((float)D) },
                          .q_len = (size_t)B * NQ * C, .k_len = (size_t)B * NK * C, .v_len = (size_t)B * NK * C,
                          .k2_len = (size_t)NK2 * C, .v2_len = (size_t)NK2 * C, .o_len = (size_t)B * NQ * C,
                          .atol = 2e-6 };
    }
}

TEST(cpu_attention_vs_double) {
    attn_cases_init();
    anim_be *be = be_new(2);
    CHECK(be);
    bool ok = true;
    for (size_t i = 0; i < n_attn_cases; i++) ok &= attn_run(be, NULL, &attn_cases[i], 500 + 10 * i);
    anim_be_free(be);
    CHECK(ok);
}

TEST(cpu_attention_deterministic_across_threads) {
    attn_cases_init();
    anim_be *b1 = be_new(1), *b2 = be_new(2), *b3 = be_new(3);
    CHECK(b1 && b2 && b3);
    bool ok = true;
    for (size_t i = 0; i < n_attn_cases; i++) {
        ok &= attn_run(b1, b2, &attn_cases[i], 600 + 10 * i);
        ok &= attn_run(b1, b3, &attn_cases[i], 600 + 10 * i);
    }
    anim_be_free(b1); anim_be_free(b2); anim_be_free(b3);
    CHECK(ok);
}

/* ---- group norm ----------------------------------------------------------- */

typedef struct gn_case {
    int n, hw, c, groups;
    float eps;
    bool silu, affine, inplace;
    float lo, hi;   /* input range (an offset range tests the variance pass) */
} gn_case;

static bool gn_run(anim_be *be, anim_be *be_other, const gn_case *c, uint64_t seed) {
    const size_t nx = (size_t)c->n * c->hw * c->c;
    float *x = rnd(nx, seed, c->lo, c->hi);
    float *gamma = c->affine ? rnd((size_t)c->c, seed + 1, 0.5f, 1.5f) : NULL;
    float *beta = c->affine ? rnd((size_t)c->c, seed + 2, -0.5f, 0.5f) : NULL;
    float *y = gnew(nx), *y2 = gnew(nx);
    double *ref = dnew(nx);
    char what[160];
    snprintf(what, sizeof what, "group_norm n%d hw%d c%d g%d eps%g%s%s%s [%g,%g)", c->n, c->hw, c->c, c->groups,
             (double)c->eps, c->silu ? " silu" : "", c->affine ? " affine" : "", c->inplace ? " in-place" : "",
             (double)c->lo, (double)c->hi);
    /* reference first: an in-place run overwrites x */
    const int cg = c->c / c->groups;
    for (int b = 0; b < c->n; b++)
        for (int g = 0; g < c->groups; g++) {
            double s = 0, ss = 0, cnt = (double)c->hw * cg;
            for (int p = 0; p < c->hw; p++)
                for (int k = 0; k < cg; k++) s += x[((size_t)b * c->hw + p) * c->c + g * cg + k];
            double mean = s / cnt;
            for (int p = 0; p < c->hw; p++)
                for (int k = 0; k < cg; k++) {
                    double d = x[((size_t)b * c->hw + p) * c->c + g * cg + k] - mean;
                    ss += d * d;
                }
            double rstd = 1.0 / sqrt(ss / cnt + c->eps);
            for (int p = 0; p < c->hw; p++)
                for (int k = 0; k < cg; k++) {
                    size_t i = ((size_t)b * c->hw + p) * c->c + g * cg + k;
                    double v = (x[i] - mean) * rstd;
                    if (gamma) v = v * gamma[g * cg + k] + beta[g * cg + k];
                    ref[i] = c->silu ? silu_d(v) : v;
                }
        }
    float *dst = y;
    if (c->inplace) {
        memcpy(y, x, nx * sizeof *y);
        memcpy(y2, x, nx * sizeof *y);
    }
    bk_group_norm a = { .x = c->inplace ? y : x, .gamma = gamma, .beta = beta, .y = dst, .n = c->n, .hw = c->hw,
                        .c = c->c, .groups = c->groups, .eps = c->eps, .silu = c->silu };
    anim_error e_, *e = &e_;
    bool ok = be->ops->group_norm(be, &a, e) == ANIM_OK;
    if (!ok) printf("    %s: %s\n", what, e->msg);
    if (ok && be_other) {
        a.y = y2;
        if (c->inplace) a.x = y2;
        ok = be_other->ops->group_norm(be_other, &a, e) == ANIM_OK && memcmp(y, y2, nx * sizeof *y) == 0;
        if (!ok) printf("    %s: not bitwise identical across thread counts\n", what);
    } else if (ok) {
        /* one rounding of the double result: float rounding of y (6e-8
         * relative) plus the silu's own */
        ok = cmp(what, y, ref, nx, 1e-12, 1e-6, 1e-6) && gok(what, y, nx);
    }
    gfree(x); gfree(gamma); gfree(beta); gfree(y); gfree(y2); free(ref);
    return ok;
}

static const gn_case gn_cases[] = {
    /* n   hw     c  groups eps   silu   affine inplace lo   hi */
    { 2,  35,   6,  3, 1e-5f, false, true,  false, -1, 1 },
    { 3,  35,   6,  2, 1e-6f, true,  true,  false, -3, 3 },
    { 1,   7,   6,  6, 1e-5f, true,  false, false, -1, 1 },    /* group = 1 channel, no affine */
    { 2,  13,  12,  1, 1e-5f, false, false, true,  -1, 1 },    /* one group, in place */
    { 2,  20,  64, 32, 1e-6f, false, true,  false, 100, 101 }, /* offset data: mean >> spread */
    { 2, 192, 320, 32, 1e-5f, true,  true,  false, -2, 2 },    /* SD resnet norm, small plane */
};

TEST(cpu_group_norm_vs_double) {
    anim_be *be = be_new(2);
    CHECK(be);
    bool ok = true;
    for (size_t i = 0; i < sizeof gn_cases / sizeof gn_cases[0]; i++) ok &= gn_run(be, NULL, &gn_cases[i], 700 + i);
    anim_be_free(be);
    CHECK(ok);
}

TEST(cpu_group_norm_deterministic_across_threads) {
    anim_be *b1 = be_new(1), *b2 = be_new(2), *b3 = be_new(3);
    CHECK(b1 && b2 && b3);
    bool ok = true;
    for (size_t i = 0; i < sizeof gn_cases / sizeof gn_cases[0]; i++) {
        ok &= gn_run(b1, b2, &gn_cases[i], 800 + i);
        ok &= gn_run(b1, b3, &gn_cases[i], 800 + i);
    }
    anim_be_free(b1); anim_be_free(b2); anim_be_free(b3);
    CHECK(ok);
}

/* ---- layer norm ----------------------------------------------------------- */

TEST(cpu_layer_norm_vs_double) {
    anim_be *be = be_new(2);
    CHECK(be);
    const struct { int m, c; bool affine, inplace; float lo, hi, eps; } cases[] = {
        { 5, 7, true, false, -1, 1, 1e-5f },
        { 33, 40, false, false, -2, 2, 1e-5f },
        { 17, 3, true, true, -1, 1, 1e-6f },
        { 9, 64, true, false, 50, 50.5f, 1e-5f },   /* offset data */
        { 384, 320, true, false, -2, 2, 1e-5f },
    };
    bool ok = true;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int m = cases[t].m, c = cases[t].c;
        const size_t n = (size_t)m * c;
        float *x = rnd(n, 900 + t, cases[t].lo, cases[t].hi);
        float *gamma = cases[t].affine ? rnd((size_t)c, 950 + t, 0.5f, 1.5f) : NULL;
        float *beta = cases[t].affine ? rnd((size_t)c, 970 + t, -0.5f, 0.5f) : NULL;
        float *y = gnew(n);
        double *ref = dnew(n);
        for (int i = 0; i < m; i++) {
            double s = 0, ss = 0;
            for (int k = 0; k < c; k++) s += x[(size_t)i * c + k];
            double mean = s / c;
            for (int k = 0; k < c; k++) ss += (x[(size_t)i * c + k] - mean) * (x[(size_t)i * c + k] - mean);
            double rstd = 1.0 / sqrt(ss / c + cases[t].eps);
            for (int k = 0; k < c; k++) {
                double v = (x[(size_t)i * c + k] - mean) * rstd;
                ref[(size_t)i * c + k] = gamma ? v * gamma[k] + beta[k] : v;
            }
        }
        if (cases[t].inplace) memcpy(y, x, n * sizeof *y);
        bk_layer_norm a = { .x = cases[t].inplace ? y : x, .gamma = gamma, .beta = beta, .y = y, .m = m, .c = c,
                            .eps = cases[t].eps };
        anim_error e_, *e = &e_;
        char what[96];
        snprintf(what, sizeof what, "layer_norm m%d c%d%s%s", m, c, cases[t].affine ? " affine" : "",
                 cases[t].inplace ? " in-place" : "");
        if (be->ops->layer_norm(be, &a, e) != ANIM_OK) {
            printf("    %s: %s\n", what, e->msg);
            ok = false;
        } else {
            ok &= cmp(what, y, ref, n, 1e-12, 1e-6, 1e-6) && gok(what, y, n);
        }
        gfree(x); gfree(gamma); gfree(beta); gfree(y); free(ref);
    }
    anim_be_free(be);
    CHECK(ok);
}

/* ---- softmax -------------------------------------------------------------- */

TEST(cpu_softmax_vs_double) {
    anim_be *be = be_new(2);
    CHECK(be);
    const struct { int m, n; float scale, range; bool inplace; } cases[] = {
        { 3, 7, 1.0f, 2, false }, { 5, 300, 0.3f, 4, true }, { 4, 77, 50.0f, 4, false },   /* exp(200) overflows */
        { 1, 1, 1.0f, 1, false },
    };
    bool ok = true;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int m = cases[t].m, n = cases[t].n;
        const size_t len = (size_t)m * n;
        float *x = rnd(len, 1000 + t, -cases[t].range, cases[t].range), *y = gnew(len);
        double *ref = dnew(len);
        for (int i = 0; i < m; i++) {
            double mx = -INFINITY, l = 0;
            /* the op scales in float (s = scale*x rounded): the reference
             * uses the same float scores, then exact math */
            for (int j = 0; j < n; j++) mx = fmax(mx, (double)(cases[t].scale * x[(size_t)i * n + j]));
            for (int j = 0; j < n; j++) l += exp((double)(cases[t].scale * x[(size_t)i * n + j]) - mx);
            for (int j = 0; j < n; j++)
                ref[(size_t)i * n + j] = exp((double)(cases[t].scale * x[(size_t)i * n + j]) - mx) / l;
        }
        if (cases[t].inplace) memcpy(y, x, len * sizeof *y);
        anim_error e_, *e = &e_;
        char what[64];
        snprintf(what, sizeof what, "softmax m%d n%d scale %g%s", m, n, (double)cases[t].scale,
                 cases[t].inplace ? " in-place" : "");
        if (be->ops->softmax(be, cases[t].inplace ? y : x, y, m, n, cases[t].scale, e) != ANIM_OK) {
            printf("    %s: %s\n", what, e->msg);
            ok = false;
        } else {
            /* expf of (s - max) (s - max exact in float here) is within an ulp or two */
            ok &= cmp(what, y, ref, len, 1e-12, 1e-9, 1e-6) && gok(what, y, len);
        }
        gfree(x); gfree(y); free(ref);
    }
    anim_be_free(be);
    CHECK(ok);
}

/* ---- activations, geglu ---------------------------------------------------- */

TEST(cpu_act_vs_double) {
    anim_be *be = be_new(2);
    CHECK(be);
    const size_t n = 20000;   /* > one elementwise block, so threads share it */
    float *x = rnd(n, 1100, -10, 10);
    const float special[] = { 0.0f, -0.0f, 1e-30f, -1e-30f, 30.0f, -30.0f, 100.0f, -100.0f, 1e30f, -1e30f };
    memcpy(x, special, sizeof special);
    bool ok = true;
    const char *names[] = { "act silu", "act gelu(erf)", "act quick_gelu" };
    for (int act = 0; act < 3; act++) {
        for (int inplace = 0; inplace < 2; inplace++) {
            float *y = gnew(n);
            double *ref = dnew(n);
            for (size_t i = 0; i < n; i++) {
                double v = x[i];
                ref[i] = act == BK_ACT_SILU ? silu_d(v) : act == BK_ACT_GELU ? gelu_d(v) : v / (1.0 + exp(-1.702 * v));
            }
            if (inplace) memcpy(y, x, n * sizeof *y);
            anim_error e_, *e = &e_;
            if (be->ops->act(be, (bk_act)act, inplace ? y : x, y, n, e) != ANIM_OK) {
                printf("    %s: %s\n", names[act], e->msg);
                ok = false;
            } else {
                /* computed in double, rounded once: half an ulp */
                ok &= cmp(names[act], y, ref, n, 1e-14, 1e-37, 6e-8) && gok(names[act], y, n);
            }
            gfree(y);
            free(ref);
        }
    }
    /* hand-checkable values */
    float hx[4] = { 0.0f, 1.0f, -1.0f, 2.0f }, hy[4];
    anim_error e_, *e = &e_;
    CHECK_OK(be->ops->act(be, BK_ACT_GELU, hx, hy, 4, e), e);
    CHECK(hy[0] == 0.0f && fabsf(hy[1] - 0.8413447f) < 1e-6f && fabsf(hy[2] + 0.1586553f) < 1e-6f &&
          fabsf(hy[3] - 1.9544997f) < 1e-6f);
    CHECK_OK(be->ops->act(be, BK_ACT_SILU, hx, hy, 4, e), e);
    CHECK(hy[0] == 0.0f && fabsf(hy[1] - 0.7310586f) < 1e-6f && fabsf(hy[2] + 0.2689414f) < 1e-6f);
    CHECK_OK(be->ops->act(be, BK_ACT_SILU, hx, hy, 0, e), e);   /* empty is fine */
    gfree(x);
    anim_be_free(be);
    CHECK(ok);
}

TEST(cpu_geglu_vs_double) {
    anim_be *be = be_new(2);
    CHECK(be);
    const int shapes[][2] = { { 5, 13 }, { 64, 1280 } };
    bool ok = true;
    for (int t = 0; t < 2; t++) {
        const int m = shapes[t][0], n = shapes[t][1];
        float *x = rnd((size_t)m * 2 * n, 1200 + t, -4, 4), *y = gnew((size_t)m * n);
        double *ref = dnew((size_t)m * n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                ref[(size_t)i * n + j] = (double)x[(size_t)i * 2 * n + j] * gelu_d(x[(size_t)i * 2 * n + n + j]);
        anim_error e_, *e = &e_;
        if (be->ops->geglu(be, x, y, m, n, e) != ANIM_OK) {
            printf("    geglu: %s\n", e->msg);
            ok = false;
        } else {
            /* gelu rounded to float, then a float product: two roundings */
            ok &= cmp("geglu", y, ref, (size_t)m * n, 1e-14, 1e-37, 1.2e-7) && gok("geglu", y, (size_t)m * n);
        }
        gfree(x); gfree(y); free(ref);
    }
    anim_be_free(be);
    CHECK(ok);
}

/* ---- upsample_nearest ------------------------------------------------------- */

/* exact floor(dst * in / out) in integers; PyTorch's float version agrees for
 * every size used here (checked by the hand-written tables below) */
static int up_src(int dst, int in, int out) {
    int s = (int)((int64_t)dst * in / out);
    return s < in - 1 ? s : in - 1;
}

TEST(cpu_upsample_nearest) {
    anim_be *be = be_new(2);
    CHECK(be);
    const int shapes[][6] = {   /* n h w c ho wo */
        { 2, 3, 4, 5, 6, 8 },       /* 2x */
        { 2, 13, 8, 3, 25, 16 },    /* forced size 13 -> 25 (UNet at 784 px) */
        { 1, 49, 32, 2, 98, 64 },   /* 49 -> 98 */
        { 3, 7, 5, 3, 5, 9 },       /* 7 -> 5 (shrinks), 5 -> 9 */
        { 1, 12, 8, 320, 24, 16 },  /* real channels */
    };
    bool ok = true;
    for (int t = 0; t < 5; t++) {
        const int n = shapes[t][0], h = shapes[t][1], w = shapes[t][2], c = shapes[t][3];
        const int ho = shapes[t][4], wo = shapes[t][5];
        const size_t nx = (size_t)n * h * w * c, ny = (size_t)n * ho * wo * c;
        float *x = rnd(nx, 1300 + t, -1, 1), *y = gnew(ny);
        double *ref = dnew(ny);
        for (int b = 0; b < n; b++)
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++)
                    for (int k = 0; k < c; k++)
                        ref[(((size_t)b * ho + oh) * wo + ow) * c + k] =
                            x[(((size_t)b * h + up_src(oh, h, ho)) * w + up_src(ow, w, wo)) * c + k];
        anim_error e_, *e = &e_;
        char what[80];
        snprintf(what, sizeof what, "upsample_nearest %dx%d -> %dx%d c%d", h, w, ho, wo, c);
        if (be->ops->upsample_nearest(be, x, y, n, h, w, c, ho, wo, e) != ANIM_OK) {
            printf("    %s: %s\n", what, e->msg);
            ok = false;
        } else {
            ok &= cmp(what, y, ref, ny, 0, 0, 0) && gok(what, y, ny);   /* a copy: exact */
        }
        gfree(x); gfree(y); free(ref);
    }
    /* hand tables: a 1-channel ramp x[i] = i shows the chosen source rows */
    float ramp[13], out[25];
    for (int i = 0; i < 13; i++) ramp[i] = (float)i;
    anim_error e_, *e = &e_;
    CHECK_OK(be->ops->upsample_nearest(be, ramp, out, 1, 7, 1, 1, 5, 1, e), e);
    const float want75[5] = { 0, 1, 2, 4, 5 };   /* floor(d * 1.4) */
    CHECK(memcmp(out, want75, sizeof want75) == 0);
    CHECK_OK(be->ops->upsample_nearest(be, ramp, out, 1, 13, 1, 1, 25, 1, e), e);
    const float want1325[25] = { 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12 };
    CHECK(memcmp(out, want1325, sizeof want1325) == 0);
    anim_be_free(be);
    CHECK(ok);
}

/* ---- axpby, add_channel, concat ------------------------------------------- */

TEST(cpu_axpby_add_channel_concat) {
    anim_be *be = be_new(2);
    CHECK(be);
    anim_error e_, *e = &e_;
    bool ok = true;
    /* axpby: y = alpha a + beta b in float, b optional, in place on a or b */
    const size_t n = 20001;
    float *a = rnd(n, 1400, -3, 3), *b = rnd(n, 1401, -3, 3);
    for (int mode = 0; mode < 4; mode++) {   /* 0 out of place, 1 y=a, 2 y=b, 3 b NULL */
        float *y = gnew(n);
        double *ref = dnew(n);
        for (size_t i = 0; i < n; i++) ref[i] = mode == 3 ? 3.5 * a[i] : 3.5 * a[i] - 2.5 * b[i];
        const float *pa = a, *pb = mode == 3 ? NULL : b;
        if (mode == 1) { memcpy(y, a, n * sizeof *y); pa = y; }
        if (mode == 2) { memcpy(y, b, n * sizeof *y); pb = y; }
        if (be->ops->axpby(be, 3.5f, pa, -2.5f, pb, y, n, e) != ANIM_OK) {
            printf("    axpby: %s\n", e->msg);
            ok = false;
        } else {
            /* two float products and a float sum: a few ulp of the larger term */
            ok &= cmp("axpby", y, ref, n, 1e-14, 3e-6, 1e-6) && gok("axpby", y, n);
        }
        gfree(y);
        free(ref);
    }
    gfree(a); gfree(b);

    /* add_channel: 6 frames of 7 positions, v per sample of 3 frames */
    {
        const int N = 6, HW = 7, C = 5, VDIV = 3;
        float *x = rnd((size_t)N * HW * C, 1410, -1, 1), *v = rnd((size_t)(N / VDIV) * C, 1411, -1, 1);
        float *y = gnew((size_t)N * HW * C);
        double *ref = dnew((size_t)N * HW * C);
        for (int i = 0; i < N; i++)
            for (int p = 0; p < HW; p++)
                for (int k = 0; k < C; k++) {
                    size_t o = ((size_t)i * HW + p) * C + k;
                    ref[o] = (double)(x[o] + v[(i / VDIV) * C + k]);   /* one float add */
                }
        if (be->ops->add_channel(be, x, v, y, N, HW, C, VDIV, e) != ANIM_OK) {
            printf("    add_channel: %s\n", e->msg);
            ok = false;
        } else {
            ok &= cmp("add_channel", y, ref, (size_t)N * HW * C, 0, 0, 0) && gok("add_channel", y, (size_t)N * HW * C);
        }
        /* in place */
        if (be->ops->add_channel(be, x, v, x, N, HW, C, VDIV, e) != ANIM_OK) ok = false;
        else ok &= cmp("add_channel in-place", x, ref, (size_t)N * HW * C, 0, 0, 0);
        gfree(x); gfree(v); gfree(y); free(ref);
    }

    /* concat_channels */
    {
        const int M = 7, CA = 3, CB = 5;
        float *pa = rnd((size_t)M * CA, 1420, -1, 1), *pb = rnd((size_t)M * CB, 1421, -1, 1);
        float *y = gnew((size_t)M * (CA + CB));
        double *ref = dnew((size_t)M * (CA + CB));
        for (int i = 0; i < M; i++) {
            for (int k = 0; k < CA; k++) ref[(size_t)i * (CA + CB) + k] = pa[i * CA + k];
            for (int k = 0; k < CB; k++) ref[(size_t)i * (CA + CB) + CA + k] = pb[i * CB + k];
        }
        if (be->ops->concat_channels(be, pa, pb, y, M, CA, CB, e) != ANIM_OK) {
            printf("    concat_channels: %s\n", e->msg);
            ok = false;
        } else {
            ok &= cmp("concat_channels", y, ref, (size_t)M * (CA + CB), 0, 0, 0) &&
                  gok("concat_channels", y, (size_t)M * (CA + CB));
        }
        gfree(pa); gfree(pb); gfree(y); free(ref);
    }
    anim_be_free(be);
    CHECK(ok);
}

/* ---- embeddings ------------------------------------------------------------- */

/* The torch arithmetic re-done step by step in float (as the op claims to),
 * with sin/cos taken in double: differs from the op only by sinf/cosf/expf
 * rounding. */
static void temb_float_ref(double *ref, float t, int dim, bool flip, float shift) {
    const int half = dim / 2;
    const float neg_log = (float)(-log(10000.0)), denom = (float)(half - (double)shift);
    for (int k = 0; k < half; k++) {
        float ex = (neg_log * (float)k) / denom;
        float arg = t * (float)exp((double)ex);   /* expf correctly rounded */
        ref[(flip ? half : 0) + k] = sin((double)arg);
        ref[(flip ? 0 : half) + k] = cos((double)arg);
    }
    if (dim % 2) ref[dim - 1] = 0;
}

TEST(cpu_timestep_embedding) {
    const float ts[] = { 0.0f, 1.0f, 10.0f, 500.5f, 999.0f };
    const int dims[] = { 320, 7, 2 };
    bool ok = true;
    for (size_t ti = 0; ti < 5; ti++)
        for (size_t di = 0; di < 3; di++)
            for (int flip = 0; flip < 2; flip++)
                for (int sh = 0; sh < 2; sh++) {
                    const int dim = dims[di];
                    const float t = ts[ti], shift = (float)sh;
                    if (dim / 2 - shift <= 0) continue;   /* 0/0 in torch too */
                    float *out = gnew((size_t)dim);
                    double *ref = dnew((size_t)dim), *exact = dnew((size_t)dim);
                    anim_timestep_embedding(out, t, dim, flip, shift);
                    temb_float_ref(ref, t, dim, flip, shift);
                    /* exact math: freq_k = exp(-ln(1e4) k / (half - shift)) */
                    const int half = dim / 2;
                    for (int k = 0; k < half; k++) {
                        double arg = t * exp(-log(10000.0) * k / (half - shift));
                        exact[(flip ? half : 0) + k] = sin(arg);
                        exact[(flip ? 0 : half) + k] = cos(arg);
                    }
                    char what[96];
                    snprintf(what, sizeof what, "timestep_embedding t%g dim%d flip%d shift%d", (double)t, dim, flip,
                             sh);
                    /* vs the float32 torch recipe: 1e-6 (sinf/cosf of |arg| <= 1000) */
                    ok &= cmp(what, out, ref, (size_t)dim, 1e-12, 1e-6, 0) && gok(what, out, (size_t)dim);
                    /* vs exact math: freq carries float rounding (relative ~|exponent| 2^-24),
                     * times t in the argument */
                    ok &= cmp("  ... vs exact math", out, exact, (size_t)dim, 1e-9, 1e-6 + 1.5e-7 * t, 0);
                    gfree(out); free(ref); free(exact);
                }
    /* hand values: t = 0 gives cos 0 = 1 then sin 0 = 0 with the flip */
    float e8[9];
    anim_timestep_embedding(e8, 0.0f, 8, true, 0.0f);
    const float want_flip[8] = { 1, 1, 1, 1, 0, 0, 0, 0 };
    CHECK(memcmp(e8, want_flip, sizeof want_flip) == 0);
    anim_timestep_embedding(e8, 0.0f, 8, false, 1.0f);
    const float want_noflip[8] = { 0, 0, 0, 0, 1, 1, 1, 1 };
    CHECK(memcmp(e8, want_noflip, sizeof want_noflip) == 0);
    /* t = 1, k = 0 has frequency 1: cos(1), sin(1); odd dim pads a zero */
    e8[8] = 123.0f;
    anim_timestep_embedding(e8, 1.0f, 9, true, 0.0f);
    CHECK(fabsf(e8[0] - 0.5403023f) < 1e-7f && fabsf(e8[4] - 0.8414710f) < 1e-7f && e8[8] == 0.0f);
    /* k = 1 of dim 320, shift 0: freq = 10000^(-1/160) = 0.94406088 */
    float e320[320];
    anim_timestep_embedding(e320, 1.0f, 320, true, 0.0f);
    CHECK(fabsf(e320[161] - (float)sin(0.94406087628592)) < 1e-7f);
    CHECK(ok);
}

TEST(cpu_sinusoidal_pe) {
    const int lens[] = { 32, 24 }, dims[] = { 320, 7 };
    bool ok = true;
    for (int t = 0; t < 2; t++) {
        const int L = lens[t], D = dims[t];
        const size_t n = (size_t)L * D;
        float *pe = gnew(n);
        double *ref = dnew(n), *exact = dnew(n);
        anim_sinusoidal_pe(pe, L, D);
        const float c = (float)(-log(10000.0) / D);
        for (int p = 0; p < L; p++)
            for (int i2 = 0; i2 < D; i2 += 2) {
                float arg = (float)p * (float)exp((double)((float)i2 * c));
                double earg = p * exp(-log(10000.0) * i2 / D);
                ref[(size_t)p * D + i2] = sin((double)arg);
                exact[(size_t)p * D + i2] = sin(earg);
                if (i2 + 1 < D) {
                    ref[(size_t)p * D + i2 + 1] = cos((double)arg);
                    exact[(size_t)p * D + i2 + 1] = cos(earg);
                }
            }
        ok &= cmp("sinusoidal_pe (float recipe)", pe, ref, n, 1e-12, 1e-6, 0) && gok("sinusoidal_pe", pe, n);
        ok &= cmp("sinusoidal_pe (exact math)", pe, exact, n, 1e-10, 2e-5, 0);
        /* position 0: [0, 1, 0, 1, ...]; position 1: sin(1), cos(1) first */
        for (int i = 0; i < D; i++) ok &= pe[i] == (i % 2 ? 1.0f : 0.0f);
        ok &= fabsf(pe[D] - 0.8414710f) < 1e-7f && fabsf(pe[D + 1] - 0.5403023f) < 1e-7f;
        gfree(pe); free(ref); free(exact);
    }
    CHECK(ok);
}

/* ---- backend object, memory, errors ------------------------------------------ */

TEST(cpu_backend_memory) {
    anim_be *be = be_new(0);
    CHECK(be);
    CHECK(be->kind == ANIM_BACKEND_CPU && be->storage == ANIM_DT_F32 && strcmp(be->ops->name, "cpu") == 0);
    anim_error e_, *e = &e_;
    void *p = NULL;
    bool ok = be->ops->alloc(be, 1000, &p, e) == ANIM_OK && p && ((uintptr_t)p % 64) == 0;
    float src[1000], back[1000];
    for (int i = 0; i < 1000; i++) src[i] = (float)i * 0.5f - 7.0f;
    ok = ok && be->ops->upload(be, p, src, 1000, e) == ANIM_OK && be->ops->sync(be, e) == ANIM_OK &&
         be->ops->download(be, back, p, 1000, e) == ANIM_OK && memcmp(src, back, sizeof src) == 0;
    be->ops->free(be, p);
    void *z = NULL;   /* zero elements still gives a freeable pointer */
    ok = ok && be->ops->alloc(be, 0, &z, e) == ANIM_OK && z;
    be->ops->free(be, z);
    be->ops->free(be, NULL);
    CHECK_MSG(ok, "alloc/upload/download round trip failed: %s", e->msg);
    void *huge = (void *)1;
    CHECK_STATUS(be->ops->alloc(be, SIZE_MAX / 2, &huge, e), ANIM_E_OOM, e);
    CHECK(huge == NULL);
    CHECK_CONTAINS(e->msg, "could not allocate");
    anim_be_free(be);
    anim_be_free(NULL);
    anim_be *bad = (anim_be *)1;
    CHECK_STATUS(anim_be_create_cpu(-2, &bad, e), ANIM_E_INVALID_ARG, e);
    CHECK(bad == NULL);
}

TEST(cpu_invalid_arguments_named) {
    anim_be *be = be_new(2);
    CHECK(be);
    anim_error e_, *e = &e_;
    float buf[64] = { 0 };
    bk_group_norm gn = { .x = buf, .y = buf, .n = 1, .hw = 2, .c = 6, .groups = 4, .eps = 1e-5f };
    CHECK_STATUS(be->ops->group_norm(be, &gn, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "group_norm");
    CHECK_CONTAINS(e->msg, "6");
    bk_conv2d cv = { .x = buf, .wt = buf, .y = buf, .n = 1, .h = 0, .w = 3, .cin = 1, .cout = 1, .kh = 1, .kw = 1,
                     .stride = 1 };
    CHECK_STATUS(be->ops->conv2d(be, &cv, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "conv2d");
    cv.h = 2; cv.kh = 3; cv.kw = 3;   /* 3x3 kernel on an unpadded 2x3 input: no output */
    CHECK_STATUS(be->ops->conv2d(be, &cv, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "conv2d");
    cv.kh = 1; cv.kw = 1; cv.stride = 0;
    CHECK_STATUS(be->ops->conv2d(be, &cv, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "stride");
    bk_linear ln = { .x = buf, .w = buf, .y = buf, .m = 2, .n = 2, .k = 0 };
    CHECK_STATUS(be->ops->linear(be, &ln, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "linear");
    ln.k = 4; ln.ldx = 3;
    CHECK_STATUS(be->ops->linear(be, &ln, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "ldx");
    bk_attention at = { .q = buf, .k = buf, .v = buf, .o = buf, .batch = 1, .heads = 1, .d_head = 4, .nq = 1,
                        .nk = 1, .nk2 = 3, .scale = 1.0f };
    CHECK_STATUS(be->ops->attention(be, &at, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "attention");
    bk_layer_norm lnm = { .x = buf, .y = buf, .m = 0, .c = 4, .eps = 1e-5f };
    CHECK_STATUS(be->ops->layer_norm(be, &lnm, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "layer_norm");
    CHECK_STATUS(be->ops->softmax(be, buf, buf, 1, 0, 1.0f, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "softmax");
    CHECK_STATUS(be->ops->act(be, (bk_act)7, buf, buf, 4, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "act");
    CHECK_STATUS(be->ops->geglu(be, buf, buf, -1, 4, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "geglu");
    CHECK_STATUS(be->ops->upsample_nearest(be, buf, buf, 1, 2, 2, 1, 0, 4, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "upsample_nearest");
    CHECK_STATUS(be->ops->add_channel(be, buf, buf, buf, 1, 2, 2, 0, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "add_channel");
    CHECK_STATUS(be->ops->concat_channels(be, buf, NULL, buf, 1, 2, 2, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "concat_channels");
    CHECK_STATUS(be->ops->axpby(be, 1.0f, NULL, 1.0f, buf, buf, 4, e), ANIM_E_INVALID_ARG, e);
    CHECK_CONTAINS(e->msg, "axpby");
    anim_be_free(be);
}
