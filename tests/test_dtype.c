/* test_dtype.c - F16/BF16 <-> F32 conversions are bit exact (round to nearest even). */
#include <stdlib.h>

#include "test.h"
#include "util/dtype.h"

static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float fromb(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* reference f32 -> f16 via double arithmetic: nearest representable half, ties to even */
static uint16_t ref_f32_to_f16(float f) {
    if (isnan(f)) return 0x7e00;
    uint16_t best = 0;
    double bd = INFINITY;
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (a >= 65520.0) return sign | 0x7c00;
    for (uint32_t h = 0; h < 0x7c00; h++) {
        double v = anim_f16_to_f32((uint16_t)h);
        double d = fabs(v - a);
        if (d < bd || (d == bd && !(h & 1))) { bd = d; best = (uint16_t)h; }
    }
    return sign | best;
}

TEST(dtype_f16_to_f32_all_values_roundtrip) {
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = anim_f16_to_f32((uint16_t)h);
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) { CHECK(isnan(f)); continue; }
        CHECK_MSG(anim_f32_to_f16(f) == h, "half 0x%04x -> %g -> 0x%04x", h, f, anim_f32_to_f16(f));
    }
    CHECK(anim_f16_to_f32(0x3c00) == 1.0f);
    CHECK(anim_f16_to_f32(0x0001) == 5.960464477539063e-08f); /* smallest subnormal 2^-24 */
    CHECK(anim_f16_to_f32(0x7bff) == 65504.0f);
}

TEST(dtype_f32_to_f16_rounding_matches_reference) {
    test_rng r;
    test_rng_seed(&r, 3);
    /* random floats across the half range, including subnormals and ties */
    for (int i = 0; i < 400; i++) {
        float f;
        if (i % 4 == 0) f = test_rng_uniform(&r, -1e-4f, 1e-4f);         /* subnormal region */
        else if (i % 4 == 1) f = test_rng_uniform(&r, -70000.f, 70000.f); /* overflow edge */
        else if (i % 4 == 2) f = test_rng_uniform(&r, -2.f, 2.f);
        else { /* exact midpoint between two halves */
            uint16_t h = (uint16_t)(test_rng_u64(&r) % 0x7bff);
            f = (float)(((double)anim_f16_to_f32(h) + (double)anim_f16_to_f32((uint16_t)(h + 1))) / 2);
        }
        uint16_t got = anim_f32_to_f16(f), want = ref_f32_to_f16(f);
        CHECK_MSG(got == want, "f32 %.10g (0x%08x) -> 0x%04x, want 0x%04x", f, bits(f), got, want);
    }
    CHECK(anim_f32_to_f16(65519.0f) == 0x7bff);
    CHECK(anim_f32_to_f16(65520.0f) == 0x7c00);
    CHECK(anim_f32_to_f16(-INFINITY) == 0xfc00);
    CHECK((anim_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (anim_f32_to_f16(NAN) & 0x3ff));
}

TEST(dtype_bf16_round_to_nearest_even) {
    CHECK(anim_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(anim_bf16_to_f32(0x3f80) == 1.0f);
    /* 1 + 2^-8 is the midpoint between bf16 1.0 and 1.0078125: ties to even (1.0) */
    CHECK(anim_f32_to_bf16(fromb(0x3f808000)) == 0x3f80);
    CHECK(anim_f32_to_bf16(fromb(0x3f818000)) == 0x3f82);
    CHECK(anim_f32_to_bf16(fromb(0x3f808001)) == 0x3f81);
    CHECK(isnan(anim_bf16_to_f32(anim_f32_to_bf16(NAN))));
}

TEST(dtype_convert_to_f32_little_endian) {
    const unsigned char f16[] = {0x00, 0x3c, 0x00, 0xc0};              /* 1.0, -2.0 */
    const unsigned char i64[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0, 0, 0, 0, 0};
    const unsigned char f64[] = {0, 0, 0, 0, 0, 0, 0xf8, 0x3f};        /* 1.5 */
    float out[2];
    anim_convert_to_f32(out, f16, ANIM_DT_F16, 2);
    CHECK(out[0] == 1.0f && out[1] == -2.0f);
    anim_convert_to_f32(out, i64, ANIM_DT_I64, 2);
    CHECK(out[0] == -1.0f && out[1] == 7.0f);
    anim_convert_to_f32(out, f64, ANIM_DT_F64, 1);
    CHECK(out[0] == 1.5f);
    CHECK(anim_dtype_from_st("BF16", 4) == ANIM_DT_BF16);
    CHECK(anim_dtype_from_st("F8_E4M3", 7) == -1);
}
