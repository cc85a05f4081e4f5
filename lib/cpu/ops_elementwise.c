/*
 * ops_elementwise.c - row softmax, activations, GEGLU, nearest upsampling,
 * axpby, per-sample channel add and channel concat. All F32, NHWC.
 *
 * Activations are evaluated in double and rounded once to float (this is the
 * reference; torch evaluates them in float, within an ulp or two):
 *   SiLU       x * sigmoid(x) = x / (1 + exp(-x))
 *   GELU       0.5 x (1 + erf(x / sqrt 2))      exact erf form (nn.GELU()
 *              default and diffusers GEGLU), not the tanh approximation
 *   QuickGELU  x * sigmoid(1.702 x)             (CLIP ViT-L/14 "quick_gelu")
 * Softmax: s = scale*x (float), e = expf(s - max s), sum in double,
 * y = e / sum rounded once.
 * Nearest upsampling reproduces PyTorch's legacy 'nearest' source index (see
 * nearest_src below), including its float arithmetic, so forced sizes such as
 * 13 -> 25 (diffusers' forward_upsample_size path) pick the same pixels.
 * Every op that allows y to alias an input reads each input element before
 * writing the output element at the same index.
 */
#include <math.h>
#include <string.h>

#include "cpu/cpu_ops.h"

/* elementwise work is split into blocks of this many elements, so tiny
 * tensors run inline instead of waking the pool */
#define ELEM_BLOCK 8192

float cpu_silu(float x) { return (float)((double)x / (1.0 + exp(-(double)x))); }

float cpu_gelu_erf(float x) {
    const double v = x;
    return (float)(0.5 * v * (1.0 + erf(v * 0.70710678118654752440)));
}

static float quick_gelu(float x) { return (float)((double)x / (1.0 + exp(-1.702 * (double)x))); }

/* ---- softmax ------------------------------------------------------------ */

typedef struct softmax_job {
    const float *x;
    float *y;
    size_t n;
    float scale;
} softmax_job;

static void softmax_rows(void *vctx, size_t begin, size_t end) {
    const softmax_job *j = vctx;
    for (size_t i = begin; i < end; i++) {
        const float *x = j->x + i * j->n;
        float *y = j->y + i * j->n;
        float mx = -INFINITY;
        for (size_t k = 0; k < j->n; k++) {
            const float s = j->scale * x[k];
            if (s > mx) mx = s;
        }
        double sum = 0.0;
        for (size_t k = 0; k < j->n; k++) {
            const float e = expf(j->scale * x[k] - mx);
            y[k] = e;
            sum += e;
        }
        for (size_t k = 0; k < j->n; k++) y[k] = (float)((double)y[k] / sum);
    }
}

anim_status cpu_softmax(anim_be *be, const void *x, void *y, int m, int n, float scale, anim_error *err) {
    if (!x || !y) return anim_seterr(err, ANIM_E_INVALID_ARG, "softmax: NULL x or y");
    if (m <= 0 || n <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "softmax: bad shape m %d n %d (both must be >= 1)", m, n);
    if (!isfinite(scale))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "softmax: non-finite scale %g", (double)scale);
    softmax_job j = { x, y, (size_t)n, scale };
    anim_pool_parallel_for(cpu_impl_of(be)->pool, (size_t)m, softmax_rows, &j);
    return ANIM_OK;
}

/* ---- activations ------------------------------------------------------- */

typedef struct act_job {
    bk_act act;
    const float *x;
    float *y;
    size_t n;
} act_job;

static void act_blocks(void *vctx, size_t begin, size_t end) {
    const act_job *j = vctx;
    const size_t e = end * ELEM_BLOCK < j->n ? end * ELEM_BLOCK : j->n;
    for (size_t i = begin * ELEM_BLOCK; i < e; i++) {
        switch (j->act) {
        case BK_ACT_SILU: j->y[i] = cpu_silu(j->x[i]); break;
        case BK_ACT_GELU: j->y[i] = cpu_gelu_erf(j->x[i]); break;
        case BK_ACT_QUICK_GELU: j->y[i] = quick_gelu(j->x[i]); break;
        }
    }
}

anim_status cpu_act(anim_be *be, bk_act act, const void *x, void *y, size_t n, anim_error *err) {
    if (act != BK_ACT_SILU && act != BK_ACT_GELU && act != BK_ACT_QUICK_GELU)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "act: unknown activation %d", (int)act);
    if (n == 0) return ANIM_OK;
    if (!x || !y) return anim_seterr(err, ANIM_E_INVALID_ARG, "act: NULL x or y");
    act_job j = { act, x, y, n };
    anim_pool_parallel_for(cpu_impl_of(be)->pool, (n + ELEM_BLOCK - 1) / ELEM_BLOCK, act_blocks, &j);
    return ANIM_OK;
}

/* ---- GEGLU --------------------------------------------------------------- */

typedef struct geglu_job {
    const float *x;
    float *y;
    size_t n;
} geglu_job;

static void geglu_rows(void *vctx, size_t begin, size_t end) {
    const geglu_job *j = vctx;
    for (size_t i = begin; i < end; i++) {
        const float *hidden = j->x + i * 2 * j->n, *gate = hidden + j->n;
        float *y = j->y + i * j->n;
        /* gelu rounded to float, then a float product, as torch does */
        for (size_t k = 0; k < j->n; k++) y[k] = hidden[k] * cpu_gelu_erf(gate[k]);
    }
}

anim_status cpu_geglu(anim_be *be, const void *x, void *y, int m, int n, anim_error *err) {
    if (!x || !y) return anim_seterr(err, ANIM_E_INVALID_ARG, "geglu: NULL x or y");
    if (m <= 0 || n <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "geglu: bad shape m %d n %d (both must be >= 1)", m, n);
    geglu_job j = { x, y, (size_t)n };
    anim_pool_parallel_for(cpu_impl_of(be)->pool, (size_t)m, geglu_rows, &j);
    return ANIM_OK;
}

/* ---- nearest upsampling ---------------------------------------------------- */

/* PyTorch's nearest_idx (aten/src/ATen/native/UpSample.h): same size is the
 * identity, exactly 2x is dst >> 1, otherwise
 * min(floorf(dst * ((float)in / out)), in - 1) computed in float. With no
 * scale factor passed (the size= path) the float scale in/out is used; with
 * scale_factor=2 the 2x shortcut gives the same indices. */
static int nearest_src(int dst, int in, int out) {
    if (out == in) return dst;
    if (out == 2 * in) return dst >> 1;
    const float scale = (float)in / (float)out;
    const int64_t src = (int64_t)floorf((float)dst * scale);
    return src < in - 1 ? (int)src : in - 1;
}

typedef struct up_job {
    const float *x;
    float *y;
    int h, w, c, ho, wo;
} up_job;

static void up_rows(void *vctx, size_t begin, size_t end) {
    const up_job *j = vctx;
    const size_t c = (size_t)j->c;
    for (size_t r = begin; r < end; r++) {   /* r = b*ho + oh */
        const size_t b = r / (size_t)j->ho;
        const int oh = (int)(r % (size_t)j->ho);
        const int ih = nearest_src(oh, j->h, j->ho);
        const float *xr = j->x + (b * (size_t)j->h + (size_t)ih) * (size_t)j->w * c;
        float *yr = j->y + r * (size_t)j->wo * c;
        for (int ow = 0; ow < j->wo; ow++)
            memcpy(yr + (size_t)ow * c, xr + (size_t)nearest_src(ow, j->w, j->wo) * c, c * sizeof(float));
    }
}

anim_status cpu_upsample_nearest(anim_be *be, const void *x, void *y, int n, int h, int w, int c,
                                 int ho, int wo, anim_error *err) {
    if (!x || !y) return anim_seterr(err, ANIM_E_INVALID_ARG, "upsample_nearest: NULL x or y");
    if (n <= 0 || h <= 0 || w <= 0 || c <= 0 || ho <= 0 || wo <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "upsample_nearest: bad shape n %d h %d w %d c %d -> %dx%d (all must be >= 1)",
                           n, h, w, c, ho, wo);
    up_job j = { x, y, h, w, c, ho, wo };
    anim_pool_parallel_for(cpu_impl_of(be)->pool, (size_t)n * (size_t)ho, up_rows, &j);
    return ANIM_OK;
}

/* ---- axpby --------------------------------------------------------------- */

typedef struct axpby_job {
    float alpha, beta;
    const float *a, *b;
    float *y;
    size_t n;
} axpby_job;

static void axpby_blocks(void *vctx, size_t begin, size_t end) {
    const axpby_job *j = vctx;
    const size_t e = end * ELEM_BLOCK < j->n ? end * ELEM_BLOCK : j->n;
    if (j->b)
        for (size_t i = begin * ELEM_BLOCK; i < e; i++) j->y[i] = j->alpha * j->a[i] + j->beta * j->b[i];
    else
        for (size_t i = begin * ELEM_BLOCK; i < e; i++) j->y[i] = j->alpha * j->a[i];
}

anim_status cpu_axpby(anim_be *be, float alpha, const void *a, float beta, const void *b, void *y,
                      size_t n, anim_error *err) {
    if (n == 0) return ANIM_OK;
    if (!a || !y) return anim_seterr(err, ANIM_E_INVALID_ARG, "axpby: NULL a or y");
    axpby_job j = { alpha, beta, a, b, y, n };
    anim_pool_parallel_for(cpu_impl_of(be)->pool, (n + ELEM_BLOCK - 1) / ELEM_BLOCK, axpby_blocks, &j);
    return ANIM_OK;
}

/* ---- add_channel --------------------------------------------------------- */

typedef struct addc_job {
    const float *x, *v;
    float *y;
    size_t hw, c, v_div;
} addc_job;

static void addc_rows(void *vctx, size_t begin, size_t end) {
    const addc_job *j = vctx;
    for (size_t r = begin; r < end; r++) {   /* r = i*hw + p */
        const float *v = j->v + (r / j->hw / j->v_div) * j->c;
        const float *x = j->x + r * j->c;
        float *y = j->y + r * j->c;
        for (size_t k = 0; k < j->c; k++) y[k] = x[k] + v[k];
    }
}

anim_status cpu_add_channel(anim_be *be, const void *x, const void *v, void *y, int n, int hw, int c,
                            int v_div, anim_error *err) {
    if (!x || !v || !y) return anim_seterr(err, ANIM_E_INVALID_ARG, "add_channel: NULL x, v or y");
    if (n <= 0 || hw <= 0 || c <= 0 || v_div <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "add_channel: bad shape n %d hw %d c %d v_div %d (all must be >= 1)", n, hw, c, v_div);
    addc_job j = { x, v, y, (size_t)hw, (size_t)c, (size_t)v_div };
    anim_pool_parallel_for(cpu_impl_of(be)->pool, (size_t)n * (size_t)hw, addc_rows, &j);
    return ANIM_OK;
}

/* ---- concat_channels ------------------------------------------------------- */

typedef struct concat_job {
    const float *a, *b;
    float *y;
    size_t ca, cb;
} concat_job;

static void concat_rows(void *vctx, size_t begin, size_t end) {
    const concat_job *j = vctx;
    for (size_t r = begin; r < end; r++) {
        float *y = j->y + r * (j->ca + j->cb);
        memcpy(y, j->a + r * j->ca, j->ca * sizeof(float));
        memcpy(y + j->ca, j->b + r * j->cb, j->cb * sizeof(float));
    }
}

anim_status cpu_concat_channels(anim_be *be, const void *a, const void *b, void *y, int m, int ca, int cb,
                                anim_error *err) {
    if (!a || !b || !y) return anim_seterr(err, ANIM_E_INVALID_ARG, "concat_channels: NULL a, b or y");
    if (m <= 0 || ca <= 0 || cb <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "concat_channels: bad shape m %d ca %d cb %d (all must be >= 1)", m, ca, cb);
    concat_job j = { a, b, y, (size_t)ca, (size_t)cb };
    anim_pool_parallel_for(cpu_impl_of(be)->pool, (size_t)m, concat_rows, &j);
    return ANIM_OK;
}
