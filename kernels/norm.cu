/*
 * norm.cu - GroupNorm (optionally fused with SiLU) and LayerNorm, fp16 storage,
 * fp32 statistics. Formulas are those of lib/backend.h and the CPU reference
 * lib/cpu/ops_norm.c, which tests/gpu/test_gpu_norm_linear.c checks these against.
 *
 * GroupNorm
 *   Layout: x, y [n][hw][c] (NHWC, frames folded into n by the caller, which
 *   gives InflatedGroupNorm's per-frame statistics); groups of cg = c/groups
 *   consecutive channels; gamma, beta [c] or NULL.
 *   Formula: y = (x - mean[b][g]) * rstd[b][g] * gamma[ch] + beta[ch], SiLU
 *   after when asked (ResnetBlock2D's GN -> SiLU pairs), with mean and the
 *   biased variance over the hw*cg values of (sample b, group g) and
 *   rstd = 1/sqrt(var + eps). eps comes from the caller: 1e-5 in the UNet's
 *   resnets, 1e-6 in transformer / motion-module / VAE norms (Moore
 *   `unet_3d.py` norm_eps=1e-5, `motion_module.py`; engines.md B.3).
 *   Three kernels, so that a sample's statistics can be split over many
 *   blocks (batch 2 x 32 groups is only 64 (sample, group) pairs on a
 *   132-SM H100):
 *     1. stats: each block reduces a chunk of rows and writes one partial
 *        (count, mean, M2) per group it covers to part[b][g][split];
 *     2. finalize: one warp per (b, g) merges its partials into
 *        stat[b][g] = (mean, rstd);
 *     3. apply: normalise, affine, SiLU; writes y (y may be x: every element
 *        is read and written by the same thread, after all statistics exist).
 *   Variants (bench/bench_groupnorm.c times them side by side):
 *     K_GN_ROWS    - stats and apply blocks cover whole rows of one sample:
 *                    each thread owns a fixed vector of `vec` channels (16-byte
 *                    loads for vec 8) and walks rows, so every warp reads
 *                    contiguous memory. Needs c/vec <= 512.
 *     K_GN_GENERIC - stats: one block per (split, group, sample) with scalar
 *                    loads; apply: elementwise grid-stride. Any shape.
 *   Numerics: per thread, shifted sums (x - K) and (x - K)^2 in fp32 with K
 *   the thread's first value of that channel/group (no E[x^2]-E[x]^2
 *   cancellation when |mean| >> std), turned into (count, mean, M2) and then
 *   merged pairwise with Chan et al.'s formula across threads, warps, blocks
 *   and splits, always in the same order: results are deterministic.
 *   var = max(M2/count, 0); rstd = 1/sqrtf(var + eps) (IEEE sqrt and divide).
 *   Limits: n, hw, c >= 1, c % groups == 0; blocks (splits x n, or splits x
 *   groups x n) <= 2^31-1; element offsets are 64-bit. Scratch:
 *   n*groups*(splits*16 + 8) bytes, allocated stream-ordered on the stream.
 *
 * LayerNorm
 *   Layout: x, y [m][c] (row stride c), gamma, beta [c] or NULL; y may be x.
 *   One warp per row, exact two-pass statistics in fp32 (sum -> mean, then
 *   sum of squared deviations -> biased variance; the row stays in L1),
 *   y = (x - mean) * rstd * gamma + beta. c = 320..1280 in the UNet and the
 *   motion modules, 1024 in CLIP; any c >= 1 works (vectors of 8/4/2/1).
 */
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <limits.h>
#include <stdint.h>

#include "norm.h"

#define GN_MAX_SPLITS 256       /* partials per (sample, group) */
#define GN_ROWS_MAX_COLS 512    /* K_GN_ROWS: c / vec (threads owning a column) */

// ----------------------------------------------------------------------------
// vector loads/stores of V halves as fp32 (V = 8: one 16-byte access)

template <int V> struct hvec;
template <> struct hvec<8> { typedef uint4 t; };
template <> struct hvec<4> { typedef uint2 t; };
template <> struct hvec<2> { typedef unsigned int t; };
template <> struct hvec<1> { typedef unsigned short t; };

template <int V> using hv_t = typename hvec<V>::t;

template <int V> __device__ __forceinline__ hv_t<V> ld_vec(const __half *p) {
    return *reinterpret_cast<const hv_t<V> *>(p);
}

template <int V> __device__ __forceinline__ void unpack(hv_t<V> u, float (&f)[V]) {
    union { hv_t<V> u; unsigned short s[V]; } b;
    b.u = u;
#pragma unroll
    for (int j = 0; j < V; j++) f[j] = __half2float(__ushort_as_half(b.s[j]));
}

template <int V> __device__ __forceinline__ void load_f(const __half *p, float (&f)[V]) { unpack<V>(ld_vec<V>(p), f); }

template <int V> __device__ __forceinline__ void store_f(__half *p, const float (&f)[V]) {
    union { hv_t<V> u; unsigned short s[V]; } b;
#pragma unroll
    for (int j = 0; j < V; j++) b.s[j] = __half_as_ushort(__float2half_rn(f[j]));
    *reinterpret_cast<hv_t<V> *>(p) = b.u;
}

// ----------------------------------------------------------------------------
// (count, mean, M2) merging, Chan et al. 1979:
//   n = na + nb, d = mean_b - mean_a, mean = mean_a + d nb/n, M2 = M2a + M2b + d^2 na nb/n

__device__ __forceinline__ void chan_merge(float &n, float &mean, float &m2, float nb, float meanb, float m2b) {
    if (nb == 0.0f) return;
    const float nn = n + nb, d = meanb - mean, fb = nb / nn;
    mean = fmaf(d, fb, mean);
    m2 = m2 + m2b + d * d * n * fb;
    n = nn;
}

/* tree over the warp; lane 0 ends with the merge of all 32 lanes (fixed order) */
__device__ __forceinline__ void warp_merge(float &n, float &mean, float &m2) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
        const float nb = __shfl_down_sync(0xffffffffu, n, off);
        const float mb = __shfl_down_sync(0xffffffffu, mean, off);
        const float m2b = __shfl_down_sync(0xffffffffu, m2, off);
        chan_merge(n, mean, m2, nb, mb, m2b);
    }
}

/* every lane ends with the same sum (xor butterfly; + is commutative) */
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

/* shifted sums (x - K) -> (mean, M2) */
__device__ __forceinline__ void shifted_to_moments(float cnt, float k, float s1, float s2, float &mean, float &m2) {
    mean = cnt > 0.0f ? k + s1 / cnt : 0.0f;
    m2 = cnt > 0.0f ? s2 - s1 * (s1 / cnt) : 0.0f;
}

__device__ __forceinline__ float gn_out(float x, float mu, float sc, float sh, int silu) {
    const float v = fmaf(x - mu, sc, sh);
    return silu ? v / (1.0f + expf(-v)) : v;   /* as act_kernel's SiLU; -inf -> -0, never NaN */
}

// ----------------------------------------------------------------------------
// GroupNorm 1a: statistics over whole rows (K_GN_ROWS)
//
// Block (split s, sample b): rows [s*rps, min(hw, (s+1)*rps)). Thread t owns
// column col = t % ncols (channels col*V .. col*V+V-1) and rows row0 + t/ncols
// + k*rpp; it keeps shifted sums per channel. Threads past ncols*rpp (the
// round-up to whole warps) only take part in the merge. Then, per group, one
// warp merges the (row slot, channel) entries from shared memory.

template <int V>
__global__ void __launch_bounds__(GN_ROWS_MAX_COLS)
gn_stats_rows_kernel(const __half *x, float4 *part, int hw, int c, int G, int cg, int S, int rps, int ncols, int rpp) {
    extern __shared__ float smem[];
    const int T = blockDim.x;
    float *sm_mean = smem, *sm_m2 = smem + T * V, *sm_cnt = smem + 2 * T * V;
    const int s = blockIdx.x % S;
    const size_t b = blockIdx.x / S;
    const int t = threadIdx.x, col = t % ncols, rs = t / ncols;
    const int row0 = s * rps, row1 = min(hw, row0 + rps);

    float k[V], s1[V], s2[V];
#pragma unroll
    for (int j = 0; j < V; j++) k[j] = s1[j] = s2[j] = 0.0f;
    int cnt = 0;
    if (rs < rpp) {
        const __half *xc = x + b * hw * (size_t)c + (size_t)col * V;
        int p = row0 + rs;
        if (p < row1) load_f<V>(xc + (size_t)p * c, k);
        for (; p + 3 * rpp < row1; p += 4 * rpp) {
            hv_t<V> r[4];   /* four independent loads in flight before any use */
#pragma unroll
            for (int u = 0; u < 4; u++) r[u] = ld_vec<V>(xc + (size_t)(p + u * rpp) * c);
#pragma unroll
            for (int u = 0; u < 4; u++) {
                float a[V];
                unpack<V>(r[u], a);
#pragma unroll
                for (int j = 0; j < V; j++) {
                    const float d = a[j] - k[j];
                    s1[j] += d;
                    s2[j] = fmaf(d, d, s2[j]);
                }
            }
            cnt += 4;
        }
        for (; p < row1; p += rpp) {
            float a[V];
            load_f<V>(xc + (size_t)p * c, a);
#pragma unroll
            for (int j = 0; j < V; j++) {
                const float d = a[j] - k[j];
                s1[j] += d;
                s2[j] = fmaf(d, d, s2[j]);
            }
            cnt++;
        }
    }
    const float fc = (float)cnt;
#pragma unroll
    for (int j = 0; j < V; j++) shifted_to_moments(fc, k[j], s1[j], s2[j], sm_mean[t * V + j], sm_m2[t * V + j]);
    sm_cnt[t] = fc;
    __syncthreads();

    const int lane = t & 31, warp = t >> 5, nwarps = T >> 5;
    const int per_group = rpp * cg;   /* entries: rpp row slots x cg channels */
    for (int g = warp; g < G; g += nwarps) {
        float n = 0.0f, mean = 0.0f, m2 = 0.0f;
        for (int e = lane; e < per_group; e += 32) {
            const int r = e / cg, ch = g * cg + e % cg;
            const int tt = r * ncols + ch / V, j = ch % V;
            chan_merge(n, mean, m2, sm_cnt[tt], sm_mean[tt * V + j], sm_m2[tt * V + j]);
        }
        warp_merge(n, mean, m2);
        if (lane == 0) part[(b * G + g) * S + s] = make_float4(n, mean, m2, 0.0f);
    }
}

// ----------------------------------------------------------------------------
// GroupNorm 1b: statistics, one block per (split, group, sample) (K_GN_GENERIC)
//
// The block's values are rows [row0, row1) x channels [g*cg, g*cg + cg);
// thread t walks the flattened (row, channel) index t, t + T, ... with the
// row/channel pair stepped incrementally (no division per element).

__global__ void __launch_bounds__(256)
gn_stats_generic_kernel(const __half *x, float4 *part, int hw, int c, int G, int cg, int S, int rps) {
    const int s = blockIdx.x % S;
    const int g = (blockIdx.x / S) % G;
    const size_t b = blockIdx.x / ((unsigned)S * (unsigned)G);
    const int row0 = s * rps, rows = min(hw, row0 + rps) - row0;
    const __half *base = x + (b * hw + row0) * (size_t)c + (size_t)g * cg;
    const float k = __half2float(base[0]);   /* rows >= 1: splits never come out empty */

    const int T = blockDim.x, dp = T / cg, dc = T % cg;
    int p = threadIdx.x / cg, ch = threadIdx.x % cg;
    float s1 = 0.0f, s2 = 0.0f;
    int cnt = 0;
    while (p < rows) {
        const float d = __half2float(base[(size_t)p * c + ch]) - k;
        s1 += d;
        s2 = fmaf(d, d, s2);
        cnt++;
        p += dp;
        ch += dc;
        if (ch >= cg) { ch -= cg; p++; }
    }
    float n = (float)cnt, mean, m2;
    shifted_to_moments(n, k, s1, s2, mean, m2);
    warp_merge(n, mean, m2);

    __shared__ float sh[3][32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sh[0][warp] = n; sh[1][warp] = mean; sh[2][warp] = m2; }
    __syncthreads();
    if (warp == 0) {
        const bool have = lane < (T >> 5);
        n = have ? sh[0][lane] : 0.0f;
        mean = have ? sh[1][lane] : 0.0f;
        m2 = have ? sh[2][lane] : 0.0f;
        warp_merge(n, mean, m2);
        if (lane == 0) part[(b * G + g) * S + s] = make_float4(n, mean, m2, 0.0f);
    }
}

// ----------------------------------------------------------------------------
// GroupNorm 2: one warp per (sample, group) merges its S partials

__global__ void __launch_bounds__(256)
gn_finalize_kernel(const float4 *part, float2 *stat, int ng, int S, float eps) {
    const int w = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) >> 5), lane = threadIdx.x & 31;
    if (w >= ng) return;   /* warp-uniform */
    float n = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (int s = lane; s < S; s += 32) {
        const float4 q = part[(size_t)w * S + s];
        chan_merge(n, mean, m2, q.x, q.y, q.z);
    }
    warp_merge(n, mean, m2);
    if (lane == 0) {
        const float var = fmaxf(m2 / n, 0.0f);   /* n >= 1: hw >= 1 and cg >= 1 */
        stat[w] = make_float2(mean, 1.0f / sqrtf(var + eps));
    }
}

// ----------------------------------------------------------------------------
// GroupNorm 3a: apply over whole rows (K_GN_ROWS). Same block/thread layout
// as 1a; each thread turns its V channels' statistics and affine into
// (mu, scale, shift) once, then streams its rows.

template <int V>
__global__ void __launch_bounds__(GN_ROWS_MAX_COLS)
gn_apply_rows_kernel(const __half *x, const float2 *stat, const __half *gamma, const __half *beta, __half *y, int hw,
                     int c, int G, int cg, int S, int rps, int ncols, int rpp, int silu) {
    const int s = blockIdx.x % S;
    const size_t b = blockIdx.x / S;
    const int t = threadIdx.x, col = t % ncols, rs = t / ncols;
    if (rs >= rpp) return;
    float mu[V], sc[V], sh[V];
#pragma unroll
    for (int j = 0; j < V; j++) {
        const int ch = col * V + j;
        const float2 st = stat[b * G + ch / cg];
        mu[j] = st.x;
        sc[j] = gamma ? st.y * __half2float(gamma[ch]) : st.y;
        sh[j] = beta ? __half2float(beta[ch]) : 0.0f;
    }
    const int row0 = s * rps, row1 = min(hw, row0 + rps);
    const size_t off = b * hw * (size_t)c + (size_t)col * V;
    const __half *xc = x + off;
    __half *yc = y + off;
    int p = row0 + rs;
    for (; p + 3 * rpp < row1; p += 4 * rpp) {
        hv_t<V> r[4];   /* all four loads before the first store (y may be x: same addresses only) */
#pragma unroll
        for (int u = 0; u < 4; u++) r[u] = ld_vec<V>(xc + (size_t)(p + u * rpp) * c);
#pragma unroll
        for (int u = 0; u < 4; u++) {
            float a[V];
            unpack<V>(r[u], a);
#pragma unroll
            for (int j = 0; j < V; j++) a[j] = gn_out(a[j], mu[j], sc[j], sh[j], silu);
            store_f<V>(yc + (size_t)(p + u * rpp) * c, a);
        }
    }
    for (; p < row1; p += rpp) {
        float a[V];
        load_f<V>(xc + (size_t)p * c, a);
#pragma unroll
        for (int j = 0; j < V; j++) a[j] = gn_out(a[j], mu[j], sc[j], sh[j], silu);
        store_f<V>(yc + (size_t)p * c, a);
    }
}

// ----------------------------------------------------------------------------
// GroupNorm 3b: apply, elementwise (K_GN_GENERIC)

__global__ void gn_apply_generic_kernel(const __half *x, const float2 *stat, const __half *gamma, const __half *beta,
                                        __half *y, size_t total, int hw, int c, int G, int cg, int silu) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)(i % c);
        const size_t b = i / ((size_t)hw * c);
        const float2 st = stat[b * G + ch / cg];
        const float sc = gamma ? st.y * __half2float(gamma[ch]) : st.y;
        const float sh = beta ? __half2float(beta[ch]) : 0.0f;
        y[i] = __float2half_rn(gn_out(__half2float(x[i]), st.x, sc, sh, silu));
    }
}

// ----------------------------------------------------------------------------
// LayerNorm: one warp per row

template <int V>
__global__ void __launch_bounds__(256)
ln_rows_kernel(const __half *x, const __half *gamma, const __half *beta, __half *y, int m, int c, float eps) {
    const int lane = threadIdx.x & 31;
    const size_t row = (size_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= (size_t)m) return;   /* warp-uniform */
    const __half *xr = x + row * c;
    __half *yr = y + row * c;
    const int nv = c / V;
    float sum = 0.0f;
    for (int v = lane; v < nv; v += 32) {
        float f[V];
        load_f<V>(xr + (size_t)v * V, f);
#pragma unroll
        for (int j = 0; j < V; j++) sum += f[j];
    }
    const float mean = warp_sum(sum) / (float)c;
    float ss = 0.0f;
    for (int v = lane; v < nv; v += 32) {
        float f[V];
        load_f<V>(xr + (size_t)v * V, f);
#pragma unroll
        for (int j = 0; j < V; j++) {
            const float d = f[j] - mean;
            ss = fmaf(d, d, ss);
        }
    }
    const float rstd = 1.0f / sqrtf(warp_sum(ss) / (float)c + eps);
    for (int v = lane; v < nv; v += 32) {
        float f[V], g[V], bb[V];
        load_f<V>(xr + (size_t)v * V, f);
        if (gamma) load_f<V>(gamma + (size_t)v * V, g);
        if (beta) load_f<V>(beta + (size_t)v * V, bb);
#pragma unroll
        for (int j = 0; j < V; j++) {
            float o = (f[j] - mean) * rstd;
            if (gamma) o *= g[j];
            if (beta) o += bb[j];
            f[j] = o;
        }
        store_f<V>(yr + (size_t)v * V, f);
    }
}

// ----------------------------------------------------------------------------
// launchers

/* widest V in 8,4,2,1 dividing c with every given pointer aligned to V halves */
static int pick_vec(int c, const void *p0, const void *p1, const void *p2, const void *p3) {
    for (int v = 8; v > 1; v >>= 1) {
        const uintptr_t a = (uintptr_t)(2 * v) - 1;
        if (c % v == 0 && !((uintptr_t)p0 & a) && !((uintptr_t)p1 & a) && !((uintptr_t)p2 & a) && !((uintptr_t)p3 & a))
            return v;
    }
    return 1;
}

/* Splits per (sample[, group]): enough blocks for about one full wave of
 * resident blocks, but at least min_rows rows per block, at most
 * GN_MAX_SPLITS, and no empty split. */
static void gn_splits(int hw, long long others, int per_sm, int n_sm, int min_rows, int *S, int *rps) {
    long long target = (long long)n_sm * per_sm;
    long long s = (target + others - 1) / others;
    long long max_s = hw / (min_rows > 0 ? min_rows : 1);
    if (s > max_s) s = max_s;
    if (s > GN_MAX_SPLITS) s = GN_MAX_SPLITS;
    if (s < 1) s = 1;
    *rps = (int)((hw + s - 1) / s);
    *S = (hw + *rps - 1) / *rps;
}

template <int V>
static void gn_launch_rows(const __half *x, const __half *gamma, const __half *beta, __half *y, float4 *part,
                           float2 *stat, int n, int hw, int c, int G, int S, int rps, int ncols, int rpp, int threads,
                           float eps, int silu, cudaStream_t st, cudaError_t *err) {
    const int cg = c / G;
    const size_t smem = (size_t)threads * (2 * V + 1) * sizeof(float);
    gn_stats_rows_kernel<V><<<S * n, threads, smem, st>>>(x, part, hw, c, G, cg, S, rps, ncols, rpp);
    if ((*err = cudaGetLastError()) != cudaSuccess) return;
    const int ng = n * G;
    gn_finalize_kernel<<<(ng + 7) / 8, 256, 0, st>>>(part, stat, ng, S, eps);
    if ((*err = cudaGetLastError()) != cudaSuccess) return;
    gn_apply_rows_kernel<V><<<S * n, threads, 0, st>>>(x, stat, gamma, beta, y, hw, c, G, cg, S, rps, ncols, rpp,
                                                       silu);
    *err = cudaGetLastError();
}

extern "C" int k_group_norm(const uint16_t *x16, const uint16_t *gamma16, const uint16_t *beta16, uint16_t *y16, int n,
                            int hw, int c, int groups, float eps, int silu, int variant, void *stream) {
    if (!x16 || !y16 || n <= 0 || hw <= 0 || c <= 0 || groups <= 0 || c % groups != 0 ||
        (variant != K_GN_AUTO && variant != K_GN_GENERIC && variant != K_GN_ROWS))
        return (int)cudaErrorInvalidValue;
    const __half *x = (const __half *)x16, *gamma = (const __half *)gamma16, *beta = (const __half *)beta16;
    __half *y = (__half *)y16;
    cudaStream_t st = (cudaStream_t)stream;
    const int G = groups, cg = c / groups;

    int dev = 0, n_sm = 0;
    cudaError_t err = cudaGetDevice(&dev);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&n_sm, cudaDevAttrMultiProcessorCount, dev);
    if (err != cudaSuccess) return (int)err;

    const int vec = pick_vec(c, x, y, NULL, NULL), ncols = c / vec;
    const bool rows_ok = ncols <= GN_ROWS_MAX_COLS;
    if (variant == K_GN_ROWS && !rows_ok) return (int)cudaErrorInvalidValue;
    const bool use_rows = rows_ok && variant != K_GN_GENERIC;

    int S, rps, rpp = 1, threads;
    long long blocks;
    if (use_rows) {
        rpp = ncols >= 256 ? 1 : 256 / ncols;
        threads = (ncols * rpp + 31) / 32 * 32;
        gn_splits(hw, n, 2048 / threads > 0 ? 2048 / threads : 1, n_sm, 4 * rpp, &S, &rps);
        blocks = (long long)S * n;
    } else {
        threads = 256;
        gn_splits(hw, (long long)n * G, 8, n_sm, (1024 + cg - 1) / cg, &S, &rps);
        blocks = (long long)S * G * n;
    }
    if (blocks > INT_MAX || (long long)n * G > INT_MAX / 32) return (int)cudaErrorInvalidValue;

    const size_t np = (size_t)n * G * S;
    void *scratch = NULL;
    err = cudaMallocAsync(&scratch, np * sizeof(float4) + (size_t)n * G * sizeof(float2), st);
    if (err != cudaSuccess) return (int)err;
    float4 *part = (float4 *)scratch;
    float2 *stat = (float2 *)(part + np);

    if (use_rows) {
        switch (vec) {
        case 8: gn_launch_rows<8>(x, gamma, beta, y, part, stat, n, hw, c, G, S, rps, ncols, rpp, threads, eps, silu, st, &err); break;
        case 4: gn_launch_rows<4>(x, gamma, beta, y, part, stat, n, hw, c, G, S, rps, ncols, rpp, threads, eps, silu, st, &err); break;
        case 2: gn_launch_rows<2>(x, gamma, beta, y, part, stat, n, hw, c, G, S, rps, ncols, rpp, threads, eps, silu, st, &err); break;
        default: gn_launch_rows<1>(x, gamma, beta, y, part, stat, n, hw, c, G, S, rps, ncols, rpp, threads, eps, silu, st, &err); break;
        }
    } else {
        gn_stats_generic_kernel<<<(unsigned)blocks, threads, 0, st>>>(x, part, hw, c, G, cg, S, rps);
        err = cudaGetLastError();
        const int ng = n * G;
        if (err == cudaSuccess) {
            gn_finalize_kernel<<<(ng + 7) / 8, 256, 0, st>>>(part, stat, ng, S, eps);
            err = cudaGetLastError();
        }
        if (err == cudaSuccess) {
            const size_t total = (size_t)n * hw * c;
            size_t g = (total + 255) / 256;
            if (g > (size_t)n_sm * 32) g = (size_t)n_sm * 32;   /* grid-stride beyond a few waves */
            gn_apply_generic_kernel<<<(unsigned)g, 256, 0, st>>>(x, stat, gamma, beta, y, total, hw, c, G, cg, silu);
            err = cudaGetLastError();
        }
    }
    const cudaError_t ferr = cudaFreeAsync(scratch, st);   /* after the kernels, in stream order */
    return (int)(err != cudaSuccess ? err : ferr);
}

extern "C" int k_layer_norm(const uint16_t *x16, const uint16_t *gamma16, const uint16_t *beta16, uint16_t *y16, int m,
                            int c, float eps, void *stream) {
    if (!x16 || !y16 || m <= 0 || c <= 0) return (int)cudaErrorInvalidValue;
    const __half *x = (const __half *)x16, *gamma = (const __half *)gamma16, *beta = (const __half *)beta16;
    __half *y = (__half *)y16;
    cudaStream_t st = (cudaStream_t)stream;
    const unsigned blocks = (unsigned)(((size_t)m + 7) / 8);   /* 8 warps (rows) per block */
    switch (pick_vec(c, x, y, gamma, beta)) {
    case 8: ln_rows_kernel<8><<<blocks, 256, 0, st>>>(x, gamma, beta, y, m, c, eps); break;
    case 4: ln_rows_kernel<4><<<blocks, 256, 0, st>>>(x, gamma, beta, y, m, c, eps); break;
    case 2: ln_rows_kernel<2><<<blocks, 256, 0, st>>>(x, gamma, beta, y, m, c, eps); break;
    default: ln_rows_kernel<1><<<blocks, 256, 0, st>>>(x, gamma, beta, y, m, c, eps); break;
    }
    return (int)cudaGetLastError();
}
