/*
 * test.h - the test runner's registration and check macros.
 *
 * Each tests/test_*.c defines TEST(name) { ... } functions; they register
 * themselves before main() runs (constructor attribute) and tests/main.c runs
 * them in file/definition order. A failed CHECK records the failure and
 * returns from the function it is in; the runner prints "ok"/"FAIL"/"skip" per
 * test and ends with the line "N passed, N failed[, N skipped]".
 * Tests run from the repository root: fixture paths are "tests/fixtures/...".
 */
#ifndef ANIM_TEST_H
#define ANIM_TEST_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, const char *file, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void test_skip(const char *fmt, ...);
bool test_failed(void);   /* has the current test failed so far? */

#define TEST(name)                                                              \
    static void test_##name(void);                                              \
    __attribute__((constructor)) static void test_reg_##name(void) {            \
        test_register(#name, __FILE__, test_##name);                            \
    }                                                                           \
    static void test_##name(void)

#define CHECK(cond)                                                             \
    do { if (!(cond)) { test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); return; } } while (0)

#define CHECK_MSG(cond, ...)                                                    \
    do { if (!(cond)) { test_fail(__FILE__, __LINE__, __VA_ARGS__); return; } } while (0)

/* expr must return status `want`; on mismatch prints both and errp->msg (errp: an anim_error *) */
#define CHECK_STATUS(expr, want, errp)                                          \
    do {                                                                        \
        int got_ = (int)(expr);                                                 \
        if (got_ != (int)(want)) {                                              \
            test_fail(__FILE__, __LINE__, "%s returned %d, want %d (%s)", #expr, \
                      got_, (int)(want), (errp)->msg);                          \
            return;                                                             \
        }                                                                       \
    } while (0)

#define CHECK_OK(expr, errp) CHECK_STATUS(expr, 0, errp)

/* the message must contain the substring */
#define CHECK_CONTAINS(msg, sub)                                                \
    do {                                                                        \
        if (!strstr((msg), (sub))) {                                            \
            test_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", (msg), (sub)); \
            return;                                                             \
        }                                                                       \
    } while (0)

#define SKIP(...) do { test_skip(__VA_ARGS__); return; } while (0)

/* ---- helpers (tests/test_util.c) ---- */

/* deterministic uniform floats in [lo, hi) */
typedef struct test_rng { uint64_t s; } test_rng;
void test_rng_seed(test_rng *r, uint64_t seed);
uint64_t test_rng_u64(test_rng *r);
float test_rng_uniform(test_rng *r, float lo, float hi);
void test_fill_uniform(test_rng *r, float *x, size_t n, float lo, float hi);

/* Compare out against a double reference: normalised MSE (sum (o-r)^2 / sum r^2)
 * and max |o - r| / (atol + rtol |r|). NaN/Inf in out always fails. On failure
 * prints the op name, both measures and the first mismatching values, and
 * returns false. */
bool test_compare(const char *what, const float *out, const double *ref, size_t n,
                  double nmse_max, double atol, double rtol);

/* sqrt(sum (a-b)^2 / sum b^2): relative L2 distance of a from reference b */
double test_rel_l2(const float *a, const float *b, size_t n);
/* Tensor `key` of a checkpoint file as malloc'd F32 (n: its element count), or
 * NULL with a message printed. */
float *test_read_tensor(const char *path, const char *key, size_t *n);

/* Read a whole file (tests only); returns malloc'd buffer or NULL. */
unsigned char *test_read_file(const char *path, size_t *len);
/* Write buf to path; returns false on failure. */
bool test_write_file(const char *path, const void *buf, size_t len);
/* A per-run scratch directory (created once): "build/tests/tmp". */
const char *test_tmp_dir(void);

#endif
