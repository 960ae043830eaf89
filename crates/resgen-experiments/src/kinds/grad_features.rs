//! grad-features: per-layer `||grad_{W_l} f||_F / sqrt(m)` at initialization (the residual
//! layers' gradient features scale with theta).

use crate::ExperimentError;
use resgen_bounds::features;

use super::shared::{names, net_at_init};
use super::{Context, ExperimentKind, NoParams};
use crate::record::{Record, key};
use crate::spec::Cell;

/// Key: the layer `l` (1-based), or [`HIDDEN_MEAN`].
pub const LAYER: &str = "layer";
/// The key of the mean over the hidden (residual) layers `W_2..W_L`.
pub const HIDDEN_MEAN: &str = "hidden-mean";
/// Mean over training points of `||grad_{W_l} f(x)||_F / sqrt(m)`.
pub const GRAD_NORM: &str = "grad_norm";

/// The grad-features kind.
pub struct GradFeatures;

impl ExperimentKind for GradFeatures {
    type Params = NoParams;

    fn columns() -> Vec<String> {
        names(&[GRAD_NORM], &[])
    }

    fn measure(cell: &Cell, _: &NoParams, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let (split, net) = net_at_init(cfg, ctx)?;
        let (n, d, m) = (split.train.n, split.train.d, cfg.model.width as f64);
        let feat = features::grad_features(&net, net.upload(&split.train.x, n, d));
        let per: Vec<f64> = features::layer_grad_sq_norms(&feat)
            .iter()
            .map(|v| v.iter().map(|s| s.max(0.0).sqrt()).sum::<f64>() / n as f64 / m.sqrt())
            .collect();
        let mut out: Vec<Record> =
            per.iter().enumerate().map(|(l, v)| Record::new(&[key(LAYER, l + 1)]).with(GRAD_NORM, *v)).collect();
        // The hidden (residual) layers W_2..W_L: where theta enters.
        let hidden = &per[1..per.len() - 1];
        if !hidden.is_empty() {
            out.push(
                Record::new(&[key(LAYER, HIDDEN_MEAN)])
                    .with(GRAD_NORM, hidden.iter().sum::<f64>() / hidden.len() as f64),
            );
        }
        Ok(out)
    }
}
