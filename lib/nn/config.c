/*
 * config.c - parse the networks' configs (see config.h).
 *
 * Every parser starts from the values already in the struct (normally the
 * released defaults) and overrides the fields present in the JSON object.
 * Type errors and invalid values: ANIM_E_FORMAT; options the upstream code
 * accepts but this engine does not implement: ANIM_E_UNSUPPORTED. Messages
 * name the file and the field path ("model_config.json:
 * 'unet_additional_kwargs.motion_module_kwargs.num_attention_heads' must be a
 * positive integer").
 */
#include "nn/config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH_MAX (1 << 16) /* bound on any channel count: keeps products far from overflow */

/* ---- field helpers ------------------------------------------------------ */

typedef struct pctx {
    const char *file;
    const char *prefix; /* "" or "unet_additional_kwargs." */
    anim_error *err;
} pctx;

static anim_status bad(const pctx *p, const char *key, const char *what) {
    return anim_seterr(p->err, ANIM_E_FORMAT, "%s: '%s%s' must be %s", p->file, p->prefix, key, what);
}

/* A short rendering of a JSON value for messages. */
static const char *brief(const json_value *v, char *buf, size_t cap) {
    switch (v->type) {
    case JSON_NULL: snprintf(buf, cap, "null"); break;
    case JSON_BOOL: snprintf(buf, cap, "%s", v->b ? "true" : "false"); break;
    case JSON_NUMBER: snprintf(buf, cap, "%.17g", v->num); break;
    case JSON_STRING: snprintf(buf, cap, "\"%.80s\"", v->str); break;
    case JSON_ARRAY: snprintf(buf, cap, "[...]"); break;
    case JSON_OBJECT: snprintf(buf, cap, "{...}"); break;
    }
    return buf;
}

static anim_status unsup(const pctx *p, const char *key, const json_value *v, const char *why) {
    char b[128];
    return anim_seterr(p->err, ANIM_E_UNSUPPORTED, "%s: '%s%s' = %s is not supported (%s)", p->file, p->prefix, key,
                       brief(v, b, sizeof b), why);
}

static bool as_int(const json_value *v, long long lo, long long hi, int *out) {
    if (!v || v->type != JSON_NUMBER || !isfinite(v->num)) return false;
    if (v->num != floor(v->num) || v->num < (double)lo || v->num > (double)hi) return false;
    *out = (int)v->num;
    return true;
}

static anim_status get_int(const pctx *p, const json_value *o, const char *key, int lo, int hi, const char *what,
                           int *out) {
    const json_value *v = json_get(o, key);
    if (!v) return ANIM_OK;
    if (!as_int(v, lo, hi, out)) return bad(p, key, what);
    return ANIM_OK;
}

/* a number in (lo, hi] if lo_open, else [lo, hi] */
static anim_status get_num(const pctx *p, const json_value *o, const char *key, double lo, bool lo_open, double hi,
                           const char *what, double *out) {
    const json_value *v = json_get(o, key);
    if (!v) return ANIM_OK;
    if (v->type != JSON_NUMBER || !isfinite(v->num) || v->num > hi || v->num < lo || (lo_open && v->num == lo))
        return bad(p, key, what);
    *out = v->num;
    return ANIM_OK;
}

/* null_is_false: upstream treats None like False for this flag */
static anim_status get_bool(const pctx *p, const json_value *o, const char *key, bool null_is_false, bool *out) {
    const json_value *v = json_get(o, key);
    if (!v) return ANIM_OK;
    if (v->type == JSON_NULL && null_is_false) {
        *out = false;
        return ANIM_OK;
    }
    if (v->type != JSON_BOOL) return bad(p, key, null_is_false ? "a boolean or null" : "a boolean");
    *out = v->b;
    return ANIM_OK;
}

/* 1..max_n integers in [lo, hi]; *n is left alone when the key is absent */
static anim_status get_int_list(const pctx *p, const json_value *o, const char *key, int lo, int hi, int max_n,
                                const char *what, int *out, int *n) {
    const json_value *v = json_get(o, key);
    if (!v) return ANIM_OK;
    if (v->type != JSON_ARRAY || v->len == 0 || v->len > (size_t)max_n) return bad(p, key, what);
    int tmp[64];
    for (size_t i = 0; i < v->len; i++)
        if (!as_int(&v->items[i], lo, hi, &tmp[i])) return bad(p, key, what);
    for (size_t i = 0; i < v->len; i++) out[i] = tmp[i];
    *n = (int)v->len;
    return ANIM_OK;
}

/* string field; *out NULL when absent, error when present but not a string */
static anim_status get_str(const pctx *p, const json_value *o, const char *key, const char **out) {
    const json_value *v = json_get(o, key);
    *out = NULL;
    if (!v) return ANIM_OK;
    if (v->type != JSON_STRING) return bad(p, key, "a string");
    *out = v->str;
    return ANIM_OK;
}

static anim_status get_obj(const pctx *p, const json_value *o, const char *key, const json_value **out) {
    const json_value *v = json_get(o, key);
    *out = NULL;
    if (!v) return ANIM_OK;
    if (v->type != JSON_OBJECT) return bad(p, key, "an object");
    *out = v;
    return ANIM_OK;
}

/* Fields that must keep their upstream default: anything else selects a code
 * path (class embeddings, linear projections, ...) this engine does not have. */
typedef enum { FIX_NULL, FIX_FALSE, FIX_STR, FIX_NUM } fix_kind;
typedef struct fixed_field {
    const char *key;
    fix_kind kind;
    const char *str; /* FIX_STR: accepted spellings separated by '|' */
    double num;      /* FIX_NUM */
    const char *why;
} fixed_field;

static bool str_in(const char *s, const char *alts) {
    size_t n = strlen(s);
    for (const char *a = alts; a && *a;) {
        const char *bar = strchr(a, '|');
        size_t len = bar ? (size_t)(bar - a) : strlen(a);
        if (len == n && memcmp(a, s, n) == 0) return true;
        a = bar ? bar + 1 : NULL;
    }
    return false;
}

static anim_status check_fixed(const pctx *p, const json_value *o, const fixed_field *t, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const json_value *v = json_get(o, t[i].key);
        if (!v) continue;
        bool ok = false;
        switch (t[i].kind) {
        case FIX_NULL: ok = v->type == JSON_NULL; break;
        case FIX_FALSE: ok = v->type == JSON_NULL || (v->type == JSON_BOOL && !v->b); break;
        case FIX_STR: ok = v->type == JSON_STRING && str_in(v->str, t[i].str); break;
        case FIX_NUM: ok = v->type == JSON_NUMBER && v->num == t[i].num; break;
        }
        if (!ok) return unsup(p, t[i].key, v, t[i].why);
    }
    return ANIM_OK;
}

/* ---- UNet ---------------------------------------------------------------- */

void motion_module_config_default(motion_module_config *m) {
    /* Moore configs/inference/inference_v2.yaml motion_module_kwargs */
    m->num_attention_heads = 8;
    m->num_transformer_block = 1;
    m->n_attention_blocks = 2; /* [Temporal_Self, Temporal_Self] */
    m->temporal_position_encoding = true;
    m->temporal_position_encoding_max_len = 32;
    m->temporal_attention_dim_div = 1;
}

void unet_config_default(unet_config *c) {
    memset(c, 0, sizeof *c);
    /* runwayml/stable-diffusion-v1-5 unet/config.json */
    static const int boc[4] = {320, 640, 1280, 1280};
    c->in_channels = 4;
    c->out_channels = 4;
    c->n_levels = 4;
    memcpy(c->block_out_channels, boc, sizeof boc);
    c->n_down_types = c->n_up_types = 4;
    c->down_attn[0] = c->down_attn[1] = c->down_attn[2] = true; /* CrossAttnDownBlock2D x3, DownBlock2D */
    c->up_attn[1] = c->up_attn[2] = c->up_attn[3] = true;       /* UpBlock2D, CrossAttnUpBlock2D x3 */
    c->layers_per_block = 2;
    c->n_heads = 0;
    c->attention_heads[0] = 8;
    c->cross_attention_dim = 768;
    c->norm_num_groups = 32;
    c->norm_eps = 1e-5;
    c->flip_sin_to_cos = true;
    c->freq_shift = 0;
    c->downsample_padding = 1;
    c->mid_block_scale_factor = 1.0;
    c->upcast_attention = false;
    /* Moore inference_v2.yaml unet_additional_kwargs */
    c->use_inflated_groupnorm = true;
    c->use_motion_module = true;
    c->n_mm_resolutions = 4;
    for (int i = 0; i < 4; i++) c->motion_module_resolutions[i] = 1 << i;
    c->motion_module_mid_block = true;
    c->motion_module_decoder_only = false;
    c->motion_module_vanilla = true;
    motion_module_config_default(&c->mm);
}

int unet_config_down_heads(const unet_config *c, int i) {
    return c->n_heads == 0 ? c->attention_heads[0] : c->attention_heads[i];
}

/* diffusers: up block i gets reversed(attention_head_dim)[i], the mid block attention_head_dim[-1] */
int unet_config_up_heads(const unet_config *c, int i) { return unet_config_down_heads(c, c->n_levels - 1 - i); }

int unet_config_mid_heads(const unet_config *c) { return unet_config_down_heads(c, c->n_levels - 1); }

static bool mm_res_listed(const unet_config *c, int res) {
    for (int k = 0; k < c->n_mm_resolutions; k++)
        if (c->motion_module_resolutions[k] == res) return true;
    return false;
}

bool unet_config_mm_down(const unet_config *c, int level) {
    /* Moore unet_3d.py: res = 2**i; use_motion_module and res in resolutions and not decoder_only */
    return c->use_motion_module && level < 30 && mm_res_listed(c, 1 << level) && !c->motion_module_decoder_only;
}

bool unet_config_mm_up(const unet_config *c, int level) {
    /* Moore unet_3d.py: res = 2 ** (3 - i), whatever the number of levels */
    if (!c->use_motion_module || level > 3) return false; /* 2**negative is fractional: never listed */
    return mm_res_listed(c, 1 << (3 - level));
}

bool unet_config_mm_mid(const unet_config *c) { return c->use_motion_module && c->motion_module_mid_block; }

static const char *const UNET_DOWN_ATTN[] = {"CrossAttnDownBlock2D", "CrossAttnDownBlock3D"};
static const char *const UNET_DOWN_PLAIN[] = {"DownBlock2D", "DownBlock3D"};
static const char *const UNET_UP_ATTN[] = {"CrossAttnUpBlock2D", "CrossAttnUpBlock3D"};
static const char *const UNET_UP_PLAIN[] = {"UpBlock2D", "UpBlock3D"};

static anim_status parse_block_types(const pctx *p, const json_value *o, const char *key, bool up, bool *attn,
                                     int *n) {
    const json_value *v = json_get(o, key);
    if (!v) return ANIM_OK;
    if (v->type != JSON_ARRAY || v->len == 0 || v->len > UNET_MAX_LEVELS)
        return bad(p, key, "an array of 1 to 8 block type names");
    bool tmp[UNET_MAX_LEVELS];
    const char *const *a = up ? UNET_UP_ATTN : UNET_DOWN_ATTN;
    const char *const *b = up ? UNET_UP_PLAIN : UNET_DOWN_PLAIN;
    for (size_t i = 0; i < v->len; i++) {
        const json_value *s = &v->items[i];
        if (s->type != JSON_STRING) return bad(p, key, "an array of block type names");
        /* diffusers get_down_block strips a "UNetRes" prefix */
        const char *name = strncmp(s->str, "UNetRes", 7) == 0 ? s->str + 7 : s->str;
        if (!strcmp(name, a[0]) || !strcmp(name, a[1])) tmp[i] = true;
        else if (!strcmp(name, b[0]) || !strcmp(name, b[1])) tmp[i] = false;
        else {
            char k[64], why[128];
            snprintf(k, sizeof k, "%s[%zu]", key, i);
            snprintf(why, sizeof why, "expected %s or %s", a[0], b[0]);
            return unsup(p, k, s, why);
        }
    }
    memcpy(attn, tmp, v->len * sizeof *tmp);
    *n = (int)v->len;
    return ANIM_OK;
}

static const fixed_field UNET_FIXED[] = {
    {"center_input_sample", FIX_FALSE, NULL, 0, "must be false"},
    {"act_fn", FIX_STR, "silu|swish", 0, "only silu"},
    {"mid_block_type", FIX_STR, "UNetMidBlock2DCrossAttn|UNetMidBlock3DCrossAttn", 0,
     "only UNetMidBlock2DCrossAttn"},
    {"dual_cross_attention", FIX_FALSE, NULL, 0, "must be false"},
    {"class_embed_type", FIX_NULL, NULL, 0, "class embeddings are not implemented"},
    {"num_class_embeds", FIX_NULL, NULL, 0, "class embeddings are not implemented"},
    {"addition_embed_type", FIX_NULL, NULL, 0, "addition embeddings are not implemented"},
    {"addition_time_embed_dim", FIX_NULL, NULL, 0, "addition embeddings are not implemented"},
    {"projection_class_embeddings_input_dim", FIX_NULL, NULL, 0, "class embeddings are not implemented"},
    {"class_embeddings_concat", FIX_FALSE, NULL, 0, "must be false"},
    {"time_embedding_type", FIX_STR, "positional", 0, "only positional"},
    {"time_embedding_dim", FIX_NULL, NULL, 0, "must be null (4 x block_out_channels[0])"},
    {"time_embedding_act_fn", FIX_NULL, NULL, 0, "must be null"},
    {"timestep_post_act", FIX_NULL, NULL, 0, "must be null"},
    {"time_cond_proj_dim", FIX_NULL, NULL, 0, "must be null"},
    {"encoder_hid_dim", FIX_NULL, NULL, 0, "must be null"},
    {"encoder_hid_dim_type", FIX_NULL, NULL, 0, "must be null"},
    {"num_attention_heads", FIX_NULL, NULL, 0, "diffusers 0.24 rejects it too; use attention_head_dim"},
    {"resnet_time_scale_shift", FIX_STR, "default", 0, "only default"},
    {"resnet_skip_time_act", FIX_FALSE, NULL, 0, "must be false"},
    {"resnet_out_scale_factor", FIX_NUM, NULL, 1.0, "must be 1.0"},
    {"conv_in_kernel", FIX_NUM, NULL, 3, "must be 3"},
    {"conv_out_kernel", FIX_NUM, NULL, 3, "must be 3"},
    {"mid_block_only_cross_attention", FIX_FALSE, NULL, 0, "must be null or false"},
    {"cross_attention_norm", FIX_NULL, NULL, 0, "must be null"},
    {"attention_type", FIX_STR, "default", 0, "only default"},
    {"reverse_transformer_layers_per_block", FIX_NULL, NULL, 0, "must be null"},
    {"cross_frame_attention_mode", FIX_NULL, NULL, 0, "must be null"},
};

static anim_status parse_mm_kwargs(const pctx *p0, const json_value *o, motion_module_config *m) {
    char pre[160];
    snprintf(pre, sizeof pre, "%smotion_module_kwargs.", p0->prefix);
    pctx p = {p0->file, pre, p0->err};
    anim_status st;
    if ((st = get_int(&p, o, "num_attention_heads", 1, CH_MAX, "a positive integer", &m->num_attention_heads)) ||
        (st = get_int(&p, o, "num_transformer_block", 1, 64, "a positive integer", &m->num_transformer_block)) ||
        (st = get_bool(&p, o, "temporal_position_encoding", false, &m->temporal_position_encoding)) ||
        (st = get_int(&p, o, "temporal_position_encoding_max_len", 1, 1 << 16, "a positive integer",
                      &m->temporal_position_encoding_max_len)) ||
        (st = get_int(&p, o, "temporal_attention_dim_div", 1, CH_MAX, "a positive integer",
                      &m->temporal_attention_dim_div)))
        return st;
    const json_value *v = json_get(o, "attention_block_types");
    if (v) {
        if (v->type != JSON_ARRAY || v->len == 0 || v->len > MM_MAX_ATTN_BLOCKS)
            return bad(&p, "attention_block_types", "an array of 1 to 4 attention block names");
        for (size_t i = 0; i < v->len; i++) {
            const json_value *s = &v->items[i];
            if (s->type != JSON_STRING) return bad(&p, "attention_block_types", "an array of attention block names");
            if (strcmp(s->str, "Temporal_Self") != 0) {
                char k[48];
                snprintf(k, sizeof k, "attention_block_types[%zu]", i);
                return unsup(&p, k, s, "only Temporal_Self");
            }
        }
        m->n_attention_blocks = (int)v->len;
    }
    static const fixed_field MM_FIXED[] = {
        {"cross_frame_attention_mode", FIX_NULL, NULL, 0, "must be null"},
    };
    return check_fixed(&p, o, MM_FIXED, sizeof MM_FIXED / sizeof MM_FIXED[0]);
}

/* Every UNet3DConditionModel argument we model; config.json and
 * unet_additional_kwargs go through the same table (from_config(base, **kwargs)). */
static anim_status unet_fields(unet_config *c, const json_value *o, const pctx *p) {
    if (!o || o->type != JSON_OBJECT)
        return anim_seterr(p->err, ANIM_E_FORMAT, "%s: %s must be a JSON object", p->file,
                           p->prefix[0] ? p->prefix : "the top level");
    anim_status st;
    const char *pos = "a positive integer";
    if ((st = get_int(p, o, "in_channels", 1, CH_MAX, pos, &c->in_channels)) ||
        (st = get_int(p, o, "out_channels", 1, CH_MAX, pos, &c->out_channels)) ||
        (st = get_int_list(p, o, "block_out_channels", 1, CH_MAX, UNET_MAX_LEVELS,
                           "an array of positive integers", c->block_out_channels, &c->n_levels)) ||
        (st = get_int(p, o, "layers_per_block", 1, 64, pos, &c->layers_per_block)) ||
        (st = parse_block_types(p, o, "down_block_types", false, c->down_attn, &c->n_down_types)) ||
        (st = parse_block_types(p, o, "up_block_types", true, c->up_attn, &c->n_up_types)) ||
        (st = get_int(p, o, "cross_attention_dim", 1, CH_MAX, pos, &c->cross_attention_dim)) ||
        (st = get_int(p, o, "norm_num_groups", 1, CH_MAX, pos, &c->norm_num_groups)) ||
        (st = get_num(p, o, "norm_eps", 0, true, 1, "a number in (0, 1]", &c->norm_eps)) ||
        (st = get_bool(p, o, "flip_sin_to_cos", false, &c->flip_sin_to_cos)) ||
        (st = get_int(p, o, "freq_shift", 0, CH_MAX, "a non-negative integer", &c->freq_shift)) ||
        (st = get_int(p, o, "downsample_padding", 0, 16, "an integer in [0, 16]", &c->downsample_padding)) ||
        (st = get_num(p, o, "mid_block_scale_factor", 0, true, 1e6, "a positive number",
                      &c->mid_block_scale_factor)) ||
        (st = get_bool(p, o, "upcast_attention", true, &c->upcast_attention)) ||
        (st = check_fixed(p, o, UNET_FIXED, sizeof UNET_FIXED / sizeof UNET_FIXED[0])))
        return st;

    const json_value *v = json_get(o, "attention_head_dim");
    if (v) {
        if (v->type == JSON_ARRAY) {
            if ((st = get_int_list(p, o, "attention_head_dim", 1, CH_MAX, UNET_MAX_LEVELS,
                                   "a positive integer or an array of them", c->attention_heads, &c->n_heads)))
                return st;
        } else if (as_int(v, 1, CH_MAX, &c->attention_heads[0])) {
            c->n_heads = 0;
        } else {
            return bad(p, "attention_head_dim", "a positive integer or an array of them");
        }
    }
    if ((v = json_get(o, "use_linear_projection"))) {
        if (v->type != JSON_BOOL && v->type != JSON_NULL) return bad(p, "use_linear_projection", "a boolean");
        if (v->type == JSON_BOOL && v->b)
            return unsup(p, "use_linear_projection", v, "proj_in/proj_out are 1x1 convolutions in these models");
    }
    if ((v = json_get(o, "only_cross_attention"))) {
        bool any = false;
        if (v->type == JSON_BOOL) any = v->b;
        else if (v->type == JSON_ARRAY) {
            for (size_t i = 0; i < v->len; i++) {
                if (v->items[i].type != JSON_BOOL)
                    return bad(p, "only_cross_attention", "a boolean or an array of booleans");
                any |= v->items[i].b;
            }
        } else
            return bad(p, "only_cross_attention", "a boolean or an array of booleans");
        if (any) return unsup(p, "only_cross_attention", v, "self-attention is required");
    }
    if ((v = json_get(o, "transformer_layers_per_block"))) {
        bool ok = v->type == JSON_NUMBER && v->num == 1;
        if (v->type == JSON_ARRAY) {
            ok = true;
            for (size_t i = 0; i < v->len; i++) ok &= v->items[i].type == JSON_NUMBER && v->items[i].num == 1;
        }
        if (!ok) return unsup(p, "transformer_layers_per_block", v, "one transformer block per attention");
    }

    /* unet_additional_kwargs (Moore UNet3DConditionModel) */
    if ((st = get_bool(p, o, "use_inflated_groupnorm", true, &c->use_inflated_groupnorm)) ||
        (st = get_bool(p, o, "use_motion_module", true, &c->use_motion_module)) ||
        (st = get_bool(p, o, "motion_module_mid_block", true, &c->motion_module_mid_block)) ||
        (st = get_bool(p, o, "motion_module_decoder_only", true, &c->motion_module_decoder_only)))
        return st;
    if ((v = json_get(o, "motion_module_resolutions"))) {
        if (v->type != JSON_ARRAY || v->len > MM_MAX_RESOLUTIONS)
            return bad(p, "motion_module_resolutions", "an array of positive integers");
        int tmp[MM_MAX_RESOLUTIONS];
        for (size_t i = 0; i < v->len; i++)
            if (!as_int(&v->items[i], 1, 1 << 20, &tmp[i]))
                return bad(p, "motion_module_resolutions", "an array of positive integers");
        memcpy(c->motion_module_resolutions, tmp, v->len * sizeof *tmp);
        c->n_mm_resolutions = (int)v->len;
    }
    if ((v = json_get(o, "motion_module_type"))) {
        if (v->type == JSON_NULL) c->motion_module_vanilla = false;
        else if (v->type != JSON_STRING) return bad(p, "motion_module_type", "a string");
        else if (strcmp(v->str, "Vanilla") != 0) return unsup(p, "motion_module_type", v, "only Vanilla");
        else c->motion_module_vanilla = true;
    }
    static const char *const NO_TEMPORAL[] = {"unet_use_cross_frame_attention", "unet_use_temporal_attention"};
    for (int i = 0; i < 2; i++) {
        bool b = false;
        if ((st = get_bool(p, o, NO_TEMPORAL[i], true, &b))) return st;
        if (b) return unsup(p, NO_TEMPORAL[i], json_get(o, NO_TEMPORAL[i]), "must be false or null");
    }
    const json_value *mk;
    if ((st = get_obj(p, o, "motion_module_kwargs", &mk))) return st;
    if (mk && (st = parse_mm_kwargs(p, mk, &c->mm))) return st;
    return ANIM_OK;
}

anim_status unet_config_check(const unet_config *c, const char *file, anim_error *err) {
    const int n = c->n_levels;
    if (n < 1 || n > UNET_MAX_LEVELS)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: 'block_out_channels' must have 1 to %d entries", file,
                           UNET_MAX_LEVELS);
    if (c->n_down_types != n || c->n_up_types != n)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "%s: 'down_block_types' (%d) and 'up_block_types' (%d) must have as many entries as "
                           "'block_out_channels' (%d)",
                           file, c->n_down_types, c->n_up_types, n);
    if (c->n_heads != 0 && c->n_heads != n)
        return anim_seterr(err, ANIM_E_FORMAT,
                           "%s: 'attention_head_dim' has %d entries but there are %d down blocks", file, c->n_heads, n);
    for (int i = 0; i < n; i++)
        if (c->block_out_channels[i] % c->norm_num_groups)
            return anim_seterr(err, ANIM_E_FORMAT,
                               "%s: 'norm_num_groups' (%d) must divide every entry of 'block_out_channels' (%d)",
                               file, c->norm_num_groups, c->block_out_channels[i]);
    /* transformer widths: heads x (C // heads) must be C (no engine path for a narrower inner dim) */
    /* up level n-1-i runs at block_out_channels[i] with reversed(attention_head_dim)[n-1-i],
     * i.e. the same width and head count as down level i; the mid block is level n-1 */
    for (int i = 0; i < n; i++) {
        int C = c->block_out_channels[i], h = unet_config_down_heads(c, i);
        bool attn = c->down_attn[i] || c->up_attn[n - 1 - i] || i == n - 1;
        if (attn && C % h)
            return anim_seterr(err, ANIM_E_UNSUPPORTED,
                               "%s: 'attention_head_dim' (head count %d) does not divide the %d channels of level %d",
                               file, h, C, i);
    }
    if (!c->use_motion_module) return ANIM_OK;
    if (!c->motion_module_vanilla)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: 'motion_module_type' must be \"Vanilla\" when use_motion_module is true",
                           file);
    const motion_module_config *m = &c->mm;
    for (int i = 0; i < n; i++) {
        int C = c->block_out_channels[i];
        bool used = unet_config_mm_down(c, i) || unet_config_mm_up(c, n - 1 - i) || (i == n - 1 && unet_config_mm_mid(c));
        if (!used) continue;
        /* TemporalTransformer3DModel: GroupNorm(32 groups) is hard-coded upstream */
        if (C % 32)
            return anim_seterr(err, ANIM_E_FORMAT,
                               "%s: motion modules use GroupNorm with 32 groups; level %d has %d channels", file, i, C);
        int div = m->num_attention_heads * m->temporal_attention_dim_div;
        if (C % div)
            return anim_seterr(err, ANIM_E_UNSUPPORTED,
                               "%s: 'motion_module_kwargs.num_attention_heads' x 'temporal_attention_dim_div' (%d) "
                               "does not divide the %d channels of level %d",
                               file, div, C, i);
        if (m->temporal_position_encoding && (C / m->temporal_attention_dim_div) % 2)
            return anim_seterr(err, ANIM_E_FORMAT,
                               "%s: the temporal position encoding needs an even width; level %d has %d", file, i,
                               C / m->temporal_attention_dim_div);
    }
    return ANIM_OK;
}

anim_status unet_config_parse(unet_config *c, const json_value *root, const char *file, anim_error *err) {
    if (!file) file = "unet config";
    pctx p = {file, "", err};
    anim_status st = unet_fields(c, root, &p);
    return st ? st : unet_config_check(c, file, err);
}

anim_status unet_config_apply_kwargs(unet_config *c, const json_value *kwargs, const char *file, const char *prefix,
                                     anim_error *err) {
    if (!file) file = "model_config.json";
    pctx p = {file, prefix ? prefix : "", err};
    anim_status st = unet_fields(c, kwargs, &p);
    return st ? st : unet_config_check(c, file, err);
}

/* ---- scheduler ------------------------------------------------------------ */

void sched_config_default(sched_config *s) {
    /* Moore configs/inference/inference_v2.yaml noise_scheduler_kwargs (DDIMScheduler) */
    memset(s, 0, sizeof *s);
    s->num_train_timesteps = 1000;
    s->beta_start = 0.00085;
    s->beta_end = 0.012;
    s->beta_schedule = SCHED_BETA_LINEAR;
    s->clip_sample = false;
    s->clip_sample_range = 1.0;
    s->set_alpha_to_one = true;
    s->steps_offset = 1;
    s->prediction_type = SCHED_PRED_V;
    s->rescale_betas_zero_snr = true;
    s->timestep_spacing = SCHED_SPACING_TRAILING;
}

anim_status sched_config_parse(sched_config *s, const json_value *o, const char *file, const char *prefix,
                               anim_error *err) {
    pctx p = {file, prefix ? prefix : "", err};
    if (!o || o->type != JSON_OBJECT)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: '%s' must be an object", file, p.prefix);
    anim_status st;
    const char *str;
    if ((st = get_int(&p, o, "num_train_timesteps", 1, 100000, "a positive integer", &s->num_train_timesteps)) ||
        (st = get_num(&p, o, "beta_start", 0, true, 1, "a number in (0, 1)", &s->beta_start)) ||
        (st = get_num(&p, o, "beta_end", 0, true, 1, "a number in (0, 1)", &s->beta_end)) ||
        (st = get_bool(&p, o, "clip_sample", false, &s->clip_sample)) ||
        (st = get_num(&p, o, "clip_sample_range", 0, true, 1e6, "a positive number", &s->clip_sample_range)) ||
        (st = get_bool(&p, o, "set_alpha_to_one", false, &s->set_alpha_to_one)) ||
        (st = get_int(&p, o, "steps_offset", 0, 100000, "a non-negative integer", &s->steps_offset)) ||
        (st = get_bool(&p, o, "rescale_betas_zero_snr", false, &s->rescale_betas_zero_snr)))
        return st;
    if ((st = get_str(&p, o, "beta_schedule", &str))) return st;
    if (str) {
        if (!strcmp(str, "linear")) s->beta_schedule = SCHED_BETA_LINEAR;
        else if (!strcmp(str, "scaled_linear")) s->beta_schedule = SCHED_BETA_SCALED_LINEAR;
        else return unsup(&p, "beta_schedule", json_get(o, "beta_schedule"), "linear or scaled_linear");
    }
    if ((st = get_str(&p, o, "prediction_type", &str))) return st;
    if (str) {
        if (!strcmp(str, "epsilon")) s->prediction_type = SCHED_PRED_EPSILON;
        else if (!strcmp(str, "v_prediction")) s->prediction_type = SCHED_PRED_V;
        else return unsup(&p, "prediction_type", json_get(o, "prediction_type"), "epsilon or v_prediction");
    }
    if ((st = get_str(&p, o, "timestep_spacing", &str))) return st;
    if (str) {
        if (!strcmp(str, "leading")) s->timestep_spacing = SCHED_SPACING_LEADING;
        else if (!strcmp(str, "trailing")) s->timestep_spacing = SCHED_SPACING_TRAILING;
        else if (!strcmp(str, "linspace")) s->timestep_spacing = SCHED_SPACING_LINSPACE;
        else return unsup(&p, "timestep_spacing", json_get(o, "timestep_spacing"), "leading, trailing or linspace");
    }
    static const fixed_field SCHED_FIXED[] = {
        {"trained_betas", FIX_NULL, NULL, 0, "explicit betas are not implemented"},
        {"thresholding", FIX_FALSE, NULL, 0, "dynamic thresholding is not implemented"},
    };
    if ((st = check_fixed(&p, o, SCHED_FIXED, 2))) return st;
    if (s->beta_end < s->beta_start)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: '%sbeta_end' (%g) is below 'beta_start' (%g)", file, p.prefix,
                           s->beta_end, s->beta_start);
    return ANIM_OK;
}

/* ---- PoseGuider ----------------------------------------------------------- */

void pose_guider_config_default(pose_guider_config *g) {
    /* Moore scripts/pose2vid.py: PoseGuider(320, block_out_channels=(16, 32, 96, 256)) */
    static const int boc[4] = {16, 32, 96, 256};
    memset(g, 0, sizeof *g);
    g->conditioning_embedding_channels = 320;
    g->conditioning_channels = 3;
    g->n_blocks = 4;
    memcpy(g->block_out_channels, boc, sizeof boc);
}

anim_status pose_guider_config_parse(pose_guider_config *g, const json_value *o, const char *file,
                                     const char *prefix, anim_error *err) {
    pctx p = {file, prefix ? prefix : "", err};
    if (!o || o->type != JSON_OBJECT)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: '%s' must be an object", file, p.prefix);
    anim_status st;
    if ((st = get_int(&p, o, "conditioning_embedding_channels", 1, CH_MAX, "a positive integer",
                      &g->conditioning_embedding_channels)) ||
        (st = get_int(&p, o, "conditioning_channels", 1, CH_MAX, "a positive integer", &g->conditioning_channels)) ||
        (st = get_int_list(&p, o, "block_out_channels", 1, CH_MAX, PG_MAX_BLOCKS, "an array of positive integers",
                           g->block_out_channels, &g->n_blocks)))
        return st;
    return ANIM_OK;
}

/* ---- VAE ------------------------------------------------------------------ */

void vae_config_default(vae_config *v) {
    /* stabilityai/sd-vae-ft-mse config.json */
    static const int boc[4] = {128, 256, 512, 512};
    memset(v, 0, sizeof *v);
    v->in_channels = 3;
    v->out_channels = 3;
    v->latent_channels = 4;
    v->n_levels = 4;
    memcpy(v->block_out_channels, boc, sizeof boc);
    v->layers_per_block = 2;
    v->norm_num_groups = 32;
    v->scaling_factor = 0.18215;
}

static anim_status vae_types(const pctx *p, const json_value *o, const char *key, const char *want, int *n) {
    const json_value *v = json_get(o, key);
    *n = -1;
    if (!v) return ANIM_OK;
    if (v->type != JSON_ARRAY || v->len == 0 || v->len > VAE_MAX_LEVELS)
        return bad(p, key, "an array of 1 to 8 block type names");
    for (size_t i = 0; i < v->len; i++) {
        if (v->items[i].type != JSON_STRING) return bad(p, key, "an array of block type names");
        if (strcmp(v->items[i].str, want) != 0) {
            char k[48], why[64];
            snprintf(k, sizeof k, "%s[%zu]", key, i);
            snprintf(why, sizeof why, "only %s", want);
            return unsup(p, k, &v->items[i], why);
        }
    }
    *n = (int)v->len;
    return ANIM_OK;
}

anim_status vae_config_parse(vae_config *c, const json_value *o, const char *file, anim_error *err) {
    pctx p = {file, "", err};
    if (!o || o->type != JSON_OBJECT) return anim_seterr(err, ANIM_E_FORMAT, "%s: must be a JSON object", file);
    anim_status st;
    int nd, nu;
    const char *pos = "a positive integer";
    if ((st = get_int(&p, o, "in_channels", 1, CH_MAX, pos, &c->in_channels)) ||
        (st = get_int(&p, o, "out_channels", 1, CH_MAX, pos, &c->out_channels)) ||
        (st = get_int(&p, o, "latent_channels", 1, CH_MAX, pos, &c->latent_channels)) ||
        (st = get_int_list(&p, o, "block_out_channels", 1, CH_MAX, VAE_MAX_LEVELS, "an array of positive integers",
                           c->block_out_channels, &c->n_levels)) ||
        (st = get_int(&p, o, "layers_per_block", 1, 64, pos, &c->layers_per_block)) ||
        (st = get_int(&p, o, "norm_num_groups", 1, CH_MAX, pos, &c->norm_num_groups)) ||
        (st = get_num(&p, o, "scaling_factor", 0, true, 1e6, "a positive number", &c->scaling_factor)) ||
        (st = vae_types(&p, o, "down_block_types", "DownEncoderBlock2D", &nd)) ||
        (st = vae_types(&p, o, "up_block_types", "UpDecoderBlock2D", &nu)))
        return st;
    static const fixed_field VAE_FIXED[] = {
        {"act_fn", FIX_STR, "silu|swish", 0, "only silu"},
        {"shift_factor", FIX_NULL, NULL, 0, "latent shift is not implemented"},
        {"latents_mean", FIX_NULL, NULL, 0, "per-channel latent statistics are not implemented"},
        {"latents_std", FIX_NULL, NULL, 0, "per-channel latent statistics are not implemented"},
    };
    /* booleans that must be true */
    static const char *const MUST_TRUE[] = {"mid_block_add_attention", "use_quant_conv", "use_post_quant_conv"};
    for (int i = 0; i < 3; i++) {
        const json_value *v = json_get(o, MUST_TRUE[i]);
        if (!v) continue;
        if (v->type != JSON_BOOL) return bad(&p, MUST_TRUE[i], "a boolean");
        if (!v->b) return unsup(&p, MUST_TRUE[i], v, "must be true");
    }
    if ((st = check_fixed(&p, o, VAE_FIXED, sizeof VAE_FIXED / sizeof VAE_FIXED[0]))) return st;
    if ((nd >= 0 && nd != c->n_levels) || (nu >= 0 && nu != c->n_levels))
        return anim_seterr(err, ANIM_E_FORMAT,
                           "%s: 'down_block_types' and 'up_block_types' must have as many entries as "
                           "'block_out_channels' (%d)",
                           file, c->n_levels);
    for (int i = 0; i < c->n_levels; i++)
        if (c->block_out_channels[i] % c->norm_num_groups)
            return anim_seterr(err, ANIM_E_FORMAT,
                               "%s: 'norm_num_groups' (%d) must divide every entry of 'block_out_channels' (%d)",
                               file, c->norm_num_groups, c->block_out_channels[i]);
    return ANIM_OK;
}

/* ---- CLIP vision ---------------------------------------------------------- */

void clip_vision_config_default(clip_vision_config *c) {
    /* lambdalabs/sd-image-variations-diffusers image_encoder/config.json (ViT-L/14 @ 224) */
    memset(c, 0, sizeof *c);
    c->hidden_size = 1024;
    c->intermediate_size = 4096;
    c->num_hidden_layers = 24;
    c->num_attention_heads = 16;
    c->patch_size = 14;
    c->image_size = 224;
    c->num_channels = 3;
    c->projection_dim = 768;
    c->hidden_act = CLIP_ACT_QUICK_GELU;
    c->layer_norm_eps = 1e-5;
}

int clip_vision_num_positions(const clip_vision_config *c) {
    int g = c->image_size / c->patch_size;
    return g * g + 1;
}

static anim_status clip_fields(clip_vision_config *c, const json_value *o, const pctx *p) {
    anim_status st;
    const char *pos = "a positive integer", *act;
    if ((st = get_int(p, o, "hidden_size", 1, CH_MAX, pos, &c->hidden_size)) ||
        (st = get_int(p, o, "intermediate_size", 1, 1 << 18, pos, &c->intermediate_size)) ||
        (st = get_int(p, o, "num_hidden_layers", 1, 1024, pos, &c->num_hidden_layers)) ||
        (st = get_int(p, o, "num_attention_heads", 1, CH_MAX, pos, &c->num_attention_heads)) ||
        (st = get_int(p, o, "patch_size", 1, 1024, pos, &c->patch_size)) ||
        (st = get_int(p, o, "image_size", 1, 8192, pos, &c->image_size)) ||
        (st = get_int(p, o, "num_channels", 1, 64, pos, &c->num_channels)) ||
        (st = get_int(p, o, "projection_dim", 1, CH_MAX, pos, &c->projection_dim)) ||
        (st = get_num(p, o, "layer_norm_eps", 0, true, 1, "a number in (0, 1]", &c->layer_norm_eps)) ||
        (st = get_str(p, o, "hidden_act", &act)))
        return st;
    if (act) {
        if (!strcmp(act, "quick_gelu")) c->hidden_act = CLIP_ACT_QUICK_GELU;
        else if (!strcmp(act, "gelu")) c->hidden_act = CLIP_ACT_GELU;
        else return unsup(p, "hidden_act", json_get(o, "hidden_act"), "quick_gelu or gelu");
    }
    return ANIM_OK;
}

anim_status clip_vision_config_parse(clip_vision_config *c, const json_value *root, const char *file,
                                     anim_error *err) {
    if (!root || root->type != JSON_OBJECT)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: must be a JSON object", file);
    pctx p = {file, "", err};
    const json_value *vc;
    anim_status st = get_obj(&p, root, "vision_config", &vc);
    if (st) return st;
    if (vc) {
        /* full CLIPModel config: the vision tower's fields; its visual_projection is
         * sized by the top-level projection_dim unless the tower repeats it */
        if ((st = get_int(&p, root, "projection_dim", 1, CH_MAX, "a positive integer", &c->projection_dim)))
            return st;
        pctx pv = {file, "vision_config.", err};
        st = clip_fields(c, vc, &pv);
    } else {
        st = clip_fields(c, root, &p);
    }
    if (st) return st;
    if (c->hidden_size % c->num_attention_heads)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: 'hidden_size' (%d) must be a multiple of 'num_attention_heads' (%d)",
                           file, c->hidden_size, c->num_attention_heads);
    if (c->image_size < c->patch_size)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: 'image_size' (%d) is smaller than 'patch_size' (%d)", file,
                           c->image_size, c->patch_size);
    return ANIM_OK;
}

/* ---- model_config.json ---------------------------------------------------- */

void anim_model_config_default(anim_model_config *mc) {
    memset(mc, 0, sizeof *mc);
    unet_config_default(&mc->reference_unet);
    mc->reference_unet.use_motion_module = false; /* a UNet2DConditionModel */
    mc->reference_unet.use_inflated_groupnorm = false;
    unet_config_default(&mc->denoising_unet);
    sched_config_default(&mc->sched);
    pose_guider_config_default(&mc->pose_guider);
    mc->vae_latent_scaling = 0.18215;
    mc->clip_image_size = 224;
}

anim_status anim_model_config_parse(anim_model_config *mc, const json_value *unet_json, const char *unet_file,
                                    const json_value *model_json, const char *model_file, anim_error *err) {
    anim_model_config_default(mc);
    if (!model_file) model_file = "model_config.json";
    if (!unet_file) unet_file = "unet config";
    anim_status st;
    unet_config *d = &mc->denoising_unet;
    if (unet_json) {
        if ((st = unet_config_parse(&mc->reference_unet, unet_json, unet_file, err))) return st;
        mc->reference_unet.use_motion_module = false; /* a UNet2DConditionModel ignores these */
        mc->reference_unet.use_inflated_groupnorm = false;
        /* the denoising UNet is checked once, after the kwargs that may change it */
        pctx pu = {unet_file, "", err};
        if ((st = unet_fields(d, unet_json, &pu))) return st;
    }
    /* Moore UNet3DConditionModel.from_pretrained_2d replaces the block types of
     * the base config with this fixed 4-level layout before applying the kwargs */
    if (d->n_levels != 4)
        return anim_seterr(err, ANIM_E_UNSUPPORTED,
                           "%s: 'block_out_channels' has %d entries; the denoising UNet3D (from_pretrained_2d) "
                           "hard-codes 4 levels",
                           unet_file, d->n_levels);
    d->n_down_types = d->n_up_types = 4;
    for (int i = 0; i < 4; i++) {
        d->down_attn[i] = i < 3; /* CrossAttnDownBlock3D x3, DownBlock3D */
        d->up_attn[i] = i > 0;   /* UpBlock3D, CrossAttnUpBlock3D x3 */
    }
    if (!model_json) return unet_config_check(d, unet_file, err);

    pctx p = {model_file, "", err};
    if (model_json->type != JSON_OBJECT)
        return anim_seterr(err, ANIM_E_FORMAT, "%s: must be a JSON object", model_file);
    const json_value *o;
    if ((st = get_obj(&p, model_json, "unet_additional_kwargs", &o))) return st;
    if (o && (st = unet_config_apply_kwargs(d, o, model_file, "unet_additional_kwargs.", err))) return st;
    if (!o && (st = unet_config_check(d, unet_file, err))) return st;
    if ((st = get_obj(&p, model_json, "noise_scheduler_kwargs", &o))) return st;
    if (o && (st = sched_config_parse(&mc->sched, o, model_file, "noise_scheduler_kwargs.", err))) return st;
    if ((st = get_obj(&p, model_json, "pose_guider", &o))) return st;
    if (o && (st = pose_guider_config_parse(&mc->pose_guider, o, model_file, "pose_guider.", err))) return st;
    /* EchoMimic's FaceLocator is the PoseGuider with a 1-channel input: same settings, its own key */
    if ((st = get_obj(&p, model_json, "face_locator", &o))) return st;
    if (o && (st = pose_guider_config_parse(&mc->pose_guider, o, model_file, "face_locator.", err))) return st;
    if ((st = get_num(&p, model_json, "vae_latent_scaling", 0, true, 1e6, "a positive number",
                      &mc->vae_latent_scaling)) ||
        (st = get_int(&p, model_json, "clip_image_size", 1, 8192, "a positive integer", &mc->clip_image_size)))
        return st;
    static const fixed_field MODEL_FIXED[] = {{"sampler", FIX_STR, "DDIM", 0, "only DDIM"}};
    return check_fixed(&p, model_json, MODEL_FIXED, 1);
}

static anim_status load_json(const char *path, json_value **out, anim_error *err) {
    *out = json_parse_file(path, NULL, err);
    return *out ? ANIM_OK : (err && err->status ? err->status : ANIM_E_FORMAT);
}

anim_status anim_model_config_load(anim_model_config *mc, const char *unet_config_path, const char *model_config_path,
                                   anim_error *err) {
    json_value *u = NULL, *m = NULL;
    anim_status st = ANIM_OK;
    if (unet_config_path) st = load_json(unet_config_path, &u, err);
    if (!st && model_config_path) st = load_json(model_config_path, &m, err);
    if (!st) st = anim_model_config_parse(mc, u, unet_config_path, m, model_config_path, err);
    json_free(u);
    json_free(m);
    return st;
}

anim_status unet_config_load(unet_config *c, const char *path, anim_error *err) {
    json_value *j;
    anim_status st = load_json(path, &j, err);
    if (st) return st;
    unet_config_default(c);
    st = unet_config_parse(c, j, path, err);
    json_free(j);
    return st;
}

anim_status vae_config_load(vae_config *v, const char *path, anim_error *err) {
    json_value *j;
    anim_status st = load_json(path, &j, err);
    if (st) return st;
    vae_config_default(v);
    st = vae_config_parse(v, j, path, err);
    json_free(j);
    return st;
}

anim_status clip_vision_config_load(clip_vision_config *c, const char *path, anim_error *err) {
    json_value *j;
    anim_status st = load_json(path, &j, err);
    if (st) return st;
    clip_vision_config_default(c);
    st = clip_vision_config_parse(c, j, path, err);
    json_free(j);
    return st;
}
