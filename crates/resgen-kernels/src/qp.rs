//! The Cao-Gu NTK corollary in its infimum form:
//! `inf { sqrt(y~^T K^{-1} y~ / n) : y~_i y_i >= 1 }`.
//!
//! With `z_i = y_i y~_i` and `Q = D_y K^{-1} D_y` (`D_y = diag(y)`, `y_i in {-1, +1}`) it is the
//! convex quadratic program `min z^T Q z` subject to `z >= 1` (docs/derivations.md, section 4).
//! Solved by exact coordinate minimization over the box, `z_i <- max(1, z_i - (Qz)_i / Q_ii)`,
//! which converges for positive definite `Q`. Certified by the Lagrange dual: for `mu >= 0`,
//! `min_z z^T Q z - mu^T (z - 1) = mu^T 1 - mu^T Q^{-1} mu / 4`, and `Q^{-1} = D_y K D_y`
//! needs no inverse, so with `mu = 2 max(Qz, 0)` the gap `z^T Q z - dual` bounds the error.
//! At `z = 1` (`y~ = y`) the objective is `y^T K^{-1} y`: the infimum is never larger.

use crate::linalg::cholesky_with_ridge;
use crate::{Gram, KernelError};

/// The solution of the relabeling QP.
#[derive(Clone, Debug)]
pub struct Relabeling {
    /// `min y~^T (K + ridge I)^{-1} y~` over `y~_i y_i >= 1` (upper end of the certified interval).
    pub value: f64,
    /// `y^T (K + ridge I)^{-1} y`, the value at `y~ = y`.
    pub value_at_y: f64,
    /// The minimizer `y~`.
    pub y_tilde: Vec<f64>,
    /// Duality gap: the true minimum lies in `[value - gap, value]`.
    pub gap: f64,
    /// Coordinate sweeps used.
    pub sweeps: usize,
    /// The ridge added to `K` for the inverse (0 if none was needed).
    pub ridge: f64,
}

impl Relabeling {
    /// `sqrt(value / n)`: the complexity term of the corollary in infimum form.
    pub fn complexity(&self) -> f64 {
        (self.value / self.y_tilde.len().max(1) as f64).sqrt()
    }

    /// `sqrt(y^T K^{-1} y / n)`.
    pub fn complexity_at_y(&self) -> f64 {
        (self.value_at_y / self.y_tilde.len().max(1) as f64).sqrt()
    }
}

/// Solves the QP for kernel `k` and labels `y` (entries +-1) until the duality gap is at most
/// `rel_tol` times the value, or `max_sweeps` sweeps.
pub fn infimum_relabeling(k: &Gram, y: &[f64], rel_tol: f64, max_sweeps: usize) -> Result<Relabeling, KernelError> {
    let n = k.n;
    if y.len() != n {
        return Err(KernelError::LabelCount { labels: y.len(), n });
    }
    if let Some(v) = y.iter().find(|v| v.abs() != 1.0) {
        return Err(KernelError::NotALabel(*v));
    }
    let chol = cholesky_with_ridge(k)?;
    // Q = D K^{-1} D, column by column: Q e_j = D K^{-1} (y_j e_j).
    let mut q = vec![0.0; n * n];
    for j in 0..n {
        let mut e = vec![0.0; n];
        e[j] = y[j];
        let col = chol.solve(&e);
        for i in 0..n {
            q[i * n + j] = y[i] * col[i];
        }
    }
    // Symmetrize against rounding.
    for i in 0..n {
        for j in i + 1..n {
            let s = 0.5 * (q[i * n + j] + q[j * n + i]);
            q[i * n + j] = s;
            q[j * n + i] = s;
        }
    }
    let mut z = vec![1.0; n];
    let mut qz: Vec<f64> = (0..n).map(|i| q[i * n..(i + 1) * n].iter().sum()).collect();
    let value_at_y: f64 = qz.iter().sum();
    // Q^{-1} = D (K + ridge I) D.
    let dual = |qz: &[f64]| -> f64 {
        let mu: Vec<f64> = qz.iter().map(|g| 2.0 * g.max(0.0)).collect();
        let u: Vec<f64> = mu.iter().zip(y).map(|(m, yi)| m * yi).collect();
        let ku = crate::linalg::matvec(k, &u);
        let quad: f64 = u.iter().zip(&ku).map(|(a, b)| a * b).sum::<f64>() + chol.ridge * crate::linalg::dot(&u, &u);
        mu.iter().sum::<f64>() - quad / 4.0
    };
    let objective = |z: &[f64], qz: &[f64]| -> f64 { z.iter().zip(qz).map(|(a, b)| a * b).sum() };
    let mut sweeps = 0;
    let mut gap = objective(&z, &qz) - dual(&qz);
    while sweeps < max_sweeps && gap > rel_tol * objective(&z, &qz).abs() {
        for i in 0..n {
            let qii = q[i * n + i];
            let new = (z[i] - qz[i] / qii).max(1.0);
            let step = new - z[i];
            if step != 0.0 {
                z[i] = new;
                let col = &q[i * n..(i + 1) * n];
                for (g, c) in qz.iter_mut().zip(col) {
                    *g += c * step;
                }
            }
        }
        sweeps += 1;
        if sweeps % 10 == 0 || sweeps == max_sweeps {
            // Refresh Qz against drift, then measure the gap.
            qz = (0..n).map(|i| crate::linalg::dot(&q[i * n..(i + 1) * n], &z)).collect();
            gap = objective(&z, &qz) - dual(&qz);
        }
    }
    let value = objective(&z, &qz);
    Ok(Relabeling {
        value,
        value_at_y,
        y_tilde: z.iter().zip(y).map(|(a, b)| a * b).collect(),
        gap: gap.max(0.0),
        sweeps,
        ridge: chol.ridge,
    })
}
