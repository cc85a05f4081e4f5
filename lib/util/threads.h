/*
 * threads.h - a small persistent pthread pool with one operation, parallel_for.
 *
 * A pool of n threads is the calling thread plus n-1 workers that sleep on a
 * condition variable between jobs. anim_pool_parallel_for(pool, n_items, fn,
 * ctx) splits [0, n_items) into at most n contiguous chunks of near-equal size
 * (chunk i = [i*q + min(i,r), ...) with q = n_items/chunks, r = n_items%chunks),
 * runs fn(ctx, begin, end) once per non-empty chunk, one chunk per thread (the
 * caller takes chunk 0), and returns when all chunks are done. The split
 * depends only on n_items and the pool size, so callers that need per-thread
 * scratch can call parallel_for over "slots" (n_items = number of slots) and
 * index their scratch by the item number.
 *
 * There is no global state: every pool is independent. A pool of 1 thread
 * starts no workers and runs fn inline. A parallel_for issued while the pool
 * is already running a job (from inside fn, or from another thread) runs the
 * whole range inline in the calling thread instead of deadlocking.
 */
#ifndef ANIM_UTIL_THREADS_H
#define ANIM_UTIL_THREADS_H

#include <stddef.h>

#include "util/error.h"

typedef struct anim_pool anim_pool;

/* fn processes items [begin, end); begin < end always. */
typedef void (*anim_pool_fn)(void *ctx, size_t begin, size_t end);

/* n_threads 0 = sysconf(_SC_NPROCESSORS_ONLN); negative is ANIM_E_INVALID_ARG.
 * ANIM_E_OOM / ANIM_E_INTERNAL (naming pthread_create) when threads cannot start. */
anim_status anim_pool_create(int n_threads, anim_pool **out, anim_error *err);
void anim_pool_destroy(anim_pool *pool);   /* NULL is a no-op; joins the workers */
int anim_pool_size(const anim_pool *pool); /* threads including the caller */

/* Number of chunks parallel_for would use for n_items: min(n_items, size). */
size_t anim_pool_chunks(const anim_pool *pool, size_t n_items);
/* The range of chunk i out of n_chunks over n_items (the split parallel_for uses). */
void anim_pool_chunk_range(size_t n_items, size_t n_chunks, size_t i, size_t *begin, size_t *end);

void anim_pool_parallel_for(anim_pool *pool, size_t n_items, anim_pool_fn fn, void *ctx);

#endif
