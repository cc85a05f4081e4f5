/*
 * cli.h - what the example programs share: flag parsing with one-line
 * errors, and the progress printer (one line per denoising step with the
 * window, elapsed time and ETA). Header-only: each example is one file.
 */
#ifndef ANIM_EXAMPLES_CLI_H
#define ANIM_EXAMPLES_CLI_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "animate.h"

static const char *cli_prog = "animate"; /* set by main() for messages */

/* "prog: --flag 'value': want"; returns 0 so callers can `return cli_bad(...), 2` */
static int cli_bad(const char *flag, const char *v, const char *want) {
    fprintf(stderr, "%s: %s '%s': %s\n", cli_prog, flag, v, want);
    return 0;
}

static int cli_int(const char *flag, const char *v, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < lo || n > hi) {
        char want[96];
        snprintf(want, sizeof want, "must be an integer in %ld..%ld", lo, hi);
        return cli_bad(flag, v, want);
    }
    *out = (int)n;
    return 1;
}

static int cli_float(const char *flag, const char *v, float lo, float hi, float *out) {
    char *end;
    float f = strtof(v, &end);
    if (*end || end == v || !(f >= lo && f <= hi)) {
        char want[96];
        snprintf(want, sizeof want, "must be a number in %g..%g", (double)lo, (double)hi);
        return cli_bad(flag, v, want);
    }
    *out = f;
    return 1;
}

static int cli_seed(const char *flag, const char *v, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long s = strtoull(v, &end, 10);
    if (errno || *end || end == v || v[0] == '-') return cli_bad(flag, v, "must be a non-negative integer");
    *out = s;
    return 1;
}

static int cli_backend(const char *flag, const char *v, anim_backend *out) {
    if (!strcmp(v, "cpu")) *out = ANIM_BACKEND_CPU;
    else if (!strcmp(v, "cuda")) *out = ANIM_BACKEND_CUDA;
    else if (!strcmp(v, "auto")) *out = ANIM_BACKEND_AUTO;
    else return cli_bad(flag, v, "must be cpu, cuda or auto");
    return 1;
}

/* Before a run that may take hours: can the output go where it is asked to?
 * NAME.webp / FILE: its directory must exist; a frames directory: it, or its
 * parent, must be a directory. (Writability itself shows at write time;
 * this catches the common mistakes in a second.) */
static int cli_check_out(const char *flag, const char *path, bool is_dir) {
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", path);
    struct stat sb;
    if (is_dir && stat(parent, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) return 1;
        return cli_bad(flag, path, "exists and is not a directory");
    }
    char *slash = strrchr(parent, '/');
    if (!slash) return 1;          /* the current directory */
    if (slash == parent) return 1; /* "/" */
    *slash = '\0';
    if (stat(parent, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_bad(flag, path, is_dir ? "its parent is not an existing directory" : "its directory does not exist");
    return 1;
}

typedef struct cli_progress { int quiet; } cli_progress;

/* one line per finished denoising step (and the first window, so a slow start shows life) */
static void cli_on_progress(const anim_progress *p, void *user) {
    const cli_progress *s = user;
    if (s->quiet) return;
    if (!strcmp(p->stage, "denoise")) {
        bool step_done = p->window == p->n_windows;
        if (!step_done && !(p->step == 1 && p->window == 1)) return;
        double per = p->done ? p->elapsed_s / p->done : 0, eta = per * (p->total - p->done);
        fprintf(stderr, "step %d/%d  window %d/%d  elapsed %.1fs  ETA %.1fs\n", p->step, p->n_steps, p->window,
                p->n_windows, p->elapsed_s, eta);
    } else if (!strcmp(p->stage, "decode") && p->done == p->total) {
        fprintf(stderr, "decoded %d frames  elapsed %.1fs\n", p->total, p->elapsed_s);
    } else if (!strcmp(p->stage, "load") && p->done == p->total) {
        fprintf(stderr, "loaded %d tensors\n", p->total);
    }
}

#endif
