/*
 * ops_conv.c - 2-D convolution, NHWC activations, OHWI weights.
 *
 *   y[b,oh,ow,co] = sum_{r<KH, s<KW, ci<Cin} x[b, oh*S - pt + r, ow*S - pl + s, ci] * w[co,r,s,ci]
 *                   + bias[co] + res[b,oh,ow,co]
 *   Ho = (H + pt + pb - KH)/S + 1, Wo = (W + pl + pr - KW)/S + 1
 *
 * Out-of-range input positions read as zero. Arbitrary kernel size, stride
 * and (asymmetric) zero padding: 3x3 s1 p1 (UNet/VAE), 1x1 (shortcuts, proj
 * in/out), 3x3 s2 p1 (UNet downsample), 3x3 s2 with pad (0,0,1,1) (the VAE
 * downsample's F.pad(0,1,0,1)), 14x14 s14 (CLIP patch embedding).
 *
 * Method: with OHWI weights, filter co flattened is a row of K = KH*KW*Cin
 * floats in (r, s, ci) order, and the input patch under output pixel
 * (b,oh,ow) gathered in the same order ("im2col" row, zeros for padding) is
 * another. The conv is then exactly the GEMM core of ops_linear.c over
 * M = N*Ho*Wo patch rows, with y rows of Cout. The sum for each output runs
 * over (r, s, ci) in that order in one float accumulator; padded taps add
 * 0*w, which leaves a float sum unchanged, so this equals skipping them.
 * Patch rows are gathered on demand into per-thread scratch (1x1 kernels
 * point straight at the input pixel).
 */
#include <string.h>

#include "cpu/cpu_ops.h"

typedef struct conv_rows {
    const float *x;
    int h, w, cin, kh, kw, stride, pad_t, pad_l;
    int ho, wo;
} conv_rows;

static const float *conv_row(const void *ctx, size_t i, float *buf) {
    const conv_rows *c = ctx;
    const size_t plane = (size_t)c->ho * (size_t)c->wo;
    const size_t b = i / plane, pix = i % plane;
    const int oh = (int)(pix / (size_t)c->wo), ow = (int)(pix % (size_t)c->wo);
    const int ih0 = oh * c->stride - c->pad_t, iw0 = ow * c->stride - c->pad_l;
    const size_t cin = (size_t)c->cin;
    const float *xb = c->x + b * (size_t)c->h * (size_t)c->w * cin;

    if (c->kh == 1 && c->kw == 1 && ih0 >= 0 && ih0 < c->h && iw0 >= 0 && iw0 < c->w)
        return xb + ((size_t)ih0 * (size_t)c->w + (size_t)iw0) * cin;

    float *dst = buf;
    for (int r = 0; r < c->kh; r++) {
        const int ih = ih0 + r;
        for (int s = 0; s < c->kw; s++, dst += cin) {
            const int iw = iw0 + s;
            if (ih < 0 || ih >= c->h || iw < 0 || iw >= c->w)
                memset(dst, 0, cin * sizeof(float));
            else
                memcpy(dst, xb + ((size_t)ih * (size_t)c->w + (size_t)iw) * cin, cin * sizeof(float));
        }
    }
    return buf;
}

anim_status cpu_conv2d(anim_be *be, const bk_conv2d *a, anim_error *err) {
    if (!a->x || !a->wt || !a->y)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "conv2d: NULL x, w or y");
    if (a->n <= 0 || a->h <= 0 || a->w <= 0 || a->cin <= 0 || a->cout <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "conv2d: bad shape n %d h %d w %d cin %d cout %d (all must be >= 1)",
                           a->n, a->h, a->w, a->cin, a->cout);
    if (a->kh <= 0 || a->kw <= 0 || a->stride <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "conv2d: bad kernel %dx%d stride %d (must be >= 1)",
                           a->kh, a->kw, a->stride);
    if (a->pad_t < 0 || a->pad_l < 0 || a->pad_b < 0 || a->pad_r < 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "conv2d: negative padding (t %d l %d b %d r %d)",
                           a->pad_t, a->pad_l, a->pad_b, a->pad_r);
    const int64_t span_h = (int64_t)a->h + a->pad_t + a->pad_b - a->kh;
    const int64_t span_w = (int64_t)a->w + a->pad_l + a->pad_r - a->kw;
    if (span_h < 0 || span_w < 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "conv2d: kernel %dx%d larger than padded input %lldx%lld (output size < 1)",
                           a->kh, a->kw, (long long)(span_h + a->kh), (long long)(span_w + a->kw));
    /* the padded extent must fit in int for the index arithmetic below */
    if (span_h + a->kh > INT32_MAX || span_w + a->kw > INT32_MAX)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "conv2d: padded input too large");
    conv_rows c = {
        .x = a->x, .h = a->h, .w = a->w, .cin = a->cin, .kh = a->kh, .kw = a->kw,
        .stride = a->stride, .pad_t = a->pad_t, .pad_l = a->pad_l,
        .ho = (int)(span_h / a->stride + 1), .wo = (int)(span_w / a->stride + 1),
    };
    size_t m, k;
    if (!cpu_mul_ok((size_t)a->n, (size_t)c.ho * (size_t)c.wo, &m) ||
        !cpu_mul_ok((size_t)a->kh * (size_t)a->kw, (size_t)a->cin, &k))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "conv2d: problem size overflows");
    cpu_gemm g = {
        .m = m, .n = (size_t)a->cout, .k = k,
        .row = conv_row, .row_ctx = &c,
        .w = a->wt, .bias = a->bias, .res = a->res, .y = a->y, .ldy = (size_t)a->cout,
    };
    return cpu_gemm_run(cpu_impl_of(be), &g, "conv2d", err);
}
