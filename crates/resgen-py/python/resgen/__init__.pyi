from typing import Any, Dict, Literal, Optional, Sequence, Tuple, Union

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
def eps_ntrf(
    kernels: Union[npt.ArrayLike, Sequence[npt.ArrayLike]],
    y: npt.ArrayLike,
    radius: float,
    *,
    width: int,
    f0: Optional[npt.ArrayLike] = None,
    tol: float = 1e-4,
    gap_tol: float = 1e-5,
    max_iter: int = 2000,
) -> Dict[str, Any]: ...
def relabeling(k: npt.ArrayLike, y: npt.ArrayLike, rel_tol: float = 1e-6, max_sweeps: int = 20000) -> Dict[str, Any]: ...
def bound(
    name: Literal["cao-gu-fc", "frei-cao-gu-resnet", "cao-gu-ntk"],
    *,
    n: int,
    depth: Optional[int] = None,
    eps_ntrf: Optional[float] = None,
    radius: Optional[float] = None,
    complexity: Optional[float] = None,
    delta: float = 0.05,
    c_eps: float = 4.0,
    c_radius: float = 1.0,
    c_conf: float = 1.0,
    c_ntk: float = 1.0,
) -> float: ...
