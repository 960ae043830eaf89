//! label-noise: generalization's measurements under training-label noise, with the steps to
//! the target loss and the analytic NTK complexity (beyond the paper: complexities track label
//! noise, Arora et al. 2019). Derives the Spearman table of every quantity against the test
//! error, `results/label-noise-spearman.csv`.

use crate::ExperimentError;
use resgen_bounds::{analytic, linalg};

use super::generalization::{self, Generalization, Params, TEST_ERROR, trained_with_bounds};
use super::shared::{load, steps_work};
use super::{Context, Derived, ExperimentKind, Summary};
use crate::record::Record;
use crate::spec::Cell;

/// Steps to the target training loss (the budget if not reached).
pub const STEPS: &str = generalization::STEPS;
/// 1 if the target training loss was reached.
pub const REACHED: &str = generalization::REACHED;
/// The analytic (infinite-width) NTK complexity on the noisy training labels.
pub const ANALYTIC_COMPLEXITY: &str = "analytic_sqrt_yKinvy_over_n";
/// The empirical NTK complexity (generalization's column).
pub const NTK_COMPLEXITY: &str = generalization::NTK_COMPLEXITY;
/// The measured-Rademacher bound (generalization's column).
pub const BOUND_MEASURED_RAD: &str = generalization::BOUND_MEASURED_RAD;

/// The derived table's suffix: `results/label-noise-spearman.csv`.
pub const SPEARMAN: &str = "spearman";
/// Columns of the Spearman table.
pub const ARCH: &str = "arch";
/// Its depth column (`all` where pooled over depths).
pub const DEPTH: &str = "depth";
/// Which quantity a row correlates with the test error.
pub const QUANTITY: &str = "quantity";
/// The rank correlation.
pub const RHO: &str = "spearman";

/// The label-noise kind.
pub struct LabelNoise;

impl ExperimentKind for LabelNoise {
    type Params = Params;

    fn columns() -> Vec<String> {
        let mut c = Generalization::columns();
        c.push(ANALYTIC_COMPLEXITY.to_string());
        c
    }

    fn measure(cell: &Cell, p: &Params, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        // The trained network's record ends with its steps and whether it reached the target;
        // then the analytic (infinite-width) NTK complexity on the same noisy training labels.
        let (mut r, _) = trained_with_bounds(cell, p, ctx)?;
        let split = load(cfg)?;
        let (n, d) = (split.train.n, split.train.d);
        let a = analytic::ntk(&cfg.model, &split.train.x, n, d)?;
        r = r.with(ANALYTIC_COMPLEXITY, linalg::ntk_complexity(&a, &split.train.y)?);
        Ok(vec![r])
    }

    fn work(cell: &Cell, _: &Params) -> (u64, f64) {
        steps_work(&cell.config, cell.config.train.iterations as u64)
    }

    fn derived(t: &Summary) -> Result<Vec<Derived>, ExperimentError> {
        let target = format!("{TEST_ERROR}_mean");
        Ok(vec![(SPEARMAN, crate::fits::spearman_table(t.header, t.rows, &target, &[ARCH, DEPTH])?)])
    }
}

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use super::generalization::TEST_ERROR;
    use crate::results::{Cells, Table};
    use crate::spec::grid::*;
    use crate::verdict::*;
    use resgen_stats::Interval;
    let spearman_min = rule.num("spearman_min")?;
    let t = Table::main(r, "label-noise", &LabelNoise::columns())?;
    let c = Cells::load(r, "label-noise", &LabelNoise::columns())?;
    let levels = t.sorted_nums(LABEL_NOISE)?;
    let depths = t.sorted_nums(DEPTH)?;
    // Per network, depth and seed: Spearman of a quantity with the test error over the noise
    // levels; its mean over seeds with an interval.
    let rho = |a: &str, d: &str, q: &str| -> Result<(Option<Interval>, usize), ExperimentError> {
        let mut per_seed: Vec<(u64, Vec<f64>, Vec<f64>)> = Vec::new();
        for lvl in &levels {
            let keys = [(LABEL_NOISE, lvl.as_str()), (ARCH, a), (DEPTH, d)];
            let (xs, ys) = (c.seeds(&keys, q)?, c.seeds(&keys, TEST_ERROR)?);
            for ((seed, x), (_, y)) in xs.into_iter().zip(ys) {
                match per_seed.iter_mut().find(|p| p.0 == seed) {
                    Some(p) => {
                        p.1.push(x);
                        p.2.push(y);
                    }
                    None => per_seed.push((seed, vec![x], vec![y])),
                }
            }
        }
        let rhos: Vec<f64> = per_seed.iter().filter_map(|(_, x, y)| resgen_stats::spearman(x, y)).collect();
        Ok((mean_interval(&rhos), rhos.len()))
    };
    let mut parts = Vec::new();
    let (mut analytic_ok, mut trained_ok) = (true, true);
    let (mut reached, mut cells) = (0, 0);
    for a in [RESNET, FC] {
        for d in &depths {
            let (an, seeds) = rho(a, d, ANALYTIC_COMPLEXITY)?;
            let (em, _) = rho(a, d, NTK_COMPLEXITY)?;
            let (bd, _) = rho(a, d, BOUND_MEASURED_RAD)?;
            let tracks = |i: Option<Interval>| i.is_some_and(|i| i.estimate >= spearman_min && i.lo > 0.0);
            analytic_ok &= tracks(an) && seeds >= 2;
            trained_ok &= tracks(bd) && seeds >= 2;
            for lvl in &levels {
                let v = c.seeds(&[(LABEL_NOISE, lvl.as_str()), (ARCH, a), (DEPTH, d)], REACHED)?;
                cells += v.len();
                reached += v.iter().filter(|(_, x)| *x >= 1.0).count();
            }
            let f = |i: Option<Interval>| i.map_or_else(|| "n/a".into(), iv);
            parts.push(format!("{a} L = {d}: analytic {}, empirical {}, bound {}", f(an), f(em), f(bd)));
        }
    }
    let all_reached = reached == cells;
    let trained = if !all_reached {
        Part {
            outcome: Outcome::NotMeasurable,
            scope: "for the trained networks".into(),
            why: Some(format!("target loss reached in {reached} of {cells} cells")),
        }
    } else {
        Part {
            outcome: Outcome::of(trained_ok),
            scope: "for the trained networks' measured-Rademacher bound".into(),
            why: None,
        }
    };
    let analytic = Part {
        outcome: Outcome::of(analytic_ok),
        scope: "for the analytic complexity (data and labels only)".into(),
        why: None,
    };
    let v = Verdict::Split(vec![analytic, trained]);
    Ok(Claim::new(
        "Complexities track label noise (beyond the paper, Arora et al. 2019)",
        "label-noise",
        "sqrt(y^T K^-1 y / n) rises with the fraction of corrupted training labels, as the test error does (Spearman over noise levels, per network and depth)",
        format!(
            "Spearman with the test error over {} noise levels, mean over seeds with its 95% interval, per network and depth (analytic NTK complexity; empirical NTK complexity at W0; measured-Rademacher bound of the trained network): {}; target loss 0.05 reached in {reached} of {cells} cells. Rule: mean at least {spearman_min} with the interval above 0 for every network and depth, judged apart for the analytic complexity and for the trained networks (only where every cell reached the target)",
            levels.len(),
            parts.join("; ")
        ),
        v,
    ))
}
