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

    const GENERAL_PATH: bool = true;

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

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use crate::results::{Cells, Table};
    use crate::spec::grid::*;
    use crate::verdict::*;
    let bounded_exponent_max = rule.num("bounded_exponent_max")?;
    let t = Table::main(r, "distance-from-init", &DistanceFromInit::columns())?;
    let c = Cells::load(r, "distance-from-init", &DistanceFromInit::columns())?;
    let widths = t.sorted_nums(WIDTH)?;
    let (lo, hi) = (widths[0].clone(), widths[widths.len() - 1].clone());
    let depth = t.max_num(DEPTH)?;
    let l: usize = depth.parse().map_err(|e| t.err(format!("depth `{depth}`: {e}")))?;
    let d = |a: &str, w: &str| {
        t.get(&[(ARCH, a), (DEPTH, &depth), (WIDTH, w), (VIEW, MATCHED_LOSS), (LAYER, MAX)], DIST_SCALED)
    };
    let mut parts = Vec::new();
    let mut ok = true;
    for a in [RESNET, FC] {
        let keys = [(ARCH, a), (DEPTH, depth.as_str()), (VIEW, MATCHED_LOSS), (LAYER, MAX)];
        let s = log_slope(&width_points(&c, &widths, &keys, DIST_SCALED)?);
        ok &= s.is_some_and(|s| s.hi < bounded_exponent_max);
        // The residual layers W_2..W_L apart from the input and output layers: per seed and
        // width, the largest of them.
        let mut res_pts = Vec::new();
        for w in &widths {
            let m: f64 = w.parse().unwrap_or(f64::NAN);
            let per_layer: Vec<Vec<(u64, f64)>> = (2..=l)
                .map(|k| {
                    let layer = k.to_string();
                    c.seeds(
                        &[(ARCH, a), (DEPTH, &depth), (WIDTH, w), (VIEW, MATCHED_LOSS), (LAYER, &layer)],
                        DIST_SCALED,
                    )
                })
                .collect::<Result<_, _>>()?;
            for (i, (seed, _)) in per_layer[0].iter().enumerate() {
                let top = per_layer.iter().map(|v| v[i].1).fold(f64::NEG_INFINITY, f64::max);
                res_pts.push((*seed, m, top));
            }
        }
        let res_mean = |w: &str| {
            let m: f64 = w.parse().unwrap_or(f64::NAN);
            let v: Vec<f64> = res_pts.iter().filter(|p| p.1 == m).map(|p| p.2).collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let grows = if s.is_some_and(|s| s.lo > 0.0) { ", above 0: it grows, slowly" } else { "" };
        parts.push(format!(
            "{} {} to {} (exponent in m {}{grows}; residual layers W_2..W_{l} alone: {} to {}, exponent {})",
            if a == RESNET { "ResNet" } else { "FC" },
            g(d(a, &lo)?),
            g(d(a, &hi)?),
            slope_text(s),
            g(res_mean(&lo)),
            g(res_mean(&hi)),
            slope_text(log_slope(&res_pts))
        ));
    }
    Ok(Claim::new(
        "GD stays in a ball of radius R / sqrt(m) per layer",
        "distance-from-init",
        "R = sqrt(m) max_l ||W_l - W0_l|| stays of order 1 as m grows: its exponent in m near 0 (a radius growing like sqrt(m) would have 0.5)",
        format!(
            "at matched training loss 0.1, L = {depth}, m = {lo} to {hi}, with 95% intervals over seeds (rule: the exponent's interval below {bounded_exponent_max} for both): {}",
            parts.join("; ")
        ),
        Verdict::of(ok),
    ))
}
