/*
 * main.c - the CPU test runner: runs every registered TEST, or those whose
 * name contains argv[1]. Last line: "N passed, N failed[, N skipped]".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"

#define MAX_TESTS 4096

static struct { const char *name, *file; test_fn fn; } tests[MAX_TESTS];
static int n_tests;
static int cur_failed, cur_skipped;

void test_register(const char *name, const char *file, test_fn fn) {
    if (n_tests >= MAX_TESTS) { fprintf(stderr, "too many tests\n"); exit(2); }
    tests[n_tests].name = name;
    tests[n_tests].file = file;
    tests[n_tests].fn = fn;
    n_tests++;
}

void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
    cur_failed = 1;
}

void test_skip(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    skipped: ");
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
    cur_skipped = 1;
}

bool test_failed(void) { return cur_failed != 0; }

/* constructors run in link order, which is file order; keep file order and
 * definition order within a file */
static int by_file(const void *a, const void *b) {
    const int ia = *(const int *)a, ib = *(const int *)b;
    int c = strcmp(tests[ia].file, tests[ib].file);
    return c ? c : (ia - ib);
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    int order[MAX_TESTS];
    for (int i = 0; i < n_tests; i++) order[i] = i;
    qsort(order, (size_t)n_tests, sizeof order[0], by_file);
    int passed = 0, failed = 0, skipped = 0;
    for (int k = 0; k < n_tests; k++) {
        int i = order[k];
        if (filter && !strstr(tests[i].name, filter) && !strstr(tests[i].file, filter)) continue;
        cur_failed = cur_skipped = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tests[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        const char *tag = cur_failed ? "FAIL" : cur_skipped ? "skip" : "ok  ";
        printf("%s %-48s %8.1f ms  (%s)\n", tag, tests[i].name, ms, tests[i].file);
        fflush(stdout);
        if (cur_failed) failed++;
        else if (cur_skipped) skipped++;
        else passed++;
    }
    if (skipped) printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
