/*
 * threads.c - the persistent pthread pool behind anim_pool_parallel_for.
 *
 * Protocol: one mutex `mu` guards the job description (fn, ctx, n_items,
 * n_chunks), a generation counter `gen` and the count `pending` of worker
 * chunks not yet finished. parallel_for publishes a job by bumping `gen` and
 * broadcasting `wake`; worker w (1..n-1) runs chunk w when w < n_chunks, then
 * decrements `pending` and signals `done` when it reaches 0. The caller runs
 * chunk 0 itself and waits for `pending == 0` before returning, so a job
 * never overlaps the next one. A worker that sleeps through a job that had no
 * chunk for it only notices the newest generation, which is harmless.
 *
 * `busy` serialises jobs: it is taken with trylock, and when the pool is
 * already running a job (a nested call from inside fn, or a second thread
 * sharing the pool) the caller simply runs the whole range inline.
 */
#include "util/threads.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Far more than any machine we target; keeps a bogus sysconf answer sane. */
#define POOL_MAX_THREADS 1024

typedef struct pool_worker {
    anim_pool *pool;
    size_t index;          /* 1..n-1; chunk index this worker runs */
    pthread_t thread;
} pool_worker;

struct anim_pool {
    int n;                 /* threads including the caller */
    pool_worker *workers;  /* n-1 of them */
    int n_started;         /* workers actually started (for cleanup) */

    pthread_mutex_t busy;  /* held for the duration of one parallel_for */
    pthread_mutex_t mu;
    pthread_cond_t wake;   /* workers wait here for a new generation */
    pthread_cond_t done;   /* caller waits here for pending == 0 */
    uint64_t gen;
    size_t pending;
    bool quit;

    anim_pool_fn fn;
    void *ctx;
    size_t n_items, n_chunks;
};

void anim_pool_chunk_range(size_t n_items, size_t n_chunks, size_t i, size_t *begin, size_t *end) {
    /* the first r chunks get q+1 items, the rest q */
    size_t q = n_items / n_chunks, r = n_items % n_chunks;
    *begin = i * q + (i < r ? i : r);
    *end = *begin + q + (i < r ? 1 : 0);
}

size_t anim_pool_chunks(const anim_pool *pool, size_t n_items) {
    size_t n = pool ? (size_t)pool->n : 1;
    return n_items < n ? n_items : n;
}

int anim_pool_size(const anim_pool *pool) { return pool ? pool->n : 1; }

static void *pool_worker_main(void *arg) {
    pool_worker *w = arg;
    anim_pool *p = w->pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->gen == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        if (w->index >= p->n_chunks) continue;   /* nothing for us this time */
        anim_pool_fn fn = p->fn;
        void *ctx = p->ctx;
        size_t b, e;
        anim_pool_chunk_range(p->n_items, p->n_chunks, w->index, &b, &e);
        pthread_mutex_unlock(&p->mu);
        fn(ctx, b, e);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Stop and join the started workers, then release everything. */
static void pool_release(anim_pool *p) {
    if (p->n_started > 0) {
        pthread_mutex_lock(&p->mu);
        p->quit = true;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->n_started; i++) pthread_join(p->workers[i].thread, NULL);
    }
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->busy);
    free(p->workers);
    free(p);
}

anim_status anim_pool_create(int n_threads, anim_pool **out, anim_error *err) {
    *out = NULL;
    if (n_threads < 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "thread pool: n_threads %d < 0", n_threads);
    if (n_threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n < 1 ? 1 : n > POOL_MAX_THREADS ? POOL_MAX_THREADS : (int)n;
    }
    if (n_threads > POOL_MAX_THREADS) n_threads = POOL_MAX_THREADS;

    anim_pool *p = calloc(1, sizeof *p);
    if (!p) return anim_seterr(err, ANIM_E_OOM, "thread pool: could not allocate %zu bytes", sizeof *p);
    p->n = n_threads;
    pthread_mutex_init(&p->busy, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            pool_release(p);
            return anim_seterr(err, ANIM_E_OOM, "thread pool: could not allocate %zu bytes",
                               ((size_t)n_threads - 1) * sizeof(pool_worker));
        }
        for (int i = 0; i < n_threads - 1; i++) {
            pool_worker *w = &p->workers[i];
            w->pool = p;
            w->index = (size_t)i + 1;
            int rc = pthread_create(&w->thread, NULL, pool_worker_main, w);
            if (rc != 0) {
                pool_release(p);
                return anim_seterr(err, ANIM_E_INTERNAL, "thread pool: pthread_create failed for thread %d of %d: %s",
                                   i + 2, n_threads, strerror(rc));
            }
            p->n_started++;
        }
    }
    *out = p;
    return ANIM_OK;
}

void anim_pool_destroy(anim_pool *pool) {
    if (pool) pool_release(pool);
}

void anim_pool_parallel_for(anim_pool *pool, size_t n_items, anim_pool_fn fn, void *ctx) {
    if (n_items == 0) return;
    size_t n_chunks = anim_pool_chunks(pool, n_items);
    if (n_chunks <= 1 || pthread_mutex_trylock(&pool->busy) != 0) {
        /* single thread, single chunk, or the pool is busy (nested/concurrent use) */
        fn(ctx, 0, n_items);
        return;
    }
    pthread_mutex_lock(&pool->mu);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n_items = n_items;
    pool->n_chunks = n_chunks;
    pool->pending = n_chunks - 1;
    pool->gen++;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mu);

    size_t b, e;
    anim_pool_chunk_range(n_items, n_chunks, 0, &b, &e);
    fn(ctx, b, e);

    pthread_mutex_lock(&pool->mu);
    while (pool->pending > 0) pthread_cond_wait(&pool->done, &pool->mu);
    pthread_mutex_unlock(&pool->mu);
    pthread_mutex_unlock(&pool->busy);
}
