/* whisper.c - Whisper AudioEncoder: dims and weight table (see whisper.h). */
#include "nn/whisper.h"

#include <stdio.h>
#include <string.h>

#include "io/json.h"
#include "io/pickle.h"

void whisper_dims_default(whisper_dims *d) {
    /* OpenAI whisper "tiny" (EchoMimic's audio_processor/whisper_tiny.pt) */
    d->n_mels = 80;
    d->n_audio_ctx = 1500;
    d->n_audio_state = 384;
    d->n_audio_head = 6;
    d->n_audio_layer = 4;
}

static anim_status check_dims(const whisper_dims *d, const char *file, anim_error *err) {
    struct { const char *name; int v, max; } f[] = {{"n_mels", d->n_mels, 512},
                                                    {"n_audio_ctx", d->n_audio_ctx, 1 << 16},
                                                    {"n_audio_state", d->n_audio_state, 1 << 14},
                                                    {"n_audio_head", d->n_audio_head, 1024},
                                                    {"n_audio_layer", d->n_audio_layer, 1024}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v < 1 || f[i].v > f[i].max)
            return anim_seterr(err, ANIM_E_FORMAT, "%s: whisper dims '%s' = %d must be in 1..%d", file, f[i].name,
                               f[i].v, f[i].max);
    if (d->n_audio_state % d->n_audio_head)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: n_audio_state %d is not a multiple of n_audio_head %d", file,
                           d->n_audio_state, d->n_audio_head);
    return ANIM_OK;
}

/* whisper's 'dims' dict inside the .pt pickle (pth.c keeps the document in f->priv) */
static anim_status dims_from_pickle(whisper_dims *d, const tf_file *f, anim_error *err) {
    const pk_obj *root = f->priv ? pk_doc_root((const pk_doc *)f->priv) : NULL;
    const pk_obj *dims = root ? pk_dict_get(root, "dims") : NULL;
    if (!dims || dims->type != PK_DICT)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: no 'dims' dictionary (expected {'dims': ..., 'model_state_dict': ...})",
                           f->path);
    int *dst[] = {&d->n_mels, &d->n_audio_ctx, &d->n_audio_state, &d->n_audio_head, &d->n_audio_layer};
    const char *names[] = {"n_mels", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer"};
    for (int i = 0; i < 5; i++) {
        const pk_obj *v = pk_dict_get(dims, names[i]);
        if (!v || v->type != PK_INT || v->u.i < 1 || v->u.i > (1 << 20))
            return anim_seterr(err, ANIM_E_FORMAT, "%s: dims['%s'] missing or not a positive integer", f->path, names[i]);
        *dst[i] = (int)v->u.i;
    }
    return check_dims(d, f->path, err);
}

anim_status whisper_dims_load(whisper_dims *d, const char *dims_json, const tf_file *ckpt, anim_error *err) {
    whisper_dims_default(d);
    if (!dims_json) {
        if (ckpt && ckpt->format == TF_PTH) return dims_from_pickle(d, ckpt, err);
        return ANIM_OK; /* a safetensors file without dims.json: whisper tiny */
    }
    json_value *j = json_parse_file(dims_json, NULL, err);
    if (!j) return err ? err->status : ANIM_E_FORMAT;
    anim_status st = ANIM_OK;
    int *dst[] = {&d->n_mels, &d->n_audio_ctx, &d->n_audio_state, &d->n_audio_head, &d->n_audio_layer};
    const char *names[] = {"n_mels", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer"};
    for (int i = 0; i < 5 && st == ANIM_OK; i++) {
        const json_value *v = json_get(j, names[i]);
        if (!v || !v->is_uint || v->u64 < 1 || v->u64 > (1u << 20))
            st = anim_seterr(err, ANIM_E_FORMAT, "%s: '%s' missing or not a positive integer", dims_json, names[i]);
        else *dst[i] = (int)v->u64;
    }
    json_free(j);
    return st == ANIM_OK ? check_dims(d, dims_json, err) : st;
}

void whisper_weights(const whisper_dims *d, w_list *l) {
    const int S = d->n_audio_state, M = d->n_mels;
    l->ignore_prefix = "decoder.";
    wl_add(l, W_CONV1D, 3, S, M, 3, 0, "encoder.conv1.weight");
    wl_add(l, 0, 1, S, 0, 0, 0, "encoder.conv1.bias");
    wl_add(l, W_CONV1D, 3, S, S, 3, 0, "encoder.conv2.weight");
    wl_add(l, 0, 1, S, 0, 0, 0, "encoder.conv2.bias");
    /* the sinusoid table is a stored buffer: EchoMimic uses the file's (float16-rounded) values */
    wl_add(l, 0, 2, d->n_audio_ctx, S, 0, 0, "encoder.positional_embedding");
    for (int i = 0; i < d->n_audio_layer; i++) {
        char p[W_NAME_MAX];
        w_key(p, "encoder.blocks.%d.attn.query", i);
        wl_linear(l, p, S, S, true);
        w_key(p, "encoder.blocks.%d.attn.key", i);
        wl_linear(l, p, S, S, false); /* whisper: key projection without bias */
        w_key(p, "encoder.blocks.%d.attn.value", i);
        wl_linear(l, p, S, S, true);
        w_key(p, "encoder.blocks.%d.attn.out", i);
        wl_linear(l, p, S, S, true);
        w_key(p, "encoder.blocks.%d.attn_ln", i);
        wl_norm(l, p, S);
        w_key(p, "encoder.blocks.%d.mlp.0", i);
        wl_linear(l, p, 4 * S, S, true);
        w_key(p, "encoder.blocks.%d.mlp.2", i);
        wl_linear(l, p, S, 4 * S, true);
        w_key(p, "encoder.blocks.%d.mlp_ln", i);
        wl_norm(l, p, S);
    }
    /* stored but unused: EchoMimic takes the hidden states before ln_post */
    wl_add(l, W_UNUSED, 1, S, 0, 0, 0, "encoder.ln_post.weight");
    wl_add(l, W_UNUSED, 1, S, 0, 0, 0, "encoder.ln_post.bias");
}
