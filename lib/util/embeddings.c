/*
 * embeddings.c - the two sinusoidal tables the networks build on the host:
 * the UNet timestep embedding and AnimateDiff's temporal positional encoding.
 *
 * Both reproduce the float32 arithmetic of the PyTorch code they come from,
 * step by step (a Python float multiplied with a float32 tensor is rounded to
 * float32 first and the product computed in float32), so the tables match
 * the reference to within the last-ulp differences of sinf/cosf/expf.
 *
 * anim_timestep_embedding(out[dim], t, dim, flip, shift) - diffusers
 * get_timestep_embedding:
 *   half = dim/2
 *   exponent[k] = (float(-ln 10000) * float(k)) / float(half - shift)   (float32)
 *   freq[k] = expf(exponent[k]);  arg[k] = t * freq[k]                   (float32)
 *   out = [sin(arg) | cos(arg)], or [cos(arg) | sin(arg)] when flip;
 *   odd dim: one trailing zero (F.pad(emb, (0, 1))).
 * anim_sinusoidal_pe(out[max_len][dim], max_len, dim) - AnimateDiff
 * PositionalEncoding (motion_module.py):
 *   div[i] = expf(float(2i) * float(-ln(10000)/dim))
 *   out[p][2i] = sinf(float(p) * div[i]), out[p][2i+1] = cosf(float(p) * div[i])
 *   (interleaved, unlike the timestep embedding's halves).
 */
#include <math.h>

#include "backend.h"

void anim_timestep_embedding(float *out, float t, int dim, bool flip_sin_to_cos, float freq_shift) {
    if (dim <= 0) return;
    const int half = dim / 2;
    /* -math.log(max_period) is a Python float; torch rounds it to float32
     * before multiplying the float32 arange, and likewise the divisor */
    const float neg_log = (float)(-log(10000.0));
    const float denom = (float)((double)half - (double)freq_shift);
    float *sin_part = out + (flip_sin_to_cos ? half : 0);
    float *cos_part = out + (flip_sin_to_cos ? 0 : half);
    for (int k = 0; k < half; k++) {
        const float exponent = (neg_log * (float)k) / denom;
        const float arg = t * expf(exponent);
        sin_part[k] = sinf(arg);
        cos_part[k] = cosf(arg);
    }
    if (dim % 2) out[dim - 1] = 0.0f;
}

void anim_sinusoidal_pe(float *out, int max_len, int dim) {
    if (max_len <= 0 || dim <= 0) return;
    /* (-math.log(10000.0) / d_model) is computed in double by Python, then
     * rounded to float32 when it multiplies the int64 arange */
    const float c = (float)(-log(10000.0) / (double)dim);
    for (int p = 0; p < max_len; p++) {
        float *row = out + (size_t)p * (size_t)dim;
        for (int i2 = 0; i2 < dim; i2 += 2) {
            const float arg = (float)p * expf((float)i2 * c);
            row[i2] = sinf(arg);
            if (i2 + 1 < dim) row[i2 + 1] = cosf(arg);
        }
    }
}
