# Type stub of the compiled engine (src/bpcore/_network.pyx); tests/test_stub.py checks
# that every function here exists in the module with these parameter names.
from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

_Float = npt.NDArray[np.floating[Any]]
_Index = npt.NDArray[np.intp]

ACTIVATION_CODES: dict[str, int]
OUTPUT_ACTIVATION_CODES: dict[str, int]
LOSS_CODES: dict[str, int]
SCHEDULE_CODES: dict[str, int]
NORMALIZATION_CODES: dict[str | None, int]
NORM_EPSILON: float
LEAKY_RELU_SLOPE: float

def openmp_enabled() -> bool: ...
def omp_max_threads() -> int: ...
def forked_child() -> bool: ...
def usable_thread_count(wanted: int) -> int: ...
def set_fused_step(on: bool) -> bool: ...
def checked_units(units: Sequence[int]) -> list[int]: ...
def task_makespan(units: Sequence[int], most: int, n_threads: int) -> int: ...
def task_width(units: Sequence[int]) -> int: ...
def row_bands(units: Sequence[int]) -> list[bool]: ...

class Network:
    def __init__(
        self,
        layer_units: Sequence[int],
        hidden_activation: Sequence[int],
        loss: int,
        alpha: float,
        batch_capacity: int,
        n_threads: int,
        dropout: Sequence[float] | None = None,
        stages_input: bool = True,
        loss_param: Sequence[float] | None = None,
        normalization: int = 0,
        residual: bool = False,
        norm_momentum: float = 0.1,
        n_frequencies: int = 0,
        embedding_dim: int = 0,
        members: int = 1,
    ) -> None: ...
    @property
    def n_params(self) -> int: ...
    @property
    def n_threads(self) -> int: ...
    @property
    def n_hidden_units(self) -> int: ...
    @property
    def train_workspace_size(self) -> int: ...
    def predict_workspace_size(self, chunk_rows: int) -> int: ...
    def workspace_layout(self) -> list[dict[str, int]]: ...
    @property
    def members(self) -> int: ...

def train_epoch(
    net: Network, X: _Float, X_indices: _Index, X_indptr: _Index, Y: _Float,
    sample_weight: _Float, order: _Index, batch_size: int, params: _Float, grads: _Float,
    state_1: _Float, state_2: _Float, average: _Float, workspace: _Float,
    config: dict[str, Any], step: int, dropout_seed: int,
    layer_stats: npt.NDArray[np.float64], alive: npt.NDArray[np.uint8],
    governor_state: npt.NDArray[np.float64],
) -> tuple[float, float, int, int, bool, float]: ...
def loss_gradient(
    net: Network, X: _Float, X_indices: _Index, X_indptr: _Index, Y: _Float,
    sample_weight: _Float, params: _Float, grads: _Float, workspace: _Float,
    dropout_seed: int | None = None,
    set_running: bool = False,
) -> tuple[float, float]: ...
def output_objective(
    net: Network, out: _Float, Y: _Float, sample_weight: _Float, params: _Float,
) -> tuple[float, float]: ...
def predict(
    net: Network, X: _Float, X_indices: _Index, X_indptr: _Index, params: _Float,
    out: _Float, workspace: _Float, chunk_rows: int,
) -> int: ...
def predict_rows(net: Network, X: _Float, params: _Float, out: _Float) -> int: ...
def same_items(items: list, expected: tuple) -> bool: ...
