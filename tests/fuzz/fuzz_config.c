/*
 * fuzz_config.c - libFuzzer harness for everything that reads a model
 * folder's JSON configs, each on the same parsed input (json_parse with the
 * default limits, as json_parse_file uses them):
 *   - unet_config_parse            (unet/config.json)
 *   - unet_config_apply_kwargs     (model_config.json unet_additional_kwargs)
 *   - vae_config_parse             (vae/config.json)
 *   - clip_vision_config_parse     (image_encoder/config.json, CLIPVisionConfig
 *                                   or a full CLIPModel config)
 *   - sched_config_parse, pose_guider_config_parse (model_config.json parts)
 *   - anim_model_config_parse      with the input as model_config.json, as the
 *                                   unet config, and as both
 *   - tf_manifest_from_json        (checkpoint manifests, tests/fixtures/real-manifests)
 *   - whisper_dims_load            (whisper_tiny.dims.json; it takes a path,
 *                                   so the input is written to a private
 *                                   temporary file first)
 * (lib/nn/config.c, lib/io/manifest.c, lib/nn/whisper.c).
 *
 * Built and run by `make fuzz` / `make fuzz-build` (see tests/fuzz/README.md):
 *   ./build-fuzz/fuzz_config -max_len=16384 build-fuzz/corpus/config tests/fuzz/corpus_config
 *
 * Seeds (tests/fuzz/corpus_config): every config.json, model_config.json
 * and dims JSON of tests/fixtures, the small real manifests and the SD1.5
 * UNet config of tests/fixtures/real-manifests, plus hand-made variants
 * from tools/make_fuzz_seeds.py (CLIPModel with vision_config, per-level
 * head lists, motion-module kwargs, wrong types, out-of-range values).
 *
 * Checks: a failing parser leaves a message that starts with the file name
 * it was given; an accepted config passes its own consistency check again
 * (unet_config_check) and its derived values are in range (head counts,
 * CLIP positions, scheduler betas, VAE levels); an accepted manifest has
 * data-less tensors whose nbytes is numel * element size without overflow;
 * accepted whisper dims are within check_dims' ranges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "io/json.h"
#include "io/manifest.h"
#include "nn/config.h"
#include "nn/whisper.h"

#define NAME "fuzz_config.json"

static char tmp_path[64];
static int tmp_fd = -1;

static void remove_tmp(void) {
    if (tmp_fd >= 0) {
        close(tmp_fd);
        unlink(tmp_path);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *dir = getenv("TMPDIR");
    snprintf(tmp_path, sizeof tmp_path, "%.40s/fuzz_dims_XXXXXX", dir && *dir && strlen(dir) < 40 ? dir : "/tmp");
    tmp_fd = mkstemp(tmp_path);
    FUZZ_CHECK(tmp_fd >= 0);
    atexit(remove_tmp);
    return 0;
}

static void check_unet(const unet_config *c) {
    anim_error err = {0};
    FUZZ_CHECK(unet_config_check(c, NAME, &err) == ANIM_OK);
    FUZZ_CHECK(c->n_levels >= 1 && c->n_levels <= UNET_MAX_LEVELS);
    for (int i = 0; i < c->n_levels; i++) {
        FUZZ_CHECK(c->block_out_channels[i] >= 1);
        FUZZ_CHECK(unet_config_down_heads(c, i) >= 1 && unet_config_up_heads(c, i) >= 1);
        (void)unet_config_mm_down(c, i);
        (void)unet_config_mm_up(c, i);
    }
    FUZZ_CHECK(unet_config_mid_heads(c) >= 1);
    (void)unet_config_mm_mid(c);
}

static void parse_configs(const json_value *root) {
    anim_error err = {0};
    anim_status st;

    unet_config u;
    unet_config_default(&u);
    fuzz_err_reset(&err);
    if ((st = unet_config_parse(&u, root, NAME, &err)) == ANIM_OK) check_unet(&u);
    else fuzz_check_error(st, &err, NAME);

    unet_config_default(&u);
    fuzz_err_reset(&err);
    if ((st = unet_config_apply_kwargs(&u, root, NAME, "unet_additional_kwargs.", &err)) == ANIM_OK) check_unet(&u);
    else fuzz_check_error(st, &err, NAME);

    vae_config v;
    vae_config_default(&v);
    fuzz_err_reset(&err);
    if ((st = vae_config_parse(&v, root, NAME, &err)) == ANIM_OK) {
        FUZZ_CHECK(v.n_levels >= 1 && v.n_levels <= VAE_MAX_LEVELS && v.norm_num_groups >= 1);
        FUZZ_CHECK(v.in_channels >= 1 && v.out_channels >= 1 && v.latent_channels >= 1 && v.layers_per_block >= 1);
        for (int i = 0; i < v.n_levels; i++)
            FUZZ_CHECK(v.block_out_channels[i] >= 1 && v.block_out_channels[i] % v.norm_num_groups == 0);
        FUZZ_CHECK(v.scaling_factor > 0);
    } else {
        fuzz_check_error(st, &err, NAME);
    }

    clip_vision_config c;
    clip_vision_config_default(&c);
    fuzz_err_reset(&err);
    if ((st = clip_vision_config_parse(&c, root, NAME, &err)) == ANIM_OK) {
        FUZZ_CHECK(c.num_attention_heads >= 1 && c.hidden_size % c.num_attention_heads == 0);
        FUZZ_CHECK(c.patch_size >= 1 && c.image_size >= c.patch_size && c.projection_dim >= 1);
        FUZZ_CHECK(clip_vision_num_positions(&c) >= 2);
    } else {
        fuzz_check_error(st, &err, NAME);
    }

    sched_config s;
    sched_config_default(&s);
    fuzz_err_reset(&err);
    if ((st = sched_config_parse(&s, root, NAME, "noise_scheduler_kwargs.", &err)) == ANIM_OK)
        FUZZ_CHECK(s.num_train_timesteps >= 1 && s.beta_start <= s.beta_end);
    else fuzz_check_error(st, &err, NAME);

    pose_guider_config g;
    pose_guider_config_default(&g);
    fuzz_err_reset(&err);
    if ((st = pose_guider_config_parse(&g, root, NAME, "pose_guider.", &err)) == ANIM_OK) {
        FUZZ_CHECK(g.n_blocks >= 1 && g.n_blocks <= PG_MAX_BLOCKS);
        for (int i = 0; i < g.n_blocks; i++) FUZZ_CHECK(g.block_out_channels[i] >= 1);
    } else {
        fuzz_check_error(st, &err, NAME);
    }

    /* as model_config.json, as the UNet config.json, as both */
    static anim_model_config mc;   /* ~1 KB; static keeps the frame small */
    const json_value *roles[3][2] = {{NULL, root}, {root, NULL}, {root, root}};
    for (int r = 0; r < 3; r++) {
        fuzz_err_reset(&err);
        st = anim_model_config_parse(&mc, roles[r][0], NAME, roles[r][1], NAME, &err);
        if (st == ANIM_OK) {
            check_unet(&mc.denoising_unet);
            check_unet(&mc.reference_unet);
            FUZZ_CHECK(mc.denoising_unet.n_levels == 4 && mc.clip_image_size >= 1 && mc.vae_latent_scaling > 0);
        } else {
            fuzz_check_error(st, &err, NAME);
        }
    }
}

static void parse_manifest(const json_value *root) {
    tf_file *f = NULL;
    anim_error err = {0};
    anim_status st = tf_manifest_from_json(root, NAME, &f, &err);
    if (st != ANIM_OK) {
        FUZZ_CHECK(f == NULL);
        fuzz_check_error(st, &err, NAME);
        return;
    }
    FUZZ_CHECK(f->format == TF_MANIFEST && (f->n == 0 || f->tensors));
    for (size_t i = 0; i < f->n; i++) {
        const tf_tensor *t = &f->tensors[i];
        FUZZ_CHECK(t->name && tf_find(f, t->name) == t && t->data == NULL);
        FUZZ_CHECK(t->ndim >= 0 && t->ndim <= TF_MAX_DIMS && (int)t->dtype >= 0 && t->dtype < ANIM_DT_COUNT);
        uint64_t numel = 1, nbytes;
        for (int d = 0; d < t->ndim; d++) {
            FUZZ_CHECK(t->shape[d] >= 0);
            FUZZ_CHECK(!__builtin_mul_overflow(numel, (uint64_t)t->shape[d], &numel));
        }
        FUZZ_CHECK(!__builtin_mul_overflow(numel, (uint64_t)anim_dtype_size(t->dtype), &nbytes));
        FUZZ_CHECK(t->nbytes == nbytes);
    }
    tf_close(f);
}

static void parse_dims(const uint8_t *data, size_t size) {
    FUZZ_CHECK(ftruncate(tmp_fd, 0) == 0);
    for (size_t o = 0; o < size;) {
        ssize_t w = pwrite(tmp_fd, data + o, size - o, (off_t)o);
        FUZZ_CHECK(w > 0);
        o += (size_t)w;
    }
    whisper_dims d;
    anim_error err = {0};
    anim_status st = whisper_dims_load(&d, tmp_path, NULL, &err);
    if (st != ANIM_OK) {
        fuzz_check_error(st, &err, tmp_path);
        return;
    }
    FUZZ_CHECK(d.n_mels >= 1 && d.n_mels <= 512 && d.n_audio_ctx >= 1 && d.n_audio_ctx <= (1 << 16));
    FUZZ_CHECK(d.n_audio_state >= 1 && d.n_audio_state <= (1 << 14) && d.n_audio_head >= 1 &&
               d.n_audio_head <= 1024 && d.n_audio_layer >= 1 && d.n_audio_layer <= 1024);
    FUZZ_CHECK(d.n_audio_state % d.n_audio_head == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    anim_error err = {0};
    json_value *root = json_parse((const char *)data, size, NULL, &err);
    if (root) {
        parse_configs(root);
        parse_manifest(root);
        json_free(root);
    }
    parse_dims(data, size);   /* the file path: json_parse_file + the dims checks */
    return 0;
}
