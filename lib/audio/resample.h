/*
 * resample.h - ffmpeg's default audio conversion to mono 16 kHz s16, which is
 * what EchoMimic's whisper `load_audio` runs:
 *     ffmpeg -nostdin -threads 0 -i <file> -f s16le -ac 1 -acodec pcm_s16le -ar 16000 -
 * then int16 / 32768 as float32.
 *
 * ffmpeg does this with one libswresample context at its defaults (engine
 * "swr", filter_size 32, phase_shift 10, linear_interp 1, exact_rational 1,
 * cutoff 0.97, Kaiser window beta 9, no dither). Reproduced here, from the
 * library's documented options and its observable behaviour, checked against
 * the ffmpeg 5.1 CLI (the one that made the fixture):
 *
 * Filter bank (build once per rate pair):
 *   factor = min(out * 0.97 / in, 1); taps L = ceil(32 / factor), rounded up
 *   to even; phases P = 1024, or out/gcd(in, out) when that is <= 1024
 *   (exact_rational). Tap i of phase p (centre c = (L-1)/2):
 *     x = pi * (i - c - p/P) * factor,  y = sin(x)/x (1 at 0),
 *     w = 2x / (factor L pi),  y *= I0(9 sqrt(max(1 - w^2, 0)))
 *   (when factor == 1 the sine is sin(pi p/P) with alternating sign,
 *   swresample's shortcut). Only phases 0..P/2 are computed when P is even;
 *   phase P-p is phase p reversed. All phases are divided by the tap sum of
 *   phase 0 (not their own). Stored per internal format: s16 as
 *   lrintf((float)(y * 32768 / norm)) clipped, float as (float)(y / norm),
 *   double as y / norm. Row P is row 0 shifted by one tap (for the linear
 *   interpolation between phases).
 * Stream:
 *   output k sits at input position k * in/out; its taps read input
 *   samples s-c .. s-c+L-1 around s = floor(position), phase = the fraction
 *   in units of 1/P (exactly, as integer index/frac counters with
 *   src_incr/dst_incr = out / (in P) scaled up to >= 2^20). When that
 *   fraction is not a whole phase (P capped at 1024, e.g. 44056 Hz), the
 *   results of phases p and p+1 are blended linearly by frac/src_incr.
 *   Before the start the input is mirrored without repeating sample 0
 *   (x[-m] = x[m], m = 1..L). All outputs whose taps fit in the input are
 *   produced; then, at end of stream, swresample appends
 *   R = (min(B, L) + 1) / 2 samples mirrored with repetition
 *   (x[N+j] = x[N-1-j]), B being the samples still buffered (from the first
 *   unproduced output's first tap to the end), and produces what fits again.
 *   Inputs shorter than L + 1 samples follow swresample's start-up path
 *   (the mirror then reads the tail reflection and zeros; nothing at all
 *   comes out if N + R < L + 1).
 *   s16 accumulation: (16384 + sum x*c) >> 15, clipped to int16 (exact
 *   integers: bit exact). float/double accumulation is done in double and
 *   rounded once (swresample sums in float with SIMD: last-bit differences).
 * Formats (swresample's internal format choice): u8 and s16 inputs go through
 *   the int16 path (bit exact); s24, s32 and float32 through float; float64
 *   through double (from the float32 copy wav.h keeps).
 * Downmix (-ac 1), after resampling (swresample resamples first when it
 *   reduces the channel count): the mono row of swr's default matrix for the
 *   input layout (FC 1; FL, FR 1/sqrt2 with FC then clev*sqrt2; BL/BR, SL/SR,
 *   BC slev/sqrt2 each; FLC/FRC 1/sqrt2; LFE and top speakers 0; clev = slev = float
 *   1/sqrt2), divided by its absolute sum when that exceeds 1 (stereo:
 *   0.5, 0.5). int16: coefficients rounded to 1/32768 (with error diffusion
 *   when at most 2 are non-zero), (sum + 16384) >> 15; float: float math.
 * Conversion to s16: float av_clip_int16(lrintf(x * 32768)), double lrint.
 *   Mono input already at the output rate is converted directly, as
 *   swresample does when there is nothing to resample or mix: s16/u8 as is,
 *   s24/s32 by v >> 16 (truncation), float/double by rounding.
 * Not reproduced: inputs swresample refuses (layouts without a front speaker
 *   or with a lone left/right speaker, more than 8 channels without a mask:
 *   ffmpeg fails on them) are averaged with equal weights instead.
 */
#ifndef ANIM_AUDIO_RESAMPLE_H
#define ANIM_AUDIO_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "audio/wav.h"
#include "util/error.h"

#define RESAMPLE_WHISPER_RATE 16000

/* swresample's internal sample formats. */
typedef enum resample_fmt { RESAMPLE_S16 = 0, RESAMPLE_FLT, RESAMPLE_DBL } resample_fmt;

/* The polyphase filter bank of one rate pair and format. */
typedef struct resample_filter {
    int in_rate, out_rate;
    resample_fmt fmt;
    double factor;        /* min(out * cutoff / in, 1) */
    int taps;             /* filter length L (even, or 1) */
    int phases;           /* phase count P */
    int src_incr, dst_incr, dst_incr_div, dst_incr_mod;
    int32_t *coef_i;      /* S16: [(P + 1) * taps] */
    double *coef_d;       /* FLT (float-rounded values) / DBL: [(P + 1) * taps] */
} resample_filter;

/* Rates 1..WAV_MAX_RATE (out_rate too); in_rate != out_rate. */
anim_status resample_filter_init(resample_filter *f, int in_rate, int out_rate, resample_fmt fmt, anim_error *err);
void resample_filter_free(resample_filter *f);   /* NULL is a no-op */

/* One channel through the filter (fmt RESAMPLE_S16), as a whole stream;
 * *y is malloc'd (NULL when *ny == 0, which happens for inputs that are too
 * short to give any output). */
anim_status resample_run_s16(const resample_filter *f, const int16_t *x, size_t n, int16_t **y, size_t *ny,
                             anim_error *err);
/* The same for RESAMPLE_FLT (values rounded to float after each output) and
 * RESAMPLE_DBL. */
anim_status resample_run_f64(const resample_filter *f, const double *x, size_t n, double **y, size_t *ny,
                             anim_error *err);

/* What `ffmpeg -i <wav> -f s16le -ac 1 -acodec pcm_s16le -ar out_rate -`
 * writes for the decoded file a. *out is malloc'd. Fails with
 * ANIM_E_INVALID_ARG when the input is too short to give any sample. */
anim_status resample_ffmpeg_mono_s16(const wav_audio *a, int out_rate, int16_t **out, size_t *n_out,
                                     anim_error *err);

/* whisper's load_audio(): the above at 16 kHz as float32 int16 / 32768. */
anim_status resample_load_audio_16k(const wav_audio *a, float **out, size_t *n_out, anim_error *err);

/* The mono row of swresample's default downmix matrix for `layout` (one bit
 * per input channel in channel order) with s16 output; coef[] gets one value
 * per channel. Returns false for layouts swresample refuses (no front
 * speaker, lone left or right); then coef[] holds the plain average. */
bool resample_mono_matrix(uint64_t layout, int channels, double *coef);

#endif
