# The output layer: output activation, loss value and output error δᴸ, fused in one pass.
#
# Every loss here is paired with its canonical output activation, for which
#     δᴸ = ∂ℓ/∂zᴸ = aᴸ - y
#   squared error ½‖a - y‖²         identity
#   binary cross-entropy            logistic (binary and multilabel)
#   categorical cross-entropy       softmax (multiclass)
#   Poisson deviance y log(y/a) - y + a     exp
# With sample weights s, the row's δ and loss are multiplied by s.  The kernel
# returns Σᵢ sᵢ ℓᵢ (ℓᵢ summed over the outputs, accumulated in double); the caller
# divides by Σ sᵢ.  Probabilities are clipped to [eps, 1 - eps] (the dtype's eps)
# inside the log only, as scikit-learn does; δ uses the unclipped a.

from cython cimport floating
from libc.math cimport log
from libc.float cimport FLT_EPSILON, DBL_EPSILON

from ._activations cimport (IDENTITY, LOGISTIC, SOFTMAX, EXP, add_bias_activate)

cdef enum:
    SQUARED_ERROR = 0     # identity output
    BINARY_LOG_LOSS = 1   # logistic output
    LOG_LOSS = 2          # softmax output
    POISSON = 3           # exp output


cdef inline int output_activation(int loss) noexcept nogil:
    if loss == SQUARED_ERROR:
        return IDENTITY
    elif loss == BINARY_LOG_LOSS:
        return LOGISTIC
    elif loss == LOG_LOSS:
        return SOFTMAX
    return EXP


cdef inline double xlogy(double x, double y) noexcept nogil:
    # x log y, with 0 log y = 0
    return 0.0 if x == 0 else x * log(y)


cdef inline double output_loss_delta(floating* A, floating* delta,
                                     const floating* Y, Py_ssize_t ldy,
                                     const Py_ssize_t* rows, Py_ssize_t first_row,
                                     const floating* sample_weight,
                                     Py_ssize_t n_rows, Py_ssize_t n_outputs,
                                     const floating* intercept, int loss) noexcept nogil:
    # A = σᴸ(Z + b) in place; δᴸ = s (A - Y); returns Σᵢ sᵢ ℓ(aᵢ, yᵢ)
    #   A, delta: OUT (n_rows x n_outputs); Y: IN, row i of the block is
    #   Y[rows[first_row + i]] (or Y[first_row + i] when rows is NULL)
    cdef Py_ssize_t i, j, y_row
    cdef double total = 0, row_loss, a, y, s
    cdef double eps = FLT_EPSILON if floating is float else DBL_EPSILON
    cdef floating* a_row
    cdef floating* d_row
    cdef const floating* y_ptr

    add_bias_activate(A, n_rows, n_outputs, intercept, output_activation(loss), NULL)
    for i in range(n_rows):
        y_row = rows[first_row + i] if rows != NULL else first_row + i
        y_ptr = Y + y_row * ldy
        s = sample_weight[y_row] if sample_weight != NULL else 1.0
        a_row = A + i * n_outputs
        d_row = delta + i * n_outputs
        row_loss = 0
        for j in range(n_outputs):
            a = a_row[j]
            y = y_ptr[j]
            if sample_weight != NULL:
                d_row[j] = <floating> ((a_row[j] - y_ptr[j]) * s)
            else:
                d_row[j] = a_row[j] - y_ptr[j]
            if loss == SQUARED_ERROR:
                row_loss += 0.5 * (a - y) * (a - y)
            elif loss == POISSON:
                row_loss += xlogy(y, y / a) - y + a
            else:
                a = min(max(a, eps), 1 - eps)
                if loss == LOG_LOSS:
                    row_loss -= xlogy(y, a)
                else:
                    row_loss -= xlogy(y, a) + xlogy(1 - y, 1 - a)
        total += s * row_loss
    return total
