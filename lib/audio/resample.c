/*
 * resample.c - libswresample's default resampler, downmix and s16
 * conversion, as the ffmpeg CLI applies them for `-ac 1 -ar 16000 -f s16le`
 * (the arithmetic is described in resample.h).
 *
 * Verified bit for bit against ffmpeg 5.1 on s16 input (mono and stereo,
 * 8 k .. 96 kHz and odd rates, every input length from 1 to 120 samples and
 * longer ones); the float/double paths differ from ffmpeg's SIMD float sums
 * by at most one s16 step on rare samples (measured in tests/test_audio.c).
 */
#include "audio/resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* swresample defaults (libswresample/options.c) */
#define SWR_FILTER_SIZE 32
#define SWR_PHASE_SHIFT 10
#define SWR_CUTOFF 0.97
#define SWR_KAISER_BETA 9.0

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) { int64_t t = a % b; a = b; b = t; }
    return a;
}

/* Modified Bessel function of the first kind, order 0, by its power series
 * (sum of ((x/2)^k / k!)^2); for the Kaiser argument range (<= 9) it
 * converges to double precision in about 30 terms. */
static double bessel_i0(double x) {
    double q = x * x / 4, t = 1, v = 1;
    for (int k = 1; k < 500; k++) {
        t *= q / ((double)k * (double)k);
        double nv = v + t;
        if (nv == v) break;
        v = nv;
    }
    return v;
}

void resample_filter_free(resample_filter *f) {
    if (!f) return;
    free(f->coef_i);
    free(f->coef_d);
    memset(f, 0, sizeof *f);
}

anim_status resample_filter_init(resample_filter *f, int in_rate, int out_rate, resample_fmt fmt, anim_error *err) {
    if (!f) return anim_seterr(err, ANIM_E_INVALID_ARG, "resample_filter_init: f is NULL");
    memset(f, 0, sizeof *f);
    if (in_rate < 1 || in_rate > WAV_MAX_RATE || out_rate < 1 || out_rate > WAV_MAX_RATE || in_rate == out_rate)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "resample: rates %d -> %d Hz (each 1..%d, different)", in_rate,
                           out_rate, WAV_MAX_RATE);
    if (fmt != RESAMPLE_S16 && fmt != RESAMPLE_FLT && fmt != RESAMPLE_DBL)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "resample: unknown sample format %d", (int)fmt);

    /* resample_init(): factor, filter length, phase count */
    double factor = fmin(out_rate * SWR_CUTOFF / in_rate, 1.0);
    int L = (int)ceil(SWR_FILTER_SIZE / factor);
    if (L < 1) L = 1;
    if (L > 1) L = (L + 1) & ~1;
    int P = 1 << SWR_PHASE_SHIFT;
    int64_t g = gcd64(out_rate, in_rate);
    if (out_rate / g <= P) P = (int)(out_rate / g);   /* exact_rational */
    int alloc = (L + 7) & ~7;                           /* FFALIGN(L, 8): matters for row P below */

    /* src_incr / dst_incr = out / (in * P), reduced, then doubled while both < 2^20 */
    int64_t num = out_rate, den = (int64_t)in_rate * P, gg = gcd64(num, den);
    num /= gg;
    den /= gg;
    if (den > 0x3FFFFFFF || num > 0x3FFFFFFF)
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "resample: rate ratio %d/%d too fine", out_rate, in_rate);
    while (den < (1 << 20) && num < (1 << 20)) { den *= 2; num *= 2; }
    f->in_rate = in_rate;
    f->out_rate = out_rate;
    f->fmt = fmt;
    f->factor = factor;
    f->taps = L;
    f->phases = P;
    f->src_incr = (int)num;
    f->dst_incr = (int)den;
    f->dst_incr_div = (int)(den / num);
    f->dst_incr_mod = (int)(den % num);

    /* build_filter(); the bank keeps swresample's row stride `alloc` while
     * it is built (row P copies across it), then is packed to stride L */
    size_t rows = (size_t)P + 1;
    double *bank = calloc(rows * (size_t)alloc, sizeof(double));
    double *tab = malloc(sizeof(double) * (size_t)L);
    if (!bank || !tab) {
        free(bank);
        free(tab);
        return anim_seterr(err, ANIM_E_OOM, "resample: out of memory for a %d x %d filter bank", P + 1, L);
    }
    const int center = (L - 1) / 2;
    const double scale = fmt == RESAMPLE_S16 ? 32768.0 : 1.0;
    const int ph_nb = P % 2 ? P : P / 2 + 1;   /* even P: phases above P/2 are mirrors */
    double norm = 0;
    for (int ph = 0; ph < ph_nb; ph++) {
        /* factor == 1: sin(pi (i - c - ph/P)) = +-sin(pi ph/P), alternating */
        double s = factor == 1.0 ? sin(M_PI * ph / P) * ((center & 1) ? 1 : -1) : 0;
        for (int i = 0; i < L; i++) {
            double x = M_PI * ((double)(i - center) - (double)ph / P) * factor, y;
            if (x == 0) y = 1.0;
            else if (factor == 1.0) y = s / x;
            else y = sin(x) / x;
            double w = 2.0 * x / (factor * L * M_PI);
            y *= bessel_i0(SWR_KAISER_BETA * sqrt(fmax(1 - w * w, 0)));
            tab[i] = y;
            s = -s;
            if (!ph) norm += y;   /* every phase is divided by phase 0's sum */
        }
        double *row = bank + (size_t)ph * (size_t)alloc;
        for (int i = 0; i < L; i++) {
            double v = tab[i] * scale / norm;
            if (fmt == RESAMPLE_S16) {
                /* av_clip_int16(lrintf(v)): through float, round half to even */
                double r = rintf((float)v);
                row[i] = r < -32768 ? -32768 : r > 32767 ? 32767 : r;
            } else if (fmt == RESAMPLE_FLT) {
                row[i] = (float)v;
            } else {
                row[i] = v;
            }
        }
        if (P % 2 == 0) {   /* phase P - ph is phase ph reversed, copied in place */
            double *mir = bank + (size_t)(P - ph) * (size_t)alloc;
            for (int i = 0; i < L; i++) mir[L - 1 - i] = row[i];
        }
    }
    /* row P = row 0 shifted right by one tap; its tap 0 is row 0's element
     * alloc-1 (zero padding unless L is a multiple of 8) */
    double *rp = bank + (size_t)P * (size_t)alloc;
    memmove(rp + 1, bank, sizeof(double) * (size_t)(alloc - 1));
    rp[0] = bank[alloc - 1];
    free(tab);

    if (fmt == RESAMPLE_S16) {
        f->coef_i = malloc(sizeof(int32_t) * rows * (size_t)L);
        if (!f->coef_i) { free(bank); return anim_seterr(err, ANIM_E_OOM, "resample: out of memory"); }
        for (size_t r = 0; r < rows; r++)
            for (int i = 0; i < L; i++) f->coef_i[r * (size_t)L + (size_t)i] = (int32_t)bank[r * (size_t)alloc + (size_t)i];
        free(bank);
    } else {
        for (size_t r = 0; r < rows; r++)
            memmove(bank + r * (size_t)L, bank + r * (size_t)alloc, sizeof(double) * (size_t)L);
        f->coef_d = bank;
    }
    return ANIM_OK;
}

/* ---- stream geometry ------------------------------------------------------ */

/* Position of one output: first tap at input sample si, filter phase ph,
 * sub-phase fraction frac / src_incr. */
typedef struct rs_pos {
    int64_t si;
    int64_t ph;
    int64_t frac;
} rs_pos;

static void rs_start(const resample_filter *f, rs_pos *p) {
    p->si = -(int64_t)((f->taps - 1) / 2);   /* index = -P * ((L-1)/2) */
    p->ph = 0;
    p->frac = 0;
}

static void rs_step(const resample_filter *f, rs_pos *p) {
    p->frac += f->dst_incr_mod;
    p->ph += f->dst_incr_div;
    if (p->frac >= f->src_incr) { p->frac -= f->src_incr; p->ph++; }
    if (p->ph >= f->phases) { p->si += p->ph / f->phases; p->ph %= f->phases; }
}

/* The extended input as swresample sees it over the whole stream: x, then
 * `tail` samples reflected after x[N-1] and (short start-up path only)
 * `zeros`; before x[0], x[-m] = extended x[m] for m = 1..L. It is never
 * materialised: outputs whose taps lie inside x read x directly, the few
 * at the edges gather their taps through rs_src(). */
typedef struct rs_plan {
    int64_t n;         /* input samples N */
    int64_t tail;      /* reflected samples after x[N-1] */
    int64_t last;      /* last usable index: N - 1 + tail */
    size_t n_out;
} rs_plan;

/* Index into x of extended position i (-L <= i <= last), -1 for a zero. */
static int64_t rs_src(const rs_plan *p, int64_t i) {
    if (i < 0) i = -i;                             /* start mirror, sample 0 not repeated */
    if (i < p->n) return i;
    if (i < p->n + p->tail) return 2 * p->n - 1 - i;   /* end reflection, x[N-1] repeated */
    return -1;
}

static void rs_plan_make(const resample_filter *f, size_t n, rs_plan *p) {
    memset(p, 0, sizeof *p);
    const int64_t L = f->taps, N = (int64_t)n;
    rs_pos pos;
    rs_start(f, &pos);
    p->n = N;
    if (N < L + 1) {
        /* invert_initial_buffer() waits for L + 1 samples; at the flush the
         * buffer holds x, its reflection and zeros up to 2L + 1 entries */
        p->tail = (((N < L) ? N : L) + 1) / 2;
        if (N + p->tail < L + 1) return;   /* swresample never starts: no output */
    } else {
        /* produce while the taps fit in x, then the flush appends
         * (min(buffered, L) + 1) / 2 reflected samples */
        while (pos.si + L - 1 <= N - 1) rs_step(f, &pos);
        int64_t buffered = N - pos.si;
        p->tail = (((buffered < L) ? buffered : L) + 1) / 2;
        rs_start(f, &pos);
    }
    p->last = N - 1 + p->tail;
    size_t cnt = 0;
    while (pos.si + L - 1 <= p->last) { cnt++; rs_step(f, &pos); }
    p->n_out = cnt;
}

anim_status resample_run_s16(const resample_filter *f, const int16_t *x, size_t n, int16_t **y, size_t *ny,
                             anim_error *err) {
    *y = NULL;
    *ny = 0;
    if (!f || !f->coef_i) return anim_seterr(err, ANIM_E_INVALID_ARG, "resample_run_s16: no s16 filter");
    rs_plan p;
    rs_plan_make(f, n, &p);
    if (!p.n_out) return ANIM_OK;
    const int L = f->taps;
    int16_t *out = malloc(sizeof(int16_t) * p.n_out);
    int32_t *edge = malloc(sizeof(int32_t) * (size_t)L);
    if (!out || !edge) {
        free(out);
        free(edge);
        return anim_seterr(err, ANIM_E_OOM, "resample: out of memory for %zu samples", p.n_out);
    }
    rs_pos pos;
    rs_start(f, &pos);
    for (size_t k = 0; k < p.n_out; k++) {
        const int32_t *c = f->coef_i + (size_t)pos.ph * (size_t)L;
        int64_t v = 1 << 14, v2 = 1 << 14;
        const bool lin = f->dst_incr_mod != 0;
        if (pos.si >= 0 && pos.si + L <= p.n) {
            const int16_t *s = x + pos.si;
            for (int i = 0; i < L; i++) v += (int64_t)s[i] * c[i];
            if (lin)
                for (int i = 0; i < L; i++) v2 += (int64_t)s[i] * c[L + i];
        } else {
            for (int i = 0; i < L; i++) {
                int64_t j = rs_src(&p, pos.si + i);
                edge[i] = j < 0 ? 0 : x[j];
            }
            for (int i = 0; i < L; i++) v += (int64_t)edge[i] * c[i];
            if (lin)
                for (int i = 0; i < L; i++) v2 += (int64_t)edge[i] * c[L + i];
        }
        /* resample_common: (16384 + sum) >> 15, integers, so order-free.
         * resample_linear: blend with the next phase by frac/src_incr, the
         * difference as int32 and the product divided, truncating */
        if (lin) v += (int64_t)(int32_t)(uint32_t)(v2 - v) * pos.frac / f->src_incr;
        int32_t o = (int32_t)(uint32_t)v >> 15;
        out[k] = (int16_t)(o < -32768 ? -32768 : o > 32767 ? 32767 : o);
        rs_step(f, &pos);
    }
    free(edge);
    *y = out;
    *ny = p.n_out;
    return ANIM_OK;
}

anim_status resample_run_f64(const resample_filter *f, const double *x, size_t n, double **y, size_t *ny,
                             anim_error *err) {
    *y = NULL;
    *ny = 0;
    if (!f || !f->coef_d) return anim_seterr(err, ANIM_E_INVALID_ARG, "resample_run_f64: no float filter");
    rs_plan p;
    rs_plan_make(f, n, &p);
    if (!p.n_out) return ANIM_OK;
    const int L = f->taps;
    double *out = malloc(sizeof(double) * p.n_out);
    double *edge = malloc(sizeof(double) * (size_t)L);
    if (!out || !edge) {
        free(out);
        free(edge);
        return anim_seterr(err, ANIM_E_OOM, "resample: out of memory for %zu samples", p.n_out);
    }
    const bool flt = f->fmt == RESAMPLE_FLT, lin = f->dst_incr_mod != 0;
    const double inv_src_incr = 1.0 / f->src_incr;
    rs_pos pos;
    rs_start(f, &pos);
    for (size_t k = 0; k < p.n_out; k++) {
        const double *s = edge;
        if (pos.si >= 0 && pos.si + L <= p.n) {
            s = x + pos.si;
        } else {
            for (int i = 0; i < L; i++) {
                int64_t j = rs_src(&p, pos.si + i);
                edge[i] = j < 0 ? 0 : x[j];
            }
        }
        const double *c = f->coef_d + (size_t)pos.ph * (size_t)L;
        double v = 0;
        for (int i = 0; i < L; i++) v += s[i] * c[i];
        if (flt) v = (float)v;
        if (lin) {
            double v2 = 0;
            for (int i = 0; i < L; i++) v2 += s[i] * c[L + i];
            if (flt) {
                /* val += (float)(v2 - val) * inv_src_incr * frac, in float storage */
                float d = (float)v2 - (float)v;
                v = (float)(v + d * inv_src_incr * (double)pos.frac);
            } else {
                v += (v2 - v) * inv_src_incr * (double)pos.frac;
            }
        }
        out[k] = v;
        rs_step(f, &pos);
    }
    free(edge);
    *y = out;
    *ny = p.n_out;
    return ANIM_OK;
}

/* ---- downmix ------------------------------------------------------------------ */

static int popcount64(uint64_t m) {
    int n = 0;
    for (; m; m &= m - 1) n++;
    return n;
}

/* layout has both or neither of the pair (swresample's even()) */
static bool pair_ok(uint64_t layout, uint64_t pair) {
    uint64_t m = layout & pair;
    return m == 0 || m == pair;
}

bool resample_mono_matrix(uint64_t layout, int channels, double *coef) {
    for (int c = 0; c < channels; c++) coef[c] = 1.0 / channels;
    if (channels < 1 || popcount64(layout) != channels) return false;
    /* swresample's sane_layout(): a front speaker, symmetric pairs */
    if (!(layout & (WAV_CH_FL | WAV_CH_FR | WAV_CH_FC))) return false;
    if (!pair_ok(layout, WAV_CH_FL | WAV_CH_FR) || !pair_ok(layout, WAV_CH_SL | WAV_CH_SR) ||
        !pair_ok(layout, WAV_CH_BL | WAV_CH_BR) || !pair_ok(layout, WAV_CH_FLC | WAV_CH_FRC) ||
        !pair_ok(layout, WAV_CH_TFL | WAV_CH_TFR))
        return false;

    /* build_matrix() for the FC output row. clev/slev are float options
     * (default M_SQRT1_2 as float); lfe_mix_level 0. */
    const double clev = (float)M_SQRT1_2, slev = (float)M_SQRT1_2;
    double m[18] = {0};
    const uint64_t unacc = layout & ~(uint64_t)WAV_CH_FC;
    enum { FL, FR, FC, LFE, BL, BR, FLC, FRC, BC, SL, SR };
    if (layout & WAV_CH_FC) m[FC] = 1.0;
    if (unacc & (WAV_CH_FL | WAV_CH_FR)) {
        m[FL] += M_SQRT1_2;
        m[FR] += M_SQRT1_2;
        if (layout & WAV_CH_FC) m[FC] = clev * sqrt(2);
    }
    if (unacc & WAV_CH_BC) m[BC] += slev * M_SQRT1_2;
    if (unacc & WAV_CH_BL) { m[BL] += slev * M_SQRT1_2; m[BR] += slev * M_SQRT1_2; }
    if (unacc & WAV_CH_SL) { m[SL] += slev * M_SQRT1_2; m[SR] += slev * M_SQRT1_2; }
    if (unacc & WAV_CH_FLC) { m[FLC] += M_SQRT1_2; m[FRC] += M_SQRT1_2; }
    /* ffmpeg 5.1 has no rule for the top speakers: TFL/TFR, TC, ... get 0
     * (later versions mix TFL/TFR in; checked against the 5.1 CLI) */

    double sum = 0;
    int c = 0;
    for (int bit = 0; bit < 64; bit++) {
        if (!(layout >> bit & 1)) continue;
        coef[c] = bit < 18 ? m[bit] : 0.0;
        sum += fabs(coef[c]);
        c++;
    }
    if (sum > 1.0)   /* maxval is 1 for s16 output */
        for (c = 0; c < channels; c++) coef[c] /= sum;
    return true;
}

/* ---- the whole conversion ------------------------------------------------------ */

static int16_t clip16(int64_t v) { return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v); }

/* av_clip_int16(lrintf(x * 32768)) / lrint for doubles; NaN gives -32768 as
 * x86's cvtps2dq + packssdw do. */
static int16_t flt_to_s16(double v, bool flt) {
    double t = flt ? (double)rintf((float)v * 32768.0f) : rint(v * 32768.0);
    if (!(t == t)) return -32768;
    return t <= -32768 ? -32768 : t >= 32767 ? 32767 : (int16_t)t;
}

anim_status resample_ffmpeg_mono_s16(const wav_audio *a, int out_rate, int16_t **out, size_t *n_out,
                                     anim_error *err) {
    if (!out || !n_out) return anim_seterr(err, ANIM_E_INVALID_ARG, "resample: out is NULL");
    *out = NULL;
    *n_out = 0;
    if (!a || !a->samples || a->frames == 0 || a->channels < 1 || a->channels > WAV_MAX_CHANNELS)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "resample: no audio samples");
    if (out_rate < WAV_MIN_RATE || out_rate > WAV_MAX_RATE || a->sample_rate < 1 || a->sample_rate > WAV_MAX_RATE)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "resample: rates %d -> %d Hz out of range", a->sample_rate,
                           out_rate);
    /* swresample's internal format: s16 when input and output are <= 16 bit,
     * float when the input is <= 32 bit, else double */
    const resample_fmt fmt = a->codec == WAV_PCM_U8 || a->codec == WAV_PCM_S16 ? RESAMPLE_S16
                             : a->codec == WAV_FLOAT64                          ? RESAMPLE_DBL
                                                                                : RESAMPLE_FLT;
    const int nch = a->channels;
    const bool resample = a->sample_rate != out_rate;
    resample_filter f = {0};
    anim_status st = ANIM_OK;
    if (resample && (st = resample_filter_init(&f, a->sample_rate, out_rate, fmt, err))) return st;

    /* per channel: resample (swresample resamples before a downmix) */
    size_t len = resample ? 0 : a->frames;
    int16_t **ci = NULL;
    double **cd = NULL;
    int16_t *res = NULL;
    double coef[WAV_MAX_CHANNELS];
    if (fmt == RESAMPLE_S16) ci = calloc((size_t)nch, sizeof *ci);
    else cd = calloc((size_t)nch, sizeof *cd);
    if (!ci && !cd) { st = anim_seterr(err, ANIM_E_OOM, "resample: out of memory"); goto done; }
    for (int c = 0; c < nch && !st; c++) {
        const float *x = a->samples + (size_t)c * a->frames;
        if (fmt == RESAMPLE_S16) {
            int16_t *xi = malloc(sizeof(int16_t) * a->frames);
            if (!xi) { st = anim_seterr(err, ANIM_E_OOM, "resample: out of memory"); break; }
            for (size_t i = 0; i < a->frames; i++) xi[i] = (int16_t)lrintf(x[i] * 32768.0f);   /* exact */
            if (resample) {
                size_t ny;
                st = resample_run_s16(&f, xi, a->frames, &ci[c], &ny, err);
                free(xi);
                len = ny;
            } else {
                ci[c] = xi;
            }
        } else {
            double *xd = malloc(sizeof(double) * a->frames);
            if (!xd) { st = anim_seterr(err, ANIM_E_OOM, "resample: out of memory"); break; }
            for (size_t i = 0; i < a->frames; i++) xd[i] = x[i];
            if (resample) {
                size_t ny;
                st = resample_run_f64(&f, xd, a->frames, &cd[c], &ny, err);
                free(xd);
                len = ny;
            } else {
                cd[c] = xd;
            }
        }
    }
    if (st) goto done;
    if (len == 0) {
        st = anim_seterr(err, ANIM_E_INVALID_ARG,
                         "audio too short: %zu samples at %d Hz give no output (ffmpeg's resampler needs about %d)",
                         a->frames, a->sample_rate, f.taps + 1);
        goto done;
    }
    if (!(res = malloc(sizeof(int16_t) * len))) { st = anim_seterr(err, ANIM_E_OOM, "resample: out of memory"); goto done; }

    if (nch == 1 && !resample && (a->codec == WAV_PCM_S24 || a->codec == WAV_PCM_S32)) {
        /* nothing to resample or mix: swresample converts s32 -> s16
         * directly, by v >> 16 (exact for s24; for s32 the float copy can
         * be one step off where its rounding crosses a multiple of 2^16) */
        for (size_t i = 0; i < len; i++) res[i] = clip16((int64_t)floor(cd[0][i] * 32768.0));
    } else if (nch == 1) {
        for (size_t i = 0; i < len; i++) res[i] = ci ? ci[0][i] : flt_to_s16(cd[0][i], fmt == RESAMPLE_FLT);
    } else {
        /* swri_rematrix() with the default matrix's mono row */
        uint64_t layout = wav_effective_layout(a);
        resample_mono_matrix(layout, nch, coef);
        int nz = 0, nzi[2] = {0, 0};
        for (int c = 0; c < nch; c++)
            if (coef[c] != 0) { if (nz < 2) nzi[nz] = c; nz++; }
        if (fmt == RESAMPLE_S16) {
            if (nz <= 2) {
                /* native matrix: coefficients * 32768 rounded with error diffusion */
                int32_t nat[WAV_MAX_CHANNELS];
                double rem = 0;
                int64_t asum = 0;
                for (int c = 0; c < nch; c++) {
                    double target = coef[c] * 32768 + rem;
                    nat[c] = (int32_t)lrintf((float)target);
                    rem += target - nat[c];
                    asum += nat[c] < 0 ? -nat[c] : nat[c];
                }
                const bool clip = asum > 32768;
                for (size_t i = 0; i < len; i++) {
                    int64_t v;
                    if (nz == 0) v = 0;
                    else if (nz == 1 && coef[nzi[0]] == 1.0) v = ci[nzi[0]][i];
                    else {
                        int64_t s = 0;
                        for (int k = 0; k < nz; k++) s += (int64_t)nat[nzi[k]] * ci[nzi[k]][i];
                        v = (s + 16384) >> 15;
                    }
                    res[i] = clip ? clip16(v) : (int16_t)v;
                }
            } else {
                /* generic path: lrintf(coef * 32768), no clipping (int16 store wraps) */
                int32_t m32[WAV_MAX_CHANNELS];
                for (int c = 0; c < nch; c++) m32[c] = (int32_t)lrintf((float)(coef[c] * 32768));
                for (size_t i = 0; i < len; i++) {
                    int32_t v = 0;
                    for (int c = 0; c < nch; c++)
                        if (coef[c] != 0) v += ci[c][i] * m32[c];
                    res[i] = (int16_t)(uint16_t)(uint32_t)((v + 16384) >> 15);
                }
            }
        } else if (fmt == RESAMPLE_FLT) {
            float cf[WAV_MAX_CHANNELS];
            for (int c = 0; c < nch; c++) cf[c] = (float)coef[c];
            for (size_t i = 0; i < len; i++) {
                float v;
                if (nz == 1 && coef[nzi[0]] == 1.0) v = (float)cd[nzi[0]][i];
                else if (nz == 2) v = cf[nzi[0]] * (float)cd[nzi[0]][i] + cf[nzi[1]] * (float)cd[nzi[1]][i];
                else {
                    v = 0;
                    for (int c = 0; c < nch; c++)
                        if (coef[c] != 0) v += (float)cd[c][i] * cf[c];
                }
                res[i] = flt_to_s16(v, true);
            }
        } else {
            for (size_t i = 0; i < len; i++) {
                double v;
                if (nz == 1 && coef[nzi[0]] == 1.0) v = cd[nzi[0]][i];
                else if (nz == 2) v = coef[nzi[0]] * cd[nzi[0]][i] + coef[nzi[1]] * cd[nzi[1]][i];
                else {
                    v = 0;
                    for (int c = 0; c < nch; c++)
                        if (coef[c] != 0) v += cd[c][i] * coef[c];
                }
                res[i] = flt_to_s16(v, false);
            }
        }
    }
    *out = res;
    *n_out = len;
    res = NULL;
done:
    for (int c = 0; c < nch; c++) {
        if (ci) free(ci[c]);
        if (cd) free(cd[c]);
    }
    free(ci);
    free(cd);
    free(res);
    resample_filter_free(&f);
    return st;
}

anim_status resample_load_audio_16k(const wav_audio *a, float **out, size_t *n_out, anim_error *err) {
    if (!out || !n_out) return anim_seterr(err, ANIM_E_INVALID_ARG, "resample: out is NULL");
    *out = NULL;
    *n_out = 0;
    int16_t *s = NULL;
    size_t n = 0;
    anim_status st = resample_ffmpeg_mono_s16(a, RESAMPLE_WHISPER_RATE, &s, &n, err);
    if (st) return st;
    float *x = malloc(sizeof(float) * n);
    if (!x) { free(s); return anim_seterr(err, ANIM_E_OOM, "resample: out of memory for %zu samples", n); }
    /* whisper/audio.py: np.frombuffer(out, np.int16).flatten().astype(np.float32) / 32768.0 */
    for (size_t i = 0; i < n; i++) x[i] = (float)s[i] / 32768.0f;
    free(s);
    *out = x;
    *n_out = n;
    return ANIM_OK;
}
