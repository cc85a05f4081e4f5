/*
 * bench_make_synthetic.c - write a full-size Moore-AnimateAnyone model
 * directory with random weights, for benchmarking at the real model size
 * without the released checkpoints.
 *
 *   build/bench_make_synthetic OUT_DIR [--dtype f16|f32|bf16] [--seed N]
 *                              [--manifests DIR] [--threads N] [--only LIST] [--quiet]
 *
 * Layout written (libanimate's own, as tests/fixtures/moore-tiny):
 *   reference_unet.safetensors  denoising_unet.safetensors
 *   motion_module.safetensors   pose_guider.safetensors
 *   unet/config.json            model_config.json
 *   vae/config.json + vae/diffusion_pytorch_model.safetensors
 *   image_encoder/config.json + image_encoder/model.safetensors
 *   SYNTHETIC_WEIGHTS.txt       (says the values are random)
 * Every key, shape and (integer) dtype comes from the manifests of the real
 * released files (the JSON listings in tests/fixtures/real-manifests, read with lib/io's
 * manifest reader); the configs are the real ones: sd15_unet_config.json,
 * inference_v2.json plus the pose-guider settings of scripts/pose2vid.py, and
 * the "config" objects embedded in the VAE and CLIP manifests. So the
 * directory loads exactly like the released weights (build/inspect_models
 * checks every key and shape) and does the same amount of work.
 *
 * Values: the amount of work does not depend on them, but activations must
 * stay finite in fp16 through a whole run, so they are scaled like an
 * initialisation that preserves variance:
 *   - weights of rank >= 2 (conv, linear, embeddings' projections):
 *     uniform with the variance of N(0, 1/fan_in), fan_in = prod(shape[1:]);
 *   - rank-1 "*.weight" (every one is a GroupNorm/LayerNorm scale in these
 *     models): 1; the matching "*.bias": 0;
 *   - other biases: uniform with standard deviation 0.02;
 *   - CLIP class_embedding and position_embedding: standard deviation 0.02
 *     (transformers' initializer_range);
 *   - motion-module pos_encoder.pe: the real sinusoid table (AnimateDiff's
 *     PositionalEncoding, as the released files store it);
 *   - int64 tensors (CLIP embeddings.position_ids [1, 257]): 0..256.
 * The generator is a counter-based splitmix64 stream per 64K-element block,
 * keyed by the seed and the tensor name, so the output does not depend on the
 * thread count or the order of the tensors.
 *
 * Files are streamed tensor by tensor (bounded memory: a few chunks of 4M
 * elements) under a temporary name and renamed when complete. The released
 * files total about 10 GB in f32; the default f16 is about 5.1 GB.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "io/json.h"
#include "io/manifest.h"
#include "io/tensor_file.h"
#include "util/dtype.h"

#define CHUNK ((size_t)1 << 22)   /* elements generated and written at a time */
#define BLOCK ((size_t)1 << 16)   /* elements per RNG stream (thread-count independent) */

typedef struct gen_opts {
    anim_dtype dtype;
    uint64_t seed;
    int threads;
    int quiet;
} gen_opts;

/* ------------------------------------------------------------ random numbers */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t hash_name(const char *s, uint64_t seed) {
    uint64_t h = 1469598103934665603ull ^ seed; /* FNV-1a, then mixed */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return splitmix64(&h);
}

/* ------------------------------------------------------------ value rules */

typedef enum init_kind { INIT_UNIFORM, INIT_CONST, INIT_PE, INIT_ARANGE } init_kind;

typedef struct init_rule {
    init_kind kind;
    float a;        /* INIT_UNIFORM: half-width; INIT_CONST: the value */
    int pe_len, pe_dim;
} init_rule;

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Uniform(-a, a) has standard deviation a/sqrt(3). */
static init_rule uniform_std(double std) { return (init_rule){INIT_UNIFORM, (float)(std * sqrt(3.0)), 0, 0}; }

static init_rule rule_for(const tf_file *man, const tf_tensor *t) {
    const char *n = t->name;
    if (t->dtype != ANIM_DT_F32 && t->dtype != ANIM_DT_F16 && t->dtype != ANIM_DT_BF16 && t->dtype != ANIM_DT_F64)
        return (init_rule){INIT_ARANGE, 0, 0, 0};
    if (ends_with(n, "pos_encoder.pe") && t->ndim == 3)
        return (init_rule){INIT_PE, 0, (int)t->shape[1], (int)t->shape[2]};
    if (strstr(n, "class_embedding") || strstr(n, "position_embedding")) return uniform_std(0.02);
    if (ends_with(n, ".weight")) {
        if (t->ndim == 1) return (init_rule){INIT_CONST, 1.0f, 0, 0};
        int64_t fan_in = 1;
        for (int d = 1; d < t->ndim; d++) fan_in *= t->shape[d];
        return uniform_std(1.0 / sqrt((double)(fan_in > 0 ? fan_in : 1)));
    }
    if (ends_with(n, ".bias")) {
        /* a norm's shift is 0; it is recognised by its rank-1 ".weight" sibling */
        char w[512];
        size_t len = strlen(n) - strlen("bias");
        if (len + strlen("weight") < sizeof w) {
            memcpy(w, n, len);
            strcpy(w + len, "weight");
            const tf_tensor *wt = tf_find(man, w);
            if (wt && wt->ndim == 1) return (init_rule){INIT_CONST, 0.0f, 0, 0};
        }
        return uniform_std(0.02);
    }
    return uniform_std(0.02);
}

/* ------------------------------------------------------------ chunk filling */

typedef struct fill_job {
    const init_rule *r;
    uint64_t tseed;
    size_t first, n;          /* element range of this chunk within the tensor */
    const float *pe;          /* INIT_PE: the whole table */
    anim_dtype out_t;
    void *out;                /* n elements of out_t */
    int n_workers;
} fill_job;

typedef struct fill_arg { fill_job *job; int idx; } fill_arg;

static void store(const fill_job *j, size_t i, float v) {
    switch (j->out_t) {
    case ANIM_DT_F16: ((uint16_t *)j->out)[i] = anim_f32_to_f16(v); break;
    case ANIM_DT_BF16: ((uint16_t *)j->out)[i] = anim_f32_to_bf16(v); break;
    default: ((float *)j->out)[i] = v; break;
    }
}

/* Fill blocks idx, idx + n_workers, ... of the chunk. */
static void *fill_worker(void *p) {
    fill_arg *fa = p;
    fill_job *j = fa->job;
    size_t b0 = j->first / BLOCK, b1 = (j->first + j->n + BLOCK - 1) / BLOCK;
    for (size_t b = b0 + (size_t)fa->idx; b < b1; b += (size_t)j->n_workers) {
        size_t lo = b * BLOCK, hi = lo + BLOCK;
        if (lo < j->first) lo = j->first;
        if (hi > j->first + j->n) hi = j->first + j->n;
        uint64_t s = j->tseed ^ (b * 0xd1b54a32d192ed03ull);
        /* advance to lo within the block: two values per draw */
        size_t in_block = lo - b * BLOCK;
        for (size_t k = 0; k < in_block / 2; k++) splitmix64(&s);
        uint64_t cur = 0;
        bool have_hi = false;
        if (in_block & 1) { cur = splitmix64(&s); have_hi = true; }
        for (size_t e = lo; e < hi; e++) {
            float v;
            switch (j->r->kind) {
            case INIT_CONST: v = j->r->a; break;
            case INIT_PE: v = j->pe[e]; break;
            case INIT_ARANGE: v = 0; break; /* written by the caller */
            default: {
                uint32_t bits;
                if (have_hi) { bits = (uint32_t)(cur >> 40); have_hi = false; }
                else { cur = splitmix64(&s); bits = (uint32_t)(cur >> 8) & 0xffffffu; have_hi = true; }
                v = ((float)bits * (1.0f / 8388608.0f) - 1.0f) * j->r->a; /* 24 bits -> [-1, 1) */
                break;
            }
            }
            store(j, e - j->first, v);
        }
    }
    return NULL;
}

static void fill_chunk(fill_job *j, int threads) {
    size_t blocks = (j->n + BLOCK - 1) / BLOCK + 1;
    int nw = threads;
    if ((size_t)nw > blocks) nw = (int)blocks;
    if (nw < 1) nw = 1;
    j->n_workers = nw;
    fill_arg args[64];
    pthread_t th[64];
    bool started[64] = {false};
    for (int w = 1; w < nw; w++) {
        args[w] = (fill_arg){j, w};
        started[w] = pthread_create(&th[w], NULL, fill_worker, &args[w]) == 0;
    }
    args[0] = (fill_arg){j, 0};
    fill_worker(&args[0]);
    for (int w = 1; w < nw; w++) {
        if (started[w]) pthread_join(th[w], NULL);
        else fill_worker(&args[w]); /* could not start a thread: do its share here */
    }
}

/* ------------------------------------------------------------ safetensors, streamed */

typedef struct sbuf { char *p; size_t len, cap; int oom; } sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void sb_json_string(sbuf *b, const char *s, size_t len) {
    sb_str(b, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') { char e[2] = {'\\', (char)ch}; sb_put(b, e, 2); }
        else if (ch < 0x20) sb_printf(b, "\\u%04x", ch);
        else sb_put(b, (const char *)&ch, 1);
    }
    sb_str(b, "\"");
}

static anim_dtype out_dtype(const tf_tensor *t, anim_dtype want) {
    switch (t->dtype) {
    case ANIM_DT_F32: case ANIM_DT_F16: case ANIM_DT_BF16: case ANIM_DT_F64: return want;
    default: return t->dtype; /* integer buffers keep their type (position_ids: I64) */
    }
}

static int64_t numel(const tf_tensor *t) {
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    return n;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Write every tensor of manifest `man` to `path`; returns 0 on success. */
static int write_checkpoint(const tf_file *man, const char *path, const gen_opts *o, uint64_t *bytes_out) {
    sbuf h = {0};
    uint64_t off = 0;
    sb_str(&h, "{\"__metadata__\":{\"format\":\"pt\",\"writer\":\"libanimate bench_make_synthetic\"}");
    for (size_t i = 0; i < man->n; i++) {
        const tf_tensor *t = &man->tensors[i];
        anim_dtype dt = out_dtype(t, o->dtype);
        sb_str(&h, ",");
        sb_json_string(&h, t->name, strlen(t->name));
        sb_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", anim_dtype_name(dt));
        for (int d = 0; d < t->ndim; d++) sb_printf(&h, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        uint64_t nb = (uint64_t)numel(t) * anim_dtype_size(dt);
        sb_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + nb));
        off += nb;
    }
    sb_str(&h, "}");
    while (h.len % 8) sb_str(&h, " ");
    if (h.oom) {
        fprintf(stderr, "bench_make_synthetic: %s: out of memory building the header\n", path);
        free(h.p);
        return 1;
    }
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        fprintf(stderr, "bench_make_synthetic: path too long: %s\n", path);
        free(h.p);
        return 1;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "bench_make_synthetic: cannot write %s: %s\n", tmp, strerror(errno));
        free(h.p);
        return 1;
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(h.p, 1, h.len, f) == h.len;
    free(h.p);

    void *buf = malloc(CHUNK * 8);
    float *pe = NULL;
    if (!buf) ok = 0;
    for (size_t i = 0; ok && i < man->n; i++) {
        const tf_tensor *t = &man->tensors[i];
        anim_dtype dt = out_dtype(t, o->dtype);
        init_rule r = rule_for(man, t);
        size_t n = (size_t)numel(t);
        free(pe);
        pe = NULL;
        if (r.kind == INIT_PE) {
            pe = malloc((size_t)r.pe_len * (size_t)r.pe_dim * sizeof *pe);
            if (!pe) { ok = 0; break; }
            anim_sinusoidal_pe(pe, r.pe_len, r.pe_dim);
        }
        uint64_t tseed = hash_name(t->name, o->seed);
        for (size_t first = 0; ok && first < n; first += CHUNK) {
            size_t len = n - first < CHUNK ? n - first : CHUNK;
            if (r.kind == INIT_ARANGE) {
                /* integer index buffers: 0, 1, 2, ... along the last dimension */
                int64_t last = t->ndim ? t->shape[t->ndim - 1] : 1;
                for (size_t e = 0; e < len; e++) {
                    int64_t v = (int64_t)((first + e) % (size_t)(last > 0 ? last : 1));
                    switch (dt) {
                    case ANIM_DT_I64: ((int64_t *)buf)[e] = v; break;
                    case ANIM_DT_I32: ((int32_t *)buf)[e] = (int32_t)v; break;
                    default: memset((char *)buf + e * anim_dtype_size(dt), 0, anim_dtype_size(dt)); break;
                    }
                }
            } else {
                fill_job j = {&r, tseed, first, len, pe, dt, buf, 1};
                fill_chunk(&j, o->threads);
            }
            size_t nb = len * anim_dtype_size(dt);
            ok = fwrite(buf, 1, nb, f) == nb;
        }
    }
    free(pe);
    free(buf);
    if (fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "bench_make_synthetic: writing %s failed: %s\n", path, strerror(errno));
        unlink(tmp);
        return 1;
    }
    *bytes_out = 8 + h.len + off;
    return 0;
}

/* ------------------------------------------------------------ JSON out */

static void put_json(FILE *f, const json_value *v, int indent) {
    switch (v->type) {
    case JSON_NULL: fputs("null", f); break;
    case JSON_BOOL: fputs(v->b ? "true" : "false", f); break;
    case JSON_NUMBER:
        if (v->is_uint) {
            fprintf(f, "%llu", (unsigned long long)v->u64);
        } else {
            /* the shortest form that reads back as the same double (0.00085, not 0.00084999999999999995) */
            char b[40];
            for (int prec = 15; prec <= 17; prec++) {
                snprintf(b, sizeof b, "%.*g", prec, v->num);
                if (strtod(b, NULL) == v->num) break;
            }
            fputs(b, f);
        }
        break;
    case JSON_STRING: {
        sbuf b = {0};
        sb_json_string(&b, v->str, v->len);
        if (b.p) fputs(b.p, f);
        free(b.p);
        break;
    }
    case JSON_ARRAY:
        fputc('[', f);
        for (size_t i = 0; i < v->len; i++) {
            if (i) fputs(", ", f);
            put_json(f, &v->items[i], indent);
        }
        fputc(']', f);
        break;
    case JSON_OBJECT:
        fputs("{\n", f);
        for (size_t i = 0; i < v->len; i++) {
            sbuf b = {0};
            sb_json_string(&b, v->keys[i], v->key_lens[i]);
            fprintf(f, "%*s%s: ", indent + 2, "", b.p ? b.p : "\"\"");
            free(b.p);
            put_json(f, &v->items[i], indent + 2);
            fputs(i + 1 < v->len ? ",\n" : "\n", f);
        }
        fprintf(f, "%*s}", indent, "");
        break;
    }
}

/* Write obj as a JSON file; `extra` (raw JSON members, "" for none) is
 * appended inside the top-level object. */
static int write_json_file(const char *path, const json_value *obj, const char *extra) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_make_synthetic: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (obj->type != JSON_OBJECT) {
        fprintf(stderr, "bench_make_synthetic: %s: config is not a JSON object\n", path);
        fclose(f);
        return 1;
    }
    fputs("{\n", f);
    for (size_t i = 0; i < obj->len; i++) {
        sbuf b = {0};
        sb_json_string(&b, obj->keys[i], obj->key_lens[i]);
        fprintf(f, "  %s: ", b.p ? b.p : "\"\"");
        free(b.p);
        put_json(f, &obj->items[i], 2);
        fputs(i + 1 < obj->len || (extra && *extra) ? ",\n" : "\n", f);
    }
    if (extra && *extra) fprintf(f, "%s\n", extra);
    fputs("}\n", f);
    return fclose(f) == 0 ? 0 : 1;
}

/* ------------------------------------------------------------ main */

/* Is `name` one of the comma-separated names in `list`? */
static int in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, name, n)) return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

static int mkdir_p(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: bench_make_synthetic OUT_DIR [options]\n"
            "\n"
            "Write a full-size Moore-AnimateAnyone model directory (libanimate layout) with\n"
            "random, well-scaled weights: every key and shape of the released checkpoints.\n"
            "\n"
            "  --dtype f16|f32|bf16   stored dtype of the float tensors (default f16: ~5.1 GB;\n"
            "                         f32: ~10.2 GB)\n"
            "  --seed N               seed (default 1)\n"
            "  --manifests DIR        real-manifest folder (default tests/fixtures/real-manifests)\n"
            "  --threads N            generator threads (default: online cores, at most 64)\n"
            "  --only LIST            write only these checkpoints (comma-separated: reference_unet,\n"
            "                         denoising_unet, motion_module, pose_guider, vae, image_encoder;\n"
            "                         the configs are always written): for quick checks\n"
            "  --quiet                print only errors\n"
            "  -h, --help             this help\n");
}

typedef struct ckpt_job {
    const char *net;        /* name for --only */
    const char *manifest;   /* file in the manifest folder */
    const char *out;        /* path under OUT_DIR */
    const char *config_out; /* where the manifest's "config" object goes, or NULL */
} ckpt_job;

int main(int argc, char **argv) {
    const char *out_dir = NULL, *mdir = "tests/fixtures/real-manifests", *only = NULL;
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    gen_opts o = {ANIM_DT_F16, 1, nproc > 0 ? (int)(nproc < 64 ? nproc : 64) : 1, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--quiet")) o.quiet = 1;
        else if (!strcmp(a, "--dtype") && v) {
            i++;
            if (!strcmp(v, "f16") || !strcmp(v, "fp16")) o.dtype = ANIM_DT_F16;
            else if (!strcmp(v, "f32") || !strcmp(v, "fp32")) o.dtype = ANIM_DT_F32;
            else if (!strcmp(v, "bf16")) o.dtype = ANIM_DT_BF16;
            else { fprintf(stderr, "bench_make_synthetic: --dtype must be f16, f32 or bf16, not '%s'\n", v); return 2; }
        } else if (!strcmp(a, "--seed") && v) {
            char *end;
            errno = 0;
            o.seed = strtoull(v, &end, 10);
            i++;
            if (errno || *end || end == v || v[0] == '-') { fprintf(stderr, "bench_make_synthetic: bad --seed '%s'\n", v); return 2; }
        } else if (!strcmp(a, "--threads") && v) {
            char *end;
            long n = strtol(v, &end, 10);
            i++;
            if (*end || end == v || n < 1 || n > 64) { fprintf(stderr, "bench_make_synthetic: --threads must be 1..64\n"); return 2; }
            o.threads = (int)n;
        } else if (!strcmp(a, "--manifests") && v) { mdir = v; i++; }
        else if (!strcmp(a, "--only") && v) { only = v; i++; }
        else if (a[0] == '-') { fprintf(stderr, "bench_make_synthetic: unknown or incomplete option '%s' (see --help)\n", a); return 2; }
        else if (!out_dir) out_dir = a;
        else { fprintf(stderr, "bench_make_synthetic: one OUT_DIR only ('%s')\n", a); return 2; }
    }
    if (!out_dir) { usage(stderr); return 2; }

    char path[4096], path2[4096];
    static const char *const subdirs[] = {"", "/unet", "/vae", "/image_encoder"};
    for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++) {
        snprintf(path, sizeof path, "%s%s", out_dir, subdirs[i]);
        if (mkdir_p(path) != 0) {
            fprintf(stderr, "bench_make_synthetic: cannot create %s: %s\n", path, strerror(errno));
            return 1;
        }
    }

    /* configs */
    anim_error err = {0};
    snprintf(path, sizeof path, "%s/sd15_unet_config.json", mdir);
    json_value *unet_cfg = json_parse_file(path, NULL, &err);
    if (!unet_cfg) { fprintf(stderr, "bench_make_synthetic: %s\n", err.msg); return 1; }
    snprintf(path2, sizeof path2, "%s/unet/config.json", out_dir);
    int rc = write_json_file(path2, unet_cfg, "");
    json_free(unet_cfg);
    if (rc) return 1;

    snprintf(path, sizeof path, "%s/inference_v2.json", mdir);
    json_value *inf = json_parse_file(path, NULL, &err);
    if (!inf) { fprintf(stderr, "bench_make_synthetic: %s\n", err.msg); return 1; }
    snprintf(path2, sizeof path2, "%s/model_config.json", out_dir);
    /* scripts/pose2vid.py: PoseGuider(320, block_out_channels=(16, 32, 96, 256)); the pipeline's
     * hard-coded VAE scale 0.18215 and CLIP input size 224 */
    rc = write_json_file(path2, inf,
                         "  \"pose_guider\": {\"conditioning_embedding_channels\": 320, \"conditioning_channels\": 3, "
                         "\"block_out_channels\": [16, 32, 96, 256]},\n"
                         "  \"vae_latent_scaling\": 0.18215,\n"
                         "  \"clip_image_size\": 224,\n"
                         "  \"note\": \"synthetic model written by bench_make_synthetic: random weights, real shapes\"");
    json_free(inf);
    if (rc) return 1;

    snprintf(path, sizeof path, "%s/SYNTHETIC_WEIGHTS.txt", out_dir);
    FILE *note = fopen(path, "w");
    if (note) {
        fprintf(note,
                "Random weights with the keys and shapes of the released Moore-AnimateAnyone checkpoints,\n"
                "written by build/bench_make_synthetic (dtype %s, seed %llu) for benchmarking only.\n"
                "The outputs of a run with them are noise.\n",
                anim_dtype_name(o.dtype), (unsigned long long)o.seed);
        fclose(note);
    }

    static const ckpt_job jobs[] = {
        {"reference_unet", "reference_unet.pth.json", "reference_unet.safetensors", NULL},
        {"denoising_unet", "denoising_unet.pth.json", "denoising_unet.safetensors", NULL},
        {"motion_module", "motion_module.pth.json", "motion_module.safetensors", NULL},
        {"pose_guider", "pose_guider.pth.json", "pose_guider.safetensors", NULL},
        {"vae", "sd-vae-ft-mse.diffusion_pytorch_model.json", "vae/diffusion_pytorch_model.safetensors", "vae/config.json"},
        {"image_encoder", "image_encoder.pytorch_model.json", "image_encoder/model.safetensors", "image_encoder/config.json"},
    };
    for (const char *p = only; p && *p;) {
        /* every name in --only must be one of the jobs */
        size_t len = strcspn(p, ",");
        int known = 0;
        for (size_t k = 0; k < sizeof jobs / sizeof *jobs; k++)
            known |= strlen(jobs[k].net) == len && !strncmp(jobs[k].net, p, len);
        if (!known) {
            fprintf(stderr, "bench_make_synthetic: --only: unknown network '%.*s' (reference_unet, denoising_unet, "
                            "motion_module, pose_guider, vae, image_encoder)\n", (int)len, p);
            return 2;
        }
        p += len + (p[len] == ',');
    }
    double t0 = now_s();
    uint64_t total = 0;
    int64_t total_elems = 0;
    for (size_t k = 0; k < sizeof jobs / sizeof *jobs; k++) {
        if (only && !in_list(only, jobs[k].net)) continue;
        snprintf(path, sizeof path, "%s/%s", mdir, jobs[k].manifest);
        json_value *root = json_parse_file(path, NULL, &err);
        tf_file *man = NULL;
        if (!root || tf_manifest_from_json(root, path, &man, &err) != ANIM_OK) {
            fprintf(stderr, "bench_make_synthetic: %s\n", err.msg);
            json_free(root);
            return 1;
        }
        if (jobs[k].config_out) {
            const json_value *cfg = json_get(root, "config");
            snprintf(path2, sizeof path2, "%s/%s", out_dir, jobs[k].config_out);
            if (!cfg) {
                fprintf(stderr, "bench_make_synthetic: %s has no \"config\" object\n", path);
                rc = 1;
            } else {
                rc = write_json_file(path2, cfg, "");
            }
            if (rc) { tf_close(man); json_free(root); return 1; }
        }
        snprintf(path2, sizeof path2, "%s/%s", out_dir, jobs[k].out);
        double t1 = now_s();
        uint64_t bytes = 0;
        rc = write_checkpoint(man, path2, &o, &bytes);
        int64_t el = 0;
        for (size_t i = 0; i < man->n; i++) el += numel(&man->tensors[i]);
        if (!rc && !o.quiet)
            printf("%-42s %4zu tensors %13lld elements %8.1f MB  %.1fs\n", jobs[k].out, man->n, (long long)el,
                   bytes / 1e6, now_s() - t1);
        total += bytes;
        total_elems += el;
        tf_close(man);
        json_free(root);
        if (rc) return 1;
    }
    if (!o.quiet)
        printf("wrote %s: %lld elements, %.2f GB (%s), %.1fs, %d threads\n", out_dir, (long long)total_elems,
               total / 1e9, anim_dtype_name(o.dtype), now_s() - t0, o.threads);
    return 0;
}
