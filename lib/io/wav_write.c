/* wav_write.c - 16-bit PCM mono WAV writer (see wav_write.h). */
#include "io/wav_write.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void le16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

anim_status wav_write_pcm16(const char *path, const float *x, size_t n, int sample_rate, anim_error *err) {
    if (sample_rate < 1 || n > (0xffffffffu - 44) / 2)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "%s: cannot write %zu samples at %d Hz as WAV", path, n,
                           sample_rate);
    unsigned char h[44];
    memcpy(h, "RIFF", 4);
    le32(h + 4, (uint32_t)(36 + 2 * n));
    memcpy(h + 8, "WAVEfmt ", 8);
    le32(h + 16, 16);
    le16(h + 20, 1); /* PCM */
    le16(h + 22, 1); /* mono */
    le32(h + 24, (uint32_t)sample_rate);
    le32(h + 28, (uint32_t)sample_rate * 2);
    le16(h + 32, 2);
    le16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    le32(h + 40, (uint32_t)(2 * n));
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return anim_seterr(err, ANIM_E_IO, "%s: cannot write: %s", path, strerror(errno));
    bool ok = fwrite(h, 1, sizeof h, f) == sizeof h;
    unsigned char buf[4096];
    size_t k = 0;
    for (size_t i = 0; i < n && ok; i++) {
        float v = x[i] * 32768.0f;
        long s = lrintf(v < -32768.0f ? -32768.0f : (v > 32767.0f ? 32767.0f : v));
        le16(buf + k, (uint16_t)(int16_t)s);
        k += 2;
        if (k == sizeof buf || i + 1 == n) {
            ok = fwrite(buf, 1, k, f) == k;
            k = 0;
        }
    }
    if (fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return anim_seterr(err, ANIM_E_IO, "%s: write failed: %s", path, strerror(e));
    }
    return ANIM_OK;
}
