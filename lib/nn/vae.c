/*
 * vae.c - AutoencoderKL: weight-name table and forward passes (see vae.h).
 *
 * Channel plan (diffusers vae.py Encoder / Decoder):
 *   encoder.conv_in [b0, in]; down_blocks.i: resnets j (in: b_{i-1} for j == 0,
 *   else b_i), downsamplers.0.conv on all but the last level; mid_block at
 *   b_last; conv_norm_out; conv_out [2 x latent, b_last] (double_z).
 *   decoder.conv_in [b_last, latent]; mid_block; up_blocks.i at
 *   reversed(b)[i]: layers_per_block + 1 resnets (first input: previous
 *   level's width), upsamplers.0.conv on all but the last; conv_norm_out [b0];
 *   conv_out [out, b0].
 */
#include "nn/vae.h"

#include <stdio.h>

#include "nn/nn.h"
#include "nn/unet.h"


/* Attention(heads = 1, dim_head = C, bias = True, norm_num_groups, _from_deprecated_attn_block) */
static void mid_attention(w_list *l, const char *p, int C) {
    static const char *const NEW[4] = {"to_q", "to_k", "to_v", "to_out.0"};
    static const char *const OLD[4] = {"query", "key", "value", "proj_attn"};
    char k[W_NAME_MAX];
    w_key(k, "%s.group_norm", p);
    wl_norm(l, k, C);
    for (int i = 0; i < 4; i++) {
        wl_add(l, 0, 2, C, C, 0, 0, "%s.%s.weight", p, NEW[i]);
        w_key(k, "%s.%s.weight", p, OLD[i]);
        wl_alias_last(l, k);
        wl_add(l, 0, 1, C, 0, 0, 0, "%s.%s.bias", p, NEW[i]);
        w_key(k, "%s.%s.bias", p, OLD[i]);
        wl_alias_last(l, k);
    }
}

static void mid_block(w_list *l, const char *p, int C) {
    char k[W_NAME_MAX];
    w_key(k, "%s.resnets.0", p);
    unet_resnet_weights(l, k, C, C, 0);
    w_key(k, "%s.attentions.0", p);
    mid_attention(l, k, C);
    w_key(k, "%s.resnets.1", p);
    unet_resnet_weights(l, k, C, C, 0);
}

void vae_weights(const vae_config *c, w_list *l) {
    const int n = c->n_levels, L = c->layers_per_block, lat = c->latent_channels;
    const int *b = c->block_out_channels, last = b[n - 1];
    char p[W_NAME_MAX];

    wl_conv(l, "encoder.conv_in", b[0], c->in_channels, 3, true);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < L; j++) {
            w_key(p, "encoder.down_blocks.%d.resnets.%d", i, j);
            unet_resnet_weights(l, p, j == 0 ? (i == 0 ? b[0] : b[i - 1]) : b[i], b[i], 0);
        }
        if (i < n - 1) {
            w_key(p, "encoder.down_blocks.%d.downsamplers.0.conv", i);
            wl_conv(l, p, b[i], b[i], 3, true);
        }
    }
    mid_block(l, "encoder.mid_block", last);
    wl_norm(l, "encoder.conv_norm_out", last);
    wl_conv(l, "encoder.conv_out", 2 * lat, last, 3, true);

    wl_conv(l, "quant_conv", 2 * lat, 2 * lat, 1, true);
    wl_conv(l, "post_quant_conv", lat, lat, 1, true);

    wl_conv(l, "decoder.conv_in", last, lat, 3, true);
    mid_block(l, "decoder.mid_block", last);
    for (int i = 0; i < n; i++) {
        int out = b[n - 1 - i], prev = i == 0 ? last : b[n - i];
        for (int j = 0; j <= L; j++) {
            w_key(p, "decoder.up_blocks.%d.resnets.%d", i, j);
            unet_resnet_weights(l, p, j == 0 ? prev : out, out, 0);
        }
        if (i < n - 1) {
            w_key(p, "decoder.up_blocks.%d.upsamplers.0.conv", i);
            wl_conv(l, p, out, out, 3, true);
        }
    }
    wl_norm(l, "decoder.conv_norm_out", b[0]);
    wl_conv(l, "decoder.conv_out", c->out_channels, b[0], 3, true);
}

/* ---------------------------------------------------------------- forward */

/* GroupNorm eps of every VAE norm: diffusers Encoder/Decoder pass resnet_eps=1e-6
 * to their blocks, Attention(eps=resnet_eps) and conv_norm_out(eps=1e-6). */
#define VAE_EPS 1e-6f


/*
 * diffusers 0.24 attention_processor.py Attention as built by UNetMidBlock2D
 * for the VAE (heads = 1, dim_head = C, bias = True, group_norm eps 1e-6,
 * residual_connection = True, rescale_output_factor = 1; AttnProcessor):
 * x -> GroupNorm -> tokens [N, HW, C] -> softmax(q k^T / sqrt(C)) v -> to_out.0
 * -> + x. NHWC is already the token layout, so no transpose is needed.
 * (upcast_softmax only matters in fp16; the backends compute softmax in fp32.)
 */
static nn_t vae_mid_attention(nn_ctx *c, nn_t x, const char *p, int groups) {
    char k[W_NAME_MAX];
    nn_mark_t m = nn_mark(c);
    w_key(k, "%s.group_norm", p);
    nn_t h = nn_group_norm(c, x, k, groups, VAE_EPS, false);
    nn_t none = {0};
    h = nn_attn(c, h, none, none, p, 1);
    h = nn_add(c, h, x); /* residual_connection; "/ rescale_output_factor (1)" is exact */
    return nn_keep(c, m, h);
}

/* diffusers UNetMidBlock2D (temb None, one attention): resnet, attention, resnet */
static nn_t vae_mid_block(nn_ctx *c, nn_t x, const char *p, int groups, nn_mark_t m) {
    char k[W_NAME_MAX];
    nn_t none = {0};
    w_key(k, "%s.resnets.0", p);
    x = nn_keep(c, m, nn_resnet(c, x, k, none, groups, VAE_EPS, 1.0f));
    w_key(k, "%s.attentions.0", p);
    x = nn_keep(c, m, vae_mid_attention(c, x, k, groups));
    w_key(k, "%s.resnets.1", p);
    return nn_keep(c, m, nn_resnet(c, x, k, none, groups, VAE_EPS, 1.0f));
}

/* The latent size the encoder gives for an H x W image: each Downsample2D
 * (F.pad (0,1,0,1), conv 3x3 stride 2 pad 0) maps n to (n + 1 - 3) / 2 + 1 = floor(n / 2). */
static int vae_enc_size(const vae_config *cfg, int n) {
    for (int i = 0; i + 1 < cfg->n_levels; i++) n = n < 2 ? 0 : (n - 2) / 2 + 1;
    return n;
}

/*
 * One image through diffusers 0.24 vae.py Encoder + AutoencoderKL.quant_conv,
 * keeping only DiagonalGaussianDistribution.mean = moments[:, :latent].
 * Every intermediate is released as soon as the next exists (nn_keep to the
 * mark taken on entry), so the peak is one block's working set.
 */
static nn_t vae_encode_frame(nn_ctx *c, const vae_config *cfg, nn_t x) {
    const int G = cfg->norm_num_groups, n = cfg->n_levels, lat = cfg->latent_channels;
    char k[W_NAME_MAX];
    nn_t none = {0};
    nn_mark_t m = nn_mark(c);
    nn_t h = nn_conv(c, x, "encoder.conv_in", 1, 1);
    for (int i = 0; i < n; i++) {
        /* DownEncoderBlock2D: layers_per_block resnets (no time embedding) */
        for (int j = 0; j < cfg->layers_per_block; j++) {
            w_key(k, "encoder.down_blocks.%d.resnets.%d", i, j);
            h = nn_keep(c, m, nn_resnet(c, h, k, none, G, VAE_EPS, 1.0f));
        }
        if (i + 1 < n) {
            /* Downsample2D(use_conv, padding=0): F.pad(x, (0, 1, 0, 1)) - one zero
             * column on the right and one row at the bottom - then conv 3x3 stride 2
             * with no padding (unlike the UNet's symmetric pad 1) */
            w_key(k, "encoder.down_blocks.%d.downsamplers.0.conv", i);
            h = nn_keep(c, m, nn_conv_res(c, h, k, 2, 0, 0, 1, 1, none));
        }
    }
    h = vae_mid_block(c, h, "encoder.mid_block", G, m);
    h = nn_keep(c, m, nn_group_norm(c, h, "encoder.conv_norm_out", G, VAE_EPS, true)); /* + conv_act SiLU */
    h = nn_keep(c, m, nn_conv(c, h, "encoder.conv_out", 1, 1));                      /* 2 x latent (double_z) */

    /* quant_conv is 1x1 over 2*latent channels; the mean is output channels
     * [0, latent) (moments.chunk(2, dim=1)[0]). With OHWI weights those are the
     * first latent*2*latent weights and the first latent biases, so run the conv
     * for those outputs only rather than slicing channels afterwards. */
    const w_spec *s;
    const void *w = nn_w(c, &s, "quant_conv.weight");
    const void *b = nn_w(c, NULL, "quant_conv.bias");
    if (!nn_ok(c)) return (nn_t){0};
    if (s->ndim != 4 || s->shape[0] != 2 * lat || s->shape[1] != h.c || s->shape[2] != 1 || s->shape[3] != 1) {
        nn_fail(c, ANIM_E_INTERNAL, "%s: quant_conv is not a 1x1 conv from %d to %d channels", c->net, h.c, 2 * lat);
        return (nn_t){0};
    }
    nn_t y = nn_new(c, h.n, h.h, h.w, lat);
    if (!nn_ok(c)) return (nn_t){0};
    bk_conv2d a = {.x = h.d, .wt = w, .bias = b, .y = y.d, .n = h.n, .h = h.h, .w = h.w,
                   .cin = h.c, .cout = lat, .kh = 1, .kw = 1, .stride = 1};
    anim_error e;
    anim_status st = c->be->ops->conv2d(c->be, &a, &e);
    if (st != ANIM_OK) nn_fail(c, st, "%s: quant_conv: %s", c->net, e.msg);
    return nn_keep(c, m, y);
}

/*
 * One latent through diffusers 0.24 AutoencoderKL._decode: post_quant_conv,
 * then vae.py Decoder: conv_in, UNetMidBlock2D, UpDecoderBlock2D x n (deepest
 * first, as stored: decoder.up_blocks.0 runs first), conv_norm_out + SiLU, conv_out.
 */
static nn_t vae_decode_frame(nn_ctx *c, const vae_config *cfg, nn_t z) {
    const int G = cfg->norm_num_groups, n = cfg->n_levels;
    char k[W_NAME_MAX];
    nn_t none = {0};
    nn_mark_t m = nn_mark(c);
    nn_t h = nn_conv(c, z, "post_quant_conv", 1, 0);
    h = nn_keep(c, m, nn_conv(c, h, "decoder.conv_in", 1, 1));
    h = vae_mid_block(c, h, "decoder.mid_block", G, m);
    for (int i = 0; i < n; i++) {
        /* UpDecoderBlock2D: layers_per_block + 1 resnets */
        for (int j = 0; j <= cfg->layers_per_block; j++) {
            w_key(k, "decoder.up_blocks.%d.resnets.%d", i, j);
            h = nn_keep(c, m, nn_resnet(c, h, k, none, G, VAE_EPS, 1.0f));
        }
        if (i + 1 < n) {
            /* Upsample2D(use_conv): F.interpolate(scale_factor=2, mode="nearest"), conv 3x3 pad 1 */
            h = nn_upsample(c, h, 2 * h.h, 2 * h.w);
            w_key(k, "decoder.up_blocks.%d.upsamplers.0.conv", i);
            h = nn_keep(c, m, nn_conv(c, h, k, 1, 1));
        }
    }
    h = nn_keep(c, m, nn_group_norm(c, h, "decoder.conv_norm_out", G, VAE_EPS, true)); /* + conv_act SiLU */
    return nn_keep(c, m, nn_conv(c, h, "decoder.conv_out", 1, 1));
}

typedef nn_t (*vae_frame_fn)(nn_ctx *c, const vae_config *cfg, nn_t x);

/* Run fn on each image of x separately (the networks are per image; doing one
 * at a time bounds the scratch to one image's activations) into one output of
 * [x.n, oh, ow, oc] allocated first. */
static nn_t vae_per_frame(nn_ctx *c, const vae_config *cfg, nn_t x, vae_frame_fn fn, int oh, int ow, int oc) {
    if (x.n == 1) return fn(c, cfg, x);
    nn_t y = nn_new(c, x.n, oh, ow, oc);
    for (int f = 0; f < x.n && nn_ok(c); f++) {
        nn_mark_t m = nn_mark(c);
        nn_t yf = fn(c, cfg, nn_slice_n(c, x, f, 1));
        if (nn_ok(c) && (yf.h != oh || yf.w != ow || yf.c != oc))
            nn_fail(c, ANIM_E_INTERNAL, "%s: frame gave [%d, %d, %d], expected [%d, %d, %d]", c->net, yf.h, yf.w,
                    yf.c, oh, ow, oc);
        nn_store(c, nn_slice_n(c, y, f, 1), yf);
        nn_release(c, m);
    }
    return nn_ok(c) ? y : (nn_t){0};
}

/* The caller's c->net is restored on return: the forward passes select the
 * "vae" weights themselves. */
nn_t vae_encode_mean(nn_ctx *c, const vae_config *cfg, nn_t img) {
    if (!nn_ok(c)) return (nn_t){0};
    const char *saved = c->net;
    c->net = "vae";
    nn_t y = {0};
    int lh = vae_enc_size(cfg, img.h), lw = vae_enc_size(cfg, img.w);
    if (img.c != cfg->in_channels || lh < 1 || lw < 1)
        nn_fail(c, ANIM_E_INVALID_ARG, "vae: cannot encode an image of [%d, %d, %d, %d] (want %d channels, "
                "at least %d pixels a side)", img.n, img.h, img.w, img.c, cfg->in_channels, 1 << (cfg->n_levels - 1));
    else
        y = vae_per_frame(c, cfg, img, vae_encode_frame, lh, lw, cfg->latent_channels);
    c->net = saved;
    return y;
}

nn_t vae_decode(nn_ctx *c, const vae_config *cfg, nn_t z) {
    if (!nn_ok(c)) return (nn_t){0};
    const char *saved = c->net;
    c->net = "vae";
    nn_t y = {0};
    const int up = 1 << (cfg->n_levels - 1);
    if (z.c != cfg->latent_channels || z.h > (1 << 16) || z.w > (1 << 16))
        nn_fail(c, ANIM_E_INVALID_ARG, "vae: cannot decode a latent of [%d, %d, %d, %d] (want %d channels)", z.n,
                z.h, z.w, z.c, cfg->latent_channels);
    else
        y = vae_per_frame(c, cfg, z, vae_decode_frame, z.h * up, z.w * up, cfg->out_channels);
    c->net = saved;
    return y;
}
