/*
 * test_image.c - picture input/output (lib/io/image.c).
 *
 * 1. The fixture PNGs decode to known pixels (values and an FNV-1a hash of
 *    every byte, taken from an independent decoder: Python zlib + unfilter).
 * 2. PNG variants written here with libpng (grey 1/2/4/8/16-bit, grey+alpha,
 *    RGBA, palette with tRNS, 16-bit RGB/RGBA/LA, Adam7 interlace, tRNS on
 *    RGB/grey) decode to what Pillow 9.x `convert("RGB")` gives: alpha
 *    dropped, 16-bit high byte, 16-bit grey clamped to 255.
 * 3. Bad input: truncated at every length, corrupted CRC, too large, not a
 *    picture (text, GIF, MP4, empty), JPEG/WebP signatures, missing file,
 *    directory; messages name the file and say what it looks like. The
 *    format is found by content, not by the file name.
 * 4. PNG write round trip, temp-then-rename (no .tmp left behind, overwrite
 *    works, unwritable directory fails cleanly).
 * 5. Animated WebP: a 3-frame animation is parsed here chunk by chunk (RIFF,
 *    VP8X canvas, ANMF count, per-frame durations from i*1000/fps) and its
 *    first frame decoded with libwebp's WebPDecodeRGB (exact when lossless).
 * 6. JPEG and WebP input (tests/fixtures/images, made by
 *    tools/make_image_refs.py with Pillow 9.5.0): every input decodes to
 *    exactly the pixels of Pillow's `Image.open(p).convert("RGB")` (baseline
 *    4:2:0/4:2:2/4:4:4, progressive, optimised, greyscale, CMYK, EXIF
 *    rotation not applied, a JPEG named .png; WebP lossy, lossless, with
 *    alpha, animated -> frame 0); every truncation fails or succeeds exactly
 *    where Pillow's does (truncation.txt); too large / malformed files fail
 *    with the file named.
 * 7. Output metadata: the written PNG's chunks and the written WebP's RIFF
 *    chunks are parsed here to find the XMP packet (iTXt "XML:com.adobe.xmp"
 *    before IDAT; "XMP " chunk + VP8X flag, also through libwebpdemux) with
 *    the IPTC trainedAlgorithmicMedia source type, our version and the
 *    escaped settings; exiftool and webpmux read them too when installed
 *    (those tests skip when the tool is absent).
 * Without libpng / libjpeg / libwebp the same entry points must answer
 * ANIM_E_UNSUPPORTED; that is what runs then.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/image.h"
#include "test.h"

#ifdef ANIM_WITH_PNG
#include <png.h>
#include <setjmp.h>
#endif
#ifdef ANIM_WITH_WEBP
#include <webp/decode.h>
#include <webp/demux.h>
#endif

#define RFIX "tests/fixtures/moore-tiny-resize/"
#define TFIX "tests/fixtures/moore-tiny/"
#define IFIX "tests/fixtures/images/"

/* ---- helpers ----------------------------------------------------------- */

/* build/tests/tmp/image/<name> */
static const char *tpath(const char *name) {
    static char buf[512];
    char dir[256];
    snprintf(dir, sizeof dir, "%s/image", test_tmp_dir());
    mkdir(dir, 0755);
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

/* Write `s` to tmp/<name> and return the path (NULL on failure). */
static const char *write_bytes(const char *name, const void *s, size_t n) {
    const char *p = tpath(name);
    return test_write_file(p, s, n) ? p : NULL;
}

#if defined(ANIM_WITH_PNG) || defined(ANIM_WITH_WEBP)
/* Number of entries of build/tests/tmp/image whose name ends in ".tmp". */
static int stray_tmp_files(void) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/image", test_tmp_dir());
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".tmp") == 0) n++;
    }
    closedir(d);
    return n;
}
#endif

#ifdef ANIM_WITH_PNG

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static bool pixel_is(const anim_image *img, int x, int y, int r, int g, int b) {
    const uint8_t *p = img->rgb + ((size_t)y * (size_t)img->w + (size_t)x) * 3;
    if (p[0] == r && p[1] == g && p[2] == b) return true;
    printf("    pixel (%d,%d) = %d %d %d, want %d %d %d\n", x, y, p[0], p[1], p[2], r, g, b);
    return false;
}

/* ---- PNG fixtures ------------------------------------------------------ */

typedef struct fix_png {
    const char *path;
    int w, h;
    uint64_t hash;                   /* FNV-1a of the decoded RGB bytes */
    int px[4][5];                    /* x, y, r, g, b */
} fix_png;

/* values from an independent decoder (Python: zlib + PNG unfiltering) */
static const fix_png FIX_PNGS[] = {
    {RFIX "inputs/ref.png", 150, 230, 0x7efdbe308230a93cull,
     {{0, 0, 40, 19, 120}, {149, 229, 211, 196, 49}, {75, 76, 30, 60, 200}, {7, 11, 54, 32, 184}}},
    {RFIX "inputs/pose_000.png", 80, 112, 0x103d4030f4fa50b3ull,
     {{0, 0, 0, 0, 0}, {79, 111, 0, 0, 0}, {40, 37, 0, 153, 0}, {7, 11, 0, 0, 0}}},
    {TFIX "inputs/ref.png", 64, 64, 0x856f8a73ddf277b6ull,
     {{0, 0, 29, 36, 118}, {63, 63, 227, 195, 43}, {32, 21, 30, 60, 200}, {7, 11, 250, 40, 40}}},
};

TEST(image_read_fixture_pngs) {
    for (size_t i = 0; i < sizeof FIX_PNGS / sizeof FIX_PNGS[0]; i++) {
        const fix_png *f = &FIX_PNGS[i];
        anim_image img;
        anim_error err;
        CHECK_OK(anim_image_read(f->path, &img, &err), &err);
        bool ok = img.w == f->w && img.h == f->h;
        for (int k = 0; ok && k < 4; k++) ok = pixel_is(&img, f->px[k][0], f->px[k][1], f->px[k][2], f->px[k][3], f->px[k][4]);
        uint64_t h = ok ? fnv1a(img.rgb, (size_t)img.w * (size_t)img.h * 3) : 0;
        anim_image_free(&img);
        CHECK_MSG(ok, "%s: size or pixels differ", f->path);
        CHECK_MSG(h == f->hash, "%s: hash %016llx, want %016llx", f->path, (unsigned long long)h,
                  (unsigned long long)f->hash);
    }
}

/* ---- PNG variants written with libpng ---------------------------------- */

typedef struct tpng {
    int w, h, depth, ctype, interlace;
    const uint8_t *data;        /* h rows of rowbytes, packed as PNG stores them (16-bit big-endian) */
    size_t rowbytes;
    const png_color *pal;
    int npal;
    const uint8_t *trns;        /* palette alpha */
    int ntrns;
    const png_color_16 *trns_color;   /* grey/RGB tRNS */
} tpng;

typedef struct tpng_io {
    png_structp png;
    png_infop info;
    FILE *fp;
    const tpng *p;
    png_bytep *rows;
} tpng_io;

/* setjmp with all state behind a pointer, as lib/io/image.c does */
static int tpng_run(tpng_io *s) {
    if (setjmp(png_jmpbuf(s->png))) return -1;
    const tpng *p = s->p;
    png_init_io(s->png, s->fp);
    png_set_IHDR(s->png, s->info, (png_uint_32)p->w, (png_uint_32)p->h, p->depth, p->ctype, p->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (p->pal) png_set_PLTE(s->png, s->info, p->pal, p->npal);
    if (p->trns || p->trns_color) png_set_tRNS(s->png, s->info, p->trns, p->ntrns, p->trns_color);
    png_write_info(s->png, s->info);
    if (p->interlace) png_set_interlace_handling(s->png);
    png_write_image(s->png, s->rows);
    png_write_end(s->png, NULL);
    return 0;
}

static bool tpng_write(const char *path, const tpng *p) {
    tpng_io s;
    memset(&s, 0, sizeof s);
    s.p = p;
    s.fp = fopen(path, "wb");
    s.rows = malloc(sizeof(png_bytep) * (size_t)p->h);
    s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (s.png) s.info = png_create_info_struct(s.png);
    int rc = -1;
    if (s.fp && s.rows && s.png && s.info) {
        for (int y = 0; y < p->h; y++) s.rows[y] = (png_bytep)(p->data + (size_t)y * p->rowbytes);
        rc = tpng_run(&s);
    }
    png_destroy_write_struct(&s.png, &s.info);
    free(s.rows);
    if (s.fp && fclose(s.fp) != 0) rc = -1;
    return rc == 0;
}

/* Pack `vals` (one per sample, < 2^depth) into PNG rows of w*spp samples. */
static uint8_t *pack_rows(const unsigned *vals, int w, int h, int spp, int depth, size_t *rowbytes) {
    size_t rb = ((size_t)w * (size_t)spp * (size_t)depth + 7) / 8;
    uint8_t *out = calloc((size_t)h, rb);
    if (!out) return NULL;
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w * spp; i++) {
            unsigned v = vals[(size_t)y * (size_t)w * (size_t)spp + (size_t)i];
            uint8_t *row = out + (size_t)y * rb;
            if (depth == 16) { row[2 * i] = (uint8_t)(v >> 8); row[2 * i + 1] = (uint8_t)v; }
            else if (depth == 8) row[i] = (uint8_t)v;
            else row[(size_t)i * depth / 8] |= (uint8_t)(v << (8 - depth - (i * depth) % 8));
        }
    *rowbytes = rb;
    return out;
}

/* Expected RGB of pixel (channels of one pixel in `v`) for PIL's convert("RGB"). */
static void expect_rgb(int ctype, int depth, const unsigned *v, const png_color *pal, uint8_t out[3]) {
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        out[0] = pal[v[0]].red; out[1] = pal[v[0]].green; out[2] = pal[v[0]].blue;
        return;
    }
    bool grey = ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA;
    for (int c = 0; c < 3; c++) {
        unsigned s = v[grey ? 0 : c];
        if (depth == 16 && ctype == PNG_COLOR_TYPE_GRAY) out[c] = (uint8_t)(s > 255 ? 255 : s); /* mode "I" clamp */
        else if (depth == 16) out[c] = (uint8_t)(s >> 8);     /* high byte */
        else out[c] = (uint8_t)(s * (255u / ((1u << depth) - 1)));   /* 1/2/4-bit replication = *255, *85, *17 */
    }
}

typedef struct variant {
    const char *name;
    int ctype, depth, interlace;
    bool trns;
} variant;

static int samples_per_pixel(int ctype) {
    switch (ctype) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1;   /* palette index */
    }
}

/* Write one variant with random samples, decode it, compare with expect_rgb. */
static bool check_variant(const variant *v, int w, int h, uint64_t seed) {
    int spp = samples_per_pixel(v->ctype);
    size_t n = (size_t)w * (size_t)h * (size_t)spp;
    unsigned *vals = malloc(sizeof(unsigned) * n);
    png_color pal[16];
    uint8_t pal_alpha[16];
    if (!vals) return false;
    test_rng r;
    test_rng_seed(&r, seed);
    for (int i = 0; i < 16; i++) {
        pal[i].red = (uint8_t)(test_rng_u64(&r) >> 56);
        pal[i].green = (uint8_t)(test_rng_u64(&r) >> 56);
        pal[i].blue = (uint8_t)(test_rng_u64(&r) >> 56);
        pal_alpha[i] = (uint8_t)(i * 17);   /* index 0 fully transparent: its colour must survive */
    }
    unsigned maxv = v->depth == 16 ? 65536u : 1u << v->depth;
    if (v->ctype == PNG_COLOR_TYPE_PALETTE && maxv > 16) maxv = 16;   /* indices inside the 16-entry palette */
    for (size_t i = 0; i < n; i++) {
        uint64_t x = test_rng_u64(&r);
        /* 16-bit: mix small values (grey clamp region, 0x??FF rounding cases) with random ones */
        vals[i] = (unsigned)(v->depth == 16 && (x & 3) == 0 ? ((x >> 8) & 1 ? 0x12FF : (x >> 16) % 300) : (x >> 32) % maxv);
    }
    tpng p;
    memset(&p, 0, sizeof p);
    png_color_16 tc = {0, 7, 7, 7, 7};
    p.w = w; p.h = h; p.depth = v->depth; p.ctype = v->ctype; p.interlace = v->interlace;
    if (v->ctype == PNG_COLOR_TYPE_PALETTE) { p.pal = pal; p.npal = (int)maxv; }
    if (v->trns && v->ctype == PNG_COLOR_TYPE_PALETTE) { p.trns = pal_alpha; p.ntrns = (int)maxv; }
    else if (v->trns) p.trns_color = &tc;
    uint8_t *data = pack_rows(vals, w, h, spp, v->depth, &p.rowbytes);
    p.data = data;
    char fname[96];
    snprintf(fname, sizeof fname, "variant_%s.png", v->name);
    const char *path = tpath(fname);
    bool ok = data && tpng_write(path, &p);
    if (!ok) printf("    %s: could not write the test PNG\n", v->name);
    anim_image img = {0, 0, NULL};
    anim_error err;
    if (ok && anim_image_read(path, &img, &err) != ANIM_OK) {
        printf("    %s: %s\n", v->name, err.msg);
        ok = false;
    }
    ok = ok && img.w == w && img.h == h;
    for (int i = 0; ok && i < w * h; i++) {
        uint8_t want[3];
        expect_rgb(v->ctype, v->depth, vals + (size_t)i * (size_t)spp, pal, want);
        if (memcmp(img.rgb + (size_t)i * 3, want, 3) != 0) {
            const uint8_t *g = img.rgb + (size_t)i * 3;
            printf("    %s: pixel (%d,%d) = %d %d %d, want %d %d %d (first sample %u)\n", v->name, i % w, i / w, g[0],
                   g[1], g[2], want[0], want[1], want[2], vals[(size_t)i * (size_t)spp]);
            ok = false;
        }
    }
    anim_image_free(&img);
    free(data);
    free(vals);
    return ok;
}

TEST(image_png_variants_as_pil_convert_rgb) {
    static const variant V[] = {
        {"grey1", PNG_COLOR_TYPE_GRAY, 1, 0, false},
        {"grey2", PNG_COLOR_TYPE_GRAY, 2, 0, false},
        {"grey4", PNG_COLOR_TYPE_GRAY, 4, 0, false},
        {"grey8", PNG_COLOR_TYPE_GRAY, 8, 0, false},
        {"grey8_trns", PNG_COLOR_TYPE_GRAY, 8, 0, true},
        {"grey16", PNG_COLOR_TYPE_GRAY, 16, 0, false},
        {"grey_alpha8", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, false},
        {"grey_alpha16", PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, false},
        {"rgb8_trns", PNG_COLOR_TYPE_RGB, 8, 0, true},
        {"rgb16", PNG_COLOR_TYPE_RGB, 16, 0, false},
        {"rgba8", PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, false},
        {"rgba16", PNG_COLOR_TYPE_RGB_ALPHA, 16, 0, false},
        {"palette8_trns", PNG_COLOR_TYPE_PALETTE, 8, 0, true},
        {"palette4", PNG_COLOR_TYPE_PALETTE, 4, 0, false},
        {"palette2_trns", PNG_COLOR_TYPE_PALETTE, 2, 0, true},
        {"rgb8_adam7", PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, false},
        {"grey4_adam7", PNG_COLOR_TYPE_GRAY, 4, PNG_INTERLACE_ADAM7, false},
        {"rgba16_adam7", PNG_COLOR_TYPE_RGB_ALPHA, 16, PNG_INTERLACE_ADAM7, false},
        {"palette8_adam7", PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_ADAM7, true},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++)
        failed += !check_variant(&V[i], 13, 11, 100 + i);   /* odd sizes: partial bytes, short Adam7 passes */
    CHECK_MSG(failed == 0, "%d PNG variants decoded wrongly", failed);
}

/* 16-bit samples keep the high byte (PIL's unpackers), not libpng's rounding
 * png_set_scale_16: 0x12FF -> 0x12 (scaling would give 0x13). Checked on one
 * pixel by hand so that the rule is visible here. */
TEST(image_png_16bit_high_byte_and_grey_clamp) {
    const uint8_t rgb16[6] = {0x12, 0xFF, 0x00, 0x80, 0xFF, 0xFF};
    tpng p;
    memset(&p, 0, sizeof p);
    p.w = 1; p.h = 1; p.depth = 16; p.ctype = PNG_COLOR_TYPE_RGB; p.data = rgb16; p.rowbytes = 6;
    const char *path = tpath("rgb16_one.png");
    CHECK(tpng_write(path, &p));
    anim_image img;
    anim_error err;
    CHECK_OK(anim_image_read(path, &img, &err), &err);
    bool ok = pixel_is(&img, 0, 0, 0x12, 0x00, 0xFF);
    anim_image_free(&img);
    CHECK(ok);
    /* grey 16-bit is PIL mode "I": 0x00FE stays 254, 0x0100 (256) clamps to 255 */
    const uint8_t g16[4] = {0x00, 0xFE, 0x01, 0x00};
    p.w = 2; p.ctype = PNG_COLOR_TYPE_GRAY; p.data = g16; p.rowbytes = 4;
    path = tpath("grey16_two.png");
    CHECK(tpng_write(path, &p));
    CHECK_OK(anim_image_read(path, &img, &err), &err);
    ok = pixel_is(&img, 0, 0, 254, 254, 254) && pixel_is(&img, 1, 0, 255, 255, 255);
    anim_image_free(&img);
    CHECK(ok);
}

/* ---- bad input ---------------------------------------------------------- */

TEST(image_truncated_png_is_an_error_at_every_length) {
    size_t len;
    uint8_t *whole = test_read_file(RFIX "inputs/ref.png", &len);
    CHECK(whole && len > 1000);
    int bad = 0;
    /* every cut before IEND (the last 12 bytes) loses pixel data or a chunk */
    for (size_t cut = 0; cut + 12 < len; cut += cut < 64 ? 1 : 89) {
        uint8_t *copy = malloc(cut ? cut : 1);   /* exact size: ASan sees any over-read */
        if (!copy) { bad++; break; }
        memcpy(copy, whole, cut);
        anim_image img = {1, 1, (uint8_t *)1};
        anim_error err;
        anim_status st = anim_image_decode(copy, cut, "cut.png", &img, &err);
        free(copy);
        if (st == ANIM_OK) anim_image_free(&img);
        if (st == ANIM_OK || img.rgb != NULL || !strstr(err.msg, "cut.png: ")) {
            printf("    cut at %zu: status %d, message \"%s\"\n", cut, (int)st, st ? err.msg : "");
            bad++;
        }
    }
    /* the same through a file: the message names the path and the fault */
    const char *path = write_bytes("truncated.png", whole, len / 2);
    free(whole);
    CHECK(bad == 0);
    CHECK(path);
    anim_image img;
    anim_error err;
    CHECK_STATUS(anim_image_read(path, &img, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "truncated.png: PNG: ");
    CHECK_CONTAINS(err.msg, "truncated");
    CHECK(img.rgb == NULL && img.w == 0);
}

TEST(image_corrupt_png_is_an_error) {
    size_t len;
    uint8_t *b = test_read_file(RFIX "inputs/ref.png", &len);
    CHECK(b);
    b[len / 2] ^= 0x40;   /* inside IDAT: a CRC error (or a zlib error) */
    anim_image img;
    anim_error err;
    anim_status st1 = anim_image_decode(b, len, "flip.png", &img, &err);
    char m1[ANIM_ERR_MSG_MAX];
    memcpy(m1, err.msg, sizeof m1);
    b[len / 2] ^= 0x40;
    b[20] ^= 0x01;        /* IHDR height byte: the header CRC no longer matches */
    anim_status st2 = anim_image_decode(b, len, "ihdr.png", &img, &err);
    free(b);
    CHECK_STATUS(st1, ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(m1, "flip.png: PNG: ");
    CHECK_STATUS(st2, ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "ihdr.png: PNG: ");
    CHECK_CONTAINS(err.msg, "CRC");
}

TEST(image_too_large_png_is_refused) {
    /* 20000 x 1 of 1-bit grey: a tiny file that would decode past the cap */
    size_t rb = (20000 + 7) / 8;
    uint8_t *row = calloc(1, rb);
    CHECK(row);
    tpng p;
    memset(&p, 0, sizeof p);
    p.w = 20000; p.h = 1; p.depth = 1; p.ctype = PNG_COLOR_TYPE_GRAY; p.data = row; p.rowbytes = rb;
    const char *path = tpath("wide.png");
    bool written = tpng_write(path, &p);
    free(row);
    CHECK(written);
    anim_image img;
    anim_error err;
    CHECK_STATUS(anim_image_read(path, &img, &err), ANIM_E_UNSUPPORTED, &err);
    CHECK_CONTAINS(err.msg, "wide.png: PNG: picture is 20000x1, larger than the 16384x16384 limit");
}

/* A PNG named .jpg is a PNG: the content decides. */
TEST(image_format_by_content_not_name) {
    size_t len;
    uint8_t *b = test_read_file(TFIX "inputs/ref.png", &len);
    CHECK(b);
    const char *path = write_bytes("really_a_png.jpg", b, len);
    free(b);
    CHECK(path);
    anim_image img;
    anim_error err;
    CHECK_OK(anim_image_read(path, &img, &err), &err);
    bool ok = img.w == 64 && img.h == 64 && pixel_is(&img, 7, 11, 250, 40, 40);
    anim_image_free(&img);
    CHECK(ok);
}

#endif /* ANIM_WITH_PNG */

/* Content that is no picture: the message names the file and shows what it
 * starts with (and what that looks like, for common mistakes). */
TEST(image_not_a_picture_messages) {
    static const struct { const char *file, *bytes; size_t n; anim_status st; const char *want; } C[] = {
        {"notes.png", "hello world\n", 12, ANIM_E_FORMAT, "notes.png: not a PNG, JPEG or WebP file (starts with 'hell')"},
        {"anim.png", "GIF89a\x01\x00\x01\x00", 10, ANIM_E_FORMAT, "(starts with 'GIF8': looks like a GIF picture)"},
        {"poses.png", "\0\0\0\x18" "ftypmp42", 12, ANIM_E_FORMAT, "looks like an MP4/MOV video"},
        {"bin.png", "\x01\x02\xff'", 4, ANIM_E_FORMAT, "(starts with '\\x01\\x02\\xff\\x27')"},
        {"empty.png", "", 0, ANIM_E_FORMAT, "empty.png: empty file"},
        {"short.png", "\x89PNG", 4, ANIM_E_FORMAT, "short.png: truncated PNG file (4 bytes)"},
#ifdef ANIM_WITH_JPEG
        {"photo.png", "\xff\xd8\xff\xe0\0\x10JFIF\0", 11, ANIM_E_FORMAT, "photo.png: JPEG: file is truncated"},
#else
        {"photo.png", "\xff\xd8\xff\xe0\0\x10JFIF\0", 11, ANIM_E_UNSUPPORTED, "photo.png: JPEG input is not available"},
#endif
#ifdef ANIM_WITH_WEBP
        {"still.png", "RIFF\x1a\0\0\0WEBPVP8L", 16, ANIM_E_FORMAT, "still.png: WebP: file is truncated (16 bytes, the "
         "RIFF header says 34)"},
#else
        {"still.png", "RIFF\x1a\0\0\0WEBPVP8L", 16, ANIM_E_UNSUPPORTED, "still.png: WebP input is not available"},
#endif
    };
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        const char *path = write_bytes(C[i].file, C[i].bytes, C[i].n);
        CHECK(path);
        anim_image img;
        anim_error err;
        CHECK_STATUS(anim_image_read(path, &img, &err), C[i].st, &err);
        CHECK_CONTAINS(err.msg, C[i].want);
        CHECK_CONTAINS(err.msg, path);
        CHECK(img.rgb == NULL);
    }
}

TEST(image_missing_file_and_directory) {
    anim_image img;
    anim_error err;
    const char *missing = tpath("does_not_exist.png");
    CHECK_STATUS(anim_image_read(missing, &img, &err), ANIM_E_IO, &err);
    CHECK_CONTAINS(err.msg, "does_not_exist.png: cannot open: No such file");
    CHECK_STATUS(anim_image_read(test_tmp_dir(), &img, &err), ANIM_E_IO, &err);
    CHECK_CONTAINS(err.msg, "not a regular file (a directory)");
}

TEST(image_is_picture_by_content) {
    CHECK(anim_is_picture(RFIX "inputs/pose_000.png"));
    CHECK(anim_is_picture(write_bytes("sig.jpeg", "\xff\xd8\xff\xdb", 4)));
    CHECK(anim_is_picture(write_bytes("sig.bin", "RIFF\0\0\0\0WEBPVP8 ", 16)));
    CHECK(!anim_is_picture(write_bytes("readme.png", "PNG is not here", 15)));
    CHECK(!anim_is_picture(write_bytes("zero.png", "", 0)));
    CHECK(!anim_is_picture(RFIX "FIXTURE.md"));
    CHECK(!anim_is_picture(test_tmp_dir()));
    CHECK(!anim_is_picture(tpath("missing.png")));
    CHECK(anim_picture_sniff("\x89PNG\r\n\x1a\n", 8) == ANIM_PIC_PNG);
    CHECK(anim_picture_sniff("\x89PNG\r\n\x1a", 7) == ANIM_PIC_UNKNOWN);
}

/* ---- PNG write --------------------------------------------------------- */

static bool random_image(anim_image *img, int w, int h, uint64_t seed) {
    if (anim_image_alloc(img, w, h, NULL) != ANIM_OK) return false;
    test_rng r;
    test_rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++) img->rgb[i] = (uint8_t)(test_rng_u64(&r) >> 56);
    return true;
}

#ifdef ANIM_WITH_PNG

TEST(image_png_write_round_trip) {
    anim_image a, b;
    anim_error err;
    CHECK(random_image(&a, 37, 23, 11));
    const char *p = tpath("round.png");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    remove(path);
    anim_status st = anim_png_write(path, &a, NULL, &err);
    if (st == ANIM_OK) {   /* a second write replaces the first (rename over it) */
        a.rgb[0] ^= 0xFF;
        st = anim_png_write(path, &a, NULL, &err);
    }
    if (st != ANIM_OK) anim_image_free(&a);
    CHECK_OK(st, &err);
    st = anim_image_read(path, &b, &err);
    bool same = st == ANIM_OK && b.w == a.w && b.h == a.h && memcmp(a.rgb, b.rgb, (size_t)a.w * a.h * 3) == 0;
    anim_image_free(&a);
    anim_image_free(&b);
    CHECK_OK(st, &err);
    CHECK(same);
    size_t len;
    uint8_t *bytes = test_read_file(path, &len);
    bool sig = bytes && len > 8 && memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) == 0;
    free(bytes);
    CHECK(sig);
    CHECK_MSG(stray_tmp_files() == 0, "a .tmp file was left behind");
}

TEST(image_png_write_errors) {
    anim_image a;
    anim_error err;
    CHECK(random_image(&a, 4, 4, 1));
    anim_status st = anim_png_write(tpath("no_such_dir/x.png"), &a, NULL, &err);
    anim_image empty = {0, 0, NULL};
    anim_error err2;
    anim_status st2 = anim_png_write(tpath("empty.png"), &empty, NULL, &err2);
    anim_image_free(&a);
    CHECK_STATUS(st, ANIM_E_IO, &err);
    CHECK_CONTAINS(err.msg, "no_such_dir/x.png: cannot create the temporary file");
    CHECK_STATUS(st2, ANIM_E_INVALID_ARG, &err2);
    CHECK_MSG(stray_tmp_files() == 0, "a .tmp file was left behind");
}

#else

TEST(image_png_unavailable_without_libpng) {
    anim_image img, a;
    anim_error err;
    CHECK_STATUS(anim_image_read(RFIX "inputs/ref.png", &img, &err), ANIM_E_UNSUPPORTED, &err);
    CHECK_CONTAINS(err.msg, "built without libpng");
    CHECK(random_image(&a, 4, 4, 1));
    anim_status st = anim_png_write(tpath("x.png"), &a, NULL, &err);
    anim_image_free(&a);
    CHECK_STATUS(st, ANIM_E_UNSUPPORTED, &err);
    CHECK_CONTAINS(err.msg, "built without libpng");
}

#endif /* ANIM_WITH_PNG */

/* ---- animated WebP ----------------------------------------------------- */

#ifdef ANIM_WITH_WEBP

static uint32_t le24(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16; }
static uint32_t le32(const uint8_t *p) { return le24(p) | (uint32_t)p[3] << 24; }

typedef struct webp_info {
    int canvas_w, canvas_h, frames;
    bool animated;
    int dur[8], fx[8], fy[8], fw[8], fh[8];
    const uint8_t *first_frame;   /* the first ANMF's frame data (ALPH/VP8/VP8L chunks) */
    size_t first_frame_len;
} webp_info;

/* Walk the RIFF chunks of an animated WebP (the container spec, read here by
 * hand: no libwebpdemux needed). */
static bool webp_parse(const uint8_t *b, size_t n, webp_info *wi) {
    memset(wi, 0, sizeof *wi);
    if (n < 12 || memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WEBP", 4) != 0) return false;
    if (le32(b + 4) != n - 8) { printf("    RIFF size %u, file %zu\n", le32(b + 4), n); return false; }
    for (size_t pos = 12; pos + 8 <= n;) {
        uint32_t len = le32(b + pos + 4);
        const uint8_t *d = b + pos + 8;
        if (len > n - pos - 8) return false;
        if (memcmp(b + pos, "VP8X", 4) == 0 && len >= 10) {
            wi->animated = (d[0] & 0x02) != 0;
            wi->canvas_w = (int)le24(d + 4) + 1;
            wi->canvas_h = (int)le24(d + 7) + 1;
        } else if (memcmp(b + pos, "ANMF", 4) == 0 && len >= 16) {
            int i = wi->frames++;
            if (i < 8) {
                wi->fx[i] = 2 * (int)le24(d);
                wi->fy[i] = 2 * (int)le24(d + 3);
                wi->fw[i] = (int)le24(d + 6) + 1;
                wi->fh[i] = (int)le24(d + 9) + 1;
                wi->dur[i] = (int)le24(d + 12);
            }
            if (i == 0) { wi->first_frame = d + 16; wi->first_frame_len = len - 16; }
        }
        pos += 8 + len + (len & 1);
    }
    return true;
}

/* Three 40x24 frames of smooth, different content. */
static void webp_frames(anim_image f[3]) {
    for (int k = 0; k < 3; k++)
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 40; x++) {
                uint8_t *p = f[k].rgb + ((size_t)y * 40 + (size_t)x) * 3;
                p[0] = (uint8_t)(x * 6 + k * 40);
                p[1] = (uint8_t)(y * 10);
                p[2] = (uint8_t)(128 + k * 50 - x * 2);
            }
}

/* Write 3 frames at 3 fps, check the container, decode frame 0. Returns the
 * mean absolute error of frame 0, or -1 on a failure (printed). */
static double webp_round(bool lossless, const char *name) {
    anim_image f[3];
    anim_error err;
    for (int k = 0; k < 3; k++)
        if (anim_image_alloc(&f[k], 40, 24, &err) != ANIM_OK) return -1;
    webp_frames(f);
    const char *path = tpath(name);
    double mae = -1;
    anim_webp_writer *wr = anim_webp_begin(40, 24, 3, ANIM_WEBP_DEFAULT_QUALITY, lossless, &err);
    bool ok = wr != NULL;
    for (int k = 0; ok && k < 3; k++) ok = anim_webp_add(wr, &f[k], &err) == ANIM_OK;
    if (ok) ok = anim_webp_end(wr, path, NULL, &err) == ANIM_OK;
    else anim_webp_abort(wr);
    if (!ok) printf("    %s\n", err.msg);
    size_t n = 0;
    uint8_t *b = ok ? test_read_file(path, &n) : NULL;
    webp_info wi;
    ok = b && webp_parse(b, n, &wi);
    if (ok && !(wi.animated && wi.canvas_w == 40 && wi.canvas_h == 24 && wi.frames == 3)) {
        printf("    %s: animated %d canvas %dx%d frames %d\n", name, wi.animated, wi.canvas_w, wi.canvas_h, wi.frames);
        ok = false;
    }
    /* frame i at i*1000/3 ms: 0, 333, 666; the end at 1000 */
    if (ok && !(wi.dur[0] == 333 && wi.dur[1] == 333 && wi.dur[2] == 334)) {
        printf("    %s: durations %d %d %d, want 333 333 334\n", name, wi.dur[0], wi.dur[1], wi.dur[2]);
        ok = false;
    }
    int w = 0, h = 0;
    uint8_t *px = ok ? WebPDecodeRGB(wi.first_frame, wi.first_frame_len, &w, &h) : NULL;
    if (ok && (!px || w != wi.fw[0] || h != wi.fh[0] || wi.fx[0] != 0 || wi.fy[0] != 0 || w != 40 || h != 24)) {
        printf("    %s: first frame %dx%d at (%d,%d) did not decode as the full canvas\n", name, w, h, wi.fx[0],
               wi.fy[0]);
        ok = false;
    }
    if (ok) {
        double s = 0;
        for (size_t i = 0; i < 40 * 24 * 3; i++) s += fabs((double)px[i] - f[0].rgb[i]);
        mae = s / (40 * 24 * 3);
    }
    WebPFree(px);
    free(b);
    for (int k = 0; k < 3; k++) anim_image_free(&f[k]);
    return mae;
}

TEST(image_webp_animation_lossless) {
    double mae = webp_round(true, "anim_lossless.webp");
    CHECK_MSG(mae == 0.0, "lossless first frame: mean abs error %g", mae);
    CHECK_MSG(stray_tmp_files() == 0, "a .tmp file was left behind");
    CHECK(anim_is_picture(tpath("anim_lossless.webp")));
}

TEST(image_webp_animation_lossy) {
    double mae = webp_round(false, "anim_lossy.webp");
    CHECK_MSG(mae >= 0 && mae < 4.0, "lossy (quality 90) first frame: mean abs error %g", mae);
}

TEST(image_webp_errors) {
    anim_error err;
    CHECK(anim_webp_begin(0, 24, 3, 90, false, &err) == NULL && err.status == ANIM_E_INVALID_ARG);
    CHECK(anim_webp_begin(40, 24, 0, 90, false, &err) == NULL && err.status == ANIM_E_INVALID_ARG);
    CHECK(anim_webp_begin(40, 24, 3, 101, false, &err) == NULL && err.status == ANIM_E_INVALID_ARG);
    anim_image f;
    CHECK_OK(anim_image_alloc(&f, 41, 24, &err), &err);
    memset(f.rgb, 9, 41 * 24 * 3);
    anim_webp_writer *wr = anim_webp_begin(40, 24, 3, 90, false, &err);
    anim_status st = wr ? anim_webp_add(wr, &f, &err) : ANIM_E_INTERNAL;
    anim_image_free(&f);
    CHECK_STATUS(st, ANIM_E_INVALID_ARG, &err);
    CHECK_CONTAINS(err.msg, "frame 0 is 41x24, the animation is 40x24");
    /* no frames: an error, and the writer is freed anyway (ASan: no leak) */
    CHECK_STATUS(anim_webp_end(wr, tpath("none.webp"), NULL, &err), ANIM_E_INVALID_ARG, &err);
    CHECK_CONTAINS(err.msg, "no frames");
    /* an unwritable path fails cleanly after encoding */
    CHECK_OK(anim_image_alloc(&f, 40, 24, &err), &err);
    memset(f.rgb, 9, 40 * 24 * 3);
    wr = anim_webp_begin(40, 24, 3, 90, false, &err);
    st = wr ? anim_webp_add(wr, &f, &err) : ANIM_E_INTERNAL;
    anim_image_free(&f);
    if (st != ANIM_OK) anim_webp_abort(wr);
    CHECK_OK(st, &err);
    CHECK_STATUS(anim_webp_end(wr, tpath("no_such_dir/a.webp"), NULL, &err), ANIM_E_IO, &err);
    CHECK_CONTAINS(err.msg, "no_such_dir/a.webp");
    anim_webp_abort(NULL);
    CHECK_MSG(stray_tmp_files() == 0, "a .tmp file was left behind");
}

#else

TEST(image_webp_unavailable_without_libwebp) {
    anim_error err;
    CHECK(anim_webp_begin(40, 24, 3, 90, false, &err) == NULL);
    CHECK(err.status == ANIM_E_UNSUPPORTED);
    CHECK_CONTAINS(err.msg, "built without libwebp");
    anim_webp_abort(NULL);
}

#endif /* ANIM_WITH_WEBP */

/* ---- JPEG and WebP input, against Pillow --------------------------------- */

typedef struct fix_pic {
    const char *name;
    anim_picture_format fmt;
    int w, h;
} fix_pic;

/* tests/fixtures/images: inputs Pillow decodes (each with <name>.pil.ppm) */
static const fix_pic FIX_PICS[] = {
    {"j420.jpg", ANIM_PIC_JPEG, 37, 23},
    {"j422.jpg", ANIM_PIC_JPEG, 37, 23},
    {"j444.jpg", ANIM_PIC_JPEG, 37, 23},
    {"jprog.jpg", ANIM_PIC_JPEG, 37, 23},
    {"jopt.jpg", ANIM_PIC_JPEG, 37, 23},
    {"jgrey.jpg", ANIM_PIC_JPEG, 37, 23},
    {"jcmyk.jpg", ANIM_PIC_JPEG, 37, 23},
    {"jexif6.jpg", ANIM_PIC_JPEG, 37, 23},
    {"jtail.jpg", ANIM_PIC_JPEG, 37, 23},
    {"jpeg_named.png", ANIM_PIC_JPEG, 29, 31},
    {"jcorrupt.jpg", ANIM_PIC_JPEG, 37, 23},
    {"wlossy.webp", ANIM_PIC_WEBP, 37, 23},
    {"wlossless.webp", ANIM_PIC_WEBP, 37, 23},
    {"walpha.webp", ANIM_PIC_WEBP, 37, 23},
    {"walpha_lossless.webp", ANIM_PIC_WEBP, 37, 23},
    {"wanim.webp", ANIM_PIC_WEBP, 37, 23},
    {"wcorrupt.webp", ANIM_PIC_WEBP, 37, 23},
};
#define N_FIX_PICS (sizeof FIX_PICS / sizeof FIX_PICS[0])

static bool fmt_built(anim_picture_format f) {
#ifdef ANIM_WITH_JPEG
    if (f == ANIM_PIC_JPEG) return true;
#endif
#ifdef ANIM_WITH_WEBP
    if (f == ANIM_PIC_WEBP) return true;
#endif
    (void)f;
    return false;
}

static bool ppm_int(const uint8_t *b, size_t n, size_t *pos, int *v) {
    while (*pos < n && (b[*pos] == ' ' || b[*pos] == '\n' || b[*pos] == '\r' || b[*pos] == '\t')) (*pos)++;
    int x = 0, digits = 0;
    for (; *pos < n && b[*pos] >= '0' && b[*pos] <= '9' && digits < 6; (*pos)++, digits++) x = x * 10 + (b[*pos] - '0');
    *v = x;
    return digits > 0;
}

/* A binary PPM (P6, maxval 255) as tools/make_image_refs.py writes them. */
static bool read_ppm(const char *path, anim_image *img) {
    size_t n = 0, pos = 2;
    uint8_t *b = test_read_file(path, &n);
    int w, h, maxv;
    bool ok = b && n > 2 && b[0] == 'P' && b[1] == '6' && ppm_int(b, n, &pos, &w) && ppm_int(b, n, &pos, &h) &&
              ppm_int(b, n, &pos, &maxv) && maxv == 255 && pos < n &&
              anim_image_alloc(img, w, h, NULL) == ANIM_OK;
    pos++;   /* the single whitespace byte after maxval */
    if (ok && n - pos != (size_t)w * (size_t)h * 3) {
        anim_image_free(img);
        ok = false;
    }
    if (ok) memcpy(img->rgb, b + pos, n - pos);
    else printf("    %s: not a P6 PPM\n", path);
    free(b);
    return ok;
}

/* Number of differing bytes between a and b (sizes must match); *maxd gets
 * the largest absolute difference and the first difference is printed. */
static size_t image_diff(const char *what, const anim_image *a, const anim_image *b, int *maxd) {
    *maxd = 0;
    if (a->w != b->w || a->h != b->h) {
        printf("    %s: %dx%d, want %dx%d\n", what, a->w, a->h, b->w, b->h);
        *maxd = 256;
        return (size_t)-1;
    }
    size_t bad = 0, n = (size_t)a->w * (size_t)a->h * 3;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a->rgb[i] - (int)b->rgb[i]);
        if (!d) continue;
        if (!bad++)
            printf("    %s: first difference at pixel (%zu,%zu) channel %zu: %d, want %d\n", what, i / 3 % (size_t)a->w,
                   i / 3 / (size_t)a->w, i % 3, a->rgb[i], b->rgb[i]);
        if (d > *maxd) *maxd = d;
    }
    return bad;
}

/* Every JPEG/WebP input decodes to exactly Pillow's pixels: 0 differences. */
TEST(image_jpeg_webp_fixtures_match_pil) {
    int failed = 0, skipped = 0;
    for (size_t i = 0; i < N_FIX_PICS; i++) {
        const fix_pic *f = &FIX_PICS[i];
        if (!fmt_built(f->fmt)) { skipped++; continue; }
        char path[256], ref_path[256];
        snprintf(path, sizeof path, IFIX "%s", f->name);
        snprintf(ref_path, sizeof ref_path, IFIX "%s.pil.ppm", f->name);
        anim_image img = {0, 0, NULL}, ref = {0, 0, NULL};
        anim_error err;
        anim_status st = anim_image_read(path, &img, &err);
        if (st != ANIM_OK) {
            printf("    %s: %s\n", f->name, err.msg);
            failed++;
            continue;
        }
        int maxd = 0;
        size_t bad = read_ppm(ref_path, &ref) ? image_diff(f->name, &img, &ref, &maxd) : (size_t)-1;
        if (bad || img.w != f->w || img.h != f->h) {
            printf("    %s: %zu bytes differ from Pillow (max %d)\n", f->name, bad, maxd);
            failed++;
        }
        anim_image_free(&img);
        anim_image_free(&ref);
    }
    CHECK_MSG(failed == 0, "%d of %zu pictures differ from Pillow's decode", failed, N_FIX_PICS);
    if (skipped == (int)N_FIX_PICS) SKIP("built without libjpeg and libwebp");
}

/* Every input listed in refused.txt (damaged files Pillow refuses) fails. */
TEST(image_refused_by_pil_is_an_error) {
    size_t n;
    char *txt = (char *)test_read_file(IFIX "refused.txt", &n);
    CHECK(txt);
    int seen = 0, bad = 0;
    for (char *line = txt; line < txt + n;) {
        char *nl = memchr(line, '\n', (size_t)(txt + n - line));
        char *end = nl ? nl : txt + n;
        char name[128];
        size_t k = 0;
        while (line + k < end && line[k] != ' ' && k + 1 < sizeof name) { name[k] = line[k]; k++; }
        name[k] = '\0';
        if (k && line[0] != '#') {
            char path[256];
            snprintf(path, sizeof path, IFIX "%s", name);
            size_t len;
            uint8_t *b = test_read_file(path, &len);
            anim_picture_format f = b ? anim_picture_sniff(b, len) : ANIM_PIC_UNKNOWN;
            free(b);
            if (fmt_built(f)) {
                anim_image img = {0, 0, NULL};
                anim_error err;
                anim_status st = anim_image_read(path, &img, &err);
                seen++;
                if (st != ANIM_E_FORMAT || img.rgb || !strstr(err.msg, path)) {
                    printf("    %s: status %d (%s), want an error naming the file\n", name, (int)st,
                           st ? err.msg : "decoded");
                    bad++;
                }
                anim_image_free(&img);
            }
        }
        line = end + 1;
    }
    free(txt);
    CHECK(bad == 0);
    if (!seen) SKIP("no decoder for the refused inputs in this build");
}

#ifdef ANIM_WITH_JPEG

/* The JPEG named .png: content wins over the name. */
TEST(image_jpeg_named_png_is_decoded_as_jpeg) {
    size_t len;
    uint8_t *b = test_read_file(IFIX "jpeg_named.png", &len);
    CHECK(b);
    anim_picture_format f = anim_picture_sniff(b, len);
    free(b);
    CHECK(f == ANIM_PIC_JPEG);
    anim_image img;
    anim_error err;
    CHECK_OK(anim_image_read(IFIX "jpeg_named.png", &img, &err), &err);
    bool ok = img.w == 29 && img.h == 31;
    anim_image_free(&img);
    CHECK(ok);
}

/* EXIF orientation 6 would turn 37x23 into 23x37; Pillow's open/convert do not
 * rotate and neither do we (the pixels match Pillow's in the fixture test). */
TEST(image_jpeg_exif_orientation_not_applied) {
    size_t len;
    uint8_t *b = test_read_file(IFIX "jexif6.jpg", &len);
    CHECK(b);
    bool has_exif = false;
    for (size_t i = 0; i + 10 < len && !has_exif; i++) has_exif = memcmp(b + i, "Exif\0\0", 6) == 0;
    free(b);
    CHECK_MSG(has_exif, "the fixture lost its EXIF block");
    anim_image img;
    anim_error err;
    CHECK_OK(anim_image_read(IFIX "jexif6.jpg", &img, &err), &err);
    bool ok = img.w == 37 && img.h == 23;
    anim_image_free(&img);
    CHECK(ok);
}

/* CMYK: Pillow reads every 4-component JPEG as inverted CMYK ("CMYK;I") and
 * converts with cmyk2rgb; the fixture (Adobe APP14, as libjpeg writes CMYK)
 * matches Pillow exactly in image_jpeg_webp_fixtures_match_pil. Here one
 * pixel of the formula by hand, through a decode of the real file: the
 * expected value is recomputed from the CMYK samples libjpeg gives. */
TEST(image_jpeg_cmyk_as_pil) {
    size_t len;
    uint8_t *b = test_read_file(IFIX "jcmyk.jpg", &len);
    CHECK(b);
    bool adobe = false;
    for (size_t i = 0; i + 7 < len && !adobe; i++) adobe = b[i] == 0xFF && b[i + 1] == 0xEE && memcmp(b + i + 4, "Adobe", 5) == 0;
    free(b);
    CHECK_MSG(adobe, "the CMYK fixture has no Adobe APP14 marker");
    anim_image img, ref;
    anim_error err;
    CHECK_OK(anim_image_read(IFIX "jcmyk.jpg", &img, &err), &err);
    int maxd;
    bool ok = read_ppm(IFIX "jcmyk.jpg.pil.ppm", &ref) && image_diff("jcmyk.jpg", &img, &ref, &maxd) == 0;
    anim_image_free(&img);
    anim_image_free(&ref);
    CHECK(ok);
}

/* jpeg_destroy on every path: ASan's leak check covers the error paths. */
TEST(image_jpeg_corrupt_header_is_an_error) {
    size_t len;
    uint8_t *b = test_read_file(IFIX "j420.jpg", &len);
    CHECK(b);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < len && !sof; i++) if (b[i] == 0xFF && b[i + 1] == 0xC0) sof = i;
    anim_image img = {0, 0, NULL};
    anim_error err;
    anim_status st = ANIM_OK;
    char m[ANIM_ERR_MSG_MAX] = "";
    if (sof) {
        b[sof + 1] = 0xC3;   /* lossless JPEG: libjpeg-turbo 2.x refuses it (an error_exit, not a warning) */
        st = anim_image_decode(b, len, "lossless.jpg", &img, &err);
        snprintf(m, sizeof m, "%s", err.msg);
        b[sof + 1] = 0xC0;
    }
    /* width 20000: refused before any pixel memory is allocated */
    anim_status st2 = ANIM_OK;
    anim_error err2;
    if (sof) {
        b[sof + 5] = 0x00; b[sof + 6] = 0x01;   /* height 1 */
        b[sof + 7] = 0x4E; b[sof + 8] = 0x20;   /* width 20000 */
        st2 = anim_image_decode(b, len, "wide.jpg", &img, &err2);
    }
    free(b);
    CHECK(sof);
    CHECK_STATUS(st, ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(m, "lossless.jpg: JPEG: ");
    CHECK(img.rgb == NULL);
    CHECK_STATUS(st2, ANIM_E_UNSUPPORTED, &err2);
    CHECK_CONTAINS(err2.msg, "wide.jpg: JPEG: picture is 20000x1, larger than the 16384x16384 limit");
}

#else

TEST(image_jpeg_unavailable_without_libjpeg) {
    anim_image img;
    anim_error err;
    CHECK_STATUS(anim_image_read(IFIX "j420.jpg", &img, &err), ANIM_E_UNSUPPORTED, &err);
    CHECK_CONTAINS(err.msg, IFIX "j420.jpg: JPEG input is not available: libanimate was built without libjpeg");
}

#endif /* ANIM_WITH_JPEG */

#ifndef ANIM_WITH_WEBP

TEST(image_webp_input_unavailable_without_libwebp) {
    anim_image img;
    anim_error err;
    CHECK_STATUS(anim_image_read(IFIX "wlossy.webp", &img, &err), ANIM_E_UNSUPPORTED, &err);
    CHECK_CONTAINS(err.msg, IFIX "wlossy.webp: WebP input is not available: libanimate was built without libwebp");
}

#endif

/* ---- truncation, as in Pillow -------------------------------------------- */

/* The line of truncation.txt for `name`: full size and the cut lengths below
 * it that Pillow still decodes (to the full picture). */
static bool trunc_entry(const char *name, size_t *full, size_t *acc, int cap, int *nacc) {
    size_t n;
    char *txt = (char *)test_read_file(IFIX "truncation.txt", &n);
    if (!txt) return false;
    char *t = realloc(txt, n + 1);
    if (!t) { free(txt); return false; }
    t[n] = '\0';
    bool found = false;
    size_t nl = strlen(name);
    *nacc = 0;
    for (char *line = t; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, name, nl) != 0 || line[nl] != ' ') continue;
        char *p = line + nl, *e;
        *full = (size_t)strtoull(p, &e, 10);
        for (p = e; *p == ' ' && *nacc < cap; p = e) {
            size_t v = (size_t)strtoull(p, &e, 10);
            if (e == p) break;
            acc[(*nacc)++] = v;
        }
        found = true;
        break;
    }
    free(t);
    return found;
}

/* Decode every prefix of the fixture; it must fail (naming the file, saying
 * "truncated" once the signature is there, no pixels) exactly where Pillow
 * fails, and give the full picture where Pillow succeeds. Returns the number
 * of wrong cuts. Exact-size copies: ASan sees any read past the end. */
static int check_cuts(const fix_pic *f) {
    char path[256], ref_path[256];
    snprintf(path, sizeof path, IFIX "%s", f->name);
    snprintf(ref_path, sizeof ref_path, IFIX "%s.pil.ppm", f->name);
    size_t len, full = 0, acc[256];
    int nacc = 0, bad = 0;
    uint8_t *whole = test_read_file(path, &len);
    anim_image ref = {0, 0, NULL};
    if (!whole || !trunc_entry(f->name, &full, acc, 256, &nacc) || full != len || !read_ppm(ref_path, &ref)) {
        printf("    %s: fixture or its truncation.txt line missing\n", f->name);
        free(whole);
        return 1;
    }
    const char *cut_name = f->fmt == ANIM_PIC_JPEG ? "cut.jpg" : "cut.webp";
    size_t sig = f->fmt == ANIM_PIC_JPEG ? 3 : 12;
    for (size_t cut = 0; cut < len && bad < 5; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        if (!copy) { bad++; break; }
        memcpy(copy, whole, cut);
        bool want_ok = false;
        for (int i = 0; i < nacc; i++) want_ok |= acc[i] == cut;
        anim_image img = {1, 1, (uint8_t *)1};
        anim_error err;
        anim_status st = anim_image_decode(copy, cut, cut_name, &img, &err);
        free(copy);
        int maxd;
        if (st == ANIM_OK) {
            if (!want_ok) printf("    %s cut at %zu of %zu: decoded, Pillow refuses it\n", f->name, cut, len);
            else if (image_diff(f->name, &img, &ref, &maxd) != 0) want_ok = false;
            bad += !want_ok;
            anim_image_free(&img);
        } else if (want_ok) {
            printf("    %s cut at %zu of %zu: %s; Pillow decodes it\n", f->name, cut, len, err.msg);
            bad++;
        } else if (img.rgb != NULL || !strstr(err.msg, cut_name) || (cut >= sig && !strstr(err.msg, "truncated"))) {
            printf("    %s cut at %zu: status %d, message \"%s\"\n", f->name, cut, (int)st, err.msg);
            bad++;
        }
    }
    free(whole);
    anim_image_free(&ref);
    return bad;
}

static void check_all_cuts(anim_picture_format fmt, const char *what) {
    int bad = 0, files = 0;
    for (size_t i = 0; i < N_FIX_PICS; i++)
        if (FIX_PICS[i].fmt == fmt && fmt_built(fmt)) {
            bad += check_cuts(&FIX_PICS[i]);
            files++;
        }
    if (!files) SKIP("built without %s", what);
    CHECK_MSG(bad == 0, "%d truncated %s inputs behave unlike Pillow", bad, what);
}

TEST(image_jpeg_truncated_as_pil) { check_all_cuts(ANIM_PIC_JPEG, "libjpeg"); }
TEST(image_webp_truncated_as_pil) { check_all_cuts(ANIM_PIC_WEBP, "libwebp"); }

/* Through a file: the message names the path and says what is wrong. */
TEST(image_truncated_files_name_the_file) {
    static const struct { const char *src, *dst, *want; anim_picture_format fmt; } C[] = {
        {"jprog.jpg", "half.jpg", "half.jpg: JPEG: file is truncated", ANIM_PIC_JPEG},
        {"j420.jpg", "half_baseline.png", "half_baseline.png: JPEG: file is truncated (the data ends at row", ANIM_PIC_JPEG},
        {"wanim.webp", "half.webp", "half.webp: WebP: file is truncated (1152 bytes, the RIFF header says 2304)",
         ANIM_PIC_WEBP},
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        if (!fmt_built(C[i].fmt)) continue;
        char src[256];
        snprintf(src, sizeof src, IFIX "%s", C[i].src);
        size_t len;
        uint8_t *b = test_read_file(src, &len);
        CHECK(b);
        const char *path = write_bytes(C[i].dst, b, len / 2);
        free(b);
        CHECK(path);
        anim_image img;
        anim_error err;
        CHECK_STATUS(anim_image_read(path, &img, &err), ANIM_E_FORMAT, &err);
        CHECK_CONTAINS(err.msg, path);
        CHECK_CONTAINS(err.msg, C[i].want);
        CHECK(img.rgb == NULL);
        ran++;
    }
    if (!ran) SKIP("built without libjpeg and libwebp");
}

/* ---- output metadata ----------------------------------------------------- */

#define SETTINGS_RAW "steps=3 cfg=3.5 ref=\"a<b>&c'.png\" caf\xC3\xA9 bad\xFF ctl\x01 end"
#define SETTINGS_XML "steps=3 cfg=3.5 ref=&quot;a&lt;b&gt;&amp;c&apos;.png&quot; caf\xC3\xA9 bad\xEF\xBF\xBD ctl\xEF\xBF\xBD end"

/* The packet itself: the mark, the version, the escaped settings. */
TEST(image_meta_xmp_packet) {
    anim_meta m = {NULL, SETTINGS_RAW, false};
    size_t n = 0;
    char *x = anim_meta_xmp(&m, &n);
    CHECK(x && n == strlen(x));
    bool ok = strstr(x, "<Iptc4xmpExt:DigitalSourceType>" ANIM_XMP_DIGITAL_SOURCE_TYPE
                        "</Iptc4xmpExt:DigitalSourceType>") &&
              strstr(x, "xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\"") &&
              strstr(x, "<xmp:CreatorTool>libanimate " ANIM_VERSION_STRING "</xmp:CreatorTool>") &&
              strstr(x, "<rdf:li xml:lang=\"x-default\">" SETTINGS_XML "</rdf:li>") &&
              strncmp(x, "<?xpacket begin=\"\xEF\xBB\xBF\"", 19) == 0 && strstr(x, "<?xpacket end=\"w\"?>");
    if (!ok) printf("%s\n", x);
    free(x);
    CHECK(ok);
    /* defaults: no settings, no description; a software name replaces ours */
    x = anim_meta_xmp(NULL, NULL);
    CHECK(x);
    ok = strstr(x, "libanimate " ANIM_VERSION_STRING) && !strstr(x, "dc:description") &&
         strstr(x, ANIM_XMP_DIGITAL_SOURCE_TYPE);
    free(x);
    CHECK(ok);
    anim_meta m2 = {"my app <2.0>\r\n", NULL, false};
    x = anim_meta_xmp(&m2, NULL);
    CHECK(x);
    ok = strstr(x, "<xmp:CreatorTool>my app &lt;2.0&gt;&#13;\n</xmp:CreatorTool>") && !strstr(x, "dc:description");
    free(x);
    CHECK(ok);
}

/* Tool checks: is `name` on PATH? Run `cmd` and keep its output. */
static bool have_tool(const char *name) {
    char cmd[160];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

static int run_capture(const char *cmd, char *out, size_t cap) {
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    return pclose(p);
}

#ifdef ANIM_WITH_PNG

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

typedef struct png_xmp {
    int count;              /* iTXt "XML:com.adobe.xmp" chunks */
    bool before_idat;       /* the first one precedes IDAT */
    int comp_flag;
    char *text;             /* the first one's text, malloc'd */
} png_xmp;

/* Walk the PNG chunks by hand (the PNG spec; no libpng here). */
static bool png_find_xmp(const uint8_t *b, size_t n, png_xmp *px) {
    memset(px, 0, sizeof *px);
    if (n < 8 || memcmp(b, "\x89PNG\r\n\x1a\n", 8) != 0) return false;
    bool idat = false;
    for (size_t pos = 8; pos + 12 <= n;) {
        uint32_t len = be32(b + pos);
        if (len > n - pos - 12) return false;
        const uint8_t *type = b + pos + 4, *d = b + pos + 8;
        if (memcmp(type, "IDAT", 4) == 0) idat = true;
        static const char key[] = "XML:com.adobe.xmp";
        if (memcmp(type, "iTXt", 4) == 0 && len > sizeof key + 2 && memcmp(d, key, sizeof key) == 0) {
            if (px->count++ == 0) {
                /* keyword\0 flag method language\0 translated-keyword\0 text */
                size_t i = sizeof key;
                px->comp_flag = d[i];
                i += 2;
                while (i < len && d[i]) i++;
                i++;
                while (i < len && d[i]) i++;
                i++;
                if (i > len) return false;
                px->before_idat = !idat;
                px->text = malloc(len - i + 1);
                if (!px->text) return false;
                memcpy(px->text, d + i, len - i);
                px->text[len - i] = '\0';
            }
        }
        pos += 12 + len;
    }
    return true;
}

TEST(image_png_meta_xmp_itxt) {
    anim_image a, b = {0, 0, NULL};
    anim_error err;
    CHECK(random_image(&a, 21, 13, 5));
    anim_meta m = {NULL, SETTINGS_RAW, false};
    const char *p = tpath("meta.png");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    anim_status st = anim_png_write(path, &a, &m, &err);
    /* our reader checks every chunk CRC, so a bad iTXt would fail here */
    if (st == ANIM_OK) st = anim_image_read(path, &b, &err);
    bool same = st == ANIM_OK && b.w == a.w && b.h == a.h && memcmp(a.rgb, b.rgb, (size_t)a.w * a.h * 3) == 0;
    anim_image_free(&a);
    anim_image_free(&b);
    CHECK_OK(st, &err);
    CHECK(same);
    size_t n;
    uint8_t *bytes = test_read_file(path, &n);
    png_xmp px;
    bool parsed = bytes && png_find_xmp(bytes, n, &px);
    free(bytes);
    CHECK(parsed);
    char *want = anim_meta_xmp(&m, NULL);
    bool ok = px.count == 1 && px.before_idat && px.comp_flag == 0 && px.text && want && strcmp(px.text, want) == 0 &&
              strstr(px.text, ANIM_XMP_DIGITAL_SOURCE_TYPE) && strstr(px.text, "libanimate " ANIM_VERSION_STRING) &&
              strstr(px.text, SETTINGS_XML);
    if (!ok) printf("    %d XMP iTXt chunks, before IDAT %d, compressed %d\n", px.count, px.before_idat, px.comp_flag);
    free(want);
    free(px.text);
    CHECK(ok);
    /* without meta: the mark and the version are still there */
    CHECK(random_image(&a, 3, 2, 6));
    st = anim_png_write(path, &a, NULL, &err);
    anim_image_free(&a);
    CHECK_OK(st, &err);
    bytes = test_read_file(path, &n);
    parsed = bytes && png_find_xmp(bytes, n, &px);
    free(bytes);
    ok = parsed && px.count == 1 && px.text && strstr(px.text, ANIM_XMP_DIGITAL_SOURCE_TYPE) &&
         strstr(px.text, "<xmp:CreatorTool>libanimate " ANIM_VERSION_STRING "<") && !strstr(px.text, "description");
    free(px.text);
    CHECK(ok);
}

#endif /* ANIM_WITH_PNG */

#ifdef ANIM_WITH_WEBP

/* Write a 3-frame lossless animation with `meta` to tmp/<name>; the frames
 * are left in f (caller frees). */
static bool webp_write_meta(const char *name, const anim_meta *meta, anim_image f[3], anim_error *err) {
    for (int k = 0; k < 3; k++) f[k].rgb = NULL;
    for (int k = 0; k < 3; k++)
        if (anim_image_alloc(&f[k], 40, 24, err) != ANIM_OK) return false;
    webp_frames(f);
    anim_webp_writer *wr = anim_webp_begin(40, 24, 3, ANIM_WEBP_DEFAULT_QUALITY, true, err);
    bool ok = wr != NULL;
    for (int k = 0; ok && k < 3; k++) ok = anim_webp_add(wr, &f[k], err) == ANIM_OK;
    if (ok) return anim_webp_end(wr, tpath(name), meta, err) == ANIM_OK;
    anim_webp_abort(wr);
    return false;
}

TEST(image_webp_meta_xmp_chunk) {
    anim_image f[3], first = {0, 0, NULL};
    anim_error err;
    anim_meta m = {NULL, SETTINGS_RAW, false};
    bool ok = webp_write_meta("meta.webp", &m, f, &err);
    char path[512];
    snprintf(path, sizeof path, "%s", tpath("meta.webp"));
    /* our own WebP reader gives frame 0 back exactly (lossless) */
    anim_status st = ok ? anim_image_read(path, &first, &err) : ANIM_E_INTERNAL;
    bool same = st == ANIM_OK && first.w == 40 && first.h == 24 && memcmp(first.rgb, f[0].rgb, 40 * 24 * 3) == 0;
    for (int k = 0; k < 3; k++) anim_image_free(&f[k]);
    anim_image_free(&first);
    CHECK_MSG(ok, "%s", err.msg);
    CHECK_OK(st, &err);
    CHECK(same);
    size_t n;
    uint8_t *b = test_read_file(path, &n);
    CHECK(b);
    /* the RIFF chunks by hand: VP8X flags, then the "XMP " chunk after the frames */
    int vp8x_flags = -1, frames = 0, xmp_chunks = 0;
    bool xmp_after_frames = false, riff_ok = n >= 12 && le32(b + 4) == n - 8;
    char *xmp = NULL;
    for (size_t pos = 12; riff_ok && pos + 8 <= n;) {
        uint32_t len = le32(b + pos + 4);
        if (len > n - pos - 8) { riff_ok = false; break; }
        if (memcmp(b + pos, "VP8X", 4) == 0 && len >= 10) vp8x_flags = b[pos + 8];
        if (memcmp(b + pos, "ANMF", 4) == 0) frames++;
        if (memcmp(b + pos, "XMP ", 4) == 0 && xmp_chunks++ == 0 && (xmp = malloc(len + 1))) {
            memcpy(xmp, b + pos + 8, len);
            xmp[len] = '\0';
            xmp_after_frames = frames == 3;
        }
        pos += 8 + len + (len & 1);
    }
    char *want = anim_meta_xmp(&m, NULL);
    ok = riff_ok && vp8x_flags >= 0 && (vp8x_flags & 0x04) && (vp8x_flags & 0x02) && frames == 3 && xmp_chunks == 1 &&
         xmp_after_frames && xmp && want && strcmp(xmp, want) == 0;
    if (!ok)
        printf("    RIFF ok %d, VP8X flags 0x%02x, %d frames, %d XMP chunks (after the frames: %d)\n", riff_ok,
               vp8x_flags, frames, xmp_chunks, xmp_after_frames);
    free(xmp);
    /* and through libwebpdemux, as readers built on libwebp see it */
    WebPData data = {b, n};
    WebPDemuxer *dmx = ok ? WebPDemux(&data) : NULL;
    WebPChunkIterator it;
    bool dmx_ok = dmx && (WebPDemuxGetI(dmx, WEBP_FF_FORMAT_FLAGS) & XMP_FLAG) &&
                  (WebPDemuxGetI(dmx, WEBP_FF_FORMAT_FLAGS) & ANIMATION_FLAG) &&
                  WebPDemuxGetI(dmx, WEBP_FF_FRAME_COUNT) == 3 && WebPDemuxGetI(dmx, WEBP_FF_LOOP_COUNT) == 0 &&
                  WebPDemuxGetChunk(dmx, "XMP ", 1, &it);
    if (dmx_ok) {
        dmx_ok = it.chunk.size == strlen(want) && memcmp(it.chunk.bytes, want, it.chunk.size) == 0;
        WebPDemuxReleaseChunkIterator(&it);
    }
    WebPDemuxDelete(dmx);
    free(want);
    free(b);
    CHECK(ok);
    CHECK_MSG(dmx_ok, "libwebpdemux does not see the XMP chunk / flag or the 3-frame animation");
}

/* One frame: the animation encoder writes a still WebP; the mux still adds
 * the XMP (and a VP8X to carry its flag), and the file reads back. */
TEST(image_webp_single_frame_meta) {
    anim_image f, back = {0, 0, NULL};
    anim_error err;
    CHECK(random_image(&f, 9, 7, 3));
    char path[512];
    snprintf(path, sizeof path, "%s", tpath("single.webp"));
    anim_webp_writer *wr = anim_webp_begin(9, 7, 8, 90, true, &err);
    anim_status st = wr ? anim_webp_add(wr, &f, &err) : ANIM_E_INTERNAL;
    if (st == ANIM_OK) st = anim_webp_end(wr, path, NULL, &err);
    else anim_webp_abort(wr);
    if (st == ANIM_OK) st = anim_image_read(path, &back, &err);
    bool same = st == ANIM_OK && back.w == 9 && back.h == 7 && memcmp(back.rgb, f.rgb, 9 * 7 * 3) == 0;
    anim_image_free(&f);
    anim_image_free(&back);
    CHECK_OK(st, &err);
    CHECK(same);
    size_t n;
    uint8_t *b = test_read_file(path, &n);
    CHECK(b);
    WebPData data = {b, n};
    WebPDemuxer *dmx = WebPDemux(&data);
    WebPChunkIterator it;
    bool ok = dmx && (WebPDemuxGetI(dmx, WEBP_FF_FORMAT_FLAGS) & XMP_FLAG) && WebPDemuxGetChunk(dmx, "XMP ", 1, &it);
    if (ok) {
        char *x = malloc(it.chunk.size + 1);
        if (x) {
            memcpy(x, it.chunk.bytes, it.chunk.size);
            x[it.chunk.size] = '\0';
        }
        ok = x && strstr(x, ANIM_XMP_DIGITAL_SOURCE_TYPE) != NULL;
        free(x);
        WebPDemuxReleaseChunkIterator(&it);
    }
    WebPDemuxDelete(dmx);
    free(b);
    CHECK(ok);
}

/* webpmux (apt package `webp`) lists the XMP and gives the packet back. */
TEST(image_webp_meta_webpmux) {
    if (!have_tool("webpmux")) SKIP("webpmux not installed");
    anim_image f[3];
    anim_error err;
    anim_meta m = {NULL, SETTINGS_RAW, false};
    bool ok = webp_write_meta("meta_tool.webp", &m, f, &err);
    for (int k = 0; k < 3; k++) anim_image_free(&f[k]);
    CHECK_MSG(ok, "%s", err.msg);
    char path[512], out_path[512], cmd[1600], out[8192];
    snprintf(path, sizeof path, "%s", tpath("meta_tool.webp"));
    snprintf(out_path, sizeof out_path, "%s", tpath("meta_tool.xmp"));
    snprintf(cmd, sizeof cmd, "webpmux -info '%s' 2>&1", path);
    int rc = run_capture(cmd, out, sizeof out);
    CHECK_MSG(rc == 0 && strstr(out, "XMP") && strstr(out, "animation") && strstr(out, "Number of frames: 3"),
              "webpmux -info (rc %d):\n%s", rc, out);
    remove(out_path);
    snprintf(cmd, sizeof cmd, "webpmux -get xmp '%s' -o '%s' 2>&1", path, out_path);
    rc = run_capture(cmd, out, sizeof out);
    size_t n;
    char *got = (char *)test_read_file(out_path, &n);
    char *want = anim_meta_xmp(&m, NULL);
    ok = rc == 0 && got && want && n == strlen(want) && memcmp(got, want, n) == 0;
    free(got);
    free(want);
    CHECK_MSG(ok, "webpmux -get xmp (rc %d) did not give the packet back: %s", rc, out);
}

#endif /* ANIM_WITH_WEBP */

/* exiftool (apt package `libimage-exiftool-perl`) reads the mark, the tool and
 * the settings (unescaped) from both kinds of output, without a warning. */
TEST(image_meta_exiftool) {
    if (!have_tool("exiftool")) SKIP("exiftool not installed");
    int ran = 0;
    anim_meta m = {NULL, "steps=3 <seed>=42 & caf\xC3\xA9", false};
    (void)m;   /* unused when neither writer is built */
    for (int kind = 0; kind < 2; kind++) {
        char path[512];
        anim_error err;
        anim_status st = ANIM_E_UNSUPPORTED;
        if (kind == 0) {
#ifdef ANIM_WITH_PNG
            anim_image a;
            CHECK(random_image(&a, 5, 4, 9));
            snprintf(path, sizeof path, "%s", tpath("exif.png"));
            st = anim_png_write(path, &a, &m, &err);
            anim_image_free(&a);
#endif
        } else {
#ifdef ANIM_WITH_WEBP
            anim_image f[3];
            snprintf(path, sizeof path, "%s", tpath("exif.webp"));
            st = webp_write_meta("exif.webp", &m, f, &err) ? ANIM_OK : ANIM_E_INTERNAL;
            for (int k = 0; k < 3; k++) anim_image_free(&f[k]);
#endif
        }
        if (st == ANIM_E_UNSUPPORTED) continue;
        CHECK_OK(st, &err);
        char cmd[1200], out[8192];
        snprintf(cmd, sizeof cmd,
                 "exiftool -n -s -XMP-iptcExt:DigitalSourceType -XMP-xmp:CreatorTool -XMP-dc:Description -Warning "
                 "-Error '%s' 2>&1", path);
        int rc = run_capture(cmd, out, sizeof out);
        CHECK_MSG(rc == 0 && strstr(out, "DigitalSourceType") && strstr(out, ANIM_XMP_DIGITAL_SOURCE_TYPE) &&
                      strstr(out, "CreatorTool") && strstr(out, "libanimate " ANIM_VERSION_STRING) &&
                      strstr(out, "Description") && strstr(out, "steps=3 <seed>=42 & caf\xC3\xA9") &&
                      !strstr(out, "Warning") && !strstr(out, "Error"),
                  "%s (rc %d):\n%s", cmd, rc, out);
        ran++;
    }
    if (!ran) SKIP("built without libpng and libwebp");
}
