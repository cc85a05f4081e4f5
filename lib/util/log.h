/*
 * log.h - the per-context hooks (log, progress, abort) as internal code sees
 * them. Never global: every long-running internal function that logs,
 * reports progress or can be cancelled takes a `const anim_hooks *` (NULL
 * means: log warnings/errors to stderr, no progress, never abort).
 */
#ifndef ANIM_UTIL_LOG_H
#define ANIM_UTIL_LOG_H

#include <stdbool.h>

#include "animate.h"

typedef struct anim_hooks {
    anim_log_level level;
    anim_log_fn log_cb;
    void *log_user;
    anim_progress_fn progress_cb;
    void *progress_user;
    anim_abort_fn abort_cb;
    void *abort_user;
} anim_hooks;

void anim_log(const anim_hooks *h, anim_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void anim_progress_simple(const anim_hooks *h, const char *stage, int done, int total);
/* the full report (denoising steps and windows) */
void anim_progress_report(const anim_hooks *h, const anim_progress *p);
bool anim_should_abort(const anim_hooks *h);

#endif
