/*
 * st_write.h - write tensors as a safetensors file (for --save-latents and
 * tools). The header is padded with spaces to a multiple of 8 bytes so every
 * tensor starts 8-byte aligned, as the reference writer does; the file is
 * written under a temporary name and renamed when complete, so an interrupted
 * run never leaves a half-written file under the requested name.
 */
#ifndef ANIM_IO_ST_WRITE_H
#define ANIM_IO_ST_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "util/dtype.h"
#include "util/error.h"

typedef struct st_out {
    const char *name;
    anim_dtype dtype;
    int ndim;
    int64_t shape[8];
    const void *data;      /* little-endian elements, C order */
} st_out;

anim_status st_write(const char *path, const st_out *t, size_t n, anim_error *err);

#endif
