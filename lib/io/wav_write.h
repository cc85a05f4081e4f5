/*
 * wav_write.h - write mono float samples as a 16-bit PCM WAV file (the 16 kHz
 * speech track written beside a talking-head video), under a temporary name
 * renamed when complete. Samples are clipped to [-1, 1) and rounded to int16.
 */
#ifndef ANIM_IO_WAV_WRITE_H
#define ANIM_IO_WAV_WRITE_H

#include <stddef.h>

#include "util/error.h"

anim_status wav_write_pcm16(const char *path, const float *x, size_t n, int sample_rate, anim_error *err);

#endif
