//! The training loop.

use rand::seq::SliceRandom;
use resgen_data::{SeededRng, Split, Stream, rng};
use resgen_models::{BackendKind, Device, FusedNet, Model, Tensor, logistic_coefficients, logistic_loss_mean};

use crate::{Algorithm, RunConfig, StepScale, TrainError};

/// One logged iteration. `iter = t` describes the weights after `t` updates.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    /// Number of updates done.
    pub iter: usize,
    /// Training logistic loss `L_S(W_t)`.
    pub train_loss: f64,
    /// Training surrogate loss `E_S(W_t) = (1/n) sum 1/(1 + exp(y f))`.
    pub train_surrogate: f64,
    /// Training 0-1 error (a zero output counts as an error).
    pub train_error: f64,
    /// Test logistic loss.
    pub test_loss: f64,
    /// Test surrogate loss.
    pub test_surrogate: f64,
    /// Test 0-1 error.
    pub test_error: f64,
    /// `||W_l - W0_l||_F`, `l = 1..L+1`.
    pub dist: Vec<f64>,
}

impl Metrics {
    /// `sqrt(sum_l ||W_l - W0_l||_F^2)`: the distance of all weights from `W0`.
    pub fn dist_total(&self) -> f64 {
        self.dist.iter().map(|d| d * d).sum::<f64>().sqrt()
    }

    /// `R = sqrt(m) max_l ||W_l - W0_l||_F`: the radius of the smallest per-layer ball around
    /// `W0` (theory's `R / sqrt(m)` per layer) that holds the weights, for width `m`.
    pub fn radius(&self, width: usize) -> f64 {
        (width as f64).sqrt() * self.dist.iter().fold(0.0f64, |a, b| a.max(*b))
    }

    /// One CSV row in the order of [`metrics_header`].
    pub fn csv_row(&self, width: usize) -> Vec<String> {
        use resgen_data::output::num;
        let sm = (width as f64).sqrt();
        let mut r = vec![
            self.iter.to_string(),
            num(self.train_loss),
            num(self.train_surrogate),
            num(self.train_error),
            num(self.test_loss),
            num(self.test_surrogate),
            num(self.test_error),
            num(self.dist_total()),
        ];
        r.extend(self.dist.iter().map(|d| num(*d)));
        r.extend(self.dist.iter().map(|d| num(d * sm)));
        r
    }
}

/// Columns of `metrics.csv` for a network with parameters named [`Model::names`].
pub fn metrics_header(net: &Model) -> Vec<String> {
    let names = net.names();
    let mut h: Vec<String> = [
        "iter",
        "train_loss",
        "train_surrogate",
        "train_error",
        "test_loss",
        "test_surrogate",
        "test_error",
        "dist_total",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(names.iter().map(|w| format!("dist_{w}")));
    h.extend(names.iter().map(|w| format!("sqrt_m_dist_{w}")));
    h
}

/// Why training stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// The iteration budget `K` was used up.
    Iterations,
    /// The training loss reached the target.
    TargetLoss,
    /// One-pass SGD used every example once.
    DataExhausted,
    /// A loss, output or weight became NaN or infinite.
    Diverged(Divergence),
}

/// A diverging run: the iteration and what went non-finite.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "training diverged at iteration {iter}: {what} is not finite (lower train.nu; everything logged before it is kept)"
)]
pub struct Divergence {
    /// The number of updates done when it was seen.
    pub iter: usize,
    /// What was non-finite.
    pub what: String,
}

/// Margin statistics `(L, E, 0-1 error)` of outputs `f` against labels `y`; all three are NaN
/// for an empty set (`n_test = 0`), in metrics.csv, bounds.csv and (as empty cells) the tables.
pub fn margin_stats(f: &[f64], y: &[f64]) -> (f64, f64, f64) {
    if y.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let n = y.len() as f64;
    let z: Vec<f64> = f.iter().zip(y).map(|(a, b)| a * b).collect();
    let loss = logistic_loss_mean(&z);
    let surrogate = z.iter().map(|&zi| 1.0 / (1.0 + zi.exp())).sum::<f64>() / n;
    let err = z.iter().filter(|&&zi| zi.is_nan() || zi <= 0.0).count() as f64 / n;
    (loss, surrogate, err)
}

/// A network, its initialization, the data on the device, and the training state.
pub struct Trainer {
    /// The run's configuration.
    pub cfg: RunConfig,
    /// The network being trained (on its fast path when it has one).
    pub net: Model,
    /// The network at `W0`, kept to measure the distance from initialization.
    pub w0: Model,
    x_train: Tensor<2>,
    x_test: Tensor<2>,
    split: Split,
    eta: f64,
    /// The training labels on the device, when the loss coefficients are formed there (see
    /// [`Trainer::set_device_loss`]).
    y_device: Option<Tensor<2>>,
    /// Whether full-batch GD of a paper network takes the fused CPU step (see
    /// [`Trainer::set_fused`]).
    fused_on: bool,
    /// The fused step's buffers, made at the first training call that uses them.
    fused: Option<FusedNet>,
}

impl Trainer {
    /// Uploads the data and draws `W0` on `device`.
    pub fn new(cfg: &RunConfig, split: Split, device: &Device) -> Result<Trainer, TrainError> {
        let net = Model::init(&cfg.model, split.train.d, cfg.train.precision, device)?;
        Self::with_model(cfg, split, net)
    }

    /// Uploads the data to `net`'s device and trains `net` from its current weights, which
    /// count as `W0` (the tests put a paper network on the general path this way).
    pub fn with_model(cfg: &RunConfig, split: Split, net: Model) -> Result<Trainer, TrainError> {
        let x_train = net.upload(&split.train.x, split.train.n, split.train.d);
        let x_test = net.upload(&split.test.x, split.test.n, split.test.d);
        let mut eta = cfg.step_size(split.train.n);
        if cfg.train.step_scale == StepScale::NtkTrace && cfg.train.algorithm != Algorithm::OnePassSgd {
            let diag = net.ntk_diagonal(x_train.clone());
            let mean = diag.iter().sum::<f64>() / diag.len().max(1) as f64;
            if !(mean.is_finite() && mean > 0.0) {
                return Err(TrainError::DeadAtInit { mean });
            }
            eta = cfg.train.nu / mean;
        }
        Ok(Trainer {
            cfg: cfg.clone(),
            w0: net.clone(),
            net,
            x_train,
            x_test,
            split,
            eta,
            y_device: None,
            fused_on: false,
            fused: None,
        })
    }

    /// For GPU backends: full-batch GD forms the loss coefficients on the device and reads
    /// nothing back between logging steps ([`resgen_models::Net::loss_grads_on_device`]), so a step does not
    /// wait on the host. Two things then happen only at logging steps: a NaN or infinite
    /// output is detected there (the run still stops as diverged), and the outputs are read.
    /// Runs with a target loss keep the host path at every step, since the stop needs the loss
    /// after each step. The CPU backends keep the host path (nothing to gain; bit-identical
    /// tables).
    pub fn set_device_loss(&mut self, on: bool) {
        self.y_device = on.then(|| self.net.upload(&self.split.train.y, self.split.train.n, 1));
    }

    /// Full-batch GD of a paper network takes the fused CPU step ([`FusedNet`]: host buffers
    /// kept across steps, the update folded into the weight-gradient GEMM) instead of Burn's
    /// tensor step. Only for the CPU backends; the network is read and written back at every
    /// logging step and when training returns, so [`Trainer::net`] is always current between
    /// calls. Other algorithms and networks keep the tensor step.
    pub fn set_fused(&mut self, on: bool) {
        self.fused_on = on;
        if !on {
            self.fused = None;
        }
    }

    /// The step for `backend`: on a GPU the loss coefficients are formed on the device
    /// ([`Trainer::set_device_loss`]); on the CPU full-batch GD takes the fused step
    /// ([`Trainer::set_fused`]) unless `RESGEN_STEP=tensor`.
    pub fn use_backend(&mut self, backend: BackendKind) {
        self.set_device_loss(!backend.is_cpu());
        self.set_fused(backend.is_cpu() && resgen_models::fused_step_enabled().unwrap_or(true));
    }

    /// Whether the next GD steps take the fused CPU step.
    pub fn is_fused(&self) -> bool {
        self.fused_on && self.cfg.train.algorithm == Algorithm::Gd && self.net.is_fast_path()
    }

    /// The step size `eta` in use.
    pub fn eta(&self) -> f64 {
        self.eta
    }

    /// The data split.
    pub fn split(&self) -> &Split {
        &self.split
    }

    /// The number of updates this config asks for.
    pub fn planned_iterations(&self) -> usize {
        match self.cfg.train.algorithm {
            Algorithm::OnePassSgd => self.cfg.train.iterations.min(self.split.train.n),
            _ => self.cfg.train.iterations,
        }
    }

    /// Metrics of the current weights; `f_train` are the training outputs if already known.
    pub fn metrics(&self, iter: usize, f_train: Option<Vec<f64>>) -> Metrics {
        let f_train = f_train.unwrap_or_else(|| self.net.predict(self.x_train.clone()));
        let (train_loss, train_surrogate, train_error) = margin_stats(&f_train, &self.split.train.y);
        let (test_loss, test_surrogate, test_error) = if self.split.test.n > 0 {
            margin_stats(&self.net.predict(self.x_test.clone()), &self.split.test.y)
        } else {
            (f64::NAN, f64::NAN, f64::NAN)
        };
        let dist = self.net.distances(&self.w0);
        Metrics { iter, train_loss, train_surrogate, train_error, test_loss, test_surrogate, test_error, dist }
    }

    /// Runs the algorithm. `on_log` sees every logged row as it is made (for progress bars
    /// and incremental writes). Returns all logged rows and why it stopped; a diverging run
    /// returns the rows logged before the divergence.
    pub fn train(&mut self, on_log: impl FnMut(&Metrics, usize)) -> (Vec<Metrics>, StopReason) {
        if self.is_fused() {
            let net = self.net.as_net().expect("the fused step runs a paper network");
            match self.fused.as_mut() {
                Some(f) => f.load(net),
                None => self.fused = Some(FusedNet::new(net, &self.split.train.x, self.split.train.n)),
            }
        } else {
            self.fused = None;
        }
        let out = self.train_loop(on_log);
        self.store_fused();
        out
    }

    /// Writes the fused step's weights into [`Trainer::net`] (nothing without it).
    fn store_fused(&mut self) {
        if let (Some(f), Some(net)) = (self.fused.as_ref(), self.net.as_net_mut()) {
            f.store(net);
        }
    }

    fn train_loop(&mut self, mut on_log: impl FnMut(&Metrics, usize)) -> (Vec<Metrics>, StopReason) {
        let k = self.planned_iterations();
        let log_every = self.cfg.train.log_every;
        let target = self.cfg.train.target_loss;
        let mut rows: Vec<Metrics> = Vec::new();
        let n = self.split.train.n;
        let mut batches = Batches {
            order: (0..n).collect(),
            cursor: 0,
            rng: rng(self.cfg.data.seed ^ self.cfg.model.seed.rotate_left(32), Stream::Batches),
        };
        if self.cfg.train.algorithm != Algorithm::Gd {
            batches.order.shuffle(&mut batches.rng);
        }
        let mut log = |rows: &mut Vec<Metrics>, m: Metrics| -> Option<StopReason> {
            on_log(&m, k);
            let bad = !(m.train_loss.is_finite() && m.dist_total().is_finite());
            let iter = m.iter;
            let reached = target > 0.0 && m.train_loss <= target;
            rows.push(m);
            if bad {
                Some(StopReason::Diverged(Divergence { iter, what: "the training loss or a weight".into() }))
            } else if reached {
                Some(StopReason::TargetLoss)
            } else {
                None
            }
        };
        for t in 0..=k {
            let is_log = t % log_every == 0 || t == k;
            let stop = match self.cfg.train.algorithm {
                Algorithm::Gd => self.gd_iteration(t, is_log, t == k, &mut rows, &mut log),
                Algorithm::Sgd | Algorithm::OnePassSgd => {
                    self.sgd_iteration(t, is_log, t == k, &mut rows, &mut log, &mut batches)
                }
            };
            if let Some(stop) = stop {
                return (rows, stop);
            }
        }
        let reason = if self.cfg.train.algorithm == Algorithm::OnePassSgd && k == n && k < self.cfg.train.iterations {
            StopReason::DataExhausted
        } else {
            StopReason::Iterations
        };
        (rows, reason)
    }

    /// Iteration `t` of full-batch GD: the loss gradients, the log (at logging steps and when
    /// the target loss is reached), then the step (not after the last iteration). `Some` stops.
    fn gd_iteration(
        &mut self,
        t: usize,
        is_log: bool,
        last: bool,
        rows: &mut Vec<Metrics>,
        log: &mut impl FnMut(&mut Vec<Metrics>, Metrics) -> Option<StopReason>,
    ) -> Option<StopReason> {
        let target = self.cfg.train.target_loss;
        if self.fused.is_some() {
            return self.fused_gd_iteration(t, is_log, last, rows, log);
        }
        // The last iteration is always a logging step, so this path always steps.
        if let Some(y) = self.y_device.as_ref().filter(|_| !is_log && target <= 0.0) {
            let grads = self.net.loss_grads_on_device(self.x_train.clone(), y);
            self.net.step(grads, self.eta);
            return None;
        }
        let (f, grads) = self.net.loss_grads(self.x_train.clone(), &self.split.train.y);
        if let Some(stop) = self.check_and_log(t, f, is_log, rows, log) {
            return Some(stop);
        }
        if !last {
            self.net.step(grads, self.eta);
        }
        None
    }

    /// The divergence check and the log of GD iteration `t`, whose training outputs are `f`
    /// (the fused step's weights written back to the network first). `Some` stops.
    fn check_and_log(
        &mut self,
        t: usize,
        f: Vec<f64>,
        is_log: bool,
        rows: &mut Vec<Metrics>,
        log: &mut impl FnMut(&mut Vec<Metrics>, Metrics) -> Option<StopReason>,
    ) -> Option<StopReason> {
        if f.iter().any(|v| !v.is_finite()) {
            if !is_log {
                self.store_fused();
                rows.push(self.metrics(t, Some(f)));
            }
            return Some(StopReason::Diverged(Divergence { iter: t, what: "the network output".into() }));
        }
        let target = self.cfg.train.target_loss;
        let (loss, _, _) = margin_stats(&f, &self.split.train.y);
        if is_log || (target > 0.0 && loss <= target) {
            self.store_fused();
            return log(rows, self.metrics(t, Some(f)));
        }
        None
    }

    /// [`Trainer::gd_iteration`] on the fused step: the forward pass, the log (the network
    /// written back first), then the backward pass with the update folded in.
    fn fused_gd_iteration(
        &mut self,
        t: usize,
        is_log: bool,
        last: bool,
        rows: &mut Vec<Metrics>,
        log: &mut impl FnMut(&mut Vec<Metrics>, Metrics) -> Option<StopReason>,
    ) -> Option<StopReason> {
        let f = self.fused.as_mut().expect("called with the fused step").forward();
        // The loss coefficients before `f` goes to the log (unused if the outputs diverged).
        let c = (!last).then(|| logistic_coefficients(&f, &self.split.train.y));
        if let Some(stop) = self.check_and_log(t, f, is_log, rows, log) {
            return Some(stop);
        }
        if let Some(c) = c {
            self.fused.as_mut().expect("called with the fused step").backward_step(&c, self.eta);
        }
        None
    }

    /// Iteration `t` of SGD (a mini-batch, reshuffled each epoch) or one-pass SGD (one example).
    fn sgd_iteration(
        &mut self,
        t: usize,
        is_log: bool,
        last: bool,
        rows: &mut Vec<Metrics>,
        log: &mut impl FnMut(&mut Vec<Metrics>, Metrics) -> Option<StopReason>,
        batches: &mut Batches,
    ) -> Option<StopReason> {
        if is_log && let Some(stop) = log(rows, self.metrics(t, None)) {
            return Some(stop);
        }
        if last {
            return None;
        }
        let n = self.split.train.n;
        let b = if self.cfg.train.algorithm == Algorithm::Sgd { self.cfg.train.batch_size.min(n) } else { 1 };
        if batches.cursor + b > n {
            batches.order.shuffle(&mut batches.rng);
            batches.cursor = 0;
        }
        let idx = &batches.order[batches.cursor..batches.cursor + b];
        batches.cursor += b;
        let batch = self.split.train.select(idx);
        let xb = self.net.upload(&batch.x, batch.n, batch.d);
        let (f, grads) = self.net.loss_grads(xb, &batch.y);
        if f.iter().any(|v| !v.is_finite()) {
            rows.push(self.metrics(t, None));
            return Some(StopReason::Diverged(Divergence { iter: t, what: "the network output".into() }));
        }
        self.net.step(grads, self.eta);
        None
    }
}

/// The example order of (one-pass) SGD: a permutation, reshuffled each epoch, and where the
/// next batch starts.
struct Batches {
    order: Vec<usize>,
    cursor: usize,
    rng: SeededRng,
}
