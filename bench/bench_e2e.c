/*
 * bench_e2e.c - end-to-end pose animation (anim_pose2vid) at a given size:
 * seconds per denoising step, whole-call seconds, memory, achieved TFLOP/s
 * and the fraction of the GPU's peak (MFU).
 *
 *   build/bench_e2e --models DIR [-W 512] [-H 768] [-L 24] [--steps 30]
 *                   [--cfg 3.5] [--backend cuda|cpu|auto] [options]
 *
 * Inputs are synthetic (a drawn reference picture and L stick-figure pose
 * pictures made in memory), so no files besides the model are needed; the
 * model is normally the full-size synthetic one from build/bench_make_synthetic.
 * One untimed warm-up call (--warmup-steps, default 1) comes first, so module
 * loading, cuBLAS handles and the scratch arena's growth stay out of the
 * numbers; then --repeat timed calls (default 1).
 *
 * What is printed (and with --json FILE, one JSON object):
 *   - the device, libanimate's build, the model's parameter count;
 *   - s/step: median over the timed calls of the step-to-step intervals of the
 *     "denoise" progress reports (the pipeline copies every UNet output to the
 *     host, so a report is only made once the GPU has finished the step);
 *     the first step, measured from the start of the DDIM loop, is included
 *     only where fewer than 3 steps run; also the mean, denoise loop / steps;
 *   - total seconds of the call (CLIP, VAE encode, pose guider, reference UNet,
 *     the DDIM loop, VAE decode of every frame) and of the DDIM loop alone;
 *   - peak activation memory: anim_run_stats.peak_scratch_bytes (the arena's
 *     high-water mark); peak DEVICE memory: cudaMemGetInfo sampled every 1 ms by
 *     a thread during the timed calls (device-wide: the CUDA context, the
 *     weights, the arena, staging and cuBLAS workspaces, and anything else
 *     on the GPU), shown with the readings before loading and after loading.
 *     The CUDA backend has no peak counter of its own yet;
 *   - FLOP and MFU, for the released model size only (the loaded denoising UNet
 *     plus motion modules must have the released parameter count):
 *       FLOP per UNet call = 91.4e12 * (window_frames / 24) * (0.783 r + 0.217 r^2)
 *       with r = (W8 * H8) / (512 * 768) and window_frames = min(L, context),
 *       times 0.541 without CFG (--cfg <= 1: only the conditional half runs);
 *       91.4 TFLOP is one CFG denoising step at 512x768 over 24 frames
 *       (shared/reference/models.md section 4, MACs of every conv, linear and
 *       attention matmul, x2); 21.7 % of it is spatial attention (QK^T, AV),
 *       which grows with the square of the pixel count, the rest linearly
 *       (this reproduces the section's 512x512 and 512x784 figures within 1 %).
 *       TFLOP/s = FLOP per step / (s/step), FLOP per step = FLOP per UNet call
 *       * UNet calls per step (context windows);
 *       MFU = TFLOP/s / peak, peak from a datasheet table by device name
 *       (dense fp16 tensor-core, fp32 accumulation: H100 SXM and H200 989,
 *       H100 PCIe 756, H100/H200 NVL 835, A100 312 TFLOP/s) or --peak-tflops;
 *       and, for comparison, the measured cuBLAS fp16 GEMM rate (8192^3,
 *       fp32 accumulation, random data, median of 20 after 3 warm-ups).
 *       Non-UNet work (VAE, CLIP, reference UNet) is not counted in TFLOP/s.
 * The last line is the bench line:
 *   e2e(512x768,F=24,steps=30,cfg=3.5) | libanimate-cuda | <s> s/step | <x> TFLOP/s | <y>% of peak
 *
 * Exit status: 0 done; 1 error (load or run failed, non-finite latents);
 * 2 bad arguments; 77 the requested backend is unavailable (no CUDA build or
 * no device): a message says why, nothing was measured.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "animate.h"
#include "backend.h"

#ifdef ANIM_WITH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#endif

#define EXIT_SKIP 77
#define FLOP_STEP_512x768_F24 91.4e12   /* models.md section 4: one CFG step, 24 frames */
#define ATTN_SHARE 0.217                /* of it: spatial self-attention QK^T and AV */
#define COND_SHARE (1030.6 / (1030.6 + 873.6)) /* of it: the conditional half of the CFG batch */
/* the released denoising UNet (stage 1) + motion modules (with the pe buffers) */
#define RELEASED_DENOISING_PARAMS (859520964LL + 454417600LL)

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ------------------------------------------------------------ peak table */

typedef struct peak_entry { const char *match; const char *not_match; double tflops; const char *label; } peak_entry;

/* Dense fp16 tensor-core rates with fp32 accumulation, from the datasheets.
 * First match wins (more specific names first). */
static const peak_entry PEAKS[] = {
    {"GH200", NULL, 989.4, "GH200 dense fp16"},
    {"H200 NVL", NULL, 835.0, "H200 NVL dense fp16"},
    {"H200", NULL, 989.4, "H200 dense fp16"},
    {"H100 NVL", NULL, 835.0, "H100 NVL dense fp16"},
    {"H100 PCIe", NULL, 756.0, "H100 PCIe dense fp16"},
    {"H100", NULL, 989.4, "H100 SXM dense fp16"},
    {"H800", NULL, 989.4, "H800 SXM dense fp16"},
    {"A100", NULL, 312.0, "A100 dense fp16"},
    {"L40S", NULL, 362.05, "L40S dense fp16"},
    {"RTX 4090", NULL, 165.2, "RTX 4090 dense fp16 (fp32 accumulation)"},
};

static const peak_entry *peak_for(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof PEAKS / sizeof *PEAKS; i++)
        if (strstr(name, PEAKS[i].match)) return &PEAKS[i];
    return NULL;
}

/* ------------------------------------------------------------ CUDA helpers */

typedef struct mem_sampler {
    int device;
    atomic_int stop;
    size_t peak_used, total;
    int ok;
    pthread_t th;
    int running;
} mem_sampler;

#ifdef ANIM_WITH_CUDA
static int dev_used(int device, size_t *used, size_t *total) {
    size_t fr = 0, tot = 0;
    if (cudaSetDevice(device) != cudaSuccess || cudaMemGetInfo(&fr, &tot) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    *used = tot - fr;
    if (total) *total = tot;
    return 1;
}

static void *sampler_main(void *p) {
    mem_sampler *s = p;
    while (!atomic_load(&s->stop)) {
        size_t u, t;
        if (dev_used(s->device, &u, &t)) {
            s->ok = 1;
            s->total = t;
            if (u > s->peak_used) s->peak_used = u;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void sampler_start(mem_sampler *s, int device) {
    memset(s, 0, sizeof *s);
    atomic_init(&s->stop, 0);
    s->device = device;
    s->running = pthread_create(&s->th, NULL, sampler_main, s) == 0;
}

static void sampler_stop(mem_sampler *s) {
    if (!s->running) return;
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    s->running = 0;
}

/* cuBLAS fp16 GEMM rate at n^3 (fp32 accumulation), TFLOP/s; NAN on failure (why says). */
static double gemm_ceiling(int device, int n, char *why, size_t why_len) {
    size_t elems = (size_t)n * n;
    uint16_t *h = malloc(elems * sizeof *h);
    void *a = NULL, *b = NULL, *c = NULL;
    cublasHandle_t hd = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    double res = NAN;
    const int warm = 3, reps = 20;
    double t[20];
    snprintf(why, why_len, "ok");
    if (!h) { snprintf(why, why_len, "out of host memory"); return NAN; }
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < elems; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        h[i] = anim_f32_to_f16((float)((s >> 40) & 0xffffff) / 8388608.0f - 1.0f); /* random, never zeros */
    }
    cudaError_t ce;
    if ((ce = cudaSetDevice(device)) != cudaSuccess || (ce = cudaMalloc(&a, elems * 2)) != cudaSuccess ||
        (ce = cudaMalloc(&b, elems * 2)) != cudaSuccess || (ce = cudaMalloc(&c, elems * 2)) != cudaSuccess ||
        (ce = cudaMemcpy(a, h, elems * 2, cudaMemcpyHostToDevice)) != cudaSuccess ||
        (ce = cudaMemcpy(b, h, elems * 2, cudaMemcpyHostToDevice)) != cudaSuccess ||
        (ce = cudaEventCreate(&e0)) != cudaSuccess || (ce = cudaEventCreate(&e1)) != cudaSuccess) {
        snprintf(why, why_len, "CUDA: %s", cudaGetErrorString(ce));
        goto out;
    }
    if (cublasCreate(&hd) != CUBLAS_STATUS_SUCCESS) { snprintf(why, why_len, "cublasCreate failed"); hd = NULL; goto out; }
    const float alpha = 1.0f, beta = 0.0f;
    for (int r = 0; r < warm + reps; r++) {
        cudaEventRecord(e0, 0);
        cublasStatus_t bs = cublasGemmEx(hd, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a, CUDA_R_16F, n, b,
                                         CUDA_R_16F, n, &beta, c, CUDA_R_16F, n, CUBLAS_COMPUTE_32F,
                                         CUBLAS_GEMM_DEFAULT);
        cudaEventRecord(e1, 0);
        if (bs != CUBLAS_STATUS_SUCCESS) { snprintf(why, why_len, "cublasGemmEx status %d", (int)bs); goto out; }
        if ((ce = cudaEventSynchronize(e1)) != cudaSuccess) { snprintf(why, why_len, "CUDA: %s", cudaGetErrorString(ce)); goto out; }
        float ms = 0;
        cudaEventElapsedTime(&ms, e0, e1);
        if (r >= warm) t[r - warm] = ms * 1e-3;
    }
    res = 2.0 * n * (double)n * n / median(t, reps) * 1e-12;
out:
    if (hd) cublasDestroy(hd);
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    cudaFree(a);
    cudaFree(b);
    cudaFree(c);
    cudaGetLastError();
    free(h);
    return res;
}
#else
static int dev_used(int device, size_t *used, size_t *total) {
    (void)device; (void)used; (void)total;
    return 0;
}
static void sampler_start(mem_sampler *s, int device) { memset(s, 0, sizeof *s); s->device = device; }
static void sampler_stop(mem_sampler *s) { (void)s; }
static double gemm_ceiling(int device, int n, char *why, size_t why_len) {
    (void)device; (void)n;
    snprintf(why, why_len, "not a CUDA build");
    return NAN;
}
#endif

/* ------------------------------------------------------------ synthetic inputs */

static void put_px(anim_picture *p, int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    if (x < 0 || y < 0 || x >= p->width || y >= p->height) return;
    uint8_t *q = p->rgb + ((size_t)y * p->width + x) * 3;
    q[0] = r; q[1] = g; q[2] = b;
}

static void line(anim_picture *p, double x0, double y0, double x1, double y1, int thick, const uint8_t c[3]) {
    double len = hypot(x1 - x0, y1 - y0);
    int n = (int)len + 1;
    for (int i = 0; i <= n; i++) {
        double t = (double)i / n;
        int cx = (int)lround(x0 + (x1 - x0) * t), cy = (int)lround(y0 + (y1 - y0) * t);
        for (int dy = -thick; dy <= thick; dy++)
            for (int dx = -thick; dx <= thick; dx++)
                if (dx * dx + dy * dy <= thick * thick) put_px(p, cx + dx, cy + dy, c[0], c[1], c[2]);
    }
}

/* A person-like picture: a vertical gradient background, a skin-coloured
 * head, a shirt and trousers (so the VAE and CLIP see structure, not noise). */
static int make_reference(anim_picture *p, int w, int h) {
    p->width = w;
    p->height = h;
    p->rgb = malloc((size_t)w * h * 3);
    if (!p->rgb) return 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t v = (uint8_t)(180 + 60 * y / h);
            put_px(p, x, y, v, (uint8_t)(v - 20), (uint8_t)(200 - 40 * x / w));
        }
    double cx = w / 2.0, s = h / 8.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double dx = x - cx, dy = y - 1.2 * s;
            if (dx * dx + dy * dy < 0.45 * s * s) put_px(p, x, y, 224, 180, 150);                       /* head */
            else if (y > 1.9 * s && y < 4.6 * s && fabs(dx) < 0.9 * s) put_px(p, x, y, 40, 90, 170);  /* shirt */
            else if (y >= 4.6 * s && y < 7.6 * s && fabs(dx) < 0.75 * s && fabs(dx) > 0.08 * s)
                put_px(p, x, y, 50, 50, 60);                                                             /* legs */
        }
    return 1;
}

/* OpenPose-style colored limbs on black, arms swinging with the frame index. */
static int make_pose(anim_picture *p, int w, int h, int frame, int n_frames) {
    p->width = w;
    p->height = h;
    p->rgb = calloc((size_t)w * h * 3, 1);
    if (!p->rgb) return 0;
    double ph = 2 * M_PI * frame / (n_frames > 1 ? n_frames : 1), s = h / 8.0, cx = w / 2.0 + 0.3 * s * sin(ph);
    int th = w / 128 + 1;
    static const uint8_t col[8][3] = {{255, 0, 0},   {255, 170, 0}, {170, 255, 0}, {0, 255, 85},
                                      {0, 170, 255}, {85, 0, 255},  {255, 0, 170}, {255, 255, 0}};
    double neck_y = 2.0 * s, hip_y = 4.6 * s;
    line(p, cx, 1.2 * s, cx, neck_y, th, col[0]);                                                /* head-neck */
    line(p, cx, neck_y, cx, hip_y, th, col[1]);                                                  /* torso */
    line(p, cx, neck_y, cx - s * (1 + 0.5 * sin(ph)), neck_y + s * (1.2 + 0.5 * cos(ph)), th, col[2]); /* arms */
    line(p, cx, neck_y, cx + s * (1 + 0.5 * cos(ph)), neck_y + s * (1.2 - 0.5 * sin(ph)), th, col[3]);
    line(p, cx, hip_y, cx - 0.6 * s, 7.6 * s, th, col[4]);                                       /* legs */
    line(p, cx, hip_y, cx + 0.6 * s * cos(ph), 7.6 * s, th, col[5]);
    return 1;
}

/* ------------------------------------------------------------ progress */

typedef struct prog {
    double *step_end;   /* seconds since the call started, per step (index step-1) */
    int n_steps;
    double denoise_t0;  /* when "prepare" finished (start of the DDIM loop) */
    int load_pct;
    int quiet;
} prog;

static void on_progress(const anim_progress *p, void *user) {
    prog *g = user;
    if (!strcmp(p->stage, "denoise")) {
        if (p->window == p->n_windows && p->step >= 1 && p->step <= g->n_steps) g->step_end[p->step - 1] = p->elapsed_s;
        /* every step: if a run is stopped at a time limit, its log still holds the step times */
        if (!g->quiet && p->window == p->n_windows)
            fprintf(stderr, "  step %d/%d  %.3fs\n", p->step, p->n_steps, p->elapsed_s);
    } else if (!strcmp(p->stage, "prepare") && p->done == p->total) {
        g->denoise_t0 = p->elapsed_s;
    } else if (!strcmp(p->stage, "load") && p->total > 0) {
        int pct = (int)(100.0 * p->done / p->total);
        if (!g->quiet && pct / 25 > g->load_pct / 25) fprintf(stderr, "  load %d%%\n", pct);
        g->load_pct = pct;
    }
}

typedef struct logcap { char last[1024]; int quiet, silent; } logcap;

static void on_log(anim_log_level lv, const char *msg, void *user) {
    logcap *l = user;
    snprintf(l->last, sizeof l->last, "%s", msg);
    if (!l->silent && (!l->quiet || lv == ANIM_LOG_ERROR)) fprintf(stderr, "libanimate: %s\n", msg);
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f) {
    fprintf(f,
            "usage: bench_e2e --models DIR [options]\n"
            "\n"
            "Time anim_pose2vid end to end on synthetic inputs (see the comment at the top of\n"
            "bench/bench_e2e.c for what is measured and how MFU is computed).\n"
            "\n"
            "  --models DIR          model directory (e.g. from build/bench_make_synthetic)\n"
            "  -W N, -H N            size (default 512 x 768)\n"
            "  -L N                  frames (default 24)\n"
            "  --steps N             DDIM steps of the timed call (default 30)\n"
            "  --cfg X               guidance scale (default 3.5)\n"
            "  --seed N              noise seed (default 42)\n"
            "  --context-frames N    (default 24)   --context-overlap N (default 4)\n"
            "  --backend NAME        cuda (default), cpu or auto\n"
            "  --device N            CUDA device (default 0)\n"
            "  --threads N           CPU threads (default all)\n"
            "  --warmup-steps N      steps of the untimed warm-up call (default 1; 0: none)\n"
            "  --repeat N            timed calls (default 1)\n"
            "  --peak-tflops X       peak for MFU instead of the table (TFLOP/s)\n"
            "  --no-gemm             skip the cuBLAS GEMM ceiling measurement\n"
            "  --json FILE           also write the results as one JSON object\n"
            "  --quiet               no progress\n"
            "exit status: 0 ok, 1 error, 2 usage, 77 backend unavailable (skipped)\n");
}

static int parse_int(const char *flag, const char *v, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || *end || end == v || n < lo || n > hi) {
        fprintf(stderr, "bench_e2e: %s needs an integer in %ld..%ld\n", flag, lo, hi);
        return 0;
    }
    *out = (int)n;
    return 1;
}

static int parse_num(const char *flag, const char *v, double lo, double hi, double *out) {
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || *end || end == v || !(x >= lo && x <= hi)) {
        fprintf(stderr, "bench_e2e: %s needs a number in %g..%g\n", flag, lo, hi);
        return 0;
    }
    *out = x;
    return 1;
}

/* a JSON number, or null when not finite */
static void jnum(char *buf, double x) {
    if (isfinite(x)) snprintf(buf, 32, "%.6g", x);
    else snprintf(buf, 32, "null");
}

static void fmt_mib(char *buf, size_t len, double bytes) {
    if (bytes < 0 || isnan(bytes)) snprintf(buf, len, "n/a");
    else snprintf(buf, len, "%.1f MiB", bytes / (1024.0 * 1024.0));
}

int main(int argc, char **argv) {
    const char *models = NULL, *json_path = NULL;
    int W = 512, H = 768, L = 24, steps = 30, warm_steps = 1, repeat = 1, device = 0, threads = 0, quiet = 0;
    int ctx_frames = 24, ctx_overlap = 4, no_gemm = 0;
    double cfg = 3.5, peak_override = 0;
    unsigned long long seed = 42;
    anim_backend backend = ANIM_BACKEND_CUDA;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (!strcmp(a, "--no-gemm")) no_gemm = 1;
        else if (!strcmp(a, "--models")) { models = v; i++; ok = v != NULL; }
        else if (!strcmp(a, "--json")) { json_path = v; i++; ok = v != NULL; }
        else if (!strcmp(a, "-W") || !strcmp(a, "--width")) { ok = parse_int(a, v, 8, 8192, &W); i++; }
        else if (!strcmp(a, "-H") || !strcmp(a, "--height")) { ok = parse_int(a, v, 8, 8192, &H); i++; }
        else if (!strcmp(a, "-L") || !strcmp(a, "--frames")) { ok = parse_int(a, v, 1, 100000, &L); i++; }
        else if (!strcmp(a, "--steps")) { ok = parse_int(a, v, 1, 1000, &steps); i++; }
        else if (!strcmp(a, "--warmup-steps")) { ok = parse_int(a, v, 0, 1000, &warm_steps); i++; }
        else if (!strcmp(a, "--repeat")) { ok = parse_int(a, v, 1, 100, &repeat); i++; }
        else if (!strcmp(a, "--device")) { ok = parse_int(a, v, 0, 64, &device); i++; }
        else if (!strcmp(a, "--threads")) { ok = parse_int(a, v, 0, 4096, &threads); i++; }
        else if (!strcmp(a, "--context-frames")) { ok = parse_int(a, v, 1, 100000, &ctx_frames); i++; }
        else if (!strcmp(a, "--context-overlap")) { ok = parse_int(a, v, 0, 100000, &ctx_overlap); i++; }
        else if (!strcmp(a, "--cfg")) { ok = parse_num(a, v, 0, 100, &cfg); i++; }
        else if (!strcmp(a, "--peak-tflops")) { ok = parse_num(a, v, 1e-3, 1e6, &peak_override); i++; }
        else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            seed = v ? strtoull(v, &end, 10) : 0;
            ok = v && !errno && !*end && end != v && v[0] != '-';
            if (!ok) fprintf(stderr, "bench_e2e: --seed needs a non-negative integer\n");
            i++;
        } else if (!strcmp(a, "--backend")) {
            i++;
            if (v && !strcmp(v, "cuda")) backend = ANIM_BACKEND_CUDA;
            else if (v && !strcmp(v, "cpu")) backend = ANIM_BACKEND_CPU;
            else if (v && !strcmp(v, "auto")) backend = ANIM_BACKEND_AUTO;
            else { fprintf(stderr, "bench_e2e: --backend must be cuda, cpu or auto\n"); ok = 0; }
        } else {
            fprintf(stderr, "bench_e2e: unknown option '%s' (see --help)\n", a);
            ok = 0;
        }
        if (!ok) return 2;
    }
    if (!models) { fprintf(stderr, "bench_e2e: --models DIR is required (see --help)\n"); return 2; }
    if (ctx_overlap >= ctx_frames) { fprintf(stderr, "bench_e2e: --context-overlap must be < --context-frames\n"); return 2; }

    /* context */
    logcap lc = {"", quiet, 0};
    prog pg = {0};
    pg.quiet = quiet;
    anim_ctx_params cp;
    anim_ctx_params_default(&cp);
    cp.backend = backend;
    cp.device = device;
    cp.n_threads = threads;
    cp.log_cb = on_log;
    cp.log_user = &lc;
    cp.log_level = quiet ? ANIM_LOG_ERROR : ANIM_LOG_WARN;
    cp.progress_cb = on_progress;
    cp.progress_user = &pg;
    anim_ctx *ctx = NULL;
    lc.silent = 1; /* a creation failure is reported below, once */
    anim_status st = anim_ctx_create(&cp, &ctx);
    lc.silent = 0;
    if (st != ANIM_OK) {
        if (backend == ANIM_BACKEND_CUDA && (st == ANIM_E_UNSUPPORTED || st == ANIM_E_CUDA || st == ANIM_E_INVALID_ARG)) {
            printf("bench_e2e: SKIP: CUDA backend unavailable: %s\n", lc.last[0] ? lc.last : anim_status_str(st));
            return EXIT_SKIP;
        }
        fprintf(stderr, "bench_e2e: cannot create a context: %s: %s\n", anim_status_str(st), lc.last);
        return 1;
    }
    anim_backend kind = anim_ctx_backend(ctx);
    int is_cuda = kind == ANIM_BACKEND_CUDA;
    char devname[256] = "";
    if (is_cuda) {
        if (!anim_cuda_device_name(device, devname, sizeof devname)) snprintf(devname, sizeof devname, "CUDA device %d", device);
    } else {
        long nproc = sysconf(_SC_NPROCESSORS_ONLN);
        snprintf(devname, sizeof devname, "CPU (%d of %ld cores)", threads ? threads : (int)nproc, nproc);
    }
    printf("device: %s\n", devname);
    printf("build: %s\n", anim_version_info());

    /* device memory before loading (CUDA context only), after loading */
    size_t used0 = 0, used_load = 0, dev_total = 0;
    int have_used0 = is_cuda && dev_used(device, &used0, &dev_total);

    double t = now_s();
    if ((st = anim_ctx_load_models(ctx, models)) != ANIM_OK) {
        fprintf(stderr, "bench_e2e: loading %s failed: %s: %s\n", models, anim_status_str(st), anim_ctx_last_error(ctx));
        anim_ctx_free(ctx);
        return 1;
    }
    double load_s = now_s() - t;
    int have_used_load = is_cuda && dev_used(device, &used_load, &dev_total);
    anim_model_info mi;
    memset(&mi, 0, sizeof mi);
    anim_ctx_model_info(ctx, &mi);
    int64_t den_params = 0;
    for (int i = 0; i < mi.n_nets; i++)
        if (!strcmp(mi.nets[i].name, "denoising_unet") || !strcmp(mi.nets[i].name, "motion_module"))
            den_params += mi.nets[i].n_params;
    int released = llabs(den_params - RELEASED_DENOISING_PARAMS) <= RELEASED_DENOISING_PARAMS / 1000;
    printf("model: %s: %lld parameters (%s), weights %.1f MiB in backend storage, loaded in %.2f s\n", models,
           (long long)mi.total_params, released ? "released size" : "NOT the released size: no FLOP/MFU",
           mi.weight_bytes / 1048576.0, load_s);

    /* inputs */
    int W8 = W / 8 * 8, H8 = H / 8 * 8;
    anim_picture ref = {0};
    anim_picture *poses = calloc((size_t)L, sizeof *poses);
    int ok = poses && make_reference(&ref, W8, H8);
    for (int i = 0; ok && i < L; i++) ok = make_pose(&poses[i], W8, H8, i, L);
    size_t lat_n = (size_t)4 * L * (H8 / 8) * (W8 / 8);
    float *lat = malloc(lat_n * sizeof *lat);
    double *step_end = calloc((size_t)steps + (size_t)warm_steps + 1, sizeof *step_end);
    double *intervals = calloc((size_t)steps * (size_t)repeat + 1, sizeof *intervals);
    if (!ok || !lat || !step_end || !intervals) {
        fprintf(stderr, "bench_e2e: out of host memory for the inputs\n");
        return 1;
    }
    pg.step_end = step_end;

    anim_pose_params pp;
    anim_pose_params_default(&pp);
    pp.width = W8;
    pp.height = H8;
    pp.frames = L;
    pp.guidance = (float)cfg;
    pp.seed = seed;
    pp.context_frames = ctx_frames;
    pp.context_overlap = ctx_overlap;
    int win_frames = L < ctx_frames ? L : ctx_frames;
    printf("workload: %dx%d, %d frames, %d steps, cfg %.2f, context %d/%d, %d warm-up step(s), %d timed call(s)\n",
           W8, H8, L, steps, cfg, ctx_frames, ctx_overlap, warm_steps, repeat);

    anim_video vid = {0};
    int rc = 0;
    if (warm_steps > 0) {
        pp.steps = warm_steps;
        pg.n_steps = warm_steps;
        if (!quiet) fprintf(stderr, "warm-up (%d step(s))\n", warm_steps);
        t = now_s();
        st = anim_pose2vid(ctx, &pp, &ref, poses, L, &vid);
        anim_video_free(&vid);
        if (st != ANIM_OK) {
            fprintf(stderr, "bench_e2e: warm-up run failed: %s: %s\n", anim_status_str(st), anim_ctx_last_error(ctx));
            rc = 1;
            goto done;
        }
        printf("warm-up: %d step(s), whole call %.2f s\n", warm_steps, now_s() - t);
    }

    /* timed calls */
    pp.steps = steps;
    pp.latents_out = lat;
    pg.n_steps = steps;
    mem_sampler ms;
    double total_s = 0, denoise_s = 0, first_total = 0;
    int n_int = 0, unet_calls = 0;
    int64_t peak_scratch = 0;
    if (is_cuda) sampler_start(&ms, device);
    else memset(&ms, 0, sizeof ms);
    for (int r = 0; r < repeat && rc == 0; r++) {
        if (!quiet) fprintf(stderr, "timed call %d/%d\n", r + 1, repeat);
        for (int i = 0; i < steps; i++) step_end[i] = NAN;
        pg.denoise_t0 = NAN;
        st = anim_pose2vid(ctx, &pp, &ref, poses, L, &vid);
        if (st != ANIM_OK) {
            fprintf(stderr, "bench_e2e: timed run failed: %s: %s\n", anim_status_str(st), anim_ctx_last_error(ctx));
            rc = 1;
            break;
        }
        anim_run_stats rs;
        if (anim_ctx_run_stats(ctx, &rs) != ANIM_OK) { fprintf(stderr, "bench_e2e: no run stats\n"); rc = 1; break; }
        total_s += rs.seconds;
        denoise_s += rs.seconds_denoise;
        if (r == 0) first_total = rs.seconds;
        unet_calls = rs.unet_calls;
        if (rs.peak_scratch_bytes > peak_scratch) peak_scratch = rs.peak_scratch_bytes;
        /* step intervals; the first step only when there are too few others */
        for (int i = 1; i < steps; i++)
            if (!isnan(step_end[i]) && !isnan(step_end[i - 1])) intervals[n_int++] = step_end[i] - step_end[i - 1];
        if (steps < 3 && !isnan(step_end[0]) && !isnan(pg.denoise_t0)) intervals[n_int++] = step_end[0] - pg.denoise_t0;
        if (r + 1 < repeat) anim_video_free(&vid);
    }
    if (is_cuda) sampler_stop(&ms);
    if (rc) goto done;

    /* results */
    {
        double mean_step = denoise_s / repeat / steps;
        double s_step = n_int > 0 ? median(intervals, n_int) : mean_step;
        double calls_per_step = (double)unet_calls / steps;
        double r_pix = (double)W8 * H8 / (512.0 * 768.0);
        /* without CFG (guidance <= 1, batch 1) only the conditional half runs: 1030.6 of 1904.2 GMAC per frame */
        double cfg_share = cfg > 1.0 ? 1.0 : COND_SHARE;
        double flop_call = FLOP_STEP_512x768_F24 * cfg_share * (win_frames / 24.0) *
                           ((1 - ATTN_SHARE) * r_pix + ATTN_SHARE * r_pix * r_pix);
        double flop_step = flop_call * calls_per_step;
        double tflops = released ? flop_step / s_step * 1e-12 : NAN;
        double tflops_mean = released ? flop_step / mean_step * 1e-12 : NAN;
        const peak_entry *pe = is_cuda ? peak_for(devname) : NULL;
        double peak = peak_override > 0 ? peak_override : pe ? pe->tflops : NAN;
        const char *peak_label = peak_override > 0 ? "--peak-tflops" : pe ? pe->label : "unknown device: use --peak-tflops";
        double mfu = tflops / peak * 100.0;

        /* latents and frames: finite, not constant */
        size_t bad = 0;
        double sum = 0, sq = 0;
        for (size_t i = 0; i < lat_n; i++) {
            if (!isfinite(lat[i])) { bad++; continue; }
            sum += lat[i];
            sq += (double)lat[i] * lat[i];
        }
        double lmean = sum / (double)(lat_n - bad), lstd = sqrt(fmax(0, sq / (double)(lat_n - bad) - lmean * lmean));
        double fmean = 0;
        size_t fn = (size_t)vid.n_frames * vid.width * vid.height * 3;
        for (size_t i = 0; i < fn; i++) fmean += vid.rgb[i];
        fmean = fn ? fmean / (double)fn : NAN;

        char b1[64], b2[64], b3[64], b4[64], b5[64];
        printf("timed: whole call %.3f s (mean of %d), denoise loop %.3f s, %d UNet call(s) (%.0f per step, %d frames each, CFG batch %d)\n",
               total_s / repeat, repeat, denoise_s / repeat, unet_calls, calls_per_step, win_frames, cfg > 1 ? 2 : 1);
        printf("s/step: median %.4f (%d intervals), mean %.4f (denoise loop / steps)\n", s_step, n_int, mean_step);
        fmt_mib(b1, sizeof b1, (double)peak_scratch);
        printf("memory: peak activation (arena) %s; weights %.1f MiB\n", b1, mi.weight_bytes / 1048576.0);
        if (is_cuda) {
            fmt_mib(b2, sizeof b2, have_used0 ? (double)used0 : -1);
            fmt_mib(b3, sizeof b3, have_used_load ? (double)used_load : -1);
            fmt_mib(b4, sizeof b4, ms.ok ? (double)ms.peak_used : -1);
            fmt_mib(b5, sizeof b5, ms.ok && have_used_load ? (double)ms.peak_used - (double)used_load : -1);
            printf("device memory (cudaMemGetInfo, device-wide): before load %s, after load %s, peak during timed "
                   "calls %s (%s over after-load), of %.0f MiB\n",
                   b2, b3, b4, b5, dev_total / 1048576.0);
        }
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0) printf("host: peak RSS %.1f MiB\n", ru.ru_maxrss / 1024.0);
        printf("output: latents %s (mean %.4f, std %.4f, %zu non-finite of %zu); frames %dx%dx%d mean %.1f\n",
               bad ? "NOT FINITE" : "finite", lmean, lstd, bad, lat_n, vid.n_frames, vid.width, vid.height, fmean);
        double gemm = NAN;
        char why[256] = "skipped (--no-gemm)";
        if (is_cuda && !no_gemm) gemm = gemm_ceiling(device, 8192, why, sizeof why);
        if (released) {
            printf("FLOP: %.2f TFLOP per UNet call (models.md section 4 model), %.2f per step, %.3f PFLOP in the timed denoise loop\n",
                   flop_call * 1e-12, flop_step * 1e-12, flop_step * steps * 1e-15);
            if (isnan(peak))
                printf("rate: %.4g TFLOP/s at the median step (%.4g at the mean); peak unknown (%s): no MFU\n", tflops,
                       tflops_mean, peak_label);
            else
                printf("rate: %.4g TFLOP/s at the median step (%.4g at the mean); peak %.1f TFLOP/s (%s) -> MFU %.2f%% "
                       "(%.2f%% at the mean)\n",
                       tflops, tflops_mean, peak, peak_label, mfu, tflops_mean / peak * 100.0);
        } else {
            printf("FLOP/MFU: n/a (the model is not the released size; the 91.4 TFLOP/step figure is for that)\n");
        }
        if (is_cuda && isnan(gemm)) printf("cuBLAS fp16 GEMM 8192^3: n/a (%s)\n", why);
        else if (is_cuda)
            printf("cuBLAS fp16 GEMM 8192^3 (fp32 accumulation, measured ceiling): %.1f TFLOP/s -> e2e at %.2f%% of it\n",
                   gemm, tflops / gemm * 100.0);
        char cfgs[32];
        snprintf(cfgs, sizeof cfgs, "%g", cfg);
        char tf[32], pc[32];
        if (isnan(tflops)) snprintf(tf, sizeof tf, "n/a TFLOP/s");
        else snprintf(tf, sizeof tf, tflops >= 1 ? "%.1f TFLOP/s" : "%.3g TFLOP/s", tflops);
        if (isnan(mfu)) snprintf(pc, sizeof pc, "n/a %% of peak");
        else snprintf(pc, sizeof pc, "%.1f%% of peak", mfu);
        printf("e2e(%dx%d,F=%d,steps=%d,cfg=%s) | libanimate-%s | %.3f s/step | %s | %s\n", W8, H8, L, steps, cfgs,
               anim_backend_name(kind), s_step, tf, pc);
        if (json_path) {
            FILE *f = fopen(json_path, "w");
            if (!f) {
                fprintf(stderr, "bench_e2e: cannot write %s: %s\n", json_path, strerror(errno));
                rc = 1;
            } else {
                char j[7][32];
                jnum(j[0], flop_step); jnum(j[1], tflops); jnum(j[2], peak); jnum(j[3], mfu);
                jnum(j[4], gemm); jnum(j[5], lmean); jnum(j[6], lstd);
                fprintf(f,
                        "{\"bench\":\"bench_e2e\",\"device\":\"%s\",\"backend\":\"%s\",\"build\":\"%s\","
                        "\"W\":%d,\"H\":%d,\"frames\":%d,\"steps\":%d,\"cfg\":%g,\"context_frames\":%d,"
                        "\"context_overlap\":%d,\"warmup_steps\":%d,\"repeat\":%d,\"released_size\":%s,"
                        "\"params\":%lld,\"weight_bytes\":%lld,\"load_s\":%.4f,\"total_s\":%.4f,\"first_total_s\":%.4f,"
                        "\"denoise_s\":%.4f,\"s_per_step_median\":%.5f,\"s_per_step_mean\":%.5f,\"unet_calls\":%d,"
                        "\"flop_per_step\":%s,\"tflops\":%s,\"peak_tflops\":%s,\"mfu_pct\":%s,"
                        "\"gemm_tflops\":%s,\"peak_scratch_bytes\":%lld,\"dev_used_before_load\":%s,"
                        "\"dev_used_after_load\":%s,\"dev_used_peak\":%s,\"dev_total\":%lld,"
                        "\"latents_nonfinite\":%zu,\"latents_mean\":%s,\"latents_std\":%s}\n",
                        devname, anim_backend_name(kind), anim_version_info(), W8, H8, L, steps, cfg, ctx_frames,
                        ctx_overlap, warm_steps, repeat, released ? "true" : "false", (long long)mi.total_params,
                        (long long)mi.weight_bytes, load_s, total_s / repeat, first_total, denoise_s / repeat, s_step,
                        mean_step, unet_calls, released ? j[0] : "null", j[1], j[2], j[3], j[4],
                        (long long)peak_scratch, have_used0 ? (snprintf(b2, sizeof b2, "%zu", used0), b2) : "null",
                        have_used_load ? (snprintf(b3, sizeof b3, "%zu", used_load), b3) : "null",
                        ms.ok ? (snprintf(b4, sizeof b4, "%zu", ms.peak_used), b4) : "null", (long long)dev_total, bad,
                        j[5], j[6]);
                fclose(f);
            }
        }
        if (bad) {
            fprintf(stderr, "bench_e2e: FAIL: %zu non-finite final latents\n", bad);
            rc = 1;
        }
    }
done:
    anim_video_free(&vid);
    anim_picture_free(&ref);
    for (int i = 0; poses && i < L; i++) anim_picture_free(&poses[i]);
    free(poses);
    free(lat);
    free(step_end);
    free(intervals);
    anim_ctx_free(ctx);
    return rc;
}
