/*
 * test_model.c - loading whole model directories: .pth and .safetensors give
 * identical weights, conv weights are repacked OIHW -> OHWI, the directory
 * layouts resolve (ours and Moore's pretrained_weights/), .safetensors wins,
 * and a broken directory fails naming the file or key at fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "io/tensor_file.h"
#include "nn/model.h"
#include "test.h"

static anim_be *cpu(void) {
    static anim_be *be;
    anim_error e;
    if (!be && anim_be_create_cpu(2, &be, &e) != ANIM_OK) return NULL;
    return be;
}

static anim_status load(const char *dir, anim_model **m, anim_error *e) {
    anim_hooks h = {ANIM_LOG_ERROR, NULL, NULL, NULL, NULL, NULL, NULL};
    anim_err_clear(e);
    return anim_model_load(cpu(), dir, &h, m, e);
}

TEST(model_pth_and_safetensors_give_identical_weights) {
    anim_error e;
    anim_model *a = NULL, *b = NULL;
    CHECK_OK(load("tests/fixtures/moore-tiny", &a, &e), &e);
    CHECK_OK(load("tests/fixtures/moore-tiny-pth", &b, &e), &e);
    size_t n = anim_model_n_weights(a);
    CHECK(n == anim_model_n_weights(b) && n > 1400);
    size_t compared = 0;
    for (size_t i = 0; i < n; i++) {
        const char *na, *ka, *nb, *kb;
        int64_t ea, eb;
        const float *wa = anim_model_weight_at(a, i, &na, &ka, &ea);
        const float *wb = anim_model_weight_at(b, i, &nb, &kb, &eb);
        CHECK(!strcmp(na, nb) && !strcmp(ka, kb) && ea == eb);
        CHECK((wa == NULL) == (wb == NULL));
        if (!wa) continue;
        CHECK_MSG(memcmp(wa, wb, (size_t)ea * sizeof(float)) == 0, "%s %s differs", na, ka);
        compared++;
    }
    CHECK(compared >= 1470); /* all but CLIP's unused position_ids */
    anim_model_free(a);
    anim_model_free(b);
}

TEST(model_conv_weights_are_repacked_to_ohwi) {
    anim_error e;
    anim_model *m = NULL;
    tf_file *f = NULL;
    CHECK_OK(load("tests/fixtures/moore-tiny", &m, &e), &e);
    CHECK_OK(tf_open("tests/fixtures/moore-tiny/pose_guider.safetensors", &f, &e), &e);
    const tf_tensor *t = tf_find(f, "blocks.1.weight"); /* [8, 4, 3, 3] OIHW */
    CHECK(t && t->ndim == 4);
    int64_t O = t->shape[0], I = t->shape[1], H = t->shape[2], W = t->shape[3];
    float *src = malloc((size_t)tf_numel(t) * sizeof *src);
    CHECK_OK(tf_read_f32(t, src, &e), &e);
    const float *w = anim_model_weight(m, "pose_guider", "blocks.1.weight");
    CHECK(w != NULL);
    int bad = 0;
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++)
            for (int64_t y = 0; y < H; y++)
                for (int64_t x = 0; x < W; x++)
                    bad += w[((o * H + y) * W + x) * I + i] != src[((o * I + i) * H + y) * W + x];
    free(src);
    tf_close(f);
    anim_model_free(m);
    CHECK(bad == 0);
    /* linear weights stay [out, in] */
}

/* ---- scratch model directories built from symlinks to the fixture ---- */

static char *scratch(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", test_tmp_dir(), name);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", buf, buf);
    return system(cmd) == 0 ? buf : NULL;
}

static bool link_in(const char *dir, const char *target, const char *name) {
    char src[1024], dst[1024], cwd[512];
    if (!getcwd(cwd, sizeof cwd)) return false;
    snprintf(src, sizeof src, "%s/tests/fixtures/%s", cwd, target);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    char *slash = strrchr(dst, '/');
    *slash = 0;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dst);
    if (system(cmd) != 0) return false;
    *slash = '/';
    return symlink(src, dst) == 0;
}

/* Moore's pretrained_weights/ layout with the tiny .pth models */
static bool moore_layout(const char *d, bool with_model_config) {
    return link_in(d, "moore-tiny-pth/denoising_unet.pth", "denoising_unet.pth") &&
           link_in(d, "moore-tiny-pth/reference_unet.pth", "reference_unet.pth") &&
           link_in(d, "moore-tiny-pth/motion_module.pth", "motion_module.pth") &&
           link_in(d, "moore-tiny-pth/pose_guider.pth", "pose_guider.pth") &&
           link_in(d, "moore-tiny-pth/vae/config.json", "sd-vae-ft-mse/config.json") &&
           link_in(d, "moore-tiny-pth/vae/diffusion_pytorch_model.bin", "sd-vae-ft-mse/diffusion_pytorch_model.bin") &&
           link_in(d, "moore-tiny-pth/image_encoder/config.json", "image_encoder/config.json") &&
           link_in(d, "moore-tiny-pth/image_encoder/pytorch_model.bin", "image_encoder/pytorch_model.bin") &&
           link_in(d, "moore-tiny-pth/unet/config.json", "stable-diffusion-v1-5/unet/config.json") &&
           (!with_model_config || link_in(d, "moore-tiny/model_config.json", "model_config.json"));
}

TEST(model_moore_pretrained_weights_layout_loads) {
    char *d = scratch("moore_layout");
    CHECK(d && moore_layout(d, true));
    anim_error e;
    anim_model *m = NULL;
    CHECK_OK(load(d, &m, &e), &e);
    anim_model_info info;
    anim_model_describe(m, &info);
    CHECK(info.n_nets == 6 && info.total_params == 1906455);
    anim_model_free(m);
}

TEST(model_without_model_config_uses_released_settings) {
    /* the tiny pose guider is not the released 320-channel one: the built-in
     * released settings must be applied, and the mismatch named */
    char *d = scratch("moore_layout_nocfg");
    CHECK(d && moore_layout(d, false));
    anim_error e;
    anim_model *m = NULL;
    CHECK_STATUS(load(d, &m, &e), ANIM_E_MODEL, &e);
    CHECK(m == NULL);
    CHECK_CONTAINS(e.msg, "pose_guider.pth");
    CHECK_CONTAINS(e.msg, "expects");
}

TEST(model_missing_checkpoint_is_named) {
    char *d = scratch("missing_ckpt");
    CHECK(d && moore_layout(d, true));
    char p[600];
    snprintf(p, sizeof p, "%s/motion_module.pth", d);
    CHECK(unlink(p) == 0);
    anim_error e;
    anim_model *m = NULL;
    CHECK_STATUS(load(d, &m, &e), ANIM_E_IO, &e);
    CHECK_CONTAINS(e.msg, "motion_module.safetensors, motion_module.pth");
}

TEST(model_safetensors_wins_over_pth) {
    char *d = scratch("both_formats");
    CHECK(d && moore_layout(d, true));
    /* a .safetensors beside the .pth is used: prove it by making the .pth unreadable garbage */
    char p[600];
    snprintf(p, sizeof p, "%s/reference_unet.pth", d);
    CHECK(unlink(p) == 0);
    CHECK(test_write_file(p, "PK\3\4 not a checkpoint", 21));
    CHECK(link_in(d, "moore-tiny/reference_unet.safetensors", "reference_unet.safetensors"));
    anim_error e;
    anim_model *m = NULL;
    CHECK_OK(load(d, &m, &e), &e);
    anim_model_free(m);
    /* and without the .safetensors, the broken .pth is reported with its path */
    snprintf(p, sizeof p, "%s/reference_unet.safetensors", d);
    CHECK(unlink(p) == 0);
    CHECK_STATUS(load(d, &m, &e), ANIM_E_FORMAT, &e);
    CHECK_CONTAINS(e.msg, "reference_unet.pth");
}

TEST(model_wrong_checkpoint_in_place_names_key) {
    /* a pose guider where the reference UNet should be: missing keys, named */
    char *d = scratch("swapped");
    CHECK(d && moore_layout(d, true));
    char p[600];
    snprintf(p, sizeof p, "%s/reference_unet.pth", d);
    CHECK(unlink(p) == 0);
    CHECK(link_in(d, "moore-tiny-pth/pose_guider.pth", "reference_unet.pth"));
    anim_error e;
    anim_model *m = NULL;
    CHECK_STATUS(load(d, &m, &e), ANIM_E_MODEL, &e);
    CHECK_CONTAINS(e.msg, "reference_unet.pth: tensor 'conv_in.weight' has shape [4, 3, 3, 3]");
    CHECK_CONTAINS(e.msg, "expects [32, 4, 3, 3]");
    /* the denoising UNet where the reference UNet should be: its extra keys are named */
    CHECK(unlink(p) == 0);
    CHECK(link_in(d, "moore-tiny-pth/denoising_unet.pth", "reference_unet.pth"));
    CHECK_STATUS(load(d, &m, &e), ANIM_E_MODEL, &e);
    CHECK_CONTAINS(e.msg, "reference_unet.pth: unexpected tensor 'conv_");
    CHECK_CONTAINS(e.msg, "4 keys not part of reference_unet");
}

TEST(model_truncated_checkpoint_fails_cleanly) {
    char *d = scratch("truncated");
    CHECK(d && moore_layout(d, true));
    size_t len = 0;
    unsigned char *buf = test_read_file("tests/fixtures/moore-tiny/denoising_unet.safetensors", &len);
    CHECK(buf && len > 1000);
    char p[600];
    snprintf(p, sizeof p, "%s/denoising_unet.safetensors", d);
    CHECK(test_write_file(p, buf, len - 1000));
    free(buf);
    anim_error e;
    anim_model *m = NULL;
    CHECK_STATUS(load(d, &m, &e), ANIM_E_FORMAT, &e);
    CHECK_CONTAINS(e.msg, "denoising_unet.safetensors");
}

TEST(model_legacy_torch_pickle_is_named) {
    /* PROTO 2, LONG1 10-byte magic: how torch.save wrote files before 1.6 */
    const unsigned char legacy[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
    char p[600];
    snprintf(p, sizeof p, "%s/legacy.pth", test_tmp_dir());
    CHECK(test_write_file(p, legacy, sizeof legacy));
    tf_file *f = NULL;
    anim_error e;
    CHECK_STATUS(tf_open(p, &f, &e), ANIM_E_UNSUPPORTED, &e);
    CHECK(f == NULL);
    CHECK_CONTAINS(e.msg, "legacy.pth: legacy (pre-1.6) PyTorch checkpoint");
}

TEST(model_echomimic_layout_loads_standard_and_acc) {
    anim_error e;
    anim_model *m = NULL, *a = NULL;
    anim_hooks h = {ANIM_LOG_ERROR, NULL, NULL, NULL, NULL, NULL, NULL};
    CHECK_OK(anim_model_load(cpu(), "tests/fixtures/echomimic-tiny", &h, &m, &e), &e);
    CHECK_OK(anim_model_load_ex(cpu(), "tests/fixtures/echomimic-tiny", ANIM_LOAD_ACC, &h, &a, &e), &e);
    anim_model_info im, ia;
    anim_model_describe(m, &im);
    anim_model_describe(a, &ia);
    CHECK(im.kind == ANIM_MODEL_TALKING_HEAD && ia.kind == ANIM_MODEL_TALKING_HEAD);
    CHECK(im.n_nets == 6 && !strcmp(im.nets[3].name, "face_locator") && !strcmp(im.nets[5].name, "audio_model"));
    CHECK(strstr(ia.nets[1].file, "denoising_unet_acc") && strstr(ia.nets[2].file, "motion_module_acc"));
    /* whisper: conv1d weights repacked [O, I, K] -> [O, K, I]; decoder keys ignored, never loaded */
    CHECK(anim_model_weight(m, "audio_model", "encoder.conv1.weight") != NULL);
    CHECK(anim_model_weight(m, "audio_model", "decoder.token_embedding.weight") == NULL);
    /* the two samplers' denoising weights differ */
    const float *w0 = anim_model_weight(m, "denoising_unet", "conv_in.weight");
    const float *w1 = anim_model_weight(a, "denoising_unet_acc", "conv_in.weight");
    CHECK(w0 && w1 && memcmp(w0, w1, 32 * 4 * 9 * sizeof(float)) != 0);
    anim_model_free(m);
    anim_model_free(a);
}
