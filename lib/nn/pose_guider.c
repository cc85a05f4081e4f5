/* pose_guider.c - PoseGuider / FaceLocator weight-name table (see pose_guider.h). */
#include "nn/pose_guider.h"

#include <stdio.h>


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
