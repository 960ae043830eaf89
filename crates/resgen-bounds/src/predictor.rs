//! Kernel predictors: the linearized network trained by GD in function space, and kernel
//! regression with a fixed kernel (the infinite-width baseline with the analytic NTK).
//!
//! The linearized network `f_lin(x; W) = f_W0(x) + <grad f_W0(x), W - W0>` is linear in `W`, so
//! GD on `L_S(W) = (1/n) sum_i l(y_i f_lin(x_i; W))` with step `eta` moves the outputs by
//! `-eta J(x) J(X)^T g = -eta K(x, X) g`, `g_i = dL_S/df_i = -y_i / (n (1 + exp(y_i f_i)))`, on
//! training and test points alike (Lee et al. 2019). `K` is the empirical NTK at `W0` over the
//! layers GD trains: this is the exact GD of the linearized network, with no approximation
//! beyond the linearization itself, so its outputs after `T` steps can be compared one for one
//! with the trained network's after `T` steps at the same `eta`.

use resgen_models::{Net, Precision};

use crate::features::grad_features;
use crate::linalg;
use crate::{BoundsError, Gram};

/// The empirical NTK at `net`'s weights over its trained layers, on training points `x`
/// (`n x d`) and test points `xt` (`nt x d`): `(K(X, X), K(X_test, X))`, the latter row-major
/// `nt x n`. One batched backward pass over the `n + nt` points; `net` must be f64.
pub fn train_and_cross_kernels(net: &Net, x: &[f64], n: usize, xt: &[f64], nt: usize) -> (Gram, Vec<f64>) {
    assert_eq!(net.precision, Precision::F64, "kernels are computed in f64; use ntk::as_f64");
    let all: Vec<f64> = x.iter().chain(xt).copied().collect();
    let na = n + nt;
    let feat = grad_features(net, net.upload(&all, na, net.d));
    let mut k = vec![0.0; na * n];
    for (l, (a, dl)) in feat.inputs.iter().zip(&feat.deltas).enumerate() {
        if !net.is_trained(l + 1) {
            continue;
        }
        // Rows: every point; columns: the training points. (A A_train^T) o (D D_train^T).
        let cols = |t: &resgen_models::Tensor<2>| t.clone().narrow(0, 0, n).transpose();
        let block = resgen_models::to_host(a.clone().matmul(cols(a)) * dl.clone().matmul(cols(dl)));
        for (kv, b) in k.iter_mut().zip(block) {
            *kv += b;
        }
    }
    let mut train = Gram::zeros(n);
    for i in 0..n {
        for j in 0..n {
            // Exactly symmetric: the mean of the two computed entries.
            train.data[i * n + j] = 0.5 * (k[i * n + j] + k[j * n + i]);
        }
    }
    (train, k[n * n..].to_vec())
}

/// `dL_S/df_i` for the mean logistic loss: `-y_i sigmoid(-y_i f_i) / n`.
pub fn logistic_output_gradient(f: &[f64], y: &[f64]) -> Vec<f64> {
    let n = y.len().max(1) as f64;
    f.iter()
        .zip(y)
        .map(|(fi, yi)| {
            let z = yi * fi;
            // sigmoid(-z) without overflow
            let s = if z >= 0.0 { (-z).exp() / (1.0 + (-z).exp()) } else { 1.0 / (1.0 + z.exp()) };
            -yi * s / n
        })
        .collect()
}

/// GD of the linearized network in function space: `steps` updates
/// `f <- f - eta K(., X) g(f_train)` from `(f0_train, f0_test)`. Returns the outputs on the
/// training and test points after the last step, or the step at which they stopped being
/// finite.
pub fn linearized_gd(
    k_train: &Gram,
    k_cross: &[f64],
    y: &[f64],
    f0: (&[f64], &[f64]),
    eta: f64,
    steps: usize,
) -> Result<(Vec<f64>, Vec<f64>), usize> {
    let n = k_train.n;
    let nt = f0.1.len();
    assert_eq!(k_cross.len(), nt * n, "cross kernel is nt x n");
    let (mut f, mut ft) = (f0.0.to_vec(), f0.1.to_vec());
    for step in 0..steps {
        let g = logistic_output_gradient(&f, y);
        for (i, fi) in f.iter_mut().enumerate() {
            *fi -= eta * (0..n).map(|j| k_train.data[i * n + j] * g[j]).sum::<f64>();
        }
        for (t, ftv) in ft.iter_mut().enumerate() {
            *ftv -= eta * (0..n).map(|j| k_cross[t * n + j] * g[j]).sum::<f64>();
        }
        if f.iter().chain(&ft).any(|v| !v.is_finite()) {
            return Err(step + 1);
        }
    }
    Ok((f, ft))
}

/// Splits a kernel on `n` training points followed by test points into the training block
/// `K(X, X)` and the cross block `K(X_test, X)` (row-major, `nt x n`).
pub fn split_kernel(k: &Gram, n: usize) -> (Gram, Vec<f64>) {
    let na = k.n;
    let rows =
        |r: std::ops::Range<usize>| -> Vec<f64> { r.flat_map(|i| k.data[i * na..i * na + n].to_vec()).collect() };
    (Gram { n, data: rows(0..n) }, rows(n..na))
}

/// Kernel regression on the labels: test outputs `K(X_test, X) (K + ridge I)^-1 y`, with the
/// smallest ridge [`linalg::cholesky_with_ridge`] needs (0 for a positive definite kernel).
pub fn kernel_regression(k_train: &Gram, k_cross: &[f64], y: &[f64]) -> Result<Vec<f64>, BoundsError> {
    let n = k_train.n;
    let alpha = linalg::cholesky_with_ridge(k_train)?.solve(y);
    Ok(k_cross.chunks(n).map(|row| row.iter().zip(&alpha).map(|(k, a)| k * a).sum()).collect())
}

/// Agreement of two predictors on the same points: `(rmse, disagreement)`, the root mean
/// squared output difference and the fraction of points whose signs differ (NaN when empty).
pub fn agreement(a: &[f64], b: &[f64]) -> (f64, f64) {
    if a.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = a.len() as f64;
    let rmse = (a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>() / n).sqrt();
    let disagree = a.iter().zip(b).filter(|(p, q)| (**p > 0.0) != (**q > 0.0)).count() as f64 / n;
    (rmse, disagree)
}
