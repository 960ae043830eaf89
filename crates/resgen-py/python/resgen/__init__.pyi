from typing import Literal, Optional, Tuple

import numpy as np
import numpy.typing as npt

Arch = Literal["resnet", "fc"]
BranchKind = Literal["one-layer", "two-layer"]
Variance = Literal["2/m", "1/m"]

def ntk(
    x1: npt.ArrayLike,
    x2: Optional[npt.ArrayLike] = None,
    *,
    arch: Arch = "resnet",
    depth: int = 1,
    theta: str = "1/L",
    branch: BranchKind = "one-layer",
    residual_variance: Variance = "2/m",
) -> npt.NDArray[np.float64]: ...
def nngp(
    x1: npt.ArrayLike,
    x2: Optional[npt.ArrayLike] = None,
    *,
    arch: Arch = "resnet",
    depth: int = 1,
    theta: str = "1/L",
    branch: BranchKind = "one-layer",
    residual_variance: Variance = "2/m",
) -> npt.NDArray[np.float64]: ...
def kernel_regression(
    k_train: npt.ArrayLike, y: npt.ArrayLike, k_test: npt.ArrayLike, ridge: float = 0.0
) -> Tuple[npt.NDArray[np.float64], float]: ...
def mnist(digits: Tuple[int, int] = (3, 5)) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
