/*
 * error.h - how internal modules report failure.
 *
 * Every fallible internal function returns an anim_status and fills an
 * anim_error with a one-line message naming the file, key, shape or call at
 * fault. The public API copies the message into the context's last error.
 * Modules under lib/io know no context: they only see an anim_error.
 */
#ifndef ANIM_UTIL_ERROR_H
#define ANIM_UTIL_ERROR_H

#include "animate.h"

#define ANIM_ERR_MSG_MAX 1024

typedef struct anim_error {
    anim_status status;
    char msg[ANIM_ERR_MSG_MAX];
} anim_error;

/* Record status + printf-style message in err (may be NULL); returns status. */
anim_status anim_seterr(anim_error *err, anim_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefix the existing message with "prefix: " (e.g. the file name). */
anim_status anim_err_prefix(anim_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static inline void anim_err_clear(anim_error *err) {
    if (err) { err->status = ANIM_OK; err->msg[0] = '\0'; }
}

/* Internal invariant violated: a bug, not bad input. Prints and aborts. */
#define ANIM_ASSERT(c) \
    do { if (!(c)) anim_assert_fail(#c, __FILE__, __LINE__); } while (0)
void anim_assert_fail(const char *expr, const char *file, int line);

#endif
