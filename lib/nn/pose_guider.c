/* pose_guider.c - PoseGuider / FaceLocator: weight-name table and forward pass (see pose_guider.h). */
#include "nn/pose_guider.h"

#include <stdio.h>

#include "nn/nn.h"


int pose_guider_num_blocks(const pose_guider_config *c) { return 2 * (c->n_blocks - 1); }

void pose_guider_weights(const pose_guider_config *c, w_list *l) {
    const int *b = c->block_out_channels;
    char k[W_NAME_MAX];
    wl_conv(l, "conv_in", b[0], c->conditioning_channels, 3, true);
    for (int i = 0; i + 1 < c->n_blocks; i++) {
        w_key(k, "blocks.%d", 2 * i);
        wl_conv(l, k, b[i], b[i], 3, true);
        w_key(k, "blocks.%d", 2 * i + 1);
        wl_conv(l, k, b[i + 1], b[i], 3, true);
    }
    wl_conv(l, "conv_out", c->conditioning_embedding_channels, b[c->n_blocks - 1], 3, true);
}

/* ---------------------------------------------------------------- forward */

/* conv 3x3 pad 1 (stride s) then F.silu, applied in place on the conv output
 * (the backend act op may alias) so no second buffer is needed */
static nn_t pg_conv_silu(nn_ctx *c, nn_t x, const char *key, int stride) {
    nn_t y = nn_conv(c, x, key, stride, 1);
    if (!nn_ok(c)) return y;
    anim_error e;
    anim_status st = c->be->ops->act(c->be, BK_ACT_SILU, y.d, y.d, nn_numel(y), &e);
    if (st != ANIM_OK) nn_fail(c, st, "%s: %s silu: %s", c->net, key, e.msg);
    return nn_ok(c) ? y : (nn_t){0};
}

/* One frame through Moore src/models/pose_guider.py PoseGuider.forward (its
 * InflatedConv3d layers are plain Conv2d per frame). */
static nn_t pg_frame(nn_ctx *c, const pose_guider_config *cfg, nn_t x) {
    char k[W_NAME_MAX];
    nn_mark_t m = nn_mark(c);
    nn_t h = pg_conv_silu(c, x, "conv_in", 1);
    for (int i = 0; i < pose_guider_num_blocks(cfg); i++) {
        w_key(k, "blocks.%d", i);
        /* blocks alternate: conv at the same width (stride 1), conv to the next width (stride 2) */
        h = nn_keep(c, m, pg_conv_silu(c, h, k, i % 2 ? 2 : 1));
    }
    return nn_keep(c, m, nn_conv(c, h, "conv_out", 1, 1)); /* no activation after conv_out */
}

/*
 * Moore src/models/pose_guider.py PoseGuider (ControlNet's conditioning
 * embedding): conv_in + SiLU, (conv s1 + SiLU, conv s2 + SiLU) per pair of
 * block_out_channels, conv_out; all 3x3 pad 1 with bias. Upstream runs all
 * frames as one batch; the convs are per frame, so frames are run one at a
 * time here to bound the full-resolution scratch, into one output.
 */
nn_t pose_guider_forward(nn_ctx *c, const pose_guider_config *cfg, nn_t pose) {
    if (!nn_ok(c)) return (nn_t){0};
    const char *saved = c->net;
    c->net = "pose_guider";
    int oh = pose.h, ow = pose.w;
    for (int i = 0; i + 1 < cfg->n_blocks; i++) { /* conv 3x3 stride 2 pad 1: ceil(n / 2) */
        oh = (oh - 1) / 2 + 1;
        ow = (ow - 1) / 2 + 1;
    }
    nn_t y = {0};
    if (pose.c != cfg->conditioning_channels) {
        nn_fail(c, ANIM_E_INVALID_ARG, "pose_guider: input of %d channels, want %d", pose.c,
                cfg->conditioning_channels);
    } else if (pose.n == 1) {
        y = pg_frame(c, cfg, pose);
    } else {
        y = nn_new(c, pose.n, oh, ow, cfg->conditioning_embedding_channels);
        for (int f = 0; f < pose.n && nn_ok(c); f++) {
            nn_mark_t m = nn_mark(c);
            nn_t yf = pg_frame(c, cfg, nn_slice_n(c, pose, f, 1));
            if (nn_ok(c) && nn_numel(yf) * pose.n != nn_numel(y))
                nn_fail(c, ANIM_E_INTERNAL, "pose_guider: frame gave [%d, %d, %d], expected [%d, %d, %d]", yf.h,
                        yf.w, yf.c, oh, ow, y.c);
            if (nn_ok(c)) {
                anim_error e;
                anim_status st = c->be->ops->axpby(c->be, 1.0f, yf.d, 0.0f, NULL,
                                                   nn_slice_n(c, y, f, 1).d, nn_numel(yf), &e);
                if (st != ANIM_OK) nn_fail(c, st, "pose_guider: store frame %d: %s", f, e.msg);
            }
            nn_release(c, m);
        }
        if (!nn_ok(c)) y = (nn_t){0};
    }
    c->net = saved;
    return y;
}
