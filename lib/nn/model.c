/*
 * model.c - load a pose-animation model directory into backend memory.
 *
 * Steps, each failing with a message that names the file and key at fault:
 *   1. resolve the layout (libanimate's own, or Moore's pretrained_weights/);
 *   2. parse configs (unet/config.json + model_config.json, vae/, image_encoder/),
 *      with the released values built in where a config is absent;
 *   3. open every checkpoint (safetensors or PyTorch zip, validated at open);
 *   4. bind each network's expected key list strictly (nn/wspec.c);
 *   5. convert each tensor to F32 on the host, repack conv weights OIHW -> OHWI,
 *      and upload to the backend (which stores its own dtype).
 * The checkpoint files are unmapped once their tensors are uploaded.
 */
#include "nn/model.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/tensor_file.h"
#include "nn/clip_vision.h"
#include "nn/config.h"
#include "nn/motion_module.h"
#include "nn/pose_guider.h"
#include "nn/unet.h"
#include "nn/vae.h"
#include "nn/whisper.h"
#include "nn/wspec.h"

/* GRP_POSE_GUIDER holds EchoMimic's face locator; GRP_CLIP holds its Whisper encoder */
enum { GRP_REFERENCE, GRP_DENOISING, GRP_POSE_GUIDER, GRP_VAE, GRP_CLIP, GRP_COUNT };

typedef struct model_group {
    const char *name[2];      /* info names of the files: denoising has two (UNet, motion modules) */
    char *path[2];
    int n_files;
    const char *cfg;          /* which config the shapes came from, for messages */
    w_list specs;
    const w_spec **by_name;   /* specs sorted by name, for lookups from the networks */
    void **w;                 /* backend pointer per spec (NULL: unused or absent) */
    int64_t tensors[2], params[2];
} model_group;

struct anim_model {
    anim_be *be;
    anim_model_kind kind;
    bool acc;
    anim_model_config cfg;
    vae_config vae;
    clip_vision_config clip;
    whisper_dims whisper;
    model_group g[GRP_COUNT];
    int64_t weight_elems;
};

/* ---------------------------------------------------------------- paths */

static bool is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (!s) return NULL;
    memcpy(s, a, la);
    size_t o = la;
    if (o && s[o - 1] != '/') s[o++] = '/';
    memcpy(s + o, b, lb + 1);
    return s;
}

/* First of dir/cand[i] that is a regular file (NULL: none; *oom on allocation failure). */
static char *first_file(const char *dir, const char *const *cand, bool *oom) {
    for (int i = 0; cand[i]; i++) {
        char *p = join(dir, cand[i]);
        if (!p) { *oom = true; return NULL; }
        if (is_file(p)) return p;
        free(p);
    }
    return NULL;
}

static char *first_dir(const char *dir, const char *const *cand, bool *oom) {
    for (int i = 0; cand[i]; i++) {
        char *p = join(dir, cand[i]);
        if (!p) { *oom = true; return NULL; }
        if (is_dir(p)) return p;
        free(p);
    }
    return NULL;
}

static anim_status missing(anim_error *err, const char *dir, const char *what, const char *const *cand) {
    char list[512] = "";
    size_t o = 0;
    for (int i = 0; cand[i] && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", cand[i]);
    return anim_seterr(err, ANIM_E_IO, "%s: missing %s (looked for %s)", dir, what, list);
}

/* Checkpoint NAME in dir: .safetensors wins over .pth / .bin (the released formats). */
static anim_status find_ckpt(const char *dir, const char *stem, char **out, anim_error *err) {
    char c0[128], c1[128], c2[128];
    snprintf(c0, sizeof c0, "%s.safetensors", stem);
    snprintf(c1, sizeof c1, "%s.pth", stem);
    snprintf(c2, sizeof c2, "%s.bin", stem);
    const char *cand[] = {c0, c1, c2, NULL};
    bool oom = false;
    *out = first_file(dir, cand, &oom);
    if (oom) return anim_seterr(err, ANIM_E_OOM, "out of memory");
    return *out ? ANIM_OK : missing(err, dir, "checkpoint", cand);
}

/* ---------------------------------------------------------------- loading */

static void repack_oihw_to_ohwi(float *dst, const float *src, int64_t o, int64_t i, int64_t h, int64_t w) {
    for (int64_t a = 0; a < o; a++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                for (int64_t c = 0; c < i; c++)
                    dst[((a * h + y) * w + x) * i + c] = src[((a * i + c) * h + y) * w + x];
}

typedef struct load_state {
    anim_be *be;
    const anim_hooks *hooks;
    float *host, *tmp;        /* reusable conversion buffers */
    size_t host_len;
    int done, total;          /* progress in tensors */
} load_state;

static anim_status upload_group(load_state *ls, model_group *g, tf_file *const *files, const w_bound *b,
                                anim_error *err) {
    g->w = calloc(g->specs.n ? g->specs.n : 1, sizeof *g->w);
    if (!g->w) return anim_seterr(err, ANIM_E_OOM, "out of memory");
    for (size_t k = 0; k < g->specs.n; k++) {
        const w_spec *s = &g->specs.v[k];
        if (anim_should_abort(ls->hooks)) return anim_seterr(err, ANIM_E_ABORTED, "loading aborted by the caller");
        if (!b[k].t || (s->flags & W_UNUSED)) continue;
        int fi = g->n_files > 1 && b[k].file == files[1]; /* which file, for the per-file info */
        int64_t n = tf_numel(b[k].t);
        g->tensors[fi]++;
        g->params[fi] += n;
        if ((size_t)n > ls->host_len) {
            free(ls->host);
            free(ls->tmp);
            ls->host = malloc((size_t)n * sizeof(float));
            ls->tmp = malloc((size_t)n * sizeof(float));
            ls->host_len = (ls->host && ls->tmp) ? (size_t)n : 0;
            if (!ls->host_len)
                return anim_seterr(err, ANIM_E_OOM, "%s: out of host memory for tensor '%s' (%lld elements)",
                                   b[k].file->path, s->name, (long long)n);
        }
        anim_status st = tf_read_f32(b[k].t, ls->host, err);
        if (st != ANIM_OK) return anim_err_prefix(err, "%s", b[k].file->path);
        const float *src = ls->host;
        if ((s->flags & W_CONV) && s->ndim == 4) {
            repack_oihw_to_ohwi(ls->tmp, ls->host, s->shape[0], s->shape[1], s->shape[2], s->shape[3]);
            src = ls->tmp;
        } else if ((s->flags & W_CONV1D) && s->ndim == 3) {
            repack_oihw_to_ohwi(ls->tmp, ls->host, s->shape[0], s->shape[1], 1, s->shape[2]); /* [O,I,K] -> [O,K,I] */
            src = ls->tmp;
        }
        if ((st = ls->be->ops->alloc(ls->be, (size_t)n, &g->w[k], err)) != ANIM_OK)
            return anim_err_prefix(err, "%s: tensor '%s'", b[k].file->path, s->name);
        if ((st = ls->be->ops->upload(ls->be, g->w[k], src, (size_t)n, err)) != ANIM_OK)
            return anim_err_prefix(err, "%s: tensor '%s'", b[k].file->path, s->name);
        anim_progress_simple(ls->hooks, "load", ++ls->done, ls->total);
    }
    return ANIM_OK;
}

/* Open the group's files, bind, upload, close the files. */
static anim_status load_group(load_state *ls, model_group *g, anim_error *err) {
    tf_file *files[2] = {NULL, NULL};
    w_bound *b = NULL;
    anim_status st = ANIM_OK;
    for (int i = 0; i < g->n_files && st == ANIM_OK; i++) st = tf_open(g->path[i], &files[i], err);
    if (st == ANIM_OK && !(b = calloc(g->specs.n ? g->specs.n : 1, sizeof *b)))
        st = anim_seterr(err, ANIM_E_OOM, "out of memory");
    if (st == ANIM_OK) st = w_bind(&g->specs, files, g->n_files, g->name[0], g->cfg, b, err);
    if (st == ANIM_OK) st = upload_group(ls, g, files, b, err);
    free(b);
    for (int i = 0; i < g->n_files; i++) tf_close(files[i]);
    return st;
}

/* A Hugging Face style sub-directory: weights (+ config.json where needed) */
static anim_status find_hf(const char *dir, const char *const *dirs, const char *const *weights, const char *what,
                           char **wpath, char **cfg, anim_error *err) {
    bool oom = false;
    const char *cfg_c[] = {"config.json", NULL};
    char *sub = first_dir(dir, dirs, &oom);
    if (!sub) return oom ? anim_seterr(err, ANIM_E_OOM, "out of memory") : missing(err, dir, what, dirs);
    anim_status st = ANIM_OK;
    *wpath = first_file(sub, weights, &oom);
    if (cfg) *cfg = first_file(sub, cfg_c, &oom);
    if (oom) st = anim_seterr(err, ANIM_E_OOM, "out of memory");
    else if (!*wpath) st = missing(err, sub, "weights", weights);
    else if (cfg && !*cfg) st = missing(err, sub, "config", cfg_c);
    free(sub);
    return st;
}

static anim_status resolve(anim_model *m, const char *dir, anim_error *err) {
    bool oom = false;
    anim_status st;
    /* EchoMimic's directory has a face locator where Moore's has a pose guider */
    char *probe = NULL;
    anim_error ignore;
    m->kind = find_ckpt(dir, "face_locator", &probe, &ignore) == ANIM_OK ? ANIM_MODEL_TALKING_HEAD : ANIM_MODEL_POSE;
    free(probe);
    bool talk = m->kind == ANIM_MODEL_TALKING_HEAD;

    /* configs: UNet base config and model_config.json are optional (released values built in) */
    const char *unet_cfg_c[] = {"unet/config.json", "stable-diffusion-v1-5/unet/config.json",
                                "sd-image-variations-diffusers/unet/config.json", NULL};
    const char *model_cfg_c[] = {"model_config.json", NULL};
    char *unet_cfg = first_file(dir, unet_cfg_c, &oom);
    char *model_cfg = first_file(dir, model_cfg_c, &oom);
    if (oom) st = anim_seterr(err, ANIM_E_OOM, "out of memory");
    else st = anim_model_config_load(&m->cfg, unet_cfg, model_cfg, err);
    if (st == ANIM_OK && talk && !model_cfg) {
        /* EchoMimic's inference_v2.yaml: audio cross-attention at Whisper's width; 1-channel face mask */
        m->cfg.denoising_unet.cross_attention_dim = 384;
        m->cfg.pose_guider.conditioning_channels = 1;
    }
    free(unet_cfg);
    free(model_cfg);
    if (st != ANIM_OK) return st;

    const char *stems[] = {"reference_unet", m->acc ? "denoising_unet_acc" : "denoising_unet",
                           talk ? "face_locator" : "pose_guider"};
    static const int grp_of[] = {GRP_REFERENCE, GRP_DENOISING, GRP_POSE_GUIDER};
    for (int i = 0; i < 3; i++) {
        model_group *g = &m->g[grp_of[i]];
        g->name[0] = stems[i];
        g->n_files = 1;
        if ((st = find_ckpt(dir, stems[i], &g->path[0], err)) != ANIM_OK) {
            if (grp_of[i] == GRP_POSE_GUIDER && err) {
                char was[ANIM_ERR_MSG_MAX];
                snprintf(was, sizeof was, "%s", err->msg);
                anim_seterr(err, st, "%s (a pose-animation model needs pose_guider, a talking-head model face_locator)",
                            was);
            }
            return st;
        }
    }
    model_group *den = &m->g[GRP_DENOISING];
    den->name[1] = m->acc ? "motion_module_acc" : "motion_module";
    den->n_files = 2;
    if ((st = find_ckpt(dir, den->name[1], &den->path[1], err)) != ANIM_OK) return st;

    /* Hugging Face sub-directories */
    const char *vae_dirs[] = {"vae", "sd-vae-ft-mse", NULL};
    const char *vae_w[] = {"diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin", NULL};
    char *cfg = NULL;
    model_group *g = &m->g[GRP_VAE];
    g->name[0] = "vae";
    g->n_files = 1;
    st = find_hf(dir, vae_dirs, vae_w, "vae", &g->path[0], &cfg, err);
    if (st == ANIM_OK) st = vae_config_load(&m->vae, cfg, err);
    free(cfg);
    cfg = NULL;
    if (st != ANIM_OK) return st;

    g = &m->g[GRP_CLIP];
    g->n_files = 1;
    if (!talk) {
        const char *clip_dirs[] = {"image_encoder", NULL};
        const char *clip_w[] = {"model.safetensors", "pytorch_model.bin", NULL};
        g->name[0] = "image_encoder";
        st = find_hf(dir, clip_dirs, clip_w, "image_encoder", &g->path[0], &cfg, err);
        if (st == ANIM_OK) st = clip_vision_config_load(&m->clip, cfg, err);
        free(cfg);
        return st;
    }
    /* EchoMimic: audio_processor/whisper_tiny.pt (OpenAI format: {'dims', 'model_state_dict'}),
     * or its safetensors twin + whisper_tiny.dims.json */
    const char *aud_dirs[] = {"audio_processor", NULL};
    const char *aud_w[] = {"whisper_tiny.safetensors", "whisper_tiny.pt", NULL};
    g->name[0] = "audio_model";
    if ((st = find_hf(dir, aud_dirs, aud_w, "audio model (Whisper)", &g->path[0], NULL, err)) != ANIM_OK) return st;
    const char *dims_c[] = {"audio_processor/whisper_tiny.dims.json", NULL};
    char *dims = first_file(dir, dims_c, &oom);
    tf_file *f = NULL;
    if (!dims && (st = tf_open(g->path[0], &f, err)) != ANIM_OK) return st;
    st = whisper_dims_load(&m->whisper, dims, f, err);
    tf_close(f);
    free(dims);
    return st;
}

static int cmp_spec_ptr(const void *a, const void *b) {
    return strcmp((*(const w_spec *const *)a)->name, (*(const w_spec *const *)b)->name);
}

static anim_status index_specs(model_group *g, anim_error *err) {
    g->by_name = malloc((g->specs.n ? g->specs.n : 1) * sizeof *g->by_name);
    if (!g->by_name) return anim_seterr(err, ANIM_E_OOM, "out of memory");
    for (size_t k = 0; k < g->specs.n; k++) g->by_name[k] = &g->specs.v[k];
    qsort(g->by_name, g->specs.n, sizeof *g->by_name, cmp_spec_ptr);
    return ANIM_OK;
}

static void build_specs(anim_model *m) {
    model_group *g = m->g;
    bool talk = m->kind == ANIM_MODEL_TALKING_HEAD;
    g[GRP_REFERENCE].cfg = "the UNet config";
    /* EchoMimic's reference UNet blocks have no cross-attention (no norm2/attn2) */
    unet_weights(&m->cfg.reference_unet, UNET_REFERENCE, talk ? UNET_NO_CROSS_ATTN : 0, &g[GRP_REFERENCE].specs);
    g[GRP_DENOISING].cfg = "the UNet config with unet_additional_kwargs";
    unet_weights(&m->cfg.denoising_unet, UNET_DENOISING, 0, &g[GRP_DENOISING].specs);
    motion_module_weights(&m->cfg.denoising_unet, &g[GRP_DENOISING].specs);
    g[GRP_POSE_GUIDER].cfg = talk ? "the face_locator config" : "the pose_guider config";
    pose_guider_weights(&m->cfg.pose_guider, &g[GRP_POSE_GUIDER].specs);
    g[GRP_VAE].cfg = "vae config.json";
    vae_weights(&m->vae, &g[GRP_VAE].specs);
    if (talk) {
        g[GRP_CLIP].cfg = "the Whisper dims file";
        whisper_weights(&m->whisper, &g[GRP_CLIP].specs);
    } else {
        g[GRP_CLIP].cfg = "image_encoder config.json";
        clip_vision_weights(&m->clip, &g[GRP_CLIP].specs);
    }
}

void anim_model_free(anim_model *m) {
    if (!m) return;
    for (int i = 0; i < GRP_COUNT; i++) {
        model_group *g = &m->g[i];
        if (g->w)
            for (size_t k = 0; k < g->specs.n; k++)
                if (g->w[k]) m->be->ops->free(m->be, g->w[k]);
        free(g->w);
        free(g->by_name);
        wl_free(&g->specs);
        free(g->path[0]);
        free(g->path[1]);
    }
    free(m);
}

anim_status anim_model_load(anim_be *be, const char *dir, const anim_hooks *hooks, anim_model **out,
                            anim_error *err) {
    return anim_model_load_ex(be, dir, 0, hooks, out, err);
}

anim_status anim_model_load_ex(anim_be *be, const char *dir, unsigned flags, const anim_hooks *hooks,
                               anim_model **out, anim_error *err) {
    *out = NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return anim_seterr(err, ANIM_E_IO, "%s: model directory not found (%s)", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return anim_seterr(err, ANIM_E_IO, "%s: not a directory", dir);
    anim_model *m = calloc(1, sizeof *m);
    if (!m) return anim_seterr(err, ANIM_E_OOM, "out of memory");
    m->be = be;
    m->acc = (flags & ANIM_LOAD_ACC) != 0;
    for (int i = 0; i < GRP_COUNT; i++) wl_init(&m->g[i].specs);
    anim_status st = resolve(m, dir, err);
    load_state ls = {be, hooks, NULL, NULL, 0, 0, 0};
    if (st == ANIM_OK) {
        build_specs(m);
        for (int i = 0; i < GRP_COUNT; i++) {
            if (m->g[i].specs.oom) { st = anim_seterr(err, ANIM_E_OOM, "out of memory"); break; }
            for (size_t k = 0; k < m->g[i].specs.n; k++) ls.total += !(m->g[i].specs.v[k].flags & W_UNUSED);
            if ((st = index_specs(&m->g[i], err)) != ANIM_OK) break;
        }
    }
    for (int i = 0; i < GRP_COUNT && st == ANIM_OK; i++) {
        anim_log(hooks, ANIM_LOG_DEBUG, "loading %s from %s", m->g[i].name[0], m->g[i].path[0]);
        st = load_group(&ls, &m->g[i], err);
    }
    free(ls.host);
    free(ls.tmp);
    if (st != ANIM_OK) {
        anim_model_free(m);
        return st;
    }
    for (int i = 0; i < GRP_COUNT; i++) m->weight_elems += m->g[i].params[0] + m->g[i].params[1];
    *out = m;
    return ANIM_OK;
}

void anim_model_describe(const anim_model *m, anim_model_info *out) {
    memset(out, 0, sizeof *out);
    out->kind = m->kind;
    for (int i = 0; i < GRP_COUNT; i++)
        for (int f = 0; f < m->g[i].n_files && out->n_nets < 8; f++) {
            anim_net_info *n = &out->nets[out->n_nets++];
            n->name = m->g[i].name[f];
            n->file = m->g[i].path[f];
            n->n_tensors = m->g[i].tensors[f];
            n->n_params = m->g[i].params[f];
            out->total_params += n->n_params;
        }
    out->weight_bytes = m->weight_elems * (int64_t)anim_dtype_size(m->be->storage);
}

/* Networks are named by their file ("denoising_unet_acc", "face_locator"),
 * and also by their role, so network code need not know which variant is
 * loaded: "denoising_unet" finds the accelerated weights, "pose_guider" the
 * face locator. */
static bool group_matches(const model_group *g, int i, const char *net) {
    if (!strcmp(g->name[0], net) || (g->name[1] && !strcmp(g->name[1], net))) return true;
    return (i == GRP_DENOISING && !strcmp(net, "denoising_unet")) ||
           (i == GRP_POSE_GUIDER && (!strcmp(net, "pose_guider") || !strcmp(net, "face_locator")));
}

const void *anim_model_find(const anim_model *m, const char *net, const char *key, const w_spec **spec) {
    for (int i = 0; i < GRP_COUNT; i++) {
        const model_group *g = &m->g[i];
        if (!g->name[0] || !group_matches(g, i, net)) continue;
        size_t lo = 0, hi = g->specs.n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = strcmp(g->by_name[mid]->name, key);
            if (c == 0) {
                if (spec) *spec = g->by_name[mid];
                return g->w[g->by_name[mid] - g->specs.v];
            }
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
    }
    if (spec) *spec = NULL;
    return NULL;
}

const void *anim_model_weight(const anim_model *m, const char *net, const char *key) {
    return anim_model_find(m, net, key, NULL);
}

size_t anim_model_n_weights(const anim_model *m) {
    size_t n = 0;
    for (int i = 0; i < GRP_COUNT; i++) n += m->g[i].specs.n;
    return n;
}

const void *anim_model_weight_at(const anim_model *m, size_t i, const char **net, const char **key, int64_t *numel) {
    for (int g = 0; g < GRP_COUNT; g++) {
        if (i >= m->g[g].specs.n) { i -= m->g[g].specs.n; continue; }
        const w_spec *s = &m->g[g].specs.v[i];
        int64_t n = 1;
        for (int d = 0; d < s->ndim; d++) n *= s->shape[d];
        if (net) *net = m->g[g].name[0];
        if (key) *key = s->name;
        if (numel) *numel = n;
        return m->g[g].w[i];
    }
    return NULL;
}

const anim_model_config *anim_model_cfg(const anim_model *m) { return &m->cfg; }
const vae_config *anim_model_vae_cfg(const anim_model *m) { return &m->vae; }
const whisper_dims *anim_model_whisper_dims(const anim_model *m) { return &m->whisper; }
anim_model_kind anim_model_kind_of(const anim_model *m) { return m->kind; }
bool anim_model_is_acc(const anim_model *m) { return m->acc; }
const clip_vision_config *anim_model_clip_cfg(const anim_model *m) { return &m->clip; }
