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

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use crate::results::{Cells, Table};
    use crate::spec::grid::*;
    use crate::verdict::*;
    let grad_ratio_min = rule.num("grad_ratio_min")?;
    let t = Table::main(r, "grad-features", &GradFeatures::columns())?;
    let c = Cells::load(r, "grad-features", &GradFeatures::columns())?;
    let hi = t.max_num(DEPTH)?;
    let w = t.max_num(WIDTH)?;
    let gn = |a: &str| c.seeds(&[(ARCH, a), (DEPTH, &hi), (WIDTH, &w), (LAYER, HIDDEN_MEAN)], GRAD_NORM);
    let (res, fc) = (gn(RESNET)?, gn(FC)?);
    let ratio = paired_ratio(&fc, &res);
    let vals = |v: &[(u64, f64)]| v.iter().map(|x| x.1).collect::<Vec<_>>();
    Ok(Claim::new(
        "gradient features scale with theta",
        "grad-features",
        "residual layers' ||grad f|| / sqrt(m) of order theta; FC layers of order 1",
        format!(
            "hidden-layer ||grad f|| / sqrt(m) at L = {hi}, m = {w}: ResNet {}, FC {}; FC over ResNet {} (rule: above {grad_ratio_min}, every seed agreeing)",
            mean_text(&vals(&res)),
            mean_text(&vals(&fc)),
            ratio_text(ratio)
        ),
        Verdict::of(above(ratio, grad_ratio_min.ln())),
    ))
}
