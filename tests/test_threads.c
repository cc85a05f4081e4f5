/*
 * test_threads.c - the thread pool (lib/util/threads.c): every index covered
 * exactly once for many (n_items, pool size) pairs, the documented chunk
 * split, one thread per chunk, inline execution for pools of 1, nested and
 * concurrent calls, and repeated create/destroy (leaks show under SAN=1).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "util/threads.h"

#define MAX_CALLS 64

typedef struct cover_ctx {
    atomic_int *count;        /* per index */
    atomic_int calls;
    atomic_int bad_range;     /* begin >= end seen */
    pthread_t who[MAX_CALLS]; /* thread of each call, by chunk order of begin */
    size_t begins[MAX_CALLS], ends[MAX_CALLS];
} cover_ctx;

static void cover_fn(void *vctx, size_t begin, size_t end) {
    cover_ctx *c = vctx;
    if (begin >= end) atomic_fetch_add(&c->bad_range, 1);
    int k = atomic_fetch_add(&c->calls, 1);
    if (k < MAX_CALLS) {
        c->who[k] = pthread_self();
        c->begins[k] = begin;
        c->ends[k] = end;
    }
    for (size_t i = begin; i < end; i++) atomic_fetch_add(&c->count[i], 1);
}

TEST(threads_cover_every_index_once) {
    const int sizes[] = { 1, 2, 3, 4, 7 };
    const size_t items[] = { 0, 1, 2, 3, 5, 7, 8, 64, 1000, 12345 };
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        anim_pool *pool;
        anim_error err_, *err = &err_;
        CHECK_OK(anim_pool_create(sizes[si], &pool, err), err);
        CHECK(anim_pool_size(pool) == sizes[si]);
        for (size_t ni = 0; ni < sizeof items / sizeof items[0]; ni++) {
            const size_t n = items[ni];
            for (int rep = 0; rep < 3; rep++) {   /* the pool is reused across jobs */
                cover_ctx c = { 0 };
                c.count = calloc(n + 1, sizeof *c.count);
                anim_pool_parallel_for(pool, n, cover_fn, &c);
                int bad = -1;
                for (size_t i = 0; i < n; i++)
                    if (atomic_load(&c.count[i]) != 1) { bad = (int)i; break; }
                const int calls = atomic_load(&c.calls);
                const size_t want_calls = n < (size_t)sizes[si] ? n : (size_t)sizes[si];
                free(c.count);
                CHECK_MSG(bad < 0, "pool %d, n %zu: index %d not covered exactly once", sizes[si], n, bad);
                CHECK_MSG((size_t)calls == want_calls, "pool %d, n %zu: %d calls, want %zu", sizes[si], n,
                          calls, want_calls);
                CHECK(atomic_load(&c.bad_range) == 0);
                /* every chunk matches the documented split and runs on its own thread */
                for (int k = 0; k < calls; k++) {
                    size_t idx = 0, b, e;
                    while (idx < want_calls) {
                        anim_pool_chunk_range(n, want_calls, idx, &b, &e);
                        if (b == c.begins[k]) break;
                        idx++;
                    }
                    CHECK_MSG(idx < want_calls && e == c.ends[k], "pool %d, n %zu: chunk [%zu,%zu) not in the split",
                              sizes[si], n, c.begins[k], c.ends[k]);
                    for (int k2 = 0; k2 < k; k2++) CHECK(!pthread_equal(c.who[k], c.who[k2]));
                }
            }
        }
        anim_pool_destroy(pool);
    }
}

TEST(threads_chunk_range_split) {
    /* 10 items over 4 chunks: 3,3,2,2 */
    size_t b, e;
    const size_t want[5] = { 0, 3, 6, 8, 10 };
    for (size_t i = 0; i < 4; i++) {
        anim_pool_chunk_range(10, 4, i, &b, &e);
        CHECK(b == want[i] && e == want[i + 1]);
    }
    anim_pool_chunk_range(3, 3, 2, &b, &e);
    CHECK(b == 2 && e == 3);
    anim_pool *pool;
    anim_error err_, *err = &err_;
    CHECK_OK(anim_pool_create(3, &pool, err), err);
    CHECK(anim_pool_chunks(pool, 0) == 0);
    CHECK(anim_pool_chunks(pool, 2) == 2);
    CHECK(anim_pool_chunks(pool, 100) == 3);
    anim_pool_destroy(pool);
}

TEST(threads_single_thread_runs_inline) {
    anim_pool *pool;
    anim_error err_, *err = &err_;
    CHECK_OK(anim_pool_create(1, &pool, err), err);
    cover_ctx c = { 0 };
    c.count = calloc(100, sizeof *c.count);
    anim_pool_parallel_for(pool, 100, cover_fn, &c);
    const int calls = atomic_load(&c.calls);
    const bool inline_ok = calls == 1 && pthread_equal(c.who[0], pthread_self()) && c.begins[0] == 0 &&
                           c.ends[0] == 100;
    free(c.count);
    anim_pool_destroy(pool);
    CHECK_MSG(inline_ok, "pool of 1: %d calls, want one inline call over [0,100)", calls);
}

TEST(threads_zero_means_all_cores) {
    anim_pool *pool;
    anim_error err_, *err = &err_;
    CHECK_OK(anim_pool_create(0, &pool, err), err);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    int size = anim_pool_size(pool);
    anim_pool_destroy(pool);
    CHECK_MSG(size == (n < 1 ? 1 : n), "pool size %d, %ld cores online", size, n);
    CHECK_STATUS(anim_pool_create(-1, &pool, err), ANIM_E_INVALID_ARG, err);
    CHECK(pool == NULL);
    CHECK_CONTAINS(err->msg, "thread pool");
    anim_pool_destroy(NULL);   /* no-op */
}

/* a parallel_for from inside a job runs inline instead of deadlocking */
typedef struct nested_ctx {
    anim_pool *pool;
    atomic_int inner_total;
} nested_ctx;

static void inner_fn(void *vctx, size_t begin, size_t end) {
    nested_ctx *c = vctx;
    atomic_fetch_add(&c->inner_total, (int)(end - begin));
}

static void outer_fn(void *vctx, size_t begin, size_t end) {
    nested_ctx *c = vctx;
    for (size_t i = begin; i < end; i++) anim_pool_parallel_for(c->pool, 10, inner_fn, c);
}

TEST(threads_nested_call_runs_inline) {
    anim_pool *pool;
    anim_error err_, *err = &err_;
    CHECK_OK(anim_pool_create(3, &pool, err), err);
    nested_ctx c = { .pool = pool };
    anim_pool_parallel_for(pool, 6, outer_fn, &c);
    int total = atomic_load(&c.inner_total);
    anim_pool_destroy(pool);
    CHECK_MSG(total == 60, "nested total %d, want 60", total);
}

/* two threads sharing one pool: both jobs complete, each exactly once */
typedef struct conc_arg {
    anim_pool *pool;
    atomic_int *count;
    size_t n;
} conc_arg;

static void conc_fn(void *vctx, size_t begin, size_t end) {
    conc_arg *a = vctx;
    for (size_t i = begin; i < end; i++) atomic_fetch_add(&a->count[i], 1);
}

static void *conc_thread(void *varg) {
    conc_arg *a = varg;
    for (int rep = 0; rep < 200; rep++) anim_pool_parallel_for(a->pool, a->n, conc_fn, a);
    return NULL;
}

TEST(threads_concurrent_callers) {
    anim_pool *pool;
    anim_error err_, *err = &err_;
    CHECK_OK(anim_pool_create(4, &pool, err), err);
    conc_arg a[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        a[i].pool = pool;
        a[i].n = 777;
        a[i].count = calloc(a[i].n, sizeof *a[i].count);
        CHECK(pthread_create(&t[i], NULL, conc_thread, &a[i]) == 0);
    }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    int bad = 0;
    for (int i = 0; i < 2; i++) {
        for (size_t k = 0; k < a[i].n; k++) bad += atomic_load(&a[i].count[k]) != 200;
        free(a[i].count);
    }
    anim_pool_destroy(pool);
    CHECK_MSG(bad == 0, "%d indices not covered 200 times", bad);
}

TEST(threads_create_destroy_repeatedly) {
    for (int rep = 0; rep < 100; rep++) {
        anim_pool *pool;
        anim_error err_, *err = &err_;
        CHECK_OK(anim_pool_create(1 + rep % 5, &pool, err), err);
        if (rep % 2) {   /* half of them do a job first, half are destroyed idle */
            cover_ctx c = { 0 };
            c.count = calloc(50, sizeof *c.count);
            anim_pool_parallel_for(pool, 50, cover_fn, &c);
            int ok = atomic_load(&c.count[49]) == 1;
            free(c.count);
            CHECK(ok);
        }
        anim_pool_destroy(pool);
    }
}
