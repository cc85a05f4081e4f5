/*
 * unet.c - UNet weight-name tables and channel plan (see unet.h).
 *
 * Mirrors diffusers 0.24 UNet2DConditionModel / Moore UNet3DConditionModel
 * construction: conv_in, time_embedding, down_blocks (resnets, attentions,
 * downsamplers), mid_block (resnet, attention, resnet), up_blocks (resnets,
 * attentions, upsamplers), then conv_norm_out / conv_out for the denoising
 * UNet only. Conv weights (InflatedConv3d = per-frame Conv2d) are 4-D.
 *
 * Forward passes (second half of the file), on the backend ops through nn.h,
 * reproducing Moore-AnimateAnyone @ a914ef3 with diffusers 0.24:
 *   unet_reference_bank  src/models/unet_2d_condition.py UNet2DConditionModel
 *                        with ReferenceAttentionControl(mode="write", fusion_blocks="full")
 *   unet_denoise(_ex)    src/models/unet_3d.py UNet3DConditionModel with
 *                        ReferenceAttentionControl(mode="read") and the motion modules
 * and EchoMimic V1 (antgroup/echomimic @ a53e970), the same code with:
 *   - a reference UNet whose BasicTransformerBlocks have no norm2/attn2
 *     (src/models/attention.py), run with encoder_hidden_states=None;
 *   - src/models/unet_3d_echo.py EchoUNet3DConditionModel: face_musk_fea added
 *     after conv_in (broadcast over frames), audio_cond_fea as attn2's context,
 *     per frame (transformer_3d.py "b f n c -> (b f) n c"), attn2's output
 *     times audio_feature_ratio = 3.0 (mutual_self_attention.py).
 * Activations are NHWC with frames folded into n (sample-major: b * F + f), which
 * is exactly the "(b f) c h w" layout Moore's 3-D blocks rearrange to, so every
 * 2-D layer runs per frame without copies; GroupNorm statistics are per frame
 * (InflatedGroupNorm, use_inflated_groupnorm: true).
 *
 * Memory: one stack arena. The skip tensors the down path pushes stay where they
 * were made; each stage keeps its output just above the previous one (nn_keep
 * to a mark) so temporaries never pile up, and popping a skip in the up path
 * releases it together with everything above it.
 */
#include "nn/unet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/motion_module.h"


int unet_temb_channels(const unet_config *c) { return 4 * c->block_out_channels[0]; }

int unet_down_resnet_in(const unet_config *c, int i, int j) {
    if (j > 0) return c->block_out_channels[i];
    return i == 0 ? c->block_out_channels[0] : c->block_out_channels[i - 1];
}

static int rev_boc(const unet_config *c, int i) {
    if (i > c->n_levels - 1) i = c->n_levels - 1;
    return c->block_out_channels[c->n_levels - 1 - i];
}

int unet_up_out_channels(const unet_config *c, int i) { return rev_boc(c, i); }

int unet_up_skip_channels(const unet_config *c, int i, int j) {
    /* diffusers: res_skip_channels = in_channels if (j == num_layers - 1) else out_channels,
     * with in_channels = reversed_block_out_channels[min(i + 1, n - 1)] */
    return j == c->layers_per_block ? rev_boc(c, i + 1) : rev_boc(c, i);
}

int unet_up_resnet_in(const unet_config *c, int i, int j) {
    int prev_out = i == 0 ? rev_boc(c, 0) : rev_boc(c, i - 1);
    int hidden = j == 0 ? prev_out : rev_boc(c, i);
    return hidden + unet_up_skip_channels(c, i, j);
}

void unet_resnet_weights(w_list *l, const char *p, int in, int out, int temb) {
    char k[W_NAME_MAX];
    w_key(k, "%s.norm1", p);
    wl_norm(l, k, in);
    w_key(k, "%s.conv1", p);
    wl_conv(l, k, out, in, 3, true);
    if (temb > 0) {
        w_key(k, "%s.time_emb_proj", p);
        wl_linear(l, k, out, temb, true);
    }
    w_key(k, "%s.norm2", p);
    wl_norm(l, k, out);
    w_key(k, "%s.conv2", p);
    wl_conv(l, k, out, out, 3, true);
    if (in != out) {
        w_key(k, "%s.conv_shortcut", p);
        wl_conv(l, k, out, in, 1, true);
    }
}

void unet_ff_weights(w_list *l, const char *p, int dim) {
    char k[W_NAME_MAX];
    w_key(k, "%s.net.0.proj", p);
    wl_linear(l, k, 2 * 4 * dim, dim, true);
    w_key(k, "%s.net.2", p);
    wl_linear(l, k, dim, 4 * dim, true);
}

void unet_attn_weights(w_list *l, const char *p, int query_dim, int kv_dim, int inner) {
    wl_add(l, 0, 2, inner, query_dim, 0, 0, "%s.to_q.weight", p);
    wl_add(l, 0, 2, inner, kv_dim, 0, 0, "%s.to_k.weight", p);
    wl_add(l, 0, 2, inner, kv_dim, 0, 0, "%s.to_v.weight", p);
    char k[W_NAME_MAX];
    w_key(k, "%s.to_out.0", p);
    wl_linear(l, k, query_dim, inner, true);
}

/* Transformer2DModel / Moore Transformer3DModel with use_linear_projection
 * false and one BasicTransformerBlock: GroupNorm, proj_in 1x1 conv, block,
 * proj_out 1x1 conv. inner = heads x (C // heads) (= C after unet_config_check). */
static void transformer(w_list *l, const char *p, int C, int heads, int cross_dim, bool cross) {
    int inner = heads * (C / heads);
    char k[W_NAME_MAX];
    w_key(k, "%s.norm", p);
    wl_norm(l, k, C);
    w_key(k, "%s.proj_in", p);
    wl_conv(l, k, inner, C, 1, true);
    w_key(k, "%s.transformer_blocks.0.norm1", p);
    wl_norm(l, k, inner);
    w_key(k, "%s.transformer_blocks.0.attn1", p);
    unet_attn_weights(l, k, inner, inner, inner);
    if (cross) {
        w_key(k, "%s.transformer_blocks.0.norm2", p);
        wl_norm(l, k, inner);
        w_key(k, "%s.transformer_blocks.0.attn2", p);
        unet_attn_weights(l, k, inner, cross_dim, inner);
    }
    w_key(k, "%s.transformer_blocks.0.norm3", p);
    wl_norm(l, k, inner);
    w_key(k, "%s.transformer_blocks.0.ff", p);
    unet_ff_weights(l, k, inner);
    w_key(k, "%s.proj_out", p);
    wl_conv(l, k, C, inner, 1, true);
}

void unet_weights(const unet_config *c, unet_kind kind, unsigned flags, w_list *l) {
    const int n = c->n_levels, L = c->layers_per_block, c0 = c->block_out_channels[0];
    const int temb = unet_temb_channels(c), xd = c->cross_attention_dim;
    const bool cross = !(flags & UNET_NO_CROSS_ATTN);
    char p[W_NAME_MAX];

    wl_conv(l, "conv_in", c0, c->in_channels, 3, true);
    wl_linear(l, "time_embedding.linear_1", temb, c0, true);
    wl_linear(l, "time_embedding.linear_2", temb, temb, true);

    for (int i = 0; i < n; i++) {
        int C = c->block_out_channels[i];
        for (int j = 0; j < L; j++) {
            w_key(p, "down_blocks.%d.resnets.%d", i, j);
            unet_resnet_weights(l, p, unet_down_resnet_in(c, i, j), C, temb);
            if (c->down_attn[i]) {
                w_key(p, "down_blocks.%d.attentions.%d", i, j);
                transformer(l, p, C, unet_config_down_heads(c, i), xd, cross);
            }
        }
        if (i < n - 1) { /* Downsample2D(use_conv=True): conv 3x3 stride 2 */
            w_key(p, "down_blocks.%d.downsamplers.0.conv", i);
            wl_conv(l, p, C, C, 3, true);
        }
    }

    const int Cm = c->block_out_channels[n - 1];
    unet_resnet_weights(l, "mid_block.resnets.0", Cm, Cm, temb);
    transformer(l, "mid_block.attentions.0", Cm, unet_config_mid_heads(c), xd, cross);
    unet_resnet_weights(l, "mid_block.resnets.1", Cm, Cm, temb);

    for (int i = 0; i < n; i++) {
        int C = unet_up_out_channels(c, i);
        for (int j = 0; j <= L; j++) {
            w_key(p, "up_blocks.%d.resnets.%d", i, j);
            unet_resnet_weights(l, p, unet_up_resnet_in(c, i, j), C, temb);
            if (c->up_attn[i]) {
                w_key(p, "up_blocks.%d.attentions.%d", i, j);
                transformer(l, p, C, unet_config_up_heads(c, i), xd, cross);
            }
        }
        if (i < n - 1) { /* Upsample2D(use_conv=True): nearest x2 then conv 3x3 */
            w_key(p, "up_blocks.%d.upsamplers.0.conv", i);
            wl_conv(l, p, C, C, 3, true);
        }
    }

    if (kind == UNET_DENOISING) {
        wl_norm(l, "conv_norm_out", c0);
        wl_conv(l, "conv_out", c->out_channels, c0, 3, true);
    }
}

/* ---------------------------------------------------------------- transformer-block lists */

static int tblock_channels(const unet_config *c, unet_section s, int level) {
    if (s == UNET_SEC_DOWN) return c->block_out_channels[level];
    if (s == UNET_SEC_UP) return unet_up_out_channels(c, level);
    return c->block_out_channels[c->n_levels - 1];
}

/* walk the blocks in DFS order, filling out[] and/or ch[] (first max entries) */
static int tblock_walk(const unet_config *c, unet_tblock *out, int *ch, int max) {
    /* UNet2DConditionModel / UNet3DConditionModel.__init__ assign down_blocks and
     * up_blocks (as ModuleLists) before mid_block, so named_modules / torch_dfs visit
     * down, up, mid; inside a block only `attentions` holds BasicTransformerBlocks
     * (Moore's motion modules are TemporalTransformerBlocks, not patched). */
    const int n = c->n_levels, L = c->layers_per_block;
    int k = 0;
    for (int s = UNET_SEC_DOWN; s <= UNET_SEC_MID; s++) {
        int levels = s == UNET_SEC_MID ? 1 : n;
        for (int i = 0; i < levels; i++) {
            int per = s == UNET_SEC_DOWN ? (c->down_attn[i] ? L : 0)
                    : s == UNET_SEC_UP   ? (c->up_attn[i] ? L + 1 : 0)
                                         : 1;
            for (int j = 0; j < per; j++, k++) {
                if (k >= max) continue;
                int C = tblock_channels(c, (unet_section)s, i);
                if (out) out[k] = (unet_tblock){(unet_section)s, i, j, C};
                if (ch) ch[k] = C;
            }
        }
    }
    return k;
}

int unet_tblocks(const unet_config *c, unet_tblock *out, int max) { return tblock_walk(c, out, NULL, max); }

void unet_tblock_name(const unet_tblock *b, char *buf, size_t len) {
    if (b->section == UNET_SEC_MID)
        snprintf(buf, len, "mid_block.attentions.0.transformer_blocks.0");
    else
        snprintf(buf, len, "%s_blocks.%d.attentions.%d.transformer_blocks.0", b->section == UNET_SEC_DOWN ? "down" : "up",
                 b->level, b->index);
}

/* DFS index of a block (see unet_tblocks) without building the list */
static int tblock_dfs(const unet_config *c, unet_section s, int level, int j) {
    const int n = c->n_levels, L = c->layers_per_block;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (s == UNET_SEC_DOWN && i == level) return k + j;
        k += c->down_attn[i] ? L : 0;
    }
    for (int i = 0; i < n; i++) {
        if (s == UNET_SEC_UP && i == level) return k + j;
        k += c->up_attn[i] ? L + 1 : 0;
    }
    return k;
}

/* indices 0..n-1 stable-sorted by descending ch[] (Python sorted(key=-C) is stable) */
static void sort_desc_stable(const int *ch, int n, int *idx) {
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && ch[idx[j - 1]] < ch[i]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
}

int unet_bank_pairing(const unet_config *reader, const int *writer_channels, int n_writer, int *reader_to_writer) {
    _Static_assert(UNET_MAX_TBLOCKS <= 4096, "pairing scratch lives on the stack");
    int rch[UNET_MAX_TBLOCKS], ri[UNET_MAX_TBLOCKS], wi[UNET_MAX_TBLOCKS];
    int nr = tblock_walk(reader, NULL, rch, UNET_MAX_TBLOCKS);
    if (nr > UNET_MAX_TBLOCKS || n_writer > UNET_MAX_TBLOCKS || n_writer < 0) return -1;
    sort_desc_stable(rch, nr, ri);
    sort_desc_stable(writer_channels, n_writer, wi);
    for (int k = 0; k < nr; k++) reader_to_writer[k] = -1;
    for (int k = 0; k < nr && k < n_writer; k++) reader_to_writer[ri[k]] = wi[k];
    return nr;
}

/* ---------------------------------------------------------------- forward */

#define UNET_TF_GN_EPS 1e-6f /* Transformer2DModel / Transformer3DModel: GroupNorm(..., eps=1e-6) */
#define UNET_LN_EPS 1e-5f    /* BasicTransformerBlock norm1/2/3: nn.LayerNorm default eps */

static const nn_t NONE = {0};

/* state of one UNet pass */
typedef struct urun {
    nn_ctx *c;
    const unet_config *cfg;
    int B, F;                  /* samples, frames per sample */
    nn_t temb;                 /* [1, 1, 1, 4 C0]: TimestepEmbedding output, one timestep for all samples */
    nn_t enc;                  /* [B * F, 1, T, D]: attn2 context per frame ({0}: none given) */
    float xscale;              /* attn2 output factor (EchoMimic audio_feature_ratio) */
    bool motion;               /* run the motion modules (denoising UNet) */
    unet_bank *write;          /* writer: where LN1 outputs go */
    int written;
    bool stop;                 /* writer: every bank is written, the rest is dead */
    const unet_bank *read;     /* reader */
    const int *pair;           /* reader DFS index -> writer DFS index or -1 */
} urun;

/* diffusers Timesteps(C0, flip_sin_to_cos, freq_shift) on the host (float32, as
 * get_timestep_embedding), then TimestepEmbedding: linear_1 -> SiLU -> linear_2 */
static nn_t time_embedding(nn_ctx *c, const unet_config *cfg, float t) {
    const int C0 = cfg->block_out_channels[0];
    float *e = malloc((size_t)C0 * sizeof *e);
    if (!e) {
        nn_fail(c, ANIM_E_OOM, "%s: out of memory", c->net);
        return NONE;
    }
    anim_timestep_embedding(e, t, C0, cfg->flip_sin_to_cos, (float)cfg->freq_shift);
    nn_mark_t m = nn_mark(c);
    nn_t h = nn_from_host(c, e, 1, 1, 1, C0);
    free(e);
    h = nn_linear(c, h, "time_embedding.linear_1");
    h = nn_act(c, h, BK_ACT_SILU);
    h = nn_linear(c, h, "time_embedding.linear_2");
    return nn_keep(c, m, h);
}

/* Transformer3DModel: repeat(encoder_hidden_states, "b n c -> (b f) n c") */
static nn_t expand_frames(nn_ctx *c, nn_t e, int F) {
    if (F == 1) return e;
    nn_t y = nn_new(c, e.n * F, e.h, e.w, e.c);
    for (int b = 0; b < e.n && nn_ok(c); b++)
        for (int f = 0; f < F; f++) nn_store(c, nn_slice_n(c, y, b * F + f, 1), nn_slice_n(c, e, b, 1));
    return nn_ok(c) ? y : NONE;
}

/* The bank of reader block `dfs`: the cond sample's LN1 tokens as a [1, 1, hw, C]
 * view (one segment broadcast to every frame), or {0} if the block has none. */
static nn_t reader_ref(urun *r, int dfs, int channels) {
    if (!r->read || r->pair[dfs] < 0 || r->pair[dfs] >= r->read->n) return NONE;
    nn_t t = r->read->t[r->pair[dfs]];
    if (t.c != channels) {
        /* upstream: torch.cat along tokens fails on a channel mismatch */
        nn_fail(r->c, ANIM_E_INVALID_ARG, "%s: reference bank %d has %d channels, block %d has %d", r->c->net,
                r->pair[dfs], t.c, dfs, channels);
        return NONE;
    }
    t = nn_slice_n(r->c, t, t.n - 1, 1);
    return nn_reshape(t, 1, 1, t.h * t.w, t.c);
}

/*
 * BasicTransformerBlock (diffusers attention.py / Moore TemporalBasicTransformerBlock)
 * as patched by mutual_self_attention.py hacked_basic_transformer_inner_forward,
 * on tokens h [B*F, hw, C]:
 *   n1 = norm1(h)                         writer: bank <- n1 (all of it)
 *   h  = attn1(n1, kv = [n1 ; bank]) + h  reader, cond sample; the uncond sample's
 *                                         rows are overwritten upstream with plain
 *                                         attn1(n1) + h, so only that is computed
 *   h  = s * attn2(norm2(h), kv = enc) + h
 *                                         s = 1 (Moore) or 3 (EchoMimic audio_feature_ratio;
 *                                         enc = the frame's audio tokens); absent in
 *                                         EchoMimic's reference UNet, whose blocks have
 *                                         no attn2 (and whose write-mode forward has
 *                                         no cross-attention step at all)
 *   h  = ff(norm3(h)) + h
 */
static nn_t basic_block(urun *r, nn_t h, const char *p, int heads, int dfs) {
    nn_ctx *c = r->c;
    char k[W_NAME_MAX];
    nn_mark_t m = nn_mark(c);
    w_key(k, "%s.norm1", p);
    nn_t n1 = nn_layer_norm(c, h, k, UNET_LN_EPS);
    if (r->write) {
        nn_t dst = r->write->t[dfs];
        if (nn_ok(c) && (dst.n != n1.n || dst.h * dst.w != n1.h * n1.w || dst.c != n1.c))
            nn_fail(c, ANIM_E_INTERNAL, "%s: bank %d is [%d, %d, %d], block gives [%d, %d, %d]", c->net, dfs, dst.n,
                    dst.h * dst.w, dst.c, n1.n, n1.h * n1.w, n1.c);
        nn_store(c, dst, n1);
        if (++r->written == r->write->n) { /* the last write: nothing after it is used */
            r->stop = true;
            nn_release(c, m);
            return h;
        }
    }
    w_key(k, "%s.attn1", p);
    nn_t ref = r->read ? reader_ref(r, dfs, h.c) : NONE;
    if (ref.d) {
        nn_t y = nn_new(c, h.n, h.h, h.w, h.c);
        for (int b = 0; b < r->B && nn_ok(c); b++) {
            /* the last sample is the cond one (B = 2: [uncond, cond]; B = 1: cond) */
            nn_t o = nn_attn(c, nn_slice_n(c, n1, b * r->F, r->F), NONE, b == r->B - 1 ? ref : NONE, k, heads);
            nn_axpby_into(c, nn_slice_n(c, y, b * r->F, r->F), 1.0f, o, 1.0f, nn_slice_n(c, h, b * r->F, r->F));
        }
        h = nn_keep(c, m, y);
    } else {
        h = nn_keep(c, m, nn_add(c, nn_attn(c, n1, NONE, NONE, k, heads), h));
    }
    if (nn_w_opt(c, "%s.attn2.to_q.weight", p)) {
        if (!r->enc.d) {
            nn_fail(c, ANIM_E_INVALID_ARG, "%s: %s has cross-attention (attn2) but no encoder states were given",
                    c->net, p);
            nn_release(c, m);
            return NONE;
        }
        w_key(k, "%s.norm2", p);
        nn_t n2 = nn_layer_norm(c, h, k, UNET_LN_EPS);
        w_key(k, "%s.attn2", p);
        nn_t a = nn_attn(c, n2, r->enc, NONE, k, heads);
        /* EchoMimic: self.attn2(...) * audio_feature_ratio + hidden_states (two roundings, as here) */
        h = nn_keep(c, m, r->xscale == 1.0f ? nn_add(c, a, h) : nn_axpby(c, r->xscale, a, 1.0f, h));
    }
    w_key(k, "%s.norm3", p);
    nn_t n3 = nn_layer_norm(c, h, k, UNET_LN_EPS);
    w_key(k, "%s.ff", p);
    return nn_keep(c, m, nn_add(c, nn_ff_geglu(c, n3, k), h));
}

/* Transformer2DModel / Moore Transformer3DModel (use_linear_projection false, one
 * block): GroupNorm(norm_num_groups, eps 1e-6) per frame -> proj_in (1x1 conv) ->
 * block on the hw tokens of each frame -> proj_out (1x1 conv) -> + x */
static nn_t spatial_transformer(urun *r, nn_t x, const char *p, int heads, int dfs) {
    nn_ctx *c = r->c;
    char k[W_NAME_MAX];
    nn_mark_t m = nn_mark(c);
    w_key(k, "%s.norm", p);
    nn_t h = nn_group_norm(c, x, k, r->cfg->norm_num_groups, UNET_TF_GN_EPS, false);
    w_key(k, "%s.proj_in", p);
    h = nn_keep(c, m, nn_linear(c, h, k)); /* NHWC: a 1x1 conv is a linear over channels */
    w_key(k, "%s.transformer_blocks.0", p);
    h = basic_block(r, h, k, heads, dfs);
    if (r->stop) {
        nn_release(c, m);
        return x;
    }
    w_key(k, "%s.proj_out", p);
    return nn_keep(c, m, nn_linear_res(c, h, k, x));
}

/* Downsample2D(use_conv=True, padding): conv 3x3 stride 2 with symmetric `padding`,
 * or F.pad(0, 1, 0, 1) then no padding when padding == 0 */
static nn_t downsample(urun *r, nn_t h, const char *p) {
    int pad = r->cfg->downsample_padding;
    if (pad == 0) return nn_conv_res(r->c, h, p, 2, 0, 0, 1, 1, NONE);
    return nn_conv_res(r->c, h, p, 2, pad, pad, pad, pad, NONE);
}

static int downsample_size(const unet_config *cfg, int n) {
    int pad = cfg->downsample_padding;
    return pad == 0 ? (n + 1 - 3) / 2 + 1 : (n + 2 * pad - 3) / 2 + 1;
}

/* Features added to the conv_in output: Moore's pose_cond_fea (per frame, the
 * same for every sample) or EchoMimic's face_musk_fea (one frame, broadcast over
 * frames, cond sample only: the pipeline passes cat([zeros, face_locator_tensor])) */
static void add_features(urun *r, nn_t h, nn_t f, bool cond_only) {
    nn_ctx *c = r->c;
    if (!nn_ok(c)) return;
    bool n_ok = f.n == 1 || f.n == r->F || (!cond_only && f.n == h.n);
    if (!n_ok || f.h != h.h || f.w != h.w || f.c != h.c) {
        nn_fail(c, ANIM_E_INVALID_ARG,
                "%s: conditioning features [%d, %d, %d, %d] do not fit conv_in output [%d, %d, %d, %d] "
                "(%d frames per sample%s)",
                c->net, f.n, f.h, f.w, f.c, h.n, h.h, h.w, h.c, r->F, cond_only ? ", cond sample only" : "");
        return;
    }
    for (int b = cond_only ? r->B - 1 : 0; b < r->B; b++) {
        nn_t hb = nn_slice_n(c, h, b * r->F, r->F);
        if (f.n == 1 && r->F > 1) {
            for (int fr = 0; fr < r->F; fr++) {
                nn_t hf = nn_slice_n(c, hb, fr, 1);
                nn_axpby_into(c, hf, 1.0f, hf, 1.0f, f);
            }
        } else {
            nn_axpby_into(c, hb, 1.0f, hb, 1.0f, f.n == h.n ? nn_slice_n(c, f, b * r->F, r->F) : f);
        }
    }
}

/*
 * The UNet body shared by both nets (diffusers UNet2DConditionModel.forward /
 * Moore UNet3DConditionModel.forward): conv_in (+ pose / face features), down blocks pushing
 * skips (conv_in output, every resnet/attention/motion-module output, every
 * downsampler output), mid block, up blocks popping one skip per resnet
 * (cat([h, skip]) on channels), upsampling to the exact size of the next skip
 * (forward_upsample_size: equal to x2 when the size divides), and, for the
 * denoising UNet, conv_norm_out + SiLU + conv_out. Returns the output (or, for
 * a writer that has stopped, {0} with r->stop set).
 */
static nn_t unet_body(urun *r, nn_t x, nn_t feat, bool feat_cond_only, unet_kind kind) {
    nn_ctx *c = r->c;
    const unet_config *cfg = r->cfg;
    const int n = cfg->n_levels, L = cfg->layers_per_block, G = cfg->norm_num_groups;
    const float eps = (float)cfg->norm_eps, mid_scale = (float)cfg->mid_block_scale_factor;
    const int max_skips = 1 + n * L + n;
    nn_t *sk = malloc((size_t)max_skips * sizeof *sk);
    nn_mark_t *skm = malloc((size_t)max_skips * sizeof *skm);
    if (!sk || !skm) {
        free(sk);
        free(skm);
        nn_fail(c, ANIM_E_OOM, "%s: out of memory", c->net);
        return NONE;
    }
    char p[W_NAME_MAX];
    int ns = 0;

    nn_mark_t m = nn_mark(c);
    nn_t h = nn_conv(c, x, "conv_in", 1, 1);
    if (feat.d) add_features(r, h, feat, feat_cond_only);
    sk[ns] = h, skm[ns++] = m;

    for (int i = 0; i < n && nn_ok(c); i++) {
        const int heads = unet_config_down_heads(cfg, i);
        for (int j = 0; j < L; j++) {
            m = nn_mark(c);
            w_key(p, "down_blocks.%d.resnets.%d", i, j);
            h = nn_keep(c, m, nn_resnet(c, h, p, r->temb, G, eps, 1.0f));
            if (cfg->down_attn[i]) {
                w_key(p, "down_blocks.%d.attentions.%d", i, j);
                h = nn_keep(c, m, spatial_transformer(r, h, p, heads, tblock_dfs(cfg, UNET_SEC_DOWN, i, j)));
                if (r->stop) goto done;
            }
            if (r->motion && unet_config_mm_down(cfg, i)) {
                w_key(p, "down_blocks.%d.motion_modules.%d", i, j);
                h = nn_keep(c, m, motion_module_forward(c, &cfg->mm, h, r->F, p));
            }
            sk[ns] = h, skm[ns++] = m;
        }
        if (i < n - 1) {
            m = nn_mark(c);
            w_key(p, "down_blocks.%d.downsamplers.0.conv", i);
            h = nn_keep(c, m, downsample(r, h, p));
            sk[ns] = h, skm[ns++] = m;
        }
    }

    /* UNetMidBlock2DCrossAttn / UNetMidBlock3DCrossAttn: resnet, attention,
     * motion module, resnet (output_scale_factor = mid_block_scale_factor) */
    m = nn_mark(c);
    h = nn_keep(c, m, nn_resnet(c, h, "mid_block.resnets.0", r->temb, G, eps, mid_scale));
    h = nn_keep(c, m, spatial_transformer(r, h, "mid_block.attentions.0", unet_config_mid_heads(cfg),
                                          tblock_dfs(cfg, UNET_SEC_MID, 0, 0)));
    if (r->stop) goto done;
    if (r->motion && unet_config_mm_mid(cfg))
        h = nn_keep(c, m, motion_module_forward(c, &cfg->mm, h, r->F, "mid_block.motion_modules.0"));
    h = nn_keep(c, m, nn_resnet(c, h, "mid_block.resnets.1", r->temb, G, eps, mid_scale));

    for (int i = 0; i < n && nn_ok(c); i++) {
        const int heads = unet_config_up_heads(cfg, i);
        for (int j = 0; j <= L; j++) {
            /* pop: releasing to the skip's mark frees it and everything above */
            m = skm[--ns];
            nn_t cat = nn_concat(c, h, sk[ns]);
            w_key(p, "up_blocks.%d.resnets.%d", i, j);
            h = nn_keep(c, m, nn_resnet(c, cat, p, r->temb, G, eps, 1.0f));
            if (cfg->up_attn[i]) {
                w_key(p, "up_blocks.%d.attentions.%d", i, j);
                h = nn_keep(c, m, spatial_transformer(r, h, p, heads, tblock_dfs(cfg, UNET_SEC_UP, i, j)));
                if (r->stop) goto done;
            }
            if (r->motion && unet_config_mm_up(cfg, i)) {
                w_key(p, "up_blocks.%d.motion_modules.%d", i, j);
                h = nn_keep(c, m, motion_module_forward(c, &cfg->mm, h, r->F, p));
            }
        }
        if (i < n - 1) {
            /* Upsample2D / Upsample3D: F.interpolate(nearest) to the next skip's size
             * (upsample_size when forward_upsample_size, else x2 - the same when the
             * latent size divides by 2^(levels-1)), then conv 3x3 */
            nn_t up = nn_upsample(c, h, sk[ns - 1].h, sk[ns - 1].w);
            w_key(p, "up_blocks.%d.upsamplers.0.conv", i);
            h = nn_keep(c, m, nn_conv(c, up, p, 1, 1));
        }
    }

    if (kind == UNET_DENOISING) {
        /* conv_norm_out (InflatedGroupNorm, norm_eps) -> conv_act SiLU -> conv_out */
        h = nn_group_norm(c, h, "conv_norm_out", G, eps, true);
        h = nn_keep(c, m, nn_conv(c, h, "conv_out", 1, 1));
    }
done:
    free(sk);
    free(skm);
    if (r->stop) return NONE;
    return nn_ok(c) ? h : NONE;
}

/* encoder states: one token set per sample ([B, 1, T, D]) or per frame ([B * F, 1, T, D]) */
static bool check_encoder_states(nn_ctx *c, const unet_config *cfg, nn_t enc, int B, int F) {
    if ((enc.n == B || enc.n == B * F) && enc.h > 0 && enc.w > 0 && enc.c == cfg->cross_attention_dim) return true;
    nn_fail(c, ANIM_E_INVALID_ARG,
            "%s: encoder states [%d, %d, %d, %d], expected [%d (per sample) or %d (per frame), 1, tokens, %d]", c->net,
            enc.n, enc.h, enc.w, enc.c, B, B * F, cfg->cross_attention_dim);
    return false;
}

/* ReferenceAttentionControl.update(writer, dtype=torch.float16): every bank is
 * cast to float16 (and promoted back to float32 where it meets float32
 * activations). Done on the host, once per run: download, round to nearest
 * even through anim_f32_to_f16, upload in place. A backend storing F16 already
 * holds these values; the round trip leaves them unchanged. */
static void bank_round_f16(nn_ctx *c, unet_bank *bank) {
    size_t most = 0;
    for (int k = 0; k < bank->n; k++)
        if (nn_numel(bank->t[k]) > most) most = nn_numel(bank->t[k]);
    if (!nn_ok(c) || most == 0) return;
    float *buf = malloc(most * sizeof *buf);
    if (!buf) {
        nn_fail(c, ANIM_E_OOM, "%s: out of memory", c->net);
        return;
    }
    for (int k = 0; k < bank->n && nn_to_host(c, bank->t[k], buf); k++) {
        size_t cnt = nn_numel(bank->t[k]);
        for (size_t i = 0; i < cnt; i++) buf[i] = anim_f16_to_f32(anim_f32_to_f16(buf[i]));
        anim_error e;
        anim_status st = c->be->ops->upload(c->be, bank->t[k].d, buf, cnt, &e);
        if (st != ANIM_OK) nn_fail(c, st, "%s: bank upload: %s", c->net, e.msg);
    }
    free(buf);
}

anim_status unet_reference_bank(nn_ctx *c, const unet_config *cfg, nn_t x, nn_t enc, bool round_f16,
                                unet_bank *bank) {
    if (!nn_ok(c)) return c->st;
    const char *saved = c->net;
    c->net = "reference_unet";
    bank->n = 0;
    bank->samples = x.n;
    const int nb = unet_tblocks(cfg, NULL, 0);
    if (x.c != cfg->in_channels || x.n <= 0 || x.h <= 0 || x.w <= 0) {
        nn_fail(c, ANIM_E_INVALID_ARG, "%s: latents [%d, %d, %d, %d], expected %d channels", c->net, x.n, x.h, x.w,
                x.c, cfg->in_channels);
    } else if (nb > UNET_MAX_TBLOCKS) {
        nn_fail(c, ANIM_E_UNSUPPORTED, "%s: %d transformer blocks (at most %d)", c->net, nb, UNET_MAX_TBLOCKS);
    } else if ((!enc.d || check_encoder_states(c, cfg, enc, x.n, 1)) && nb > 0) {
        /* the banks go first, below the pass's scratch, at each block's resolution */
        unet_tblock tb[UNET_MAX_TBLOCKS];
        unet_tblocks(cfg, tb, nb);
        int rh[UNET_MAX_LEVELS], rw[UNET_MAX_LEVELS];
        rh[0] = x.h, rw[0] = x.w;
        for (int i = 1; i < cfg->n_levels; i++)
            rh[i] = downsample_size(cfg, rh[i - 1]), rw[i] = downsample_size(cfg, rw[i - 1]);
        for (int k = 0; k < nb && nn_ok(c); k++) {
            int lv = tb[k].section == UNET_SEC_DOWN ? tb[k].level
                   : tb[k].section == UNET_SEC_UP   ? cfg->n_levels - 1 - tb[k].level
                                                    : cfg->n_levels - 1;
            bank->t[k] = nn_new(c, x.n, rh[lv], rw[lv], tb[k].channels);
            bank->channels[k] = tb[k].channels;
        }
        bank->n = nb;
        nn_mark_t m0 = nn_mark(c);
        urun r = {.c = c, .cfg = cfg, .B = x.n, .F = 1, .enc = enc, .xscale = 1.0f, .write = bank};
        /* Moore pipeline: reference_unet(..., torch.zeros_like(t), ...) */
        r.temb = time_embedding(c, cfg, 0.0f);
        unet_body(&r, x, NONE, false, UNET_REFERENCE);
        if (nn_ok(c) && r.written != nb)
            nn_fail(c, ANIM_E_INTERNAL, "%s: %d of %d banks written", c->net, r.written, nb);
        nn_release(c, m0);
        if (round_f16) bank_round_f16(c, bank);
    }
    if (!nn_ok(c)) bank->n = 0;
    c->net = saved;
    return c->st;
}

void unet_cond_init(unet_cond *cond) {
    memset(cond, 0, sizeof *cond);
    cond->cross_attn_scale = 1.0f;
}

nn_t unet_denoise_ex(nn_ctx *c, const unet_config *cfg, nn_t x, int frames, float timestep, const unet_cond *cond) {
    if (!nn_ok(c)) return NONE;
    const char *saved = c->net;
    /* by role: a model loaded with ANIM_LOAD_ACC resolves it to EchoMimic's
     * accelerated weights (denoising_unet_acc + motion_module_acc, model.c) */
    c->net = "denoising_unet";
    nn_t out = NONE;
    const int B = frames > 0 ? x.n / frames : 0;
    const unet_bank *bank = cond->bank;
    const nn_t enc = cond->encoder_states;
    int pair[UNET_MAX_TBLOCKS];
    if (frames <= 0 || B <= 0 || x.n % frames || x.c != cfg->in_channels) {
        nn_fail(c, ANIM_E_INVALID_ARG, "%s: latents [%d, %d, %d, %d] as %d frames of %d channels", c->net, x.n, x.h,
                x.w, x.c, frames, cfg->in_channels);
    } else if (bank && bank->n > 0 && B > 2) {
        nn_fail(c, ANIM_E_INVALID_ARG, "%s: reference attention needs 1 (cond) or 2 ([uncond, cond]) samples, got %d",
                c->net, B);
    } else if (!cfg->use_inflated_groupnorm && frames > 1) {
        /* nn.GroupNorm on (b, c, f, h, w) pools statistics over frames: a different model */
        nn_fail(c, ANIM_E_UNSUPPORTED, "%s: use_inflated_groupnorm false (GroupNorm over all frames) is not supported",
                c->net);
    } else if (unet_tblocks(cfg, NULL, 0) > UNET_MAX_TBLOCKS ||
               (bank && unet_bank_pairing(cfg, bank->channels, bank->n, pair) < 0)) {
        nn_fail(c, ANIM_E_UNSUPPORTED, "%s: too many transformer blocks", c->net);
    } else if (!enc.d || check_encoder_states(c, cfg, enc, B, frames)) {
        nn_mark_t m0 = nn_mark(c);
        urun r = {.c = c, .cfg = cfg, .B = B, .F = frames, .xscale = cond->cross_attn_scale,
                  .motion = cfg->use_motion_module, .read = bank && bank->n > 0 ? bank : NULL, .pair = pair};
        r.temb = time_embedding(c, cfg, timestep);
        /* Moore Transformer3DModel: repeat(encoder_hidden_states, "b n c -> (b f) n c");
         * EchoMimic's per-frame audio tokens are already (b f) */
        r.enc = enc.d && enc.n == B && frames > 1 ? expand_frames(c, enc, frames) : enc;
        out = unet_body(&r, x, cond->features, cond->features_cond_only, UNET_DENOISING);
        out = nn_keep(c, m0, out);
    }
    c->net = saved;
    return nn_ok(c) ? out : NONE;
}

nn_t unet_denoise(nn_ctx *c, const unet_config *cfg, nn_t x, int frames, float timestep, nn_t enc, nn_t pose,
                  const unet_bank *bank) {
    unet_cond cond;
    unet_cond_init(&cond);
    cond.encoder_states = enc;
    cond.features = pose;
    cond.bank = bank;
    return unet_denoise_ex(c, cfg, x, frames, timestep, &cond);
}
