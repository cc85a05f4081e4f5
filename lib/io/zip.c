/*
 * zip.c - central-directory zip reader for STORED entries, zip64 included.
 *
 * Layout read (all integers little-endian; PKWARE APPNOTE 6.3):
 *   [local header 30 B + name + extra][data] ... per entry
 *   [central directory: one 46 B header + name + extra + comment per entry]
 *   [zip64 end record 56 B][zip64 locator 20 B]   (when any field overflows;
 *                                                  torch always writes them)
 *   [end of central directory 22 B + comment]
 * The end record is found by scanning back from the end over at most the
 * largest comment (64 KiB). Sizes and offsets that do not fit 32 bits are
 * 0xFFFFFFFF in the headers and the real values sit in the entry's zip64
 * extra field (id 0x0001), in the fixed order: uncompressed size, compressed
 * size, local header offset, disk number - each present only if its header
 * field is saturated.
 *
 * Every offset and size comes from untrusted bytes: all checks are done in
 * uint64_t with explicit overflow tests against the buffer length. The only
 * allocation is the entry table, whose size is bounded by the central
 * directory's byte size (46 bytes per entry at least) and ZIP_MAX_ENTRIES.
 */
#include "io/zip.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u

#define EOCD_LEN 22u
#define EOCD64_LEN 56u
#define LOC64_LEN 20u
#define CENTRAL_LEN 46u
#define LOCAL_LEN 30u

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* [off, off+n) lies inside [0, len) - written so that nothing can overflow */
static bool in_bounds(uint64_t off, uint64_t n, uint64_t len) { return off <= len && n <= len - off; }

const char *zip_printable(char *dst, size_t cap, const char *s, size_t n) {
    if (cap == 0) return dst;
    size_t keep = n, o = 0;
    bool cut = false;
    if (cap < 8) keep = 0, cut = n > 0;
    else if (n > cap - 1) keep = cap - 4, cut = true; /* room for "..." + NUL */
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (cut && cap >= 4) { memcpy(dst + o, "...", 3); o += 3; }
    dst[o] = '\0';
    return dst;
}

/* err = "zip entry '<name>': " + message; returns st */
static anim_status entry_err(anim_error *err, anim_status st, const zip_entry *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static anim_status entry_err(anim_error *err, anim_status st, const zip_entry *e, const char *fmt, ...) {
    char nm[256], m[ANIM_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    zip_printable(nm, sizeof nm, e->name, e->name_len);
    return anim_seterr(err, st, "zip entry '%s': %s", nm, m);
}

static int cmp_entry(const void *a, const void *b) {
    const zip_entry *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c) return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

typedef struct cd_info {
    uint64_t count, cd_off, cd_size;
    uint64_t end; /* where the end records start: the directory must end before */
} cd_info;

/* Locate the end of central directory (and the zip64 one when present). */
static anim_status find_directory(const uint8_t *buf, size_t len, cd_info *cd, anim_error *err) {
    if (len < EOCD_LEN)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "zip: end of central directory not found (not a zip archive or truncated)");
    size_t start = len - EOCD_LEN, stop = start > 0xffff ? start - 0xffff : 0, pos = 0;
    bool found = false;
    for (size_t p = start + 1; p-- > stop;) {
        /* the comment length must account for the bytes after the record,
         * which rejects a signature that merely appears inside a comment */
        if (rd32(buf + p) == SIG_EOCD && p + EOCD_LEN + rd16(buf + p + 20) == len) {
            pos = p;
            found = true;
            break;
        }
    }
    if (!found)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "zip: end of central directory not found (not a zip archive or truncated)");
    const uint8_t *e = buf + pos;
    uint32_t disk = rd16(e + 4), cd_disk = rd16(e + 6);
    uint64_t n_disk = rd16(e + 8), n_total = rd16(e + 10);
    cd->cd_size = rd32(e + 12);
    cd->cd_off = rd32(e + 16);
    cd->end = pos;

    if (pos >= LOC64_LEN && rd32(buf + pos - LOC64_LEN) == SIG_LOC64) {
        const uint8_t *l = buf + pos - LOC64_LEN;
        uint64_t off64 = rd64(l + 8);
        if (rd32(l + 4) != 0 || rd32(l + 16) > 1)
            return anim_seterr(err, ANIM_E_FORMAT, "zip: multi-disk archives are not supported");
        if (!in_bounds(off64, EOCD64_LEN, pos - LOC64_LEN) || rd32(buf + off64) != SIG_EOCD64)
            return anim_seterr(err, ANIM_E_FORMAT,
                               "zip: zip64 end of central directory at offset %llu is missing or "
                               "beyond the locator (file is %zu bytes)",
                               (unsigned long long)off64, len);
        const uint8_t *z = buf + off64;
        disk = rd32(z + 16);
        cd_disk = rd32(z + 20);
        n_disk = rd64(z + 24);
        n_total = rd64(z + 32);
        cd->cd_size = rd64(z + 40);
        cd->cd_off = rd64(z + 48);
        cd->end = off64;
    } else if (n_total == 0xffff || cd->cd_size == 0xffffffffu || cd->cd_off == 0xffffffffu) {
        return anim_seterr(err, ANIM_E_FORMAT,
                           "zip: end of central directory needs a zip64 record but none was found "
                           "(truncated or corrupt)");
    }
    if (disk != 0 || cd_disk != 0 || n_disk != n_total)
        return anim_seterr(err, ANIM_E_FORMAT, "zip: multi-disk archives are not supported");
    if (n_total > ZIP_MAX_ENTRIES)
        return anim_seterr(err, ANIM_E_FORMAT, "zip: %llu entries, more than the limit %u",
                           (unsigned long long)n_total, ZIP_MAX_ENTRIES);
    if (!in_bounds(cd->cd_off, cd->cd_size, cd->end))
        return anim_seterr(err, ANIM_E_FORMAT,
                           "zip: central directory (%llu bytes at offset %llu) runs past its end "
                           "record at offset %llu (file is %zu bytes; truncated?)",
                           (unsigned long long)cd->cd_size, (unsigned long long)cd->cd_off,
                           (unsigned long long)cd->end, len);
    if (n_total > cd->cd_size / CENTRAL_LEN)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "zip: %llu entries cannot fit a %llu-byte central directory",
                           (unsigned long long)n_total, (unsigned long long)cd->cd_size);
    cd->count = n_total;
    return ANIM_OK;
}

/* Read the zip64 extra field of a central header: replaces each saturated
 * 32-bit value (flagged by the caller) with its 64-bit one, in spec order. */
static anim_status read_zip64_extra(const uint8_t *x, size_t xlen, uint64_t *usize, uint64_t *csize,
                                    uint64_t *lho, uint32_t *disk, const zip_entry *e, anim_error *err) {
    bool need_u = *usize == 0xffffffffu, need_c = *csize == 0xffffffffu;
    bool need_o = *lho == 0xffffffffu, need_d = *disk == 0xffffu;
    if (!need_u && !need_c && !need_o && !need_d) return ANIM_OK;
    size_t p = 0;
    while (xlen - p >= 4) {
        uint16_t id = rd16(x + p), sz = rd16(x + p + 2);
        if (sz > xlen - p - 4) break;
        if (id == 0x0001) {
            const uint8_t *f = x + p + 4;
            size_t q = 0;
            if (need_u) { if (sz - q < 8) goto short_field; *usize = rd64(f + q); q += 8; }
            if (need_c) { if (sz - q < 8) goto short_field; *csize = rd64(f + q); q += 8; }
            if (need_o) { if (sz - q < 8) goto short_field; *lho = rd64(f + q); q += 8; }
            if (need_d) { if (sz - q < 4) goto short_field; *disk = rd32(f + q); }
            return ANIM_OK;
        }
        p += 4 + (size_t)sz;
    }
    return entry_err(err, ANIM_E_FORMAT, e, "sizes need a zip64 extra field but the entry has none");
short_field:
    return entry_err(err, ANIM_E_FORMAT, e, "zip64 extra field is too short for the values it must hold");
}

/* Check the local header of e against the central directory and set e->data. */
static anim_status read_local(const uint8_t *buf, size_t len, zip_entry *e, uint64_t lho,
                              anim_error *err) {
    if (!in_bounds(lho, LOCAL_LEN, len))
        return entry_err(err, ANIM_E_FORMAT, e, "local header offset %llu beyond end of file (%zu bytes)",
                         (unsigned long long)lho, len);
    const uint8_t *h = buf + lho;
    if (rd32(h) != SIG_LOCAL)
        return entry_err(err, ANIM_E_FORMAT, e, "no local header at offset %llu (bad signature)",
                         (unsigned long long)lho);
    uint16_t flags = rd16(h + 6), method = rd16(h + 8);
    uint64_t nlen = rd16(h + 26), xlen = rd16(h + 28);
    if (!in_bounds(lho + LOCAL_LEN, nlen + xlen, len))
        return entry_err(err, ANIM_E_FORMAT, e, "local header at offset %llu runs past end of file (%zu bytes)",
                         (unsigned long long)lho, len);
    if (nlen != e->name_len || memcmp(h + LOCAL_LEN, e->name, e->name_len) != 0) {
        char nm[256];
        zip_printable(nm, sizeof nm, (const char *)h + LOCAL_LEN, (size_t)nlen);
        return entry_err(err, ANIM_E_FORMAT, e, "local header at offset %llu names '%s' instead",
                         (unsigned long long)lho, nm);
    }
    if (method != 0 || (flags & 1))
        return entry_err(err, ANIM_E_FORMAT, e,
                         "local header disagrees with the central directory (method %u, flags 0x%x)", method, flags);
    uint64_t data_off = lho + LOCAL_LEN + nlen + xlen; /* cannot overflow: checked above */
    if (!in_bounds(data_off, e->size, len))
        return entry_err(err, ANIM_E_FORMAT, e, "data (%llu bytes at offset %llu) runs past end of file (%zu bytes)",
                         (unsigned long long)e->size, (unsigned long long)data_off, len);
    e->data = buf + data_off;
    return ANIM_OK;
}

/* Parse one central directory header at *pos (inside [cd_off, cd_end)). */
static anim_status read_central(const uint8_t *buf, size_t len, uint64_t *pos, uint64_t cd_end,
                                zip_entry *e, uint64_t index, anim_error *err) {
    if (!in_bounds(*pos, CENTRAL_LEN, cd_end) || rd32(buf + *pos) != SIG_CENTRAL)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "zip: central directory entry #%llu at offset %llu is missing or corrupt",
                           (unsigned long long)index, (unsigned long long)*pos);
    const uint8_t *c = buf + *pos;
    uint16_t flags = rd16(c + 8), method = rd16(c + 10);
    uint64_t csize = rd32(c + 20), usize = rd32(c + 24), lho = rd32(c + 42);
    uint64_t nlen = rd16(c + 28), xlen = rd16(c + 30), clen = rd16(c + 32);
    uint32_t disk = rd16(c + 34);
    if (!in_bounds(*pos + CENTRAL_LEN, nlen + xlen + clen, cd_end))
        return anim_seterr(err, ANIM_E_FORMAT,
                           "zip: central directory entry #%llu runs past the directory end",
                           (unsigned long long)index);
    if (nlen == 0 || nlen > ZIP_MAX_NAME)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "zip: central directory entry #%llu has a name of %llu bytes (limit 1..%d)",
                           (unsigned long long)index, (unsigned long long)nlen, ZIP_MAX_NAME);
    e->name = (const char *)c + CENTRAL_LEN;
    e->name_len = (size_t)nlen;
    *pos += CENTRAL_LEN + nlen + xlen + clen;

    /* encryption, compression and multi-disk are valid zip, just not torch.save's */
    if (flags & 1) return entry_err(err, ANIM_E_UNSUPPORTED, e, "encrypted; encrypted archives are not supported");
    if (method != 0)
        return entry_err(err, ANIM_E_UNSUPPORTED, e,
                         "compressed with method %u%s; only stored (uncompressed) entries are read, "
                         "as torch.save writes them - re-save the checkpoint with torch.save",
                         method, method == 8 ? " (deflate)" : "");
    anim_status st = read_zip64_extra(c + CENTRAL_LEN + nlen, (size_t)xlen, &usize, &csize, &lho,
                                      &disk, e, err);
    if (st) return st;
    if (disk != 0)
        return entry_err(err, ANIM_E_UNSUPPORTED, e, "on disk %u; multi-disk archives are not supported", disk);
    if (csize != usize)
        return entry_err(err, ANIM_E_FORMAT, e, "stored entry has compressed size %llu != uncompressed size %llu",
                         (unsigned long long)csize, (unsigned long long)usize);
    e->size = usize;
    return read_local(buf, len, e, lho, err);
}

anim_status zip_open(zip_archive *z, const uint8_t *buf, size_t len, anim_error *err) {
    z->n = 0;
    z->entries = NULL;
    cd_info cd = {0};
    anim_status st = find_directory(buf, len, &cd, err);
    if (st) return st;
    zip_entry *ents = calloc(cd.count ? (size_t)cd.count : 1, sizeof *ents);
    if (!ents) return anim_seterr(err, ANIM_E_OOM, "zip: out of memory for %llu entries",
                                  (unsigned long long)cd.count);
    uint64_t pos = cd.cd_off, cd_end = cd.cd_off + cd.cd_size;
    for (uint64_t i = 0; i < cd.count; i++) {
        st = read_central(buf, len, &pos, cd_end, &ents[i], i, err);
        if (st) { free(ents); return st; }
    }
    /* sorted for zip_find's binary search; a duplicate name would make the
     * lookup ambiguous, so it is an error rather than "last one wins" */
    qsort(ents, (size_t)cd.count, sizeof *ents, cmp_entry);
    for (size_t i = 1; i < (size_t)cd.count; i++) {
        if (cmp_entry(&ents[i - 1], &ents[i]) == 0) {
            entry_err(err, ANIM_E_FORMAT, &ents[i], "listed twice in the central directory");
            free(ents);
            return ANIM_E_FORMAT;
        }
    }
    z->n = (size_t)cd.count;
    z->entries = ents;
    return ANIM_OK;
}

void zip_close(zip_archive *z) {
    if (!z) return;
    free(z->entries);
    z->entries = NULL;
    z->n = 0;
}

const zip_entry *zip_find(const zip_archive *z, const char *name, size_t name_len) {
    zip_entry key = {.name = name, .name_len = name_len};
    if (!z->n) return NULL;
    return bsearch(&key, z->entries, z->n, sizeof key, cmp_entry);
}
