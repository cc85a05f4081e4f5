/*
 * whisper.h - the Whisper audio encoder EchoMimic runs (OpenAI whisper
 * model.py AudioEncoder): its dimensions, its weight table, and (in
 * whisper.c) its forward pass. Only `encoder.*` is used; the decoder keys of
 * the released whisper_tiny.pt are expected and ignored.
 */
#ifndef ANIM_NN_WHISPER_H
#define ANIM_NN_WHISPER_H

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

#endif
