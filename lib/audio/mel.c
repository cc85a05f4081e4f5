/*
 * mel.c - Whisper log-Mel spectrogram (see mel.h for the upstream formula).
 *
 * The 400-point DFT is a recursive mixed-radix Cooley-Tukey FFT
 * (400 = 4 * 4 * 5 * 5, decimation in time, naive radix-p butterflies) in
 * double with twiddles from cos/sin in double: its error (~1e-15 relative to
 * the frame energy) is far below torch's float32 STFT.
 */
#include "audio/mel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- filterbank -------------------------------------------------------------- */

/* librosa.hz_to_mel / mel_to_hz, htk=False (Slaney), same operation order */
static double hz_to_mel(double f) {
    const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = (min_log_hz - 0.0) / f_sp;
    const double logstep = log(6.4) / 27.0;
    if (f >= min_log_hz) return min_log_mel + log(f / min_log_hz) / logstep;
    return (f - 0.0) / f_sp;
}

static double mel_to_hz(double m) {
    const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = (min_log_hz - 0.0) / f_sp;
    const double logstep = log(6.4) / 27.0;
    if (m >= min_log_mel) return min_log_hz * exp(logstep * (m - min_log_mel));
    return 0.0 + f_sp * m;
}

anim_status mel_filterbank(int sr, int n_fft, int n_mels, float *out, anim_error *err) {
    if (sr < 1 || n_fft < 2 || n_fft > 65536 || n_mels < 1 || n_mels > 1024 || !out)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "mel_filterbank: sr %d, n_fft %d, n_mels %d", sr, n_fft, n_mels);
    const int nb = n_fft / 2 + 1, nm = n_mels + 2;
    double *fft_f = malloc(sizeof(double) * (size_t)nb), *mel_f = malloc(sizeof(double) * (size_t)nm);
    if (!fft_f || !mel_f) {
        free(fft_f);
        free(mel_f);
        return anim_seterr(err, ANIM_E_OOM, "mel_filterbank: out of memory");
    }
    /* fft_frequencies = np.fft.rfftfreq(n_fft, d=1/sr): k * (1 / (n * d)) */
    const double val = 1.0 / (n_fft * (1.0 / sr));
    for (int k = 0; k < nb; k++) fft_f[k] = k * val;
    /* mel_frequencies(n_mels + 2, fmin=0, fmax=sr/2): np.linspace in mel
     * (k * step + start, last = stop), back to Hz */
    const double min_mel = hz_to_mel(0.0), max_mel = hz_to_mel((double)sr / 2);
    const double step = (max_mel - min_mel) / (nm - 1);
    for (int k = 0; k < nm; k++) mel_f[k] = mel_to_hz(k == nm - 1 ? max_mel : k * step + min_mel);
    for (int i = 0; i < n_mels; i++) {
        const double fd0 = mel_f[i + 1] - mel_f[i], fd1 = mel_f[i + 2] - mel_f[i + 1];
        const double enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (int k = 0; k < nb; k++) {
            double lower = -(mel_f[i] - fft_f[k]) / fd0, upper = (mel_f[i + 2] - fft_f[k]) / fd1;
            /* np.maximum(0, np.minimum(lower, upper)); np.maximum(0, -0.0)
             * is -0.0 (the first bin of the first filter), kept for bit equality */
            double mn = lower < upper ? lower : upper;
            double w = 0.0 > mn ? 0.0 : mn;
            /* weights is a float32 array: the triangle is stored, then
             * `weights *= enorm` multiplies in double and stores again */
            out[(size_t)i * (size_t)nb + (size_t)k] = (float)((double)(float)w * enorm);
        }
    }
    free(fft_f);
    free(mel_f);
    return ANIM_OK;
}

/* ---- FFT ------------------------------------------------------------------- */

typedef struct cpx {
    double re, im;
} cpx;

#define FFT_N WHISPER_N_FFT
static const int fft_factors[] = {4, 4, 5, 5, 1};

/* out[0..n) = DFT_n of in[0], in[stride], ...; tw[j] = exp(-2 pi i j / FFT_N),
 * W_n = tw[twstride] with twstride = FFT_N / n */
static void fft_rec(cpx *out, const cpx *in, int n, int stride, const int *fac, const cpx *tw, int twstride) {
    if (n == 1) {
        out[0] = in[0];
        return;
    }
    const int p = fac[0], m = n / p;
    for (int q = 0; q < p; q++) fft_rec(out + q * m, in + q * stride, m, stride * p, fac + 1, tw, twstride * p);
    cpx t[5];
    for (int k = 0; k < m; k++) {
        for (int q = 0; q < p; q++) {   /* twiddle W_n^(q k) */
            const cpx a = out[q * m + k], w = tw[(q * k * twstride) % FFT_N];
            t[q].re = a.re * w.re - a.im * w.im;
            t[q].im = a.re * w.im + a.im * w.re;
        }
        for (int r = 0; r < p; r++) {   /* radix-p DFT: W_p^(q r) = tw[(q r mod p) * N/p] */
            double re = 0, im = 0;
            for (int q = 0; q < p; q++) {
                const cpx w = tw[((q * r) % p) * (FFT_N / p)];
                re += t[q].re * w.re - t[q].im * w.im;
                im += t[q].re * w.im + t[q].im * w.re;
            }
            out[r * m + k].re = re;
            out[r * m + k].im = im;
        }
    }
}

static void fft_twiddles(cpx *tw) {
    for (int j = 0; j < FFT_N; j++) {
        double a = -2.0 * M_PI * j / FFT_N;
        tw[j].re = cos(a);
        tw[j].im = sin(a);
    }
}

static void power_spectrum(const double *frame, double *power, const cpx *tw) {
    cpx in[FFT_N], out[FFT_N];
    for (int i = 0; i < FFT_N; i++) {
        in[i].re = frame[i];
        in[i].im = 0;
    }
    fft_rec(out, in, FFT_N, 1, fft_factors, tw, 1);
    for (int k = 0; k < WHISPER_N_BINS; k++) power[k] = out[k].re * out[k].re + out[k].im * out[k].im;
}

void mel_power_spectrum(const double *frame, double *power) {
    cpx tw[FFT_N];
    fft_twiddles(tw);
    power_spectrum(frame, power, tw);
}

/* ---- log-Mel ------------------------------------------------------------------ */

anim_status whisper_log_mel(const float *x, size_t n, float **mel, int *n_frames, anim_error *err) {
    if (!mel || !n_frames) return anim_seterr(err, ANIM_E_INVALID_ARG, "whisper_log_mel: output is NULL");
    *mel = NULL;
    *n_frames = 0;
    if (!x || n <= WHISPER_N_FFT / 2)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "whisper_log_mel: %zu samples; the STFT's reflect padding needs more than %d", n,
                           WHISPER_N_FFT / 2);
    if (n / WHISPER_HOP > (size_t)(1 << 30))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "whisper_log_mel: %zu samples is too long", n);
    const int T = (int)(n / WHISPER_HOP);
    float *filt = malloc(sizeof(float) * WHISPER_N_MELS * WHISPER_N_BINS);
    float *out = malloc(sizeof(float) * WHISPER_N_MELS * (size_t)T);
    if (!filt || !out) {
        free(filt);
        free(out);
        return anim_seterr(err, ANIM_E_OOM, "whisper_log_mel: out of memory for %d frames", T);
    }
    anim_status st = mel_filterbank(WHISPER_SAMPLE_RATE, WHISPER_N_FFT, WHISPER_N_MELS, filt, err);
    if (st) {
        free(filt);
        free(out);
        return st;
    }
    cpx tw[FFT_N];
    fft_twiddles(tw);
    /* torch.hann_window(400): periodic, float32 values */
    double win[FFT_N];
    for (int i = 0; i < FFT_N; i++) win[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / FFT_N));

    const float floor_in = 1e-10f;
    float vmax = -INFINITY;
    double frame[FFT_N], power[WHISPER_N_BINS];
    const int64_t nn = (int64_t)n;
    for (int t = 0; t < T; t++) {
        /* center=True: frame t starts 200 samples before 160 t; reflect pad */
        for (int i = 0; i < FFT_N; i++) {
            int64_t j = (int64_t)t * WHISPER_HOP - WHISPER_N_FFT / 2 + i;
            if (j < 0) j = -j;
            if (j >= nn) j = 2 * (nn - 1) - j;
            frame[i] = (double)x[j] * win[i];
        }
        power_spectrum(frame, power, tw);
        for (int m = 0; m < WHISPER_N_MELS; m++) {
            const float *fr = filt + (size_t)m * WHISPER_N_BINS;
            double s = 0;
            for (int k = 0; k < WHISPER_N_BINS; k++) s += (double)fr[k] * power[k];
            /* clamp(min=1e-10).log10() on the float32 tensor */
            float v = (float)s;
            if (v < floor_in) v = floor_in;
            float lv = (float)log10((double)v);
            out[(size_t)m * (size_t)T + (size_t)t] = lv;
            if (lv > vmax) vmax = lv;
        }
    }
    /* torch.maximum(log_spec, log_spec.max() - 8.0); (log_spec + 4.0) / 4.0 */
    const float lo = vmax - 8.0f;
    for (size_t i = 0; i < (size_t)WHISPER_N_MELS * (size_t)T; i++) {
        float v = out[i] > lo ? out[i] : lo;
        out[i] = (v + 4.0f) / 4.0f;
    }
    free(filt);
    *mel = out;
    *n_frames = T;
    return ANIM_OK;
}
