/*
 * backend.c - backend-independent parts of the backend object: freeing, and
 * the CUDA constructor's stand-in when the library is built without CUDA.
 */
#include "backend.h"

#include <math.h>

/* Argument checks every backend's norms make, so both fail the same way. */
anim_status bk_check_group_norm(const bk_group_norm *a, anim_error *err) {
    if (!a->x || !a->y)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "group_norm: NULL x or y");
    if (a->n <= 0 || a->hw <= 0 || a->c <= 0 || a->groups <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "group_norm: bad shape n %d hw %d c %d groups %d (all must be >= 1)",
                           a->n, a->hw, a->c, a->groups);
    if (a->c % a->groups != 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "group_norm: channels %d not divisible by groups %d",
                           a->c, a->groups);
    if (!(a->eps >= 0.0f) || !isfinite(a->eps))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "group_norm: bad eps %g", (double)a->eps);
    return ANIM_OK;
}

anim_status bk_check_layer_norm(const bk_layer_norm *a, anim_error *err) {
    if (!a->x || !a->y)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "layer_norm: NULL x or y");
    if (a->m <= 0 || a->c <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "layer_norm: bad shape m %d c %d (both must be >= 1)",
                           a->m, a->c);
    if (!(a->eps >= 0.0f) || !isfinite(a->eps))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "layer_norm: bad eps %g", (double)a->eps);
    return ANIM_OK;
}

anim_status bk_check_linear(const bk_linear *a, anim_error *err) {
    if (!a->x || !a->w || !a->y)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "linear: NULL x, w or y");
    if (a->m <= 0 || a->n <= 0 || a->k <= 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "linear: bad size m %d n %d k %d (all must be >= 1)",
                           a->m, a->n, a->k);
    const int ldx = a->ldx ? a->ldx : a->k, ldy = a->ldy ? a->ldy : a->n;
    if (ldx < a->k)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "linear: ldx %d < k %d", a->ldx, a->k);
    if (ldy < a->n)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "linear: ldy %d < n %d", a->ldy, a->n);
    return ANIM_OK;
}

void anim_be_free(anim_be *be) {
    if (be) be->ops->destroy(be);
}

#ifndef ANIM_WITH_CUDA
anim_status anim_be_create_cuda(int device, anim_be **out, anim_error *err) {
    (void)device;
    *out = NULL;
    return anim_seterr(err, ANIM_E_UNSUPPORTED,
                       "this libanimate was built without the CUDA backend (rebuild with nvcc on PATH)");
}

const char *anim_cuda_device_name(int device, char *buf, size_t len) {
    (void)device; (void)buf; (void)len;
    return NULL;
}
#endif
