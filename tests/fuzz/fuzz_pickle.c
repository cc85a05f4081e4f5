/*
 * fuzz_pickle.c - libFuzzer harness for the restricted unpickler
 * (lib/io/pickle.c) and the tensor views built from it (lib/io/pth.c).
 *
 * The input is the data.pkl of a checkpoint. The harness wraps it, unchanged,
 * in a fixed torch.save-layout zip and opens that with tf_open_mem, exactly
 * as a .pth file is opened:
 *   archive/data.pkl     the input
 *   archive/data/0       a storage of 131072 bytes (the pose guider fixture's
 *                        data.pkl, a seed, views one of 18516 floats)
 *   archive/data/1..4    storages of 16, 64, 1024 and 4096 bytes
 *   archive/byteorder    "little"
 *   archive/version      "3\n"
 * Mutating the pickle inside a zip would break the sizes in two headers on
 * nearly every mutation (fuzz_pth.c sees that side); here every mutation
 * reaches the unpickler.
 *
 * Built and run by `make fuzz` / `make fuzz-build` (see tests/fuzz/README.md):
 *   ./build-fuzz/fuzz_pickle -max_len=16384 build-fuzz/corpus/pickle tests/fuzz/corpus_pickle
 *
 * Seeds (tests/fuzz/corpus_pickle, from tools/make_fuzz_seeds.py): pickles
 * written by Python's pickle module through fake torch globals (protocols 2
 * and 4, memo reuse, shared storages, views, parameters, nested wrappers,
 * whisper dims), plus hand-made refusals (os.system, unknown opcodes,
 * truncation, deep nesting).
 *
 * Checks: the same as fuzz_pth.c (fuzz_tensors.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_tensors.h"

#define NAME "fuzz_pickle.pth"

typedef struct fz_entry {
    const char *name;
    const uint8_t *data;
    size_t len;
} fz_entry;

typedef struct fz_buf {
    uint8_t *p;
    size_t n;
} fz_buf;

static void put(fz_buf *b, const void *src, size_t n) {
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_le(fz_buf *b, uint64_t v, int n) {
    for (int i = 0; i < n; i++) b->p[b->n++] = (uint8_t)(v >> (8 * i));
}

/* A zip of stored entries in the layout pth.c reads (no CRC: it is not checked). */
static uint8_t *make_zip(const fz_entry *e, size_t n, size_t *len) {
    size_t cap = 22;
    for (size_t i = 0; i < n; i++) cap += 30 + 46 + 2 * strlen(e[i].name) + e[i].len;
    fz_buf b = {malloc(cap), 0};
    FUZZ_CHECK(b.p != NULL);
    size_t off[16];
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(e[i].name);
        off[i] = b.n;
        put_le(&b, 0x04034b50u, 4);
        put_le(&b, 20, 2);               /* version needed */
        put_le(&b, 0, 2);                /* flags */
        put_le(&b, 0, 2);                /* stored */
        put_le(&b, 0, 4);                /* time, date */
        put_le(&b, 0, 4);                /* crc */
        put_le(&b, e[i].len, 4);
        put_le(&b, e[i].len, 4);
        put_le(&b, nl, 2);
        put_le(&b, 0, 2);
        put(&b, e[i].name, nl);
        put(&b, e[i].data, e[i].len);
    }
    size_t cd_off = b.n;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(e[i].name);
        put_le(&b, 0x02014b50u, 4);
        put_le(&b, 20, 2);               /* made by */
        put_le(&b, 20, 2);               /* needed */
        put_le(&b, 0, 2);
        put_le(&b, 0, 2);
        put_le(&b, 0, 4);
        put_le(&b, 0, 4);
        put_le(&b, e[i].len, 4);
        put_le(&b, e[i].len, 4);
        put_le(&b, nl, 2);
        put_le(&b, 0, 2);                /* extra */
        put_le(&b, 0, 2);                /* comment */
        put_le(&b, 0, 2);                /* disk */
        put_le(&b, 0, 2);                /* internal attributes */
        put_le(&b, 0, 4);                /* external attributes */
        put_le(&b, off[i], 4);
        put(&b, e[i].name, nl);
    }
    size_t cd_size = b.n - cd_off;
    put_le(&b, 0x06054b50u, 4);
    put_le(&b, 0, 4);                    /* disk, cd disk */
    put_le(&b, n, 2);
    put_le(&b, n, 2);
    put_le(&b, cd_size, 4);
    put_le(&b, cd_off, 4);
    put_le(&b, 0, 2);
    FUZZ_CHECK(b.n == cap);
    *len = b.n;
    return b.p;
}

static uint8_t storage_bytes[131072];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    /* non-trivial values: small ints, halves of floats, some NaN patterns */
    for (size_t i = 0; i < sizeof storage_bytes; i++) storage_bytes[i] = (uint8_t)(i * 37 + (i >> 8));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (64u << 20)) return 0;   /* the zip's 32-bit fields */
    const fz_entry e[] = {
        {"archive/data.pkl", data, size},
        {"archive/data/0", storage_bytes, sizeof storage_bytes},
        {"archive/data/1", storage_bytes, 16},
        {"archive/data/2", storage_bytes, 64},
        {"archive/data/3", storage_bytes, 1024},
        {"archive/data/4", storage_bytes, 4096},
        {"archive/byteorder", (const uint8_t *)"little", 6},
        {"archive/version", (const uint8_t *)"3\n", 2},
    };
    size_t len;
    uint8_t *zip = make_zip(e, sizeof e / sizeof e[0], &len);
    tf_file *f = NULL;
    anim_error err = {0};
    anim_status st = tf_open_mem(zip, len, NAME, &f, &err);
    if (st != ANIM_OK) {
        FUZZ_CHECK(f == NULL);
        fuzz_check_error(st, &err, NAME);
    } else {
        FUZZ_CHECK(f != NULL && f->format == TF_PTH);
        fuzz_check_tf_file(f, zip, len);
        tf_close(f);
    }
    free(zip);
    return 0;
}
