/* op_attention.c - CUDA attention (placeholder until its kernels land). */
#include "cuda/cuda_internal.h"

anim_status cuda_op_attention(anim_be *be, const bk_attention *a, anim_error *err) { return cuda_not_yet("attention", err); }
anim_status cuda_op_softmax(anim_be *be, const void *x, void *y, int m, int n, float scale, anim_error *err) {
    return cuda_not_yet("softmax", err);
}
