/*
 * tensor_file.c - open a checkpoint by content, index its tensors by name,
 * and read tensor data as F32 (converting dtype and gathering strided views).
 * The parsers (safetensors.c, pth.c) fill the tf_file; this file owns the
 * mapping and the lifetime.
 */
#include "io/tensor_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void tf_close(tf_file *f) {
    if (!f) return;
    if (f->priv_free && f->priv) f->priv_free(f->priv);
    if (f->map) munmap(f->map, f->map_len);
    free(f->tensors);
    free(f->sorted);
    free(f->path);
    free(f);
}


static int cmp_by_name(const void *a, const void *b, void *arg) {
    const tf_file *f = (const tf_file *)arg;
    return strcmp(f->tensors[*(const size_t *)a].name, f->tensors[*(const size_t *)b].name);
}

/* qsort_r is not C11; a small merge sort keeps this reentrant (no globals). */
static void sort_idx(size_t *v, size_t *tmp, size_t n, const tf_file *f) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_idx(v, tmp, h, f);
    sort_idx(v + h, tmp, n - h, f);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp_by_name(&v[i], &v[j], (void *)f) <= 0 ? v[i++] : v[j++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

anim_status tf_finish(tf_file *f, anim_error *err) {
    free(f->sorted);
    f->sorted = NULL;
    if (f->n == 0) return ANIM_OK;
    size_t *idx = malloc(f->n * sizeof *idx), *tmp = malloc(f->n * sizeof *tmp);
    if (!idx || !tmp) {
        free(idx);
        free(tmp);
        return anim_seterr(err, ANIM_E_OOM, "out of memory indexing %zu tensors", f->n);
    }
    for (size_t i = 0; i < f->n; i++) idx[i] = i;
    sort_idx(idx, tmp, f->n, f);
    free(tmp);
    for (size_t i = 1; i < f->n; i++)
        if (strcmp(f->tensors[idx[i - 1]].name, f->tensors[idx[i]].name) == 0) {
            anim_seterr(err, ANIM_E_FORMAT, "duplicate tensor key '%s'", f->tensors[idx[i]].name);
            free(idx);
            return ANIM_E_FORMAT;
        }
    f->sorted = idx;
    return ANIM_OK;
}

const tf_tensor *tf_find(const tf_file *f, const char *name) {
    if (!f || !f->sorted) return NULL;
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->tensors[f->sorted[mid]].name, name);
        if (c == 0) return &f->tensors[f->sorted[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

int64_t tf_numel(const tf_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

bool tf_is_contiguous(const tf_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}

const char *tf_shape_str(const int64_t *shape, int ndim, char *buf, size_t len) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "[");
    for (int i = 0; i < ndim; i++)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%lld", i ? ", " : "", (long long)shape[i]);
    snprintf(buf + o, o < len ? len - o : 0, "]");
    return buf;
}

static bool dtype_is_numeric(anim_dtype t) { return t < ANIM_DT_COUNT; }

anim_status tf_read_f32(const tf_tensor *t, float *dst, anim_error *err) {
    if (!dtype_is_numeric(t->dtype))
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "tensor '%s': dtype cannot be read as F32", t->name);
    int64_t n = tf_numel(t);
    if (n == 0) return ANIM_OK;
    if (!t->data)
        return anim_seterr(err, ANIM_E_STATE, "tensor '%s' has no data (shape listing only)", t->name);
    size_t es = anim_dtype_size(t->dtype);
    if (tf_is_contiguous(t)) {
        anim_convert_to_f32(dst, t->data, t->dtype, (size_t)n);
        return ANIM_OK;
    }
    /* strided view (pth): walk the index odometer-style, innermost dim fastest */
    int64_t idx[TF_MAX_DIMS] = {0};
    int nd = t->ndim;
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < nd; d++) off += idx[d] * t->stride[d];
        anim_convert_to_f32(dst + i, t->data + (size_t)off * es, t->dtype, 1);
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < t->shape[d]) break;
            idx[d] = 0;
        }
    }
    return ANIM_OK;
}

static bool is_zip(const uint8_t *b, size_t len) {
    return len >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
}

/* torch.save before 1.6 (or _use_new_zipfile_serialization=False): a bare
 * pickle starting with PROTO 2 and LONG1 of the 10-byte magic number. As a
 * safetensors header length these bytes would exceed its 100 MB cap, so the
 * test cannot misfire on a valid safetensors file. */
static bool is_legacy_torch(const uint8_t *b, size_t len) {
    return len >= 4 && b[0] == 0x80 && b[1] == 0x02 && b[2] == 0x8a && b[3] == 0x0a;
}

static anim_status parse_any(tf_file *f, const uint8_t *buf, size_t len, anim_error *err) {
    if (is_legacy_torch(buf, len))
        return anim_seterr(err, ANIM_E_UNSUPPORTED,
                           "legacy (pre-1.6) PyTorch checkpoint format is not supported; re-save it with a "
                           "current torch.save (zip format) or as safetensors");
    if (is_zip(buf, len)) {
        f->format = TF_PTH;
        return pth_parse(f, buf, len, err);
    }
    /* a safetensors header starts with '{' (after optional padding) at byte 8;
     * anything else is not a checkpoint at all - say so, rather than reading
     * its first bytes as an absurd header length */
    uint64_t hlen = 0;
    for (int i = 7; i >= 0 && len >= 8; i--) hlen = (hlen << 8) | buf[i];
    bool absurd = len < 8 || hlen > 100000000u || hlen > len - 8; /* st_parse would refuse the length */
    if (absurd && len > 8 && buf[8] != '{' && buf[8] != ' ' && buf[8] != '\t' && buf[8] != '\n' && buf[8] != '\r') {
        char head[9];
        for (int i = 0; i < 8; i++) head[i] = (buf[i] >= 0x20 && buf[i] < 0x7f) ? (char)buf[i] : '.';
        head[8] = '\0';
        return anim_seterr(err, ANIM_E_FORMAT,
                           "not a safetensors or PyTorch zip checkpoint (starts with '%s')", head);
    }
    f->format = TF_SAFETENSORS;
    return st_parse(f, buf, len, err);
}

anim_status tf_open_mem(const void *buf, size_t len, const char *name, tf_file **out, anim_error *err) {
    *out = NULL;
    tf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(name ? name : "<memory>"))) {
        free(f);
        return anim_seterr(err, ANIM_E_OOM, "out of memory");
    }
    anim_status st = parse_any(f, (const uint8_t *)buf, len, err);
    if (st != ANIM_OK) {
        anim_err_prefix(err, "%s", f->path);
        tf_close(f);
        return st;
    }
    *out = f;
    return ANIM_OK;
}

anim_status tf_open(const char *path, tf_file **out, anim_error *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return anim_seterr(err, ANIM_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return anim_seterr(err, ANIM_E_IO, "%s: not a regular file", path);
    }
    if (sb.st_size < 8) {
        close(fd);
        return anim_seterr(err, ANIM_E_FORMAT, "%s: file too small (%lld bytes) to be a checkpoint",
                           path, (long long)sb.st_size);
    }
    size_t len = (size_t)sb.st_size;
    /* MAP_PRIVATE + PROT_READ: we never write; modifying the file while it is
     * loaded is undefined behaviour for the caller (safetensors threat 6). */
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return anim_seterr(err, ANIM_E_IO, "%s: mmap failed: %s", path, strerror(errno));
    madvise(map, len, MADV_SEQUENTIAL);
    tf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        munmap(map, len);
        return anim_seterr(err, ANIM_E_OOM, "out of memory");
    }
    f->map = map;
    f->map_len = len;
    anim_status st = parse_any(f, map, len, err);
    if (st != ANIM_OK) {
        anim_err_prefix(err, "%s", path);
        tf_close(f);
        return st;
    }
    *out = f;
    return ANIM_OK;
}
