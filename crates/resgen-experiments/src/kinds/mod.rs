//! The experiment kinds: one file per kind, each implementing [`ExperimentKind`].
//!
//! (The trait is not called `Experiment`: that name is the parsed experiment file,
//! [`crate::spec::Experiment`], whose `kind` says which of these measures its cells.)
//!
//! A kind's file holds everything the kind means:
//! - its parameters, the experiment file's `[params]`, as a struct deserialized with
//!   `deny_unknown_fields` and checked by its [`Validate`] (an unknown key or a value out of
//!   range is an error naming it, when the experiment file loads);
//! - what it measures on one cell ([`ExperimentKind::measure`]), with the column names it
//!   writes as constants, which its verdict reads and its plot draws
//!   ([`ExperimentKind::columns`]);
//! - the most training one cell may take ([`ExperimentKind::work`], for `resgen list --work`);
//! - the table it derives from its complete table, if any ([`ExperimentKind::derived`]);
//! - its verdict: `claim`, the rule that decides its row of the summary, with its thresholds,
//!   reading the columns the file names (listed in [`CLAIMS`]).
//!
//! `registry!` below lists every kind once: it declares [`Kind`], the name written in
//! experiment files, and dispatches to the kind's file. Adding a kind is its file, one line
//! there, its experiment file and its smoke test (docs/experiments.md, "Adding an experiment").

use crate::ExperimentError;
use std::cell::OnceCell;
use std::path::Path;

use resgen_models::{BackendKind, Device};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::record::Record;
use crate::spec::Cell;

mod params;
mod shared;

pub mod distance_from_init;
pub mod forward_scale;
pub mod gd_dynamics;
pub mod generalization;
pub mod grad_features;
pub mod kernel_motion;
pub mod kernel_velocity;
pub mod kernel_vs_net;
pub mod label_noise;
pub mod linearization;
pub mod min_width;
pub mod ntk_complexity;
pub mod ntk_fluctuation;
pub mod ntrf_bound;
pub mod rademacher;
pub mod theta_phase;
pub mod width_depth;

pub use params::{InvalidParam, NoParams, Validate};
pub use shared::{DEFAULT_MATCHED_BUDGET, PROGRESS, ViewParams, step_gflop};

/// Where one cell is measured: the training backend, the cell's folder, and the f64 device
/// the kernels are computed on (worked out once per cell, when first asked for).
pub struct Context<'a> {
    /// The training backend.
    pub backend: BackendKind,
    /// The cell's folder (generalization keeps its training run there).
    pub dir: &'a Path,
    kernel: OnceCell<Device>,
}

impl<'a> Context<'a> {
    /// A cell's context on `backend`, with its folder `dir`.
    pub fn new(backend: BackendKind, dir: &'a Path) -> Context<'a> {
        Context { backend, dir, kernel: OnceCell::new() }
    }

    /// The f64 CPU (or CUDA) device of the kernels ([`resgen_bounds::kernel_device`]).
    pub fn kernel_device(&self) -> Result<&Device, ExperimentError> {
        if let Some(d) = self.kernel.get() {
            return Ok(d);
        }
        let d = resgen_bounds::kernel_device(self.backend)?;
        Ok(self.kernel.get_or_init(|| d))
    }
}

/// A complete table, as the derived tables read it: the header and rows of
/// `results/<name>.csv`, and every cell's raw record.
pub struct Summary<'a> {
    /// The table's columns.
    pub header: &'a [String],
    /// Its rows, as written.
    pub rows: &'a [Vec<String>],
    /// Per cell and record: the row's key columns, the seed, and the values.
    pub raw: &'a [crate::record::RawRecord],
}

/// A derived table: the suffix of its file name (`results/<name>-<suffix>.csv`) and its CSV
/// text.
pub type Derived = (&'static str, String);

/// One experiment kind: its parameters, its measurement, its work estimate and its derived
/// table.
pub trait ExperimentKind {
    /// The kind's `[params]`, deserialized with `#[serde(deny_unknown_fields, default)]`, then
    /// checked by [`Validate::validate`].
    type Params: DeserializeOwned + Default + Validate;

    /// Measures one cell: the records its table aggregates over seeds.
    fn measure(cell: &Cell, params: &Self::Params, ctx: &Context) -> Result<Vec<Record>, ExperimentError>;

    /// The value columns its table has (each as `<column>_mean`, `_sd` and `_n`), which its
    /// plot and its verdict may name (a test checks every committed plot against them).
    fn columns() -> Vec<String>;

    /// Whether the kind runs on networks without a written-out backward pass (the general,
    /// autodiff path of [`resgen_models::Model`]): it trains through [`resgen_train::Trainer`]
    /// and measures kernels through [`resgen_bounds::ntk::model_ntk`] only.
    const GENERAL_PATH: bool = false;

    /// The most GD steps the cell may take and their GFLOP (see [`crate::estimate`]); kinds
    /// that do not train take none.
    fn work(_cell: &Cell, _params: &Self::Params) -> (u64, f64) {
        (0, 0.0)
    }

    /// The tables derived from the complete table, if any, written beside it.
    fn derived(_table: &Summary) -> Result<Vec<Derived>, ExperimentError> {
        Ok(vec![])
    }
}

/// Declares [`Kind`] with one variant per kind file, and the dispatch from a [`Kind`] to its
/// file's [`ExperimentKind`] implementation. One line per kind.
macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident => $kind:ty,)*) => {
        /// The measurement a sweep makes; one per theorem-level claim (docs/theory.md). Written
        /// in kebab-case in experiment files (`kind = "forward-scale"`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Kind {
            $($(#[$doc])* $variant,)*
        }

        impl Kind {
            /// Runs the cell's measurement: its parameters first (an unknown, malformed or
            /// out-of-range key is an error naming it), then the kind's [`ExperimentKind::measure`].
            pub fn measure(self, cell: &Cell, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
                self.check_arch(cell.config.model.arch)?;
                match self {
                    $(Kind::$variant => {
                        let p = params::read::<<$kind as ExperimentKind>::Params>(self, &cell.params)?;
                        <$kind>::measure(cell, &p, ctx)
                    })*
                }
            }

            /// Reads and checks a cell's `[params]` table as the kind's parameters, without
            /// measuring: an unknown, malformed or out-of-range key is an error naming it.
            pub fn check_params(self, params: &toml::Table) -> Result<(), ExperimentError> {
                match self {
                    $(Kind::$variant => {
                        params::read::<<$kind as ExperimentKind>::Params>(self, params).map(drop)
                    })*
                }
            }

            /// Every kind, in the registry's order.
            pub fn all() -> Vec<Kind> {
                vec![$(Kind::$variant,)*]
            }

            /// Whether the kind runs on general-path networks (see
            /// [`ExperimentKind::GENERAL_PATH`]).
            pub fn general_path(self) -> bool {
                match self {
                    $(Kind::$variant => <$kind>::GENERAL_PATH,)*
                }
            }

            /// The kind's value columns (see [`ExperimentKind::columns`]).
            pub fn columns(self) -> Vec<String> {
                match self {
                    $(Kind::$variant => <$kind>::columns(),)*
                }
            }

            /// The cell's training work (see [`ExperimentKind::work`]).
            pub fn work(self, cell: &Cell) -> Result<(u64, f64), ExperimentError> {
                match self {
                    $(Kind::$variant => {
                        let p = params::read::<<$kind as ExperimentKind>::Params>(self, &cell.params)?;
                        Ok(<$kind>::work(cell, &p))
                    })*
                }
            }

            /// The kind's derived tables (see [`ExperimentKind::derived`]).
            pub fn derived(self, table: &Summary) -> Result<Vec<Derived>, ExperimentError> {
                match self {
                    $(Kind::$variant => <$kind>::derived(table),)*
                }
            }
        }
    };
}

registry! {
    /// `||h_l||` per layer and `|f(x)|` at initialization.
    ForwardScale => forward_scale::ForwardScale,
    /// Per-layer `||grad_{W_l} f||_F / sqrt(m)` at initialization.
    GradFeatures => grad_features::GradFeatures,
    /// Losses, errors and distance from init per logged iteration of training.
    GdDynamics => gd_dynamics::GdDynamics,
    /// `sqrt(m) ||W_l - W0_l||_F` per layer after training.
    DistanceFromInit => distance_from_init::DistanceFromInit,
    /// `eps_lin = max_i |f_W(x_i) - f_lin(x_i)|` after training.
    Linearization => linearization::Linearization,
    /// The smallest width reaching a target training loss within K steps.
    MinWidth => min_width::MinWidth,
    /// Rademacher terms of the linearized ball, per layer and total.
    Rademacher => rademacher::Rademacher,
    /// NTK lambda_min, `sqrt(y^T K^{-1} y / n)` and the Cao-Gu value, empirical and analytic.
    NtkComplexity => ntk_complexity::NtkComplexity,
    /// `eps_NTRF(R)` over R and the eps_NTRF bounds minimized over R.
    NtrfBound => ntrf_bound::NtrfBound,
    /// Trained test error and gap beside every bound.
    Generalization => generalization::Generalization,
    /// Relative fluctuation of the empirical NTK over initializations (beyond the paper).
    NtkFluctuation => ntk_fluctuation::NtkFluctuation,
    /// How far the empirical NTK moves under GD to a target loss (beyond the paper).
    KernelMotion => kernel_motion::KernelMotion,
    /// How fast the empirical NTK moves per unit of output movement in the first GD steps
    /// (beyond the paper).
    KernelVelocity => kernel_velocity::KernelVelocity,
    /// Generalization's measurements under training-label noise, with the analytic NTK
    /// complexity and the steps to the target loss (beyond the paper).
    LabelNoise => label_noise::LabelNoise,
    /// The residual-scaling phase diagram theta = L^-gamma: depth dynamics, analytic kernel
    /// degeneration, kernel regression and trained test error (beyond the paper).
    ThetaPhase => theta_phase::ThetaPhase,
    /// The trained network against the linearized network (empirical NTK at W0, GD in
    /// function space) and analytic-NTK kernel regression, at the same iteration (beyond the
    /// paper).
    KernelVsNet => kernel_vs_net::KernelVsNet,
}

impl Kind {
    /// An error naming the kind and the architecture when the kind needs a written-out backward
    /// pass that `arch` lacks.
    pub fn check_arch(self, arch: resgen_models::Arch) -> Result<(), ExperimentError> {
        if arch.has_fast_path() || self.general_path() {
            return Ok(());
        }
        Err(ExperimentError::Params(format!(
            "model.arch = \"{}\": kind {} needs a network with a written-out backward pass (resnet or fc); \
             general-path networks run in the kinds {}",
            arch.name(),
            self.name(),
            Kind::all().into_iter().filter(|k| k.general_path()).map(|k| k.name()).collect::<Vec<_>>().join(", ")
        )))
    }

    /// The kebab-case name, as written in experiment files.
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
    }
}

/// A claim's rule: its row of the summary, from the tables in the results folder and the
/// numbers of its experiment file's `[verdict]` table.
pub type ClaimRule = fn(&Path, &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError>;

/// The headline's further tables: the depth exponents of the first GD steps and at
/// initialization, the trained estimator's frozen-layer control and MNIST counterparts, and
/// FC's lazy width measured past the headline's widths.
pub const HEADLINE_READS: [&str; 6] = [
    "kernel-velocity",
    "ntk-fluctuation",
    "width-depth-frozen",
    "width-depth-mnist",
    "width-depth-mnist-frozen",
    "width-depth-wide",
];

/// Every claim of the summary, in its order: the experiment whose table the row names and
/// whose `[verdict]` table holds the rule's numbers, the rule in that experiment's module, and
/// the other experiments whose tables the rule reads. (kernel-velocity and the width-depth
/// variants have no row of their own: the headline, `width-depth`, reads them; the
/// learned-scale row reads kernel-velocity-learned-scale.)
pub const CLAIMS: [(&str, ClaimRule, &[&str]); 17] = [
    ("forward-scale", forward_scale::claim, &[]),
    ("grad-features", grad_features::claim, &[]),
    ("gd-dynamics", gd_dynamics::claim, &[]),
    ("distance-from-init", distance_from_init::claim, &[]),
    ("linearization", linearization::claim, &[]),
    ("width-depth", width_depth::claim, &HEADLINE_READS),
    ("min-width", min_width::claim, &[]),
    ("rademacher", rademacher::claim, &[]),
    ("ntk-complexity", ntk_complexity::claim, &[]),
    ("ntrf-bound", ntrf_bound::claim, &[]),
    ("generalization", generalization::claim, &[]),
    ("ntk-fluctuation", ntk_fluctuation::claim, &[]),
    ("kernel-motion", kernel_motion::claim, &[]),
    ("label-noise", label_noise::claim, &[]),
    ("theta-phase", theta_phase::claim, &[]),
    ("kernel-vs-net", kernel_vs_net::claim, &[]),
    ("width-depth-learned-scale", width_depth::learned_scale_claim, &["kernel-velocity-learned-scale"]),
];
