/*
 * pickle.c - the restricted unpickler behind pickle.h.
 *
 * A pickle is a program for a stack machine: opcodes push values, MARK
 * remembers a stack position, TUPLE/SETITEMS/APPENDS consume everything above
 * the last mark, BINPUT/BINGET store and fetch values in a memo table,
 * GLOBAL names a callable and REDUCE calls it. Here REDUCE calls nothing: it
 * recognises the few allowed callables and builds the object they would have
 * returned. As in Python 3's unpickler, a MARK opens a new frame: ops after
 * it cannot pop values pushed before it.
 *
 * Memory: objects and their arrays come from an arena in the pk_doc (freed in
 * one go, so error paths cannot leak and shared or cyclic references need no
 * bookkeeping); the stack, mark stack and memo are malloc'd working arrays
 * freed before pk_load returns. Every size is bounded (pickle.h limits), and
 * every object costs at least one input byte, so memory stays proportional
 * to the pickle's length.
 */
#include "io/pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/zip.h" /* zip_printable, for quoting names in messages */

/* ---- arena -------------------------------------------------------------- */

#define CHUNK_SIZE (64u << 10)
#define CHUNK_HDR ((sizeof(pk_chunk) + 15) & ~(size_t)15)

typedef struct pk_chunk {
    struct pk_chunk *next;
    size_t cap, used;
} pk_chunk;

struct pk_doc {
    pk_chunk *chunks;   /* the head chunk takes the small allocations */
    size_t bytes;       /* total allocated, checked against PK_MAX_ARENA */
    size_t objects;
    pk_obj *root;
};

void pk_doc_free(void *p) {
    pk_doc *d = p;
    if (!d) return;
    for (pk_chunk *c = d->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(d);
}

const pk_obj *pk_doc_root(const pk_doc *doc) { return doc ? doc->root : NULL; }

/* ---- machine state ------------------------------------------------------- */

typedef struct pk_vm {
    const uint8_t *buf;
    size_t len, pos, at;   /* at: offset of the opcode being run */
    pk_doc *doc;
    pk_obj **stack;
    size_t sp, stack_cap;
    size_t marks[PK_MAX_MARKS];
    size_t n_marks;
    pk_obj **memo;
    size_t memo_cap, memo_count, memo_limit;
    pk_storage_fn resolve;
    void *ud;
    anim_error *err;
} pk_vm;

static anim_status fail(pk_vm *vm, anim_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static anim_status fail(pk_vm *vm, anim_status st, const char *fmt, ...) {
    if (vm->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(vm->err->msg, sizeof vm->err->msg, fmt, ap);
        va_end(ap);
        vm->err->status = st;
    }
    return st;
}

static void *vm_alloc(pk_vm *vm, size_t n) {
    if (n > PK_MAX_ARENA) goto limit;
    n = (n + 15) & ~(size_t)15;
    pk_chunk *h = vm->doc->chunks;
    if (h && h->cap - h->used >= n) {
        void *p = (unsigned char *)h + CHUNK_HDR + h->used;
        h->used += n;
        return p;
    }
    /* big requests get a chunk of their own, kept behind the head so the
     * head's free space is not abandoned */
    size_t cap = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
    if (cap > PK_MAX_ARENA - vm->doc->bytes) goto limit;
    pk_chunk *c = malloc(CHUNK_HDR + cap);
    if (!c) {
        fail(vm, ANIM_E_OOM, "out of memory reading the pickle (%zu bytes in use)", vm->doc->bytes);
        return NULL;
    }
    vm->doc->bytes += cap;
    c->cap = cap;
    c->used = n;
    if (cap == n && h) {
        c->next = h->next;
        h->next = c;
    } else {
        c->next = h;
        vm->doc->chunks = c;
    }
    return (unsigned char *)c + CHUNK_HDR;
limit:
    fail(vm, ANIM_E_FORMAT, "pickle needs more than %u MiB of objects (limit)", PK_MAX_ARENA >> 20);
    return NULL;
}

static pk_obj *new_obj(pk_vm *vm, pk_type t) {
    if (vm->doc->objects >= PK_MAX_OBJECTS) {
        fail(vm, ANIM_E_FORMAT, "pickle creates more than %u objects (limit) at byte %zu",
             PK_MAX_OBJECTS, vm->at);
        return NULL;
    }
    pk_obj *o = vm_alloc(vm, sizeof *o);
    if (!o) return NULL;
    vm->doc->objects++;
    memset(o, 0, sizeof *o);
    o->type = t;
    return o;
}

/* ---- names for messages ------------------------------------------------ */

const char *pk_type_name(const pk_obj *o) {
    static const char *names[] = {"None", "bool", "int", "float", "str", "bytes", "tuple",
                                  "list", "dict", "global", "storage", "tensor"};
    if (!o || (unsigned)o->type >= sizeof names / sizeof names[0]) return "?";
    return names[o->type];
}

static const char *op_name(uint8_t op) {
    switch (op) {
    case '(': return "MARK";          case '.': return "STOP";
    case '0': return "POP";           case '1': return "POP_MARK";
    case '2': return "DUP";           case 'F': return "FLOAT";
    case 'I': return "INT";           case 'J': return "BININT";
    case 'K': return "BININT1";       case 'L': return "LONG";
    case 'M': return "BININT2";       case 'N': return "NONE";
    case 'P': return "PERSID";        case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";        case 'S': return "STRING";
    case 'T': return "BINSTRING";     case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";       case 'X': return "BINUNICODE";
    case 'a': return "APPEND";        case 'b': return "BUILD";
    case 'c': return "GLOBAL";        case 'd': return "DICT";
    case '}': return "EMPTY_DICT";    case 'e': return "APPENDS";
    case 'g': return "GET";           case 'h': return "BINGET";
    case 'i': return "INST";          case 'j': return "LONG_BINGET";
    case 'l': return "LIST";          case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";           case 'p': return "PUT";
    case 'q': return "BINPUT";        case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";       case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";   case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";      case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x80: return "PROTO";        case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";         case 0x83: return "EXT2";
    case 0x84: return "EXT4";         case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";       case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE";      case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1";        case 0x8b: return "LONG4";
    case 0x8c: return "SHORT_BINUNICODE"; case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";     case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";    case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";      case 0x95: return "FRAME";
    case 0x96: return "BYTEARRAY8";   case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    }
    return "unknown";
}

/* ---- stack, marks, memo -------------------------------------------------- */

/* values below the last MARK belong to an enclosing frame */
static size_t frame_base(const pk_vm *vm) { return vm->n_marks ? vm->marks[vm->n_marks - 1] : 0; }

/* The status of the error already recorded by a helper that returned
 * NULL/false (allocation, limit or stack check). */
static anim_status failed(const pk_vm *vm) { return vm->err->status ? vm->err->status : ANIM_E_INTERNAL; }

static anim_status push(pk_vm *vm, pk_obj *o) {
    if (!o) return failed(vm); /* the allocation failed and said why */
    if (vm->sp == vm->stack_cap) {
        if (vm->stack_cap >= PK_MAX_STACK)
            return fail(vm, ANIM_E_FORMAT, "pickle stack deeper than %u values at byte %zu (limit)",
                        PK_MAX_STACK, vm->at);
        size_t cap = vm->stack_cap ? vm->stack_cap * 2 : 256;
        if (cap > PK_MAX_STACK) cap = PK_MAX_STACK;
        pk_obj **s = realloc(vm->stack, cap * sizeof *s);
        if (!s) return fail(vm, ANIM_E_OOM, "out of memory for the pickle stack (%zu values)", cap);
        vm->stack = s;
        vm->stack_cap = cap;
    }
    vm->stack[vm->sp++] = o;
    return ANIM_OK;
}

/* Are there n values in the current frame? Sets the error if not. */
static bool have(pk_vm *vm, size_t n) {
    if (vm->sp - frame_base(vm) >= n) return true;
    fail(vm, ANIM_E_FORMAT, "pickle stack underflow: %s at byte %zu needs %zu value%s%s, finds %zu",
         op_name(vm->buf[vm->at]), vm->at, n, n == 1 ? "" : "s", vm->n_marks ? " above the last MARK" : "",
         vm->sp - frame_base(vm));
    return false;
}

static pk_obj *pop(pk_vm *vm) { return have(vm, 1) ? vm->stack[--vm->sp] : NULL; }

static pk_obj *top(pk_vm *vm) {
    pk_obj *o = pop(vm);
    if (o) vm->sp++;
    return o;
}

/* Close the last MARK: *first = index of the first value above it. The caller
 * consumes stack[*first .. sp) and sets sp = *first. */
static anim_status pop_mark(pk_vm *vm, size_t *first) {
    if (!vm->n_marks)
        return fail(vm, ANIM_E_FORMAT, "%s at byte %zu without a MARK", op_name(vm->buf[vm->at]), vm->at);
    *first = vm->marks[--vm->n_marks];
    return ANIM_OK;
}

static anim_status memo_put(pk_vm *vm, uint64_t idx) {
    pk_obj *o = top(vm);
    if (!o) return failed(vm);
    /* torch numbers memo slots 0, 1, 2, ...; a slot beyond the pickle's length
     * could only come from a hostile file and would make us allocate for it */
    if (idx >= vm->memo_limit)
        return fail(vm, ANIM_E_FORMAT, "memo index %llu at byte %zu is out of range (limit %zu)",
                    (unsigned long long)idx, vm->at, vm->memo_limit);
    if (idx >= vm->memo_cap) {
        size_t cap = vm->memo_cap ? vm->memo_cap * 2 : 256;
        if (cap <= idx) cap = (size_t)idx + 1;
        if (cap > vm->memo_limit) cap = vm->memo_limit;
        pk_obj **m = realloc(vm->memo, cap * sizeof *m);
        if (!m) return fail(vm, ANIM_E_OOM, "out of memory for the pickle memo (%zu slots)", cap);
        memset(m + vm->memo_cap, 0, (cap - vm->memo_cap) * sizeof *m);
        vm->memo = m;
        vm->memo_cap = cap;
    }
    if (!vm->memo[idx]) vm->memo_count++;
    vm->memo[idx] = o;
    return ANIM_OK;
}

static anim_status memo_get(pk_vm *vm, uint64_t idx) {
    if (idx >= vm->memo_cap || !vm->memo[idx])
        return fail(vm, ANIM_E_FORMAT, "%s at byte %zu reads memo slot %llu, which was never set",
                    op_name(vm->buf[vm->at]), vm->at, (unsigned long long)idx);
    return push(vm, vm->memo[idx]);
}

/* ---- reading operands ---------------------------------------------------- */

static bool need(pk_vm *vm, size_t n) {
    if (vm->len - vm->pos >= n) return true;
    fail(vm, ANIM_E_FORMAT, "pickle truncated: %s at byte %zu needs %zu more bytes, %zu left",
         op_name(vm->buf[vm->at]), vm->at, n, vm->len - vm->pos);
    return false;
}

static uint64_t rd_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Python 3 decodes pickle strings as UTF-8 with 'surrogatepass', so encoded
 * surrogates (ED A0..BF xx) are accepted; overlongs and bytes > F4 are not. */
static bool utf8_ok(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t k = c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : 0;
        if (!k || n - i - 1 < k) return false;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xc0) != 0x80) return false;
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xf0 && s[i + 1] < 0x90) ||
            (c == 0xf4 && s[i + 1] >= 0x90))
            return false;
        i += k + 1;
    }
    return true;
}

static anim_status op_string(pk_vm *vm, uint64_t n, pk_type t) {
    if (n > PK_MAX_STR)
        return fail(vm, ANIM_E_FORMAT, "%s at byte %zu: string length %llu exceeds the limit of %u bytes",
                    op_name(vm->buf[vm->at]), vm->at, (unsigned long long)n, PK_MAX_STR);
    if (n > vm->len - vm->pos)
        return fail(vm, ANIM_E_FORMAT,
                    "%s at byte %zu: string length %llu runs past the end of the pickle (%zu bytes left)",
                    op_name(vm->buf[vm->at]), vm->at, (unsigned long long)n, vm->len - vm->pos);
    const uint8_t *s = vm->buf + vm->pos;
    if (t == PK_STR && !utf8_ok(s, (size_t)n))
        return fail(vm, ANIM_E_FORMAT, "%s at byte %zu: string is not valid UTF-8",
                    op_name(vm->buf[vm->at]), vm->at);
    pk_obj *o = new_obj(vm, t);
    char *copy = o ? vm_alloc(vm, (size_t)n + 1) : NULL;
    if (!copy) return failed(vm);
    memcpy(copy, s, (size_t)n);
    copy[n] = '\0';
    o->u.str.s = copy;
    o->u.str.len = (size_t)n;
    vm->pos += (size_t)n;
    return push(vm, o);
}

static anim_status push_int(pk_vm *vm, int64_t v) {
    pk_obj *o = new_obj(vm, PK_INT);
    if (o) o->u.i = v;
    return push(vm, o);
}

/* ---- globals --------------------------------------------------------------- */

static const struct {
    const char *module, *name, *full;
    pk_global_id id;
    anim_dtype dtype;
} allowed[] = {
    {"collections", "OrderedDict", "collections.OrderedDict", PK_G_ORDERED_DICT, ANIM_DT_F32},
    {"torch._utils", "_rebuild_tensor_v2", "torch._utils._rebuild_tensor_v2", PK_G_REBUILD_TENSOR_V2, ANIM_DT_F32},
    {"torch._utils", "_rebuild_parameter", "torch._utils._rebuild_parameter", PK_G_REBUILD_PARAMETER, ANIM_DT_F32},
    {"torch._utils", "_rebuild_parameter_with_state", "torch._utils._rebuild_parameter_with_state",
     PK_G_REBUILD_PARAMETER_WITH_STATE, ANIM_DT_F32},
    {"torch", "FloatStorage", "torch.FloatStorage", PK_G_STORAGE_TYPE, ANIM_DT_F32},
    {"torch", "HalfStorage", "torch.HalfStorage", PK_G_STORAGE_TYPE, ANIM_DT_F16},
    {"torch", "BFloat16Storage", "torch.BFloat16Storage", PK_G_STORAGE_TYPE, ANIM_DT_BF16},
    {"torch", "DoubleStorage", "torch.DoubleStorage", PK_G_STORAGE_TYPE, ANIM_DT_F64},
    {"torch", "LongStorage", "torch.LongStorage", PK_G_STORAGE_TYPE, ANIM_DT_I64},
    {"torch", "IntStorage", "torch.IntStorage", PK_G_STORAGE_TYPE, ANIM_DT_I32},
    {"torch", "ShortStorage", "torch.ShortStorage", PK_G_STORAGE_TYPE, ANIM_DT_I16},
    {"torch", "CharStorage", "torch.CharStorage", PK_G_STORAGE_TYPE, ANIM_DT_I8},
    {"torch", "ByteStorage", "torch.ByteStorage", PK_G_STORAGE_TYPE, ANIM_DT_U8},
    {"torch", "BoolStorage", "torch.BoolStorage", PK_G_STORAGE_TYPE, ANIM_DT_BOOL},
};

static bool str_is(const char *s, size_t n, const char *lit) { return strlen(lit) == n && memcmp(s, lit, n) == 0; }

static anim_status push_global(pk_vm *vm, const char *mod, size_t mod_len, const char *name, size_t name_len) {
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (str_is(mod, mod_len, allowed[i].module) && str_is(name, name_len, allowed[i].name)) {
            pk_obj *o = new_obj(vm, PK_GLOBAL);
            if (o) {
                o->u.global.id = allowed[i].id;
                o->u.global.dtype = allowed[i].dtype;
                o->u.global.name = allowed[i].full;
            }
            return push(vm, o);
        }
    }
    char m[128], n[128];
    return fail(vm, ANIM_E_FORMAT,
                "pickle global '%s.%s' is not allowed (only state-dict types are read; nothing is executed)",
                zip_printable(m, sizeof m, mod, mod_len), zip_printable(n, sizeof n, name, name_len));
}

/* GLOBAL's operands are two newline-terminated lines: module, then name */
static anim_status op_global(pk_vm *vm) {
    const char *line[2];
    size_t line_len[2];
    for (int k = 0; k < 2; k++) {
        const uint8_t *p = vm->buf + vm->pos;
        size_t max = vm->len - vm->pos < 256 ? vm->len - vm->pos : 256;
        const uint8_t *nl = memchr(p, '\n', max);
        if (!nl)
            return fail(vm, ANIM_E_FORMAT, "GLOBAL at byte %zu: %s name not ended by a newline within %zu bytes",
                        vm->at, k ? "attribute" : "module", max);
        line[k] = (const char *)p;
        line_len[k] = (size_t)(nl - p);
        vm->pos += line_len[k] + 1;
    }
    return push_global(vm, line[0], line_len[0], line[1], line_len[1]);
}

static anim_status op_stack_global(pk_vm *vm) {
    pk_obj *name = pop(vm), *mod = name ? pop(vm) : NULL;
    if (!mod) return failed(vm);
    if (mod->type != PK_STR || name->type != PK_STR)
        return fail(vm, ANIM_E_FORMAT, "STACK_GLOBAL at byte %zu: module and name must be str, got %s and %s",
                    vm->at, pk_type_name(mod), pk_type_name(name));
    return push_global(vm, mod->u.str.s, mod->u.str.len, name->u.str.s, name->u.str.len);
}

/* ---- containers ---------------------------------------------------------- */

/* grow an arena array of pointers to hold at least `want` items */
static pk_obj **grow(pk_vm *vm, pk_obj **old, size_t n, size_t *cap, size_t want) {
    if (want <= *cap) return old;
    size_t c = *cap ? *cap : 8;
    while (c < want) c *= 2; /* want <= PK_MAX_STACK + n, so no overflow */
    pk_obj **v = vm_alloc(vm, c * sizeof *v);
    if (!v) return NULL;
    if (n) memcpy(v, old, n * sizeof *v);
    *cap = c;
    return v;
}

static anim_status make_tuple(pk_vm *vm, size_t first) {
    size_t n = vm->sp - first;
    pk_obj *t = new_obj(vm, PK_TUPLE);
    pk_obj **items = t && n ? vm_alloc(vm, n * sizeof *items) : NULL;
    if (!t || (n && !items)) return failed(vm);
    if (n) memcpy(items, vm->stack + first, n * sizeof *items);
    t->u.seq.items = items;
    t->u.seq.n = t->u.seq.cap = n;
    vm->sp = first;
    return push(vm, t);
}

/* SETITEM(S): pairs stack[first..sp) go into the dict just below them */
static anim_status set_items(pk_vm *vm, size_t first) {
    size_t n = vm->sp - first;
    if (first == 0 || first - 1 < frame_base(vm))
        return fail(vm, ANIM_E_FORMAT, "%s at byte %zu has no dict to fill", op_name(vm->buf[vm->at]), vm->at);
    pk_obj *d = vm->stack[first - 1];
    if (d->type != PK_DICT)
        return fail(vm, ANIM_E_FORMAT, "%s at byte %zu on a %s, not a dict", op_name(vm->buf[vm->at]),
                    vm->at, pk_type_name(d));
    if (n % 2)
        return fail(vm, ANIM_E_FORMAT, "SETITEMS at byte %zu with an odd number of values (%zu)", vm->at, n);
    if (n == 0) return ANIM_OK; /* MARK SETITEMS with nothing between: Python accepts it (found by fuzzing) */
    size_t cap = d->u.dict.cap, want = d->u.dict.n + n / 2;
    pk_obj **k = grow(vm, d->u.dict.keys, d->u.dict.n, &cap, want);
    size_t cap2 = d->u.dict.cap;
    pk_obj **v = k ? grow(vm, d->u.dict.vals, d->u.dict.n, &cap2, want) : NULL;
    if (!v) return failed(vm);
    d->u.dict.keys = k;
    d->u.dict.vals = v;
    d->u.dict.cap = cap;
    /* duplicate keys are kept (pk_dict_get returns the last, as Python
     * would); the state dict reader rejects duplicate tensor names */
    for (size_t i = 0; i < n; i += 2) {
        k[d->u.dict.n] = vm->stack[first + i];
        v[d->u.dict.n++] = vm->stack[first + i + 1];
    }
    vm->sp = first;
    return ANIM_OK;
}

static anim_status append_items(pk_vm *vm, size_t first) {
    size_t n = vm->sp - first;
    if (first == 0 || first - 1 < frame_base(vm))
        return fail(vm, ANIM_E_FORMAT, "%s at byte %zu has no list to fill", op_name(vm->buf[vm->at]), vm->at);
    pk_obj *l = vm->stack[first - 1];
    if (l->type != PK_LIST)
        return fail(vm, ANIM_E_FORMAT, "%s at byte %zu on a %s, not a list", op_name(vm->buf[vm->at]),
                    vm->at, pk_type_name(l));
    if (n == 0) return ANIM_OK; /* MARK APPENDS with nothing between: Python accepts it (found by fuzzing) */
    size_t cap = l->u.seq.cap;
    pk_obj **v = grow(vm, l->u.seq.items, l->u.seq.n, &cap, l->u.seq.n + n);
    if (!v) return failed(vm);
    if (n) memcpy(v + l->u.seq.n, vm->stack + first, n * sizeof *v);
    l->u.seq.items = v;
    l->u.seq.cap = cap;
    l->u.seq.n += n;
    vm->sp = first;
    return ANIM_OK;
}

/* ---- the torch-specific operations --------------------------------------- */

/* REDUCE: "call" an allowed global with a tuple of arguments */
static anim_status op_reduce(pk_vm *vm) {
    pk_obj *args = pop(vm), *fn = args ? pop(vm) : NULL;
    if (!fn) return failed(vm);
    if (fn->type != PK_GLOBAL)
        return fail(vm, ANIM_E_FORMAT, "REDUCE at byte %zu calls a %s, not an allowed global", vm->at,
                    pk_type_name(fn));
    if (args->type != PK_TUPLE)
        return fail(vm, ANIM_E_FORMAT, "REDUCE at byte %zu: arguments of %s are a %s, not a tuple", vm->at,
                    fn->u.global.name, pk_type_name(args));
    size_t n = args->u.seq.n;
    pk_obj **a = args->u.seq.items;
    switch (fn->u.global.id) {
    case PK_G_ORDERED_DICT:
        if (n != 0)
            return fail(vm, ANIM_E_FORMAT, "REDUCE at byte %zu: OrderedDict called with %zu arguments "
                        "(only OrderedDict() is read)", vm->at, n);
        return push(vm, new_obj(vm, PK_DICT));
    case PK_G_REBUILD_TENSOR_V2: {
        /* (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
        if (n != 6 && n != 7)
            return fail(vm, ANIM_E_FORMAT, "REDUCE at byte %zu: _rebuild_tensor_v2 called with %zu "
                        "arguments, expected 6 or 7", vm->at, n);
        if (a[0]->type != PK_STORAGE || a[1]->type != PK_INT || a[1]->u.i < 0 || a[2]->type != PK_TUPLE ||
            a[3]->type != PK_TUPLE)
            return fail(vm, ANIM_E_FORMAT, "REDUCE at byte %zu: _rebuild_tensor_v2 expects (storage, "
                        "offset >= 0, size tuple, stride tuple, ...), got (%s, %s, %s, %s, ...)", vm->at,
                        pk_type_name(a[0]), pk_type_name(a[1]), pk_type_name(a[2]), pk_type_name(a[3]));
        pk_obj *t = new_obj(vm, PK_TENSOR);
        if (t) {
            t->u.tensor.storage = a[0];
            t->u.tensor.offset = a[1]->u.i;
            t->u.tensor.size = a[2];
            t->u.tensor.stride = a[3];
        }
        return push(vm, t);
    }
    case PK_G_REBUILD_PARAMETER:
    case PK_G_REBUILD_PARAMETER_WITH_STATE: {
        /* (tensor, requires_grad, backward_hooks[, state]): a Parameter is
         * its tensor for our purposes */
        size_t want = fn->u.global.id == PK_G_REBUILD_PARAMETER ? 3 : 4;
        if (n != want || a[0]->type != PK_TENSOR)
            return fail(vm, ANIM_E_FORMAT, "REDUCE at byte %zu: %s expects (tensor, ...) with %zu "
                        "arguments, got %zu starting with a %s", vm->at, fn->u.global.name, want, n,
                        n ? pk_type_name(a[0]) : "nothing");
        return push(vm, a[0]);
    }
    case PK_G_STORAGE_TYPE:
        break;
    }
    return fail(vm, ANIM_E_FORMAT, "REDUCE at byte %zu: calling %s is not supported (storages are "
                "only read through persistent ids)", vm->at, fn->u.global.name);
}

/* BINPERSID with ('storage', torch.<T>Storage, key, location, numel) */
static anim_status op_persid(pk_vm *vm) {
    pk_obj *pid = pop(vm);
    if (!pid) return failed(vm);
    pk_obj **a = pid->type == PK_TUPLE ? pid->u.seq.items : NULL;
    if (!a || pid->u.seq.n != 5 || a[0]->type != PK_STR || !str_is(a[0]->u.str.s, a[0]->u.str.len, "storage") ||
        a[1]->type != PK_GLOBAL || a[1]->u.global.id != PK_G_STORAGE_TYPE || a[2]->type != PK_STR ||
        a[3]->type != PK_STR || a[4]->type != PK_INT || a[4]->u.i < 0)
        return fail(vm, ANIM_E_FORMAT, "BINPERSID at byte %zu: persistent id is not ('storage', "
                    "torch.<type>Storage, key, location, numel >= 0)", vm->at);
    pk_obj *s = new_obj(vm, PK_STORAGE);
    if (!s) return failed(vm);
    s->u.storage.key = a[2]->u.str.s;
    s->u.storage.type_name = a[1]->u.global.name;
    s->u.storage.dtype = a[1]->u.global.dtype;
    s->u.storage.numel = a[4]->u.i;
    if (vm->resolve) {
        anim_status st = vm->resolve(vm->ud, s->u.storage.key, a[2]->u.str.len, s->u.storage.dtype,
                                     s->u.storage.type_name, s->u.storage.numel, &s->u.storage.data, vm->err);
        if (st) return st;
    }
    return push(vm, s);
}

static anim_status op_build(pk_vm *vm) {
    pk_obj *state = pop(vm), *target = state ? top(vm) : NULL;
    if (!target) return failed(vm);
    /* an OrderedDict state dict carries its `_metadata` attribute as BUILD
     * state; per-module versions are not needed to read the tensors */
    if (target->type != PK_DICT)
        return fail(vm, ANIM_E_FORMAT, "BUILD at byte %zu sets state on a %s; only dict state is read",
                    vm->at, pk_type_name(target));
    return ANIM_OK;
}

/* ---- the interpreter loop ------------------------------------------------- */

static anim_status step(pk_vm *vm, bool *stop) {
    uint8_t op = vm->buf[vm->pos++];
    size_t first;
    anim_status st;
    pk_obj *o;
    switch (op) {
    case 0x80: /* PROTO */
        if (!need(vm, 1)) break;
        if (vm->buf[vm->pos] < 2 || vm->buf[vm->pos] > 5)
            return fail(vm, ANIM_E_FORMAT, "pickle protocol %u at byte %zu is not supported (2..5 are read)",
                        vm->buf[vm->pos], vm->at);
        vm->pos++;
        return ANIM_OK;
    case 0x95: /* FRAME: a length prefix for buffering; the content is ordinary opcodes */
        if (!need(vm, 8)) break;
        if (rd_le(vm->buf + vm->pos, 8) > vm->len - vm->pos - 8)
            return fail(vm, ANIM_E_FORMAT, "FRAME at byte %zu runs past the end of the pickle", vm->at);
        vm->pos += 8;
        return ANIM_OK;
    case '.': /* STOP */
        if (!(o = pop(vm))) break;
        vm->doc->root = o;
        *stop = true;
        return ANIM_OK;
    case '(': /* MARK */
        if (vm->n_marks >= PK_MAX_MARKS)
            return fail(vm, ANIM_E_FORMAT, "MARK nesting deeper than %u at byte %zu (limit)", PK_MAX_MARKS, vm->at);
        vm->marks[vm->n_marks++] = vm->sp;
        return ANIM_OK;
    case '}': return push(vm, new_obj(vm, PK_DICT));
    case ']': return push(vm, new_obj(vm, PK_LIST));
    case ')': return make_tuple(vm, vm->sp);
    case 't': /* TUPLE */
        if ((st = pop_mark(vm, &first))) return st;
        return make_tuple(vm, first);
    case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
        size_t n = (size_t)(op - 0x84);
        if (!have(vm, n)) break;
        return make_tuple(vm, vm->sp - n);
    }
    case 'J': /* BININT: signed 32-bit */
        if (!need(vm, 4)) break;
        {
            uint64_t u = rd_le(vm->buf + vm->pos, 4);
            vm->pos += 4;
            return push_int(vm, (int64_t)u - (u & 0x80000000u ? INT64_C(0x100000000) : 0));
        }
    case 'K': /* BININT1 */
        if (!need(vm, 1)) break;
        return push_int(vm, vm->buf[vm->pos++]);
    case 'M': /* BININT2 */
        if (!need(vm, 2)) break;
        vm->pos += 2;
        return push_int(vm, (int64_t)rd_le(vm->buf + vm->pos - 2, 2));
    case 0x8a: { /* LONG1: n-byte two's complement */
        if (!need(vm, 1)) break;
        unsigned n = vm->buf[vm->pos];
        if (n > 8)
            return fail(vm, ANIM_E_FORMAT, "LONG1 at byte %zu: %u-byte integer is beyond 64 bits", vm->at, n);
        vm->pos++;
        if (!need(vm, n)) break;
        uint64_t u = rd_le(vm->buf + vm->pos, (int)n);
        if (n > 0 && n < 8 && (vm->buf[vm->pos + n - 1] & 0x80)) u |= ~UINT64_C(0) << (8 * n);
        vm->pos += n;
        int64_t v;
        memcpy(&v, &u, sizeof v);
        return push_int(vm, v);
    }
    case 'G': { /* BINFLOAT: big-endian IEEE double */
        if (!need(vm, 8)) break;
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = u << 8 | vm->buf[vm->pos + i];
        vm->pos += 8;
        if (!(o = new_obj(vm, PK_FLOAT))) break;
        memcpy(&o->u.f, &u, sizeof o->u.f);
        return push(vm, o);
    }
    case 'N': return push(vm, new_obj(vm, PK_NONE));
    case 0x88: case 0x89: /* NEWTRUE, NEWFALSE */
        if ((o = new_obj(vm, PK_BOOL))) o->u.b = op == 0x88;
        return push(vm, o);
    case 0x8c: /* SHORT_BINUNICODE */
        if (!need(vm, 1)) break;
        vm->pos++;
        return op_string(vm, vm->buf[vm->pos - 1], PK_STR);
    case 'X': /* BINUNICODE */
        if (!need(vm, 4)) break;
        vm->pos += 4;
        return op_string(vm, rd_le(vm->buf + vm->pos - 4, 4), PK_STR);
    case 0x8d: /* BINUNICODE8 */
        if (!need(vm, 8)) break;
        vm->pos += 8;
        return op_string(vm, rd_le(vm->buf + vm->pos - 8, 8), PK_STR);
    case 'C': /* SHORT_BINBYTES */
        if (!need(vm, 1)) break;
        vm->pos++;
        return op_string(vm, vm->buf[vm->pos - 1], PK_BYTES);
    case 'B': /* BINBYTES */
        if (!need(vm, 4)) break;
        vm->pos += 4;
        return op_string(vm, rd_le(vm->buf + vm->pos - 4, 4), PK_BYTES);
    case 'q': /* BINPUT */
        if (!need(vm, 1)) break;
        vm->pos++;
        return memo_put(vm, vm->buf[vm->pos - 1]);
    case 'r': /* LONG_BINPUT */
        if (!need(vm, 4)) break;
        vm->pos += 4;
        return memo_put(vm, rd_le(vm->buf + vm->pos - 4, 4));
    case 0x94: /* MEMOIZE: the next slot is the memo's current size */
        return memo_put(vm, vm->memo_count);
    case 'h': /* BINGET */
        if (!need(vm, 1)) break;
        vm->pos++;
        return memo_get(vm, vm->buf[vm->pos - 1]);
    case 'j': /* LONG_BINGET */
        if (!need(vm, 4)) break;
        vm->pos += 4;
        return memo_get(vm, rd_le(vm->buf + vm->pos - 4, 4));
    case 's': /* SETITEM */
        if (!have(vm, 2)) break;
        return set_items(vm, vm->sp - 2);
    case 'u': /* SETITEMS */
        if ((st = pop_mark(vm, &first))) return st;
        return set_items(vm, first);
    case 'a': /* APPEND */
        if (!have(vm, 1)) break;
        return append_items(vm, vm->sp - 1);
    case 'e': /* APPENDS */
        if ((st = pop_mark(vm, &first))) return st;
        return append_items(vm, first);
    case 'c': return op_global(vm);
    case 0x93: return op_stack_global(vm);
    case 'R': return op_reduce(vm);
    case 'b': return op_build(vm);
    case 'Q': return op_persid(vm);
    default: {
        char c[8] = "";
        if (op >= 0x20 && op < 0x7f) snprintf(c, sizeof c, "'%c', ", op);
        return fail(vm, ANIM_E_FORMAT, "unsupported pickle opcode 0x%02x (%s%s) at byte %zu", op, c,
                    op_name(op), vm->at);
    }
    }
    /* reached by `break`: an operand or stack check failed and said why */
    return failed(vm);
}

anim_status pk_load(const uint8_t *buf, size_t len, pk_storage_fn resolve, void *ud, pk_doc **out,
                    anim_error *err) {
    *out = NULL;
    anim_error local;
    pk_vm *vm = calloc(1, sizeof *vm); /* ~33 KB with the mark stack: not on the C stack */
    pk_doc *doc = calloc(1, sizeof *doc);
    if (!vm || !doc) {
        free(vm);
        free(doc);
        return anim_seterr(err, ANIM_E_OOM, "out of memory reading the pickle");
    }
    vm->buf = buf;
    vm->len = len;
    vm->doc = doc;
    vm->resolve = resolve;
    vm->ud = ud;
    vm->err = err ? err : &local; /* messages need somewhere to go */
    vm->err->status = ANIM_OK;
    vm->memo_limit = len < PK_MAX_MEMO ? len : PK_MAX_MEMO;
    anim_status st = ANIM_OK;
    bool stop = false;
    while (!stop) {
        if (vm->pos >= len) {
            st = fail(vm, ANIM_E_FORMAT, "pickle ends at byte %zu without STOP (truncated)", len);
            break;
        }
        vm->at = vm->pos;
        st = step(vm, &stop);
        if (st) break;
    }
    /* bytes after STOP are ignored, as Python's pickle.loads does */
    free(vm->stack);
    free(vm->memo);
    free(vm);
    if (st) {
        pk_doc_free(doc);
        return st;
    }
    *out = doc;
    return ANIM_OK;
}

const pk_obj *pk_dict_get(const pk_obj *d, const char *key) {
    if (!d || d->type != PK_DICT) return NULL;
    size_t n = strlen(key);
    for (size_t i = d->u.dict.n; i-- > 0;) {
        const pk_obj *k = d->u.dict.keys[i];
        if (k->type == PK_STR && k->u.str.len == n && memcmp(k->u.str.s, key, n) == 0) return d->u.dict.vals[i];
    }
    return NULL;
}
