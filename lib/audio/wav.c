/*
 * wav.c - RIFF/WAVE parsing and PCM decoding (see wav.h for what is read and
 * how). Every read is bounds-checked against the buffer; sizes are 64-bit.
 */
#include "audio/wav.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* A chunk id printable in a message ("LIST", "\x01abc" as "?abc"). */
static void fourcc_str(const uint8_t *p, char out[5]) {
    for (int i = 0; i < 4; i++) out[i] = (p[i] >= 32 && p[i] < 127) ? (char)p[i] : '?';
    out[4] = '\0';
}

/* Names of the WAVE format tags people are likely to meet, for the message
 * that refuses them. */
static const char *format_tag_name(unsigned tag) {
    switch (tag) {
    case 0x0001: return "PCM";
    case 0x0002: return "Microsoft ADPCM";
    case 0x0003: return "IEEE float";
    case 0x0006: return "A-law";
    case 0x0007: return "mu-law";
    case 0x0011: return "IMA ADPCM";
    case 0x0031: return "GSM 6.10";
    case 0x0050: return "MPEG audio";
    case 0x0055: return "MPEG Layer 3 (MP3)";
    case 0x00FF: return "AAC";
    case 0x1610: return "AAC (ADTS)";
    case 0x2000: return "AC-3";
    case 0x2001: return "DTS";
    case 0x674F: case 0x6750: case 0x6751: case 0x676F: case 0x6770: case 0x6771: return "Ogg Vorbis";
    case 0xF1AC: return "FLAC";
    case 0xFFFE: return "EXTENSIBLE";
    default: return "unknown";
    }
}

const char *wav_codec_name(wav_codec c) {
    switch (c) {
    case WAV_PCM_U8: return "pcm_u8";
    case WAV_PCM_S16: return "pcm_s16le";
    case WAV_PCM_S24: return "pcm_s24le";
    case WAV_PCM_S32: return "pcm_s32le";
    case WAV_FLOAT32: return "pcm_f32le";
    case WAV_FLOAT64: return "pcm_f64le";
    }
    return "?";
}

static int popcount64(uint64_t m) {
    int n = 0;
    for (; m; m &= m - 1) n++;
    return n;
}

uint64_t wav_effective_layout(const wav_audio *a) {
    if (a->channel_mask) return a->channel_mask;
    /* ffmpeg's guess (av_channel_layout_default, the first entry of its
     * layout table with that many channels), checked with ffmpeg 5.1. */
    switch (a->channels) {
    case 1: return WAV_CH_FC;
    case 2: return WAV_CH_FL | WAV_CH_FR;
    case 3: return WAV_CH_FL | WAV_CH_FR | WAV_CH_LFE;                                  /* 2.1 */
    case 4: return WAV_CH_FL | WAV_CH_FR | WAV_CH_FC | WAV_CH_BC;                       /* 4.0 */
    case 5: return WAV_CH_FL | WAV_CH_FR | WAV_CH_FC | WAV_CH_BL | WAV_CH_BR;           /* 5.0 */
    case 6: return WAV_CH_FL | WAV_CH_FR | WAV_CH_FC | WAV_CH_LFE | WAV_CH_BL | WAV_CH_BR; /* 5.1 */
    case 7: return WAV_CH_FL | WAV_CH_FR | WAV_CH_FC | WAV_CH_LFE | WAV_CH_BC | WAV_CH_SL | WAV_CH_SR; /* 6.1 */
    case 8: return WAV_CH_FL | WAV_CH_FR | WAV_CH_FC | WAV_CH_LFE | WAV_CH_BL | WAV_CH_BR | WAV_CH_SL |
                   WAV_CH_SR;                                                            /* 7.1 */
    default: return 0;
    }
}

void wav_free(wav_audio *a) {
    if (!a) return;
    free(a->samples);
    memset(a, 0, sizeof *a);
}

/* The KSDATAFORMAT_SUBTYPE_* GUIDs are the format tag followed by these 14 bytes. */
static const uint8_t ks_guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                         0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

typedef struct wav_fmt {
    unsigned tag;        /* effective (SubFormat's for EXTENSIBLE) */
    int channels;
    uint32_t rate;
    unsigned bits;       /* wBitsPerSample */
    uint64_t mask;
} wav_fmt;

static anim_status parse_fmt(const uint8_t *p, uint64_t size, wav_fmt *f, anim_error *err) {
    if (size < 16)
        return anim_seterr(err, ANIM_E_FORMAT, "'fmt ' chunk too short (%llu bytes, need 16)",
                           (unsigned long long)size);
    unsigned tag = rd16(p);
    f->channels = rd16(p + 2);
    f->rate = rd32(p + 4);
    f->bits = rd16(p + 14);
    f->mask = 0;
    if (tag == 0xFFFE) {
        /* WAVEFORMATEXTENSIBLE: cbSize >= 22, then valid bits, mask, GUID */
        if (size < 40 || rd16(p + 16) < 22)
            return anim_seterr(err, ANIM_E_FORMAT,
                               "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk too short (%llu bytes, need 40)",
                               (unsigned long long)size);
        f->mask = rd32(p + 20);
        const uint8_t *g = p + 24;
        if (memcmp(g + 2, ks_guid_tail, sizeof ks_guid_tail) != 0) {
            char gs[40];
            snprintf(gs, sizeof gs, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", (unsigned)rd32(g),
                     rd16(g + 4), rd16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
            return anim_seterr(err, ANIM_E_UNSUPPORTED,
                               "WAVE_FORMAT_EXTENSIBLE with SubFormat GUID {%s} is not supported "
                               "(only PCM and IEEE float)", gs);
        }
        tag = rd16(g);
        if (tag == 0xFFFE) tag = 0;   /* nonsense: refused below as unknown */
    }
    f->tag = tag;
    return ANIM_OK;
}

/* fmt -> codec, with the checks that produce a clear message. */
static anim_status fmt_codec(const wav_fmt *f, wav_codec *codec, anim_error *err) {
    if (f->tag != 1 && f->tag != 3)
        return anim_seterr(err, ANIM_E_UNSUPPORTED,
                           "WAVE format tag 0x%04X (%s) is not supported: only uncompressed PCM and "
                           "IEEE float (convert first, e.g. ffmpeg -i in -c:a pcm_s16le out.wav)",
                           f->tag, format_tag_name(f->tag));
    if (f->channels < 1 || f->channels > WAV_MAX_CHANNELS)
        return anim_seterr(err, f->channels < 1 ? ANIM_E_FORMAT : ANIM_E_UNSUPPORTED,
                           "%d channels (supported: 1..%d)", f->channels, WAV_MAX_CHANNELS);
    if (f->rate < WAV_MIN_RATE || f->rate > WAV_MAX_RATE)
        return anim_seterr(err, f->rate ? ANIM_E_UNSUPPORTED : ANIM_E_FORMAT,
                           "sample rate %u Hz (supported: %d..%d)", (unsigned)f->rate, WAV_MIN_RATE,
                           WAV_MAX_RATE);
    /* ffmpeg (ff_wav_codec_get_id) rounds the PCM width up to whole bytes */
    unsigned bytes = (f->bits + 7) / 8;
    if (f->tag == 1) {
        switch (bytes) {
        case 1: *codec = WAV_PCM_U8; return ANIM_OK;
        case 2: *codec = WAV_PCM_S16; return ANIM_OK;
        case 3: *codec = WAV_PCM_S24; return ANIM_OK;
        case 4: *codec = WAV_PCM_S32; return ANIM_OK;
        default: break;
        }
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "PCM with %u bits per sample (supported: 8, 16, 24, 32)",
                           f->bits);
    }
    if (f->bits == 32) { *codec = WAV_FLOAT32; return ANIM_OK; }
    if (f->bits == 64) { *codec = WAV_FLOAT64; return ANIM_OK; }
    return anim_seterr(err, ANIM_E_UNSUPPORTED, "IEEE float with %u bits per sample (supported: 32, 64)",
                       f->bits);
}

static unsigned codec_bytes(wav_codec c) {
    switch (c) {
    case WAV_PCM_U8: return 1;
    case WAV_PCM_S16: return 2;
    case WAV_PCM_S24: return 3;
    case WAV_PCM_S32: case WAV_FLOAT32: return 4;
    case WAV_FLOAT64: return 8;
    }
    return 0;
}

/* One interleaved sample -> float, as swresample's conversion to float. */
static float decode_sample(const uint8_t *p, wav_codec c) {
    switch (c) {
    case WAV_PCM_U8: return (float)((int)p[0] - 128) * (1.0f / 128);
    case WAV_PCM_S16: return (float)(int16_t)rd16(p) * (1.0f / 32768);
    case WAV_PCM_S24: {
        int32_t v = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 24);
        return (float)v * (1.0f / 2147483648.0f);   /* exact: 24 significant bits */
    }
    case WAV_PCM_S32: return (float)(int32_t)rd32(p) * (1.0f / 2147483648.0f);
    case WAV_FLOAT32: {
        uint32_t u = rd32(p);
        float v;
        memcpy(&v, &u, 4);
        return v;
    }
    case WAV_FLOAT64: {
        uint64_t u = rd64(p);
        double v;
        memcpy(&v, &u, 8);
        return (float)v;
    }
    }
    return 0.0f;
}

static anim_status parse(const uint8_t *buf, size_t len, wav_audio *out, anim_error *err) {
    if (len < 12)
        return anim_seterr(err, ANIM_E_FORMAT, "truncated RIFF header (%zu bytes, need 12)", len);
    bool rf64 = false;
    if (!memcmp(buf, "RF64", 4) || !memcmp(buf, "BW64", 4)) rf64 = true;
    else if (!memcmp(buf, "RIFX", 4))
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "big-endian RIFX WAVE files are not supported");
    else if (memcmp(buf, "RIFF", 4) != 0) {
        char id[5];
        fourcc_str(buf, id);
        return anim_seterr(err, ANIM_E_FORMAT, "not a WAV file (starts with \"%s\", not \"RIFF\")", id);
    }
    if (memcmp(buf + 8, "WAVE", 4) != 0) {
        char id[5];
        fourcc_str(buf + 8, id);
        return anim_seterr(err, ANIM_E_FORMAT, "RIFF form type \"%s\", not \"WAVE\"", id);
    }

    bool have_fmt = false, have_data = false, have_ds64 = false;
    wav_fmt fmt = {0};
    uint64_t ds64_data = 0, data_off = 0, data_len = 0;
    uint64_t off = 12;
    while (off + 8 <= len) {
        const uint8_t *h = buf + off;
        uint64_t size = rd32(h + 4), body = off + 8, avail = len - body;
        char id[5];
        fourcc_str(h, id);
        if (!memcmp(h, "data", 4)) {
            if (!have_data) {
                have_data = true;
                data_off = body;
                if (rf64 && size == 0xFFFFFFFFu) {
                    if (!have_ds64)
                        return anim_seterr(err, ANIM_E_FORMAT, "RF64 'data' chunk without a preceding 'ds64' chunk");
                    size = ds64_data;
                } else if (size == 0 || size == 0xFFFFFFFFu) {
                    /* streaming writers leave the size unset: ffmpeg reads to EOF */
                    size = avail;
                }
                data_len = size < avail ? size : avail;   /* clamped like ffmpeg's read to EOF */
            } else if (rf64 && size == 0xFFFFFFFFu) {
                size = avail;
            }
        } else if (!memcmp(h, "fmt ", 4)) {
            if (size > avail)
                return anim_seterr(err, ANIM_E_FORMAT, "truncated 'fmt ' chunk at offset %llu (%llu of %llu bytes)",
                                   (unsigned long long)off, (unsigned long long)avail, (unsigned long long)size);
            if (!have_fmt) {
                anim_status st = parse_fmt(buf + body, size, &fmt, err);
                if (st) return st;
                have_fmt = true;
            }
        } else if (!memcmp(h, "ds64", 4) && rf64 && !have_ds64) {
            if (size < 24 || size > avail)
                return anim_seterr(err, ANIM_E_FORMAT, "truncated 'ds64' chunk (%llu bytes, need 24)",
                                   (unsigned long long)(size < avail ? size : avail));
            ds64_data = rd64(buf + body + 8);
            have_ds64 = true;
        }
        /* next chunk: sizes are padded to even (RIFF rule, ffmpeg's default) */
        uint64_t next = body + size + (size & 1);
        if (size > avail || next > len) break;   /* the rest of the file is this chunk */
        off = next;
    }
    if (!have_fmt) {
        if (!have_data && off + 8 > len && off < len)
            return anim_seterr(err, ANIM_E_FORMAT, "truncated chunk header at offset %llu (file is %zu bytes)",
                               (unsigned long long)off, len);
        return anim_seterr(err, ANIM_E_FORMAT, "no 'fmt ' chunk");
    }
    if (!have_data) return anim_seterr(err, ANIM_E_FORMAT, "no 'data' chunk");

    wav_codec codec = WAV_PCM_S16;
    anim_status st = fmt_codec(&fmt, &codec, err);
    if (st) return st;
    unsigned bps = codec_bytes(codec);
    uint64_t frame = (uint64_t)bps * (uint64_t)fmt.channels;
    uint64_t frames = data_len / frame;   /* a trailing partial frame is dropped, as ffmpeg's decoder */
    if (frames == 0)
        return anim_seterr(err, ANIM_E_FORMAT, "no audio samples ('data' chunk holds %llu bytes, one %d-channel "
                           "%s frame is %llu)", (unsigned long long)data_len, fmt.channels,
                           wav_codec_name(codec), (unsigned long long)frame);
    if (frames > SIZE_MAX / sizeof(float) / (uint64_t)fmt.channels)
        return anim_seterr(err, ANIM_E_OOM, "%llu sample frames do not fit in memory", (unsigned long long)frames);

    float *s = malloc(sizeof(float) * (size_t)frames * (size_t)fmt.channels);
    if (!s)
        return anim_seterr(err, ANIM_E_OOM, "out of memory for %llu x %d samples", (unsigned long long)frames,
                           fmt.channels);
    const uint8_t *d = buf + data_off;
    size_t nf = (size_t)frames;
    for (size_t i = 0; i < nf; i++)
        for (int c = 0; c < fmt.channels; c++)
            s[(size_t)c * nf + i] = decode_sample(d + i * frame + (size_t)c * bps, codec);

    out->sample_rate = (int)fmt.rate;
    out->channels = fmt.channels;
    out->codec = codec;
    out->format_tag = (int)fmt.tag;
    /* a mask that does not name one speaker per channel is ignored (ffmpeg
     * then guesses from the count) */
    out->channel_mask = popcount64(fmt.mask) == fmt.channels ? fmt.mask : 0;
    out->frames = nf;
    out->samples = s;
    return ANIM_OK;
}

anim_status wav_read_mem(const void *buf, size_t len, const char *name, wav_audio *out, anim_error *err) {
    if (!out) return anim_seterr(err, ANIM_E_INVALID_ARG, "wav_read_mem: out is NULL");
    memset(out, 0, sizeof *out);
    if (!buf && len) return anim_seterr(err, ANIM_E_INVALID_ARG, "wav_read_mem: buf is NULL");
    anim_status st = parse(buf, len, out, err);
    if (st) {
        anim_err_prefix(err, "%s", name ? name : "(memory)");
        wav_free(out);
    }
    return st;
}

anim_status wav_read_file(const char *path, wav_audio *out, anim_error *err) {
    if (!out) return anim_seterr(err, ANIM_E_INVALID_ARG, "wav_read_file: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return anim_seterr(err, ANIM_E_INVALID_ARG, "wav_read_file: path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return anim_seterr(err, ANIM_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return anim_seterr(err, ANIM_E_IO, "%s: not a regular file", path);
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    anim_status st = ANIM_OK;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : (size_t)1 << 16;
            uint8_t *nb = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nb) { st = anim_seterr(err, ANIM_E_OOM, "%s: out of memory reading the file", path); break; }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) st = anim_seterr(err, ANIM_E_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st == ANIM_OK) st = wav_read_mem(buf, len, path, out, err);
    free(buf);
    return st;
}
