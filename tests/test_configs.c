/*
 * test_configs.c - config parsing: the fixture and real configs give the
 * expected values, the defaults equal the released models, and malformed or
 * unsupported configs fail with messages naming the file and the field.
 */
#include <stdlib.h>

#include "io/json.h"
#include "nn/config.h"
#include "test.h"

#define RM "tests/fixtures/real-manifests/"
#define TINY "tests/fixtures/moore-tiny/"

static json_value *parse(const char *text) {
    anim_error err = {0};
    json_value *v = json_parse(text, strlen(text), NULL, &err);
    if (!v) printf("    json: %s\n", err.msg);
    return v;
}

/* ---- values from real and fixture configs --------------------------------- */

TEST(config_defaults_equal_released_moore) {
    anim_model_config def, real;
    anim_model_config_default(&def);
    anim_error err = {0};
    CHECK_OK(anim_model_config_load(&real, RM "sd15_unet_config.json", RM "inference_v2.json", &err), &err);
    CHECK(memcmp(&def.reference_unet, &real.reference_unet, sizeof def.reference_unet) == 0);
    CHECK(memcmp(&def.denoising_unet, &real.denoising_unet, sizeof def.denoising_unet) == 0);
    CHECK(memcmp(&def.sched, &real.sched, sizeof def.sched) == 0);
    CHECK(memcmp(&def.pose_guider, &real.pose_guider, sizeof def.pose_guider) == 0);
    CHECK(def.vae_latent_scaling == real.vae_latent_scaling && def.clip_image_size == real.clip_image_size);

    /* no model_config.json at all: the released values */
    anim_model_config none;
    CHECK_OK(anim_model_config_load(&none, RM "sd15_unet_config.json", NULL, &err), &err);
    CHECK(memcmp(&def, &none, sizeof def) == 0);
    CHECK_OK(anim_model_config_load(&none, NULL, NULL, &err), &err);
    CHECK(memcmp(&def, &none, sizeof def) == 0);
}

TEST(config_released_values) {
    anim_model_config mc;
    anim_model_config_default(&mc);
    const unet_config *u = &mc.denoising_unet;
    CHECK(u->in_channels == 4 && u->out_channels == 4 && u->n_levels == 4);
    CHECK(u->block_out_channels[0] == 320 && u->block_out_channels[1] == 640 && u->block_out_channels[2] == 1280 &&
          u->block_out_channels[3] == 1280);
    CHECK(u->layers_per_block == 2 && u->cross_attention_dim == 768 && u->norm_num_groups == 32);
    CHECK(u->norm_eps == 1e-5 && u->flip_sin_to_cos && u->freq_shift == 0 && u->downsample_padding == 1);
    for (int i = 0; i < 4; i++) CHECK(unet_config_down_heads(u, i) == 8 && unet_config_up_heads(u, i) == 8);
    CHECK(u->down_attn[0] && u->down_attn[2] && !u->down_attn[3] && !u->up_attn[0] && u->up_attn[3]);
    CHECK(u->use_inflated_groupnorm && u->use_motion_module && u->motion_module_mid_block);
    CHECK(!u->motion_module_decoder_only && u->n_mm_resolutions == 4 && u->motion_module_resolutions[3] == 8);
    CHECK(u->mm.num_attention_heads == 8 && u->mm.num_transformer_block == 1 && u->mm.n_attention_blocks == 2);
    CHECK(u->mm.temporal_position_encoding && u->mm.temporal_position_encoding_max_len == 32);
    CHECK(u->mm.temporal_attention_dim_div == 1);
    for (int i = 0; i < 4; i++) CHECK(unet_config_mm_down(u, i) && unet_config_mm_up(u, i));
    CHECK(unet_config_mm_mid(u));
    CHECK(!mc.reference_unet.use_motion_module);

    const sched_config *s = &mc.sched;
    CHECK(s->num_train_timesteps == 1000 && s->beta_start == 0.00085 && s->beta_end == 0.012);
    CHECK(s->beta_schedule == SCHED_BETA_LINEAR && !s->clip_sample && s->steps_offset == 1);
    CHECK(s->prediction_type == SCHED_PRED_V && s->rescale_betas_zero_snr);
    CHECK(s->timestep_spacing == SCHED_SPACING_TRAILING && s->set_alpha_to_one);

    const pose_guider_config *g = &mc.pose_guider;
    CHECK(g->conditioning_embedding_channels == 320 && g->conditioning_channels == 3 && g->n_blocks == 4);
    CHECK(g->block_out_channels[0] == 16 && g->block_out_channels[1] == 32 && g->block_out_channels[2] == 96 &&
          g->block_out_channels[3] == 256);
    CHECK(mc.vae_latent_scaling == 0.18215 && mc.clip_image_size == 224);
}

/* VAE and CLIP: default == the config stored in the real manifest */
TEST(config_vae_clip_defaults_equal_released) {
    anim_error err = {0};
    json_value *j = json_parse_file(RM "sd-vae-ft-mse.diffusion_pytorch_model.json", NULL, &err);
    CHECK_MSG(j, "%s", err.msg);
    vae_config def, got;
    vae_config_default(&def);
    vae_config_default(&got);
    got.n_levels = 1; /* make sure parsing really sets the fields */
    got.layers_per_block = 7;
    anim_status st = vae_config_parse(&got, json_get(j, "config"), "vae config", &err);
    json_free(j);
    CHECK_OK(st, &err);
    CHECK(memcmp(&def, &got, sizeof def) == 0);
    CHECK(def.block_out_channels[3] == 512 && def.latent_channels == 4 && def.scaling_factor == 0.18215);

    j = json_parse_file(RM "image_encoder.pytorch_model.json", NULL, &err);
    CHECK_MSG(j, "%s", err.msg);
    clip_vision_config cdef, cgot;
    clip_vision_config_default(&cdef);
    memset(&cgot, 0, sizeof cgot);
    cgot.hidden_act = CLIP_ACT_GELU;
    st = clip_vision_config_parse(&cgot, json_get(j, "config"), "clip config", &err);
    json_free(j);
    CHECK_OK(st, &err);
    CHECK(memcmp(&cdef, &cgot, sizeof cdef) == 0);
    CHECK(clip_vision_num_positions(&cdef) == 257);
}

TEST(config_tiny_fixture_values) {
    anim_error err = {0};
    anim_model_config mc;
    CHECK_OK(anim_model_config_load(&mc, TINY "unet/config.json", TINY "model_config.json", &err), &err);
    const unet_config *r = &mc.reference_unet, *d = &mc.denoising_unet;
    for (int i = 0; i < 4; i++) CHECK(r->block_out_channels[i] == 32 && d->block_out_channels[i] == 32);
    CHECK(r->n_levels == 4 && r->layers_per_block == 1 && r->cross_attention_dim == 32 && r->norm_num_groups == 8);
    CHECK(unet_config_down_heads(r, 0) == 2 && unet_config_mid_heads(r) == 2 && r->n_heads == 0);
    CHECK(!r->use_motion_module && d->use_motion_module && d->mm.num_attention_heads == 8);
    CHECK(d->layers_per_block == 1 && d->cross_attention_dim == 32);
    CHECK(mc.pose_guider.conditioning_embedding_channels == 32 && mc.pose_guider.n_blocks == 4);
    CHECK(mc.pose_guider.block_out_channels[0] == 4 && mc.pose_guider.block_out_channels[3] == 32);
    CHECK(mc.sched.prediction_type == SCHED_PRED_V && mc.sched.timestep_spacing == SCHED_SPACING_TRAILING);

    vae_config v;
    CHECK_OK(vae_config_load(&v, TINY "vae/config.json", &err), &err);
    CHECK(v.n_levels == 4 && v.block_out_channels[0] == 8 && v.block_out_channels[2] == 16);
    CHECK(v.layers_per_block == 1 && v.norm_num_groups == 8 && v.latent_channels == 4);

    clip_vision_config c;
    CHECK_OK(clip_vision_config_load(&c, TINY "image_encoder/config.json", &err), &err);
    CHECK(c.hidden_size == 32 && c.intermediate_size == 128 && c.num_hidden_layers == 2);
    CHECK(c.num_attention_heads == 2 && c.projection_dim == 32 && c.patch_size == 14 && c.image_size == 224);
    CHECK(c.hidden_act == CLIP_ACT_QUICK_GELU && c.layer_norm_eps == 1e-5);
}

TEST(config_echomimic_cross_attention_dim) {
    anim_error err = {0};
    anim_model_config mc;
    CHECK_OK(anim_model_config_load(&mc, RM "sd15_unet_config.json", RM "echomimic.inference_v2.json", &err), &err);
    CHECK(mc.denoising_unet.cross_attention_dim == 384);
    CHECK(mc.reference_unet.cross_attention_dim == 768); /* from_pretrained: base config only */
}

TEST(config_attention_head_dim_list_and_3d_names) {
    json_value *j = parse("{\"block_out_channels\": [64, 128], \"down_block_types\": [\"CrossAttnDownBlock3D\", "
                          "\"DownBlock3D\"], \"up_block_types\": [\"UpBlock3D\", \"CrossAttnUpBlock3D\"], "
                          "\"attention_head_dim\": [2, 4], \"norm_num_groups\": 32, \"_class_name\": \"X\", "
                          "\"some_future_field\": {\"a\": [1]}, \"use_linear_projection\": false}");
    CHECK(j);
    unet_config c;
    unet_config_default(&c);
    c.use_motion_module = false;
    anim_error err = {0};
    anim_status st = unet_config_parse(&c, j, "unet/config.json", &err);
    json_free(j);
    CHECK_OK(st, &err);
    CHECK(c.n_levels == 2 && c.down_attn[0] && !c.down_attn[1] && !c.up_attn[0] && c.up_attn[1]);
    CHECK(unet_config_down_heads(&c, 0) == 2 && unet_config_down_heads(&c, 1) == 4);
    CHECK(unet_config_up_heads(&c, 0) == 4 && unet_config_up_heads(&c, 1) == 2 && unet_config_mid_heads(&c) == 4);
}

TEST(config_clip_nested_vision_config) {
    json_value *j = parse("{\"model_type\": \"clip\", \"projection_dim\": 512, \"text_config\": {\"hidden_size\": "
                          "512}, \"vision_config\": {\"hidden_size\": 768, \"intermediate_size\": 3072, "
                          "\"num_hidden_layers\": 12, \"num_attention_heads\": 12, \"patch_size\": 32}}");
    CHECK(j);
    clip_vision_config c;
    clip_vision_config_default(&c);
    anim_error err = {0};
    anim_status st = clip_vision_config_parse(&c, j, "image_encoder/config.json", &err);
    json_free(j);
    CHECK_OK(st, &err);
    CHECK(c.hidden_size == 768 && c.projection_dim == 512 && c.patch_size == 32 && c.num_hidden_layers == 12);
    CHECK(clip_vision_num_positions(&c) == 50);
}

/* ---- malformed and unsupported configs ------------------------------------ */

/* Parse `text` as unet/config.json; expect status `want` and a message with `field`. */
static bool unet_bad(const char *text, anim_status want, const char *field) {
    json_value *j = parse(text);
    if (!j) return false;
    unet_config c;
    unet_config_default(&c);
    anim_error err = {0};
    anim_status st = unet_config_parse(&c, j, "unet/config.json", &err);
    json_free(j);
    bool ok = st == want && strstr(err.msg, "unet/config.json") && strstr(err.msg, field);
    if (!ok) printf("    %s -> status %d, \"%s\" (want %d naming %s)\n", text, (int)st, err.msg, (int)want, field);
    return ok;
}

TEST(config_unet_malformed) {
    CHECK(unet_bad("{\"block_out_channels\": [320, -640, 1280, 1280]}", ANIM_E_FORMAT,
                   "'block_out_channels' must be an array of positive integers"));
    CHECK(unet_bad("{\"block_out_channels\": \"320\"}", ANIM_E_FORMAT, "'block_out_channels'"));
    CHECK(unet_bad("{\"block_out_channels\": [320, 640.5, 1280, 1280]}", ANIM_E_FORMAT, "'block_out_channels'"));
    CHECK(unet_bad("{\"block_out_channels\": []}", ANIM_E_FORMAT, "'block_out_channels'"));
    CHECK(unet_bad("{\"in_channels\": 0}", ANIM_E_FORMAT, "'in_channels' must be a positive integer"));
    CHECK(unet_bad("{\"in_channels\": true}", ANIM_E_FORMAT, "'in_channels'"));
    CHECK(unet_bad("{\"layers_per_block\": -2}", ANIM_E_FORMAT, "'layers_per_block'"));
    CHECK(unet_bad("{\"norm_eps\": \"1e-5\"}", ANIM_E_FORMAT, "'norm_eps'"));
    CHECK(unet_bad("{\"flip_sin_to_cos\": 1}", ANIM_E_FORMAT, "'flip_sin_to_cos' must be a boolean"));
    CHECK(unet_bad("{\"cross_attention_dim\": null}", ANIM_E_FORMAT, "'cross_attention_dim'"));
    CHECK(unet_bad("{\"attention_head_dim\": [8, 8]}", ANIM_E_FORMAT, "'attention_head_dim'"));
    CHECK(unet_bad("{\"attention_head_dim\": \"8\"}", ANIM_E_FORMAT, "'attention_head_dim'"));
    CHECK(unet_bad("{\"norm_num_groups\": 48}", ANIM_E_FORMAT, "'norm_num_groups'"));
    CHECK(unet_bad("{\"down_block_types\": [\"CrossAttnDownBlock2D\", \"DownBlock2D\"]}", ANIM_E_FORMAT,
                   "'down_block_types'"));
    CHECK(unet_bad("{\"down_block_types\": [\"CrossAttnDownBlock2D\", 3, \"x\", \"y\"]}", ANIM_E_FORMAT,
                   "'down_block_types'"));
    CHECK(unet_bad("[1, 2]", ANIM_E_FORMAT, "object"));
}

TEST(config_unet_unsupported) {
    CHECK(unet_bad("{\"down_block_types\": [\"AttnDownBlock2D\", \"CrossAttnDownBlock2D\", "
                   "\"CrossAttnDownBlock2D\", \"DownBlock2D\"]}",
                   ANIM_E_UNSUPPORTED, "'down_block_types[0]'"));
    CHECK(unet_bad("{\"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\", "
                   "\"SimpleCrossAttnUpBlock2D\"]}",
                   ANIM_E_UNSUPPORTED, "'up_block_types[3]'"));
    CHECK(unet_bad("{\"use_linear_projection\": true}", ANIM_E_UNSUPPORTED, "'use_linear_projection'"));
    CHECK(unet_bad("{\"only_cross_attention\": [false, true, false, false]}", ANIM_E_UNSUPPORTED,
                   "'only_cross_attention'"));
    CHECK(unet_bad("{\"dual_cross_attention\": true}", ANIM_E_UNSUPPORTED, "'dual_cross_attention'"));
    CHECK(unet_bad("{\"class_embed_type\": \"timestep\"}", ANIM_E_UNSUPPORTED, "'class_embed_type'"));
    CHECK(unet_bad("{\"addition_embed_type\": \"text_time\"}", ANIM_E_UNSUPPORTED, "'addition_embed_type'"));
    CHECK(unet_bad("{\"time_embedding_type\": \"fourier\"}", ANIM_E_UNSUPPORTED, "'time_embedding_type'"));
    CHECK(unet_bad("{\"act_fn\": \"gelu\"}", ANIM_E_UNSUPPORTED, "'act_fn'"));
    CHECK(unet_bad("{\"transformer_layers_per_block\": 2}", ANIM_E_UNSUPPORTED, "'transformer_layers_per_block'"));
    CHECK(unet_bad("{\"attention_head_dim\": 7}", ANIM_E_UNSUPPORTED, "'attention_head_dim'"));
    /* accepted spellings of the defaults */
    CHECK(unet_bad("{\"class_embed_type\": null, \"only_cross_attention\": false, \"act_fn\": \"silu\", "
                   "\"in_channels\": 4.5}",
                   ANIM_E_FORMAT, "'in_channels'"));
}

/* model_config.json: the field path includes the section */
static bool model_bad(const char *text, anim_status want, const char *field) {
    json_value *j = parse(text);
    if (!j) return false;
    anim_model_config mc;
    anim_error err = {0};
    anim_status st = anim_model_config_parse(&mc, NULL, NULL, j, "model_config.json", &err);
    json_free(j);
    bool ok = st == want && strstr(err.msg, "model_config.json") && strstr(err.msg, field);
    if (!ok) printf("    %s -> status %d, \"%s\" (want %d naming %s)\n", text, (int)st, err.msg, (int)want, field);
    return ok;
}

TEST(config_model_config_malformed) {
    CHECK(model_bad("{\"unet_additional_kwargs\": {\"motion_module_kwargs\": {\"num_attention_heads\": 0}}}",
                    ANIM_E_FORMAT, "'unet_additional_kwargs.motion_module_kwargs.num_attention_heads'"));
    CHECK(model_bad("{\"unet_additional_kwargs\": {\"motion_module_kwargs\": {\"attention_block_types\": "
                    "[\"Temporal_Self\", \"Temporal_Cross\"]}}}",
                    ANIM_E_UNSUPPORTED, "'unet_additional_kwargs.motion_module_kwargs.attention_block_types[1]'"));
    CHECK(model_bad("{\"unet_additional_kwargs\": {\"unet_use_temporal_attention\": true}}", ANIM_E_UNSUPPORTED,
                    "'unet_additional_kwargs.unet_use_temporal_attention'"));
    CHECK(model_bad("{\"unet_additional_kwargs\": {\"unet_use_cross_frame_attention\": true}}", ANIM_E_UNSUPPORTED,
                    "'unet_additional_kwargs.unet_use_cross_frame_attention'"));
    CHECK(model_bad("{\"unet_additional_kwargs\": {\"motion_module_type\": \"Conv\"}}", ANIM_E_UNSUPPORTED,
                    "'unet_additional_kwargs.motion_module_type'"));
    CHECK(model_bad("{\"unet_additional_kwargs\": {\"motion_module_resolutions\": [1, 0]}}", ANIM_E_FORMAT,
                    "'unet_additional_kwargs.motion_module_resolutions'"));
    CHECK(model_bad("{\"unet_additional_kwargs\": {\"cross_attention_dim\": -384}}", ANIM_E_FORMAT,
                    "'unet_additional_kwargs.cross_attention_dim'"));
    CHECK(model_bad("{\"unet_additional_kwargs\": {\"use_linear_projection\": true}}", ANIM_E_UNSUPPORTED,
                    "'unet_additional_kwargs.use_linear_projection'"));
    CHECK(model_bad("{\"unet_additional_kwargs\": 5}", ANIM_E_FORMAT, "'unet_additional_kwargs' must be an object"));
    CHECK(model_bad("{\"noise_scheduler_kwargs\": {\"beta_schedule\": \"squaredcos_cap_v2\"}}", ANIM_E_UNSUPPORTED,
                    "'noise_scheduler_kwargs.beta_schedule'"));
    CHECK(model_bad("{\"noise_scheduler_kwargs\": {\"prediction_type\": \"sample\"}}", ANIM_E_UNSUPPORTED,
                    "'noise_scheduler_kwargs.prediction_type'"));
    CHECK(model_bad("{\"noise_scheduler_kwargs\": {\"timestep_spacing\": 5}}", ANIM_E_FORMAT,
                    "'noise_scheduler_kwargs.timestep_spacing'"));
    CHECK(model_bad("{\"noise_scheduler_kwargs\": {\"beta_start\": -0.1}}", ANIM_E_FORMAT,
                    "'noise_scheduler_kwargs.beta_start'"));
    CHECK(model_bad("{\"noise_scheduler_kwargs\": {\"clip_sample\": \"no\"}}", ANIM_E_FORMAT,
                    "'noise_scheduler_kwargs.clip_sample'"));
    CHECK(model_bad("{\"pose_guider\": {\"block_out_channels\": []}}", ANIM_E_FORMAT,
                    "'pose_guider.block_out_channels'"));
    CHECK(model_bad("{\"pose_guider\": {\"conditioning_channels\": 0}}", ANIM_E_FORMAT,
                    "'pose_guider.conditioning_channels'"));
    CHECK(model_bad("{\"vae_latent_scaling\": 0}", ANIM_E_FORMAT, "'vae_latent_scaling'"));
    CHECK(model_bad("{\"clip_image_size\": \"224\"}", ANIM_E_FORMAT, "'clip_image_size'"));
    CHECK(model_bad("{\"sampler\": \"Euler\"}", ANIM_E_UNSUPPORTED, "'sampler'"));
}

TEST(config_model_config_overrides) {
    json_value *j = parse("{\"note\": \"x\", \"unet_additional_kwargs\": {\"motion_module_mid_block\": false, "
                          "\"motion_module_decoder_only\": true, \"motion_module_kwargs\": "
                          "{\"temporal_position_encoding_max_len\": 24}}, \"noise_scheduler_kwargs\": "
                          "{\"beta_schedule\": \"scaled_linear\", \"timestep_spacing\": \"leading\", "
                          "\"prediction_type\": \"epsilon\"}, \"pose_guider\": {\"conditioning_channels\": 1}}");
    CHECK(j);
    anim_model_config mc;
    anim_error err = {0};
    anim_status st = anim_model_config_parse(&mc, NULL, NULL, j, "model_config.json", &err);
    json_free(j);
    CHECK_OK(st, &err);
    const unet_config *d = &mc.denoising_unet;
    CHECK(!unet_config_mm_mid(d) && !unet_config_mm_down(d, 0) && unet_config_mm_up(d, 0));
    CHECK(d->mm.temporal_position_encoding_max_len == 24 && d->mm.num_attention_heads == 8);
    CHECK(mc.sched.beta_schedule == SCHED_BETA_SCALED_LINEAR && mc.sched.timestep_spacing == SCHED_SPACING_LEADING);
    CHECK(mc.sched.prediction_type == SCHED_PRED_EPSILON && mc.sched.rescale_betas_zero_snr);
    CHECK(mc.pose_guider.conditioning_channels == 1 && mc.pose_guider.conditioning_embedding_channels == 320);
}

/* from_pretrained_2d hard-codes 4 levels of 3-D blocks */
TEST(config_denoising_unet_needs_four_levels) {
    json_value *u = parse("{\"block_out_channels\": [32, 64, 64], \"down_block_types\": [\"CrossAttnDownBlock2D\", "
                          "\"CrossAttnDownBlock2D\", \"DownBlock2D\"], \"up_block_types\": [\"UpBlock2D\", "
                          "\"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\"]}");
    CHECK(u);
    anim_model_config mc;
    anim_error err = {0};
    anim_status st = anim_model_config_parse(&mc, u, "unet/config.json", NULL, NULL, &err);
    json_free(u);
    CHECK_STATUS(st, ANIM_E_UNSUPPORTED, &err);
    CHECK_CONTAINS(err.msg, "unet/config.json");
    CHECK_CONTAINS(err.msg, "'block_out_channels'");
}

TEST(config_motion_module_channel_checks) {
    /* the motion modules' GroupNorm has 32 groups whatever norm_num_groups says */
    json_value *u = parse("{\"block_out_channels\": [16, 16, 16, 16], \"norm_num_groups\": 8, "
                          "\"attention_head_dim\": 2}");
    CHECK(u);
    anim_model_config mc;
    anim_error err = {0};
    anim_status st = anim_model_config_parse(&mc, u, "unet/config.json", NULL, NULL, &err);
    json_free(u);
    CHECK_STATUS(st, ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "32 groups");

    /* the same base config is fine once unet_additional_kwargs turns the motion modules off:
     * the denoising UNet is checked after the kwargs, not before */
    u = parse("{\"block_out_channels\": [16, 16, 16, 16], \"norm_num_groups\": 8, \"attention_head_dim\": 2}");
    json_value *m = parse("{\"unet_additional_kwargs\": {\"use_motion_module\": false}}");
    CHECK(u && m);
    st = anim_model_config_parse(&mc, u, "unet/config.json", m, "model_config.json", &err);
    json_free(u);
    json_free(m);
    CHECK_OK(st, &err);
    CHECK(!mc.denoising_unet.use_motion_module && mc.denoising_unet.block_out_channels[3] == 16);
}

static bool vae_bad(const char *text, anim_status want, const char *field) {
    json_value *j = parse(text);
    if (!j) return false;
    vae_config v;
    vae_config_default(&v);
    anim_error err = {0};
    anim_status st = vae_config_parse(&v, j, "vae/config.json", &err);
    json_free(j);
    bool ok = st == want && strstr(err.msg, "vae/config.json") && strstr(err.msg, field);
    if (!ok) printf("    %s -> status %d, \"%s\" (want %d naming %s)\n", text, (int)st, err.msg, (int)want, field);
    return ok;
}

TEST(config_vae_malformed) {
    CHECK(vae_bad("{\"layers_per_block\": -1}", ANIM_E_FORMAT, "'layers_per_block'"));
    CHECK(vae_bad("{\"block_out_channels\": [128, \"256\"]}", ANIM_E_FORMAT, "'block_out_channels'"));
    CHECK(vae_bad("{\"latent_channels\": 0}", ANIM_E_FORMAT, "'latent_channels'"));
    CHECK(vae_bad("{\"scaling_factor\": -1}", ANIM_E_FORMAT, "'scaling_factor'"));
    CHECK(vae_bad("{\"down_block_types\": [\"DownEncoderBlock2D\", \"DownBlock2D\", \"DownEncoderBlock2D\", "
                  "\"DownEncoderBlock2D\"]}",
                  ANIM_E_UNSUPPORTED, "'down_block_types[1]'"));
    CHECK(vae_bad("{\"up_block_types\": [\"UpDecoderBlock2D\"]}", ANIM_E_FORMAT, "'up_block_types'"));
    CHECK(vae_bad("{\"norm_num_groups\": 24}", ANIM_E_FORMAT, "'norm_num_groups'"));
    CHECK(vae_bad("{\"mid_block_add_attention\": false}", ANIM_E_UNSUPPORTED, "'mid_block_add_attention'"));
    CHECK(vae_bad("{\"act_fn\": \"relu\"}", ANIM_E_UNSUPPORTED, "'act_fn'"));
}

static bool clip_bad(const char *text, anim_status want, const char *field) {
    json_value *j = parse(text);
    if (!j) return false;
    clip_vision_config c;
    clip_vision_config_default(&c);
    anim_error err = {0};
    anim_status st = clip_vision_config_parse(&c, j, "image_encoder/config.json", &err);
    json_free(j);
    bool ok = st == want && strstr(err.msg, "image_encoder/config.json") && strstr(err.msg, field);
    if (!ok) printf("    %s -> status %d, \"%s\" (want %d naming %s)\n", text, (int)st, err.msg, (int)want, field);
    return ok;
}

TEST(config_clip_malformed) {
    CHECK(clip_bad("{\"hidden_act\": \"relu\"}", ANIM_E_UNSUPPORTED, "'hidden_act'"));
    CHECK(clip_bad("{\"hidden_act\": 1}", ANIM_E_FORMAT, "'hidden_act'"));
    CHECK(clip_bad("{\"hidden_size\": -1024}", ANIM_E_FORMAT, "'hidden_size'"));
    CHECK(clip_bad("{\"hidden_size\": 1000}", ANIM_E_FORMAT, "'num_attention_heads'"));
    CHECK(clip_bad("{\"layer_norm_eps\": 0}", ANIM_E_FORMAT, "'layer_norm_eps'"));
    CHECK(clip_bad("{\"vision_config\": {\"patch_size\": 0}}", ANIM_E_FORMAT, "'vision_config.patch_size'"));
    CHECK(clip_bad("{\"vision_config\": []}", ANIM_E_FORMAT, "'vision_config'"));
}

TEST(config_missing_file_is_named) {
    anim_model_config mc;
    anim_error err = {0};
    anim_status st = anim_model_config_load(&mc, "tests/fixtures/no-such-dir/unet/config.json", NULL, &err);
    CHECK(st != ANIM_OK);
    CHECK_CONTAINS(err.msg, "no-such-dir/unet/config.json");
    vae_config v;
    st = vae_config_load(&v, "tests/fixtures/no-such-dir/vae/config.json", &err);
    CHECK(st != ANIM_OK);
    CHECK_CONTAINS(err.msg, "no-such-dir/vae/config.json");
}
