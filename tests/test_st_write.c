/* test_st_write.c - safetensors files we write read back through our strict parser. */
#include <stdlib.h>

#include "io/st_write.h"
#include "io/tensor_file.h"
#include "test.h"

TEST(st_write_roundtrip_through_strict_parser) {
    float a[6] = {1, -2, 3.5f, 0, 1e-30f, -7};
    uint16_t h[3] = {0x3c00, 0xc000, 0x0001};
    st_out t[2] = {{"latents", ANIM_DT_F32, 3, {1, 2, 3}, a}, {"we\"ird\\name", ANIM_DT_F16, 1, {3}, h}};
    char path[512];
    snprintf(path, sizeof path, "%s/roundtrip.safetensors", test_tmp_dir());
    anim_error e;
    CHECK_OK(st_write(path, t, 2, &e), &e);
    tf_file *f = NULL;
    CHECK_OK(tf_open(path, &f, &e), &e);
    CHECK(f->n == 2);
    const tf_tensor *x = tf_find(f, "latents");
    CHECK(x && x->ndim == 3 && x->shape[2] == 3 && x->dtype == ANIM_DT_F32);
    float back[6];
    CHECK_OK(tf_read_f32(x, back, &e), &e);
    CHECK(memcmp(back, a, sizeof a) == 0);
    const tf_tensor *y = tf_find(f, "we\"ird\\name");
    CHECK(y && y->dtype == ANIM_DT_F16 && memcmp(y->data, h, sizeof h) == 0);
    CHECK((size_t)(x->data - (const uint8_t *)f->map) % 8 == 0); /* 8-byte aligned data */
    tf_close(f);
}

TEST(st_write_unwritable_path_is_named) {
    float a = 1;
    st_out t = {"x", ANIM_DT_F32, 1, {1}, &a};
    anim_error e;
    CHECK_STATUS(st_write("build/tests/tmp/no/such/dir/x.safetensors", &t, 1, &e), ANIM_E_IO, &e);
    CHECK_CONTAINS(e.msg, "no/such/dir/x.safetensors");
}
