/*
 * mel.h - Whisper's log-Mel front end, as EchoMimic's vendored copy of
 * openai-whisper `audio.py` computes it (log_mel_spectrogram on the whole
 * 16 kHz signal, no 30 s padding):
 *
 *   window = torch.hann_window(400)                 periodic: 0.5 - 0.5 cos(2 pi n / 400)
 *   stft   = torch.stft(x, 400, 160, window=window, center=True, pad_mode="reflect")
 *   power  = stft[..., :-1].abs() ** 2              201 bins; the last frame dropped
 *   mel    = mel_80 @ power                         mel_80 = librosa.filters.mel(sr=16000, n_fft=400,
 *                                                   n_mels=80): Slaney scale, Slaney area norm
 *   log    = log10(max(mel, 1e-10))
 *   log    = max(log, log.max() - 8)                the max over the WHOLE file
 *   out    = (log + 4) / 4
 *
 * Frames: frame t covers x[160 t - 200 .. 160 t + 199], mirrored without
 * repeating the edge sample outside x (torch reflect padding, needs n > 200);
 * n_frames = n / 160. Here the FFT (mixed radix 2^4 * 5^2), power, the mel
 * product and the log run in double, rounded to float32 at the end; torch
 * runs them in float32, so values agree to float32 rounding plus torch's own
 * float error (measured in tests/test_audio.c).
 *
 * Layout: mel[m * n_frames + t] (80 rows, as the (80, n_frames) tensor).
 */
#ifndef ANIM_AUDIO_MEL_H
#define ANIM_AUDIO_MEL_H

#include <stddef.h>

#include "util/error.h"

#define WHISPER_N_FFT 400
#define WHISPER_HOP 160
#define WHISPER_N_BINS 201    /* n_fft / 2 + 1 */
#define WHISPER_N_MELS 80
#define WHISPER_SAMPLE_RATE 16000

/* librosa.filters.mel(sr, n_fft, n_mels, fmin=0, fmax=sr/2, htk=False,
 * norm="slaney") as float32, computed in double with librosa's operation
 * order (the float32 rounding of the triangle before the Slaney scaling
 * included); out holds n_mels * (n_fft/2 + 1) values, row-major. For
 * (16000, 400, 80) it equals whisper's assets/mel_filters.npz "mel_80". */
anim_status mel_filterbank(int sr, int n_fft, int n_mels, float *out, anim_error *err);

/* |DFT|^2 of one 400-sample frame (already windowed), bins 0..200, in
 * double. Exposed for tests. */
void mel_power_spectrum(const double *frame, double *power);

/* Whisper log-Mel of x (n samples at 16 kHz). *mel is malloc'd
 * [80 * n_frames]. n must be > 200 (torch's reflect padding). */
anim_status whisper_log_mel(const float *x, size_t n, float **mel, int *n_frames, anim_error *err);

#endif
