/*
 * dtype.h - element types found in checkpoints, and conversions between them.
 *
 * Checkpoints store little-endian data of these types; the CPU backend
 * computes in F32, the CUDA backend stores F16/BF16. Conversions are exact
 * where the target can hold the value, and round-to-nearest-even otherwise
 * (as PyTorch's .half() / .bfloat16() do).
 */
#ifndef ANIM_UTIL_DTYPE_H
#define ANIM_UTIL_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum anim_dtype {
    ANIM_DT_F32 = 0,
    ANIM_DT_F16,
    ANIM_DT_BF16,
    ANIM_DT_F64,
    ANIM_DT_I64,
    ANIM_DT_I32,
    ANIM_DT_I16,
    ANIM_DT_I8,
    ANIM_DT_U8,
    ANIM_DT_BOOL,
    ANIM_DT_COUNT
} anim_dtype;

size_t anim_dtype_size(anim_dtype t);        /* bytes per element */
const char *anim_dtype_name(anim_dtype t);   /* safetensors spelling: "F32", "BF16", ... */
/* safetensors dtype string -> dtype; returns -1 for unknown strings. */
int anim_dtype_from_st(const char *s, size_t len);

float anim_f16_to_f32(uint16_t h);
uint16_t anim_f32_to_f16(float f);
float anim_bf16_to_f32(uint16_t h);
uint16_t anim_f32_to_bf16(float f);

/* Convert n little-endian elements of type src_t at src (any alignment) to F32. */
void anim_convert_to_f32(float *dst, const void *src, anim_dtype src_t, size_t n);

#endif
