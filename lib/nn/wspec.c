/* wspec.c - expected-key lists and the strict binder (see wspec.h). */
#include "nn/wspec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wl_init(w_list *l) { memset(l, 0, sizeof *l); }

void wl_free(w_list *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

void wl_add(w_list *l, unsigned flags, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
            const char *fmt, ...) {
    if (l->oom) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        w_spec *v = realloc(l->v, cap * sizeof *v);
        if (!v) { l->oom = true; return; }
        l->v = v;
        l->cap = cap;
    }
    w_spec *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    s->ndim = ndim;
    int64_t d[4] = {d0, d1, d2, d3};
    for (int i = 0; i < ndim && i < 4; i++) s->shape[i] = d[i];
    s->flags = flags;
}

void w_key(char *k, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k, W_NAME_MAX, fmt, ap);
    va_end(ap);
}

void wl_alias_last(w_list *l, const char *alias) {
    if (l->oom || l->n == 0) return;
    snprintf(l->v[l->n - 1].alias, sizeof l->v[l->n - 1].alias, "%s", alias);
}

void wl_linear(w_list *l, const char *p, int64_t out, int64_t in, bool bias) {
    wl_add(l, 0, 2, out, in, 0, 0, "%s.weight", p);
    if (bias) wl_add(l, 0, 1, out, 0, 0, 0, "%s.bias", p);
}

void wl_conv(w_list *l, const char *p, int64_t out, int64_t in, int64_t k, bool bias) {
    wl_add(l, W_CONV, 4, out, in, k, k, "%s.weight", p);
    if (bias) wl_add(l, 0, 1, out, 0, 0, 0, "%s.bias", p);
}

void wl_norm(w_list *l, const char *p, int64_t c) {
    wl_add(l, 0, 1, c, 0, 0, 0, "%s.weight", p);
    wl_add(l, 0, 1, c, 0, 0, 0, "%s.bias", p);
}

int64_t wl_numel(const w_list *l) {
    int64_t total = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].flags & W_UNUSED) continue;
        int64_t e = 1;
        for (int d = 0; d < l->v[i].ndim; d++) e *= l->v[i].shape[d];
        total += e;
    }
    return total;
}

static bool is_float_dtype(anim_dtype t) {
    return t == ANIM_DT_F32 || t == ANIM_DT_F16 || t == ANIM_DT_BF16 || t == ANIM_DT_F64;
}

static bool shape_eq(const w_spec *s, const tf_tensor *t) {
    if (s->ndim != t->ndim) return false;
    for (int i = 0; i < s->ndim; i++)
        if (s->shape[i] != t->shape[i]) return false;
    return true;
}

/* Find `name` in the files; sets *file_idx; errors if it is in two files. */
static const tf_tensor *find_one(tf_file *const *files, int n_files, const char *name, int *file_idx,
                                 const char *net, anim_error *err, anim_status *st) {
    const tf_tensor *hit = NULL;
    for (int i = 0; i < n_files; i++) {
        const tf_tensor *t = tf_find(files[i], name);
        if (!t) continue;
        if (hit) {
            *st = anim_seterr(err, ANIM_E_MODEL, "%s: tensor '%s' appears in both %s and %s", net, name,
                              files[*file_idx]->path, files[i]->path);
            return NULL;
        }
        hit = t;
        *file_idx = i;
    }
    return hit;
}

anim_status w_bind(const w_list *want, tf_file *const *files, int n_files, const char *net,
                   const char *cfg, w_bound *out, anim_error *err) {
    if (want->oom) return anim_seterr(err, ANIM_E_OOM, "%s: out of memory building the key list", net);
    /* claimed[i][j]: tensor j of file i matched a spec */
    unsigned char **claimed = calloc((size_t)n_files + 1, sizeof *claimed);
    if (!claimed) return anim_seterr(err, ANIM_E_OOM, "%s: out of memory", net);
    anim_status st = ANIM_OK;
    for (int i = 0; i < n_files && st == ANIM_OK; i++)
        if (!(claimed[i] = calloc(files[i]->n + 1, 1))) st = anim_seterr(err, ANIM_E_OOM, "%s: out of memory", net);

    for (size_t k = 0; k < want->n && st == ANIM_OK; k++) {
        const w_spec *s = &want->v[k];
        int fi = -1;
        const tf_tensor *t = find_one(files, n_files, s->name, &fi, net, err, &st);
        if (st != ANIM_OK) break;
        if (!t && s->alias[0]) {
            t = find_one(files, n_files, s->alias, &fi, net, err, &st);
            if (st != ANIM_OK) break;
        } else if (t && s->alias[0]) {
            int fj = -1;
            if (find_one(files, n_files, s->alias, &fj, net, err, &st) || st != ANIM_OK) {
                if (st == ANIM_OK)
                    st = anim_seterr(err, ANIM_E_MODEL, "%s: both '%s' and its old name '%s' are present", net,
                                     s->name, s->alias);
                break;
            }
        }
        out[k].t = t;
        out[k].file = t ? files[fi] : NULL;
        if (!t) {
            if (s->flags & W_OPTIONAL) continue;
            char sh[96];
            char where[512] = "";
            size_t o = 0;
            for (int i = 0; i < n_files && o < sizeof where; i++)
                o += (size_t)snprintf(where + o, sizeof where - o, "%s%s", i ? ", " : "", files[i]->path);
            st = anim_seterr(err, ANIM_E_MODEL, "%s: missing tensor '%s' (shape %s from %s) in %s", net, s->name,
                             tf_shape_str(s->shape, s->ndim, sh, sizeof sh), cfg, where);
            break;
        }
        claimed[fi][t - files[fi]->tensors] = 1;
        if (!shape_eq(s, t)) {
            char a[96], b[96];
            st = anim_seterr(err, ANIM_E_MODEL, "%s: tensor '%s' has shape %s but %s expects %s", files[fi]->path,
                             t->name, tf_shape_str(t->shape, t->ndim, a, sizeof a), cfg,
                             tf_shape_str(s->shape, s->ndim, b, sizeof b));
            break;
        }
        if (!(s->flags & W_UNUSED) && !is_float_dtype(t->dtype)) {
            st = anim_seterr(err, ANIM_E_MODEL, "%s: tensor '%s' has dtype %s; a floating-point type is needed",
                             files[fi]->path, t->name, anim_dtype_name(t->dtype));
            break;
        }
    }
    size_t ign = want->ignore_prefix ? strlen(want->ignore_prefix) : 0;
    for (int i = 0; i < n_files && st == ANIM_OK; i++) {
        size_t extra = 0, first = 0;
        for (size_t j = 0; j < files[i]->n; j++) {
            if (claimed[i][j] || (ign && !strncmp(files[i]->tensors[j].name, want->ignore_prefix, ign))) continue;
            if (extra++ == 0) first = j;
        }
        if (extra)
            st = anim_seterr(err, ANIM_E_MODEL,
                             "%s: unexpected tensor '%s' (%zu key%s not part of %s as built from %s)", files[i]->path,
                             files[i]->tensors[first].name, extra, extra == 1 ? "" : "s", net, cfg);
    }
    for (int i = 0; i < n_files; i++) free(claimed[i]);
    free(claimed);
    return st;
}
