/*
 * fuzz_safetensors.c - libFuzzer harness for the safetensors parser
 * (lib/io/safetensors.c, reached through tf_open_mem like any caller).
 *
 * Built and run by `make fuzz` / `make fuzz-build` (see tests/fuzz/README.md):
 *   ./build-fuzz/fuzz_safetensors -max_len=65536 build-fuzz/corpus/safetensors tests/fuzz/corpus_safetensors
 *
 * An input starting with "PK\3\4" goes to the .pth parser instead, which is
 * fine: the harness then fuzzes that too. For an accepted file it checks that
 * every tensor lies inside the input, that its byte count matches its shape
 * and dtype, that tf_find finds it, and reads small tensors as F32.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/tensor_file.h"

static void check(int cond) {
    if (!cond) __builtin_trap();
}

static void check_tensor(const tf_file *f, const tf_tensor *t, const uint8_t *data, size_t size) {
    check(tf_find(f, t->name) != NULL);
    if (f->format != TF_SAFETENSORS) return;  /* pth views may be strided */
    check(t->data >= data && t->data <= data + size);
    check(t->nbytes <= (uint64_t)(data + size - t->data));
    check(t->nbytes == (uint64_t)tf_numel(t) * anim_dtype_size(t->dtype));
    if (t->nbytes <= 4096) {
        float buf[4096];
        anim_error err = {0};
        check(tf_read_f32(t, buf, &err) == ANIM_OK);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_file *f = NULL;
    anim_error err = {0};
    anim_status st = tf_open_mem(data, size, "fuzz", &f, &err);
    if (st != ANIM_OK) {
        check(f == NULL && err.status == st && strncmp(err.msg, "fuzz: ", 6) == 0);
        return 0;
    }
    for (size_t i = 0; i < f->n; i++) check_tensor(f, &f->tensors[i], data, size);
    tf_close(f);
    return 0;
}
