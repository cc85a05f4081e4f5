/*
 * zip.h - a read-only, in-place view of a zip archive held in memory.
 *
 * Made for PyTorch checkpoints (torch.save's zip format), which are plain
 * zip files whose entries are all STORED (uncompressed) and, for big files,
 * described by zip64 records. zip_open() reads the central directory, checks
 * every offset and size against the buffer, checks that each local header
 * agrees with its central directory entry, and refuses compressed or
 * encrypted entries. Entry data is never copied: zip_entry.data points into
 * the caller's buffer, which must outlive the archive.
 *
 * Entry names are NOT NUL-terminated (they point into the central
 * directory): use name + name_len.
 */
#ifndef ANIM_IO_ZIP_H
#define ANIM_IO_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define ZIP_MAX_ENTRIES (1u << 20) /* a 3.4 GB checkpoint has a few thousand */
#define ZIP_MAX_NAME 4096          /* bytes in one entry name */

typedef struct zip_entry {
    const char *name;      /* into the central directory, not NUL-terminated */
    size_t name_len;
    const uint8_t *data;   /* into the buffer given to zip_open */
    uint64_t size;
} zip_entry;

typedef struct zip_archive {
    size_t n;
    zip_entry *entries;    /* sorted by name (bytewise), no duplicates */
} zip_archive;

/* Parse buf[0..len). On failure z is left empty and err says what is wrong,
 * e.g. "zip: end of central directory not found (...)" or
 * "zip entry 'archive/data/0': ...". Returns ANIM_E_FORMAT or ANIM_E_OOM. */
anim_status zip_open(zip_archive *z, const uint8_t *buf, size_t len, anim_error *err);
void zip_close(zip_archive *z); /* frees the entry table; safe on an empty archive */

/* The entry named exactly name[0..name_len), or NULL. */
const zip_entry *zip_find(const zip_archive *z, const char *name, size_t name_len);

/* Copy s[0..n) into dst for an error message: control bytes become '?', long
 * names are cut with "...". Returns dst. */
const char *zip_printable(char *dst, size_t cap, const char *s, size_t n);

#endif
