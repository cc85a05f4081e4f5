/*
 * test_resources.c - exhausted memory, concurrency and repeated use:
 *  - a request larger than memory fails with ANIM_E_OOM naming the bytes asked
 *    for and available, and the same context then runs a smaller request;
 *  - two contexts in two threads run at once and give exactly the results
 *    each gives alone;
 *  - create / load / run / free cycles (leaks are caught by `make test SAN=1`,
 *    which CI runs).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "animate.h"
#include "backend.h"
#include "test.h"

#define TINY "tests/fixtures/moore-tiny"

typedef struct job {
    anim_status st;
    float lat[4 * 4 * 8 * 8];
    char err[256];
} job;

static anim_status run_tiny(job *j) {
    anim_ctx_params cp;
    anim_ctx_params_default(&cp);
    cp.backend = ANIM_BACKEND_CPU;
    cp.n_threads = 1;
    cp.log_level = ANIM_LOG_ERROR;
    anim_ctx *ctx = NULL;
    anim_picture ref = {0}, poses[4] = {{0}};
    anim_video v = {0};
    j->st = anim_ctx_create(&cp, &ctx);
    if (j->st != ANIM_OK) return j->st;
    j->st = anim_picture_read(ctx, TINY "/inputs/ref.png", &ref);
    for (int i = 0; i < 4 && j->st == ANIM_OK; i++) {
        char p[128];
        snprintf(p, sizeof p, TINY "/inputs/pose_%03d.png", i);
        j->st = anim_picture_read(ctx, p, &poses[i]);
    }
    if (j->st == ANIM_OK) j->st = anim_ctx_load_models(ctx, TINY);
    if (j->st == ANIM_OK) {
        anim_pose_params pp;
        anim_pose_params_default(&pp);
        pp.width = pp.height = 64;
        pp.steps = 2;
        pp.noise_file = TINY "/inputs/noise.safetensors";
        pp.latents_out = j->lat;
        j->st = anim_pose2vid(ctx, &pp, &ref, poses, 4, &v);
    }
    snprintf(j->err, sizeof j->err, "%s", anim_ctx_last_error(ctx));
    anim_video_free(&v);
    anim_picture_free(&ref);
    for (int i = 0; i < 4; i++) anim_picture_free(&poses[i]);
    anim_ctx_free(ctx);
    return j->st;
}

static void *thread_main(void *arg) {
    run_tiny(arg);
    return NULL;
}

TEST(resources_two_contexts_in_two_threads) {
#ifndef ANIM_WITH_PNG
    SKIP("built without libpng");
#endif
    static job alone, a, b;
    CHECK_MSG(run_tiny(&alone) == ANIM_OK, "%s", alone.err);
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, thread_main, &a) == 0);
    CHECK(pthread_create(&tb, NULL, thread_main, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_MSG(a.st == ANIM_OK && b.st == ANIM_OK, "%s / %s", a.err, b.err);
    /* no interference: each equals the run made alone, bit for bit */
    CHECK(memcmp(a.lat, alone.lat, sizeof a.lat) == 0);
    CHECK(memcmp(b.lat, alone.lat, sizeof b.lat) == 0);
}

TEST(resources_repeated_create_load_run_free) {
#ifndef ANIM_WITH_PNG
    SKIP("built without libpng");
#endif
    static job first, again;
    CHECK_MSG(run_tiny(&first) == ANIM_OK, "%s", first.err);
    for (int i = 0; i < 3; i++) {
        CHECK_MSG(run_tiny(&again) == ANIM_OK, "%s", again.err);
        CHECK(memcmp(again.lat, first.lat, sizeof first.lat) == 0);
    }
}

TEST(resources_backend_refuses_more_than_memory) {
    anim_be *be = NULL;
    anim_error e;
    CHECK_OK(anim_be_create_cpu(1, &be, &e), &e);
    void *p = (void *)1;
    CHECK_STATUS(be->ops->alloc(be, (size_t)1 << 44, &p, &e), ANIM_E_OOM, &e); /* 64 TiB of floats */
    CHECK(p == NULL);
    CHECK_CONTAINS(e.msg, "could not allocate 70368744177664 bytes");
    CHECK_CONTAINS(e.msg, "bytes available");
    CHECK_OK(be->ops->alloc(be, 1024, &p, &e), &e); /* and it still allocates */
    be->ops->free(be, p);
    anim_be_free(be);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#endif

static unsigned long long vm_size_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %llu kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb * 1024;
}

TEST(resources_out_of_memory_fails_cleanly_and_context_stays_usable) {
#ifdef UNDER_ASAN
    SKIP("address-space limits and AddressSanitizer's shadow memory do not mix");
#endif
#ifndef ANIM_WITH_PNG
    SKIP("built without libpng");
#endif
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* child: cap the address space 1.5 GiB above what it uses now, ask
         * for a 4096x4096 video (several GiB of activations), then for a
         * small one on the same context */
        anim_ctx_params cp;
        anim_ctx_params_default(&cp);
        cp.backend = ANIM_BACKEND_CPU;
        cp.n_threads = 1;
        cp.log_level = ANIM_LOG_NONE;
        anim_ctx *ctx = NULL;
        anim_picture ref = {0}, pose = {0};
        if (anim_ctx_create(&cp, &ctx) != ANIM_OK || anim_ctx_load_models(ctx, TINY) != ANIM_OK ||
            anim_picture_read(ctx, TINY "/inputs/ref.png", &ref) != ANIM_OK ||
            anim_picture_read(ctx, TINY "/inputs/pose_000.png", &pose) != ANIM_OK)
            _exit(10);
        struct rlimit rl = {vm_size_bytes() + (1536ull << 20), RLIM_INFINITY};
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(11);
        anim_pose_params pp;
        anim_pose_params_default(&pp);
        pp.width = pp.height = 4096;
        pp.steps = 1;
        anim_video v = {0};
        anim_status st = anim_pose2vid(ctx, &pp, &ref, &pose, 1, &v);
        if (st != ANIM_E_OOM) {
            printf("    big request: status %d (%s)\n", (int)st, anim_ctx_last_error(ctx));
            _exit(12);
        }
        if (!strstr(anim_ctx_last_error(ctx), "bytes")) _exit(13);
        if (v.rgb) _exit(14);
        pp.width = pp.height = 64;
        st = anim_pose2vid(ctx, &pp, &ref, &pose, 1, &v);
        if (st != ANIM_OK) printf("    small request after the failure: %s\n", anim_ctx_last_error(ctx));
        if (st == ANIM_OK) st = v.n_frames == 1 ? ANIM_OK : ANIM_E_INTERNAL;
        anim_video_free(&v);
        anim_picture_free(&ref);
        anim_picture_free(&pose);
        anim_ctx_free(ctx);
        fflush(stdout);
        _exit(st == ANIM_OK ? 0 : 15);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status), "child died of signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    CHECK_MSG(WEXITSTATUS(status) == 0, "child exit code %d", WEXITSTATUS(status));
}
