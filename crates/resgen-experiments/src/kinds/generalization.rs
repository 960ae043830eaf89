//! generalization: a full training run in the cell's folder and its bounds report: the trained
//! test error and gap beside every bound (a smaller generalization gap for the deep ResNet).

use crate::ExperimentError;
use resgen_bounds::formulas::BoundConstants;
use resgen_train::{RunOutcome, StopReason};
use serde::Deserialize;

use super::params::{InvalidParam, Validate, number};
use super::shared::{bound_constants, check_bound_constants, names, steps_work};
use super::{Context, ExperimentKind};
use crate::record::{Record, key};
use crate::spec::Cell;

/// Key: the bound constants, as [`BoundConstants::describe`] writes them.
pub const CONSTANTS: &str = "constants";
/// The test error of the trained network (a quantity of the bounds report, as every value
/// column here).
pub const TEST_ERROR: &str = "test_error";
/// GD steps taken (the budget `train.iterations` if the target loss was not reached).
pub const STEPS: &str = "steps";
/// 1 if the training loss reached `train.target_loss` within the budget.
pub const REACHED: &str = "reached";
/// Test error minus training error.
pub const GENERALIZATION_GAP: &str = "generalization_gap";
/// The empirical NTK complexity `sqrt(y^T K^-1 y / n)` at W0.
pub const NTK_COMPLEXITY: &str = "ntk_sqrt_yKinvy_over_n";
/// The eps_NTRF bound with the measured Rademacher term, minimized over R.
pub const BOUND_MEASURED_RAD: &str = "bound_measured_rad";

/// The bounds report's quantities that describe the run rather than measure it: not columns.
const NOT_COLUMNS: [&str; 3] = ["n", "width", "depth_L"];

/// The `[params]` of generalization and label-noise: the bound constants.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// The bound constants ([`BoundConstants`]).
    #[serde(deserialize_with = "number")]
    pub delta: f64,
    #[serde(deserialize_with = "number")]
    pub c_eps: f64,
    #[serde(deserialize_with = "number")]
    pub c_radius: f64,
    #[serde(deserialize_with = "number")]
    pub c_conf: f64,
    #[serde(deserialize_with = "number")]
    pub c_ntk: f64,
}

impl Default for Params {
    fn default() -> Self {
        let c = BoundConstants::default();
        Params { delta: c.delta, c_eps: c.c_eps, c_radius: c.c_radius, c_conf: c.c_conf, c_ntk: c.c_ntk }
    }
}

impl Validate for Params {
    fn validate(&self) -> Result<(), InvalidParam> {
        check_bound_constants(&BoundConstants {
            delta: self.delta,
            c_eps: self.c_eps,
            c_radius: self.c_radius,
            c_conf: self.c_conf,
            c_ntk: self.c_ntk,
        })
    }
}

/// The generalization kind.
pub struct Generalization;

impl ExperimentKind for Generalization {
    type Params = Params;

    fn columns() -> Vec<String> {
        names(&[TEST_ERROR, GENERALIZATION_GAP, NTK_COMPLEXITY, BOUND_MEASURED_RAD, STEPS, REACHED], &[])
    }

    fn measure(cell: &Cell, p: &Params, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        Ok(vec![trained_with_bounds(cell, p, ctx)?.0])
    }

    fn work(cell: &Cell, _: &Params) -> (u64, f64) {
        steps_work(&cell.config, cell.config.train.iterations as u64)
    }
}

/// Trains the cell's run into `<cell>/run` and reports its bounds: the record (every quantity
/// of the bounds report as a value) and the training outcome. A diverging run is an error.
pub(crate) fn trained_with_bounds(
    cell: &Cell,
    p: &Params,
    ctx: &Context,
) -> Result<(Record, RunOutcome), ExperimentError> {
    let cfg = &cell.config;
    let constants = bound_constants(p.delta, p.c_eps, p.c_radius, p.c_conf, p.c_ntk)?;
    let run_dir = ctx.dir.join("run");
    let opts =
        resgen_train::RunOptions { backend: ctx.backend, out: Some(run_dir.clone()), quiet: true, name: "cell".into() };
    let outcome = resgen_train::train_run(cfg, &opts)?;
    if let StopReason::Diverged(e) = outcome.stop {
        return Err(e.into());
    }
    let values = resgen_reports::bounds_report(&run_dir, ctx.kernel_device()?, &constants)?;
    let mut r = Record::new(&[key(CONSTANTS, constants.describe())]);
    for (k, v) in &values {
        if !NOT_COLUMNS.contains(&k.as_str()) {
            r = r.with(k, *v);
        }
    }
    // The steps to the target training loss (the budget if not reached), and whether it was.
    let last = outcome.rows.last().ok_or_else(|| ExperimentError::Measurement("training logged nothing".into()))?;
    r = r.with(STEPS, last.iter as f64).with(REACHED, f64::from(u8::from(outcome.stop == StopReason::TargetLoss)));
    Ok((r, outcome))
}
