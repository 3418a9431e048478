# Activations σ and their derivatives σ', side by side, for float32 and float64.
#
# Each σ' is written through the activation's output a = σ(z), so the forward
# pass keeps only A (no Z):  logistic a(1-a),  tanh 1-a²,  relu [a>0],  identity 1.
# The activation is chosen once per layer (a switch outside the element loops).
# The codes are shared with Python through _layout.ACTIVATION_CODES.

from cython cimport floating
from libc.math cimport exp, expf, tanh, tanhf

cdef enum:
    IDENTITY = 0
    LOGISTIC = 1
    TANH = 2
    RELU = 3
    SOFTMAX = 4    # output layer only
    EXP = 5        # output layer only (Poisson regression)


cdef inline floating exp_(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating logistic(floating z) noexcept nogil:
    # σ(z) = 1 / (1 + e^-z); exp overflows to inf for z << 0, giving 0 exactly
    return 1 / (1 + exp_(-z))


cdef inline void add_bias_activate(floating* Z, Py_ssize_t n_rows, Py_ssize_t n_cols,
                                   const floating* intercept, int activation) noexcept nogil:
    # A = σ(Z + b), in place over a row-major block (n_rows x n_cols)        # Z: INOUT
    cdef Py_ssize_t i, j, k
    cdef floating z, row_max, total
    cdef floating* row
    for i in range(n_rows):
        row = Z + i * n_cols
        if activation == IDENTITY:
            for j in range(n_cols):
                row[j] = row[j] + intercept[j]
        elif activation == RELU:
            for j in range(n_cols):
                z = row[j] + intercept[j]
                row[j] = z if z > 0 else 0
        elif activation == TANH:
            for j in range(n_cols):
                if floating is float:
                    row[j] = tanhf(row[j] + intercept[j])
                else:
                    row[j] = tanh(row[j] + intercept[j])
        elif activation == LOGISTIC:
            for j in range(n_cols):
                row[j] = logistic(row[j] + intercept[j])
        elif activation == EXP:
            for j in range(n_cols):
                row[j] = exp_(row[j] + intercept[j])
        elif activation == SOFTMAX:
            # softmax(z)_j = e^(z_j - max z) / Σ_k e^(z_k - max z)
            for j in range(n_cols):
                row[j] = row[j] + intercept[j]
            row_max = row[0]
            for j in range(1, n_cols):
                if row[j] > row_max:
                    row_max = row[j]
            total = 0
            for j in range(n_cols):
                row[j] = exp_(row[j] - row_max)
                total = total + row[j]
            for j in range(n_cols):
                row[j] = row[j] / total


cdef inline void multiply_derivative(floating* delta, const floating* A, Py_ssize_t n,
                                     int activation) noexcept nogil:
    # δ ⊙= σ'(z), with σ' written through a = σ(z); n contiguous elements   # delta: INOUT
    cdef Py_ssize_t i
    if activation == RELU:
        for i in range(n):
            # a select, not a branch, so that the loop vectorises
            delta[i] = delta[i] if A[i] != 0 else 0
    elif activation == TANH:
        for i in range(n):
            delta[i] = delta[i] * (1 - A[i] * A[i])
    elif activation == LOGISTIC:
        for i in range(n):
            delta[i] = delta[i] * A[i] * (1 - A[i])
    # IDENTITY: σ' = 1
