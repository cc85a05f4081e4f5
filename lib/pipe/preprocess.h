/*
 * preprocess.h - the input tensors of the pose-animation pipeline, from RGB8.
 *
 * The three input paths of Moore-AnimateAnyone's long pipeline
 * (src/pipelines/pipeline_pose2vid_long.py, as scripts/pose2vid.py runs it;
 * diffusers 0.24 VaeImageProcessor, transformers 4.30 CLIPImageProcessor),
 * reproduced bit for bit as specified in
 * tests/fixtures/moore-tiny-resize/FIXTURE.md:
 *   - anim_prep_clip:  reference -> CLIP image-encoder input (clip_pixel_values);
 *   - anim_prep_vae:   reference -> VAE-encoder input (ref_image_tensor);
 *   - anim_prep_pose:  one pose frame -> PoseGuider input (pose_cond_tensor).
 * Plus anim_prep_clip_processor, CLIPImageProcessor alone, which is what the
 * short pipeline (pipeline_pose2vid.py) feeds the encoder with.
 *
 * Outputs are host float32 NHWC for one picture: out[(y * W + x) * 3 + c]
 * (upstream tensors are NCHW; the engine's layout is NHWC). The caller
 * provides the buffer; the sizes are stated per function.
 */
#ifndef ANIM_PIPE_PREPROCESS_H
#define ANIM_PIPE_PREPROCESS_H

#include "io/image.h"
#include "util/error.h"

/* CLIPImageProcessor's default size (crop and shortest edge). */
#define ANIM_CLIP_IMAGE_SIZE 224

/* OPENAI_CLIP_MEAN / OPENAI_CLIP_STD as the processor uses them: the Python
 * doubles converted to float32 (np.array(mean, dtype=float32)). */
extern const float anim_clip_mean[3];
extern const float anim_clip_std[3];

/*
 * Long pipeline, reference -> CLIP: `ref.resize((size, size))` (PIL default
 * filter BICUBIC; the aspect ratio is NOT kept), then the processor below.
 * mean/std: NULL for anim_clip_mean / anim_clip_std. out: size*size*3 floats.
 */
anim_status anim_prep_clip(const anim_image *ref, int size, const float mean[3], const float std[3], float *out,
                           anim_error *err);

/*
 * CLIPImageProcessor (transformers 4.30 defaults) on any picture: BICUBIC
 * resize of the shortest edge to `size` (long side int(size * long / short),
 * truncated), center crop size x size (top = (h - size) / 2, left likewise),
 * x = float32(u8 * (1/255) in double), then (x - mean) / std in float32.
 * out: size*size*3 floats.
 */
anim_status anim_prep_clip_processor(const anim_image *img, int size, const float mean[3], const float std[3],
                                     float *out, anim_error *err);

/* VaeImageProcessor's target size: each side floored to a multiple of 8
 * (x - x % 8; the picture's own size plays no part). */
void anim_prep_vae_size(int width, int height, int *w8, int *h8);

/*
 * Reference -> VAE encoder: LANCZOS resize to the floored w8 x h8 (always
 * called; the same size is a copy), x = float32(u8) / 255.0f, then
 * 2.0f * x - 1.0f. out: h8*w8*3 floats. width/height below 8 are refused.
 */
anim_status anim_prep_vae(const anim_image *ref, int width, int height, float *out, anim_error *err);

/*
 * One pose frame -> PoseGuider: as anim_prep_vae without the normalisation
 * (VaeImageProcessor(do_normalize=False)): LANCZOS to w8 x h8, then
 * float32(u8) / 255.0f. out: h8*w8*3 floats.
 */
anim_status anim_prep_pose(const anim_image *pose, int width, int height, float *out, anim_error *err);

#endif
