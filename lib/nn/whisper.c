/*
 * whisper.c - Whisper AudioEncoder: dims, weight table, forward pass, and
 * EchoMimic's Audio2Feature segmenting / per-frame windows (see whisper.h).
 *
 * Upstream: antgroup/echomimic src/models/whisper/whisper/model.py
 * (AudioEncoder, ResidualAttentionBlock, MultiHeadAttention.qkv_attention),
 * whisper/transcribe.py (the 3000-frame segment loop) and
 * src/utils/audio2feature.py (audio2feat, get_sliced_feature,
 * feature2chunks) - MuseTalk's copies of OpenAI whisper 2022 code.
 *
 * Layout: tokens are NHWC token matrices [1, 1, positions, channels]; the
 * mel segment is [1, 1, 3000, n_mels] (frame-major), so whisper's Conv1d over
 * [n_mels, 3000] is a conv2d with H = 1, kernel 1 x K on OHWI weights [O, 1,
 * K, I] (the loader repacks the checkpoint's [O, I, K], flag W_CONV1D). The
 * hidden-state stack is [n_layer + 1, 1, 1500, S] on the backend and
 * [T50][n_layer + 1][S] on the host.
 */
#include "nn/whisper.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---------------------------------------------------------------- forward */

static const nn_t NONE = {NULL, 0, 0, 0, 0};

/* torch.nn.LayerNorm default, used by every whisper LayerNorm */
#define WHISPER_LN_EPS 1e-5f

/* whisper's Conv1d(k, stride, padding=1) + bias over tokens x [1, 1, T, Cin]
 * -> [1, 1, (T + 2 - k)/stride + 1, Cout]. nn_conv reads the kernel size from
 * a 4-D spec; the checkpoint spec here is the 3-D [O, I, K], so the backend
 * op is called directly with kh = 1, kw = K. */
static nn_t whisper_conv1d(nn_ctx *c, nn_t x, const char *prefix, int stride) {
    const w_spec *s;
    const void *w = nn_w(c, &s, "%s.weight", prefix);
    const void *b = nn_w(c, NULL, "%s.bias", prefix);
    if (!nn_ok(c)) return NONE;
    if (s->ndim != 3 || s->shape[1] != x.c || x.h != 1) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: conv1d %s expects [1, T, %lld] tokens, got [%d, %d, %d]", c->net, prefix,
                (long long)s->shape[1], x.h, x.w, x.c);
        return NONE;
    }
    const int co = (int)s->shape[0], k = (int)s->shape[2], pad = 1;
    nn_t y = nn_new(c, x.n, 1, (x.w + 2 * pad - k) / stride + 1, co);
    if (!nn_ok(c)) return NONE;
    bk_conv2d a = {.x = x.d, .wt = w, .bias = b, .res = NULL, .y = y.d, .n = x.n, .h = 1, .w = x.w, .cin = x.c,
                   .cout = co, .kh = 1, .kw = k, .stride = stride, .pad_t = 0, .pad_l = pad, .pad_b = 0, .pad_r = pad};
    anim_error e;
    anim_status st = c->be->ops->conv2d(c->be, &a, &e);
    if (st != ANIM_OK) nn_fail(c, st, "%s: %s: %s", c->net, prefix, e.msg);
    return nn_ok(c) ? y : NONE;
}

/*
 * MultiHeadAttention.qkv_attention (whisper 2022, no SDPA path):
 *   scale = (n_state // n_head) ** -0.25
 *   q = q.view(..., n_head, -1).permute(0, 2, 1, 3) * scale
 *   k = k.view(..., n_head, -1).permute(0, 2, 3, 1) * scale
 *   w = softmax(q @ k, dim=-1); out = (w @ v) flattened over heads
 * q and k are each multiplied by d^-0.25 (rounded to float) and the backend op
 * then runs with scale 1: the same roundings as upstream, where a single
 * 1/sqrt(d) on the scores would differ in the last bits (d^-0.25 is not a
 * power of two for d = 32 or 64). Measured on the fixture the two orders give
 * the same error against upstream (see tests/test_whisper.c); this one is kept
 * because it is upstream's. No mask (the encoder attends everywhere).
 */
static nn_t whisper_attention(nn_ctx *c, nn_t q, nn_t k, nn_t v, int heads) {
    if (!nn_ok(c)) return NONE;
    const int C = q.c, nq = q.h * q.w, nk = k.h * k.w, dh = C / heads;
    const float s = (float)pow((double)dh, -0.25);
    nn_axpby_into(c, q, s, q, 0.0f, NONE);
    nn_axpby_into(c, k, s, k, 0.0f, NONE);
    nn_t o = nn_new(c, q.n, q.h, q.w, C);
    if (!nn_ok(c)) return NONE;
    bk_attention a = {.q = q.d, .k = k.d, .v = v.d, .o = o.d, .k2 = NULL, .v2 = NULL, .batch = q.n, .heads = heads,
                      .d_head = dh, .nq = nq, .nk = nk, .nk2 = 0,
                      .q_bs = (int64_t)nq * C, .q_ts = C, .k_bs = (int64_t)nk * C, .k_ts = C,
                      .v_bs = (int64_t)nk * C, .v_ts = C, .o_bs = (int64_t)nq * C, .o_ts = C,
                      .scale = 1.0f};
    anim_error e;
    anim_status st = c->be->ops->attention(c->be, &a, &e);
    if (st != ANIM_OK) nn_fail(c, st, "%s: attention: %s", c->net, e.msg);
    return nn_ok(c) ? o : NONE;
}

/*
 * ResidualAttentionBlock (encoder: no cross-attention), pre-LN:
 *   x = x + attn(attn_ln(x))      query +bias, key no bias, value +bias, out +bias
 *   x = x + mlp(mlp_ln(x))        Linear(S, 4S) -> GELU (erf) -> Linear(4S, S)
 * Reads x, writes y (another slice of the hidden-state stack); the residual
 * adds are fused into the out / mlp.2 projections (x + f(x), as upstream).
 */
static void whisper_block(nn_ctx *c, const whisper_dims *d, nn_t x, nn_t y, int i) {
    char p[W_NAME_MAX];
    nn_mark_t m = nn_mark(c);
    w_key(p, "encoder.blocks.%d.attn_ln", i);
    nn_t h = nn_layer_norm(c, x, p, WHISPER_LN_EPS);
    w_key(p, "encoder.blocks.%d.attn.query", i);
    nn_t q = nn_linear(c, h, p);
    w_key(p, "encoder.blocks.%d.attn.key", i);
    nn_t k = nn_linear(c, h, p);
    w_key(p, "encoder.blocks.%d.attn.value", i);
    nn_t v = nn_linear(c, h, p);
    nn_t a = whisper_attention(c, q, k, v, d->n_audio_head);
    w_key(p, "encoder.blocks.%d.attn.out", i);
    nn_t x1 = nn_linear_res(c, a, p, x);

    w_key(p, "encoder.blocks.%d.mlp_ln", i);
    h = nn_layer_norm(c, x1, p, WHISPER_LN_EPS);
    w_key(p, "encoder.blocks.%d.mlp.0", i);
    h = nn_linear(c, h, p);
    nn_act_inplace(c, h, BK_ACT_GELU); /* nn.GELU(): exact erf form */
    w_key(p, "encoder.blocks.%d.mlp.2", i);
    nn_store(c, y, nn_linear_res(c, h, p, x1));
    nn_release(c, m);
}

/*
 * AudioEncoder.forward(x, include_embeddings=True):
 *   x = gelu(conv1(x)); x = gelu(conv2(x)); x = x.permute(0, 2, 1)
 *   x = (x + positional_embedding)          -> embeddings[0]
 *   for block in blocks: x = block(x)       -> embeddings[1..n_layer]
 *   (ln_post(x) is the returned audio_features, which EchoMimic discards)
 * The positional embedding is the checkpoint's stored buffer (float16 values
 * in the release, upcast), used as loaded.
 */
nn_t whisper_encoder_forward(nn_ctx *c, const whisper_dims *d, nn_t mel) {
    if (!nn_ok(c)) return NONE;
    const char *saved = c->net;
    c->net = "audio_model";
    const int S = d->n_audio_state, T = d->n_audio_ctx, L = d->n_audio_layer;
    nn_t out = NONE;
    if (mel.n != 1 || mel.h != 1 || mel.w != 2 * T || mel.c != d->n_mels) {
        nn_fail(c, ANIM_E_INVALID_ARG, "audio_model: mel segment of [%d, %d, %d, %d], want [1, 1, %d, %d]", mel.n,
                mel.h, mel.w, mel.c, 2 * T, d->n_mels);
    } else {
        nn_mark_t m = nn_mark(c);
        out = nn_new(c, L + 1, 1, T, S);
        nn_mark_t mt = nn_mark(c);
        nn_t h = whisper_conv1d(c, mel, "encoder.conv1", 1);
        nn_act_inplace(c, h, BK_ACT_GELU);
        h = whisper_conv1d(c, h, "encoder.conv2", 2);
        nn_act_inplace(c, h, BK_ACT_GELU);
        const void *pos = nn_w(c, NULL, "encoder.positional_embedding");
        if (nn_ok(c) && (h.w != T || h.c != S))
            nn_fail(c, ANIM_E_INTERNAL, "audio_model: conv front end gave [%d, %d], want [%d, %d]", h.w, h.c, T, S);
        if (nn_ok(c)) {
            nn_t pe = {(void *)pos, 1, 1, T, S};
            nn_axpby_into(c, nn_slice_n(c, out, 0, 1), 1.0f, h, 1.0f, pe);
        }
        nn_release(c, mt);
        for (int i = 0; i < L && nn_ok(c); i++)
            whisper_block(c, d, nn_slice_n(c, out, i, 1), nn_slice_n(c, out, i + 1, 1), i);
        if (!nn_ok(c)) {
            nn_release(c, m);
            out = NONE;
        }
    }
    c->net = saved;
    return out;
}

/* ---------------------------------------------------------------- Audio2Feature */

/* transcribe.py: seek runs over the whole mel in steps of N_FRAMES = 3000
 * (= 2 * n_audio_ctx: the encoder asserts the conv output matches the 1500
 * positional embeddings); each segment is mel[:, seek:seek+3000] padded to
 * 3000 with zeros, and audio2feat keeps int((end - start) / 2) positions of
 * it, end = min(seek + 3000, n_frames). */
static int whisper_seg_keep(const whisper_dims *d, int n_frames, int seek) {
    const int nf = 2 * d->n_audio_ctx;
    const int valid = n_frames - seek < nf ? n_frames - seek : nf;
    return valid / 2;
}

int whisper_feature_len(const whisper_dims *d, int n_frames) {
    int t = 0;
    for (int seek = 0; seek < n_frames; seek += 2 * d->n_audio_ctx) t += whisper_seg_keep(d, n_frames, seek);
    return t;
}

anim_status whisper_encode(nn_ctx *c, const whisper_dims *d, const float *mel, int n_frames, float **feature,
                           int *t50) {
    *feature = NULL;
    *t50 = 0;
    if (!nn_ok(c)) return c->st;
    const int M = d->n_mels, T = d->n_audio_ctx, S = d->n_audio_state, NS = d->n_audio_layer + 1, NF = 2 * T;
    const int total = whisper_feature_len(d, n_frames);
    if (!mel || total < 1)
        return nn_fail(c, ANIM_E_INVALID_ARG, "audio_model: a log-mel of %d frames keeps no 50 Hz position "
                       "(at least 2 frames, 20 ms of audio, are needed)", n_frames);
    const int n_seg = (n_frames + NF - 1) / NF;
    float *feat = malloc((size_t)total * NS * S * sizeof *feat);
    float *seg = malloc((size_t)NF * M * sizeof *seg);
    float *states = malloc((size_t)NS * T * S * sizeof *states);
    if (!feat || !seg || !states) {
        free(feat); free(seg); free(states);
        return nn_fail(c, ANIM_E_OOM, "audio_model: out of host memory for %d positions", total);
    }
    int done = 0;
    for (int si = 0, seek = 0; si < n_seg && nn_ok(c); si++, seek += NF) {
        if (anim_should_abort(c->hooks)) {
            nn_fail(c, ANIM_E_ABORTED, "audio encoding aborted by the caller");
            break;
        }
        /* mel[:, seek:seek+3000] transposed to frame-major, zero-padded (pad_or_trim) */
        const int valid = n_frames - seek < NF ? n_frames - seek : NF;
        memset(seg, 0, (size_t)NF * M * sizeof *seg);
        for (int f = 0; f < valid; f++)
            for (int k = 0; k < M; k++) seg[(size_t)f * M + k] = mel[(size_t)k * n_frames + seek + f];
        nn_mark_t m = nn_mark(c);
        nn_t st = whisper_encoder_forward(c, d, nn_from_host(c, seg, 1, 1, NF, M));
        if (nn_to_host(c, st, states)) {
            /* embeddings stacked on axis 1 and transposed (0, 2, 1, 3): [1500][n_layer+1][S] */
            const int keep = whisper_seg_keep(d, n_frames, seek);
            for (int t = 0; t < keep; t++)
                for (int l = 0; l < NS; l++)
                    memcpy(feat + (((size_t)(done + t) * NS + l) * S), states + (((size_t)l * T + t) * S),
                           (size_t)S * sizeof *feat);
            done += keep;
        }
        nn_release(c, m);
        anim_progress_simple(c->hooks, "audio", si + 1, n_seg);
    }
    free(seg);
    free(states);
    if (!nn_ok(c)) {
        free(feat);
        return c->st;
    }
    *feature = feat;
    *t50 = total;
    return ANIM_OK;
}

/* feature2chunks: whisper_idx_multiplier = 50. / fps; start_idx = int(i *
 * whisper_idx_multiplier), checked AFTER appending frame i. Two roundings
 * (50/fps, then the product), unlike get_sliced_feature's int(i * 50 / fps):
 * at fps 29, i = 145 they differ (249 vs 250). Python floats are IEEE
 * doubles; -ffp-contract=off keeps C's the same. */
int whisper_frame_count(int t50, double fps) {
    if (!(fps > 0.0) || !(fps < 1e6) || t50 < 1) return 0;
    const double mult = 50.0 / fps;
    /* below i0 = t50 * fps / 50 - 2, i * mult < t50 - 1: start the search there */
    long long i = (long long)((double)t50 * fps / 50.0) - 2;
    if (i < 0) i = 0;
    for (;; i++)
        if ((long long)((double)i * mult) > (long long)t50) return i + 1 > INT_MAX ? 0 : (int)(i + 1);
}

/* get_sliced_feature (audio_feat_length [2, 2]): center_idx = int(vid_idx *
 * 50 / fps) (the integer vid_idx * 50 divided once), left = center - 2*2,
 * right = center + (2+1)*2, positions range(left, right) clamped to
 * [0, length - 1]; feature_array[idx] is [n_states][S]; concatenated and
 * reshaped to (-1, S). */
void whisper_frame_tokens(const float *feature, int t50, int n_states, int S, int frame, double fps, float *out) {
    if (t50 < 1 || !(fps > 0.0)) { /* nothing to index (whisper_encode never returns t50 < 1) */
        memset(out, 0, (size_t)10 * n_states * S * sizeof *out);
        return;
    }
    const long long center = (long long)((double)((long long)frame * 50) / fps);
    const size_t step = (size_t)n_states * S;
    for (long long k = 0; k < 10; k++) {
        long long idx = center - 4 + k;
        idx = idx < 0 ? 0 : idx > t50 - 1 ? t50 - 1 : idx;
        memcpy(out + (size_t)k * step, feature + (size_t)idx * step, step * sizeof *out);
    }
}
