/*
 * cpu_ops.h - internals shared by the CPU reference backend's files.
 *
 * The CPU backend stores F32 and computes in F32 (statistics in double). Every
 * op is deterministic: each output value is produced by one thread with a
 * summation order fixed by the op's definition, never by how work is split,
 * so 1 thread and N threads give bitwise-identical results.
 *
 *   cpu_backend.c     backend object, memory, the ops table, scratch, slots
 *   ops_linear.c      linear, and the packed GEMM core that conv2d reuses
 *   ops_conv.c        conv2d (im2col rows fed to the GEMM core)
 *   ops_norm.c        group norm (+ SiLU), layer norm
 *   ops_attention.c   multi-head attention with an optional second K/V segment
 *   ops_elementwise.c softmax, activations, geglu, nearest upsample, axpby,
 *                     add_channel, concat_channels
 */
#ifndef ANIM_CPU_OPS_H
#define ANIM_CPU_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "util/threads.h"

typedef struct cpu_impl {
    anim_pool *pool;
    int n_threads;
    /* one growable scratch buffer per backend; ops run one at a time on a
     * backend, so an op owns all of it for its duration */
    void *scratch;
    size_t scratch_bytes;
} cpu_impl;

static inline cpu_impl *cpu_impl_of(anim_be *be) { return (cpu_impl *)be->impl; }

/* At least `bytes` of 64-byte aligned scratch (contents undefined), or NULL
 * with ANIM_E_OOM "<op>: could not allocate N bytes of scratch". */
void *cpu_scratch(cpu_impl *impl, size_t bytes, const char *op, anim_error *err);

/* Work split into "slots": n_slots = min(n_items, threads) slots, each
 * handling a contiguous range of items in one call of fn(ctx, slot, begin,
 * end), so fn can use per-slot scratch. */
typedef void (*cpu_slot_fn)(void *ctx, size_t slot, size_t begin, size_t end);
size_t cpu_slots(cpu_impl *impl, size_t n_items);
void cpu_for_slots(cpu_impl *impl, size_t n_items, cpu_slot_fn fn, void *ctx);

/* a*b (and a*b*c) in size_t, false on overflow */
static inline int cpu_mul_ok(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

/* ---- packed GEMM core (ops_linear.c) ------------------------------------
 * y[i*ldy + j] = (sum_{kk<k} A_i[kk] * w[j*k + kk]) + bias[j] + res[i*ldy + j]
 * for i < m, j < n. The sum runs kk = 0..k-1 in order in one float
 * accumulator; bias then res are added after it. Row A_i comes from row_fn,
 * which returns a pointer to k floats (either into the caller's data or into
 * `buf`, k floats of per-slot scratch it may fill). res may equal y. */
typedef const float *(*cpu_gemm_row_fn)(const void *ctx, size_t i, float *buf);
typedef struct cpu_gemm {
    size_t m, n, k;
    cpu_gemm_row_fn row;
    const void *row_ctx;
    const float *w;          /* [n][k] */
    const float *bias;       /* [n] or NULL */
    const float *res;        /* [m][ldy] or NULL */
    float *y;                /* [m][ldy] */
    size_t ldy;
} cpu_gemm;
anim_status cpu_gemm_run(cpu_impl *impl, const cpu_gemm *g, const char *op, anim_error *err);

/* ---- ops (each validates its arguments, naming itself in the error) ---- */
anim_status cpu_conv2d(anim_be *be, const bk_conv2d *a, anim_error *err);
anim_status cpu_group_norm(anim_be *be, const bk_group_norm *a, anim_error *err);
anim_status cpu_layer_norm(anim_be *be, const bk_layer_norm *a, anim_error *err);
anim_status cpu_linear(anim_be *be, const bk_linear *a, anim_error *err);
anim_status cpu_attention(anim_be *be, const bk_attention *a, anim_error *err);
anim_status cpu_softmax(anim_be *be, const void *x, void *y, int m, int n, float scale, anim_error *err);
anim_status cpu_act(anim_be *be, bk_act act, const void *x, void *y, size_t n, anim_error *err);
anim_status cpu_geglu(anim_be *be, const void *x, void *y, int m, int n, anim_error *err);
anim_status cpu_upsample_nearest(anim_be *be, const void *x, void *y, int n, int h, int w, int c,
                                 int ho, int wo, anim_error *err);
anim_status cpu_axpby(anim_be *be, float alpha, const void *a, float beta, const void *b, void *y,
                      size_t n, anim_error *err);
anim_status cpu_add_channel(anim_be *be, const void *x, const void *v, void *y, int n, int hw, int c,
                            int v_div, anim_error *err);
anim_status cpu_concat_channels(anim_be *be, const void *a, const void *b, void *y, int m, int ca, int cb,
                                anim_error *err);

/* scalar activations shared by act, geglu and group norm's fused SiLU */
float cpu_silu(float x);
float cpu_gelu_erf(float x);

#endif
