/* op_norm.c - CUDA norms (placeholder until its kernels land). */
#include "cuda/cuda_internal.h"

anim_status cuda_op_group_norm(anim_be *be, const bk_group_norm *a, anim_error *err) { return cuda_not_yet("group_norm", err); }
anim_status cuda_op_layer_norm(anim_be *be, const bk_layer_norm *a, anim_error *err) { return cuda_not_yet("layer_norm", err); }
