//! distance-from-init: per-layer `sqrt(m) ||W_l - W0_l||_F` and their max, per view (fixed
//! steps, matched loss): GD stays in a ball of radius `R / sqrt(m)` per layer.

use super::shared::{PROGRESS, ViewParams, names, steps_work, train_views};
use super::{Context, ExperimentKind};
use crate::ExperimentError;
use crate::record::{Record, key};
use crate::spec::Cell;

/// Key: the stopping rule, `fixed-steps` or [`MATCHED_LOSS`].
pub const VIEW: &str = "view";
/// The view at the matched training loss.
pub const MATCHED_LOSS: &str = "matched-loss";
/// Key: the layer `l` (1-based), or [`MAX`].
pub const LAYER: &str = "layer";
/// The key of the maximum over layers, which also has the view's progress.
pub const MAX: &str = "max";
/// `sqrt(m) ||W_l - W0_l||_F`.
pub const DIST_SCALED: &str = "dist_scaled";

/// The distance-from-init kind.
pub struct DistanceFromInit;

impl ExperimentKind for DistanceFromInit {
    type Params = ViewParams;

    fn columns() -> Vec<String> {
        names(&[DIST_SCALED], &PROGRESS)
    }

    fn measure(cell: &Cell, p: &ViewParams, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let sm = (cfg.model.width as f64).sqrt();
        let mut out = Vec::new();
        for v in train_views(cfg, p.matched()?, ctx.backend, true)?.1 {
            let last = &v.last;
            for (l, d) in last.dist.iter().enumerate() {
                out.push(Record::new(&[key(VIEW, v.name), key(LAYER, l + 1)]).with(DIST_SCALED, sm * d));
            }
            out.push(
                Record::new(&[key(VIEW, v.name), key(LAYER, MAX)])
                    .with(DIST_SCALED, last.radius(cfg.model.width))
                    .with_all(v.progress()),
            );
        }
        Ok(out)
    }

    fn work(cell: &Cell, p: &ViewParams) -> (u64, f64) {
        // The matched-loss view trains to `max_iterations` at most; the fixed-steps view is
        // taken on the way.
        steps_work(&cell.config, p.max_iterations as u64)
    }
}
