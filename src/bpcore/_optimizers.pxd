# Parameter updates over a range of the flat parameter buffer.
#
#   SGD:       v ← μ v - η g;  p ← p + v                  (momentum μ; μ = 0 is plain SGD)
#   Nesterov:  v ← μ v - η g;  p ← p + μ v - η g
#   Adam:      m ← β₁ m + (1-β₁) g;  v ← β₂ v + (1-β₂) g²;
#              p ← p - η_t m / (√v + ε),   η_t = η √(1-β₂ᵗ) / (1-β₁ᵗ)  (step_size)
# Decoupled weight decay λ (AdamW, SGDW), when on, first shrinks the weights (not the
# biases) by the step's scheduled rate η_s (not bias-corrected, as torch's AdamW):
#   w ← w (1 - η_s λ)
# A schedule multiplies η by a factor f(s) of the step index s = 0, 1, ... (see
# schedule_factor); an exponential moving average of the parameters, when on, follows
# every step:  θ̄ ← d θ̄ + (1 - d) θ  (θ̄ ← θ at the first step).
# Gradient clipping (exploding gradients), when on, replaces g first by
#   g ← clamp(c g, -clip_value, clip_value),   c = min(1, clip_norm / (‖g‖ + 1e-6))
# with ‖g‖ the global norm over every parameter (c = 1 without clip_norm, no clamp
# without clip_value; clip_scale computes c).  Without clipping the loops are exactly the plain ones.
# The order of operations is scikit-learn's, so that float64 results agree to rounding.

from cython cimport floating
from libc.math cimport sqrt, sqrtf, cos, M_PI

cdef enum:
    SGD = 0
    ADAM = 1

cdef enum:
    CONSTANT = 0      # f = 1 (after the warm-up)
    COSINE = 1        # cosine decay to 0 at the last step
    ONE_CYCLE = 2     # η/25 → η (cosine) over the warm-up, then η → η/(25·10⁴)

cdef struct OptimizerConfig:
    int kind                # SGD or ADAM
    double learning_rate    # η (for SGD: this epoch's rate)
    double momentum         # μ
    bint nesterov
    double beta_1
    double beta_2
    double epsilon
    double clip_norm        # 0: off
    double clip_value       # 0: off
    double weight_decay     # λ of decoupled weight decay (0: off)
    int schedule            # CONSTANT, COSINE or ONE_CYCLE
    double warmup_steps     # W: steps of linear warm-up (ONE_CYCLE: its rising phase)
    double total_steps      # S: steps the schedule spans
    double ema_decay        # d of the parameters' moving average (0: off)


cdef inline double cosine_anneal(double start, double end, double fraction) noexcept nogil:
    # from start (fraction 0) to end (fraction 1) along half a cosine
    return end + (start - end) / 2.0 * (cos(M_PI * fraction) + 1)


cdef inline double schedule_factor(const OptimizerConfig* config, double s) noexcept nogil:
    # f(s), the factor of η at step index s = 0, 1, ...:
    #   warm-up (CONSTANT, COSINE): f = min(1, (s + 1) / W) while s < W
    #   CONSTANT: 1;  COSINE: ½ (1 + cos(π (s - W) / (S - W))), 0 from step S on
    #   ONE_CYCLE (torch's OneCycleLR, div_factor 25, final_div_factor 10⁴): with
    #     e = W - 1, cosine from 1/25 to 1 over s in [0, e], then to 1/(25·10⁴) at S - 1
    cdef double W = config.warmup_steps, S = config.total_steps, e
    if config.schedule == ONE_CYCLE:
        e = W - 1
        if s > S - 1:
            s = S - 1
        if e > 0 and s <= e:
            return cosine_anneal(1.0 / 25, 1.0, s / e)
        if S - 1 - e <= 0:
            return 1.0
        return cosine_anneal(1.0, 1.0 / 25 / 1e4, (s - e) / (S - 1 - e))
    if s < W:
        return min(1.0, (s + 1) / W)
    if config.schedule == COSINE:
        if s >= S:
            return 0.0
        return 0.5 * (1 + cos(M_PI * (s - W) / (S - W)))
    return 1.0


cdef inline double step_size(const OptimizerConfig* config, Py_ssize_t t) noexcept nogil:
    # the rate of step t (1, 2, ...): η for SGD; Adam's bias-corrected η_t
    if config.kind == ADAM:
        return config.learning_rate * sqrt(1 - config.beta_2 ** t) / (1 - config.beta_1 ** t)
    return config.learning_rate


cdef inline bint clips(const OptimizerConfig* config) noexcept nogil:
    return config.clip_norm > 0 or config.clip_value > 0


cdef inline double clip_scale(const OptimizerConfig* config, double grad_squares) noexcept nogil:
    # c = min(1, clip_norm / (‖g‖ + 1e-6)) from ‖g‖², or 1 without clip_norm
    if config.clip_norm > 0:
        return min(1.0, config.clip_norm / (sqrt(grad_squares) + 1e-6))
    return 1.0


cdef inline floating clipped(floating g, floating scale, floating limit) noexcept nogil:
    # the clipped gradient: scaled, then clamped to [-limit, limit] when limit > 0
    g = g * scale
    if limit > 0:
        if g > limit:
            return limit
        if g < -limit:
            return -limit
    return g


cdef inline void sgd_update(floating* params, const floating* grads, floating* velocity,
                            Py_ssize_t start, Py_ssize_t stop, const OptimizerConfig* config,
                            double rate, bint clipping, floating scale) noexcept nogil:
    # params, velocity: INOUT; grads: IN; rate: this step's η
    cdef Py_ssize_t i
    cdef floating update, g
    cdef floating mu = <floating> config.momentum
    cdef floating eta = <floating> rate
    cdef floating limit = <floating> config.clip_value
    cdef bint nesterov = config.nesterov
    if not clipping:
        for i in range(start, stop):
            update = mu * velocity[i] - eta * grads[i]
            velocity[i] = update
            if nesterov:
                update = mu * update - eta * grads[i]
            params[i] = params[i] + update
        return
    for i in range(start, stop):
        g = clipped(grads[i], scale, limit)
        update = mu * velocity[i] - eta * g
        velocity[i] = update
        if nesterov:
            update = mu * update - eta * g
        params[i] = params[i] + update


cdef inline void adam_step(floating* params, floating* m, floating* v, Py_ssize_t i,
                           floating g, floating b1, floating b2, floating one_b1,
                           floating one_b2, floating eps, floating neg_eta) noexcept nogil:
    # one parameter's Adam step with gradient g
    m[i] = b1 * m[i] + one_b1 * g
    v[i] = b2 * v[i] + one_b2 * (g * g)
    if floating is float:
        params[i] = params[i] + neg_eta * m[i] / (sqrtf(v[i]) + eps)
    else:
        params[i] = params[i] + neg_eta * m[i] / (sqrt(v[i]) + eps)


cdef inline void adam_update(floating* params, const floating* grads,
                             floating* m, floating* v,
                             Py_ssize_t start, Py_ssize_t stop, double step_size,
                             const OptimizerConfig* config,
                             bint clipping, floating scale) noexcept nogil:
    # params, m, v: INOUT; grads: IN; step_size = η_t.  Two loops, so that the one
    # without clipping has no branch in it and vectorises.
    cdef Py_ssize_t i
    cdef floating b1 = <floating> config.beta_1
    cdef floating b2 = <floating> config.beta_2
    cdef floating one_b1 = <floating> (1 - config.beta_1)
    cdef floating one_b2 = <floating> (1 - config.beta_2)
    cdef floating eps = <floating> config.epsilon
    cdef floating neg_eta = <floating> (-step_size)
    cdef floating limit = <floating> config.clip_value
    if not clipping:
        for i in range(start, stop):
            adam_step(params, m, v, i, grads[i], b1, b2, one_b1, one_b2, eps, neg_eta)
    else:
        for i in range(start, stop):
            adam_step(params, m, v, i, clipped(grads[i], scale, limit),
                      b1, b2, one_b1, one_b2, eps, neg_eta)


cdef inline void optimizer_step(floating* params, const floating* grads, floating* state_1,
                                floating* state_2, Py_ssize_t start, Py_ssize_t stop,
                                const OptimizerConfig* config, double rate,
                                double scale, double keep, Py_ssize_t n_weights,
                                floating* average, double average_decay) noexcept nogil:
    # one step over params[start:stop]: rate = step_size × schedule_factor, scale from
    # clip_scale; keep = 1 - η_s λ multiplies params[start:min(stop, n_weights)] first
    # (the weights); average (θ̄, NULL: off) then follows with decay average_decay.
    # params, state_1 (velocity or m), state_2 (v), average: INOUT; grads: IN
    cdef Py_ssize_t i
    cdef floating k = <floating> keep
    cdef floating d = <floating> average_decay
    cdef floating one_d = <floating> (1 - average_decay)
    if keep != 1:
        for i in range(start, min(stop, n_weights)):
            params[i] = params[i] * k
    if config.kind == SGD:
        sgd_update(params, grads, state_1, start, stop, config, rate, clips(config),
                   <floating> scale)
    else:
        adam_update(params, grads, state_1, state_2, start, stop, rate, config,
                    clips(config), <floating> scale)
    if average != NULL:
        for i in range(start, stop):
            average[i] = d * average[i] + one_d * params[i]
