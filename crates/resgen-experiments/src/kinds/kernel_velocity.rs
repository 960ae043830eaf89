//! kernel-velocity: how fast the empirical NTK moves per unit of output movement at the start of
//! GD (beyond the paper; the headline's depth exponent without training to convergence).
//!
//! `params.steps` full-batch GD steps from `W0` (the cell's step size), then, on the training
//! points, in f64:
//! - the relative kernel change `kc = ||K_k - K_0||_F / ||K_0||_F` (`K = NTK / m`);
//! - the output change in units of the labels, `df = ||f_k - f_0||_2 / sqrt(n)` (the labels are
//!   +-1, so fitting them moves the outputs by a quantity of order 1 at every width and depth);
//! - the velocity `v = kc / df`.
//!
//! Both changes are first order in the step for small steps, so `v` measures `dK/df` at `W0`.
//! Training to a fit moves the outputs by `df* = O(1)`, so the kernel moves by about `v df*`,
//! and the width at which it moves by less than any threshold grows with depth as `v`'s width
//! and depth exponents say: with `v = A L^b m^g`, like `L^p`, `p = -b/g`. The derived
//! `<name>-depth-exponent.csv` fits that law per network over every measured cell, seeds as the
//! bootstrap's clusters. A width whose kernel vanishes at `W0` (every ReLU path dead in a deep,
//! narrow FC net) cannot take a kernel-normalized step, and a step can diverge (a deep, narrow FC
//! net's outputs overflow): such a cell is recorded as not measured (`measured = 0`, with
//! `diverged` saying which), counted as censored there, never dropped.

use crate::ExperimentError;
use resgen_bounds::ntk;
use resgen_models::{Model, Precision};
use resgen_train::TrainError;
use serde::Deserialize;

use super::kernel_motion::{DEPTH_EXPONENT, exponents_table};
use super::params::{InvalidParam, Validate, at_least};
use super::shared::{relative_change, steps_work, train};
use super::{Context, Derived, ExperimentKind, Summary};
use crate::record::Record;
use crate::spec::Cell;

/// `kc / df`.
pub const KERNEL_VELOCITY: &str = "kernel_velocity";
/// `||K_k - K_0||_F / ||K_0||_F`.
pub const KERNEL_CHANGE: &str = "kernel_change";
/// `||f_k - f_0||_2 / sqrt(n)`.
pub const OUTPUT_CHANGE: &str = "output_change";
/// 1 if the cell was measured, 0 if its kernel vanished at `W0` or its steps diverged.
pub const MEASURED: &str = "measured";
/// 1 if the steps diverged (the outputs became non-finite).
pub const DIVERGED: &str = "diverged";

/// The default number of GD steps.
pub const DEFAULT_STEPS: usize = 4;

/// The kind's parameters.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// GD steps from `W0` before the changes are measured.
    pub steps: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { steps: DEFAULT_STEPS }
    }
}

impl Validate for Params {
    fn validate(&self) -> Result<(), InvalidParam> {
        at_least("steps", self.steps, 1)
    }
}

/// The kernel-velocity kind.
pub struct KernelVelocity;

impl ExperimentKind for KernelVelocity {
    type Params = Params;

    const GENERAL_PATH: bool = true;

    fn columns() -> Vec<String> {
        [KERNEL_VELOCITY, KERNEL_CHANGE, OUTPUT_CHANGE, MEASURED, DIVERGED].iter().map(|c| c.to_string()).collect()
    }

    fn measure(cell: &Cell, p: &Params, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        if p.steps == 0 {
            return Err(ExperimentError::Params("params.steps: must be at least 1".into()));
        }
        let mut cfg = cell.config.clone();
        cfg.train.iterations = p.steps;
        cfg.train.target_loss = 0.0;
        cfg.train.log_every = p.steps;
        let kdev = ctx.kernel_device()?;
        let not_measured = |diverged: bool| {
            Ok(vec![
                Record::new(&[])
                    .with(KERNEL_VELOCITY, f64::NAN)
                    .with(KERNEL_CHANGE, f64::NAN)
                    .with(OUTPUT_CHANGE, f64::NAN)
                    .with(MEASURED, 0.0)
                    .with(DIVERGED, if diverged { 1.0 } else { 0.0 }),
            ])
        };
        let (trainer, _) = match train(&cfg, ctx.backend) {
            Err(ExperimentError::Train(TrainError::DeadAtInit { .. })) => return not_measured(false),
            Err(ExperimentError::Diverged(_)) => return not_measured(true),
            other => other?,
        };
        let split = trainer.split();
        let (n, d, x) = (split.train.n, split.train.d, &split.train.x);
        let net0 = Model::init(&cfg.model, d, Precision::F64, kdev)?;
        let net_k = Model::from_host(&cfg.model, d, &trainer.net.host_weights(), Precision::F64, kdev)?;
        let kc = relative_change(
            &ntk::model_ntk(&net_k, x, n).normalized().data,
            &ntk::model_ntk(&net0, x, n).normalized().data,
        );
        let (f0, fk) = (net0.predict(net0.upload(x, n, d)), net_k.predict(net_k.upload(x, n, d)));
        let df = output_change(&fk, &f0);
        Ok(vec![
            Record::new(&[])
                .with(KERNEL_VELOCITY, kc / df)
                .with(KERNEL_CHANGE, kc)
                .with(OUTPUT_CHANGE, df)
                .with(MEASURED, 1.0)
                .with(DIVERGED, 0.0),
        ])
    }

    fn work(cell: &Cell, p: &Params) -> (u64, f64) {
        steps_work(&cell.config, p.steps as u64)
    }

    fn derived(t: &Summary) -> Result<Vec<Derived>, ExperimentError> {
        Ok(vec![(DEPTH_EXPONENT, exponents_table(t.raw, KERNEL_VELOCITY, MEASURED, None))])
    }
}

/// `||a - b||_2 / sqrt(n)`: the root-mean-square change of `n` outputs.
pub(crate) fn output_change(a: &[f64], b: &[f64]) -> f64 {
    let ss: f64 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
    (ss / a.len().max(1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_change_is_the_root_mean_square_difference() {
        // Differences (3, 4, 0, 0): sum of squares 25 over 4 outputs, sqrt(25 / 4) = 2.5.
        assert_eq!(output_change(&[3.0, 4.0, 1.0, -1.0], &[0.0, 0.0, 1.0, -1.0]), 2.5);
        assert_eq!(output_change(&[], &[]), 0.0);
    }
}
