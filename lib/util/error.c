/* error.c - anim_error helpers and anim_status names. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

anim_status anim_seterr(anim_error *err, anim_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

anim_status anim_err_prefix(anim_error *err, const char *fmt, ...) {
    if (!err) return ANIM_E_INTERNAL;
    char pre[ANIM_ERR_MSG_MAX], old[ANIM_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* "pre: old", cut to the buffer (a deliberate truncation, done by hand so
     * -Wformat-truncation has nothing to warn about) */
    size_t lp = strnlen(pre, sizeof pre), lo = strnlen(old, sizeof old), cap = sizeof err->msg - 1;
    if (lp > cap) lp = cap;
    memcpy(err->msg, pre, lp);
    size_t o = lp;
    for (const char *sep = ": "; *sep && o < cap; sep++) err->msg[o++] = *sep;
    if (lo > cap - o) lo = cap - o;
    memcpy(err->msg + o, old, lo);
    err->msg[o + lo] = '\0';
    return err->status;
}

void anim_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "libanimate: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
    abort();
}

const char *anim_status_str(anim_status st) {
    switch (st) {
    case ANIM_OK: return "ANIM_OK: success";
    case ANIM_E_INVALID_ARG: return "ANIM_E_INVALID_ARG: invalid argument";
    case ANIM_E_IO: return "ANIM_E_IO: file input/output error";
    case ANIM_E_FORMAT: return "ANIM_E_FORMAT: malformed file";
    case ANIM_E_MODEL: return "ANIM_E_MODEL: weights do not match the model";
    case ANIM_E_OOM: return "ANIM_E_OOM: out of memory";
    case ANIM_E_CUDA: return "ANIM_E_CUDA: CUDA error";
    case ANIM_E_UNSUPPORTED: return "ANIM_E_UNSUPPORTED: not supported";
    case ANIM_E_ABORTED: return "ANIM_E_ABORTED: aborted by callback";
    case ANIM_E_STATE: return "ANIM_E_STATE: call made in the wrong state";
    case ANIM_E_INTERNAL: return "ANIM_E_INTERNAL: internal error";
    }
    return "unknown anim_status";
}
