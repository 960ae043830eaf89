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
