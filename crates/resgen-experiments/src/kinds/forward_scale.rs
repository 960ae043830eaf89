//! forward-scale: `||h_l||` per layer and `|f(x)|` at initialization, beside the analytic
//! recursion's prediction (the forward pass stays O(1) with theta = 1/L).

use crate::ExperimentError;
use resgen_bounds::analytic;
use resgen_models::to_host;

use super::shared::{names, net_at_init};
use super::{Context, ExperimentKind, NoParams};
use crate::record::{Record, key};
use crate::spec::Cell;

/// Key: the layer `l` (1-based), or [`LAST`].
pub const LAYER: &str = "layer";
/// The key of the last layer's row, which also has [`F_ABS`].
pub const LAST: &str = "last";
/// Mean `||h_l(x)||` over the training points.
pub const H_NORM: &str = "h_norm";
/// The analytic recursion's `||h_l||`.
pub const H_NORM_ANALYTIC: &str = "h_norm_analytic";
/// Mean `||h_l(x) - h_1(x)|| / ||h_1(x)||`.
pub const H_CHANGE: &str = "h_change";
/// The analytic recursion's relative change.
pub const H_CHANGE_ANALYTIC: &str = "h_change_analytic";
/// Mean `|f(x)|`.
pub const F_ABS: &str = "f_abs";

/// The forward-scale kind.
pub struct ForwardScale;

impl ExperimentKind for ForwardScale {
    type Params = NoParams;

    fn columns() -> Vec<String> {
        names(&[H_NORM, H_NORM_ANALYTIC, H_CHANGE, H_CHANGE_ANALYTIC, F_ABS], &[])
    }

    fn measure(cell: &Cell, _: &NoParams, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let (split, net) = net_at_init(cfg, ctx)?;
        let (n, d, m) = (split.train.n, split.train.d, cfg.model.width);
        let fw = net.forward_states(net.upload(&split.train.x, n, d));
        let hidden: Vec<Vec<f64>> = fw.hidden.into_iter().map(to_host).collect();
        let mean_row_norm = |h: &[f64]| -> f64 {
            h.chunks(m).map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt()).sum::<f64>() / n as f64
        };
        // ||h_l(x) - h_1(x)|| / ||h_1(x)||, averaged over examples: an identity map (depth inert)
        // gives 0, real depth dynamics a ratio of order 1, an explosion a large one.
        let mean_rel_change = |h: &[f64]| -> f64 {
            h.chunks(m)
                .zip(hidden[0].chunks(m))
                .map(|(a, b)| {
                    let diff: f64 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
                    let base: f64 = b.iter().map(|q| q * q).sum();
                    (diff / base.max(f64::MIN_POSITIVE)).sqrt()
                })
                .sum::<f64>()
                / n as f64
        };
        let norms: Vec<f64> = hidden.iter().map(|h| mean_row_norm(h)).collect();
        let changes: Vec<f64> = hidden.iter().map(|h| mean_rel_change(h)).collect();
        let predicted = analytic::forward_prediction(&cfg.model)?;
        let f = to_host(fw.output);
        let f_abs = f.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
        let mut out: Vec<Record> = norms
            .iter()
            .enumerate()
            .map(|(l, v)| {
                Record::new(&[key(LAYER, l + 1)])
                    .with(H_NORM, *v)
                    .with(H_NORM_ANALYTIC, predicted[l].0)
                    .with(H_CHANGE, changes[l])
                    .with(H_CHANGE_ANALYTIC, predicted[l].1)
            })
            .collect();
        let last = norms.len() - 1;
        out.push(
            Record::new(&[key(LAYER, LAST)])
                .with(H_NORM, norms[last])
                .with(H_NORM_ANALYTIC, predicted[last].0)
                .with(H_CHANGE, changes[last])
                .with(H_CHANGE_ANALYTIC, predicted[last].1)
                .with(F_ABS, f_abs),
        );
        Ok(out)
    }
}
