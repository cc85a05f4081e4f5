/* test_noise.c - the seeded generator: deterministic, standard normal statistics. */
#include <stdlib.h>

#include "pipe/noise.h"
#include "test.h"

TEST(noise_deterministic_and_standard_normal) {
    size_t n = 200001;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    anim_randn(42, a, n);
    anim_randn(42, b, n);
    CHECK(memcmp(a, b, n * sizeof *a) == 0);
    anim_randn(43, b, n);
    CHECK(memcmp(a, b, n * sizeof *a) != 0);
    double m = 0, v = 0, k4 = 0;
    for (size_t i = 0; i < n; i++) m += a[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = a[i] - m;
        v += d * d;
        k4 += d * d * d * d;
    }
    v /= (double)n;
    k4 /= (double)n * v * v;
    free(a);
    free(b);
    /* 200k draws: mean within ~4.5 sigma (0.01), variance and kurtosis of a normal */
    CHECK_MSG(fabs(m) < 0.01, "mean %g", m);
    CHECK_MSG(fabs(v - 1) < 0.02, "variance %g", v);
    CHECK_MSG(fabs(k4 - 3) < 0.1, "kurtosis %g", k4);
}
