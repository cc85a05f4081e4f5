/*
 * manifest.c - tf_file from a manifest JSON (see manifest.h). All names live
 * in one block owned through priv/priv_free.
 */
#include "io/manifest.h"

#include <stdlib.h>
#include <string.h>

static int manifest_dtype(const char *s) {
    static const struct { const char *name; anim_dtype t; } T[] = {
        {"float32", ANIM_DT_F32}, {"float16", ANIM_DT_F16}, {"bfloat16", ANIM_DT_BF16}, {"float64", ANIM_DT_F64},
        {"int64", ANIM_DT_I64},   {"int32", ANIM_DT_I32},   {"int16", ANIM_DT_I16},     {"int8", ANIM_DT_I8},
        {"uint8", ANIM_DT_U8},    {"bool", ANIM_DT_BOOL},
    };
    if (!strncmp(s, "torch.", 6)) s += 6;
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (!strcmp(s, T[i].name)) return (int)T[i].t;
    return -1;
}

anim_status tf_manifest_from_json(const json_value *root, const char *path, tf_file **out, anim_error *err) {
    *out = NULL;
    const json_value *keys = json_get(root, "keys");
    if (!keys || keys->type != JSON_ARRAY)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: manifest has no 'keys' array", path);
    tf_file *f = calloc(1, sizeof *f);
    size_t plen = strlen(path) + 1, names = 0;
    for (size_t i = 0; i < keys->len; i++) {
        const json_value *nm = json_get(&keys->items[i], "name");
        if (nm && nm->type == JSON_STRING) names += nm->len + 1;
    }
    char *block = malloc(names + 1);
    if (f) f->path = malloc(plen);
    if (f && keys->len) f->tensors = calloc(keys->len, sizeof *f->tensors);
    if (!f || !block || !f->path || (keys->len && !f->tensors)) {
        free(block);
        tf_close(f);
        return anim_seterr(err, ANIM_E_OOM, "%s: out of memory", path);
    }
    memcpy(f->path, path, plen);
    f->format = TF_MANIFEST;
    f->priv = block;
    f->priv_free = free;
    anim_status st = ANIM_OK;
    size_t off = 0;
    for (size_t i = 0; i < keys->len && st == ANIM_OK; i++) {
        const json_value *k = &keys->items[i];
        const json_value *nm = json_get(k, "name"), *sh = json_get(k, "shape"), *dt = json_get(k, "dtype");
        if (!nm || nm->type != JSON_STRING || strlen(nm->str) != nm->len || !sh || sh->type != JSON_ARRAY ||
            sh->len > TF_MAX_DIMS || !dt || dt->type != JSON_STRING) {
            st = anim_seterr(err, ANIM_E_FORMAT,
                             "%s: keys[%zu] needs a string 'name', a 'shape' of at most %d integers and a 'dtype'",
                             path, i, TF_MAX_DIMS);
            break;
        }
        int t = manifest_dtype(dt->str);
        if (t < 0) {
            st = anim_seterr(err, ANIM_E_FORMAT, "%s: tensor '%s' has unknown dtype '%s'", path, nm->str, dt->str);
            break;
        }
        tf_tensor *x = &f->tensors[i];
        memcpy(block + off, nm->str, nm->len + 1);
        x->name = block + off;
        off += nm->len + 1;
        x->dtype = (anim_dtype)t;
        x->ndim = (int)sh->len;
        uint64_t numel = 1, span = 1; /* span: the product of the non-zero dims, which bounds the strides */
        for (int d = 0; d < x->ndim; d++) {
            const json_value *e = &sh->items[d];
            if (!e->is_uint || e->u64 > ((uint64_t)1 << 40)) {
                st = anim_seterr(err, ANIM_E_FORMAT, "%s: tensor '%s' has an invalid shape", path, nm->str);
                break;
            }
            x->shape[d] = (int64_t)e->u64;
            /* checked before multiplying, so neither the sizes nor the strides below can overflow
             * (a zero dim makes numel 0 but not the strides: span keeps them bounded) */
            if (e->u64 && span > ((uint64_t)1 << 50) / e->u64) {
                st = anim_seterr(err, ANIM_E_FORMAT, "%s: tensor '%s' is too large", path, nm->str);
                break;
            }
            if (e->u64) span *= e->u64;
            numel *= e->u64;
        }
        if (st) break;
        int64_t s = 1;
        for (int d = x->ndim - 1; d >= 0; d--) {
            x->stride[d] = s;
            s *= x->shape[d];
        }
        x->data = NULL;
        x->nbytes = numel * anim_dtype_size(x->dtype);
        f->n = i + 1;
    }
    if (st == ANIM_OK) {
        st = tf_finish(f, err);
        if (st) anim_err_prefix(err, "%s", path);
    }
    if (st) {
        tf_close(f);
        return st;
    }
    *out = f;
    return ANIM_OK;
}

anim_status tf_manifest_open(const char *path, tf_file **out, anim_error *err) {
    *out = NULL;
    json_value *j = json_parse_file(path, NULL, err);
    if (!j) return err && err->status ? err->status : ANIM_E_FORMAT;
    anim_status st = tf_manifest_from_json(j, path, out, err);
    json_free(j);
    return st;
}
