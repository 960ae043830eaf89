//! rademacher: the complexity of the linearized ball per layer and in total at
//! `params.radius` (closed form and Monte Carlo), and with `trained_radius` at the radius GD
//! reaches (flat in L for the ResNet, linear in L for FC).

use crate::ExperimentError;
use serde::Deserialize;

use super::params::{InvalidParam, Validate, at_least, number, positive};
use super::shared::{
    DEFAULT_MATCHED_BUDGET, DEFAULT_TARGET_LOSS, PROGRESS, ViewParams, init_kernels, names, steps_work, train_views,
};
use super::{Context, ExperimentKind};
use crate::record::{Record, key};
use crate::spec::Cell;

/// Key: the layer `l` (1-based), `total`, or [`TOTAL_AT_TRAINED_R`].
pub const LAYER: &str = "layer";
/// The key of the total at the radius GD reaches (with `trained_radius = true`).
pub const TOTAL_AT_TRAINED_R: &str = "total-at-trained-R";
/// The closed-form bound.
pub const CLOSED_FORM: &str = "closed_form";
/// The Monte Carlo estimate.
pub const MONTE_CARLO: &str = "monte_carlo";
/// Its standard error (total rows).
pub const MC_STDERR: &str = "mc_stderr";
/// `R = sqrt(m) max_l ||W_l - W0_l||_F` of the trained network.
pub const TRAINED_RADIUS: &str = "trained_radius";

/// rademacher's `[params]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// The radius R of the ball.
    pub radius: f64,
    /// Monte Carlo sign vectors.
    pub samples: usize,
    /// Also the total at the radius GD reaches at the matched loss.
    pub trained_radius: bool,
    /// That matched training loss.
    #[serde(deserialize_with = "number")]
    pub target_loss: f64,
    /// The most GD steps to reach it.
    pub max_iterations: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            radius: 1.0,
            samples: 200,
            trained_radius: false,
            target_loss: DEFAULT_TARGET_LOSS,
            max_iterations: DEFAULT_MATCHED_BUDGET,
        }
    }
}

impl Validate for Params {
    fn validate(&self) -> Result<(), InvalidParam> {
        positive("radius", self.radius)?;
        at_least("samples", self.samples, 1)?;
        positive("target_loss", self.target_loss)?;
        at_least("max_iterations", self.max_iterations, 1)
    }
}

/// The rademacher kind.
pub struct Rademacher;

impl ExperimentKind for Rademacher {
    type Params = Params;

    fn columns() -> Vec<String> {
        names(&[CLOSED_FORM, MONTE_CARLO, MC_STDERR, TRAINED_RADIUS], &PROGRESS)
    }

    fn measure(cell: &Cell, p: &Params, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let radius = p.radius;
        let (_, k, _) = init_kernels(cfg, ctx)?;
        let r = resgen_bounds::rademacher::rademacher(&k.per_layer, radius, cfg.model.width, p.samples, cfg.data.seed);
        let mut out: Vec<Record> = (0..k.per_layer.len())
            .map(|l| {
                Record::new(&[key(LAYER, l + 1)])
                    .with(CLOSED_FORM, r.bound_per_layer[l])
                    .with(MONTE_CARLO, r.mc_per_layer[l])
            })
            .collect();
        out.push(
            Record::new(&[key(LAYER, "total")])
                .with(CLOSED_FORM, r.bound)
                .with(MONTE_CARLO, r.mc)
                .with(MC_STDERR, r.mc_stderr),
        );
        // The same terms at the radius GD actually reaches (trained to the matched target
        // loss): R = sqrt(m) max_l ||W_l - W0_l||_F. Rad is linear in R.
        if p.trained_radius {
            let view =
                ViewParams { target_loss: p.target_loss, max_iterations: p.max_iterations, trained_kernel: false };
            let v = train_views(cfg, view.matched()?, ctx.backend, false)?.1.remove(0);
            let rt = v.last.radius(cfg.model.width);
            let s = rt / radius;
            out.push(
                Record::new(&[key(LAYER, TOTAL_AT_TRAINED_R)])
                    .with(CLOSED_FORM, s * r.bound)
                    .with(MONTE_CARLO, s * r.mc)
                    .with(MC_STDERR, s * r.mc_stderr)
                    .with(TRAINED_RADIUS, rt)
                    .with_all(v.progress()),
            );
        }
        Ok(out)
    }

    fn work(cell: &Cell, p: &Params) -> (u64, f64) {
        steps_work(&cell.config, if p.trained_radius { p.max_iterations as u64 } else { 0 })
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
    let rad_ratio_min = rule.num("rad_ratio_min")?;
    let t = Table::main(r, "rademacher", &Rademacher::columns())?;
    let c = Cells::load(r, "rademacher", &Rademacher::columns())?;
    let (lo, hi) = (t.min_num(DEPTH)?, t.max_num(DEPTH)?);
    let mut parts = Vec::new();
    let mut ok = true;
    for ds in t.values(DATASET)? {
        let v =
            |a: &str, d: &str, k: &str| t.get(&[(DATASET, &ds), (ARCH, a), (DEPTH, d), (LAYER, TOTAL_AT_TRAINED_R)], k);
        let sv =
            |a: &str| c.seeds(&[(DATASET, &ds), (ARCH, a), (DEPTH, &hi), (LAYER, TOTAL_AT_TRAINED_R)], MONTE_CARLO);
        let ratio = paired_ratio(&sv(FC)?, &sv(RESNET)?);
        ok &= above(ratio, rad_ratio_min.ln());
        parts.push(format!(
            "{ds}: ResNet {} to {}, FC {} to {}, FC over ResNet at L = {hi} {} (trained R at L = {hi}: {} / {})",
            g(v(RESNET, &lo, MONTE_CARLO)?),
            g(v(RESNET, &hi, MONTE_CARLO)?),
            g(v(FC, &lo, MONTE_CARLO)?),
            g(v(FC, &hi, MONTE_CARLO)?),
            ratio_text(ratio),
            g(v(RESNET, &hi, TRAINED_RADIUS)?),
            g(v(FC, &hi, TRAINED_RADIUS)?)
        ));
    }
    Ok(Claim::new(
        "Rademacher term flat in L (ResNet) vs linear in L (FC)",
        "rademacher",
        "Rad_S of the linearized ball about R / sqrt(n) (ResNet) vs L R / sqrt(n) (FC)",
        format!(
            "Monte Carlo Rad_S at the radius GD reaches (matched loss 0.1), L = {lo} to {hi}, 95% intervals over seeds (rule: FC over ResNet above {rad_ratio_min} at L = {hi}, every seed agreeing, on every data set): {}",
            parts.join("; ")
        ),
        Verdict::of(ok),
    ))
}
