/*
 * fuzz_wav.c - libFuzzer harness for the talking-head audio path: the WAV
 * reader (lib/audio/wav.c, through wav_read_mem, the in-memory twin of
 * wav_read_file), then what lib/pipe/talk.c does with the decoded audio:
 * resample_load_audio_16k (lib/audio/resample.c: downmix + ffmpeg-exact
 * resampling to 16 kHz) and whisper_log_mel (lib/audio/mel.c).
 *
 * Built and run by `make fuzz` / `make fuzz-build` (see tests/fuzz/README.md):
 *   ./build-fuzz/fuzz_wav -max_len=65536 build-fuzz/corpus/wav tests/fuzz/corpus_wav
 *
 * Work cap: resampling and the log-mel only run for inputs of at most
 * FUZZ_WAV_MAX_SECONDS of audio (every rate and channel count still
 * reaches them with short files); longer ones stop after the parse checks.
 * Without the cap a 1000 Hz file of 64 KB would be a minute of 16 kHz audio
 * per exec and the fuzzer would crawl. Filter construction for odd rate
 * pairs (1024 phases, up to ~1600 taps at 768 kHz) is part of what is
 * fuzzed, so it is not capped.
 *
 * Seeds (tests/fuzz/corpus_wav, from tools/make_fuzz_seeds.py): 8/16/24/32
 * -bit PCM, float32/64, mono/stereo/6-channel, WAVE_FORMAT_EXTENSIBLE with
 * masks, RF64 with ds64, fmt after data, odd-sized chunks, streaming sizes
 * (0 and 0xFFFFFFFF), and malformed ones (truncated header, short fmt, no
 * data, A-law, RIFX, bad GUID, a partial sample frame).
 *
 * Checks: on failure the wav_audio is empty and the message names the input;
 * on success channels, rate and codec within wav.h's limits, a channel mask
 * with one bit per channel (or 0), every sample readable; the 16 kHz mono
 * output is int16 / 32768 (in [-1, 1)), no longer than the input's duration
 * allows, identical to the input for mono s16 at 16 kHz; the log-mel has
 * n / 160 frames of finite values spanning at most 2 (whisper clamps the
 * log at max - 8, then divides by 4).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "audio/mel.h"
#include "audio/resample.h"
#include "audio/wav.h"
#include "fuzz_common.h"

#define NAME "fuzz.wav"
#define FUZZ_WAV_MAX_SECONDS 3

static void check_mel(const float *x, size_t n) {
    float *mel = NULL;
    int nf = -1;
    anim_error err = {0};
    anim_status st = whisper_log_mel(x, n, &mel, &nf, &err);
    FUZZ_CHECK(st == ANIM_OK);   /* n > 200 and x in [-1, 1): nothing to refuse */
    FUZZ_CHECK(nf == (int)(n / WHISPER_HOP) && mel != NULL);
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < (size_t)nf * WHISPER_N_MELS; i++) {
        FUZZ_CHECK(isfinite(mel[i]));
        if (mel[i] < lo) lo = mel[i];
        if (mel[i] > hi) hi = mel[i];
    }
    FUZZ_CHECK(hi - lo <= 2.0f + 1e-5f);
    free(mel);
}

static void check_audio(const wav_audio *a) {
    FUZZ_CHECK(a->channels >= 1 && a->channels <= WAV_MAX_CHANNELS);
    FUZZ_CHECK(a->sample_rate >= WAV_MIN_RATE && a->sample_rate <= WAV_MAX_RATE);
    FUZZ_CHECK(a->codec >= WAV_PCM_U8 && a->codec <= WAV_FLOAT64);
    FUZZ_CHECK(a->format_tag == 1 || a->format_tag == 3);
    FUZZ_CHECK((a->format_tag == 3) == (a->codec == WAV_FLOAT32 || a->codec == WAV_FLOAT64));
    FUZZ_CHECK(a->channel_mask == 0 || __builtin_popcountll(a->channel_mask) == a->channels);
    FUZZ_CHECK(a->frames >= 1 && a->samples != NULL);
    volatile float sink = a->samples[0] + a->samples[(size_t)a->channels * a->frames - 1];
    (void)sink;

    if (a->frames > (size_t)a->sample_rate * FUZZ_WAV_MAX_SECONDS) return;
    float *x = NULL;
    size_t n = 0;
    anim_error err = {0};
    anim_status st = resample_load_audio_16k(a, &x, &n, &err);
    if (st != ANIM_OK) {
        /* only "too short to give any sample" may fail */
        FUZZ_CHECK(st == ANIM_E_INVALID_ARG && x == NULL);
        return;
    }
    FUZZ_CHECK(n >= 1 && x != NULL);
    /* swresample's output length: N * 16000 / rate plus the end flush
     * (at most half a filter of mirrored samples, i.e. a few outputs) */
    FUZZ_CHECK(n <= (uint64_t)a->frames * RESAMPLE_WHISPER_RATE / (uint64_t)a->sample_rate + 64);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(x[i] >= -1.0f && x[i] < 1.0f);
        FUZZ_CHECK(x[i] * 32768.0f == floorf(x[i] * 32768.0f));   /* int16 / 32768 */
    }
    if (a->channels == 1 && a->codec == WAV_PCM_S16 && a->sample_rate == RESAMPLE_WHISPER_RATE) {
        FUZZ_CHECK(n == a->frames);
        for (size_t i = 0; i < n; i++) FUZZ_CHECK(x[i] == a->samples[i]);
    }
    if (n > WHISPER_N_FFT / 2) check_mel(x, n);
    free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wav_audio a;
    anim_error err = {0};
    anim_status st = wav_read_mem(data, size, NAME, &a, &err);
    if (st != ANIM_OK) {
        FUZZ_CHECK(a.samples == NULL && a.frames == 0 && a.channels == 0);
        fuzz_check_error(st, &err, NAME);
        return 0;
    }
    check_audio(&a);
    wav_free(&a);
    FUZZ_CHECK(a.samples == NULL && a.frames == 0);
    return 0;
}
