/*
 * manifest.h - a data-less tf_file built from a checkpoint manifest.
 *
 * A manifest is the JSON listing of a checkpoint's state dict, as in
 * tests/fixtures/real-manifests/: {"keys": [{"name": ..., "shape": [...],
 * "dtype": "float32"}, ...], ...}. The tf_file it gives (format TF_MANIFEST)
 * has every name, shape and dtype and no data (data NULL, nbytes the size the
 * tensor would have): enough to check a network's key table against the real
 * released files without downloading them.
 */
#ifndef ANIM_IO_MANIFEST_H
#define ANIM_IO_MANIFEST_H

#include "io/json.h"
#include "io/tensor_file.h"

/* dtype strings: float32, float16, bfloat16, float64, int64, int32, int16,
 * int8, uint8, bool (torch names, with or without a "torch." prefix).
 * `path` becomes f->path and names the manifest in errors (ANIM_E_FORMAT). */
anim_status tf_manifest_from_json(const json_value *root, const char *path, tf_file **out, anim_error *err);
anim_status tf_manifest_open(const char *path, tf_file **out, anim_error *err);

#endif
