/*
 * test_face.c - EchoMimic's face mask / crop geometry (pipe/face.c) and
 * OpenCV's INTER_LINEAR resize (pipe/cv_resize.c).
 *
 * Against the echomimic-tiny fixture (tests/fixtures/echomimic-tiny/inputs:
 * face_box.json, portrait.png, face_mask_before_crop.png, ref_image.png,
 * face_mask.png, face_mask.safetensors - all produced by the real upstream
 * code with numpy 1.24 and cv2 4.6), against cv2 4.6 outputs recorded below
 * for a formula-generated picture, and against values worked out by hand
 * from the rules in cv_resize.h and face.h (upstream expressions quoted).
 */
#include "test.h"

#include <stdlib.h>

#include "io/image.h"
#include "io/json.h"
#include "io/tensor_file.h"
#include "pipe/cv_resize.h"
#include "pipe/face.h"

#define FACE_DIR "tests/fixtures/echomimic-tiny/inputs"

/* ---- helpers --------------------------------------------------------------- */

/* The test picture the recorded cv2 outputs were computed from (the same
 * expression was evaluated in numpy): value(x, y, c) below. */
static uint8_t *gen_src(int w, int h, int cn) {
    uint8_t *p = malloc((size_t)w * h * cn);
    if (!p) return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < cn; c++)
                p[((size_t)y * w + x) * cn + c] = (uint8_t)((x * 37 + y * 91 + c * 53 + x * y * 7 + (x ^ y) * 13) & 255);
    return p;
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* The textbook fixed-point rounding, (H0 b0 + H1 b1 + 2^21) >> 22, over the
 * same tables: what cv2 does NOT do for 8-bit pictures. Used to show that the
 * tests below tell the two apart. */
static void resize_rounding22(const uint8_t *src, int sw, int sh, int cn, uint8_t *dst, int dw, int dh) {
    cv_resize_axis ax, ay;
    anim_error err;
    if (cv_resize_axis_build(sw, dw, true, &ax, &err) || cv_resize_axis_build(sh, dh, false, &ay, &err)) abort();
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++)
            for (int c = 0; c < cn; c++) {
                int64_t hv[2];
                for (int k = 0; k < 2; k++) {
                    int sy = ay.ofs[y] + k;
                    sy = sy < 0 ? 0 : (sy >= sh ? sh - 1 : sy);
                    const uint8_t *p = src + ((size_t)sy * sw + ax.ofs[x]) * cn + c;
                    hv[k] = x < ax.xmax ? (int64_t)p[0] * ax.w[2 * x] + (int64_t)p[cn] * ax.w[2 * x + 1]
                                        : (int64_t)p[0] * 2048;
                }
                int64_t v = (hv[0] * ay.w[2 * y] + hv[1] * ay.w[2 * y + 1] + (1 << 21)) >> 22;
                dst[((size_t)y * dw + x) * cn + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    cv_resize_axis_free(&ax);
    cv_resize_axis_free(&ay);
}

static size_t count_diff(const uint8_t *a, const uint8_t *b, size_t n) {
    size_t d = 0;
    for (size_t i = 0; i < n; i++) d += a[i] != b[i];
    return d;
}

/* Read a fixture picture (ANIM_E_UNSUPPORTED when PNG support is not built). */
static anim_status read_pic(const char *name, anim_image *img, anim_error *err) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", FACE_DIR, name);
    return anim_image_read(path, img, err);
}

#define NEED_FIXTURE()                                                                         \
    do {                                                                                       \
        FILE *f_ = fopen(FACE_DIR "/face_box.json", "rb");                                     \
        if (!f_) SKIP("fixture " FACE_DIR " missing");                                         \
        fclose(f_);                                                                            \
    } while (0)

#define READ_PIC(name, img, errp)                                                              \
    do {                                                                                       \
        anim_status st_ = read_pic(name, img, errp);                                           \
        if (st_ == ANIM_E_UNSUPPORTED) SKIP("PNG support not built");                          \
        CHECK_OK(st_, errp);                                                                   \
    } while (0)

static const float FIXTURE_BOX[4] = {28.4f, 24.6f, 57.3f, 60.2f};

/* ---- cv_resize: tables and roundings by hand -------------------------------- */

TEST(cv_resize_tables_by_hand) {
    anim_error err;
    cv_resize_axis a;
    /* 2 -> 4 columns: scale = 1 / (4 / 2) = 0.5, f = (d + 0.5) * 0.5 - 0.5 =
     * -0.25, 0.25, 0.75, 1.25. d=0: s=-1 -> clamped (0, f=0); d=3: s=1 >=
     * src-1 -> clamped (1, f=0), xmax = 3. Weights rint((1-f)*2048), rint(f*2048). */
    CHECK_OK(cv_resize_axis_build(2, 4, true, &a, &err), &err);
    static const int ofs_c[4] = {0, 0, 0, 1};
    static const int16_t w_c[8] = {2048, 0, 1536, 512, 512, 1536, 2048, 0};
    for (int i = 0; i < 4; i++) CHECK(a.ofs[i] == ofs_c[i]);
    for (int i = 0; i < 8; i++) CHECK(a.w[i] == w_c[i]);
    CHECK(a.xmax == 3);
    cv_resize_axis_free(&a);
    /* the same as rows: no clamping, s = -1 keeps f = 0.75 */
    CHECK_OK(cv_resize_axis_build(2, 4, false, &a, &err), &err);
    static const int ofs_r[4] = {-1, 0, 0, 1};
    static const int16_t w_r[8] = {512, 1536, 1536, 512, 512, 1536, 1536, 512};
    for (int i = 0; i < 4; i++) CHECK(a.ofs[i] == ofs_r[i]);
    for (int i = 0; i < 8; i++) CHECK(a.w[i] == w_r[i]);
    cv_resize_axis_free(&a);
    /* 5 -> 3: scale = 1 / 0.6 = 1.6666666666666667; f = 0.33333334f (w
     * rint(1365.33) = 1365, rint(682.67) = 683), 2.0 (s 2, f 0), 3.6666667f
     * (s 3: 683, 1365); no clamping when downscaling. */
    CHECK_OK(cv_resize_axis_build(5, 3, true, &a, &err), &err);
    static const int ofs_d[3] = {0, 2, 3};
    static const int16_t w_d[6] = {1365, 683, 2048, 0, 683, 1365};
    for (int i = 0; i < 3; i++) CHECK(a.ofs[i] == ofs_d[i]);
    for (int i = 0; i < 6; i++) CHECK(a.w[i] == w_d[i]);
    CHECK(a.xmax == 3);
    cv_resize_axis_free(&a);
    /* 4 -> 1: f = 0.5 * 4 - 0.5 = 1.5, s 1, weights 1024 / 1024 */
    CHECK_OK(cv_resize_axis_build(4, 1, true, &a, &err), &err);
    CHECK(a.ofs[0] == 1 && a.w[0] == 1024 && a.w[1] == 1024);
    cv_resize_axis_free(&a);
    CHECK_STATUS(cv_resize_axis_build(0, 3, true, &a, &err), ANIM_E_INVALID_ARG, &err);
}

TEST(cv_resize_vertical_rounding) {
    /* out = (((b0 * (H0 >> 4)) >> 16) + ((b1 * (H1 >> 4)) >> 16) + 2) >> 2 */
    /* H0 = 51200, H1 = 437760, b = 1536, 512: 3200 * 1536 >> 16 = 75,
     * 27360 * 512 >> 16 = 213 (213.75), (75 + 213 + 2) >> 2 = 72 */
    CHECK(cv_resize_vert(51200, 437760, 1536, 512) == 72);
    /* Where the textbook rounding parts from it: the grey column [1, 7]
     * resized to 1 x 5, output row 1. Rows: scale = 1 / (5 / 2) = 0.4,
     * f = (float)(1.5 * 0.4 - 0.5) = 0.1f, s = 0 -> b0 = rint(0.9f * 2048)
     * = 1843, b1 = rint(0.1f * 2048) = 205; H0 = 1 * 2048, H1 = 7 * 2048.
     *   cv2: 128 * 1843 >> 16 = 3 (3.6), 896 * 205 >> 16 = 2 (2.8),
     *        (3 + 2 + 2) >> 2 = 1
     *   (H0 b0 + H1 b1 + 2^21) >> 22 = 8810496 >> 22 = 2 (2.1)
     * cv2 4.6 gives 1 (checked), although 0.9 * 1 + 0.1 * 7 = 1.6. */
    CHECK(cv_resize_vert(2048, 7 * 2048, 1843, 205) == 1);
    CHECK(((2048LL * 1843 + 7LL * 2048 * 205 + (1 << 21)) >> 22) == 2);
    anim_error err;
    static const uint8_t col[2] = {1, 7};
    uint8_t out[5];
    CHECK_OK(cv_resize_u8(col, 1, 2, 1, out, 1, 5, &err), &err);
    CHECK(out[1] == 1);
    /* a uniform white picture stays white (no saturation on the way):
     * 255 * 2048 >> 4 = 32640 fits int16 */
    CHECK(cv_resize_vert(255 * 2048, 255 * 2048, 1024, 1024) == 255);
    CHECK(cv_resize_vert(255 * 2048, 255 * 2048, 2048, 0) == 255);
}

/* ---- cv_resize: whole pictures by hand -------------------------------------- */

TEST(cv_resize_identity_is_copy) {
    anim_error err;
    uint8_t *s = gen_src(7, 5, 3), d[7 * 5 * 3];
    CHECK(s);
    CHECK_OK(cv_resize_u8(s, 7, 5, 3, d, 7, 5, &err), &err);
    bool same = memcmp(s, d, sizeof d) == 0;
    free(s);
    CHECK(same);
}

TEST(cv_resize_2x_up_by_hand) {
    anim_error err;
    /* 2x2 grey [[0, 100], [200, 255]] -> 4x4. Column tables as in
     * cv_resize_tables_by_hand; horizontal pass: row 0 -> 0, 51200, 153600,
     * 204800; row 1 -> 409600, 437760, 494080, 522240. Output row 0 (rows
     * -1 and 0, both clamped to 0, b = 512, 1536) gives H0 >> 4 * 2048 >> 16
     * = the row-0 values: 0, 25, 75, 100. Row 1 (rows 0, 1; b = 1536, 512):
     * x0: 0 + 25600*512>>16 = 200 -> (0+200+2)>>2 = 50; x1: 75 + 213 -> 72;
     * x2: 9600*1536>>16 = 225, 30880*512>>16 = 241 -> (466+2)>>2 = 117;
     * x3: 12800*1536>>16 = 300, 32640*512>>16 = 255 -> (555+2)>>2 = 139.
     * Row 2 (f = 0.75: rows 0, 1, b = 512, 1536): x0 0 + 600 -> 150,
     * x1 25 + 641 -> 167. Row 3 (f = 1.25: s = 1, rows 1 and 2 -> 1, b =
     * 1536, 512): x1 641 + 213 -> 214, x3 765 + 255 -> 255. Checked with
     * cv2 4.6. */
    static const uint8_t s[4] = {0, 100, 200, 255};
    static const uint8_t want[16] = {0,   25,  75,  100,   /* row 0 */
                                     50,  72,  117, 139,   /* row 1 */
                                     150, 167, 200, 216,   /* row 2 */
                                     200, 214, 241, 255};  /* row 3 */
    uint8_t d[16];
    CHECK_OK(cv_resize_u8(s, 2, 2, 1, d, 4, 4, &err), &err);
    for (int i = 0; i < 16; i++) CHECK_MSG(d[i] == want[i], "pixel %d: %d, want %d", i, d[i], want[i]);
}

TEST(cv_resize_down_non_integer_by_hand) {
    anim_error err;
    /* 5x1 -> 3x1 (height unchanged but the width changes: the general path).
     * Weights (1365, 683), (2048, 0) at 2, (683, 1365) at 3; the single row is
     * both source rows with b = (2048, 0):
     *   x0: 10*1365 + 20*683 = 27310 >> 4 = 1706, * 2048 >> 16 = 53 -> (53+2)>>2 = 13
     *   x1: 30*2048 = 61440 >> 4 = 3840 -> 120 -> 30
     *   x2: 40*683 + 50*1365 = 95570 >> 4 = 5973 -> 186 -> 47 */
    static const uint8_t s[5] = {10, 20, 30, 40, 50};
    uint8_t d[3];
    CHECK_OK(cv_resize_u8(s, 5, 1, 1, d, 3, 1, &err), &err);
    CHECK(d[0] == 13 && d[1] == 30 && d[2] == 47);
    /* 4x1 -> 1x1: f = 0.5 * 4 - 0.5 = 1.5 -> pixels 1 and 2 at 1024 each: 25 */
    static const uint8_t s4[4] = {10, 20, 30, 40};
    CHECK_OK(cv_resize_u8(s4, 4, 1, 1, d, 1, 1, &err), &err);
    CHECK(d[0] == 25);
    /* 3x1 -> 1x1: f = 0.5 * 3 - 0.5 = 1.0 -> the middle pixel */
    CHECK_OK(cv_resize_u8(s4, 3, 1, 1, d, 1, 1, &err), &err);
    CHECK(d[0] == 20);
}

TEST(cv_resize_exact_2x_down_is_area) {
    anim_error err;
    /* src exactly 2x dst on both axes: OpenCV takes INTER_AREA's fast path,
     * (a + b + c + d + 2) >> 2 (for 1, 3 and 4 channels). */
    static const uint8_t s[8] = {1, 2, 3, 4, 5, 6, 7, 9};
    uint8_t d[2];
    CHECK_OK(cv_resize_u8(s, 4, 2, 1, d, 2, 1, &err), &err);
    CHECK(d[0] == 4 && d[1] == 6);   /* (1+2+5+6+2)>>2 = 4, (3+4+7+9+2)>>2 = 6 */
    /* with 2 channels the generic area loop runs: rint(sum * 0.25f), half to
     * even: channel 0 sums 1+3+3+3 = 10 -> 2.5 -> 2 (where (10+2)>>2 = 3),
     * channel 1 sums 2+4+4+4 = 14 -> 3.5 -> 4. */
    static const uint8_t s2[8] = {1, 2, 3, 4, 3, 4, 3, 4};
    CHECK_OK(cv_resize_u8(s2, 2, 2, 2, d, 1, 1, &err), &err);
    CHECK(d[0] == 2 && d[1] == 4);
}

TEST(cv_resize_one_pixel_pictures) {
    anim_error err;
    /* 1x1 -> 5x3: H = p * 2048 (xmax = 0), both rows are row 0 and the row
     * weights sum to 2048 with exact quarters: every output is p. */
    static const uint8_t s[3] = {7, 128, 255};
    uint8_t d[5 * 3 * 3];
    CHECK_OK(cv_resize_u8(s, 1, 1, 3, d, 5, 3, &err), &err);
    for (int i = 0; i < 15; i++) CHECK(d[3 * i] == 7 && d[3 * i + 1] == 128 && d[3 * i + 2] == 255);
    /* 1 wide -> 1 wide, 1 tall -> 1 tall, and bad sizes */
    uint8_t col[3] = {0, 90, 180}, o[6];
    CHECK_OK(cv_resize_u8(col, 1, 3, 1, o, 1, 6, &err), &err);
    /* rows: scale 0.5, f = -0.25 (s -1: rows 0, 0), 0.25, 0.75, 1.25, 1.75,
     * 2.25 (s 2: rows 2, 2). H = 0, 184320, 368640 (>> 4: 0, 11520, 23040):
     * row 1: 11520 * 512 >> 16 = 90 -> (90 + 2) >> 2 = 23; row 2: 11520 *
     * 1536 >> 16 = 270 -> 68; row 3: 270 + 180 -> 113; row 4: 90 + 540 ->
     * 158; row 5: 180. (cv2 4.6: the same.) */
    static const uint8_t want[6] = {0, 23, 68, 113, 158, 180};
    for (int i = 0; i < 6; i++) CHECK_MSG(o[i] == want[i], "row %d: %d, want %d", i, o[i], want[i]);
    CHECK_STATUS(cv_resize_u8(col, 1, 3, 1, o, 0, 6, &err), ANIM_E_INVALID_ARG, &err);
    CHECK_STATUS(cv_resize_u8(col, 1, 3, 5, o, 1, 6, &err), ANIM_E_INVALID_ARG, &err);
}

/* ---- cv_resize: against recorded cv2 4.6 outputs -------------------------------- */

TEST(cv_resize_matches_cv2) {
    anim_error err;
    /* cv2.resize(gen_src(9, 7, cn), (dw, dh)) with cv2 4.6.0, in full for the
     * small ones, as FNV-1a 64 of the bytes for the others; `diff22` is how
     * many values the textbook rounding gets wrong (checked below, so the
     * cases do tell the two roundings apart). */
    static const uint8_t want_13x5x3[195] = {
        21, 74, 127, 46, 99, 152, 80, 121, 174, 119, 125, 178, 152, 154, 81, 171, 189, 37, 175, 228, 76, 207, 118,
        108, 164, 91, 125, 77, 126, 131, 109, 122, 163, 122, 147, 200, 125, 178, 231, 166, 66, 119, 111, 93, 146,
        73, 102, 155, 101, 59, 112, 135, 86, 139, 155, 90, 143, 155, 55, 108, 84, 90, 143, 68, 121, 134, 97, 142,
        100, 132, 106, 135, 144, 71, 124, 144, 43, 96, 56, 109, 162, 80, 133, 186, 111, 164, 217, 143, 196, 249,
        174, 227, 122, 158, 211, 87, 84, 137, 190, 115, 168, 221, 146, 199, 154, 177, 211, 27, 209, 65, 59, 170,
        85, 138, 112, 165, 218, 99, 152, 52, 137, 107, 89, 155, 90, 119, 112, 153, 112, 150, 140, 154, 174, 124,
        177, 165, 115, 168, 143, 164, 111, 109, 162, 81, 76, 121, 79, 124, 99, 128, 113, 111, 116, 80, 133, 83,
        91, 144, 197, 137, 80, 133, 189, 37, 78, 226, 75, 80, 157, 100, 133, 122, 123, 176, 145, 146, 200, 168,
        64, 117, 200, 48, 81, 224, 84, 90, 141, 108, 149, 107, 132, 162, 99, 152, 154};
    static const uint8_t want_4x3x3[36] = {92,  146, 199, 211, 94,  72,  153, 131, 163, 142, 88,  141,
                                           84,  137, 190, 185, 238, 67,  135, 188, 209, 179, 72,  125,
                                           86,  86,  139, 187, 80,  111, 113, 80,  112, 163, 109, 98};
    static const uint8_t want_5x11x1[55] = {20,  110, 200, 85,  124, 64,  162, 144, 125, 121, 118, 207, 88,  160,
                                            121, 127, 91,  172, 66,  149, 110, 82,  163, 76,  159, 74,  155, 84,
                                            165, 155, 148, 104, 102, 90,  85,  148, 107, 148, 72,  86,  46,  179,
                                            232, 128, 179, 95,  201, 176, 195, 133, 149, 211, 120, 244, 83};
    static const struct {
        int sw, sh, cn, dw, dh;
        const uint8_t *full;
        uint64_t fnv;
        int diff22;
    } cases[] = {
        {9, 7, 3, 13, 5, want_13x5x3, UINT64_C(0x4130e40c0d190806), 12},
        {9, 7, 3, 4, 3, want_4x3x3, UINT64_C(0x54a1eae969fd50a0), 2},
        {9, 7, 1, 5, 11, want_5x11x1, UINT64_C(0x6849c122cde2e655), 3},
        {9, 7, 1, 23, 6, NULL, UINT64_C(0x959f1b7877df3abc), 19},
        {9, 7, 3, 18, 14, NULL, UINT64_C(0x3a16bb2ecfc9f46b), 60},
        {9, 7, 3, 20, 17, NULL, UINT64_C(0x81bbd71c82f60e4e), 98},
        {9, 7, 1, 3, 2, NULL, UINT64_C(0x63aa1671adef9444), 0},
        {57, 57, 3, 64, 64, NULL, UINT64_C(0x4fc4f6edf3994f10), 1456},
        {31, 45, 1, 64, 64, NULL, UINT64_C(0xe0925711f85f91e1), 488},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int sw = cases[k].sw, sh = cases[k].sh, cn = cases[k].cn, dw = cases[k].dw, dh = cases[k].dh;
        size_t n = (size_t)dw * dh * cn;
        uint8_t *s = gen_src(sw, sh, cn), *d = malloc(n), *d22 = malloc(n);
        CHECK(s && d && d22);
        anim_status st = cv_resize_u8(s, sw, sh, cn, d, dw, dh, &err);
        resize_rounding22(s, sw, sh, cn, d22, dw, dh);
        size_t bad = cases[k].full ? count_diff(d, cases[k].full, n) : 0;
        uint64_t h = fnv1a(d, n);
        size_t diff22 = count_diff(d, d22, n);
        free(s);
        free(d);
        free(d22);
        CHECK_OK(st, &err);
        CHECK_MSG(bad == 0, "%dx%dx%d -> %dx%d: %zu values differ from cv2", sw, sh, cn, dw, dh, bad);
        CHECK_MSG(h == cases[k].fnv, "%dx%dx%d -> %dx%d: hash %016llx, cv2 %016llx", sw, sh, cn, dw, dh,
                  (unsigned long long)h, (unsigned long long)cases[k].fnv);
        CHECK_MSG(diff22 == (size_t)cases[k].diff22, "%dx%dx%d -> %dx%d: textbook rounding differs at %zu, want %d",
                  sw, sh, cn, dw, dh, diff22, cases[k].diff22);
    }
}

/* ---- face geometry against the fixture --------------------------------------------- */

static bool json_ints(const json_value *root, const char *key, int *out, int n) {
    const json_value *a = json_get(root, key);
    if (!a || a->type != JSON_ARRAY || (int)a->len != n) return false;
    for (int i = 0; i < n; i++) {
        if (a->items[i].type != JSON_NUMBER) return false;
        out[i] = (int)a->items[i].num;
    }
    return true;
}

TEST(face_fixture_geometry) {
    NEED_FIXTURE();
    anim_error err;
    json_value *j = json_parse_file(FACE_DIR "/face_box.json", NULL, &err);
    CHECK_MSG(j, "%s", err.msg);
    int rounded[4], rows[2], cols[2], crop[4], square[4], sqsize[2], resized[2], psize[2];
    float boxf[4];
    const json_value *fb = json_get(j, "face_box_xyxy_float");
    bool ok = fb && fb->type == JSON_ARRAY && fb->len == 4 && json_ints(j, "face_box_xyxy_rounded", rounded, 4) &&
              json_ints(j, "mask_rows", rows, 2) && json_ints(j, "mask_cols", cols, 2) &&
              json_ints(j, "crop_rect", crop, 4) && json_ints(j, "square_crop_xyxy", square, 4) &&
              json_ints(j, "square_crop_size", sqsize, 2) && json_ints(j, "resized_to", resized, 2) &&
              json_ints(j, "portrait_size", psize, 2);
    if (ok)
        for (int i = 0; i < 4; i++) boxf[i] = (float)fb->items[i].num;
    json_free(j);
    CHECK_MSG(ok, "face_box.json lacks a field");
    for (int i = 0; i < 4; i++) CHECK(boxf[i] == FIXTURE_BOX[i]);

    face_geometry g;
    CHECK_OK(face_geometry_compute(psize[0], psize[1], boxf, NULL, &g, &err), &err);
    CHECK(g.has_box && g.img_w == 80 && g.img_h == 96);
    for (int i = 0; i < 4; i++) CHECK_MSG(g.box[i] == rounded[i], "box[%d] %d, want %d", i, g.box[i], rounded[i]);
    CHECK(g.mask_rows[0] == rows[0] && g.mask_rows[1] == rows[1]);
    CHECK(g.mask_cols[0] == cols[0] && g.mask_cols[1] == cols[1]);
    CHECK(g.mask_y0 == rows[0] && g.mask_y1 == rows[1] && g.mask_x0 == cols[0] && g.mask_x1 == cols[1]);
    CHECK(!g.mask_wrapped);
    for (int i = 0; i < 4; i++) CHECK_MSG(g.crop_rect[i] == crop[i], "crop[%d] %d, want %d", i, g.crop_rect[i], crop[i]);
    for (int i = 0; i < 4; i++) CHECK_MSG(g.square[i] == square[i], "sq[%d] %d, want %d", i, g.square[i], square[i]);
    CHECK(g.square[2] - g.square[0] == sqsize[0] && g.square[3] - g.square[1] == sqsize[1]);
    CHECK(resized[0] == 64 && resized[1] == 64);
    /* the pads: int(35 * 0.1) = 3, int(29 * 0.1) = 2; int(35 * 0.5) = 17, int(29 * 0.5) = 14 */
    CHECK(g.mask_pad_r == 3 && g.mask_pad_c == 2 && g.crop_pad_r == 17 && g.crop_pad_c == 14);
}

TEST(face_fixture_mask_before_crop) {
    NEED_FIXTURE();
    anim_error err;
    anim_image m = {0};
    READ_PIC("face_mask_before_crop.png", &m, &err);
    face_geometry g;
    anim_status st = face_geometry_compute(80, 96, FIXTURE_BOX, NULL, &g, &err);
    uint8_t *mine = malloc(80 * 96);
    size_t bad = 0;
    bool size_ok = m.w == 80 && m.h == 96;
    if (!st && mine && size_ok) {
        face_mask_draw(&g, mine);
        for (size_t i = 0; i < 80 * 96; i++) bad += mine[i] != m.rgb[3 * i];   /* grey PNG: R = G = B */
    }
    free(mine);
    anim_image_free(&m);
    CHECK_OK(st, &err);
    CHECK(size_ok);
    CHECK_MSG(bad == 0, "%zu mask pixels differ", bad);
}

TEST(face_fixture_crop_and_resize) {
    NEED_FIXTURE();
    anim_error err;
    anim_image portrait = {0}, want_ref = {0}, want_mask = {0}, ref = {0};
    READ_PIC("portrait.png", &portrait, &err);
    anim_status st = read_pic("ref_image.png", &want_ref, &err);
    if (!st) st = read_pic("face_mask.png", &want_mask, &err);
    float *mask = malloc(64 * 64 * sizeof *mask);
    float *want_f = malloc(64 * 64 * sizeof *want_f);
    face_geometry g;
    if (!st && mask) st = face_prepare(&portrait, FIXTURE_BOX, 64, 64, NULL, &ref, mask, &g, &err);
    size_t bad_ref = 0, bad_mask = 0, bad_f = 0, diff22 = 0;
    bool shapes = false;
    char shape_msg[128] = "";
    if (!st && want_f) {
        tf_file *tf = NULL;
        st = tf_open(FACE_DIR "/face_mask.safetensors", &tf, &err);
        const tf_tensor *t = st ? NULL : tf_find(tf, "face_mask");
        if (t) {
            tf_shape_str(t->shape, t->ndim, shape_msg, sizeof shape_msg);
            shapes = t->ndim == 5 && t->shape[0] == 1 && t->shape[1] == 1 && t->shape[2] == 1 && t->shape[3] == 64 &&
                     t->shape[4] == 64 && t->dtype == ANIM_DT_F32 && ref.w == 64 && ref.h == 64 && want_ref.w == 64 &&
                     want_ref.h == 64 && want_mask.w == 64 && want_mask.h == 64;
            if (shapes) st = tf_read_f32(t, want_f, &err);
        } else if (!st) {
            st = anim_seterr(&err, ANIM_E_FORMAT, "face_mask.safetensors has no tensor face_mask");
        }
        tf_close(tf);
    }
    if (!st && shapes) {
        bad_ref = count_diff(ref.rgb, want_ref.rgb, 64 * 64 * 3);
        for (size_t i = 0; i < 64 * 64; i++) {
            bad_mask += (uint8_t)lrintf(mask[i] * 255.0f) != want_mask.rgb[3 * i];
            bad_f += memcmp(&mask[i], &want_f[i], sizeof(float)) != 0;
        }
        /* the textbook rounding would not reproduce cv2's ref_image */
        int s = g.square[2] - g.square[0];
        uint8_t *crop = malloc((size_t)s * s * 3), *d22 = malloc(64 * 64 * 3);
        if (crop && d22) {
            for (int y = 0; y < s; y++)
                memcpy(crop + (size_t)y * s * 3, portrait.rgb + ((size_t)(g.square[1] + y) * 80 + g.square[0]) * 3,
                       (size_t)s * 3);
            resize_rounding22(crop, s, s, 3, d22, 64, 64);
            diff22 = count_diff(d22, want_ref.rgb, 64 * 64 * 3);
        }
        free(crop);
        free(d22);
    }
    free(mask);
    free(want_f);
    anim_image_free(&portrait);
    anim_image_free(&want_ref);
    anim_image_free(&want_mask);
    anim_image_free(&ref);
    CHECK_OK(st, &err);
    CHECK_MSG(shapes, "unexpected shapes (face_mask %s)", shape_msg);
    CHECK_MSG(bad_ref == 0, "%zu ref_image values differ from cv2's", bad_ref);
    CHECK_MSG(bad_mask == 0, "%zu face_mask.png pixels differ", bad_mask);
    CHECK_MSG(bad_f == 0, "%zu face_mask.safetensors floats differ", bad_f);
    CHECK_MSG(diff22 > 0, "the (H0 b0 + H1 b1 + 2^21) >> 22 rounding also matches: the test cannot tell them apart");
}

/* ---- face geometry: more boxes, worked out from the upstream expressions ------------ */

typedef struct geo_case {
    int w, h;
    float box[4];
    int rounded[4], rows[2], cols[2];
    int sel[4];          /* selected y0, y1, x0, x1 (numpy) */
    bool wrapped;
    int crop[4], square[4];
} geo_case;

TEST(face_geometry_cases) {
    /* Each row was derived by hand from the expressions in face.h and checked
     * by running upstream's block (numpy 1.24) on the same box. */
    static const geo_case cases[] = {
        /* the fixture box */
        {80, 96, {28.4f, 24.6f, 57.3f, 60.2f}, {28, 25, 57, 60}, {22, 63}, {26, 59}, {22, 63, 26, 59}, false,
         {14, 8, 71, 77}, {14, 14, 71, 71}},
        /* near the top-left corner: r_pad = int(47 * 0.1) = 4, c_pad = int(38 * 0.1) = 3: the slices start at
         * -1, which numpy reads as the LAST row/column: [95:54] and [79:43] are empty, the mask is all 0.
         * crop: pads 23, 19 -> [max(0, -17), max(0, -20), min(59, 80), min(73, 96)] = [0, 0, 59, 73];
         * side 59, centre (29, 36) -> x0 = 29 - 29 = 0, y0 = 36 - 29 = 7 -> [0, 7, 59, 66] */
        {80, 96, {2.f, 3.f, 40.f, 50.f}, {2, 3, 40, 50}, {-1, 54}, {-1, 43}, {95, 54, 79, 43}, true, {0, 0, 59, 73},
         {0, 7, 59, 66}},
        /* touching the bottom-right border: pads int(26*0.1) = 2, int(30*0.1) = 3 -> rows 68:98 (98 -> 96),
         * cols 47:83 (-> 80); crop pads 13, 15 -> [35, 57, 80, 96] (45 x 39), side 39, centre
         * (115 // 2, 153 // 2) = (57, 76) -> [57 - 19, 76 - 19] = [38, 57], + 39 -> [38, 57, 77, 96] */
        {80, 96, {50.f, 70.f, 80.f, 96.f}, {50, 70, 80, 96}, {68, 98}, {47, 83}, {68, 96, 47, 80}, false,
         {35, 57, 80, 96}, {38, 57, 77, 96}},
        /* tall portrait 60x200: crop [0, 70, min(70, 60), 150] = 60 x 80 -> side 60, centre (30, 110) ->
         * [0, 80, 60, 140] */
        {60, 200, {10.f, 90.f, 50.f, 130.f}, {10, 90, 50, 130}, {86, 134}, {6, 54}, {86, 134, 6, 54}, false,
         {0, 70, 60, 150}, {0, 80, 60, 140}},
        /* wide portrait 200x80, the crop is clipped at top and bottom to an 80 x 80 square */
        {200, 80, {90.f, 20.f, 130.f, 60.f}, {90, 20, 130, 60}, {16, 64}, {86, 134}, {16, 64, 86, 134}, false,
         {70, 0, 150, 80}, {70, 0, 150, 80}},
        /* wide portrait, box running out at the bottom: r_pad = int(60 * 0.1) = 6 -> rows 24:96 (-> 80) */
        {200, 80, {20.f, 30.f, 60.f, 90.f}, {20, 30, 60, 90}, {24, 96}, {16, 64}, {24, 80, 16, 64}, false,
         {0, 0, 80, 80}, {0, 0, 80, 80}},
        /* tiny box: rounds to 2 x 2, mask pads int(0.2) = 0, crop pads int(1.0) = 1 -> 4 x 4 */
        {80, 96, {10.4f, 10.4f, 11.6f, 11.6f}, {10, 10, 12, 12}, {10, 12}, {10, 12}, {10, 12, 10, 12}, false,
         {9, 9, 13, 13}, {9, 9, 13, 13}},
        /* np.round is half to even: 10.5 -> 10, 11.5 -> 12, 20.5 -> 20, 21.5 -> 22 */
        {80, 96, {10.5f, 11.5f, 20.5f, 21.5f}, {10, 12, 20, 22}, {11, 23}, {9, 21}, {11, 23, 9, 21}, false,
         {5, 7, 25, 27}, {5, 7, 25, 27}},
        /* larger than the picture: rows -22:122 -> numpy [74:96], cols -20:100 -> [60:80] (wrapped);
         * crop [0, 0, 80, 96], side 80, centre (40, 48) -> [0, 8, 80, 88] */
        {80, 96, {-10.f, -10.f, 90.f, 110.f}, {-10, -10, 90, 110}, {-22, 122}, {-20, 100}, {74, 96, 60, 80}, true,
         {0, 0, 80, 96}, {0, 8, 80, 88}},
        /* -0.5 and 0.5 both round to 0 (half to even) */
        {80, 96, {-0.5f, 0.5f, 1.5f, 2.5f}, {0, 0, 2, 2}, {0, 2}, {0, 2}, {0, 2, 0, 2}, false, {0, 0, 3, 3},
         {0, 0, 3, 3}},
        /* a sliver at the left edge: rounds to width 1; crop 1 x 60 -> a 1 x 1 square at (0, 30) */
        {80, 96, {0.3f, 0.2f, 0.9f, 40.f}, {0, 0, 1, 40}, {-4, 44}, {0, 1}, {92, 44, 0, 1}, true, {0, 0, 1, 60},
         {0, 30, 1, 31}},
    };
    anim_error err;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const geo_case *c = &cases[k];
        face_geometry g;
        CHECK_OK(face_geometry_compute(c->w, c->h, c->box, NULL, &g, &err), &err);
        for (int i = 0; i < 4; i++) CHECK_MSG(g.box[i] == c->rounded[i], "case %zu: box[%d] %d", k, i, g.box[i]);
        CHECK_MSG(g.mask_rows[0] == c->rows[0] && g.mask_rows[1] == c->rows[1], "case %zu: rows %d:%d", k,
                  g.mask_rows[0], g.mask_rows[1]);
        CHECK_MSG(g.mask_cols[0] == c->cols[0] && g.mask_cols[1] == c->cols[1], "case %zu: cols %d:%d", k,
                  g.mask_cols[0], g.mask_cols[1]);
        CHECK_MSG(g.mask_y0 == c->sel[0] && g.mask_y1 == c->sel[1] && g.mask_x0 == c->sel[2] && g.mask_x1 == c->sel[3],
                  "case %zu: selected [%d:%d, %d:%d]", k, g.mask_y0, g.mask_y1, g.mask_x0, g.mask_x1);
        CHECK_MSG(g.mask_wrapped == c->wrapped, "case %zu: wrapped %d", k, (int)g.mask_wrapped);
        for (int i = 0; i < 4; i++) CHECK_MSG(g.crop_rect[i] == c->crop[i], "case %zu: crop[%d] %d", k, i, g.crop_rect[i]);
        for (int i = 0; i < 4; i++) CHECK_MSG(g.square[i] == c->square[i], "case %zu: sq[%d] %d", k, i, g.square[i]);
        /* the drawn mask: 255 exactly on the selected rows x columns */
        uint8_t *m = malloc((size_t)c->w * c->h);
        CHECK(m);
        face_mask_draw(&g, m);
        size_t bad = 0;
        for (int y = 0; y < c->h; y++)
            for (int x = 0; x < c->w; x++) {
                bool in = y >= c->sel[0] && y < c->sel[1] && x >= c->sel[2] && x < c->sel[3];
                bad += m[(size_t)y * c->w + x] != (in ? 255 : 0);
            }
        free(m);
        CHECK_MSG(bad == 0, "case %zu: %zu mask pixels wrong", k, bad);
    }
}

TEST(face_clip_mask_option) {
    /* The top-left box of face_geometry_cases with the fix: the -1 starts are
     * clamped to 0 instead of wrapping -> rows 0:54, cols 0:43. */
    anim_error err;
    face_opts o;
    face_opts_default(&o);
    CHECK(o.mask_ratio == 0.1 && o.crop_ratio == 0.5 && !o.clip_mask);
    o.clip_mask = true;
    const float box[4] = {2.f, 3.f, 40.f, 50.f};
    face_geometry g;
    CHECK_OK(face_geometry_compute(80, 96, box, &o, &g, &err), &err);
    CHECK(g.mask_y0 == 0 && g.mask_y1 == 54 && g.mask_x0 == 0 && g.mask_x1 == 43 && g.mask_wrapped);
    CHECK(g.square[0] == 0 && g.square[1] == 7 && g.square[2] == 59 && g.square[3] == 66);
    /* other ratios, as upstream's --facemusk/--facecrop_dilation_ratio: 0.2 and 0.25 on the
     * fixture box: r_pad = int(35 * 0.2) = int(7.000000000000001) = 7, c_pad = int(29 * 0.2) = 5;
     * crop pads int(8.75) = 8, int(7.25) = 7 */
    o.clip_mask = false;
    o.mask_ratio = 0.2;
    o.crop_ratio = 0.25;
    CHECK_OK(face_geometry_compute(80, 96, FIXTURE_BOX, &o, &g, &err), &err);
    CHECK(g.mask_pad_r == 7 && g.mask_pad_c == 5 && g.crop_pad_r == 8 && g.crop_pad_c == 7);
    o.crop_ratio = -1.0;
    CHECK_STATUS(face_geometry_compute(80, 96, FIXTURE_BOX, &o, &g, &err), ANIM_E_INVALID_ARG, &err);
}

TEST(face_no_box_whole_frame) {
    /* select_bbox is None: face_mask[:, :] = 255, no crop, no resize. */
    anim_error err;
    anim_image p = {0}, ref = {0};
    CHECK_OK(anim_image_alloc(&p, 10, 6, &err), &err);
    for (int i = 0; i < 10 * 6 * 3; i++) p.rgb[i] = (uint8_t)(i * 7);
    float mask[12 * 8];
    for (int i = 0; i < 12 * 8; i++) mask[i] = -1.f;
    face_geometry g;
    anim_status st = face_prepare(&p, NULL, 12, 8, NULL, &ref, mask, &g, &err);
    bool same = !st && ref.w == 10 && ref.h == 6 && memcmp(ref.rgb, p.rgb, 10 * 6 * 3) == 0;
    anim_image_free(&p);
    anim_image_free(&ref);
    CHECK_OK(st, &err);
    CHECK_MSG(same, "without a box the reference must be the portrait itself");
    for (int i = 0; i < 12 * 8; i++) CHECK(mask[i] == 1.0f);
    CHECK(!g.has_box && g.mask_y0 == 0 && g.mask_y1 == 6 && g.mask_x0 == 0 && g.mask_x1 == 10);
    uint8_t m[60];
    face_mask_draw(&g, m);
    for (int i = 0; i < 60; i++) CHECK(m[i] == 255);
}

TEST(face_prepare_mask_is_u8_over_255) {
    /* Every mask value is (float)u8 / 255.0f of the resized uint8 mask: with a
     * box covering a 40x40 portrait the 1-pixel crop edge interpolates. */
    anim_error err;
    anim_image p = {0}, ref = {0};
    CHECK_OK(anim_image_alloc(&p, 40, 40, &err), &err);
    memset(p.rgb, 128, 40 * 40 * 3);
    const float box[4] = {12.f, 12.f, 28.f, 28.f};   /* mask 11:29 (pad 1), crop [4, 4, 36, 36] */
    float mask[48 * 48];
    face_geometry g;
    anim_status st = face_prepare(&p, box, 48, 48, NULL, &ref, mask, &g, &err);
    bool grey = !st && ref.w == 48 && ref.h == 48;
    for (int i = 0; grey && i < 48 * 48 * 3; i++) grey = ref.rgb[i] == 128;
    anim_image_free(&p);
    anim_image_free(&ref);
    CHECK_OK(st, &err);
    CHECK(grey);
    CHECK(g.square[0] == 4 && g.square[1] == 4 && g.square[2] == 36 && g.square[3] == 36);
    int n0 = 0, n1 = 0, nmid = 0;
    for (int i = 0; i < 48 * 48; i++) {
        float v = mask[i];
        long u = lrintf(v * 255.0f);
        CHECK(u >= 0 && u <= 255 && v == (float)u / 255.0f);
        n0 += u == 0, n1 += u == 255, nmid += u > 0 && u < 255;
    }
    CHECK(n0 > 0 && n1 > 0 && nmid > 0);
}

TEST(face_box_errors) {
    anim_error err;
    float b[4];
    CHECK_OK(face_box_parse("28.4,24.6,57.3,60.2", b, &err), &err);
    CHECK(b[0] == 28.4f && b[1] == 24.6f && b[2] == 57.3f && b[3] == 60.2f);
    CHECK_OK(face_box_parse(" -3 , 1e1,\t40.5 , 50 ", b, &err), &err);
    CHECK(b[0] == -3.f && b[1] == 10.f && b[2] == 40.5f && b[3] == 50.f);
    static const struct { const char *s, *msg; } bad[] = {
        {"", "X0 is missing"},
        {"1,2,3", "expected ',' after X1"},
        {"1,2,3,", "Y1 is missing"},
        {"1,2,3,4,5", "unexpected text after Y1"},
        {"1;2;3;4", "expected ',' after X0"},
        {"a,2,3,4", "X0 is missing or not a number"},
        {"1,,3,4", "Y0 is missing"},
        {"1,2,nan,4", "X1 is not finite"},
        {"1,2,3,inf", "Y1 is not finite"},
        {"1,2,3,1e999", "Y1 is not finite"},
        {"1,2,3e7,4", "beyond"},
        {"5,2,3,4", "X0 must be less than X1"},
        {"1,4,3,4", "Y0 must be less than Y1"},
        {"1,2,3,4px", "unexpected text after Y1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(face_box_parse(bad[i].s, b, &err), ANIM_E_INVALID_ARG, &err);
        CHECK_CONTAINS(err.msg, bad[i].msg);
        CHECK_CONTAINS(err.msg, "--face-box");
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", bad[i].s);
        CHECK_CONTAINS(err.msg, quoted);
    }
    CHECK_STATUS(face_box_parse(NULL, b, &err), ANIM_E_INVALID_ARG, &err);

    /* against the picture */
    face_geometry g;
    const float left[4] = {-20.f, 10.f, -1.f, 30.f}, below[4] = {10.f, 96.f, 20.f, 120.f};
    CHECK_STATUS(face_geometry_compute(80, 96, left, NULL, &g, &err), ANIM_E_INVALID_ARG, &err);
    CHECK_CONTAINS(err.msg, "outside the 80x96 picture");
    CHECK_STATUS(face_geometry_compute(80, 96, below, NULL, &g, &err), ANIM_E_INVALID_ARG, &err);
    const float nanbox[4] = {NAN, 1.f, 2.f, 3.f}, rev[4] = {5.f, 1.f, 2.f, 3.f};
    CHECK_STATUS(face_geometry_compute(80, 96, nanbox, NULL, &g, &err), ANIM_E_INVALID_ARG, &err);
    CHECK_CONTAINS(err.msg, "X0 is not finite");
    CHECK_STATUS(face_geometry_compute(80, 96, rev, NULL, &g, &err), ANIM_E_INVALID_ARG, &err);
    /* a box that rounds to nothing: 10.6 and 11.4 both round to 11 -> an empty
     * crop (upstream: cv2.resize raises) */
    const float nothing[4] = {10.6f, 10.6f, 11.4f, 11.4f};
    CHECK_STATUS(face_geometry_compute(80, 96, nothing, NULL, &g, &err), ANIM_E_INVALID_ARG, &err);
    CHECK_CONTAINS(err.msg, "empty");
    /* output size */
    anim_image p = {0}, ref = {0};
    CHECK_OK(anim_image_alloc(&p, 8, 8, &err), &err);
    memset(p.rgb, 0, 8 * 8 * 3);
    float mask[4];
    anim_status st = face_prepare(&p, NULL, 0, 4, NULL, &ref, mask, NULL, &err);
    anim_image_free(&p);
    CHECK_STATUS(st, ANIM_E_INVALID_ARG, &err);
    CHECK(ref.rgb == NULL);
}
