# Type stub of the compiled engine (src/bpcore/_network.pyx).
from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

_Float = npt.NDArray[np.floating[Any]]
_Index = npt.NDArray[np.intp]

def openmp_enabled() -> bool: ...
def omp_max_threads() -> int: ...

class Network:
    def __init__(
        self,
        layer_units: Sequence[int],
        hidden_activation: Sequence[int],
        loss: int,
        alpha: float,
        batch_capacity: int,
        n_threads: int,
    ) -> None: ...
    @property
    def n_params(self) -> int: ...
    @property
    def n_threads(self) -> int: ...
    @property
    def train_workspace_size(self) -> int: ...
    def predict_workspace_size(self, chunk_rows: int) -> int: ...

def train_epoch(
    net: Network, X: _Float, X_indices: _Index, X_indptr: _Index, Y: _Float,
    sample_weight: _Float, order: _Index, batch_size: int, params: _Float, grads: _Float,
    state_1: _Float, state_2: _Float, workspace: _Float, config: dict[str, Any],
    adam_step: int,
) -> tuple[float, float, int]: ...
def loss_gradient(
    net: Network, X: _Float, X_indices: _Index, X_indptr: _Index, Y: _Float,
    sample_weight: _Float, params: _Float, grads: _Float, workspace: _Float,
) -> tuple[float, float]: ...
def predict(
    net: Network, X: _Float, X_indices: _Index, X_indptr: _Index, params: _Float,
    out: _Float, workspace: _Float, chunk_rows: int,
) -> None: ...
