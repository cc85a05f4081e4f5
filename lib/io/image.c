/*
 * image.c - PNG read/write (libpng), JPEG read (libjpeg-turbo), WebP read
 * (libwebpdemux) and animated WebP write (libwebpmux); the XMP packet that
 * marks every output as AI-generated.
 *
 * Reading reproduces Pillow 9.x `Image.open(p).convert("RGB")`; the
 * per-format rules (alpha dropped, 16-bit high byte, the 16-bit grey clamp,
 * Pillow's CMYK inversion, the first frame of an animation) are listed at the
 * top of image.h with the PIL source they come from.
 *
 * libpng and libjpeg report errors by longjmp. Each setjmp lives in a small
 * function (png_rd_run, png_wr_run, jpg_rd_run) that keeps ALL of its mutable
 * state in a struct owned by its caller and reached through a pointer; after
 * a longjmp it returns at once without reading any of its locals, so none is
 * used while indeterminate (C11 7.13.2.1) and no `volatile` is needed. The
 * caller frees whatever the struct holds, on success or failure alike.
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
#ifdef ANIM_WITH_JPEG
#include <jpeglib.h>   /* after <stdio.h>: it uses FILE */
#include <setjmp.h>
#endif
#ifdef ANIM_WITH_WEBP
#include <webp/decode.h>
#include <webp/demux.h>
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

/* ---- output metadata: the XMP packet ------------------------------------ */

typedef struct img_sb {
    char *p;
    size_t n, cap;
    bool oom;
} img_sb;

static void sb_put(img_sb *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_puts(img_sb *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Length of the well-formed UTF-8 sequence at s (n bytes left) encoding a
 * character XML 1.0 allows, or 0. Rejects overlong forms, surrogates, values
 * past U+10FFFF, U+FFFE/U+FFFF and C0 controls other than tab, LF and CR
 * (XML forbids those even as character references). */
static size_t xml_char_len(const uint8_t *s, size_t n) {
    uint32_t c;
    size_t k;
    if (s[0] < 0x80) return s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' || s[0] == '\r';
    if (s[0] >= 0xC2 && s[0] <= 0xDF) { c = s[0] & 0x1Fu; k = 2; }
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) { c = s[0] & 0x0Fu; k = 3; }
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) { c = s[0] & 0x07u; k = 4; }
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = c << 6 | (s[i] & 0x3Fu);
    }
    if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 || c > 0x10FFFF))) return 0;
    if ((c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF) return 0;
    return k;
}

/* Append s XML-escaped (& < > " ' as entities; every byte that does not
 * start an allowed character becomes U+FFFD, so the packet is always
 * well-formed UTF-8 XML, as PNG iTXt and XMP require). */
static void sb_put_xml(img_sb *b, const char *s) {
    const uint8_t *u = (const uint8_t *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = xml_char_len(u + i, n - i);
        if (k == 0) { sb_puts(b, "\xEF\xBF\xBD"); i++; continue; }
        switch (u[i]) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        case '\'': sb_puts(b, "&apos;"); break;
        case '\r': sb_puts(b, "&#13;"); break;   /* XML parsers turn a raw CR into LF */
        default: sb_put(b, s + i, k);
        }
        i += k;
    }
}

/* The packet: IPTC Digital Source Type (the "made by a trained model" mark
 * IPTC defines and exiftool, Adobe and the big platforms read),
 * xmp:CreatorTool and dc:description, in the plain RDF/XML layout exiftool
 * writes. No xmp:CreateDate: outputs stay byte-reproducible. */
char *anim_meta_xmp(const anim_meta *meta, size_t *len) {
    const char *software = meta && meta->software ? meta->software : "libanimate " ANIM_VERSION_STRING;
    const char *settings = meta ? meta->settings : NULL;
    img_sb b = {NULL, 0, 0, false};
    sb_puts(&b,
            "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
            " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
            "  <rdf:Description rdf:about=\"\"\n"
            "    xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\"\n"
            "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
            "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
            "   <Iptc4xmpExt:DigitalSourceType>");
    sb_puts(&b, meta && meta->not_ai ? ANIM_XMP_ALGORITHMIC_SOURCE_TYPE : ANIM_XMP_DIGITAL_SOURCE_TYPE);
    sb_puts(&b, "</Iptc4xmpExt:DigitalSourceType>\n"
                "   <xmp:CreatorTool>");
    sb_put_xml(&b, software);
    sb_puts(&b, "</xmp:CreatorTool>\n");
    if (settings) {
        sb_puts(&b, "   <dc:description>\n    <rdf:Alt>\n     <rdf:li xml:lang=\"x-default\">");
        sb_put_xml(&b, settings);
        sb_puts(&b, "</rdf:li>\n    </rdf:Alt>\n   </dc:description>\n");
    }
    sb_puts(&b, "  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len) *len = b.n;
    return b.p;
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

/* ---- JPEG decode --------------------------------------------------------- */

#ifdef ANIM_WITH_JPEG

typedef struct jpg_rd {
    struct jpeg_decompress_struct cinfo;   /* zeroed first: jpeg_destroy is then safe at any point */
    struct jpeg_error_mgr jerr;
    struct jpeg_source_mgr src;
    jmp_buf jb;
    uint8_t *row;           /* one CMYK row (4 bytes a pixel) */
    anim_image img;
    anim_status st;         /* status of a failure that was not libjpeg's */
    char msg[JMSG_LENGTH_MAX + 128];
} jpg_rd;

static void jpg_error_exit(j_common_ptr cinfo) {
    jpg_rd *r = cinfo->client_data;
    char m[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, m);
    snprintf(r->msg, sizeof r->msg, "%s", m);
    longjmp(r->jb, 1);
}

/* Warnings ("Corrupt JPEG data: ...") are dropped, as Pillow's `output`
 * handler drops them: upstream gets libjpeg's pixels without an error. */
static void jpg_quiet(j_common_ptr cinfo) { (void)cinfo; }

/* The source manager hands libjpeg the whole file at once and SUSPENDS
 * (returns FALSE) when asked for more, as Pillow's buffer source does when
 * the bytes it was given run out. Pillow then reads more from the file, finds
 * nothing and raises "image file is truncated"; a suspension here is that
 * same point, so truncated files fail exactly where Pillow's fail (libjpeg
 * backs up to the last complete MCU on suspension, so feeding the file in
 * pieces, as Pillow does, or at once gives the same result). libjpeg's own
 * memory source would instead insert a fake EOI and decode grey. */
static void jpg_src_init(j_decompress_ptr cinfo) { (void)cinfo; }
static boolean jpg_src_fill(j_decompress_ptr cinfo) { (void)cinfo; return FALSE; }
static void jpg_src_term(j_decompress_ptr cinfo) { (void)cinfo; }

static void jpg_src_skip(j_decompress_ptr cinfo, long n) {
    struct jpeg_source_mgr *src = cinfo->src;
    if (n <= 0) return;
    /* skipping past the end leaves nothing: the next fill suspends */
    size_t k = (size_t)n < src->bytes_in_buffer ? (size_t)n : src->bytes_in_buffer;
    src->next_input_byte += k;
    src->bytes_in_buffer -= k;
}

/* Pillow's unpacker "CMYK;I" (Unpack.c unpackCMYKI: every byte inverted,
 * "assume adobe conventions") then Convert.c cmyk2rgb with MULDIV255
 * (ImagingUtils.h: t = a*b + 128, ((t >> 8) + t) >> 8). */
static uint8_t jpg_cmyk_channel(unsigned raw_c, unsigned raw_k) {
    unsigned c = 255u - raw_c, nk = raw_k;   /* nk = 255 - K, K = 255 - raw K */
    unsigned t = c * nk + 128u;
    unsigned m = ((t >> 8) + t) >> 8;
    return (uint8_t)(nk - m);   /* m <= nk always: CLIP8 never clips */
}

static void jpg_cmyk_row(const uint8_t *s, uint8_t *d, int w) {
    for (int x = 0; x < w; x++, s += 4, d += 3) {
        d[0] = jpg_cmyk_channel(s[0], s[3]);
        d[1] = jpg_cmyk_channel(s[1], s[3]);
        d[2] = jpg_cmyk_channel(s[2], s[3]);
    }
}

static int jpg_truncated(jpg_rd *r, const char *where) {
    snprintf(r->msg, sizeof r->msg, "file is truncated (the data ends %s)", where);
    return -1;
}

/* The decode proper, in Pillow's JpegDecode.c order. All state is in *r. */
static int jpg_rd_run(jpg_rd *r, const uint8_t *buf, size_t len) {
    if (setjmp(r->jb)) return -1;
    j_decompress_ptr ci = &r->cinfo;
    ci->err = jpeg_std_error(&r->jerr);
    r->jerr.error_exit = jpg_error_exit;
    r->jerr.output_message = jpg_quiet;
    ci->client_data = r;
    jpeg_create_decompress(ci);
    r->src.init_source = jpg_src_init;
    r->src.fill_input_buffer = jpg_src_fill;
    r->src.skip_input_data = jpg_src_skip;
    r->src.resync_to_restart = jpeg_resync_to_restart;
    r->src.term_source = jpg_src_term;
    r->src.next_input_byte = buf;
    r->src.bytes_in_buffer = len;
    ci->src = &r->src;
    /* as Pillow: skip table-only (abbreviated) streams up to an image */
    int hs;
    while ((hs = jpeg_read_header(ci, FALSE)) == JPEG_HEADER_TABLES_ONLY) {}
    if (hs != JPEG_HEADER_OK) return jpg_truncated(r, "in the header");
    int w = (int)ci->image_width, h = (int)ci->image_height;   /* libjpeg caps both at 65500 */
    if (w > ANIM_IMAGE_MAX_DIM || h > ANIM_IMAGE_MAX_DIM) {
        r->st = ANIM_E_UNSUPPORTED;
        snprintf(r->msg, sizeof r->msg, "picture is %dx%d, larger than the %dx%d limit", w, h, ANIM_IMAGE_MAX_DIM,
                 ANIM_IMAGE_MAX_DIM);
        return -1;
    }
    /* Pillow's modes by component count (JpegImagePlugin SOF): L, RGB, CMYK;
     * what libjpeg outputs for them is Pillow's rawmode (L, RGB, CMYK;I).
     * Everything else (DCT method, upsampling) stays at libjpeg's defaults. */
    switch (ci->num_components) {
    case 1: ci->out_color_space = JCS_GRAYSCALE; break;
    case 3: ci->out_color_space = JCS_RGB; break;
    case 4: ci->out_color_space = JCS_CMYK; break;
    default:
        snprintf(r->msg, sizeof r->msg, "cannot handle %d-component pictures (1, 3 or 4 expected, as in Pillow)",
                 ci->num_components);
        return -1;
    }
    if (!jpeg_start_decompress(ci)) return jpg_truncated(r, "before the first row");   /* progressive: all scans */
    int nc = ci->output_components;
    if ((int)ci->output_width != w || (int)ci->output_height != h || nc != ci->num_components) {
        r->st = ANIM_E_INTERNAL;
        snprintf(r->msg, sizeof r->msg, "unexpected libjpeg output (%ux%u, %d components)", ci->output_width,
                 ci->output_height, nc);
        return -1;
    }
    if (anim_image_alloc(&r->img, w, h, NULL) != ANIM_OK || (nc == 4 && !(r->row = malloc((size_t)w * 4)))) {
        r->st = ANIM_E_OOM;
        snprintf(r->msg, sizeof r->msg, "out of memory for a %dx%d picture", w, h);
        return -1;
    }
    while (ci->output_scanline < ci->output_height) {
        int y = (int)ci->output_scanline;
        uint8_t *d = r->img.rgb + (size_t)y * (size_t)w * 3;
        JSAMPROW row = nc == 4 ? r->row : d;   /* grey lands in the first w bytes of its RGB row */
        if (jpeg_read_scanlines(ci, &row, 1) != 1) {
            snprintf(r->msg, sizeof r->msg, "file is truncated (the data ends at row %d of %d)", y, h);
            return -1;
        }
        if (nc == 4) jpg_cmyk_row(r->row, d, w);
        else if (nc == 1)
            for (int x = w - 1; x >= 0; x--) d[3 * x] = d[3 * x + 1] = d[3 * x + 2] = d[x];   /* backwards: in place */
    }
    /* Once every row is out, Pillow ignores a suspension here (data missing
     * after the last scan, e.g. the EOI marker): so do we. */
    (void)jpeg_finish_decompress(ci);
    return 0;
}

static anim_status jpg_decode(const uint8_t *buf, size_t len, const char *name, anim_image *out,
                              anim_error *err) {
    jpg_rd *r = calloc(1, sizeof *r);   /* ~1 KB of libjpeg structs: off the stack */
    if (!r) return anim_seterr(err, ANIM_E_OOM, "%s: JPEG: out of memory", name);
    r->st = ANIM_E_FORMAT;
    int rc = jpg_rd_run(r, buf, len);
    jpeg_destroy_decompress(&r->cinfo);   /* frees all of libjpeg's memory, whatever state it is in */
    free(r->row);
    anim_status st = ANIM_OK;
    if (rc != 0) {
        anim_image_free(&r->img);
        st = anim_seterr(err, r->st, "%s: JPEG: %s", name, r->msg);
    } else {
        *out = r->img;
    }
    free(r);
    return st;
}

#endif /* ANIM_WITH_JPEG */

/* ---- WebP decode --------------------------------------------------------- */

#ifdef ANIM_WITH_WEBP

/* Pillow 9.x opens every WebP (still or animated) with
 * WebPAnimDecoderNew(data, NULL): default options, i.e. MODE_RGBA (not
 * premultiplied) and no threads; Image.open shows frame 0. Same here. */
static anim_status webp_decode(const uint8_t *buf, size_t len, const char *name, anim_image *out,
                               anim_error *err) {
    WebPAnimDecoderOptions opt;
    if (!WebPAnimDecoderOptionsInit(&opt))
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "%s: WebP: libwebpdemux ABI version mismatch with the headers", name);
    opt.color_mode = MODE_RGBA;
    opt.use_threads = 0;
    WebPData data = {buf, len};
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&data, &opt);
    if (!dec) {
        /* the demuxer refuses any file shorter than its RIFF size says */
        uint32_t riff = len >= 12 ? (uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
                                        (uint32_t)buf[7] << 24
                                  : 0;
        if (len < 12 || (uint64_t)riff + 8 > len)
            return anim_seterr(err, ANIM_E_FORMAT, "%s: WebP: file is truncated (%zu bytes, the RIFF header says %llu)",
                               name, len, (unsigned long long)riff + 8);
        return anim_seterr(err, ANIM_E_FORMAT, "%s: WebP: malformed file (libwebp's demuxer refuses it)", name);
    }
    anim_status st = ANIM_OK;
    WebPAnimInfo info;
    uint8_t *px = NULL;
    int ts = 0;
    if (!WebPAnimDecoderGetInfo(dec, &info)) {
        st = anim_seterr(err, ANIM_E_FORMAT, "%s: WebP: cannot read the picture information", name);
    } else if (info.canvas_width > ANIM_IMAGE_MAX_DIM || info.canvas_height > ANIM_IMAGE_MAX_DIM) {
        /* cannot happen with libwebp's own 16383 limit; kept for the rule */
        st = anim_seterr(err, ANIM_E_UNSUPPORTED, "%s: WebP: picture is %ux%u, larger than the %dx%d limit", name,
                         info.canvas_width, info.canvas_height, ANIM_IMAGE_MAX_DIM, ANIM_IMAGE_MAX_DIM);
    } else if (!WebPAnimDecoderGetNext(dec, &px, &ts)) {
        st = anim_seterr(err, ANIM_E_FORMAT, "%s: WebP: the %s does not decode (corrupt data)", name,
                         info.frame_count > 1 ? "first frame" : "picture");
    } else if ((st = anim_image_alloc(out, (int)info.canvas_width, (int)info.canvas_height, err)) != ANIM_OK) {
        anim_err_prefix(err, "%s: WebP", name);
    } else {
        size_t n = (size_t)out->w * (size_t)out->h;
        for (size_t i = 0; i < n; i++) memcpy(out->rgb + 3 * i, px + 4 * i, 3);   /* RGBA -> RGB: alpha dropped */
    }
    WebPAnimDecoderDelete(dec);   /* owns px */
    return st;
}

#endif /* ANIM_WITH_WEBP */

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
#ifdef ANIM_WITH_JPEG
        return jpg_decode(buf, len, name, out, err);
#else
        return anim_seterr(err, ANIM_E_UNSUPPORTED,
                           "%s: JPEG input is not available: libanimate was built without libjpeg", name);
#endif
    case ANIM_PIC_WEBP:
#ifdef ANIM_WITH_WEBP
        return webp_decode(buf, len, name, out, err);
#else
        return anim_seterr(err, ANIM_E_UNSUPPORTED,
                           "%s: WebP input is not available: libanimate was built without libwebp", name);
#endif
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
    char *xmp;              /* the XMP packet (malloc'd by the caller) */
    size_t xmp_len;
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
    /* XMP in PNG (XMP spec part 3, 1.1.5): an iTXt chunk with keyword
     * "XML:com.adobe.xmp", uncompressed, empty language and translated
     * keyword. Set before png_write_info, libpng writes it before IDAT,
     * where readers that stop at the pixels still find it. */
    png_text t;
    memset(&t, 0, sizeof t);
    t.compression = PNG_ITXT_COMPRESSION_NONE;
    t.key = (png_charp) "XML:com.adobe.xmp";
    t.text = s->xmp;
    t.itxt_length = s->xmp_len;
    t.lang = (png_charp) "";
    t.lang_key = (png_charp) "";
    png_set_text(s->png, s->info, &t, 1);   /* copies the text */
    png_write_info(s->png, s->info);
    for (int y = 0; y < s->img->h; y++) png_write_row(s->png, s->img->rgb + (size_t)y * (size_t)s->img->w * 3);
    png_write_end(s->png, NULL);
    return 0;
}

anim_status anim_png_write(const char *path, const anim_image *img, const anim_meta *meta, anim_error *err) {
    anim_status st = img_check(img, ANIM_IMAGE_MAX_DIM, path, err);
    if (st != ANIM_OK) return st;
    png_wr s;
    memset(&s, 0, sizeof s);
    s.img = img;
    s.xmp = anim_meta_xmp(meta, &s.xmp_len);
    if (!s.xmp) return anim_seterr(err, ANIM_E_OOM, "%s: out of memory for the XMP metadata", path);
    img_tmp t;
    if ((st = tmp_open(path, &t, err)) != ANIM_OK) {
        free(s.xmp);
        return st;
    }
    s.fp = t.fp;
    s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &s, png_wr_error, png_quiet_warning);
    if (s.png) s.info = png_create_info_struct(s.png);
    int rc = s.png && s.info ? png_wr_run(&s) : -1;
    if (!s.png || !s.info) snprintf(s.msg, sizeof s.msg, "out of memory (libpng)");
    png_destroy_write_struct(&s.png, &s.info);
    free(s.xmp);
    if (rc != 0) {
        tmp_discard(&t);
        return anim_seterr(err, ANIM_E_IO, "%s: writing PNG: %s", path, s.msg);
    }
    return tmp_commit(&t, path, err);
}

#else

anim_status anim_png_write(const char *path, const anim_image *img, const anim_meta *meta, anim_error *err) {
    (void)img, (void)meta;
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

/* Add the XMP packet to the assembled file with libwebpmux: an "XMP " chunk
 * after the frames (the container spec's place for it) and the XMP flag in
 * VP8X, which WebPMuxAssemble sets. *out gets the new file. */
static anim_status webp_add_xmp(const WebPData *in, const anim_meta *meta, WebPData *out, const char *path,
                                anim_error *err) {
    size_t n;
    char *xmp = anim_meta_xmp(meta, &n);
    if (!xmp) return anim_seterr(err, ANIM_E_OOM, "%s: out of memory for the XMP metadata", path);
    anim_status st = ANIM_OK;
    WebPMux *mux = WebPMuxCreate(in, 0);   /* no copy: `in` outlives mux */
    WebPData chunk = {(const uint8_t *)xmp, n};
    WebPMuxError e = mux ? WebPMuxSetChunk(mux, "XMP ", &chunk, 1) : WEBP_MUX_MEMORY_ERROR;
    if (e == WEBP_MUX_OK) e = WebPMuxAssemble(mux, out);
    if (e != WEBP_MUX_OK)
        st = anim_seterr(err, e == WEBP_MUX_MEMORY_ERROR ? ANIM_E_OOM : ANIM_E_INTERNAL,
                         "%s: WebP: adding the XMP metadata failed (libwebpmux error %d)", path, (int)e);
    WebPMuxDelete(mux);
    free(xmp);
    return st;
}

anim_status anim_webp_end(anim_webp_writer *wr, const char *path, const anim_meta *meta, anim_error *err) {
    if (!wr) return anim_seterr(err, ANIM_E_INVALID_ARG, "%s: WebP: no writer", path);
    anim_status st = ANIM_OK;
    WebPData data, marked;
    WebPDataInit(&data);
    WebPDataInit(&marked);
    if (wr->n == 0) {
        st = anim_seterr(err, ANIM_E_INVALID_ARG, "%s: WebP: no frames were added", path);
    } else if (!WebPAnimEncoderAdd(wr->enc, NULL, webp_timestamp(wr->n, wr->fps), NULL) ||
               !WebPAnimEncoderAssemble(wr->enc, &data)) {
        /* the final NULL frame gives the last frame its duration */
        st = anim_seterr(err, ANIM_E_INTERNAL, "%s: WebP: assembling %d frames failed: %s", path, wr->n,
                         WebPAnimEncoderGetError(wr->enc));
    } else if ((st = webp_add_xmp(&data, meta, &marked, path, err)) == ANIM_OK) {
        st = webp_write_file(path, &marked, err);
    }
    WebPDataClear(&marked);
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

anim_status anim_webp_end(anim_webp_writer *wr, const char *path, const anim_meta *meta, anim_error *err) {
    (void)wr, (void)path, (void)meta;
    return webp_missing(err);
}

void anim_webp_abort(anim_webp_writer *wr) { (void)wr; }

#endif /* ANIM_WITH_WEBP */
