# Row-major BLAS for bpcore's kernels, over scipy's cython_blas (float32 and float64).
#
# bpcore stores matrices row-major (C order).  Fortran BLAS is column-major, and
# a row-major (m x n) matrix is the same memory as a column-major (n x m) one, so
#     C = op(A) op(B)   (row-major)   is computed as   C^T = op(B)^T op(A)^T
# by swapping the operands and the sizes m and n.  No copies, no transposes.
# Nothing links to BLAS at build time: scipy hands the function pointers over at import.

from cython cimport floating
from scipy.linalg.cython_blas cimport sgemm, dgemm, sgemv, dgemv


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


cdef inline void gemv(char trans, int m, int n, floating alpha, const floating* A, int lda,
                      const floating* x, floating beta, floating* y) noexcept nogil:
    # y = alpha op(A) x + beta y, A column-major (m x n, leading dimension lda), unit strides
    cdef int one = 1
    if m <= 0 or n <= 0:
        return
    if floating is float:
        sgemv(&trans, &m, &n, &alpha, <float*> A, &lda, <float*> x, &one, &beta, y, &one)
    else:
        dgemv(&trans, &m, &n, &alpha, <double*> A, &lda, <double*> x, &one, &beta, y, &one)


cdef inline void rows_times_matrix(bint transpose_b, int m, int n, int k,
                                   const floating* A, const floating* B, floating* C) noexcept nogil:
    # C (m x n) = A (m x k) op(B), all row-major and contiguous; op(B) = B (k x n), or Bᵀ
    # with B stored (n x k).  A few rows go through gemv, one row at a time: gemm's fixed
    # cost (packing) dominates below ~5 rows (1 row: 1.5 GFLOPS through sgemm).
    cdef int r
    if m <= 4:
        for r in range(m):
            # row-major B (k x n) is column-major Bᶜ (n x k): C[r] = Bᶜ A[r];
            # row-major B (n x k) is column-major (k x n): C[r] = (that)ᵀ A[r]
            gemv(c'T' if transpose_b else c'N', k if transpose_b else n,
                 n if transpose_b else k, <floating> 1.0, B, k if transpose_b else n,
                 A + r * k, <floating> 0.0, C + r * n)
    else:
        gemm(c'N', c'T' if transpose_b else c'N', m, n, k, <floating> 1.0,
             A, k, B, k if transpose_b else n, <floating> 0.0, C, n)
