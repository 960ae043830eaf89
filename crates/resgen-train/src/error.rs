//! What can go wrong in a training run or its files; each message names the file, line, column
//! or field concerned.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::trainer::Divergence;
use resgen_data::output::FileError;

/// An error of a training run, its folder or a metrics file read back.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The run config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data could not be loaded.
    #[error(transparent)]
    Data(#[from] resgen_data::DataError),
    /// The network could not be built.
    #[error(transparent)]
    Model(#[from] resgen_models::ModelError),
    /// The backend cannot be used here.
    #[error(transparent)]
    Backend(#[from] resgen_models::BackendError),
    /// A file of the run folder could not be written or read.
    #[error(transparent)]
    File(#[from] FileError),
    /// `train.step_scale = "ntk-trace"` cannot form a step: the NTK's mean diagonal at `W0` is
    /// zero or not finite (e.g. every ReLU path dead in a deep, narrow FC net). Callers that
    /// search over widths record such a width as untrainable instead of failing.
    #[error("train.step_scale = \"ntk-trace\": the NTK's mean diagonal at W0 is {mean}")]
    DeadAtInit {
        /// The mean diagonal found.
        mean: f64,
    },
    /// The run diverged; what it logged before is kept in `dir`.
    #[error("{divergence}; logged rows kept in {}", dir.display())]
    Diverged {
        /// Where and what.
        divergence: Divergence,
        /// The run folder.
        dir: PathBuf,
    },
    /// A metrics file that is not a resgen metrics.csv, or has a bad cell.
    #[error("{}: {message}", path.display())]
    Metrics {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line and column where there is one.
        message: String,
    },
    /// Two metrics files that cannot be compared.
    #[error("{0}")]
    Mismatch(String),
}
