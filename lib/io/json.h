/*
 * json.h - a strict, bounded JSON parser for untrusted input.
 *
 * Used for safetensors headers, diffusers/transformers config.json,
 * model_config.json, and later pose keypoint files. Strict RFC 8259: UTF-8
 * validated (no overlongs, no surrogates), \uXXXX escapes decoded (surrogate
 * pairs joined), no trailing commas, no comments, NaN/Infinity rejected, one
 * top-level value followed only by whitespace. Duplicate object keys are an
 * error (the safetensors checklist demands it; no config legitimately has them).
 * Limits on depth, string length and element count keep memory bounded.
 *
 * Numbers keep their literal form: `is_uint` is set for a plain non-negative
 * integer literal (no sign, fraction or exponent) that fits uint64_t, and
 * `u64` holds it exactly; `num` always holds the double value.
 */
#ifndef ANIM_IO_JSON_H
#define ANIM_IO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef enum json_type {
    JSON_NULL = 0, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT
} json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    bool b;              /* JSON_BOOL */
    double num;          /* JSON_NUMBER */
    bool is_uint;        /* JSON_NUMBER written as a plain unsigned integer that fits u64 */
    uint64_t u64;
    char *str;           /* JSON_STRING: NUL-terminated UTF-8 (may hold escaped NULs: use len) */
    size_t len;          /* JSON_STRING length in bytes; JSON_ARRAY/OBJECT element count */
    json_value *items;   /* JSON_ARRAY/OBJECT elements */
    char **keys;         /* JSON_OBJECT keys (NUL-terminated), parallel to items */
    size_t *key_lens;    /* JSON_OBJECT key lengths */
};

/* A limit of 0 (or a NULL json_limits) means the default; max_depth is clamped to 1024
 * so recursion cannot exhaust the stack. */
typedef struct json_limits {
    int max_depth;           /* nesting of arrays/objects; default 64 */
    size_t max_string;       /* bytes in one decoded string; default 1 MiB */
    size_t max_elements;     /* total values in the document; default 10M */
} json_limits;

/* Parse buf[0..len). Returns NULL on error with err naming the byte offset and
 * the problem ("line 3, column 14: expected ',' or '}'"). */
json_value *json_parse(const char *buf, size_t len, const json_limits *lim, anim_error *err);
void json_free(json_value *v);   /* NULL is a no-op */

/* Object member by key, or NULL (also NULL if obj is not an object). */
const json_value *json_get(const json_value *obj, const char *key);

/* Convenience getters for configs: return def when missing or of another type. */
double json_get_num(const json_value *obj, const char *key, double def);
bool json_get_bool(const json_value *obj, const char *key, bool def);
const char *json_get_str(const json_value *obj, const char *key, const char *def);

/* Read a whole file and parse it; err names the path on failure. */
json_value *json_parse_file(const char *path, const json_limits *lim, anim_error *err);

#endif
