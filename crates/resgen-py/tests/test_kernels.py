"""resgen's Python kernels against independent oracles: a closed-form arc-cosine recursion
written here in numpy, Monte Carlo of the networks themselves written here in numpy, the Rust
command line's own output on the same inputs, and the errors bad inputs must raise."""

import os
import re
import shutil
import subprocess
import textwrap

import numpy as np
import pytest

import resgen

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def sphere(n, d, seed):
    x = np.random.default_rng(seed).standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def arccos(k12, k11, k22):
    """One ReLU layer of the infinite-width recursion with He variance 2: the next inner
    product and the derivative kernel."""
    norm = np.sqrt(k11 * k22)
    cos = np.clip(k12 / norm, -1.0, 1.0)
    phi = np.arccos(cos)
    return norm / np.pi * (np.sin(phi) + (np.pi - phi) * cos), (np.pi - phi) / np.pi


def fc_closed_form(x, depth):
    """Cao and Gu's FC network in the NTK scaling: Sigma_l by the arc-cosine recursion (the
    diagonal stays |x|^2), K / m = Sigma_L + sum_l (1/2) Sigma_{l-1} Sigma'_l prod_{k>l} Sigma'_k
    (the 1/2: hidden layers in the standard parametrization); NNGP = Sigma_L."""
    g = x @ x.T
    diag = np.diag(g)
    k11, k22 = diag[:, None] * np.ones_like(g), diag[None, :] * np.ones_like(g)
    sig, dots = [g], []
    for _ in range(depth):
        s, dd = arccos(sig[-1], k11, k22)
        sig.append(s)
        dots.append(dd)
    ntk, prod = sig[depth].copy(), np.ones_like(g)
    for l in range(depth, 0, -1):
        ntk += 0.5 * sig[l - 1] * dots[l - 1] * prod
        prod = prod * dots[l - 1]
    return ntk, sig[depth]


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_fc_kernels_match_the_closed_form_recursion(depth):
    x = sphere(6, 5, 1) * np.array([[1.0], [2.0], [0.5], [1.0], [3.0], [1.0]])
    ntk, nngp = fc_closed_form(x, depth)
    np.testing.assert_allclose(resgen.ntk(x, arch="fc", depth=depth), ntk, rtol=1e-12, atol=0)
    np.testing.assert_allclose(resgen.nngp(x, arch="fc", depth=depth), nngp, rtol=1e-12, atol=0)
    # Cross kernels are the same entries.
    np.testing.assert_allclose(resgen.ntk(x[:2], x[2:], arch="fc", depth=depth), ntk[:2, 2:], rtol=1e-12)
    # By hand: unit x gives K(x, x) / m = 1 + L / 2.
    assert abs(resgen.ntk(x[:1] / np.linalg.norm(x[0]), arch="fc", depth=depth)[0, 0] - (1 + depth / 2)) < 1e-12


def resnet_monte_carlo(x, depth, theta, m, seeds, rng):
    """The one-layer ResNet itself at width m, averaged over seeds: the empirical K / m from
    per-example gradients written out here, and <h_L(x), h_L(x')> (the outputs' covariance over
    the output layer, N(0, 1/m), exactly)."""
    n, d = x.shape
    k_mean, c_mean = np.zeros((n, n)), np.zeros((n, n))
    for _ in range(seeds):
        ws = [rng.standard_normal((m, d)) * np.sqrt(2 / m)]
        ws += [rng.standard_normal((m, m)) * np.sqrt(2 / m) for _ in range(depth - 1)]
        out = rng.standard_normal(m) * np.sqrt(1 / m)
        zs, hs = [x @ ws[0].T], []
        hs.append(np.maximum(zs[0], 0))
        for w in ws[1:]:
            z = hs[-1] @ w.T
            zs.append(z)
            hs.append(hs[-1] + theta * np.maximum(z, 0))
        k = m * hs[-1] @ hs[-1].T  # output layer: grad = sqrt(m) h_L
        g = np.sqrt(m) * np.tile(out, (n, 1))  # df/dh_L per example
        for l in range(depth - 1, 0, -1):
            delta = theta * g * (zs[l] > 0)
            k += (delta @ delta.T) * (hs[l - 1] @ hs[l - 1].T)
            g = g + delta @ ws[l]
        delta = g * (zs[0] > 0)
        k += (delta @ delta.T) * (x @ x.T)
        k_mean += k / m / seeds
        c_mean += hs[-1] @ hs[-1].T / seeds
    return k_mean, c_mean


@pytest.mark.parametrize("depth", [2, 4])
def test_resnet_kernels_match_monte_carlo_of_the_network(depth):
    # At m = 1024 over 8 seeds one network's kernel spreads by about sqrt(5 L / m) relative;
    # the mean's error is allowed 3 sqrt(5 L / (m S)) + 2% of the largest entry, as in the
    # Rust tests. theta = 1/L, the paper's.
    m, seeds = 1024, 8
    x = sphere(5, 6, 2)
    k, c = resnet_monte_carlo(x, depth, 1.0 / depth, m, seeds, np.random.default_rng(3))
    tol = 3 * np.sqrt(5 * depth / (m * seeds)) + 0.02
    want_k = resgen.ntk(x, arch="resnet", depth=depth, theta="1/L")
    want_c = resgen.nngp(x, arch="resnet", depth=depth, theta="1/L")
    assert np.max(np.abs(want_k - k)) / np.max(np.abs(want_k)) < tol
    assert np.max(np.abs(want_c - c)) / np.max(np.abs(want_c)) < tol


def resgen_binary():
    path = os.environ.get("RESGEN_BIN") or os.path.join(ROOT, "target", "release", "resgen")
    return path if os.path.exists(path) else shutil.which("resgen")


@pytest.mark.parametrize("arch,branch", [("fc", "one-layer"), ("resnet", "one-layer"), ("resnet", "two-layer")])
def test_kernels_match_the_command_line_on_the_same_inputs(tmp_path, arch, branch):
    binary = resgen_binary()
    if binary is None:
        pytest.skip("no resgen binary (build it with cargo build --release -p resgen, or set RESGEN_BIN)")
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(textwrap.dedent(f"""
        [data]
        source = "sphere"
        d = 7
        n_train = 12
        n_test = 0
        [model]
        arch = "{arch}"
        branch = "{branch}"
        width = 16
        depth = 5
        theta = "1/sqrt(L)"
    """))
    out = tmp_path / "out"
    subprocess.run([binary, "ntk", "--config", str(cfg), "--analytic", "--nngp", "--npy", "--out", str(out)],
                   check=True, capture_output=True)
    x = np.load(out / "x_train.npy")
    kw = dict(arch=arch, depth=5, theta="1/sqrt(L)", branch=branch)
    np.testing.assert_allclose(resgen.ntk(x, **kw), np.load(out / "ntk_analytic.npy"), rtol=1e-13, atol=0)
    np.testing.assert_allclose(resgen.nngp(x, **kw), np.load(out / "nngp_analytic.npy"), rtol=1e-13, atol=0)


def test_kernel_regression_solves_the_system():
    x = sphere(8, 4, 5)
    k = resgen.ntk(x, arch="resnet", depth=3)
    y = np.sign(x[:, 0])
    pred, ridge = resgen.kernel_regression(k, y, k)
    assert ridge == 0.0
    np.testing.assert_allclose(pred, y, atol=1e-8)  # interpolates its training labels
    pred, ridge = resgen.kernel_regression(k, y, k[:3], ridge=0.5)
    np.testing.assert_allclose(pred, k[:3] @ np.linalg.solve(k + 0.5 * np.eye(8), y), rtol=1e-10)
    assert ridge == 0.5


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda x: resgen.ntk(x[0]), "x1"),
        (lambda x: resgen.ntk(np.where(np.eye(3, 4) > 0, np.nan, x[:3])), "x1"),
        (lambda x: resgen.ntk(np.vstack([x[:2], np.zeros((1, 4))])), "x1"),
        (lambda x: resgen.ntk(x, x[:, :3]), "x2"),
        (lambda x: resgen.ntk(x, np.full((2, 4), np.inf)), "x2"),
        (lambda x: resgen.ntk(x, depth=0), "depth"),
        (lambda x: resgen.ntk(x, arch="cnn"), "arch"),
        (lambda x: resgen.nngp(x, theta="1/M"), "theta"),
        (lambda x: resgen.nngp(x, theta="-1"), "theta"),
        (lambda x: resgen.ntk(x, branch="three-layer"), "branch"),
        (lambda x: resgen.ntk(x, residual_variance="3/m"), "residual_variance"),
        (lambda x: resgen.kernel_regression(np.ones((3, 2)), np.ones(3), np.ones((1, 3))), "k_train"),
        (lambda x: resgen.kernel_regression(np.eye(3), np.ones(2), np.ones((1, 3))), "y"),
        (lambda x: resgen.kernel_regression(np.eye(3), np.ones(3), np.ones((1, 2))), "k_test"),
        (lambda x: resgen.kernel_regression(np.eye(3), np.ones(3), np.ones((1, 3)), ridge=-1), "ridge"),
        (lambda x: resgen.eps_ntrf(np.eye(2), [1.0, 0.5], 1.0, width=1), "y"),
        (lambda x: resgen.eps_ntrf(np.eye(2), [1.0, -1.0], -1.0, width=1), "radius"),
        (lambda x: resgen.eps_ntrf(np.ones((2, 3)), [1.0, -1.0], 1.0, width=1), "kernels"),
        (lambda x: resgen.eps_ntrf(np.eye(2), [1.0, -1.0], 1.0, width=0), "width"),
        (lambda x: resgen.relabeling(np.eye(2), [1.0, 2.0]), "y"),
        (lambda x: resgen.bound("mcallester", n=10), "name"),
        (lambda x: resgen.bound("frei-cao-gu-resnet", n=10, radius=1.0), "eps_ntrf"),
        (lambda x: resgen.bound("cao-gu-fc", n=10, eps_ntrf=0.1, radius=1.0), "depth"),
        (lambda x: resgen.bound("cao-gu-ntk", n=10, depth=2, complexity=0.5, c_eps=-1), "c_eps"),
        (lambda x: resgen.bound("cao-gu-ntk", n=10, depth=2, complexity=0.5, delta=2.0), "delta"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_argument(call, name):
    x = sphere(5, 4, 6)
    with pytest.raises(ValueError, match=rf"^{re.escape(name)}:"):
        call(x)


def test_the_docs_example_runs_as_written():
    text = open(os.path.join(ROOT, "docs", "python.md")).read()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    scope = {}
    exec(compile(code, "docs/python.md", "exec"), scope)
    errors = scope["errors"]
    assert set(errors) == {1, 8, 64} and all(0.0 <= e < 0.5 for e in errors.values()), errors


def test_the_package_links_no_burn():
    # The wheel's Rust dependencies are resgen-kernels, faer, rayon, pyo3 and numpy: its lock
    # file has no Burn crate in it.
    lock = open(os.path.join(HERE, "..", "Cargo.lock")).read()
    names = re.findall(r'^name = "([^"]+)"', lock, re.M)
    assert "resgen-kernels" in names and "faer" in names
    assert not [n for n in names if n.startswith("burn")], [n for n in names if n.startswith("burn")]


def test_eps_ntrf_against_a_hand_worked_case():
    # One block with K = I (n = 2), f0 = 0, y = (1, -1), width 1: the predictions are alpha and
    # the ball is ||alpha|| <= R; by symmetry alpha = (a, -a), a = R / sqrt(2), so
    # eps_NTRF(R) = log(1 + exp(-R / sqrt(2))), which the certificate must bracket.
    for r in (0.5, 2.0):
        s = resgen.eps_ntrf(np.eye(2), [1.0, -1.0], r, width=1, tol=1e-10, gap_tol=1e-12, max_iter=100000)
        exact = np.log1p(np.exp(-r / np.sqrt(2)))
        assert s["lower"] - 1e-12 <= exact <= s["eps_ntrf"] + 1e-12, (s, exact)
        assert s["eps_ntrf"] - exact < 1e-6
        assert s["active"] == [True] and abs(s["scaled_norms"][0] - r) < 1e-6
    # The ball is R / sqrt(width) per block: width 4 at R = 2 is width 1 at R = 1; and two
    # blocks that split K = I in halves, each with its own ball, reach further than one.
    a = resgen.eps_ntrf(np.eye(2), [1.0, -1.0], 2.0, width=4, tol=1e-10, gap_tol=1e-12, max_iter=100000)
    b = resgen.eps_ntrf(np.eye(2), [1.0, -1.0], 1.0, width=1, tol=1e-10, gap_tol=1e-12, max_iter=100000)
    assert abs(a["eps_ntrf"] - b["eps_ntrf"]) < 1e-8
    two = resgen.eps_ntrf([0.5 * np.eye(2)] * 2, [1.0, -1.0], 1.0, width=1, tol=1e-10, gap_tol=1e-12, max_iter=100000)
    assert two["eps_ntrf"] < b["eps_ntrf"]


def test_relabeling_against_a_hand_worked_case():
    # K = [[1, .5], [.5, .3]], det .05, K^-1 = 20 [[.3, -.5], [-.5, 1]], y = (1, 1):
    # y^T K^-1 y = 20 (.3 - 1 + 1) = 6; with y~ = (a, 1), 20 (.3 a^2 - a + 1) is least at
    # a = 1/.6, where it is 10/3 (and raising the second label only adds).
    r = resgen.relabeling(np.array([[1.0, 0.5], [0.5, 0.3]]), np.array([1.0, 1.0]), rel_tol=1e-12)
    assert abs(r["value_at_y"] - 6.0) < 1e-9
    assert abs(r["value"] - 10.0 / 3.0) < 1e-6 and r["value"] - r["gap"] <= 10.0 / 3.0 + 1e-12
    np.testing.assert_allclose(r["y_tilde"], [1.0 / 0.6, 1.0], rtol=1e-5)
    assert abs(r["complexity"] - np.sqrt(10.0 / 3.0 / 2)) < 1e-6


def test_bounds_against_hand_values():
    # n = 100, delta = 0.05: the confidence term sqrt(log(20) / 100) = 0.173081...
    conf = np.sqrt(np.log(20.0) / 100)
    assert abs(resgen.bound("frei-cao-gu-resnet", n=100, eps_ntrf=0.1, radius=2.0) - (0.4 + 0.2 + conf)) < 1e-12
    # FC, L = 3 hidden layers: Cao and Gu count L + 1 = 4.
    assert abs(resgen.bound("cao-gu-fc", n=100, depth=3, eps_ntrf=0.1, radius=2.0) - (0.4 + 0.8 + conf)) < 1e-12
    assert abs(resgen.bound("cao-gu-ntk", n=100, depth=3, complexity=0.5) - (2.0 + conf)) < 1e-12
    assert abs(resgen.bound("cao-gu-ntk", n=100, depth=3, complexity=0.5, c_ntk=2.0, c_conf=0.0) - 4.0) < 1e-12
