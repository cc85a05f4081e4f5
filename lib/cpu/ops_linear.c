/*
 * ops_linear.c - linear (y = x W^T + bias + res) and the GEMM core shared
 * with conv2d.
 *
 * Layout: x rows of k floats with row stride ldx; W is PyTorch's [n][k]
 * (row j = output feature j); y and res rows of n floats with row stride ldy.
 * res may be y itself (in-place residual add: each element is read before it
 * is written by the same thread); partial overlaps and x overlapping y are
 * not supported.
 *
 * Numerics: y[i][j] = ((((0 + x0*w0) + x1*w1) + ...) + x_{k-1}*w_{k-1}) + bias[j]
 * + res[i][j], one float accumulator per output, k in increasing order, each
 * product and sum rounded to float (no FMA: -ffp-contract=off). That order
 * is part of the op's definition here, so any blocking and any thread count
 * give the same bits.
 *
 * Blocking: outputs are computed in tiles of RB rows x PANEL columns. For a
 * panel of 16 output features the thread copies W^T into a [k][16] buffer,
 * so the inner loop "acc[r][0..15] += a_r[kk] * wp[kk][0..15]" runs over 16
 * independent accumulators per row - which the compiler vectorises without
 * reordering any single output's sum - and each loaded panel row is reused
 * for MR = 4 input rows. Tiles are ordered panel-major and handed to threads
 * in contiguous ranges, so a thread re-packs a panel only when it moves on to
 * the next one. Threads split the tile list (rows and panels), so both tall
 * (m=6144) and short (m=1) problems use every core.
 */
#include <string.h>

#include "cpu/cpu_ops.h"

#define PANEL 16   /* output features per packed panel */
#define MR 4       /* input rows per micro-kernel call */
#define RB 64      /* rows per tile */

typedef struct gemm_job {
    const cpu_gemm *g;
    float *scratch;
    size_t slot_floats;      /* per-slot scratch: panel [k][PANEL] then MR row buffers of k */
    size_t n_panels, n_rb;
} gemm_job;

/* acc[r][jj] = sum_kk rows[r][kk] * wp[kk][jj], kk ascending, float. */
static void gemm_micro(const float *const rows[MR], const float *restrict wp, size_t k,
                       float out[MR][PANEL]) {
    float acc[MR][PANEL];
    for (int r = 0; r < MR; r++)
        for (int jj = 0; jj < PANEL; jj++) acc[r][jj] = 0.0f;
    const float *restrict a0 = rows[0], *restrict a1 = rows[1];
    const float *restrict a2 = rows[2], *restrict a3 = rows[3];
    for (size_t kk = 0; kk < k; kk++) {
        const float *restrict wk = wp + kk * PANEL;
        const float x0 = a0[kk], x1 = a1[kk], x2 = a2[kk], x3 = a3[kk];
        for (int jj = 0; jj < PANEL; jj++) {
            acc[0][jj] += x0 * wk[jj];
            acc[1][jj] += x1 * wk[jj];
            acc[2][jj] += x2 * wk[jj];
            acc[3][jj] += x3 * wk[jj];
        }
    }
    memcpy(out, acc, sizeof acc);
}

static void gemm_slot(void *vctx, size_t slot, size_t t_begin, size_t t_end) {
    const gemm_job *job = vctx;
    const cpu_gemm *g = job->g;
    const size_t k = g->k;
    float *wp = job->scratch + slot * job->slot_floats;      /* [k][PANEL] */
    float *rowbuf = wp + k * PANEL;                           /* MR x k */
    size_t packed = (size_t)-1;

    for (size_t t = t_begin; t < t_end; t++) {
        const size_t p = t / job->n_rb, rb = t % job->n_rb;
        const size_t j0 = p * PANEL;
        const size_t nj = g->n - j0 < PANEL ? g->n - j0 : PANEL;
        if (p != packed) {
            /* W^T for features j0..j0+15; missing features (n % 16) are zero
             * columns whose results are never stored */
            for (size_t kk = 0; kk < k; kk++)
                for (size_t jj = 0; jj < PANEL; jj++)
                    wp[kk * PANEL + jj] = jj < nj ? g->w[(j0 + jj) * k + kk] : 0.0f;
            packed = p;
        }
        const size_t i_end = (rb + 1) * RB < g->m ? (rb + 1) * RB : g->m;
        for (size_t i0 = rb * RB; i0 < i_end; i0 += MR) {
            const size_t nr = i_end - i0 < MR ? i_end - i0 : MR;
            const float *rows[MR];
            for (size_t r = 0; r < MR; r++)   /* short groups repeat row 0 */
                rows[r] = r < nr ? g->row(g->row_ctx, i0 + r, rowbuf + r * k) : rows[0];
            float acc[MR][PANEL];
            gemm_micro(rows, wp, k, acc);
            for (size_t r = 0; r < nr; r++) {
                float *y = g->y + (i0 + r) * g->ldy + j0;
                const float *res = g->res ? g->res + (i0 + r) * g->ldy + j0 : NULL;
                for (size_t jj = 0; jj < nj; jj++) {
                    float v = acc[r][jj];
                    if (g->bias) v += g->bias[j0 + jj];
                    if (res) v += res[jj];   /* read before the write: y may alias res */
                    y[jj] = v;
                }
            }
        }
    }
}

anim_status cpu_gemm_run(cpu_impl *impl, const cpu_gemm *g, const char *op, anim_error *err) {
    gemm_job job = { .g = g };
    job.n_panels = (g->n + PANEL - 1) / PANEL;
    job.n_rb = (g->m + RB - 1) / RB;
    size_t n_tiles, per_slot;
    if (!cpu_mul_ok(job.n_panels, job.n_rb, &n_tiles) || !cpu_mul_ok(g->k, PANEL + MR, &per_slot))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "%s: problem size overflows (m %zu n %zu k %zu)",
                           op, g->m, g->n, g->k);
    job.slot_floats = (per_slot + 15) / 16 * 16;   /* keep each slot 64-byte aligned */
    size_t slots = cpu_slots(impl, n_tiles), total, bytes;
    if (!cpu_mul_ok(job.slot_floats, slots, &total) || !cpu_mul_ok(total, sizeof(float), &bytes))
        return anim_seterr(err, ANIM_E_OOM, "%s: scratch size overflows", op);
    job.scratch = cpu_scratch(impl, bytes, op, err);
    if (!job.scratch) return ANIM_E_OOM;
    cpu_for_slots(impl, n_tiles, gemm_slot, &job);
    return ANIM_OK;
}

/* ---- linear ------------------------------------------------------------ */

typedef struct linear_rows {
    const float *x;
    size_t ldx;
} linear_rows;

static const float *linear_row(const void *ctx, size_t i, float *buf) {
    (void)buf;
    const linear_rows *lr = ctx;
    return lr->x + i * lr->ldx;
}

anim_status cpu_linear(anim_be *be, const bk_linear *a, anim_error *err) {
    anim_status chk = bk_check_linear(a, err);
    if (chk != ANIM_OK) return chk;
    const int ldx = a->ldx ? a->ldx : a->k, ldy = a->ldy ? a->ldy : a->n;
    linear_rows lr = { a->x, (size_t)ldx };
    cpu_gemm g = {
        .m = (size_t)a->m, .n = (size_t)a->n, .k = (size_t)a->k,
        .row = linear_row, .row_ctx = &lr,
        .w = a->w, .bias = a->bias, .res = a->res, .y = a->y, .ldy = (size_t)ldy,
    };
    return cpu_gemm_run(cpu_impl_of(be), &g, "linear", err);
}
