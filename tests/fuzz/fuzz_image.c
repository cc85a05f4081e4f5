/*
 * fuzz_image.c - libFuzzer harness for picture decoding (lib/io/image.c:
 * PNG through libpng, JPEG through libjpeg-turbo, WebP through libwebp's
 * demuxer), through anim_image_decode: the in-memory twin of
 * anim_image_read, which every reference picture and pose frame goes through.
 * The format is picked by content, so one harness covers all three; a
 * decoder the build lacks (no libpng, ...) answers ANIM_E_UNSUPPORTED.
 *
 * Built and run by `make fuzz` / `make fuzz-build` (see tests/fuzz/README.md):
 *   ./build-fuzz/fuzz_image -max_len=32768 build-fuzz/corpus/image tests/fuzz/corpus_image
 *
 * Seeds (tests/fuzz/corpus_image): the fixture pictures of
 * tests/fixtures/images (JPEG 4:2:0/4:2:2/4:4:4, grey, CMYK, progressive,
 * optimised, EXIF, corrupt and truncated; WebP lossy, lossless, alpha,
 * animated, corrupt), small fixture PNGs (RGB, palette, grey), and PNGs
 * made by tools/make_fuzz_seeds.py covering the colour types and bit depths
 * image.h describes (1/2/4/8/16-bit grey, grey+alpha, RGB16, RGBA,
 * interlaced, tRNS) plus a few malformed ones (bad CRC, truncated IDAT,
 * 16385-pixel width).
 *
 * Checks: on failure the picture is empty and the message names the input;
 * on success 1 <= w, h <= ANIM_IMAGE_MAX_DIM, the format was sniffed, and
 * the pixel buffer holds w*h*3 bytes (its first and last byte are read, and
 * every byte of pictures up to 4 MB, so ASan sees a short buffer).
 *
 * Note: the decoders are the system libraries, not instrumented; ASan still
 * sees their reads of our input buffer and their writes into our pixel
 * buffer through the rows we hand them only where it intercepts (memcpy,
 * ...). What is fuzzed for real is our glue: sniffing, limits, row setup,
 * conversion to RGB8, error and cleanup paths (setjmp/longjmp).
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "io/image.h"

#define NAME "fuzz.img"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    anim_image img = {.w = -1, .h = -1, .rgb = (uint8_t *)1};
    anim_error err = {0};
    anim_status st = anim_image_decode(data, size, NAME, &img, &err);
    if (st != ANIM_OK) {
        FUZZ_CHECK(img.w == 0 && img.h == 0 && img.rgb == NULL);
        fuzz_check_error(st, &err, NAME);
        return 0;
    }
    FUZZ_CHECK(anim_picture_sniff(data, size) != ANIM_PIC_UNKNOWN);
    FUZZ_CHECK(img.w >= 1 && img.w <= ANIM_IMAGE_MAX_DIM && img.h >= 1 && img.h <= ANIM_IMAGE_MAX_DIM);
    FUZZ_CHECK(img.rgb != NULL);
    const size_t n = (size_t)img.w * (size_t)img.h * 3;
    volatile uint8_t sink = img.rgb[0] ^ img.rgb[n - 1];
    if (n <= ((size_t)4 << 20)) {
        unsigned acc = 0;
        for (size_t i = 0; i < n; i++) acc += img.rgb[i];
        sink ^= (uint8_t)acc;
    }
    (void)sink;
    anim_image_free(&img);
    FUZZ_CHECK(img.rgb == NULL && img.w == 0 && img.h == 0);
    return 0;
}
