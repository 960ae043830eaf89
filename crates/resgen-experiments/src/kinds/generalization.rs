//! generalization: a full training run in the cell's folder and its bounds report: the trained
//! test error and gap beside every bound (a smaller generalization gap for the deep ResNet).

use crate::ExperimentError;
use resgen_bounds::formulas::BoundConstants;
use resgen_train::{RunOutcome, StopReason};

use super::params::{InvalidParam, Validate, params_with_bounds};
use super::shared::{names, steps_work};
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

params_with_bounds! {
    /// The `[params]` of generalization and label-noise: the bound constants.
    pub struct Params {}
}

impl Validate for Params {
    fn validate(&self) -> Result<(), InvalidParam> {
        <BoundConstants as Validate>::validate(&self.bounds)
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
    let constants = p.bounds;
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

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use crate::results::{Cells, Table};
    use crate::spec::grid::*;
    use crate::verdict::*;
    let gap_diff_min = rule.num("gap_diff_min")?;
    let t = Table::main(r, "generalization", &Generalization::columns())?;
    let c = Cells::load(r, "generalization", &Generalization::columns())?;
    let depths = t.sorted_nums(DEPTH)?;
    // The claim is about deep networks: every depth but the shallowest.
    let deep = &depths[1.min(depths.len() - 1)..];
    let mut parts = Vec::new();
    let (mut lower, mut total, mut reached, mut cells) = (0, 0, 0, 0);
    for d in &depths {
        let mut at_depth = Vec::new();
        for ds in t.values(DATASET)? {
            for n in t.values(N_TRAIN)? {
                let keys =
                    |a: &'static str| [(DATASET, ds.as_str()), (N_TRAIN, n.as_str()), (ARCH, a), (DEPTH, d.as_str())];
                let (rk, fk) = (keys(RESNET), keys(FC));
                let diff = paired_diff(&c.seeds(&fk, GENERALIZATION_GAP)?, &c.seeds(&rk, GENERALIZATION_GAP)?);
                for key in [&rk, &fk] {
                    let v = c.seeds(key, REACHED)?;
                    cells += v.len();
                    reached += v.iter().filter(|(_, x)| *x >= 1.0).count();
                }
                if deep.contains(d) {
                    total += 1;
                    if above(diff, gap_diff_min) {
                        lower += 1;
                    }
                }
                at_depth.push(format!(
                    "{ds} n = {n}: gap {} vs {} (FC minus ResNet {}), test error {} vs {}",
                    g(t.get(&rk, GENERALIZATION_GAP)?),
                    g(t.get(&fk, GENERALIZATION_GAP)?),
                    diff_text(diff),
                    g(t.get(&rk, TEST_ERROR)?),
                    g(t.get(&fk, TEST_ERROR)?)
                ));
            }
        }
        parts.push(format!("L = {d}: {}", at_depth.join("; ")));
    }
    let v = if lower == total && reached == cells {
        Verdict::bare(Outcome::Confirmed)
    } else if lower == 0 {
        Verdict::bare(Outcome::NotConfirmed)
    } else {
        Verdict::why(
            Outcome::NotConfirmed,
            format!(
                "the ResNet's gap smaller with an interval above 0 in {lower} of {total} settings at L = {}; target reached in {reached} of {cells} cells",
                deep.join(", ")
            ),
        )
    };
    Ok(Claim::new(
        "smaller generalization gap for the deep ResNet",
        "generalization",
        "at matched training loss, the ResNet's test error gap is smaller than FC's at depth",
        format!(
            "ResNet vs FC, both trained to loss 0.05 with the kernel-normalized step (reached in {reached} of {cells} cells), 95% intervals over seeds (rule: FC minus ResNet above 0, every seed agreeing, in every setting at L = {}): {}",
            deep.join(", "),
            parts.join(". ")
        ),
        v,
    ))
}
