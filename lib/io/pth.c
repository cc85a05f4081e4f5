/*
 * pth.c - PyTorch zip checkpoints (torch.save: .pth / .bin / .pt) as a tf_file.
 *
 * Archive layout written by torch.save (all entries STORED):
 *   <prefix>/data.pkl          the pickled object (usually an OrderedDict)
 *   <prefix>/data/<key>        raw little-endian storage bytes, one per storage
 *   <prefix>/version           format version text ("3\n"; not needed to read)
 *   <prefix>/byteorder         "little" (newer torch; absent means little)
 *   <prefix>/.data/serialization_id   (newer torch; ignored)
 * <prefix> is the single top-level folder holding data.pkl; torch names it
 * after the file stem ("archive", "denoising_unet"), so any name is accepted.
 *
 * data.pkl is run through the restricted unpickler (pickle.h). Tensors are
 * `_rebuild_tensor_v2(storage, offset, size, stride, ...)` views: several
 * tensors may share one storage at different offsets with any strides, so
 * each view is checked to stay inside its storage before its data pointer
 * (into the caller's buffer, never copied) is handed out.
 *
 * Which dict is the state dict: the top-level dict itself, or the dict under
 * 'state_dict' / 'model_state_dict' when there is one (training checkpoints,
 * whisper's {'dims': ..., 'model_state_dict': ...}). The other top-level
 * entries stay in the pickle document (tf_file.priv) for later readers.
 *
 * Ownership: on success f->tensors is malloc'd, names live in the pickle
 * document, and f->priv / f->priv_free own that document (tf_close frees
 * both). On failure pth_parse frees everything it allocated and leaves
 * f->tensors NULL, f->n 0 and f->priv NULL.
 */
#include <stdlib.h>
#include <string.h>

#include "io/pickle.h"
#include "io/tensor_file.h"
#include "io/zip.h"

#define PTH_MAX_KEY 256 /* bytes in a storage key; torch uses decimal numbers */

typedef struct pth_ctx {
    const zip_archive *zip;
    const char *prefix; /* into the data.pkl entry name, not NUL-terminated */
    size_t prefix_len;
} pth_ctx;

static const char PKL_SUFFIX[] = "/data.pkl";
#define PKL_SUFFIX_LEN (sizeof PKL_SUFFIX - 1)

/* x * y into *r unless it overflows int64 (x, y >= 0) */
static bool mul_i64(int64_t x, int64_t y, int64_t *r) {
    if (x != 0 && y > INT64_MAX / x) return false;
    *r = x * y;
    return true;
}

static bool add_i64(int64_t x, int64_t y, int64_t *r) {
    if (y > INT64_MAX - x) return false;
    *r = x + y;
    return true;
}

/* dst = a + b + c (byte strings that may hold NUL, so no printf); returns
 * the length, or 0 if it does not fit cap */
static size_t join3(char *dst, size_t cap, const char *a, size_t na, const char *b, size_t nb, const char *c,
                    size_t nc) {
    if (na > cap || nb > cap - na || nc > cap - na - nb) return 0;
    memcpy(dst, a, na);
    memcpy(dst + na, b, nb);
    memcpy(dst + na + nb, c, nc);
    return na + nb + nc;
}

/* pk_storage_fn: "<prefix>/data/<key>" must exist and hold numel elements */
static anim_status resolve_storage(void *ud, const char *key, size_t key_len, anim_dtype dtype,
                                   const char *type_name, int64_t numel, const uint8_t **data,
                                   anim_error *err) {
    const pth_ctx *c = ud;
    char qk[64], qn[256];
    zip_printable(qk, sizeof qk, key, key_len);
    if (key_len == 0 || key_len > PTH_MAX_KEY || memchr(key, '/', key_len) || memchr(key, '\0', key_len))
        return anim_seterr(err, ANIM_E_FORMAT, "storage key '%s' is not a plain name (1..%d bytes, no '/' or NUL)",
                           qk, PTH_MAX_KEY);
    char name[ZIP_MAX_NAME + PTH_MAX_KEY + 8];
    size_t n = join3(name, sizeof name, c->prefix, c->prefix_len, "/data/", 6, key, key_len);
    zip_printable(qn, sizeof qn, name, n);
    const zip_entry *e = n ? zip_find(c->zip, name, n) : NULL; /* n == 0 cannot happen with these limits */
    if (!e) return anim_seterr(err, ANIM_E_FORMAT, "storage '%s' has no zip entry '%s'", qk, qn);
    int64_t need;
    if (!mul_i64(numel, (int64_t)anim_dtype_size(dtype), &need) || (uint64_t)need > e->size)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "storage '%s' declares %lld %s elements but its entry '%s' holds only %llu bytes",
                           qk, (long long)numel, type_name, qn, (unsigned long long)e->size);
    *data = e->data;
    return ANIM_OK;
}

/* Turn one pickled tensor view into a tf_tensor, checking it stays inside
 * its storage. Messages name the state dict key. */
static anim_status fill_tensor(tf_tensor *t, const char *key, const pk_obj *v, anim_error *err) {
    const pk_obj *s = v->u.tensor.storage, *size = v->u.tensor.size, *stride = v->u.tensor.stride;
    char qk[200];
    zip_printable(qk, sizeof qk, key, strlen(key));
    size_t nd = size->u.seq.n;
    if (nd > TF_MAX_DIMS)
        return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s' has %zu dimensions (at most %d are supported)",
                           qk, nd, TF_MAX_DIMS);
    if (stride->u.seq.n != nd)
        return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s' has %zu sizes but %zu strides", qk, nd,
                           stride->u.seq.n);
    t->name = key;
    t->dtype = s->u.storage.dtype;
    t->ndim = (int)nd;
    int64_t numel = 1, last = v->u.tensor.offset, es = (int64_t)anim_dtype_size(t->dtype);
    bool overflow = false;
    for (size_t d = 0; d < nd; d++) {
        const pk_obj *a = size->u.seq.items[d], *b = stride->u.seq.items[d];
        if (a->type != PK_INT || b->type != PK_INT || a->u.i < 0 || b->u.i < 0)
            return anim_seterr(err, ANIM_E_FORMAT,
                               "tensor '%s': size and stride must be non-negative ints, dimension %zu has %s %lld "
                               "and %s %lld", qk, d, pk_type_name(a), a->type == PK_INT ? (long long)a->u.i : 0,
                               pk_type_name(b), b->type == PK_INT ? (long long)b->u.i : 0);
        t->shape[d] = a->u.i;
        t->stride[d] = b->u.i;
        int64_t reach;
        overflow |= !mul_i64(numel, a->u.i, &numel);
        if (a->u.i > 0) overflow |= !mul_i64(a->u.i - 1, b->u.i, &reach) || !add_i64(last, reach, &last);
    }
    int64_t total_bytes;
    if (overflow || !mul_i64(numel, es, &total_bytes))
        return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s': size/stride/offset overflow 64 bits", qk);
    int64_t avail = s->u.storage.numel, off = v->u.tensor.offset;
    char qs[64];
    zip_printable(qs, sizeof qs, s->u.storage.key, strlen(s->u.storage.key));
    if (numel == 0) {
        /* an empty view addresses nothing, but its offset must still be a
         * position inside (or at the end of) the storage */
        if (off > avail)
            return anim_seterr(err, ANIM_E_FORMAT,
                               "tensor '%s' is empty but starts at element %lld beyond storage '%s' (%lld elements)",
                               qk, (long long)off, qs, (long long)avail);
        t->data = s->u.storage.data ? s->u.storage.data + off * es : NULL;
        t->nbytes = 0;
        return ANIM_OK;
    }
    if (last >= avail)
        return anim_seterr(err, ANIM_E_FORMAT, "tensor '%s' spans elements %lld..%lld but storage '%s' holds %lld",
                           qk, (long long)off, (long long)last, qs, (long long)avail);
    /* off <= last < avail, and avail * es <= the entry size: all in bounds */
    t->data = s->u.storage.data ? s->u.storage.data + off * es : NULL;
    t->nbytes = (uint64_t)(last - off + 1) * (uint64_t)es;
    return ANIM_OK;
}

/* The state dict of the root object, or NULL with err set. */
static const pk_obj *find_state_dict(const pk_obj *root, anim_error *err) {
    if (!root || root->type != PK_DICT) {
        anim_seterr(err, ANIM_E_FORMAT, "top-level object is a %s, not a dict of tensors", pk_type_name(root));
        return NULL;
    }
    static const char *const wrappers[] = {"state_dict", "model_state_dict"};
    for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++) {
        const pk_obj *v = pk_dict_get(root, wrappers[i]);
        if (v && v->type == PK_DICT) return v;
    }
    return root;
}

static anim_status collect_tensors(const pk_obj *sd, tf_tensor **out, size_t *n_out, anim_error *err) {
    size_t n = sd->u.dict.n;
    tf_tensor *ts = calloc(n ? n : 1, sizeof *ts);
    if (!ts) return anim_seterr(err, ANIM_E_OOM, "out of memory for %zu tensors", n);
    for (size_t i = 0; i < n; i++) {
        const pk_obj *k = sd->u.dict.keys[i], *v = sd->u.dict.vals[i];
        anim_status st = ANIM_OK;
        if (k->type != PK_STR) {
            st = anim_seterr(err, ANIM_E_FORMAT, "state dict key #%zu is a %s, not a str", i, pk_type_name(k));
        } else if (strlen(k->u.str.s) != k->u.str.len) {
            st = anim_seterr(err, ANIM_E_FORMAT, "state dict key #%zu contains a NUL byte", i);
        } else if (v->type != PK_TENSOR) {
            char qk[200];
            st = anim_seterr(err, ANIM_E_FORMAT, "state dict value '%s' is a %s, not a tensor",
                             zip_printable(qk, sizeof qk, k->u.str.s, k->u.str.len), pk_type_name(v));
        } else {
            st = fill_tensor(&ts[i], k->u.str.s, v, err);
        }
        if (st) {
            free(ts);
            return st;
        }
    }
    *out = ts;
    *n_out = n;
    return ANIM_OK;
}

/* The one "<prefix>/data.pkl" entry with a single-folder prefix. */
static anim_status find_pickle(const zip_archive *z, const zip_entry **out, anim_error *err) {
    const zip_entry *found = NULL;
    for (size_t i = 0; i < z->n; i++) {
        const zip_entry *e = &z->entries[i];
        if (e->name_len <= PKL_SUFFIX_LEN ||
            memcmp(e->name + e->name_len - PKL_SUFFIX_LEN, PKL_SUFFIX, PKL_SUFFIX_LEN) != 0 ||
            memchr(e->name, '/', e->name_len - PKL_SUFFIX_LEN))
            continue;
        if (found) {
            char a[128], b[128];
            return anim_seterr(err, ANIM_E_FORMAT, "zip: two pickles '%s' and '%s'; expected one <prefix>/data.pkl",
                               zip_printable(a, sizeof a, found->name, found->name_len),
                               zip_printable(b, sizeof b, e->name, e->name_len));
        }
        found = e;
    }
    if (!found)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "zip: no <prefix>/data.pkl entry (not a PyTorch checkpoint written by torch.save)");
    *out = found;
    return ANIM_OK;
}

static anim_status check_byteorder(const zip_archive *z, const char *prefix, size_t prefix_len,
                                   anim_error *err) {
    char name[ZIP_MAX_NAME + 16];
    size_t n = join3(name, sizeof name, prefix, prefix_len, "/byteorder", 10, "", 0);
    const zip_entry *e = n ? zip_find(z, name, n) : NULL;
    if (!e || (e->size == 6 && memcmp(e->data, "little", 6) == 0)) return ANIM_OK;
    char qn[256], qv[64];
    return anim_seterr(err, ANIM_E_UNSUPPORTED, "zip entry '%s' says '%s'; only little-endian checkpoints are read",
                       zip_printable(qn, sizeof qn, name, n),
                       zip_printable(qv, sizeof qv, (const char *)e->data, (size_t)e->size));
}

anim_status pth_parse(tf_file *f, const uint8_t *buf, size_t len, anim_error *err) {
    zip_archive z;
    anim_status st = zip_open(&z, buf, len, err);
    if (st) return st;
    const zip_entry *pkl = NULL;
    pk_doc *doc = NULL;
    tf_tensor *ts = NULL;
    size_t n = 0;
    st = find_pickle(&z, &pkl, err);
    if (!st) st = check_byteorder(&z, pkl->name, pkl->name_len - PKL_SUFFIX_LEN, err);
    if (!st) {
        pth_ctx ctx = {.zip = &z, .prefix = pkl->name, .prefix_len = pkl->name_len - PKL_SUFFIX_LEN};
        st = pk_load(pkl->data, (size_t)pkl->size, resolve_storage, &ctx, &doc, err);
        if (!st) {
            const pk_obj *sd = find_state_dict(pk_doc_root(doc), err);
            st = sd ? collect_tensors(sd, &ts, &n, err) : ANIM_E_FORMAT;
        }
        if (st) anim_err_prefix(err, "data.pkl");
    }
    zip_close(&z); /* tensor data points into buf, not into the entry table */
    if (!st) {
        f->format = TF_PTH;
        f->n = n;
        f->tensors = ts;
        f->priv = doc;
        f->priv_free = pk_doc_free;
        st = tf_finish(f, err); /* name index; rejects duplicate keys */
        if (!st) return ANIM_OK;
        f->tensors = NULL;
        f->n = 0;
        f->priv = NULL;
        f->priv_free = NULL;
    }
    free(ts);
    pk_doc_free(doc);
    return st;
}
