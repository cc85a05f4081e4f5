/*
 * cpu_backend.c - the CPU reference backend object: memory, the ops table,
 * the per-backend scratch buffer and the slot helper over the thread pool.
 *
 * Storage is F32 in host memory, 64-byte aligned (one cache line, and enough
 * for any SIMD width the compiler may use); upload/download are plain copies
 * and sync is a no-op because every op has finished when it returns.
 * The backend is not thread-safe: one caller issues ops at a time (the ops
 * themselves use the pool internally).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "cpu/cpu_ops.h"

#define CPU_ALIGN 64

/* aligned_alloc wants a size that is a multiple of the alignment */
static void *cpu_aligned_alloc(size_t bytes) {
    if (bytes == 0) bytes = CPU_ALIGN;
    if (bytes > SIZE_MAX - (CPU_ALIGN - 1)) return NULL;
    bytes = (bytes + CPU_ALIGN - 1) / CPU_ALIGN * CPU_ALIGN;
    return aligned_alloc(CPU_ALIGN, bytes);
}

void *cpu_scratch(cpu_impl *impl, size_t bytes, const char *op, anim_error *err) {
    if (bytes <= impl->scratch_bytes && impl->scratch) return impl->scratch;
    void *p = cpu_aligned_alloc(bytes);
    if (!p) {
        anim_seterr(err, ANIM_E_OOM, "%s: could not allocate %zu bytes of scratch", op, bytes);
        return NULL;
    }
    free(impl->scratch);
    impl->scratch = p;
    impl->scratch_bytes = bytes;
    return p;
}

size_t cpu_slots(cpu_impl *impl, size_t n_items) { return anim_pool_chunks(impl->pool, n_items); }

typedef struct slot_job {
    cpu_slot_fn fn;
    void *ctx;
    size_t n_items, n_slots;
} slot_job;

static void slot_trampoline(void *vctx, size_t s_begin, size_t s_end) {
    const slot_job *j = vctx;
    for (size_t s = s_begin; s < s_end; s++) {
        size_t b, e;
        anim_pool_chunk_range(j->n_items, j->n_slots, s, &b, &e);
        if (b < e) j->fn(j->ctx, s, b, e);
    }
}

void cpu_for_slots(cpu_impl *impl, size_t n_items, cpu_slot_fn fn, void *ctx) {
    if (n_items == 0) return;
    slot_job j = { fn, ctx, n_items, cpu_slots(impl, n_items) };
    anim_pool_parallel_for(impl->pool, j.n_slots, slot_trampoline, &j);
}

/* ---- backend entry points ------------------------------------------------ */

static void cpu_destroy(anim_be *be) {
    if (!be) return;
    cpu_impl *impl = be->impl;
    if (impl) {
        anim_pool_destroy(impl->pool);
        free(impl->scratch);
        free(impl);
    }
    free(be);
}

/* Physical memory plus swap: Linux overcommits, so malloc of more than the
 * machine has can "succeed" and the process is killed when it touches the
 * pages. A request larger than all memory is refused up front instead. */
static unsigned long long memory_limit(unsigned long long *avail) {
    struct sysinfo si;
    if (sysinfo(&si) != 0) {
        *avail = 0;
        return 0;
    }
    *avail = ((unsigned long long)si.freeram + si.bufferram + si.freeswap) * si.mem_unit;
    return ((unsigned long long)si.totalram + si.totalswap) * si.mem_unit;
}

static anim_status cpu_alloc(anim_be *be, size_t n_elems, void **out, anim_error *err) {
    (void)be;
    *out = NULL;
    size_t bytes;
    if (!cpu_mul_ok(n_elems, sizeof(float), &bytes))
        return anim_seterr(err, ANIM_E_OOM, "cpu alloc: could not allocate %zu x %zu bytes (overflows size_t)",
                           n_elems, sizeof(float));
    unsigned long long avail = 0, limit = memory_limit(&avail);
    if ((limit && bytes > limit) || !(*out = cpu_aligned_alloc(bytes)))
        return anim_seterr(err, ANIM_E_OOM, "cpu alloc: could not allocate %zu bytes (%llu bytes available)", bytes,
                           avail);
    return ANIM_OK;
}

static void cpu_free(anim_be *be, void *p) {
    (void)be;
    free(p);
}

static anim_status cpu_upload(anim_be *be, void *dst, const float *src, size_t n, anim_error *err) {
    (void)be;
    if (n && (!dst || !src)) return anim_seterr(err, ANIM_E_INVALID_ARG, "cpu upload: NULL pointer");
    if (n && dst != src) memcpy(dst, src, n * sizeof(float));
    return ANIM_OK;
}

static anim_status cpu_download(anim_be *be, float *dst, const void *src, size_t n, anim_error *err) {
    (void)be;
    if (n && (!dst || !src)) return anim_seterr(err, ANIM_E_INVALID_ARG, "cpu download: NULL pointer");
    if (n && dst != src) memcpy(dst, src, n * sizeof(float));
    return ANIM_OK;
}

static anim_status cpu_sync(anim_be *be, anim_error *err) {
    (void)be;
    (void)err;
    return ANIM_OK;
}

static const anim_be_ops cpu_ops_table = {
    .name = "cpu",
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_upload,
    .download = cpu_download,
    .sync = cpu_sync,
    .conv2d = cpu_conv2d,
    .group_norm = cpu_group_norm,
    .layer_norm = cpu_layer_norm,
    .linear = cpu_linear,
    .attention = cpu_attention,
    .softmax = cpu_softmax,
    .act = cpu_act,
    .geglu = cpu_geglu,
    .upsample_nearest = cpu_upsample_nearest,
    .axpby = cpu_axpby,
    .add_channel = cpu_add_channel,
    .concat_channels = cpu_concat_channels,
};

anim_status anim_be_create_cpu(int n_threads, anim_be **out, anim_error *err) {
    *out = NULL;
    if (n_threads < 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "cpu backend: n_threads %d < 0", n_threads);
    anim_be *be = calloc(1, sizeof *be);
    cpu_impl *impl = calloc(1, sizeof *impl);
    if (!be || !impl) {
        free(be);
        free(impl);
        return anim_seterr(err, ANIM_E_OOM, "cpu backend: could not allocate %zu bytes",
                           sizeof *be + sizeof *impl);
    }
    anim_status st = anim_pool_create(n_threads, &impl->pool, err);
    if (st != ANIM_OK) {
        free(be);
        free(impl);
        if (err) anim_err_prefix(err, "cpu backend");
        return st;
    }
    impl->n_threads = anim_pool_size(impl->pool);
    be->ops = &cpu_ops_table;
    be->kind = ANIM_BACKEND_CPU;
    be->storage = ANIM_DT_F32;
    be->impl = impl;
    *out = be;
    return ANIM_OK;
}
