/*
 * image.c - PNG read/write (libpng) and animated WebP write (libwebpmux).
 *
 * Reading reproduces Pillow 9.x `Image.open(p).convert("RGB")` for PNG; the
 * per-format rules (alpha dropped, 16-bit high byte, the 16-bit grey clamp)
 * are listed at the top of image.h with the PIL source they come from.
 *
 * libpng reports errors by longjmp. Each setjmp lives in a small function
 * (png_rd_run, png_wr_run) that keeps ALL of its mutable state in a struct
 * owned by its caller and reached through a pointer; no local variable of the
 * function holding the setjmp is modified after it, so nothing is left
 * indeterminate after a longjmp (C11 7.13.2.1) and no `volatile` is needed.
 * The caller frees whatever the struct holds, on success or failure alike.
 *
 * Files are read whole into memory (a picture is small next to the models),
 * which lets the decoder tell a truncated file from other read errors.
 */
#include "io/image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef ANIM_WITH_PNG
#include <png.h>
#include <setjmp.h>
#endif
#ifdef ANIM_WITH_WEBP
#include <webp/encode.h>
#include <webp/mux.h>
#endif

/* A picture file larger than this is refused before it is read. */
#define IMG_MAX_FILE_BYTES ((long long)1 << 30)

/* ---- anim_image ---------------------------------------------------------- */

anim_status anim_image_alloc(anim_image *img, int w, int h, anim_error *err) {
    img->w = img->h = 0;
    img->rgb = NULL;
    if (w < 1 || h < 1 || w > ANIM_IMAGE_MAX_DIM || h > ANIM_IMAGE_MAX_DIM)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "picture size %dx%d is outside 1x1..%dx%d", w, h,
                           ANIM_IMAGE_MAX_DIM, ANIM_IMAGE_MAX_DIM);
    /* both sides <= 2^14: w*h*3 < 2^30 fits a size_t everywhere */
    size_t n = (size_t)w * (size_t)h * 3;
    img->rgb = malloc(n);
    if (!img->rgb) return anim_seterr(err, ANIM_E_OOM, "out of memory for a %dx%d picture (%zu bytes)", w, h, n);
    img->w = w;
    img->h = h;
    return ANIM_OK;
}

void anim_image_free(anim_image *img) {
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->w = img->h = 0;
}

anim_status anim_image_copy(const anim_image *src, anim_image *dst, anim_error *err) {
    anim_status st = anim_image_alloc(dst, src->w, src->h, err);
    if (st != ANIM_OK) return st;
    memcpy(dst->rgb, src->rgb, (size_t)src->w * (size_t)src->h * 3);
    return ANIM_OK;
}

/* ---- recognising a picture by content ------------------------------------ */

static const uint8_t PNG_SIG[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

anim_picture_format anim_picture_sniff(const void *head, size_t n) {
    const uint8_t *b = head;
    if (n >= 8 && memcmp(b, PNG_SIG, 8) == 0) return ANIM_PIC_PNG;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ANIM_PIC_JPEG;
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0) return ANIM_PIC_WEBP;
    return ANIM_PIC_UNKNOWN;
}

bool anim_is_picture(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    struct stat st;
    uint8_t head[12];
    size_t n = 0;
    /* fopen succeeds on a directory under Linux: only regular files count */
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) n = fread(head, 1, sizeof head, f);
    fclose(f);
    return anim_picture_sniff(head, n) != ANIM_PIC_UNKNOWN;
}

/* What an unrecognised file looks like, for the error message: the first four
 * bytes (printable as is, others as \xNN), plus a guess for formats people
 * plausibly pass by mistake (a pose video instead of its frames, a GIF...). */
static void img_describe_head(const uint8_t *b, size_t n, char *out, size_t cap) {
    static const struct { const char *magic; size_t len, at; const char *what; } known[] = {
        {"GIF8", 4, 0, "a GIF picture"},
        {"BM", 2, 0, "a BMP picture"},
        {"II*\0", 4, 0, "a TIFF picture"},
        {"MM\0*", 4, 0, "a TIFF picture"},
        {"ftyp", 4, 4, "an MP4/MOV video or a HEIF/AVIF picture"},
        {"\x1a\x45\xdf\xa3", 4, 0, "a Matroska/WebM video"},
        {"RIFF", 4, 0, "a RIFF file that is not WebP (AVI? WAV?)"},
        {"\x1f\x8b", 2, 0, "a gzip archive"},
        {"PK\x03\x04", 4, 0, "a zip archive"},
        {"%PDF", 4, 0, "a PDF document"},
    };
    char shown[4 * 4 + 1];
    size_t o = 0;
    for (size_t i = 0; i < n && i < 4; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7F && b[i] != '\'' && b[i] != '\\') shown[o++] = (char)b[i];
        else o += (size_t)snprintf(shown + o, sizeof shown - o, "\\x%02x", b[i]);
    }
    shown[o] = '\0';
    const char *guess = NULL;
    for (size_t k = 0; k < sizeof known / sizeof known[0] && !guess; k++)
        if (n >= known[k].at + known[k].len && memcmp(b + known[k].at, known[k].magic, known[k].len) == 0)
            guess = known[k].what;
    if (guess) snprintf(out, cap, "starts with '%s': looks like %s", shown, guess);
    else snprintf(out, cap, "starts with '%s'", shown);
}

/* The message for content that is not a PNG, JPEG or WebP file. */
static anim_status img_not_picture(const uint8_t *b, size_t n, const char *name, anim_error *err) {
    if (n == 0) return anim_seterr(err, ANIM_E_FORMAT, "%s: empty file, not a picture", name);
    if (n < 8 && memcmp(b, PNG_SIG, n) == 0)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: truncated PNG file (%zu bytes)", name, n);
    char what[96];
    img_describe_head(b, n, what, sizeof what);
    return anim_seterr(err, ANIM_E_FORMAT, "%s: not a PNG, JPEG or WebP file (%s)", name, what);
}

/* Read a whole regular file into a malloc'd buffer. */
static anim_status img_slurp(const char *path, uint8_t **buf, size_t *len, anim_error *err) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return anim_seterr(err, ANIM_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    anim_status rc = ANIM_OK;
    if (fstat(fileno(f), &st) != 0) {
        rc = anim_seterr(err, ANIM_E_IO, "%s: cannot stat: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = anim_seterr(err, ANIM_E_IO, "%s: not a regular file%s", path,
                         S_ISDIR(st.st_mode) ? " (a directory)" : "");
    } else if ((long long)st.st_size > IMG_MAX_FILE_BYTES) {
        rc = anim_seterr(err, ANIM_E_UNSUPPORTED, "%s: file is %lld bytes, more than the %lld-byte limit for a picture",
                         path, (long long)st.st_size, IMG_MAX_FILE_BYTES);
    } else {
        size_t n = (size_t)st.st_size;
        uint8_t *b = malloc(n ? n : 1);
        if (!b) {
            rc = anim_seterr(err, ANIM_E_OOM, "%s: out of memory reading %zu bytes", path, n);
        } else if (fread(b, 1, n, f) != n) {
            rc = anim_seterr(err, ANIM_E_IO, "%s: read error: %s", path,
                             ferror(f) ? strerror(errno) : "file shrank while being read");
            free(b);
        } else {
            *buf = b;
            *len = n;
        }
    }
    fclose(f);
    return rc;
}

/* ---- temp file, then rename ---------------------------------------------- */

#if defined(ANIM_WITH_PNG) || defined(ANIM_WITH_WEBP)

typedef struct img_tmp {
    char *path;    /* malloc'd "<final>.<pid>[.<k>].tmp" */
    FILE *fp;
} img_tmp;

/* Create a fresh temporary file next to `path`. O_EXCL makes the name ours
 * alone; mode 0666 lets the umask decide the final permissions, as for any
 * file the user creates (mkstemp would force 0600). */
static anim_status tmp_open(const char *path, img_tmp *t, anim_error *err) {
    t->fp = NULL;
    size_t cap = strlen(path) + 48;
    t->path = malloc(cap);
    if (!t->path) {
        anim_seterr(err, ANIM_E_OOM, "%s: out of memory", path);
        return ANIM_E_OOM;
    }
    long pid = (long)getpid();
    for (int k = 0; k < 100; k++) {
        if (k == 0) snprintf(t->path, cap, "%s.%ld.tmp", path, pid);
        else snprintf(t->path, cap, "%s.%ld.%d.tmp", path, pid, k);
        int fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) break;
        t->fp = fdopen(fd, "wb");
        if (t->fp) return ANIM_OK;
        int e = errno;
        close(fd);
        unlink(t->path);
        errno = e;
        break;
    }
    anim_seterr(err, ANIM_E_IO, "%s: cannot create the temporary file %s: %s", path, t->path,
                errno == EEXIST ? "too many stale temporary files" : strerror(errno));
    free(t->path);
    t->path = NULL;
    return ANIM_E_IO;
}

/* Close and remove a temporary file that will not be used. */
static void tmp_discard(img_tmp *t) {
    if (t->fp) fclose(t->fp);
    if (t->path) unlink(t->path);
    free(t->path);
    t->fp = NULL;
    t->path = NULL;
}

/* Close the complete temporary file and rename it over `path`. */
static anim_status tmp_commit(img_tmp *t, const char *path, anim_error *err) {
    anim_status rc = ANIM_OK;
    int bad = fflush(t->fp) != 0 || ferror(t->fp);
    int e = errno;
    if (fclose(t->fp) != 0 && !bad) { bad = 1; e = errno; }
    t->fp = NULL;
    if (bad) rc = anim_seterr(err, ANIM_E_IO, "%s: write error: %s", path, strerror(e));
    else if (rename(t->path, path) != 0)
        rc = anim_seterr(err, ANIM_E_IO, "%s: cannot rename %s to it: %s", path, t->path, strerror(errno));
    if (rc != ANIM_OK) unlink(t->path);
    free(t->path);
    t->path = NULL;
    return rc;
}

/* Reject pictures the writers cannot describe. */
static anim_status img_check(const anim_image *img, int max_dim, const char *what, anim_error *err) {
    if (!img || !img->rgb || img->w < 1 || img->h < 1 || img->w > max_dim || img->h > max_dim)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "%s: picture %dx%d%s is outside 1x1..%dx%d", what,
                           img ? img->w : 0, img ? img->h : 0, img && !img->rgb ? " without pixels" : "",
                           max_dim, max_dim);
    return ANIM_OK;
}

#endif /* writers */

/* ---- PNG decode ---------------------------------------------------------- */

#ifdef ANIM_WITH_PNG

typedef struct png_rd {
    const uint8_t *buf;     /* the whole file */
    size_t len, pos;
    png_structp png;
    png_infop info;
    uint8_t *px;            /* libpng's output rows when they are not RGB8 */
    png_bytep *rows;
    anim_image img;
    anim_status st;         /* status of a failure that was not libpng's */
    char msg[200];          /* libpng's message, or ours */
} png_rd;

static void png_rd_error(png_structp png, png_const_charp msg) {
    png_rd *r = png_get_error_ptr(png);
    snprintf(r->msg, sizeof r->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_quiet_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;  /* libpng warns about harmless things (bad ancillary data, iCCP profiles) on stderr otherwise */
}

static void png_rd_mem(png_structp png, png_bytep dst, size_t n) {
    png_rd *r = png_get_io_ptr(png);
    if (n > r->len - r->pos) png_error(png, "file is truncated");
    memcpy(dst, r->buf + r->pos, n);
    r->pos += n;
}

/* Ask libpng for 8-bit samples as PIL's unpackers produce them. */
static void png_rd_transforms(png_structp png, int depth, int ctype) {
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);  /* may add alpha (tRNS): dropped later */
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);  /* bit replication */
    /* 16-bit grey stays 16-bit: PIL clamps it (mode "I"), see image.h */
    if (depth == 16 && ctype != PNG_COLOR_TYPE_GRAY) png_set_strip_16(png);  /* high byte, as PIL */
    png_set_interlace_handling(png);
}

/* libpng's rows (1..4 channels, 8-bit, or 16-bit grey) -> RGB8. */
static void png_rd_to_rgb(const png_rd *r, int channels, bool grey16) {
    const int w = r->img.w;
    for (int y = 0; y < r->img.h; y++) {
        const uint8_t *s = r->rows[y];
        uint8_t *d = r->img.rgb + (size_t)y * (size_t)w * 3;
        for (int x = 0; x < w; x++, d += 3) {
            if (grey16) {
                unsigned v = ((unsigned)s[2 * x] << 8) | s[2 * x + 1];  /* libpng gives big-endian */
                d[0] = d[1] = d[2] = (uint8_t)(v >= 255 ? 255 : v);
            } else if (channels <= 2) {
                d[0] = d[1] = d[2] = s[(size_t)x * channels];             /* grey (+ alpha dropped) */
            } else {
                memcpy(d, s + (size_t)x * channels, 3);                    /* RGB (+ alpha dropped) */
            }
        }
    }
}

/* The decode proper. All state is in *r (see the top of this file). */
static int png_rd_run(png_rd *r) {
    if (setjmp(png_jmpbuf(r->png))) return -1;
    png_set_read_fn(r->png, r, png_rd_mem);
    /* a corrupt chunk is an error, as in PIL (which checks every CRC) */
    png_set_crc_action(r->png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    png_read_info(r->png, r->info);
    png_uint_32 w = png_get_image_width(r->png, r->info), h = png_get_image_height(r->png, r->info);
    int depth = png_get_bit_depth(r->png, r->info), ctype = png_get_color_type(r->png, r->info);
    if (w > ANIM_IMAGE_MAX_DIM || h > ANIM_IMAGE_MAX_DIM) {
        r->st = ANIM_E_UNSUPPORTED;
        snprintf(r->msg, sizeof r->msg, "picture is %ux%u, larger than the %dx%d limit", (unsigned)w,
                 (unsigned)h, ANIM_IMAGE_MAX_DIM, ANIM_IMAGE_MAX_DIM);
        return -1;
    }
    png_rd_transforms(r->png, depth, ctype);
    png_read_update_info(r->png, r->info);
    int channels = png_get_channels(r->png, r->info);
    int odepth = png_get_bit_depth(r->png, r->info);
    size_t rowbytes = png_get_rowbytes(r->png, r->info);
    bool grey16 = odepth == 16;
    if (channels < 1 || channels > 4 || (odepth != 8 && !(grey16 && channels == 1)) ||
        rowbytes != (size_t)w * (size_t)channels * (size_t)(odepth / 8)) {
        r->st = ANIM_E_INTERNAL;
        snprintf(r->msg, sizeof r->msg, "unexpected libpng output (%d channels of %d bits, %zu bytes a row)",
                 channels, odepth, rowbytes);
        return -1;
    }
    if (anim_image_alloc(&r->img, (int)w, (int)h, NULL) != ANIM_OK) goto oom;
    r->rows = malloc(sizeof(png_bytep) * h);
    if (!r->rows) goto oom;
    /* RGB8 (the usual case) decodes straight into the picture */
    bool direct = channels == 3 && !grey16;
    if (!direct && !(r->px = malloc(rowbytes * h))) goto oom;
    for (png_uint_32 y = 0; y < h; y++)
        r->rows[y] = direct ? r->img.rgb + (size_t)y * w * 3 : r->px + (size_t)y * rowbytes;
    /* all rows at once: interlaced files need every pass in one buffer. The
     * trailing chunks (png_read_end) are not read: PIL does not need them
     * either once the pixels are complete. */
    png_read_image(r->png, r->rows);
    if (!direct) png_rd_to_rgb(r, channels, grey16);
    return 0;
oom:
    r->st = ANIM_E_OOM;
    snprintf(r->msg, sizeof r->msg, "out of memory for a %ux%u picture", (unsigned)w, (unsigned)h);
    return -1;
}

static anim_status png_decode(const uint8_t *buf, size_t len, const char *name, anim_image *out,
                              anim_error *err) {
    png_rd r;
    memset(&r, 0, sizeof r);
    r.buf = buf;
    r.len = len;
    r.st = ANIM_E_FORMAT;
    r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, png_rd_error, png_quiet_warning);
    if (r.png) r.info = png_create_info_struct(r.png);
    int rc = r.png && r.info ? png_rd_run(&r) : -1;
    if (!r.png || !r.info) {
        r.st = ANIM_E_OOM;
        snprintf(r.msg, sizeof r.msg, "out of memory (libpng)");
    }
    png_destroy_read_struct(&r.png, &r.info, NULL);
    free(r.rows);
    free(r.px);
    if (rc != 0) {
        anim_image_free(&r.img);
        return anim_seterr(err, r.st, "%s: PNG: %s", name, r.msg);
    }
    *out = r.img;
    return ANIM_OK;
}

#endif /* ANIM_WITH_PNG */

anim_status anim_image_decode(const void *buf, size_t len, const char *name, anim_image *out,
                              anim_error *err) {
    out->w = out->h = 0;
    out->rgb = NULL;
    switch (anim_picture_sniff(buf, len)) {
    case ANIM_PIC_PNG:
#ifdef ANIM_WITH_PNG
        return png_decode(buf, len, name, out, err);
#else
        return anim_seterr(err, ANIM_E_UNSUPPORTED,
                           "%s: PNG input is not available: libanimate was built without libpng", name);
#endif
    case ANIM_PIC_JPEG:
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "%s: JPEG input is not supported yet (convert it to PNG)", name);
    case ANIM_PIC_WEBP:
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "%s: WebP input is not supported yet (convert it to PNG)", name);
    case ANIM_PIC_UNKNOWN: break;
    }
    return img_not_picture(buf, len, name, err);
}

anim_status anim_image_read(const char *path, anim_image *out, anim_error *err) {
    out->w = out->h = 0;
    out->rgb = NULL;
    uint8_t *buf;
    size_t len;
    anim_status st = img_slurp(path, &buf, &len, err);
    if (st != ANIM_OK) return st;
    st = anim_image_decode(buf, len, path, out, err);
    free(buf);
    return st;
}

/* ---- PNG encode ---------------------------------------------------------- */

#ifdef ANIM_WITH_PNG

typedef struct png_wr {
    png_structp png;
    png_infop info;
    FILE *fp;
    const anim_image *img;
    char msg[200];
} png_wr;

static void png_wr_error(png_structp png, png_const_charp msg) {
    png_wr *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static int png_wr_run(png_wr *s) {
    if (setjmp(png_jmpbuf(s->png))) return -1;
    png_init_io(s->png, s->fp);
    png_set_IHDR(s->png, s->info, (png_uint_32)s->img->w, (png_uint_32)s->img->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(s->png, s->info);
    for (int y = 0; y < s->img->h; y++) png_write_row(s->png, s->img->rgb + (size_t)y * (size_t)s->img->w * 3);
    png_write_end(s->png, NULL);
    return 0;
}

anim_status anim_png_write(const char *path, const anim_image *img, anim_error *err) {
    anim_status st = img_check(img, ANIM_IMAGE_MAX_DIM, path, err);
    if (st != ANIM_OK) return st;
    img_tmp t;
    if ((st = tmp_open(path, &t, err)) != ANIM_OK) return st;
    png_wr s;
    memset(&s, 0, sizeof s);
    s.fp = t.fp;
    s.img = img;
    s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &s, png_wr_error, png_quiet_warning);
    if (s.png) s.info = png_create_info_struct(s.png);
    int rc = s.png && s.info ? png_wr_run(&s) : -1;
    if (!s.png || !s.info) snprintf(s.msg, sizeof s.msg, "out of memory (libpng)");
    png_destroy_write_struct(&s.png, &s.info);
    if (rc != 0) {
        tmp_discard(&t);
        return anim_seterr(err, ANIM_E_IO, "%s: writing PNG: %s", path, s.msg);
    }
    return tmp_commit(&t, path, err);
}

#else

anim_status anim_png_write(const char *path, const anim_image *img, anim_error *err) {
    (void)img;
    return anim_seterr(err, ANIM_E_UNSUPPORTED, "%s: PNG output is not available: libanimate was built without libpng",
                       path);
}

#endif /* ANIM_WITH_PNG */

/* ---- animated WebP ------------------------------------------------------- */

#ifdef ANIM_WITH_WEBP

struct anim_webp_writer {
    int w, h, fps, n;
    WebPAnimEncoder *enc;
    WebPConfig cfg;
};

/* Frame i starts at i*1000/fps ms; -1 when that does not fit an int. */
static int webp_timestamp(int i, int fps) {
    long long t = (long long)i * 1000 / fps;
    return t > INT_MAX ? -1 : (int)t;
}

void anim_webp_abort(anim_webp_writer *wr) {
    if (!wr) return;
    WebPAnimEncoderDelete(wr->enc);
    free(wr);
}

anim_webp_writer *anim_webp_begin(int w, int h, int fps, int quality, bool lossless, anim_error *err) {
    if (w < 1 || h < 1 || w > WEBP_MAX_DIMENSION || h > WEBP_MAX_DIMENSION) {
        anim_seterr(err, ANIM_E_INVALID_ARG, "WebP: size %dx%d is outside 1x1..%dx%d", w, h, WEBP_MAX_DIMENSION,
                    WEBP_MAX_DIMENSION);
        return NULL;
    }
    /* timestamps are whole milliseconds: above 1000 fps frames would collide */
    if (fps < 1 || fps > 1000 || quality < 0 || quality > 100) {
        anim_seterr(err, ANIM_E_INVALID_ARG, "WebP: fps %d (want 1..1000) or quality %d (want 0..100) out of range",
                    fps, quality);
        return NULL;
    }
    anim_webp_writer *wr = calloc(1, sizeof *wr);
    if (!wr) {
        anim_seterr(err, ANIM_E_OOM, "WebP: out of memory");
        return NULL;
    }
    wr->w = w;
    wr->h = h;
    wr->fps = fps;
    WebPAnimEncoderOptions opt;
    if (!WebPAnimEncoderOptionsInit(&opt) || !WebPConfigInit(&wr->cfg)) {
        anim_seterr(err, ANIM_E_UNSUPPORTED, "WebP: libwebp/libwebpmux ABI version mismatch with the headers");
        free(wr);
        return NULL;
    }
    opt.anim_params.loop_count = 0;  /* loop forever, as video previews do */
    wr->cfg.quality = (float)quality;
    wr->cfg.lossless = lossless ? 1 : 0;
    if (!WebPValidateConfig(&wr->cfg)) {
        anim_seterr(err, ANIM_E_INTERNAL, "WebP: libwebp rejected the encoder settings");
        free(wr);
        return NULL;
    }
    wr->enc = WebPAnimEncoderNew(w, h, &opt);
    if (!wr->enc) {
        anim_seterr(err, ANIM_E_OOM, "WebP: cannot create the animation encoder (out of memory?)");
        free(wr);
        return NULL;
    }
    return wr;
}

anim_status anim_webp_add(anim_webp_writer *wr, const anim_image *img, anim_error *err) {
    if (!wr) return anim_seterr(err, ANIM_E_INVALID_ARG, "WebP: no writer");
    anim_status st = img_check(img, WEBP_MAX_DIMENSION, "WebP frame", err);
    if (st != ANIM_OK) return st;
    if (img->w != wr->w || img->h != wr->h)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "WebP: frame %d is %dx%d, the animation is %dx%d", wr->n, img->w,
                           img->h, wr->w, wr->h);
    int ts = webp_timestamp(wr->n, wr->fps), end = webp_timestamp(wr->n + 1, wr->fps);
    if (ts < 0 || end < 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "WebP: too many frames (%d) for millisecond timestamps", wr->n);
    WebPPicture pic;
    if (!WebPPictureInit(&pic)) return anim_seterr(err, ANIM_E_UNSUPPORTED, "WebP: libwebp ABI version mismatch");
    pic.use_argb = 1;  /* the animation encoder works on ARGB anyway */
    pic.width = img->w;
    pic.height = img->h;
    if (!WebPPictureImportRGB(&pic, img->rgb, img->w * 3)) {
        WebPPictureFree(&pic);
        return anim_seterr(err, ANIM_E_OOM, "WebP: out of memory importing frame %d", wr->n);
    }
    int ok = WebPAnimEncoderAdd(wr->enc, &pic, ts, &wr->cfg);
    WebPPictureFree(&pic);
    if (!ok)
        return anim_seterr(err, ANIM_E_INTERNAL, "WebP: encoding frame %d failed: %s", wr->n,
                           WebPAnimEncoderGetError(wr->enc));
    wr->n++;
    return ANIM_OK;
}

/* Write `data` to path through a temporary file. */
static anim_status webp_write_file(const char *path, const WebPData *data, anim_error *err) {
    img_tmp t;
    anim_status st = tmp_open(path, &t, err);
    if (st != ANIM_OK) return st;
    if (fwrite(data->bytes, 1, data->size, t.fp) != data->size) {
        int e = errno;
        tmp_discard(&t);
        return anim_seterr(err, ANIM_E_IO, "%s: write error: %s", path, strerror(e));
    }
    return tmp_commit(&t, path, err);
}

anim_status anim_webp_end(anim_webp_writer *wr, const char *path, anim_error *err) {
    if (!wr) return anim_seterr(err, ANIM_E_INVALID_ARG, "%s: WebP: no writer", path);
    anim_status st = ANIM_OK;
    WebPData data;
    WebPDataInit(&data);
    if (wr->n == 0) {
        st = anim_seterr(err, ANIM_E_INVALID_ARG, "%s: WebP: no frames were added", path);
    } else if (!WebPAnimEncoderAdd(wr->enc, NULL, webp_timestamp(wr->n, wr->fps), NULL) ||
               !WebPAnimEncoderAssemble(wr->enc, &data)) {
        /* the final NULL frame gives the last frame its duration */
        st = anim_seterr(err, ANIM_E_INTERNAL, "%s: WebP: assembling %d frames failed: %s", path, wr->n,
                         WebPAnimEncoderGetError(wr->enc));
    } else {
        st = webp_write_file(path, &data, err);
    }
    WebPDataClear(&data);
    anim_webp_abort(wr);
    return st;
}

#else

struct anim_webp_writer {
    int unused;
};

static anim_status webp_missing(anim_error *err) {
    return anim_seterr(err, ANIM_E_UNSUPPORTED,
                       "WebP output is not available: libanimate was built without libwebp/libwebpmux");
}

anim_webp_writer *anim_webp_begin(int w, int h, int fps, int quality, bool lossless, anim_error *err) {
    (void)w, (void)h, (void)fps, (void)quality, (void)lossless;
    webp_missing(err);
    return NULL;
}

anim_status anim_webp_add(anim_webp_writer *wr, const anim_image *img, anim_error *err) {
    (void)wr, (void)img;
    return webp_missing(err);
}

anim_status anim_webp_end(anim_webp_writer *wr, const char *path, anim_error *err) {
    (void)wr, (void)path;
    return webp_missing(err);
}

void anim_webp_abort(anim_webp_writer *wr) { (void)wr; }

#endif /* ANIM_WITH_WEBP */
