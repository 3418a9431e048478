# Activations σ and their derivatives σ', side by side, for float32 and float64.
#
# Where σ' is a function of the output a = σ(z), it is written through a, so the
# forward pass keeps only A:
#   logistic a(1-a)   tanh 1-a²   relu [a>0]   identity 1
#   leaky_relu [a>0] + 0.01 [a<=0]   elu [a>0] + (a+1) [a<=0]   softplus 1 - e^-a
# gelu and swish are not invertible, so their layers also keep Z (NEEDS_Z):
#   gelu  z Φ(z)     σ' = Φ(z) + z φ(z)          (exact, with erf, as torch's default)
#   swish z s(z)     σ' = s(z) (1 + z (1 - s(z)))  with s the logistic function
# The activation is chosen once per layer (a switch outside the element loops).
# The codes are shared with Python through _layout.ACTIVATION_CODES.

from cython cimport floating
from libc.math cimport (exp, expf, expm1, expm1f, log1p, log1pf, tanh, tanhf, erf, erff,
                        fabs, fabsf, sqrt)

cdef enum:
    IDENTITY = 0
    LOGISTIC = 1
    TANH = 2
    RELU = 3
    SOFTMAX = 4     # output layer only
    EXP = 5         # output layer only (Poisson regression)
    LEAKY_RELU = 6
    ELU = 7
    GELU = 8
    SOFTPLUS = 9
    SWISH = 10

# constants as C macros: an assignment in a .pxd would never run
cdef extern from *:
    """
    #define BPCORE_LEAKY_SLOPE 0.01
    #define BPCORE_INV_SQRT2 0.70710678118654752440
    #define BPCORE_INV_SQRT_2PI 0.39894228040143267794
    """
    const double LEAKY_SLOPE "BPCORE_LEAKY_SLOPE"    # leaky_relu's slope for z <= 0 (torch's)
    const double INV_SQRT2 "BPCORE_INV_SQRT2"
    const double INV_SQRT_2PI "BPCORE_INV_SQRT_2PI"


cdef inline bint needs_z(int activation) noexcept nogil:
    return activation == GELU or activation == SWISH


cdef inline floating exp_(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating logistic(floating z) noexcept nogil:
    # σ(z) = 1 / (1 + e^-z); exp overflows to inf for z << 0, giving 0 exactly
    return 1 / (1 + exp_(-z))


cdef inline floating activate(floating z, int activation) noexcept nogil:
    # σ(z) for the element-wise activations (not softmax)
    if activation == LEAKY_RELU:
        return z if z > 0 else <floating> LEAKY_SLOPE * z
    if activation == ELU:
        if floating is float:
            return z if z > 0 else expm1f(z)
        else:
            return z if z > 0 else expm1(z)
    if activation == GELU:
        if floating is float:
            return 0.5 * z * (1 + erff(z * <float> INV_SQRT2))
        else:
            return 0.5 * z * (1 + erf(z * INV_SQRT2))
    if activation == SOFTPLUS:
        # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), without overflow
        if floating is float:
            return (z if z > 0 else 0) + log1pf(expf(-fabsf(z)))
        else:
            return (z if z > 0 else 0) + log1p(exp(-fabs(z)))
    if activation == SWISH:
        return z * logistic(z)
    if activation == EXP:
        return exp_(z)
    if activation == LOGISTIC:
        return logistic(z)
    if activation == TANH:
        if floating is float:
            return tanhf(z)
        else:
            return tanh(z)
    return z


cdef inline void add_bias_activate(floating* Z, Py_ssize_t n_rows, Py_ssize_t n_cols,
                                   const floating* intercept, int activation,
                                   floating* Z_out) noexcept nogil:
    # A = σ(Z + b), in place over a row-major block (n_rows x n_cols).  When Z_out is
    # not NULL it receives Z + b (for the activations whose σ' needs z).   # Z: INOUT
    cdef Py_ssize_t i, j
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
                row[j] = 0 if z <= 0 else z    # NaN passes through, as in np.maximum
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
        elif Z_out != NULL:
            for j in range(n_cols):
                z = row[j] + intercept[j]
                Z_out[i * n_cols + j] = z
                row[j] = activate(z, activation)
        else:
            for j in range(n_cols):
                row[j] = activate(row[j] + intercept[j], activation)


cdef inline floating derivative(floating a, floating z, int activation) noexcept nogil:
    # σ'(z), from a = σ(z) (and z for gelu, swish)
    cdef floating s
    if activation == TANH:
        return 1 - a * a
    if activation == LOGISTIC:
        return a * (1 - a)
    if activation == LEAKY_RELU:
        return 1 if a > 0 else <floating> LEAKY_SLOPE
    if activation == ELU:
        return 1 if a > 0 else a + 1
    if activation == SOFTPLUS:
        # σ(z) = 1 - e^-a; -expm1 keeps the precision when a is tiny
        if floating is float:
            return -expm1f(-a)
        else:
            return -expm1(-a)
    if activation == GELU:
        if floating is float:
            return (0.5 * (1 + erff(z * <float> INV_SQRT2))
                    + z * <float> INV_SQRT_2PI * expf(-0.5 * z * z))
        else:
            return 0.5 * (1 + erf(z * INV_SQRT2)) + z * INV_SQRT_2PI * exp(-0.5 * z * z)
    if activation == SWISH:
        s = logistic(z)
        return s * (1 + z * (1 - s))
    if activation == RELU:
        return 1 if a > 0 else 0
    return 1


cdef inline void multiply_derivative(floating* delta, const floating* A, const floating* Z,
                                     Py_ssize_t n, int activation) noexcept nogil:
    # δ ⊙= σ'(z), n contiguous elements; Z may be NULL unless needs_z   # delta: INOUT
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
    elif activation == IDENTITY:
        return
    elif Z != NULL:
        for i in range(n):
            delta[i] = delta[i] * derivative(A[i], Z[i], activation)
    else:
        for i in range(n):
            delta[i] = delta[i] * derivative(A[i], <floating> 0, activation)


cdef inline void multiply_dropout_derivative(floating* delta, const floating* A,
                                             const floating* Z, const floating* mask,
                                             double keep, Py_ssize_t n,
                                             int activation) noexcept nogil:
    # δ ⊙= m ⊙ σ'(z) for a layer with inverted dropout: A holds the kept outputs
    # a·m (m = 0 or 1/keep), so σ' is taken at a = A·keep where m != 0.   # delta: INOUT
    cdef Py_ssize_t i
    cdef floating k = <floating> keep
    for i in range(n):
        if mask[i] == 0:
            delta[i] = 0
        else:
            delta[i] = delta[i] * mask[i] * derivative(
                A[i] * k, Z[i] if Z != NULL else <floating> 0, activation)
