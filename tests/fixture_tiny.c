/* fixture_tiny.c - see fixture_tiny.h. */
#include "fixture_tiny.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/tensor_file.h"

static anim_be *tiny_be;
static anim_model *tiny_m;

const anim_model *tiny_model(anim_error *err) {
    if (tiny_m) return tiny_m;
    if (!tiny_be && anim_be_create_cpu(4, &tiny_be, err) != ANIM_OK) return NULL;
    anim_hooks h = {ANIM_LOG_ERROR, NULL, NULL, NULL, NULL, NULL, NULL};
    if (anim_model_load(tiny_be, TINY_DIR, &h, &tiny_m, err) != ANIM_OK) tiny_m = NULL;
    return tiny_m;
}

bool tiny_ctx(nn_ctx *c, anim_error *err) {
    memset(c, 0, sizeof *c);
    const anim_model *m = tiny_model(err);
    if (!m) return false;
    c->be = tiny_be;
    c->model = m;
    c->net = "test";
    c->err = err;
    anim_err_clear(err);
    return nn_arena_create(tiny_be, 0, &c->ar, err) == ANIM_OK;
}

void tiny_ctx_free(nn_ctx *c) {
    nn_arena_free(c->ar);
    c->ar = NULL;
}

float *tiny_read(const char *file, const char *key, int64_t *shape, int *ndim, anim_error *err) {
    return fixture_read(TINY_DIR, file, key, shape, ndim, err);
}

float *fixture_read(const char *dir, const char *file, const char *key, int64_t *shape, int *ndim, anim_error *err) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    tf_file *f = NULL;
    if (tf_open(path, &f, err) != ANIM_OK) return NULL;
    const tf_tensor *t = tf_find(f, key);
    float *x = NULL;
    if (!t) {
        anim_seterr(err, ANIM_E_IO, "%s: no tensor '%s'", path, key);
    } else if ((x = malloc((size_t)tf_numel(t) * sizeof *x)) != NULL) {
        if (tf_read_f32(t, x, err) != ANIM_OK) {
            free(x);
            x = NULL;
        } else {
            *ndim = t->ndim;
            for (int i = 0; i < t->ndim; i++) shape[i] = t->shape[i];
        }
    }
    tf_close(f);
    return x;
}

double *tiny_to_double(const float *x, size_t n) {
    double *d = malloc(n * sizeof *d);
    if (d)
        for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}
