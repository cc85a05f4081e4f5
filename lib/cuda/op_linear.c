/* op_linear.c - CUDA linear (placeholder until its kernels land). */
#include "cuda/cuda_internal.h"

anim_status cuda_op_linear(anim_be *be, const bk_linear *a, anim_error *err) { return cuda_not_yet("linear", err); }
