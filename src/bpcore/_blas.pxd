# Row-major BLAS for bpcore's kernels, over scipy's cython_blas (float32 and float64).
#
# bpcore stores matrices row-major (C order).  Fortran BLAS is column-major, and
# a row-major (m x n) matrix is the same memory as a column-major (n x m) one, so
#     C = op(A) op(B)   (row-major)   is computed as   C^T = op(B)^T op(A)^T
# by swapping the operands and the sizes m and n.  No copies, no transposes.
# Nothing links to BLAS at build time: scipy hands the function pointers over at import.

from cython cimport floating
from scipy.linalg.cython_blas cimport sgemm, dgemm


cdef inline void gemm(char trans_a, char trans_b, int m, int n, int k,
                      floating alpha, const floating* A, int lda,
                      const floating* B, int ldb,
                      floating beta, floating* C, int ldc) noexcept nogil:
    # C (m x n, row-major, leading dimension ldc) = alpha op(A) op(B) + beta C
    if m <= 0 or n <= 0:
        return
    if floating is float:
        sgemm(&trans_b, &trans_a, &n, &m, &k, &alpha, <float*> B, &ldb,
              <float*> A, &lda, &beta, C, &ldc)
    else:
        dgemm(&trans_b, &trans_a, &n, &m, &k, &alpha, <double*> B, &ldb,
              <double*> A, &lda, &beta, C, &ldc)
