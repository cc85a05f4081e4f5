/*
 * fuzz_tensors.h - the invariants of an accepted tf_file, shared by the
 * PyTorch checkpoint harnesses (fuzz_pth.c, fuzz_pickle.c).
 *
 * For every tensor of a file tf_open_mem accepted:
 *   - tf_find finds it by name (and finds that very tensor);
 *   - 0..TF_MAX_DIMS dims, sizes and strides >= 0, numeric dtype;
 *   - nbytes is exactly the span of the view: (1 + sum (size-1)*stride)
 *     elements, 0 when any size is 0;
 *   - the span lies inside the input, and for a .pth inside ONE zip entry
 *     (a view must never reach into the next local header or the central
 *     directory): checked by reopening the archive with zip_open;
 *   - small tensors read as F32 through tf_read_f32 (which walks strided
 *     views element by element: ASan sees any read past the input).
 * Then whisper_dims_load(ckpt) (the pickle's 'dims' dict, as the model
 * loader reads whisper_tiny.pt) either fails with a message naming the file
 * or gives dims within check_dims' ranges.
 */
#ifndef ANIM_FUZZ_TENSORS_H
#define ANIM_FUZZ_TENSORS_H

#include <stdint.h>

#include "fuzz_common.h"
#include "io/tensor_file.h"
#include "io/zip.h"
#include "nn/whisper.h"

/* Tensors up to this many elements are read back as F32 (keeps execs fast). */
#define FUZZ_READ_MAX_ELEMS 16384

static inline void fuzz_check_tensor(const tf_file *f, const tf_tensor *t, const uint8_t *buf, size_t len,
                                     const zip_archive *z) {
    FUZZ_CHECK(t->name != NULL && tf_find(f, t->name) == t);
    FUZZ_CHECK(t->ndim >= 0 && t->ndim <= TF_MAX_DIMS);
    FUZZ_CHECK((int)t->dtype >= 0 && t->dtype < ANIM_DT_COUNT);
    const uint64_t es = anim_dtype_size(t->dtype);
    uint64_t span = 1;
    int64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        FUZZ_CHECK(t->shape[d] >= 0 && t->stride[d] >= 0);
        /* the parsers refuse sizes whose products overflow: so must these */
        FUZZ_CHECK(!__builtin_mul_overflow(numel, t->shape[d], &numel));
        uint64_t reach;
        if (t->shape[d] > 0)
            FUZZ_CHECK(!__builtin_mul_overflow((uint64_t)(t->shape[d] - 1), (uint64_t)t->stride[d], &reach) &&
                       !__builtin_add_overflow(span, reach, &span));
    }
    FUZZ_CHECK(tf_numel(t) == numel);
    if (numel == 0) {
        FUZZ_CHECK(t->nbytes == 0);
        return;
    }
    FUZZ_CHECK(!__builtin_mul_overflow(span, es, &span) && t->nbytes == span);
    FUZZ_CHECK(t->data != NULL && t->data >= buf && t->nbytes <= (uint64_t)(buf + len - t->data));
    if (z) {
        int inside = 0;
        for (size_t i = 0; i < z->n && !inside; i++) {
            const zip_entry *e = &z->entries[i];
            inside = t->data >= e->data && t->nbytes <= e->size &&
                     (uint64_t)(t->data - e->data) <= e->size - t->nbytes;
        }
        FUZZ_CHECK(inside);
    }
    if (numel <= FUZZ_READ_MAX_ELEMS) {
        float *dst = malloc((size_t)numel * sizeof *dst);
        FUZZ_CHECK(dst != NULL);
        anim_error err = {0};
        FUZZ_CHECK(tf_read_f32(t, dst, &err) == ANIM_OK);
        free(dst);
    }
}

/* Every invariant above for an accepted file; buf[0..len) is what was parsed. */
static inline void fuzz_check_tf_file(const tf_file *f, const uint8_t *buf, size_t len) {
    FUZZ_CHECK(f->n == 0 || f->tensors != NULL);
    zip_archive z = {0};
    const int is_pth = f->format == TF_PTH;
    if (is_pth) {
        anim_error zerr = {0};
        FUZZ_CHECK(zip_open(&z, buf, len, &zerr) == ANIM_OK);   /* pth_parse accepted it */
    }
    for (size_t i = 0; i < f->n; i++) fuzz_check_tensor(f, &f->tensors[i], buf, len, is_pth ? &z : NULL);
    if (is_pth) zip_close(&z);

    whisper_dims d;
    anim_error err = {0};
    anim_status st = whisper_dims_load(&d, NULL, f, &err);
    if (st == ANIM_OK) {
        FUZZ_CHECK(d.n_mels >= 1 && d.n_mels <= 512 && d.n_audio_ctx >= 1 && d.n_audio_ctx <= (1 << 16));
        FUZZ_CHECK(d.n_audio_state >= 1 && d.n_audio_state <= (1 << 14) && d.n_audio_head >= 1 &&
                   d.n_audio_head <= 1024 && d.n_audio_layer >= 1 && d.n_audio_layer <= 1024);
        FUZZ_CHECK(d.n_audio_state % d.n_audio_head == 0);
    } else {
        fuzz_check_error(st, &err, f->path);
    }
}

#endif
