/*
 * media.c - the public picture and video functions: reading pictures
 * (lib/io/image.c decodes by content) and writing videos as an animated WebP
 * or a directory of PNG frames, each file under a temporary name first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "animate.h"
#include "io/image.h"
#include "io/wav_write.h"
#include "util/error.h"

/* api.c owns the context; it hands us its error sink */
anim_status anim__ctx_result(anim_ctx *ctx, const anim_error *e);

anim_status anim_picture_read(anim_ctx *ctx, const char *path, anim_picture *out) {
    if (!ctx || !out) return ANIM_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    anim_error e;
    anim_err_clear(&e);
    anim_image img = {0};
    if (!path) anim_seterr(&e, ANIM_E_INVALID_ARG, "picture path is NULL");
    else if (anim_image_read(path, &img, &e) == ANIM_OK) {
        out->width = img.w;
        out->height = img.h;
        out->rgb = img.rgb;
    }
    return anim__ctx_result(ctx, &e);
}

void anim_picture_free(anim_picture *p) {
    if (!p) return;
    free(p->rgb);
    memset(p, 0, sizeof *p);
}

bool anim_is_picture_file(const char *path) { return path && anim_is_picture(path); }

void anim_video_free(anim_video *v) {
    if (!v) return;
    free(v->rgb);
    free(v->audio);
    memset(v, 0, sizeof *v);
}

void anim_write_params_default(anim_write_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->struct_size = (uint32_t)sizeof *p;
    p->fps = 30;
    p->quality = 90;
    p->lossless = false;
    p->settings = NULL;
    p->not_ai = false;
}

static bool ends_with_webp(const char *path) {
    size_t n = strlen(path);
    return n >= 5 && strcasecmp(path + n - 5, ".webp") == 0;
}

/* mkdir -p */
static anim_status make_dirs(const char *path, anim_error *e) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return anim_seterr(e, ANIM_E_INVALID_ARG, "output path too long: %s", path);
    for (char *s = buf + 1;; s++) {
        char ch = *s;
        if (ch == '/' || ch == '\0') {
            *s = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return anim_seterr(e, ANIM_E_IO, "%s: cannot create directory: %s", buf, strerror(errno));
            *s = ch;
            if (!ch) break;
        }
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return anim_seterr(e, ANIM_E_IO, "%s: exists and is not a directory", path);
    return ANIM_OK;
}

static anim_status write_webp(const anim_video *v, const char *path, const anim_write_params *p, anim_error *e) {
    anim_webp_writer *wr = anim_webp_begin(v->width, v->height, p->fps, p->quality, p->lossless, e);
    if (!wr) return e->status ? e->status : ANIM_E_INTERNAL;
    size_t px = (size_t)v->width * v->height * 3;
    for (int f = 0; f < v->n_frames; f++) {
        anim_image img = {v->width, v->height, v->rgb + (size_t)f * px};
        if (anim_webp_add(wr, &img, e) != ANIM_OK) {
            anim_webp_abort(wr);
            return e->status;
        }
    }
    anim_meta meta = {NULL, p->settings, p->not_ai};
    return anim_webp_end(wr, path, &meta, e);
}

static void frame_path(char *buf, size_t len, const char *dir, int f) {
    snprintf(buf, len, "%s/frame_%03d.png", dir, f);
}

/* remove frames [0, n): a failed write leaves no partial video behind */
static void remove_frames(const char *dir, int n) {
    char path[4200];
    for (int f = 0; f < n; f++) {
        frame_path(path, sizeof path, dir, f);
        unlink(path);
    }
}

static anim_status write_pngs(const anim_video *v, const char *dir, const anim_write_params *p, anim_error *e) {
    anim_meta meta = {NULL, p->settings, p->not_ai};
    anim_status st = make_dirs(dir, e);
    size_t px = (size_t)v->width * v->height * 3;
    int f = 0;
    for (; f < v->n_frames && st == ANIM_OK; f++) {
        char path[4200];
        frame_path(path, sizeof path, dir, f);
        anim_image img = {v->width, v->height, v->rgb + (size_t)f * px};
        st = anim_png_write(path, &img, &meta, e);
    }
    if (st != ANIM_OK) remove_frames(dir, f - 1);
    return st;
}

anim_status anim_video_write(anim_ctx *ctx, const anim_video *v, const char *path, const anim_write_params *p) {
    if (!ctx) return ANIM_E_INVALID_ARG;
    anim_error e;
    anim_err_clear(&e);
    anim_write_params def;
    if (!p) {
        anim_write_params_default(&def);
        p = &def;
    }
    if (!v || !v->rgb || v->n_frames < 1 || v->width < 1 || v->height < 1)
        anim_seterr(&e, ANIM_E_INVALID_ARG, "video is empty");
    else if (!path || !*path) anim_seterr(&e, ANIM_E_INVALID_ARG, "output path is empty");
    else if (p->fps < 1 || p->fps > 1000) anim_seterr(&e, ANIM_E_INVALID_ARG, "fps %d must be in 1..1000", p->fps);
    else if (p->quality < 0 || p->quality > 100)
        anim_seterr(&e, ANIM_E_INVALID_ARG, "quality %d must be in 0..100", p->quality);
    else if (ends_with_webp(path)) {
        if (write_webp(v, path, p, &e) == ANIM_OK && v->audio && v->n_samples) {
            /* NAME.webp -> NAME.wav; without its sound the video is not what was asked for */
            char wav[4200];
            snprintf(wav, sizeof wav, "%.*s.wav", (int)(strlen(path) - 5), path);
            if (wav_write_pcm16(wav, v->audio, v->n_samples, v->sample_rate, &e) != ANIM_OK) unlink(path);
        }
    } else if (write_pngs(v, path, p, &e) == ANIM_OK && v->audio && v->n_samples) {
        char wav[4200];
        snprintf(wav, sizeof wav, "%s/audio.wav", path);
        if (wav_write_pcm16(wav, v->audio, v->n_samples, v->sample_rate, &e) != ANIM_OK)
            remove_frames(path, v->n_frames);
    }
    return anim__ctx_result(ctx, &e);
}

anim_status anim_picture_write(anim_ctx *ctx, const anim_picture *pic, const char *path, const anim_write_params *p) {
    if (!ctx) return ANIM_E_INVALID_ARG;
    anim_error e;
    anim_err_clear(&e);
    anim_write_params def;
    if (!p) {
        anim_write_params_default(&def);
        p = &def;
    }
    if (!pic || !pic->rgb || pic->width < 1 || pic->height < 1) anim_seterr(&e, ANIM_E_INVALID_ARG, "picture is empty");
    else if (!path || !*path) anim_seterr(&e, ANIM_E_INVALID_ARG, "output path is empty");
    else {
        anim_image img = {pic->width, pic->height, pic->rgb};
        anim_meta meta = {NULL, p->settings, p->not_ai};
        anim_png_write(path, &img, &meta, &e);
    }
    return anim__ctx_result(ctx, &e);
}
