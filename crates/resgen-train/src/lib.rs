//! Training resgen's networks and recording every quantity the theorems speak about.
//!
//! The algorithm (docs/theory.md): full-batch gradient descent on the logistic loss
//! `L_S(W) = (1/n) sum_i log(1 + exp(-y_i f_W(x_i)))`, `W_l <- W_l - eta grad_{W_l} L_S`,
//! `eta = nu / m` (or `nu / mean_i K0(x_i, x_i)` with `train.step_scale = "ntk-trace"`), for every trained layer; also mini-batch SGD and Cao-Gu's one-pass SGD
//! (batch size 1, `eta = kappa R / (m sqrt(n))`).
//!
//! Each logged iteration records the training loss `L_S`, the surrogate loss
//! `E_S = (1/n) sum_i 1 / (1 + exp(y_i f(x_i)))`, the training 0-1 error, the same on the test
//! set, and the distance from initialization per layer, `||W_l - W0_l||_F` and
//! `sqrt(m) ||W_l - W0_l||_F` (the theory's ball has radius `R / sqrt(m)` per layer).

pub mod compare;
mod config;
mod error;
mod run;
mod trainer;

pub use config::{Algorithm, ConfigError, RunConfig, StepScale, TrainConfig, apply_override, fnv_hex};
pub use error::TrainError;
pub use run::{RunOptions, RunOutcome, run_folder_name, train_run};
pub use trainer::{Divergence, Metrics, StopReason, Trainer, margin_stats, metrics_header};
