/*
 * whisper.h - the Whisper audio encoder EchoMimic runs (OpenAI whisper
 * model.py AudioEncoder, as vendored by EchoMimic from MuseTalk): its
 * dimensions, its weight table, its forward pass, and EchoMimic's
 * Audio2Feature around it (segmenting the log-mel, per-frame token windows).
 * Only `encoder.*` is used; the decoder keys of the released whisper_tiny.pt
 * are expected and ignored.
 *
 * Data flow (EchoMimic src/utils/audio2feature.py + whisper/transcribe.py):
 *   log-mel [n_mels][n_frames] of the whole file (lib/audio, 100 frames/s)
 *   -> segments of 2*n_audio_ctx = 3000 frames, zero-padded
 *   -> encoder: n_audio_layer+1 hidden states [1500][S] per segment (50 Hz)
 *   -> first int(valid_frames/2) positions of each, concatenated:
 *      feature [T50][n_audio_layer+1][S]
 *   -> per video frame i: 10 positions around int(i*50/fps), each with its
 *      n_audio_layer+1 states: tokens [10*(n_audio_layer+1)][S] (50 x 384).
 */
#ifndef ANIM_NN_WHISPER_H
#define ANIM_NN_WHISPER_H

#include "nn/nn.h"
#include "nn/wspec.h"
#include "util/error.h"

typedef struct whisper_dims {
    int n_mels;           /* 80 */
    int n_audio_ctx;      /* 1500 */
    int n_audio_state;    /* 384 (whisper tiny) */
    int n_audio_head;     /* 6 */
    int n_audio_layer;    /* 4 */
} whisper_dims;

void whisper_dims_default(whisper_dims *d);   /* whisper tiny */

/* The dims of a checkpoint: `dims_json` (whisper_tiny.dims.json, may be NULL),
 * else the 'dims' dict of the .pt pickle in `ckpt` (a tf_file opened from
 * whisper_tiny.pt). Errors name the file and the field. */
anim_status whisper_dims_load(whisper_dims *d, const char *dims_json, const tf_file *ckpt, anim_error *err);

/* encoder.* keys with exact shapes; every decoder.* key is accepted unused
 * (l->ignore_prefix). conv1/conv2 weights [out, in, 3] are flagged W_CONV1D
 * (repacked to [out, 3, in] = OHWI with H = 1 for the backends). */
void whisper_weights(const whisper_dims *d, w_list *l);

/* ---- forward ---- */

/* AudioEncoder.forward(mel, include_embeddings=True) for one segment: mel as
 * tokens [1, 1, 2*n_audio_ctx, n_mels] (NHWC: frame-major, i.e. the
 * transpose of whisper's [n_mels, 3000]) -> the stack of hidden states
 * [n_audio_layer + 1, 1, n_audio_ctx, n_audio_state]: state 0 is the
 * embedding (conv front end + positional embedding), state k the output of
 * block k; ln_post is never applied. Uses the "audio_model" weights (c->net is
 * set inside and restored); only the result stays on the arena. */
nn_t whisper_encoder_forward(nn_ctx *c, const whisper_dims *d, nn_t mel);

/* Positions kept from a log-mel of n_frames frames: the sum over segments of
 * int(valid_frames / 2) (T50, 50 per second). 0 when n_frames <= 1. */
int whisper_feature_len(const whisper_dims *d, int n_frames);

/* Audio2Feature.audio2feat on a whole-file log-mel mel [n_mels][n_frames]
 * (row-major, as whisper's log_mel_spectrogram returns it): encodes each
 * segment and returns *feature = malloc'd host floats [T50][n_audio_layer+1]
 * [n_audio_state] (free() it) and *t50. Errors are sticky on c (message in
 * c->err): ANIM_E_INVALID_ARG when the mel is too short to keep a single
 * position (upstream fails there as well), ANIM_E_ABORTED between segments
 * when c->hooks asks. Reports progress as stage "audio" (segments). */
anim_status whisper_encode(nn_ctx *c, const whisper_dims *d, const float *mel, int n_frames, float **feature,
                           int *t50);

/* Audio2Feature.feature2chunks: the number of video frames N it produces
 * for t50 positions at fps: frames i = 0, 1, ... are appended and the loop
 * stops after the first i with int(i * (50.0 / fps)) > t50, so N = that i + 1.
 * (The pipeline then uses min(L, N) frames.) 0 when t50 < 1 or fps is not
 * in (0, 1e6). */
int whisper_frame_count(int t50, double fps);

/* Audio2Feature.get_sliced_feature for video frame `frame` at fps: centre
 * c = int(frame * 50 / fps), positions c-4 .. c+5 clamped to [0, t50-1], each
 * contributing its n_states hidden states in order:
 *   out[(k * n_states + l) * S + s] = feature[(idx_k * n_states + l) * S + s]
 * -> out [10 * n_states][S] (50 x S for whisper tiny). Pure indexing: the
 * values are copied bit for bit. t50 < 1 or fps <= 0: out is zeroed. */
void whisper_frame_tokens(const float *feature, int t50, int n_states, int S, int frame, double fps, float *out);

#endif
