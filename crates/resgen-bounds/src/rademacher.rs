//! Rademacher complexity of the linearized ball around the initialization.
//!
//! For `F(W0, R)` with per-layer constraint `||W_l - W0_l||_F <= omega = R / sqrt(m)`,
//! the empirical Rademacher complexity of the linear part is exactly
//! `Rad_S = (omega / n) sum_l E_eps || sum_i eps_i grad_{W_l} f(x_i) ||_F`
//! `      = (omega / n) sum_l E_eps sqrt(eps^T K_l eps)`,
//! and by Jensen `<= (omega / n) sum_l sqrt(tr K_l)` (the closed-form bound). Both need only the
//! per-layer kernels `K_l`.

use rand::RngExt;

use crate::Gram;

/// Per-layer and total Rademacher terms at radius `R`.
#[derive(Clone, Debug)]
pub struct Rademacher {
    /// `(omega / n) sqrt(tr K_l)` per layer.
    pub bound_per_layer: Vec<f64>,
    /// Their sum.
    pub bound: f64,
    /// Monte Carlo `(omega / n) mean_eps sqrt(eps^T K_l eps)` per layer.
    pub mc_per_layer: Vec<f64>,
    /// Their sum.
    pub mc: f64,
    /// Standard error of `mc` over the sign vectors.
    pub mc_stderr: f64,
}

/// Both estimates, with `samples` sign vectors from the seed's stream.
pub fn rademacher(per_layer: &[Gram], radius: f64, width: usize, samples: usize, seed: u64) -> Rademacher {
    let n = per_layer.first().map_or(0, |k| k.n);
    let scale = radius / (width as f64).sqrt() / n as f64;
    let bound_per_layer: Vec<f64> = per_layer.iter().map(|k| scale * k.trace().max(0.0).sqrt()).collect();
    let mut rng = resgen_data::rng(seed, resgen_data::Stream::Signs);
    let mut sums = vec![0.0; per_layer.len()];
    let mut totals = Vec::with_capacity(samples);
    for _ in 0..samples {
        let eps: Vec<f64> = (0..n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
        let mut t = 0.0;
        for (s, k) in sums.iter_mut().zip(per_layer) {
            let v = scale * k.quad(&eps).max(0.0).sqrt();
            *s += v;
            t += v;
        }
        totals.push(t);
    }
    let s = samples.max(1) as f64;
    let mc_per_layer: Vec<f64> = sums.iter().map(|v| v / s).collect();
    let mc = totals.iter().sum::<f64>() / s;
    let var = totals.iter().map(|t| (t - mc).powi(2)).sum::<f64>() / (s - 1.0).max(1.0);
    Rademacher { bound: bound_per_layer.iter().sum(), bound_per_layer, mc, mc_per_layer, mc_stderr: (var / s).sqrt() }
}
