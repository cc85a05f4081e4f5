/*
 * backend.c - backend-independent parts of the backend object: freeing, and
 * the CUDA constructor's stand-in when the library is built without CUDA.
 */
#include "backend.h"

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
