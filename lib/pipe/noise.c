/* noise.c - seeded standard normal draws (see noise.h). */
#include "pipe/noise.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro(uint64_t s[4]) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* uniform in (0, 1]: 53 random bits, never 0 so log() is finite */
static double uniform(uint64_t s[4]) { return ((double)(xoshiro(s) >> 11) + 1.0) * (1.0 / 9007199254740992.0); }

void anim_randn(uint64_t seed, float *out, size_t n) {
    uint64_t sm = seed, s[4];
    for (int i = 0; i < 4; i++) s[i] = splitmix64(&sm);
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(uniform(s))), th = two_pi * uniform(s);
        out[i] = (float)(r * cos(th));
        if (i + 1 < n) out[i + 1] = (float)(r * sin(th));
    }
}
