/* clip_vision.c - CLIP vision tower weight-name table (see clip_vision.h). */
#include "nn/clip_vision.h"

#include <stdio.h>


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
