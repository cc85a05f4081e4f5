/*
 * op_linear.c - CUDA linear: y[i][j] = sum_k x[i*ldx + k] w[j*k_dim + k] + bias[j] + res[i*ldy + j]
 * through cuBLAS, fp16 A/B/C with fp32 accumulation and scaling
 * (CUBLAS_COMPUTE_32F).
 *
 * Layout: x rows of k values with row stride ldx; w PyTorch's [n][k]
 * row-major; y and res rows of n values with row stride ldy (0 = k and n).
 * cuBLAS is column-major, and a row-major [r][c] matrix with row stride ld is
 * the column-major c x r matrix with leading dimension ld. So with
 * X^T = x as column-major k x m (ld ldx), W^T = w as column-major k x n (ld k)
 * and Y^T = y as column-major n x m (ld ldy), the op is
 *     Y^T (n x m) = op_T(W^T) (n x k) * X^T (k x m)   [+ bias, + res]
 * i.e. GEMM(transa = T, transb = N, m' = n, n' = m, k' = k, A = w, lda = k,
 * B = x, ldb = ldx, C = y, ldc = ldy) - PyTorch's own "TN" call for F.linear.
 *
 * Bias and residual:
 *   - ANIM_WITH_CUBLASLT builds (link -lcublasLt) use cublasLtMatmul when
 *     there is a bias or an out-of-place residual and every pointer is
 *     16-byte aligned with k, ldx, ldy multiples of 8: epilogue
 *     CUBLASLT_EPILOGUE_BIAS adds the bias, C = res with beta = 1 adds the
 *     residual (C and D are separate pointers, so y need not be res), and the
 *     whole sum is rounded once. The cuBLAS handle doubles as the cuBLASLt
 *     handle (cuBLAS documents the cast; PyTorch does the same); no
 *     workspace is given (algorithms that need one are not offered).
 *   - Otherwise (any alignment, any k): cublasGemmEx. With a bias or an
 *     out-of-place residual, kernels/linear.cu first fills y with res + bias
 *     (rounded to fp16), then the GEMM adds into it with beta = 1; an
 *     in-place residual (res == y) is just beta = 1; neither is beta = 0.
 * Numerics: fp16 products, fp32 sums (order up to cuBLAS); the GemmEx route
 * with a bias or residual rounds twice (res + bias, then the result).
 * Limits: as the CPU reference: m, n, k >= 1, ldx >= k, ldy >= n; y may be
 * res; x must not overlap y.
 */
#include <stdint.h>

#include "cuda/cuda_internal.h"
#include "linear.h"

#ifdef ANIM_WITH_CUBLASLT
#include <cublasLt.h>
#endif

#define LIN_FMT "linear (m %d n %d k %d ldx %d ldy %d)"

static anim_status linear_gemm_ex(cuda_impl *c, const bk_linear *a, int ldx, int ldy, float beta, anim_error *err) {
    const float alpha = 1.0f;
    cublasStatus_t s = cublasGemmEx(c->cublas, CUBLAS_OP_T, CUBLAS_OP_N, a->n, a->m, a->k, &alpha, a->w, CUDA_R_16F,
                                    a->k, a->x, CUDA_R_16F, ldx, &beta, a->y, CUDA_R_16F, ldy, CUBLAS_COMPUTE_32F,
                                    CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS)
        return anim_seterr(err, ANIM_E_CUDA, LIN_FMT ": cublasGemmEx failed: %s", a->m, a->n, a->k, ldx, ldy,
                           cublasGetStatusString(s));
    return ANIM_OK;
}

#ifdef ANIM_WITH_CUBLASLT
/* The cuBLASLt route. *ran = false (and ANIM_OK) when the heuristic offers no
 * algorithm: the caller then takes the GemmEx route. */
static anim_status linear_lt(cuda_impl *c, const bk_linear *a, int ldx, int ldy, bool *ran, anim_error *err) {
    *ran = false;
    cublasLtHandle_t lt = (cublasLtHandle_t)c->cublas;
    cublasLtMatmulDesc_t op = NULL;
    cublasLtMatrixLayout_t la = NULL, lb = NULL, lc = NULL;
    cublasLtMatmulPreference_t pref = NULL;
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    const cublasLtEpilogue_t epi = a->bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    const uint32_t align = 16;
    const uint64_t ws = 0;
    const char *what = "cublasLtMatmulDescCreate";
    cublasStatus_t s = cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F);
    if (s == CUBLAS_STATUS_SUCCESS) {
        what = "cublasLtMatmulDescSetAttribute";
        s = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
        if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
        if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi);
        if (s == CUBLAS_STATUS_SUCCESS && a->bias)   /* bias type defaults to D's (fp16) */
            s = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &a->bias, sizeof a->bias);
    }
    if (s == CUBLAS_STATUS_SUCCESS) {
        what = "cublasLtMatrixLayoutCreate";
        s = cublasLtMatrixLayoutCreate(&la, CUDA_R_16F, (uint64_t)a->k, (uint64_t)a->n, a->k);   /* W^T, k x n */
        if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&lb, CUDA_R_16F, (uint64_t)a->k, (uint64_t)a->m, ldx);
        if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&lc, CUDA_R_16F, (uint64_t)a->n, (uint64_t)a->m, ldy);
    }
    if (s == CUBLAS_STATUS_SUCCESS) {
        what = "cublasLtMatmulPreference";
        s = cublasLtMatmulPreferenceCreate(&pref);
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
        /* the default assumes 256-byte aligned buffers; ours are 16-byte aligned
         * (checked by the caller), so only offer algorithms that work with that */
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align, sizeof align);
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align, sizeof align);
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align, sizeof align);
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align, sizeof align);
    }
    cublasLtMatmulHeuristicResult_t h;
    int found = 0;
    if (s == CUBLAS_STATUS_SUCCESS) {
        what = "cublasLtMatmulAlgoGetHeuristic";
        s = cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, lc, lc, pref, 1, &h, &found);
        if (s == CUBLAS_STATUS_NOT_SUPPORTED) { s = CUBLAS_STATUS_SUCCESS; found = 0; }
    }
    if (s == CUBLAS_STATUS_SUCCESS && found > 0 && h.state == CUBLAS_STATUS_SUCCESS) {
        const float alpha = 1.0f, beta = a->res ? 1.0f : 0.0f;
        const void *cmat = a->res ? a->res : a->y;   /* beta = 0: C is not read */
        what = "cublasLtMatmul";
        s = cublasLtMatmul(lt, op, &alpha, a->w, la, a->x, lb, &beta, cmat, lc, a->y, lc, &h.algo, NULL, 0, c->stream);
        if (s == CUBLAS_STATUS_SUCCESS) *ran = true;
    }
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (lc) cublasLtMatrixLayoutDestroy(lc);
    if (lb) cublasLtMatrixLayoutDestroy(lb);
    if (la) cublasLtMatrixLayoutDestroy(la);
    if (op) cublasLtMatmulDescDestroy(op);
    if (s != CUBLAS_STATUS_SUCCESS)
        return anim_seterr(err, ANIM_E_CUDA, LIN_FMT ": %s failed: %s", a->m, a->n, a->k, ldx, ldy, what,
                           cublasGetStatusString(s));
    return ANIM_OK;
}

static bool aligned16(const void *p) { return ((uintptr_t)p & 15u) == 0; }
#endif

anim_status cuda_op_linear(anim_be *be, const bk_linear *a, anim_error *err) {
    anim_status chk = bk_check_linear(a, err);
    if (chk != ANIM_OK) return chk;
    const int ldx = a->ldx ? a->ldx : a->k, ldy = a->ldy ? a->ldy : a->n;
    cuda_impl *c = IMPL(be);
    const bool prefill = a->bias || (a->res && a->res != a->y);   /* work beyond C = y, beta in {0, 1} */

#ifdef ANIM_WITH_CUBLASLT
    if (prefill && a->k % 8 == 0 && ldx % 8 == 0 && ldy % 8 == 0 && aligned16(a->x) && aligned16(a->w) &&
        aligned16(a->y) && (!a->res || aligned16(a->res)) && (!a->bias || aligned16(a->bias))) {
        bool ran;
        anim_status st = linear_lt(c, a, ldx, ldy, &ran, err);
        if (st != ANIM_OK || ran) return st;
    }
#endif
    if (prefill)
        K_CHECK(k_linear_prefill(a->y, a->res, a->bias, a->m, a->n, ldy, c->stream), err);
    return linear_gemm_ex(c, a, ldx, ldy, prefill || a->res ? 1.0f : 0.0f, err);
}
