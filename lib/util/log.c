/* log.c - dispatch of log/progress/abort hooks (formatting on the stack, no statics). */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *level_name(anim_log_level l) {
    switch (l) {
    case ANIM_LOG_ERROR: return "error";
    case ANIM_LOG_WARN: return "warning";
    case ANIM_LOG_INFO: return "info";
    case ANIM_LOG_DEBUG: return "debug";
    case ANIM_LOG_NONE: break;
    }
    return "?";
}

void anim_log(const anim_hooks *h, anim_log_level level, const char *fmt, ...) {
    anim_log_level max = h ? h->level : ANIM_LOG_WARN;
    if (level > max) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (h && h->log_cb) h->log_cb(level, msg, h->log_user);
    else fprintf(stderr, "libanimate %s: %s\n", level_name(level), msg);
}

void anim_progress_simple(const anim_hooks *h, const char *stage, int done, int total) {
    anim_progress p = {stage, done, total, 0, 0, 0, 0, 0.0};
    anim_progress_report(h, &p);
}

void anim_progress_report(const anim_hooks *h, const anim_progress *p) {
    if (h && h->progress_cb) h->progress_cb(p, h->progress_user);
}

bool anim_should_abort(const anim_hooks *h) { return h && h->abort_cb && h->abort_cb(h->abort_user); }
