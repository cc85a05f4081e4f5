/*
 * wav.h - RIFF/WAVE reader for the talking-head audio input.
 *
 * Reads what EchoMimic's `load_audio` hands to ffmpeg when the input is a
 * WAV file (`ffmpeg -i f -f s16le -ac 1 -ar 16000`), decoded the way
 * ffmpeg's wav demuxer and PCM decoders do:
 *   - containers: "RIFF", "RF64" and "BW64" (64-bit sizes from the "ds64"
 *     chunk); form type "WAVE". Big-endian "RIFX" is refused.
 *   - codecs: WAVE_FORMAT_PCM (1) with 8-bit unsigned, 16/24/32-bit signed
 *     little-endian samples; WAVE_FORMAT_IEEE_FLOAT (3) with 32/64-bit
 *     samples; WAVE_FORMAT_EXTENSIBLE (0xFFFE) whose SubFormat GUID is the
 *     KSDATAFORMAT one of either. The sample container width decides the
 *     decoder (as ffmpeg: wBitsPerSample rounded up to a multiple of 8;
 *     wValidBitsPerSample is ignored). Any other tag (A-law, mu-law, ADPCM,
 *     MP3-in-WAV, ...) is ANIM_E_UNSUPPORTED naming the tag.
 *   - chunks are walked in order, unknown ones (LIST, fact, cue, bext, JUNK,
 *     ...) skipped, odd sizes padded to even (ffmpeg's default). "fmt " may
 *     come after "data". The first "data" chunk is the audio.
 *   - a "data" size of 0 or 0xFFFFFFFF (streaming writers), or one larger
 *     than the file, means "up to the end of the file", as ffmpeg reads it;
 *     a trailing partial sample frame is dropped (ffmpeg's PCM decoder).
 *     No whole sample frame at all is ANIM_E_FORMAT "no audio samples".
 *   - limits (ANIM_E_UNSUPPORTED beyond them): 1..WAV_MAX_CHANNELS channels
 *     (swresample's SWR_CH_MAX), WAV_MIN_RATE..WAV_MAX_RATE Hz.
 *
 * Samples are returned as float32, planar (one run per channel), scaled the
 * way swresample converts each format to float: u8 (v-128)/128, s16 v/2^15,
 * s24 v/2^23, s32 (float)v/2^31 (ffmpeg decodes 24-bit PCM to s32 first),
 * float32 as is, float64 rounded to float32 (the one lossy case: swresample
 * would keep doubles; see resample.h).
 */
#ifndef ANIM_AUDIO_WAV_H
#define ANIM_AUDIO_WAV_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define WAV_MAX_CHANNELS 64
#define WAV_MIN_RATE 1000
#define WAV_MAX_RATE 768000

/* The decoder ffmpeg would pick; it also decides swresample's internal
 * sample format (resample.h). */
typedef enum wav_codec {
    WAV_PCM_U8 = 0,
    WAV_PCM_S16,
    WAV_PCM_S24,
    WAV_PCM_S32,
    WAV_FLOAT32,
    WAV_FLOAT64
} wav_codec;

/* Speaker bits of dwChannelMask (== ffmpeg's AV_CH_* for these 18). */
enum {
    WAV_CH_FL = 1u << 0, WAV_CH_FR = 1u << 1, WAV_CH_FC = 1u << 2, WAV_CH_LFE = 1u << 3,
    WAV_CH_BL = 1u << 4, WAV_CH_BR = 1u << 5, WAV_CH_FLC = 1u << 6, WAV_CH_FRC = 1u << 7,
    WAV_CH_BC = 1u << 8, WAV_CH_SL = 1u << 9, WAV_CH_SR = 1u << 10, WAV_CH_TC = 1u << 11,
    WAV_CH_TFL = 1u << 12, WAV_CH_TFC = 1u << 13, WAV_CH_TFR = 1u << 14, WAV_CH_TBL = 1u << 15,
    WAV_CH_TBC = 1u << 16, WAV_CH_TBR = 1u << 17
};

typedef struct wav_audio {
    int sample_rate;        /* Hz */
    int channels;
    wav_codec codec;
    int format_tag;         /* 1 or 3 (the SubFormat's for EXTENSIBLE) */
    uint64_t channel_mask;  /* speaker positions, one bit per channel in
                             * file order; 0 when unknown (plain PCM with 3+
                             * channels, or a mask that does not fit the count) */
    size_t frames;          /* samples per channel */
    float *samples;         /* samples[c * frames + i] */
} wav_audio;

/* Read and decode a whole WAV file. On failure *out is zeroed and err names
 * the file and the fault. */
anim_status wav_read_file(const char *path, wav_audio *out, anim_error *err);

/* The same from memory; `name` is used in messages. */
anim_status wav_read_mem(const void *buf, size_t len, const char *name, wav_audio *out, anim_error *err);

void wav_free(wav_audio *a);   /* frees a->samples and zeroes *a; NULL is a no-op */

const char *wav_codec_name(wav_codec c);   /* "pcm_s16le", ...: ffmpeg's decoder names */

/* The layout swresample assumes for the stream: the mask when it is known,
 * else ffmpeg's guess for the channel count (av_channel_layout_default:
 * 1 mono, 2 stereo, 3 "2.1", 4 "4.0", 5 "5.0", 6 "5.1", 7 "6.1", 8 "7.1");
 * 0 when there is no guess (9+ channels). */
uint64_t wav_effective_layout(const wav_audio *a);

#endif
