/*
 * nn.c - building blocks for the networks (see nn.h): the scratch arena,
 * sticky errors, weight lookup by key, layers and the blocks shared by the
 * UNets, VAE, CLIP and motion modules. Formulas follow diffusers 0.24 /
 * transformers 4.30 / Moore-AnimateAnyone; each block says which class it is.
 */
#include "nn/nn.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- arena */

typedef struct chunk { void *base; size_t cap, used; } chunk;

struct nn_arena {
    anim_be *be;
    size_t chunk_elems, align;
    chunk *ch;
    size_t n_ch, cur;        /* chunks after `cur` are free (stack discipline) */
    size_t in_use, peak;     /* elements, for memory reports */
};

anim_status nn_arena_create(anim_be *be, size_t chunk_elems, nn_arena **out, anim_error *err) {
    nn_arena *ar = calloc(1, sizeof *ar);
    if (!ar) return anim_seterr(err, ANIM_E_OOM, "out of memory");
    ar->be = be;
    ar->chunk_elems = chunk_elems ? chunk_elems : ((size_t)1 << 24);
    ar->align = 64 / anim_dtype_size(be->storage); /* 64-byte aligned sub-allocations */
    *out = ar;
    return ANIM_OK;
}

void nn_arena_free(nn_arena *ar) {
    if (!ar) return;
    for (size_t i = 0; i < ar->n_ch; i++) ar->be->ops->free(ar->be, ar->ch[i].base);
    free(ar->ch);
    free(ar);
}

size_t nn_arena_peak(const nn_arena *ar) { return ar ? ar->peak : 0; }

static size_t used_before(const nn_arena *ar, size_t idx) {
    size_t s = 0;
    for (size_t i = 0; i < idx && i < ar->n_ch; i++) s += ar->ch[i].used;
    return s;
}

static void *arena_push(nn_arena *ar, size_t n, anim_error *err, anim_status *st) {
    n = (n + ar->align - 1) / ar->align * ar->align;
    if (n == 0) n = ar->align;
    size_t es = anim_dtype_size(ar->be->storage);
    if (ar->n_ch && ar->ch[ar->cur].used + n <= ar->ch[ar->cur].cap) {
        chunk *c = &ar->ch[ar->cur];
        void *p = (char *)c->base + c->used * es;
        c->used += n;
        ar->in_use = used_before(ar, ar->cur) + c->used;
        if (ar->in_use > ar->peak) ar->peak = ar->in_use;
        return p;
    }
    size_t next = ar->n_ch ? ar->cur + 1 : 0;
    if (next < ar->n_ch && ar->ch[next].cap < n) { /* free chunk too small: replace it */
        ar->be->ops->free(ar->be, ar->ch[next].base);
        memmove(&ar->ch[next], &ar->ch[next + 1], (ar->n_ch - next - 1) * sizeof *ar->ch);
        ar->n_ch--;
    }
    if (next >= ar->n_ch) {
        chunk *nc = realloc(ar->ch, (ar->n_ch + 1) * sizeof *nc);
        if (!nc) { *st = anim_seterr(err, ANIM_E_OOM, "out of memory"); return NULL; }
        ar->ch = nc;
        memmove(&ar->ch[next + 1], &ar->ch[next], (ar->n_ch - next) * sizeof *ar->ch);
        size_t cap = n > ar->chunk_elems ? n : ar->chunk_elems;
        ar->ch[next] = (chunk){NULL, cap, 0};
        ar->n_ch++;
        if ((*st = ar->be->ops->alloc(ar->be, cap, &ar->ch[next].base, err)) != ANIM_OK) {
            memmove(&ar->ch[next], &ar->ch[next + 1], (ar->n_ch - next - 1) * sizeof *ar->ch);
            ar->n_ch--;
            return NULL;
        }
    }
    ar->cur = next;
    ar->ch[next].used = n;
    ar->in_use = used_before(ar, next) + n;
    if (ar->in_use > ar->peak) ar->peak = ar->in_use;
    return ar->ch[next].base;
}

/* ---------------------------------------------------------------- errors, memory */

anim_status nn_fail(nn_ctx *c, anim_status st, const char *fmt, ...) {
    if (c->st != ANIM_OK) return c->st;
    c->st = st;
    if (c->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
        va_end(ap);
        c->err->status = st;
    }
    return st;
}

static const nn_t NONE = {NULL, 0, 0, 0, 0};

nn_t nn_new(nn_ctx *c, int n, int h, int w, int ch) {
    if (!nn_ok(c)) return NONE;
    if (n <= 0 || h <= 0 || w <= 0 || ch <= 0) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: tensor of shape [%d, %d, %d, %d] requested", c->net, n, h, w, ch);
        return NONE;
    }
    anim_status st = ANIM_OK;
    anim_error e;
    void *p = arena_push(c->ar, (size_t)n * h * w * ch, &e, &st);
    if (!p) {
        nn_fail(c, st, "%s: %s", c->net, e.msg);
        return NONE;
    }
    return (nn_t){p, n, h, w, ch};
}

nn_mark_t nn_mark(nn_ctx *c) {
    nn_arena *ar = c->ar;
    return (nn_mark_t){ar->cur, ar->n_ch ? ar->ch[ar->cur].used : 0};
}

void nn_release(nn_ctx *c, nn_mark_t m) {
    nn_arena *ar = c->ar;
    if (!ar->n_ch) return;
    for (size_t i = m.chunk + 1; i < ar->n_ch; i++) ar->ch[i].used = 0;
    ar->cur = m.chunk;
    ar->ch[m.chunk].used = m.used;
    ar->in_use = used_before(ar, m.chunk) + m.used;
}

void *nn_ptr(const nn_ctx *c, const void *base, size_t elems) {
    return (char *)base + elems * anim_dtype_size(c->be->storage);
}

nn_t nn_reshape(nn_t t, int n, int h, int w, int ch) {
    if ((size_t)n * h * w * ch != nn_numel(t)) return NONE;
    return (nn_t){t.d, n, h, w, ch};
}

nn_t nn_slice_n(nn_ctx *c, nn_t t, int f0, int nf) {
    if (!nn_ok(c)) return NONE;
    if (f0 < 0 || nf <= 0 || f0 + nf > t.n) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: slice [%d, %d) of %d frames", c->net, f0, f0 + nf, t.n);
        return NONE;
    }
    return (nn_t){nn_ptr(c, t.d, (size_t)f0 * t.h * t.w * t.c), nf, t.h, t.w, t.c};
}

static void check(nn_ctx *c, anim_status st, anim_error *e, const char *what) {
    if (st != ANIM_OK) nn_fail(c, st, "%s: %s: %s", c->net, what, e->msg);
}

nn_t nn_copy(nn_ctx *c, nn_t x) {
    nn_t y = nn_new(c, x.n, x.h, x.w, x.c);
    if (!nn_ok(c)) return NONE;
    anim_error e;
    check(c, c->be->ops->axpby(c->be, 1.0f, x.d, 0.0f, NULL, y.d, nn_numel(x), &e), &e, "copy");
    return nn_ok(c) ? y : NONE;
}

nn_t nn_keep(nn_ctx *c, nn_mark_t m, nn_t t) {
    if (!nn_ok(c)) return NONE;
    nn_arena *ar = c->ar;
    size_t es = anim_dtype_size(c->be->storage);
    size_t n = (nn_numel(t) + ar->align - 1) / ar->align * ar->align;
    if (ar->n_ch && m.chunk < ar->n_ch && m.used + n <= ar->ch[m.chunk].cap) {
        /* the result will land at the mark: one copy when that does not overlap t */
        const char *base = ar->ch[m.chunk].base, *dst = base + m.used * es, *src = t.d;
        bool same_chunk = src >= base && src < base + ar->ch[m.chunk].cap * es;
        if (src == dst || !same_chunk || src >= dst + n * es) {
            nn_release(c, m);
            nn_t y = nn_new(c, t.n, t.h, t.w, t.c);
            if (!nn_ok(c) || y.d == t.d) return y;
            anim_error e;
            check(c, c->be->ops->axpby(c->be, 1.0f, t.d, 0.0f, NULL, y.d, nn_numel(t), &e), &e, "keep");
            return nn_ok(c) ? y : NONE;
        }
    }
    /* overlapping: copy above everything, release, copy down. Chunks are
     * never freed on release, so the upper copy stays valid. */
    nn_t tmp = nn_copy(c, t);
    nn_release(c, m);
    nn_t y = nn_new(c, t.n, t.h, t.w, t.c);
    if (!nn_ok(c)) return NONE;
    anim_error e;
    check(c, c->be->ops->axpby(c->be, 1.0f, tmp.d, 0.0f, NULL, y.d, nn_numel(t), &e), &e, "keep");
    return nn_ok(c) ? y : NONE;
}

void nn_axpby_into(nn_ctx *c, nn_t dst, float alpha, nn_t a, float beta, nn_t b) {
    if (!nn_ok(c)) return;
    if (nn_numel(a) != nn_numel(dst) || (b.d && nn_numel(b) != nn_numel(dst))) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: storing %zu elements into %zu", c->net, nn_numel(a), nn_numel(dst));
        return;
    }
    anim_error e;
    check(c, c->be->ops->axpby(c->be, alpha, a.d, beta, b.d, dst.d, nn_numel(dst), &e), &e, "store");
}

void nn_store(nn_ctx *c, nn_t dst, nn_t src) { nn_axpby_into(c, dst, 1.0f, src, 0.0f, NONE); }

void nn_act_inplace(nn_ctx *c, nn_t x, bk_act act) {
    if (!nn_ok(c)) return;
    anim_error e;
    check(c, c->be->ops->act(c->be, act, x.d, x.d, nn_numel(x), &e), &e, "act");
}

nn_t nn_from_host(nn_ctx *c, const float *x, int n, int h, int w, int ch) {
    nn_t t = nn_new(c, n, h, w, ch);
    if (!nn_ok(c)) return NONE;
    anim_error e;
    check(c, c->be->ops->upload(c->be, t.d, x, nn_numel(t), &e), &e, "upload");
    return nn_ok(c) ? t : NONE;
}

bool nn_to_host(nn_ctx *c, nn_t t, float *out) {
    if (!nn_ok(c)) return false;
    anim_error e;
    check(c, c->be->ops->download(c->be, out, t.d, nn_numel(t), &e), &e, "download");
    return nn_ok(c);
}

/* ---------------------------------------------------------------- weights */

static const void *lookup(nn_ctx *c, bool required, const w_spec **spec, const char *fmt, va_list ap) {
    if (!nn_ok(c)) return NULL;
    char key[W_NAME_MAX];
    vsnprintf(key, sizeof key, fmt, ap);
    const w_spec *s = NULL;
    const void *p = anim_model_find(c->model, c->net, key, &s);
    if (spec) *spec = s;
    if (!p && required) nn_fail(c, ANIM_E_INTERNAL, "%s: weight '%s' is not loaded", c->net, key);
    return p;
}

const void *nn_w(nn_ctx *c, const w_spec **spec, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const void *p = lookup(c, true, spec, fmt, ap);
    va_end(ap);
    return p;
}

const void *nn_w_opt(nn_ctx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const void *p = lookup(c, false, NULL, fmt, ap);
    va_end(ap);
    return p;
}

/* ---------------------------------------------------------------- layers */

nn_t nn_conv_res(nn_ctx *c, nn_t x, const char *prefix, int stride, int pad_t, int pad_l, int pad_b, int pad_r,
                 nn_t res) {
    const w_spec *s;
    const void *w = nn_w(c, &s, "%s.weight", prefix);
    const void *b = nn_w_opt(c, "%s.bias", prefix);
    if (!nn_ok(c)) return NONE;
    if (s->ndim != 4 || s->shape[1] != x.c) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: conv %s expects %lld input channels, got %d", c->net, prefix,
                (long long)s->shape[1], x.c);
        return NONE;
    }
    int kh = (int)s->shape[2], kw = (int)s->shape[3], co = (int)s->shape[0];
    int ho = (x.h + pad_t + pad_b - kh) / stride + 1, wo = (x.w + pad_l + pad_r - kw) / stride + 1;
    nn_t y = nn_new(c, x.n, ho, wo, co);
    if (!nn_ok(c)) return NONE;
    bk_conv2d a = {.x = x.d, .wt = w, .bias = b, .res = res.d, .y = y.d, .n = x.n, .h = x.h, .w = x.w,
                   .cin = x.c, .cout = co, .kh = kh, .kw = kw, .stride = stride,
                   .pad_t = pad_t, .pad_l = pad_l, .pad_b = pad_b, .pad_r = pad_r};
    anim_error e;
    check(c, c->be->ops->conv2d(c->be, &a, &e), &e, prefix);
    return nn_ok(c) ? y : NONE;
}

nn_t nn_conv(nn_ctx *c, nn_t x, const char *prefix, int stride, int pad) {
    return nn_conv_res(c, x, prefix, stride, pad, pad, pad, pad, NONE);
}

nn_t nn_linear_res(nn_ctx *c, nn_t x, const char *prefix, nn_t res) {
    const w_spec *s;
    const void *w = nn_w(c, &s, "%s.weight", prefix);
    const void *b = nn_w_opt(c, "%s.bias", prefix);
    if (!nn_ok(c)) return NONE;
    /* 2-D [N, K], or a 1x1 conv's [N, K, 1, 1] used on tokens */
    int n_out = (int)s->shape[0], k = s->ndim >= 2 ? (int)s->shape[1] : 0;
    if (k != x.c || (s->ndim == 4 && (s->shape[2] != 1 || s->shape[3] != 1))) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: linear %s expects %d inputs, got %d", c->net, prefix, k, x.c);
        return NONE;
    }
    nn_t y = nn_new(c, x.n, x.h, x.w, n_out);
    if (!nn_ok(c)) return NONE;
    bk_linear a = {.x = x.d, .w = w, .bias = b, .res = res.d, .y = y.d, .m = x.n * x.h * x.w, .n = n_out, .k = k};
    anim_error e;
    check(c, c->be->ops->linear(c->be, &a, &e), &e, prefix);
    return nn_ok(c) ? y : NONE;
}

nn_t nn_linear(nn_ctx *c, nn_t x, const char *prefix) { return nn_linear_res(c, x, prefix, NONE); }

nn_t nn_group_norm(nn_ctx *c, nn_t x, const char *prefix, int groups, float eps, bool silu) {
    const void *g = nn_w(c, NULL, "%s.weight", prefix);
    const void *b = nn_w(c, NULL, "%s.bias", prefix);
    nn_t y = nn_new(c, x.n, x.h, x.w, x.c);
    if (!nn_ok(c)) return NONE;
    bk_group_norm a = {.x = x.d, .gamma = g, .beta = b, .y = y.d, .n = x.n, .hw = x.h * x.w, .c = x.c,
                       .groups = groups, .eps = eps, .silu = silu};
    anim_error e;
    check(c, c->be->ops->group_norm(c->be, &a, &e), &e, prefix);
    return nn_ok(c) ? y : NONE;
}

nn_t nn_layer_norm(nn_ctx *c, nn_t x, const char *prefix, float eps) {
    const void *g = nn_w(c, NULL, "%s.weight", prefix);
    const void *b = nn_w(c, NULL, "%s.bias", prefix);
    nn_t y = nn_new(c, x.n, x.h, x.w, x.c);
    if (!nn_ok(c)) return NONE;
    bk_layer_norm a = {.x = x.d, .gamma = g, .beta = b, .y = y.d, .m = x.n * x.h * x.w, .c = x.c, .eps = eps};
    anim_error e;
    check(c, c->be->ops->layer_norm(c->be, &a, &e), &e, prefix);
    return nn_ok(c) ? y : NONE;
}

nn_t nn_act(nn_ctx *c, nn_t x, bk_act act) {
    nn_t y = nn_new(c, x.n, x.h, x.w, x.c);
    if (!nn_ok(c)) return NONE;
    anim_error e;
    check(c, c->be->ops->act(c->be, act, x.d, y.d, nn_numel(x), &e), &e, "act");
    return nn_ok(c) ? y : NONE;
}

nn_t nn_axpby(nn_ctx *c, float alpha, nn_t a, float beta, nn_t b) {
    if (nn_ok(c) && b.d && nn_numel(a) != nn_numel(b)) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: adding tensors of %zu and %zu elements", c->net, nn_numel(a), nn_numel(b));
        return NONE;
    }
    nn_t y = nn_new(c, a.n, a.h, a.w, a.c);
    if (!nn_ok(c)) return NONE;
    anim_error e;
    check(c, c->be->ops->axpby(c->be, alpha, a.d, beta, b.d, y.d, nn_numel(a), &e), &e, "axpby");
    return nn_ok(c) ? y : NONE;
}

nn_t nn_add(nn_ctx *c, nn_t a, nn_t b) { return nn_axpby(c, 1.0f, a, 1.0f, b); }
nn_t nn_scale(nn_ctx *c, nn_t a, float alpha) { return nn_axpby(c, alpha, a, 0.0f, NONE); }

nn_t nn_add_channel(nn_ctx *c, nn_t x, nn_t v, int v_div) {
    if (nn_ok(c) && (v.c != x.c || v_div <= 0 || x.n % v_div || v.n * v_div != x.n)) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: add_channel of [%d,..,%d] to [%d,..,%d] by %d", c->net, v.n, v.c, x.n, x.c,
                v_div);
        return NONE;
    }
    nn_t y = nn_new(c, x.n, x.h, x.w, x.c);
    if (!nn_ok(c)) return NONE;
    anim_error e;
    check(c, c->be->ops->add_channel(c->be, x.d, v.d, y.d, x.n, x.h * x.w, x.c, v_div, &e), &e, "add_channel");
    return nn_ok(c) ? y : NONE;
}

nn_t nn_concat(nn_ctx *c, nn_t a, nn_t b) {
    if (nn_ok(c) && (a.n != b.n || a.h != b.h || a.w != b.w)) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: concat of [%d,%d,%d] and [%d,%d,%d]", c->net, a.n, a.h, a.w, b.n, b.h, b.w);
        return NONE;
    }
    nn_t y = nn_new(c, a.n, a.h, a.w, a.c + b.c);
    if (!nn_ok(c)) return NONE;
    anim_error e;
    check(c, c->be->ops->concat_channels(c->be, a.d, b.d, y.d, a.n * a.h * a.w, a.c, b.c, &e), &e, "concat");
    return nn_ok(c) ? y : NONE;
}

nn_t nn_upsample(nn_ctx *c, nn_t x, int ho, int wo) {
    nn_t y = nn_new(c, x.n, ho, wo, x.c);
    if (!nn_ok(c)) return NONE;
    anim_error e;
    check(c, c->be->ops->upsample_nearest(c->be, x.d, y.d, x.n, x.h, x.w, x.c, ho, wo, &e), &e, "upsample");
    return nn_ok(c) ? y : NONE;
}

nn_t nn_geglu(nn_ctx *c, nn_t x) {
    if (nn_ok(c) && x.c % 2) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: geglu of odd width %d", c->net, x.c);
        return NONE;
    }
    nn_t y = nn_new(c, x.n, x.h, x.w, x.c / 2);
    if (!nn_ok(c)) return NONE;
    anim_error e;
    check(c, c->be->ops->geglu(c->be, x.d, y.d, x.n * x.h * x.w, x.c / 2, &e), &e, "geglu");
    return nn_ok(c) ? y : NONE;
}

nn_t nn_attention(nn_ctx *c, nn_t q, nn_t k, nn_t v, nn_t k2, nn_t v2, int heads) {
    if (!nn_ok(c)) return NONE;
    int B = q.n, nq = q.h * q.w, nk = k.h * k.w, C = q.c;
    int nk2 = k2.d ? k2.h * k2.w : 0;
    if (heads <= 0 || C % heads || k.c != C || v.c != C || k.n != B || v.n != B ||
        (k2.d && (k2.c != C || v2.c != C || (k2.n != B && k2.n != 1)))) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: attention shapes q[%d,%d,%d] k[%d,%d,%d] heads %d", c->net, B, nq, C, k.n,
                nk, k.c, heads);
        return NONE;
    }
    nn_t o = nn_new(c, B, q.h, q.w, C);
    if (!nn_ok(c)) return NONE;
    int d = C / heads;
    int64_t bs2 = k2.d && k2.n == 1 ? 0 : (int64_t)nk2 * C;
    bk_attention a = {.q = q.d, .k = k.d, .v = v.d, .o = o.d, .k2 = k2.d, .v2 = v2.d, .batch = B, .heads = heads,
                      .d_head = d, .nq = nq, .nk = nk, .nk2 = nk2,
                      .q_bs = (int64_t)nq * C, .q_ts = C, .k_bs = (int64_t)nk * C, .k_ts = C,
                      .v_bs = (int64_t)nk * C, .v_ts = C, .o_bs = (int64_t)nq * C, .o_ts = C,
                      .k2_bs = bs2, .k2_ts = C, .v2_bs = bs2, .v2_ts = C,
                      .scale = (float)(1.0 / sqrt((double)d))};
    anim_error e;
    check(c, c->be->ops->attention(c->be, &a, &e), &e, "attention");
    return nn_ok(c) ? o : NONE;
}

/* ---------------------------------------------------------------- blocks */

nn_t nn_resnet(nn_ctx *c, nn_t x, const char *p, nn_t temb, int groups, float eps, float out_scale) {
    char k[W_NAME_MAX];
    nn_mark_t m = nn_mark(c);
    w_key(k, "%s.norm1", p);
    nn_t h = nn_group_norm(c, x, k, groups, eps, true);
    w_key(k, "%s.conv1", p);
    h = nn_keep(c, m, nn_conv(c, h, k, 1, 1)); /* norm1's output is dead once conv1 ran */
    if (temb.d) {
        /* diffusers: time_emb_proj(silu(temb))[:, :, None, None], added to every frame of its sample */
        nn_mark_t mt = nn_mark(c);
        nn_t t = nn_act(c, temb, BK_ACT_SILU);
        w_key(k, "%s.time_emb_proj", p);
        t = nn_linear(c, t, k);
        if (nn_ok(c) && (t.c != h.c || x.n % temb.n))
            nn_fail(c, ANIM_E_INTERNAL, "%s: %s time embedding [%d, %d] for %d frames of %d channels", c->net, p,
                    t.n, t.c, x.n, h.c);
        if (nn_ok(c)) {
            anim_error e;
            check(c, c->be->ops->add_channel(c->be, h.d, t.d, h.d, h.n, h.h * h.w, h.c, x.n / temb.n, &e), &e,
                  "add_channel");
        }
        nn_release(c, mt);
    }
    w_key(k, "%s.norm2", p);
    h = nn_group_norm(c, h, k, groups, eps, true);
    nn_t sc = x;
    if (nn_w_opt(c, "%s.conv_shortcut.weight", p)) {
        w_key(k, "%s.conv_shortcut", p);
        sc = nn_conv(c, x, k, 1, 0);
    }
    w_key(k, "%s.conv2", p);
    nn_t y;
    if (out_scale == 1.0f) {
        y = nn_conv_res(c, h, k, 1, 1, 1, 1, 1, sc); /* (shortcut + conv2(h)) / 1 */
    } else {
        y = nn_conv(c, h, k, 1, 1);
        y = nn_axpby(c, 1.0f / out_scale, sc, 1.0f / out_scale, y);
    }
    return nn_keep(c, m, y);
}

nn_t nn_attn(nn_ctx *c, nn_t x, nn_t kv_in, nn_t extra, const char *p, int heads) {
    char k[W_NAME_MAX];
    nn_mark_t m = nn_mark(c);
    nn_t src = kv_in.d ? kv_in : x;
    w_key(k, "%s.to_q", p);
    nn_t q = nn_linear(c, x, k);
    w_key(k, "%s.to_k", p);
    nn_t kk = nn_linear(c, src, k);
    nn_t k2 = NONE, v2 = NONE;
    if (extra.d) k2 = nn_linear(c, extra, k);
    w_key(k, "%s.to_v", p);
    nn_t v = nn_linear(c, src, k);
    if (extra.d) v2 = nn_linear(c, extra, k);
    nn_t o = nn_attention(c, q, kk, v, k2, v2, heads);
    w_key(k, "%s.to_out.0", p);
    o = nn_linear(c, o, k);
    return nn_keep(c, m, o);
}

nn_t nn_ff_geglu(nn_ctx *c, nn_t x, const char *p) {
    char k[W_NAME_MAX];
    nn_mark_t m = nn_mark(c);
    w_key(k, "%s.net.0.proj", p);
    nn_t h = nn_linear(c, x, k);
    h = nn_geglu(c, h);
    w_key(k, "%s.net.2", p);
    h = nn_linear(c, h, k);
    return nn_keep(c, m, h);
}

/* ---------------------------------------------------------------- host layouts */

void nn_nchw_to_nhwc(float *dst, const float *src, int n, int ch, int h, int w) {
    for (int b = 0; b < n; b++)
        for (int k = 0; k < ch; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    dst[(((size_t)b * h + y) * w + x) * ch + k] = src[(((size_t)b * ch + k) * h + y) * w + x];
}

void nn_nhwc_to_nchw(float *dst, const float *src, int n, int h, int w, int ch) {
    for (int b = 0; b < n; b++)
        for (int k = 0; k < ch; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    dst[(((size_t)b * ch + k) * h + y) * w + x] = src[(((size_t)b * h + y) * w + x) * ch + k];
}

void nn_ncfhw_to_frames(float *dst, const float *src, int b, int ch, int f, int h, int w) {
    for (int i = 0; i < b; i++)
        for (int k = 0; k < ch; k++)
            for (int t = 0; t < f; t++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        dst[((((size_t)i * f + t) * h + y) * w + x) * ch + k] =
                            src[((((size_t)i * ch + k) * f + t) * h + y) * w + x];
}

void nn_frames_to_ncfhw(float *dst, const float *src, int b, int ch, int f, int h, int w) {
    for (int i = 0; i < b; i++)
        for (int k = 0; k < ch; k++)
            for (int t = 0; t < f; t++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        dst[((((size_t)i * ch + k) * f + t) * h + y) * w + x] =
                            src[((((size_t)i * f + t) * h + y) * w + x) * ch + k];
}
