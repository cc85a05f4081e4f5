/*
 * fixture_tiny.h - shared helpers for the network tests against the
 * moore-tiny fixture (tests/fixtures/moore-tiny: tiny random-weight models
 * and the intermediates the real upstream PyTorch code produced from them).
 *
 * The model is loaded once per test run on a CPU backend and shared;
 * fixture tensors are read as F32 with their PyTorch shapes.
 */
#ifndef ANIM_TESTS_FIXTURE_TINY_H
#define ANIM_TESTS_FIXTURE_TINY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

#define TINY_DIR "tests/fixtures/moore-tiny"

/* The loaded moore-tiny model (NULL and a message in *err on failure). */
const anim_model *tiny_model(anim_error *err);
/* A fresh context over tiny_model() with its own arena (0: default chunk).
 * Returns false (message in *err) on failure. */
bool tiny_ctx(nn_ctx *c, anim_error *err);
void tiny_ctx_free(nn_ctx *c);

/* Tensor `key` of TINY_DIR/`file` as malloc'd F32; shape/ndim out (ndim <= 8).
 * NULL (message in *err) if absent. */
float *tiny_read(const char *file, const char *key, int64_t *shape, int *ndim, anim_error *err);
/* The same for any fixture directory. */
float *fixture_read(const char *dir, const char *file, const char *key, int64_t *shape, int *ndim, anim_error *err);

/* float -> double copy for test_compare (malloc'd) */
double *tiny_to_double(const float *x, size_t n);

#endif
