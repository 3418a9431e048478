# Parameter updates over a range of the flat parameter buffer.
#
#   SGD:       v ← μ v - η g;  p ← p + v                  (momentum μ; μ = 0 is plain SGD)
#   Nesterov:  v ← μ v - η g;  p ← p + μ v - η g
#   Adam:      m ← β₁ m + (1-β₁) g;  v ← β₂ v + (1-β₂) g²;
#              p ← p - η_t m / (√v + ε),   η_t = η √(1-β₂ᵗ) / (1-β₁ᵗ)  (step_size)
# Gradient clipping (seed 004, exploding gradients), when on, replaces g first by
#   g ← clamp(c g, -clip_value, clip_value),   c = min(1, clip_norm / (‖g‖ + 1e-6))
# with ‖g‖ the global norm over every parameter (c = 1 without clip_norm, no clamp
# without clip_value; clip_scale computes c).  Without clipping the loops are exactly the plain ones.
# The order of operations is scikit-learn's, so that float64 results agree to rounding.

from cython cimport floating
from libc.math cimport sqrt, sqrtf

cdef enum:
    SGD = 0
    ADAM = 1

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
                            bint clipping, floating scale) noexcept nogil:
    # params, velocity: INOUT; grads: IN
    cdef Py_ssize_t i
    cdef floating update, g
    cdef floating mu = <floating> config.momentum
    cdef floating eta = <floating> config.learning_rate
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
                                double scale) noexcept nogil:
    # one step over params[start:stop]: rate from step_size, scale from clip_scale
    # params, state_1 (velocity or m), state_2 (v): INOUT; grads: IN
    if config.kind == SGD:
        sgd_update(params, grads, state_1, start, stop, config, clips(config),
                   <floating> scale)
    else:
        adam_update(params, grads, state_1, state_2, start, stop, rate, config,
                    clips(config), <floating> scale)
