//! Every eps_NTRF bound for one network, over the radius grid, each minimized over R on its own.
//!
//! For each radius `R` of [`crate::defaults::radius_grid`]: `eps_NTRF(R)` (the convex NTRF
//! problem, [`crate::ntrf`]), the Rademacher complexity of the linearized ball `F_lin(R)`
//! (Monte Carlo with its standard error, and the closed-form upper bound; both are linear in `R`,
//! so they are computed once at `R = 1` and scaled), and the four bounds of
//! [`crate::formulas`]: `cg_fc_formula`, `fcg_resnet_formula`, `measured_rad` (Monte Carlo
//! Rademacher term) and `measured_rad_cf` (closed-form Rademacher term). Then, per formula, its
//! minimum over the grid and the radius `r_star` where it is attained: "best" means exactly this,
//! in every table and report.

use crate::Gram;
use crate::formulas::{self, BoundConstants};
use crate::ntrf::{self, NtrfProblem, NtrfSolution, SolverLimits};
use crate::rademacher::{self, Rademacher};

/// The bound formulas that depend on `R`, in column order.
pub const FORMULAS: [&str; 4] = ["cg_fc_formula", "fcg_resnet_formula", "measured_rad", "measured_rad_cf"];

/// One radius of the grid.
#[derive(Clone, Debug)]
pub struct RadiusRow {
    /// The NTRF solution at this radius (`loss` = eps_NTRF(R)).
    pub solution: NtrfSolution,
    /// Monte Carlo `Rad_S(F_lin(R))`.
    pub rad_mc: f64,
    /// Its standard error.
    pub rad_mc_stderr: f64,
    /// Closed-form upper bound `(R / sqrt(m) / n) sum_l sqrt(tr K_l)`.
    pub rad_cf: f64,
    /// The value of each of [`FORMULAS`], in order.
    pub bounds: [f64; 4],
}

/// A formula's minimum over the grid.
#[derive(Clone, Debug)]
pub struct Best {
    /// The formula's name (one of [`FORMULAS`]).
    pub formula: &'static str,
    /// Its minimum over the grid.
    pub value: f64,
    /// The radius attaining it.
    pub r_star: f64,
    /// eps_NTRF at that radius.
    pub eps_ntrf: f64,
}

/// The whole evaluation.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// One row per radius.
    pub rows: Vec<RadiusRow>,
    /// One entry per formula, in the order of [`FORMULAS`].
    pub best: Vec<Best>,
    /// The Rademacher terms at `R = 1`.
    pub rad_unit: Rademacher,
}

/// Evaluates every eps_NTRF bound for a network of `depth` hidden layers (Cao-Gu's depth count
/// `L + 1` is used in `cg_fc_formula`) with per-layer kernels `per_layer` at `W0`, outputs
/// `f0`, labels `y`, on the radius grid `radii`.
#[allow(clippy::too_many_arguments)]
pub fn eps_ntrf_bounds(
    per_layer: &[Gram],
    f0: &[f64],
    y: &[f64],
    width: usize,
    depth: usize,
    radii: &[f64],
    limits: SolverLimits,
    constants: &BoundConstants,
    rad_samples: usize,
    seed: u64,
) -> Evaluation {
    let n = y.len();
    let problem = NtrfProblem { per_layer, f0, y, width };
    let grid = ntrf::solve_grid(problem, radii, limits);
    let rad_unit = rademacher::rademacher(per_layer, 1.0, width, rad_samples, seed);
    let g = radii.len();
    let rows: Vec<RadiusRow> = grid
        .into_iter()
        .map(|s| {
            let r = s.radius;
            let (rad_mc, rad_cf) = (r * rad_unit.mc, r * rad_unit.bound);
            let bounds = [
                formulas::cao_gu_fc(s.loss, formulas::cao_gu_depth(depth), r, n, constants),
                formulas::frei_cao_gu_resnet(s.loss, r, n, constants),
                formulas::measured_rademacher(s.loss, rad_mc, n, g, constants),
                formulas::measured_rademacher(s.loss, rad_cf, n, g, constants),
            ];
            RadiusRow { rad_mc, rad_mc_stderr: r * rad_unit.mc_stderr, rad_cf, bounds, solution: s }
        })
        .collect();
    let best = FORMULAS
        .iter()
        .enumerate()
        .map(|(k, &formula)| {
            let row = rows.iter().min_by(|a, b| a.bounds[k].total_cmp(&b.bounds[k])).expect("a non-empty radius grid");
            Best { formula, value: row.bounds[k], r_star: row.solution.radius, eps_ntrf: row.solution.loss }
        })
        .collect();
    Evaluation { rows, best, rad_unit }
}

/// The smallest radius of the sequence `2^(k/2)` (the grid's spacing, continued beyond it) that
/// is at least `r`, and how many grid points a union bound must cover to include it: the
/// Rademacher route evaluated at a trained network's radius uses this radius and `G` radii.
pub fn grid_radius_at_least(r: f64, radii: &[f64]) -> (f64, usize) {
    if let Some(&g) = radii.iter().find(|&&g| g >= r) {
        return (g, radii.len());
    }
    let mut g = *radii.last().unwrap_or(&1.0);
    let mut count = radii.len();
    while g < r {
        g *= std::f64::consts::SQRT_2;
        count += 1;
    }
    (g, count)
}
