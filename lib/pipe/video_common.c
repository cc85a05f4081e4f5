/* video_common.c - initial latents, saved latents and frame decoding shared by the pipelines. */
#include "pipe/video_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/st_write.h"
#include "io/tensor_file.h"
#include "nn/vae.h"
#include "pipe/noise.h"

double pipe_seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

anim_status pipe_initial_noise(const char *noise_file, const float *noise, uint64_t seed, int F, int h, int w,
                               float *out, anim_error *err) {
    size_t n = (size_t)4 * F * h * w;
    if (noise) {
        memcpy(out, noise, n * sizeof *out);
        return ANIM_OK;
    }
    if (!noise_file) {
        anim_randn(seed, out, n);
        return ANIM_OK;
    }
    tf_file *f = NULL;
    anim_status st = tf_open(noise_file, &f, err);
    if (st != ANIM_OK) return st;
    const tf_tensor *t = tf_find(f, "latents");
    int64_t want[5] = {1, 4, F, h, w};
    char a[96], b[96];
    if (!t) st = anim_seterr(err, ANIM_E_FORMAT, "%s: no tensor 'latents'", noise_file);
    else if (t->ndim != 5 || memcmp(t->shape, want, sizeof want) != 0)
        st = anim_seterr(err, ANIM_E_INVALID_ARG,
                         "%s: tensor 'latents' has shape %s but the frames, width and height asked for need %s",
                         noise_file, tf_shape_str(t->shape, t->ndim, a, sizeof a), tf_shape_str(want, 5, b, sizeof b));
    else if (t->dtype != ANIM_DT_F32 && t->dtype != ANIM_DT_F16 && t->dtype != ANIM_DT_BF16)
        st = anim_seterr(err, ANIM_E_FORMAT, "%s: tensor 'latents' is %s; F32 or F16 expected", noise_file,
                         anim_dtype_name(t->dtype));
    else if ((st = tf_read_f32(t, out, err)) != ANIM_OK)
        anim_err_prefix(err, "%s", noise_file);
    tf_close(f);
    return st;
}

anim_status pipe_save_latents(const float *lat, int F, int h, int w, const char *file, float *array, anim_error *err) {
    size_t n = (size_t)4 * F * h * w;
    float *ncfhw = array ? array : malloc(n * sizeof *ncfhw);
    if (!ncfhw) return anim_seterr(err, ANIM_E_OOM, "out of memory");
    nn_frames_to_ncfhw(ncfhw, lat, 1, 4, F, h, w);
    anim_status st = ANIM_OK;
    if (file) {
        st_out t = {"latents", ANIM_DT_F32, 5, {1, 4, F, h, w}, ncfhw};
        st = st_write(file, &t, 1, err);
    }
    if (ncfhw != array) free(ncfhw);
    return st;
}

void pipe_finish_step(const ctx_accum *acc, const ddim *d, int step, int B, float guidance, float *avg,
                      float *guided, float *lat, int F, int h, int w,
                      void (*on_step)(int, const float *, int, int, int, void *), void *user) {
    size_t clip_n = (size_t)F * h * w * 4;
    ctx_accum_mean(acc, avg);
    if (B == 2) ddim_guidance(guided, avg, avg + clip_n, guidance, clip_n);
    else memcpy(guided, avg, clip_n * sizeof *guided);
    ddim_step(d, step, guided, lat, clip_n);
    if (on_step) {
        nn_frames_to_ncfhw(avg, lat, 1, 4, F, h, w); /* avg is free until the next step */
        on_step(step, avg, F, h, w, user);
    }
}

void pipe_decode(nn_ctx *c, const vae_config *vcfg, const float *lat, int F, int h, int w, anim_video *v,
                 float *frames01, const struct timespec *t0) {
    int H = h * 8, W = w * 8;
    size_t inner = (size_t)h * w * 4, px = (size_t)H * W * 3;
    float *z = malloc(inner * sizeof *z), *img = malloc(px * sizeof *img);
    v->rgb = malloc((size_t)F * px);
    if (!z || !img || !v->rgb) {
        nn_fail(c, ANIM_E_OOM, "out of host memory for %d frames of %dx%d", F, W, H);
        goto out;
    }
    v->n_frames = F;
    v->width = W;
    v->height = H;
    /* torch: `1 / 0.18215 * latents` multiplies by the float32 rounding of the double quotient */
    const float inv_scale = (float)(1.0 / 0.18215);
    nn_mark_t m = nn_mark(c);
    for (int f = 0; f < F && nn_ok(c); f++) {
        if (anim_should_abort(c->hooks)) {
            nn_fail(c, ANIM_E_ABORTED, "aborted by the caller while decoding frame %d", f + 1);
            break;
        }
        for (size_t i = 0; i < inner; i++) z[i] = lat[(size_t)f * inner + i] * inv_scale;
        nn_t x = vae_decode(c, vcfg, nn_from_host(c, z, 1, h, w, 4));
        if (!nn_to_host(c, x, img)) break;
        nn_release(c, m);
        uint8_t *dst = v->rgb + (size_t)f * px;
        for (size_t i = 0; i < px; i++) {
            float y = img[i] / 2.0f + 0.5f;
            y = y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
            if (frames01) frames01[(size_t)f * px + i] = y;
            dst[i] = (uint8_t)(y * 255.0f); /* numpy astype(uint8): truncation */
        }
        anim_progress_report(c->hooks, &(anim_progress){"decode", f + 1, F, 0, 0, 0, 0, pipe_seconds_since(t0)});
    }
out:
    free(z);
    free(img);
}
