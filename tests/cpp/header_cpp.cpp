// header_cpp.cpp - include/animate.h must be valid C++ (built with
// -std=c++11 -pedantic -Werror) and its API usable from C++. `make test`
// builds, links and runs this before the C suite.
#include <cstdio>

#include "animate.h"

int main() {
    anim_ctx_params p;
    anim_ctx_params_default(&p);
    p.backend = ANIM_BACKEND_CPU;
    anim_ctx *ctx = nullptr;
    if (anim_ctx_create(&p, &ctx) != ANIM_OK) {
        std::printf("header_cpp: anim_ctx_create failed\n");
        return 1;
    }
    anim_model_info info;
    anim_status st = anim_ctx_model_info(ctx, &info);
    anim_ctx_free(ctx);
    if (st != ANIM_E_STATE) {
        std::printf("header_cpp: expected ANIM_E_STATE before loading, got %d\n", (int)st);
        return 1;
    }
    std::printf("header_cpp: animate.h compiles and links as C++ (%s)\n", anim_version_info());
    return 0;
}
