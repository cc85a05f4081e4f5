/*
 * test_audio.c - the talking-head audio front end (lib/audio): WAV reading,
 * ffmpeg's resampling/downmix to 16 kHz mono s16, whisper's log-Mel.
 *
 * References:
 *   - tests/fixtures/echomimic-tiny: speech.wav (22050 Hz s16), the 16 kHz
 *     signal upstream's load_audio got from ffmpeg 5.1 for it
 *     (inputs/speech_16k.safetensors) and the log-Mel upstream computed from
 *     that (audio_features.safetensors:log_mel, torch 1.13 float32);
 *   - tests/fixtures/audio (tools/make_audio_refs.py): ffmpeg 5.1's output for
 *     synthetic WAVs of every codec, odd rates and channel layouts (the WAVs
 *     are rebuilt here by the same integer generator), and whisper's
 *     mel_filters.npz "mel_80" as raw float32.
 * Measured (ffmpeg 5.1 / torch 1.13 references, this implementation):
 *   - s16 and u8 input, any rate and layout: bit exact (speech.wav: all
 *     34580 samples); s24/s32/float input: at most 1 s16 step on well under
 *     1 % of the samples (swresample sums floats with SIMD);
 *   - mel filterbank: bit exact; log-Mel from speech_16k: max |diff|
 *     2.8e-5, mean 2.5e-7 (values span -0.75..1.25).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/mel.h"
#include "audio/resample.h"
#include "audio/wav.h"
#include "test.h"

#define EFIX "tests/fixtures/echomimic-tiny/"
#define AFIX "tests/fixtures/audio/"

/* ---- a byte buffer to build WAV files ------------------------------------------ */

typedef struct bb {
    uint8_t *p;
    size_t n, cap;
} bb;

static void bb_raw(bb *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) abort();
        b->p = np;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void bb_u8(bb *b, unsigned v) { uint8_t c = (uint8_t)v; bb_raw(b, &c, 1); }
static void bb_u16(bb *b, unsigned v) { bb_u8(b, v & 255); bb_u8(b, (v >> 8) & 255); }
static void bb_u32(bb *b, uint32_t v) { bb_u16(b, v & 0xFFFF); bb_u16(b, v >> 16); }
static void bb_u64(bb *b, uint64_t v) { bb_u32(b, (uint32_t)v); bb_u32(b, (uint32_t)(v >> 32)); }
static void bb_id(bb *b, const char *id) { bb_raw(b, id, 4); }
static void bb_set32(bb *b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++) b->p[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}
/* a chunk with a body; odd sizes get the RIFF pad byte */
static void bb_chunk(bb *b, const char *id, const void *body, size_t n) {
    bb_id(b, id);
    bb_u32(b, (uint32_t)n);
    bb_raw(b, body, n);
    if (n & 1) bb_u8(b, 0);
}

/* The 16-byte PCM 'fmt ' body (or 40-byte EXTENSIBLE when ext). */
static void fmt_body(bb *f, unsigned tag, int ch, uint32_t rate, unsigned bits, bool ext, uint32_t mask) {
    unsigned ba = (unsigned)ch * ((bits + 7) / 8);
    bb_u16(f, ext ? 0xFFFE : tag);
    bb_u16(f, (unsigned)ch);
    bb_u32(f, rate);
    bb_u32(f, rate * ba);
    bb_u16(f, ba);
    bb_u16(f, bits);
    if (ext) {
        static const uint8_t tail[14] = {0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71};
        bb_u16(f, 22);
        bb_u16(f, bits);
        bb_u32(f, mask);
        bb_u16(f, tag);
        bb_raw(f, tail, sizeof tail);
    }
}

/* A plain "RIFF" WAV: fmt then data. */
static bb make_wav(unsigned tag, int ch, uint32_t rate, unsigned bits, bool ext, uint32_t mask, const void *data,
                   size_t n) {
    bb f = {0}, w = {0};
    fmt_body(&f, tag, ch, rate, bits, ext, mask);
    bb_id(&w, "RIFF");
    bb_u32(&w, 0);
    bb_id(&w, "WAVE");
    bb_chunk(&w, "fmt ", f.p, f.n);
    bb_chunk(&w, "data", data, n);
    bb_set32(&w, 4, (uint32_t)(w.n - 8));
    free(f.p);
    return w;
}

/* ---- the synthetic signals of tools/make_audio_refs.py --------------------------- */

typedef struct audio_case {
    const char *name;
    wav_codec codec;
    int rate, channels;
    uint32_t mask;
    int frames;
    bool exact;   /* bit exact expected (int16 path) */
} audio_case;

static const audio_case cases[] = {
    {"s16_stereo_44100", WAV_PCM_S16, 44100, 2, 0, 3000, true},
    {"u8_mono_8000", WAV_PCM_U8, 8000, 1, 0, 1200, true},
    {"s16_mono_48000", WAV_PCM_S16, 48000, 1, 0, 2400, true},
    {"s16_mono_44056", WAV_PCM_S16, 44056, 1, 0, 2000, true},
    {"s16_6ch_22050", WAV_PCM_S16, 22050, 6, 0, 1000, true},
    {"s16_ext60f_22050", WAV_PCM_S16, 22050, 6, 0x60F, 1000, true},
    {"s16_ext7_32000", WAV_PCM_S16, 32000, 3, 0x7, 1000, true},
    {"s16_stereo_16000", WAV_PCM_S16, 16000, 2, 0, 1000, true},
    {"s16_mono_22050_short40", WAV_PCM_S16, 22050, 1, 0, 40, true},
    {"s24_stereo_44100", WAV_PCM_S24, 44100, 2, 0, 1500, false},
    {"s32_mono_22050", WAV_PCM_S32, 22050, 1, 0, 1500, false},
    {"s32_mono_16000", WAV_PCM_S32, 16000, 1, 0, 1000, false},
    {"f32_mono_11025", WAV_FLOAT32, 11025, 1, 0, 1500, false},
    {"f64_stereo_48000", WAV_FLOAT64, 48000, 2, 0, 2400, false},
};

static uint32_t lcg(uint32_t s) { return s * 1664525u + 1013904223u; }

/* The WAV of case k (seed k + 1), byte for byte as make_audio_refs.py writes it. */
static bb case_wav(const audio_case *c, uint32_t seed) {
    static const unsigned bits_of[] = {8, 16, 24, 32, 32, 64};
    const unsigned bits = bits_of[c->codec], bps = bits / 8;
    uint8_t *data = calloc((size_t)c->frames * (size_t)c->channels, bps);
    if (!data) abort();
    for (int ch = 0; ch < c->channels; ch++) {
        uint32_t s = seed * 1000003u + (uint32_t)ch * 7919u + 1u;
        for (int i = 0; i < c->frames; i++) {
            s = lcg(s);
            int32_t v = (int32_t)(s >> 18) - 8192 + (int32_t)(((uint32_t)i * (uint32_t)(ch + 3) * 37u) % 4000u) * 10 -
                        20000;
            if (i % 211 == 5) v = 32767;
            if (i % 307 == 11) v = -32768;
            uint8_t *p = data + ((size_t)i * (size_t)c->channels + (size_t)ch) * bps;
            uint64_t u = 0;
            switch (c->codec) {
            case WAV_PCM_U8: u = (uint64_t)((v + 32768) >> 8); break;
            case WAV_PCM_S16: u = (uint16_t)v; break;
            case WAV_PCM_S24: s = lcg(s); u = (uint32_t)(v * 256 + (int32_t)(s >> 24)) & 0xFFFFFF; break;
            case WAV_PCM_S32: s = lcg(s); u = (uint32_t)((int64_t)v * 65536 + (int64_t)(s >> 16)); break;
            case WAV_FLOAT32: {
                float f = (float)((double)(v * 5) / 131072.0);
                uint32_t fu;
                memcpy(&fu, &f, 4);
                u = fu;
                break;
            }
            case WAV_FLOAT64: {
                s = lcg(s);
                double d = v / 32768.0 + (double)(s >> 8) / 1099511627776.0;
                memcpy(&u, &d, 8);
                break;
            }
            }
            for (unsigned b = 0; b < bps; b++) p[b] = (uint8_t)(u >> (8 * b));
        }
    }
    bool flt = c->codec == WAV_FLOAT32 || c->codec == WAV_FLOAT64;
    bb w = make_wav(flt ? 3 : 1, c->channels, (uint32_t)c->rate, bits, c->mask != 0, c->mask, data,
                    (size_t)c->frames * (size_t)c->channels * bps);
    free(data);
    return w;
}

/* int16 little-endian file -> malloc'd samples */
static int16_t *read_s16(const char *path, size_t *n) {
    size_t len;
    uint8_t *b = test_read_file(path, &len);
    if (!b) return NULL;
    *n = len / 2;
    int16_t *s = malloc(sizeof(int16_t) * (*n ? *n : 1));
    for (size_t i = 0; i < *n; i++) s[i] = (int16_t)(uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
    free(b);
    return s;
}

/* ---- WAV reading ------------------------------------------------------------------ */

TEST(audio_wav_fixture) {
    anim_error err = {0};
    wav_audio a;
    CHECK_OK(wav_read_file(EFIX "inputs/speech.wav", &a, &err), &err);
    CHECK(a.sample_rate == 22050 && a.channels == 1 && a.codec == WAV_PCM_S16 && a.format_tag == 1);
    CHECK_MSG(a.frames == 47655, "frames %zu, want 47655 (params.json)", a.frames);
    size_t len;
    uint8_t *raw = test_read_file(EFIX "inputs/speech.wav", &len);
    CHECK(raw && len == 44 + 2 * a.frames);
    for (size_t i = 0; i < a.frames; i++) {
        float want = (float)(int16_t)(uint16_t)(raw[44 + 2 * i] | raw[45 + 2 * i] << 8) / 32768.0f;
        CHECK_MSG(a.samples[i] == want, "sample %zu: %g, want %g", i, a.samples[i], want);
    }
    free(raw);
    CHECK(wav_effective_layout(&a) == WAV_CH_FC);
    wav_free(&a);
    CHECK(a.samples == NULL);
    wav_free(NULL);
}

/* every codec decodes to swresample's float scaling */
TEST(audio_wav_codecs) {
    anim_error err = {0};
    wav_audio a;
    {   /* u8: 0, 128, 255 */
        const uint8_t d[] = {0, 128, 255};
        bb w = make_wav(1, 1, 8000, 8, false, 0, d, sizeof d);
        CHECK_OK(wav_read_mem(w.p, w.n, "u8.wav", &a, &err), &err);
        CHECK(a.codec == WAV_PCM_U8 && a.frames == 3);
        CHECK(a.samples[0] == -1.0f && a.samples[1] == 0.0f && a.samples[2] == 127.0f / 128);
        wav_free(&a);
        free(w.p);
    }
    {   /* s24: -2^23, 1, 2^23-1 */
        const uint8_t d[] = {0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x7F};
        bb w = make_wav(1, 1, 48000, 24, false, 0, d, sizeof d);
        CHECK_OK(wav_read_mem(w.p, w.n, "s24.wav", &a, &err), &err);
        CHECK(a.codec == WAV_PCM_S24 && a.frames == 3);
        CHECK(a.samples[0] == -1.0f && a.samples[1] == 1.0f / 8388608 && a.samples[2] == 8388607.0f / 8388608);
        wav_free(&a);
        free(w.p);
    }
    {   /* s32: INT32_MIN, 65536 */
        const uint8_t d[] = {0, 0, 0, 0x80, 0, 0, 1, 0};
        bb w = make_wav(1, 1, 44100, 32, false, 0, d, sizeof d);
        CHECK_OK(wav_read_mem(w.p, w.n, "s32.wav", &a, &err), &err);
        CHECK(a.codec == WAV_PCM_S32 && a.frames == 2);
        CHECK(a.samples[0] == -1.0f && a.samples[1] == 1.0f / 32768);
        wav_free(&a);
        free(w.p);
    }
    {   /* float32 and float64, stereo: planar output */
        float f[4] = {0.25f, -0.5f, 1.5f, -2.0f};
        double g[4] = {0.125, -0.75, 1e-3, 3.0};
        bb w = make_wav(3, 2, 32000, 32, false, 0, f, sizeof f);
        CHECK_OK(wav_read_mem(w.p, w.n, "f32.wav", &a, &err), &err);
        CHECK(a.codec == WAV_FLOAT32 && a.channels == 2 && a.frames == 2);
        CHECK(a.samples[0] == 0.25f && a.samples[1] == 1.5f && a.samples[2] == -0.5f && a.samples[3] == -2.0f);
        wav_free(&a);
        free(w.p);
        w = make_wav(3, 2, 32000, 64, false, 0, g, sizeof g);
        CHECK_OK(wav_read_mem(w.p, w.n, "f64.wav", &a, &err), &err);
        CHECK(a.codec == WAV_FLOAT64 && a.frames == 2);
        CHECK(a.samples[0] == 0.125f && a.samples[1] == 1e-3f && a.samples[2] == -0.75f && a.samples[3] == 3.0f);
        wav_free(&a);
        free(w.p);
    }
    {   /* 12-bit PCM in 16-bit containers decodes as s16 (ffmpeg rounds the width up) */
        const int16_t d[] = {-32768, 16};
        bb w = make_wav(1, 1, 16000, 12, false, 0, d, sizeof d);
        CHECK_OK(wav_read_mem(w.p, w.n, "s12.wav", &a, &err), &err);
        CHECK(a.codec == WAV_PCM_S16 && a.frames == 2 && a.samples[0] == -1.0f && a.samples[1] == 16.0f / 32768);
        wav_free(&a);
        free(w.p);
    }
    {   /* EXTENSIBLE float, 5.1 mask kept; a mask that does not fit the count is dropped */
        float f[6] = {0};
        bb w = make_wav(3, 6, 48000, 32, true, 0x60F, f, sizeof f);
        CHECK_OK(wav_read_mem(w.p, w.n, "ext.wav", &a, &err), &err);
        CHECK(a.codec == WAV_FLOAT32 && a.format_tag == 3 && a.channels == 6 && a.channel_mask == 0x60F);
        CHECK(wav_effective_layout(&a) == 0x60F);
        wav_free(&a);
        free(w.p);
        w = make_wav(3, 6, 48000, 32, true, 0x3, f, sizeof f);
        CHECK_OK(wav_read_mem(w.p, w.n, "ext2.wav", &a, &err), &err);
        CHECK(a.channel_mask == 0 && wav_effective_layout(&a) == 0x3F);   /* guessed 5.1 */
        wav_free(&a);
        free(w.p);
    }
}

/* chunk walking: unknown chunks, odd sizes, fmt after data, sizes to EOF, RF64 */
TEST(audio_wav_chunks) {
    anim_error err = {0};
    wav_audio a;
    const int16_t pcm[5] = {100, -200, 300, -400, 500};
    bb f = {0};
    fmt_body(&f, 1, 1, 44100, 16, false, 0);
    {   /* odd-sized LIST and JUNK before fmt, fact between, data, trailing LIST */
        bb w = {0};
        bb_id(&w, "RIFF");
        bb_u32(&w, 0);
        bb_id(&w, "WAVE");
        bb_chunk(&w, "LIST", "INFOISFT\3\0\0\0ab", 15);
        bb_chunk(&w, "JUNK", "\0\0\0", 3);
        bb_chunk(&w, "fmt ", f.p, f.n);
        bb_chunk(&w, "fact", "\5\0\0\0", 4);
        bb_chunk(&w, "data", pcm, sizeof pcm);
        bb_chunk(&w, "LIST", "INFO", 4);
        bb_set32(&w, 4, (uint32_t)(w.n - 8));
        CHECK_OK(wav_read_mem(w.p, w.n, "chunks.wav", &a, &err), &err);
        CHECK(a.frames == 5 && a.samples[4] == 500.0f / 32768 && a.sample_rate == 44100);
        wav_free(&a);
        free(w.p);
    }
    {   /* fmt after data */
        bb w = {0};
        bb_id(&w, "RIFF");
        bb_u32(&w, 0);
        bb_id(&w, "WAVE");
        bb_chunk(&w, "data", pcm, sizeof pcm);
        bb_chunk(&w, "fmt ", f.p, f.n);
        CHECK_OK(wav_read_mem(w.p, w.n, "late-fmt.wav", &a, &err), &err);
        CHECK(a.frames == 5 && a.samples[0] == 100.0f / 32768);
        wav_free(&a);
        free(w.p);
    }
    {   /* data sizes 0 and 0xFFFFFFFF (streaming writers) and too large: read to the end */
        const uint32_t sizes[3] = {0, 0xFFFFFFFFu, 1000000};
        for (int k = 0; k < 3; k++) {
            bb w = {0};
            bb_id(&w, "RIFF");
            bb_u32(&w, 0xFFFFFFFFu);
            bb_id(&w, "WAVE");
            bb_chunk(&w, "fmt ", f.p, f.n);
            bb_id(&w, "data");
            bb_u32(&w, sizes[k]);
            bb_raw(&w, pcm, sizeof pcm - 1);   /* and a partial last sample: dropped */
            CHECK_OK(wav_read_mem(w.p, w.n, "open-ended.wav", &a, &err), &err);
            CHECK_MSG(a.frames == 4 && a.samples[3] == -400.0f / 32768, "size %u: %zu frames", sizes[k], a.frames);
            wav_free(&a);
            free(w.p);
        }
    }
    {   /* RF64: sizes in ds64 */
        bb w = {0};
        bb_id(&w, "RF64");
        bb_u32(&w, 0xFFFFFFFFu);
        bb_id(&w, "WAVE");
        bb_id(&w, "ds64");
        bb_u32(&w, 28);
        bb_u64(&w, 0);                /* riff size */
        bb_u64(&w, 6);                /* data size: 3 samples */
        bb_u64(&w, 3);                /* sample count */
        bb_u32(&w, 0);                /* table length */
        bb_chunk(&w, "fmt ", f.p, f.n);
        bb_id(&w, "data");
        bb_u32(&w, 0xFFFFFFFFu);
        bb_raw(&w, pcm, sizeof pcm);
        CHECK_OK(wav_read_mem(w.p, w.n, "rf64.wav", &a, &err), &err);
        CHECK_MSG(a.frames == 3, "RF64: %zu frames, want 3 (ds64 size)", a.frames);
        wav_free(&a);
        free(w.p);
    }
    free(f.p);
}

/* every refusal: status and a message naming the fault (and the file) */
TEST(audio_wav_errors) {
    anim_error err = {0};
    wav_audio a;
    const int16_t pcm[4] = {1, 2, 3, 4};
    struct {
        const char *what;
        unsigned tag;
        int ch;
        uint32_t rate;
        unsigned bits;
        anim_status want;
        const char *msg;
    } bad[] = {
        {"mp3", 0x55, 1, 16000, 16, ANIM_E_UNSUPPORTED, "0x0055 (MPEG Layer 3 (MP3))"},
        {"alaw", 6, 1, 16000, 8, ANIM_E_UNSUPPORTED, "0x0006 (A-law)"},
        {"mulaw", 7, 1, 16000, 8, ANIM_E_UNSUPPORTED, "0x0007 (mu-law)"},
        {"adpcm", 0x11, 1, 16000, 4, ANIM_E_UNSUPPORTED, "IMA ADPCM"},
        {"0ch", 1, 0, 16000, 16, ANIM_E_FORMAT, "0 channels"},
        {"65ch", 1, 65, 16000, 16, ANIM_E_UNSUPPORTED, "65 channels (supported: 1..64)"},
        {"rate0", 1, 1, 0, 16, ANIM_E_FORMAT, "sample rate 0 Hz"},
        {"rate500", 1, 1, 500, 16, ANIM_E_UNSUPPORTED, "sample rate 500 Hz"},
        {"rate1G", 1, 1, 1000000000u, 16, ANIM_E_UNSUPPORTED, "sample rate 1000000000 Hz"},
        {"pcm40", 1, 1, 16000, 40, ANIM_E_UNSUPPORTED, "PCM with 40 bits"},
        {"float16", 3, 1, 16000, 16, ANIM_E_UNSUPPORTED, "IEEE float with 16 bits"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        bb w = make_wav(bad[k].tag, bad[k].ch, bad[k].rate, bad[k].bits, false, 0, pcm, sizeof pcm);
        anim_status st = wav_read_mem(w.p, w.n, bad[k].what, &a, &err);
        free(w.p);
        CHECK_MSG(st == bad[k].want, "%s: status %d, want %d (%s)", bad[k].what, st, bad[k].want, err.msg);
        CHECK_CONTAINS(err.msg, bad[k].msg);
        CHECK_CONTAINS(err.msg, bad[k].what);
        CHECK(a.samples == NULL);
    }
    bb w = make_wav(1, 1, 16000, 16, false, 0, pcm, sizeof pcm);
    /* not RIFF, not WAVE, big-endian, truncated header, truncated fmt */
    memcpy(w.p, "RIFZ", 4);
    CHECK_STATUS(wav_read_mem(w.p, w.n, "x.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "x.wav: not a WAV file (starts with \"RIFZ\"");
    memcpy(w.p, "RIFX", 4);
    CHECK_STATUS(wav_read_mem(w.p, w.n, "x.wav", &a, &err), ANIM_E_UNSUPPORTED, &err);
    CHECK_CONTAINS(err.msg, "RIFX");
    memcpy(w.p, "RIFF", 4);
    memcpy(w.p + 8, "AVI ", 4);
    CHECK_STATUS(wav_read_mem(w.p, w.n, "x.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "\"AVI \", not \"WAVE\"");
    memcpy(w.p + 8, "WAVE", 4);
    CHECK_STATUS(wav_read_mem(w.p, 11, "x.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "truncated RIFF header (11 bytes");
    CHECK_STATUS(wav_read_mem(w.p, 30, "x.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "truncated 'fmt ' chunk");
    CHECK_STATUS(wav_read_mem(w.p, 18, "x.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "truncated chunk header at offset 12");
    /* no data chunk; data chunk with no whole sample */
    CHECK_STATUS(wav_read_mem(w.p, 36, "x.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "no 'data' chunk");
    bb_set32(&w, 40, 0);
    CHECK_STATUS(wav_read_mem(w.p, 44, "empty.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "empty.wav: no audio samples");
    CHECK_STATUS(wav_read_mem(w.p, 45, "x.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "no audio samples ('data' chunk holds 1 bytes");
    free(w.p);
    /* fmt too short; EXTENSIBLE too short or with a foreign GUID */
    bb f = {0};
    fmt_body(&f, 1, 1, 16000, 16, true, 0x4);
    w = (bb){0};
    bb_id(&w, "RIFF");
    bb_u32(&w, 0);
    bb_id(&w, "WAVE");
    bb_chunk(&w, "fmt ", f.p, 14);
    bb_chunk(&w, "data", pcm, sizeof pcm);
    CHECK_STATUS(wav_read_mem(w.p, w.n, "x.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "'fmt ' chunk too short (14 bytes");
    free(w.p);
    w = (bb){0};
    bb_id(&w, "RIFF");
    bb_u32(&w, 0);
    bb_id(&w, "WAVE");
    bb_chunk(&w, "fmt ", f.p, 18);
    CHECK_STATUS(wav_read_mem(w.p, w.n, "x.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "EXTENSIBLE 'fmt ' chunk too short");
    free(w.p);
    f.p[24 + 4] = 0x11;   /* GUID Data2 */
    w = (bb){0};
    bb_id(&w, "RIFF");
    bb_u32(&w, 0);
    bb_id(&w, "WAVE");
    bb_chunk(&w, "fmt ", f.p, f.n);
    bb_chunk(&w, "data", pcm, sizeof pcm);
    CHECK_STATUS(wav_read_mem(w.p, w.n, "x.wav", &a, &err), ANIM_E_UNSUPPORTED, &err);
    CHECK_CONTAINS(err.msg, "SubFormat GUID {00000001-0011-0010-8000-00aa00389b71}");
    free(w.p);
    free(f.p);
    /* RF64 without ds64 */
    f = (bb){0};
    fmt_body(&f, 1, 1, 16000, 16, false, 0);
    w = (bb){0};
    bb_id(&w, "RF64");
    bb_u32(&w, 0xFFFFFFFFu);
    bb_id(&w, "WAVE");
    bb_chunk(&w, "fmt ", f.p, f.n);
    bb_id(&w, "data");
    bb_u32(&w, 0xFFFFFFFFu);
    bb_raw(&w, pcm, sizeof pcm);
    CHECK_STATUS(wav_read_mem(w.p, w.n, "x.wav", &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "without a preceding 'ds64'");
    free(w.p);
    free(f.p);
}

TEST(audio_wav_file_errors) {
    anim_error err = {0};
    wav_audio a;
    CHECK_STATUS(wav_read_file("tests/fixtures/no-such.wav", &a, &err), ANIM_E_IO, &err);
    CHECK_CONTAINS(err.msg, "tests/fixtures/no-such.wav: cannot open");
    char path[512];
    snprintf(path, sizeof path, "%s/audio_trunc.wav", test_tmp_dir());
    CHECK(test_write_file(path, "RIFF\0\0\0\0WAVEfmt ", 16));
    CHECK_STATUS(wav_read_file(path, &a, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.msg, "truncated chunk header");
}

/* ---- resampling ----------------------------------------------------------------- */

TEST(audio_resample_filter) {
    anim_error err = {0};
    resample_filter f;
    CHECK_OK(resample_filter_init(&f, 22050, 16000, RESAMPLE_S16, &err), &err);
    /* 32 / (16000 * 0.97 / 22050) = 45.5 -> 46 taps; exact rational 320/441 */
    CHECK_MSG(f.taps == 46 && f.phases == 320 && f.dst_incr_div == 441 && f.dst_incr_mod == 0,
              "taps %d phases %d div %d mod %d", f.taps, f.phases, f.dst_incr_div, f.dst_incr_mod);
    const int L = f.taps, P = f.phases;
    int64_t s0 = 0;
    for (int i = 0; i < L; i++) s0 += f.coef_i[i];
    CHECK_MSG(s0 >= 32768 - 8 && s0 <= 32768 + 8, "phase 0 sums to %lld", (long long)s0);
    for (int ph = 1; ph < P; ph++) {   /* phase P - p mirrors phase p */
        for (int i = 0; i < L; i++)
            CHECK(f.coef_i[ph * L + i] == f.coef_i[(P - ph) * L + (L - 1 - i)]);
        int64_t s = 0;
        for (int i = 0; i < L; i++) s += f.coef_i[ph * L + i];
        CHECK_MSG(llabs(s - 32768) <= 64, "phase %d sums to %lld", ph, (long long)s);
    }
    /* row P is row 0 one tap later, with a zero in front (46 is not a multiple of 8) */
    CHECK(f.coef_i[P * L] == 0);
    for (int i = 1; i < L; i++) CHECK(f.coef_i[P * L + i] == f.coef_i[i - 1]);
    /* the centre tap of phase 0 is the largest: factor 0.70385 of 32768 */
    CHECK_MSG(abs(f.coef_i[(L - 1) / 2] - 23064) <= 2, "centre tap %d", f.coef_i[(L - 1) / 2]);
    resample_filter_free(&f);
    resample_filter_free(NULL);

    struct { int in; int taps, phases; bool lin; } r[] = {
        {44100, 92, 160, false}, {48000, 100, 1, false}, {8000, 32, 2, false}, {11025, 32, 640, false},
        {44056, 92, 1024, true}, {96000, 198, 1, false},
    };
    for (size_t k = 0; k < sizeof r / sizeof r[0]; k++) {
        CHECK_OK(resample_filter_init(&f, r[k].in, 16000, RESAMPLE_FLT, &err), &err);
        CHECK_MSG(f.taps == r[k].taps && f.phases == r[k].phases && (f.dst_incr_mod != 0) == r[k].lin,
                  "%d Hz: taps %d phases %d mod %d", r[k].in, f.taps, f.phases, f.dst_incr_mod);
        double s = 0;
        for (int i = 0; i < f.taps; i++) s += f.coef_d[i];
        CHECK_MSG(fabs(s - 1) < 1e-6, "%d Hz: phase 0 sums to %.9f", r[k].in, s);
        resample_filter_free(&f);
    }
    CHECK_STATUS(resample_filter_init(&f, 16000, 16000, RESAMPLE_S16, &err), ANIM_E_INVALID_ARG, &err);
    CHECK_STATUS(resample_filter_init(&f, 0, 16000, RESAMPLE_S16, &err), ANIM_E_INVALID_ARG, &err);
}

/* the fixture: speech.wav through ffmpeg gave inputs/speech_16k: bit for bit */
TEST(audio_resample_fixture) {
    anim_error err = {0};
    size_t nref = 0;
    float *ref = test_read_tensor(EFIX "inputs/speech_16k.safetensors", "audio", &nref);
    CHECK(ref);
    CHECK(nref == 34580);
    wav_audio a;
    CHECK_OK(wav_read_file(EFIX "inputs/speech.wav", &a, &err), &err);
    float *x = NULL;
    size_t n = 0;
    CHECK_OK(resample_load_audio_16k(&a, &x, &n, &err), &err);
    wav_free(&a);
    CHECK_MSG(n == nref, "%zu samples, want %zu (ceil(47655 * 16000 / 22050))", n, nref);
    size_t bad = 0;
    double maxd = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)x[i] - ref[i]);
        if (d > 0) bad++;
        maxd = fmax(maxd, d);
        ss += d * d;
    }
    printf("    speech.wav -> 16 kHz: %zu samples, %zu differ, max |diff| %.3g, rms %.3g\n", n, bad, maxd,
           sqrt(ss / (double)n));
    CHECK(bad == 0);
    free(x);
    free(ref);
}

/* ffmpeg 5.1 on the synthetic WAVs of every codec and layout */
TEST(audio_resample_ffmpeg_refs) {
    anim_error err = {0};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const audio_case *c = &cases[k];
        char path[256];
        snprintf(path, sizeof path, AFIX "ffmpeg_%s.s16", c->name);
        size_t nref;
        int16_t *ref = read_s16(path, &nref);
        CHECK_MSG(ref, "cannot read %s", path);
        bb w = case_wav(c, (uint32_t)k + 1);
        wav_audio a;
        CHECK_OK(wav_read_mem(w.p, w.n, c->name, &a, &err), &err);
        free(w.p);
        CHECK(a.codec == c->codec && a.channels == c->channels && a.frames == (size_t)c->frames);
        int16_t *y = NULL;
        size_t n = 0;
        CHECK_OK(resample_ffmpeg_mono_s16(&a, 16000, &y, &n, &err), &err);
        wav_free(&a);
        CHECK_MSG(n == nref, "%s: %zu samples, ffmpeg %zu", c->name, n, nref);
        size_t bad = 0;
        int maxd = 0;
        for (size_t i = 0; i < n; i++) {
            int d = abs(y[i] - ref[i]);
            if (d) bad++;
            if (d > maxd) maxd = d;
        }
        printf("    %-24s %5zu samples: %zu differ (max %d)\n", c->name, n, bad, maxd);
        if (c->exact) CHECK_MSG(bad == 0, "%s: %zu samples differ from ffmpeg", c->name, bad);
        else CHECK_MSG(maxd <= 1 && bad * 100 <= n, "%s: %zu differ, max %d", c->name, bad, maxd);
        free(y);
        free(ref);
    }
}

/* too short for swresample to start: 30 samples at 22.05 kHz (ffmpeg writes nothing) */
TEST(audio_resample_short) {
    anim_error err = {0};
    float s[30] = {0};
    wav_audio a = {.sample_rate = 22050, .channels = 1, .codec = WAV_PCM_S16, .frames = 30, .samples = s};
    float *x = NULL;
    size_t n = 5;
    CHECK_STATUS(resample_load_audio_16k(&a, &x, &n, &err), ANIM_E_INVALID_ARG, &err);
    CHECK_CONTAINS(err.msg, "audio too short: 30 samples at 22050 Hz");
    CHECK(x == NULL && n == 0);
    a.frames = 0;
    CHECK_STATUS(resample_load_audio_16k(&a, &x, &n, &err), ANIM_E_INVALID_ARG, &err);
    CHECK_CONTAINS(err.msg, "no audio samples");
    /* 16 kHz mono s16 passes through unchanged, whatever its length */
    a.sample_rate = 16000;
    a.frames = 3;
    s[0] = 0.5f;
    s[1] = -1.0f;
    s[2] = 3.0f / 32768;
    CHECK_OK(resample_load_audio_16k(&a, &x, &n, &err), &err);
    CHECK(n == 3 && x[0] == 0.5f && x[1] == -1.0f && x[2] == 3.0f / 32768);
    free(x);
}

/* Output length and a constant input. The length is what swresample's
 * stream logic gives (checked against ffmpeg 5.1 for N = 93, 106, ... 698 at
 * these rates): outputs at k * in/out whose taps fit before the end-of-stream
 * reflection of (min(B, L) + 1) / 2 samples, B = samples buffered when the
 * input ran out. Recomputed here in closed form with exact integer positions
 * (exact-rational rates); it is ceil(N * out / in) or, when the last output
 * falls within the last few samples, one less (287 samples at 44.1 kHz give
 * 104, not 105). A constant stays constant within the quantised phases'
 * gain error (phase sums 32768 +- 64). */
TEST(audio_resample_length_dc) {
    anim_error err = {0};
    const int rates[] = {8000, 11025, 22050, 44100, 48000, 96000};
    int16_t *x = malloc(sizeof(int16_t) * 5000);
    CHECK(x);
    for (int i = 0; i < 5000; i++) x[i] = 10000;
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
        const int64_t in = rates[k], out = 16000;
        resample_filter f;
        CHECK_OK(resample_filter_init(&f, rates[k], 16000, RESAMPLE_S16, &err), &err);
        const int64_t L = f.taps, c = (L - 1) / 2;
        for (int64_t n = L + 1; n < 5000; n += 97) {
            int64_t k1 = 0;
            while ((k1 * in) / out - c + L - 1 <= n - 1) k1++;
            int64_t b = n - ((k1 * in) / out - c), r = ((b < L ? b : L) + 1) / 2, want = 0;
            while ((want * in) / out - c + L - 1 <= n - 1 + r) want++;
            int64_t up = (n * out + in - 1) / in;
            int16_t *y;
            size_t ny;
            CHECK_OK(resample_run_s16(&f, x, (size_t)n, &y, &ny, &err), &err);
            CHECK_MSG((int64_t)ny == want && (want == up || want == up - 1),
                      "%d Hz, %lld samples: %zu out, want %lld (ceil %lld)", rates[k], (long long)n, ny,
                      (long long)want, (long long)up);
            for (size_t i = 0; i < ny; i++) CHECK_MSG(abs(y[i] - 10000) <= 20, "%d Hz: y[%zu] = %d", rates[k], i, y[i]);
            free(y);
        }
        resample_filter_free(&f);
    }
    free(x);
}

/* swresample's default mono row for some layouts */
TEST(audio_downmix_matrix) {
    double c[WAV_MAX_CHANNELS];
    CHECK(resample_mono_matrix(WAV_CH_FL | WAV_CH_FR, 2, c));
    CHECK(c[0] == 0.5 && c[1] == 0.5);
    /* 5.1: FL FR FC LFE BL BR = (r, r, 1, 0, s, s) / (2 r + 1 + 2 s), r = 1/sqrt2, s = 1/2 */
    CHECK(resample_mono_matrix(0x3F, 6, c));
    double r = M_SQRT1_2, s = 0.5, sum = 2 * r + 1 + 2 * s;
    CHECK(fabs(c[0] - r / sum) < 1e-7 && fabs(c[2] - 1 / sum) < 1e-7 && c[3] == 0 && fabs(c[4] - s / sum) < 1e-7);
    CHECK(resample_mono_matrix(WAV_CH_FC, 1, c) && c[0] == 1.0);
    /* layouts swresample refuses: the plain average instead */
    CHECK(!resample_mono_matrix(WAV_CH_BL | WAV_CH_BR, 2, c) && c[0] == 0.5 && c[1] == 0.5);
    CHECK(!resample_mono_matrix(WAV_CH_FL | WAV_CH_FC, 2, c));
    CHECK(!resample_mono_matrix(0, 9, c) && fabs(c[8] - 1.0 / 9) < 1e-15);
}

/* ---- log-Mel ---------------------------------------------------------------------- */

TEST(audio_mel_filterbank) {
    anim_error err = {0};
    size_t len;
    uint8_t *raw = test_read_file(AFIX "mel_80x201.f32", &len);
    CHECK_MSG(raw && len == 80 * 201 * 4, "cannot read " AFIX "mel_80x201.f32");
    float *fb = malloc(sizeof(float) * 80 * 201);
    CHECK_OK(mel_filterbank(16000, 400, 80, fb, &err), &err);
    size_t bad = 0;
    for (size_t i = 0; i < 80 * 201; i++)
        if (memcmp(&fb[i], raw + 4 * i, 4) != 0) bad++;
    CHECK_MSG(bad == 0, "%zu of 16080 filterbank values differ from whisper's mel_filters.npz", bad);
    /* triangles: non-negative, peaks move up, Slaney-normalised heights
     * 2 / (f[i+2] - f[i]): 0.0249 (66.7 Hz bands below 1 kHz) down to ~0.0025 */
    int prev = -1;
    for (int m = 0; m < 80; m++) {
        int arg = 0;
        for (int k = 0; k < 201; k++) {
            CHECK(fb[m * 201 + k] >= 0);
            if (fb[m * 201 + k] > fb[m * 201 + arg]) arg = k;
        }
        CHECK_MSG(arg >= prev, "filter %d peaks at bin %d before %d", m, arg, prev);
        prev = arg;
        CHECK(fb[m * 201 + arg] > 0.002f && fb[m * 201 + arg] < 0.03f);
    }
    free(fb);
    free(raw);
    CHECK_STATUS(mel_filterbank(16000, 1, 80, NULL, &err), ANIM_E_INVALID_ARG, &err);
}

/* the mixed-radix FFT against a direct DFT in long double */
TEST(audio_mel_fft) {
    test_rng rng;
    test_rng_seed(&rng, 7);
    double frame[400], p[201];
    for (int i = 0; i < 400; i++) frame[i] = test_rng_uniform(&rng, -1, 1);
    mel_power_spectrum(frame, p);
    double maxerr = 0, maxp = 0;
    for (int k = 0; k < 201; k++) {
        long double re = 0, im = 0;
        for (int i = 0; i < 400; i++) {
            long double a = -2.0L * 3.14159265358979323846264338327950288L * (long double)((k * i) % 400) / 400.0L;
            re += frame[i] * cosl(a);
            im += frame[i] * sinl(a);
        }
        double want = (double)(re * re + im * im);
        maxerr = fmax(maxerr, fabs(p[k] - want));
        maxp = fmax(maxp, want);
    }
    CHECK_MSG(maxerr <= 1e-12 * maxp, "FFT power error %.3g (max power %.3g)", maxerr, maxp);
    /* a cosine on bin 25 (1 kHz) puts (400/2)^2 there */
    for (int i = 0; i < 400; i++) frame[i] = cos(2 * M_PI * 25 * i / 400);
    mel_power_spectrum(frame, p);
    CHECK(fabs(p[25] - 40000) < 1e-8 && p[24] < 1e-16 && p[0] < 1e-16);
}

static bool fixture_log_mel(float **mel, int *T, anim_error *err) {
    size_t n = 0;
    float *x = test_read_tensor(EFIX "inputs/speech_16k.safetensors", "audio", &n);
    if (!x) {
        anim_seterr(err, ANIM_E_IO, "cannot read " EFIX "inputs/speech_16k.safetensors");
        return false;
    }
    bool ok = whisper_log_mel(x, n, mel, T, err) == ANIM_OK;
    free(x);
    return ok;
}

/* log-Mel of upstream's own 16 kHz signal vs upstream's log_mel */
TEST(audio_log_mel_fixture) {
    anim_error err = {0};
    size_t nref = 0;
    float *ref = test_read_tensor(EFIX "audio_features/audio_features.safetensors", "log_mel", &nref);
    CHECK(ref);
    float *mel = NULL;
    int T = 0;
    CHECK_MSG(fixture_log_mel(&mel, &T, &err), "%s", err.msg);
    CHECK_MSG(T == 216 && nref == 80 * 216, "%d frames (want 216 = 34580 / 160), reference %zu values", T, nref);
    double maxd = 0, sum = 0;
    for (size_t i = 0; i < nref; i++) {
        CHECK(isfinite(mel[i]));
        double d = fabs((double)mel[i] - ref[i]);
        maxd = fmax(maxd, d);
        sum += d;
    }
    printf("    log-Mel vs torch: max |diff| %.3g, mean %.3g over %zu values\n", maxd, sum / (double)nref, nref);
    /* measured 2.8e-5 / 2.5e-7: torch's float32 STFT and matmul against double here */
    CHECK(maxd <= 1e-4 && sum / (double)nref <= 1e-6);
    free(mel);
    free(ref);
}

/* the whole front end from the WAV: same as from upstream's signal */
TEST(audio_log_mel_pipeline) {
    anim_error err = {0};
    float *want = NULL;
    int Tw = 0;
    CHECK_MSG(fixture_log_mel(&want, &Tw, &err), "%s", err.msg);
    wav_audio a;
    CHECK_OK(wav_read_file(EFIX "inputs/speech.wav", &a, &err), &err);
    float *x = NULL, *mel = NULL;
    size_t n = 0;
    int T = 0;
    CHECK_OK(resample_load_audio_16k(&a, &x, &n, &err), &err);
    wav_free(&a);
    CHECK_OK(whisper_log_mel(x, n, &mel, &T, &err), &err);
    CHECK(T == Tw);
    CHECK_MSG(memcmp(mel, want, sizeof(float) * 80 * (size_t)T) == 0, "log-Mel differs from the fixture signal's");
    free(x);
    free(mel);
    free(want);
}

/* the normalisation and the frame count; arguments */
TEST(audio_log_mel_props) {
    anim_error err = {0};
    float *x = malloc(sizeof(float) * 16000);
    CHECK(x);
    for (int i = 0; i < 16000; i++) x[i] = 0.5f * (float)sin(2 * M_PI * 1000.0 * i / 16000);
    float *mel = NULL;
    int T = 0;
    CHECK_OK(whisper_log_mel(x, 16000 - 1, &mel, &T, &err), &err);
    CHECK(T == 99);
    float hi = -1e9f, lo = 1e9f;
    int best = 0;
    for (int m = 0; m < 80; m++) {
        float v = mel[m * T + 50];
        if (v > mel[best * T + 50]) best = m;
        for (int t = 0; t < T; t++) {
            hi = fmaxf(hi, mel[m * T + t]);
            lo = fminf(lo, mel[m * T + t]);
        }
    }
    /* 1 kHz (bin 25) lies between the centres of bands 25 and 26
     * (f[26] = 1005.6 Hz, f[27] = 1045.0 Hz); band 26 weighs it most */
    CHECK_MSG(best == 26, "1 kHz peaks in mel band %d, want 26", best);
    CHECK_MSG(lo >= hi - 2.0f - 1e-6f, "floor: min %g, max %g (max - 8 in log10 is 2 after / 4)", lo, hi);
    free(mel);
    CHECK_STATUS(whisper_log_mel(x, 200, &mel, &T, &err), ANIM_E_INVALID_ARG, &err);
    CHECK_CONTAINS(err.msg, "200 samples");
    CHECK(mel == NULL && T == 0);
    CHECK_OK(whisper_log_mel(x, 201, &mel, &T, &err), &err);
    CHECK(T == 1);
    free(mel);
    free(x);
}
