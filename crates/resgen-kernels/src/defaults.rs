//! The settings the bound evaluations share, wherever they run (the `bounds` report, the
//! experiments, the benchmark): the radius grid, the solver's limits and the Monte Carlo and QP
//! budgets.

use crate::ntrf;

/// The radius grid for minimizing bounds over R: `R = 2^(k/2)`, `k = -4..=15` (0.25 to 181).
pub fn radius_grid() -> Vec<f64> {
    radius_grid_from(0.25)
}

/// The same grid, `R = 2^(k/2)` up to 181, starting at the grid point nearest `from` (> 0).
pub fn radius_grid_from(from: f64) -> Vec<f64> {
    let k0 = (2.0 * from.log2()).round() as i32;
    (k0..=15).map(|k| 2f64.powf(k as f64 / 2.0)).collect()
}

/// When the eps_NTRF solver stops (in `resgen bounds`, the experiments and the benchmark).
pub const SOLVER_LIMITS: ntrf::SolverLimits = ntrf::SolverLimits { tol: 1e-4, gap_tol: 1e-5, max_iter: 2_000 };

/// Sign vectors for the Monte Carlo Rademacher terms in `resgen bounds` and the bound tables.
pub const RAD_SAMPLES: usize = 500;

/// Sweep cap of the relabeling QP ([`crate::qp`]).
pub const QP_MAX_SWEEPS: usize = 20_000;
