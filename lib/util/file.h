/*
 * file.h - read a small file whole (configs, pose JSON, dims): a regular file
 * of at most `max` bytes, so a mistaken path (a checkpoint, a device) is
 * refused instead of slurped into memory.
 */
#ifndef ANIM_UTIL_FILE_H
#define ANIM_UTIL_FILE_H

#include <stddef.h>

#include "util/error.h"

/* malloc'd contents (NUL-terminated, *len without the NUL) or NULL with err
 * naming the path: ANIM_E_IO (cannot open, not a regular file, read error),
 * ANIM_E_FORMAT (over max; `what` names the kind of file in the message),
 * ANIM_E_OOM. */
char *anim_read_small_file(const char *path, size_t max, const char *what, size_t *len, anim_error *err);

#endif
