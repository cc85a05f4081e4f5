/*
 * fuzz_json.c - libFuzzer harness for the strict JSON parser (lib/io/json.c).
 *
 * Built and run by `make fuzz` / `make fuzz-build` (see tests/fuzz/README.md):
 *   ./build-fuzz/fuzz_json -max_len=8192 build-fuzz/corpus/json tests/fuzz/corpus_json
 *
 * Beyond "no crash, no leak" it checks what callers rely on in an accepted
 * tree: strings NUL-terminated at len, every key findable with json_get
 * (unless it holds a NUL), depth within the limit, finite numbers, and u64
 * agreeing with num for plain integers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/json.h"

#define FUZZ_DEPTH 16

static void check(int cond) {
    if (!cond) __builtin_trap();
}

static void walk(const json_value *v, int depth) {
    check(depth <= FUZZ_DEPTH);
    switch (v->type) {
    case JSON_STRING: check(v->str != NULL && v->str[v->len] == '\0'); break;
    case JSON_NUMBER:
        check(v->num - v->num == 0);  /* finite */
        if (v->is_uint) check((double)v->u64 == v->num);
        break;
    case JSON_OBJECT:
        for (size_t i = 0; i < v->len; i++) {
            check(v->keys[i][v->key_lens[i]] == '\0');
            if (strlen(v->keys[i]) == v->key_lens[i]) check(json_get(v, v->keys[i]) == &v->items[i]);
        }
        /* fall through */
    case JSON_ARRAY:
        check(v->len == 0 || v->items != NULL);
        for (size_t i = 0; i < v->len; i++) walk(&v->items[i], depth + 1);
        break;
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_limits lim = {.max_depth = FUZZ_DEPTH, .max_string = 4096, .max_elements = 100000};
    anim_error err = {0};
    json_value *v = json_parse((const char *)data, size, &lim, &err);
    if (v) walk(v, 0);
    else check(err.status == ANIM_E_OOM || (err.status == ANIM_E_FORMAT && strncmp(err.msg, "line ", 5) == 0));
    json_free(v);
    return 0;
}
