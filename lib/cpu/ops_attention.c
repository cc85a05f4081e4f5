/*
 * ops_attention.c - multi-head scaled-dot-product attention with an optional
 * second key/value segment (the reference-image tokens of ReferenceNet).
 *
 *   o[b,i,h,:] = sum_j softmax_j(scale * q[b,i,h,:] . k[b,j,h,:]) v[b,j,h,:]
 *
 * j runs over the nk rows of segment 1 then the nk2 rows of segment 2.
 * Element (b, i, h, d) of tensor T lives at T + b*T_bs + i*T_ts + h*d_head + d
 * (strides in elements, batch stride 0 = broadcast), so token matrices,
 * projection outputs and temporal sequences (one sequence per spatial
 * position of [F, HW, C]: batch stride C, token stride HW*C) need no copies.
 *
 * Numerics, per (b, h, query i):
 *   s_j = scale * (sum_d q_d k_jd)        float, d ascending
 *   p_j = expf(s_j - max_j s_j)           subtracting the row max first
 *   l   = sum_j p_j                       double, j ascending
 *   o_d = (sum_j p_j v_jd) / l            float accumulation, j ascending,
 *                                         divided in double, rounded once
 * Only one row of nk+nk2 scores per thread exists at a time; the [nq, nk]
 * matrix is never formed.
 *
 * Work: units (b, h, block of QB queries), threads take contiguous ranges.
 * For each (b, h) a thread copies K^T of that head into scratch in blocks of
 * KB keys, [block][d][KB], so the score loop "s[jj] += q_d * kt[d][jj]" runs
 * over KB independent scores and vectorises (each score's own sum still runs
 * over d in order); likewise the value accumulation runs over d. Neither
 * changes any single value's summation order, so the result is the same for
 * every thread count.
 */
#include <math.h>

#include "cpu/cpu_ops.h"

#define QB 32   /* queries per work unit */
#define KB 16   /* keys per packed block (one vector-friendly group of scores) */
#define DB 8    /* head-dim block for the value accumulation */

typedef struct attn_job {
    const bk_attention *a;
    size_t nkt;           /* nk + nk2 */
    size_t n_kb;          /* key blocks of KB (the last one zero-padded) */
    size_t n_qb;          /* query blocks per (b, h) */
    float *scratch;
    size_t slot_floats;   /* kt [n_kb][d][KB], scores [n_kb*KB], acc [d] */
} attn_job;

/* element (b, j, head offset) of a tensor with batch stride bs, token stride ts */
static const float *attn_at(const void *base, int64_t bs, int64_t ts, size_t b, size_t j, size_t hoff) {
    return (const float *)base + ((int64_t)b * bs + (int64_t)j * ts + (int64_t)hoff);
}

/* scores s[0..KB) = q . kb[:, jj] for one packed key block kb [d][KB];
 * each score sums over d in order, the 16 scores side by side */
static void attn_score_block(const float *restrict q, const float *restrict kb, size_t d,
                             float *restrict s) {
    float acc[KB];
    for (int jj = 0; jj < KB; jj++) acc[jj] = 0.0f;
    for (size_t dd = 0; dd < d; dd++) {
        const float qd = q[dd];
        for (int jj = 0; jj < KB; jj++) acc[jj] += qd * kb[dd * KB + jj];
    }
    for (int jj = 0; jj < KB; jj++) s[jj] = acc[jj];
}

/* acc[0..d) += p * v[0..d), in blocks of DB so the compiler can vectorise */
static void attn_axpy(float *restrict acc, float p, const float *restrict v, size_t d) {
    size_t dd = 0;
    for (; dd + DB <= d; dd += DB)
        for (int t = 0; t < DB; t++) acc[dd + t] += p * v[dd + t];
    for (; dd < d; dd++) acc[dd] += p * v[dd];
}

static void attn_slot(void *vctx, size_t slot, size_t u_begin, size_t u_end) {
    const attn_job *job = vctx;
    const bk_attention *a = job->a;
    const size_t d = (size_t)a->d_head, nk = (size_t)a->nk, nkt = job->nkt;
    float *kt = job->scratch + slot * job->slot_floats;
    float *s = kt + job->n_kb * d * KB;
    float *acc = s + job->n_kb * KB;
    size_t packed = (size_t)-1;

    for (size_t u = u_begin; u < u_end; u++) {
        const size_t bh = u / job->n_qb, qb = u % job->n_qb;
        const size_t b = bh / (size_t)a->heads, h = bh % (size_t)a->heads;
        if (bh != packed) {
            /* K^T of this (b, h) in key blocks: kt[jb][dd][jj] = k[jb*KB + jj][dd] */
            for (size_t j = 0; j < job->n_kb * KB; j++) {
                float *dst = kt + (j / KB) * d * KB + j % KB;
                if (j >= nkt) {   /* padding keys: never used, zero for tidiness */
                    for (size_t dd = 0; dd < d; dd++) dst[dd * KB] = 0.0f;
                    continue;
                }
                const float *kr = j < nk ? attn_at(a->k, a->k_bs, a->k_ts, b, j, h * d)
                                         : attn_at(a->k2, a->k2_bs, a->k2_ts, b, j - nk, h * d);
                for (size_t dd = 0; dd < d; dd++) dst[dd * KB] = kr[dd];
            }
            packed = bh;
        }
        const size_t i_end = (qb + 1) * QB < (size_t)a->nq ? (qb + 1) * QB : (size_t)a->nq;
        for (size_t i = qb * QB; i < i_end; i++) {
            const float *q = attn_at(a->q, a->q_bs, a->q_ts, b, i, h * d);
            float *o = (float *)a->o + ((int64_t)b * a->o_bs + (int64_t)i * a->o_ts + (int64_t)(h * d));

            for (size_t jb = 0; jb < job->n_kb; jb++) attn_score_block(q, kt + jb * d * KB, d, s + jb * KB);
            float mx = -INFINITY;
            for (size_t j = 0; j < nkt; j++) {
                s[j] *= a->scale;
                if (s[j] > mx) mx = s[j];
            }
            /* softmax numerator and the weighted sum of values */
            double l = 0.0;
            for (size_t dd = 0; dd < d; dd++) acc[dd] = 0.0f;
            for (size_t j = 0; j < nkt; j++) {
                const float p = expf(s[j] - mx);
                l += p;
                const float *vr = j < nk ? attn_at(a->v, a->v_bs, a->v_ts, b, j, h * d)
                                         : attn_at(a->v2, a->v2_bs, a->v2_ts, b, j - nk, h * d);
                attn_axpy(acc, p, vr, d);
            }
            for (size_t dd = 0; dd < d; dd++) o[dd] = (float)((double)acc[dd] / l);
        }
    }
}

anim_status cpu_attention(anim_be *be, const bk_attention *a, anim_error *err) {
    if (!a->q || !a->k || !a->v || !a->o)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "attention: NULL q, k, v or o");
    if (a->batch <= 0 || a->heads <= 0 || a->d_head <= 0 || a->nq <= 0 || a->nk <= 0 || a->nk2 < 0)
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "attention: bad shape batch %d heads %d d_head %d nq %d nk %d nk2 %d",
                           a->batch, a->heads, a->d_head, a->nq, a->nk, a->nk2);
    if (a->nk2 > 0 && (!a->k2 || !a->v2))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "attention: nk2 %d but k2 or v2 is NULL", a->nk2);
    if (!isfinite(a->scale))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "attention: non-finite scale %g", (double)a->scale);
    cpu_impl *impl = cpu_impl_of(be);
    attn_job job = { .a = a };
    job.nkt = (size_t)a->nk + (size_t)a->nk2;
    job.n_kb = (job.nkt + KB - 1) / KB;
    job.n_qb = ((size_t)a->nq + QB - 1) / QB;
    size_t per_slot, n_units, total, bytes;
    if (!cpu_mul_ok((size_t)a->d_head + 1, job.n_kb * KB, &per_slot) ||
        !cpu_mul_ok((size_t)a->batch * (size_t)a->heads, job.n_qb, &n_units))
        return anim_seterr(err, ANIM_E_INVALID_ARG, "attention: problem size overflows");
    job.slot_floats = (per_slot + (size_t)a->d_head + 15) / 16 * 16;
    if (!cpu_mul_ok(job.slot_floats, cpu_slots(impl, n_units), &total) ||
        !cpu_mul_ok(total, sizeof(float), &bytes))
        return anim_seterr(err, ANIM_E_OOM, "attention: scratch size overflows");
    job.scratch = cpu_scratch(impl, bytes, "attention", err);
    if (!job.scratch) return ANIM_E_OOM;
    cpu_for_slots(impl, n_units, attn_slot, &job);
    return ANIM_OK;
}
