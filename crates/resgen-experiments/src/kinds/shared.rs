//! What several kinds share: training a cell, seeing one run at two stopping rules, the
//! network and its kernel at initialization, the bound constants, and a step's cost.

use crate::ExperimentError;
use resgen_bounds::KernelError;
use resgen_bounds::formulas::BoundConstants;
use resgen_bounds::ntk;
use resgen_data::Split;
use resgen_models::{BackendKind, Net, Precision};
use resgen_train::{Metrics, RunConfig, StopReason, Trainer};
use serde::Deserialize;

use super::Context;
use super::params::{InvalidParam, Validate, at_least, number, positive};

/// A matched-loss view trains at most this many steps by default (`params.max_iterations`).
pub const DEFAULT_MATCHED_BUDGET: usize = 5000;

/// The default training loss of a matched-loss view (`params.target_loss`).
pub const DEFAULT_TARGET_LOSS: f64 = 0.1;

/// The parameters of the kinds that compare a fixed number of steps with a matched training
/// loss (distance-from-init, linearization, kernel-motion).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ViewParams {
    /// The matched training loss.
    #[serde(deserialize_with = "number")]
    pub target_loss: f64,
    /// The most GD steps to reach it.
    pub max_iterations: usize,
    /// kernel-motion only: the kernel over the trained layers alone (a frozen layer's block
    /// left out), for the frozen-layer control; by default every layer's.
    pub trained_kernel: bool,
}

impl Default for ViewParams {
    fn default() -> Self {
        ViewParams { target_loss: DEFAULT_TARGET_LOSS, max_iterations: DEFAULT_MATCHED_BUDGET, trained_kernel: false }
    }
}

impl Validate for ViewParams {
    fn validate(&self) -> Result<(), InvalidParam> {
        positive("target_loss", self.target_loss)?;
        at_least("max_iterations", self.max_iterations, 1)
    }
}

impl ViewParams {
    /// `(target_loss, max_iterations)`, checked.
    pub(crate) fn matched(&self) -> Result<(f64, usize), ExperimentError> {
        let (target, budget) = (self.target_loss, self.max_iterations);
        if target.is_nan() || target <= 0.0 || budget == 0 {
            return Err(ExperimentError::Params("params: need target_loss > 0 and max_iterations >= 1".into()));
        }
        Ok((target, budget))
    }
}

/// The bound constants of the kinds that take them (`params_with_bounds!`): their ranges
/// ([`BoundConstants::validate`]), with the error naming the key.
impl Validate for BoundConstants {
    fn validate(&self) -> Result<(), InvalidParam> {
        BoundConstants::validate(self).map_err(|e| match e {
            KernelError::Delta(v) => InvalidParam::new("delta", format!("must lie in (0, 1), got {v}")),
            KernelError::Constant { name, value } => {
                InvalidParam::new(name, format!("must be a finite number >= 0, got {value}"))
            }
            // BoundConstants::validate gives only the two above.
            other => InvalidParam::new("delta, c_eps, c_radius, c_conf, c_ntk", other.to_string()),
        })
    }
}

pub(crate) fn load(cfg: &RunConfig) -> Result<Split, ExperimentError> {
    Ok(resgen_data::load(&cfg.data)?)
}

/// Trains `cfg` on `split` to the end of its budget: the trainer, its logged rows, and why it
/// stopped.
pub(crate) fn run_training(
    cfg: &RunConfig,
    split: Split,
    backend: BackendKind,
) -> Result<(Trainer, Vec<Metrics>, StopReason), ExperimentError> {
    let device = backend.checked_device(cfg.train.precision)?;
    let mut t = Trainer::new(cfg, split, &device)?;
    t.use_backend(backend);
    let (rows, stop) = t.train(|_, _| {});
    Ok((t, rows, stop))
}

/// Trains the cell's run to the end; a diverging run is an error.
pub(crate) fn train(cfg: &RunConfig, backend: BackendKind) -> Result<(Trainer, Vec<Metrics>), ExperimentError> {
    let (t, rows, stop) = run_training(cfg, load(cfg)?, backend)?;
    if let StopReason::Diverged(e) = stop {
        return Err(e.into());
    }
    Ok((t, rows))
}

/// The columns of a view's progress ([`View::progress`]): the training loss, the GD steps
/// taken, and 1 if the stopping rule's target was met.
pub const PROGRESS: [&str; 3] = ["train_loss", "steps", REACHED];

/// 1 if GD reached its target training loss within its budget (a column of [`PROGRESS`]).
pub const REACHED: &str = "reached";

/// The value columns `own`, then `more`, as owned names.
pub(crate) fn names(own: &[&str], more: &[&str]) -> Vec<String> {
    own.iter().chain(more).map(|c| c.to_string()).collect()
}

/// A trained network seen at one stopping rule.
pub(crate) struct View {
    /// `fixed-steps` (the config's `train.iterations`) or `matched-loss` (trained until the
    /// training loss reaches `params.target_loss`, at most `params.max_iterations` steps).
    pub name: &'static str,
    /// The weights at that point (host, per layer).
    pub weights: Vec<Vec<f64>>,
    pub last: Metrics,
    /// GD steps taken.
    pub steps: usize,
    /// 1 if the training loss is at or below the target loss at this view, else 0 (for the
    /// fixed view: whether the fixed step count got there).
    pub reached: f64,
}

impl View {
    /// Where training stood at this view: the training loss, the steps taken, and whether
    /// the stopping rule's target was met (the last columns of every view's record).
    pub fn progress(&self) -> [(&'static str, f64); 3] {
        let [loss, steps, reached] = PROGRESS;
        [(loss, self.last.train_loss), (steps, self.steps as f64), (reached, self.reached)]
    }
}

/// Continues training `t` for `steps` more GD steps (stopping early at `target`, 0 = never);
/// returns the last metrics (with `iter` counted from `offset`) and whether the target was met.
fn continue_training(
    t: &mut Trainer,
    steps: usize,
    target: f64,
    offset: usize,
) -> Result<(Metrics, bool), ExperimentError> {
    t.cfg.train.iterations = steps;
    t.cfg.train.target_loss = target;
    t.cfg.train.log_every = steps.max(1);
    let (rows, stop) = t.train(|_, _| {});
    if let StopReason::Diverged(e) = stop {
        return Err(e.into());
    }
    let mut last = rows.last().ok_or_else(|| ExperimentError::Measurement("training logged nothing".into()))?.clone();
    last.iter += offset;
    Ok((last, stop == StopReason::TargetLoss))
}

/// One GD run of the cell, seen at two stopping rules: after the config's `train.iterations`
/// steps (`fixed-steps`), and when the training loss first reaches `target` within `budget`
/// steps (`matched-loss`): widths and depths are then compared at the same fit, not at a step
/// count where their losses differ. GD is deterministic, so one run serves both: it is
/// checkpointed at whichever rule fires first. With `fixed = false` only the matched view is
/// returned.
pub(crate) fn train_views(
    cfg: &RunConfig,
    (target, budget): (f64, usize),
    backend: BackendKind,
    fixed: bool,
) -> Result<(Split, Vec<View>), ExperimentError> {
    let split = load(cfg)?;
    let device = backend.checked_device(cfg.train.precision)?;
    let mut t = Trainer::new(cfg, split.clone(), &device)?;
    t.use_backend(backend);
    let k_fixed = if fixed { cfg.train.iterations.min(budget) } else { budget };
    let view = |name, t: &Trainer, last: Metrics, reached: bool| View {
        name,
        weights: t.net.host_weights(),
        steps: last.iter,
        last,
        reached: if reached { 1.0 } else { 0.0 },
    };
    // Phase 1: up to the fixed step count, stopping early at the target.
    let (last, hit) = continue_training(&mut t, k_fixed, target, 0)?;
    let mut views = Vec::new();
    if hit {
        let at = last.iter;
        views.push(view("matched-loss", &t, last, true));
        if fixed {
            let (last, _) = continue_training(&mut t, k_fixed - at, 0.0, at)?;
            let met = last.train_loss <= target;
            views.insert(0, view("fixed-steps", &t, last, met));
        }
    } else {
        let at = last.iter;
        if fixed {
            // The target was not met within the fixed steps (phase 1 would have stopped there).
            views.push(view("fixed-steps", &t, last, false));
        }
        let (last, hit) = continue_training(&mut t, budget - at, target, at)?;
        views.push(view("matched-loss", &t, last, hit));
    }
    Ok((split, views))
}

/// The cell's data and its network at W0, in f64 on the kernel device.
pub(crate) fn net_at_init(cfg: &RunConfig, ctx: &Context) -> Result<(Split, Net), ExperimentError> {
    let kdev = ctx.kernel_device()?;
    let split = load(cfg)?;
    let net = Net::init(&cfg.model, split.train.d, Precision::F64, kdev)?;
    Ok((split, net))
}

/// Data, the empirical NTK at W0 (f64) and the outputs `f_W0(x_i)`.
pub(crate) fn init_kernels(
    cfg: &RunConfig,
    ctx: &Context,
) -> Result<(Split, ntk::EmpiricalNtk, Vec<f64>), ExperimentError> {
    let (split, net) = net_at_init(cfg, ctx)?;
    let (n, d) = (split.train.n, split.train.d);
    let k = ntk::empirical_ntk(&net, &split.train.x, n);
    let f0 = net.predict(net.upload(&split.train.x, n, d));
    Ok((split, k, f0))
}

/// `||new - base||_F / ||base||_F` of two matrices stored as flat slices.
pub(crate) fn relative_change(new: &[f64], base: &[f64]) -> f64 {
    let diff = new.iter().zip(base).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
    diff / base.iter().map(|b| b * b).sum::<f64>().sqrt()
}

/// The cost of one full-batch GD step in GFLOP: `6 n (d m + (L - 1) m^2 + m)` (forward,
/// input-gradient and weight-gradient products of every layer; the benchmark's count).
/// E.g. n = 100, d = 20, m = 128, L = 64: 6 * 100 * (2560 + 63 * 16384 + 128) / 1e9 = 0.621.
pub fn step_gflop(n: usize, d: usize, m: usize, depth: usize) -> f64 {
    let (n, d, m, l) = (n as f64, d as f64, m as f64, depth as f64);
    6.0 * n * (d * m + (l - 1.0) * m * m + m) / 1e9
}

/// The input dimension a cell's data will have: 784 for MNIST, the config's `d` otherwise (a
/// CSV file's width is only known once it is read; its config's `d` stands in).
pub(crate) fn input_dim(cfg: &RunConfig) -> usize {
    match cfg.data.source {
        resgen_data::DataSource::Mnist => 784,
        resgen_data::DataSource::Sphere | resgen_data::DataSource::Csv => cfg.data.d,
    }
}

/// `steps` GD steps of the cell's own network and their GFLOP.
pub(crate) fn steps_work(cfg: &RunConfig, steps: u64) -> (u64, f64) {
    let (n, d, m, l) = (cfg.data.n_train, input_dim(cfg), cfg.model.width, cfg.model.depth);
    (steps, steps as f64 * step_gflop(n, d, m, l))
}
