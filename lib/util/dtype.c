/* dtype.c - element-type table and F16/BF16 <-> F32 conversions (bit exact). */
#include "util/dtype.h"

#include <string.h>

static const struct { const char *name; size_t size; } dtype_tab[ANIM_DT_COUNT] = {
    [ANIM_DT_F32] = {"F32", 4}, [ANIM_DT_F16] = {"F16", 2}, [ANIM_DT_BF16] = {"BF16", 2},
    [ANIM_DT_F64] = {"F64", 8}, [ANIM_DT_I64] = {"I64", 8}, [ANIM_DT_I32] = {"I32", 4},
    [ANIM_DT_I16] = {"I16", 2}, [ANIM_DT_I8] = {"I8", 1},   [ANIM_DT_U8] = {"U8", 1},
    [ANIM_DT_BOOL] = {"BOOL", 1},
};

size_t anim_dtype_size(anim_dtype t) { return (unsigned)t < ANIM_DT_COUNT ? dtype_tab[t].size : 0; }

const char *anim_dtype_name(anim_dtype t) {
    return (unsigned)t < ANIM_DT_COUNT ? dtype_tab[t].name : "?";
}

int anim_dtype_from_st(const char *s, size_t len) {
    for (int i = 0; i < ANIM_DT_COUNT; i++)
        if (strlen(dtype_tab[i].name) == len && memcmp(dtype_tab[i].name, s, len) == 0) return i;
    return -1;
}

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float anim_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return u2f(sign | 0x7f800000u | (man << 13)); /* inf / nan */
    if (exp == 0) {
        if (man == 0) return u2f(sign);
        /* subnormal: value = man * 2^-24, exact in f32 */
        float v = (float)man * u2f(0x33800000u); /* 2^-24 */
        return u2f(sign | f2u(v));
    }
    return u2f(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t anim_f32_to_f16(float f) {
    uint32_t u = f2u(f), sign = (u >> 16) & 0x8000;
    uint32_t a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (a > 0x7f800000u ? 0x200 : 0));
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* rounds to >= 65520: inf */
    if (a < 0x38800000u) {                                 /* below 2^-14: subnormal or zero */
        if (a < 0x33000000u) return (uint16_t)sign;        /* < 2^-25 rounds to 0 */
        uint32_t e = a >> 23, m = (a & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e;                          /* 14 + (127 - e) - 1 ... */
        /* value = m * 2^(e-150); half subnormal unit = 2^-24 -> q = m >> (126 - e) */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = a + 0xfff + ((a >> 13) & 1);              /* round to nearest even */
    return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
}

float anim_bf16_to_f32(uint16_t h) { return u2f((uint32_t)h << 16); }

uint16_t anim_f32_to_bf16(float f) {
    uint32_t u = f2u(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet nan */
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

static uint64_t ld_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

void anim_convert_to_f32(float *dst, const void *src, anim_dtype t, size_t n) {
    const unsigned char *p = (const unsigned char *)src;
    size_t es = anim_dtype_size(t);
    for (size_t i = 0; i < n; i++, p += es) {
        uint64_t v = ld_le(p, (int)es);
        switch (t) {
        case ANIM_DT_F32: dst[i] = u2f((uint32_t)v); break;
        case ANIM_DT_F16: dst[i] = anim_f16_to_f32((uint16_t)v); break;
        case ANIM_DT_BF16: dst[i] = anim_bf16_to_f32((uint16_t)v); break;
        case ANIM_DT_F64: { double d; memcpy(&d, &v, 8); dst[i] = (float)d; break; }
        case ANIM_DT_I64: dst[i] = (float)(int64_t)v; break;
        case ANIM_DT_I32: dst[i] = (float)(int32_t)(uint32_t)v; break;
        case ANIM_DT_I16: dst[i] = (float)(int16_t)(uint16_t)v; break;
        case ANIM_DT_I8: dst[i] = (float)(int8_t)(uint8_t)v; break;
        case ANIM_DT_U8: case ANIM_DT_BOOL: dst[i] = (float)(uint8_t)v; break;
        default: dst[i] = 0; break;
        }
    }
}
