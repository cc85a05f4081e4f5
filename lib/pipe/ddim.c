/*
 * ddim.c - diffusers 0.24 DDIMScheduler (eta 0) in float32, operation for
 * operation as PyTorch evaluates it on the CPU. See ddim.h for the contract.
 *
 * Sources reproduced (by behaviour; no code copied):
 *   diffusers/schedulers/scheduling_ddim.py: __init__, rescale_zero_terminal_snr,
 *     set_timesteps, step, _get_variance;
 *   torch ATen CPU kernels: linspace_kernel (RangeFactoriesKernel.cpp),
 *     cumprod (ReduceOpsKernel.cpp, double accumulator for float), pow with
 *     exponent 0.5 / 2 (sqrt / x * x);
 *   numpy 1.24: arange (length ceil((stop - start) / step), values
 *     start + i * (next - start)), linspace, round (half to even).
 * The build is -ffp-contract=off: no product is fused into a sum.
 */
#include "pipe/ddim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* torch.linspace(start, end, n, dtype=float32) on the CPU. Scalars are
 * converted to float first (Scalar::to<float>) and the step is a float
 * (step_t == scalar_t for floating types). The first n / 2 elements count up
 * from start, the rest down from end, so that both ends are exact. */
static void torch_linspace_f32(float *out, double start_d, double end_d, int n, ddim_linspace lin) {
    const float start = (float)start_d, end = (float)end_d;
    const float step = (end - start) / (float)(n - 1);
    const long half = n / 2;
    long i = 0;
    if (lin == DDIM_LINSPACE_TORCH113) {
        /* torch <= 1.13: cpu_serial_kernel_vec's vectorized loop takes 2 vectors
         * of 8 floats per iteration while 16 elements remain; each vector is
         * Vectorized<float>::arange(base, step) = base + k * step, its base
         * chosen by whether the vector's FIRST index is below halfway. The
         * remaining tail runs the scalar lambda. (The fixtures were made by a
         * torch whose float vectors hold 8 lanes: AVX2 / default dispatch.) */
        const int vs = 8;
        for (; i + 2 * vs <= n; i += 2 * vs) {
            for (long j = i; j < i + 2 * vs; j += vs) {
                float base = j < half ? start + step * (float)j : end - step * (float)(n - j - 1);
                for (int k = 0; k < vs; k++) out[j + k] = base + (float)k * step;
            }
        }
    }
    /* scalar lambda (torch >= 2.0 uses it for every element) */
    for (; i < n; i++) out[i] = i < half ? start + step * (float)i : end - step * (float)(n - i - 1);
}

/* torch.cumprod(x, 0) on a CPU float32 tensor: the running product is a
 * double (acc_type<float, false>), each output rounded to float. */
static void torch_cumprod_f32(float *out, const float *x, int n) {
    double acc = 1.0;
    for (int i = 0; i < n; i++) {
        acc *= (double)x[i];
        out[i] = (float)acc;
    }
}

/* diffusers rescale_zero_terminal_snr(betas), in place; tmp holds 2n floats. */
static void rescale_zero_terminal_snr(float *betas, int n, float *tmp) {
    float *a = tmp, *s = tmp + n;
    for (int i = 0; i < n; i++) a[i] = 1.0f - betas[i];          /* alphas = 1.0 - betas */
    torch_cumprod_f32(s, a, n);                                 /* alphas_cumprod = cumprod(alphas) */
    for (int i = 0; i < n; i++) s[i] = sqrtf(s[i]);             /* alphas_bar_sqrt = alphas_cumprod.sqrt() */
    const float s0 = s[0], sT = s[n - 1];                       /* .clone() of first and last */
    for (int i = 0; i < n; i++) s[i] -= sT;                     /* alphas_bar_sqrt -= alphas_bar_sqrt_T */
    const float scale = s0 / (s0 - sT);                         /* 0-dim float32 division */
    for (int i = 0; i < n; i++) s[i] *= scale;                  /* alphas_bar_sqrt *= ... */
    for (int i = 0; i < n; i++) s[i] = s[i] * s[i];             /* alphas_bar = alphas_bar_sqrt ** 2 */
    /* alphas = cat([alphas_bar[0:1], alphas_bar[1:] / alphas_bar[:-1]]); betas = 1 - alphas.
     * Walk backwards so alphas_bar[i - 1] is still intact when betas[i] is written. */
    for (int i = n - 1; i >= 1; i--) betas[i] = 1.0f - s[i] / s[i - 1];
    betas[0] = 1.0f - s[0];
}

/* set_timesteps(steps): fills d->timesteps / d->n_timesteps. */
static anim_status set_timesteps(ddim *d, const sched_config *c, int steps, anim_error *err) {
    const int T = c->num_train_timesteps;
    int len = steps;
    if (c->timestep_spacing == SCHED_SPACING_TRAILING) {
        /* np.arange(T, 0, -step_ratio) with step_ratio = T / steps (Python float):
         * length = ceil((0 - T) / -step_ratio) */
        const double r = (double)T / (double)steps;
        const double lf = ceil((double)(0 - T) / -r);
        if (!(lf >= 1.0 && lf <= (double)T + 1.0))
            return anim_seterr(err, ANIM_E_INVALID_ARG, "DDIM: 'trailing' spacing gives %g timesteps for %d steps",
                               lf, steps);
        len = (int)lf;
    }
    d->timesteps = malloc((size_t)len * sizeof *d->timesteps);
    if (!d->timesteps) return anim_seterr(err, ANIM_E_OOM, "DDIM: out of memory for %d timesteps", len);
    d->n_timesteps = len;
    switch (c->timestep_spacing) {
    case SCHED_SPACING_LINSPACE: {
        /* np.linspace(0, T - 1, steps).round()[::-1].astype(int64): y = i * ((T-1) / (steps-1)) + 0.0,
         * the last element set to T - 1 exactly; one step gives [0]. */
        for (int i = 0; i < steps; i++) {
            double y = 0.0;
            if (steps > 1) y = (i == steps - 1) ? (double)(T - 1) : (double)i * ((double)(T - 1) / (double)(steps - 1)) + 0.0;
            d->timesteps[steps - 1 - i] = (int)rint(y); /* np.round: half to even */
        }
        break;
    }
    case SCHED_SPACING_LEADING: {
        /* (np.arange(0, steps) * (T // steps)).round()[::-1] + steps_offset: integer arithmetic */
        const int ratio = T / steps;
        for (int i = 0; i < steps; i++) d->timesteps[steps - 1 - i] = i * ratio + c->steps_offset;
        break;
    }
    case SCHED_SPACING_TRAILING: {
        /* numpy fills a float arange as buf[0] = start, buf[1] = start + step
         * (Python float add), then buf[i] = start + i * (buf[1] - buf[0]);
         * np.round (half to even), astype(int64), then -= 1. */
        const double r = (double)T / (double)steps;
        const double b0 = (double)T, b1 = (double)T + -r, delta = b1 - b0;
        for (int i = 0; i < len; i++) {
            double v = i == 0 ? b0 : i == 1 ? b1 : b0 + (double)i * delta;
            d->timesteps[i] = (int)rint(v) - 1;
        }
        break;
    }
    default:
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "DDIM: timestep_spacing %d is not implemented",
                           (int)c->timestep_spacing);
    }
    if (len != steps)
        /* e.g. 61 or 871 steps of 1000: ceil(T / (T / steps)) rounds up to steps + 1
         * and the extra timestep is round(~0) - 1 = -1, which diffusers would feed
         * to the UNet and to alphas_cumprod[-1] (the last entry). Refuse it. */
        return anim_seterr(err, ANIM_E_INVALID_ARG,
                           "DDIM: 'trailing' spacing with %d steps of %d gives %d timesteps ending in %d "
                           "(numpy arange rounding); choose another step count",
                           steps, T, len, d->timesteps[len - 1]);
    for (int i = 0; i < len; i++) {
        /* alphas_cumprod[t] would raise (or wrap around, for t = -1) in torch */
        if (d->timesteps[i] < 0 || d->timesteps[i] >= T)
            return anim_seterr(err, ANIM_E_INVALID_ARG,
                               "DDIM: timestep %d (index %d of %d steps, steps_offset %d) is outside [0, %d)",
                               d->timesteps[i], i, steps, c->steps_offset, T);
    }
    return ANIM_OK;
}

anim_status ddim_init_linspace(ddim *d, const sched_config *c, int steps, ddim_linspace lin, anim_error *err) {
    memset(d, 0, sizeof *d);
    const int T = c->num_train_timesteps;
    if (T < 2)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "DDIM: 'num_train_timesteps' must be at least 2 (got %d)", T);
    /* diffusers: "num_inference_steps cannot be larger than num_train_timesteps" */
    if (steps < 1 || steps > T)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "DDIM: 'num_inference_steps' must be in [1, %d] (got %d)", T,
                           steps);
    if (lin != DDIM_LINSPACE_TORCH113 && lin != DDIM_LINSPACE_TORCH2)
        return anim_seterr(err, ANIM_E_INVALID_ARG, "DDIM: unknown linspace variant %d", (int)lin);
    if (c->beta_schedule != SCHED_BETA_LINEAR && c->beta_schedule != SCHED_BETA_SCALED_LINEAR)
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "DDIM: beta_schedule %d is not implemented", (int)c->beta_schedule);
    if (c->prediction_type != SCHED_PRED_EPSILON && c->prediction_type != SCHED_PRED_V)
        return anim_seterr(err, ANIM_E_UNSUPPORTED, "DDIM: prediction_type %d is not implemented",
                           (int)c->prediction_type);

    d->betas = malloc((size_t)T * sizeof *d->betas);
    d->alphas_cumprod = malloc((size_t)T * sizeof *d->alphas_cumprod);
    float *tmp = malloc((size_t)T * 2 * sizeof *tmp);
    if (!d->betas || !d->alphas_cumprod || !tmp) {
        free(tmp);
        ddim_free(d);
        return anim_seterr(err, ANIM_E_OOM, "DDIM: out of memory for %d training timesteps", T);
    }

    if (c->beta_schedule == SCHED_BETA_LINEAR) {
        /* torch.linspace(beta_start, beta_end, T, dtype=float32) */
        torch_linspace_f32(d->betas, c->beta_start, c->beta_end, T, lin);
    } else {
        /* torch.linspace(beta_start ** 0.5, beta_end ** 0.5, T, float32) ** 2:
         * Python double square roots, then float x * x */
        torch_linspace_f32(d->betas, sqrt(c->beta_start), sqrt(c->beta_end), T, lin);
        for (int i = 0; i < T; i++) d->betas[i] = d->betas[i] * d->betas[i];
    }
    if (c->rescale_betas_zero_snr) rescale_zero_terminal_snr(d->betas, T, tmp);
    for (int i = 0; i < T; i++) tmp[i] = 1.0f - d->betas[i];    /* self.alphas = 1.0 - self.betas */
    torch_cumprod_f32(d->alphas_cumprod, tmp, T);               /* torch.cumprod(self.alphas, dim=0) */
    free(tmp);

    /* torch.tensor(1.0) if set_alpha_to_one else self.alphas_cumprod[0] */
    d->final_alpha_cumprod = c->set_alpha_to_one ? 1.0f : d->alphas_cumprod[0];
    d->init_noise_sigma = 1.0f;
    d->num_train_timesteps = T;
    d->num_inference_steps = steps;
    d->step_ratio = T / steps;  /* step(): prev_timestep = timestep - T // num_inference_steps */
    d->prediction_type = c->prediction_type;
    d->clip_sample = c->clip_sample;
    d->clip_sample_range = (float)c->clip_sample_range; /* clamp(-r, r) bounds become float32 */

    anim_status st = set_timesteps(d, c, steps, err);
    if (st) ddim_free(d);
    return st;
}

anim_status ddim_init(ddim *d, const sched_config *c, int steps, anim_error *err) {
    return ddim_init_linspace(d, c, steps, DDIM_LINSPACE_TORCH113, err);
}

void ddim_free(ddim *d) {
    if (!d) return;
    free(d->timesteps);
    free(d->alphas_cumprod);
    free(d->betas);
    memset(d, 0, sizeof *d);
}

int ddim_timestep(const ddim *d, int i) {
    ANIM_ASSERT(i >= 0 && i < d->n_timesteps);
    return d->timesteps[i];
}

void ddim_step_coeffs(const ddim *d, int i, ddim_coeffs *k) {
    const int t = ddim_timestep(d, i);
    const int prev_t = t - d->step_ratio;
    const float a_t = d->alphas_cumprod[t];
    const float a_prev = prev_t >= 0 ? d->alphas_cumprod[prev_t] : d->final_alpha_cumprod;
    const float b_t = 1.0f - a_t;                               /* beta_prod_t = 1 - alpha_prod_t */
    /* _get_variance: (beta_prod_t_prev / beta_prod_t) * (1 - alpha_prod_t / alpha_prod_t_prev);
     * std_dev_t = eta * variance ** 0.5 with eta = 0.0: zero unless the variance
     * is NaN, which then propagates as it would in torch. */
    const float b_prev = 1.0f - a_prev;
    const float variance = (b_prev / b_t) * (1.0f - a_t / a_prev);
    const float std_dev_t = 0.0f * sqrtf(variance);
    k->t = t;
    k->prev_t = prev_t;
    k->alpha_prod_t = a_t;
    k->alpha_prod_t_prev = a_prev;
    k->beta_prod_t = b_t;
    k->sqrt_alpha_prod_t = sqrtf(a_t);                          /* alpha_prod_t ** 0.5 */
    k->sqrt_beta_prod_t = sqrtf(b_t);                           /* beta_prod_t ** 0.5 */
    k->sqrt_alpha_prod_t_prev = sqrtf(a_prev);                  /* alpha_prod_t_prev ** 0.5 */
    k->sqrt_dir = sqrtf(1.0f - a_prev - std_dev_t * std_dev_t); /* (1 - a_prev - std_dev_t**2) ** 0.5 */
}

void ddim_step(const ddim *d, int i, const float *model_output, float *sample, size_t n) {
    ddim_coeffs k;
    ddim_step_coeffs(d, i, &k);
    const bool v_pred = d->prediction_type == SCHED_PRED_V;
    const bool clip = d->clip_sample;
    const float lo = -d->clip_sample_range, hi = d->clip_sample_range;
    for (size_t j = 0; j < n; j++) {
        const float x = sample[j], m = model_output[j];
        float x0, eps;
        if (v_pred) {
            /* pred_original_sample = (alpha_prod_t**0.5) * sample - (beta_prod_t**0.5) * model_output */
            x0 = k.sqrt_alpha_prod_t * x - k.sqrt_beta_prod_t * m;
            /* pred_epsilon = (alpha_prod_t**0.5) * model_output + (beta_prod_t**0.5) * sample */
            eps = k.sqrt_alpha_prod_t * m + k.sqrt_beta_prod_t * x;
        } else {
            /* epsilon: (sample - beta_prod_t ** 0.5 * model_output) / alpha_prod_t ** 0.5 */
            x0 = (x - k.sqrt_beta_prod_t * m) / k.sqrt_alpha_prod_t;
            eps = m;
        }
        /* pred_original_sample.clamp(-clip_sample_range, clip_sample_range); NaN stays NaN */
        if (clip) x0 = x0 < lo ? lo : (x0 > hi ? hi : x0);
        /* pred_sample_direction = (...) ** 0.5 * pred_epsilon;
         * prev_sample = alpha_prod_t_prev ** 0.5 * pred_original_sample + pred_sample_direction */
        const float dir = k.sqrt_dir * eps;
        sample[j] = k.sqrt_alpha_prod_t_prev * x0 + dir;
    }
}

void ddim_guidance(float *out, const float *uncond, const float *cond, float scale, size_t n) {
    /* noise_pred_uncond + guidance_scale * (noise_pred_text - noise_pred_uncond) */
    for (size_t j = 0; j < n; j++) {
        const float u = uncond[j];
        const float diff = cond[j] - u;
        out[j] = u + scale * diff;
    }
}
