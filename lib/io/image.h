/*
 * image.h - pictures in and out: PNG, JPEG and WebP read; PNG and animated
 * WebP write, both marked as AI-generated (XMP metadata).
 *
 * Pictures are RGB8, row-major HWC (anim_image). Reading reproduces what the
 * upstream scripts get from Pillow 9.x `Image.open(path).convert("RGB")`
 * (pose2vid.py reads the reference picture that way; the pose frames come
 * from PyAV as RGB, which is plain RGB8 too). The format is recognised by
 * content (signature), never by file name: a JPEG named .png is a JPEG.
 *
 * PNG (libpng):
 *   - alpha is dropped, never composited (RGBA/LA/palette+tRNS);
 *   - grey is replicated to R = G = B; 1/2/4-bit grey is scaled by bit
 *     replication (PIL's "1", "L;2", "L;4" unpackers: v*255, v*0x55, v*0x11);
 *   - 16-bit RGB, RGBA and grey+alpha keep the HIGH byte of each sample
 *     (PIL's "RGB;16B"/"RGBA;16B"/"LA;16B" unpackers), i.e. truncation, which
 *     is libpng's png_set_strip_16 and not png_set_scale_16 (which rounds);
 *   - 16-bit grey is PIL mode "I" (values 0..65535) and "I" -> "RGB" clamps
 *     each value to 0..255 (Convert.c i2rgb), so every grey level >= 255
 *     becomes white. A PIL quirk, copied on purpose so that such a reference
 *     picture gives the same input tensors as upstream.
 *   Gamma, colour profiles and text chunks are ignored, as PIL does.
 * JPEG (libjpeg-turbo, as Pillow, which links it too):
 *   - libjpeg's defaults, which Pillow keeps when it does not "draft": ISLOW
 *     integer IDCT, fancy upsampling, libjpeg's own YCbCr -> RGB; baseline,
 *     progressive and arithmetic-coded files alike;
 *   - 1 component (mode "L") -> R = G = B; 3 components -> RGB as libjpeg
 *     converts them (YCbCr, or RGB when the file says so); 4 components are
 *     mode "CMYK", which Pillow ALWAYS reads inverted ("CMYK;I", "assume Adobe
 *     conventions", whether or not an Adobe marker is there) and converts with
 *     Convert.c cmyk2rgb: k = raw K, R = clip(k - muldiv255(255 - raw C, k))
 *     (same for G/M, B/Y) - reproduced exactly; YCCK files come out of
 *     libjpeg as CMYK first, as in Pillow. Other component counts are refused
 *     (Pillow: "cannot handle N-layer images");
 *   - EXIF orientation is NOT applied (Image.open/convert do not either);
 *   - a file that ends before the last row is an error ("image file is
 *     truncated" in Pillow); a file missing only what follows the last row
 *     (the EOI marker) is accepted when libjpeg needs nothing more, exactly
 *     where Pillow accepts it. Data libjpeg only warns about (corrupt entropy
 *     data, extraneous bytes) decodes as libjpeg decodes it, without an error:
 *     Pillow silences libjpeg's warnings, so upstream gets those pixels too.
 * WebP (libwebp + libwebpdemux):
 *   - decoded as Pillow 9.x does, through WebPAnimDecoder with its default
 *     options (RGBA, not premultiplied) for still and animated files alike;
 *   - an animated WebP gives its FIRST frame, as Image.open does (frame 0
 *     drawn on a transparent black canvas: where it does not cover the
 *     canvas, the pixels are 0,0,0);
 *   - alpha is dropped without compositing (the RGB under alpha 0 is what
 *     the file stores);
 *   - a truncated or malformed file is an error (Pillow: "could not create
 *     decoder object").
 * Every decoder refuses pictures wider or taller than ANIM_IMAGE_MAX_DIM
 * before allocating them.
 *
 * Output metadata: every file written here carries an XMP packet marking it
 * as AI-generated: IPTC Digital Source Type "trainedAlgorithmicMedia"
 * (Iptc4xmpExt:DigitalSourceType), xmp:CreatorTool (our name and version, or
 * anim_meta.software) and, when given, the generation settings as
 * dc:description. PNG: an uncompressed iTXt chunk "XML:com.adobe.xmp" before
 * IDAT (where exiftool and Adobe look). WebP: an "XMP " chunk added with
 * libwebpmux, which also sets the VP8X XMP flag. No date is written, so the
 * same frames and settings give the same bytes.
 *
 * libpng, libjpeg and libwebp are optional (the Makefile defines
 * ANIM_WITH_PNG, ANIM_WITH_JPEG and ANIM_WITH_WEBP when pkg-config finds
 * them). Without them every function here still exists and returns
 * ANIM_E_UNSUPPORTED with a message saying so; the signature sniffing
 * (anim_picture_sniff, anim_is_picture) and anim_meta_xmp always work.
 *
 * Writers never leave a partial file under the final name: they write a
 * temporary file in the same directory ("<path>.<pid>.tmp") and rename it
 * over `path` once it is complete; on failure the temporary file is removed.
 */
#ifndef ANIM_IO_IMAGE_H
#define ANIM_IO_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Largest accepted width or height, decoded or written. */
#define ANIM_IMAGE_MAX_DIM 16384

/* Quality of anim_webp_begin() when the caller has no opinion (lossy). */
#define ANIM_WEBP_DEFAULT_QUALITY 90

typedef struct anim_image {
    int w, h;
    uint8_t *rgb;   /* w * h * 3 bytes, row-major, R G B per pixel */
} anim_image;

/* Allocate an uninitialised w x h picture (1..ANIM_IMAGE_MAX_DIM each). */
anim_status anim_image_alloc(anim_image *img, int w, int h, anim_error *err);
/* Free the pixels and zero the struct; NULL and empty images are no-ops. */
void anim_image_free(anim_image *img);
/* dst = a deep copy of src (dst is overwritten, not freed first). */
anim_status anim_image_copy(const anim_image *src, anim_image *dst, anim_error *err);

typedef enum anim_picture_format {
    ANIM_PIC_UNKNOWN = 0,
    ANIM_PIC_PNG = 1,    /* 89 'PNG' 0D 0A 1A 0A */
    ANIM_PIC_JPEG = 2,   /* FF D8 FF */
    ANIM_PIC_WEBP = 3    /* 'RIFF' <size> 'WEBP' */
} anim_picture_format;

/* Recognise a picture from its first bytes (12 are enough). */
anim_picture_format anim_picture_sniff(const void *head, size_t n);
/* True when `path` is a regular file whose content is a recognised picture
 * (PNG, JPEG or WebP, decodable or not): used to pick the pose frames out of
 * a directory while skipping other files. Never fails; false on any error. */
bool anim_is_picture(const char *path);

/* Decode the picture at `path` to RGB8 (see the top of this file). On
 * failure *out is zeroed and err names the file and the problem. */
anim_status anim_image_read(const char *path, anim_image *out, anim_error *err);
/* Same from memory; `name` is used in messages only. */
anim_status anim_image_decode(const void *buf, size_t len, const char *name, anim_image *out,
                              anim_error *err);

/*
 * What the output metadata says besides "AI-generated" (always written).
 * A NULL pointer or NULL field takes the default.
 */
typedef struct anim_meta {
    const char *software;   /* xmp:CreatorTool; default "libanimate " ANIM_VERSION_STRING */
    const char *settings;   /* free text (UTF-8; invalid bytes become U+FFFD), written as
                               dc:description; default: none */
    bool not_ai;            /* true: a plain algorithmic rendering (pose skeletons), marked
                               "algorithmicMedia" instead of "trainedAlgorithmicMedia" */
} anim_meta;

/* The IPTC Digital Source Types: what a model made (every video and frame
 * libanimate generates), and what a plain algorithm drew (pose renderings). */
#define ANIM_XMP_DIGITAL_SOURCE_TYPE "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
#define ANIM_XMP_ALGORITHMIC_SOURCE_TYPE "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"

/* The XMP packet written into outputs (UTF-8, NUL-terminated, XML-escaped),
 * for writers of other formats; malloc'd, free() it. NULL when out of memory.
 * *len (may be NULL) gets its length without the NUL. */
char *anim_meta_xmp(const anim_meta *meta, size_t *len);

/* Write img as an 8-bit RGB PNG with the XMP packet of `meta` (NULL: the
 * defaults) in an iTXt chunk (temp file, then rename). */
anim_status anim_png_write(const char *path, const anim_image *img, const anim_meta *meta, anim_error *err);

/*
 * Animated WebP through libwebpmux's WebPAnimEncoder. Frame i is shown at
 * i*1000/fps ms (integer division; the encoder wants integer ms) and the last
 * frame lasts until n*1000/fps. Usage:
 *     anim_webp_writer *wr = anim_webp_begin(w, h, 8, ANIM_WEBP_DEFAULT_QUALITY, false, &err);
 *     for each frame: anim_webp_add(wr, &frame, &err);
 *     anim_webp_end(wr, "out.webp", &meta, &err);    // frees wr, success or not
 * After a failed anim_webp_add the writer must still be ended or aborted.
 * quality: 0..100 (lossy: the usual quality; lossless: compression effort).
 */
typedef struct anim_webp_writer anim_webp_writer;

anim_webp_writer *anim_webp_begin(int w, int h, int fps, int quality, bool lossless,
                                  anim_error *err);
anim_status anim_webp_add(anim_webp_writer *wr, const anim_image *img, anim_error *err);
/* Assemble, add the XMP packet of `meta` (NULL: the defaults) as an "XMP "
 * chunk, write to a temp name, rename to path; frees wr in every case. */
anim_status anim_webp_end(anim_webp_writer *wr, const char *path, const anim_meta *meta, anim_error *err);
/* Drop the writer without writing anything; NULL is a no-op. */
void anim_webp_abort(anim_webp_writer *wr);

#endif
