/* op_conv.c - CUDA conv2d (placeholder until its kernels land). */
#include "cuda/cuda_internal.h"

anim_status cuda_op_conv2d(anim_be *be, const bk_conv2d *a, anim_error *err) { return cuda_not_yet("conv2d", err); }
