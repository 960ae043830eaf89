//! gd-dynamics: the logged training curve, one record per logged iteration (GD reaches a
//! small training loss).

use super::shared::{names, steps_work, train};
use super::{Context, ExperimentKind, NoParams};
use crate::ExperimentError;
use crate::record::{Record, key};
use crate::spec::Cell;

/// Key: the iteration.
pub const ITER: &str = "iter";
/// The training loss.
pub const TRAIN_LOSS: &str = "train_loss";
/// The training surrogate loss.
pub const TRAIN_SURROGATE: &str = "train_surrogate";
/// The training error.
pub const TRAIN_ERROR: &str = "train_error";
/// The test error.
pub const TEST_ERROR: &str = "test_error";
/// `sqrt(m) max_l ||W_l - W0_l||_F`.
pub const DIST_MAX_SCALED: &str = "dist_max_scaled";

/// The gd-dynamics kind.
pub struct GdDynamics;

impl ExperimentKind for GdDynamics {
    type Params = NoParams;

    fn columns() -> Vec<String> {
        names(&[TRAIN_LOSS, TRAIN_SURROGATE, TRAIN_ERROR, TEST_ERROR, DIST_MAX_SCALED], &[])
    }

    const GENERAL_PATH: bool = true;

    fn measure(cell: &Cell, _: &NoParams, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let (_, rows) = train(cfg, ctx.backend)?;
        Ok(rows
            .iter()
            .map(|r| {
                Record::new(&[key(ITER, r.iter)])
                    .with(TRAIN_LOSS, r.train_loss)
                    .with(TRAIN_SURROGATE, r.train_surrogate)
                    .with(TRAIN_ERROR, r.train_error)
                    .with(TEST_ERROR, r.test_error)
                    .with(DIST_MAX_SCALED, r.radius(cfg.model.width))
            })
            .collect())
    }

    fn work(cell: &Cell, _: &NoParams) -> (u64, f64) {
        steps_work(&cell.config, cell.config.train.iterations as u64)
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
    let loss_fall_max = rule.num("loss_fall_max")?;
    let t = Table::main(r, "gd-dynamics", &GdDynamics::columns())?;
    let c = Cells::load(r, "gd-dynamics", &GdDynamics::columns())?;
    let last = t.max_num(ITER)?;
    let hi = t.max_num(DEPTH)?;
    let mut parts = Vec::new();
    let mut ok = true;
    for ds in t.values(DATASET)? {
        for a in [RESNET, FC] {
            let at = |it: &str| c.seeds(&[(DATASET, &ds), (ARCH, a), (DEPTH, &hi), (ITER, it)], TRAIN_LOSS);
            let (l0, l1) = (at("0")?, at(&last)?);
            let fall = paired_ratio(&l1, &l0);
            ok &= below(fall, loss_fall_max.ln());
            parts.push(format!(
                "{ds} {a} {} to {} (ratio {})",
                g(t.get(&[(DATASET, &ds), (ARCH, a), (DEPTH, &hi), (ITER, "0")], TRAIN_LOSS)?),
                g(t.get(&[(DATASET, &ds), (ARCH, a), (DEPTH, &hi), (ITER, &last)], TRAIN_LOSS)?),
                ratio_text(fall)
            ));
        }
    }
    Ok(Claim::new(
        "GD reaches small training loss",
        "gd-dynamics",
        "the training loss falls under GD for both networks",
        format!(
            "training loss in {last} steps at L = {hi} (kernel-normalized step), final over initial with its interval over seeds (rule: below {loss_fall_max} for every network and data set): {}",
            parts.join("; ")
        ),
        Verdict::of(ok),
    ))
}
