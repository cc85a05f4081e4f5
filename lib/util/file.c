/* file.c - bounded whole-file reads (see file.h). */
#include "util/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *anim_read_small_file(const char *path, size_t max, const char *what, size_t *len, anim_error *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        anim_seterr(err, ANIM_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(fp);
        anim_seterr(err, ANIM_E_IO, "%s: not a regular file", path);
        return NULL;
    }
    if ((unsigned long long)sb.st_size > (unsigned long long)max) {
        fclose(fp);
        anim_seterr(err, ANIM_E_FORMAT, "%s: file is %lld bytes, over the %zu-byte limit for %s", path,
                    (long long)sb.st_size, max, what);
        return NULL;
    }
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(fp);
        anim_seterr(err, ANIM_E_OOM, "%s: out of memory reading %zu bytes", path, n);
        return NULL;
    }
    size_t got = fread(buf, 1, n, fp);
    int bad = ferror(fp) || got != n;
    fclose(fp);
    if (bad) {
        free(buf);
        anim_seterr(err, ANIM_E_IO, "%s: read error (got %zu of %zu bytes)", path, got, n);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}
