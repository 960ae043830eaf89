//! linearization: the gap between the trained network and its linearization at W0, on the
//! training and the held-out points, per view (the linearization holds, better with width).

use crate::ExperimentError;
use resgen_bounds::features;
use resgen_models::{Net, Precision};

use super::shared::{PROGRESS, ViewParams, names, steps_work, train_views};
use super::{Context, ExperimentKind};
use crate::record::{Record, key};
use crate::spec::Cell;

/// Key: the stopping rule, `fixed-steps` or [`MATCHED_LOSS`].
pub const VIEW: &str = "view";
/// The view at the matched training loss.
pub const MATCHED_LOSS: &str = "matched-loss";
/// `max_i |f_W(x_i) - f_lin(x_i)|` over the training points.
pub const EPS_LIN_MAX: &str = "eps_lin_max";
/// The mean over the training points.
pub const EPS_LIN_MEAN: &str = "eps_lin_mean";
/// The max over the held-out points.
pub const EPS_LIN_TEST_MAX: &str = "eps_lin_test_max";

/// The linearization kind.
pub struct Linearization;

impl ExperimentKind for Linearization {
    type Params = ViewParams;

    fn columns() -> Vec<String> {
        names(&[EPS_LIN_MAX, EPS_LIN_MEAN, EPS_LIN_TEST_MAX], &PROGRESS)
    }

    fn measure(cell: &Cell, p: &ViewParams, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let kdev = ctx.kernel_device()?;
        let mut out = Vec::new();
        let (split, views) = train_views(cfg, p.matched()?, ctx.backend, true)?;
        let (n, d) = (split.train.n, split.train.d);
        let net0 = Net::init(&cfg.model, d, Precision::F64, kdev)?;
        for v in views {
            let w = &v.weights;
            let (max, mean) = features::linearization_error(&net0, w, &split.train.x, n);
            let (test_max, _) = if split.test.n > 0 {
                features::linearization_error(&net0, w, &split.test.x, split.test.n)
            } else {
                (f64::NAN, f64::NAN)
            };
            out.push(
                Record::new(&[key(VIEW, v.name)])
                    .with(EPS_LIN_MAX, max)
                    .with(EPS_LIN_MEAN, mean)
                    .with(EPS_LIN_TEST_MAX, test_max)
                    .with_all(v.progress()),
            );
        }
        Ok(out)
    }

    fn work(cell: &Cell, p: &ViewParams) -> (u64, f64) {
        steps_work(&cell.config, p.max_iterations as u64)
    }
}
