/*
 * noise.h - libanimate's seeded normal generator for the initial latents.
 *
 * xoshiro256** seeded through splitmix64, Box-Muller in double, rounded to
 * float32: deterministic across machines and thread counts. It is NOT
 * PyTorch's generator (torch.randn's CPU kernels differ by CPU feature set);
 * to reproduce an upstream run exactly, pass its initial latents (--noise).
 */
#ifndef ANIM_PIPE_NOISE_H
#define ANIM_PIPE_NOISE_H

#include <stddef.h>
#include <stdint.h>

void anim_randn(uint64_t seed, float *out, size_t n);

#endif
