/*
 * wspec.h - the tensors a network expects, and binding them to checkpoint files.
 *
 * Each network (lib/nn/<net>.c) enumerates, from its config, every state-dict
 * key it needs with its exact shape: a table built from data, the way
 * stable-diffusion.cpp keeps name tables. w_bind() then matches the list
 * against one or more opened checkpoints and refuses anything that does not
 * fit: a missing key, a shape that disagrees with the config, a non-float
 * dtype, or a key in a file that the network does not have (upstream loads
 * with strict=False, which hides broken or mismatched downloads; we do not).
 */
#ifndef ANIM_NN_WSPEC_H
#define ANIM_NN_WSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/tensor_file.h"
#include "util/error.h"

#define W_NAME_MAX 192

enum {
    W_OPTIONAL = 1 << 0, /* may be absent from the files */
    W_UNUSED = 1 << 1,   /* accepted (shape checked, any dtype) but never loaded, e.g. CLIP position_ids */
    W_CONV = 1 << 2,     /* 4-D conv weight: stored OIHW in files, repacked to OHWI for the backends */
    W_CONV1D = 1 << 3    /* 3-D conv1d weight [O, I, K]: repacked to [O, K, I] (OHWI with H = 1) */
};

typedef struct w_spec {
    char name[W_NAME_MAX];   /* canonical key (diffusers / transformers in-memory name) */
    char alias[W_NAME_MAX];  /* another accepted spelling ("" if none), e.g. VAE 'query' for 'to_q' */
    int ndim;
    int64_t shape[4];
    unsigned flags;
} w_spec;

typedef struct w_list {
    w_spec *v;
    size_t n, cap;
    bool oom;                /* an add failed; w_bind reports it */
    const char *ignore_prefix; /* file keys starting with this are accepted and never loaded
                                  (whisper's "decoder."); NULL: none */
} w_list;

void wl_init(w_list *l);
void wl_free(w_list *l);
/* Append one key; ndim 0..4, dims after it (unused ones ignored). The name is printf-formatted. */
void wl_add(w_list *l, unsigned flags, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
            const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 8, 9)))
#endif
    ;
/* Set the alias of the most recently added key. */
void wl_alias_last(w_list *l, const char *alias);

/* printf into a W_NAME_MAX key buffer (cut to fit; real keys are far shorter). */
void w_key(char *k, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Common shapes. `p` is the key prefix without the trailing '.'. */
void wl_linear(w_list *l, const char *p, int64_t out, int64_t in, bool bias);     /* p.weight [out,in], p.bias */
void wl_conv(w_list *l, const char *p, int64_t out, int64_t in, int64_t k, bool bias); /* p.weight [out,in,k,k] */
void wl_norm(w_list *l, const char *p, int64_t c);                                /* p.weight, p.bias [c] */

/* Which file and tensor each spec bound to (t NULL: optional and absent). */
typedef struct w_bound {
    const tf_tensor *t;
    const tf_file *file;
} w_bound;

/* Bind `want` against files[0..n_files). out has want->n entries. `net` names the
 * network in messages ("denoising_unet"); `cfg` names the config the shapes came
 * from ("unet/config.json + model_config.json"). Errors are ANIM_E_MODEL. */
anim_status w_bind(const w_list *want, tf_file *const *files, int n_files, const char *net,
                   const char *cfg, w_bound *out, anim_error *err);

/* Total elements of the loadable (not W_UNUSED) specs. */
int64_t wl_numel(const w_list *l);

#endif
