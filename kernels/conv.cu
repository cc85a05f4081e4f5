/*
 * conv.cu - 2-D convolution as an implicit GEMM on the tensor cores (no im2col buffer).
 *
 * Layout (lib/backend.h, bk_conv2d): x NHWC fp16 [n][h][w][cin], weights OHWI fp16
 * [cout][kh][kw][cin], bias fp16 [cout] (optional), residual fp16 [n][ho][wo][cout]
 * (optional, may be y itself), y NHWC fp16 [n][ho][wo][cout].
 *
 *   y[b,oh,ow,co] = sum_{r<kh, s<kw, ci<cin} x[b, oh*S - pt + r, ow*S - pl + s, ci] * w[co,r,s,ci]
 *                   + bias[co] + res[b,oh,ow,co]
 *   ho = (h + pt + pb - kh)/S + 1,  wo = (w + pl + pr - kw)/S + 1; taps outside the input read 0.
 *
 * The reference is lib/cpu/ops_conv.c. GEMM view: M = n*ho*wo output pixels, N = cout,
 * K = kh*kw*cin in (r, s, ci) order, which is both the OHWI weight row and the order in
 * which an output pixel's input patch is gathered. Row m of A (the patch of pixel m) is
 * gathered from x on the fly into shared memory, tap by tap, with zeros for padding.
 *
 * Numerics: fp16 products, fp32 accumulation (mma.sync m16n8k16 f32.f16.f16.f32), then
 * acc + bias + res in fp32 and one round-to-nearest-even to fp16. Against the fp32 CPU
 * reference on the same fp16-rounded inputs the error is the final fp16 rounding
 * (<= 2^-11 relative) plus fp32 summation-order noise; split-K adds the K-slices'
 * fp32 partial sums in a fixed order (deterministic).
 *
 * Kernel (one template, all variants): a CTA computes a BM x BN tile of y; warps of
 * WM x WN each; K advances in slices of BK = 32 through a STAGES-deep cp.async ring
 * of shared-memory A [BM][BK] and B [BN][BK] tiles (rows padded to 40 halves so the
 * ldmatrix reads are bank-conflict free). Fragments come from ldmatrix.x4, products
 * from mma.sync.m16n8k16 (sm_80 and later; on sm_90 this is HMMA, not wgmma).
 * Epilogue: accumulators go through shared memory one warp-row at a time so that each
 * thread writes 8 consecutive channels (16 bytes) of y, with 16-byte bias/residual loads.
 *
 * Load paths (k_conv_path, conv.h):
 *   1x1     1x1 stride-1 unpadded conv = plain GEMM, A row m is x + m*cin;
 *   vec     any kernel size / stride / padding with cin % 8 == 0: each 16-byte chunk of
 *           a K slice lies inside one tap (r, s), so it is one cp.async (zero-filled
 *           when the tap is outside the input or past K); each thread keeps (r, s, ci)
 *           of its chunk column and steps it by BK per slice (no divisions in the loop);
 *   scalar  anything else (cin 3 or 4, unaligned pointers): element-wise gathers into
 *           registers, then 16-byte shared stores; same pipeline, slower.
 * Split-K: blockIdx.z takes a contiguous range of K slices and writes fp32 partials to
 * a workspace [splits][M][cout]; a finishing kernel sums them in split order and adds
 * bias and residual. The plan (k_conv2d_plan_auto) uses it only when the output tiles
 * cannot fill the SMs (deep levels at small batch: 12x8 latents, 1280 channels).
 *
 * Limits: M = n*ho*wo <= INT_MAX - 1024, K <= 2^30, pads >= 0, stride >= 1, any kernel size;
 * element offsets are 64-bit. Outputs and partial sums are bounds-checked per element,
 * so any cout works (vector stores when cout % 8 == 0 and pointers are 16-byte aligned).
 */
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <limits.h>
#include <stdint.h>

#include "conv.h"

namespace {

constexpr int BK = 32;     /* K per pipeline stage, in halves */
constexpr int SK = BK + 8; /* shared row stride in halves: 80 bytes, 8 rows hit 8 distinct 16-byte bank groups */

enum { PATH_1X1 = K_CONV_PATH_1X1, PATH_VEC = K_CONV_PATH_VEC, PATH_SCALAR = K_CONV_PATH_SCALAR };

struct ConvArgs {
    const __half *x, *wt, *bias, *res;
    __half *y;
    float *ws; /* split-K partials [splits][M][cout]; NULL: write y directly */
    int h, w, cin, cout, kh, kw, stride, pad_t, pad_l, ho, wo;
    int M, K;
    int k_tiles;      /* ceil(K / BK) */
    int kt_per_split; /* K slices per blockIdx.z */
    int n_tiles;      /* ceil(cout / BN) */
    int vec_out;      /* cout % 8 == 0 and y, res, bias 16-byte aligned */
    int ws_vec;       /* cout % 8 == 0 and ws 16-byte aligned */
};

/* ---- PTX wrappers (sm_80+) ---- */
__device__ __forceinline__ uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

/* 16-byte async copy global -> shared; src_bytes 0 writes 16 zero bytes and reads nothing */
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool ok) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(smem)), "l"(gmem),
                 "r"(ok ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], const void *smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_u32(smem)));
}

/* c[16x8] += a[16x16] (row-major) * b[16x8] (column-major), fp32 accumulators */
__device__ __forceinline__ void mma_16816(float c[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ float h2f(unsigned short u) { return __half2float(__ushort_as_half(u)); }
__device__ __forceinline__ unsigned short f2h(float f) { return __half_as_ushort(__float2half_rn(f)); }

__device__ __forceinline__ void unpack8(uint4 u, float f[8]) {
    const uint32_t wd[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int q = 0; q < 4; q++) {
        f[2 * q] = h2f((unsigned short)(wd[q] & 0xffffu));
        f[2 * q + 1] = h2f((unsigned short)(wd[q] >> 16));
    }
}

template <int BM, int BN, int WM, int WN, int STAGES> struct Tile {
    static constexpr int WARPS_M = BM / WM, WARPS_N = BN / WN;
    static constexpr int THREADS = WARPS_M * WARPS_N * 32;
    static constexpr size_t PIPE_BYTES = (size_t)STAGES * (BM + BN) * SK * sizeof(__half);
    static constexpr size_t EPI_BYTES = (size_t)WM * (BN + 8) * sizeof(float);
    static constexpr size_t SMEM = PIPE_BYTES > EPI_BYTES ? PIPE_BYTES : EPI_BYTES;
};

template <int BM, int BN, int WM, int WN, int STAGES, int PATH>
__global__ void __launch_bounds__((BM / WM) * (BN / WN) * 32) conv_igemm_kernel(const ConvArgs p) {
    using T = Tile<BM, BN, WM, WN, STAGES>;
    constexpr int WARPS_N = T::WARPS_N, THREADS = T::THREADS;
    constexpr int MF = WM / 16, NF = WN / 8; /* mma tiles per warp along M and N */
    static_assert(WM % 16 == 0 && WN % 16 == 0, "warp tile must be a multiple of 16x16");
    static_assert(BM % WM == 0 && BN % WN == 0, "CTA tile must be a multiple of the warp tile");
    static_assert(STAGES >= 2, "pipeline needs two stages");

    /* vector loaders: each thread owns one 16-byte chunk column (cc) and rows row0 + i*RPP */
    constexpr int CPR = BK / 8, RPP = THREADS / CPR;
    constexpr int A_IT = BM / RPP, B_IT = BN / RPP;
    static_assert(THREADS % CPR == 0 && BM % RPP == 0 && BN % RPP == 0, "vector loader shape");
    /* scalar loaders: each thread owns one row and AKP (BKP) consecutive k of it */
    constexpr int AKP = BK / (THREADS / BM), BKP = BK / (THREADS / BN);
    static_assert(THREADS % BM == 0 && THREADS % BN == 0 && AKP % 8 == 0 && BKP % 8 == 0, "scalar loader shape");

    extern __shared__ __align__(16) unsigned char smem_raw[];
    __half *const sA = reinterpret_cast<__half *>(smem_raw); /* [STAGES][BM][SK] */
    __half *const sB = sA + STAGES * BM * SK;                  /* [STAGES][BN][SK] */

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wr = warp / WARPS_N, wc = warp % WARPS_N;
    const int n0 = (int)(blockIdx.x % (unsigned)p.n_tiles) * BN;
    const int m0 = (int)(blockIdx.x / (unsigned)p.n_tiles) * BM;
    const int kt0 = (int)blockIdx.z * p.kt_per_split;
    const int kt1 = min(p.k_tiles, kt0 + p.kt_per_split);
    const int nkt = kt1 - kt0; /* may be <= 0 only for a plan the host never makes; then the tile is zeros */
    const __half *const x = p.x, *const wt = p.wt;
    const int hw_out = p.ho * p.wo;

    /* ---- per-thread loader state ---- */
    const int cc = tid % CPR, row0 = tid / CPR;
    int64_t a_base[A_IT]; /* 1x1: element offset of row m (-1: m >= M); vec: offset of image b */
    int a_ih0[A_IT], a_iw0[A_IT];
    int kr = 0, ks = 0, kc = 0; /* vec: tap (kr, ks) and channel kc of this thread's chunk */
    int64_t s_base = 0;         /* scalar: image offset of this thread's A row */
    int s_ih0 = 0, s_iw0 = 0;
    if constexpr (PATH == PATH_1X1 || PATH == PATH_VEC) {
#pragma unroll
        for (int i = 0; i < A_IT; i++) {
            const int m = m0 + row0 + i * RPP;
            if constexpr (PATH == PATH_1X1) {
                a_base[i] = m < p.M ? (int64_t)m * p.cin : -1;
                a_ih0[i] = a_iw0[i] = 0;
            } else if (m < p.M) {
                const int b = m / hw_out, pix = m - b * hw_out, oh = pix / p.wo, ow = pix - oh * p.wo;
                a_base[i] = (int64_t)b * p.h * p.w * p.cin;
                a_ih0[i] = oh * p.stride - p.pad_t;
                a_iw0[i] = ow * p.stride - p.pad_l;
            } else {
                a_base[i] = 0;
                a_ih0[i] = INT_MIN / 2; /* every tap row negative: always zero-filled */
                a_iw0[i] = 0;
            }
        }
        if constexpr (PATH == PATH_VEC) {
            const int k = kt0 * BK + cc * 8, tap = k / p.cin;
            kc = k - tap * p.cin;
            kr = tap / p.kw;
            ks = tap - kr * p.kw;
        }
    } else {
        const int m = m0 + tid % BM;
        if (m < p.M) {
            const int b = m / hw_out, pix = m - b * hw_out, oh = pix / p.wo, ow = pix - oh * p.wo;
            s_base = (int64_t)b * p.h * p.w * p.cin;
            s_ih0 = oh * p.stride - p.pad_t;
            s_iw0 = ow * p.stride - p.pad_l;
        } else {
            s_ih0 = INT_MIN / 2;
        }
    }

    /* Fill ring slot `slot` with K slice kt. Called for kt0, kt0+1, ... in order (the vec
     * path's (kr, ks, kc) state advances one slice per call). */
    auto load_tile = [&](int slot, int kt) {
        __half *const as = sA + slot * BM * SK;
        __half *const bs = sB + slot * BN * SK;
        if constexpr (PATH == PATH_1X1 || PATH == PATH_VEC) {
            const int k = kt * BK + cc * 8;
#pragma unroll
            for (int i = 0; i < A_IT; i++) {
                const int row = row0 + i * RPP;
                bool ok;
                const __half *src;
                if constexpr (PATH == PATH_1X1) {
                    ok = a_base[i] >= 0 && k < p.K;
                    src = x + a_base[i] + k;
                } else {
                    const int ih = a_ih0[i] + kr, iw = a_iw0[i] + ks;
                    ok = kr < p.kh && (unsigned)ih < (unsigned)p.h && (unsigned)iw < (unsigned)p.w;
                    src = x + a_base[i] + ((int64_t)ih * p.w + iw) * p.cin + kc;
                }
                cp_async16(as + row * SK + cc * 8, ok ? src : x, ok);
            }
#pragma unroll
            for (int i = 0; i < B_IT; i++) {
                const int row = row0 + i * RPP, co = n0 + row;
                const bool ok = co < p.cout && k < p.K;
                cp_async16(bs + row * SK + cc * 8, ok ? wt + (int64_t)co * p.K + k : wt, ok);
            }
            if constexpr (PATH == PATH_VEC) { /* step this thread's chunk by BK channels, carrying into s then r */
                kc += BK;
                while (kc >= p.cin) {
                    kc -= p.cin;
                    if (++ks == p.kw) {
                        ks = 0;
                        ++kr;
                    }
                }
            }
        } else {
            { /* A: row tid % BM, k = kt*BK + part*AKP + j */
                const int row = tid % BM, k = kt * BK + (tid / BM) * AKP;
                const int tap = k / p.cin;
                int c = k - tap * p.cin, r = tap / p.kw, s = tap - r * p.kw;
                uint32_t wd[AKP / 2];
#pragma unroll
                for (int j = 0; j < AKP; j++) {
                    const int ih = s_ih0 + r, iw = s_iw0 + s;
                    const bool ok = r < p.kh && (unsigned)ih < (unsigned)p.h && (unsigned)iw < (unsigned)p.w;
                    const uint32_t v = ok ? __half_as_ushort(x[s_base + ((int64_t)ih * p.w + iw) * p.cin + c]) : 0u;
                    wd[j / 2] = (j & 1) ? (wd[j / 2] | (v << 16)) : v;
                    if (++c == p.cin) {
                        c = 0;
                        if (++s == p.kw) {
                            s = 0;
                            ++r;
                        }
                    }
                }
                uint4 *dst = reinterpret_cast<uint4 *>(as + row * SK + (tid / BM) * AKP);
#pragma unroll
                for (int q = 0; q < AKP / 8; q++) dst[q] = make_uint4(wd[4 * q], wd[4 * q + 1], wd[4 * q + 2], wd[4 * q + 3]);
            }
            { /* B: row tid % BN, k = kt*BK + part*BKP + j */
                const int row = tid % BN, k = kt * BK + (tid / BN) * BKP, co = n0 + row;
                const __half *src = wt + (int64_t)(co < p.cout ? co : 0) * p.K;
                uint32_t wd[BKP / 2];
#pragma unroll
                for (int j = 0; j < BKP; j++) {
                    const bool ok = co < p.cout && k + j < p.K;
                    const uint32_t v = ok ? __half_as_ushort(src[k + j]) : 0u;
                    wd[j / 2] = (j & 1) ? (wd[j / 2] | (v << 16)) : v;
                }
                uint4 *dst = reinterpret_cast<uint4 *>(bs + row * SK + (tid / BN) * BKP);
#pragma unroll
                for (int q = 0; q < BKP / 8; q++) dst[q] = make_uint4(wd[4 * q], wd[4 * q + 1], wd[4 * q + 2], wd[4 * q + 3]);
            }
        }
    };

    float acc[MF][NF][4];
#pragma unroll
    for (int mi = 0; mi < MF; mi++)
#pragma unroll
        for (int ni = 0; ni < NF; ni++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[mi][ni][q] = 0.f;

    /* ---- main loop: STAGES-1 slices in flight ahead of the one being multiplied ---- */
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < nkt) load_tile(s, kt0 + s);
        cp_async_commit(); /* empty groups keep the group count = slices issued */
    }
    for (int i = 0; i < nkt; i++) {
        /* groups committed so far: STAGES-1+i; leaving STAGES-2 pending means slice i has landed
         * for this thread; the barrier makes every thread's copies visible, and also tells us all
         * warps finished multiplying slice i-1, whose slot the load below overwrites. */
        cp_async_wait<STAGES - 2>();
        __syncthreads();
        const int nxt = i + STAGES - 1;
        if (nxt < nkt) load_tile(nxt % STAGES, kt0 + nxt);
        cp_async_commit();

        const __half *const as = sA + (i % STAGES) * BM * SK;
        const __half *const bs = sB + (i % STAGES) * BN * SK;
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            uint32_t af[MF][4], bf[NF][2];
#pragma unroll
            for (int mi = 0; mi < MF; mi++) /* matrices: rows 0-7/8-15 x k 0-7, then k 8-15 -> a0..a3 */
                ldmatrix_x4(af[mi], as + (wr * WM + mi * 16 + (lane & 15)) * SK + kk + (lane >> 4) * 8);
#pragma unroll
            for (int nj = 0; nj < NF / 2; nj++) { /* n 0-7 x k 0-7, k 8-15, n 8-15 x k 0-7, k 8-15 */
                uint32_t r[4];
                ldmatrix_x4(r, bs + (wc * WN + nj * 16 + (lane & 7) + ((lane >> 4) << 3)) * SK + kk +
                                   ((lane >> 3) & 1) * 8);
                bf[2 * nj][0] = r[0];
                bf[2 * nj][1] = r[1];
                bf[2 * nj + 1][0] = r[2];
                bf[2 * nj + 1][1] = r[3];
            }
#pragma unroll
            for (int mi = 0; mi < MF; mi++)
#pragma unroll
                for (int ni = 0; ni < NF; ni++) mma_16816(acc[mi][ni], af[mi], bf[ni]);
        }
    }
    cp_async_wait<0>(); /* only empty groups can remain; drain before the ring is reused */
    __syncthreads();

    /* ---- epilogue: one warp-row (WM rows x BN) at a time through shared memory ---- */
    constexpr int SC = BN + 8; /* fp32 row stride: float2 writes of a half-warp hit distinct banks */
    constexpr int VPR = BN / 8;
    float *const sC = reinterpret_cast<float *>(smem_raw);
    const int g = lane >> 2, t4 = lane & 3;
#pragma unroll 1
    for (int pass = 0; pass < T::WARPS_M; pass++) {
        if (wr == pass) {
#pragma unroll
            for (int mi = 0; mi < MF; mi++)
#pragma unroll
                for (int ni = 0; ni < NF; ni++) {
                    const int r = mi * 16 + g, c = wc * WN + ni * 8 + t4 * 2;
                    *reinterpret_cast<float2 *>(&sC[r * SC + c]) = make_float2(acc[mi][ni][0], acc[mi][ni][1]);
                    *reinterpret_cast<float2 *>(&sC[(r + 8) * SC + c]) = make_float2(acc[mi][ni][2], acc[mi][ni][3]);
                }
        }
        __syncthreads();
        for (int v = tid; v < WM * VPR; v += THREADS) {
            const int row = v / VPR, col = (v % VPR) * 8;
            const int m = m0 + pass * WM + row, co = n0 + col;
            if (m >= p.M || co >= p.cout) continue;
            const float4 lo = *reinterpret_cast<const float4 *>(&sC[row * SC + col]);
            const float4 hi = *reinterpret_cast<const float4 *>(&sC[row * SC + col + 4]);
            float f[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
            const int nv = min(8, p.cout - co);
            if (p.ws) {
                float *dst = p.ws + ((int64_t)blockIdx.z * p.M + m) * p.cout + co;
                if (p.ws_vec) {
                    reinterpret_cast<float4 *>(dst)[0] = lo;
                    reinterpret_cast<float4 *>(dst)[1] = hi;
                } else {
                    for (int j = 0; j < nv; j++) dst[j] = f[j];
                }
                continue;
            }
            const int64_t off = (int64_t)m * p.cout + co;
            if (p.vec_out) { /* nv == 8 */
                float b8[8];
                if (p.bias) {
                    unpack8(*reinterpret_cast<const uint4 *>(p.bias + co), b8);
#pragma unroll
                    for (int j = 0; j < 8; j++) f[j] += b8[j];
                }
                if (p.res) {
                    unpack8(*reinterpret_cast<const uint4 *>(p.res + off), b8);
#pragma unroll
                    for (int j = 0; j < 8; j++) f[j] += b8[j];
                }
                uint4 o;
                o.x = (uint32_t)f2h(f[0]) | ((uint32_t)f2h(f[1]) << 16);
                o.y = (uint32_t)f2h(f[2]) | ((uint32_t)f2h(f[3]) << 16);
                o.z = (uint32_t)f2h(f[4]) | ((uint32_t)f2h(f[5]) << 16);
                o.w = (uint32_t)f2h(f[6]) | ((uint32_t)f2h(f[7]) << 16);
                *reinterpret_cast<uint4 *>(p.y + off) = o;
            } else {
                for (int j = 0; j < nv; j++) {
                    float r = f[j];
                    if (p.bias) r += __half2float(p.bias[co + j]);
                    if (p.res) r += __half2float(p.res[off + j]);
                    p.y[off + j] = __float2half_rn(r);
                }
            }
        }
        __syncthreads(); /* sC is rewritten by the next pass */
    }
}

/* y = sum over splits of ws (in split order) + bias + res */
__global__ void conv_splitk_finish(const float *ws, int splits, size_t mn, int cout, const __half *bias,
                                   const __half *res, __half *y) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < mn; i += (size_t)gridDim.x * blockDim.x) {
        float s = 0.f;
        for (int sp = 0; sp < splits; sp++) s += ws[(size_t)sp * mn + i];
        if (bias) s += __half2float(bias[i % (size_t)cout]);
        if (res) s += __half2float(res[i]);
        y[i] = __float2half_rn(s);
    }
}

template <int BM, int BN, int WM, int WN, int STAGES, int PATH>
int launch_tile(ConvArgs a, int splits, cudaStream_t stream) {
    using T = Tile<BM, BN, WM, WN, STAGES>;
    a.n_tiles = (a.cout + BN - 1) / BN;
    const int64_t grid = (int64_t)((a.M + BM - 1) / BM) * a.n_tiles;
    if (grid > INT_MAX) return (int)cudaErrorInvalidValue;
    void (*kern)(const ConvArgs) = conv_igemm_kernel<BM, BN, WM, WN, STAGES, PATH>;
    if (T::SMEM > 48 * 1024) {
        cudaError_t e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)T::SMEM);
        if (e != cudaSuccess) return (int)e;
    }
    kern<<<dim3((unsigned)grid, 1, (unsigned)splits), T::THREADS, T::SMEM, stream>>>(a);
    return (int)cudaGetLastError();
}

template <int PATH> int launch_cfg(int cfg, const ConvArgs &a, int splits, cudaStream_t s) {
    switch (cfg) {
    case K_CONV_CFG_128x128_8W: return launch_tile<128, 128, 64, 32, 4, PATH>(a, splits, s);
    case K_CONV_CFG_128x128_4W: return launch_tile<128, 128, 64, 64, 4, PATH>(a, splits, s);
    case K_CONV_CFG_128x64: return launch_tile<128, 64, 64, 32, 4, PATH>(a, splits, s);
    case K_CONV_CFG_64x64: return launch_tile<64, 64, 32, 32, 4, PATH>(a, splits, s);
    case K_CONV_CFG_128x32: return launch_tile<128, 32, 32, 32, 4, PATH>(a, splits, s);
    case K_CONV_CFG_256x128: return launch_tile<256, 128, 64, 64, 3, PATH>(a, splits, s);
    default: return (int)cudaErrorInvalidValue;
    }
}

/* tile shape and a rough per-SM residency / relative efficiency for the plan heuristic
 * (estimates from the register and shared-memory budgets; to be tuned from bench_conv) */
struct CfgInfo {
    int bm, bn, per_sm;
    double eff;
};
const CfgInfo kCfg[K_CONV_CFG_COUNT] = {
    /* 128x128_8W */ {128, 128, 2, 0.90},
    /* 128x128_4W */ {128, 128, 2, 0.90},
    /* 128x64     */ {128, 64, 3, 0.80},
    /* 64x64      */ {64, 64, 4, 0.65},
    /* 128x32     */ {128, 32, 4, 0.50},
    /* 256x128    */ {256, 128, 1, 1.00},
};

bool aligned16(const void *p) { return ((uintptr_t)p & 15u) == 0; }

/* shape checks shared by plan and launch; fills M, K, ho, wo */
bool conv_shape(const k_conv2d_params *p, int *ho, int *wo, int *M, int *K) {
    if (!p || p->n <= 0 || p->h <= 0 || p->w <= 0 || p->cin <= 0 || p->cout <= 0 || p->kh <= 0 || p->kw <= 0 ||
        p->stride <= 0 || p->pad_t < 0 || p->pad_l < 0 || p->pad_b < 0 || p->pad_r < 0)
        return false;
    const int64_t span_h = (int64_t)p->h + p->pad_t + p->pad_b - p->kh;
    const int64_t span_w = (int64_t)p->w + p->pad_l + p->pad_r - p->kw;
    if (span_h < 0 || span_w < 0 || span_h + p->kh > INT_MAX || span_w + p->kw > INT_MAX) return false;
    const int64_t oh = span_h / p->stride + 1, ow = span_w / p->stride + 1;
    const int64_t m = (int64_t)p->n * oh * ow, k = (int64_t)p->kh * p->kw * p->cin;
    /* headroom so m0 + row (< M + BM) never overflows int */
    if (m > INT_MAX - 1024 || k > (1 << 30) || p->cout > (1 << 30)) return false;
    *ho = (int)oh;
    *wo = (int)ow;
    *M = (int)m;
    *K = (int)k;
    return true;
}

bool path_fits(const k_conv2d_params *p, int path) {
    const bool vec = p->cin % 8 == 0 && aligned16(p->x) && aligned16(p->wt);
    switch (path) {
    case K_CONV_PATH_1X1:
        return vec && p->kh == 1 && p->kw == 1 && p->stride == 1 && p->pad_t == 0 && p->pad_l == 0 &&
               p->pad_b == 0 && p->pad_r == 0;
    case K_CONV_PATH_VEC: return vec;
    case K_CONV_PATH_SCALAR: return true;
    default: return false;
    }
}

/* splits actually launched: K slices are divided evenly and no split is left empty */
int effective_splits(int k_tiles, int splits, int *kt_per) {
    if (splits < 1) splits = 1;
    if (splits > k_tiles) splits = k_tiles;
    *kt_per = (k_tiles + splits - 1) / splits;
    return (k_tiles + *kt_per - 1) / *kt_per;
}

constexpr int MAX_SPLITS = 16;
constexpr size_t MAX_WS_BYTES = (size_t)256 << 20;

} /* namespace */

extern "C" const char *k_conv2d_cfg_name(int cfg) {
    static const char *const names[K_CONV_CFG_COUNT] = {"128x128_8w", "128x128_4w", "128x64",
                                                        "64x64",      "128x32",     "256x128"};
    return cfg >= 0 && cfg < K_CONV_CFG_COUNT ? names[cfg] : "?";
}

extern "C" const char *k_conv2d_path_name(int path) {
    static const char *const names[K_CONV_PATH_COUNT] = {"1x1", "vec", "scalar"};
    return path >= 0 && path < K_CONV_PATH_COUNT ? names[path] : "?";
}

extern "C" void k_conv2d_plan_auto(const k_conv2d_params *p, int sm_count, k_conv2d_plan *plan) {
    plan->cfg = K_CONV_CFG_128x128_8W;
    plan->path = K_CONV_PATH_SCALAR;
    plan->splits = 1;
    int ho, wo, M, K;
    if (!conv_shape(p, &ho, &wo, &M, &K)) return; /* k_conv2d will reject it */
    if (sm_count <= 0) sm_count = 132;
    plan->path = path_fits(p, K_CONV_PATH_1X1) ? K_CONV_PATH_1X1
                 : path_fits(p, K_CONV_PATH_VEC) ? K_CONV_PATH_VEC
                                                  : K_CONV_PATH_SCALAR;
    /* score = useful fraction of the tiles x fraction of the last wave that is busy x tile efficiency */
    static const int candidates[] = {K_CONV_CFG_256x128, K_CONV_CFG_128x128_8W, K_CONV_CFG_128x64, K_CONV_CFG_64x64};
    static const int narrow[] = {K_CONV_CFG_128x32};
    const int *cand = p->cout <= 32 ? narrow : candidates;
    const int n_cand = p->cout <= 32 ? 1 : (int)(sizeof candidates / sizeof candidates[0]);
    double best = -1.0;
    int64_t best_ctas = 1;
    for (int i = 0; i < n_cand; i++) {
        const CfgInfo &c = kCfg[cand[i]];
        const int64_t mt = (M + c.bm - 1) / c.bm, nt = (p->cout + c.bn - 1) / c.bn, ctas = mt * nt;
        const int64_t slots = (int64_t)sm_count * c.per_sm, waves = (ctas + slots - 1) / slots;
        const double fill = (double)M * p->cout / ((double)ctas * c.bm * c.bn);
        const double score = fill * ((double)ctas / (double)(waves * slots)) * c.eff;
        if (score > best) {
            best = score;
            plan->cfg = cand[i];
            best_ctas = ctas;
        }
    }
    /* split K when the tiles cannot give every SM one CTA and K is long (>= 8 slices per split) */
    const int k_tiles = (K + BK - 1) / BK;
    if (best_ctas < sm_count) {
        int64_t s = (sm_count + best_ctas - 1) / best_ctas;
        if (s > k_tiles / 8) s = k_tiles / 8;
        if (s > MAX_SPLITS) s = MAX_SPLITS;
        while (s > 1 && (size_t)s * (size_t)M * (size_t)p->cout * sizeof(float) > MAX_WS_BYTES) s--;
        if (s > 1) {
            int kt_per;
            plan->splits = effective_splits(k_tiles, (int)s, &kt_per);
        }
    }
}

extern "C" size_t k_conv2d_workspace_bytes(const k_conv2d_params *p, const k_conv2d_plan *plan) {
    int ho, wo, M, K, kt_per;
    if (!plan || plan->splits <= 1 || !conv_shape(p, &ho, &wo, &M, &K)) return 0;
    if (effective_splits((K + BK - 1) / BK, plan->splits, &kt_per) <= 1) return 0;
    return (size_t)plan->splits * (size_t)M * (size_t)p->cout * sizeof(float);
}

extern "C" int k_conv2d(const k_conv2d_params *p, const k_conv2d_plan *plan, float *workspace, void *stream) {
    int ho, wo, M, K;
    if (!plan || !conv_shape(p, &ho, &wo, &M, &K) || !p->x || !p->wt || !p->y) return (int)cudaErrorInvalidValue;
    if (plan->cfg < 0 || plan->cfg >= K_CONV_CFG_COUNT || !path_fits(p, plan->path) || plan->splits < 1 ||
        plan->splits > 65535)
        return (int)cudaErrorInvalidValue;
    ConvArgs a = {};
    a.x = reinterpret_cast<const __half *>(p->x);
    a.wt = reinterpret_cast<const __half *>(p->wt);
    a.bias = reinterpret_cast<const __half *>(p->bias);
    a.res = reinterpret_cast<const __half *>(p->res);
    a.y = reinterpret_cast<__half *>(p->y);
    a.h = p->h;
    a.w = p->w;
    a.cin = p->cin;
    a.cout = p->cout;
    a.kh = p->kh;
    a.kw = p->kw;
    a.stride = p->stride;
    a.pad_t = p->pad_t;
    a.pad_l = p->pad_l;
    a.ho = ho;
    a.wo = wo;
    a.M = M;
    a.K = K;
    a.k_tiles = (K + BK - 1) / BK;
    const int splits = effective_splits(a.k_tiles, plan->splits, &a.kt_per_split);
    if (splits > 1) {
        if (!workspace) return (int)cudaErrorInvalidValue;
        a.ws = workspace;
        a.ws_vec = p->cout % 8 == 0 && aligned16(workspace);
    }
    a.vec_out = p->cout % 8 == 0 && aligned16(p->y) && (!p->res || aligned16(p->res)) &&
                (!p->bias || aligned16(p->bias));
    cudaStream_t s = (cudaStream_t)stream;
    int e;
    switch (plan->path) {
    case K_CONV_PATH_1X1: e = launch_cfg<PATH_1X1>(plan->cfg, a, splits, s); break;
    case K_CONV_PATH_VEC: e = launch_cfg<PATH_VEC>(plan->cfg, a, splits, s); break;
    default: e = launch_cfg<PATH_SCALAR>(plan->cfg, a, splits, s); break;
    }
    if (e != 0 || splits == 1) return e;
    const size_t mn = (size_t)M * (size_t)p->cout;
    size_t blocks = (mn + 255) / 256;
    if (blocks > 65535 * 8) blocks = 65535 * 8;
    conv_splitk_finish<<<(unsigned)blocks, 256, 0, s>>>(workspace, splits, mn, p->cout, a.bias, a.res, a.y);
    return (int)cudaGetLastError();
}
