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

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use crate::results::{Cells, Table};
    use crate::spec::grid::*;
    use crate::verdict::*;
    let h_norm_max = rule.num("h_norm_max")?;
    let blowup_min = rule.num("blowup_min")?;
    let h_change_min = rule.num("h_change_min")?;
    let t = Table::main(r, "forward-scale", &ForwardScale::columns())?;
    let c = Cells::load(r, "forward-scale", &ForwardScale::columns())?;
    let (lo, hi) = (t.min_num(DEPTH)?, t.max_num(DEPTH)?);
    let h = |d: &str, th: &str, v: &str| t.get(&[(ARCH, RESNET), (DEPTH, d), (THETA, th), (LAYER, LAST)], v);
    let hs = |d: &str, th: &str, v: &str| c.seeds(&[(ARCH, RESNET), (DEPTH, d), (THETA, th), (LAYER, LAST)], v);
    let (a, s, cc) = (h(&lo, "1/L", H_NORM)?, h(&hi, "1/sqrt(L)", H_NORM)?, h(&hi, "1", H_NORM)?);
    let cha = h(&hi, "1/L", H_CHANGE_ANALYTIC)?;
    let b = hs(&hi, "1/L", H_NORM)?;
    let b_iv = mean_interval(&b.iter().map(|x| x.1).collect::<Vec<_>>());
    let blow = paired_ratio(&hs(&hi, "1", H_NORM)?, &b);
    let ch = hs(&hi, "1/L", H_CHANGE)?.into_iter().map(|x| x.1).collect::<Vec<_>>();
    let ch_iv = mean_interval(&ch);
    let ok = b_iv.is_some_and(|i| i.hi < h_norm_max)
        && above(blow, blowup_min.ln())
        && ch_iv.is_some_and(|i| i.lo > h_change_min);
    Ok(Claim::new(
        "forward pass O(1) with theta = 1/L",
        "forward-scale",
        "||h_L|| bounded in L at theta = 1/L; grows like exp(c sqrt(L)) at 1/sqrt(L) and exp(cL) at theta = 1",
        format!(
            "ResNet ||h_L||: {} (L = {lo}) to {} (L = {hi}) at theta = 1/L, {} at 1/sqrt(L), {} at theta = 1 (theta = 1 over 1/L at L = {hi}: {}); ||h_L - h_1|| / ||h_1|| = {} (recursion {}) at L = {hi}, theta = 1/L; 95% intervals over seeds. Rule: the interval of ||h_L|| at theta = 1/L below {h_norm_max}, of the ratio above {blowup_min} with every seed agreeing, of the change above {h_change_min}",
            g(a),
            b_iv.map_or_else(|| "n/a".into(), iv),
            g(s),
            g(cc),
            ratio_text(blow),
            ch_iv.map_or_else(|| "n/a".into(), iv),
            g(cha)
        ),
        Verdict::of(ok),
    ))
}
