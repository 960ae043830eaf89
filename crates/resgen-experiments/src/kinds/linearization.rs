//! linearization: the gap between the trained network and its linearization at W0, on the
//! training and the held-out points, per view (the linearization holds, better with width).

use crate::ExperimentError;
use resgen_bounds::features;
use resgen_models::{Model, Precision};

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

    const GENERAL_PATH: bool = true;

    fn measure(cell: &Cell, p: &ViewParams, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let kdev = ctx.kernel_device()?;
        let mut out = Vec::new();
        let (split, views) = train_views(cfg, p.matched()?, ctx.backend, true)?;
        let (n, d) = (split.train.n, split.train.d);
        let net0 = Model::init(&cfg.model, d, Precision::F64, kdev)?;
        for v in views {
            let w = &v.weights;
            let (max, mean) = features::model_linearization_error(&net0, w, &split.train.x, n);
            let (test_max, _) = if split.test.n > 0 {
                features::model_linearization_error(&net0, w, &split.test.x, split.test.n)
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

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use crate::results::{Cells, Table};
    use crate::spec::grid::*;
    use crate::verdict::*;
    use resgen_stats::Interval;
    let (exponent_max, ratio_max) = (rule.num("exponent_max")?, rule.num("ratio_max")?);
    let t = Table::main(r, "linearization", &Linearization::columns())?;
    let c = Cells::load(r, "linearization", &Linearization::columns())?;
    let widths = t.sorted_nums(WIDTH)?;
    let (lo, hi) = (widths[0].clone(), widths[widths.len() - 1].clone());
    let depth = t.max_num(DEPTH)?;
    let e = |a: &str, w: &str| t.get(&[(ARCH, a), (DEPTH, &depth), (WIDTH, w), (VIEW, MATCHED_LOSS)], EPS_LIN_MAX);
    let slope = |a: &str| -> Result<Option<Interval>, ExperimentError> {
        let keys = [(ARCH, a), (DEPTH, depth.as_str()), (VIEW, MATCHED_LOSS)];
        Ok(log_slope(&width_points(&c, &widths, &keys, EPS_LIN_MAX)?))
    };
    let (sr, sf) = (slope(RESNET)?, slope(FC)?);
    let at_hi = |a: &str| c.seeds(&[(ARCH, a), (DEPTH, &depth), (WIDTH, &hi), (VIEW, MATCHED_LOSS)], EPS_LIN_MAX);
    let closer = paired_ratio(&at_hi(RESNET)?, &at_hi(FC)?);
    let falls = |s: Option<Interval>| s.is_some_and(|s| s.hi < exponent_max);
    let half = |s: Option<Interval>| {
        if s.is_some_and(|s| !s.excludes(-0.5)) { "contains -1/2" } else { "excludes -1/2" }
    };
    Ok(Claim::new(
        "the network stays near its linearization, nearer with width",
        "linearization",
        "eps_lin shrinks with m (about m^-1/2); smaller for the ResNet at depth",
        format!(
            "eps_lin at matched loss 0.1, L = {depth}, m = {lo} to {hi}: ResNet {} to {} (exponent in m {}, {}), FC {} to {} (exponent {}, {}); ResNet over FC at m = {hi}: {}. Rule: both exponents' intervals below 0, and the ratio's below 1 with every seed agreeing",
            g(e(RESNET, &lo)?),
            g(e(RESNET, &hi)?),
            slope_text(sr),
            half(sr),
            g(e(FC, &lo)?),
            g(e(FC, &hi)?),
            slope_text(sf),
            half(sf),
            ratio_text(closer)
        ),
        Verdict::of(falls(sr) && falls(sf) && below(closer, ratio_max.ln())),
    ))
}
