//! `eps_NTRF(R)`: the best training loss in the neural tangent random feature class.
//!
//! `F(W0, R) = { f_W0 + <grad f_W0, W - W0> : ||W_l - W0_l||_F <= omega = R / sqrt(m) }` and
//! `eps_NTRF(R) = min (1/n) sum_i l(y_i f(x_i))` over it: logistic loss of a linear model under
//! per-layer norm balls, a convex problem.
//!
//! It is solved in the span of the per-example gradients, `W_l - W0_l = sum_i alpha_{l,i}
//! grad_{W_l} f(x_i) = J_l^T alpha_l`, which holds the optimum (any component orthogonal to the
//! span changes no prediction and only uses up norm). Then the predictions are
//! `f0 + sum_l K_l alpha_l` and `||W_l - W0_l||_F^2 = alpha_l^T K_l alpha_l`: only the
//! per-layer kernels `K_l = J_l J_l^T` are needed.
//!
//! The method is projected gradient descent in parameter space, written in `alpha`: the
//! gradient step `u_l <- u_l - eta J_l^T g` is `alpha_l <- alpha_l - eta g`, and the Euclidean
//! projection of `u_l = J_l^T alpha_l` onto the ball scales `alpha_l` by
//! `min(1, omega / sqrt(alpha_l^T K_l alpha_l))`. Nesterov momentum (FISTA) speeds it up; the
//! step is `eta = 4 n / lambda_max(sum_l K_l)` (the loss is `lambda_max / (4 n)`-smooth in `u`).
//! The reported KKT residual is the norm of the projected-gradient mapping in parameter space,
//! relative to the gradient norm at `W0` (so one tolerance fits every n, m and L).

use crate::Gram;
use crate::linalg::{dot, lambda_max, matvec};
use rayon::prelude::*;

/// The NTRF optimum at one radius.
#[derive(Clone, Debug)]
pub struct NtrfSolution {
    /// The radius `R` (the per-layer ball has radius `R / sqrt(m)`).
    pub radius: f64,
    /// `eps_NTRF(R)`.
    pub loss: f64,
    /// `sqrt(m) ||W_l - W0_l||_F` per layer at the optimum (equal to `R` where active).
    pub scaled_norms: Vec<f64>,
    /// Whether each layer's constraint is active (norm within 1e-6 of the radius).
    pub active: Vec<bool>,
    /// `||G_eta||`, the projected-gradient mapping's norm in parameter space (0 at the optimum),
    /// relative to the gradient norm `||J^T dLoss/df||` at `W0`.
    pub kkt_residual: f64,
    /// Iterations used.
    pub iterations: usize,
    /// The coefficients `alpha_l`, for warm starts.
    pub alpha: Vec<Vec<f64>>,
}

/// Loss and `g = dLoss/df` at predictions `f0 + sum_l ka_l`.
fn loss_grad(f0: &[f64], y: &[f64], ka: &[Vec<f64>]) -> (f64, Vec<f64>) {
    let n = y.len();
    let mut f = f0.to_vec();
    for v in ka {
        for (fi, vi) in f.iter_mut().zip(v) {
            *fi += vi;
        }
    }
    let z: Vec<f64> = f.iter().zip(y).map(|(a, b)| a * b).collect();
    // d/df l(y f) = -y / (1 + exp(y f)).
    let g = z.iter().zip(y).map(|(zi, yi)| -yi / (1.0 + zi.exp()) / n as f64).collect();
    (resgen_models::logistic_loss_mean(&z), g)
}

/// `K_l v` for every layer, layers spread over threads (the solver's only O(n^2) work).
fn matvecs(per_layer: &[Gram], v: &[f64]) -> Vec<Vec<f64>> {
    per_layer.par_iter().map(|k| matvec(k, v)).collect()
}

/// `K_l a_l` for every layer, layers spread over threads.
fn products(per_layer: &[Gram], alpha: &[Vec<f64>]) -> Vec<Vec<f64>> {
    per_layer.par_iter().zip(alpha).map(|(k, a)| matvec(k, a)).collect()
}

/// Scales `(a, K a)` onto the ball of radius `omega` in the `K`-norm (the Euclidean projection
/// of `J^T a` in parameter space).
fn scale_onto_ball(a: &mut [f64], ka: &mut [f64], omega: f64) {
    let norm = dot(a, ka).max(0.0).sqrt();
    if norm > omega {
        let s = omega / norm;
        a.iter_mut().chain(ka.iter_mut()).for_each(|v| *v *= s);
    }
}

/// One projected-gradient step for every layer from `(a, K a)`, given `g` and `K g`:
/// `a - eta g`, scaled onto the ball of radius `omega` in the `K`-norm; returns the new pair.
fn step_project(a: &[f64], ka: &[f64], g: &[f64], kg: &[f64], eta: f64, omega: f64) -> (Vec<f64>, Vec<f64>) {
    let mut next: Vec<f64> = a.iter().zip(g).map(|(x, gi)| x - eta * gi).collect();
    let mut knext: Vec<f64> = ka.iter().zip(kg).map(|(x, gi)| x - eta * gi).collect();
    scale_onto_ball(&mut next, &mut knext, omega);
    (next, knext)
}

/// The data of an NTRF problem: per-layer kernels at `W0`, the outputs `f_W0(x_i)`, the
/// labels and the width (the ball's radius is `R / sqrt(m)`).
#[derive(Clone, Copy, Debug)]
pub struct NtrfProblem<'a> {
    /// `K_l`, raw (not divided by m).
    pub per_layer: &'a [Gram],
    /// `f_W0(x_i)`.
    pub f0: &'a [f64],
    /// Labels in {-1, +1}.
    pub y: &'a [f64],
    /// The width `m`.
    pub width: usize,
}

/// When the solver stops.
#[derive(Clone, Copy, Debug)]
pub struct SolverLimits {
    /// Stop when the relative KKT residual is below this.
    pub tol: f64,
    /// Or after this many iterations.
    pub max_iter: usize,
}

/// Solves for one radius, starting from `warm` (or zero).
///
/// Each iteration costs one pass over the kernels (`K_l g` per layer): the solver carries
/// `K_l alpha_l` along with `alpha_l` (both move linearly), so predictions and ball norms are
/// O(n) updates. Every 10 iterations the carried products of the iterate and the previous
/// iterate are recomputed exactly (momentum amplifies any drift between them, and a refresh of
/// one alone makes the extrapolation inconsistent), and one more pass gives the KKT residual.
pub fn solve(problem: NtrfProblem, radius: f64, warm: Option<&[Vec<f64>]>, limits: SolverLimits) -> NtrfSolution {
    let NtrfProblem { per_layer, f0, y, width } = problem;
    let SolverLimits { tol, max_iter } = limits;
    let n = y.len();
    let omega = radius / (width as f64).sqrt();
    let total = Gram::sum(per_layer, n);
    let eta = 4.0 * n as f64 / lambda_max(&total).max(f64::MIN_POSITIVE);
    let mut alpha: Vec<Vec<f64>> = warm.map(|w| w.to_vec()).unwrap_or_else(|| vec![vec![0.0; n]; per_layer.len()]);
    let mut ka = products(per_layer, &alpha);
    // Project the start onto the ball.
    for (a, kv) in alpha.iter_mut().zip(ka.iter_mut()) {
        scale_onto_ball(a, kv, omega);
    }
    let (mut prev, mut kprev) = (alpha.clone(), ka.clone());
    let mut t = 1.0f64;
    let mut kkt = f64::INFINITY;
    // The residual's scale: the parameter-space gradient norm at W0 (alpha = 0).
    let (_, g0) = loss_grad(f0, y, &[]);
    let scale = matvecs(per_layer, &g0).iter().map(|kg| dot(&g0, kg)).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    let mut it = 0;
    while it < max_iter {
        it += 1;
        // The residual at the current iterate (a plain projected-gradient step from `alpha`),
        // with `K alpha` recomputed exactly.
        if it % 10 == 1 || it == max_iter {
            ka = products(per_layer, &alpha);
            kprev = products(per_layer, &prev);
            let (_, ga) = loss_grad(f0, y, &ka);
            let kga = matvecs(per_layer, &ga);
            kkt = (0..per_layer.len())
                .map(|l| {
                    let (s, ks) = step_project(&alpha[l], &ka[l], &ga, &kga[l], eta, omega);
                    // ||J^T (s - a)||^2 = (s - a)^T (K s - K a).
                    let d: Vec<f64> = s.iter().zip(&alpha[l]).map(|(p, q)| p - q).collect();
                    let kd: Vec<f64> = ks.iter().zip(&ka[l]).map(|(p, q)| p - q).collect();
                    dot(&d, &kd).max(0.0)
                })
                .sum::<f64>()
                .sqrt()
                / eta
                / scale;
            if kkt < tol {
                break;
            }
        }
        // FISTA extrapolation point, and its K-products by linearity.
        let t_next = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
        let beta = (t - 1.0) / t_next;
        let extrapolate =
            |a: &[f64], p: &[f64]| -> Vec<f64> { a.iter().zip(p).map(|(x, y)| x + beta * (x - y)).collect() };
        let point: Vec<Vec<f64>> = alpha.iter().zip(&prev).map(|(a, p)| extrapolate(a, p)).collect();
        let kpoint: Vec<Vec<f64>> = ka.iter().zip(&kprev).map(|(a, p)| extrapolate(a, p)).collect();
        let (_, g) = loss_grad(f0, y, &kpoint);
        let kg = matvecs(per_layer, &g);
        let (next, knext): (Vec<Vec<f64>>, Vec<Vec<f64>>) =
            (0..per_layer.len()).map(|l| step_project(&point[l], &kpoint[l], &g, &kg[l], eta, omega)).unzip();
        prev = std::mem::replace(&mut alpha, next);
        kprev = std::mem::replace(&mut ka, knext);
        t = t_next;
    }
    let ka = products(per_layer, &alpha);
    let (loss, _) = loss_grad(f0, y, &ka);
    let sm = (width as f64).sqrt();
    let scaled_norms: Vec<f64> = alpha.iter().zip(&ka).map(|(a, kv)| sm * dot(a, kv).max(0.0).sqrt()).collect();
    let active = scaled_norms.iter().map(|v| (radius - v).abs() <= 1e-6 * radius.max(1e-12)).collect();
    NtrfSolution { radius, loss, scaled_norms, active, kkt_residual: kkt, iterations: it, alpha }
}

/// `eps_NTRF` over a grid of radii (ascending), each warm-started from the previous optimum
/// (feasible: a smaller ball's optimum lies in the larger ball).
pub fn solve_grid(problem: NtrfProblem, radii: &[f64], limits: SolverLimits) -> Vec<NtrfSolution> {
    let mut out: Vec<NtrfSolution> = Vec::with_capacity(radii.len());
    for &r in radii {
        let warm = out.last().map(|s| s.alpha.clone());
        out.push(solve(problem, r, warm.as_deref(), limits));
    }
    out
}
