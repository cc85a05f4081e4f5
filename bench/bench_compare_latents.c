/*
 * bench_compare_latents.c - compare final latents with the upstream PyTorch
 * fixtures, on any backend (the CUDA check of the whole pipeline).
 *
 *   build/bench_compare_latents GOT.safetensors WANT.safetensors [--key latents] [--max-rel X]
 *       relative L2 ||got - want|| / ||want|| of one tensor in two files
 *       (e.g. build/pose2vid --save-latents output against a fixture's
 *       outputs/final_latents.safetensors);
 *
 *   build/bench_compare_latents --fixtures [NAME ...] [--backend cuda|cpu]
 *                               [--models DIR] [--ppm-root DIR] [--max-rel X]
 *       run the tiny upstream fixtures (moore-tiny: 64x64, 4 frames, 3 steps;
 *       moore-tiny-long: 10 frames, context 4/2, wrapped windows;
 *       moore-tiny-resize: 64x96 from inputs of other sizes, 2 steps) through
 *       anim_pose2vid from the fixtures' own initial latents, and compare the
 *       final latents with outputs/final_latents.safetensors. The models are
 *       tests/fixtures/moore-tiny (float32 weights; the CUDA backend stores
 *       them in fp16). Without PNG support in the build, the inputs are read as
 *       binary PPM from PPM_ROOT/<fixture>/inputs/<name>.ppm (make them with
 *       tools/gpu_check.sh, which converts the PNGs with Pillow: lossless).
 *
 * One line per comparison:
 *   compare(moore-tiny) | cuda | rel_l2 1.2e-03 | max_abs 3.4e-03 | n 1024 | PASS (limit 1e-02)
 * NaN or Inf never passes. Default limits: 3e-4 on the CPU backend (what
 * tests/test_pose2vid.c requires of the 64x64 fixtures); 1e-2 on CUDA (fp16
 * storage with fp32 accumulation; provisional: the measured number is what
 * goes in docs/PERF.md). Exit status: 0 all pass, 1 a failure, 2 usage,
 * 77 the backend is unavailable.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "animate.h"
#include "io/tensor_file.h"

#define EXIT_SKIP 77

typedef struct fixture {
    const char *name;
    int W, H, F, steps, ctx_frames, ctx_overlap;
} fixture;

/* the settings each fixture was made with (its params.json "call" and "context") */
static const fixture FIXTURES[] = {
    {"moore-tiny", 64, 64, 4, 3, 24, 4},
    {"moore-tiny-long", 64, 64, 10, 3, 4, 2},
    {"moore-tiny-resize", 64, 96, 4, 2, 24, 4},
};

static float *read_tensor(const char *path, const char *key, size_t *n, char *why, size_t why_len) {
    tf_file *f = NULL;
    anim_error e;
    anim_err_clear(&e);
    *n = 0;
    if (tf_open(path, &f, &e) != ANIM_OK) {
        snprintf(why, why_len, "%s", e.msg);
        return NULL;
    }
    const tf_tensor *t = tf_find(f, key);
    float *v = NULL;
    if (!t) snprintf(why, why_len, "%s: no tensor '%s'", path, key);
    else if (!(v = malloc((size_t)tf_numel(t) * sizeof *v))) snprintf(why, why_len, "out of memory");
    else if (tf_read_f32(t, v, &e) != ANIM_OK) {
        snprintf(why, why_len, "%s: %s", path, e.msg);
        free(v);
        v = NULL;
    } else {
        *n = (size_t)tf_numel(t);
    }
    tf_close(f);
    return v;
}

/* Returns 1 on pass. */
static int report(const char *what, const char *backend, const float *got, const float *want, size_t n,
                  double limit) {
    double num = 0, den = 0, maxabs = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]) || !isfinite(want[i])) { bad++; continue; }
        double d = (double)got[i] - want[i];
        num += d * d;
        den += (double)want[i] * want[i];
        if (fabs(d) > maxabs) maxabs = fabs(d);
    }
    double rel = den > 0 ? sqrt(num / den) : (num > 0 ? INFINITY : 0);
    int pass = !bad && rel <= limit;
    printf("compare(%s) | %s | rel_l2 %.3e | max_abs %.3e | n %zu%s | %s (limit %.0e)\n", what, backend, rel, maxabs, n,
           bad ? " | NON-FINITE" : "", pass ? "PASS" : "FAIL", limit);
    return pass;
}

/* ---- pictures: the library's reader, or binary PPM (P6, maxval 255) */

static int read_ppm(const char *path, anim_picture *p) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int w = 0, h = 0, maxv = 0;
    char magic[3] = {0};
    int ok = fscanf(f, "%2s", magic) == 1 && !strcmp(magic, "P6");
    /* header fields separated by whitespace; comments are not written by Pillow */
    ok = ok && fscanf(f, "%d %d %d", &w, &h, &maxv) == 3 && w > 0 && h > 0 && w < 65536 && h < 65536 && maxv == 255;
    ok = ok && fgetc(f) != EOF; /* the single whitespace byte before the raster */
    size_t n = (size_t)w * h * 3;
    uint8_t *rgb = ok ? malloc(n) : NULL;
    ok = rgb && fread(rgb, 1, n, f) == n;
    fclose(f);
    if (!ok) { free(rgb); return 0; }
    p->width = w;
    p->height = h;
    p->rgb = rgb;
    return 1;
}

static int load_picture(anim_ctx *ctx, const char *fixdir, const char *fixname, const char *ppm_root,
                        const char *base, anim_picture *out, char *why, size_t why_len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/inputs/%s.png", fixdir, base);
    if (anim_picture_read(ctx, path, out) == ANIM_OK) return 1;
    snprintf(why, why_len, "%s: %s", path, anim_ctx_last_error(ctx));
    if (!ppm_root) return 0;
    snprintf(path, sizeof path, "%s/%s/inputs/%s.ppm", ppm_root, fixname, base);
    if (read_ppm(path, out)) return 1;
    size_t l = strlen(why);
    snprintf(why + l, why_len - l, "; and no PPM at %s", path);
    return 0;
}

static int run_fixture(anim_ctx *ctx, const char *root, const fixture *fx, const char *ppm_root, double limit,
                       const char *backend) {
    char dir[1024], path[1200], why[2048] = "";
    snprintf(dir, sizeof dir, "%s/%s", root, fx->name);
    anim_picture ref = {0}, *poses = calloc((size_t)fx->F, sizeof *poses);
    float *got = malloc((size_t)4 * fx->F * (fx->H / 8) * (fx->W / 8) * sizeof *got), *want = NULL;
    anim_video v = {0};
    int pass = 0;
    if (!poses || !got) { printf("compare(%s) | %s | ERROR out of memory\n", fx->name, backend); goto out; }
    if (!load_picture(ctx, dir, fx->name, ppm_root, "ref", &ref, why, sizeof why)) goto err;
    for (int i = 0; i < fx->F; i++) {
        char base[32];
        snprintf(base, sizeof base, "pose_%03d", i);
        if (!load_picture(ctx, dir, fx->name, ppm_root, base, &poses[i], why, sizeof why)) goto err;
    }
    anim_pose_params p;
    anim_pose_params_default(&p);
    p.width = fx->W;
    p.height = fx->H;
    p.frames = fx->F;
    p.steps = fx->steps;
    p.guidance = 3.5f;
    p.context_frames = fx->ctx_frames;
    p.context_overlap = fx->ctx_overlap;
    snprintf(path, sizeof path, "%s/inputs/noise.safetensors", dir);
    p.noise_file = path;
    p.latents_out = got;
    anim_status st = anim_pose2vid(ctx, &p, &ref, poses, fx->F, &v);
    if (st != ANIM_OK) {
        snprintf(why, sizeof why, "anim_pose2vid: %s: %s", anim_status_str(st), anim_ctx_last_error(ctx));
        goto err;
    }
    size_t n = 0;
    snprintf(path, sizeof path, "%s/outputs/final_latents.safetensors", dir);
    if (!(want = read_tensor(path, "latents", &n, why, sizeof why))) goto err;
    if (n != (size_t)4 * fx->F * (fx->H / 8) * (fx->W / 8)) {
        snprintf(why, sizeof why, "%s holds %zu values, the run made %zu", path, n,
                 (size_t)4 * fx->F * (fx->H / 8) * (fx->W / 8));
        goto err;
    }
    pass = report(fx->name, backend, got, want, n, limit);
    goto out;
err:
    printf("compare(%s) | %s | ERROR %s\n", fx->name, backend, why);
out:
    anim_video_free(&v);
    anim_picture_free(&ref);
    for (int i = 0; poses && i < fx->F; i++) anim_picture_free(&poses[i]);
    free(poses);
    free(got);
    free(want);
    return pass;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: bench_compare_latents GOT.safetensors WANT.safetensors [--key NAME] [--max-rel X]\n"
            "       bench_compare_latents --fixtures [NAME ...] [--backend cuda|cpu] [--models DIR]\n"
            "                             [--fixture-root DIR] [--ppm-root DIR] [--max-rel X]\n"
            "fixtures: moore-tiny moore-tiny-long moore-tiny-resize (default: all)\n"
            "exit status: 0 all pass, 1 a failure, 2 usage, 77 backend unavailable\n");
}

typedef struct logcap { char last[1024]; } logcap;
static void on_log(anim_log_level lv, const char *msg, void *user) {
    (void)lv;
    snprintf(((logcap *)user)->last, sizeof ((logcap *)user)->last, "%s", msg);
}

int main(int argc, char **argv) {
    const char *files[2] = {NULL, NULL}, *key = "latents", *models = NULL, *root = "tests/fixtures", *ppm_root = NULL;
    const char *names[8];
    int n_names = 0, nfiles = 0, fixtures_mode = 0;
    double limit = -1;
    anim_backend backend = ANIM_BACKEND_CUDA;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--fixtures")) fixtures_mode = 1;
        else if (!strcmp(a, "--key") && v) { key = v; i++; }
        else if (!strcmp(a, "--models") && v) { models = v; i++; }
        else if (!strcmp(a, "--fixture-root") && v) { root = v; i++; }
        else if (!strcmp(a, "--ppm-root") && v) { ppm_root = v; i++; }
        else if (!strcmp(a, "--max-rel") && v) {
            char *end;
            limit = strtod(v, &end);
            i++;
            if (*end || end == v || !(limit >= 0)) { fprintf(stderr, "bench_compare_latents: bad --max-rel '%s'\n", v); return 2; }
        } else if (!strcmp(a, "--backend") && v) {
            i++;
            if (!strcmp(v, "cuda")) backend = ANIM_BACKEND_CUDA;
            else if (!strcmp(v, "cpu")) backend = ANIM_BACKEND_CPU;
            else { fprintf(stderr, "bench_compare_latents: --backend must be cuda or cpu\n"); return 2; }
        } else if (a[0] == '-') {
            fprintf(stderr, "bench_compare_latents: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (fixtures_mode) {
            if (n_names == 8) { fprintf(stderr, "bench_compare_latents: too many fixtures\n"); return 2; }
            names[n_names++] = a;
        } else {
            if (nfiles == 2) { usage(stderr); return 2; }
            files[nfiles++] = a;
        }
    }

    if (!fixtures_mode) {
        if (nfiles != 2) { usage(stderr); return 2; }
        char why[2048];
        size_t ng = 0, nw = 0;
        float *got = read_tensor(files[0], key, &ng, why, sizeof why), *want = NULL;
        if (got) want = read_tensor(files[1], key, &nw, why, sizeof why);
        if (!got || !want) {
            fprintf(stderr, "bench_compare_latents: %s\n", why);
            free(got);
            return 1;
        }
        int pass = 0;
        if (ng != nw) fprintf(stderr, "bench_compare_latents: %zu values in %s, %zu in %s\n", ng, files[0], nw, files[1]);
        else pass = report(files[1], "file", got, want, ng, limit >= 0 ? limit : 3e-4);
        free(got);
        free(want);
        return pass ? 0 : 1;
    }

    logcap lc = {""};
    anim_ctx_params cp;
    anim_ctx_params_default(&cp);
    cp.backend = backend;
    cp.log_level = ANIM_LOG_ERROR;
    cp.log_cb = on_log;
    cp.log_user = &lc;
    anim_ctx *ctx = NULL;
    anim_status st = anim_ctx_create(&cp, &ctx);
    if (st != ANIM_OK) {
        if (backend == ANIM_BACKEND_CUDA) {
            printf("bench_compare_latents: SKIP: CUDA backend unavailable: %s\n", lc.last[0] ? lc.last : anim_status_str(st));
            return EXIT_SKIP;
        }
        fprintf(stderr, "bench_compare_latents: cannot create a context: %s\n", lc.last);
        return 1;
    }
    char mdir[1024];
    if (!models) {
        snprintf(mdir, sizeof mdir, "%s/moore-tiny", root);
        models = mdir;
    }
    if ((st = anim_ctx_load_models(ctx, models)) != ANIM_OK) {
        fprintf(stderr, "bench_compare_latents: loading %s: %s\n", models, anim_ctx_last_error(ctx));
        anim_ctx_free(ctx);
        return 1;
    }
    const char *bname = anim_backend_name(anim_ctx_backend(ctx));
    if (limit < 0) limit = anim_ctx_backend(ctx) == ANIM_BACKEND_CPU ? 3e-4 : 1e-2;
    int n_fail = 0, n_run = 0;
    for (size_t k = 0; k < sizeof FIXTURES / sizeof *FIXTURES; k++) {
        int want = n_names == 0;
        for (int j = 0; j < n_names; j++) want |= !strcmp(names[j], FIXTURES[k].name);
        if (!want) continue;
        n_run++;
        n_fail += !run_fixture(ctx, root, &FIXTURES[k], ppm_root, limit, bname);
    }
    for (int j = 0; j < n_names; j++) {
        int known = 0;
        for (size_t k = 0; k < sizeof FIXTURES / sizeof *FIXTURES; k++) known |= !strcmp(names[j], FIXTURES[k].name);
        if (!known) { printf("compare(%s) | %s | ERROR unknown fixture\n", names[j], bname); n_fail++; }
    }
    printf("%d compared, %d failed\n", n_run, n_fail);
    anim_ctx_free(ctx);
    return n_fail ? 1 : 0;
}
