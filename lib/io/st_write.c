/* st_write.c - minimal safetensors writer (see st_write.h). */
#include "io/st_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sbuf { char *p; size_t len, cap; bool oom; } sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 1024) + n;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

static void put_json_string(sbuf *b, const char *s) {
    puts_(b, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        if (ch == '"' || ch == '\\') { esc[0] = '\\'; esc[1] = (char)ch; put(b, esc, 2); }
        else if (ch < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", ch); puts_(b, esc); }
        else put(b, (const char *)&ch, 1);
    }
    puts_(b, "\"");
}

anim_status st_write(const char *path, const st_out *t, size_t n, anim_error *err) {
    sbuf h = {0};
    uint64_t off = 0;
    puts_(&h, "{\"__metadata__\":{\"format\":\"pt\",\"writer\":\"libanimate\"}");
    for (size_t i = 0; i < n; i++) {
        uint64_t numel = 1;
        char num[64];
        puts_(&h, ",");
        put_json_string(&h, t[i].name);
        puts_(&h, ":{\"dtype\":\"");
        puts_(&h, anim_dtype_name(t[i].dtype));
        puts_(&h, "\",\"shape\":[");
        for (int d = 0; d < t[i].ndim; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)t[i].shape[d]);
            puts_(&h, num);
            numel *= (uint64_t)t[i].shape[d];
        }
        uint64_t bytes = numel * anim_dtype_size(t[i].dtype);
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                 (unsigned long long)(off + bytes));
        puts_(&h, num);
        off += bytes;
    }
    puts_(&h, "}");
    while (h.len % 8) puts_(&h, " ");
    if (h.oom) {
        free(h.p);
        return anim_seterr(err, ANIM_E_OOM, "%s: out of memory building the header", path);
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(h.p);
        return anim_seterr(err, ANIM_E_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    bool ok = fwrite(len8, 1, 8, f) == 8 && fwrite(h.p, 1, h.len, f) == h.len;
    for (size_t i = 0; ok && i < n; i++) {
        size_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++) numel *= (size_t)t[i].shape[d];
        size_t bytes = numel * anim_dtype_size(t[i].dtype);
        ok = fwrite(t[i].data, 1, bytes, f) == bytes;
    }
    free(h.p);
    if (fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return anim_seterr(err, ANIM_E_IO, "%s: write failed: %s", path, strerror(e));
    }
    return ANIM_OK;
}
