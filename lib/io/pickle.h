/*
 * pickle.h - a restricted, non-executing reader for the pickles torch.save
 * writes (data.pkl of a PyTorch zip checkpoint).
 *
 * Only the opcodes a state dict needs are understood (protocol 2..5 subset)
 * and only a fixed list of globals may be named: collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2 / _rebuild_parameter /
 * _rebuild_parameter_with_state and the torch.*Storage types. Nothing is ever
 * called: REDUCE on those names builds the matching object of the small model
 * below (an empty dict, a tensor view, the tensor itself). Anything else -
 * another global, an unknown opcode - is an error naming it.
 *
 * Every object lives in one arena owned by the pk_doc; pointers between
 * objects may be shared (memo) or even cyclic (a list appended to itself), so
 * consumers must never recurse without a depth bound. Hard limits on stack
 * depth, MARK nesting, memo size, object count, string length and total
 * memory keep hostile input from exhausting memory.
 */
#ifndef ANIM_IO_PICKLE_H
#define ANIM_IO_PICKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/dtype.h"
#include "util/error.h"

#define PK_MAX_STACK (1u << 20)    /* values on the stack */
#define PK_MAX_MARKS 4096u         /* MARK nesting */
#define PK_MAX_MEMO (1u << 22)     /* memo slots (also <= pickle length) */
#define PK_MAX_OBJECTS (1u << 22)  /* objects created */
#define PK_MAX_STR (16u << 20)     /* bytes in one str/bytes */
#define PK_MAX_ARENA (512u << 20)  /* bytes allocated for objects */

typedef enum pk_type {
    PK_NONE = 0, PK_BOOL, PK_INT, PK_FLOAT, PK_STR, PK_BYTES,
    PK_TUPLE, PK_LIST, PK_DICT,
    PK_GLOBAL,  /* one of the allowed names, from GLOBAL / STACK_GLOBAL */
    PK_STORAGE, /* from BINPERSID ('storage', type, key, location, numel) */
    PK_TENSOR   /* from _rebuild_tensor_v2 (optionally via _rebuild_parameter) */
} pk_type;

typedef enum pk_global_id {
    PK_G_ORDERED_DICT = 0,
    PK_G_REBUILD_TENSOR_V2,
    PK_G_REBUILD_PARAMETER,
    PK_G_REBUILD_PARAMETER_WITH_STATE,
    PK_G_STORAGE_TYPE /* torch.FloatStorage and friends; dtype says which */
} pk_global_id;

typedef struct pk_obj pk_obj;
struct pk_obj {
    pk_type type;
    union {
        bool b;
        int64_t i;
        double f;
        struct { const char *s; size_t len; } str; /* str (valid UTF-8) and bytes; NUL-terminated copy */
        struct { pk_obj **items; size_t n, cap; } seq; /* tuple, list */
        struct { pk_obj **keys, **vals; size_t n, cap; } dict; /* in insertion order */
        struct { pk_global_id id; anim_dtype dtype; const char *name; } global; /* name: "torch.FloatStorage" */
        struct {
            const char *key;       /* the "<prefix>/data/<key>" part, NUL-terminated */
            const char *type_name; /* "torch.FloatStorage" */
            anim_dtype dtype;
            int64_t numel;         /* elements declared by the pickle */
            const uint8_t *data;   /* from the resolver: numel * elsize readable bytes */
        } storage;
        struct {
            const pk_obj *storage; /* PK_STORAGE */
            int64_t offset;        /* in elements, >= 0 */
            const pk_obj *size, *stride; /* PK_TUPLE each; elements not yet checked */
        } tensor;
    } u;
};

/* Resolves a persistent storage reference: must check that the storage
 * key[0..key_len) exists and holds numel elements of dtype, and return its
 * bytes in *data. key is NUL-terminated but may hold NUL bytes before
 * key_len. The message it leaves in err is reported as is. */
typedef anim_status (*pk_storage_fn)(void *ud, const char *key, size_t key_len, anim_dtype dtype,
                                     const char *type_name, int64_t numel,
                                     const uint8_t **data, anim_error *err);

typedef struct pk_doc pk_doc;

/* Run the restricted unpickler over buf[0..len). Errors read like
 * "pickle global 'os.system' is not allowed (...)" or
 * "unsupported pickle opcode 0x69 ('i', INST) at byte 17"; the caller adds
 * which pickle it was. *out is NULL on failure, and nothing is leaked. */
anim_status pk_load(const uint8_t *buf, size_t len, pk_storage_fn resolve, void *ud,
                    pk_doc **out, anim_error *err);
const pk_obj *pk_doc_root(const pk_doc *doc);
void pk_doc_free(void *doc); /* void * so it can serve as tf_file.priv_free; NULL is a no-op */

/* Python's type name of an object, for messages ("int", "dict", "tensor"). */
const char *pk_type_name(const pk_obj *o);
/* Value for a str key in a dict (last one wins, as in Python), or NULL. */
const pk_obj *pk_dict_get(const pk_obj *dict, const char *key);

#endif
