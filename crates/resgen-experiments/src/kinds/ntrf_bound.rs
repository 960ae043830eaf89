//! ntrf-bound: eps_NTRF over the radius grid with every bound formula, and each formula
//! minimized over R on its own (`radius = best`): the eps_NTRF bound is smaller for the ResNet.

use crate::ExperimentError;
use resgen_bounds::defaults::{RAD_SAMPLES, SOLVER_LIMITS, radius_grid_from};
use resgen_bounds::evaluate;
use resgen_bounds::formulas::BoundConstants;

use super::params::{InvalidParam, Validate, at_least, number, params_with_bounds};
use super::shared::{init_kernels, names};
use super::{Context, ExperimentKind};
use crate::record::{Record, key, key_number};
use crate::spec::Cell;

/// Key: the radius R of the grid, or [`BEST`].
pub const RADIUS: &str = "radius";
/// The key of the row with each formula minimized over R on its own.
pub const BEST: &str = "best";
/// Key: the bound constants, as [`BoundConstants::describe`] writes them.
pub const CONSTANTS: &str = "constants";
/// `eps_NTRF(R)`.
pub const EPS_NTRF: &str = "eps_ntrf";
/// The solver's KKT residual.
pub const KKT_RESIDUAL: &str = "kkt_residual";
/// The solver's duality gap.
pub const DUALITY_GAP: &str = "duality_gap";
/// Rademacher term, Monte Carlo.
pub const RAD_MC: &str = "rad_mc";
/// Its standard error.
pub const RAD_MC_STDERR: &str = "rad_mc_stderr";
/// Rademacher term, closed form.
pub const RAD_CF: &str = "rad_cf";

/// The column of a bound formula's value: `bound_<formula>`.
pub fn bound_column(formula: &str) -> String {
    format!("bound_{formula}")
}

/// The column of the radius a formula is minimized at: `r_star_<formula>`.
pub fn r_star_column(formula: &str) -> String {
    format!("r_star_{formula}")
}

params_with_bounds! {
    /// ntrf-bound's `[params]`: the Monte Carlo sign vectors, the radius grid, and the bound
    /// constants.
    pub struct Params {
        /// Sign vectors of the Monte Carlo Rademacher terms.
        rad_samples: usize = RAD_SAMPLES,
        /// The smallest radius of the grid `R = 2^(k/2)` (up to 181) the bounds are minimized
        /// over; low enough that every minimizer is interior.
        #[serde(deserialize_with = "number")]
        radius_from: f64 = DEFAULT_RADIUS_FROM,
    }
}

impl Validate for Params {
    fn validate(&self) -> Result<(), InvalidParam> {
        at_least("rad_samples", self.rad_samples, 1)?;
        if !(self.radius_from.is_finite() && self.radius_from > 0.0 && self.radius_from <= 181.0) {
            return Err(InvalidParam::new(
                "radius_from",
                format!("must be a radius in (0, 181], got {}", self.radius_from),
            ));
        }
        <BoundConstants as Validate>::validate(&self.bounds)
    }
}

/// The default smallest radius of the grid.
pub const DEFAULT_RADIUS_FROM: f64 = 0.25;

/// Whether a minimizer `r_star` lies strictly inside the radius grid (not at either end), so
/// that the minimum is resolved: at an end the bound may still fall beyond the grid.
pub fn interior(r_star: f64, grid: &[f64]) -> bool {
    let (lo, hi) = (grid.iter().copied().fold(f64::INFINITY, f64::min), grid.iter().copied().fold(0.0, f64::max));
    r_star.is_finite() && r_star > lo * (1.0 + 1e-9) && r_star < hi * (1.0 - 1e-9)
}

/// The ntrf-bound kind.
pub struct NtrfBound;

impl ExperimentKind for NtrfBound {
    type Params = Params;

    fn columns() -> Vec<String> {
        let mut c = names(&[EPS_NTRF, KKT_RESIDUAL, DUALITY_GAP, RAD_MC, RAD_MC_STDERR, RAD_CF], &[]);
        c.extend(evaluate::FORMULAS.iter().flat_map(|f| [bound_column(f), r_star_column(f)]));
        c
    }

    fn measure(cell: &Cell, p: &Params, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let constants = p.bounds;
        if !(p.radius_from.is_finite() && p.radius_from > 0.0 && p.radius_from <= 181.0) {
            return Err(ExperimentError::Params(format!(
                "params.radius_from = {}: must be a radius in (0, 181]",
                p.radius_from
            )));
        }
        let (split, k, f0) = init_kernels(cfg, ctx)?;
        let eval = evaluate::eps_ntrf_bounds(
            &k.per_layer,
            &f0,
            &split.train.y,
            cfg.model.width,
            cfg.model.depth,
            &radius_grid_from(p.radius_from),
            SOLVER_LIMITS,
            &constants,
            p.rad_samples,
            cfg.data.seed,
        );
        let c = constants.describe();
        let mut out: Vec<Record> = eval
            .rows
            .iter()
            .map(|row| {
                let s = &row.solution;
                let mut r = Record::new(&[key(RADIUS, key_number(s.radius)), key(CONSTANTS, c.clone())])
                    .with(EPS_NTRF, s.loss)
                    .with(KKT_RESIDUAL, s.kkt_residual)
                    .with(DUALITY_GAP, s.gap)
                    .with(RAD_MC, row.rad_mc)
                    .with(RAD_MC_STDERR, row.rad_mc_stderr)
                    .with(RAD_CF, row.rad_cf);
                for (f, b) in evaluate::FORMULAS.iter().zip(&row.bounds) {
                    r = r.with(&bound_column(f), *b);
                }
                r
            })
            .collect();
        // "best": each formula minimized over R on its own, with its own r_star.
        let mut best = Record::new(&[key(RADIUS, BEST), key(CONSTANTS, c)]);
        for b in &eval.best {
            best = best.with(&bound_column(b.formula), b.value).with(&r_star_column(b.formula), b.r_star);
        }
        out.push(best);
        Ok(out)
    }
}

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use crate::results::{Cells, Table};
    use crate::spec::grid::*;
    use crate::verdict::*;
    let (diff_min, vacuous_from) = (rule.num("diff_min")?, rule.num("vacuous_from")?);
    let t = Table::main(r, "ntrf-bound", &NtrfBound::columns())?;
    let c = Cells::load(r, "ntrf-bound", &NtrfBound::columns())?;
    let hi = t.max_num(DEPTH)?;
    let measured = bound_column("measured_rad");
    let grid: Vec<f64> = t.values(RADIUS)?.iter().filter_map(|v| v.parse().ok()).collect();
    let (g_lo, g_hi) = (grid.iter().copied().fold(f64::INFINITY, f64::min), grid.iter().copied().fold(0.0, f64::max));
    let mut parts = Vec::new();
    let (mut res_lower, mut any_below_one, mut resolved) = (true, false, true);
    for n in t.values(N_TRAIN)? {
        let v = |a: &str, b: &str| t.get(&[(N_TRAIN, &n), (ARCH, a), (DEPTH, &hi), (RADIUS, BEST)], b);
        let sv = |a: &str| c.seeds(&[(N_TRAIN, &n), (ARCH, a), (DEPTH, &hi), (RADIUS, BEST)], &measured);
        let (rm, fm) = (v(RESNET, &measured)?, v(FC, &measured)?);
        let diff = paired_diff(&sv(FC)?, &sv(RESNET)?);
        res_lower &= above(diff, diff_min);
        any_below_one |= rm < vacuous_from || fm < vacuous_from;
        // Every seed's minimizing radius must lie inside the grid, or the minimum is not found.
        let mut r_stars = Vec::new();
        for a in [RESNET, FC] {
            let rs =
                c.seeds(&[(N_TRAIN, &n), (ARCH, a), (DEPTH, &hi), (RADIUS, BEST)], &r_star_column("measured_rad"))?;
            resolved &= rs.iter().all(|(_, x)| interior(*x, &grid));
            r_stars.push(format!("{} {}", a, rs.iter().map(|(_, x)| g(*x)).collect::<Vec<_>>().join("/")));
        }
        parts.push(format!(
            "n = {n}: measured-Rademacher bound ResNet {}, FC {}, FC minus ResNet {} (minimizing R per seed: {}; FC formula on FC {}, ResNet formula on ResNet {}, ResNet formula on FC {})",
            g(rm),
            g(fm),
            diff_text(diff),
            r_stars.join(", "),
            g(v(FC, &bound_column("cg_fc_formula"))?),
            g(v(RESNET, &bound_column("fcg_resnet_formula"))?),
            g(v(FC, &bound_column("fcg_resnet_formula"))?)
        ));
    }
    let verdict = if !resolved {
        Verdict::why(
            Outcome::NotMeasurable,
            format!("a minimizing radius lies at an end of the grid {} to {}", g(g_lo), g(g_hi)),
        )
    } else if res_lower && !any_below_one {
        Verdict::why(Outcome::OrderingVacuous, "> 1".into())
    } else {
        Verdict::of(res_lower)
    };
    Ok(Claim::new(
        "the eps_NTRF bound is smaller for the ResNet",
        "ntrf-bound",
        "4 eps_NTRF(R) + Rad_S(F_lin(R)) + conf., one expression for both networks, each minimized over R: smaller for the ResNet",
        format!(
            "L = {hi}, each bound minimized over R = {} to {} on its own, 95% intervals over seeds (rule: FC minus ResNet above 0, every seed agreeing, every minimizer inside the grid): {}",
            g(g_lo),
            g(g_hi),
            parts.join("; ")
        ),
        verdict,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimizer_at_either_end_of_the_grid_is_not_interior() {
        let grid = radius_grid_from(0.25);
        assert_eq!((grid[0], grid.len()), (0.25, 20));
        assert!(!interior(0.25, &grid) && !interior(grid[19], &grid) && !interior(f64::NAN, &grid));
        assert!(interior(grid[1], &grid) && interior(4.0, &grid));
        // Extended downward: 2^(-14/2) = 1/128 is the first point, and 0.25 is now interior.
        let low = radius_grid_from(1.0 / 128.0);
        assert_eq!((low[0], low.len()), (1.0 / 128.0, 30));
        assert!(interior(0.25, &low));
    }
}
