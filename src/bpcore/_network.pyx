# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# The backprop engine: forward pass, δ recursion, gradients and updates, in float32
# and float64 (fused `floating`), with the GIL released.
#
# Design
# a) State is plain arrays owned by Python (bpcore._engine.Engine holds them): one flat
#    parameter buffer (all coefs, then all intercepts, scikit-learn's packing order), a
#    gradient buffer and optimizer state of the same layout, and one workspace sized
#    for a batch.  A `Network` holds only the shape of the net (sizes, activations,
#    offsets).
# b) One Python -> C crossing per epoch: `train_epoch` runs every mini-batch.
# c) The `def` functions are the boundary: they check every array they hand to the
#    `cdef` kernels (sizes, sparse row pointers and column indices) against the
#    Network, because the kernels run without bounds checks.  No state reachable from
#    Python can drive a kernel out of bounds.
# d) Threads, one owner: OpenMP.  Each BLAS call is single-threaded (the caller caps
#    BLAS at one thread) and works on one fixed chunk (see ROW_CHUNK):
#      - rows of the batch for everything that is row-local: the forward pass of all
#        layers, the output error, and the whole δ recursion  δˡ = (δˡ⁺¹ Wˡ⁺¹ᵀ) ⊙ σ'(Zˡ);
#      - output columns for the weight gradients  ∂J/∂Wˡ = (Aˡ⁻¹ᵀ δˡ + α Wˡ) / Σs  and the
#        bias sums, so no cross-thread reduction;
#      - element ranges of the flat buffer for the optimizer step (a small network's
#        step rides in the weight-gradient tasks instead: see Step).
#    The chunks are the same for any thread count, so the weights are too (bitwise);
#    a governor (Governor) picks each batch's thread count by timing.
# e) Threads are only started where that is safe (usable_threads): never in a child
#    forked after this process ran a team (OpenMP's pool did not survive the fork and
#    would hang), and never more than thread creation was seen to allow (libgomp
#    exits the process when it cannot create a thread).  One thread runs the same
#    chunks, so the results are the same.
# f) Kernels never raise; they return numbers (loss sums, per-layer squared gradient
#    norms, a divergence flag) and the facade decides what to tell the user.
# g) Dropout (inverted, hidden layers) draws each mask element from a counter-based
#    generator keyed by (seed, position of the row in the epoch, unit): the masks do
#    not depend on the thread count, and a fixed seed fixes them (gradient checks).
#
# Empty arrays stand for "absent": an empty `sample_weight` means all weights are 1,
# an empty `order` means the batches are consecutive rows of X (no copy of X).

from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset
from libc.math cimport isfinite, sqrt, sin, cos, sinf, cosf, M_PI
from cpython.exc cimport PyErr_CheckSignals
from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release, PyBUF_C_CONTIGUOUS,
                             PyBUF_FORMAT, PyBUF_WRITABLE)

from ._blas cimport gemm, rows_times_matrix
from ._activations cimport (add_bias_activate, multiply_derivative,
                            multiply_dropout_derivative, needs_z, LEAKY_SLOPE,
                            IDENTITY, LOGISTIC, TANH, RELU, SOFTMAX, EXP, LEAKY_RELU, ELU,
                            GELU, SOFTPLUS, SWISH)
from ._losses cimport (output_loss_delta, output_loss, output_activation,
                       SQUARED_ERROR, BINARY_LOG_LOSS, LOG_LOSS, POISSON, ABSOLUTE_ERROR,
                       HUBER, QUANTILE)
from ._optimizers cimport (OptimizerConfig, SGD, ADAM, CONSTANT, COSINE, ONE_CYCLE,
                           optimizer_step, step_size, clip_scale, schedule_factor)

cdef enum:
    NORM_NONE = 0       # no normalization
    NORM_BATCH = 1      # batch normalization: statistics over the batch's rows
    NORM_LAYER = 2      # layer normalization: statistics over each row's units

cdef double NORM_EPS = 1e-5   # added to the variance (torch's default)
cdef double TWO_PI = 2 * M_PI

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define BPCORE_OPENMP 1
    #else
    #define BPCORE_OPENMP 0
    static int omp_get_max_threads(void) { return 1; }
    static double omp_get_wtime(void) { return 0.0; }
    #endif

    /* Where threads may be started (see usable_threads). */
    static int bpcore_forked_child = 0;   /* forked: OpenMP's pool did not survive */
    #if defined(_OPENMP) && !defined(_WIN32)
    #include <pthread.h>
    #include <stdlib.h>
    static __thread int bpcore_threads_seen = 1;  /* this thread started teams this big */
    static void bpcore_after_fork_in_child(void) {
        bpcore_forked_child = 1;
    }
    static int bpcore_watch_forks(void) {
        return pthread_atfork(NULL, NULL, bpcore_after_fork_in_child);
    }
    static void* bpcore_idle(void* arg) { return arg; }
    /* the stack size OpenMP's runtime gives its threads: OMP_STACKSIZE (or
       GOMP_STACKSIZE), a number with an optional B, K (default), M or G suffix */
    static size_t bpcore_omp_stacksize(void) {
        const char* text = getenv("OMP_STACKSIZE");
        char* end;
        unsigned long long value;
        if (text == NULL) text = getenv("GOMP_STACKSIZE");
        if (text == NULL) return 0;
        value = strtoull(text, &end, 10);
        while (*end == ' ') end++;
        switch (*end) {
            case 'b': case 'B': return (size_t) value;
            case 'm': case 'M': return (size_t) (value << 20);
            case 'g': case 'G': return (size_t) (value << 30);
            default: return (size_t) (value << 10);
        }
    }
    /* How many threads (this one included, up to n) can be created now, with the
       stack size OpenMP's runtime uses: a team is only started that big. */
    static int bpcore_probe_threads(int n) {
        pthread_t* threads = (pthread_t*) malloc(n * sizeof(pthread_t));
        pthread_attr_t attributes;
        size_t stack = bpcore_omp_stacksize();
        int made = 0, i;
        if (threads == NULL) return 1;
        pthread_attr_init(&attributes);
        if (stack > 0 && pthread_attr_setstacksize(&attributes, stack) != 0) {
            pthread_attr_destroy(&attributes);   /* OpenMP could not use it either */
            free(threads);
            return 1;
        }
        while (made < n - 1
               && pthread_create(&threads[made], &attributes, bpcore_idle, NULL) == 0)
            made++;
        for (i = 0; i < made; i++) pthread_join(threads[i], NULL);
        pthread_attr_destroy(&attributes);
        free(threads);
        return made + 1;
    }
    #else
    static int bpcore_threads_seen = 1;
    static int bpcore_watch_forks(void) { return 0; }
    static int bpcore_probe_threads(int n) { return n; }
    #endif
    """
    int BPCORE_OPENMP
    int omp_get_max_threads() noexcept nogil
    double omp_get_wtime() noexcept nogil
    int bpcore_forked_child
    int bpcore_threads_seen
    int bpcore_watch_forks() noexcept
    int bpcore_probe_threads(int n) noexcept nogil

bpcore_watch_forks()

# The most elements a buffer may have: byte counts of 8-byte elements, and sums of a
# few such sizes, stay far below PY_SSIZE_T_MAX.
cdef Py_ssize_t MAX_ELEMENTS = (<Py_ssize_t> 1) << 56

# Below this much work (multiply-adds) a stage runs on one thread: starting a team
# costs a few microseconds, as much as this work takes on one core.
cdef Py_ssize_t MIN_WORK_PER_THREAD = 1 << 16

# The codes the kernels switch on, for the Python side (one definition: the enums)
ACTIVATION_CODES = {"identity": IDENTITY, "logistic": LOGISTIC, "tanh": TANH, "relu": RELU,
                    "leaky_relu": LEAKY_RELU, "elu": ELU, "gelu": GELU,
                    "softplus": SOFTPLUS, "swish": SWISH}
OUTPUT_ACTIVATION_CODES = {"softmax": SOFTMAX, "exp": EXP}
LOSS_CODES = {"squared_error": SQUARED_ERROR, "binary_log_loss": BINARY_LOG_LOSS,
              "log_loss": LOG_LOSS, "poisson": POISSON, "absolute_error": ABSOLUTE_ERROR,
              "huber": HUBER, "quantile": QUANTILE}
SCHEDULE_CODES = {"constant": CONSTANT, "cosine": COSINE, "one_cycle": ONE_CYCLE}
NORMALIZATION_CODES = {None: NORM_NONE, "batch": NORM_BATCH, "layer": NORM_LAYER}
NORM_EPSILON = NORM_EPS
LEAKY_RELU_SLOPE = LEAKY_SLOPE


def openmp_enabled():
    """True when the extension was compiled with OpenMP."""
    return bool(BPCORE_OPENMP)


def omp_max_threads():
    """OpenMP's thread count for the next parallel region of this thread.

    It follows ``OMP_NUM_THREADS`` and ``threadpoolctl.threadpool_limits``; 1 without OpenMP.
    """
    return omp_get_max_threads()


def forked_child():
    """True in a process made by fork(): bpcore runs on one thread there."""
    return bool(bpcore_forked_child)


cdef int usable_threads(int wanted) noexcept:
    # The team size a kernel may start now (with the GIL held, so without races):
    # 1 in a forked child (an OpenMP pool the parent had, bpcore's or that of another
    # library sharing the runtime, is gone there, and entering it would hang),
    # else at most as many threads as this thread can create (libgomp ends the
    # process when it cannot).  A probe runs once per thread and team size.
    global bpcore_threads_seen
    if wanted <= 1 or not BPCORE_OPENMP or bpcore_forked_child:
        return 1
    if wanted > bpcore_threads_seen:
        with nogil:
            wanted = bpcore_probe_threads(wanted)
        if wanted <= 1:
            return 1
        bpcore_threads_seen = wanted
    return wanted


def usable_thread_count(int wanted):
    """The threads a kernel would run with when asked for `wanted` (see usable_threads)."""
    return usable_threads(wanted)


cdef struct NetSpec:
    Py_ssize_t n_layers           # L: weight layers
    Py_ssize_t* units             # L + 1 sizes: n_features, hidden..., n_outputs
    int* activation               # L: each layer's σ (the last is the output's)
    int loss
    double* loss_param            # units[L]: each output's loss parameter (Huber's δ, quantile q)
    Py_ssize_t n_coefs            # Σ units[l] units[l+1]
    Py_ssize_t n_params           # n_coefs + Σ units[l+1]
    Py_ssize_t* coef_offset       # L: where Wˡ starts in the flat buffer
    Py_ssize_t* intercept_offset  # L: where bˡ starts
    # training workspace for `batch_capacity` rows
    Py_ssize_t batch_capacity
    bint stages_input             # shuffled dense batches are gathered in the workspace
    Py_ssize_t input_offset       # gathered rows of X (when stages_input)
    Py_ssize_t* a_offset          # L: Aˡ (batch x units[l+1])
    Py_ssize_t* delta_offset      # L: δˡ (batch x units[l+1])
    Py_ssize_t* z_offset          # L: Zˡ for the activations whose σ' needs z, else -1
    Py_ssize_t* mask_offset       # L: dropout mask (0 or 1/keep), else -1
    double* keep                  # L: probability of keeping a unit (1: no dropout)
    Py_ssize_t* unit_offset       # L: index of layer l's first unit among hidden units
    Py_ssize_t n_hidden_units     # Σ hidden layer sizes
    Py_ssize_t train_workspace
    Py_ssize_t max_layer_units    # the widest layer after the input (prediction scratch)
    double alpha                  # L2 penalty
    int n_threads
    # the chunks threads take (see ROW_CHUNK): weight-gradient tasks are blocks of a
    # layer's Wˡ (columns task_start..task_stop of rows task_row_start..task_row_stop);
    # scratch holds the per-chunk sums
    Py_ssize_t max_row_chunks
    Py_ssize_t n_tasks
    int* task_layer
    Py_ssize_t* task_start        # first column (first feature: embeddings)
    Py_ssize_t* task_stop         # end of the columns (at most COLUMN_CHUNK after the first)
    Py_ssize_t* task_row_start    # a weight task's input rows of Wˡ (every row, or a
    Py_ssize_t* task_row_stop     # band of them with every column: see split_rows)
    Py_ssize_t update_chunks
    Py_ssize_t scratch_size
    # normalization (NORM_BATCH or NORM_LAYER on every hidden layer) and skip connections
    int normalization
    double norm_momentum          # running statistics: r ← (1 - m) r + m (batch's)
    bint* residual                # L: Aˡ = Aˡ⁻¹ + (the layer's branch)
    Py_ssize_t* scale_offset      # L: γˡ in params (βˡ follows), else -1
    Py_ssize_t* running_offset    # L: running mean (running variance follows), else -1
    Py_ssize_t n_trainable        # params before the running statistics
    Py_ssize_t* norm_offset       # L: Ẑˡ, the normalized pre-activations (workspace)
    Py_ssize_t* dy_offset         # L: ∂J/∂Yˡ, Yˡ = γ Ẑˡ + β (workspace)
    Py_ssize_t* stat_offset       # L: layer normalization's 1/σ per row (workspace)
    Py_ssize_t* branch_offset     # L: the branch σ(Yˡ) (after dropout) of a skip layer
    Py_ssize_t* grad_a_offset     # L: ∂J/∂Aˡ, kept for the skip around layer l
    Py_ssize_t norm_scratch       # where batch normalization's sums start in scratch
    # periodic embeddings of the input features (units[0] = F d when on)
    Py_ssize_t n_inputs           # columns of X: F with embeddings, else units[0]
    Py_ssize_t embed_features     # F (0: no embeddings)
    Py_ssize_t embed_freqs        # k frequencies per feature
    Py_ssize_t embed_dim          # d outputs per feature
    Py_ssize_t embed_offset       # params: c (F x k), then W (F x 2k x d), then b (F x d)
    Py_ssize_t v_offset           # workspace: V, [sin, cos](2π c x) (batch x F x 2k)
    Py_ssize_t dv_offset          # workspace: ∂J/∂V
    Py_ssize_t e_offset           # workspace: E = relu(V W + b) (batch x F d), layer 0's input
    Py_ssize_t de_offset          # workspace: ∂J/∂(V W + b)
    # weight-sharing ensembles of K members (BatchEnsemble): layer l of member m
    # computes ((a ∘ rˡₘ) Wˡ) ∘ sˡₘ + bˡₘ; the batch runs as K stacked copies, row i of
    # the batch being stacked rows i K .. i K + K - 1 (member m at i K + m)
    Py_ssize_t members            # K (1: a plain network)
    Py_ssize_t* ens_r_offset      # L: rˡ (K x units[l]) in params, else -1
    Py_ssize_t* ens_s_offset      # L: sˡ (K x units[l+1]) in params, else -1
    Py_ssize_t* scaled_offset     # L: Ãˡ = Aˡ⁻¹ ∘ r (stacked x units[l]) (workspace)
    Py_ssize_t* raw_offset        # L: Pˡ = Ãˡ Wˡ (stacked x units[l+1])
    Py_ssize_t* dp_offset         # L: ∂J/∂Pˡ = δˡ ∘ s
    Py_ssize_t* dscaled_offset    # L: ∂J/∂Ãˡ = ∂J/∂Pˡ Wˡᵀ (l > 0, or with embeddings)
    bint first_by_member          # the first layer's gradients member by member (see
                                  # weight_gradient_block): no ∂J/∂Ã⁰
    Py_ssize_t member_temp        # workspace: per thread a first-layer task's block (Gₘ)
    Py_ssize_t member_temp_stride # its size: the largest first-layer task's rows x columns
    Py_ssize_t first_tasks        # weight-gradient tasks of the first layer (tasks 0..)
    Py_ssize_t member_scratch     # scratch: per first-layer task K x units[0] sums


cdef class Network:
    """The shape of a network: layer sizes, activations, loss, dropout, buffer offsets.

    Parameters
    ----------
    layer_units : sequence of int, length L + 1
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    hidden_activation : sequence of int, length L - 1
        Activation codes of the hidden layers (``ACTIVATION_CODES``).
    loss : int
        Loss code (``LOSS_CODES``); it fixes the output activation.
    alpha : float
        L2 penalty.
    batch_capacity : int
        Rows of the largest batch the training workspace must hold.
    n_threads : int
        Threads for the parallel regions (fewer where they cannot be started).
    dropout : sequence of float, length L - 1, optional
        Probability of dropping each hidden layer's units in training.
    stages_input : bool, default=True
        Reserve workspace to gather shuffled rows of dense X (batch_capacity x
        n_features).  Sparse X, and batches of consecutive rows, are read in place.
    loss_param : sequence of float, length n_outputs, optional
        Each output's loss parameter: Huber's δ (> 0) or the quantile q (in (0, 1));
        required by those losses, ignored by the others.
    normalization : int, default=NORM_NONE
        ``NORMALIZATION_CODES``: every hidden layer normalizes its pre-activations
        (batch or layer statistics), then scales and shifts them (γ, β).
    residual : bool, default=False
        Every hidden layer after the first whose width equals its input's adds its
        input to its output (a skip connection).
    norm_momentum : float, default=0.1
        Batch normalization's running statistics follow r ← (1 - m) r + m (batch's).
    members : int, default=1
        K > 1: a weight-sharing ensemble (BatchEnsemble): every layer's W is shared,
        each member m has its own input and output scalings rₘ, sₘ and bias bₘ (the
        intercepts are K x units), and each output row is K rows of out (member-minor).
        Not with batch normalization or sparse X.
    n_frequencies, embedding_dim : int, default=0
        Periodic embeddings of the inputs when positive (k frequencies, d outputs):
        ``layer_units[0]`` is then the number F of features of X, each embedded as
        e = relu([sin(2π c x), cos(2π c x)] W + b) with its own c (k), W (2k x d) and
        b (d); the first layer takes the F d values of the embeddings.  Dense X only.

    The parameter buffer holds every coefficient matrix, every intercept, then (when
    normalized) each hidden layer's γ and β, then (ensembles) every layer's r, then
    every layer's s, then the embeddings' c, W and b (feature by feature each), then
    (batch normalization) each hidden layer's running mean and running variance, which
    no gradient touches.
    """
    cdef NetSpec spec

    def __cinit__(self, layer_units, hidden_activation, int loss, double alpha,
                  Py_ssize_t batch_capacity, int n_threads, dropout=None,
                  bint stages_input=True, loss_param=None, int normalization=NORM_NONE,
                  bint residual=False, double norm_momentum=0.1, Py_ssize_t n_frequencies=0,
                  Py_ssize_t embedding_dim=0, Py_ssize_t members=1):
        cdef Py_ssize_t L = len(layer_units) - 1, l, offset, c, F = 0, K = members, width, most
        cdef Py_ssize_t n_in, n_out
        cdef Py_ssize_t stacked = batch_capacity * members
        if L < 1 or len(hidden_activation) != L - 1:
            raise ValueError("layer_units needs L + 1 >= 2 sizes and L - 1 hidden activations")
        if any(int(u) < 1 for u in layer_units) or batch_capacity < 1:
            raise ValueError("layer sizes and the batch capacity must be positive")
        # every buffer size, in Python integers (no overflow), must be addressable
        units = [int(u) for u in layer_units]
        if (n_frequencies > 0) != (embedding_dim > 0) or n_frequencies < 0 or embedding_dim < 0:
            raise ValueError("embeddings need n_frequencies > 0 and embedding_dim > 0")
        if n_frequencies > 0:
            F = units[0]
            units[0] = F * embedding_dim        # the first layer's input: the embeddings
        if members < 1 or (members > 1 and normalization == NORM_BATCH):
            raise ValueError("members must be >= 1, and 1 with batch normalization")
        n_params = (sum(a * b + b for a, b in zip(units, units[1:])) + 4 * sum(units[1:L])
                    + F * n_frequencies * (1 + 2 * embedding_dim) + (units[0] if F else 0))
        n_params += (K - 1) * sum(units[1:]) + (2 * K * sum(units) if K > 1 else 0)
        workspace = batch_capacity * (units[0] * 3 + F * 4 * n_frequencies + F) + stacked * (
            13 * sum(units) + 1)
        if max(n_params, workspace, max(units) * batch_capacity) > MAX_ELEMENTS:
            raise ValueError(f"a network of layers {units} with batches of {batch_capacity} "
                             "rows needs more memory than can be addressed")
        if any(code not in ACTIVATION_CODES.values() for code in hidden_activation):
            raise ValueError("unknown hidden activation code")
        if loss not in LOSS_CODES.values():
            raise ValueError("unknown loss code")
        if loss == HUBER or loss == QUANTILE:
            if loss_param is None or len(loss_param) != units[L] or not all(
                    (0 < p < 1) if loss == QUANTILE else (0 < p < float("inf"))
                    for p in loss_param):
                raise ValueError("Huber needs one δ > 0 per output, quantile one q in (0, 1)")
        if normalization not in NORMALIZATION_CODES.values():
            raise ValueError("unknown normalization code")
        if not 0 < norm_momentum <= 1:
            raise ValueError("norm_momentum must be in (0, 1]")
        if dropout is None:
            dropout = [0.0] * (L - 1)
        if len(dropout) != L - 1 or any(not 0 <= p < 1 for p in dropout):
            raise ValueError("dropout needs L - 1 probabilities in [0, 1)")
        self.spec.n_layers = L
        self.spec.units = <Py_ssize_t*> malloc((L + 1) * sizeof(Py_ssize_t))
        self.spec.activation = <int*> malloc(L * sizeof(int))
        self.spec.keep = <double*> malloc(L * sizeof(double))
        self.spec.coef_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.intercept_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.a_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.delta_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.z_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.mask_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.unit_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.loss_param = <double*> malloc(units[L] * sizeof(double))
        self.spec.residual = <bint*> malloc(L * sizeof(bint))
        self.spec.scale_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.running_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.norm_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.dy_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.stat_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.branch_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.grad_a_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.ens_r_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.ens_s_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.scaled_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.raw_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.dp_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        self.spec.dscaled_offset = <Py_ssize_t*> malloc(L * sizeof(Py_ssize_t))
        if (self.spec.ens_r_offset == NULL or self.spec.ens_s_offset == NULL
                or self.spec.scaled_offset == NULL or self.spec.raw_offset == NULL
                or self.spec.dp_offset == NULL or self.spec.dscaled_offset == NULL):
            raise MemoryError()
        if (self.spec.residual == NULL or self.spec.scale_offset == NULL
                or self.spec.running_offset == NULL or self.spec.norm_offset == NULL
                or self.spec.dy_offset == NULL or self.spec.stat_offset == NULL
                or self.spec.branch_offset == NULL or self.spec.grad_a_offset == NULL):
            raise MemoryError()
        if (self.spec.loss_param == NULL or self.spec.units == NULL or self.spec.activation == NULL or self.spec.keep == NULL
                or self.spec.coef_offset == NULL or self.spec.intercept_offset == NULL
                or self.spec.a_offset == NULL or self.spec.delta_offset == NULL
                or self.spec.z_offset == NULL or self.spec.mask_offset == NULL
                or self.spec.unit_offset == NULL):
            raise MemoryError()
        self.spec.max_layer_units = 0
        for l in range(L + 1):
            self.spec.units[l] = units[l]
            if l > 0:
                self.spec.max_layer_units = max(self.spec.max_layer_units, self.spec.units[l])
        self.spec.embed_features = F
        self.spec.embed_freqs = n_frequencies
        self.spec.embed_dim = embedding_dim
        self.spec.n_inputs = F if F > 0 else units[0]
        if K > 1:
            # prediction's third block holds Ã of every layer, the input's included
            self.spec.max_layer_units = max(self.spec.max_layer_units, units[0])
        if F > 0:
            # prediction blocks also hold V and E
            self.spec.max_layer_units = max(self.spec.max_layer_units, units[0],
                                            2 * F * n_frequencies)
        self.spec.loss = loss
        for c in range(units[L]):
            self.spec.loss_param[c] = loss_param[c] if loss == HUBER or loss == QUANTILE else 0.0
        self.spec.n_hidden_units = 0
        for l in range(L):
            if l < L - 1:
                self.spec.activation[l] = hidden_activation[l]
                self.spec.keep[l] = 1.0 - dropout[l]
            else:
                self.spec.activation[l] = output_activation(loss)
                self.spec.keep[l] = 1.0
            self.spec.unit_offset[l] = self.spec.n_hidden_units
            if l < L - 1:
                self.spec.n_hidden_units += self.spec.units[l + 1]
        offset = 0
        for l in range(L):
            self.spec.coef_offset[l] = offset
            offset += self.spec.units[l] * self.spec.units[l + 1]
        self.spec.n_coefs = offset
        self.spec.members = K
        for l in range(L):
            self.spec.intercept_offset[l] = offset
            offset += K * self.spec.units[l + 1]        # one bias per member
        self.spec.normalization = normalization
        self.spec.norm_momentum = norm_momentum
        for l in range(L):
            self.spec.scale_offset[l] = -1
            self.spec.running_offset[l] = -1
            self.spec.residual[l] = residual and 0 < l < L - 1 and units[l + 1] == units[l]
        if normalization != NORM_NONE:
            for l in range(L - 1):
                self.spec.scale_offset[l] = offset
                offset += 2 * self.spec.units[l + 1]
        for l in range(L):
            self.spec.ens_r_offset[l] = self.spec.ens_s_offset[l] = -1
        if K > 1:
            for l in range(L):
                self.spec.ens_r_offset[l] = offset
                offset += K * self.spec.units[l]
            for l in range(L):
                self.spec.ens_s_offset[l] = offset
                offset += K * self.spec.units[l + 1]
        self.spec.embed_offset = offset
        offset += F * n_frequencies * (1 + 2 * embedding_dim) + F * embedding_dim
        self.spec.n_trainable = offset
        if normalization == NORM_BATCH:
            for l in range(L - 1):
                self.spec.running_offset[l] = offset
                offset += 2 * self.spec.units[l + 1]
        self.spec.n_params = offset
        # the training workspace: staged input rows (if any), then per layer A, δ, Z?, mask?
        self.spec.batch_capacity = batch_capacity
        self.spec.stages_input = stages_input
        self.spec.input_offset = 0
        offset = batch_capacity * self.spec.n_inputs if stages_input else 0
        self.spec.v_offset = self.spec.dv_offset = self.spec.e_offset = self.spec.de_offset = -1
        if F > 0:
            self.spec.v_offset = offset
            offset += batch_capacity * 2 * F * n_frequencies
            self.spec.dv_offset = offset
            offset += batch_capacity * 2 * F * n_frequencies
            self.spec.e_offset = offset
            offset += batch_capacity * units[0]
            self.spec.de_offset = offset
            offset += batch_capacity * units[0]
        # per layer (every row once per member): A, δ, Z?, mask?, then normalization's
        # Ẑ, ∂J/∂Y and 1/σ per row, a skip's branch and ∂J/∂A, an ensemble's Ã, P,
        # ∂J/∂P and ∂J/∂Ã
        for l in range(L):
            self.spec.a_offset[l] = offset
            offset += stacked * self.spec.units[l + 1]
            self.spec.delta_offset[l] = offset
            offset += stacked * self.spec.units[l + 1]
            self.spec.z_offset[l] = -1
            self.spec.mask_offset[l] = -1
            if l < L - 1 and needs_z(self.spec.activation[l]):
                self.spec.z_offset[l] = offset
                offset += stacked * self.spec.units[l + 1]
            if self.spec.keep[l] < 1:
                self.spec.mask_offset[l] = offset
                offset += stacked * self.spec.units[l + 1]
            self.spec.norm_offset[l] = self.spec.dy_offset[l] = self.spec.stat_offset[l] = -1
            self.spec.branch_offset[l] = self.spec.grad_a_offset[l] = -1
            if self.spec.scale_offset[l] >= 0:
                self.spec.norm_offset[l] = offset
                offset += stacked * self.spec.units[l + 1]
                self.spec.dy_offset[l] = offset
                offset += stacked * self.spec.units[l + 1]
                self.spec.stat_offset[l] = offset
                offset += stacked
            if self.spec.residual[l]:
                self.spec.branch_offset[l] = offset
                offset += stacked * self.spec.units[l + 1]
                self.spec.grad_a_offset[l] = offset
                offset += stacked * self.spec.units[l + 1]
            self.spec.scaled_offset[l] = self.spec.raw_offset[l] = -1
            self.spec.dp_offset[l] = self.spec.dscaled_offset[l] = -1
            if K > 1:
                self.spec.scaled_offset[l] = offset
                offset += stacked * self.spec.units[l]
                self.spec.raw_offset[l] = offset
                offset += stacked * self.spec.units[l + 1]
                self.spec.dp_offset[l] = offset
                offset += stacked * self.spec.units[l + 1]
                self.spec.dscaled_offset[l] = offset
                offset += stacked * self.spec.units[l]
        self.spec.first_by_member = K > 1 and F == 0
        self.spec.member_temp = offset
        most = task_width(units)
        n_in = self.spec.units[0]
        n_out = self.spec.units[1]
        # the first layer's largest task: a band of `width` rows, or `width` columns
        self.spec.member_temp_stride = (width * n_out if task_cut(n_in, n_out, most, &width)
                                        else n_in * width)
        if self.spec.first_by_member:
            offset += max(1, n_threads) * self.spec.member_temp_stride
        self.spec.train_workspace = offset
        self.spec.alpha = alpha
        self.spec.n_threads = max(1, n_threads)
        self.spec.max_row_chunks = (batch_capacity + ROW_CHUNK - 1) // ROW_CHUNK
        # weight-gradient tasks: per layer, blocks of columns or bands of rows (as many
        # either way), then (-1, feature) per embedding, then for ensembles (-2 - layer,
        # first input column) for the r's (counted with the widths the loop below cuts,
        # plus every layer's r-tasks: an upper bound, see first_by_member)
        self.spec.n_tasks = F
        for l in range(L):
            self.spec.n_tasks += n_chunks(self.spec.units[l + 1],
                                          even_chunk(self.spec.units[l + 1], most))
            if K > 1:
                self.spec.n_tasks += n_chunks(self.spec.units[l],
                                              even_chunk(self.spec.units[l], COLUMN_CHUNK))
        self.spec.task_layer = <int*> malloc(self.spec.n_tasks * sizeof(int))
        self.spec.task_start = <Py_ssize_t*> malloc(self.spec.n_tasks * sizeof(Py_ssize_t))
        self.spec.task_stop = <Py_ssize_t*> malloc(self.spec.n_tasks * sizeof(Py_ssize_t))
        self.spec.task_row_start = <Py_ssize_t*> malloc(self.spec.n_tasks * sizeof(Py_ssize_t))
        self.spec.task_row_stop = <Py_ssize_t*> malloc(self.spec.n_tasks * sizeof(Py_ssize_t))
        if (self.spec.task_layer == NULL or self.spec.task_start == NULL
                or self.spec.task_stop == NULL or self.spec.task_row_start == NULL
                or self.spec.task_row_stop == NULL):
            raise MemoryError()
        offset = 0
        for l in range(L):
            n_in = self.spec.units[l]
            n_out = self.spec.units[l + 1]
            if task_cut(n_in, n_out, most, &width):
                # bands of input rows, each with every column
                for c in range(0, n_in, width):
                    self.spec.task_layer[offset] = l
                    self.spec.task_start[offset] = 0
                    self.spec.task_stop[offset] = n_out
                    self.spec.task_row_start[offset] = c
                    self.spec.task_row_stop[offset] = min(c + width, n_in)
                    offset += 1
            else:
                for c in range(0, n_out, width):
                    self.spec.task_layer[offset] = l
                    self.spec.task_start[offset] = c
                    self.spec.task_stop[offset] = min(c + width, n_out)
                    self.spec.task_row_start[offset] = 0
                    self.spec.task_row_stop[offset] = n_in
                    offset += 1
            if l == 0:
                self.spec.first_tasks = offset
        for c in range(F):
            self.spec.task_layer[offset] = -1
            self.spec.task_start[offset] = c
            self.spec.task_stop[offset] = c + 1
            self.spec.task_row_start[offset] = self.spec.task_row_stop[offset] = 0
            offset += 1
        if K > 1:
            for l in range(1 if self.spec.first_by_member else 0, L):
                width = even_chunk(self.spec.units[l], COLUMN_CHUNK)
                for c in range(0, self.spec.units[l], width):
                    self.spec.task_layer[offset] = -2 - l
                    self.spec.task_start[offset] = c
                    self.spec.task_stop[offset] = min(c + width, self.spec.units[l])
                    self.spec.task_row_start[offset] = self.spec.task_row_stop[offset] = 0
                    offset += 1
        self.spec.n_tasks = offset
        self.spec.update_chunks = (self.spec.n_params + UPDATE_CHUNK - 1) // UPDATE_CHUNK
        # scratch: per row chunk the loss and weight sums, per task a gradient norm,
        # per update chunk a weight norm, batch normalization's sums, per layer a norm
        self.spec.norm_scratch = (2 * self.spec.max_row_chunks + self.spec.n_tasks
                                  + self.spec.update_chunks)
        self.spec.scratch_size = self.spec.norm_scratch + L
        if normalization == NORM_BATCH:
            # per row chunk: its weight, per-unit means and squared deviations (forward)
            # or sums (backward); per hidden unit the batch's mean and 1/σ, and the
            # two merged backward sums
            self.spec.scratch_size += (self.spec.max_row_chunks
                                       * (1 + 2 * self.spec.max_layer_units)
                                       + 4 * self.spec.n_hidden_units)
        # an ensemble's first-layer r sums, per task (the layer norms stay last)
        self.spec.member_scratch = self.spec.scratch_size - L
        if self.spec.first_by_member:
            self.spec.scratch_size += self.spec.first_tasks * K * units[0]

    def __dealloc__(self):
        free(self.spec.loss_param)
        free(self.spec.units)
        free(self.spec.activation)
        free(self.spec.keep)
        free(self.spec.coef_offset)
        free(self.spec.intercept_offset)
        free(self.spec.a_offset)
        free(self.spec.delta_offset)
        free(self.spec.z_offset)
        free(self.spec.mask_offset)
        free(self.spec.unit_offset)
        free(self.spec.task_layer)
        free(self.spec.task_start)
        free(self.spec.task_stop)
        free(self.spec.task_row_start)
        free(self.spec.task_row_stop)
        free(self.spec.residual)
        free(self.spec.scale_offset)
        free(self.spec.running_offset)
        free(self.spec.norm_offset)
        free(self.spec.dy_offset)
        free(self.spec.stat_offset)
        free(self.spec.branch_offset)
        free(self.spec.grad_a_offset)
        free(self.spec.ens_r_offset)
        free(self.spec.ens_s_offset)
        free(self.spec.scaled_offset)
        free(self.spec.raw_offset)
        free(self.spec.dp_offset)
        free(self.spec.dscaled_offset)

    @property
    def n_params(self):
        return self.spec.n_params

    @property
    def n_threads(self):
        return self.spec.n_threads

    @property
    def n_hidden_units(self):
        return self.spec.n_hidden_units

    @property
    def train_workspace_size(self):
        """Elements of the workspace `train_epoch` and `loss_gradient` need."""
        return self.spec.train_workspace

    def predict_workspace_size(self, Py_ssize_t chunk_rows):
        """Elements of the workspace `predict` needs for blocks of `chunk_rows` rows:
        per thread two blocks (three for an ensemble, each row once per member) as wide
        as the widest layer after the input (X itself is read in place)."""
        return predict_blocks(&self.spec) * self.spec.n_threads * chunk_rows * self.spec.max_layer_units

    @property
    def members(self):
        return self.spec.members

    def workspace_layout(self):
        """Per layer, where Aˡ, δˡ, Zˡ and the dropout mask start in the training
        workspace (row-major, batch_capacity x units; -1 when absent)."""
        cdef Py_ssize_t l
        return [dict(A=self.spec.a_offset[l], delta=self.spec.delta_offset[l],
                     Z=self.spec.z_offset[l], mask=self.spec.mask_offset[l],
                     units=self.spec.units[l + 1])
                for l in range(self.spec.n_layers)]


cdef unsigned long long GOLDEN_GAMMA = 0x9E3779B97F4A7C15ULL


cdef inline double uniform01(unsigned long long seed, unsigned long long index) noexcept nogil:
    # the index-th draw of a counter-based generator (SplitMix64's output function on
    # seed + (index + 1) γ): uniform in [0, 1), the same whichever thread asks
    cdef unsigned long long z = seed + (index + 1) * GOLDEN_GAMMA
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    z = z ^ (z >> 31)
    return (z >> 11) * (1.0 / 9007199254740992.0)


cdef void apply_dropout(const NetSpec* net, Py_ssize_t l, floating* A, floating* mask,
                        Py_ssize_t n_rows, unsigned long long seed,
                        unsigned long long first_position) noexcept nogil:
    # inverted dropout on a block of layer l's outputs: m = 1/keep with probability
    # keep, else 0; A ⊙= m.  Row r of the block is row `first_position + r` of the epoch.
    cdef Py_ssize_t r, j, n = net.units[l + 1]
    cdef double keep = net.keep[l]
    cdef floating scale = <floating> (1.0 / keep)
    cdef unsigned long long index
    for r in range(n_rows):
        index = (first_position + r) * net.n_hidden_units + net.unit_offset[l]
        for j in range(n):
            if uniform01(seed, index + j) < keep:
                mask[r * n + j] = scale
                A[r * n + j] = A[r * n + j] * scale
            else:
                mask[r * n + j] = 0
                A[r * n + j] = 0


cdef void track_unit_max(const floating* A, Py_ssize_t n_rows, Py_ssize_t n_units,
                         floating* unit_max) noexcept nogil:
    # unit_max[j] = max(unit_max[j], A[r, j] over these rows): a unit is dead for the
    # epoch when its maximum stays 0.  (A select, so that the loop vectorises.)
    cdef Py_ssize_t r, j
    cdef floating a
    for r in range(n_rows):
        for j in range(n_units):
            a = A[r * n_units + j]
            unit_max[j] = a if a > unit_max[j] else unit_max[j]


cdef double sum_of_squares(const floating* x, Py_ssize_t n_rows, Py_ssize_t n_cols,
                           Py_ssize_t stride) noexcept nogil:
    # Σ x² over a row-major block, in double, with four independent sums so that the
    # additions overlap (a plain reduction would wait on each add)
    cdef Py_ssize_t i, j
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0
    cdef const floating* row
    for i in range(n_rows):
        row = x + i * stride
        j = 0
        while j + 4 <= n_cols:
            s0 += <double> row[j] * row[j]
            s1 += <double> row[j + 1] * row[j + 1]
            s2 += <double> row[j + 2] * row[j + 2]
            s3 += <double> row[j + 3] * row[j + 3]
            j += 4
        while j < n_cols:
            s0 += <double> row[j] * row[j]
            j += 1
    return (s0 + s1) + (s2 + s3)


cdef double column_sums(floating* out, Py_ssize_t c0, Py_ssize_t c1, Py_ssize_t n_rows,
                        Py_ssize_t width, floating scale,
                        const floating* x, Py_ssize_t x_first, Py_ssize_t x_step,
                        const floating* y, Py_ssize_t y_first, Py_ssize_t y_step) noexcept nogil:
    # out[j] = scale Σᵣ x[x_first + r x_step, j] (times y[y_first + r y_step, j] when y
    # is not NULL), j in c0..c1, over n_rows rows of `width` values (row-major), summed
    # in row order; returns Σ out[j]² (a gradient's part of its layer's norm)
    cdef Py_ssize_t r, j
    cdef const floating* x_row
    cdef const floating* y_row
    for j in range(c0, c1):
        out[j] = 0
    for r in range(n_rows):
        x_row = x + (x_first + r * x_step) * width
        if y == NULL:
            for j in range(c0, c1):
                out[j] = out[j] + x_row[j]
        else:
            y_row = y + (y_first + r * y_step) * width
            for j in range(c0, c1):
                out[j] = out[j] + x_row[j] * y_row[j]
    for j in range(c0, c1):
        out[j] = out[j] * scale
    return sum_of_squares(out + c0, 1, c1 - c0, 0)


# The work of a batch is cut into fixed chunks, the same whatever the thread count:
# threads take them as they come free (dynamic scheduling), one thread runs them one
# after another.  A chunk's result does not depend on which thread ran it, and the
# chunks are a function of the batch and the network alone (even_chunk, task_width),
# so each BLAS call sees the same sub-matrices for any number of threads and the
# weights are bitwise identical.  A thread slowed by another process on its core
# takes fewer chunks.
cdef Py_ssize_t ROW_CHUNK = 128         # rows of the forward/backward pass
cdef Py_ssize_t COLUMN_CHUNK = 64       # output columns of a weight gradient
cdef Py_ssize_t SMALL_LAYER = 1 << 14   # multiply-adds per row: narrower tasks below
cdef Py_ssize_t UPDATE_CHUNK = 16384    # parameters of an optimizer step
cdef bint FUSE_STEP = True              # the step in the gradient tasks (see Step,
                                        # train_epoch)


def set_fused_step(bint on):
    """Let small networks take the optimizer step inside the gradient tasks (True, the
    default) or always in a pass of its own after them (the path clip_norm and larger
    buffers take).  The two give the same weights, bitwise; tests compare them.
    Returns the previous setting."""
    global FUSE_STEP
    previous = FUSE_STEP
    FUSE_STEP = on
    return previous


cdef inline int threads_for(Py_ssize_t work, Py_ssize_t parts, int n_threads) noexcept nogil:
    # threads worth starting for `work` multiply-adds split in at most `parts` pieces
    cdef Py_ssize_t t = work // MIN_WORK_PER_THREAD
    if t > n_threads:
        t = n_threads
    if t > parts:
        t = parts
    return <int> t if t > 1 else 1


cdef inline Py_ssize_t n_chunks(Py_ssize_t n, Py_ssize_t chunk) noexcept nogil:
    return (n + chunk - 1) // chunk


cdef inline Py_ssize_t even_chunk(Py_ssize_t n, Py_ssize_t most) noexcept nogil:
    # the size of the chunks that cut n into as few pieces of at most `most` as
    # possible, of nearly equal sizes (multiples of 8, the last one smaller): 200 rows
    # are 104 + 96, not 128 + 72, so that two threads finish together
    cdef Py_ssize_t size = n_chunks(n, n_chunks(n, most))
    size = (size + 7) // 8 * 8
    return size if size < most else most


def checked_units(units):
    """Layer sizes as a list of at least two positive ints, or a ValueError."""
    units = [int(u) for u in units]
    if len(units) < 2 or min(units) < 1:
        raise ValueError("layer sizes must be at least two positive integers")
    return units


def task_makespan(units, Py_ssize_t most, int n_threads):
    """Multiply-adds per row the busiest thread does when `n_threads` threads take the
    weight-gradient tasks of columns at most `most` wide in order, each the next one
    as it comes free (OpenMP's dynamic schedule)."""
    units = checked_units(units)
    if most < 1 or n_threads < 1:
        raise ValueError("most and n_threads must be at least 1")
    busy = [0] * n_threads
    for n_in, n_out in zip(units[:len(units) - 1], units[1:]):
        width = even_chunk(n_out, most)
        for c in range(0, n_out, width):
            busy[busy.index(min(busy))] += n_in * (min(c + width, n_out) - c)
    return max(busy)


def task_width(units):
    """COLUMN_CHUNK, or half of it when the tasks of a small network (every layer
    under SMALL_LAYER multiply-adds per row) are too few and uneven to share: when two
    threads would finish the narrower tasks at least 15 % sooner (100 -> 64 -> 64 -> 1:
    6400 against 5312; digits' 64 -> 100 -> 10 stays at 64: 3816 against 4096).  Two
    threads whatever the thread count: the chunks, and so the weights, must not depend
    on it."""
    units = checked_units(units)
    if any(a * b >= SMALL_LAYER for a, b in zip(units[:len(units) - 1], units[1:])):
        return COLUMN_CHUNK
    if task_makespan(units, COLUMN_CHUNK // 2, 2) <= 0.85 * task_makespan(
            units, COLUMN_CHUNK, 2):
        return COLUMN_CHUNK // 2
    return COLUMN_CHUNK


cdef inline bint split_rows(Py_ssize_t n_in, Py_ssize_t n_out, Py_ssize_t count) noexcept:
    # Cut a layer's weight gradient Aᵀδ into `count` bands of input rows (each with every
    # output column) rather than into `count` blocks of columns: each call packs its
    # band of A and all of δ, so the bands pack A once and δ `count` times, the column
    # blocks A `count` times and δ once.  Fewer bytes when the layer narrows (784 -> 256:
    # 4 x 256 + 784 against 4 x 784 + 256 per row).  Measured on two threads, old
    # build against new, interleaved: 20000 x 784 -> (256, 128) epochs 7 % shorter in
    # float32 and float64, 15000 x 100 -> (64, 64) 9 %; sparse input (20000 x 2000, 1 %
    # non-zero, -> 256) 30 %, each band zeroing and filling only its rows.  A band's
    # gradient is contiguous, so a step fused into its task runs over one stretch of
    # memory (stepping the bands of large networks there rather than in the separate
    # pass measured even, so they keep the pass).
    return count > 1 and n_in > n_out


cdef bint task_cut(Py_ssize_t n_in, Py_ssize_t n_out, Py_ssize_t most,
                   Py_ssize_t* size) noexcept:
    # How layer n_in -> n_out's weight-gradient tasks cut Wˡ, given task_width's `most`:
    # into bands of size[0] input rows (True) or into blocks of size[0] output columns
    # (False); as many tasks either way
    cdef Py_ssize_t width = even_chunk(n_out, most), count = n_chunks(n_out, width)
    if split_rows(n_in, n_out, count):
        size[0] = even_chunk(n_in, n_chunks(n_in, count))
        return True
    size[0] = width
    return False


def row_bands(units):
    """Per layer, True when its weight-gradient tasks are bands of input rows rather
    than blocks of output columns: the narrowing layers of more than one task."""
    cdef Py_ssize_t size
    units = checked_units(units)
    most = task_width(units)
    return [bool(task_cut(a, b, most, &size))
            for a, b in zip(units[:len(units) - 1], units[1:])]


cdef struct Batch:
    # Which rows of X a batch holds, and how X is stored.
    const Py_ssize_t* order      # visiting order of the rows (NULL: 0, 1, 2, ...)
    Py_ssize_t first             # position in the order of the batch's first row
    Py_ssize_t n_rows
    const Py_ssize_t* indices    # X in CSR: column indices and row pointers
    const Py_ssize_t* indptr     # (NULL: X is dense, row-major)


cdef inline Py_ssize_t source_row(const Batch* batch, Py_ssize_t r) noexcept nogil:
    # the row of X (and Y) that is row r of the batch
    return batch.order[batch.first + r] if batch.order != NULL else batch.first + r


cdef void csr_rows_times_dense(const floating* values, const Batch* batch,
                               Py_ssize_t r0, Py_ssize_t r1, const floating* W,
                               Py_ssize_t n_out, floating* out) noexcept nogil:
    # out[r - r0] = X[source_row(r)] W for r in r0..r1, X in CSR      # out: OUT
    cdef Py_ssize_t r, k, j, src
    cdef floating x
    cdef floating* o
    cdef const floating* w
    for r in range(r0, r1):
        src = source_row(batch, r)
        o = out + (r - r0) * n_out
        for j in range(n_out):
            o[j] = 0
        for k in range(batch.indptr[src], batch.indptr[src + 1]):
            x = values[k]
            w = W + batch.indices[k] * n_out
            for j in range(n_out):
                o[j] += x * w[j]


cdef void csr_transpose_times_dense(const floating* values, const Batch* batch,
                                    const floating* delta, Py_ssize_t i0, Py_ssize_t i1,
                                    Py_ssize_t n_out, Py_ssize_t c0, Py_ssize_t c1,
                                    floating scale, floating* grad) noexcept nogil:
    # grad[i0:i1, c0:c1] = scale · (X_batchᵀ δ)[i0:i1, c0:c1], X in CSR   # grad: OUT
    cdef Py_ssize_t i, r, k, j, src
    cdef floating x
    cdef floating* g
    cdef const floating* d
    for i in range(i0, i1):
        for j in range(c0, c1):
            grad[i * n_out + j] = 0
    for r in range(batch.n_rows):
        src = source_row(batch, r)
        d = delta + r * n_out
        for k in range(batch.indptr[src], batch.indptr[src + 1]):
            i = batch.indices[k]
            if i < i0 or i >= i1:
                continue
            x = scale * values[k]
            g = grad + i * n_out
            for j in range(c0, c1):
                g[j] += x * d[j]


cdef const floating* first_layer_input(const NetSpec* net, const floating* X,
                                       const Batch* batch, Py_ssize_t r0, Py_ssize_t r1,
                                       floating* ws) noexcept nogil:
    # Dense X: a pointer to rows r0..r1 of the batch, copied into the workspace when the
    # batch is not a run of consecutive rows.  (Sparse X is read in place.)
    cdef Py_ssize_t r, n_features = net.n_inputs
    cdef floating* staged
    if batch.order == NULL:
        return X + (batch.first + r0) * n_features
    staged = ws + net.input_offset
    for r in range(r0, r1):
        memcpy(staged + r * n_features, X + source_row(batch, r) * n_features,
               n_features * sizeof(floating))
    return staged + r0 * n_features


cdef struct Extras:
    # what training adds to a forward pass
    bint dropout                   # draw dropout masks (training); off for predictions
    unsigned long long seed        # the masks' seed
    bint track_units               # keep each relu unit's largest output (dead units)


cdef struct Step:
    # The optimizer step fused into the gradient tasks (see step_task): each task steps
    # the parameters whose gradient it has just written, while they are in cache.  Not
    # with clip_norm (its scale needs every gradient first).  Pointers to the model's
    # dtype (a struct cannot hold fused types).
    const OptimizerConfig* config
    void* params
    void* state_1                  # velocity, or Adam's m
    void* state_2                  # Adam's v (NULL for SGD)
    void* average                  # the parameters' moving average (NULL: off)
    double rate                    # this step's η_t f(s) (see optimizer_step)
    double keep                    # 1 - η_s λ (decoupled weight decay)
    double average_decay


cdef struct Sums:
    # Batch normalization's reductions across the row chunks of a batch: each chunk
    # writes its own part, the caller merges them in chunk order (so the result does not
    # depend on the thread count).  Pointers into the double scratch (see Network).
    double* chunk_weight     # per row chunk: Σ s of its rows
    double* part_a           # per row chunk x max_layer_units: its weighted mean of Zˡ
                             #   (forward) or Σ ∂J/∂Yˡ (backward)
    double* part_b           # the same: Σ s (z - its mean)² (forward) or Σ ∂J/∂Yˡ Ẑˡ
    double* mean             # per hidden unit: the batch's weighted mean of Zˡ
    double* inv_std          # per hidden unit: the batch's 1 / √(variance + ε)
    double* sum_a            # per hidden unit: the batch's Σ ∂J/∂Y (batch-normalized
    double* sum_b            # layers; merged in chunk order), and Σ ∂J/∂Y Ẑ; the
                             # weight tasks make ∂J/∂β and ∂J/∂γ of them
    double weight_sum        # Σ s over the batch
    double weight_scale      # 1 / the batch's largest weight: the moments' row weights
    double unbiased          # the variance's factor 1 / (1 - Σ s² / (Σ s)²) (n / (n - 1))


cdef inline bint normalized(const NetSpec* net, Py_ssize_t l) noexcept nogil:
    return net.scale_offset[l] >= 0


cdef inline bint batch_normalized(const NetSpec* net, Py_ssize_t l) noexcept nogil:
    return net.scale_offset[l] >= 0 and net.normalization == NORM_BATCH


cdef inline double row_weight(const floating* sample_weight, const Batch* batch,
                              Py_ssize_t r) noexcept nogil:
    return 1.0 if sample_weight == NULL else <double> sample_weight[source_row(batch, r)]


cdef inline floating* branch_rows(const NetSpec* net, floating* ws, Py_ssize_t l,
                                  Py_ssize_t r0) noexcept nogil:
    # training: rows r0.. of σ(Yˡ) after dropout: a skip layer's branch, else Aˡ itself
    return ws + (net.branch_offset[l] if net.residual[l] else net.a_offset[l]) + r0 * net.units[l + 1]


cdef void layer_affine(const NetSpec* net, Py_ssize_t l, const floating* X, const Batch* batch,
                       Py_ssize_t r0, Py_ssize_t r1, const floating* a_prev,
                       const floating* params, floating* out, floating* z,
                       floating* scaled, floating* raw) noexcept nogil:
    # out = Aˡ⁻¹ Wˡ + bˡ for rows r0..r1 of the batch (a_prev: their inputs; sparse X is
    # read through batch), then σ, unless the layer is normalized (σ then follows the
    # normalization, in normalize_activate).  z: OUT, Z for the σ' that need it (or NULL)
    # An ensemble of K members: each row is K rows of out (member m at K i + m), out =
    # ((a ∘ rₘ) Wˡ) ∘ sₘ + bₘ, with a_prev holding K rows per row (the first layer: one,
    # its input); Ã = a ∘ rₘ goes to `scaled` and Ã Wˡ to `raw` (OUT; raw may be out).
    cdef Py_ssize_t m = r1 - r0, n_in = net.units[l], n_out = net.units[l + 1], i, j, member
    cdef Py_ssize_t K = net.members
    cdef const floating* r
    cdef const floating* s
    cdef const floating* src
    cdef floating* dst
    cdef int act = IDENTITY if normalized(net, l) else net.activation[l]
    if K == 1:
        if l == 0 and batch.indptr != NULL:
            csr_rows_times_dense(X, batch, r0, r1, params + net.coef_offset[0], n_out, out)
        else:
            rows_times_matrix(False, <int> m, <int> n_out, <int> n_in, a_prev,
                              params + net.coef_offset[l], out)
        add_bias_activate(out, m, n_out, params + net.intercept_offset[l], act, z)
        return
    r = params + net.ens_r_offset[l]
    s = params + net.ens_s_offset[l]
    for i in range(m * K):
        member = i % K
        src = a_prev + (i // K if l == 0 else i) * n_in
        dst = scaled + i * n_in
        for j in range(n_in):
            dst[j] = src[j] * r[member * n_in + j]
    rows_times_matrix(False, <int> (m * K), <int> n_out, <int> n_in, scaled,
                      params + net.coef_offset[l], raw)
    for i in range(m * K):
        member = i % K
        for j in range(n_out):
            out[i * n_out + j] = raw[i * n_out + j] * s[member * n_out + j]
        add_bias_activate(out + i * n_out, 1, n_out,
                          params + net.intercept_offset[l] + member * n_out, act,
                          z + i * n_out if z != NULL else NULL)


cdef inline void row_moments(const floating* x, Py_ssize_t n, double* mean,
                             double* variance) noexcept nogil:
    # the mean and the (biased) variance of n values, in double, two passes; four
    # independent sums so that the additions overlap
    cdef Py_ssize_t j = 0
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0, mu, d0, d1, d2, d3
    while j + 4 <= n:
        s0 += x[j]
        s1 += x[j + 1]
        s2 += x[j + 2]
        s3 += x[j + 3]
        j += 4
    while j < n:
        s0 += x[j]
        j += 1
    mu = ((s0 + s1) + (s2 + s3)) / n
    s0 = s1 = s2 = s3 = 0
    j = 0
    while j + 4 <= n:
        d0 = x[j] - mu
        d1 = x[j + 1] - mu
        d2 = x[j + 2] - mu
        d3 = x[j + 3] - mu
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        j += 4
    while j < n:
        d0 = x[j] - mu
        s0 += d0 * d0
        j += 1
    mean[0] = mu
    variance[0] = ((s0 + s1) + (s2 + s3)) / n


cdef inline void row_projections(const floating* gamma, const floating* dy,
                                 const floating* zhat, Py_ssize_t n, double* mean_h,
                                 double* mean_hz) noexcept nogil:
    # with h = γ ⊙ dy: mean(h) and mean(h ⊙ Ẑ) over n values (two sums each, overlapped)
    cdef Py_ssize_t j = 0
    cdef double a0 = 0, a1 = 0, b0 = 0, b1 = 0, h0, h1
    while j + 2 <= n:
        h0 = <double> gamma[j] * dy[j]
        h1 = <double> gamma[j + 1] * dy[j + 1]
        a0 += h0
        a1 += h1
        b0 += h0 * zhat[j]
        b1 += h1 * zhat[j + 1]
        j += 2
    if j < n:
        h0 = <double> gamma[j] * dy[j]
        a0 += h0
        b0 += h0 * zhat[j]
    mean_h[0] = (a0 + a1) / n
    mean_hz[0] = (b0 + b1) / n


cdef void normalize_activate(const NetSpec* net, Py_ssize_t l, Py_ssize_t m,
                             const floating* params, floating* zhat, floating* h, floating* z,
                             const double* mean, const double* inv_std,
                             floating* row_inv_std) noexcept nogil:
    # A normalized layer, m rows: zhat (INOUT) holds Zˡ and becomes
    #   Ẑ = (Z - μ) / √(σ² + ε)
    # with μ, σ² per row over the units (layer normalization; 1/√(σ² + ε) of each row to
    # row_inv_std when not NULL), or per unit: the batch's (mean, inv_std given) or the
    # running ones in params (prediction).  Then h = σ(γ Ẑ + β) (OUT; may be zhat
    # itself), and z = γ Ẑ + β when σ' needs it.
    cdef Py_ssize_t i, j, n = net.units[l + 1]
    cdef const floating* gamma = params + net.scale_offset[l]
    cdef const floating* running
    cdef floating* row
    cdef floating* out
    cdef double mu, var, inv
    if net.normalization == NORM_LAYER:
        for i in range(m):
            row = zhat + i * n
            row_moments(row, n, &mu, &var)
            inv = 1.0 / sqrt(var + NORM_EPS)
            out = h + i * n
            for j in range(n):
                row[j] = <floating> ((row[j] - mu) * inv)
                out[j] = gamma[j] * row[j]
            if row_inv_std != NULL:
                row_inv_std[i] = <floating> inv
    elif mean != NULL:
        for i in range(m):
            row = zhat + i * n
            out = h + i * n
            for j in range(n):
                row[j] = <floating> ((row[j] - mean[j]) * inv_std[j])
                out[j] = gamma[j] * row[j]
    else:
        running = params + net.running_offset[l]       # mean, then variance
        for i in range(m):
            row = zhat + i * n
            out = h + i * n
            for j in range(n):
                row[j] = <floating> ((row[j] - running[j]) / sqrt(running[n + j] + NORM_EPS))
                out[j] = gamma[j] * row[j]
    add_bias_activate(h, m, n, gamma + n, net.activation[l], z)


cdef void embed_rows(const NetSpec* net, const floating* x, Py_ssize_t m,
                     const floating* params, floating* V, floating* E) noexcept nogil:
    # Periodic embeddings of m rows x (m x F): per feature i,
    #   V[r, i] = [sin(2π cᵢ x[r, i]), cos(2π cᵢ x[r, i])]  (2k values),
    #   E[r, i d:(i+1) d] = relu(V[r, i] Wᵢ + bᵢ).       V, E: OUT (row-major)
    cdef Py_ssize_t F = net.embed_features, k = net.embed_freqs, d = net.embed_dim
    cdef Py_ssize_t r, i, j, width = F * d
    cdef const floating* c = params + net.embed_offset
    cdef const floating* W = c + F * k
    cdef const floating* b = W + F * 2 * k * d
    cdef floating t, e
    cdef floating* v
    for r in range(m):
        for i in range(F):
            v = V + (r * F + i) * 2 * k
            for j in range(k):
                t = <floating> TWO_PI * c[i * k + j] * x[r * F + i]
                if floating is float:
                    v[j] = sinf(t)
                    v[k + j] = cosf(t)
                else:
                    v[j] = sin(t)
                    v[k + j] = cos(t)
    for i in range(F):
        gemm(c'N', c'N', <int> m, <int> d, <int> (2 * k), <floating> 1.0,
             V + i * 2 * k, <int> (F * 2 * k), W + i * 2 * k * d, <int> d,
             <floating> 0.0, E + i * d, <int> width)
    for r in range(m):
        for j in range(width):
            e = E[r * width + j] + b[j]
            E[r * width + j] = 0 if e <= 0 else e     # NaN passes, as in np.maximum


cdef void input_backward(const NetSpec* net, Py_ssize_t r0, Py_ssize_t r1,
                         const floating* params, floating* ws) noexcept nogil:
    # Rows r0..r1 of the batch: the gradient with respect to the first layer's input,
    # when something learns from it.  An ensemble: ∂J/∂Ã⁰ = ∂J/∂P⁰ W⁰ᵀ (K rows per row,
    # for the r's).  Embeddings: ∂J/∂E = δ⁰ W⁰ᵀ (an ensemble's: Σₘ ∂J/∂Ã⁰ₘ ∘ rₘ),
    # through the relu: ∂J/∂(V W + b) (to de), and ∂J/∂V = ∂J/∂(V W + b) Wᵢᵀ per
    # feature (to dv).
    cdef Py_ssize_t F = net.embed_features, k = net.embed_freqs, d = net.embed_dim
    cdef Py_ssize_t K = net.members, m = r1 - r0, i, j, member, width = net.units[0]
    cdef floating* de = ws + net.de_offset + r0 * width
    cdef const floating* W = params + net.embed_offset + F * k
    cdef const floating* r
    cdef floating* dscaled
    if K > 1:
        dscaled = ws + net.dscaled_offset[0] + r0 * K * width
        rows_times_matrix(True, <int> (m * K), <int> width, <int> net.units[1],
                          ws + net.dp_offset[0] + r0 * K * net.units[1],
                          params + net.coef_offset[0], dscaled)
        if F == 0:
            return
        r = params + net.ens_r_offset[0]
        for i in range(m):
            for j in range(width):
                de[i * width + j] = 0
            for member in range(K):
                for j in range(width):
                    de[i * width + j] = (de[i * width + j] + dscaled[(i * K + member) * width + j]
                                         * r[member * width + j])
    else:
        rows_times_matrix(True, <int> m, <int> width, <int> net.units[1],
                          ws + net.delta_offset[0] + r0 * net.units[1],
                          params + net.coef_offset[0], de)
    multiply_derivative(de, ws + net.e_offset + r0 * width, <floating*> NULL, m * width, RELU)
    for i in range(F):
        gemm(c'N', c'T', <int> m, <int> (2 * k), <int> d, <floating> 1.0,
             de + i * d, <int> width, W + i * 2 * k * d, <int> d,
             <floating> 0.0, ws + net.dv_offset + r0 * 2 * F * k + i * 2 * k, <int> (2 * F * k))


cdef double embed_gradient(const NetSpec* net, const floating* X, const Batch* batch,
                           Py_ssize_t i, const floating* params, floating* grads,
                           const floating* ws, double weight_sum) noexcept nogil:
    # feature i's embedding, over the batch's rows (÷ Σs):
    #   ∂J/∂Wᵢ = Vᵢᵀ ∂J/∂(Vᵢ Wᵢ + bᵢ),  ∂J/∂bᵢ = Σᵣ ∂J/∂(Vᵢ Wᵢ + bᵢ),
    #   ∂J/∂cᵢⱼ = Σᵣ 2π x (cos(2π cᵢⱼ x) ∂J/∂V[sin j] - sin(2π cᵢⱼ x) ∂J/∂V[cos j])
    # grads: OUT (feature i's part).  Returns their squared norm.
    cdef Py_ssize_t F = net.embed_features, k = net.embed_freqs, d = net.embed_dim
    cdef Py_ssize_t n_rows = batch.n_rows, r, j, width = net.units[0]
    cdef floating inv_scale = <floating> (1.0 / (net.members * weight_sum))  # members' mean
    cdef floating* grad_c = grads + net.embed_offset + i * k
    cdef floating* grad_W = grads + net.embed_offset + F * k + i * 2 * k * d
    cdef floating* grad_b = grads + net.embed_offset + F * k + F * 2 * k * d + i * d
    cdef const floating* de = ws + net.de_offset + i * d
    cdef const floating* v
    cdef const floating* dv
    cdef const floating* x
    cdef floating xv
    cdef double squares_b
    gemm(c'T', c'N', <int> (2 * k), <int> d, <int> n_rows, inv_scale,
         ws + net.v_offset + i * 2 * k, <int> (2 * F * k), de, <int> width,
         <floating> 0.0, grad_W, <int> d)
    squares_b = column_sums(grad_b, 0, d, n_rows, width, inv_scale, de, 0, 1, NULL, 0, 0)
    for j in range(k):
        grad_c[j] = 0
    for r in range(n_rows):
        if batch.order == NULL:
            x = X + (batch.first + r) * F
        else:
            x = ws + net.input_offset + r * F         # the rows staged by the forward pass
        xv = <floating> TWO_PI * x[i]
        v = ws + net.v_offset + (r * F + i) * 2 * k
        dv = ws + net.dv_offset + (r * F + i) * 2 * k
        for j in range(k):
            grad_c[j] = grad_c[j] + xv * (v[k + j] * dv[j] - v[j] * dv[k + j])
    for j in range(k):
        grad_c[j] = grad_c[j] * inv_scale
    return sum_of_squares(grad_W, 1, 2 * k * d, 0) + squares_b + sum_of_squares(grad_c, 1, k, 0)


cdef inline Py_ssize_t predict_blocks(const NetSpec* net) noexcept nogil:
    # a prediction thread's scratch, in blocks of (its rows) x max_layer_units:
    # ping and pong, and for an ensemble a third (Ã), each row once per member
    return 3 * net.members if net.members > 1 else 2


cdef void predict_forward(const NetSpec* net, const floating* X, const Batch* batch,
                          Py_ssize_t r0, Py_ssize_t r1, const floating* params,
                          floating* ping, floating* pong, floating* third,
                          floating* out) noexcept nogil:
    # The forward pass of prediction for rows r0..r1: the hidden layers alternate
    # between ping and pong ((r1 - r0) K x max_layer_units each; third as big, for an
    # ensemble's Ã), Aᴸ goes to rows r0 K..r1 K of out (OUT; K rows per row, one per
    # member).  Batch normalization uses the running statistics.
    cdef Py_ssize_t m = (r1 - r0) * net.members, L = net.n_layers, l, i, n_out
    cdef const floating* a_prev = NULL
    cdef floating* a
    if net.embed_features > 0:
        # V in ping, E in pong: layer 0 reads pong and writes ping
        embed_rows(net, first_layer_input(net, X, batch, r0, r1, NULL), r1 - r0, params, ping,
                   pong)
        a_prev = pong
    elif batch.indptr == NULL:
        a_prev = first_layer_input(net, X, batch, r0, r1, NULL)
    for l in range(L):
        n_out = net.units[l + 1]
        a = out + r0 * net.members * n_out if l == L - 1 else (ping if l % 2 == 0 else pong)
        layer_affine(net, l, X, batch, r0, r1, a_prev, params, a, NULL, third, a)
        if normalized(net, l):
            normalize_activate(net, l, m, params, a, a, NULL, NULL, NULL, NULL)
        if net.residual[l]:
            for i in range(m * n_out):
                a[i] = a_prev[i] + a[i]
        a_prev = a


cdef void chunk_moments(const NetSpec* net, Py_ssize_t l, const floating* Z,
                        const floating* sample_weight, const Batch* batch, Py_ssize_t c,
                        Py_ssize_t r0, Py_ssize_t r1, Sums* sums) noexcept nogil:
    # row chunk c's weight, weighted mean of Zˡ per unit and Σ s (z - mean)² (two passes
    # over the chunk, in cache), for merge_moments
    cdef Py_ssize_t i, j, n = net.units[l + 1]
    cdef double* mean = sums.part_a + c * net.max_layer_units
    cdef double* m2 = sums.part_b + c * net.max_layer_units
    cdef double w, total = 0, d
    for j in range(n):
        mean[j] = 0
        m2[j] = 0
    for i in range(r1 - r0):
        w = row_weight(sample_weight, batch, r0 + i) * sums.weight_scale
        total += w
        for j in range(n):
            mean[j] += w * Z[i * n + j]
    sums.chunk_weight[c] = total
    if total <= 0:
        return
    for j in range(n):
        mean[j] /= total
    for i in range(r1 - r0):
        w = row_weight(sample_weight, batch, r0 + i) * sums.weight_scale
        for j in range(n):
            d = Z[i * n + j] - mean[j]
            m2[j] += w * d * d


cdef void merge_moments(const NetSpec* net, Py_ssize_t l, Py_ssize_t row_chunks, Sums* sums,
                        floating* params, double momentum) noexcept nogil:
    # The batch's mean and 1/√(σ² + ε) of layer l's units from the chunks' parts (Chan's
    # pairwise update, in chunk order), σ² the weighted biased variance.  With params
    # (not NULL), the running statistics follow:  r ← (1 - m) r + m (batch's), the
    # variance with the unbiased factor W² / (W² - Σ s²) (n / (n - 1) for unit weights).
    cdef Py_ssize_t c, j, n = net.units[l + 1]
    cdef double* mean = sums.mean + net.unit_offset[l]
    cdef double* inv_std = sums.inv_std + net.unit_offset[l]
    cdef double* m2 = sums.sum_b + net.unit_offset[l]      # (a temporary here)
    cdef double total = 0, w, f, d, var, unbiased
    cdef floating* running
    for j in range(n):
        mean[j] = 0
        m2[j] = 0
    for c in range(row_chunks):
        w = sums.chunk_weight[c]
        if w <= 0:
            continue
        f = w / (total + w)
        for j in range(n):
            d = sums.part_a[c * net.max_layer_units + j] - mean[j]
            mean[j] += d * f
            m2[j] += sums.part_b[c * net.max_layer_units + j] + d * d * total * f
        total += w
    unbiased = sums.unbiased
    if params != NULL:
        running = params + net.running_offset[l]
    for j in range(n):
        var = m2[j] / total
        inv_std[j] = 1.0 / sqrt(var + NORM_EPS)
        if params != NULL:
            running[j] = <floating> ((1 - momentum) * running[j] + momentum * mean[j])
            running[n + j] = <floating> ((1 - momentum) * running[n + j]
                                         + momentum * var * unbiased)


cdef void layer_finish(const NetSpec* net, Py_ssize_t l, const floating* X, const floating* Y,
                       const floating* sample_weight, const Batch* batch,
                       Py_ssize_t r0, Py_ssize_t r1, const floating* params, floating* ws,
                       const Extras* extras, floating* unit_max, Sums* sums,
                       double* loss) noexcept nogil:
    # Training, rows r0..r1 of layer l after its affine map (stacked rows: an
    # ensemble's row i of the batch is rows K i .. K i + K - 1): the normalization and
    # σ, dead-unit tracking, dropout and the skip for hidden layers; the output error
    # δᴸ = s (Aᴸ - Y) and Σ sᵢ ℓᵢ (added to loss) for the output layer.
    cdef Py_ssize_t m = r1 - r0, n = net.units[l + 1], i, L = net.n_layers
    cdef floating* h = branch_rows(net, ws, l, r0)
    cdef floating* a
    cdef const floating* a_prev
    if l == L - 1:
        loss[0] += output_loss_delta(ws + net.a_offset[l] + r0 * n,
                                     ws + net.delta_offset[l] + r0 * n,
                                     Y, n, batch.order, batch.first + r0 // net.members,
                                     sample_weight, m, n, net.loss, net.loss_param,
                                     net.members)
        if net.members > 1:
            scale_by_member(net, l, r0, r1, params, ws)
        return
    if normalized(net, l):
        normalize_activate(net, l, m, params, ws + net.norm_offset[l] + r0 * n, h,
                           ws + net.z_offset[l] + r0 * n if net.z_offset[l] >= 0 else NULL,
                           sums.mean + net.unit_offset[l] if net.normalization == NORM_BATCH else NULL,
                           sums.inv_std + net.unit_offset[l] if net.normalization == NORM_BATCH else NULL,
                           ws + net.stat_offset[l] + r0)
    if extras.track_units and (net.activation[l] == RELU or net.activation[l] == LEAKY_RELU):
        track_unit_max(h, m, n, unit_max + net.unit_offset[l])
    if extras.dropout and net.keep[l] < 1:
        apply_dropout(net, l, h, ws + net.mask_offset[l] + r0 * n, m, extras.seed,
                      batch.first * net.members + r0)
    if net.residual[l]:
        a = ws + net.a_offset[l] + r0 * n
        a_prev = ws + net.a_offset[l - 1] + r0 * n
        for i in range(m * n):
            a[i] = a_prev[i] + h[i]


cdef void forward_piece(const NetSpec* net, Py_ssize_t l, bint affine, const floating* X,
                        const floating* Y, const floating* sample_weight, const Batch* batch,
                        Py_ssize_t c, Py_ssize_t r0, Py_ssize_t r1, const floating* params,
                        floating* ws, const Extras* extras, floating* unit_max, Sums* sums,
                        double* loss) noexcept nogil:
    # Training, row chunk c (rows r0..r1 of the batch): layer l's affine map (affine)
    # or its finish.  A batch-normalized layer's affine map ends with the chunk's
    # moments (the finish waits for the whole batch's); every other layer finishes in
    # the same piece.  An ensemble's layers work on K rows per row (q0..q1).
    cdef Py_ssize_t n = net.units[l + 1], K = net.members, q0 = r0 * K, q1 = r1 * K
    cdef const floating* a_prev = NULL
    cdef floating* target
    if affine:
        if l > 0:
            a_prev = ws + net.a_offset[l - 1] + q0 * net.units[l]
        elif net.embed_features > 0:
            embed_rows(net, first_layer_input(net, X, batch, r0, r1, ws), r1 - r0, params,
                       ws + net.v_offset + r0 * 2 * net.embed_features * net.embed_freqs,
                       ws + net.e_offset + r0 * net.units[0])
            a_prev = ws + net.e_offset + r0 * net.units[0]
        elif batch.indptr == NULL:
            a_prev = first_layer_input(net, X, batch, r0, r1, ws)
        target = (ws + net.norm_offset[l] + q0 * n if normalized(net, l)
                  else branch_rows(net, ws, l, q0))
        layer_affine(net, l, X, batch, r0, r1, a_prev, params, target,
                     ws + net.z_offset[l] + q0 * n
                     if net.z_offset[l] >= 0 and not normalized(net, l) else NULL,
                     ws + net.scaled_offset[l] + q0 * net.units[l] if K > 1 else NULL,
                     ws + net.raw_offset[l] + q0 * n if K > 1 else NULL)
        if batch_normalized(net, l):
            chunk_moments(net, l, target, sample_weight, batch, c, r0, r1, sums)
            return
    elif not batch_normalized(net, l):
        return          # finished with its affine map
    layer_finish(net, l, X, Y, sample_weight, batch, q0, q1, params, ws, extras, unit_max,
                 sums, loss)


cdef void scale_by_member(const NetSpec* net, Py_ssize_t l, Py_ssize_t q0, Py_ssize_t q1,
                          const floating* params, floating* ws) noexcept nogil:
    # an ensemble's ∂J/∂Pˡ = δˡ ∘ sₘ for rows q0..q1 (member m = q mod K)
    cdef Py_ssize_t i, j, n = net.units[l + 1], K = net.members
    cdef const floating* s = params + net.ens_s_offset[l]
    cdef const floating* delta = ws + net.delta_offset[l] + q0 * n
    cdef floating* dp = ws + net.dp_offset[l] + q0 * n
    for i in range(q1 - q0):
        for j in range(n):
            dp[i * n + j] = delta[i * n + j] * s[(i % K) * n + j]


cdef void backward_piece(const NetSpec* net, Py_ssize_t l, bint first, const floating* sample_weight,
                         const Batch* batch, Py_ssize_t c, Py_ssize_t r0, Py_ssize_t r1,
                         const floating* params, floating* ws, const Extras* extras,
                         Sums* sums) noexcept nogil:
    # Training, row chunk c (rows r0..r1 of the batch), hidden layer l (first: the
    # first half):
    #   ∂J/∂Aˡ = δˡ⁺¹ Wˡ⁺¹ᵀ (an ensemble's: (∂J/∂Pˡ⁺¹ Wˡ⁺¹ᵀ) ∘ rₘ, ∂J/∂Ãˡ⁺¹ kept)
    #   (+ ∂J/∂Aˡ⁺¹ through layer l+1's skip), kept when layer l has a skip;
    #   ∂J/∂Yˡ = ∂J/∂Aˡ ⊙ m ⊙ σ'(Yˡ) (m the dropout mask);
    #   normalized layers: δˡ = ∂J/∂Zˡ through the normalization (batch normalization
    #   in the second half, after the chunks' sums are merged); else δˡ = ∂J/∂Yˡ;
    #   an ensemble's ∂J/∂Pˡ = δˡ ∘ sₘ.
    # δ, ∂J/∂Y and ∂J/∂A live in the rows' blocks of δˡ, dy and grad_a (ws: INOUT).
    cdef Py_ssize_t K = net.members, q0 = r0 * K, q1 = r1 * K, m = q1 - q0
    cdef Py_ssize_t n = net.units[l + 1], n_next = net.units[l + 2], i, j
    cdef floating* g = ws + net.delta_offset[l] + q0 * n
    cdef floating* dy
    cdef floating* dscaled
    cdef const floating* zhat
    cdef const floating* gamma
    cdef const floating* skip
    cdef const floating* z_in
    cdef const floating* r_next
    cdef floating* inv_row
    cdef double* part_a
    cdef double* part_b
    cdef double h, mean_h, mean_hz, w
    if first:
        if K == 1:
            rows_times_matrix(True, <int> m, <int> n, <int> n_next,
                              ws + net.delta_offset[l + 1] + q0 * n_next,
                              params + net.coef_offset[l + 1], g)
        else:
            dscaled = ws + net.dscaled_offset[l + 1] + q0 * n
            rows_times_matrix(True, <int> m, <int> n, <int> n_next,
                              ws + net.dp_offset[l + 1] + q0 * n_next,
                              params + net.coef_offset[l + 1], dscaled)
            r_next = params + net.ens_r_offset[l + 1]
            for i in range(m):
                for j in range(n):
                    g[i * n + j] = dscaled[i * n + j] * r_next[(i % K) * n + j]
        if net.residual[l + 1]:
            skip = ws + net.grad_a_offset[l + 1] + q0 * n
            for i in range(m * n):
                g[i] = g[i] + skip[i]
        if net.residual[l]:
            memcpy(ws + net.grad_a_offset[l] + q0 * n, g, m * n * sizeof(floating))
        z_in = ws + net.z_offset[l] + q0 * n if net.z_offset[l] >= 0 else NULL
        if extras.dropout and net.keep[l] < 1:
            multiply_dropout_derivative(g, branch_rows(net, ws, l, q0), z_in,
                                        ws + net.mask_offset[l] + q0 * n, net.keep[l], m * n,
                                        net.activation[l])
        else:
            multiply_derivative(g, branch_rows(net, ws, l, q0), z_in, m * n, net.activation[l])
        if not normalized(net, l):
            if K > 1:
                scale_by_member(net, l, q0, q1, params, ws)
            return
        dy = ws + net.dy_offset[l] + q0 * n
        memcpy(dy, g, m * n * sizeof(floating))
        zhat = ws + net.norm_offset[l] + q0 * n
        if net.normalization == NORM_BATCH:
            part_a = sums.part_a + c * net.max_layer_units
            part_b = sums.part_b + c * net.max_layer_units
            for j in range(n):
                part_a[j] = 0
                part_b[j] = 0
            for i in range(m):
                for j in range(n):
                    part_a[j] += dy[i * n + j]
                    part_b[j] += <double> dy[i * n + j] * zhat[i * n + j]
            return
    elif not batch_normalized(net, l):
        return
    dy = ws + net.dy_offset[l] + q0 * n
    zhat = ws + net.norm_offset[l] + q0 * n
    gamma = params + net.scale_offset[l]
    if net.normalization == NORM_LAYER:
        # δ = (1/σ) (h - mean(h) - Ẑ mean(h Ẑ)), h = γ ∂J/∂Y, means over the row's units
        inv_row = ws + net.stat_offset[l] + q0
        for i in range(m):
            row_projections(gamma, dy + i * n, zhat + i * n, n, &mean_h, &mean_hz)
            for j in range(n):
                g[i * n + j] = <floating> (inv_row[i] * (gamma[j] * dy[i * n + j] - mean_h
                                                         - zhat[i * n + j] * mean_hz))
        if K > 1:
            scale_by_member(net, l, q0, q1, params, ws)
    else:
        # δᵢ = (1/σ) (hᵢ - (sᵢ/W) Σₖ hₖ - Ẑᵢ (sᵢ/W) Σₖ hₖ Ẑₖ), sums over the batch's rows
        # (never an ensemble: its rows are the batch's)
        for i in range(m):
            w = row_weight(sample_weight, batch, r0 + i) / sums.weight_sum
            for j in range(n):
                g[i * n + j] = <floating> (sums.inv_std[net.unit_offset[l] + j] * gamma[j] * (
                    dy[i * n + j] - w * sums.sum_a[net.unit_offset[l] + j]
                    - zhat[i * n + j] * w * sums.sum_b[net.unit_offset[l] + j]))


cdef inline double penalty_term(const NetSpec* net, double coef_squares,
                                double weight_sum) noexcept nogil:
    # the L2 term of J: α ‖W‖² / (2 Σs)
    return 0.5 * net.alpha * coef_squares / weight_sum


cdef const floating* layer_input(const NetSpec* net, const floating* X, const Batch* batch,
                                 Py_ssize_t l, const floating* ws) noexcept nogil:
    # the batch's rows of layer l's input, as the forward pass left them (dense X):
    # Aˡ⁻¹, the embeddings, the staged rows of X or X's own
    if l > 0:
        return ws + net.a_offset[l - 1]
    if net.embed_features > 0:
        return ws + net.e_offset
    if batch.order != NULL:
        return ws + net.input_offset          # the rows staged by the forward pass
    return X + batch.first * net.n_inputs


cdef void first_layer_by_member(const NetSpec* net, const floating* X, const Batch* batch,
                                Py_ssize_t i0, Py_ssize_t i1, Py_ssize_t c0, Py_ssize_t c1,
                                const floating* params, floating* grads, const floating* ws,
                                floating inv_scale, floating* temp,
                                double* r_sums) noexcept nogil:
    # An ensemble's first layer, input rows i0..i1 and output columns c0..c1 of W⁰
    # (a band of rows with every column, or a block of columns with every row), without
    # ∂J/∂Ã⁰ (a product as large as the layer's forward pass): per member m,
    # Gₘ = Xᵀ ∂J/∂Pₘ / (K Σs) (its rows of ∂J/∂P are every K-th: a leading dimension), then
    #   ∂J/∂W⁰[i, j] = Σₘ rₘ[i] Gₘ[i, j],   r_sums[m, i] = Σ_{j in c0..c1} W⁰[i, j] Gₘ[i, j]
    # (the task's part of ∂J/∂rₘ[i], merged over the tasks in their order; 0 for the
    # rows outside a band).  temp: this thread's, (i1 - i0) x (c1 - c0).
    cdef Py_ssize_t K = net.members, n_in = net.units[0], n_out = net.units[1], width = c1 - c0
    cdef Py_ssize_t i, j, member
    cdef const floating* W = params + net.coef_offset[0]
    cdef const floating* r
    cdef const floating* g
    cdef floating* coef_grad = grads + net.coef_offset[0]
    cdef double total
    for member in range(K):
        gemm(c'T', c'N', <int> (i1 - i0), <int> width, <int> batch.n_rows, inv_scale,
             layer_input(net, X, batch, 0, ws) + i0, <int> n_in,
             ws + net.dp_offset[0] + member * n_out + c0, <int> (K * n_out),
             <floating> 0.0, temp, <int> width)
        r = params + net.ens_r_offset[0] + member * n_in
        for i in range(n_in):
            if i < i0 or i >= i1:
                r_sums[member * n_in + i] = 0
                continue
            g = temp + (i - i0) * width
            total = 0
            for j in range(width):
                total += <double> W[i * n_out + c0 + j] * g[j]
            r_sums[member * n_in + i] = total
            if member == 0:
                for j in range(width):
                    coef_grad[i * n_out + c0 + j] = r[i] * g[j]
            else:
                for j in range(width):
                    coef_grad[i * n_out + c0 + j] = coef_grad[i * n_out + c0 + j] + r[i] * g[j]


cdef double weight_gradient_block(const NetSpec* net, const floating* X, const Batch* batch,
                                  Py_ssize_t l, Py_ssize_t i0, Py_ssize_t i1,
                                  Py_ssize_t c0, Py_ssize_t c1,
                                  const floating* params, floating* grads,
                                  const floating* ws, double weight_sum, floating* temp,
                                  double* r_sums, const double* bn_sums) noexcept nogil:
    # Input rows i0..i1 and output columns c0..c1 of layer l's weights, and, when the
    # block starts at the first row (i0 = 0), columns c0..c1 of the per-column
    # parameters (bias, γ, β, an ensemble's s):
    #   ∂J/∂Wˡ[:, j] = (Aˡ⁻¹ᵀ δˡ[:, j]) / Σs + (α / Σs) Wˡ[:, j],   ∂J/∂bˡ[j] = Σᵣ δˡ[r, j] / Σs
    # (the penalty's derivative: of penalty_term).  An ensemble's K rows per row give
    #   ∂J/∂Wˡ = Ãᵀ ∂J/∂P / (K Σs) + (α / Σs) W,  ∂J/∂bₘ = Σ_{rows of m} δ / (K Σs),
    #   ∂J/∂sₘ = Σ_{rows of m} δ ∘ P / (K Σs)
    # (J averages the members' losses).  bn_sums (batch normalization; else NULL): the
    # batch's merged Σ ∂J/∂Y and Σ ∂J/∂Y Ẑ per hidden unit (Sums.sum_a, sum_b after it).
    # grads: OUT (these columns only).  Returns Σ of these columns' squared gradients.
    cdef Py_ssize_t K = net.members, n_rows = batch.n_rows * K, i, j, r, member
    cdef Py_ssize_t n_in = net.units[l], n_out = net.units[l + 1]
    cdef const floating* delta = ws + net.delta_offset[l]
    cdef const floating* a
    cdef const floating* coef = params + net.coef_offset[l]
    cdef floating* coef_grad = grads + net.coef_offset[l]
    cdef floating inv_scale = <floating> (1.0 / (K * weight_sum))
    cdef floating penalty = <floating> (net.alpha / weight_sum)
    cdef const floating* dy
    cdef const floating* zhat
    cdef floating* scale_grad
    cdef floating* shift_grad
    cdef double squares = 0
    if c1 <= c0 or i1 <= i0:
        return 0
    if l == 0 and batch.indptr != NULL:
        csr_transpose_times_dense(X, batch, delta, i0, i1, n_out, c0, c1, inv_scale,
                                  coef_grad)
    elif l == 0 and net.first_by_member:
        first_layer_by_member(net, X, batch, i0, i1, c0, c1, params, grads, ws, inv_scale,
                              temp, r_sums)
    else:
        # the 1/Σs scaling rides on gemm's alpha: no extra pass when α = 0
        a = ws + net.scaled_offset[l] if K > 1 else layer_input(net, X, batch, l, ws)
        gemm(c'T', c'N', <int> (i1 - i0), <int> (c1 - c0), <int> n_rows, inv_scale,
             a + i0, <int> n_in, (ws + net.dp_offset[l] if K > 1 else delta) + c0,
             <int> n_out, <floating> 0.0, coef_grad + i0 * n_out + c0, <int> n_out)
    if net.alpha > 0:
        for i in range(i0, i1):
            for j in range(c0, c1):
                coef_grad[i * n_out + j] += penalty * coef[i * n_out + j]
    squares = sum_of_squares(coef_grad + i0 * n_out + c0, i1 - i0, c1 - c0, n_out)
    if i0 > 0:
        return squares          # the band's weights only: the first band has the rest
    for member in range(K):
        # member m's rows are m, m + K, ... (every row when K = 1)
        squares += column_sums(grads + net.intercept_offset[l] + member * n_out, c0, c1,
                               batch.n_rows, n_out, inv_scale, delta, member, K, NULL, 0, 0)
        if K > 1:
            squares += column_sums(grads + net.ens_s_offset[l] + member * n_out, c0, c1,
                                   batch.n_rows, n_out, inv_scale, delta, member, K,
                                   ws + net.raw_offset[l], member, K)
    if normalized(net, l):
        # ∂J/∂γ[j] = Σᵣ ∂J/∂Y[r, j] Ẑ[r, j] / Σs,  ∂J/∂β[j] = Σᵣ ∂J/∂Y[r, j] / Σs
        scale_grad = grads + net.scale_offset[l]
        shift_grad = scale_grad + n_out
        if bn_sums != NULL:
            # batch normalization's backward pass has summed them already
            for j in range(c0, c1):
                shift_grad[j] = <floating> (bn_sums[net.unit_offset[l] + j] * inv_scale)
                scale_grad[j] = <floating> (bn_sums[net.n_hidden_units + net.unit_offset[l] + j]
                                            * inv_scale)
        else:
            dy = ws + net.dy_offset[l]
            zhat = ws + net.norm_offset[l]
            for j in range(c0, c1):
                scale_grad[j] = 0
                shift_grad[j] = 0
            for r in range(n_rows):
                for j in range(c0, c1):
                    scale_grad[j] = scale_grad[j] + dy[r * n_out + j] * zhat[r * n_out + j]
                    shift_grad[j] = shift_grad[j] + dy[r * n_out + j]
            for j in range(c0, c1):
                scale_grad[j] = scale_grad[j] * inv_scale
                shift_grad[j] = shift_grad[j] * inv_scale
        squares += (sum_of_squares(scale_grad + c0, 1, c1 - c0, 0)
                    + sum_of_squares(shift_grad + c0, 1, c1 - c0, 0))
    return squares


cdef double member_scale_gradient(const NetSpec* net, const floating* X, const Batch* batch,
                                  Py_ssize_t l, Py_ssize_t c0, Py_ssize_t c1,
                                  floating* grads, const floating* ws,
                                  double weight_sum) noexcept nogil:
    # An ensemble's input scalings, input columns c0..c1 of layer l:
    #   ∂J/∂rₘ[i] = Σ_{rows of m} ∂J/∂Ã[q, i] a[q, i] / (K Σs)
    # with a layer l's input (the first layer's: the batch's row, the same for every
    # member).  grads: OUT.  Returns their squared norm.
    cdef Py_ssize_t K = net.members, n_in = net.units[l], member
    cdef const floating* dscaled = ws + net.dscaled_offset[l]
    cdef const floating* a = layer_input(net, X, batch, l, ws)
    cdef floating inv_scale = <floating> (1.0 / (K * weight_sum))
    cdef double squares = 0
    for member in range(K):
        # the first layer's input is the batch's row, once for every member
        squares += column_sums(grads + net.ens_r_offset[l] + member * n_in, c0, c1,
                               batch.n_rows, n_in, inv_scale, dscaled, member, K,
                               a, 0 if l == 0 else member, 1 if l == 0 else K)
    return squares


cdef inline void step_range(const NetSpec* net, const Step* step, const floating* grads,
                            Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    # the fused optimizer step over params[start:stop] (clip_value applies, clip_norm
    # never: its scale is 1 here)
    optimizer_step(<floating*> step.params, grads, <floating*> step.state_1,
                   <floating*> step.state_2, start, stop, step.config, step.rate, 1.0,
                   step.keep, net.n_coefs, <floating*> step.average, step.average_decay)


cdef void step_task(const NetSpec* net, Py_ssize_t task, const floating* grads,
                    const Step* step) noexcept nogil:
    # The step of every parameter whose gradient gradient task `task` wrote (see
    # batch_gradient): a weight task's block of columns c0..c1 of Wˡ, and those columns
    # of bˡ (each member's), of an ensemble's sˡ and of γˡ, βˡ; an embedding task's
    # feature (c, W, b); an ensemble's r-task its columns of each member's rˡ.  The
    # first layer's r (summed after the tasks) and the running statistics are stepped by
    # step_leftovers.
    cdef Py_ssize_t l = net.task_layer[task], c0 = net.task_start[task], c1, i, member
    cdef Py_ssize_t n_in, n_out, K = net.members, F, k, d, i0, i1
    if l == -1:
        F = net.embed_features
        k = net.embed_freqs
        d = net.embed_dim
        step_range(net, step, grads, net.embed_offset + c0 * k, net.embed_offset + c0 * k + k)
        i = net.embed_offset + F * k + c0 * 2 * k * d
        step_range(net, step, grads, i, i + 2 * k * d)
        i = net.embed_offset + F * k + F * 2 * k * d + c0 * d
        step_range(net, step, grads, i, i + d)
        return
    if l < -1:
        l = -2 - l
        n_in = net.units[l]
        c1 = net.task_stop[task]
        for member in range(K):
            i = net.ens_r_offset[l] + member * n_in
            step_range(net, step, grads, i + c0, i + c1)
        return
    n_in = net.units[l]
    n_out = net.units[l + 1]
    c1 = net.task_stop[task]
    i0 = net.task_row_start[task]
    i1 = net.task_row_stop[task]
    if c0 == 0 and c1 == n_out:
        # a band of whole rows: one stretch of memory
        step_range(net, step, grads, net.coef_offset[l] + i0 * n_out,
                   net.coef_offset[l] + i1 * n_out)
    else:
        for i in range(i0, i1):
            step_range(net, step, grads, net.coef_offset[l] + i * n_out + c0,
                       net.coef_offset[l] + i * n_out + c1)
    if i0 > 0:
        return
    for member in range(K):
        i = net.intercept_offset[l] + member * n_out
        step_range(net, step, grads, i + c0, i + c1)
        if K > 1:
            i = net.ens_s_offset[l] + member * n_out
            step_range(net, step, grads, i + c0, i + c1)
    if normalized(net, l):
        i = net.scale_offset[l]
        step_range(net, step, grads, i + c0, i + c1)
        step_range(net, step, grads, i + n_out + c0, i + n_out + c1)


cdef void step_leftovers(const NetSpec* net, const floating* grads,
                         const Step* step) noexcept nogil:
    # the fused step's parameters no task steps: an ensemble's first-layer r (its
    # gradient is summed over the tasks) and the running statistics (no gradient; only
    # a moving average changes them)
    if net.first_by_member:
        step_range(net, step, grads, net.ens_r_offset[0],
                   net.ens_r_offset[0] + net.members * net.units[0])
    if net.n_trainable < net.n_params:
        step_range(net, step, grads, net.n_trainable, net.n_params)


cdef inline bint sync_after(const NetSpec* net, Py_ssize_t k) noexcept nogil:
    # True when piece k of a batch (see batch_gradient) ends with sums over every row
    # chunk: the affine map, or the first half of the backward pass, of a batch-
    # normalized layer
    cdef Py_ssize_t L = net.n_layers
    if k < 2 * L:
        return k % 2 == 0 and batch_normalized(net, k // 2) and k // 2 < L - 1
    if k - 2 * L >= 2 * (L - 1):
        return False        # the input's backward piece
    return (k - 2 * L) % 2 == 0 and batch_normalized(net, L - 2 - (k - 2 * L) // 2)


cdef double batch_gradient(const NetSpec* net, const floating* X, const floating* Y,
                           const floating* sample_weight, const Batch* batch,
                           const floating* params, floating* grads, floating* ws,
                           const Extras* extras, floating* unit_max, double* scratch,
                           double* layer_squares, double* weight_sum_out,
                           floating* running, double momentum, const Step* step) noexcept nogil:
    # The loss and gradient of one batch.  Returns Σ sᵢ ℓᵢ; writes Σ sᵢ to
    # weight_sum_out, each layer's ‖∂J/∂θˡ‖² to layer_squares (L); grads: OUT.
    # With `step` (not NULL), each gradient task then takes the optimizer step of the
    # parameters it has the gradient of (step_task), unless the loss or that part of
    # the gradient is not finite (the caller then stops: the batch diverged).
    # scratch: net.scratch_size doubles for the per-chunk sums; unit_max:
    # n_threads x n_hidden_units running maxima (when extras.track_units).  With
    # batch normalization and `running` (the parameter buffer, not NULL), the running
    # statistics follow the batch's with `momentum`; a batch with fewer than two rows
    # of positive weight is not run (weight sum 0: the caller skips it).
    #
    # The batch is a sequence of pieces, each run over every row chunk: k = 2l, 2l+1
    # for layer l's affine map and finish (forward; the embeddings come with layer 0's
    # affine map), then 2L + 2(L-2-l) and the next for the two halves of hidden layer
    # l's backward pass, then (4L - 2) the gradient of the first layer's input (for
    # embeddings and an ensemble's r's).  An ensemble's layers run K rows per row.  They run in one parallel
    # region, except that a batch-normalized layer needs every chunk's sums after its
    # affine map and after the first half of its backward pass (sync_after): a new
    # region starts there, after the sums are merged in chunk order.
    # The same chunks whatever the thread count (on one thread, one after the other),
    # so the results do not depend on it, in float32 too.
    cdef Py_ssize_t c, flops = 0, l, n_rows = batch.n_rows, L = net.n_layers, r, k, k0, end
    cdef Py_ssize_t row_chunks, chunk_rows, task, n_tasks = net.n_tasks, r0, r1, positive = 0
    cdef Py_ssize_t n_pieces = 4 * L - 2 + (net.embed_features > 0)
    cdef int T1, T2
    cdef double loss = 0, weight_sum = 0, w, largest = 0, sum_u = 0, sum_uu = 0, ratio
    cdef floating* r_grad
    cdef double* chunk_sums = scratch                  # the loss per row chunk
    cdef double* task_squares = scratch + 2 * net.max_row_chunks
    cdef double* norm_scratch = scratch + net.norm_scratch
    cdef Sums sums
    for l in range(L):
        flops += net.units[l] * net.units[l + 1] * net.members
        layer_squares[l] = 0
    sums.weight_scale = 1
    sums.unbiased = n_rows / (n_rows - 1.0) if n_rows > 1 else 0
    if sample_weight == NULL:
        weight_sum = positive = n_rows
    else:
        for r in range(n_rows):
            w = sample_weight[source_row(batch, r)]
            weight_sum += w
            positive += w > 0
            largest = w if w > largest else largest
        if net.normalization == NORM_BATCH and positive >= 2:
            # the weights' scale must not matter: the moments weigh rows by s / max s,
            # and the variance's factor is 1 / (1 - Σu² / (Σu)²), u = s / max s
            sums.weight_scale = 1 / largest
            for r in range(n_rows):
                w = sample_weight[source_row(batch, r)] * sums.weight_scale
                sum_u += w
                sum_uu += w * w
            ratio = sum_uu / (sum_u * sum_u)
            if ratio >= 1 - 1e-12:
                positive = 1      # all the weight on one row, to rounding
            else:
                sums.unbiased = 1 / (1 - ratio)
    weight_sum_out[0] = weight_sum
    if weight_sum == 0 or (net.normalization == NORM_BATCH and positive < 2):
        weight_sum_out[0] = 0
        return 0        # nothing to learn from this batch (the caller skips it)
    sums.weight_sum = weight_sum
    if net.normalization == NORM_BATCH:
        sums.chunk_weight = norm_scratch
        sums.part_a = norm_scratch + net.max_row_chunks
        sums.part_b = sums.part_a + net.max_row_chunks * net.max_layer_units
        sums.mean = sums.part_b + net.max_row_chunks * net.max_layer_units
        sums.inv_std = sums.mean + net.n_hidden_units
        sums.sum_a = sums.inv_std + net.n_hidden_units
        sums.sum_b = sums.sum_a + net.n_hidden_units
    else:
        sums.chunk_weight = sums.part_a = sums.part_b = NULL
        sums.mean = sums.inv_std = sums.sum_a = sums.sum_b = NULL

    chunk_rows = even_chunk(n_rows, ROW_CHUNK)
    row_chunks = n_chunks(n_rows, chunk_rows)
    T1 = threads_for(2 * n_rows * flops, row_chunks, net.n_threads)
    k0 = 0
    while k0 < n_pieces:
        end = k0
        while end < n_pieces - 1 and not sync_after(net, end):
            end += 1
        end += 1                     # pieces k0..end-1 in one region
        for c in prange(row_chunks, num_threads=T1, use_threads_if=T1 > 1,
                        schedule='dynamic', chunksize=1):
            r0 = c * chunk_rows
            r1 = min(n_rows, r0 + chunk_rows)
            run_pieces(net, X, Y, sample_weight, batch, c, r0, r1, k0, end, params, ws,
                       extras, unit_max + threadid() * net.n_hidden_units
                       if extras.track_units else NULL, &sums, &chunk_sums[c])
        if sync_after(net, end - 1):
            k = end - 1
            if k < 2 * L:
                merge_moments(net, k // 2, row_chunks, &sums, running, momentum)
            else:
                l = L - 2 - (k - 2 * L) // 2
                for r in range(net.units[l + 1]):
                    sums.sum_a[net.unit_offset[l] + r] = 0
                    sums.sum_b[net.unit_offset[l] + r] = 0
                for c in range(row_chunks):
                    for r in range(net.units[l + 1]):
                        sums.sum_a[net.unit_offset[l] + r] += sums.part_a[
                            c * net.max_layer_units + r]
                        sums.sum_b[net.unit_offset[l] + r] += sums.part_b[
                            c * net.max_layer_units + r]
        k0 = end
    for c in range(row_chunks):
        loss += chunk_sums[c]
    if not isfinite(loss):
        step = NULL

    T2 = threads_for(n_rows * flops, n_tasks, net.n_threads)
    for task in prange(n_tasks, num_threads=T2, use_threads_if=T2 > 1,
                       schedule='dynamic', chunksize=1):
        if net.task_layer[task] == -1:
            task_squares[task] = embed_gradient(net, X, batch, net.task_start[task], params,
                                                grads, ws, weight_sum)
        elif net.task_layer[task] < -1:
            task_squares[task] = member_scale_gradient(
                net, X, batch, -2 - net.task_layer[task], net.task_start[task],
                net.task_stop[task], grads, ws, weight_sum)
        else:
            task_squares[task] = weight_gradient_block(
                net, X, batch, net.task_layer[task], net.task_row_start[task],
                net.task_row_stop[task], net.task_start[task], net.task_stop[task],
                params, grads, ws, weight_sum,
                ws + net.member_temp + threadid() * net.member_temp_stride,
                scratch + net.member_scratch + task * net.members * net.units[0]
                if net.first_by_member and task < net.first_tasks else NULL, sums.sum_a)
        if step != NULL and isfinite(task_squares[task]):
            step_task(net, task, grads, step)
    for task in range(n_tasks):
        # the embeddings count with the first layer, the r's with their layer
        l = net.task_layer[task]
        layer_squares[l if l >= 0 else (0 if l == -1 else -2 - l)] += task_squares[task]
    if net.first_by_member:
        # the first layer's ∂J/∂r: its tasks' sums, in task order
        r_grad = grads + net.ens_r_offset[0]
        for r in range(net.members * net.units[0]):
            w = 0
            for task in range(net.first_tasks):
                w += scratch[net.member_scratch + task * net.members * net.units[0] + r]
            r_grad[r] = <floating> w
        w = sum_of_squares(r_grad, 1, net.members * net.units[0], 0)
        layer_squares[0] += w
        if not isfinite(w):
            step = NULL
    if step != NULL:
        step_leftovers(net, grads, step)
    return loss / net.members      # the members' mean of Σ sᵢ ℓᵢ


cdef void run_pieces(const NetSpec* net, const floating* X, const floating* Y,
                     const floating* sample_weight, const Batch* batch, Py_ssize_t c,
                     Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t k0, Py_ssize_t k1,
                     const floating* params, floating* ws, const Extras* extras,
                     floating* unit_max, Sums* sums, double* loss) noexcept nogil:
    # pieces k0..k1 of the batch (see batch_gradient) for row chunk c; the output
    # layer's piece sets loss[0] to the chunk's Σ sᵢ ℓᵢ
    cdef Py_ssize_t k, L = net.n_layers
    for k in range(k0, k1):
        if k < 2 * L:
            if k == 2 * L - 2:
                loss[0] = 0     # the output layer's piece (it is never normalized)
            forward_piece(net, k // 2, k % 2 == 0, X, Y, sample_weight, batch, c, r0, r1,
                          params, ws, extras, unit_max, sums, loss)
        elif k - 2 * L == 2 * (L - 1):
            input_backward(net, r0, r1, params, ws)
        else:
            backward_piece(net, L - 2 - (k - 2 * L) // 2, (k - 2 * L) % 2 == 0,
                           sample_weight, batch, c, r0, r1, params, ws, extras, sums)


cdef double coef_squared_norm(const NetSpec* net, const floating* params,
                              Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    # Σ w² over the coefficients in [start, stop) (intercepts are not penalised)
    if stop > net.n_coefs:
        stop = net.n_coefs
    return sum_of_squares(params + start, 1, stop - start, 0) if stop > start else 0


# ---------------------------------------------------------------- the boundary
cdef Py_ssize_t csr_problem(const Py_ssize_t* indices, const Py_ssize_t* indptr,
                            Py_ssize_t n_rows, Py_ssize_t nnz,
                            Py_ssize_t n_columns) noexcept nogil:
    # 0 when the row pointers run from 0 to nnz without decreasing and every column
    # index is in [0, n_columns); 1 for bad row pointers; else 2 + the largest index
    cdef Py_ssize_t r, k, largest = -1, smallest = 0
    if indptr[0] != 0 or indptr[n_rows] != nnz:
        return 1
    for r in range(n_rows):
        if indptr[r + 1] < indptr[r]:
            return 1
    for k in range(nnz):
        largest = indices[k] if indices[k] > largest else largest
        smallest = indices[k] if indices[k] < smallest else smallest
    if smallest < 0:
        return 1
    return 0 if largest < n_columns else 2 + largest


cdef int check_input(const NetSpec* net, const Py_ssize_t[::1] indices,
                     const Py_ssize_t[::1] indptr, Py_ssize_t n_values,
                     Py_ssize_t n_samples) except -1:
    # X is dense (no indices, n_samples x n_features values) or CSR whose every column
    # index is a row of the first layer's weights
    cdef Py_ssize_t problem, n_features = net.n_inputs
    if n_samples < 1:
        raise ValueError("X has no rows")
    if indptr.shape[0] == 0:
        if indices.shape[0] != 0 or n_values != n_samples * n_features:
            raise ValueError(
                f"dense X holds {n_values} values for {n_samples} rows, but the network's "
                f"first layer takes {n_features} features per row")
        return 0
    if net.embed_features > 0:
        raise ValueError("periodic embeddings need dense X (sin and cos of a zero are not zero)")
    if net.members > 1:
        raise ValueError("an ensemble's members scale X's columns: it needs dense X")
    if indptr.shape[0] != n_samples + 1 or indices.shape[0] != n_values:
        raise ValueError("sparse X needs n_samples + 1 row pointers and one column index "
                         "per value")
    with nogil:
        problem = csr_problem(&indices[0] if n_values > 0 else NULL, &indptr[0], n_samples,
                              n_values, n_features)
    if problem == 1:
        raise ValueError("sparse X has row pointers that do not run from 0 to the number of "
                         "values without decreasing, or a negative column index")
    if problem >= 2:
        raise ValueError(f"sparse X has column index {problem - 2}, but the network's first "
                         f"layer takes {n_features} features")
    return 0


cdef int check_training_shapes(const NetSpec* net, Py_ssize_t n_samples, Py_ssize_t n_y,
                               Py_ssize_t n_outputs, Py_ssize_t n_weights,
                               Py_ssize_t n_params, Py_ssize_t n_workspace,
                               Py_ssize_t batch_size, bint staged) except -1:
    if n_y != n_samples or n_outputs != net.units[net.n_layers]:
        raise ValueError("Y does not match X and the network's output size")
    if n_weights not in (0, n_samples):
        raise ValueError("sample_weight must be empty or have one entry per sample")
    if n_params != net.n_params:
        raise ValueError("params has the wrong size for this network")
    if batch_size < 1 or batch_size > net.batch_capacity or n_workspace < net.train_workspace:
        raise ValueError("the workspace does not hold a batch of this size")
    if staged and not net.stages_input:
        raise ValueError("shuffled dense batches need a network that stages its input")
    return 0


cdef inline const Py_ssize_t* pointer_or_null(const Py_ssize_t[::1] array) noexcept:
    return &array[0] if array.shape[0] > 0 else NULL


cdef NetSpec with_threads(const NetSpec* spec, int wanted):
    # a copy of the spec whose thread count is what may be started now
    cdef NetSpec local = spec[0]
    local.n_threads = usable_threads(min(wanted, spec.n_threads))
    return local


cdef enum:
    PROBE_BATCHES = 4       # batches timed with all threads, then with one
    RUN_BATCHES = 128       # batches run with the faster before timing again


cdef struct Governor:
    # Chooses each batch's thread count by timing: a few batches with every thread,
    # a few with one, then the faster per row for a while.  When another process holds
    # a core, every parallel region waits at its end for the thread that has no core,
    # and one thread is faster; on a quiet machine, all of them.  Results do not
    # depend on the choice (every count computes the same chunks).
    int max_threads
    int current
    int phase               # 0: timing all threads, 1: timing one, 2: running
    int left                # batches left in the phase
    double seconds_multi
    double rows_multi
    double seconds_single
    double rows_single


cdef void governor_load(Governor* g, const double* state, int max_threads) noexcept nogil:
    # state: the 8 numbers governor_save left, or zeros for a new fit.  A state out of
    # range (not one this governor saved) starts afresh: its team size is never trusted.
    g.max_threads = max_threads
    if (state[0] == 0 or max_threads <= 1 or not 1 <= state[1] <= max_threads
            or not 0 <= state[2] <= 2 or not 1 <= state[3] <= RUN_BATCHES):
        g.current = max_threads
        g.phase = 0 if max_threads > 1 else 2
        g.left = PROBE_BATCHES if max_threads > 1 else 1 << 30
        g.seconds_multi = g.rows_multi = g.seconds_single = g.rows_single = 0
        return
    g.current = <int> state[1]
    g.phase = <int> state[2]
    g.left = <int> state[3]
    g.seconds_multi = state[4]
    g.rows_multi = state[5]
    g.seconds_single = state[6]
    g.rows_single = state[7]


cdef void governor_save(const Governor* g, double* state) noexcept nogil:
    state[0] = 1
    state[1] = g.current
    state[2] = g.phase
    state[3] = g.left
    state[4] = g.seconds_multi
    state[5] = g.rows_multi
    state[6] = g.seconds_single
    state[7] = g.rows_single


cdef void governor_end_batch(Governor* g, Py_ssize_t rows, double seconds) noexcept nogil:
    if g.max_threads <= 1:
        return
    g.left -= 1
    if g.phase == 0:
        g.seconds_multi += seconds
        g.rows_multi += rows
        if g.left == 0:
            g.phase, g.current, g.left = 1, 1, PROBE_BATCHES
    elif g.phase == 1:
        g.seconds_single += seconds
        g.rows_single += rows
        if g.left == 0:
            if g.seconds_multi * g.rows_single <= g.seconds_single * g.rows_multi:
                g.current = g.max_threads
            else:
                g.current = 1
            g.phase, g.left = 2, RUN_BATCHES
            g.seconds_multi = g.rows_multi = g.seconds_single = g.rows_single = 0
    elif g.left == 0:
        g.phase, g.current, g.left = 0, g.max_threads, PROBE_BATCHES


cdef int check_order(const Py_ssize_t[::1] order, Py_ssize_t n_samples) except -1:
    # every visited row is a row of X
    cdef Py_ssize_t i, bad = 0
    if order.shape[0] == 0:
        return 0
    if order.shape[0] != n_samples:
        raise ValueError("order must be empty or have one entry per sample")
    with nogil:
        for i in range(n_samples):
            bad += (order[i] < 0) | (order[i] >= n_samples)
    if bad:
        raise ValueError("order holds rows outside X")
    return 0


def train_epoch(Network net not None, const floating[::1] X, const Py_ssize_t[::1] X_indices,
                const Py_ssize_t[::1] X_indptr, const floating[:, ::1] Y,
                const floating[::1] sample_weight, const Py_ssize_t[::1] order,
                Py_ssize_t batch_size,
                floating[::1] params, floating[::1] grads,
                floating[::1] state_1, floating[::1] state_2, floating[::1] average,
                floating[::1] workspace, OptimizerConfig config, Py_ssize_t step,
                unsigned long long dropout_seed, double[::1] layer_stats,
                unsigned char[::1] alive, double[::1] governor_state):
    """Run one epoch of mini-batch training: every batch's forward pass, backward pass
    and optimizer step, with the GIL released.  (bpcore._engine.Engine is the caller:
    it owns these arrays.)

    Parameters
    ----------
    net : Network
    X, X_indices, X_indptr : the input, n_samples = Y.shape[0] rows
        Dense: X is the row-major (n_samples, n_features) array raveled, and the index
        arrays are empty.  CSR: X is the data array, with its (intp) column indices and
        row pointers.
    Y : ndarray of shape (n_samples, n_outputs), C-contiguous, X's dtype
    sample_weight : ndarray of shape (n_samples,) or (0,)
        Empty for unit weights.
    order : ndarray of intp, shape (n_samples,) or (0,)
        The order in which rows are visited (a permutation when shuffling);
        empty for the rows in order.
    batch_size : int
        At most ``net``'s batch capacity.
    params, grads, state_1, state_2 : ndarray of shape (n_params,)
        The flat parameter buffer (updated in place), its gradient (scratch) and the
        optimizer state: the velocity for SGD (state_2 unused), m and v for Adam.
    average : ndarray of shape (n_params,) or (0,)
        The parameters' moving average θ̄, updated after every step when
        ``config['ema_decay'] > 0`` (and then required); it becomes θ at step 1.
    workspace : ndarray of shape (net.train_workspace_size,)
    config : dict with the fields of OptimizerConfig
    step : int
        Steps taken before this epoch (Adam's t, the schedule's index).
    dropout_seed : int
        Seed of this epoch's dropout masks.
    layer_stats : float64 ndarray of shape (3 L,), OUT
        [0:L] Σ over batches of ‖∂J/∂θˡ‖² (layer l's weights and bias); [L:2L] the
        same for the last batch run (the one that diverged, if one did); [2L:3L]
        ‖Wˡ‖² at the end of the epoch.
    alive : uint8 ndarray of shape (n_hidden_units,), OUT
        1 for each relu / leaky_relu unit that had a positive output in the epoch.
    governor_state : float64 ndarray of shape (8,), INOUT
        The thread governor's state (see Governor), zeros at the start of a fit.

    Returns
    -------
    data_loss : float
        Σ over batches of n_batch · (Σᵢ sᵢ ℓᵢ / Σᵢ sᵢ), the data term of the objective
        (× n_samples / (rows in the batches run) when batches were skipped).
    penalty : float
        Σ over batches of n_batch · α ‖W‖² / (2 Σᵢ sᵢ), with W before the batch's step
        (scaled in the same way).
    step : int
        Steps taken after this epoch.
    n_batches : int
        Batches run.
    diverged : bool
        The last batch's loss or gradient was not finite: the epoch stopped there,
        before that batch's step.
    rate : float
        The last step's scheduled rate η f(s) (η when no step was taken).
    """
    cdef NetSpec* spec = &net.spec
    cdef Py_ssize_t L = spec.n_layers, n_samples = Y.shape[0], t, T3, part, l, n_batches = 0
    cdef Batch batch
    cdef Extras extras
    cdef Governor governor
    cdef NetSpec local = with_threads(spec, spec.n_threads)
    cdef const floating* sw_ptr = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef double batch_loss, weight_sum, sq_norm = 0, data_total = 0, penalty_total = 0
    cdef double grad_squares, scale, started, factor
    cdef double scheduled = config.learning_rate
    cdef Step fused
    # the step rides in the gradient tasks when its own pass would be one chunk on one
    # thread (small nets: the tasks then share it out); a larger buffer's pass runs on
    # every thread over contiguous memory, which measured as fast or faster (W-large,
    # float32: 2-4 %) than stepping each task's strided block
    cdef bint fuse = FUSE_STEP and config.clip_norm <= 0 and spec.update_chunks == 1
    cdef Py_ssize_t rows_run = 0
    cdef floating* average_ptr = NULL
    cdef double* scratch
    cdef double* layer_squares
    cdef double* update_norms
    cdef Py_ssize_t e0, e1
    cdef floating* unit_max
    cdef bint penalised = spec.alpha > 0, diverged = False

    check_input(spec, X_indices, X_indptr, X.shape[0], n_samples)
    check_training_shapes(spec, n_samples, Y.shape[0], Y.shape[1], sample_weight.shape[0],
                          params.shape[0], workspace.shape[0], batch_size,
                          order.shape[0] > 0 and X_indptr.shape[0] == 0)
    check_order(order, n_samples)
    if config.kind != SGD and config.kind != ADAM:
        raise ValueError("config['kind'] must be 0 (SGD) or 1 (Adam)")
    if config.schedule < CONSTANT or config.schedule > ONE_CYCLE or not (
            config.warmup_steps >= 0 and config.total_steps >= 1
            and (config.schedule != COSINE or config.total_steps > config.warmup_steps)):
        raise ValueError("config's schedule needs a known kind, warmup_steps >= 0 and "
                         "total_steps >= 1 (> warmup_steps for the cosine)")
    if not (0 <= config.ema_decay < 1 and config.weight_decay >= 0):
        raise ValueError("config needs 0 <= ema_decay < 1 and weight_decay >= 0")
    if config.ema_decay > 0:
        if average.shape[0] != spec.n_params:
            raise ValueError("a moving average needs an average buffer of n_params")
        average_ptr = &average[0]
    if step < 0:
        raise ValueError("step must be >= 0")
    if grads.shape[0] != spec.n_params or state_1.shape[0] != spec.n_params or (
            config.kind == ADAM and state_2.shape[0] != spec.n_params):
        raise ValueError("grads and optimizer state must match the parameter buffer")
    if layer_stats.shape[0] != 3 * L or alive.shape[0] != spec.n_hidden_units:
        raise ValueError("layer_stats needs 3 L entries and alive one per hidden unit")
    if governor_state.shape[0] != 8:
        raise ValueError("governor_state needs 8 entries")
    governor_load(&governor, &governor_state[0], local.n_threads)
    batch.order = pointer_or_null(order)
    batch.indices = pointer_or_null(X_indices)
    batch.indptr = pointer_or_null(X_indptr)
    extras.dropout = True
    extras.seed = dropout_seed
    extras.track_units = True
    scratch = <double*> malloc(spec.scratch_size * sizeof(double))
    unit_max = <floating*> malloc((local.n_threads * spec.n_hidden_units + 1) * sizeof(floating))
    if scratch == NULL or unit_max == NULL:
        free(scratch)
        free(unit_max)
        raise MemoryError()
    fused.config = &config
    fused.params = &params[0]
    fused.state_1 = &state_1[0]
    fused.state_2 = &state_2[0] if config.kind == ADAM else NULL
    fused.average = average_ptr
    memset(unit_max, 0, (local.n_threads * spec.n_hidden_units + 1) * sizeof(floating))
    layer_squares = scratch + spec.scratch_size - L
    update_norms = scratch + 2 * spec.max_row_chunks + spec.n_tasks
    layer_stats[:] = 0
    try:
        with nogil:
            if spec.n_trainable < spec.n_params:    # no gradient moves the running statistics
                memset(&grads[spec.n_trainable], 0,
                       (spec.n_params - spec.n_trainable) * sizeof(floating))
            if penalised:
                sq_norm = coef_squared_norm(spec, &params[0], 0, spec.n_coefs)
            batch.first = 0
            while batch.first < n_samples:
                batch.n_rows = min(batch_size, n_samples - batch.first)
                started = omp_get_wtime()
                local.n_threads = governor.current
                # this batch's step, should it take one (nothing here depends on the
                # gradient)
                factor = schedule_factor(&config, <double> step)
                fused.rate = step_size(&config, step + 1) * factor
                fused.keep = 1 - config.learning_rate * factor * config.weight_decay
                fused.average_decay = config.ema_decay if step > 0 else 0.0
                batch_loss = batch_gradient(&local, &X[0], &Y[0, 0], sw_ptr, &batch,
                                            &params[0], &grads[0], &workspace[0], &extras,
                                            unit_max, scratch, layer_squares, &weight_sum,
                                            &params[0], spec.norm_momentum,
                                            &fused if fuse else NULL)
                if weight_sum == 0:
                    # every sample weight of this batch is 0: nothing to learn from it
                    batch.first += batch.n_rows
                    continue
                n_batches += 1
                grad_squares = 0
                for l in range(L):
                    layer_stats[l] += layer_squares[l]
                    layer_stats[L + l] = layer_squares[l]
                    grad_squares += layer_squares[l]
                if not (isfinite(batch_loss) and isfinite(grad_squares)):
                    # stop before this batch's step (fused: the tasks whose gradient
                    # was finite took theirs; the caller discards this buffer)
                    diverged = True
                    break
                rows_run += batch.n_rows
                data_total += batch.n_rows * (batch_loss / weight_sum)
                penalty_total += batch.n_rows * penalty_term(spec, sq_norm, weight_sum)
                step += 1
                scheduled = config.learning_rate * factor
                if fuse:
                    if penalised:
                        # the same sum as the separate pass's (one update chunk), so
                        # that the loss, and what depends on it, is the same bitwise
                        sq_norm = coef_squared_norm(spec, &params[0], 0, spec.n_params)
                else:
                    scale = clip_scale(&config, grad_squares)
                    T3 = threads_for(8 * spec.n_params, spec.update_chunks, governor.current)
                    for part in prange(spec.update_chunks, num_threads=T3,
                                       use_threads_if=T3 > 1, schedule='dynamic',
                                       chunksize=1):
                        e0 = part * UPDATE_CHUNK
                        e1 = min(spec.n_params, e0 + UPDATE_CHUNK)
                        optimizer_step(&params[0], &grads[0], &state_1[0],
                                       &state_2[0] if config.kind == ADAM else NULL,
                                       e0, e1, &config, fused.rate, scale, fused.keep,
                                       spec.n_coefs, average_ptr, fused.average_decay)
                        if penalised:
                            update_norms[part] = coef_squared_norm(spec, &params[0], e0, e1)
                    if penalised:
                        sq_norm = 0
                        for t in range(spec.update_chunks):
                            sq_norm += update_norms[t]
                governor_end_batch(&governor, batch.n_rows, omp_get_wtime() - started)
                batch.first += batch.n_rows
                with gil:
                    PyErr_CheckSignals()   # raises KeyboardInterrupt between batches
            for t in range(local.n_threads):
                for l in range(spec.n_hidden_units):
                    if unit_max[t * spec.n_hidden_units + l] > 0:
                        alive[l] = 1
            governor_save(&governor, &governor_state[0])
            for l in range(L):
                layer_stats[2 * L + l] = coef_squared_norm(
                    spec, &params[0], spec.coef_offset[l],
                    spec.coef_offset[l] + spec.units[l] * spec.units[l + 1])
    finally:
        free(scratch)
        free(unit_max)
    if 0 < rows_run < n_samples:
        # batches were skipped (no weight, or batch normalization without two rows of
        # weight): the sums over the batches run, scaled to every row
        data_total *= <double> n_samples / rows_run
        penalty_total *= <double> n_samples / rows_run
    return data_total, penalty_total, step, n_batches, diverged, scheduled


def loss_gradient(Network net not None, const floating[::1] X, const Py_ssize_t[::1] X_indices,
                  const Py_ssize_t[::1] X_indptr, const floating[:, ::1] Y,
                  const floating[::1] sample_weight, floating[::1] params,
                  floating[::1] grads, floating[::1] workspace, dropout_seed=None,
                  bint set_running=False):
    """The objective and its gradient over all rows as one batch (L-BFGS, checks).

    X as in `train_epoch`.  The workspace must hold all ``Y.shape[0]`` rows (``net``'s
    batch capacity).  Activations Aˡ, errors δˡ (and Zˡ, masks) of every layer stay in
    the workspace afterwards (see ``Network.workspace_layout``).  With `dropout_seed`
    the network's dropout is applied with the masks that seed fixes; without, none.
    Batch normalization uses the statistics of these rows (training mode); with
    `set_running`, its running statistics in params become them (the variance
    unbiased), as after an epoch of one batch with momentum 1.  The gradient of the
    running statistics is 0.

    Returns
    -------
    data_loss : float
        Σᵢ sᵢ ℓᵢ / Σᵢ sᵢ.
    penalty : float
        α ‖W‖² / (2 Σᵢ sᵢ).
    grads is filled with ∂J/∂θ for J = data_loss + penalty.
    """
    cdef NetSpec* spec = &net.spec
    cdef NetSpec local = with_threads(spec, spec.n_threads)
    cdef Py_ssize_t n_samples = Y.shape[0]
    cdef Batch batch
    cdef Extras extras
    cdef const floating* sw_ptr = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef double loss, weight_sum, sq_norm = 0
    cdef double* scratch
    check_input(spec, X_indices, X_indptr, X.shape[0], n_samples)
    check_training_shapes(spec, n_samples, Y.shape[0], Y.shape[1], sample_weight.shape[0],
                          params.shape[0], workspace.shape[0], n_samples, False)
    if grads.shape[0] != spec.n_params:
        raise ValueError("grads must match the parameter buffer")
    batch.order = NULL
    batch.first = 0
    batch.n_rows = n_samples
    batch.indices = pointer_or_null(X_indices)
    batch.indptr = pointer_or_null(X_indptr)
    extras.dropout = dropout_seed is not None
    extras.seed = dropout_seed if dropout_seed is not None else 0
    extras.track_units = False
    scratch = <double*> malloc(spec.scratch_size * sizeof(double))
    if scratch == NULL:
        raise MemoryError()
    try:
        with nogil:
            if spec.n_trainable < spec.n_params:
                memset(&grads[spec.n_trainable], 0,
                       (spec.n_params - spec.n_trainable) * sizeof(floating))
            loss = batch_gradient(&local, &X[0], &Y[0, 0], sw_ptr, &batch,
                                  &params[0], &grads[0], &workspace[0], &extras, NULL, scratch,
                                  scratch + spec.scratch_size - spec.n_layers, &weight_sum,
                                  &params[0] if set_running else NULL, 1.0, NULL)
            if spec.alpha > 0:
                sq_norm = coef_squared_norm(spec, &params[0], 0, spec.n_coefs)
    finally:
        free(scratch)
    if weight_sum == 0:
        raise ValueError("the rows' sample weights sum to 0" if spec.normalization != NORM_BATCH
                         else "batch normalization needs at least two rows of positive weight")
    return loss / weight_sum, penalty_term(spec, sq_norm, weight_sum)


def output_objective(Network net not None, const floating[:, ::1] out, const floating[:, ::1] Y,
                const floating[::1] sample_weight, const floating[::1] params):
    """The objective J at given outputs (a validation loss): no backward pass.

    out : the network's outputs Aᴸ for the rows of Y (from `predict`); sample_weight
    empty for unit weights.  Returns (Σᵢ sᵢ ℓᵢ / Σᵢ sᵢ, α ‖W‖² / (2 Σᵢ sᵢ)).
    """
    cdef NetSpec* spec = &net.spec
    cdef Py_ssize_t i, n = out.shape[0]
    cdef const floating* sw_ptr = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef double total, weight_sum = 0, sq_norm = 0
    if n < 1 or Y.shape[0] != n or out.shape[1] != spec.units[spec.n_layers] or (
            Y.shape[1] != out.shape[1]):
        raise ValueError("out and Y must have the same rows and the network's outputs")
    if sample_weight.shape[0] not in (0, n):
        raise ValueError("sample_weight must be empty or have one entry per sample")
    if params.shape[0] != spec.n_params:
        raise ValueError("params has the wrong size for this network")
    with nogil:
        total = output_loss(&out[0, 0], &Y[0, 0], sw_ptr, n, out.shape[1], spec.loss,
                            spec.loss_param)
        if sw_ptr == NULL:
            weight_sum = n
        else:
            for i in range(n):
                weight_sum += sw_ptr[i]
        if spec.alpha > 0:
            sq_norm = coef_squared_norm(spec, &params[0], 0, spec.n_coefs)
    return total / weight_sum, penalty_term(spec, sq_norm, weight_sum)


cdef Py_ssize_t count_not_finite(const floating* x, Py_ssize_t n) noexcept nogil:
    # entries of x that are NaN or ±inf (x - x is 0 exactly for finite x)
    cdef Py_ssize_t i, bad = 0
    for i in range(n):
        bad += (x[i] - x[i]) != 0
    return bad


cdef Py_ssize_t predict_block(const NetSpec* net, const floating* X, const Batch* batch,
                             Py_ssize_t r0, Py_ssize_t r1, const floating* params,
                             floating* out, floating* scratch) noexcept nogil:
    # rows r0..r1: the forward pass into out; returns the count of X's non-finite
    # entries among these rows (dense X: counted while the block is in cache for the
    # product; sparse X is counted once by the caller)
    cdef Py_ssize_t bad = 0
    if batch.indptr == NULL:
        bad = count_not_finite(X + r0 * net.n_inputs, (r1 - r0) * net.n_inputs)
    # scratch: predict_blocks(net) blocks of (r1 - r0) x max_layer_units
    cdef Py_ssize_t block = (r1 - r0) * net.members * net.max_layer_units
    predict_forward(net, X, batch, r0, r1, params, scratch, scratch + block,
                    scratch + 2 * block, out)
    return bad


def predict(Network net not None, const floating[::1] X, const Py_ssize_t[::1] X_indices,
            const Py_ssize_t[::1] X_indptr, const floating[::1] params,
            floating[:, ::1] out, floating[::1] workspace, Py_ssize_t chunk_rows):
    """out = the network's output (after the output activation) for every row of X.

    X as in `train_epoch`, with out.shape[0] rows (an ensemble's out has K rows per row
    of X, member-minor).  Rows are processed in blocks of
    `chunk_rows`, each thread taking whole blocks; the workspace holds
    ``net.predict_workspace_size(chunk_rows)`` elements.  Each thread first checks its
    block of X for NaN and infinity (while the block is in cache for the product).

    Returns the number of entries of X that are not finite (0 when all is well; else
    the outputs of the blocks holding them are not meaningful).
    """
    cdef NetSpec* spec = &net.spec
    cdef NetSpec local
    cdef Py_ssize_t n = out.shape[0] // spec.members, n_blocks, c, r0, r1, block, flops = 0
    cdef Py_ssize_t l, bad = 0, per_thread
    cdef Batch batch
    cdef int T, tid
    if out.shape[0] != n * spec.members:
        raise ValueError("out must have one row per member for each row of X")
    if n == 0:
        return 0
    check_input(spec, X_indices, X_indptr, X.shape[0], n)
    if out.shape[1] != spec.units[spec.n_layers]:
        raise ValueError("out does not match the network's output size")
    if params.shape[0] != spec.n_params:
        raise ValueError("params has the wrong size for this network")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    chunk_rows = min(chunk_rows, n)
    if workspace.shape[0] < predict_blocks(spec) * spec.n_threads * chunk_rows * spec.max_layer_units:
        raise ValueError("the workspace does not hold the prediction blocks")
    batch.order = NULL
    batch.first = 0
    batch.n_rows = n
    batch.indices = pointer_or_null(X_indices)
    batch.indptr = pointer_or_null(X_indptr)
    per_thread = predict_blocks(spec) * chunk_rows * spec.max_layer_units
    n_blocks = n_chunks(n, chunk_rows)
    for l in range(spec.n_layers):
        flops += spec.units[l] * spec.units[l + 1] * spec.members
    local = with_threads(spec, threads_for(n * flops, n_blocks, spec.n_threads))
    T = local.n_threads
    with nogil:
        if batch.indptr != NULL:
            bad = count_not_finite(&X[0], X.shape[0])
        for c in prange(n_blocks, num_threads=T, use_threads_if=T > 1, schedule='static'):
            tid = threadid()
            r0 = c * chunk_rows
            r1 = min(n, r0 + chunk_rows)
            bad += predict_block(&local, &X[0], &batch, r0, r1, &params[0], &out[0, 0],
                                 &workspace[tid * per_thread])
    return bad


cdef int take_buffer(object array, Py_buffer* view, bint writable, int ndim,
                     str name) except -1:
    # a C-contiguous float32 or float64 buffer of `ndim` dimensions (native byte order)
    PyObject_GetBuffer(array, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT
                       | (PyBUF_WRITABLE if writable else 0))
    if not float_buffer(view, ndim):
        PyBuffer_Release(view)
        raise ValueError(f"{name} must be a C-contiguous, aligned {ndim}-d float32 or "
                         "float64 array in native byte order")
    return 0


cdef inline bint float_buffer(const Py_buffer* view, int ndim) noexcept:
    return (view.ndim == ndim and view.format != NULL and view.format[1] == 0
            and (view.format[0] == b'f' or view.format[0] == b'd'))


cdef Py_ssize_t rows_forward(const NetSpec* spec, const floating* X, Py_ssize_t n,
                             const floating* params, floating* out) noexcept nogil:
    # predict_rows' work; -2 when the scratch cannot be allocated
    cdef Batch batch
    cdef Py_ssize_t bad
    cdef floating* scratch = <floating*> malloc(
        predict_blocks(spec) * n * spec.max_layer_units * sizeof(floating))
    if scratch == NULL:
        return -2
    batch.order = NULL
    batch.first = 0
    batch.indices = NULL
    batch.indptr = NULL
    bad = predict_block(spec, X, &batch, 0, n, params, out, scratch)
    if bad == 0 and count_not_finite(out, n * spec.members * spec.units[spec.n_layers]) > 0:
        bad = -1
    free(scratch)
    return bad


def predict_rows(Network net not None, X, params, out):
    """out = the network's output for a few rows of dense X, on this thread, with no
    workspace to pass (the small-prediction path: a call costs under a microsecond;
    the arrays are read through the buffer protocol, cheaper than typed memoryviews
    at this size).

    params (n_params,) and out (n K, n_outputs): C-contiguous, one dtype, float32 or
    float64.  Returns the number of entries of X that are not finite (out is not
    meaningful then), -1 when X is finite but an output is not, and -3 (out not
    written) when X is not a C-contiguous (n, n_inputs) array of that dtype with
    n K rows in out: the caller's general path takes such an X.
    """
    cdef NetSpec* spec = &net.spec
    cdef Py_ssize_t n, bad = 0
    cdef Py_buffer x_view, p_view, o_view
    take_buffer(params, &p_view, False, 1, "params")
    try:
        take_buffer(out, &o_view, True, 2, "out")
        try:
            if o_view.format[0] != p_view.format[0]:
                raise ValueError("params and out must have one dtype")
            if p_view.shape[0] != spec.n_params:
                raise ValueError("params has the wrong size for this network")
            if o_view.shape[1] != spec.units[spec.n_layers]:
                raise ValueError("out does not match the network's output size")
            try:
                PyObject_GetBuffer(X, &x_view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
            except (BufferError, TypeError, ValueError):
                return -3       # not C-contiguous, or no buffer at all
            try:
                n = x_view.shape[0] if x_view.ndim == 2 else 0
                if (not float_buffer(&x_view, 2) or x_view.format[0] != p_view.format[0]
                        or x_view.shape[1] != spec.n_inputs or o_view.shape[0] != n * spec.members):
                    return -3
                if n == 0:
                    return 0
                # a few rows take well under a microsecond: the GIL stays held
                if x_view.format[0] == b'f':
                    bad = rows_forward(spec, <const float*> x_view.buf, n,
                                       <const float*> p_view.buf, <float*> o_view.buf)
                else:
                    bad = rows_forward(spec, <const double*> x_view.buf, n,
                                       <const double*> p_view.buf, <double*> o_view.buf)
                if bad == -2:
                    raise MemoryError()
                return bad
            finally:
                PyBuffer_Release(&x_view)
        finally:
            PyBuffer_Release(&o_view)
    finally:
        PyBuffer_Release(&p_view)


def same_items(list items, tuple expected):
    """True when `items` holds exactly the objects of `expected`, in order (identity,
    not equality: how a model sees that no layer of coefs_ or intercepts_ was
    replaced)."""
    cdef Py_ssize_t i, n = len(expected)
    if len(items) != n:
        return False
    for i in range(n):
        if items[i] is not expected[i]:
            return False
    return True
