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
        Ok(vec![(SPEARMAN, crate::fit::spearman_table(t.header, t.rows, &target, &[ARCH, DEPTH])?)])
    }
}
