/*
 * attention.cu - fused multi-head attention (flash-attention style: the score
 * matrix is never stored) and the row softmax. fp16 storage, fp32 math.
 *
 * Reference formula (lib/backend.h bk_attention; CPU reference
 * lib/cpu/ops_attention.c, which the tests in tests/gpu/test_gpu_attention.c
 * compare against):
 *   o[b,i,h,:] = sum_j softmax_j(scale * q[b,i,h,:] . k[b,j,h,:]) v[b,j,h,:]
 * j runs over segment 1 (nk rows of k, v) then segment 2 (nk2 rows of k2, v2,
 * the reference-image tokens), both in the same online-softmax loop.
 *
 * Layout: element (b, i, h, d) of tensor T is at
 *   T + b*T_bs + i*T_ts + h*d_head + d          (strides in elements)
 * so NHWC spatial tokens (bs = HW*C, ts = C), projection outputs, and temporal
 * sequences over the frame axis of [F, HW, C] (one sequence per pixel: bs = C,
 * ts = HW*C) are read in place; a batch stride 0 broadcasts (one reference
 * bank for every frame). Every row start that is 16-byte aligned with
 * d_head % 8 == 0 takes 16-byte cp.async copies, anything else element loads.
 *
 * Numerics (per (b, h, query row)), FLASH variants:
 *   s_j = (q . k_j) * scale * log2(e)      fp16 x fp16 products, fp32 accumulate (mma.sync)
 *   online softmax over key tiles: m = running max, l = running sum of
 *   p_j = exp2(s_j - m) in fp32, the output accumulator rescaled by
 *   exp2(m_old - m_new) when the max grows;
 *   o += p v with p rounded to fp16 for the tensor cores, fp32 accumulate;
 *   out = o / l rounded once to fp16.
 * Masks: query rows >= nq and keys >= nk + nk2 are zero-filled in shared
 * memory (never read from global memory) and the padded keys' scores are set
 * to -inf before the softmax; padded rows are never stored. Columns >= d_head
 * are zero (d padded to DP: 40 -> 48, 80 -> 80, 160 -> 160, 64 -> 64).
 * Differences from the CPU reference (expf in fp32, row sum in double): the fp16
 * rounding of p and of the output, ~1e-7 normalised MSE; the tests allow 1e-5.
 *
 * Variants (k_attention's `variant`, attention.h):
 *   FLASH        block = NW warps x (16*MI) query rows, key tiles of BK rows,
 *                K/V tiles double-buffered in shared memory (cp.async),
 *                m16n8k16 mma.sync with ldmatrix fragments; S and P stay in
 *                registers (the C fragment of QK^T is the A fragment of PV).
 *                Tiles per padded head dim DP: see flash_large[] below.
 *                DP = 512 (VAE mid-block, d = 512) splits the output columns
 *                into two blocks of DV = 256 (QK^T computed twice).
 *   FLASH_SMALL  the same kernel with 2 warps x 16 rows and 32-key tiles: for
 *                short sequences (temporal attention, F = 16..24, ~100k
 *                sequences: one block per (sequence, head)) and for problems
 *                whose FLASH grid would not fill the GPU.
 *   SIMPLE       one warp per (b, h, query, 256-column chunk), fp32 CUDA cores,
 *                any d_head <= 1024: the plain GPU reference and the fallback
 *                where a FLASH tile does not fit the device's shared memory.
 *   AUTO         FLASH_SMALL when nq <= 32 or FLASH would launch fewer than
 *                2 blocks per SM, else FLASH; SIMPLE when d_head > 512 or the
 *                tile does not fit.
 * Grid: one flat x dimension over (query tile, column chunk, head, batch),
 * query tile fastest, so blocks that share keys/values run together (L2).
 * Limits: d_head <= 1024 (FLASH: <= 512), nk >= 1, nq >= 1, nk + nk2 < 2^31 - 1024,
 * at most 2^31 - 1 blocks.
 *
 * Row softmax (k_softmax): y = softmax(scale * x) per row of x[m][n], one warp
 * per row: one pass for the running max and sum (fp32, exp2), one pass to
 * write; y may alias x (each element is read before it is written, by the
 * same lane). CPU reference: lib/cpu/ops_elementwise.c.
 */
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>

#include "attention.h"

namespace {

struct attn_args {
    const __half *q, *k, *v, *k2, *v2;
    __half *o;
    int batch, heads, d_head, nq, nk, nk2;
    long long q_bs, q_ts, k_bs, k_ts, v_bs, v_ts, o_bs, o_ts;
    long long k2_bs, k2_ts, v2_bs, v2_ts;
    float scale_log2; /* scale * log2(e): the kernels use exp2 */
    int vec;          /* VEC_* bits: which tensors take 16-byte accesses */
};

enum { VEC_Q = 1, VEC_K = 2, VEC_V = 4, VEC_O = 8 };

constexpr float LOG2E = 1.4426950408889634f;

/* ---- PTX wrappers (sm_80+) ------------------------------------------------ */

__device__ __forceinline__ uint32_t smem_addr(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

/* 16-byte global -> shared copy, completes at cp_async_wait */
__device__ __forceinline__ void cp_async16(void *dst, const void *src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem_addr(dst)), "l"(src) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
/* wait until at most N of this thread's committed groups are pending */
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

/* Four 8x8 b16 matrices; lanes 8i..8i+7 give the row addresses of matrix i.
 * Register i of lane t holds matrix i's (row t/4, cols 2(t%4), 2(t%4)+1);
 * with .trans, (rows 2(t%4), 2(t%4)+1 of col t/4). */
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], const __half *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p))
                 : "memory");
}
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], const __half *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p))
                 : "memory");
}

/* d += A(16x16, row) * B(16x8, col), fp16 in, fp32 accumulate. Fragments
 * (PTX ISA, mma.m16n8k16, g = lane/4, t = lane%4):
 *   A: a[0] = (row g,   k 2t..2t+1)  a[1] = (row g+8, k 2t..2t+1)
 *      a[2] = (row g,   k 2t+8..)    a[3] = (row g+8, k 2t+8..)
 *   B: b0 = (k 2t..2t+1, col g)      b1 = (k 2t+8..2t+9, col g)
 *   C/D: d[0..1] = (row g, cols 2t, 2t+1), d[2..3] = (row g+8, cols 2t, 2t+1) */
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* two floats -> f16x2 register, `lo` in the low half (the lower column index) */
__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

/* ---- tile loads ------------------------------------------------------------ */

/* Rows [j0, j0 + ROWS) x columns [c0, c0 + COLS) of one head into
 * dst[ROWS][COLS + 8] (shared memory). Row j < n1 is p1 + j*ts1 (segment 1),
 * n1 <= j < n1 + n2 is p2 + (j - n1)*ts2 (segment 2); rows past the end and
 * columns >= d_head are written as zeros, so padding adds nothing to q.k or
 * p.v and no out-of-range address is formed. vec: 16-byte cp.async (row
 * starts 16-byte aligned, d_head % 8 == 0, so an 8-column chunk is all in or
 * all out); otherwise element loads and one 16-byte shared store. */
template <int ROWS, int COLS, int NT>
__device__ __forceinline__ void load_tile(__half *dst, const __half *p1, long long ts1, int n1, const __half *p2,
                                          long long ts2, int n2, int j0, int c0, int d_head, bool vec) {
    constexpr int CPR = COLS / 8; /* 16-byte chunks per row */
    for (int c = threadIdx.x; c < ROWS * CPR; c += NT) {
        const int r = c / CPR, col = (c % CPR) * 8, j = j0 + r, dcol = c0 + col;
        __half *d = dst + r * (COLS + 8) + col;
        const __half *src = nullptr;
        if (j < n1) src = p1 + (long long)j * ts1;
        else if (j - n1 < n2) src = p2 + (long long)(j - n1) * ts2;
        if (src && vec && dcol < d_head) {
            cp_async16(d, src + dcol);
        } else {
            unsigned e[8];
#pragma unroll
            for (int t = 0; t < 8; t++) e[t] = (src && dcol + t < d_head) ? __half_as_ushort(src[dcol + t]) : 0u;
            uint4 u;
            u.x = e[0] | (e[1] << 16);
            u.y = e[2] | (e[3] << 16);
            u.z = e[4] | (e[5] << 16);
            u.w = e[6] | (e[7] << 16);
            *reinterpret_cast<uint4 *>(d) = u;
        }
    }
}

/* ---- FLASH kernel ------------------------------------------------------------ */

/* DP: head dim padded to a multiple of 16 (QK^T reduction); DV: output columns
 * per block (DV = DP, or 256 when DP = 512); MI: 16-row m-fragments per warp;
 * NW: warps; BK: keys per tile; QREG: keep the Q fragments in registers.
 * Shared memory: Q [BQ][DP+8], K [2][BK][DP+8], V [2][BK][DV+8] fp16; the +8
 * halves make each row start 16 bytes further along the 128-byte bank line
 * ((DP+8)/8 is odd), so ldmatrix's eight row reads hit distinct banks. */
template <int DP, int DV, int MI, int NW, int BK, bool QREG>
__global__ void __launch_bounds__(NW * 32) attn_flash_kernel(const attn_args a) {
    constexpr int NT = NW * 32, WR = MI * 16, BQ = NW * WR, SQ = DP + 8, SV = DV + 8;
    static_assert(DP % 16 == 0 && DV % 16 == 0 && BK % 16 == 0 && DV <= DP, "tile shapes");
    extern __shared__ __align__(128) unsigned char smem_raw[];
    __half *Qs = reinterpret_cast<__half *>(smem_raw); /* [BQ][SQ] */
    __half *Ks = Qs + BQ * SQ;                           /* [2][BK][SQ] */
    __half *Vs = Ks + 2 * BK * SQ;                       /* [2][BK][SV] */

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = lane / 4, tg = lane % 4; /* fragment row group, thread in group */

    const int n_qt = (a.nq + BQ - 1) / BQ, n_dc = (a.d_head + DV - 1) / DV;
    long long bid = blockIdx.x;
    const int qt = (int)(bid % n_qt);
    bid /= n_qt;
    const int dc = (int)(bid % n_dc);
    bid /= n_dc;
    const int h = (int)(bid % a.heads);
    const int b = (int)(bid / a.heads);
    const long long hoff = (long long)h * a.d_head;
    const int q0 = qt * BQ, c0 = dc * DV, nkt = a.nk + a.nk2;

    const __half *qp = a.q + b * a.q_bs + hoff;
    const __half *kp = a.k + b * a.k_bs + hoff, *vp = a.v + b * a.v_bs + hoff;
    const __half *k2p = a.nk2 > 0 ? a.k2 + b * a.k2_bs + hoff : nullptr;
    const __half *v2p = a.nk2 > 0 ? a.v2 + b * a.v2_bs + hoff : nullptr;
    const bool vq = a.vec & VEC_Q, vk = a.vec & VEC_K, vv = a.vec & VEC_V;

    /* group 0: the Q tile; group 1: key/value tile 0 */
    load_tile<BQ, DP, NT>(Qs, qp, a.q_ts, a.nq, nullptr, 0, 0, q0, 0, a.d_head, vq);
    cp_async_commit();
    load_tile<BK, DP, NT>(Ks, kp, a.k_ts, a.nk, k2p, a.k2_ts, a.nk2, 0, 0, a.d_head, vk);
    load_tile<BK, DV, NT>(Vs, vp, a.v_ts, a.nk, v2p, a.v2_ts, a.nk2, 0, c0, a.d_head, vv);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();

    const __half *Qw = Qs + warp * WR * SQ; /* this warp's WR query rows (read by this warp only) */
    /* A fragment of rows mi*16..+15, k columns kd*16..+15: matrices (rows 0-7 | 8-15) x (cols 0-7 | 8-15)
     * in the order a[0..3] above, so lane supplies row lane%16, column half lane/16 */
    uint32_t qf[QREG ? MI : 1][QREG ? DP / 16 : 1][4];
    (void)qf;
    if constexpr (QREG) {
#pragma unroll
        for (int mi = 0; mi < MI; mi++)
#pragma unroll
            for (int kd = 0; kd < DP / 16; kd++) ldsm_x4(qf[mi][kd], Qw + (mi * 16 + (lane & 15)) * SQ + kd * 16 + (lane >> 4) * 8);
    }

    float o[MI][DV / 8][4], m[MI][2], l[MI][2];
#pragma unroll
    for (int mi = 0; mi < MI; mi++) {
#pragma unroll
        for (int n = 0; n < DV / 8; n++)
#pragma unroll
            for (int e = 0; e < 4; e++) o[mi][n][e] = 0.0f;
        m[mi][0] = m[mi][1] = -INFINITY;
        l[mi][0] = l[mi][1] = 0.0f;
    }

    const int n_kt = (nkt + BK - 1) / BK;
    for (int t = 0; t < n_kt; t++) {
        const int buf = t & 1;
        /* prefetch tile t+1 into the other buffer: it was last read in iteration
         * t-1, which ended with __syncthreads() */
        if (t + 1 < n_kt) {
            const int nb = buf ^ 1, j1 = (t + 1) * BK;
            load_tile<BK, DP, NT>(Ks + nb * BK * SQ, kp, a.k_ts, a.nk, k2p, a.k2_ts, a.nk2, j1, 0, a.d_head, vk);
            load_tile<BK, DV, NT>(Vs + nb * BK * SV, vp, a.v_ts, a.nk, v2p, a.v2_ts, a.nk2, j1, c0, a.d_head, vv);
            cp_async_commit();
            cp_async_wait<1>(); /* tile t has landed */
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const __half *Kb = Ks + buf * BK * SQ, *Vb = Vs + buf * BK * SV;

        /* S = Q K^T: s[mi][n] is the 16x8 block (rows mi*16.., keys n*8..). B = K^T, so
         * b0 of key block n is K rows n*8+g, columns 2t..: ldmatrix (no trans) of K
         * matrices (keys 0-7, d 0-7), (keys 0-7, d 8-15), (keys 8-15, d 0-7),
         * (keys 8-15, d 8-15) gives b0, b1 of keys np*16.. then b0, b1 of keys np*16+8.. */
        float s[MI][BK / 8][4];
#pragma unroll
        for (int mi = 0; mi < MI; mi++)
#pragma unroll
            for (int n = 0; n < BK / 8; n++)
#pragma unroll
                for (int e = 0; e < 4; e++) s[mi][n][e] = 0.0f;
#pragma unroll
        for (int kd = 0; kd < DP / 16; kd++) {
            uint32_t qa[MI][4];
#pragma unroll
            for (int mi = 0; mi < MI; mi++) {
                if constexpr (QREG) {
#pragma unroll
                    for (int r = 0; r < 4; r++) qa[mi][r] = qf[mi][kd][r];
                } else {
                    ldsm_x4(qa[mi], Qw + (mi * 16 + (lane & 15)) * SQ + kd * 16 + (lane >> 4) * 8);
                }
            }
#pragma unroll
            for (int np = 0; np < BK / 16; np++) {
                uint32_t kb[4];
                ldsm_x4(kb, Kb + (np * 16 + (lane >> 4) * 8 + (lane & 7)) * SQ + kd * 16 + ((lane >> 3) & 1) * 8);
#pragma unroll
                for (int mi = 0; mi < MI; mi++) {
                    mma16816(s[mi][2 * np], qa[mi], kb[0], kb[1]);
                    mma16816(s[mi][2 * np + 1], qa[mi], kb[2], kb[3]);
                }
            }
        }

        /* online softmax. Thread (g, tg) holds rows g (e = 0, 1) and g+8 (e = 2, 3),
         * keys n*8 + 2tg + (e&1); the four threads of a quad (same g) cover all BK
         * keys, so two xor-shuffles (1, 2) give the row's tile max. Every tile holds
         * at least one real key, so the max is finite and exp2(-inf - max) = 0. */
        const int kbase = t * BK;
#pragma unroll
        for (int mi = 0; mi < MI; mi++) {
            float mt[2] = {-INFINITY, -INFINITY}, alpha[2], rs[2] = {0.0f, 0.0f};
#pragma unroll
            for (int n = 0; n < BK / 8; n++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int key = kbase + n * 8 + tg * 2 + (e & 1);
                    const float v = key < nkt ? s[mi][n][e] * a.scale_log2 : -INFINITY;
                    s[mi][n][e] = v;
                    mt[e >> 1] = fmaxf(mt[e >> 1], v);
                }
#pragma unroll
            for (int r = 0; r < 2; r++) {
                mt[r] = fmaxf(mt[r], __shfl_xor_sync(0xffffffffu, mt[r], 1));
                mt[r] = fmaxf(mt[r], __shfl_xor_sync(0xffffffffu, mt[r], 2));
                const float mn = fmaxf(m[mi][r], mt[r]);
                alpha[r] = exp2f(m[mi][r] - mn); /* 0 on the first tile (m = -inf) */
                m[mi][r] = mn;
            }
#pragma unroll
            for (int n = 0; n < BK / 8; n++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const float p = exp2f(s[mi][n][e] - m[mi][e >> 1]);
                    s[mi][n][e] = p;
                    rs[e >> 1] += p;
                }
            /* l: this thread's columns only; the quad's partial sums are added at the end */
            l[mi][0] = l[mi][0] * alpha[0] + rs[0];
            l[mi][1] = l[mi][1] * alpha[1] + rs[1];
#pragma unroll
            for (int n = 0; n < DV / 8; n++) {
                o[mi][n][0] *= alpha[0];
                o[mi][n][1] *= alpha[0];
                o[mi][n][2] *= alpha[1];
                o[mi][n][3] *= alpha[1];
            }
        }

        /* O += P V. The C fragments of key blocks 2kk, 2kk+1 are exactly the A
         * fragment of the 16-key step kk (a[0] = s[2kk][0..1], a[1] = s[2kk][2..3],
         * a[2] = s[2kk+1][0..1], a[3] = s[2kk+1][2..3]). B = V (keys x d): b0 is keys
         * 2t.. of column g, i.e. ldmatrix.trans of V matrices (keys 0-7, d 0-7),
         * (keys 8-15, d 0-7), (keys 0-7, d 8-15), (keys 8-15, d 8-15): b0, b1 of
         * columns np*16.. then b0, b1 of columns np*16+8.. */
#pragma unroll
        for (int kk = 0; kk < BK / 16; kk++) {
            uint32_t pa[MI][4];
#pragma unroll
            for (int mi = 0; mi < MI; mi++) {
                pa[mi][0] = pack_half2(s[mi][2 * kk][0], s[mi][2 * kk][1]);
                pa[mi][1] = pack_half2(s[mi][2 * kk][2], s[mi][2 * kk][3]);
                pa[mi][2] = pack_half2(s[mi][2 * kk + 1][0], s[mi][2 * kk + 1][1]);
                pa[mi][3] = pack_half2(s[mi][2 * kk + 1][2], s[mi][2 * kk + 1][3]);
            }
#pragma unroll
            for (int np = 0; np < DV / 16; np++) {
                uint32_t vb[4];
                ldsm_x4_trans(vb, Vb + (kk * 16 + ((lane >> 3) & 1) * 8 + (lane & 7)) * SV + np * 16 + (lane >> 4) * 8);
#pragma unroll
                for (int mi = 0; mi < MI; mi++) {
                    mma16816(o[mi][2 * np], pa[mi], vb[0], vb[1]);
                    mma16816(o[mi][2 * np + 1], pa[mi], vb[2], vb[3]);
                }
            }
        }
        __syncthreads(); /* everyone is done with `buf` before it is refilled */
    }

    /* Epilogue: full row sums, normalise, stage this warp's rows as fp16 in its own
     * Q rows (only this warp ever read them; all copies have completed), then
     * store rows < nq, columns < d_head, 16 bytes at a time where aligned. */
    __half *Ow = Qs + warp * WR * SQ;
#pragma unroll
    for (int mi = 0; mi < MI; mi++) {
        float inv[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            float lr = l[mi][r];
            lr += __shfl_xor_sync(0xffffffffu, lr, 1);
            lr += __shfl_xor_sync(0xffffffffu, lr, 2);
            inv[r] = 1.0f / lr; /* lr >= 1: the row max contributes exp2(0) */
        }
#pragma unroll
        for (int n = 0; n < DV / 8; n++) {
            const int col = n * 8 + tg * 2;
            *reinterpret_cast<__half2 *>(Ow + (mi * 16 + g) * SQ + col) =
                __floats2half2_rn(o[mi][n][0] * inv[0], o[mi][n][1] * inv[0]);
            *reinterpret_cast<__half2 *>(Ow + (mi * 16 + g + 8) * SQ + col) =
                __floats2half2_rn(o[mi][n][2] * inv[1], o[mi][n][3] * inv[1]);
        }
    }
    __syncwarp();
    constexpr int OCPR = DV / 8;
    const bool vo = a.vec & VEC_O;
    __half *op = a.o + b * a.o_bs + hoff;
    for (int c = lane; c < WR * OCPR; c += 32) {
        const int r = c / OCPR, col = (c % OCPR) * 8;
        const int i = q0 + warp * WR + r, dcol = c0 + col;
        if (i >= a.nq || dcol >= a.d_head) continue;
        __half *dst = op + (long long)i * a.o_ts + dcol;
        const __half *src = Ow + r * SQ + col;
        if (vo) {
            *reinterpret_cast<uint4 *>(dst) = *reinterpret_cast<const uint4 *>(src);
        } else {
            for (int e = 0; e < 8 && dcol + e < a.d_head; e++) dst[e] = src[e];
        }
    }
}

/* ---- SIMPLE kernel ----------------------------------------------------------- */

constexpr int SIMPLE_WARPS = 8;
constexpr int SIMPLE_COLS = 256; /* output columns per warp: 8 per lane */

/* One warp per (b, h, query i, chunk of 256 output columns). Lane t scores key
 * j0 + t of each 32-key chunk (whole dot product, fp32), the warp updates the
 * running max and sum, and lane t accumulates columns c0 + t + 32u. */
__global__ void __launch_bounds__(SIMPLE_WARPS * 32) attn_simple_kernel(const attn_args a) {
    extern __shared__ float qsh[]; /* [SIMPLE_WARPS][d_head] */
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int d = a.d_head, n_dc = (d + SIMPLE_COLS - 1) / SIMPLE_COLS, nkt = a.nk + a.nk2;
    long long w = (long long)blockIdx.x * SIMPLE_WARPS + warp;
    if (w >= (long long)a.batch * a.heads * a.nq * n_dc) return; /* no block barriers below */
    const int i = (int)(w % a.nq);
    w /= a.nq;
    const int dc = (int)(w % n_dc);
    w /= n_dc;
    const int h = (int)(w % a.heads);
    const int b = (int)(w / a.heads);
    const long long hoff = (long long)h * d;
    const int c0 = dc * SIMPLE_COLS;

    float *qs = qsh + warp * d;
    const __half *qr = a.q + b * a.q_bs + (long long)i * a.q_ts + hoff;
    for (int x = lane; x < d; x += 32) qs[x] = __half2float(qr[x]);
    __syncwarp();
    const __half *kp = a.k + b * a.k_bs + hoff, *vp = a.v + b * a.v_bs + hoff;
    const __half *k2p = a.nk2 > 0 ? a.k2 + b * a.k2_bs + hoff : nullptr;
    const __half *v2p = a.nk2 > 0 ? a.v2 + b * a.v2_bs + hoff : nullptr;

    float acc[SIMPLE_COLS / 32], mx = -INFINITY, l = 0.0f;
#pragma unroll
    for (int u = 0; u < SIMPLE_COLS / 32; u++) acc[u] = 0.0f;
    for (int j0 = 0; j0 < nkt; j0 += 32) {
        const int j = j0 + lane;
        float sc = -INFINITY;
        if (j < nkt) {
            const __half *kr = j < a.nk ? kp + (long long)j * a.k_ts : k2p + (long long)(j - a.nk) * a.k2_ts;
            float dot = 0.0f;
            for (int x = 0; x < d; x++) dot += qs[x] * __half2float(kr[x]);
            sc = dot * a.scale_log2;
        }
        float cm = sc;
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) cm = fmaxf(cm, __shfl_xor_sync(0xffffffffu, cm, off));
        const float mn = fmaxf(mx, cm); /* finite: the chunk has at least one key */
        const float alpha = exp2f(mx - mn);
        const float p = exp2f(sc - mn); /* 0 for lanes past the last key */
        float ps = p;
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) ps += __shfl_xor_sync(0xffffffffu, ps, off);
        l = l * alpha + ps;
        mx = mn;
#pragma unroll
        for (int u = 0; u < SIMPLE_COLS / 32; u++) acc[u] *= alpha;
        const int jn = min(32, nkt - j0);
        for (int jj = 0; jj < jn; jj++) {
            const float pj = __shfl_sync(0xffffffffu, p, jj);
            const int jk = j0 + jj;
            const __half *vr = jk < a.nk ? vp + (long long)jk * a.v_ts : v2p + (long long)(jk - a.nk) * a.v2_ts;
#pragma unroll
            for (int u = 0; u < SIMPLE_COLS / 32; u++) {
                const int col = c0 + lane + 32 * u;
                if (col < d) acc[u] += pj * __half2float(vr[col]);
            }
        }
    }
    __half *orow = a.o + b * a.o_bs + (long long)i * a.o_ts + hoff;
    const float inv = 1.0f / l;
#pragma unroll
    for (int u = 0; u < SIMPLE_COLS / 32; u++) {
        const int col = c0 + lane + 32 * u;
        if (col < d) orow[col] = __float2half_rn(acc[u] * inv);
    }
}

/* ---- row softmax -------------------------------------------------------------- */

constexpr int SOFTMAX_WARPS = 8;

/* running (max, sum of exp2(s - max)) with one more score; -inf scores add nothing */
__device__ __forceinline__ void online_add(float &mx, float &sum, float s) {
    if (s > mx) {
        sum = sum * exp2f(mx - s) + 1.0f; /* mx = -inf: 0 * 0 + 1 */
        mx = s;
    } else if (s != -INFINITY) {
        sum += exp2f(s - mx);
    }
}

__device__ __forceinline__ void unpack8(uint4 u, float (&f)[8]) {
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int t = 0; t < 4; t++) {
        f[2 * t] = __half2float(__ushort_as_half((unsigned short)(w[t] & 0xffffu)));
        f[2 * t + 1] = __half2float(__ushort_as_half((unsigned short)(w[t] >> 16)));
    }
}

/* one warp per row; vec: rows 16-byte aligned and n % 8 == 0 */
__global__ void __launch_bounds__(SOFTMAX_WARPS * 32)
    softmax_kernel(const __half *x, __half *y, int m, int n, float scale_log2, bool vec) {
    const long long row = (long long)blockIdx.x * SOFTMAX_WARPS + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (row >= m) return;
    const __half *xr = x + row * n;
    __half *yr = y + row * n;
    float mx = -INFINITY, sum = 0.0f;
    if (vec) {
        for (int c = lane * 8; c < n; c += 32 * 8) {
            float f[8];
            unpack8(*reinterpret_cast<const uint4 *>(xr + c), f);
#pragma unroll
            for (int t = 0; t < 8; t++) online_add(mx, sum, f[t] * scale_log2);
        }
    } else {
        for (int c = lane; c < n; c += 32) online_add(mx, sum, __half2float(xr[c]) * scale_log2);
    }
    float M = mx;
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) M = fmaxf(M, __shfl_xor_sync(0xffffffffu, M, off));
    float L = mx == -INFINITY ? 0.0f : sum * exp2f(mx - M);
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) L += __shfl_xor_sync(0xffffffffu, L, off);
    const float inv = 1.0f / L;
    /* the shuffles above complete every lane's reads of pass 1 before any write */
    if (vec) {
        for (int c = lane * 8; c < n; c += 32 * 8) {
            float f[8];
            unpack8(*reinterpret_cast<const uint4 *>(xr + c), f);
            uint4 u;
            u.x = pack_half2(exp2f(f[0] * scale_log2 - M) * inv, exp2f(f[1] * scale_log2 - M) * inv);
            u.y = pack_half2(exp2f(f[2] * scale_log2 - M) * inv, exp2f(f[3] * scale_log2 - M) * inv);
            u.z = pack_half2(exp2f(f[4] * scale_log2 - M) * inv, exp2f(f[5] * scale_log2 - M) * inv);
            u.w = pack_half2(exp2f(f[6] * scale_log2 - M) * inv, exp2f(f[7] * scale_log2 - M) * inv);
            *reinterpret_cast<uint4 *>(yr + c) = u;
        }
    } else {
        for (int c = lane; c < n; c += 32) yr[c] = __float2half_rn(exp2f(__half2float(xr[c]) * scale_log2 - M) * inv);
    }
}

/* ---- host side ------------------------------------------------------------------ */

typedef void (*flash_fn)(attn_args);

struct flash_cfg {
    int dp, dv, mi, nw, bk;
    flash_fn fn;
};

#define FLASH_CFG(DP, DV, MI, NW, BK, QREG) {DP, DV, MI, NW, BK, attn_flash_kernel<DP, DV, MI, NW, BK, QREG>}

/* FLASH tiles per padded head dim: two 16-row fragments per warp where the
 * accumulators fit in registers (each K/V fragment read from shared memory then
 * feeds 4 mma instead of 2). ptxas (CUDA 13.0, sm_90a) reports no spills for
 * flash_large, 179-254 registers (d48: 179; d80: 230; d160: 167), and 56-238
 * for flash_small (d48: 72; d96 spills 8 bytes). Shared memory per block:
 * d48 42 KB, d80 44 KB, d160 63 KB, d256 99 KB (= the sm_86/89 opt-in limit),
 * d512 163 KB large / 130.5 KB small (A100, H100 only; elsewhere SIMPLE). */
const flash_cfg flash_large[] = {
    FLASH_CFG(32, 32, 2, 4, 64, true),    FLASH_CFG(48, 48, 2, 4, 64, true),    FLASH_CFG(64, 64, 2, 4, 64, true),
    FLASH_CFG(80, 80, 2, 4, 32, true),    FLASH_CFG(96, 96, 2, 4, 32, true),    FLASH_CFG(128, 128, 1, 4, 64, true),
    FLASH_CFG(160, 160, 1, 4, 32, true),  FLASH_CFG(256, 256, 1, 4, 32, false), FLASH_CFG(512, 256, 1, 4, 32, false),
};
const flash_cfg flash_small[] = {
    FLASH_CFG(32, 32, 1, 2, 32, true),    FLASH_CFG(48, 48, 1, 2, 32, true),    FLASH_CFG(64, 64, 1, 2, 32, true),
    FLASH_CFG(80, 80, 1, 2, 32, true),    FLASH_CFG(96, 96, 1, 2, 32, true),    FLASH_CFG(128, 128, 1, 2, 32, true),
    FLASH_CFG(160, 160, 1, 2, 32, true),  FLASH_CFG(256, 256, 1, 2, 32, false), FLASH_CFG(512, 256, 1, 2, 32, false),
};
constexpr int N_FLASH_CFG = (int)(sizeof flash_large / sizeof flash_large[0]);

/* the config for d_head: the smallest padded size >= d_head, or NULL (d_head > 512) */
const flash_cfg *flash_pick(const flash_cfg *tab, int d_head) {
    for (int i = 0; i < N_FLASH_CFG; i++)
        if (tab[i].dp >= d_head) return &tab[i];
    return nullptr;
}

size_t flash_smem(const flash_cfg *c) {
    const size_t bq = (size_t)c->nw * c->mi * 16;
    return (bq * (c->dp + 8) + 2 * (size_t)c->bk * (c->dp + 8) + 2 * (size_t)c->bk * (c->dv + 8)) * sizeof(__half);
}

long long flash_blocks(const flash_cfg *c, const attn_args &a) {
    const long long bq = (long long)c->nw * c->mi * 16;
    return (a.nq + bq - 1) / bq * ((a.d_head + c->dv - 1) / c->dv) * (long long)a.heads * a.batch;
}

long long simple_blocks(const attn_args &a) {
    const long long warps = (long long)a.batch * a.heads * a.nq * ((a.d_head + SIMPLE_COLS - 1) / SIMPLE_COLS);
    return (warps + SIMPLE_WARPS - 1) / SIMPLE_WARPS;
}

bool aligned_rows(const void *p, long long bs, long long ts, int d) {
    return ((uintptr_t)p & 15) == 0 && bs % 8 == 0 && ts % 8 == 0 && d % 8 == 0;
}

/* kernel arguments from the C params; cudaErrorInvalidValue on a bad problem */
cudaError_t make_args(const k_attn_params *p, attn_args *a) {
    if (!p || !p->q || !p->k || !p->v || !p->o || p->batch <= 0 || p->heads <= 0 || p->d_head <= 0 ||
        p->d_head > K_ATTN_MAX_D || p->nq <= 0 || p->nk <= 0 || p->nk2 < 0 || (p->nk2 > 0 && (!p->k2 || !p->v2)) ||
        p->nk > INT32_MAX - 1024 - p->nk2)
        return cudaErrorInvalidValue;
    a->q = (const __half *)p->q;
    a->k = (const __half *)p->k;
    a->v = (const __half *)p->v;
    a->k2 = (const __half *)p->k2;
    a->v2 = (const __half *)p->v2;
    a->o = (__half *)p->o;
    a->batch = p->batch;
    a->heads = p->heads;
    a->d_head = p->d_head;
    a->nq = p->nq;
    a->nk = p->nk;
    a->nk2 = p->nk2;
    a->q_bs = p->q_bs, a->q_ts = p->q_ts, a->k_bs = p->k_bs, a->k_ts = p->k_ts;
    a->v_bs = p->v_bs, a->v_ts = p->v_ts, a->o_bs = p->o_bs, a->o_ts = p->o_ts;
    a->k2_bs = p->k2_bs, a->k2_ts = p->k2_ts, a->v2_bs = p->v2_bs, a->v2_ts = p->v2_ts;
    a->scale_log2 = p->scale * LOG2E;
    const int d = p->d_head;
    const bool seg2 = p->nk2 > 0;
    a->vec = (aligned_rows(p->q, p->q_bs, p->q_ts, d) ? VEC_Q : 0) |
             (aligned_rows(p->k, p->k_bs, p->k_ts, d) && (!seg2 || aligned_rows(p->k2, p->k2_bs, p->k2_ts, d)) ? VEC_K : 0) |
             (aligned_rows(p->v, p->v_bs, p->v_ts, d) && (!seg2 || aligned_rows(p->v2, p->v2_bs, p->v2_ts, d)) ? VEC_V : 0) |
             (aligned_rows(p->o, p->o_bs, p->o_ts, d) ? VEC_O : 0);
    return cudaSuccess;
}

struct device_info {
    int smem_optin, sms;
};

cudaError_t get_device_info(device_info *di) {
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&di->smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&di->sms, cudaDevAttrMultiProcessorCount, dev);
    return e;
}

bool flash_fits(const flash_cfg *c, const attn_args &a, const device_info &di) {
    return c && flash_smem(c) <= (size_t)di.smem_optin && flash_blocks(c, a) <= INT32_MAX;
}

/* What `variant` runs: K_ATTN_SIMPLE, or a FLASH config in *cfg; -1 if it cannot run. */
int choose(const attn_args &a, int variant, const device_info &di, const flash_cfg **cfg) {
    const flash_cfg *large = flash_pick(flash_large, a.d_head), *small = flash_pick(flash_small, a.d_head);
    const bool simple_ok = simple_blocks(a) <= INT32_MAX;
    *cfg = nullptr;
    switch (variant) {
    case K_ATTN_SIMPLE: return simple_ok ? K_ATTN_SIMPLE : -1;
    case K_ATTN_FLASH: *cfg = large; return flash_fits(large, a, di) ? K_ATTN_FLASH : -1;
    case K_ATTN_FLASH_SMALL: *cfg = small; return flash_fits(small, a, di) ? K_ATTN_FLASH_SMALL : -1;
    case K_ATTN_AUTO: break;
    default: return -1;
    }
    const bool prefer_small =
        a.nq <= 32 || (large && flash_blocks(large, a) < 2LL * di.sms); /* short sequences, or too few blocks */
    const flash_cfg *first = prefer_small ? small : large, *second = prefer_small ? large : small;
    if (flash_fits(first, a, di)) {
        *cfg = first;
        return first == small ? K_ATTN_FLASH_SMALL : K_ATTN_FLASH;
    }
    if (flash_fits(second, a, di)) {
        *cfg = second;
        return second == small ? K_ATTN_FLASH_SMALL : K_ATTN_FLASH;
    }
    return simple_ok ? K_ATTN_SIMPLE : -1;
}

} // namespace

extern "C" int k_attention(const k_attn_params *p, int variant, void *stream) {
    attn_args a;
    cudaError_t e = make_args(p, &a);
    if (e != cudaSuccess) return (int)e;
    device_info di;
    if ((e = get_device_info(&di)) != cudaSuccess) return (int)e;
    const flash_cfg *c;
    const int v = choose(a, variant, di, &c);
    if (v < 0) return (int)cudaErrorInvalidConfiguration;
    cudaStream_t st = (cudaStream_t)stream;
    if (v == K_ATTN_SIMPLE) {
        const size_t smem = (size_t)SIMPLE_WARPS * a.d_head * sizeof(float);
        attn_simple_kernel<<<(unsigned)simple_blocks(a), SIMPLE_WARPS * 32, smem, st>>>(a);
        return (int)cudaGetLastError();
    }
    const size_t smem = flash_smem(c);
    if (smem > 48 * 1024) {
        e = cudaFuncSetAttribute((const void *)c->fn, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        if (e != cudaSuccess) return (int)e;
    }
    c->fn<<<(unsigned)flash_blocks(c, a), c->nw * 32, smem, st>>>(a);
    return (int)cudaGetLastError();
}

extern "C" int k_attention_supported(const k_attn_params *p, int variant) {
    attn_args a;
    device_info di;
    const flash_cfg *c;
    if (make_args(p, &a) != cudaSuccess || get_device_info(&di) != cudaSuccess) return 0;
    return choose(a, variant, di, &c) >= 0;
}

extern "C" const char *k_attention_variant_name(const k_attn_params *p, int variant, char *buf, size_t len) {
    attn_args a;
    device_info di;
    const flash_cfg *c;
    int v = -1;
    if (make_args(p, &a) == cudaSuccess && get_device_info(&di) == cudaSuccess) v = choose(a, variant, di, &c);
    if (v < 0) snprintf(buf, len, "unsupported");
    else if (v == K_ATTN_SIMPLE) snprintf(buf, len, "simple");
    else snprintf(buf, len, "flash-d%d-q%d-k%d", c->dp, c->nw * c->mi * 16, c->bk);
    return buf;
}

extern "C" int k_softmax(const uint16_t *x, uint16_t *y, int m, int n, float scale, void *stream) {
    if (!x || !y || m <= 0 || n <= 0) return (int)cudaErrorInvalidValue;
    const bool vec = ((uintptr_t)x & 15) == 0 && ((uintptr_t)y & 15) == 0 && n % 8 == 0;
    const unsigned blocks = (unsigned)(((long long)m + SOFTMAX_WARPS - 1) / SOFTMAX_WARPS);
    softmax_kernel<<<blocks, SOFTMAX_WARPS * 32, 0, (cudaStream_t)stream>>>((const __half *)x, (__half *)y, m, n,
                                                                            scale * LOG2E, vec);
    return (int)cudaGetLastError();
}
