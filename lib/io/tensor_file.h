/*
 * tensor_file.h - one view over every checkpoint format we read.
 *
 * A tf_file is a list of named tensors whose bytes live in a read-only mmap of
 * the file (never copied at open time). Formats:
 *   - safetensors (io/safetensors.c): header fully validated at open;
 *   - PyTorch zip checkpoints, .pth / .bin / .pt (io/pth.c): zip central
 *     directory + a restricted pickle subset; tensors may be strided views
 *     into a shared storage with an offset.
 * tf_open() picks the parser by content (a zip starts with "PK\3\4"), never
 * by file name.
 *
 * Data pointers are NOT aligned: read through tf_read_f32() (or memcpy), never
 * through a typed pointer. All data is little-endian.
 */
#ifndef ANIM_IO_TENSOR_FILE_H
#define ANIM_IO_TENSOR_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/dtype.h"
#include "util/error.h"

#define TF_MAX_DIMS 8

typedef struct tf_tensor {
    const char *name;          /* NUL-terminated, owned by the tf_file */
    anim_dtype dtype;
    int ndim;
    int64_t shape[TF_MAX_DIMS];
    int64_t stride[TF_MAX_DIMS]; /* in elements; C-contiguous for safetensors */
    const uint8_t *data;       /* first element (storage base + offset); NULL if no data */
    uint64_t nbytes;           /* bytes spanned from data to the last element + 1 */
} tf_tensor;

typedef enum tf_format { TF_SAFETENSORS = 0, TF_PTH = 1, TF_MANIFEST = 2 } tf_format;

typedef struct tf_file {
    char *path;                /* as given to tf_open */
    tf_format format;
    size_t n;                  /* number of tensors */
    tf_tensor *tensors;        /* in file order */
    /* private */
    void *map;                 /* mmap base (or NULL) */
    size_t map_len;
    void *priv;                /* parser-owned memory (names, pickle objects) */
    void (*priv_free)(void *);
    size_t *sorted;            /* indices sorted by name, for tf_find */
} tf_file;

/* Open by content. On failure *out is NULL and err names the file and the fault. */
anim_status tf_open(const char *path, tf_file **out, anim_error *err);
void tf_close(tf_file *f);     /* NULL is a no-op */

/* Parse an in-memory buffer (tests, fuzzing). buf must outlive the tf_file. */
anim_status tf_open_mem(const void *buf, size_t len, const char *name, tf_file **out, anim_error *err);

const tf_tensor *tf_find(const tf_file *f, const char *name);
int64_t tf_numel(const tf_tensor *t);
bool tf_is_contiguous(const tf_tensor *t);

/* Copy/convert the whole tensor to F32 (dst holds tf_numel floats). Fails on
 * tensors without data (manifests) and on non-numeric dtypes. */
anim_status tf_read_f32(const tf_tensor *t, float *dst, anim_error *err);

/* "[320, 4, 3, 3]" into buf; returns buf. */
const char *tf_shape_str(const int64_t *shape, int ndim, char *buf, size_t len);

/* ---- parser entry points (used by tf_open; exposed for tests and fuzzers) ----
 * Both fill a tf_file whose map/map_len the caller has already set (or not:
 * buffer-only parsing) and return ANIM_E_FORMAT with a specific message. */
anim_status st_parse(tf_file *f, const uint8_t *buf, size_t len, anim_error *err);
anim_status pth_parse(tf_file *f, const uint8_t *buf, size_t len, anim_error *err);

/* Build the sorted index; rejects duplicate names (called by the parsers). */
anim_status tf_finish(tf_file *f, anim_error *err);

#endif
