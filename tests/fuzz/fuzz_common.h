/*
 * fuzz_common.h - what every libFuzzer harness in tests/fuzz/ shares: an
 * invariant check that names the failed condition (libFuzzer then saves the
 * input as a crash), and the check every parser's error path must pass.
 *
 * A failed FUZZ_CHECK prints "file:line: invariant failed: <expr>" and
 * aborts; sanitizer reports (ASan, UBSan, LeakSanitizer) abort the same way
 * because the harnesses are built with -fno-sanitize-recover=undefined.
 */
#ifndef ANIM_FUZZ_COMMON_H
#define ANIM_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define FUZZ_CHECK(c)                                                                       \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c);      \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

/* Clear err before a call, so a parser that fails without a message cannot
 * pass on the message of an earlier call. */
static inline void fuzz_err_reset(anim_error *err) { memset(err, 0, sizeof *err); }

/* A parser that failed with st must have recorded st in err and a message
 * that starts with "<name>: " (every parser prefixes the input's name). */
static inline void fuzz_check_error(anim_status st, const anim_error *err, const char *name) {
    size_t n = strlen(name);
    if (!(st < 0 && err->status == st && strncmp(err->msg, name, n) == 0 && err->msg[n] == ':' &&
          strlen(err->msg) > n + 2)) {
        fprintf(stderr, "bad error report: status %d, err.status %d, msg \"%s\" (expected \"%s: ...\")\n",
                (int)st, (int)err->status, err->msg, name);
        abort();
    }
}

#endif
