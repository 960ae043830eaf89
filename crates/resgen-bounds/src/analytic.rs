//! The infinite-width NTK of the fully connected network (Cao and Gu 2019), arc-cosine recursion.
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
//! The ResNet's analytic kernel is not implemented: with the one-layer branch the residual
//! stream is non-negative and does not centre, and the cross terms need the mean of `h_l` as an
//! extra state (see the notes in the README).

use crate::Gram;

fn arccos_step(k12: f64, k11: f64, k22: f64) -> (f64, f64) {
    let norm = (k11 * k22).sqrt();
    let cos = (k12 / norm).clamp(-1.0, 1.0);
    let phi = cos.acos();
    let sigma = norm / std::f64::consts::PI * (phi.sin() + (std::f64::consts::PI - phi) * cos);
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

/// The analytic `K / m` on a data set (`n x d`, row-major).
pub fn fc_ntk(x: &[f64], n: usize, d: usize, depth: usize) -> Gram {
    let mut k = Gram::zeros(n);
    let dot =
        |i: usize, j: usize| x[i * d..(i + 1) * d].iter().zip(&x[j * d..(j + 1) * d]).map(|(a, b)| a * b).sum::<f64>();
    let diag: Vec<f64> = (0..n).map(|i| dot(i, i)).collect();
    for i in 0..n {
        for j in i..n {
            let v = fc_ntk_entry(dot(i, j), diag[i], diag[j], depth);
            k.data[i * n + j] = v;
            k.data[j * n + i] = v;
        }
    }
    k
}
