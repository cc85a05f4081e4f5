/* clip_vision.c - CLIP vision tower: weight-name table and forward pass (see
 * clip_vision.h). Tokens are NHWC token matrices [n, 1, tokens, hidden]. */
#include "nn/clip_vision.h"

#include <stdio.h>

#include "nn/nn.h"


void clip_vision_weights(const clip_vision_config *c, w_list *l) {
    const int H = c->hidden_size, P = c->patch_size, npos = clip_vision_num_positions(c);
    char p[W_NAME_MAX], k[W_NAME_MAX];

    wl_add(l, 0, 1, H, 0, 0, 0, "vision_model.embeddings.class_embedding");
    wl_add(l, W_CONV, 4, H, c->num_channels, P, P, "vision_model.embeddings.patch_embedding.weight");
    wl_add(l, 0, 2, npos, H, 0, 0, "vision_model.embeddings.position_embedding.weight");
    wl_add(l, W_OPTIONAL | W_UNUSED, 2, 1, npos, 0, 0, "vision_model.embeddings.position_ids");
    wl_norm(l, "vision_model.pre_layrnorm", H);
    for (int i = 0; i < c->num_hidden_layers; i++) {
        w_key(p, "vision_model.encoder.layers.%d", i);
        static const char *const PROJ[4] = {"q_proj", "k_proj", "v_proj", "out_proj"};
        for (int j = 0; j < 4; j++) {
            w_key(k, "%s.self_attn.%s", p, PROJ[j]);
            wl_linear(l, k, H, H, true);
        }
        w_key(k, "%s.layer_norm1", p);
        wl_norm(l, k, H);
        w_key(k, "%s.mlp.fc1", p);
        wl_linear(l, k, c->intermediate_size, H, true);
        w_key(k, "%s.mlp.fc2", p);
        wl_linear(l, k, H, c->intermediate_size, true);
        w_key(k, "%s.layer_norm2", p);
        wl_norm(l, k, H);
    }
    wl_norm(l, "vision_model.post_layernorm", H);
    wl_linear(l, "visual_projection", c->projection_dim, H, false);
}

/* ---------------------------------------------------------------- forward */

/* dst[0, n) = a[0, n) + b[0, n) on backend pointers (views into tensors and weights) */
static void clip_add_into(nn_ctx *c, void *dst, const void *a, const void *b, size_t n, const char *what) {
    if (!nn_ok(c)) return;
    anim_error e;
    anim_status st = c->be->ops->axpby(c->be, 1.0f, a, b ? 1.0f : 0.0f, b, dst, n, &e);
    if (st != ANIM_OK) nn_fail(c, st, "%s: %s: %s", c->net, what, e.msg);
}

/*
 * transformers 4.30 CLIPVisionEmbeddings: patch_embedding (Conv2d, kernel =
 * stride = patch, no bias) -> flatten(2).transpose(1, 2) (row-major patches:
 * exactly the NHWC conv output read as tokens), cat([class_embedding, patches]),
 * + position_embedding(position_ids) over all num_positions. Returns x [n, 1, P + 1, H].
 * The concat is written in place: row 0 = class + pos[0], rows 1.. = patches + pos[1..],
 * the same two-operand sums as upstream's cat-then-add.
 */
static nn_t clip_embeddings(nn_ctx *c, const clip_vision_config *cfg, nn_t px) {
    const int H = cfg->hidden_size, npos = clip_vision_num_positions(cfg);
    nn_mark_t m = nn_mark(c);
    nn_t p = nn_conv(c, px, "vision_model.embeddings.patch_embedding", cfg->patch_size, 0);
    const void *cls = nn_w(c, NULL, "vision_model.embeddings.class_embedding");
    const void *pos = nn_w(c, NULL, "vision_model.embeddings.position_embedding.weight");
    if (!nn_ok(c)) return (nn_t){0};
    if (p.h * p.w + 1 != npos || p.c != H) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: %d x %d patches of %d channels for %d positions", c->net, p.h, p.w, p.c,
                npos);
        return (nn_t){0};
    }
    nn_t x = nn_new(c, px.n, 1, npos, H);
    for (int b = 0; b < px.n && nn_ok(c); b++) {
        void *xb = nn_ptr(c, x.d, (size_t)b * npos * H);
        clip_add_into(c, xb, cls, pos, (size_t)H, "class embedding");
        clip_add_into(c, nn_ptr(c, xb, (size_t)H), nn_ptr(c, p.d, (size_t)b * (npos - 1) * H), nn_ptr(c, pos, (size_t)H),
                      (size_t)(npos - 1) * H, "position embedding");
    }
    return nn_keep(c, m, x);
}

/*
 * transformers 4.30 CLIPEncoderLayer (pre-LN):
 *   x = x + out_proj(attn(q_proj(LN1 x), k_proj(..), v_proj(..)))
 *   x = x + fc2(act(fc1(LN2 x)))
 * CLIPAttention: heads of hidden/heads channels, q scaled by head_dim^-0.5
 * before q k^T (here the scale is applied to the scores: same math, rounding
 * aside), softmax in fp32, no mask (the vision tower has none). q/k/v/out all
 * have biases, unlike diffusers' to_q/to_k/to_v, so nn_attn's naming does not
 * apply. The residual adds are fused into out_proj / fc2.
 */
static nn_t clip_layer(nn_ctx *c, const clip_vision_config *cfg, nn_t x, int i) {
    char p[W_NAME_MAX];
    nn_mark_t m = nn_mark(c);
    w_key(p, "vision_model.encoder.layers.%d.layer_norm1", i);
    nn_t h = nn_layer_norm(c, x, p, (float)cfg->layer_norm_eps);
    w_key(p, "vision_model.encoder.layers.%d.self_attn.q_proj", i);
    nn_t q = nn_linear(c, h, p);
    w_key(p, "vision_model.encoder.layers.%d.self_attn.k_proj", i);
    nn_t k = nn_linear(c, h, p);
    w_key(p, "vision_model.encoder.layers.%d.self_attn.v_proj", i);
    nn_t v = nn_linear(c, h, p);
    nn_t none = {0};
    nn_t a = nn_attention(c, q, k, v, none, none, cfg->num_attention_heads);
    w_key(p, "vision_model.encoder.layers.%d.self_attn.out_proj", i);
    x = nn_linear_res(c, a, p, x);

    w_key(p, "vision_model.encoder.layers.%d.layer_norm2", i);
    h = nn_layer_norm(c, x, p, (float)cfg->layer_norm_eps);
    w_key(p, "vision_model.encoder.layers.%d.mlp.fc1", i);
    h = nn_linear(c, h, p);
    /* ACT2FN: "quick_gelu" = x * sigmoid(1.702 x) (the released ViT-L/14), "gelu" = erf GELU */
    h = nn_act(c, h, cfg->hidden_act == CLIP_ACT_GELU ? BK_ACT_GELU : BK_ACT_QUICK_GELU);
    w_key(p, "vision_model.encoder.layers.%d.mlp.fc2", i);
    x = nn_linear_res(c, h, p, x);
    return nn_keep(c, m, x);
}

/*
 * transformers 4.30 CLIPVisionModelWithProjection.forward(pixel_values).image_embeds:
 * CLIPVisionTransformer (embeddings, pre_layrnorm, encoder, post_layernorm on
 * last_hidden_state[:, 0]) then visual_projection (no bias). No L2
 * normalisation (Moore feeds image_embeds as is).
 */
nn_t clip_vision_embed(nn_ctx *c, const clip_vision_config *cfg, nn_t px) {
    if (!nn_ok(c)) return (nn_t){0};
    const char *saved = c->net;
    c->net = "image_encoder";
    const int H = cfg->hidden_size, npos = clip_vision_num_positions(cfg);
    nn_t y = {0};
    if (px.h != cfg->image_size || px.w != cfg->image_size || px.c != cfg->num_channels) {
        nn_fail(c, ANIM_E_INVALID_ARG, "image_encoder: pixels of [%d, %d, %d, %d], want [n, %d, %d, %d]", px.n, px.h,
                px.w, px.c, cfg->image_size, cfg->image_size, cfg->num_channels);
    } else {
        nn_mark_t m = nn_mark(c);
        nn_t x = clip_embeddings(c, cfg, px);
        x = nn_keep(c, m, nn_layer_norm(c, x, "vision_model.pre_layrnorm", (float)cfg->layer_norm_eps));
        for (int i = 0; i < cfg->num_hidden_layers; i++) x = nn_keep(c, m, clip_layer(c, cfg, x, i));
        /* pooled_output = last_hidden_state[:, 0, :]: the class token row of each image */
        y = nn_new(c, px.n, 1, 1, cfg->projection_dim);
        for (int b = 0; b < px.n && nn_ok(c); b++) {
            nn_mark_t mb = nn_mark(c);
            nn_t cls = {nn_ptr(c, x.d, (size_t)b * npos * H), 1, 1, 1, H};
            nn_t h = nn_layer_norm(c, cls, "vision_model.post_layernorm", (float)cfg->layer_norm_eps);
            h = nn_linear(c, h, "visual_projection");
            if (nn_ok(c)) clip_add_into(c, nn_ptr(c, y.d, (size_t)b * cfg->projection_dim), h.d, NULL,
                                        (size_t)cfg->projection_dim, "image_embeds");
            nn_release(c, mb);
        }
        y = nn_keep(c, m, y);
    }
    c->net = saved;
    return y;
}
