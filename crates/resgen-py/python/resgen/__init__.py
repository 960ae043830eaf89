"""resgen's analytic kernels: the infinite-width NTK and NNGP of ReLU networks.

Two networks, in the NTK scaling of Frei, Cao and Gu (2019) and Cao and Gu (2019), with no
biases, hidden width m and L hidden layers:

- ``arch="fc"``: h_0 = x, h_l = relu(W_l h_{l-1}) for l = 1..L, f(x) = sqrt(m) W_{L+1} h_L;
- ``arch="resnet"``: h_1 = relu(W_1 x), h_l = h_{l-1} + theta relu(W_l h_{l-1}) for l = 2..L
  (``branch="two-layer"``: h_{l-1} + theta V_l relu(W_l h_{l-1})), f(x) = sqrt(m) W_{L+1} h_L.

W_1..W_L have N(0, 2/m) entries (the ResNet's W_2..W_L N(0, 1/m) with
``residual_variance="1/m"``), V_l N(0, 1/m), W_{L+1} N(0, 1/m). The ResNet's residual stream
is non-negative and does not centre, so its kernel carries the stream's mean as an extra state;
no other maintained library computes it.

Conventions:

- ``ntk`` is lim K / m, with K_ij = <grad_W f(x_i), grad_W f(x_j)> over every layer. The hidden
  layers contribute with a factor 1/2 against the usual NTK-parametrization formula, because
  they are in the standard parametrization. For FC with unit inputs, K(x, x) / m = 1 + L / 2.
- ``nngp`` is lim E f(x) f(x') at initialization, which equals the output layer's block of
  ``ntk`` (Sigma_L for FC, q_L for the ResNet); it is not divided by m.
- Inputs are not rescaled: rows may have any non-zero norm (resgen's experiments scale them to
  unit norm, as the theory assumes). A zero row, NaN or inf is a ValueError naming the argument.
- For FC, the map to neural-tangents' stax conventions (Dense(W_std=sqrt(2), b_std=None) with
  Relu, and a final Dense(W_std=1)), derived but not checked by the tests here: with inputs
  scaled by sqrt(d), ``nngp`` is stax's NNGP and ``ntk`` is (stax NTK + stax NNGP) / 2 (stax's
  NTK parametrization counts each hidden layer's gradient twice against this one's).

Functions: ``ntk``, ``nngp``, ``kernel_regression``, ``eps_ntrf``, ``relabeling``, ``bound``,
``mnist``.
"""

from ._resgen import bound as _bound
from ._resgen import eps_ntrf as _eps_ntrf
from ._resgen import kernel_regression as _kernel_regression
from ._resgen import relabeling as _relabeling
from ._resgen import kernel as _kernel

import gzip as _gzip
import os as _os

import numpy as _np

__all__ = ["ntk", "nngp", "kernel_regression", "eps_ntrf", "relabeling", "bound", "mnist"]


def _f64(name, a, ndim):
    a = _np.asarray(a, dtype=_np.float64)
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    return _np.ascontiguousarray(a)


def ntk(x1, x2=None, *, arch="resnet", depth=1, theta="1/L", branch="one-layer", residual_variance="2/m"):
    """The infinite-width NTK, lim K / m, between the rows of ``x1`` (n1 x d) and of ``x2``
    (n2 x d; ``x1`` itself when omitted): an (n1, n2) float64 array.

    ``theta`` is a text evaluated at ``depth``: "1/L", "c/L", "1/sqrt(L)", "c/sqrt(L)",
    "L^-g" or a number. ``arch`` is "resnet" or "fc" (``theta``, ``branch`` and
    ``residual_variance`` are ignored for "fc").
    """
    return _kernel_of("ntk", x1, x2, arch, depth, theta, branch, residual_variance)


def nngp(x1, x2=None, *, arch="resnet", depth=1, theta="1/L", branch="one-layer", residual_variance="2/m"):
    """The NNGP kernel, lim E f(x) f(x') at initialization, with ``ntk``'s signature."""
    return _kernel_of("nngp", x1, x2, arch, depth, theta, branch, residual_variance)


def _kernel_of(which, x1, x2, arch, depth, theta, branch, residual_variance):
    x2 = None if x2 is None else _f64("x2", x2, 2)
    return _kernel(which, _f64("x1", x1, 2), x2, arch=arch, depth=int(depth), theta=str(theta), branch=branch,
                   residual_variance=residual_variance)


def kernel_regression(k_train, y, k_test, ridge=0.0):
    """Kernel regression: ``k_test @ solve(k_train + ridge I, y)``.

    ``k_train`` is (n, n), ``y`` (n,), ``k_test`` (n_test, n). With ``ridge=0`` a numerically
    singular ``k_train`` gets the smallest ridge (from 1e-12 tr(K) / n, growing tenfold) that
    factorizes; returns ``(predictions, ridge_used)``.
    """
    return _kernel_regression(_f64("k_train", k_train, 2), _f64("y", y, 1), _f64("k_test", k_test, 2),
                              float(ridge))


def eps_ntrf(kernels, y, radius, *, width, f0=None, tol=1e-4, gap_tol=1e-5, max_iter=2000):
    """eps_NTRF(R): the smallest mean logistic loss of the neural tangent random feature class
    f0 + <grad f_W0, W - W0> with ||W_l - W0_l||_F <= R / sqrt(width) for every block l.

    ``kernels`` are the raw per-block kernels K_l = J_l J_l^T (not divided by m): an (n, n)
    array for one block, or (blocks, n, n) / a list of them; from a Jacobian J_l (n x p_l),
    pass J_l @ J_l.T. ``y`` holds labels +-1, ``f0`` the outputs at W0 (zeros by default).
    Returns a dict: ``eps_ntrf`` (the loss of a feasible point), ``gap`` (its duality
    certificate: the true value lies in [eps_ntrf - gap, eps_ntrf]), ``lower``, the relative
    ``kkt_residual``, each block's ``scaled_norms`` (sqrt(m) ||W_l - W0_l||), which are
    ``active``, and ``iterations``.
    """
    k = _np.asarray(kernels, dtype=_np.float64)
    if k.ndim == 2:
        k = k[None]
    if k.ndim != 3:
        raise ValueError(f"kernels: expected (n, n) or (blocks, n, n), got shape {k.shape}")
    f0 = None if f0 is None else _f64("f0", f0, 1)
    return _eps_ntrf(_np.ascontiguousarray(k), _f64("y", y, 1), float(radius), width=int(width), f0=f0,
                     tol=float(tol), gap_tol=float(gap_tol), max_iter=int(max_iter))


def relabeling(k, y, rel_tol=1e-6, max_sweeps=20000):
    """The Cao-Gu NTK corollary's infimum over relabelings: min y~^T K^{-1} y~ over y~ with
    y~_i y_i >= 1 (a convex QP), beside its value at y~ = y. Returns a dict with ``value``,
    ``value_at_y``, ``complexity`` = sqrt(value / n), ``complexity_at_y``, the duality ``gap``
    (the minimum lies in [value - gap, value]), the ``ridge`` added to K if it was singular,
    ``sweeps`` and the minimizer ``y_tilde``."""
    return _relabeling(_f64("k", k, 2), _f64("y", y, 1), float(rel_tol), int(max_sweeps))


def bound(name, *, n, depth=None, eps_ntrf=None, radius=None, complexity=None, delta=0.05, c_eps=4.0,
          c_radius=1.0, c_conf=1.0, c_ntk=1.0):
    """A generalization bound's value (docs/theory.md), with n training points and confidence
    1 - delta; ``depth`` is the number of hidden layers L (Cao and Gu count L + 1 weight
    matrices, and the formulas use that count):

    - "cao-gu-fc": c_eps eps_ntrf + c_radius (L + 1) radius / sqrt(n) + c_conf sqrt(log(1/delta) / n);
    - "frei-cao-gu-resnet": c_eps eps_ntrf + c_radius radius / sqrt(n) + c_conf sqrt(log(1/delta) / n);
    - "cao-gu-ntk": c_ntk (L + 1) complexity + c_conf sqrt(log(1/delta) / n), with
      complexity = sqrt(y^T K^{-1} y / n) (or ``relabeling``'s).
    """
    return _bound(name, n=int(n), depth=None if depth is None else int(depth),
                  eps_ntrf=None if eps_ntrf is None else float(eps_ntrf),
                  radius=None if radius is None else float(radius),
                  complexity=None if complexity is None else float(complexity), delta=float(delta),
                  c_eps=float(c_eps), c_radius=float(c_radius), c_conf=float(c_conf), c_ntk=float(c_ntk))


def _mnist_path():
    here = _os.path.dirname(__file__)
    for p in (_os.path.join(here, "mnist_5k.csv.gz"),
              _os.path.join(here, "..", "..", "..", "..", "data", "mnist_5k.csv.gz")):
        if _os.path.exists(p):
            return p
    raise FileNotFoundError("mnist_5k.csv.gz: not in the package nor in the repository's data/")


def mnist(digits=(3, 5)):
    """The bundled MNIST subset (500 images of each digit; data/README.md credits it): the
    images of ``digits[0]`` (label +1) and ``digits[1]`` (label -1), each row scaled to unit
    norm, as ``(x, y)`` float64 arrays of shapes (n, 784) and (n,)."""
    with _gzip.open(_mnist_path(), "rt") as f:
        raw = _np.loadtxt(f, delimiter=",")
    x, label = raw[:, :784], raw[:, 784].astype(int)
    keep = _np.isin(label, digits)
    x, label = x[keep], label[keep]
    x = x / _np.linalg.norm(x, axis=1, keepdims=True)
    return x, _np.where(label == digits[0], 1.0, -1.0)
