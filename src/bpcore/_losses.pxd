# The output layer: loss value and output error δᴸ, fused in one pass over Aᴸ.
#
# Every loss here is paired with its canonical output activation, for which
#     δᴸ = ∂ℓ/∂zᴸ = aᴸ - y
#   squared error ½‖a - y‖²         identity
#   binary cross-entropy            logistic (binary and multilabel)
#   categorical cross-entropy       softmax (multiclass)
#   Poisson deviance y log(y/a) - y + a     exp
# The robust regression losses have an identity output and δᴸ = ψ(aᴸ - y), the
# derivative of ℓ in the residual r = a - y, with a per-output parameter p:
#   absolute error  |r|                                 ψ = sign(r)
#   Huber           ½r² if |r| ≤ p, else p(|r| - ½p)     ψ = r clamped to [-p, p]
#   quantile        (pinball) q max(-r, 0) + (1-q) max(r, 0), q = p
#                                                       ψ = 1 - q if r > 0, -q if r < 0, 0 at r = 0
# With sample weights s, the row's δ and loss are multiplied by s.  The kernel
# returns Σᵢ sᵢ ℓᵢ (ℓᵢ summed over the outputs, accumulated in double); the caller
# divides by Σ sᵢ.  Probabilities are clipped to [eps, 1 - eps] (the dtype's eps)
# inside the log only, as scikit-learn does; δ uses the unclipped a.

from cython cimport floating
from libc.math cimport log, fabs
from libc.float cimport FLT_EPSILON, DBL_EPSILON

from ._activations cimport IDENTITY, LOGISTIC, SOFTMAX, EXP

cdef enum:
    SQUARED_ERROR = 0     # identity output
    BINARY_LOG_LOSS = 1   # logistic output
    LOG_LOSS = 2          # softmax output
    POISSON = 3           # exp output
    ABSOLUTE_ERROR = 4    # identity output, the losses below too
    HUBER = 5
    QUANTILE = 6


cdef inline int output_activation(int loss) noexcept nogil:
    if loss == SQUARED_ERROR:
        return IDENTITY
    elif loss == BINARY_LOG_LOSS:
        return LOGISTIC
    elif loss == LOG_LOSS:
        return SOFTMAX
    elif loss == POISSON:
        return EXP
    return IDENTITY


cdef inline double xlogy(double x, double y) noexcept nogil:
    # x log y, with 0 log y = 0
    return 0.0 if x == 0 else x * log(y)


cdef inline double element_loss(double a, double y, int loss, double eps,
                                double p) noexcept nogil:
    # ℓ for one output: ½(a - y)², the Poisson deviance, the cross-entropy term
    # (a clipped to [eps, 1 - eps] inside the log only), or a robust loss with parameter p
    cdef double r = a - y
    if loss == SQUARED_ERROR:
        return 0.5 * r * r
    if loss == POISSON:
        return xlogy(y, y / a) - y + a
    if loss == ABSOLUTE_ERROR:
        return fabs(r)
    if loss == HUBER:
        return 0.5 * r * r if fabs(r) <= p else p * (fabs(r) - 0.5 * p)
    if loss == QUANTILE:
        return (1 - p) * r if r > 0 else -p * r
    a = min(max(a, eps), 1 - eps)
    if loss == LOG_LOSS:
        return -xlogy(y, a)
    return -(xlogy(y, a) + xlogy(1 - y, 1 - a))


cdef inline double residual_slope(double r, int loss, double p) noexcept nogil:
    # ψ(r) = ∂ℓ/∂a of a robust loss at residual r = a - y
    if loss == ABSOLUTE_ERROR:
        return 1.0 if r > 0 else (-1.0 if r < 0 else 0.0)
    if loss == HUBER:
        return p if r > p else (-p if r < -p else r)
    return 1 - p if r > 0 else (-p if r < 0 else 0.0)    # QUANTILE


cdef inline double output_loss_delta(const floating* A, floating* delta,
                                     const floating* Y, Py_ssize_t ldy,
                                     const Py_ssize_t* rows, Py_ssize_t first_row,
                                     const floating* sample_weight,
                                     Py_ssize_t n_rows, Py_ssize_t n_outputs,
                                     int loss, const double* loss_param,
                                     Py_ssize_t members=1) noexcept nogil:
    # δᴸ = s (Aᴸ - Y), or s ψ(Aᴸ - Y) for a robust loss; returns Σᵢ sᵢ ℓ(aᵢ, yᵢ).
    # A = σᴸ(Zᴸ) comes from the forward pass.  loss_param: one p per output.
    #   A: IN, delta: OUT (n_rows x n_outputs); Y: IN, row i of the block is
    #   Y[rows[first_row + i / members]] (or Y[first_row + i / members] when rows is
    #   NULL): an ensemble's block holds each row once per member
    cdef Py_ssize_t i, j, y_row
    cdef double total = 0, row_loss, s, p
    cdef double eps = FLT_EPSILON if floating is float else DBL_EPSILON
    cdef const floating* a_row
    cdef floating* d_row
    cdef const floating* y_ptr
    for i in range(n_rows):
        y_row = rows[first_row + i // members] if rows != NULL else first_row + i // members
        y_ptr = Y + y_row * ldy
        s = sample_weight[y_row] if sample_weight != NULL else 1.0
        a_row = A + i * n_outputs
        d_row = delta + i * n_outputs
        row_loss = 0
        if loss >= ABSOLUTE_ERROR:
            for j in range(n_outputs):
                p = loss_param[j]
                d_row[j] = <floating> (s * residual_slope(
                    <double> a_row[j] - <double> y_ptr[j], loss, p))
                row_loss += element_loss(a_row[j], y_ptr[j], loss, eps, p)
            total += s * row_loss
            continue
        if sample_weight != NULL:
            for j in range(n_outputs):
                d_row[j] = <floating> ((a_row[j] - y_ptr[j]) * s)
        else:
            for j in range(n_outputs):
                d_row[j] = a_row[j] - y_ptr[j]
        # the same terms as element_loss, in the same order, with the loss's branch
        # taken once per row rather than per element
        if loss == SQUARED_ERROR:
            for j in range(n_outputs):
                row_loss += element_loss(a_row[j], y_ptr[j], SQUARED_ERROR, eps, 0.0)
        elif loss == LOG_LOSS:
            for j in range(n_outputs):
                if y_ptr[j] != 0:       # (xlogy: 0 log a = 0)
                    row_loss += element_loss(a_row[j], y_ptr[j], LOG_LOSS, eps, 0.0)
        else:
            for j in range(n_outputs):
                row_loss += element_loss(a_row[j], y_ptr[j], loss, eps, 0.0)
        total += s * row_loss
    return total


cdef inline double output_loss(const floating* A, const floating* Y,
                               const floating* sample_weight, Py_ssize_t n_rows,
                               Py_ssize_t n_outputs, int loss,
                               const double* loss_param) noexcept nogil:
    # Σᵢ sᵢ ℓ(aᵢ, yᵢ) of given outputs (a validation loss): no δ
    cdef Py_ssize_t i, j
    cdef double total = 0, row_loss
    cdef double eps = FLT_EPSILON if floating is float else DBL_EPSILON
    for i in range(n_rows):
        row_loss = 0
        for j in range(n_outputs):
            row_loss += element_loss(A[i * n_outputs + j], Y[i * n_outputs + j], loss, eps,
                                     loss_param[j])
        total += (sample_weight[i] if sample_weight != NULL else 1.0) * row_loss
    return total
