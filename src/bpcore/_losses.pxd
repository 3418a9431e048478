# The output layer: loss value and output error δᴸ, fused in one pass over Aᴸ.
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

from ._activations cimport IDENTITY, LOGISTIC, SOFTMAX, EXP

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


cdef inline double element_loss(double a, double y, int loss, double eps) noexcept nogil:
    # ℓ for one output: ½(a - y)², the Poisson deviance, or the cross-entropy term
    # (a clipped to [eps, 1 - eps] inside the log only)
    if loss == SQUARED_ERROR:
        return 0.5 * (a - y) * (a - y)
    if loss == POISSON:
        return xlogy(y, y / a) - y + a
    a = min(max(a, eps), 1 - eps)
    if loss == LOG_LOSS:
        return -xlogy(y, a)
    return -(xlogy(y, a) + xlogy(1 - y, 1 - a))


cdef inline double output_loss_delta(const floating* A, floating* delta,
                                     const floating* Y, Py_ssize_t ldy,
                                     const Py_ssize_t* rows, Py_ssize_t first_row,
                                     const floating* sample_weight,
                                     Py_ssize_t n_rows, Py_ssize_t n_outputs,
                                     int loss) noexcept nogil:
    # δᴸ = s (Aᴸ - Y); returns Σᵢ sᵢ ℓ(aᵢ, yᵢ).  A = σᴸ(Zᴸ) comes from the forward pass.
    #   A: IN, delta: OUT (n_rows x n_outputs); Y: IN, row i of the block is
    #   Y[rows[first_row + i]] (or Y[first_row + i] when rows is NULL)
    cdef Py_ssize_t i, j, y_row
    cdef double total = 0, row_loss, s
    cdef double eps = FLT_EPSILON if floating is float else DBL_EPSILON
    cdef const floating* a_row
    cdef floating* d_row
    cdef const floating* y_ptr
    for i in range(n_rows):
        y_row = rows[first_row + i] if rows != NULL else first_row + i
        y_ptr = Y + y_row * ldy
        s = sample_weight[y_row] if sample_weight != NULL else 1.0
        a_row = A + i * n_outputs
        d_row = delta + i * n_outputs
        row_loss = 0
        for j in range(n_outputs):
            if sample_weight != NULL:
                d_row[j] = <floating> ((a_row[j] - y_ptr[j]) * s)
            else:
                d_row[j] = a_row[j] - y_ptr[j]
            row_loss += element_loss(a_row[j], y_ptr[j], loss, eps)
        total += s * row_loss
    return total


cdef inline double output_loss(const floating* A, const floating* Y,
                               const floating* sample_weight, Py_ssize_t n_rows,
                               Py_ssize_t n_outputs, int loss) noexcept nogil:
    # Σᵢ sᵢ ℓ(aᵢ, yᵢ) of given outputs (a validation loss): no δ
    cdef Py_ssize_t i, j
    cdef double total = 0, row_loss
    cdef double eps = FLT_EPSILON if floating is float else DBL_EPSILON
    for i in range(n_rows):
        row_loss = 0
        for j in range(n_outputs):
            row_loss += element_loss(A[i * n_outputs + j], Y[i * n_outputs + j], loss, eps)
        total += (sample_weight[i] if sample_weight != NULL else 1.0) * row_loss
    return total
