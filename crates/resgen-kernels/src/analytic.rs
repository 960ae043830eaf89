//! The infinite-width NTK of the fully connected network (Cao and Gu 2019), arc-cosine recursion,
//! and of the ResNet; beside each, its NNGP kernel ([`nngp`]), the outputs' covariance at
//! initialization, `lim E f(x) f(x') = lim <h_L(x), h_L(x')>` (`Sigma_L` for FC, `q_L` for the
//! ResNet below).
//!
//! For `h_l = relu(W_l h_{l-1})` with `N(0, 2/m)` entries and `f = sqrt(m) W_{L+1} h_L`
//! (`N(0, 1/m)`), as `m -> infinity`, with `Sigma_0(x, x') = <x, x'>`:
//!
//! - `Sigma_l = (sqrt(Sigma_{l-1}(x,x) Sigma_{l-1}(x',x')) / pi) (sin phi + (pi - phi) cos phi)`
//!   (the hidden-state inner product `<h_l(x), h_l(x')>`),
//! - `Sigma'_l = (pi - phi) / pi`, where `cos phi = Sigma_{l-1}(x,x') / sqrt(...)`,
//! - `<delta_l(x), delta_l(x')> / m = (1/2) Sigma'_l prod_{k > l} Sigma'_k`,
//!
//! so `K / m -> Sigma_L + sum_{l=1..L} (1/2) Sigma_{l-1} Sigma'_l prod_{k=l+1..L} Sigma'_k`.
//! The factor 1/2 (against the usual NTK-parametrization formula) comes from the standard
//! parametrization of the hidden layers: the gradient of a pre-activation with respect to
//! `W_l` is the raw input, not `sqrt(2/m)` times it. Derived here and checked against Monte
//! Carlo of the empirical kernel (the tests); on the diagonal `K(x, x) / m = 1 + L/2`.
//!
//! # The ResNet
//!
//! `h_1 = relu(W_1 x)`, `h_l = h_{l-1} + theta relu(W_l h_{l-1})` (`W_l` entries `N(0, v/m)`,
//! `v = 2` by default, `1` with `residual_variance = "1/m"`), `f = sqrt(m) W_{L+1} h_L`.
//! The residual stream is non-negative and does not centre: `<h_{l-1}(x), relu(W_l h_{l-1}(x'))>`
//! does not vanish but tends to `s_{l-1}(x) sqrt(v q_{l-1}(x',x') / (2 pi))`, where
//! `q_l(x,x') = lim <h_l(x), h_l(x')>` and `s_l(x) = lim sum_k h_{l,k}(x) / sqrt(m)` is an extra
//! state (the mean of the stream). With `k1(q) = (sqrt(q q') / pi)(sin phi + (pi - phi) cos phi)`
//! and `k0 = (pi - phi) / pi`, `cos phi = q_{l-1}(x,x') / sqrt(q_{l-1}(x,x) q_{l-1}(x',x'))`:
//!
//! - `q_1 = k1(<x,x'>)`, `s_1(x) = |x| / sqrt(pi)`;
//! - `q_l = q_{l-1} + theta [s_{l-1}(x) sqrt(v q_{l-1}(x',x') / 2pi) + (x <-> x')] + theta^2 (v/2) k1(q_{l-1})`,
//!   `s_l = s_{l-1} + theta sqrt(v q_{l-1}(x,x) / 2pi)`;
//! - backward, `B_l = lim <df/dh_l(x), df/dh_l(x')> / m`: `B_L = 1`,
//!   `B_{l-1} = B_l (1 + theta^2 (v/2) k0_l)` (the cross terms vanish: `W_l^T` is independent
//!   of `df/dh_l` in the limit);
//! - `K / m = q_L + sum_{l=2..L} theta^2 B_l (k0_l / 2) q_{l-1} + B_1 (k0_1 / 2) <x,x'>`.
//!
//! Derived here, and checked against the mean empirical kernel over seeds (the tests). On the
//! diagonal with `L = 2`, `theta = 1/2`, `v = 2`, unit `x`: `q_2 = 1 + 1/pi + 1/4`,
//! `B_1 = 5/4`, `K/m = q_2 + 1/8 + 5/8 = 2 + 1/pi`.
//!
//! # The ResNet with two-layer branches
//!
//! `h_l = h_{l-1} + theta V_l a_l`, `a_l = relu(W_l h_{l-1})`, `V_l` entries `N(0, u/m)`
//! (`u = 1` in resgen's networks). `V_l` has mean zero and is independent of
//! `h_{l-1}` and `a_l`, so every cross term vanishes in the limit (no mean state `s` is needed):
//!
//! - `q_1 = k1(<x,x'>)`, `q_l = q_{l-1} + theta^2 u E_l`, with `E_l = lim <a_l(x), a_l(x')> =
//!   (v/2) k1(q_{l-1})`;
//! - backward: `V_l^T g_l` has coordinates of covariance `u B_l`, so
//!   `lim <delta_l(x), delta_l(x')> / m = theta^2 u B_l k0_l / 2` for `W_l`'s delta
//!   `delta_l = theta (V_l^T g_l) o 1{z_l > 0}`, and `B_{l-1} = B_l (1 + theta^2 v u k0_l / 2)`;
//! - `K / m = q_L + sum_{l=2..L} theta^2 B_l (E_l + u (k0_l / 2) q_{l-1}) + B_1 (k0_1 / 2) <x,x'>`
//!   (the `V_l` block is `theta^2 B_l E_l`, the `W_l` block `theta^2 u B_l (k0_l/2) q_{l-1}`).
//!
//! On the diagonal with `v = 2`, `u = 1` and unit `x`: `q_l = (1 + theta^2)^{l-1}`,
//! `B_l = (1 + theta^2)^{L-l}`, so `K(x,x)/m = (3/2)(1 + theta^2)^{L-1} + (3/2)(L-1) theta^2
//! (1 + theta^2)^{L-2}`; at `L = 2`, `theta = 1/2`: `15/8 + 3/8 = 9/4`.

use crate::{Gram, KernelError};

pub fn arccos_step(k12: f64, k11: f64, k22: f64) -> (f64, f64) {
    let norm = (k11 * k22).sqrt();
    let cos = (k12 / norm).clamp(-1.0, 1.0);
    let phi = cos.acos();
    // sin(phi) from cos(phi) (phi in [0, pi], so sin >= 0): a square root instead of a sine,
    // which is a third of this step's time at L = 1024.
    let sin = (1.0 - cos * cos).max(0.0).sqrt();
    let sigma = norm / std::f64::consts::PI * (sin + (std::f64::consts::PI - phi) * cos);
    let dot = (std::f64::consts::PI - phi) / std::f64::consts::PI;
    (sigma, dot)
}

/// The limit of `K / m` for two inputs, from their Gram entries `<x,x'>`, `|x|^2`, `|x'|^2`.
pub fn fc_ntk_entry(x12: f64, x11: f64, x22: f64, depth: usize) -> f64 {
    // Forward: Sigma_l(x,x') and the diagonal terms (which stay |x|^2 under He scaling).
    let (mut s12, s11, s22) = (x12, x11, x22);
    let mut sig = vec![s12];
    let mut dots = Vec::with_capacity(depth);
    for _ in 0..depth {
        let (s, d) = arccos_step(s12, s11, s22);
        s12 = s;
        sig.push(s);
        dots.push(d);
    }
    // Output layer plus, for l = L..1, (1/2) Sigma_{l-1} Sigma'_l prod_{k>l} Sigma'_k.
    let mut total = sig[depth];
    let mut q = 1.0;
    for l in (1..=depth).rev() {
        total += 0.5 * sig[l - 1] * dots[l - 1] * q;
        q *= dots[l - 1];
    }
    total
}

/// The limit of `K / m` of the ResNet for two inputs, from `<x,x'>`, `|x|^2`, `|x'|^2`;
/// `v` is the residual layers' variance times `m` (2 or 1).
pub fn resnet_ntk_entry(x12: f64, x11: f64, x22: f64, depth: usize, theta: f64, v: f64) -> f64 {
    let mut total = 0.0;
    resnet_ntk_blocks(x12, x11, x22, depth, theta, v, |_, block| total += block);
    total
}

/// The one-layer ResNet's `K / m` per weight matrix: `block(k, value)` is called for the output
/// layer (`k = L + 1`, `q_L`), then `k = L, ..., 2` (`theta^2 B_k (k0_k / 2) q_{k-1}`), then
/// `k = 1` (`B_1 (k0_1 / 2) <x, x'>`); [`resnet_ntk_entry`] is their sum in that order.
pub fn resnet_ntk_blocks(
    x12: f64,
    x11: f64,
    x22: f64,
    depth: usize,
    theta: f64,
    v: f64,
    mut block: impl FnMut(usize, f64),
) {
    use std::f64::consts::PI;
    // One arccos step per layer gives both k1 (the forward) and k0 (the backward).
    let (x_k1, x_k0) = arccos_step(x12, x11, x22);
    let (mut q12, mut q11, mut q22) = scaled_triple(x_k1, x11, x22, 2.0);
    let (mut s1, mut s2) = ((x11 / PI).sqrt(), (x22 / PI).sqrt());
    // q_{l-1}(x,x') and k0_l for l = 1..L (index l - 1).
    let mut q_prev = Vec::with_capacity(depth);
    q_prev.push(x12);
    let mut k0 = Vec::with_capacity(depth);
    k0.push(x_k0);
    for _ in 2..=depth {
        q_prev.push(q12);
        let (k1, k0_l) = arccos_step(q12, q11, q22);
        k0.push(k0_l);
        let (k12, k11, k22) = scaled_triple(k1, q11, q22, v);
        let (m1, m2) = ((v * q11 / (2.0 * PI)).sqrt(), (v * q22 / (2.0 * PI)).sqrt());
        q12 += theta * (s1 * m2 + s2 * m1) + theta * theta * k12;
        q11 += 2.0 * theta * s1 * m1 + theta * theta * k11;
        q22 += 2.0 * theta * s2 * m2 + theta * theta * k22;
        s1 += theta * m1;
        s2 += theta * m2;
    }
    block(depth + 1, q12);
    let mut b = 1.0;
    for l in (2..=depth).rev() {
        block(l, theta * theta * b * 0.5 * k0[l - 1] * q_prev[l - 1]);
        b *= 1.0 + theta * theta * 0.5 * v * k0[l - 1];
    }
    block(1, b * 0.5 * k0[0] * x12);
}

/// `K / m` for the ResNet with two-layer branches (see the module notes), `u` the variance of
/// `V_l` times `m`.
pub fn two_layer_ntk_entry(x12: f64, x11: f64, x22: f64, depth: usize, theta: f64, v: f64, u: f64) -> f64 {
    let (q_last, per_layer, x_k0) = two_layer_forward(x12, x11, x22, depth, theta, v, u);
    let mut total = q_last;
    let mut b = 1.0;
    for &(q_prev, k0, e) in per_layer.iter().rev() {
        total += theta * theta * b * (e + u * 0.5 * k0 * q_prev);
        b *= 1.0 + theta * theta * v * u * 0.5 * k0;
    }
    total + b * 0.5 * x_k0 * x12
}

/// The two-layer branch's forward recursion: `q_L(x, x')`, then per layer `l = 2..L`
/// (index `l - 2`) `q_{l-1}(x,x')`, `k0_l` and `E_l`, and the input layer's `k0_1`.
fn two_layer_forward(
    x12: f64,
    x11: f64,
    x22: f64,
    depth: usize,
    theta: f64,
    v: f64,
    u: f64,
) -> (f64, Vec<(f64, f64, f64)>, f64) {
    let (x_k1, x_k0) = arccos_step(x12, x11, x22);
    let (mut q12, mut q11, mut q22) = scaled_triple(x_k1, x11, x22, 2.0);
    let mut per_layer = Vec::with_capacity(depth.saturating_sub(1));
    for _ in 2..=depth {
        let (k1, k0) = arccos_step(q12, q11, q22);
        let (e12, e11, e22) = scaled_triple(k1, q11, q22, v);
        per_layer.push((q12, k0, e12));
        q12 += theta * theta * u * e12;
        q11 += theta * theta * u * e11;
        q22 += theta * theta * u * e22;
    }
    (q12, per_layer, x_k0)
}

/// The NNGP kernel of the FC network for two inputs: `Sigma_L(x, x')`, the limit of
/// `E f(x) f(x') = <h_L(x), h_L(x')>` over the output layer (also the output layer's block of
/// [`fc_ntk_entry`]).
pub fn fc_nngp_entry(x12: f64, x11: f64, x22: f64, depth: usize) -> f64 {
    let mut s12 = x12;
    for _ in 0..depth {
        s12 = arccos_step(s12, x11, x22).0;
    }
    s12
}

/// The NNGP kernel of the one-layer ResNet: `q_L(x, x')` (the output layer's block of
/// [`resnet_ntk_blocks`]).
pub fn resnet_nngp_entry(x12: f64, x11: f64, x22: f64, depth: usize, theta: f64, v: f64) -> f64 {
    let mut q = f64::NAN;
    resnet_ntk_blocks(x12, x11, x22, depth, theta, v, |k, block| {
        if k == depth + 1 {
            q = block;
        }
    });
    q
}

/// The NNGP kernel of the two-layer ResNet: `q_L(x, x')`.
pub fn two_layer_nngp_entry(x12: f64, x11: f64, x22: f64, depth: usize, theta: f64, v: f64, u: f64) -> f64 {
    two_layer_forward(x12, x11, x22, depth, theta, v, u).0
}

/// `sum_k relu(g_k(x)) relu(g_k(x'))` in the limit, for pre-activations of variance `(v/m) q`:
/// `(v/2) k1(q)` for the pair and both diagonals.
/// Takes the pair's arccos step `k1(q)`, already computed (it also gives `k0`).
pub(crate) fn scaled_triple(k1: f64, q11: f64, q22: f64, v: f64) -> (f64, f64, f64) {
    (0.5 * v * k1, 0.5 * v * q11, 0.5 * v * q22)
}

/// A network whose infinite-width kernels [`ntk`] and [`nngp`] compute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spec {
    /// The fully connected network with `depth` hidden layers.
    Fc {
        /// `L`.
        depth: usize,
    },
    /// The ResNet with one-layer branches `theta relu(W_l h)`; `v` is the residual layers'
    /// variance times `m` (2 or 1).
    Resnet {
        /// `L`.
        depth: usize,
        /// The residual scale at this depth.
        theta: f64,
        /// `W_2..W_L`'s variance times `m`.
        v: f64,
    },
    /// The ResNet with two-layer branches `theta V_l relu(W_l h)`; `u` is `V_l`'s variance
    /// times `m` (1 in resgen's networks).
    ResnetTwoLayer {
        /// `L`.
        depth: usize,
        /// The residual scale at this depth.
        theta: f64,
        /// `W_2..W_L`'s variance times `m`.
        v: f64,
        /// `V_2..V_L`'s variance times `m`.
        u: f64,
    },
}

impl Spec {
    /// Checks the numbers: `depth >= 1`, finite `theta >= 0`, `v > 0`, `u > 0`.
    pub fn validate(&self) -> Result<(), KernelError> {
        let bad = |m: String| Err(KernelError::Spec(m));
        let (depth, theta, v, u) = match *self {
            Spec::Fc { depth } => (depth, 0.0, 2.0, 1.0),
            Spec::Resnet { depth, theta, v } => (depth, theta, v, 1.0),
            Spec::ResnetTwoLayer { depth, theta, v, u } => (depth, theta, v, u),
        };
        if depth == 0 {
            return bad("depth must be at least 1".into());
        }
        if !(theta.is_finite() && theta >= 0.0) {
            return bad(format!("theta = {theta}: must be finite and >= 0"));
        }
        if !(v.is_finite() && v > 0.0 && u.is_finite() && u > 0.0) {
            return bad(format!("the variances must be finite and > 0, got {v} and {u}"));
        }
        Ok(())
    }
}

/// Which of a network's two infinite-width kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// The NTK, normalized as `K / m`.
    Ntk,
    /// The NNGP kernel, the outputs' covariance at initialization.
    Nngp,
}

/// One entry of `which` kernel of `spec` from `<x,x'>`, `|x|^2`, `|x'|^2`.
pub fn entry(which: Kernel, spec: Spec, x12: f64, x11: f64, x22: f64) -> f64 {
    match (which, spec) {
        (Kernel::Ntk, Spec::Fc { depth }) => fc_ntk_entry(x12, x11, x22, depth),
        (Kernel::Ntk, Spec::Resnet { depth, theta, v }) => resnet_ntk_entry(x12, x11, x22, depth, theta, v),
        (Kernel::Ntk, Spec::ResnetTwoLayer { depth, theta, v, u }) => {
            two_layer_ntk_entry(x12, x11, x22, depth, theta, v, u)
        }
        (Kernel::Nngp, Spec::Fc { depth }) => fc_nngp_entry(x12, x11, x22, depth),
        (Kernel::Nngp, Spec::Resnet { depth, theta, v }) => resnet_nngp_entry(x12, x11, x22, depth, theta, v),
        (Kernel::Nngp, Spec::ResnetTwoLayer { depth, theta, v, u }) => {
            two_layer_nngp_entry(x12, x11, x22, depth, theta, v, u)
        }
    }
}

/// `which` kernel of `spec` on a data set (`n x d`, row-major), exactly symmetric.
pub fn kernel(which: Kernel, spec: Spec, x: &[f64], n: usize, d: usize) -> Gram {
    gram(x, n, d, |a, b, c| entry(which, spec, a, b, c))
}

/// `which` kernel between two data sets (`n1 x d` and `n2 x d`, row-major): `n1 x n2`,
/// row-major, rows in parallel.
pub fn cross(which: Kernel, spec: Spec, x1: &[f64], n1: usize, x2: &[f64], n2: usize, d: usize) -> Vec<f64> {
    use rayon::prelude::*;
    let row = |x: &[f64], i: usize| -> Vec<f64> { x[i * d..(i + 1) * d].to_vec() };
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let d2: Vec<f64> = (0..n2).map(|j| dot(&row(x2, j), &row(x2, j))).collect();
    (0..n1)
        .into_par_iter()
        .flat_map_iter(|i| {
            let a = row(x1, i);
            let aa = dot(&a, &a);
            let d2 = &d2;
            (0..n2).map(move |j| entry(which, spec, dot(&a, &x2[j * d..(j + 1) * d]), aa, d2[j]))
        })
        .collect()
}

/// The infinite-width `K / m` of `spec` on a data set (`n x d`, row-major), covering every
/// layer (as the empirical kernel does).
pub fn ntk(spec: Spec, x: &[f64], n: usize, d: usize) -> Gram {
    kernel(Kernel::Ntk, spec, x, n, d)
}

/// The NNGP kernel of `spec` on a data set: the limit of the outputs' covariance at
/// initialization, `E f(x) f(x') = lim <h_L(x), h_L(x')>` (the output layer has variance `1/m`
/// and `f = sqrt(m) W_{L+1} h_L`). It is the output layer's block of [`ntk`] and needs no
/// division by `m`.
pub fn nngp(spec: Spec, x: &[f64], n: usize, d: usize) -> Gram {
    kernel(Kernel::Nngp, spec, x, n, d)
}

/// The analytic `K / m` of the FC network on a data set (`n x d`, row-major).
pub fn fc_ntk(x: &[f64], n: usize, d: usize, depth: usize) -> Gram {
    gram(x, n, d, |a, b, c| fc_ntk_entry(a, b, c, depth))
}

/// The kernel of every pair from its upper triangle, rows in parallel (rayon; each entry runs
/// its own depth recursion, so the work is `O(n^2 L)` and independent per entry), mirrored so
/// the result is exactly symmetric. Each entry is computed by the same code on one thread, so
/// the result does not depend on the number of threads.
pub fn gram(x: &[f64], n: usize, d: usize, entry: impl Fn(f64, f64, f64) -> f64 + Sync) -> Gram {
    use rayon::prelude::*;
    let dot =
        |i: usize, j: usize| x[i * d..(i + 1) * d].iter().zip(&x[j * d..(j + 1) * d]).map(|(a, b)| a * b).sum::<f64>();
    let diag: Vec<f64> = (0..n).map(|i| dot(i, i)).collect();
    // Row i holds its entries j = i..n; rows are interleaved (i and n - 1 - i) by rayon's
    // work stealing, which balances the triangle.
    let upper: Vec<Vec<f64>> =
        (0..n).into_par_iter().map(|i| (i..n).map(|j| entry(dot(i, j), diag[i], diag[j])).collect()).collect();
    let mut k = Gram::zeros(n);
    for (i, row) in upper.iter().enumerate() {
        for (c, &v) in row.iter().enumerate() {
            let j = i + c;
            k.data[i * n + j] = v;
            k.data[j * n + i] = v;
        }
    }
    k
}
