/*
 * animate.h - the one public header of libanimate.
 *
 * libanimate turns one photo into a video of that person moving: pose animation
 * (Moore-AnimateAnyone) and, later, talking heads (EchoMimic V1). This header is
 * C11 and valid C++; it includes only <stddef.h>, <stdint.h> and <stdbool.h>.
 *
 * Usage:
 *
 *     anim_ctx_params p;
 *     anim_ctx_params_default(&p);
 *     p.backend = ANIM_BACKEND_AUTO;          // CUDA when a device is there, else CPU
 *     anim_ctx *ctx = NULL;
 *     if (anim_ctx_create(&p, &ctx) != ANIM_OK) { ... }
 *     anim_status st = anim_ctx_load_models(ctx, "path/to/pretrained_weights");
 *     if (st != ANIM_OK)
 *         fprintf(stderr, "%s: %s\n", anim_status_str(st), anim_ctx_last_error(ctx));
 *     ...
 *     anim_ctx_free(ctx);                     // anim_ctx_free(NULL) is a no-op
 *
 * Thread safety: a context is used by one thread at a time. Different contexts
 * may be used from different threads at once; the library keeps no mutable
 * global state (callbacks and errors live in the context). Loaded weights are
 * read-only after anim_ctx_load_models() returns, so runs do not modify them.
 *
 * Errors: every function that can fail returns an anim_status. On failure the
 * context's last-error string names the file, tensor key, shape or CUDA call at
 * fault. The library never calls exit() or abort() on a recoverable error.
 */
#ifndef ANIMATE_H
#define ANIMATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ANIM_VERSION_MAJOR 0
#define ANIM_VERSION_MINOR 1
#define ANIM_VERSION_PATCH 0
#define ANIM_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- status */

typedef enum anim_status {
    ANIM_OK = 0,
    ANIM_E_INVALID_ARG = -1,  /* a parameter or flag is out of range */
    ANIM_E_IO = -2,           /* a file could not be opened, read or written */
    ANIM_E_FORMAT = -3,       /* a file is malformed (header, pickle, JSON, ...) */
    ANIM_E_MODEL = -4,        /* weights do not fit the model: missing/extra key, shape */
    ANIM_E_OOM = -5,          /* host or device memory exhausted */
    ANIM_E_CUDA = -6,         /* a CUDA/cuBLAS/cuDNN call failed */
    ANIM_E_UNSUPPORTED = -7,  /* valid but not supported (dtype, backend not built) */
    ANIM_E_ABORTED = -8,      /* the abort callback asked to stop */
    ANIM_E_STATE = -9,        /* call made in the wrong state (e.g. no model loaded) */
    ANIM_E_INTERNAL = -10
} anim_status;

/* Static name of a status code, e.g. "ANIM_E_FORMAT: malformed file". */
const char *anim_status_str(anim_status st);

/* ---------------------------------------------------------------- params */

typedef enum anim_backend {
    ANIM_BACKEND_AUTO = 0, /* CUDA if built in and a device answers, else CPU */
    ANIM_BACKEND_CPU = 1,
    ANIM_BACKEND_CUDA = 2
} anim_backend;

const char *anim_backend_name(anim_backend b);

typedef enum anim_log_level {
    ANIM_LOG_NONE = -1,   /* as log_level: report nothing */
    ANIM_LOG_ERROR = 0,
    ANIM_LOG_WARN = 1,
    ANIM_LOG_INFO = 2,
    ANIM_LOG_DEBUG = 3
} anim_log_level;

typedef void (*anim_log_fn)(anim_log_level level, const char *msg, void *user);
/* Long work reports its progress: `done` of `total` units of `stage`
 * ("load": tensors; "denoise": UNet calls, with the step and context window). */
typedef struct anim_progress {
    const char *stage;       /* "load", "prepare", "denoise", "decode" */
    int done, total;         /* units of this stage completed / in all */
    int step, n_steps;       /* "denoise": current step (1-based) and step count */
    int window, n_windows;   /* "denoise": context window (1-based) within the step */
    double elapsed_s;        /* seconds since this call started */
} anim_progress;
typedef void (*anim_progress_fn)(const anim_progress *p, void *user);
/* Polled between units of work; returning true stops the work with ANIM_E_ABORTED. */
typedef bool (*anim_abort_fn)(void *user);

typedef struct anim_ctx_params {
    uint32_t struct_size;       /* set by anim_ctx_params_default(); keeps the ABI growable */
    anim_backend backend;       /* default ANIM_BACKEND_AUTO */
    int device;                 /* CUDA device index, default 0 */
    int n_threads;              /* CPU threads; 0 = all online cores (default) */
    anim_log_level log_level;   /* messages above this level are dropped; default INFO */
    anim_log_fn log_cb;         /* NULL: messages go to stderr */
    void *log_user;
    anim_progress_fn progress_cb; /* NULL: no progress reports */
    void *progress_user;
    anim_abort_fn abort_cb;     /* NULL: never abort */
    void *abort_user;
} anim_ctx_params;

void anim_ctx_params_default(anim_ctx_params *p);

/* ---------------------------------------------------------------- context */

typedef struct anim_ctx anim_ctx;

anim_status anim_ctx_create(const anim_ctx_params *p, anim_ctx **out);
void anim_ctx_free(anim_ctx *ctx);

/* The message of the last failed call on this context ("" when none). */
const char *anim_ctx_last_error(const anim_ctx *ctx);

/* The backend the context actually runs on (AUTO resolved). */
anim_backend anim_ctx_backend(const anim_ctx *ctx);

/*
 * Load a pose-animation model directory: every checkpoint is validated (header,
 * keys, shapes) before its data is used. Accepted layouts:
 *  - libanimate's own (as tests/fixtures/moore-tiny): reference_unet, denoising_unet,
 *    motion_module, pose_guider as .safetensors or .pth, unet/config.json, vae/,
 *    image_encoder/, optional model_config.json;
 *  - Moore-AnimateAnyone's pretrained_weights/ folder as its README has users
 *    download it (sd-vae-ft-mse/, stable-diffusion-v1-5/unet/config.json, ...).
 * Where both a .safetensors and a .pth/.bin exist, .safetensors wins.
 */
anim_status anim_ctx_load_models(anim_ctx *ctx, const char *model_dir);

/* What a loaded model directory holds. */
typedef enum anim_model_kind {
    ANIM_MODEL_POSE = 0,          /* Moore-AnimateAnyone: pose guider + CLIP image encoder */
    ANIM_MODEL_TALKING_HEAD = 1   /* EchoMimic V1: face locator + Whisper audio encoder */
} anim_model_kind;

/* Load flags */
#define ANIM_LOAD_ACC 1u          /* EchoMimic: denoising_unet_acc + motion_module_acc (the 6-step sampler) */

/* anim_ctx_load_models with flags. The kind is recognised from the files:
 * a face_locator checkpoint makes it a talking-head model (EchoMimic's own
 * pretrained_weights/ layout: audio_processor/whisper_tiny.pt,
 * sd-image-variations-diffusers/unet/config.json, ...). */
anim_status anim_ctx_load_models_ex(anim_ctx *ctx, const char *model_dir, unsigned flags);

typedef struct anim_net_info {
    const char *name;       /* "reference_unet", "denoising_unet", "vae", ... */
    const char *file;       /* the checkpoint it came from (first one if several) */
    int64_t n_tensors;
    int64_t n_params;
} anim_net_info;

typedef struct anim_model_info {
    anim_model_kind kind;
    int n_nets;
    anim_net_info nets[8];
    int64_t total_params;
    int64_t weight_bytes;   /* bytes held in the backend's storage dtype */
} anim_model_info;

/* Describe the loaded model; ANIM_E_STATE if none is loaded. */
anim_status anim_ctx_model_info(const anim_ctx *ctx, anim_model_info *out);

/* ---------------------------------------------------------------- pictures and videos */

/* An RGB8 picture: rows top to bottom, 3 bytes per pixel, no padding. */
typedef struct anim_picture {
    int width, height;
    uint8_t *rgb;
} anim_picture;

/* Read a picture file (PNG, JPEG or WebP; an animated WebP gives its first
 * frame), recognised by its content, not its name; alpha is dropped as PIL's
 * convert("RGB") drops it, so the pixels equal what the upstream Python code
 * sees. Free with anim_picture_free(). */
anim_status anim_picture_read(anim_ctx *ctx, const char *path, anim_picture *out);
void anim_picture_free(anim_picture *p);            /* NULL or empty is a no-op */
/* Does the file start like a picture format libanimate reads? (cheap; opens the file) */
bool anim_is_picture_file(const char *path);

/* What a file holds, judged by content (for scanning an input directory). */
typedef enum anim_file_kind {
    ANIM_FILE_OTHER = 0,        /* neither: skip it */
    ANIM_FILE_PICTURE = 1,      /* PNG, JPEG or WebP */
    ANIM_FILE_POSE_JSON = 2,    /* JSON object with a top-level "people" array */
    ANIM_FILE_BROKEN_JSON = 3   /* named *.json but not valid JSON: worth an error, not a skip */
} anim_file_kind;

anim_file_kind anim_file_kind_of(const char *path);

/* Frames of one size, back to back (n_frames * height * width * 3 bytes),
 * and for talking heads the sound track (mono float samples in [-1, 1]). */
typedef struct anim_video {
    int n_frames, width, height;
    uint8_t *rgb;
    double fps;               /* the frame rate the frames were made for (0: unspecified) */
    float *audio;             /* NULL when there is no sound */
    size_t n_samples;
    int sample_rate;
} anim_video;

void anim_video_free(anim_video *v);                /* NULL or empty is a no-op */

/* Every file written carries XMP metadata (IPTC Digital Source Type,
 * readable by exiftool and webpmux) marking it as made by a trained model,
 * plus libanimate's name and version and, when given, the settings. */
typedef struct anim_write_params {
    uint32_t struct_size;
    int fps;                /* default 30 */
    int quality;            /* animated WebP quality 0-100, default 90 */
    bool lossless;          /* animated WebP lossless, default false */
    const char *settings;   /* free text recorded in the metadata (e.g. the command line); default NULL */
    bool not_ai;            /* pictures drawn by a plain algorithm (pose renderings): marked
                               "algorithmicMedia" instead of "trainedAlgorithmicMedia"; default false */
} anim_write_params;

void anim_write_params_default(anim_write_params *p);

/* PATH ending in ".webp": one animated WebP; anything else: a directory
 * (created if missing) of frame_000.png, frame_001.png, ... Files are written
 * under a temporary name and renamed when complete. A video with sound also
 * gets its track as 16-bit WAV: NAME.wav beside NAME.webp, or audio.wav
 * inside the frames directory (animated WebP holds no sound). */
anim_status anim_video_write(anim_ctx *ctx, const anim_video *v, const char *path, const anim_write_params *p);

/* One picture as a PNG file (temporary name, then renamed), with the metadata of p (NULL: defaults). */
anim_status anim_picture_write(anim_ctx *ctx, const anim_picture *pic, const char *path, const anim_write_params *p);

/* ---------------------------------------------------------------- pose pictures from keypoints */

/* Draw an OpenPose-format keypoint JSON file (as pose editors and OpenPose
 * write them; see anim_file_kind_of) as Moore-AnimateAnyone's DWPose renderer
 * draws it - the pictures the network was trained on - at the file's own
 * canvas size. Like upstream, only the person with the highest mean body
 * confidence is drawn unless all_people. Malformed files (wrong array
 * lengths, non-numbers, no canvas size) are errors naming the file and the
 * field; an empty "people" list is a black frame. */
anim_status anim_pose_json_render(anim_ctx *ctx, const char *path, bool all_people, anim_picture *out);

/* ---------------------------------------------------------------- pose animation */

typedef struct anim_pose_params {
    uint32_t struct_size;
    int width, height;        /* output size, default 512 x 784 (floored to multiples of 8, as upstream) */
    int frames;               /* default 0: one frame per pose picture */
    int steps;                /* DDIM steps, default 30 */
    float guidance;           /* classifier-free guidance scale, default 3.5 */
    uint64_t seed;            /* default 42: libanimate's own generator (not PyTorch's) */
    int context_frames;       /* frames per context window, default 24 */
    int context_overlap;      /* frames shared by neighbouring windows, default 4 */
    /* Initial latents instead of the seeded draw: a safetensors file holding
     * tensor "latents" [1, 4, F, H/8, W/8] (F32 or F16), or an array of that
     * shape (float32, C order). NULL: draw from `seed`. */
    const char *noise_file;
    const float *noise;
    /* Final latents (before VAE decoding): written as tensor "latents" (F32)
     * to this safetensors file and/or copied into this caller-owned array of
     * 4 * F * (H/8) * (W/8) floats. NULL: not kept. */
    const char *save_latents_file;
    float *latents_out;
} anim_pose_params;

void anim_pose_params_default(anim_pose_params *p);

/* Animate `ref` through the poses (the first `frames` pictures of `poses`),
 * with the models loaded by anim_ctx_load_models(). Progress goes to the
 * context's progress callback (stage "denoise": one report per UNet call,
 * with step and window); the abort callback is polled between UNet calls.
 * On success *out holds the frames (free with anim_video_free). */
anim_status anim_pose2vid(anim_ctx *ctx, const anim_pose_params *p, const anim_picture *ref,
                          const anim_picture *poses, int n_poses, anim_video *out);

/* What the last anim_pose2vid() call on this context cost. */
typedef struct anim_run_stats {
    double seconds;               /* the whole call */
    double seconds_denoise;       /* the DDIM loop */
    int steps, unet_calls;
    int64_t peak_scratch_bytes;   /* most activation memory in use at once (backend memory) */
    int64_t weight_bytes;         /* loaded weights in backend memory */
} anim_run_stats;

/* ANIM_E_STATE if no run has completed on this context. */
anim_status anim_ctx_run_stats(const anim_ctx *ctx, anim_run_stats *out);

/* ---------------------------------------------------------------- talking head */

typedef struct anim_talk_params {
    uint32_t struct_size;
    int width, height;        /* default 512 x 512 */
    int frames;               /* most frames; default 0: as many as the audio gives at `fps` */
    int steps;                /* default 0: 30, or 6 with the accelerated (ANIM_LOAD_ACC) weights */
    float guidance;           /* default -1 (any negative): 2.5, or none (1.0) with the accelerated weights */
    uint64_t seed;            /* default 420 */
    double fps;               /* default 24 */
    int context_frames;       /* default 12 */
    int context_overlap;      /* default 3 */
    bool has_face_box;        /* false: the whole portrait is the face (upstream's fallback) */
    float face_box[4];        /* x0, y0, x1, y1 in portrait pixels, as a face detector reports them */
    /* initial latents instead of the seeded draw (the raw normal draw; it is
     * clamped to +-1.5 as upstream clamps it): file with tensor "latents"
     * [1, 4, F, H/8, W/8], or an array of that shape. */
    const char *noise_file;
    const float *noise;
    const char *save_latents_file;   /* final latents as tensor "latents" (F32) */
    float *latents_out;              /* or into this array of 4*F*(H/8)*(W/8) floats */
} anim_talk_params;

void anim_talk_params_default(anim_talk_params *p);

/* A portrait and a speech or song recording (WAV: PCM 8/16/24/32-bit or
 * float, any rate and channel count) -> a video of that person speaking,
 * with the models loaded by anim_ctx_load_models[_ex]() from an EchoMimic
 * directory. The video carries the 16 kHz mono track it was made from. */
anim_status anim_talking_head(anim_ctx *ctx, const anim_talk_params *p, const anim_picture *portrait,
                              const char *wav_path, anim_video *out);

/* "libanimate 0.1.0 (cpu, cuda sm_80/89/90a)" - what this build contains. */
const char *anim_version_info(void);

#ifdef __cplusplus
}
#endif

#endif /* ANIMATE_H */
