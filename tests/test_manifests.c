/*
 * test_manifests.c - every network's key table against the real released
 * checkpoints (key/shape/dtype manifests in tests/fixtures/real-manifests,
 * configs from the real config files), and against the tiny fixtures in both
 * released formats. w_bind must accept exactly: every manifest key claimed,
 * every spec bound, parameter counts equal.
 */
#include <stdlib.h>

#include "io/json.h"
#include "io/manifest.h"
#include "io/tensor_file.h"
#include "nn/clip_vision.h"
#include "nn/config.h"
#include "nn/motion_module.h"
#include "nn/pose_guider.h"
#include "nn/unet.h"
#include "nn/vae.h"
#include "nn/wspec.h"
#include "test.h"

#define RM "tests/fixtures/real-manifests/"

/* A manifest: its DOM (for "config" / "num_elements") and its data-less tf_file. */
typedef struct man {
    json_value *j;
    tf_file *f;
} man;

static bool man_open(man *m, const char *path) {
    anim_error err = {0};
    m->f = NULL;
    m->j = json_parse_file(path, NULL, &err);
    if (!m->j) {
        printf("    %s: %s\n", path, err.msg);
        return false;
    }
    if (tf_manifest_from_json(m->j, path, &m->f, &err) != ANIM_OK) {
        printf("    %s: %s\n", path, err.msg);
        return false;
    }
    return true;
}

static void man_close(man *m) {
    tf_close(m->f);
    json_free(m->j);
    m->f = NULL;
    m->j = NULL;
}

static int64_t man_num_elements(const man *m) { return (int64_t)json_get_num(m->j, "num_elements", -1); }

/* Real model configs: sd15 unet config + a model_config.json-style file. */
static bool model_cfg(anim_model_config *mc, const char *model_json) {
    anim_error err = {0};
    if (anim_model_config_load(mc, RM "sd15_unet_config.json", model_json, &err) != ANIM_OK) {
        printf("    config: %s\n", err.msg);
        return false;
    }
    return true;
}

/* Bind and require exactness: OK, every spec bound to a tensor, element count
 * of all bound tensors == want_numel (when >= 0). Returns false after
 * printing the reason. */
static bool bind_exact(const w_list *l, tf_file *const *files, int n, const char *net, int64_t want_numel) {
    anim_error err = {0};
    w_bound *b = calloc(l->n ? l->n : 1, sizeof *b);
    if (!b) return false;
    anim_status st = w_bind(l, files, n, net, "test config", b, &err);
    bool ok = st == ANIM_OK;
    if (!ok) printf("    %s: w_bind: %s\n", net, err.msg);
    int64_t total = 0;
    for (size_t k = 0; ok && k < l->n; k++) {
        if (!b[k].t) {
            printf("    %s: spec '%s' not bound\n", net, l->v[k].name);
            ok = false;
            break;
        }
        total += tf_numel(b[k].t);
    }
    size_t nfile = 0;
    for (int i = 0; i < n; i++) nfile += files[i]->n;
    if (ok && nfile != l->n) {
        printf("    %s: %zu specs but %zu tensors in the files\n", net, l->n, nfile);
        ok = false;
    }
    if (ok && want_numel >= 0 && total != want_numel) {
        printf("    %s: %lld elements bound, manifest says %lld\n", net, (long long)total, (long long)want_numel);
        ok = false;
    }
    free(b);
    return ok;
}

/* w_bind's status and message for a list against one file */
static anim_status bind_msg(const w_list *l, tf_file *f, const char *net, anim_error *err) {
    w_bound *b = calloc(l->n ? l->n : 1, sizeof *b);
    if (!b) return anim_seterr(err, ANIM_E_OOM, "test: out of memory");
    anim_status st = w_bind(l, &f, 1, net, "test config", b, err);
    free(b);
    return st;
}

/* ---- Moore-AnimateAnyone ---------------------------------------------- */

TEST(manifest_moore_reference_unet) {
    anim_model_config mc;
    CHECK(model_cfg(&mc, RM "inference_v2.json"));
    man m;
    CHECK(man_open(&m, RM "reference_unet.pth.json"));
    w_list l;
    wl_init(&l);
    unet_weights(&mc.reference_unet, UNET_REFERENCE, 0, &l);
    bool ok = bind_exact(&l, &m.f, 1, "reference_unet", man_num_elements(&m));
    CHECK_MSG(l.n == 682, "reference UNet has %zu keys, want 682", l.n);
    wl_free(&l);
    man_close(&m);
    CHECK(ok);
}

TEST(manifest_moore_denoising_plus_motion) {
    anim_model_config mc;
    CHECK(model_cfg(&mc, RM "inference_v2.json"));
    man d, mm;
    CHECK(man_open(&d, RM "denoising_unet.pth.json"));
    CHECK(man_open(&mm, RM "motion_module.pth.json"));
    w_list l;
    wl_init(&l);
    unet_weights(&mc.denoising_unet, UNET_DENOISING, 0, &l);
    motion_module_weights(&mc.denoising_unet, &l);
    tf_file *files[2] = {d.f, mm.f};
    bool ok = bind_exact(&l, files, 2, "denoising_unet", man_num_elements(&d) + man_num_elements(&mm));
    size_t n = l.n;
    wl_free(&l);
    man_close(&d);
    man_close(&mm);
    CHECK(ok);
    CHECK_MSG(n == 686 + 588, "%zu keys", n);
}

TEST(manifest_moore_motion_module_alone) {
    anim_model_config mc;
    CHECK(model_cfg(&mc, RM "inference_v2.json"));
    man m;
    CHECK(man_open(&m, RM "motion_module.pth.json"));
    w_list l;
    wl_init(&l);
    motion_module_weights(&mc.denoising_unet, &l);
    bool ok = bind_exact(&l, &m.f, 1, "motion_module", man_num_elements(&m));
    int pe = 0;
    for (size_t k = 0; k < l.n; k++)
        if (strstr(l.v[k].name, "pos_encoder.pe")) {
            pe++;
            if (l.v[k].ndim != 3 || l.v[k].shape[0] != 1 || l.v[k].shape[1] != 32) ok = false;
        }
    wl_free(&l);
    man_close(&m);
    CHECK(ok);
    CHECK_MSG(pe == 42, "%d pe buffers, want 42 (21 modules x 2)", pe);
}

TEST(manifest_moore_pose_guider) {
    anim_model_config mc;
    CHECK(model_cfg(&mc, RM "inference_v2.json"));
    man m;
    CHECK(man_open(&m, RM "pose_guider.pth.json"));
    w_list l;
    wl_init(&l);
    pose_guider_weights(&mc.pose_guider, &l);
    bool ok = bind_exact(&l, &m.f, 1, "pose_guider", man_num_elements(&m));
    wl_free(&l);
    man_close(&m);
    CHECK(ok);
}

TEST(manifest_sd_vae_ft_mse) {
    man m;
    CHECK(man_open(&m, RM "sd-vae-ft-mse.diffusion_pytorch_model.json"));
    vae_config vc;
    vae_config_default(&vc);
    anim_error err = {0};
    anim_status st = vae_config_parse(&vc, json_get(m.j, "config"), "sd-vae-ft-mse config", &err);
    w_list l;
    wl_init(&l);
    vae_weights(&vc, &l);
    bool ok = st == ANIM_OK && bind_exact(&l, &m.f, 1, "vae", man_num_elements(&m));
    wl_free(&l);
    man_close(&m);
    CHECK_MSG(st == ANIM_OK, "%s", err.msg);
    CHECK(ok);
}

TEST(manifest_clip_image_encoder) {
    man m;
    CHECK(man_open(&m, RM "image_encoder.pytorch_model.json"));
    clip_vision_config cc;
    clip_vision_config_default(&cc);
    anim_error err = {0};
    anim_status st = clip_vision_config_parse(&cc, json_get(m.j, "config"), "image_encoder config", &err);
    w_list l;
    wl_init(&l);
    clip_vision_weights(&cc, &l);
    /* num_elements counts the int64 position_ids buffer too; bind_exact counts every bound tensor */
    bool ok = st == ANIM_OK && bind_exact(&l, &m.f, 1, "image_encoder", man_num_elements(&m));
    int64_t loadable = wl_numel(&l);
    wl_free(&l);
    man_close(&m);
    CHECK_MSG(st == ANIM_OK, "%s", err.msg);
    CHECK(ok);
    CHECK(loadable == 303966465 - 257);
}

/* ---- EchoMimic V1 ------------------------------------------------------ */

TEST(manifest_echomimic_reference_unet) {
    anim_model_config mc;
    CHECK(model_cfg(&mc, RM "echomimic.inference_v2.json"));
    man m;
    CHECK(man_open(&m, RM "echomimic.reference_unet.json"));
    w_list l;
    wl_init(&l);
    unet_weights(&mc.reference_unet, UNET_REFERENCE, UNET_NO_CROSS_ATTN, &l);
    bool ok = bind_exact(&l, &m.f, 1, "echomimic reference_unet", man_num_elements(&m));
    wl_free(&l);
    man_close(&m);
    CHECK(ok);
}

TEST(manifest_echomimic_denoising_plus_motion) {
    anim_model_config mc;
    CHECK(model_cfg(&mc, RM "echomimic.inference_v2.json"));
    CHECK(mc.denoising_unet.cross_attention_dim == 384);
    CHECK(mc.reference_unet.cross_attention_dim == 768);
    man d, mm;
    CHECK(man_open(&d, RM "echomimic.denoising_unet.json"));
    CHECK(man_open(&mm, RM "echomimic.motion_module.json"));
    w_list l;
    wl_init(&l);
    unet_weights(&mc.denoising_unet, UNET_DENOISING, 0, &l);
    motion_module_weights(&mc.denoising_unet, &l);
    tf_file *files[2] = {d.f, mm.f};
    bool ok = bind_exact(&l, files, 2, "echomimic denoising_unet", man_num_elements(&d) + man_num_elements(&mm));
    wl_free(&l);
    man_close(&d);
    man_close(&mm);
    CHECK(ok);
}

TEST(manifest_echomimic_motion_module_alone) {
    anim_model_config mc;
    CHECK(model_cfg(&mc, RM "echomimic.inference_v2.json"));
    man m;
    CHECK(man_open(&m, RM "echomimic.motion_module.json"));
    w_list l;
    wl_init(&l);
    motion_module_weights(&mc.denoising_unet, &l);
    bool ok = bind_exact(&l, &m.f, 1, "echomimic motion_module", man_num_elements(&m));
    wl_free(&l);
    man_close(&m);
    CHECK(ok);
}

TEST(manifest_echomimic_face_locator) {
    pose_guider_config pg;
    pose_guider_config_default(&pg);
    pg.conditioning_channels = 1; /* FaceLocator(320, conditioning_channels=1, ...) */
    man m;
    CHECK(man_open(&m, RM "echomimic.face_locator.json"));
    w_list l;
    wl_init(&l);
    pose_guider_weights(&pg, &l);
    bool ok = bind_exact(&l, &m.f, 1, "face_locator", man_num_elements(&m));
    wl_free(&l);
    man_close(&m);
    CHECK(ok);
}

/* The EchoMimic denoising file must NOT fit a config without its cross_attention_dim 384. */
TEST(manifest_echomimic_rejects_moore_config) {
    anim_model_config mc;
    CHECK(model_cfg(&mc, RM "inference_v2.json"));
    man d;
    CHECK(man_open(&d, RM "echomimic.denoising_unet.json"));
    w_list l;
    wl_init(&l);
    unet_weights(&mc.denoising_unet, UNET_DENOISING, 0, &l);
    anim_error err = {0};
    anim_status st = bind_msg(&l, d.f, "denoising_unet", &err);
    wl_free(&l);
    man_close(&d);
    CHECK_STATUS(st, ANIM_E_MODEL, &err);
    CHECK_CONTAINS(err.msg, "attn2.to_k.weight");
    CHECK_CONTAINS(err.msg, "[320, 384]");
    CHECK_CONTAINS(err.msg, "[320, 768]");
}

/* ---- negative tests: the binder's messages name the key ---------------- */

static void drop_tensor(tf_file *f, const char *name) {
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->tensors[i].name, name)) {
            memmove(&f->tensors[i], &f->tensors[i + 1], (f->n - i - 1) * sizeof *f->tensors);
            f->n--;
            break;
        }
    tf_finish(f, NULL);
}

TEST(manifest_missing_key_is_named) {
    anim_model_config mc;
    CHECK(model_cfg(&mc, RM "inference_v2.json"));
    man m;
    CHECK(man_open(&m, RM "reference_unet.pth.json"));
    const char *victim = "up_blocks.2.attentions.1.transformer_blocks.0.attn2.to_v.weight";
    CHECK(tf_find(m.f, victim));
    drop_tensor(m.f, victim);
    CHECK(!tf_find(m.f, victim));
    w_list l;
    wl_init(&l);
    unet_weights(&mc.reference_unet, UNET_REFERENCE, 0, &l);
    anim_error err = {0};
    anim_status st = bind_msg(&l, m.f, "reference_unet", &err);
    wl_free(&l);
    man_close(&m);
    CHECK_STATUS(st, ANIM_E_MODEL, &err);
    CHECK_CONTAINS(err.msg, victim);
    CHECK_CONTAINS(err.msg, "missing");
}

TEST(manifest_wrong_shape_names_key_and_shapes) {
    anim_model_config mc;
    CHECK(model_cfg(&mc, RM "inference_v2.json"));
    man m;
    CHECK(man_open(&m, RM "reference_unet.pth.json"));
    tf_tensor *t = (tf_tensor *)tf_find(m.f, "down_blocks.1.resnets.0.conv_shortcut.weight");
    CHECK(t && t->ndim == 4 && t->shape[0] == 640 && t->shape[1] == 320);
    t->shape[1] = 321;
    w_list l;
    wl_init(&l);
    unet_weights(&mc.reference_unet, UNET_REFERENCE, 0, &l);
    anim_error err = {0};
    anim_status st = bind_msg(&l, m.f, "reference_unet", &err);
    wl_free(&l);
    man_close(&m);
    CHECK_STATUS(st, ANIM_E_MODEL, &err);
    CHECK_CONTAINS(err.msg, "down_blocks.1.resnets.0.conv_shortcut.weight");
    CHECK_CONTAINS(err.msg, "[640, 321, 1, 1]");
    CHECK_CONTAINS(err.msg, "[640, 320, 1, 1]");
}

TEST(manifest_extra_key_is_unexpected) {
    man m;
    CHECK(man_open(&m, RM "pose_guider.pth.json"));
    /* grow the tensor list by one; the name points at a literal (names are
     * owned through priv, which does not free individual names) */
    tf_tensor *v = realloc(m.f->tensors, (m.f->n + 1) * sizeof *v);
    CHECK(v);
    m.f->tensors = v;
    tf_tensor *x = &v[m.f->n++];
    memset(x, 0, sizeof *x);
    x->name = "blocks.6.weight";
    x->dtype = ANIM_DT_F32;
    x->ndim = 4;
    x->shape[0] = 256;
    x->shape[1] = 256;
    x->shape[2] = x->shape[3] = 3;
    CHECK(tf_finish(m.f, NULL) == ANIM_OK);
    pose_guider_config pg;
    pose_guider_config_default(&pg);
    w_list l;
    wl_init(&l);
    pose_guider_weights(&pg, &l);
    anim_error err = {0};
    anim_status st = bind_msg(&l, m.f, "pose_guider", &err);
    wl_free(&l);
    man_close(&m);
    CHECK_STATUS(st, ANIM_E_MODEL, &err);
    CHECK_CONTAINS(err.msg, "blocks.6.weight");
    CHECK_CONTAINS(err.msg, "unexpected");
}

/* The VAE file may use the deprecated attention names (as the manifest does) or
 * the current ones; both bind, a file holding both spellings is refused. */
TEST(manifest_vae_old_and_new_attention_names) {
    static const char *const OLD[4] = {"query", "key", "value", "proj_attn"};
    static const char *const NEW[4] = {"to_q", "to_k", "to_v", "to_out.0"};
    man m;
    CHECK(man_open(&m, RM "sd-vae-ft-mse.diffusion_pytorch_model.json"));
    vae_config vc;
    vae_config_default(&vc);
    w_list l;
    wl_init(&l);
    vae_weights(&vc, &l);
    CHECK(bind_exact(&l, &m.f, 1, "vae (old names)", man_num_elements(&m)));

    /* rename every old-name tensor to its new name */
    static char names[64][W_NAME_MAX];
    int nn = 0;
    for (size_t i = 0; i < m.f->n; i++) {
        const char *s = m.f->tensors[i].name;
        for (int k = 0; k < 4; k++) {
            char pat[32];
            snprintf(pat, sizeof pat, ".%s.", OLD[k]);
            const char *hit = strstr(s, pat);
            if (!hit || nn >= 64) continue;
            snprintf(names[nn], W_NAME_MAX, "%.*s.%s.%s", (int)(hit - s), s, NEW[k], hit + strlen(pat));
            m.f->tensors[i].name = names[nn++];
            break;
        }
    }
    CHECK_MSG(nn == 16, "renamed %d tensors, want 16", nn);
    CHECK(tf_finish(m.f, NULL) == ANIM_OK);
    CHECK(tf_find(m.f, "decoder.mid_block.attentions.0.to_out.0.weight"));
    bool ok = bind_exact(&l, &m.f, 1, "vae (new names)", man_num_elements(&m));

    /* both spellings at once: ambiguous */
    const tf_tensor *q = tf_find(m.f, "encoder.mid_block.attentions.0.to_q.weight");
    CHECK(q);
    tf_tensor copy = *q;
    tf_tensor *v = realloc(m.f->tensors, (m.f->n + 1) * sizeof *v);
    CHECK(v);
    m.f->tensors = v;
    copy.name = "encoder.mid_block.attentions.0.query.weight";
    v[m.f->n++] = copy;
    CHECK(tf_finish(m.f, NULL) == ANIM_OK);
    anim_error err = {0};
    anim_status st = bind_msg(&l, m.f, "vae", &err);
    wl_free(&l);
    man_close(&m);
    CHECK(ok);
    CHECK_STATUS(st, ANIM_E_MODEL, &err);
    CHECK_CONTAINS(err.msg, "encoder.mid_block.attentions.0.query.weight");
}

/* ---- tiny fixtures in both released formats ---------------------------- */

static bool open_tf(const char *path, tf_file **f) {
    anim_error err = {0};
    if (tf_open(path, f, &err) != ANIM_OK) {
        printf("    %s\n", err.msg);
        return false;
    }
    return true;
}

/* Bind every network of a tiny Moore directory. `ext` is the UNet file
 * extension, vae/clip the weight file names inside vae/ and image_encoder/. */
static bool bind_tiny_dir(const char *dir, const char *ext, const char *vae_file, const char *clip_file) {
    char p1[512], p2[512];
    anim_error err = {0};
    anim_model_config mc;
    snprintf(p1, sizeof p1, "%s/unet/config.json", dir);
    snprintf(p2, sizeof p2, "%s/model_config.json", dir);
    if (anim_model_config_load(&mc, p1, p2, &err) != ANIM_OK) {
        printf("    %s\n", err.msg);
        return false;
    }
    vae_config vc;
    clip_vision_config cc;
    snprintf(p1, sizeof p1, "%s/vae/config.json", dir);
    snprintf(p2, sizeof p2, "%s/image_encoder/config.json", dir);
    if (vae_config_load(&vc, p1, &err) != ANIM_OK || clip_vision_config_load(&cc, p2, &err) != ANIM_OK) {
        printf("    %s\n", err.msg);
        return false;
    }

    static const char *const NETS[] = {"reference_unet", "denoising_unet", "pose_guider", "vae", "image_encoder"};
    bool ok = true;
    for (int n = 0; n < 5 && ok; n++) {
        tf_file *f[2] = {NULL, NULL};
        int nf = 1;
        w_list l;
        wl_init(&l);
        switch (n) {
        case 0:
            snprintf(p1, sizeof p1, "%s/reference_unet.%s", dir, ext);
            ok = open_tf(p1, &f[0]);
            unet_weights(&mc.reference_unet, UNET_REFERENCE, 0, &l);
            break;
        case 1:
            snprintf(p1, sizeof p1, "%s/denoising_unet.%s", dir, ext);
            snprintf(p2, sizeof p2, "%s/motion_module.%s", dir, ext);
            ok = open_tf(p1, &f[0]) && open_tf(p2, &f[1]);
            nf = 2;
            unet_weights(&mc.denoising_unet, UNET_DENOISING, 0, &l);
            motion_module_weights(&mc.denoising_unet, &l);
            break;
        case 2:
            snprintf(p1, sizeof p1, "%s/pose_guider.%s", dir, ext);
            ok = open_tf(p1, &f[0]);
            pose_guider_weights(&mc.pose_guider, &l);
            break;
        case 3:
            snprintf(p1, sizeof p1, "%s/vae/%s", dir, vae_file);
            ok = open_tf(p1, &f[0]);
            vae_weights(&vc, &l);
            break;
        case 4:
            snprintf(p1, sizeof p1, "%s/image_encoder/%s", dir, clip_file);
            ok = open_tf(p1, &f[0]);
            clip_vision_weights(&cc, &l);
            break;
        }
        if (ok) ok = bind_exact(&l, f, nf, NETS[n], -1);
        wl_free(&l);
        tf_close(f[0]);
        tf_close(f[1]);
    }
    return ok;
}

TEST(manifest_tiny_safetensors_binds) {
    CHECK(bind_tiny_dir("tests/fixtures/moore-tiny", "safetensors", "diffusion_pytorch_model.safetensors",
                        "model.safetensors"));
}

TEST(manifest_tiny_pth_binds) {
    CHECK(bind_tiny_dir("tests/fixtures/moore-tiny-pth", "pth", "diffusion_pytorch_model.bin", "pytorch_model.bin"));
}

/* ---- the manifest reader itself ------------------------------------------ */

static anim_status manifest_from(const char *text, tf_file **f, anim_error *err) {
    json_value *j = json_parse(text, strlen(text), NULL, err);
    if (!j) return ANIM_E_FORMAT;
    anim_status st = tf_manifest_from_json(j, "m.json", f, err);
    json_free(j);
    return st;
}

TEST(manifest_reader) {
    anim_error err = {0};
    tf_file *f = NULL;
    CHECK_OK(manifest_from("{\"keys\": [{\"name\": \"a.weight\", \"shape\": [2, 3], \"dtype\": \"float16\"}, "
                             "{\"name\": \"ids\", \"shape\": [1, 5], \"dtype\": \"int64\"}, "
                             "{\"name\": \"s\", \"shape\": [], \"dtype\": \"torch.bfloat16\"}]}",
                             &f, &err), &err);
    CHECK(f->format == TF_MANIFEST && f->n == 3 && !strcmp(f->path, "m.json"));
    const tf_tensor *t = tf_find(f, "a.weight");
    CHECK(t && t->dtype == ANIM_DT_F16 && t->ndim == 2 && t->shape[1] == 3 && !t->data && t->nbytes == 12);
    t = tf_find(f, "ids");
    CHECK(t && t->dtype == ANIM_DT_I64 && t->nbytes == 40);
    t = tf_find(f, "s");
    CHECK(t && t->dtype == ANIM_DT_BF16 && t->ndim == 0 && tf_numel(t) == 1);
    float x;
    CHECK(tf_read_f32(t, &x, &err) != ANIM_OK); /* no data behind a manifest */
    tf_close(f);

    CHECK_STATUS(manifest_from("{\"keys\": [{\"name\": \"a\", \"shape\": [2], \"dtype\": \"complex64\"}]}", &f,
                                 &err),
                   ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "complex64");
    CHECK(f == NULL);
    CHECK_STATUS(manifest_from("{\"keys\": [{\"name\": \"a\", \"shape\": [2, -1], \"dtype\": \"float32\"}]}", &f,
                                 &err),
                   ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "'a'");
    CHECK_STATUS(manifest_from("{\"keys\": [{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\"}, "
                                 "{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\"}]}",
                                 &f, &err),
                   ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "duplicate");
    CHECK_STATUS(manifest_from("{\"tensors\": []}", &f, &err), ANIM_E_FORMAT, &err);
    CHECK_CONTAINS(err.msg, "'keys'");
}
