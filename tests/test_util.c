/* test_util.c - random inputs, tolerant comparison and file helpers for tests. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "io/tensor_file.h"
#include "test.h"

void test_rng_seed(test_rng *r, uint64_t seed) { r->s = seed * 0x9E3779B97F4A7C15ull + 1; }

uint64_t test_rng_u64(test_rng *r) { /* splitmix64 */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float test_rng_uniform(test_rng *r, float lo, float hi) {
    double u = (double)(test_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(lo + (hi - lo) * u);
}

void test_fill_uniform(test_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = test_rng_uniform(r, lo, hi);
}

bool test_compare(const char *what, const float *out, const double *ref, size_t n,
                  double nmse_max, double atol, double rtol) {
    double se = 0, sr = 0, worst = 0;
    size_t worst_i = 0, first_bad = n;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i])) {
            printf("    %s: non-finite output %g at %zu\n", what, out[i], i);
            return false;
        }
        double d = (double)out[i] - ref[i];
        se += d * d;
        sr += ref[i] * ref[i];
        double q = fabs(d) / (atol + rtol * fabs(ref[i]));
        if (q > worst) { worst = q; worst_i = i; }
        if (q > 1 && first_bad == n) first_bad = i;
    }
    double nmse = sr > 0 ? se / sr : se;
    bool ok = nmse <= nmse_max && worst <= 1;
    if (!ok) {
        printf("    %s: nmse %.3g (limit %.3g), worst |err|/(atol+rtol|ref|) %.3g at %zu (out %.9g ref %.9g)\n",
               what, nmse, nmse_max, worst, worst_i, out[worst_i], ref[worst_i]);
        for (size_t i = first_bad < n ? first_bad : 0, k = 0; i < n && k < 5; i++, k++)
            printf("      [%zu] out %.9g ref %.9g\n", i, out[i], ref[i]);
    }
    return ok;
}

unsigned char *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long sz = ftell(f);
    if (sz < 0) { fclose(f); return NULL; }
    rewind(f);
    unsigned char *buf = malloc((size_t)sz + 1);
    if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[sz] = 0; *len = (size_t)sz; }
    return buf;
}

bool test_write_file(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(buf, 1, len, f) == len;
    return (fclose(f) == 0) && ok;
}

const char *test_tmp_dir(void) {
    static const char *dir = "build/tests/tmp";
    mkdir("build", 0755);
    mkdir("build/tests", 0755);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return ".";
    return dir;
}

double test_rel_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

float *test_read_tensor(const char *path, const char *key, size_t *n) {
    tf_file *f = NULL;
    anim_error e;
    if (tf_open(path, &f, &e) != ANIM_OK) {
        printf("    %s\n", e.msg);
        return NULL;
    }
    const tf_tensor *t = tf_find(f, key);
    float *out = NULL;
    if (!t) printf("    %s: no tensor %s\n", path, key);
    else if ((out = malloc((size_t)tf_numel(t) * sizeof *out))) {
        *n = (size_t)tf_numel(t);
        if (tf_read_f32(t, out, &e) != ANIM_OK) {
            printf("    %s\n", e.msg);
            free(out);
            out = NULL;
        }
    }
    tf_close(f);
    return out;
}
